//! Every screen drawn with ratatui's TestBackend on fixed data, driven by the same keys a user
//! presses, asserting on titles, counts and rows.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyModifiers};
use revkeeper_ui::testing::Driver;
use revkeeper_ui::*;

/// Fixed data: three pods, two namespaces, a lease, findings, two snapshots.
#[derive(Default)]
struct Fixed {
    writable: bool,
    /// Answer the overview as a live single-member cluster instead of a snapshot.
    live: bool,
    deletes: Mutex<Vec<(String, i64)>>,
    keyspace_calls: AtomicUsize,
}

/// kubectl's pod columns, `-o wide`'s last.
const POD_COLUMNS: [(&str, bool); 7] = [
    ("NAME", false),
    ("READY", false),
    ("STATUS", false),
    ("RESTARTS", false),
    ("AGE", false),
    ("IP", true),
    ("NODE", true),
];

fn pod(ns: &str, name: &str, mod_revision: i64) -> ObjectRow {
    let (ready, status, restarts, age, ip, node) = match name {
        "web-1" => ("1/1", "Running", "0", "3d", "10.0.0.1", "node-a"),
        "web-2" => (
            "0/1",
            "CrashLoopBackOff",
            "12 (2m ago)",
            "45m",
            "10.0.0.2",
            "node-b",
        ),
        _ => ("1/1", "Running", "2 (1h ago)", "2d5h", "10.0.0.3", "node-a"),
    };
    ObjectRow {
        key: format!("/registry/pods/{ns}/{name}"),
        namespace: Some(ns.into()),
        name: name.into(),
        cells: [ns, name, ready, status, restarts, age, ip, node]
            .map(String::from)
            .to_vec(),
        encoding: "protobuf".into(),
        bytes: 300,
        create_revision: 2,
        mod_revision,
        version: 1,
        lease: 0,
    }
}

impl Backend for Fixed {
    fn overview(&self) -> BackendResult<Overview> {
        if self.live {
            return Ok(Overview {
                source: "cluster via 127.0.0.1:2379".into(),
                live: true,
                members: vec![Member {
                    id: "8e9e05c52164694d".into(),
                    name: "m1".into(),
                    client_urls: vec!["http://127.0.0.1:2379".into()],
                    is_learner: false,
                }],
                leader: Some("m1 8e9e05c52164694d".into()),
                version: Some("3.6.0".into()),
                revision: 46,
                ..Overview::default()
            });
        }
        Ok(Overview {
            source: "snapshot fixed.db".into(),
            revision: 46,
            compact_revision: 33,
            db_size: 45056,
            db_size_in_use: 32768,
            version: Some("3.6.0".into()),
            alarms: vec!["NOSPACE on member 1".into()],
            estimated_time: Some("2026-11-01T10:05:00Z (from its manifest)".into()),
            ..Overview::default()
        })
    }
    fn keyspace(&self, progress: &dyn Fn(u64)) -> BackendResult<Keyspace> {
        self.keyspace_calls.fetch_add(1, Ordering::SeqCst);
        progress(4);
        let ns = |n: &str, count| NamespaceGroup {
            namespace: n.into(),
            count,
            bytes: count * 300,
        };
        Ok(Keyspace {
            total_keys: 4,
            total_bytes: 1200,
            leases: 1,
            resources: vec![
                ResourceGroup {
                    resource: "minions".into(),
                    display: "nodes".into(),
                    namespaced: false,
                    count: 1,
                    bytes: 300,
                    namespaces: vec![],
                },
                ResourceGroup {
                    resource: "pods".into(),
                    display: "pods".into(),
                    namespaced: true,
                    count: 3,
                    bytes: 900,
                    namespaces: vec![ns("default", 2), ns("demo", 1)],
                },
            ],
        })
    }
    fn objects(
        &self,
        resource: &str,
        namespace: Option<&str>,
        progress: &dyn Fn(u64),
    ) -> BackendResult<ObjectTable> {
        if resource != "pods" {
            return Ok(ObjectTable::default());
        }
        progress(3);
        let all = vec![
            pod("default", "web-1", 8),
            pod("default", "web-2", 9),
            pod("demo", "db-0", 10),
        ];
        let mut columns: Vec<TableColumn> = POD_COLUMNS
            .iter()
            .map(|(name, wide)| TableColumn {
                name: name.to_string(),
                wide: *wide,
            })
            .collect();
        let mut rows: Vec<ObjectRow> = all
            .into_iter()
            .filter(|r| namespace.is_none() || r.namespace.as_deref() == namespace)
            .collect();
        if namespace.is_none() {
            columns.insert(
                0,
                TableColumn {
                    name: "NAMESPACE".into(),
                    wide: false,
                },
            );
        } else {
            for r in &mut rows {
                r.cells.remove(0);
            }
        }
        Ok(ObjectTable {
            columns,
            rows,
            note: Some("ages as of 2026-11-01T10:05:00Z".into()),
        })
    }
    fn object(&self, key: &str, revision: Option<i64>) -> BackendResult<ObjectDoc> {
        let replicas = if revision == Some(5) { 2 } else { 3 };
        Ok(ObjectDoc {
            key: key.into(),
            encoding: "json".into(),
            yaml: format!("apiVersion: v1\nkind: Pod\nspec:\n  replicas: {replicas}\n"),
            json: format!("{{\n  \"kind\": \"Pod\",\n  \"replicas\": {replicas}\n}}"),
            revision: revision.unwrap_or(8),
            mod_revision: 8,
            lease: 0,
            note: None,
        })
    }
    fn history(&self, _key: &str) -> BackendResult<Vec<RevisionRow>> {
        Ok(vec![
            RevisionRow {
                revision: 5,
                deleted: false,
                version: 1,
                bytes: 290,
            },
            RevisionRow {
                revision: 8,
                deleted: false,
                version: 2,
                bytes: 300,
            },
        ])
    }
    fn leases(&self) -> BackendResult<LeaseReport> {
        Ok(LeaseReport {
            leases: vec![LeaseRow {
                id: 0x46bd,
                ttl: 3660,
                remaining_ttl: None,
                class: "events".into(),
                keys: vec!["/registry/events/default/web-1.1".into()],
                findings: vec!["lease-immortal".into()],
            }],
            note: None,
        })
    }
    fn findings(&self) -> BackendResult<Findings> {
        let f = |check: &str, severity, key: &str| Finding {
            check: check.into(),
            severity,
            key: key.into(),
            lease: 0,
            evidence: format!("evidence for {key}"),
            fix: "delete it".into(),
        };
        Ok(Findings {
            items: vec![
                f(
                    "orphaned-owner",
                    Severity::Warning,
                    "/registry/pods/default/web-2",
                ),
                f(
                    "namespace-missing",
                    Severity::Critical,
                    "/registry/pods/gone/x",
                ),
                f("orphaned-owner", Severity::Info, "/registry/pods/demo/db-0"),
            ],
            note: None,
        })
    }
    fn snapshots(&self) -> BackendResult<Vec<SnapshotRow>> {
        let s = |file: &str, revision| SnapshotRow {
            path: format!("/backups/{file}"),
            file: file.into(),
            taken: "2026-11-01T10:00:00Z".into(),
            revision,
            db_size: 1 << 20,
            file_size: 1 << 18,
            member: "m1".into(),
            status: "ok".into(),
        };
        Ok(vec![s("etcd-a.db.zst", 40), s("etcd-b.db.zst", 46)])
    }
    fn verify_snapshot(&self, path: &str) -> BackendResult<VerifyResult> {
        Ok(VerifyResult {
            path: path.into(),
            clean: false,
            lines: vec!["page 7: bad checksum".into()],
        })
    }
    fn diff_snapshots(&self, from: &str, to: Option<&str>) -> BackendResult<SnapshotDiff> {
        Ok(SnapshotDiff {
            title: format!("{from} → {to:?}"),
            rows: vec![DiffRow {
                resource: "pods".into(),
                added: 2,
                removed: 1,
                changed: if to.is_some() { 7 } else { 3 },
            }],
        })
    }
    fn resolve_resource(&self, name: &str) -> Option<String> {
        matches!(name, "po" | "pods" | "pod").then(|| "pods".into())
    }
    fn display_name(&self, resource: &str) -> String {
        if resource == "minions" {
            "nodes".into()
        } else {
            resource.into()
        }
    }
    fn write_blocked(&self) -> Option<String> {
        (!self.writable).then(|| "the source is a snapshot file (read-only)".into())
    }
    fn delete(&self, t: &DeleteTarget) -> BackendResult<String> {
        let mut d = self.deletes.lock().unwrap();
        d.push((t.key.clone(), t.mod_revision));
        Ok(format!("deleted {}", t.key))
    }
}

/// The app over fixed data on a 120×30 screen.
fn drive(backend: Arc<Fixed>, color: bool) -> Driver {
    Driver::new(backend, color, (120, 30), Duration::from_millis(150))
}

fn line_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{screen}"))
}

fn words(line: &str) -> Vec<&str> {
    line.split(|c: char| c.is_whitespace() || c == '│')
        .filter(|w| !w.is_empty())
        .collect()
}

#[test]
fn overview_shows_source_revisions_sizes_counts_and_findings() {
    let mut ui = drive(Arc::new(Fixed::default()), true);
    let s = ui.screen();
    assert!(s.contains(" Overview "), "{s}");
    assert_eq!(words(line_with(&s, "Revision ")), ["Revision", "46"]);
    assert_eq!(
        words(line_with(&s, "Compact revision")),
        ["Compact", "revision", "33"]
    );
    assert!(line_with(&s, "DB size").contains("44.0 KiB (32.0 KiB in use, 73%)"));
    assert!(line_with(&s, "Alarms").contains("NOSPACE on member 1"));
    assert!(line_with(&s, "Keys").contains("4 (1.2 KiB)"));
    assert!(line_with(&s, "Findings").contains("1 critical, 1 warning, 1 info"));
    assert!(line_with(&s, "Taken").contains("2026-11-01T10:05:00Z"));
    assert!(
        s.contains("rev 46") && s.contains("read-only"),
        "header: {s}"
    );
}

#[test]
fn overview_shows_the_leader_of_a_live_cluster_only() {
    let live = Fixed {
        live: true,
        ..Fixed::default()
    };
    let s = drive(Arc::new(live), true).screen();
    assert_eq!(
        words(line_with(&s, "Leader")),
        ["Leader", "m1", "8e9e05c52164694d"]
    );
    assert!(line_with(&s, "Alarms").contains("none"), "{s}");
    let s = drive(Arc::new(Fixed::default()), true).screen();
    assert!(!s.contains("Leader"), "a snapshot has no leader: {s}");
}

#[test]
fn keyspace_walks_resources_namespaces_objects_with_counts() {
    let mut ui = drive(Arc::new(Fixed::default()), true);
    let s = ui.keys("\n");
    assert!(s.contains("Resources[2]"), "{s}");
    assert_eq!(
        words(line_with(&s, "pods")),
        ["pods", "3", "900", "B", "2", "pods"]
    );
    assert_eq!(
        words(line_with(&s, "nodes")),
        ["nodes", "1", "300", "B", "-", "minions"]
    );
    // sorted by name: nodes, pods; `s` twice sorts by count (largest first)
    let s = ui.keys("ss");
    let body: Vec<&str> = s
        .lines()
        .filter(|l| l.contains("minions") || l.contains(" pods "))
        .collect();
    assert!(body[0].contains("pods"), "pods first by count: {s}");
    let s = ui.keys("g\n");
    assert!(s.contains("Pods(namespaces)[3]"), "{s}");
    assert!(line_with(&s, "(all)").contains("3"));
    assert_eq!(
        words(line_with(&s, "default")),
        ["default", "2", "600", "B"]
    );
    let s = ui.keys("j\n");
    assert!(s.contains("Pods(default)[2]"), "{s}");
    assert!(
        s.contains("web-1") && s.contains("web-2") && !s.contains("db-0"),
        "{s}"
    );
    assert!(
        s.contains("<overview>") && s.contains("<keyspace>") && s.contains("<default>"),
        "crumbs: {s}"
    );
    // esc goes back one screen at a time
    let s = ui.keys("\x1b");
    assert!(s.contains("Pods(namespaces)[3]"), "{s}");
}

#[test]
fn command_line_filter_and_object_yaml_json() {
    let mut ui = drive(Arc::new(Fixed::default()), true);
    let s = ui.keys(":po\n");
    assert!(s.contains("Pods(all)[3]"), "{s}");
    assert!(line_with(&s, "db-0").contains("demo"));
    let s = ui.keys("/WEB");
    assert!(s.contains("Pods(all)[2] </WEB>"), "filter as you type: {s}");
    assert!(!s.contains("db-0"));
    assert!(s.contains("/WEB"), "prompt shows the filter: {s}");
    let s = ui.keys("\nj\n");
    assert!(s.contains("YAML(/registry/pods/default/web-2)"), "{s}");
    assert!(s.contains("kind: Pod") && s.contains("replicas: 3"), "{s}");
    let s = ui.keys("J");
    assert!(
        s.contains("JSON(/registry/pods/default/web-2)") && s.contains("\"kind\": \"Pod\""),
        "{s}"
    );
    let s = ui.keys("y");
    assert!(s.contains("YAML(") && s.contains("kind: Pod"));
    // back to the filtered list, then esc clears the filter
    let s = ui.keys("\x1b");
    assert!(s.contains("Pods(all)[2] </WEB>"), "{s}");
    let s = ui.keys("\x1b");
    assert!(s.contains("Pods(all)[3]"), "{s}");
    let s = ui.keys(":nosuch\n");
    assert!(s.contains("unknown command or resource \"nosuch\""), "{s}");
}

#[test]
fn history_lists_revisions_and_diffs_two() {
    let mut ui = drive(Arc::new(Fixed::default()), true);
    ui.keys(":pods\n\n");
    let s = ui.keys("h");
    assert!(
        s.contains("History(/registry/pods/default/web-1)[2]"),
        "{s}"
    );
    assert_eq!(words(line_with(&s, "│5 ")), ["5", "put", "1", "290", "B"]);
    let s = ui.keys(" j");
    assert!(line_with(&s, "│5 ").contains('*'), "marked: {s}");
    let s = ui.keys("\n");
    assert!(s.contains("Diff(/registry/pods/default/web-1)[5→8]"), "{s}");
    assert!(
        s.contains("-   replicas: 2") && s.contains("+   replicas: 3"),
        "{s}"
    );
    // enter on a single revision opens it
    let s = ui.keys("\x1bk \n");
    assert!(s.contains("YAML(/registry/pods/default/web-1@5)"), "{s}");
}

#[test]
fn leases_drill_down_to_keys_and_objects() {
    let mut ui = drive(Arc::new(Fixed::default()), true);
    let s = ui.keys(":leases\n");
    assert!(s.contains("Leases[1]"), "{s}");
    assert_eq!(
        words(line_with(&s, "46bd")),
        [
            "00000000000046bd",
            "events",
            "3660s",
            "-",
            "1",
            "lease-immortal"
        ]
    );
    let s = ui.keys("\n");
    assert!(
        s.contains("Lease(00000000000046bd)[1]") && s.contains("/registry/events/default/web-1.1"),
        "{s}"
    );
    let s = ui.keys("\n");
    assert!(s.contains("YAML(/registry/events/default/web-1.1)"), "{s}");
}

#[test]
fn stale_shows_detectors_then_objects_with_evidence() {
    let mut ui = drive(Arc::new(Fixed::default()), true);
    let s = ui.keys(":stale\n");
    assert!(s.contains("Stale[2]"), "{s}");
    let rows: Vec<Vec<&str>> = s
        .lines()
        .filter(|l| l.contains("orphaned-owner") || l.contains("namespace-missing"))
        .map(words)
        .collect();
    assert_eq!(
        rows,
        [
            vec!["namespace-missing", "critical", "1"],
            vec!["orphaned-owner", "warning", "2"]
        ]
    );
    let s = ui.keys("/orph\n\n");
    assert!(s.contains("Stale(orphaned-owner)[2]"), "{s}");
    assert!(line_with(&s, "web-2").contains("warning") && line_with(&s, "db-0").contains("info"));
    let s = ui.keys("/web\n\n");
    assert!(s.contains("YAML(/registry/pods/default/web-2)"), "{s}");
    assert!(
        s.contains("# orphaned-owner: evidence for /registry/pods/default/web-2"),
        "{s}"
    );
    assert!(s.contains("# fix: delete it"), "{s}");
}

#[test]
fn snapshots_verify_and_diff() {
    let mut ui = drive(Arc::new(Fixed::default()), true);
    let s = ui.keys(":snapshots\n");
    assert!(s.contains("Snapshots[2]"), "{s}");
    assert!(line_with(&s, "etcd-b.db.zst").contains("46"));
    let s = ui.keys("v");
    assert!(
        s.contains("Verify(etcd-a.db.zst)")
            && s.contains("PROBLEMS FOUND")
            && s.contains("page 7: bad checksum"),
        "{s}"
    );
    let s = ui.keys("\x1bd");
    assert!(s.contains("Diff(etcd-a.db.zst → source)[1]"), "{s}");
    assert_eq!(words(line_with(&s, "pods")), ["pods", "2", "1", "3"]);
    let s = ui.keys("\x1b ");
    assert!(line_with(&s, "etcd-a.db.zst").contains('*'), "marked: {s}");
    let s = ui.keys("jd");
    assert!(s.contains("Diff(etcd-a.db.zst → etcd-b.db.zst)[1]"), "{s}");
    assert_eq!(words(line_with(&s, "pods")), ["pods", "2", "1", "7"]);
}

#[test]
fn delete_asks_with_cancel_as_the_default() {
    let backend = Arc::new(Fixed {
        writable: true,
        ..Fixed::default()
    });
    let mut ui = drive(backend.clone(), true);
    ui.keys(":pods\n");
    let ctrl = KeyModifiers::CONTROL;
    let s = ui.key(KeyCode::Char('d'), ctrl);
    assert!(
        s.contains("Confirm delete") && s.contains("Delete /registry/pods/default/web-1?"),
        "{s}"
    );
    assert!(
        s.contains("[Cancel]") && !s.contains("[Delete]"),
        "Cancel has the focus: {s}"
    );
    let s = ui.keys("\n");
    assert!(s.contains("delete cancelled"), "{s}");
    assert!(backend.deletes.lock().unwrap().is_empty());
    ui.key(KeyCode::Char('d'), ctrl);
    let s = ui.key(KeyCode::Right, KeyModifiers::NONE);
    assert!(s.contains("[Delete]"), "{s}");
    let s = ui.keys("\n");
    assert_eq!(
        *backend.deletes.lock().unwrap(),
        [("/registry/pods/default/web-1".to_string(), 8)]
    );
    assert!(s.contains("deleted /registry/pods/default/web-1"), "{s}");
}

#[test]
fn delete_is_refused_when_the_backend_is_read_only() {
    let backend = Arc::new(Fixed::default());
    let mut ui = drive(backend.clone(), true);
    ui.keys(":pods\n");
    let s = ui.key(KeyCode::Char('d'), KeyModifiers::CONTROL);
    assert!(
        s.contains("delete is disabled: the source is a snapshot file (read-only)"),
        "{s}"
    );
    assert!(!s.contains("Confirm delete"));
}

#[test]
fn help_shows_every_key_whole_at_160_by_48_and_at_80_by_24() {
    for size in [(160, 48), (80, 24)] {
        let mut ui = Driver::new(
            Arc::new(Fixed::default()),
            true,
            size,
            Duration::from_millis(150),
        );
        let s = ui.keys(":pods\n?");
        assert!(s.contains("Help (any key closes)"), "{size:?}: {s}");
        for (key, what) in keys::HELP {
            let line = line_with(&s, what);
            assert!(line.contains(key), "{size:?}: {key} {what}: {s}");
        }
        assert!(!s.contains("a bigger terminal"), "{size:?}: {s}");
        let s = ui.keys("x");
        assert!(!s.contains("Help (any key closes)"));
    }
    // smaller still: what fits, and a note that there is more
    let mut ui = Driver::new(
        Arc::new(Fixed::default()),
        true,
        (60, 16),
        Duration::from_millis(150),
    );
    let s = ui.keys("?");
    assert!(s.contains("a bigger terminal shows every key"), "{s}");
}

#[test]
fn object_lists_show_kubectls_columns_and_etcds_facts_with_w() {
    let mut ui = drive(Arc::new(Fixed::default()), true);
    let s = ui.keys(":pods\n");
    assert_eq!(
        words(line_with(&s, "NAMESPACE")),
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    assert_eq!(
        words(line_with(&s, "web-2")),
        [
            "default",
            "web-2",
            "0/1",
            "CrashLoopBackOff",
            "12",
            "(2m",
            "ago)",
            "45m"
        ]
    );
    assert!(
        s.contains("ages as of 2026-11-01T10:05:00Z"),
        "the note: {s}"
    );
    let s = ui.keys("w");
    assert_eq!(
        words(line_with(&s, "NAMESPACE")),
        [
            "NAMESPACE",
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "ENCODING",
            "SIZE",
            "REVISION",
            "VERSION",
            "LEASE"
        ]
    );
    assert_eq!(
        words(line_with(&s, "db-0"))[8..],
        ["10.0.0.3", "node-a", "protobuf", "300", "B", "10", "1", "-"]
    );
    // one namespace: no NAMESPACE column
    let s = ui.keys("w:pods demo\n");
    assert_eq!(
        words(line_with(&s, "READY")),
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
}

#[test]
fn the_filter_matches_any_column_and_any_column_sorts() {
    let mut ui = drive(Arc::new(Fixed::default()), true);
    ui.keys(":pods\n");
    let s = ui.keys("/crashloop");
    assert!(s.contains("Pods(all)[1] </crashloop>"), "{s}");
    assert!(s.contains("web-2") && !s.contains("web-1"), "{s}");
    let s = ui.keys("\x1b/node-a");
    assert!(
        s.contains("Pods(all)[0]"),
        "hidden wide columns do not match: {s}"
    );
    let s = ui.keys("\x1bw/node-a\n");
    assert!(s.contains("Pods(all)[2]"), "shown ones do: {s}");
    // s moves the sort over the columns: NAMESPACE, NAME, READY, STATUS, RESTARTS, AGE
    let order = |s: &str| -> Vec<String> {
        ["web-1", "web-2", "db-0"]
            .iter()
            .map(|n| (s.find(&format!(" {n} ")).unwrap(), n.to_string()))
            .collect::<std::collections::BTreeMap<_, _>>()
            .into_values()
            .collect()
    };
    let s = ui.keys("\x1bwssssss");
    assert!(s.contains("AGE↑"), "{s}");
    assert_eq!(
        order(&s),
        ["web-2", "db-0", "web-1"],
        "ages as durations: {s}"
    );
    let s = ui.keys("S");
    assert!(s.contains("AGE↓"), "{s}");
    assert_eq!(order(&s), ["web-1", "db-0", "web-2"], "{s}");
    let s = ui.keys("sS");
    assert!(
        !s.contains('↑') && !s.contains('↓'),
        "after the last column, the data's order: {s}"
    );
    let s = ui.keys("sssss");
    assert!(s.contains("RESTARTS↑"), "{s}");
    assert_eq!(
        order(&s),
        ["web-1", "db-0", "web-2"],
        "restarts as numbers: {s}"
    );
}

#[test]
fn no_color_draws_without_colours() {
    let mut ui = drive(Arc::new(Fixed::default()), false);
    ui.keys(":pods\n\n");
    let buf = ui.buffer().clone();
    let colours = buf
        .content
        .iter()
        .filter(|c| c.fg != ratatui::style::Color::Reset || c.bg != ratatui::style::Color::Reset)
        .count();
    assert_eq!(colours, 0);
    let mut coloured = drive(Arc::new(Fixed::default()), true);
    coloured.keys(":pods\n\n");
    assert!(
        coloured
            .buffer()
            .content
            .iter()
            .any(|c| c.fg != ratatui::style::Color::Reset)
    );
}

/// Filtering and sorting a list of a million objects on the drawing thread (run with
/// `cargo test --release -p revkeeper-ui --test render -- --ignored --nocapture`).
#[test]
#[ignore]
fn million_row_list_timing() {
    use revkeeper_ui::list::{ListState, Rows};
    use std::time::Instant;
    let rows: Vec<ObjectRow> = (0..1_000_000)
        .map(|i| pod(&format!("ns-{:02}", i % 97), &format!("events-{i:08}"), i))
        .collect();
    let list = views::objects::ObjectList::new(ObjectTable {
        columns: ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
            .map(|name| TableColumn {
                name: name.into(),
                wide: false,
            })
            .to_vec(),
        rows,
        note: None,
    });
    let view = views::objects::ObjectRows::new(&list, false);
    let mut list = ListState::default();
    let t = Instant::now();
    list.refresh(&view, 1);
    println!("unfiltered view: {:?}", t.elapsed());
    for f in ["1", "12", "123", "1234", "9"] {
        list.set_filter(f.into());
        let (mut passes, mut slowest) = (0, Duration::ZERO);
        loop {
            let t = Instant::now();
            list.refresh(&view, 1);
            slowest = slowest.max(t.elapsed());
            passes += 1;
            if !list.is_pending() {
                break;
            }
        }
        println!(
            "filter {f:?}: {} rows, {passes} passes, slowest {slowest:?}",
            list.len()
        );
    }
    list.set_filter(String::new());
    for (sort, column) in [(1, "name"), (5, "age")] {
        list.sort = Some(sort);
        let t = Instant::now();
        list.refresh(&view, 1);
        println!("sort by {column}: {:?} ({} rows)", t.elapsed(), view.len());
    }
}
