//! The terminal: raw mode and the alternate screen on the way in, and always restored on the
//! way out — on return, on error, and on panic (a hook restores before the panic message).

use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event};

use crate::app::App;
use crate::worker::Worker;
use crate::{Backend, Options, keys, views};

/// Waiting for a key never blocks longer than this, so answers and the spinner show promptly.
const TICK: Duration = Duration::from_millis(50);

/// Runs the TUI until the user quits. The terminal is restored whatever happens.
pub fn run(backend: Arc<dyn Backend>, mut options: Options) -> Result<(), String> {
    let started = Instant::now();
    let mut terminal = ratatui::try_init().map_err(|e| {
        ratatui::restore();
        format!("cannot set up the terminal: {e} (is stdout a terminal?)")
    })?;
    let result = event_loop(&mut terminal, backend, &mut options, started);
    ratatui::restore();
    result
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    backend: Arc<dyn Backend>,
    options: &mut Options,
    started: Instant,
) -> Result<(), String> {
    let (worker, replies) = Worker::new(backend);
    let _refresher = options.refresh.map(|every| worker.start_refresher(every));
    let mut app = App::new(worker, options.theme);
    let draw = |terminal: &mut ratatui::DefaultTerminal, app: &mut App| {
        terminal
            .draw(|f| views::draw(f, app))
            .map(|_| ())
            .map_err(|e| format!("cannot draw: {e}"))
    };
    draw(terminal, &mut app)?;
    if let Some(t) = options.timings.as_mut() {
        t("first-frame", started.elapsed());
    }
    if std::env::var_os("REVKEEPER_TUI_TEST_PANIC").is_some() {
        // The end-to-end test checks that a panic leaves the terminal as it found it.
        panic!("REVKEEPER_TUI_TEST_PANIC is set: panicking after the first frame");
    }
    while !app.quit {
        let mut dirty = false;
        if event::poll(TICK).map_err(|e| format!("cannot read the terminal: {e}"))? {
            let key_started = Instant::now();
            let mut keys_seen = 0;
            // Take every pending event before drawing, so a burst of keys costs one frame.
            loop {
                match event::read().map_err(|e| format!("cannot read the terminal: {e}"))? {
                    Event::Key(k) => {
                        keys::handle(&mut app, k);
                        keys_seen += 1;
                    }
                    Event::Resize(..) => {}
                    _ => {}
                }
                dirty = true;
                if app.quit || !event::poll(Duration::ZERO).unwrap_or(false) {
                    break;
                }
            }
            if app.quit {
                break;
            }
            draw(terminal, &mut app)?;
            if keys_seen > 0 {
                if let Some(t) = options.timings.as_mut() {
                    t("key", key_started.elapsed());
                }
            }
        }
        while let Ok(reply) = replies.try_recv() {
            app.apply(reply);
            dirty = true;
        }
        // Redraw on news, and on ticks while something is loading (the spinner).
        let busy = matches!(app.keyspace, crate::app::Loadable::Loading)
            || app.offline.is_some()
            || app.top().list.is_pending();
        if dirty || busy {
            draw(terminal, &mut app)?;
        }
    }
    match app.crashed {
        Some(msg) => Err(format!("internal error in a background task: {msg}")),
        None => Ok(()),
    }
}
