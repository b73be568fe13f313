//! The text forms of meta/v1 Time, MicroTime and Duration, as Go prints and parses them.

/// Writes `seconds` since the epoch as RFC 3339 UTC (`2006-01-02T15:04:05Z`); with `micros`,
/// with six fraction digits (`RFC3339Micro`).
pub(super) fn write_time(out: &mut Vec<u8>, seconds: i64, micros: Option<u32>) {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        let (hh, mm, ss) = (secs / 3600, secs / 60 % 60, secs % 60);
        let s = match micros {
            None => format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z"),
            Some(us) => format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{us:06}Z"),
        };
        out.extend_from_slice(s.as_bytes());
        return;
    }
    // The common case without the formatting machinery (it is on every object's hot path).
    let mut b = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut v: u64| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, y as u64);
    put(5, 2, u64::from(m));
    put(8, 2, u64::from(d));
    put(11, 2, (secs / 3600) as u64);
    put(14, 2, (secs / 60 % 60) as u64);
    put(17, 2, (secs % 60) as u64);
    match micros {
        None => {
            out.extend_from_slice(&b[..19]);
            out.push(b'Z');
        }
        Some(us) => {
            put(20, 6, u64::from(us.min(999_999)));
            out.extend_from_slice(&b);
        }
    }
}

/// Parses RFC 3339 (`Z` or `±hh:mm`, optional fraction) into (seconds, nanoseconds).
pub(super) fn parse_time(s: &str) -> Option<(i64, u32)> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[13] != b':' || b[16] != b':' || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut rest = &s[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        for (i, c) in frac[..n].bytes().take(9).enumerate() {
            nanos += u32::from(c - b'0') * 10u32.pow(8 - i as u32);
        }
        rest = &frac[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let o = num_str(&rest[1..3])? * 3600 + num_str(&rest[4..6])? * 60;
            if rest.starts_with('-') { -o } else { o }
        }
        _ => return None,
    };
    let seconds = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset;
    Some((seconds, nanos))
}

fn num_str(s: &str) -> Option<i64> {
    s.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| s.parse().ok())?
}

// Howard Hinnant's civil calendar algorithms (proleptic Gregorian).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Go's `time.Duration.String()` for `nanos` nanoseconds: `1h2m3.5s`, `1.5ms`, `0s`.
pub(super) fn format_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let mut u = nanos.unsigned_abs();
    let sign = if nanos < 0 { "-" } else { "" };
    if u < 1_000_000_000 {
        let (frac_digits, unit) = match u {
            0..1_000 => return format!("{sign}{u}ns"),
            1_000..1_000_000 => (3, "µs"),
            _ => (6, "ms"),
        };
        let (int, frac) = split_frac(u, frac_digits);
        return format!("{sign}{int}{frac}{unit}");
    }
    let (secs, frac) = split_frac(u, 9);
    u = secs;
    let mut out = format!("{}{frac}s", u % 60);
    u /= 60;
    if u > 0 {
        out = format!("{}m{out}", u % 60);
        u /= 60;
        if u > 0 {
            out = format!("{u}h{out}");
        }
    }
    format!("{sign}{out}")
}

/// Splits `v` into `v / 10^digits` and the fraction `.ddd` without trailing zeros ("" if zero).
fn split_frac(v: u64, digits: u32) -> (u64, String) {
    let p = 10u64.pow(digits);
    let frac = v % p;
    if frac == 0 {
        return (v / p, String::new());
    }
    let s = format!("{frac:0width$}", width = digits as usize);
    (v / p, format!(".{}", s.trim_end_matches('0')))
}

/// Parses a Go duration string (`1h2m3.5s`, `-1.5ms`, `300ms`) into nanoseconds.
pub(super) fn parse_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int: i128 = if int_len > 0 {
            rest[..int_len].parse().ok()?
        } else {
            0
        };
        rest = &rest[int_len..];
        let mut frac = "";
        if let Some(r) = rest.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            frac = &r[..n];
            rest = &r[n..];
        }
        if int_len == 0 && frac.is_empty() {
            return None;
        }
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale: i128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += int * scale;
        let mut f_scale = scale;
        for c in frac.bytes() {
            f_scale /= 10;
            total += i128::from(c - b'0') * f_scale;
        }
        if total > i128::from(i64::MAX) + 1 {
            return None;
        }
    }
    let total = if neg { -total } else { total };
    i64::try_from(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format_time(seconds: i64, micros: Option<u32>) -> String {
        let mut out = Vec::new();
        write_time(&mut out, seconds, micros);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn times() {
        assert_eq!(format_time(1_498_581_334, None), "2017-06-27T16:35:34Z");
        assert_eq!(format_time(0, Some(5)), "1970-01-01T00:00:00.000005Z");
        assert_eq!(format_time(-1, None), "1969-12-31T23:59:59Z");
        assert_eq!(parse_time("2017-06-27T16:35:34Z"), Some((1_498_581_334, 0)));
        assert_eq!(
            parse_time("2017-06-27T18:35:34.5+02:00"),
            Some((1_498_581_334, 500_000_000))
        );
        assert_eq!(parse_time("2017-06-27 16:35:34Z"), None);
        assert_eq!(parse_time("2017-13-27T16:35:34Z"), None);
    }

    #[test]
    fn durations() {
        for (n, s) in [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (1_500_000, "1.5ms"),
            (1_000_000_000, "1s"),
            (3_600_000_000_000, "1h0m0s"),
            (3_723_500_000_000, "1h2m3.5s"),
            (-61_000_000_000, "-1m1s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ] {
            assert_eq!(format_duration(n), s);
            assert_eq!(parse_duration(s), Some(n), "{s}");
        }
        assert_eq!(parse_duration("1x"), None);
        assert_eq!(parse_duration(""), None);
    }
}
