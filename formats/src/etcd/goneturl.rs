//! The subset of Go's `net/url` that etcd's URL handling depends on: `url.Parse` and
//! `(*URL).String()`, whose output is the canonical form etcd sorts, hashes into member IDs and
//! stores. Error texts follow Go's, so messages match etcdutl's.

/// A URL split as Go's `url.URL` holds it. `user`, `host` and `path` keep their raw (still
/// escaped) text; they were checked to unescape cleanly.
#[derive(Debug, Default)]
pub(crate) struct GoUrl<'a> {
    pub scheme: String,
    pub opaque: &'a str,
    pub user: Option<&'a str>,
    pub host: &'a str,
    pub path: &'a str,
    /// `scheme:/path`: no `//authority` was given.
    pub omit_host: bool,
    pub force_query: bool,
    pub raw_query: &'a str,
    pub fragment: &'a str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Host,
    Zone,
    Path,
    UserPassword,
    Fragment,
}

/// Go's `url.Parse`; the error is Go's message without the `parse "…": ` prefix.
pub(crate) fn parse(raw: &str) -> Result<GoUrl<'_>, String> {
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    let (rest, fragment) = raw.split_once('#').unwrap_or((raw, ""));
    unescape(fragment, Mode::Fragment)?;
    let mut url = GoUrl {
        fragment,
        ..GoUrl::default()
    };
    let (scheme, mut rest) = split_scheme(rest)?;
    url.scheme = scheme.to_ascii_lowercase();
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        url.force_query = true;
        rest = &rest[..rest.len() - 1];
    } else if let Some((r, q)) = rest.split_once('?') {
        rest = r;
        url.raw_query = q;
    }
    if !rest.starts_with('/') {
        if url.scheme.is_empty() {
            let first_segment = rest.split('/').next().unwrap_or("");
            if first_segment.contains(':') {
                return Err("first path segment in URL cannot contain colon".into());
            }
            unescape(rest, Mode::Path)?;
            url.path = rest;
        } else {
            url.opaque = rest;
        }
        return Ok(url);
    }
    if let Some(after) = rest.strip_prefix("//") {
        let (authority, path) = after.find('/').map_or((after, ""), |i| after.split_at(i));
        let (user, host) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        if let Some(user) = user {
            if !user.bytes().all(valid_userinfo_byte) {
                return Err("net/url: invalid userinfo".into());
            }
            unescape(user, Mode::UserPassword)?;
        }
        check_host(host)?;
        url.user = user;
        url.host = host;
        rest = path;
    } else if !url.scheme.is_empty() {
        url.omit_host = true;
    }
    unescape(rest, Mode::Path)?;
    url.path = rest;
    Ok(url)
}

impl GoUrl<'_> {
    /// Go's `(*URL).String()`.
    pub(crate) fn to_go_string(&self) -> String {
        let mut out = String::new();
        if !self.scheme.is_empty() {
            out.push_str(&self.scheme);
            out.push(':');
        }
        if !self.opaque.is_empty() {
            out.push_str(self.opaque);
        } else {
            let has_authority =
                !self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some();
            let omitted = self.omit_host && self.host.is_empty() && self.user.is_none();
            if has_authority && !omitted {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    out.push_str("//");
                }
                if let Some(user) = self.user {
                    out.push_str(&canonical_userinfo(user));
                    out.push('@');
                }
                out.push_str(&canonical_host(self.host));
            }
            let path = canonical_encoded(self.path, Mode::Path);
            if !path.is_empty() && !path.starts_with('/') && !self.host.is_empty() {
                out.push('/');
            }
            out.push_str(&path);
        }
        if self.force_query || !self.raw_query.is_empty() {
            out.push('?');
            out.push_str(self.raw_query);
        }
        if !self.fragment.is_empty() {
            out.push('#');
            out.push_str(&canonical_encoded(self.fragment, Mode::Fragment));
        }
        out
    }
}

/// Go's `net.SplitHostPort` succeeds (the port may be empty).
pub(crate) fn is_host_port(hostport: &str) -> bool {
    let Some(last_colon) = hostport.rfind(':') else {
        return false;
    };
    // No '[' at or after `no_open_from`, no ']' at or after `no_close_from`.
    let (no_open_from, no_close_from) = if hostport.starts_with('[') {
        match hostport.find(']') {
            Some(close) if close + 1 == last_colon => (1, close + 1),
            _ => return false,
        }
    } else {
        if hostport[..last_colon].contains(':') {
            return false;
        }
        (0, 0)
    };
    !hostport[no_open_from..].contains('[') && !hostport[no_close_from..].contains(']')
}

fn split_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing protocol scheme".into()),
            b':' => return Ok((&raw[..i], &raw[i + 1..])),
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn check_host(host: &str) -> Result<(), String> {
    if host.starts_with('[') {
        let close = host.rfind(']').ok_or("missing ']' in host")?;
        check_port(&host[close + 1..])?;
        let inner = &host[..close];
        match inner.find("%25") {
            Some(zone) => {
                unescape(&inner[..zone], Mode::Host)?;
                unescape(&inner[zone..], Mode::Zone)?;
            }
            None => {
                unescape(inner, Mode::Host)?;
            }
        }
        unescape(&host[close..], Mode::Host)?;
        return Ok(());
    }
    if let Some(colon) = host.rfind(':') {
        check_port(&host[colon..])?;
    }
    unescape(host, Mode::Host).map(drop)
}

fn check_port(colon_port: &str) -> Result<(), String> {
    let ok = colon_port.is_empty()
        || colon_port
            .strip_prefix(':')
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(format!("invalid port {colon_port:?} after host"))
    }
}

fn valid_userinfo_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&b) || b >= 0x80
}

/// Go's `shouldEscape`.
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone) && b"!$&'()*+,;=:[]<>\"".contains(&c) {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => c == b'?',
            Mode::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::Fragment => false,
            Mode::Host | Mode::Zone => true,
        },
        b'!' | b'(' | b')' | b'*' if mode == Mode::Fragment => false,
        _ => true,
    }
}

fn hex_value(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Go's `unescape` (without the query `+` rule).
fn unescape(s: &str, mode: Mode) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let (hi, lo) = match (
                    b.get(i + 1).copied().and_then(hex_value),
                    b.get(i + 2).copied().and_then(hex_value),
                ) {
                    (Some(hi), Some(lo)) => (hi, lo),
                    _ => {
                        let end = (i + 3).min(b.len());
                        return Err(format!(
                            "invalid URL escape {:?}",
                            String::from_utf8_lossy(&b[i..end])
                        ));
                    }
                };
                if mode == Mode::Host && hi < 8 && &b[i..i + 3] != b"%25" {
                    return Err(format!("invalid URL escape {:?}", &s[i..i + 3]));
                }
                out.push(hi << 4 | lo);
                i += 3;
            }
            c => {
                if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode) {
                    return Err(format!(
                        "invalid character {:?} in host name",
                        (c as char).to_string()
                    ));
                }
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Go's `escape`.
fn escape(bytes: &[u8], mode: Mode) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &c in bytes {
        if c >= 0x80 || should_escape(c, mode) {
            out.push_str(&format!("%{c:02X}"));
        } else {
            out.push(c as char);
        }
    }
    out
}

fn canonical_host(host: &str) -> String {
    // The host checked cleanly in `parse`; unescape in zone mode accepts all of it.
    escape(&unescape(host, Mode::Zone).unwrap_or_default(), Mode::Host)
}

fn canonical_userinfo(user: &str) -> String {
    let (name, password) = match user.split_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (user, None),
    };
    let mut out = escape(
        &unescape(name, Mode::UserPassword).unwrap_or_default(),
        Mode::UserPassword,
    );
    if let Some(p) = password {
        out.push(':');
        out.push_str(&escape(
            &unescape(p, Mode::UserPassword).unwrap_or_default(),
            Mode::UserPassword,
        ));
    }
    out
}

/// Go's `EscapedPath` / `EscapedFragment`: the raw text when it is a valid encoding, else the
/// decoded text escaped again.
fn canonical_encoded(raw: &str, mode: Mode) -> String {
    let valid = raw
        .bytes()
        .all(|c| b"!$&'()*+,;=:@[]%".contains(&c) || (c < 0x80 && !should_escape(c, mode)));
    if valid {
        raw.to_string()
    } else {
        escape(&unescape(raw, mode).unwrap_or_default(), mode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(raw: &str) -> String {
        parse(raw).unwrap().to_go_string()
    }

    #[test]
    fn strings_as_go_prints_them() {
        for same in [
            "http://127.0.0.1:2380",
            "https://[::1]:2380",
            "http://[fe80::1%25en0]:2380",
            "unix://localhost:2380",
            "unix:///var/run/etcd.sock",
            "unix:relative.sock",
            "unix:/abs.sock",
            "http://user:pw@host:1?q=1#frag",
            "http://host:1?",
        ] {
            assert_eq!(round_trip(same), same);
        }
        assert_eq!(round_trip("HTTP://Host:1"), "http://Host:1");
        assert_eq!(round_trip("http://host:1#"), "http://host:1");
        assert_eq!(round_trip("http://a!b@host:1"), "http://a%21b@host:1");
        assert_eq!(round_trip("http://b%c3%bccher:1"), "http://b%C3%BCcher:1");
        assert_eq!(round_trip("unix:///a b"), "unix:///a%20b");
        assert_eq!(round_trip("unix://"), "unix:");
    }

    #[test]
    fn parse_errors_use_go_texts() {
        let cases = [
            ("://x", "missing protocol scheme"),
            ("http://h:x", "invalid port \":x\" after host"),
            ("http://h h:1", "invalid character \" \" in host name"),
            ("http://[::1:1", "missing ']' in host"),
            ("http://a%zz:1", "invalid URL escape \"%zz\""),
            ("http://a%41:1", "invalid URL escape \"%41\""),
            ("http://a{b@h:1", "net/url: invalid userinfo"),
            ("http://h:1\n", "net/url: invalid control character in URL"),
            ("a:b/c", ""),
            ("x:y", ""),
        ];
        for (raw, want) in cases {
            match parse(raw) {
                Err(e) => assert_eq!(e, want, "{raw}"),
                Ok(u) => assert!(want.is_empty(), "{raw} parsed as {u:?}"),
            }
        }
        assert_eq!(parse("ab:c").unwrap().scheme, "ab");
        assert_eq!(parse("b:c/d").unwrap().opaque, "c/d");
        assert!(parse("1a:b").is_err());
        assert_eq!(parse("k/l:m").unwrap().path, "k/l:m");
        assert_eq!(
            parse("m%:n").unwrap_err(),
            "first path segment in URL cannot contain colon"
        );
    }

    #[test]
    fn split_host_port() {
        for ok in ["a:1", "a:", "[::1]:2", "[::1]:", ":1"] {
            assert!(is_host_port(ok), "{ok}");
        }
        for bad in [
            "a", "", "a:b:1", "[::1]", "[::1]x:1", "[::1", "a]:1", "[a]:1]", "[a]:1:2", "[[a]:1",
        ] {
            assert!(!is_host_port(bad), "{bad}");
        }
    }
}
