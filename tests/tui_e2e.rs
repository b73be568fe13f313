//! `revkeeper tui` as a person uses it: the real binary in a real pseudo-terminal (tmux), keys
//! typed, the screen read back. It opens the bundled sample, filters to a stale finding, opens
//! its object, goes back and quits; then the terminal must be exactly as before (same `stty -a`, alternate
//! screen left) — also after a panic. On the cluster-dev fixture, the pod list shows
//! kubectl's columns and `/` finds a crashing pod by its STATUS.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use std::collections::BTreeSet;

use revkeeper::inspect::{Options, inspect};
use revkeeper::source::SnapshotSource;
use revkeeper_formats::k8s::Keyring;

/// The shared fixture directory (the `cluster_dev` of `tests/common`, without its helpers).
fn cluster_dev() -> Option<PathBuf> {
    let db = revkeeper_harness::require_fixture("cluster-dev/cluster.db")?;
    Some(db.parent().unwrap().to_path_buf())
}

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sample.db");

/// A private tmux server (its own socket), killed on drop.
struct Tmux {
    tmux: PathBuf,
    socket: String,
    dir: tempfile::TempDir,
}

impl Tmux {
    /// A 120×40 session running a plain shell, or `None` when tmux is missing and may be.
    fn start() -> Option<Tmux> {
        let t = Tmux {
            tmux: revkeeper_harness::require_tool("tmux")?,
            socket: format!(
                "revkeeper-e2e-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            )
            .replace(['(', ')'], ""),
            dir: tempfile::tempdir().unwrap(),
        };
        let ok = t
            .cmd(&["new-session", "-d", "-x", "120", "-y", "40", "-s", "e2e"])
            .args([
                "env",
                "-i",
                "PATH=/usr/bin:/bin",
                "TERM=xterm-256color",
                "HOME=/tmp",
            ])
            .args(["bash", "--norc", "--noprofile"])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux new-session failed");
        Some(t)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.tmux);
        c.args(["-L", &self.socket]).args(args);
        c
    }

    fn send_literal(&self, text: &str) {
        assert!(
            self.cmd(&["send-keys", "-t", "e2e", "-l", text])
                .status()
                .unwrap()
                .success()
        );
    }

    fn send_key(&self, key: &str) {
        assert!(
            self.cmd(&["send-keys", "-t", "e2e", key])
                .status()
                .unwrap()
                .success()
        );
    }

    fn screen(&self) -> String {
        let out = self
            .cmd(&["capture-pane", "-p", "-t", "e2e"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn alternate_on(&self) -> bool {
        let out = self
            .cmd(&["display-message", "-p", "-t", "e2e", "#{alternate_on}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    /// Waits until the screen contains `text`; panics with the screen after 20 s.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "waited 20 s for {text:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `command` in the shell between two `stty -a` snapshots; returns their paths.
    fn run_between_stty(&self, env: &str, command: &str) -> (PathBuf, PathBuf) {
        let (before, after) = (self.file("stty-before"), self.file("stty-after"));
        let line = format!(
            "stty -a > {}; {env} {command}; echo EXIT:$?; stty -a > {}\n",
            before.display(),
            after.display()
        );
        self.send_literal(&line);
        (before, after)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]).status();
    }
}

fn read(p: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match std::fs::read_to_string(p) {
            Ok(s) if !s.is_empty() => return s,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            other => panic!("{}: {other:?}", p.display()),
        }
    }
}

fn assert_sane(before: &Path, after: &Path) {
    let (before, after) = (read(before), read(after));
    assert_eq!(before, after, "stty -a differs after the TUI exited");
    let flags: Vec<&str> = after
        .split(|c: char| c.is_whitespace() || c == ';')
        .collect();
    assert!(
        flags.contains(&"icanon") && flags.contains(&"echo"),
        "not sane: {after}"
    );
}

#[test]
fn filter_to_a_stale_finding_open_back_quit_leaves_the_terminal_as_it_was() {
    let Some(t) = Tmux::start() else { return };
    let source = SnapshotSource::open(Path::new(SAMPLE)).unwrap();
    let report = inspect(&source, &Keyring::default(), &Options::default()).unwrap();
    let finding = report
        .findings
        .iter()
        .find(|f| f.key.is_some())
        .expect("the sample has stale objects");
    let (check, key) = (finding.check, finding.key.clone().unwrap());
    let detectors: BTreeSet<&str> = report.findings.iter().map(|f| f.check).collect();
    let of_check = report.findings.iter().filter(|f| f.check == check).count();

    let bin = env!("CARGO_BIN_EXE_revkeeper");
    let (before, after) = t.run_between_stty("", &format!("{bin} tui"));
    t.wait_for("Overview");
    assert!(t.alternate_on(), "the TUI runs on the alternate screen");
    t.send_literal(":stale");
    t.send_key("Enter");
    t.wait_for(&format!("Stale[{}]", detectors.len()));
    t.send_literal(&format!("/{check}"));
    t.wait_for(&format!("</{check}>"));
    t.send_key("Enter"); // keep the filter
    t.send_key("Enter"); // the detector's findings
    t.wait_for(&format!("Stale({check})[{of_check}]"));
    t.send_literal(&format!("/{}", key.rsplit('/').next().unwrap()));
    t.wait_for(&format!("Stale({check})[1]"));
    t.send_key("Enter");
    t.send_key("Enter"); // the object, with the evidence above it
    let s = t.wait_for(&format!("# {check}: "));
    assert!(
        s.contains(&format!("YAML({key})")) && s.contains("apiVersion:"),
        "{s}"
    );
    t.send_key("Escape");
    t.wait_for(&format!("Stale({check})[1]"));
    t.send_literal("q");
    let s = t.wait_for("EXIT:0");
    assert!(!s.contains("Stale("), "the alternate screen is gone:\n{s}");
    assert!(!t.alternate_on());
    assert_sane(&before, &after);
}

#[test]
fn the_pod_list_shows_kubectls_columns_and_finds_a_crashing_pod_on_cluster_dev() {
    let Some(dir) = cluster_dev() else { return };
    let Some(t) = Tmux::start() else { return };
    let (db, config) = (dir.join("cluster.db"), dir.join("encryption-config.yaml"));
    let bin = env!("CARGO_BIN_EXE_revkeeper");
    let command = format!(
        "{bin} tui --snapshot {} --encryption-config {}",
        db.display(),
        config.display()
    );
    let (before, after) = t.run_between_stty("", &command);
    t.wait_for("Overview");
    t.send_literal(":pods");
    t.send_key("Enter");
    let s = t.wait_for(" READY ");
    let header = s
        .lines()
        .find(|l| l.contains("NAMESPACE"))
        .unwrap_or_else(|| panic!("no header:\n{s}"));
    let words: Vec<&str> = header
        .split(|c: char| c.is_whitespace() || c == '│')
        .filter(|w| !w.is_empty())
        .collect();
    assert_eq!(
        words,
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        "{s}"
    );
    t.send_literal("/CrashLoop");
    let s = t.wait_for("</CrashLoop>");
    assert!(
        s.lines()
            .any(|l| l.contains("CrashLoopBackOff") && l.contains("0/1")),
        "{s}"
    );
    t.send_key("Enter");
    t.send_literal("?");
    t.wait_for("Help (any key closes)");
    // The help's last key: the box is drawn whole (a capture can land mid-frame).
    let s = t.wait_for("q, ctrl-c");
    assert!(
        s.contains("sort by the next column") && s.contains("quit"),
        "{s}"
    );
    t.send_literal("x");
    t.send_literal("q");
    t.wait_for("EXIT:0");
    assert_sane(&before, &after);
}

#[test]
fn a_panic_restores_the_terminal_too() {
    let Some(t) = Tmux::start() else { return };
    let bin = env!("CARGO_BIN_EXE_revkeeper");
    let (before, after) = t.run_between_stty("REVKEEPER_TUI_TEST_PANIC=1", &format!("{bin} tui"));
    let s = t.wait_for("EXIT:101");
    assert!(
        s.contains("REVKEEPER_TUI_TEST_PANIC is set"),
        "the panic message is readable:\n{s}"
    );
    assert!(!t.alternate_on());
    assert_sane(&before, &after);
}

#[test]
fn without_a_terminal_it_says_so() {
    let out = Command::new(env!("CARGO_BIN_EXE_revkeeper"))
        .arg("tui")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs a terminal"), "{err}");
}
