//! Drawing, and the actions that depend on what a screen shows (open, history, diff…). Each
//! list screen hands its loaded data to the generic list as [`Rows`].

mod chrome;
pub mod keyspace;
pub mod leases;
pub mod object;
pub mod objects;
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

pub use revkeeper_formats::units::human_bytes;

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
        } => Box::new(objects::ObjectRows::new(
            app.objects
                .get(&(resource.clone(), namespace.clone()))?
                .ready()?,
            app.wide,
        )),
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
        } => {
            let k = (resource.clone(), namespace.clone());
            match (app.objects.get(&k), app.objects_progress.get(&k)) {
                (Some(Loadable::Loading), Some(n)) => {
                    Some(Err(format!("decoding the objects… {n}")))
                }
                (l, _) => of(l),
            }
        }
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
        Screen::Objects {
            resource,
            namespace,
        } => (app.objects.get(&(resource.clone(), namespace.clone())))?
            .ready()?
            .table
            .note
            .clone(),
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
        (Some(r), Some(s)) => s < r.sort_columns().len(),
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
        let style =
            if msg.ends_with('…') || msg.starts_with("scanning") || msg.starts_with("decoding") {
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
            let mut headers = rows.header_row();
            let sorted = list.sort.and_then(|s| rows.sort_columns().get(s).copied());
            if let Some(h) = sorted.and_then(|c| headers.get_mut(c)) {
                h.push(if list.reverse { '↓' } else { '↑' });
            }
            let widths = fit_lengths(rows.widths(), inner.width);
            let table = Table::new(table_rows, widths).header(Row::new(headers).style(t.header()));
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

/// Columns of fixed lengths that overflow `width` lose from the widest first, so short
/// columns (READY, AGE) stay whole while a long NAME or MESSAGE is cut. Other constraints are
/// left to the layout.
fn fit_lengths(widths: Vec<Constraint>, width: u16) -> Vec<Constraint> {
    let lengths: Option<Vec<u16>> = (widths.iter())
        .map(|c| match c {
            Constraint::Length(n) => Some(*n),
            _ => None,
        })
        .collect();
    let Some(lengths) = lengths else {
        return widths;
    };
    // One space between columns.
    let room = (width as usize).saturating_sub(lengths.len().saturating_sub(1));
    let total = |cap: u16| lengths.iter().map(|&n| n.min(cap) as usize).sum::<usize>();
    let mut cap = lengths.iter().copied().max().unwrap_or(0);
    while cap > 4 && total(cap) > room {
        cap -= 1;
    }
    lengths
        .iter()
        .map(|&n| Constraint::Length(n.min(cap)))
        .collect()
}
