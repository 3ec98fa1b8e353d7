//! The lab's state and the only code that changes it. [`App::update`] takes what the user
//! asked for ([`Action`]), [`App::apply`] takes what happened outside ([`Event`]); both are
//! pure — no I/O, no clocks beyond the recorder's — and return the [`Command`]s the runtime
//! must carry out. Views read the state and draw it.

pub mod acting;
pub mod action;
mod apply;
pub mod audit;
pub mod command;
pub mod console;
pub mod event;
pub mod headline;
pub mod lessons;
pub mod log;
pub mod notes;
pub mod pin;
pub mod plan;
pub mod player;
pub mod presenter;
mod presenting;
pub mod schema;
pub mod tables;

use std::sync::Arc;
use std::time::Duration;

pub use action::Action;
pub use command::{Command, RequestId};
pub use event::Event;

use crate::keymap::Context;
use crate::lesson::{Catalog, Progress};
use crate::query_log::DEFAULT_CAPACITY;
use crate::scroll::{Jump, Scroll};
use acting::ActingState;
use audit::AuditState;
use console::ConsoleState;
use log::LogView;
use pin::Pin;
use plan::PlanState;
use player::PlayerState;
use schema::SchemaState;
use tables::TablesState;

/// The latency knob's settings, in order: a local server up to a distant one.
pub const LATENCY_STEPS_MS: [u64; 6] = [0, 1, 5, 20, 50, 100];

/// Which screen fills the main area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Lessons,
    Player,
    Console,
    /// The plan of the console's last explained statement.
    Plan,
    /// The audit timeline: who changed which row, newest first.
    Audit,
    /// The schema map: the database's structure, read from the live catalog.
    Schema,
    /// The live tables view: chosen tables' rows, by tenant, with their foreign keys.
    Tables,
}

#[derive(Debug)]
pub struct App {
    pub catalog: Arc<Catalog>,
    pub progress: Progress,
    pub screen: Screen,
    /// Where Esc in the console returns to.
    console_return: Screen,
    pub log_focused: bool,
    pub help: bool,
    /// Where the help overlay is scrolled.
    pub help_scroll: Scroll<()>,
    /// The lesson list's selection.
    pub selected: usize,
    pub player: Option<PlayerState>,
    /// The step left up beside the SQL console's editor.
    pub pin: Option<Pin>,
    pub console: ConsoleState,
    pub plan: Option<PlanState>,
    pub audit: AuditState,
    /// Where Esc on the audit timeline returns to.
    audit_return: Screen,
    pub schema: SchemaState,
    /// Where Esc on the schema map returns to.
    schema_return: Screen,
    pub tables: TablesState,
    /// Where Esc on the tables view returns to.
    tables_return: Screen,
    pub log: LogView,
    /// Index into [`LATENCY_STEPS_MS`].
    pub latency: usize,
    /// The users the lab can act as, and the one it acts as.
    pub acting: ActingState,
    /// Where the lab's data lives, for the status bar (password-free).
    pub database: String,
    /// The terminal's size, for mouse hit-testing.
    pub size: (u16, u16),
    /// A reset waiting for its key to be pressed a second time.
    pending_reset: Option<(Action, usize)>,
    /// Why the database could not be opened: shown until pglab is restarted.
    pub lab_error: Option<String>,
    /// One line for the status bar: the last thing worth telling that has no other place.
    pub notice: Option<String>,
    /// Presenting mode (`--present`): the screen is projected, so presenter notes stay off it.
    pub presenting: bool,
    /// A presenter view (`pglab notes`) follows this lab: the notes are shown there.
    pub notes_view_attached: bool,
    /// The projected screen is blank (a clicker's `b`) until the next key.
    pub blanked: bool,
    next_request: u64,
    pub quitting: bool,
}

impl App {
    pub fn new(catalog: Arc<Catalog>, progress: Progress, database: String) -> Self {
        Self {
            catalog,
            progress,
            screen: Screen::Lessons,
            console_return: Screen::Lessons,
            log_focused: false,
            help: false,
            help_scroll: Scroll::default(),
            selected: 0,
            player: None,
            pin: None,
            console: ConsoleState::default(),
            plan: None,
            audit: AuditState::default(),
            audit_return: Screen::Lessons,
            schema: SchemaState::default(),
            schema_return: Screen::Lessons,
            tables: TablesState::default(),
            tables_return: Screen::Lessons,
            log: LogView::new(DEFAULT_CAPACITY),
            latency: 0,
            acting: ActingState::default(),
            database,
            size: (80, 24),
            notice: None,
            presenting: false,
            notes_view_attached: false,
            blanked: false,
            lab_error: None,
            pending_reset: None,
            next_request: 1,
            quitting: false,
        }
    }

    /// Where the keyboard points now.
    pub fn context(&self) -> Context {
        if self.blanked {
            return Context::Blank;
        }
        if self.help {
            return Context::Help;
        }
        if self.log_focused {
            return Context::Log;
        }
        match self.screen {
            Screen::Lessons => Context::LessonList,
            Screen::Player if self.presenting => Context::Presenting,
            Screen::Player => Context::Player,
            Screen::Console => Context::Console,
            Screen::Plan => Context::Plan,
            Screen::Audit if self.audit.prompt.is_some() => Context::AuditFilter,
            Screen::Audit => Context::Audit,
            Screen::Schema => Context::Schema,
            Screen::Tables => Context::Tables,
        }
    }

    /// The console's editor, or the audit filter's prompt, takes letters as text.
    pub fn is_typing(&self) -> bool {
        matches!(self.context(), Context::Console | Context::AuditFilter)
    }

    pub fn latency(&self) -> Duration {
        Duration::from_millis(LATENCY_STEPS_MS[self.latency])
    }

    fn request_id(&mut self) -> RequestId {
        let id = RequestId(self.next_request);
        self.next_request += 1;
        id
    }

    /// The console connection is taken: by a console statement, or by a run step's SQL
    /// (demos have connections of their own).
    fn console_busy(&self) -> bool {
        self.console.running.is_some()
            || self
                .player
                .as_ref()
                .and_then(|p| p.waiting)
                .is_some_and(|w| !w.demo)
    }

    pub(crate) fn save(&self) -> Command {
        Command::SaveProgress(Box::new(self.progress.clone()))
    }

    /// Carries out what the user asked for.
    pub fn update(&mut self, action: Action) -> Vec<Command> {
        if self.blanked {
            self.unblank(action);
            return Vec::new();
        }
        if !matches!(action, Action::Resize { .. } | Action::Scroll { .. }) {
            // A notice answers the key before; the next key moves on from it.
            self.notice = None;
            if !matches!(action, Action::ResetLesson | Action::ResetAll) {
                self.pending_reset = None;
            }
        }
        if self.help {
            match action {
                Action::ToggleHelp | Action::Back => self.help = false,
                Action::Up => self.help_scroll.lines(-1),
                Action::Down => self.help_scroll.lines(1),
                Action::PageUp => self.help_scroll.pages(-1),
                Action::PageDown => self.help_scroll.pages(1),
                Action::Quit => return self.quit(),
                Action::Resize { width, height } => self.size = (width, height),
                _ => {}
            }
            return Vec::new();
        }
        match action {
            // In the console, as in psql, Ctrl-C (or q) first stops the running statement.
            Action::Quit if self.screen == Screen::Console && self.console.running.is_some() => {
                return self.update_console(Action::Back);
            }
            Action::Quit => return self.quit(),
            Action::ToggleHelp => {
                self.help = true;
                self.help_scroll.jump(Jump::Top);
            }
            Action::ShowLessons => {
                self.screen = Screen::Lessons;
                self.log_focused = false;
                return self.stop_demo().into_iter().collect();
            }
            Action::ShowConsole => {
                // F3 is the free console: an exercise opened from a lesson lets go of it,
                // and the learner's own text comes back.
                if self.console.exercise.take().is_some() {
                    let own = self.console.own_text.take().unwrap_or_default();
                    self.console.set_text(&own);
                    self.console.result = None;
                }
                self.show_console();
            }
            Action::ShowAudit => return self.show_audit(),
            Action::ShowSchema => return self.show_schema(),
            Action::ShowTables => return self.show_tables(&[]),
            Action::CycleLatency => {
                self.latency = (self.latency + 1) % LATENCY_STEPS_MS.len();
                return vec![Command::SetLatency(self.latency())];
            }
            Action::CycleUser => self.cycle_user(),
            Action::TogglePresenting => self.toggle_presenting(),
            Action::Blank => self.blanked = true,
            // With a round trip open, Esc closes it before it leaves the log.
            Action::ToggleLogFocus if self.log.opened.is_some() => self.log.opened = None,
            Action::ToggleLogFocus => self.log_focused = !self.log_focused,
            Action::Resize { width, height } => self.size = (width, height),
            Action::Scroll { column, row, lines } => self.scroll_at(column, row, lines),
            Action::ClearLog => self.log.clear(),
            _ if self.log_focused => self.update_log(action),
            _ => {
                return match self.screen {
                    Screen::Lessons => self.update_lessons(action),
                    Screen::Player => self.update_player(action),
                    Screen::Console => self.update_console(action),
                    Screen::Plan => {
                        self.update_plan(action);
                        Vec::new()
                    }
                    Screen::Audit => self.update_audit(action),
                    Screen::Schema => self.update_schema(action),
                    Screen::Tables => self.update_tables(action),
                };
            }
        }
        Vec::new()
    }

    fn quit(&mut self) -> Vec<Command> {
        self.quitting = true;
        let mut commands = Vec::new();
        if self.console.running.is_some() {
            commands.push(Command::Cancel);
        }
        commands.push(self.save());
        commands.push(Command::Quit);
        commands
    }

    fn scroll_at(&mut self, column: u16, row: u16, lines: i16) {
        let area = self.areas();
        let at = ratatui::layout::Position::new(column, row);
        if area.log.contains(at) {
            self.log.scroll(-isize::from(lines));
        } else if area.main.contains(at) {
            match self.screen {
                Screen::Lessons => {
                    let last = self.catalog.lessons.len().saturating_sub(1);
                    self.selected = self.selected.saturating_add_signed(lines.into()).min(last);
                }
                Screen::Player => {
                    if let Some(player) = self.player.as_mut() {
                        player.scroll.lines(lines.into());
                    }
                }
                Screen::Console => self.console.scroll_result(lines.into(), 0),
                Screen::Plan => match self.plan.as_mut() {
                    Some(plan) if plan.diff => plan.diff_scroll.lines(lines.into()),
                    Some(plan) => plan.select(lines.into()),
                    None => {}
                },
                Screen::Audit => self.scroll_audit(lines),
                Screen::Schema => self.schema.scroll.lines(lines.into()),
                Screen::Tables => self.tables.scroll.lines(lines.into()),
            }
        }
    }

    /// False for an action that has nothing to act on right now, so the footer does not
    /// advertise it.
    pub fn offers(&self, action: &Action) -> bool {
        match action {
            Action::ToggleDiff => self.plan.as_ref().is_some_and(|p| p.previous.is_some()),
            _ if matches!(self.context(), Context::Player | Context::Presenting) => {
                self.player_offers(action)
            }
            _ => true,
        }
    }
}

#[cfg(test)]
impl App {
    /// An app with no lessons and no progress: the screens' unit tests start from it.
    pub(crate) fn without_lessons() -> Self {
        let catalog = std::sync::Arc::new(crate::lesson::Catalog {
            source: crate::lesson::Source::Embedded(&[]),
            lessons: Vec::new(),
        });
        App::new(catalog, crate::lesson::Progress::default(), "test".into())
    }
}

#[cfg(test)]
mod tests {
    /// State never depends on drawing: nothing in `app` reaches into the views. (Geometry
    /// both share lives in `layout`, scroll intents in `scroll`.)
    #[test]
    fn the_model_imports_nothing_of_the_views() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![root.join("app.rs")];
        for entry in std::fs::read_dir(root.join("app")).expect("src/app is readable") {
            files.push(entry.expect("a directory entry").path());
        }
        // Spelled in pieces so that this test does not find itself.
        let needles = [concat!("crate", "::ui"), concat!("super", "::ui")];
        for file in files {
            let source = std::fs::read_to_string(&file).expect("a source file");
            for (n, line) in source.lines().enumerate() {
                assert!(
                    !needles.iter().any(|needle| line.contains(needle)),
                    "{}:{}: the model uses a view: {line}",
                    file.display(),
                    n + 1
                );
            }
        }
    }
}
