//! The SQL console's state: the editor, the history, what is running, and the last result
//! with its scroll position. An exercise opened from a lesson lives here too, so running
//! the editor's SQL checks it. Also the console's part of [`App::update`].

use ratatui_textarea::TextArea;

use crate::lesson::{Exercise, Step, StepKind};
use crate::query_log::{ScopeId, ScopeReport};

use super::command::RequestId;
use super::event::Ran;
use super::{Action, App, Command, Screen};

/// Statements remembered for Ctrl-P / Ctrl-N.
const HISTORY_KEPT: usize = 200;

/// The exercise whose answer the console is editing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExerciseTarget {
    pub lesson: usize,
    pub step: usize,
}

/// The last statement the console ran and what came back.
#[derive(Debug)]
pub struct ConsoleResult {
    pub sql: String,
    pub ran: Ran,
    /// What the proxy counted while it ran.
    pub report: Option<ScopeReport>,
    /// First row and first column shown.
    pub row: usize,
    pub column: usize,
}

#[derive(Debug)]
pub struct ConsoleState {
    pub editor: TextArea<'static>,
    history: Vec<String>,
    /// Position while walking the history; `None` when editing fresh text.
    history_at: Option<usize>,
    /// Text being edited before the history walk began.
    draft: Option<String>,
    pub running: Option<RequestId>,
    /// The recorder's scope counting the running statement's round trips.
    pub scope: Option<ScopeId>,
    pub result: Option<ConsoleResult>,
    pub exercise: Option<ExerciseTarget>,
    /// The learner's own text, put aside while an exercise has the editor.
    pub own_text: Option<String>,
    /// The statement that is running (the editor may change meanwhile).
    pub running_sql: String,
    /// The console connection is up.
    pub ready: bool,
    /// A message about the console itself (the connection dropped, nothing to run).
    pub notice: Option<String>,
}

impl Default for ConsoleState {
    fn default() -> Self {
        Self {
            editor: editor_with(""),
            history: Vec::new(),
            history_at: None,
            draft: None,
            running: None,
            scope: None,
            result: None,
            exercise: None,
            own_text: None,
            running_sql: String::new(),
            ready: false,
            notice: None,
        }
    }
}

fn editor_with(text: &str) -> TextArea<'static> {
    let mut editor = TextArea::new(text.lines().map(str::to_string).collect());
    if editor.lines().is_empty() {
        editor = TextArea::default();
    }
    editor.set_placeholder_text("Type SQL here, then Ctrl-R (or F5) to run it");
    editor.set_tab_length(4);
    editor
}

impl ConsoleResult {
    /// A fresh result, scrolled to its top-left corner.
    pub fn new(sql: String, ran: Ran, report: Option<ScopeReport>) -> Self {
        Self {
            sql,
            ran,
            report,
            row: 0,
            column: 0,
        }
    }
}

impl ConsoleState {
    pub fn text(&self) -> String {
        self.editor.lines().join("\n")
    }

    /// Replaces the editor's text (the cursor goes to the end).
    pub fn set_text(&mut self, text: &str) {
        self.editor = editor_with(text);
        self.editor
            .move_cursor(ratatui_textarea::CursorMove::Bottom);
        self.editor.move_cursor(ratatui_textarea::CursorMove::End);
    }

    pub fn remember(&mut self, sql: &str) {
        if self.history.last().map(String::as_str) != Some(sql) {
            if self.history.len() == HISTORY_KEPT {
                self.history.remove(0);
            }
            self.history.push(sql.to_string());
        }
        self.history_at = None;
        self.draft = None;
    }

    /// Steps through the history: `older` towards the first statement, else back towards
    /// the text that was being edited.
    pub fn walk_history(&mut self, older: bool) {
        if self.history.is_empty() {
            return;
        }
        let next = match (self.history_at, older) {
            (None, true) => {
                self.draft = Some(self.text());
                Some(self.history.len() - 1)
            }
            (None, false) => return,
            (Some(at), true) => Some(at.saturating_sub(1)),
            (Some(at), false) if at + 1 < self.history.len() => Some(at + 1),
            (Some(_), false) => None,
        };
        self.history_at = next;
        let text = match next {
            Some(at) => self.history[at].clone(),
            None => self.draft.take().unwrap_or_default(),
        };
        self.set_text(&text);
    }

    /// Scrolls the result by rows and columns, within its size.
    pub fn scroll_result(&mut self, rows: isize, columns: isize) {
        let Some(result) = self.result.as_mut() else {
            return;
        };
        let (row_count, column_count) = match &result.ran {
            Ok(outcome) => outcome
                .statements
                .last()
                .map(|s| (s.result.rows.len(), s.result.columns.len()))
                .unwrap_or_default(),
            Err(_) => (0, 0),
        };
        result.row = result
            .row
            .saturating_add_signed(rows)
            .min(row_count.saturating_sub(1));
        result.column = result
            .column
            .saturating_add_signed(columns)
            .min(column_count.saturating_sub(1));
    }
}

/// The console's part of [`App::update`].
impl App {
    pub(super) fn show_console(&mut self) {
        if self.screen != Screen::Console {
            self.console_return = self.screen;
        }
        self.screen = Screen::Console;
        self.log_focused = false;
    }

    pub(super) fn update_console(&mut self, action: Action) -> Vec<Command> {
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
            Action::PinUp => self.scroll_pin(-1, 0),
            Action::PinDown => self.scroll_pin(1, 0),
            Action::PinLeft => self.scroll_pin(0, -1),
            Action::PinRight => self.scroll_pin(0, 1),
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
    use super::*;

    #[test]
    fn history_walks_back_and_returns_to_the_draft() {
        let mut console = ConsoleState::default();
        console.remember("select 1");
        console.remember("select 2");
        console.set_text("select 3 -- unfinished");
        console.walk_history(true);
        assert_eq!(console.text(), "select 2");
        console.walk_history(true);
        console.walk_history(true);
        assert_eq!(console.text(), "select 1");
        console.walk_history(false);
        assert_eq!(console.text(), "select 2");
        console.walk_history(false);
        assert_eq!(console.text(), "select 3 -- unfinished");
    }

    #[test]
    fn the_same_statement_twice_is_remembered_once() {
        let mut console = ConsoleState::default();
        console.remember("select 1");
        console.remember("select 1");
        console.walk_history(true);
        console.walk_history(true);
        assert_eq!(console.text(), "select 1");
    }
}
