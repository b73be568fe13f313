//! The pure planning of `stale fix` and `leases revoke`: which findings become which guarded
//! operations, which lease revokes are refused, and when a lease is drained first. Running a plan
//! on a real etcd is tested in `tests/inspect_live.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::apply::{BATCH, Reread, drain_batches, kept_alive, refuse_after_reread};
use super::*;
use crate::inspect::{EtcdOp, Finding, Fix, LeaseClass, LeaseInfo, Report, Severity, ValueStats};

const EVENT_LEASE: i64 = 0x1000_0000_0000_0001;
const ALIVE_LEASE: i64 = 0x1000_0000_0000_0002;
const FOREIGN_LEASE: i64 = 0x1000_0000_0000_0003;

fn delete(key: &str, mod_revision: i64, lease: i64) -> EtcdOp {
    EtcdOp::Delete {
        key: key.into(),
        mod_revision,
        lease,
    }
}

fn revoke(lease: i64, keys: &[&str]) -> EtcdOp {
    EtcdOp::Revoke {
        lease,
        keys: keys.iter().map(|k| k.to_string()).collect(),
    }
}

fn finding(check: &'static str, etcd: Vec<EtcdOp>) -> Finding {
    Finding {
        check,
        severity: Severity::Warning,
        key: None,
        lease: None,
        keys: Vec::new(),
        evidence: String::new(),
        age_seconds: None,
        fix: Fix {
            kubectl: None,
            etcd,
            note: None,
        },
    }
}

fn lease(id: i64, class: LeaseClass, keys: &[&str], findings: Vec<&'static str>) -> LeaseInfo {
    LeaseInfo {
        id,
        ttl: 3660,
        remaining_ttl: None,
        class,
        key_count: keys.len(),
        prefixes: BTreeMap::new(),
        keys: keys.iter().map(|k| k.to_string()).collect(),
        findings,
    }
}

fn report(findings: Vec<Finding>) -> Report {
    Report {
        source: "test".into(),
        revision: 100,
        now: 0,
        now_estimated: false,
        now_basis: String::new(),
        values: ValueStats::default(),
        leases: vec![
            lease(
                EVENT_LEASE,
                LeaseClass::KubernetesEvents,
                &["/registry/events/default/e1", "/registry/events/default/e2"],
                vec!["lease-immortal"],
            ),
            lease(
                ALIVE_LEASE,
                LeaseClass::KubernetesEvents,
                &["/registry/events/default/e3"],
                vec!["lease-immortal", "lease-kept-alive"],
            ),
            lease(FOREIGN_LEASE, LeaseClass::Foreign, &["/app/x"], vec![]),
        ],
        findings,
    }
}

fn strings(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

#[test]
fn the_findings_etcd_ops_become_deletes_once_each_with_the_inspected_guard() {
    let cm = delete("/registry/configmaps/default/a", 41, 0);
    let event = delete("/registry/events/default/e1", 57, EVENT_LEASE);
    let report = report(vec![
        finding("orphaned-replicaset", vec![cm.clone()]),
        finding("event-without-lease", vec![event.clone()]),
        // A second finding naming the same key: one delete, both checks.
        finding("namespace-stuck-terminating", vec![cm.clone()]),
        // A finding the API can fix (kubectl only): no etcd operation at all.
        Finding {
            fix: Fix {
                kubectl: Some("kubectl delete cm a".into()),
                ..Fix::default()
            },
            ..finding("crd-missing", Vec::new())
        },
    ]);
    let plan = plan_fix(&report, &[]);
    let ops: Vec<&EtcdOp> = plan.steps.iter().map(|s| &s.op).collect();
    assert_eq!(ops, [&cm, &event], "each key once, in finding order");
    assert_eq!(
        plan.steps[0].checks,
        ["orphaned-replicaset", "namespace-stuck-terminating"]
    );
    assert!(plan.steps.iter().all(|s| s.refused.is_none()));
    // The dry run prints each delete with the guard the txn carries.
    assert_eq!(
        describe(&plan),
        [
            "txn: if mod_revision(/registry/configmaps/default/a) == 41 and lease(/registry/configmaps/default/a) == 0000000000000000 then delete /registry/configmaps/default/a   [orphaned-replicaset,namespace-stuck-terminating]",
            "txn: if mod_revision(/registry/events/default/e1) == 57 and lease(/registry/events/default/e1) == 1000000000000001 then delete /registry/events/default/e1   [event-without-lease]",
        ]
    );
}

#[test]
fn only_the_named_checks_are_planned() {
    let report = report(vec![
        finding("orphaned-replicaset", vec![delete("/a", 1, 0)]),
        finding("event-without-lease", vec![delete("/b", 2, 0)]),
    ]);
    let plan = plan_fix(&report, &["event-without-lease".to_string()]);
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(plan.steps[0].op, delete("/b", 2, 0));
    assert!(
        plan_fix(&report, &["lease-oversized".to_string()])
            .steps
            .is_empty()
    );
}

#[test]
fn deletes_come_before_revokes_and_a_revoke_does_not_count_keys_deleted_before_it() {
    let e1 = "/registry/events/default/e1";
    let report = report(vec![
        finding(
            "lease-immortal",
            vec![revoke(EVENT_LEASE, &[e1, "/registry/events/default/e2"])],
        ),
        finding("event-without-lease", vec![delete(e1, 57, EVENT_LEASE)]),
    ]);
    let plan = plan_fix(&report, &[]);
    assert_eq!(plan.steps[0].op, delete(e1, 57, EVENT_LEASE));
    assert_eq!(
        plan.steps[1].op,
        revoke(EVENT_LEASE, &["/registry/events/default/e2"])
    );
    assert_eq!(plan.steps[1].refused, None);
}

#[test]
fn kept_alive_and_foreign_leases_are_refused_in_the_plan() {
    let plan = plan_revoke(
        &report(Vec::new()),
        &[EVENT_LEASE, ALIVE_LEASE, FOREIGN_LEASE],
    )
    .unwrap();
    assert_eq!(
        plan.steps[0].op,
        revoke(
            EVENT_LEASE,
            &["/registry/events/default/e1", "/registry/events/default/e2"]
        ),
        "the revoke carries the keys inspected, to compare before revoking"
    );
    assert_eq!(plan.steps[0].refused, None);
    assert!(
        plan.steps[1]
            .refused
            .as_deref()
            .is_some_and(|r| r.contains("keeps this lease alive")),
        "{:?}",
        plan.steps[1]
    );
    assert!(
        plan.steps[2]
            .refused
            .as_deref()
            .is_some_and(|r| r.starts_with("foreign lease")),
        "{:?}",
        plan.steps[2]
    );
    let lines = describe(&plan);
    assert!(!lines[0].starts_with("REFUSED"), "{}", lines[0]);
    assert!(lines[1].starts_with("REFUSED lease revoke 1000000000000002"));
    assert!(lines[2].starts_with("REFUSED lease revoke 1000000000000003"));

    // The same refusals when `stale fix` plans the revoke from a finding.
    let from_finding = report(vec![finding(
        "lease-immortal",
        vec![revoke(FOREIGN_LEASE, &["/app/x"])],
    )]);
    assert!(plan_fix(&from_finding, &[]).steps[0].refused.is_some());
}

#[test]
fn an_unknown_lease_is_an_invalid_input_not_a_step() {
    let e = plan_revoke(&report(Vec::new()), &[EVENT_LEASE, 0x42]).unwrap_err();
    assert_eq!(e.exit_code(), 3, "{e}");
    assert!(
        e.to_string().contains("lease 0000000000000042 not found"),
        "{e}"
    );
}

#[test]
fn a_reread_lease_is_refused_when_young_or_changed() {
    // As inspected (the plan's keys are in any order); the re-read keys come sorted.
    let inspected = strings(&["/registry/events/default/e2", "/registry/events/default/e1"]);
    let mut now = strings(&["/registry/events/default/e1", "/registry/events/default/e2"]);
    let verdict = |now: &[String], granted_ttl, ttl| {
        let reread = Reread {
            keys: now,
            granted_ttl,
            ttl,
        };
        refuse_after_reread(&inspected, &reread, Duration::from_secs(90))
    };
    assert_eq!(
        verdict(&now, 3660, 3570),
        None,
        "90 s old, same keys: revoke"
    );
    // Granted 89 s ago: kube-apiserver may still be attaching Events to it.
    let young = verdict(&now, 3660, 3571).unwrap();
    assert!(young.starts_with("granted or renewed 89s ago"), "{young}");
    // Remaining above granted: just extended, as young as it gets.
    let extended = verdict(&now, 60, 61).unwrap();
    assert!(
        extended.starts_with("granted or renewed -1s ago"),
        "{extended}"
    );
    // A key attached since the inspection: whatever its age, not this lease any more.
    now.push("/registry/events/default/e9".into());
    let changed = verdict(&now, 3660, 10).unwrap();
    assert!(changed.contains("(2 then, 3 now)"), "{changed}");
}

#[test]
fn a_lease_whose_ttl_does_not_fall_between_two_polls_is_kept_alive() {
    assert_eq!(kept_alive(50, 48), None);
    assert!(
        kept_alive(50, 50)
            .unwrap()
            .contains("a client keeps it alive")
    );
    assert!(kept_alive(50, 60).is_some(), "renewed between the polls");
}

#[test]
fn leases_with_more_than_1000_keys_are_drained_in_batches_first() {
    let keys = |n: usize| {
        (0..n)
            .map(|i| format!("/registry/events/e{i:05}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        drain_batches(&keys(1000)).count(),
        0,
        "the revoke takes them"
    );
    let many = keys(1001);
    let batches: Vec<&[String]> = drain_batches(&many).collect();
    assert_eq!(batches.len(), 11);
    assert!(batches.iter().all(|b| b.len() <= BATCH));
    assert_eq!(batches.concat(), many, "every key, once, in order");

    let report = Report {
        leases: vec![lease(
            EVENT_LEASE,
            LeaseClass::KubernetesEvents,
            &many.iter().map(String::as_str).collect::<Vec<_>>(),
            vec!["lease-oversized"],
        )],
        ..report(Vec::new())
    };
    let line = &describe(&plan_revoke(&report, &[EVENT_LEASE]).unwrap())[0];
    assert!(
        line.contains("1001 attached keys go with it, drained in batches first"),
        "{line}"
    );
}

#[test]
fn the_dry_run_describes_one_line_per_step_and_a_plan_without_etcd_ops_is_empty() {
    // Findings that only carry advice (a kubectl command or a note) plan nothing destructive.
    let advice = Finding {
        fix: Fix {
            kubectl: Some("kubectl delete pod p".into()),
            etcd: Vec::new(),
            note: Some("use the API".into()),
        },
        ..finding("pod-orphaned", Vec::new())
    };
    let plan = plan_fix(&report(vec![advice]), &[]);
    assert_eq!(plan, Plan::default());
    assert!(describe(&plan).is_empty());
}
