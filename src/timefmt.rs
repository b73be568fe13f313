//! UTC timestamps in the two shapes revkeeper prints: RFC 3339 and the compact file-name form.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

pub fn now_rfc3339() -> String {
    rfc3339(OffsetDateTime::now_utc())
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// `yyyymmddThhmmssZ`, as in snapshot file names.
pub fn compact(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year][month][day]T[hour][minute][second]Z"
    ))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats() {
        let t = datetime!(2026-11-21 03:04:05.678 UTC);
        assert_eq!(rfc3339(t), "2026-11-21T03:04:05Z");
        assert_eq!(compact(t), "20261121T030405Z");
    }
}
