//! Colours, or none: `NO_COLOR` (any non-empty value, see no-color.org) turns every colour off
//! and leaves only bold and reverse video, so selections stay visible.

use ratatui::style::{Color, Modifier, Style};

#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colours unless `NO_COLOR` is set to something non-empty.
    pub fn from_env() -> Theme {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn header(self) -> Style {
        self.fg(Color::White).add_modifier(Modifier::BOLD)
    }
    pub fn selected(self) -> Style {
        if self.color {
            Style::new().fg(Color::Black).bg(Color::Cyan)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
    pub fn border(self) -> Style {
        self.fg(Color::DarkGray)
    }
    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }
    pub fn key(self) -> Style {
        self.fg(Color::LightBlue)
    }
    pub fn string(self) -> Style {
        self.fg(Color::Green)
    }
    pub fn number(self) -> Style {
        self.fg(Color::Yellow)
    }
    pub fn literal(self) -> Style {
        self.fg(Color::Magenta)
    }
    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }
    pub fn warn(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn error(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn added(self) -> Style {
        self.fg(Color::Green)
    }
    pub fn removed(self) -> Style {
        self.fg(Color::Red)
    }
    pub fn marked(self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::BOLD)
    }
}
