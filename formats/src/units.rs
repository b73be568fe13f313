//! Human-readable sizes and durations, and the natural order of the texts tables show;
//! shared by the CLI and the TUI.

use std::cmp::Ordering;

/// `1536` → `1.5 KiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

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

/// The seconds a [`human_duration`] stands for (`3m2s` → 182, `2y45d` → …); `None` for any
/// other text (`<unknown>`, `<invalid>`, `5 (3m ago)`).
pub fn parse_human_duration(text: &str) -> Option<i64> {
    let mut rest = text.as_bytes();
    if rest.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        let (number, after) = rest.split_at(digits);
        let (&unit, after) = after.split_first()?;
        let n: i64 = std::str::from_utf8(number).ok()?.parse().ok()?;
        let seconds = match unit {
            b's' => 1,
            b'm' => 60,
            b'h' => 3600,
            b'd' => 86_400,
            b'y' => 365 * 86_400,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(seconds)?)?;
        rest = after;
    }
    Some(total)
}

/// Natural order (kubectl's `sortorder.NaturalLess`): runs of digits compare as numbers.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return Ordering::Equal,
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let run = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
                let (i, j) = (run(x), run(y));
                let (p, q) = (&x[..i], &y[..j]);
                let trim = |s: &'_ [u8]| -> usize { s.iter().take_while(|c| **c == b'0').count() };
                let (pt, qt) = (&p[trim(p)..], &q[trim(q)..]);
                let by_value = pt.len().cmp(&qt.len()).then_with(|| pt.cmp(qt));
                // Equal values: fewer leading zeros first.
                let order = by_value.then_with(|| i.cmp(&j));
                if order != Ordering::Equal {
                    return order;
                }
                x = &x[i..];
                y = &y[j..];
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes() {
        assert_eq!(super::human_bytes(0), "0 B");
        assert_eq!(super::human_bytes(1536), "1.5 KiB");
        assert_eq!(super::human_bytes(3 << 30), "3.0 GiB");
    }

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
    fn durations_read_back() {
        for s in [
            0,
            5,
            125,
            182,
            600,
            3 * 3600 + 300,
            2 * 86400 + 5 * 3600,
            3 * 365 * 86400,
        ] {
            assert_eq!(parse_human_duration(&human_duration(s)), Some(s), "{s}");
        }
        for other in ["", "<unknown>", "5 (3m ago)", "3x", "m", "10.0.0.1"] {
            assert_eq!(parse_human_duration(other), None, "{other}");
        }
    }
}
