//! What keys do to the screen stack, depending on what the top screen shows: open the
//! selected row, show an object, its history, marks, diffs, verification.

use crate::app::{App, Screen};
use crate::backend::{DeleteTarget, ObjectRow};
use crate::views::{keyspace, stale};

/// Enter: open what the selected row stands for.
pub fn open(app: &mut App) {
    let screen = app.top().screen.clone();
    let cur = app.top().list.current();
    let next = match (&screen, cur) {
        (Screen::Overview, _) => Some(Screen::Resources),
        (Screen::Resources, Some(i)) => app.keyspace.ready().and_then(|k| {
            let r = k.resources.get(i)?;
            Some(if r.namespaced {
                Screen::Namespaces {
                    resource: r.resource.clone(),
                }
            } else {
                Screen::Objects {
                    resource: r.resource.clone(),
                    namespace: None,
                }
            })
        }),
        (Screen::Namespaces { resource }, Some(i)) => {
            app.resource(resource).map(|g| Screen::Objects {
                resource: resource.clone(),
                namespace: keyspace::NamespaceRows(g)
                    .namespace(i)
                    .map(|n| n.namespace.clone()),
            })
        }
        (Screen::Objects { .. } | Screen::LeaseKeys { .. }, _) => {
            selected_key(app).map(object_screen)
        }
        (Screen::History { key, marked }, Some(i)) => {
            let rev = app
                .histories
                .get(key)
                .and_then(|h| h.ready())
                .and_then(|h| Some(h.get(i)?.revision));
            match (rev, marked.as_slice()) {
                (_, [a, b]) => Some(Screen::Diff {
                    key: key.clone(),
                    from: *a.min(b),
                    to: *a.max(b),
                }),
                (Some(r), [a]) if *a != r => Some(Screen::Diff {
                    key: key.clone(),
                    from: r.min(*a),
                    to: r.max(*a),
                }),
                (Some(r), _) => Some(Screen::Object {
                    key: key.clone(),
                    revision: Some(r),
                    json: false,
                    note: None,
                }),
                _ => None,
            }
        }
        (Screen::Leases, Some(i)) => app.leases.as_ref().and_then(|l| l.ready()).and_then(|l| {
            Some(Screen::LeaseKeys {
                lease: l.leases.get(i)?.id,
            })
        }),
        (Screen::Stale, Some(i)) => app.findings.as_ref().and_then(|f| f.ready()).and_then(|f| {
            Some(Screen::StaleFindings {
                check: stale::detectors(&f.items).get(i)?.check.clone(),
            })
        }),
        (Screen::StaleFindings { check }, Some(i)) => {
            let findings = app.findings.as_ref().and_then(|f| f.ready());
            findings
                .and_then(|f| f.items.iter().filter(|x| &x.check == check).nth(i))
                .map(|f| {
                    if f.key.is_empty() {
                        Screen::LeaseKeys { lease: f.lease }
                    } else {
                        let mut note = format!("{}: {}", f.check, f.evidence);
                        if !f.fix.is_empty() {
                            for (n, line) in f.fix.lines().enumerate() {
                                let label = if n == 0 { "fix: " } else { "     " };
                                note.push_str(&format!("\n{label}{line}"));
                            }
                        }
                        Screen::Object {
                            key: f.key.clone(),
                            revision: None,
                            json: false,
                            note: Some(note),
                        }
                    }
                })
        }
        (Screen::Snapshots { .. }, Some(_)) => {
            selected_snapshot(app).map(|path| Screen::Verify { path })
        }
        _ => None,
    };
    if let Some(next) = next {
        app.push(next);
    }
}

fn object_screen(key: String) -> Screen {
    Screen::Object {
        key,
        revision: None,
        json: false,
        note: None,
    }
}

/// The etcd key of the selected row (an object list) or of the object on screen.
fn selected_key(app: &App) -> Option<String> {
    let top = app.top();
    let i = top.list.current();
    match &top.screen {
        Screen::Objects { .. } => Some(selected_row(app)?.key.clone()),
        Screen::LeaseKeys { lease } => {
            let l = app.leases.as_ref()?.ready()?;
            Some(
                l.leases
                    .iter()
                    .find(|x| x.id == *lease)?
                    .keys
                    .get(i?)?
                    .clone(),
            )
        }
        Screen::StaleFindings { check } => {
            let f = app.findings.as_ref()?.ready()?;
            let key = &f.items.iter().filter(|x| &x.check == check).nth(i?)?.key;
            (!key.is_empty()).then(|| key.clone())
        }
        Screen::Object { key, .. } | Screen::History { key, .. } | Screen::Diff { key, .. } => {
            Some(key.clone())
        }
        _ => None,
    }
}

/// The selected row of an object list.
fn selected_row(app: &App) -> Option<&ObjectRow> {
    let top = app.top();
    let Screen::Objects {
        resource,
        namespace,
    } = &top.screen
    else {
        return None;
    };
    let list = app
        .objects
        .get(&(resource.clone(), namespace.clone()))?
        .ready()?;
    list.table.rows.get(top.list.current()?)
}

/// The selected object with its mod_revision and lease (the delete guard), when known.
pub fn selected_object(app: &App) -> Option<DeleteTarget> {
    let top = app.top();
    match &top.screen {
        Screen::Objects { .. } => {
            let r = selected_row(app)?;
            Some(DeleteTarget {
                key: r.key.clone(),
                mod_revision: r.mod_revision,
                lease: r.lease,
            })
        }
        Screen::Object {
            key,
            revision: None,
            ..
        } => {
            let doc = app.docs.get(&(key.clone(), None))?.ready()?;
            Some(DeleteTarget {
                key: key.clone(),
                mod_revision: doc.mod_revision,
                lease: doc.lease,
            })
        }
        _ => None,
    }
}

fn selected_snapshot(app: &App) -> Option<String> {
    let rows = app.snapshots.as_ref()?.ready()?;
    Some(rows.get(app.top().list.current()?)?.path.clone())
}

/// `y` / `J`: the selected object as YAML or JSON (on the object screen: switch format).
pub fn show_object(app: &mut App, as_json: bool) {
    if let Screen::Object { json, .. } = &mut app.top_mut().screen {
        *json = as_json;
        return;
    }
    if let Some(key) = selected_key(app) {
        app.push(Screen::Object {
            key,
            revision: None,
            json: as_json,
            note: None,
        });
    }
}

/// `h`: the revisions of the selected object.
pub fn open_history(app: &mut App) {
    if matches!(app.top().screen, Screen::History { .. }) {
        return;
    }
    match selected_key(app) {
        Some(key) => app.push(Screen::History {
            key,
            marked: Vec::new(),
        }),
        None => app.error("h lists the revisions of an object: select one first"),
    }
}

/// Space: mark the selected revision (at most two) or snapshot (one).
pub fn toggle_mark(app: &mut App) {
    let cur = app.top().list.current();
    let rev = match &app.top().screen {
        Screen::History { key, .. } => {
            cur.and_then(|i| Some(app.histories.get(key)?.ready()?.get(i)?.revision))
        }
        _ => None,
    };
    let snap = selected_snapshot(app);
    match &mut app.top_mut().screen {
        Screen::History { marked, .. } => {
            if let Some(r) = rev {
                if let Some(p) = marked.iter().position(|m| *m == r) {
                    marked.remove(p);
                } else {
                    if marked.len() == 2 {
                        marked.remove(0);
                    }
                    marked.push(r);
                }
            }
        }
        Screen::Snapshots { marked } => {
            *marked = if *marked == snap { None } else { snap };
        }
        _ => {}
    }
}

/// `d`: diff marked revisions, or a snapshot against the source or the marked snapshot.
pub fn diff(app: &mut App) {
    match app.top().screen.clone() {
        Screen::History { .. } => open(app),
        Screen::Snapshots { marked } => match selected_snapshot(app) {
            Some(sel) => {
                let screen = match marked {
                    Some(m) if m != sel => Screen::SnapshotDiff {
                        from: m,
                        to: Some(sel),
                    },
                    _ => Screen::SnapshotDiff {
                        from: sel,
                        to: None,
                    },
                };
                app.push(screen);
            }
            None => app.error("no snapshot selected"),
        },
        _ => app.error("d diffs revisions (h) or snapshots (:snapshots)"),
    }
}

/// `v`: verify the selected snapshot.
pub fn verify(app: &mut App) {
    if matches!(app.top().screen, Screen::Snapshots { .. }) {
        if let Some(path) = selected_snapshot(app) {
            app.push(Screen::Verify { path });
        }
    }
}
