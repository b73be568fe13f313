//! Times in tables: kubectl's `HumanDuration` and the ages measured from a reference time
//! (the system clock for a live cluster, the estimated time of a snapshot).

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// kubectl's `HumanDuration` (k8s.io/apimachinery/pkg/util/duration): two significant units
/// while they matter (`3m2s`, `2d5h`, `3y45d`), one after (`45m`, `20h`, `30d`, `9y`). Up to
/// a second in the future reads `0s` (clocks differ); further is `<invalid>`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return with_rest(minutes, "m", seconds % 60, "s");
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        return with_rest(hours, "h", minutes % 60, "m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return with_rest(hours / 24, "d", hours % 24, "h");
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    let years = hours / 24 / 365;
    if hours < 24 * 365 * 8 {
        return with_rest(years, "y", (hours / 24) % 365, "d");
    }
    format!("{years}y")
}

fn with_rest(n: i64, unit: &str, rest: i64, rest_unit: &str) -> String {
    if rest == 0 {
        format!("{n}{unit}")
    } else {
        format!("{n}{unit}{rest}{rest_unit}")
    }
}

/// An RFC 3339 timestamp as Kubernetes writes them (`Time`, and `MicroTime` with fractions).
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// kube-apiserver's `translateTimestampSince`: how long before `now` the timestamp was,
/// `<unknown>` when it is absent (Go's zero time).
pub fn since(timestamp: &Value, now: OffsetDateTime) -> String {
    match timestamp.as_str().and_then(parse) {
        Some(t) => between(t, now),
        None => "<unknown>".into(),
    }
}

/// [`human_duration`] from `t` to `now`.
pub fn between(t: OffsetDateTime, now: OffsetDateTime) -> String {
    human_duration((now - t).whole_seconds())
}

/// The AGE column: [`since`] the object's `metadata.creationTimestamp`.
pub fn age(object: &Value, now: OffsetDateTime) -> String {
    since(&object["metadata"]["creationTimestamp"], now)
}

/// Whether a timestamp field is set (not absent, not `null`).
pub fn is_set(timestamp: &Value) -> bool {
    timestamp.as_str().is_some_and(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_read_like_kubectls() {
        // Each boundary of HumanDuration: the last value below it and the first at it.
        for (s, want) in [
            (-2, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (5, "5s"),
            (119, "119s"),
            (120, "2m"),
            (125, "2m5s"),
            (182, "3m2s"),
            (599, "9m59s"),
            (600, "10m"),
            (3 * 3600 - 1, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 300, "3h5m"),
            (8 * 3600 - 1, "7h59m"),
            (8 * 3600, "8h"),
            (20 * 3600, "20h"),
            (48 * 3600 - 1, "47h"),
            (48 * 3600, "2d"),
            (2 * 86400 + 5 * 3600, "2d5h"),
            (8 * 86400 - 1, "7d23h"),
            (8 * 86400, "8d"),
            (30 * 86400, "30d"),
            (2 * 365 * 86400 - 1, "729d"),
            (2 * 365 * 86400, "2y"),
            (3 * 365 * 86400, "3y"),
            (3 * 365 * 86400 + 45 * 86400, "3y45d"),
            (8 * 365 * 86400, "8y"),
            (9 * 365 * 86400 + 100 * 86400, "9y"),
        ] {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }

    #[test]
    fn ages_come_from_the_creation_timestamp() {
        let now = time::macros::datetime!(2026-01-01 01:00:00 UTC);
        let o = json!({"metadata": {"creationTimestamp": "2026-01-01T00:00:00Z"}});
        assert_eq!(age(&o, now), "60m");
        assert_eq!(
            age(&json!({"metadata": {"creationTimestamp": null}}), now),
            "<unknown>"
        );
        // MicroTime: fractions count (59.5 s before is 59 s, as Go truncates).
        assert_eq!(since(&json!("2026-01-01T00:59:00.500000Z"), now), "59s");
    }
}
