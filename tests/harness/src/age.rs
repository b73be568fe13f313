//! The reference `age` CLI (Debian package `age`), for interoperability tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether `age-keygen` runs here.
pub fn have_age() -> bool {
    Command::new("age-keygen")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A new identity file `dir/name` made by `age-keygen`; returns its path and public key.
pub fn age_keygen(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let out = Command::new("age-keygen")
        .arg("-o")
        .arg(&path)
        .output()
        .expect("run age-keygen");
    assert!(out.status.success(), "age-keygen: {out:?}");
    let public = Command::new("age-keygen")
        .arg("-y")
        .arg(&path)
        .output()
        .expect("run age-keygen -y");
    let public = String::from_utf8(public.stdout).unwrap().trim().to_string();
    assert!(public.starts_with("age1"), "{public}");
    (path, public)
}
