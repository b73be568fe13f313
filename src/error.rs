//! One error type for the whole tool, carrying its exit code (etcdctl's where they overlap).

use std::fmt;

/// What went wrong, as a cron job or runbook needs to know it. 0, 1, 2, 3 and 5 are etcdctl's;
/// 4 (etcdctl: unsupported feature) is a server error here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Anything else (I/O, integrity failures): exit 1.
    General,
    /// No endpoint could be reached: exit 2.
    Connect,
    /// Bad flags, bad files, bad input data: exit 3.
    InvalidInput,
    /// The server answered with an error: exit 4.
    Server,
    /// SIGINT/SIGTERM or a broken stream: exit 5.
    Interrupted,
}

impl ErrorKind {
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::General => 1,
            ErrorKind::Connect => 2,
            ErrorKind::InvalidInput => 3,
            ErrorKind::Server => 4,
            ErrorKind::Interrupted => 5,
        }
    }
}

/// A one-line, user-facing error: what failed (naming the file or key) and what to do.
#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }
    pub fn general(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::General, message)
    }
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidInput, message)
    }
    pub fn connect(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Connect, message)
    }
    pub fn server(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Server, message)
    }
    pub fn interrupted(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Interrupted, message)
    }
    /// An I/O error on `path`, with what was being done.
    pub fn io(action: &str, path: &std::path::Path, e: std::io::Error) -> Error {
        let kind = if e.kind() == std::io::ErrorKind::NotFound {
            ErrorKind::InvalidInput
        } else {
            ErrorKind::General
        };
        Error::new(kind, format!("{action} {}: {e}", path.display()))
    }
    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Always one line, whatever the cause carried.
        f.write_str(&self.message.replace('\n', " "))
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_etcdctl() {
        let codes: Vec<i32> = [
            ErrorKind::General,
            ErrorKind::Connect,
            ErrorKind::InvalidInput,
            ErrorKind::Server,
            ErrorKind::Interrupted,
        ]
        .iter()
        .map(|k| k.exit_code())
        .collect();
        assert_eq!(codes, vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn display_is_one_line() {
        let e = Error::general("first\nsecond");
        assert_eq!(e.to_string(), "first second");
    }
}
