//! The fix offered with each finding: a kubectl command where the API server can do it, else an etcd operation.

use super::*;

pub(crate) fn delete_op(e: &ObjectEntry) -> EtcdOp {
    EtcdOp::Delete {
        key: e.key.to_string(),
        mod_revision: e.mod_revision,
        lease: e.lease,
    }
}

pub(super) fn etcd_delete(e: &ObjectEntry) -> Fix {
    Fix {
        etcd: vec![delete_op(e)],
        ..Fix::default()
    }
}

pub(super) fn kubectl(verb: &str, e: &ObjectEntry, ctx: &Ctx, extra: &str) -> Option<String> {
    let k = e.object_key(&ctx.index.prefix)?;
    let ns = k.namespace.map(|n| format!(" -n {n}")).unwrap_or_default();
    Some(format!(
        "kubectl {verb} {}{ns} {}{extra}",
        resources::qualified_name(k.resource),
        k.name
    ))
}

pub(super) fn api_and_etcd(e: &ObjectEntry, ctx: &Ctx, verb: &str, extra: &str) -> Fix {
    Fix {
        kubectl: kubectl(verb, e, ctx, extra),
        etcd: vec![delete_op(e)],
        note: None,
    }
}

pub(super) fn encrypted_note(e: &ObjectEntry) -> &'static str {
    if matches!(e.state, ValueState::Encrypted { .. }) {
        " (value encrypted: judged from the key)"
    } else {
        ""
    }
}

pub(super) fn ago(now: i64, t: i64) -> String {
    let s = now - t;
    if s >= 2 * 86400 {
        format!("{}d ago", s / 86400)
    } else if s >= 2 * HOUR {
        format!("{}h ago", s / HOUR)
    } else {
        format!("{}m ago", s / 60)
    }
}

pub(crate) fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .map(crate::timefmt::rfc3339)
        .unwrap_or_else(|_| t.to_string())
}
