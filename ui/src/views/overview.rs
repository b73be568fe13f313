//! The overview: what the source is, its revisions and sizes, counts, alarms and findings.

use ratatui::text::{Line, Span};

use super::human_bytes;
use crate::app::{App, Loadable};
use crate::backend::Severity;

pub fn lines(app: &App) -> Vec<Line<'static>> {
    let t = app.theme;
    let mut out = Vec::new();
    let field = |label: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{label:<18}"), t.header()),
            Span::raw(value),
        ])
    };
    match &app.overview {
        Loadable::Loading => out.push(Line::styled("reading the source…", t.dim())),
        Loadable::Failed(e) => out.push(Line::styled(format!("overview: {e}"), t.error())),
        Loadable::Ready(o) => {
            out.push(field("Source", o.source.clone()));
            if let Some(id) = &o.cluster_id {
                out.push(field("Cluster ID", id.clone()));
            }
            if let Some(v) = &o.version {
                out.push(field(
                    if o.live { "Version" } else { "Storage version" },
                    v.clone(),
                ));
            }
            if let Some(l) = &o.leader {
                out.push(field("Leader", l.clone()));
            }
            out.push(field(
                "Members",
                if o.members.is_empty() {
                    "-".into()
                } else {
                    o.members
                        .iter()
                        .map(|m| {
                            let learner = if m.is_learner { " (learner)" } else { "" };
                            format!("{} {}{learner} {}", m.name, m.id, m.client_urls.join(","))
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                },
            ));
            out.push(field("Revision", o.revision.to_string()));
            out.push(field("Compact revision", o.compact_revision.to_string()));
            let pct = if o.db_size > 0 {
                o.db_size_in_use as f64 * 100.0 / o.db_size as f64
            } else {
                0.0
            };
            out.push(field(
                "DB size",
                format!(
                    "{} ({} in use, {pct:.0}%)",
                    human_bytes(o.db_size),
                    human_bytes(o.db_size_in_use)
                ),
            ));
            out.push(field(
                "Alarms",
                if o.alarms.is_empty() {
                    "none".into()
                } else {
                    o.alarms.join(", ")
                },
            ));
            if let Some(time) = &o.estimated_time {
                out.push(field("Taken", time.clone()));
            }
            for (k, v) in &o.manifest {
                out.push(field(&format!("Manifest {k}"), v.clone()));
            }
        }
    }
    match &app.keyspace {
        Loadable::Ready(k) => {
            out.push(field(
                "Keys",
                format!("{} ({})", k.total_keys, human_bytes(k.total_bytes)),
            ));
            out.push(field("Resources", k.resources.len().to_string()));
            out.push(field("Leases", k.leases.to_string()));
        }
        Loadable::Loading => out.push(field(
            "Keys",
            format!("counting… {} so far", app.progress.unwrap_or(0)),
        )),
        Loadable::Failed(e) => out.push(Line::styled(format!("keyspace: {e}"), t.error())),
    }
    match &app.findings {
        Some(Loadable::Ready(f)) => {
            let count = |s| f.items.iter().filter(|x| x.severity == s).count();
            out.push(field(
                "Findings",
                format!(
                    "{} critical, {} warning, {} info",
                    count(Severity::Critical),
                    count(Severity::Warning),
                    count(Severity::Info)
                ),
            ));
            if let Some(n) = &f.note {
                out.push(field("", n.clone()));
            }
        }
        Some(Loadable::Failed(e)) => out.push(field("Findings", e.clone())),
        _ => out.push(field("Findings", "inspecting…".into())),
    }
    out.push(Line::raw(""));
    out.push(Line::styled(
        "enter: keyspace   :pods  :leases  :stale  :snapshots   ? help   q quit",
        t.dim(),
    ));
    out
}
