//! Key ranges as etcd defines them: `[start, end)`, where an empty end means the single key
//! `start` and `end == "\0"` means every key from `start` on.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRange {
    pub start: Vec<u8>,
    /// Exclusive end; `None` for a single key; `Some([0])` for "to the end of the keyspace".
    pub end: Option<Vec<u8>>,
}

impl KeyRange {
    pub fn key(key: impl Into<Vec<u8>>) -> KeyRange {
        KeyRange {
            start: key.into(),
            end: None,
        }
    }

    /// Every key starting with `prefix` (an empty prefix is every key), like `etcdctl --prefix`.
    pub fn prefix(prefix: impl Into<Vec<u8>>) -> KeyRange {
        let start: Vec<u8> = prefix.into();
        let end = prefix_end(&start);
        KeyRange {
            start,
            end: Some(end),
        }
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        match &self.end {
            None => key == self.start.as_slice(),
            Some(end) if end.as_slice() == [0] => key >= self.start.as_slice(),
            Some(end) => key >= self.start.as_slice() && key < end.as_slice(),
        }
    }
}

/// etcd's `GetPrefixRangeEnd`: the prefix with its last byte below 0xff incremented and the
/// rest dropped; `"\0"` (no end) when every byte is 0xff or the prefix is empty.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ends_like_etcd() {
        assert_eq!(prefix_end(b"/registry/"), b"/registry0".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"\xff\xff"), vec![0]);
        assert_eq!(prefix_end(b""), vec![0]);
    }

    #[test]
    fn contains() {
        let p = KeyRange::prefix("/registry/pods/");
        assert!(p.contains(b"/registry/pods/default/a"));
        assert!(!p.contains(b"/registry/pods"));
        assert!(!p.contains(b"/registry/podsx"));
        let all = KeyRange::prefix("");
        assert!(all.contains(b"anything"));
        let one = KeyRange::key("k");
        assert!(one.contains(b"k") && !one.contains(b"k2"));
    }
}
