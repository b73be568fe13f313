//! The TUI through the real adapter (`revkeeper::tui_backend::CoreBackend`): the bundled sample
//! snapshot, and a real etcd with a backup directory made by `snapshot save`. Screens are drawn
//! with ratatui's TestBackend; expected numbers come from the sources themselves.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use revkeeper::inspect::{Options, inspect};
use revkeeper::source::{KeyRange, RangeQuery, SnapshotSource, Source};
use revkeeper::tui_backend::{CoreBackend, Opened, Settings};
use revkeeper_formats::k8s::Keyring;
use revkeeper_harness::Member;
use revkeeper_ui::ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use revkeeper_ui::testing::Driver;
use revkeeper_ui::{Backend, keys};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sample.db");

/// The app over the core's adapter on a 140×40 screen.
fn drive(backend: Arc<dyn Backend>) -> Driver {
    Driver::new(backend, true, (140, 40), Duration::from_millis(300))
}

fn line_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{screen}"))
}

fn count(source: &dyn Source, prefix: &str) -> usize {
    source
        .range(&RangeQuery::latest(KeyRange::prefix(
            prefix.as_bytes().to_vec(),
        )))
        .unwrap()
        .len()
}

fn sample_ui() -> (Driver, SnapshotSource) {
    let backend = CoreBackend::new(
        Opened::Snapshot(SnapshotSource::open(Path::new(SAMPLE)).unwrap()),
        Settings::default(),
    );
    (
        drive(Arc::new(backend)),
        SnapshotSource::open(Path::new(SAMPLE)).unwrap(),
    )
}

#[test]
fn sample_overview_and_keyspace_match_the_snapshot() {
    let (mut ui, source) = sample_ui();
    let o = source.overview().unwrap();
    let s = ui.screen();
    assert!(line_with(&s, "Source").contains("sample.db"));
    assert!(line_with(&s, "Revision ").contains(&o.revision.to_string()));
    assert!(line_with(&s, "Compact revision").contains(&o.compact_revision.to_string()));
    let total = count(&source, "");
    assert!(
        line_with(&s, "Keys ").contains(&format!("{total} (")),
        "{s}"
    );
    assert!(line_with(&s, "Leases ").contains(&source.leases().unwrap().len().to_string()));

    let s = ui.keys("\n");
    let pods = count(&source, "/registry/pods/");
    let row = line_with(&s, "│pods ");
    assert!(
        row.split_whitespace().nth(1) == Some(&pods.to_string()),
        "pods row {row:?} vs {pods}"
    );
    let s = ui.keys(":pods default\n");
    let in_default = count(&source, "/registry/pods/default/");
    assert!(s.contains(&format!("Pods(default)[{in_default}]")), "{s}");
    let s = ui.keys(":svc\n");
    assert!(
        s.contains("Services(all)["),
        "aliases resolve through the resource table: {s}"
    );
}

#[test]
fn sample_object_opens_as_yaml_and_json_and_goes_back() {
    let (mut ui, source) = sample_ui();
    let first = source
        .range(&RangeQuery::latest(KeyRange::prefix(
            b"/registry/pods/".to_vec(),
        )))
        .unwrap()
        .remove(0);
    let key = String::from_utf8(first.key).unwrap();
    let name = key.rsplit('/').next().unwrap().to_string();
    let ns = key.split('/').nth(3).unwrap().to_string();
    ui.keys(&format!(":pods {ns}\n"));
    let s = ui.keys(&format!("/{name}\n\n"));
    assert!(s.contains(&format!("YAML({key})")), "{s}");
    assert!(s.contains("kind: Pod"), "{s}");
    assert!(
        s.contains(&format!("mod_revision: {}", first.mod_revision)),
        "{s}"
    );
    let s = ui.keys("J");
    assert!(s.contains("\"kind\": \"Pod\""), "{s}");
    let s = ui.keys("\x1b");
    assert!(
        s.contains(&format!("Pods({ns})[1] </")),
        "back to the filtered list: {s}"
    );
}

#[test]
fn sample_history_shows_every_kept_revision_and_a_diff() {
    let (mut ui, source) = sample_ui();
    let key = "/registry/configmaps/demo/settings";
    let history = source.history(key.as_bytes()).unwrap();
    assert!(history.len() >= 2, "the sample edits {key} several times");
    ui.keys(":configmaps demo\n");
    let s = ui.keys("/settings\n\nh");
    assert!(
        s.contains(&format!("History({key})[{}]", history.len())),
        "{s}"
    );
    for c in &history {
        line_with(&s, &format!("│{} ", c.revision));
    }
    // mark the first, go to the last: enter diffs them
    let s = ui.keys(" G\n");
    let (first, last) = (history[0].revision, history.last().unwrap().revision);
    assert!(s.contains(&format!("Diff({key})[{first}→{last}]")), "{s}");
    assert!(
        s.lines().any(|l| l.starts_with("│- ")) && s.lines().any(|l| l.starts_with("│+ ")),
        "{s}"
    );
}

#[test]
fn sample_leases_list_classes_and_attached_keys() {
    let (mut ui, source) = sample_ui();
    let report = inspect(&source, &Keyring::default(), &Options::default()).unwrap();
    let s = ui.keys(":leases\n");
    assert!(
        s.contains(&format!("Leases[{}]", report.leases.len())),
        "{s}"
    );
    let events_lease = source
        .range(&RangeQuery::latest(KeyRange::prefix(
            b"/registry/events/".to_vec(),
        )))
        .unwrap()[0]
        .lease;
    let attached = source
        .range(&RangeQuery::latest(KeyRange::prefix(Vec::new())))
        .unwrap()
        .iter()
        .filter(|r| r.lease == events_lease)
        .count();
    let row = line_with(&s, &format!("{events_lease:x}"));
    assert!(
        row.contains("events") && row.contains(&format!(" {attached} ")),
        "{row}"
    );
    let s = ui.keys(&format!("/{events_lease:x}\n\n"));
    assert!(
        s.contains(&format!("Lease({events_lease:016x})[{attached}]")),
        "{s}"
    );
    let s = ui.keys("\n");
    assert!(s.contains("YAML(/registry/events/"), "{s}");
}

#[test]
fn sample_stale_shows_the_inspectors_detectors_and_evidence() {
    let (mut ui, source) = sample_ui();
    let report = inspect(&source, &Keyring::default(), &Options::default()).unwrap();
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for f in &report.findings {
        *counts.entry(f.check).or_default() += 1;
    }
    assert!(!counts.is_empty(), "the sample has anomalies");
    // The inspector may still be scanning after the first quiet spell (debug builds, busy CI).
    let started = Instant::now();
    let mut s = ui.screen();
    while line_with(&s, "Findings").contains("inspecting")
        && started.elapsed() < Duration::from_secs(60)
    {
        ui.settle();
        s = ui.screen();
    }
    let crit = report
        .findings
        .iter()
        .filter(|f| f.severity == revkeeper::inspect::Severity::Critical)
        .count();
    assert!(
        line_with(&s, "Findings").contains(&format!("{crit} critical")),
        "{s}"
    );
    if report.now_estimated {
        let taken = line_with(&s, "Taken");
        // The basis starts with the heartbeat the time came from; a narrow screen cuts the rest.
        let source = report.now_basis.split(',').next().unwrap();
        assert!(taken.contains(source), "{taken}");
    }
    let s = ui.keys(":stale\n");
    assert!(s.contains(&format!("Stale[{}]", counts.len())), "{s}");
    for (check, n) in &counts {
        let row = line_with(&s, &format!("│{check} "));
        assert!(
            row.trim_end_matches('│')
                .trim_end()
                .ends_with(&format!(" {n}")),
            "{row}"
        );
    }
    let f = report.findings.iter().find(|f| f.key.is_some()).unwrap();
    ui.keys(&format!("/{}\n", f.check));
    let s = ui.keys("\n");
    assert!(
        s.contains(&format!("Stale({})[{}]", f.check, counts[f.check])),
        "{s}"
    );
    let key = f.key.as_deref().unwrap();
    ui.keys(&format!("/{}\n", key.rsplit('/').next().unwrap()));
    let s = ui.keys("\n");
    assert!(s.contains(&format!("YAML({key})")), "{s}");
    assert!(
        s.contains(&format!(
            "# {}: {}",
            f.check,
            f.evidence.lines().next().unwrap()
        )),
        "{s}"
    );
}

#[test]
fn snapshot_sources_refuse_deletes() {
    let backend = CoreBackend::new(
        Opened::Snapshot(SnapshotSource::open(Path::new(SAMPLE)).unwrap()),
        Settings::default(),
    );
    assert!(backend.write_blocked().unwrap().contains("snapshot"));
    let target = revkeeper_ui::DeleteTarget {
        key: "/registry/pods/default/x".into(),
        mod_revision: 1,
        lease: 0,
    };
    assert!(backend.delete(&target).is_err());
}

/// `snapshot save --dir` into `dir`; returns the snapshot's path.
fn save(endpoint: &str, dir: &Path) -> String {
    let before: Vec<String> = files_in(dir);
    save_into(endpoint, dir);
    let new = files_in(dir)
        .into_iter()
        .find(|f| f.ends_with(".db.zst") && !before.contains(f))
        .expect("a new snapshot");
    dir.join(new).display().to_string()
}

#[test]
fn live_cluster_with_backups_lists_verifies_diffs_and_survives_etcd_going_away() {
    let mut member = Member::start_single();
    let ep = member.endpoint();
    let rt = rt();
    let mut c = member_client(&rt, &member);
    let put = |c: &mut etcd_client::Client, k: &str, v: &str| {
        rt.block_on(c.put(k, v, None)).unwrap();
    };
    let cm = |n: &str, v: &str| {
        format!(
            r#"{{"kind":"ConfigMap","apiVersion":"v1","metadata":{{"name":"{n}","namespace":"default"}},"data":{{"v":"{v}"}}}}"#
        )
    };
    for i in 0..5 {
        put(
            &mut c,
            &format!("/registry/configmaps/default/cm-{i}"),
            &cm(&format!("cm-{i}"), "1"),
        );
    }
    put(
        &mut c,
        "/registry/pods/default/p0",
        r#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p0"}}"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let a = save(&ep, dir.path());
    // from a to b: 2 configmaps added, 1 changed, 1 removed; the pod removed
    put(
        &mut c,
        "/registry/configmaps/default/cm-5",
        &cm("cm-5", "1"),
    );
    put(
        &mut c,
        "/registry/configmaps/default/cm-6",
        &cm("cm-6", "1"),
    );
    put(
        &mut c,
        "/registry/configmaps/default/cm-0",
        &cm("cm-0", "2"),
    );
    rt.block_on(c.delete("/registry/configmaps/default/cm-1", None))
        .unwrap();
    rt.block_on(c.delete("/registry/pods/default/p0", None))
        .unwrap();
    std::thread::sleep(Duration::from_millis(1100)); // file names have one-second stamps
    let b = save(&ep, dir.path());
    // from b to the live cluster: one more configmap
    put(
        &mut c,
        "/registry/configmaps/default/cm-7",
        &cm("cm-7", "1"),
    );

    let backend = CoreBackend::new(
        Opened::Live(Box::new(live_source(&member))),
        Settings {
            backup_dir: Some(dir.path().display().to_string()),
            ..Settings::default()
        },
    );
    assert!(
        backend.write_blocked().unwrap().contains("--audit-log"),
        "no deletes without an audit log"
    );
    let readonly = CoreBackend::new(
        Opened::Live(Box::new(live_source(&member))),
        Settings {
            readonly: true,
            ..Settings::default()
        },
    );
    assert!(readonly.write_blocked().unwrap().contains("--readonly"));

    let mut ui = Driver::new(
        Arc::new(backend),
        true,
        (160, 40),
        Duration::from_millis(300),
    );
    let s = ui.screen();
    assert!(
        line_with(&s, "Source").contains(&format!("cluster via {ep}")),
        "{s}"
    );
    assert!(line_with(&s, "Members").contains("http://127.0.0.1"), "{s}");
    let s = ui.keys(":cm\n");
    assert!(s.contains("Configmaps(all)[7]"), "{s}");

    let s = ui.keys(":snapshots\n");
    assert!(s.contains("Snapshots[2]"), "{s}");
    let name = |p: &str| {
        Path::new(p)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    };
    assert!(line_with(&s, &name(&a)).contains(" ok "), "{s}");
    let s = ui.keys("v");
    assert!(s.contains(&format!("{a}: clean")), "{s}");
    let s = ui.keys("\x1b jd");
    assert!(
        s.contains(&format!("Diff({} → {})[2]", name(&a), name(&b))),
        "{s}"
    );
    let words = |l: &str| {
        l.split(|c: char| c.is_whitespace() || c == '│')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        words(line_with(&s, "configmaps")),
        ["configmaps", "2", "1", "1"]
    );
    assert_eq!(words(line_with(&s, "│pods")), ["pods", "0", "1", "0"]);
    let s = ui.keys("\x1b d");
    assert!(
        s.contains(&format!("Diff({} → source)[1]", name(&b))),
        "{s}"
    );
    assert_eq!(
        words(line_with(&s, "configmaps")),
        ["configmaps", "1", "0", "0"]
    );

    // etcd goes away: the header says so, loaded screens keep working
    let _refresh = ui.app.worker().start_refresher(Duration::from_millis(200));
    member.kill();
    let deadline = Instant::now() + Duration::from_secs(30);
    while ui.app.offline.is_none() && Instant::now() < deadline {
        if let Ok(r) = ui.replies.recv_timeout(Duration::from_millis(100)) {
            ui.app.apply(r);
        }
    }
    let s = ui.keys(":keyspace\n");
    assert!(s.contains("etcd not answering"), "{s}");
    assert!(
        s.contains("Resources["),
        "the loaded keyspace is still there: {s}"
    );
    assert!(line_with(&s, "configmaps").contains(" 7 "), "{s}");
}

#[derive(clap::Parser)]
struct Flags {
    #[command(flatten)]
    connect: revkeeper::connect::ConnectArgs,
}

#[test]
fn live_delete_asks_then_deletes_through_the_guarded_txn_and_audits() {
    use clap::Parser;
    let member = Member::start_single();
    let ep = member.endpoint();
    let rt = rt();
    let mut c = member_client(&rt, &member);
    for n in ["keep", "gone"] {
        let v = format!(
            r#"{{"kind":"ConfigMap","apiVersion":"v1","metadata":{{"name":"{n}","namespace":"default"}}}}"#
        );
        rt.block_on(c.put(format!("/registry/configmaps/default/{n}"), v, None))
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let config = Flags::parse_from(["t", "--endpoints", &ep])
        .connect
        .resolve()
        .unwrap();
    let writer = revkeeper::tui_backend::Writer {
        config,
        audit_log: audit.clone(),
    };
    let backend = Arc::new(CoreBackend::new(
        Opened::Live(Box::new(live_source(&member))),
        Settings {
            writer: Some(writer),
            ..Settings::default()
        },
    ));
    assert_eq!(backend.write_blocked(), None);

    // a stale guard (the key changed since it was read) keeps the key
    let stale = revkeeper_ui::DeleteTarget {
        key: "/registry/configmaps/default/keep".into(),
        mod_revision: 1,
        lease: 0,
    };
    let e = backend.delete(&stale).unwrap_err();
    assert!(e.starts_with("changed "), "{e}");

    let mut ui = drive(backend);
    let s = ui.keys(":cm\n/gone\n");
    assert!(s.contains("Configmaps(all)[1] </gone>"), "{s}");
    let ctrl_d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
    keys::handle(&mut ui.app, ctrl_d);
    let s = ui.keys("\n"); // Cancel has the focus
    assert!(s.contains("delete cancelled"), "{s}");
    keys::handle(&mut ui.app, ctrl_d);
    keys::handle(
        &mut ui.app,
        KeyEvent::new(KeyCode::Right, KeyModifiers::NONE),
    );
    ui.keys("\n");
    let deadline = Instant::now() + Duration::from_secs(20);
    while ui
        .app
        .status
        .as_ref()
        .is_some_and(|(m, _)| m.starts_with("deleting"))
    {
        assert!(Instant::now() < deadline, "no answer to the delete");
        ui.settle();
    }
    let s = ui.screen();
    assert!(
        s.contains("deleted /registry/configmaps/default/gone"),
        "{s}"
    );
    let left = rt
        .block_on(c.get(
            "/registry/configmaps/",
            Some(etcd_client::GetOptions::new().with_prefix()),
        ))
        .unwrap();
    let keys: Vec<&str> = left.kvs().iter().map(|kv| kv.key_str().unwrap()).collect();
    assert_eq!(keys, ["/registry/configmaps/default/keep"]);
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(
        log.lines().count() >= 4,
        "intent and result of both attempts: {log}"
    );
    assert!(log.contains("/registry/configmaps/default/gone"), "{log}");
}

#[test]
fn live_overview_names_the_leader_and_shows_a_raised_alarm() {
    let member = Member::start_single();
    let rt = rt();
    let mut c = member_client(&rt, &member);
    let status = rt.block_on(c.status()).unwrap();
    let id = status.leader();
    let open = || {
        let backend = CoreBackend::new(
            Opened::Live(Box::new(live_source(&member))),
            Settings::default(),
        );
        drive(Arc::new(backend))
    };

    let s = open().screen();
    let leader = line_with(&s, "Leader");
    assert!(leader.contains(&format!("m1 {id:x}")), "{leader:?}");
    assert!(line_with(&s, "Alarms").contains("none"), "{s}");

    let mut on = etcd_client::AlarmOptions::new();
    on.with_member(id);
    rt.block_on(c.alarm(
        etcd_client::AlarmAction::Activate,
        etcd_client::AlarmType::Nospace,
        Some(on),
    ))
    .unwrap();
    let s = open().screen();
    let alarms = line_with(&s, "Alarms");
    assert!(
        alarms.contains(&format!("NOSPACE on member {id:x}")),
        "{alarms:?}"
    );
}

#[test]
fn custom_resources_open_and_show_as_plural_dot_group_in_both_spellings() {
    let (mut ui, source) = sample_ui();
    let widgets = count(&source, "/registry/example.com/widgets/");
    assert!(widgets > 0, "the sample holds example.com widgets");
    let s = ui.keys("\nG"); // the last resource, alphabetically
    assert!(
        line_with(&s, "│widgets.example.com ").contains(&format!(" {widgets} ")),
        "{s}"
    );
    for typed in ["widgets.example.com", "example.com/widgets"] {
        let s = ui.keys(&format!(":{typed}\n"));
        assert!(
            s.contains(&format!("Widgets.example.com(all)[{widgets}]")),
            ":{typed} opens the custom resource under kubectl's name: {s}"
        );
    }
}

/// Applies answers until the screen shows `text`; panics with the screen after 60 s.
fn wait_for(ui: &mut Driver, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = ui.screen();
        if s.contains(text) {
            return s;
        }
        assert!(Instant::now() < deadline, "waited for {text:?}:\n{s}");
        ui.settle();
    }
}

/// `CoreBackend` over the cluster-dev fixture, with its encryption config.
fn cluster_dev_backend(dir: &Path) -> CoreBackend {
    let keyring = Keyring::load(&dir.join("encryption-config.yaml")).unwrap();
    CoreBackend::new(
        Opened::Snapshot(SnapshotSource::open(&dir.join("cluster.db")).unwrap()),
        Settings {
            keyring,
            ..Settings::default()
        },
    )
}

/// `revkeeper get ARGS --snapshot cluster.db`: the header's and each row's words.
fn get_rows(dir: &Path, args: &[&str]) -> Vec<Vec<String>> {
    let db = dir.join("cluster.db");
    let config = dir.join("encryption-config.yaml");
    let mut all = args.to_vec();
    all.extend(["--snapshot", db.to_str().unwrap()]);
    all.extend(["--encryption-config", config.to_str().unwrap()]);
    let out = run(&all);
    assert_eq!(out.code, 0, "{out:?}");
    out.stdout
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

#[test]
fn object_lists_are_the_tables_of_get_on_cluster_dev() {
    let Some(dir) = cluster_dev() else { return };
    let backend = cluster_dev_backend(&dir);
    for (resource, namespace, args) in [
        ("pods", None, vec!["get", "pods", "-A"]),
        ("minions", None, vec!["get", "nodes"]),
        (
            "deployments",
            Some("kube-system"),
            vec!["get", "deploy", "-n", "kube-system"],
        ),
        (
            "cert-manager.io/certificates",
            None,
            vec!["get", "certificates.cert-manager.io", "-A"],
        ),
        ("secrets", None, vec!["get", "secrets", "-A"]),
    ] {
        let table = backend.objects(resource, namespace, &|_| {}).unwrap();
        let want = get_rows(&dir, &args);
        let header: Vec<String> = (table.columns.iter())
            .filter(|c| !c.wide)
            .flat_map(|c| c.name.split_whitespace().map(str::to_string))
            .collect();
        assert_eq!(header, want[0], "{resource}");
        let rows: Vec<Vec<String>> = (table.rows.iter())
            .map(|r| {
                (r.cells.iter().zip(&table.columns))
                    .filter(|(_, c)| !c.wide)
                    .flat_map(|(cell, _)| cell.split_whitespace().map(str::to_string))
                    .collect()
            })
            .collect();
        assert_eq!(
            rows,
            want[1..],
            "{resource}: one row per object, as get prints it"
        );
        assert!(
            table
                .note
                .as_deref()
                .unwrap_or("")
                .contains("estimated time"),
            "{resource}: {:?}",
            table.note
        );
    }
}

#[test]
fn keys_without_a_printer_list_with_names_and_ages_on_cluster_dev() {
    let Some(dir) = cluster_dev() else { return };
    let backend = cluster_dev_backend(&dir);
    let names = |t: &revkeeper_ui::ObjectTable| -> Vec<(String, bool)> {
        t.columns.iter().map(|c| (c.name.clone(), c.wide)).collect()
    };
    let mixed = [
        ("NAME", false),
        ("AGE", false),
        ("APIVERSION", true),
        ("KIND", true),
    ]
    .map(|(n, w)| (n.to_string(), w))
    .to_vec();
    let other = backend
        .objects(revkeeper_formats::k8s::resources::OTHER_KEYS, None, &|_| {})
        .unwrap();
    assert_eq!(names(&other), mixed);
    let compact = other
        .rows
        .iter()
        .find(|r| r.key == "compact_rev_key")
        .expect("cluster-dev keeps compact_rev_key");
    assert_eq!(
        (compact.name.as_str(), compact.encoding.as_str()),
        ("compact_rev_key", "text")
    );
    assert_eq!(compact.cells, ["compact_rev_key", "", "", ""]);
    let leases = backend.objects("masterleases", None, &|_| {}).unwrap();
    assert_eq!(names(&leases), mixed, "objects of an unknown resource");
    assert_eq!(
        leases.rows.len(),
        count(
            &SnapshotSource::open(&dir.join("cluster.db")).unwrap(),
            "/registry/masterleases/"
        )
    );
    assert!(
        !leases.rows.is_empty() && leases.rows.iter().all(|r| r.cells[3] == "Endpoints"),
        "{:?}",
        leases.rows
    );
}

#[test]
fn the_pod_list_filters_on_status_and_sorts_by_age_on_cluster_dev() {
    let Some(dir) = cluster_dev() else { return };
    let mut ui = Driver::new(
        Arc::new(cluster_dev_backend(&dir)),
        true,
        (200, 50),
        Duration::from_millis(300),
    );
    let get = get_rows(&dir, &["get", "pods", "-A"]);
    ui.keys(":pods\n");
    let s = wait_for(&mut ui, &format!("Pods(all)[{}]", get.len() - 1));
    let header = line_with(&s, "NAMESPACE");
    assert!(
        header.contains(" READY ") && header.contains(" STATUS ") && header.contains(" AGE"),
        "{header}"
    );
    let crashing: Vec<&Vec<String>> = get.iter().filter(|r| r[3] == "CrashLoopBackOff").collect();
    let s = ui.keys("/crashloop");
    assert!(s.contains(&format!("Pods(all)[{}]", crashing.len())), "{s}");
    let row = line_with(&s, &format!(" {} ", crashing[0][1]));
    assert_eq!(
        row.split(|c: char| c.is_whitespace() || c == '│')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>(),
        *crashing[0],
        "{s}"
    );
    // the youngest pod first when sorted by AGE (the sixth column, the last word of a row)
    let youngest = get[1..]
        .iter()
        .min_by_key(|r| revkeeper_formats::units::parse_human_duration(r.last().unwrap()))
        .unwrap();
    let s = ui.keys("\x1bssssss");
    assert!(s.contains("AGE↑"), "{s}");
    let first = s.lines().nth(3).unwrap();
    assert!(
        first.contains(&format!(" {} ", youngest.last().unwrap())),
        "{youngest:?} first: {s}"
    );
    let s = ui.keys("w");
    let header = line_with(&s, "NAMESPACE");
    for wide in ["IP", "NODE", "ENCODING", "REVISION", "LEASE"] {
        assert!(header.contains(&format!(" {wide} ")), "{wide}: {header}");
    }
}

/// The cost of an object list on the TUI's worker: cluster-dev's pods decoded and printed
/// again and again (run with `cargo test --release --test tui_render -- --ignored --nocapture`).
#[test]
#[ignore]
fn pod_list_throughput_on_cluster_dev() {
    let Some(dir) = cluster_dev() else { return };
    let backend = cluster_dev_backend(&dir);
    backend.objects("pods", None, &|_| {}).unwrap();
    let (rounds, start) = (50, Instant::now());
    let mut pods = 0;
    for _ in 0..rounds {
        pods += backend.objects("pods", None, &|_| {}).unwrap().rows.len();
    }
    let per_pod = start.elapsed() / pods as u32;
    println!(
        "{pods} pods in {:?}: {per_pod:?} a pod (the snapshot's scan included), {:?} for 100 000",
        start.elapsed(),
        per_pod * 100_000
    );
}

#[test]
fn a_snapshot_whose_trailer_does_not_match_is_marked_not_verified() {
    let (mut intact, _) = sample_ui();
    let s = intact.screen();
    assert!(
        !s.contains("NOT VERIFIED") && !s.contains("checking sha256"),
        "{s}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(SAMPLE).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01; // the trailer's last byte: the data still reads, unproven
    let file = tmp.path().join("changed.db");
    std::fs::write(&file, &bytes).unwrap();
    let backend = CoreBackend::new(
        Opened::Snapshot(SnapshotSource::open(&file).unwrap()),
        Settings::default(),
    );
    let mut ui = drive(Arc::new(backend));
    let s = ui.screen();
    assert!(
        line_with(&s, "revkeeper").contains("NOT VERIFIED: sha256 trailer"),
        "{s}"
    );
    assert!(
        s.contains("does not match"),
        "the status line says why: {s}"
    );
}
