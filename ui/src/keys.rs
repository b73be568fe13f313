//! What each key does, per input mode. Every binding is listed in [`HELP`], which `?` shows.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::app::{App, Mode, Screen};
use crate::backend::DeleteTarget;
use crate::worker::Request;
use crate::{actions, views};

/// Every key, as `?` lists it (a key of `""` continues the line above).
pub const HELP: &[(&str, &str)] = &[
    ("j / ↓, k / ↑", "move down / up"),
    ("g / Home, G / End", "first / last row"),
    ("ctrl-f / PgDn", "page down"),
    ("ctrl-b / PgUp", "page up"),
    ("enter", "open the selected row"),
    ("esc", "clear the filter, else go back"),
    (
        "/",
        "filter on any column as you type; enter keeps the filter",
    ),
    (
        ":",
        "command: :pods [ns] (any resource, alias or plural.group)",
    ),
    ("", ":keyspace :leases :stale :snapshots :overview :q"),
    ("s, S", "sort by the next column, reverse the order"),
    ("w", "object lists: -o wide's columns and etcd's facts"),
    ("y, J", "show the object as YAML, as JSON"),
    ("h", "revisions of the object the source keeps"),
    (
        "space",
        "mark a revision or snapshot (two marks: diff them)",
    ),
    (
        "d",
        "diff the marked revisions (h) or snapshots (:snapshots);",
    ),
    ("", "a single snapshot against the open source"),
    ("v", "verify the selected snapshot"),
    ("r", "reload this screen"),
    (
        "ctrl-d",
        "delete the object (asks first; Cancel is the default)",
    ),
    ("?", "this help"),
    ("q, ctrl-c", "quit"),
];

pub fn handle(app: &mut App, key: KeyEvent) {
    if key.kind == KeyEventKind::Release {
        return;
    }
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        app.quit = true;
        return;
    }
    match app.mode.clone() {
        Mode::Help => app.mode = Mode::Normal,
        Mode::Filter => filter_key(app, key),
        Mode::Command(text) => command_key(app, key, text),
        Mode::Confirm { target, ok_focused } => confirm_key(app, key, target, ok_focused),
        Mode::Normal => normal_key(app, key),
    }
}

fn filter_key(app: &mut App, key: KeyEvent) {
    let list = &mut app.top_mut().list;
    match key.code {
        KeyCode::Esc => {
            list.set_filter(String::new());
            app.mode = Mode::Normal;
        }
        KeyCode::Enter => app.mode = Mode::Normal,
        KeyCode::Backspace => {
            let mut f = list.filter.clone();
            f.pop();
            list.set_filter(f);
        }
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            list.set_filter(String::new())
        }
        KeyCode::Char(c) => {
            let f = format!("{}{c}", list.filter);
            list.set_filter(f);
        }
        _ => {}
    }
}

fn command_key(app: &mut App, key: KeyEvent, mut text: String) {
    match key.code {
        KeyCode::Esc => app.mode = Mode::Normal,
        KeyCode::Enter => {
            app.mode = Mode::Normal;
            run_command(app, text.trim());
        }
        KeyCode::Backspace => {
            if text.pop().is_none() {
                app.mode = Mode::Normal;
            } else {
                app.mode = Mode::Command(text);
            }
        }
        KeyCode::Char(c) => {
            text.push(c);
            app.mode = Mode::Command(text);
        }
        _ => {}
    }
}

/// `:name [namespace]`.
pub fn run_command(app: &mut App, cmd: &str) {
    let mut words = cmd.split_whitespace();
    let Some(name) = words.next() else { return };
    let arg = words.next().map(str::to_string);
    let screen = match name {
        "q" | "q!" | "quit" | "exit" => {
            app.quit = true;
            return;
        }
        "overview" | "ov" | "home" => Screen::Overview,
        "keyspace" | "ks" | "resources" | "res" => Screen::Resources,
        "leases" | "lease" | "etcdleases" => Screen::Leases,
        "stale" | "findings" => Screen::Stale,
        "snapshots" | "snapshot" | "snap" | "ss" => Screen::Snapshots { marked: None },
        "help" => {
            app.mode = Mode::Help;
            return;
        }
        other => {
            let resource = app
                .worker()
                .resolve(other)
                .or_else(|| app.resource(other).map(|r| r.resource.clone()));
            match resource {
                Some(resource) => Screen::Objects {
                    resource,
                    namespace: arg.filter(|a| a != "all" && a != "-A"),
                },
                None => {
                    app.error(format!(
                        "unknown command or resource {other:?} (? lists the keys)"
                    ));
                    return;
                }
            }
        }
    };
    app.status = None;
    app.jump(screen);
}

fn confirm_key(app: &mut App, key: KeyEvent, target: DeleteTarget, ok_focused: bool) {
    match key.code {
        KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('q') => {
            app.mode = Mode::Normal;
            app.info("delete cancelled");
        }
        KeyCode::Left
        | KeyCode::Right
        | KeyCode::Tab
        | KeyCode::BackTab
        | KeyCode::Char('h')
        | KeyCode::Char('l') => {
            app.mode = Mode::Confirm {
                target,
                ok_focused: !ok_focused,
            }
        }
        KeyCode::Enter => {
            app.mode = Mode::Normal;
            if ok_focused {
                app.info(format!("deleting {}…", target.key));
                app.worker().send(Request::Delete(target));
            } else {
                app.info("delete cancelled");
            }
        }
        _ => {}
    }
}

fn normal_key(app: &mut App, key: KeyEvent) {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    views::refresh_top(app);
    let page = views::page_height(app) as isize;
    match key.code {
        KeyCode::Char('d') if ctrl => ask_delete(app),
        KeyCode::Char('f') if ctrl => app.top_mut().list.move_by(page),
        KeyCode::Char('b') if ctrl => app.top_mut().list.move_by(-page),
        KeyCode::PageDown => app.top_mut().list.move_by(page),
        KeyCode::PageUp => app.top_mut().list.move_by(-page),
        KeyCode::Char('j') | KeyCode::Down => app.top_mut().list.move_by(1),
        KeyCode::Char('k') | KeyCode::Up => app.top_mut().list.move_by(-1),
        KeyCode::Char('g') | KeyCode::Home => app.top_mut().list.top(),
        KeyCode::Char('G') | KeyCode::End => app.top_mut().list.bottom(),
        KeyCode::Char('q') => app.quit = true,
        KeyCode::Char('?') => app.mode = Mode::Help,
        KeyCode::Char('/') if views::is_list(&app.top().screen) => app.mode = Mode::Filter,
        KeyCode::Char(':') => app.mode = Mode::Command(String::new()),
        KeyCode::Esc => {
            if app.top().list.filter.is_empty() {
                app.pop();
            } else {
                app.top_mut().list.set_filter(String::new());
            }
            app.status = None;
        }
        KeyCode::Char('r') => app.reload(),
        KeyCode::Char('s') => {
            let l = &mut app.top_mut().list;
            l.sort = Some(l.sort.map_or(0, |s| s + 1));
            views::refresh_top(app);
            if app.top().list.sort.is_some() && !views::sort_valid(app) {
                app.top_mut().list.sort = None;
            }
        }
        KeyCode::Char('S') => {
            let l = &mut app.top_mut().list;
            l.reverse = !l.reverse;
        }
        KeyCode::Char('w') => toggle_wide(app),
        KeyCode::Enter => actions::open(app),
        KeyCode::Char('y') => actions::show_object(app, false),
        KeyCode::Char('J') => actions::show_object(app, true),
        KeyCode::Char('h') => actions::open_history(app),
        KeyCode::Char(' ') => actions::toggle_mark(app),
        KeyCode::Char('d') => actions::diff(app),
        KeyCode::Char('v') => actions::verify(app),
        _ => {}
    }
}

fn ask_delete(app: &mut App) {
    let Some(target) = actions::selected_object(app) else {
        app.error("ctrl-d deletes an object: select one first");
        return;
    };
    if let Some(why) = app.worker().write_blocked() {
        app.error(format!("delete is disabled: {why}"));
        return;
    }
    app.mode = Mode::Confirm {
        target,
        ok_focused: false,
    };
}

/// `w`: object lists with `-o wide`'s columns and etcd's facts, or without. Their columns
/// change, so their sort starts over.
fn toggle_wide(app: &mut App) {
    app.wide = !app.wide;
    app.generation += 1;
    for e in &mut app.stack {
        if matches!(e.screen, Screen::Objects { .. }) {
            e.list.sort = None;
        }
    }
    app.info(if app.wide {
        "wide: -o wide's columns and how etcd stores each object (w: back)"
    } else {
        "kubectl's columns (w: wide)"
    });
}
