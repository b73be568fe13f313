//! Times in tables: kubectl's `HumanDuration` and the ages measured from a reference time
//! (the system clock for a live cluster, the estimated time of a snapshot).

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use revkeeper_formats::units::human_duration;

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
