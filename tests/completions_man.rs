//! `revkeeper completions` and `revkeeper man`: generated from the clap definitions, so every
//! verb is in them.

mod common;

/// Every verb, with its group: what the completion scripts and manual pages must name.
const VERBS: &[&str] = &[
    "snapshot save",
    "snapshot list",
    "snapshot prune",
    "snapshot status",
    "snapshot verify",
    "snapshot restore",
    "backup run",
    "backup compact",
    "get",
    "decode",
    "dump",
    "analyze",
    "leases",
    "stale",
    "tui",
    "completions",
    "man",
];

#[test]
fn completion_scripts_name_the_verbs() {
    for shell in ["bash", "zsh", "fish"] {
        let r = common::run(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {r:?}");
        for word in ["snapshot", "restore", "save", "endpoints", "bump-revision"] {
            assert!(r.stdout.contains(word), "{shell} script lacks {word}");
        }
    }
    let bash = common::run(&["completions", "bash"]).stdout;
    assert!(bash.contains("complete -F _revkeeper"), "{bash}");
    let r = common::run(&["completions", "tcsh"]);
    assert_eq!(r.code, 3, "{r:?}");
}

#[test]
fn man_prints_roff_and_writes_one_page_per_verb() {
    let r = common::run(&["man"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with(".ie \\n(.g .ds Aq"),
        "roff: {}",
        &r.stdout[..80]
    );
    assert!(r.stdout.contains(".TH revkeeper 1"), "{}", r.stdout);
    for verb in VERBS {
        let top = verb.split(' ').next().unwrap();
        assert!(
            r.stdout.contains(&format!("revkeeper\\-{top}(1)")),
            "{top} in the SUBCOMMANDS section"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let r = common::run(&["man", "--dir", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "");
    for verb in VERBS {
        let name = format!("revkeeper-{}", verb.replace(' ', "-"));
        let page = std::fs::read_to_string(out.join(format!("{name}.1")))
            .unwrap_or_else(|e| panic!("{name}.1: {e}"));
        assert!(page.contains(&format!(".TH {name} 1")), "{name}.1:\n{page}");
    }
    let restore = std::fs::read_to_string(out.join("revkeeper-snapshot-restore.1")).unwrap();
    assert!(restore.contains("bump\\-revision"), "{restore}");
    assert!(out.join("revkeeper.1").is_file());
}
