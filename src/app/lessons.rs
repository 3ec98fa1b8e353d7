//! The lesson list's part of [`App::update`]: moving the selection, opening a lesson where
//! the learner stopped, and resetting progress (a key pressed twice, since progress is the
//! learner's work).

use super::player::PlayerState;
use super::{Action, App, Command, Screen};

/// The lesson list's part of [`App::update`].
impl App {
    pub(super) fn update_lessons(&mut self, action: Action) -> Vec<Command> {
        let count = self.catalog.lessons.len();
        let confirmed = self.pending_reset.take() == Some((action.clone(), self.selected));
        match action {
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected = (self.selected + 1).min(count.saturating_sub(1)),
            Action::Open if count > 0 => {
                let mut commands = self.open_lesson(self.selected);
                commands.push(self.save());
                return commands;
            }
            Action::ResetLesson | Action::ResetAll if count > 0 => {
                let all = action == Action::ResetAll;
                let what = if all {
                    "every lesson".to_string()
                } else {
                    format!("“{}”", self.catalog.lessons[self.selected].title)
                };
                // Progress is the learner's work: a reset takes the same key twice in a row.
                if !confirmed {
                    self.pending_reset = Some((action, self.selected));
                    self.notice = Some(format!(
                        "Press the key again to reset the progress of {what}; any other key keeps it."
                    ));
                    return Vec::new();
                }
                let mut commands = Vec::new();
                if all
                    || self
                        .player
                        .as_ref()
                        .is_some_and(|p| p.lesson == self.selected)
                {
                    commands.extend(self.stop_demo());
                    self.pin_keeps_output();
                    self.player = None;
                }
                if all {
                    self.progress.reset_all();
                } else {
                    let id = self.catalog.lessons[self.selected].id.clone();
                    self.progress.reset_lesson(&id);
                }
                self.notice = Some(format!("The progress of {what} is reset."));
                commands.push(self.save());
                return commands;
            }
            _ => {}
        }
        Vec::new()
    }

    /// Opens lesson `index` where the learner stopped (or keeps it open if it already is).
    /// Leaving another lesson stops its demo.
    pub fn open_lesson(&mut self, index: usize) -> Vec<Command> {
        let catalog = self.catalog.clone();
        let Some(lesson) = catalog.lessons.get(index) else {
            return Vec::new();
        };
        let mut commands = Vec::new();
        if self.player.as_ref().is_none_or(|p| p.lesson != index) {
            commands.extend(self.stop_demo());
            let step = self
                .progress
                .lesson(&lesson.id)
                .current_step(lesson.steps.len());
            self.pin_keeps_output();
            self.player = Some(PlayerState::new(index, step));
            self.pin_returns_output();
            self.progress.set_step(&lesson.id, step);
        }
        self.selected = index;
        self.screen = Screen::Player;
        commands
    }
}
