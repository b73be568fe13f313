//! A quick check for the JSON of FieldsV1 and other raw JSON fields, which are printed as they
//! are stored: objects, arrays, strings of printable ASCII (simple escapes and `\uXXXX` outside
//! the surrogates), `true`, `false` and `null`, no whitespace, at most 100 levels deep.
//! Everything it accepts serde_json accepts too; anything else (numbers, UTF-8, whitespace, …)
//! is left to serde_json. It only exists because serde_json's check cost 5% of decoding.

/// Deeper input is left to serde_json.
const MAX_DEPTH: u32 = 100;

/// Whether `b` is one JSON value of the plain kind above; `false` means "ask serde_json".
pub(super) fn is_plain_json(b: &[u8]) -> bool {
    let mut i = 0;
    // One bit per open container, 1 for an object.
    let mut objects: u128 = 0;
    let mut depth = 0u32;
    loop {
        // A value starts at `i`.
        match b.get(i) {
            Some(b'{') | Some(b'[') => {
                let object = b[i] == b'{';
                let close = if object { b'}' } else { b']' };
                i += 1;
                if b.get(i) == Some(&close) {
                    i += 1;
                } else {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return false;
                    }
                    objects = (objects << 1) | u128::from(object);
                    if object && !key(b, &mut i) {
                        return false;
                    }
                    continue;
                }
            }
            Some(b'"') => {
                if !string(b, &mut i) {
                    return false;
                }
            }
            Some(_) => {
                let word = [&b"true"[..], b"false", b"null"]
                    .into_iter()
                    .find(|w| b[i..].starts_with(w));
                let Some(word) = word else { return false };
                i += word.len();
            }
            None => return false,
        }
        // A value ended: close containers, or move to the next member.
        loop {
            if depth == 0 {
                return i == b.len();
            }
            let object = objects & 1 == 1;
            match b.get(i) {
                Some(b',') => {
                    i += 1;
                    if object && !key(b, &mut i) {
                        return false;
                    }
                    break;
                }
                Some(b'}') if object => {}
                Some(b']') if !object => {}
                _ => return false,
            }
            i += 1;
            depth -= 1;
            objects >>= 1;
        }
    }
}

/// `"key":` at `i`.
fn key(b: &[u8], i: &mut usize) -> bool {
    if b.get(*i) != Some(&b'"') || !string(b, i) || b.get(*i) != Some(&b':') {
        return false;
    }
    *i += 1;
    true
}

/// A string at `i` (which holds its opening quote), of printable ASCII and plain escapes.
fn string(b: &[u8], i: &mut usize) -> bool {
    let mut j = *i + 1;
    loop {
        match b.get(j) {
            Some(b'"') => {
                *i = j + 1;
                return true;
            }
            Some(b'\\') => match b.get(j + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => j += 2,
                Some(b'u') => {
                    let Some(hex) = b.get(j + 2..j + 6) else {
                        return false;
                    };
                    let Some(n) = std::str::from_utf8(hex)
                        .ok()
                        .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
                        .and_then(|h| u16::from_str_radix(h, 16).ok())
                    else {
                        return false;
                    };
                    if (0xD800..=0xDFFF).contains(&n) {
                        return false;
                    }
                    j += 6;
                }
                _ => return false,
            },
            Some(&c) if (0x20..0x7f).contains(&c) => j += 1,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_accepts(b: &[u8]) -> bool {
        serde_json::from_slice::<serde::de::IgnoredAny>(b).is_ok()
    }

    #[test]
    fn accepts_only_what_serde_json_accepts() {
        let plain: [&[u8]; 8] = [
            br#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}"#,
            br#"{"k:{\"type\":\"Ready\"}":{".":{},"f:status":{}}}"#,
            br#"[]"#,
            br#"{}"#,
            br#"[true,false,null,"a\u00e9\n",[{}],{"a":[]}]"#,
            br#""x""#,
            br#"null"#,
            br#"{"a":{"b":{"c":[[["d"]]]}}}"#,
        ];
        for b in plain {
            assert!(is_plain_json(b), "{}", String::from_utf8_lossy(b));
            assert!(serde_accepts(b));
        }
        let other: [&[u8]; 18] = [
            b"",
            b"{",
            b"{}}",
            b"{} ",
            b"[1]",
            br#"{"a" :{}}"#,
            br#"{"a":}"#,
            br#"{"a":{},}"#,
            br#"[,]"#,
            br#"{"a"}"#,
            br#"{"a":1}"#,
            br#"["\ud800"]"#,
            br#"["\x"]"#,
            "[\"é\"]".as_bytes(),
            b"[\"\x01\"]",
            b"tru",
            b"nulll",
            b"{\"a\":[}]",
        ];
        for b in other {
            assert!(!is_plain_json(b), "{}", String::from_utf8_lossy(b));
        }
        let nested = |n| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(!is_plain_json(nested(150).as_bytes()));
        assert!(is_plain_json(nested(101).as_bytes()));
        assert!(serde_accepts(nested(101).as_bytes()));
    }
}
