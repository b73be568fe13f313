//! What tests need from outside the repository: the shared fixtures (`../shared/fixtures`) and
//! client tools (etcdutl, etcdctl, tmux). The one place a test may skip for want of them:
//! [`require`] fails the test when `REVKEEPER_REQUIRE_ALL=1` (`scripts/test.sh` sets it) and
//! otherwise prints one notice line and returns `None`.

use std::path::PathBuf;

use crate::workspace_root;

/// Set to `1` by `scripts/test.sh`: a missing prerequisite fails the test instead of skipping it.
pub const REQUIRE_ALL: &str = "REVKEEPER_REQUIRE_ALL";

/// Whether `REVKEEPER_REQUIRE_ALL=1`.
pub fn require_all() -> bool {
    std::env::var_os(REQUIRE_ALL).is_some_and(|v| v == "1")
}

/// `found`, or the verdict on its absence: a panic ("missing prerequisite: WHAT (HOW)") when
/// `REVKEEPER_REQUIRE_ALL=1`, else one notice on stderr and `None`, for the test to return.
pub fn require<T>(what: &str, how: &str, found: Option<T>) -> Option<T> {
    require_with(require_all(), what, how, found)
}

fn require_with<T>(all: bool, what: &str, how: &str, found: Option<T>) -> Option<T> {
    if found.is_some() {
        return found;
    }
    if all {
        panic!("missing prerequisite: {what} ({how}); {REQUIRE_ALL}=1 allows no skipping");
    }
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("test");
    eprintln!("notice: skipping {test}: {what} missing ({how})");
    None
}

/// The shared reference data: `$REVKEEPER_SHARED`, else the `shared` directory beside the
/// workspace, or beside its parent (a git worktree one level deeper).
pub fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("REVKEEPER_SHARED").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let root = workspace_root();
    let beside = |dir: &std::path::Path| dir.join("shared");
    root.ancestors()
        .skip(1)
        .take(2)
        .map(beside)
        .find(|d| d.join("fixtures").is_dir())
        .unwrap_or_else(|| beside(root.parent().unwrap_or(&root)))
}

/// `<shared>/fixtures`: every test reads the shared fixtures under this directory.
pub fn fixtures_dir() -> PathBuf {
    shared_dir().join("fixtures")
}

/// `<shared>/fixtures/<rel>` (a file or directory) when it exists; else [`require`]'s verdict.
pub fn require_fixture(rel: &str) -> Option<PathBuf> {
    let path = fixtures_dir().join(rel);
    let found = path.exists().then(|| path.clone());
    require(
        &format!("fixture {}", path.display()),
        "check out the shared directory beside the repository, or set REVKEEPER_SHARED",
        found,
    )
}

/// A client tool (`etcdctl`, `etcdutl`, `tmux`) from `<NAME>_BIN` (only there when it is set),
/// `$REVKEEPER_ETCD_TOOLS/3.5/usr/bin`, `<workspace>/.etcd-tools/3.5/usr/bin` (made by
/// `../shared/tools/fetch-etcd-tools.sh`) or PATH; `None` when it is not a file in any of them.
pub fn tool(name: &str) -> Option<PathBuf> {
    if let Some(p) = bin_var(name) {
        return p.is_file().then_some(p);
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(d) = std::env::var_os("REVKEEPER_ETCD_TOOLS") {
        dirs.push(PathBuf::from(d).join("3.5/usr/bin"));
    }
    dirs.push(workspace_root().join(".etcd-tools/3.5/usr/bin"));
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// [`tool`], or [`require`]'s verdict with how to get it.
pub fn require_tool(name: &str) -> Option<PathBuf> {
    let var = bin_var_name(name);
    let how = match bin_var(name) {
        Some(p) => format!("{var}={} is not a file", p.display()),
        None if name == "tmux" => "apt-get install tmux, as scripts/test.sh does".into(),
        None => format!(
            "scripts/test.sh unpacks it with ../shared/tools/fetch-etcd-tools.sh .etcd-tools; \
             or set {var} or REVKEEPER_ETCD_TOOLS"
        ),
    };
    require(name, &how, tool(name))
}

fn bin_var_name(name: &str) -> String {
    format!("{}_BIN", name.to_uppercase())
}

fn bin_var(name: &str) -> Option<PathBuf> {
    std::env::var_os(bin_var_name(name))
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::require_with;

    #[test]
    fn require_passes_what_was_found_in_both_modes() {
        assert_eq!(require_with(false, "x", "get x", Some(1)), Some(1));
        assert_eq!(require_with(true, "x", "get x", Some(1)), Some(1));
    }

    #[test]
    fn without_require_all_a_missing_prerequisite_skips() {
        assert_eq!(require_with::<u8>(false, "etcdutl", "get it", None), None);
    }

    #[test]
    fn with_require_all_a_missing_prerequisite_fails_the_test() {
        let panic =
            std::panic::catch_unwind(|| require_with::<u8>(true, "etcdutl", "get it", None))
                .expect_err("REVKEEPER_REQUIRE_ALL=1 must not skip");
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            message.starts_with("missing prerequisite: etcdutl (get it)"),
            "{message}"
        );
    }
}
