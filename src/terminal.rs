//! The terminal, borrowed and given back: raw mode, the alternate screen, mouse capture and
//! bracketed paste on the way in; all of it undone on the way out — also when pglab panics
//! (ratatui's hook restores before the panic is printed) or is interrupted.

use std::io;

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use ratatui::crossterm::execute;

/// The terminal in lab mode; dropping it restores the terminal.
pub struct Session {
    pub terminal: DefaultTerminal,
}

impl Session {
    pub fn enter() -> io::Result<Self> {
        let terminal = ratatui::try_init()?;
        // ratatui's hook leaves raw mode and the alternate screen; mouse capture and
        // bracketed paste must go too, or a panic leaves a terminal that prints escapes.
        let restore_screen = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = execute!(io::stdout(), DisableMouseCapture, DisableBracketedPaste);
            restore_screen(info);
        }));
        let session = Self { terminal };
        // Mouse and paste are niceties: a terminal without them still works.
        let _ = execute!(io::stdout(), EnableMouseCapture, EnableBracketedPaste);
        Ok(session)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = execute!(io::stdout(), DisableMouseCapture, DisableBracketedPaste);
        ratatui::restore();
    }
}
