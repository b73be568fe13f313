//! Drawing, and the actions that depend on what a screen shows (open, history, diff…). Each
//! list screen hands its loaded data to the generic list as [`Rows`].

mod chrome;
pub mod keyspace;
pub mod leases;
pub mod object;
mod overview;
pub mod snapshots;
pub mod stale;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};

use crate::app::{App, Loadable, Screen};
use crate::list::Rows;

pub use chrome::title;

/// `1536` → `1.5 KiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Whether `screen` is a list (filterable) rather than a text screen.
pub fn is_list(screen: &Screen) -> bool {
    !matches!(
        screen,
        Screen::Overview | Screen::Object { .. } | Screen::Diff { .. } | Screen::Verify { .. }
    )
}

/// The rows of a list screen, once its data is in.
pub fn rows<'a>(app: &'a App, screen: &'a Screen) -> Option<Box<dyn Rows + 'a>> {
    Some(match screen {
        Screen::Resources => Box::new(keyspace::ResourceRows(&app.keyspace.ready()?.resources)),
        Screen::Namespaces { resource } => {
            Box::new(keyspace::NamespaceRows(app.resource(resource)?))
        }
        Screen::Objects {
            resource,
            namespace,
        } => Box::new(keyspace::ObjectRows {
            rows: app
                .objects
                .get(&(resource.clone(), namespace.clone()))?
                .ready()?,
            show_namespace: namespace.is_none(),
        }),
        Screen::History { key, marked } => Box::new(object::HistoryRows {
            rows: app.histories.get(key)?.ready()?,
            marked,
        }),
        Screen::Leases => Box::new(leases::LeaseRows(&app.leases.as_ref()?.ready()?.leases)),
        Screen::LeaseKeys { lease } => {
            let report = app.leases.as_ref()?.ready()?;
            Box::new(leases::KeyRows(
                &report.leases.iter().find(|l| l.id == *lease)?.keys,
            ))
        }
        Screen::Stale => Box::new(stale::DetectorRows(stale::detectors(
            &app.findings.as_ref()?.ready()?.items,
        ))),
        Screen::StaleFindings { check } => Box::new(stale::FindingRows(
            app.findings
                .as_ref()?
                .ready()?
                .items
                .iter()
                .filter(|f| &f.check == check)
                .collect(),
        )),
        Screen::Snapshots { marked } => Box::new(snapshots::SnapshotRows {
            rows: app.snapshots.as_ref()?.ready()?,
            marked: marked.as_deref(),
        }),
        Screen::SnapshotDiff { from, to } => Box::new(snapshots::DiffRows(
            &app.diffs.get(&(from.clone(), to.clone()))?.ready()?.rows,
        )),
        Screen::Overview | Screen::Object { .. } | Screen::Diff { .. } | Screen::Verify { .. } => {
            return None;
        }
    })
}

/// What a screen shows while its data is not in: `Err` with the loading or error message.
fn status_of(app: &App, screen: &Screen) -> Option<Result<(), String>> {
    fn of<T>(l: Option<&Loadable<T>>) -> Option<Result<(), String>> {
        match l {
            None | Some(Loadable::Loading) => Some(Err("loading…".into())),
            Some(Loadable::Failed(e)) => Some(Err(e.clone())),
            Some(Loadable::Ready(_)) => None,
        }
    }
    match screen {
        Screen::Resources | Screen::Namespaces { .. } => match &app.keyspace {
            Loadable::Loading => Some(Err(format!(
                "scanning the keyspace… {} keys",
                app.progress.unwrap_or(0)
            ))),
            l => of(Some(l)),
        },
        Screen::Objects {
            resource,
            namespace,
        } => of(app.objects.get(&(resource.clone(), namespace.clone()))),
        Screen::Object { key, revision, .. } => of(app.docs.get(&(key.clone(), *revision))),
        Screen::History { key, .. } => of(app.histories.get(key)),
        Screen::Diff { key, from, to } => of(app.docs.get(&(key.clone(), Some(*from))))
            .or(of(app.docs.get(&(key.clone(), Some(*to))))),
        Screen::Leases | Screen::LeaseKeys { .. } => of(app.leases.as_ref()),
        Screen::Stale | Screen::StaleFindings { .. } => of(app.findings.as_ref()),
        Screen::Snapshots { .. } => of(app.snapshots.as_ref()),
        Screen::Verify { path } => of(app.verifies.get(path)),
        Screen::SnapshotDiff { from, to } => of(app.diffs.get(&(from.clone(), to.clone()))),
        Screen::Overview => None,
    }
}

/// A remark about the whole screen's data (e.g. why there are no findings).
fn note(app: &App, screen: &Screen) -> Option<String> {
    match screen {
        Screen::Stale | Screen::StaleFindings { .. } => {
            app.findings.as_ref()?.ready()?.note.clone()
        }
        Screen::Leases | Screen::LeaseKeys { .. } => app.leases.as_ref()?.ready()?.note.clone(),
        _ => None,
    }
}

/// The lines of a text screen.
fn text(app: &App, screen: &Screen) -> Vec<Line<'static>> {
    let t = app.theme;
    match screen {
        Screen::Overview => overview::lines(app),
        Screen::Object {
            key,
            revision,
            json,
            note,
        } => match app.docs.get(&(key.clone(), *revision)) {
            Some(Loadable::Ready(doc)) => object::lines(doc, *json, note.as_deref(), t),
            _ => Vec::new(),
        },
        Screen::Diff { key, from, to } => {
            let doc = |r: i64| {
                app.docs
                    .get(&(key.clone(), Some(r)))
                    .and_then(|d| d.ready())
            };
            match (doc(*from), doc(*to)) {
                (Some(a), Some(b)) => {
                    let mut lines = vec![Line::styled(format!("--- revision {from}"), t.removed())];
                    lines.push(Line::styled(format!("+++ revision {to}"), t.added()));
                    lines.extend(object::diff_lines(&object::diff(&a.yaml, &b.yaml), t));
                    lines
                }
                _ => Vec::new(),
            }
        }
        Screen::Verify { path } => match app.verifies.get(path) {
            Some(Loadable::Ready(v)) => {
                let mut lines = vec![if v.clean {
                    Line::styled(format!("{}: clean", v.path), t.ok())
                } else {
                    Line::styled(format!("{}: PROBLEMS FOUND", v.path), t.error())
                }];
                lines.extend(v.lines.iter().map(|l| Line::raw(l.clone())));
                lines
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Brings the top screen's list view up to date with the data, filter and sort.
pub fn refresh_top(app: &mut App) {
    let generation = app.generation;
    let screen = app.top().screen.clone();
    let mut list = std::mem::take(&mut app.top_mut().list);
    if let Some(rows) = rows(app, &screen) {
        list.refresh(&*rows, generation);
    } else if !is_list(&screen) {
        list.refresh_lines(text(app, &screen).len());
    }
    app.top_mut().list = list;
}

/// Whether the top list's sort index names a column it can sort by.
pub fn sort_valid(app: &App) -> bool {
    let top = app.top();
    match (rows(app, &top.screen), top.list.sort) {
        (Some(r), Some(s)) => s < r.sortable().len(),
        _ => false,
    }
}

/// Rows visible in the body (for paging); set by the last draw.
pub fn page_height(app: &App) -> usize {
    app.body_height.max(1)
}

pub fn draw(frame: &mut Frame, app: &mut App) {
    refresh_top(app);
    let [header, body, crumbs, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    chrome::header(frame, header, app);
    draw_body(frame, body, app);
    chrome::crumbs(frame, crumbs, app);
    chrome::status(frame, status, app);
    chrome::overlays(frame, app);
}

fn draw_body(frame: &mut Frame, area: Rect, app: &mut App) {
    let t = app.theme;
    let screen = app.top().screen.clone();
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border())
        .title(Line::styled(format!(" {} ", title(app)), t.title()).centered());
    if let Some(note) = note(app, &screen) {
        block = block.title_bottom(Line::styled(format!(" {note} "), t.warn()));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    app.body_height = inner.height.saturating_sub(1) as usize;
    if let Some(Err(msg)) = status_of(app, &screen) {
        let style = if msg.ends_with('…') || msg.starts_with("scanning") {
            t.dim()
        } else {
            t.error()
        };
        frame.render_widget(Paragraph::new(Line::styled(msg, style)), inner);
        return;
    }
    let drawn = match rows(app, &screen) {
        Some(rows) => {
            let height = inner.height.saturating_sub(1) as usize;
            let list = &app.top().list;
            let offset = list.fitted_offset(height);
            let visible = list.view().iter().skip(offset).take(height);
            let table_rows: Vec<Row> = visible
                .enumerate()
                .map(|(n, &i)| {
                    let row = Row::new(rows.cells(i));
                    if offset + n == list.selected {
                        row.style(t.selected())
                    } else {
                        row
                    }
                })
                .collect();
            let table = Table::new(table_rows, rows.widths())
                .header(Row::new(rows.headers().iter().copied()).style(t.header()));
            frame.render_widget(table, inner);
            Some(offset)
        }
        None => None,
    };
    if let Some(offset) = drawn {
        app.top_mut().list.offset = offset;
        return;
    }
    let lines = text(app, &screen);
    let height = inner.height as usize;
    let list = &mut app.top_mut().list;
    let max = lines.len().saturating_sub(height);
    if list.selected > max {
        list.selected = max;
    }
    let shown: Vec<Line> = lines.into_iter().skip(list.selected).take(height).collect();
    frame.render_widget(Paragraph::new(shown), inner);
}

/// Enter: open what the selected row stands for.
pub fn open(app: &mut App) {
    let screen = app.top().screen.clone();
    let cur = app.top().list.current();
    let next = match (&screen, cur) {
        (Screen::Overview, _) => Some(Screen::Resources),
        (Screen::Resources, Some(i)) => app.keyspace.ready().map(|k| {
            let r = &k.resources[i];
            if r.namespaced {
                Screen::Namespaces {
                    resource: r.resource.clone(),
                }
            } else {
                Screen::Objects {
                    resource: r.resource.clone(),
                    namespace: None,
                }
            }
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
                .map(|h| h[i].revision);
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
        (Screen::Leases, Some(i)) => {
            app.leases
                .as_ref()
                .and_then(|l| l.ready())
                .map(|l| Screen::LeaseKeys {
                    lease: l.leases[i].id,
                })
        }
        (Screen::Stale, Some(i)) => {
            app.findings
                .as_ref()
                .and_then(|f| f.ready())
                .map(|f| Screen::StaleFindings {
                    check: stale::detectors(&f.items)[i].check.clone(),
                })
        }
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
                            note.push_str(&format!("\nfix: {}", f.fix));
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
        Screen::Objects {
            resource,
            namespace,
        } => {
            let rows = app
                .objects
                .get(&(resource.clone(), namespace.clone()))?
                .ready()?;
            Some(rows[i?].key.clone())
        }
        Screen::LeaseKeys { lease } => {
            let l = app.leases.as_ref()?.ready()?;
            Some(l.leases.iter().find(|x| x.id == *lease)?.keys[i?].clone())
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

/// The selected object's key and mod_revision (the delete guard), when known.
pub fn selected_object(app: &App) -> Option<(String, i64)> {
    let top = app.top();
    match &top.screen {
        Screen::Objects {
            resource,
            namespace,
        } => {
            let rows = app
                .objects
                .get(&(resource.clone(), namespace.clone()))?
                .ready()?;
            let r = &rows[top.list.current()?];
            Some((r.key.clone(), r.mod_revision))
        }
        Screen::Object {
            key,
            revision: None,
            ..
        } => {
            let doc = app.docs.get(&(key.clone(), None))?.ready()?;
            Some((key.clone(), doc.mod_revision))
        }
        _ => None,
    }
}

fn selected_snapshot(app: &App) -> Option<String> {
    let rows = app.snapshots.as_ref()?.ready()?;
    Some(rows[app.top().list.current()?].path.clone())
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
            cur.and_then(|i| app.histories.get(key)?.ready().map(|h| h[i].revision))
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
