//! Presenting mode's part of [`App::update`]: turning it on and off, the blank screen a
//! clicker asks for, and keeping presenter notes off the projected screen while a notes
//! view (`pglab notes`) shows them.

use crate::keymap::Context;
use crate::layout::Areas;

use super::{Action, App};

/// What `t` says while presenting with a notes view attached: the notes stay off the
/// projected screen, and the status bar says where they are.
pub(super) const NOTES_ELSEWHERE: &str =
    "The presenter notes are in the notes view (pglab notes), off the projected screen.";

impl App {
    /// Where each pane goes now: presenting mode has a geometry of its own.
    pub fn areas(&self) -> Areas {
        crate::layout::areas(self.size.0, self.size.1, self.presenting)
    }

    /// Whether the lesson pane shows the presenter notes: when asked for, unless the screen
    /// is projected and a notes view shows them instead.
    pub fn notes_on_screen(&self) -> bool {
        self.player.as_ref().is_some_and(|p| p.notes)
            && !(self.presenting && self.notes_view_attached)
    }

    pub(super) fn toggle_presenting(&mut self) {
        self.presenting = !self.presenting;
        self.hide_notes_shown_elsewhere();
        let key = |context, action| crate::keymap::key_for(context, &action);
        self.notice = Some(if self.presenting {
            format!(
                "Presenting: {}/{} step, {} blanks; {} ends it.",
                key(Context::Presenting, Action::NextStep),
                key(Context::Presenting, Action::PrevStep),
                key(Context::Presenting, Action::Blank),
                key(Context::Global, Action::TogglePresenting),
            )
        } else {
            "Presenting mode is off.".to_string()
        });
    }

    /// A blank screen comes back on any key, which does nothing else; a resize still
    /// counts, so the screen comes back at the terminal's size.
    pub(super) fn unblank(&mut self, action: Action) {
        match action {
            Action::Resize { width, height } => self.size = (width, height),
            Action::Scroll { .. } => {}
            _ => self.blanked = false,
        }
    }

    /// Presenter notes open on the projected screen close once a notes view shows them.
    pub(super) fn hide_notes_shown_elsewhere(&mut self) {
        if self.presenting
            && self.notes_view_attached
            && let Some(player) = self.player.as_mut()
        {
            player.notes = false;
        }
    }
}
