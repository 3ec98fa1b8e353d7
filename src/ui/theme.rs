//! Every style the lab draws with, in one place. Meaning never rests on colour alone: the
//! views pair each colour with a symbol or a word (✓, ✗, ⚠, "error"), so a projector, a
//! colour-blind learner or `NO_COLOR` loses nothing.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    colour: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set (<https://no-color.org>).
    pub fn from_env() -> Self {
        Self {
            colour: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    /// No colour at all: for plain-text output.
    pub fn plain() -> Self {
        Self { colour: false }
    }

    fn fg(&self, colour: Color) -> Style {
        if self.colour {
            Style::new().fg(colour)
        } else {
            Style::new()
        }
    }

    pub fn text(&self) -> Style {
        Style::new()
    }
    pub fn dim(&self) -> Style {
        self.fg(Color::DarkGray)
    }
    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn heading(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn code(&self) -> Style {
        self.fg(Color::LightBlue)
    }
    pub fn key(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn good(&self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }
    pub fn bad(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn warning(&self) -> Style {
        self.fg(Color::Yellow)
    }
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    /// A pane's border: bright where the keyboard is.
    pub fn border(&self, focused: bool) -> Style {
        if focused {
            self.fg(Color::Cyan)
        } else {
            self.dim()
        }
    }
    /// Bold whether or not there is colour: the one line to read first.
    pub fn strong(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
    /// An exclusive-time bar by its share of the runtime: red from half, yellow from a
    /// fifth. The bar's length and the "%" beside it say the same without colour.
    pub fn share(&self, share: f64) -> Style {
        match share {
            s if s >= 0.5 => self.bad(),
            s if s >= 0.2 => self.warning(),
            _ => self.fg(Color::Cyan),
        }
    }
    /// A tenant's rows: one colour per organization, taken in turn. The organization's id
    /// is on every row too, so the colour only helps tell tenants apart at a glance.
    pub fn tenant(&self, organization_id: Option<i64>) -> Style {
        const COLOURS: [Color; 5] = [
            Color::Green,
            Color::Magenta,
            Color::LightBlue,
            Color::Yellow,
            Color::Cyan,
        ];
        match organization_id {
            // Organization 1 takes the first colour; any id, even i64::MIN, picks one.
            Some(id) => {
                self.fg(COLOURS[id.wrapping_sub(1).rem_euclid(COLOURS.len() as i64) as usize])
            }
            None => self.text(),
        }
    }
    pub fn meter(&self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::BOLD)
    }
}
