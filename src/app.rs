//! The lab's state and the only code that changes it. [`App::update`] takes what the user
//! asked for ([`Action`]), [`App::apply`] takes what happened outside ([`Event`]); both are
//! pure — no I/O, no clocks beyond the recorder's — and return the [`Command`]s the runtime
//! must carry out. Views read the state and draw it.

pub mod action;
mod apply;
pub mod command;
pub mod console;
pub mod event;
pub mod log_view;
pub mod player;
pub mod timeline;

use std::sync::Arc;
use std::time::Duration;

pub use action::Action;
pub use command::{Command, RequestId};
pub use event::Event;

use crate::keymap::Context;
use crate::lesson::{Catalog, Exercise, Progress, Step, StepKind};
use crate::query_log::DEFAULT_CAPACITY;
use crate::scroll::{Jump, Scroll};
use console::ConsoleState;
use log_view::LogView;
use player::PlayerState;
use timeline::AuditState;

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
}

/// The plan screen's state: what was explained, the node the detail panel shows, and the
/// plan explained before it (for the diff view). The view keeps the selected node on
/// screen; the diff view scrolls by intents.
#[derive(Debug)]
pub struct PlanState {
    pub sql: String,
    pub explained: Box<event::Explained>,
    /// Index of the selected node in `explained.plan.nodes`.
    pub selected: usize,
    /// Pages moved through the tree, so a page down past the last node shows what follows it.
    pub tree_scroll: Scroll<()>,
    /// The statement explained before this one; kept so that a change (an index, a
    /// rewrite) can be compared with what came before it.
    pub previous: Option<Box<PreviousPlan>>,
    /// The diff view (previous vs this plan) is showing instead of the tree.
    pub diff: bool,
    pub diff_scroll: Scroll<()>,
}

/// A plan that was replaced on the plan screen by a newer one.
#[derive(Debug)]
pub struct PreviousPlan {
    pub sql: String,
    pub explained: Box<event::Explained>,
}

impl PlanState {
    /// A fresh plan screen for `explained`, remembering the plan it replaces.
    pub fn new(sql: String, explained: Box<event::Explained>, replaced: Option<PlanState>) -> Self {
        Self {
            sql,
            explained,
            selected: 0,
            tree_scroll: Scroll::default(),
            previous: replaced.map(|old| {
                Box::new(PreviousPlan {
                    sql: old.sql,
                    explained: old.explained,
                })
            }),
            diff: false,
            diff_scroll: Scroll::default(),
        }
    }

    /// Moves the selection by `delta` nodes.
    fn select(&mut self, delta: isize) {
        let last = self.explained.plan.nodes.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }
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
    pub console: ConsoleState,
    pub plan: Option<PlanState>,
    pub audit: AuditState,
    /// Where Esc on the audit timeline returns to.
    audit_return: Screen,
    pub log: LogView,
    /// Index into [`LATENCY_STEPS_MS`].
    pub latency: usize,
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
            console: ConsoleState::default(),
            plan: None,
            audit: AuditState::default(),
            audit_return: Screen::Lessons,
            log: LogView::new(DEFAULT_CAPACITY),
            latency: 0,
            database,
            size: (80, 24),
            notice: None,
            lab_error: None,
            pending_reset: None,
            next_request: 1,
            quitting: false,
        }
    }

    /// Where the keyboard points now.
    pub fn context(&self) -> Context {
        if self.help {
            return Context::Help;
        }
        if self.log_focused {
            return Context::Log;
        }
        match self.screen {
            Screen::Lessons => Context::LessonList,
            Screen::Player => Context::Player,
            Screen::Console => Context::Console,
            Screen::Plan => Context::Plan,
            Screen::Audit if self.audit.prompt.is_some() => Context::AuditFilter,
            Screen::Audit => Context::Audit,
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
            Action::CycleLatency => {
                self.latency = (self.latency + 1) % LATENCY_STEPS_MS.len();
                return vec![Command::SetLatency(self.latency())];
            }
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

    fn show_console(&mut self) {
        if self.screen != Screen::Console {
            self.console_return = self.screen;
        }
        self.screen = Screen::Console;
        self.log_focused = false;
    }

    fn update_log(&mut self, action: Action) {
        let page = self.log_page();
        match action {
            Action::Up => self.log.scroll(1),
            Action::Down => self.log.scroll(-1),
            Action::PageUp => self.log.scroll(page),
            Action::PageDown => self.log.scroll(-page),
            Action::End => self.log.offset = 0,
            Action::Activate if self.log.opened.is_some() => self.log.opened = None,
            Action::Activate => {
                self.log.opened = self.log.marked();
                if self.log.opened.is_none() {
                    self.notice = Some("No round trip to open yet.".into());
                }
            }
            _ => {}
        }
    }

    fn log_page(&self) -> isize {
        let area = crate::layout::areas(self.size.0, self.size.1);
        area.log.height.saturating_sub(2).max(1) as isize
    }

    fn scroll_at(&mut self, column: u16, row: u16, lines: i16) {
        let area = crate::layout::areas(self.size.0, self.size.1);
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
            }
        }
    }

    fn update_lessons(&mut self, action: Action) -> Vec<Command> {
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
            self.player = Some(PlayerState::new(index, step));
            self.progress.set_step(&lesson.id, step);
        }
        self.selected = index;
        self.screen = Screen::Player;
        commands
    }

    fn update_console(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::Back => {
                if self.console.running.is_some() {
                    self.console.notice = Some("Cancelling…".into());
                    return vec![Command::Cancel];
                }
                self.screen = self.console_return;
            }
            Action::RunConsole => return self.run_console(false),
            Action::Explain => return self.run_console(true),
            Action::HistoryPrev => self.console.walk_history(true),
            Action::HistoryNext => self.console.walk_history(false),
            Action::PageUp => self.console.scroll_result(-10, 0),
            Action::PageDown => self.console.scroll_result(10, 0),
            Action::Left => self.console.scroll_result(0, -1),
            Action::Right => self.console.scroll_result(0, 1),
            Action::Edit(key) => {
                self.console.editor.input(key);
            }
            Action::Paste(text) => {
                self.console
                    .editor
                    .insert_str(text.replace("\r\n", "\n").replace('\r', "\n"));
            }
            _ => {}
        }
        Vec::new()
    }

    /// The exercise the console is answering, if any: its step and its content.
    pub fn console_exercise(&self) -> Option<(&Step, &Exercise)> {
        let target = self.console.exercise.as_ref()?;
        let step = self
            .catalog
            .lessons
            .get(target.lesson)?
            .steps
            .get(target.step)?;
        match &step.kind {
            StepKind::Exercise(exercise) => Some((step, exercise)),
            _ => None,
        }
    }

    fn update_plan(&mut self, action: Action) {
        // A page of nodes is the tree pane's height, less a line of context.
        let page = crate::layout::plan_tree_height(self.size)
            .saturating_sub(1)
            .max(1) as isize;
        let Some(plan) = self.plan.as_mut() else {
            self.screen = Screen::Console;
            return;
        };
        match action {
            Action::Up if plan.diff => plan.diff_scroll.lines(-1),
            Action::Down if plan.diff => plan.diff_scroll.lines(1),
            Action::PageUp if plan.diff => plan.diff_scroll.pages(-1),
            Action::PageDown if plan.diff => plan.diff_scroll.pages(1),
            Action::Up => plan.select(-1),
            Action::Down => plan.select(1),
            Action::PageUp => {
                plan.select(-page);
                plan.tree_scroll.pages(-1);
            }
            Action::PageDown => {
                plan.select(page);
                plan.tree_scroll.pages(1);
            }
            Action::ToggleDiff if plan.previous.is_none() => {
                let explain = crate::keymap::key_for(Context::Console, &Action::Explain);
                self.notice = Some(format!(
                    "Nothing to compare yet: explain another statement first ({explain})."
                ));
            }
            Action::ToggleDiff => {
                plan.diff = !plan.diff;
                plan.diff_scroll.jump(Jump::Top);
            }
            Action::Back => {
                plan.diff = false;
                self.screen = Screen::Console;
            }
            _ => {}
        }
    }

    /// False for an action that has nothing to act on right now, so the footer does not
    /// advertise it.
    pub fn offers(&self, action: &Action) -> bool {
        match action {
            Action::ToggleDiff => self.plan.as_ref().is_some_and(|p| p.previous.is_some()),
            _ if self.context() == Context::Player => self.player_offers(action),
            _ => true,
        }
    }

    /// Runs the editor's statement: as is, checked as an exercise answer, or explained.
    fn run_console(&mut self, explain: bool) -> Vec<Command> {
        let sql = self.console.text();
        if sql.trim().is_empty() {
            self.console.notice = Some("Nothing to run: type a statement first.".into());
            return Vec::new();
        }
        if self.console_busy() {
            self.console.notice = Some(if self.console.running.is_some() {
                "A statement is still running (Esc cancels it).".into()
            } else {
                "The lesson's statement is still running on this connection; try again when it ends."
                    .into()
            });
            return Vec::new();
        }
        self.console.remember(&sql);
        self.console.running_sql = sql.clone();
        self.console.notice = None;
        let id = self.request_id();
        let scope = self.log.log.open_scope("console", self.log.console_session);
        self.console.running = Some(id);
        self.console.scope = Some(scope);
        if explain {
            return vec![Command::Explain { id, sql }];
        }
        match self.console_exercise().map(|(_, exercise)| exercise) {
            Some(exercise) => vec![Command::CheckExercise {
                id,
                sql,
                solution: exercise.solution.clone(),
                check: Box::new(exercise.check.clone()),
            }],
            None => vec![Command::Execute { id, sql }],
        }
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
