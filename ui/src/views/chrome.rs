//! Everything around the body: the header, the `Resource(ns)[count]` title, breadcrumbs, the
//! status/command line, the help and the delete confirmation.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::keyspace::lease_hex;
use crate::app::{App, Level, Loadable, Mode, Screen};
use crate::backend::{DeleteTarget, ReadCost};
use crate::keys::HELP;

const SPINNER: [char; 4] = ['|', '/', '-', '\\'];

/// k9s's `Pods(default)[12]`, with the filter after it.
pub fn title(app: &App) -> String {
    let top = app.top();
    let count = top.list.len();
    let base = match &top.screen {
        Screen::Overview => return "Overview".into(),
        Screen::Resources => format!("Resources[{count}]"),
        Screen::Namespaces { resource } => {
            format!("{}(namespaces)[{count}]", cap(&app.display_name(resource)))
        }
        Screen::Objects {
            resource,
            namespace,
        } => format!(
            "{}({})[{count}]",
            cap(&app.display_name(resource)),
            namespace.as_deref().unwrap_or("all")
        ),
        Screen::Object {
            key,
            revision,
            json,
            ..
        } => {
            let at = revision.map(|r| format!("@{r}")).unwrap_or_default();
            format!("{}({key}{at})", if *json { "JSON" } else { "YAML" })
        }
        Screen::History { key, .. } => format!("History({key})[{count}]"),
        Screen::Diff { key, from, to } => format!("Diff({key})[{from}→{to}]"),
        Screen::Leases => format!("Leases[{count}]"),
        Screen::LeaseKeys { lease } => format!("Lease({})[{count}]", lease_hex(*lease)),
        Screen::Stale => format!("Stale[{count}]"),
        Screen::StaleFindings { check } => format!("Stale({check})[{count}]"),
        Screen::Snapshots { .. } => format!("Snapshots[{count}]"),
        Screen::Verify { path } => format!("Verify({})", file_name(path)),
        Screen::SnapshotDiff { from, to } => format!(
            "Diff({} → {})[{count}]",
            file_name(from),
            to.as_deref().map(file_name).unwrap_or("source")
        ),
    };
    let filtering = if top.list.is_pending() {
        " filtering…"
    } else {
        ""
    };
    if top.list.filter.is_empty() {
        base
    } else {
        format!("{base} </{}>{filtering}", top.list.filter)
    }
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A short name of one stack entry, for the breadcrumbs.
fn crumb(app: &App, screen: &Screen) -> String {
    match screen {
        Screen::Overview => "overview".into(),
        Screen::Resources => "keyspace".into(),
        Screen::Namespaces { resource } => app.display_name(resource),
        Screen::Objects {
            resource,
            namespace,
        } => match namespace {
            Some(ns) => ns.clone(),
            None => format!("{}(all)", app.display_name(resource)),
        },
        Screen::Object { key, .. } => key.rsplit('/').next().unwrap_or(key).to_string(),
        Screen::History { .. } => "history".into(),
        Screen::Diff { from, to, .. } => format!("diff {from}→{to}"),
        Screen::Leases => "leases".into(),
        Screen::LeaseKeys { lease } => lease_hex(*lease),
        Screen::Stale => "stale".into(),
        Screen::StaleFindings { check } => check.clone(),
        Screen::Snapshots { .. } => "snapshots".into(),
        Screen::Verify { .. } => "verify".into(),
        Screen::SnapshotDiff { .. } => "diff".into(),
    }
}

pub fn header(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme;
    let mut spans = vec![Span::styled(" revkeeper ", t.title())];
    if let Loadable::Ready(o) = &app.overview {
        spans.push(Span::raw(format!("│ {} │ rev {} ", o.source, o.revision)));
        if o.unproven.is_some() {
            spans.push(Span::styled("│ NOT VERIFIED: sha256 trailer ", t.warn()));
        } else if o.checking_trailer {
            spans.push(Span::styled("│ checking sha256 ", t.dim()));
        }
    }
    if let Some(why) = app.worker().write_blocked() {
        let short = if why.contains("read-only") || why.contains("snapshot") {
            "read-only"
        } else {
            "no writes"
        };
        spans.push(Span::styled(format!("│ {short} "), t.dim()));
    }
    let busy = matches!(app.keyspace, Loadable::Loading);
    if busy {
        let spin = SPINNER[(app.started.elapsed().as_millis() / 150) as usize % SPINNER.len()];
        spans.push(Span::styled(
            format!("│ {spin} scanning {} keys ", app.progress.unwrap_or(0)),
            t.warn(),
        ));
    }
    if let Some(r) = app.overview.ready().and_then(|o| o.reads.as_ref()) {
        let style = if r.watch_error.is_some() {
            t.warn()
        } else {
            t.dim()
        };
        spans.push(Span::styled(format!("│ {} ", reads_line(r)), style));
    }
    if let Some((e, since)) = &app.offline {
        spans.push(Span::styled(
            format!(
                "│ etcd not answering for {}s: {e}; showing what was loaded ",
                since.elapsed().as_secs()
            ),
            t.error(),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// What the reads of a live source cost, kubectl/k9s style: `watching since rev 1200 · first
/// load 1.2 GiB in 41 s · relists 0`.
pub fn reads_line(r: &ReadCost) -> String {
    let watch = match &r.watch_error {
        Some(_) => "watch down, resuming".to_string(),
        None => format!("watching since rev {}", r.listed_at),
    };
    format!(
        "{watch} · first load {} in {:.0} s · relists {}",
        super::human_bytes(r.first_load_bytes),
        r.first_load.as_secs_f64(),
        r.relists
    )
}

pub fn crumbs(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme;
    let n = app.stack.len();
    let spans: Vec<Span> = app
        .stack
        .iter()
        .enumerate()
        .flat_map(|(i, e)| {
            let style = if i + 1 == n { t.selected() } else { t.dim() };
            [
                Span::styled(format!(" <{}> ", crumb(app, &e.screen)), style),
                Span::raw(" "),
            ]
        })
        .collect();
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn status(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme;
    let line = match &app.mode {
        Mode::Command(text) => Line::from(vec![
            Span::styled(":", t.title()),
            Span::raw(text.clone()),
            Span::raw("█"),
        ]),
        Mode::Filter => Line::from(vec![
            Span::styled("/", t.title()),
            Span::raw(app.top().list.filter.clone()),
            Span::raw("█"),
        ]),
        _ => match &app.status {
            Some((msg, Level::Error)) => Line::styled(msg.clone(), t.error()),
            Some((msg, Level::Info)) => Line::styled(msg.clone(), t.ok()),
            None => Line::styled("? help  : command  / filter  esc back  q quit", t.dim()),
        },
    };
    frame.render_widget(Paragraph::new(line), area);
}

pub fn overlays(frame: &mut Frame, app: &App) {
    match &app.mode {
        Mode::Help => help(frame, app),
        Mode::Confirm { target, ok_focused } => confirm(frame, app, target, *ok_focused),
        _ => {}
    }
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(v);
    h
}

/// The help box: keys and what they do, wrapped to the screen; in two columns when one is
/// too tall for it, and cut with a note only when even two do not fit.
fn help(frame: &mut Frame, app: &App) {
    let t = app.theme;
    let screen = frame.area();
    let key_width = HELP
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let text_width = HELP
        .iter()
        .map(|(_, w)| w.chars().count())
        .max()
        .unwrap_or(0);
    // Inside the border: the key, two spaces, the text.
    let full = key_width + 2 + text_width;
    let inner_width = (screen.width as usize).saturating_sub(2);
    let inner_height = (screen.height as usize).saturating_sub(2);
    let mut columns = 1;
    let mut column_width = full.min(inner_width);
    let mut lines = help_lines(key_width, column_width, t);
    if lines.len() > inner_height && inner_width >= 2 * (key_width + 18) + 3 {
        columns = 2;
        column_width = full.min((inner_width - 3) / 2);
        lines = help_lines(key_width, column_width, t);
    }
    let per_column = lines.len().div_ceil(columns);
    let mut shown: Vec<Line> = Vec::new();
    if columns == 1 {
        shown = lines;
    } else {
        let (left, right) = lines.split_at(per_column.min(lines.len()));
        for (n, l) in left.iter().enumerate() {
            let mut spans = l.spans.clone();
            if let Some(r) = right.get(n) {
                let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
                spans.push(Span::raw(
                    " ".repeat(column_width - used.min(column_width) + 3),
                ));
                spans.extend(r.spans.iter().cloned());
            }
            shown.push(Line::from(spans));
        }
    }
    if shown.len() > inner_height {
        shown.truncate(inner_height.saturating_sub(1));
        shown.push(Line::styled(
            "… a bigger terminal shows every key",
            t.warn(),
        ));
    }
    let width = columns * column_width + (columns - 1) * 3 + 2;
    let area = centered(screen, width as u16, shown.len() as u16 + 2);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(shown).block(
            Block::default()
                .borders(Borders::ALL)
                .title(Line::styled(" Help (any key closes) ", t.title()).centered()),
        ),
        area,
    );
}

/// [`HELP`] as lines `width` wide: the key, then its text wrapped at spaces under itself.
fn help_lines(key_width: usize, width: usize, t: crate::Theme) -> Vec<Line<'static>> {
    let text_width = width.saturating_sub(key_width + 2).max(8);
    let mut out = Vec::new();
    for (key, what) in HELP {
        for (n, part) in wrap(what, text_width).into_iter().enumerate() {
            let key = if n == 0 { *key } else { "" };
            let pad = key_width - key.chars().count() + 2;
            out.push(Line::from(vec![
                Span::styled(key.to_string(), t.key()),
                Span::raw(format!("{}{part}", " ".repeat(pad))),
            ]));
        }
    }
    out
}

/// `text` in lines of at most `width` characters, broken at spaces (a longer word is cut).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last_mut().expect("one line at least");
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(word.chars().take(width).collect());
        } else {
            if len > 0 {
                line.push(' ');
            }
            line.extend(word.chars().take(width - len.min(width)));
        }
    }
    lines
}

fn confirm(frame: &mut Frame, app: &App, target: &DeleteTarget, ok_focused: bool) {
    let (key, mod_revision) = (&target.key, target.mod_revision);
    let t = app.theme;
    let area = centered(frame.area(), 80.min(frame.area().width), 8);
    frame.render_widget(Clear, area);
    let button = |label: &str, focused: bool| {
        if focused {
            Span::styled(format!(" [{label}] "), t.selected())
        } else {
            Span::raw(format!("  {label}  "))
        }
    };
    let text = vec![
        Line::raw(format!("Delete {key}?")),
        Line::styled(
            format!("only if still at mod_revision {mod_revision}; recorded in the audit log"),
            t.dim(),
        ),
        Line::raw(""),
        Line::from(vec![
            button("Cancel", !ok_focused),
            Span::raw("   "),
            button("Delete", ok_focused),
        ])
        .centered(),
        Line::styled("←/→ choose · enter confirm · esc cancel", t.dim()).centered(),
    ];
    frame.render_widget(
        Paragraph::new(text).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.error())
                .title(Line::styled(" Confirm delete ", t.error()).centered()),
        ),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reads_line_says_what_the_live_source_costs() {
        let mut r = ReadCost {
            listed_at: 1200,
            first_load_bytes: 1288490189,
            first_load: std::time::Duration::from_millis(41_300),
            ..ReadCost::default()
        };
        assert_eq!(
            reads_line(&r),
            "watching since rev 1200 · first load 1.2 GiB in 41 s · relists 0"
        );
        r.watch_error = Some("lost".into());
        assert!(reads_line(&r).starts_with("watch down, resuming · "));
    }
}
