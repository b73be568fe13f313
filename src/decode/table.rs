//! kubectl's table columns for decoded objects: NAMESPACE (with -A), NAME, AGE; `-o wide` adds
//! the stored apiVersion and kind, encoding, size and revision.

use revkeeper_formats::k8s::Decoded;
use serde_json::Value;

/// kubectl's `HumanDuration` (k8s.io/apimachinery/pkg/util/duration).
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
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        let d = hours / 24;
        return if h == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{h}h")
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    let years = hours / 24 / 365;
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{years}y")
        } else {
            format!("{years}y{dy}d")
        };
    }
    format!("{years}y")
}

/// The AGE column: time since `metadata.creationTimestamp`, `<unknown>` without one.
pub fn age(object: &Value, now: time::OffsetDateTime) -> String {
    object["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(|created| human_duration((now - created).whole_seconds()))
        .unwrap_or_else(|| "<unknown>".into())
}

pub fn headers(all_namespaces: bool, wide: bool) -> Vec<&'static str> {
    let mut h = Vec::new();
    if all_namespaces {
        h.push("NAMESPACE");
    }
    h.extend(["NAME", "AGE"]);
    if wide {
        h.extend(["APIVERSION", "KIND", "ENCODING", "SIZE", "REVISION"]);
    }
    h
}

/// One row; `value_len` and `revision` come from the key.
pub fn row(
    d: &Decoded,
    object: &Value,
    value_len: usize,
    revision: i64,
    now: time::OffsetDateTime,
    all_namespaces: bool,
    wide: bool,
) -> Vec<String> {
    let meta = &object["metadata"];
    let mut r = Vec::new();
    if all_namespaces {
        r.push(meta["namespace"].as_str().unwrap_or("").to_string());
    }
    r.push(meta["name"].as_str().unwrap_or("<none>").to_string());
    r.push(age(object, now));
    if wide {
        let api_version = object["apiVersion"].as_str().unwrap_or("");
        let kind = object["kind"].as_str().unwrap_or("");
        r.push(
            format!("{kind}.{api_version}")
                .trim_matches('.')
                .to_string(),
        );
        r.push(d.encoding.label());
        r.push(value_len.to_string());
        r.push(revision.to_string());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_kubectls() {
        for (s, want) in [
            (5, "5s"),
            (119, "119s"),
            (125, "2m5s"),
            (600, "10m"),
            (3 * 3600 + 300, "3h5m"),
            (20 * 3600, "20h"),
            (3 * 86400 + 3600, "3d1h"),
            (30 * 86400, "30d"),
            (3 * 365 * 86400, "3y"),
            (-5, "<invalid>"),
        ] {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }

    #[test]
    fn age_comes_from_the_creation_timestamp() {
        let now = time::macros::datetime!(2026-01-01 01:00:00 UTC);
        let o = serde_json::json!({"metadata": {"creationTimestamp": "2026-01-01T00:00:00Z"}});
        assert_eq!(age(&o, now), "60m");
        assert_eq!(age(&serde_json::json!({}), now), "<unknown>");
    }
}
