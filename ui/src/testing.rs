//! Drives the app as a person would, without a terminal: keys in, the drawn screen out as text
//! (ratatui's `TestBackend`). Used by the rendering tests of this crate and of the core's adapter.

use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::App;
use crate::worker::{Reply, Worker};
use crate::{Backend, Theme, keys, views};

pub struct Driver {
    pub app: App,
    pub replies: Receiver<Reply>,
    term: Terminal<TestBackend>,
    /// How long the workers must be quiet before a screen counts as settled.
    quiet: Duration,
}

impl Driver {
    /// A `width`×`height` screen over `backend`, with its first answers applied.
    pub fn new(
        backend: Arc<dyn Backend>,
        color: bool,
        (width, height): (u16, u16),
        quiet: Duration,
    ) -> Driver {
        let (worker, replies) = Worker::new(backend);
        let mut d = Driver {
            app: App::new(worker, Theme { color }),
            replies,
            term: Terminal::new(TestBackend::new(width, height))
                .expect("a TestBackend terminal cannot fail"),
            quiet,
        };
        d.settle();
        d
    }

    /// Applies answers until the workers have been quiet for a while.
    pub fn settle(&mut self) {
        while let Ok(r) = self.replies.recv_timeout(self.quiet) {
            self.app.apply(r);
        }
    }

    /// Types `keys` (`\n` is Enter, `\x1b` Esc) and returns the settled screen.
    pub fn keys(&mut self, keys: &str) -> String {
        for c in keys.chars() {
            let code = match c {
                '\n' => KeyCode::Enter,
                '\x1b' => KeyCode::Esc,
                c => KeyCode::Char(c),
            };
            keys::handle(&mut self.app, KeyEvent::new(code, KeyModifiers::NONE));
        }
        self.settle();
        self.screen()
    }

    /// Presses one key with modifiers and returns the settled screen.
    pub fn key(&mut self, code: KeyCode, mods: KeyModifiers) -> String {
        keys::handle(&mut self.app, KeyEvent::new(code, mods));
        self.settle();
        self.screen()
    }

    /// The cells of the last drawn screen (colours included).
    pub fn buffer(&self) -> &ratatui::buffer::Buffer {
        self.term.backend().buffer()
    }

    /// Draws and returns the screen, one line of text per row.
    pub fn screen(&mut self) -> String {
        self.term
            .draw(|f| views::draw(f, &mut self.app))
            .expect("drawing into a TestBackend cannot fail");
        let buf = self.term.backend().buffer();
        let mut out = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }
}
