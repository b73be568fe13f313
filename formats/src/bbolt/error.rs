//! The one error type of the bbolt reader: what went wrong, and on which page if a page is to blame.

use super::page::Pgid;

/// A malformed or unreadable bbolt file. Displayed on one line as `page 12: <what>` or `<what>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The page the problem was found on, if any.
    pub pgid: Option<Pgid>,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error not tied to a page (file size, both metas invalid, I/O).
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            pgid: None,
            message: message.into(),
        }
    }

    /// An error found on page `pgid`.
    pub fn page(pgid: Pgid, message: impl Into<String>) -> Error {
        Error {
            pgid: Some(pgid),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_one_line(f, self.pgid, &self.message)
    }
}

impl std::error::Error for Error {}

/// `page 12: message` or `message`, with any line breaks in the message folded into spaces.
pub(crate) fn write_one_line(
    f: &mut std::fmt::Formatter<'_>,
    pgid: Option<Pgid>,
    message: &str,
) -> std::fmt::Result {
    if let Some(id) = pgid {
        write!(f, "page {id}: ")?;
    }
    if message.contains(['\n', '\r']) {
        f.write_str(&message.replace(['\n', '\r'], " "))
    } else {
        f.write_str(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_on_one_line_with_the_page() {
        assert_eq!(
            Error::page(12, "bad element").to_string(),
            "page 12: bad element"
        );
        assert_eq!(Error::new("file too small").to_string(), "file too small");
        assert_eq!(Error::new("two\nlines").to_string(), "two lines");
    }
}
