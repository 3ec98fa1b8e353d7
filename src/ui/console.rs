//! The SQL console: the editor on top; beneath it what the last statement returned — a
//! table that scrolls both ways, or the server's error with a caret under the spot it
//! points at — and, for an exercise, the verdict.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::app::player::StepOutput;
use crate::app::{Action, App};
use crate::data::ServerError;
use crate::data::console::Outcome;
use crate::keymap::{self, Context};

use super::table::{self, Window};
use super::theme::Theme;
use super::{duration, plural};

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: &Theme) {
    let console = &app.console;
    let editor_height = (area.height / 3).clamp(3, 12);
    let [editor_area, result_area] =
        Layout::vertical([Constraint::Length(editor_height), Constraint::Min(1)]).areas(area);

    let title = match exercise_title(app) {
        Some(title) => format!(" Exercise: {title} · Ctrl-R checks your answer "),
        None => " SQL console · Ctrl-R runs ".to_string(),
    };
    let focused = !app.log_focused;
    let editor_block = Block::bordered()
        .title(Span::styled(title, theme.title()))
        .border_style(theme.border(focused));
    let editor_inner = editor_block.inner(editor_area);
    frame.render_widget(editor_block, editor_area);
    frame.render_widget(&console.editor, editor_inner);

    let block = Block::bordered()
        .title(" Result ")
        .border_style(theme.border(false));
    let inner = block.inner(result_area);
    frame.render_widget(block, result_area);
    let mut lines = Vec::new();
    if let Some(notice) = &console.notice {
        lines.push(Line::styled(notice.clone(), theme.warning()));
    }
    if console.running.is_some() {
        lines.push(Line::styled(
            "Running… Esc cancels it on the server.",
            theme.warning(),
        ));
    } else if let Some(result) = &console.result {
        if let Some(StepOutput::Graded { verdict, .. }) = graded_output(app) {
            match verdict {
                Ok(v) if v.passed() => lines.push(Line::styled(
                    format!(
                        "✓ Passed: {}. {} goes back to the lesson.",
                        v.held.join("; "),
                        keymap::key_for(Context::Console, &Action::Back)
                    ),
                    theme.good(),
                )),
                Ok(v) => {
                    lines.push(Line::styled("✗ Not yet:", theme.bad()));
                    lines.extend(v.findings.iter().map(|f| Line::raw(format!("  • {f}"))));
                }
                Err(message) => lines.push(Line::styled(format!("✗ {message}"), theme.bad())),
            }
        }
        match &result.ran {
            Ok(outcome) => {
                let height = usize::from(inner.height).saturating_sub(lines.len() + 4);
                lines.extend(window_lines(
                    outcome,
                    result.row,
                    result.column,
                    height,
                    inner.width,
                    theme,
                ));
            }
            Err(failure) => lines.extend(failure_lines(&result.sql, failure, theme)),
        }
        if let Some(report) = &result.report {
            lines.push(super::player::measured_line(report, theme));
        }
    } else if let Some(error) = &app.lab_error {
        lines.extend(super::lab_error_lines(error, theme));
    } else if !console.ready {
        lines.push(Line::styled("Connecting…", theme.dim()));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn exercise_title(app: &App) -> Option<String> {
    app.console_exercise().map(|(step, _)| step.title.clone())
}

fn graded_output(app: &App) -> Option<&StepOutput> {
    let target = app.console.exercise.as_ref()?;
    let player = app.player.as_ref().filter(|p| p.lesson == target.lesson)?;
    player.outputs.get(&target.step)
}

/// The last statement's rows from `row`, `column`, in `height` rows of `width` cells.
fn window_lines(
    outcome: &Outcome,
    row: usize,
    column: usize,
    height: usize,
    width: u16,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let Some(last) = outcome.statements.last() else {
        return vec![Line::styled(
            "Nothing was run (an empty statement).",
            theme.dim(),
        )];
    };
    let mut lines = Vec::new();
    if last.result.columns.is_empty() {
        lines.push(Line::raw(format!(
            "OK · {}",
            plural(last.rows_affected, "row affected", "rows affected")
        )));
    } else {
        let window = Window {
            first_row: row,
            first_column: column,
            height: height.max(1),
            width: usize::from(width),
        };
        let (table, caption) = table::lines(&last.result, window, theme);
        lines.extend(table);
        let mut summary = plural(last.result.rows.len() as u64, "row", "rows");
        if last.truncated {
            summary.push_str(" (more were returned than the console keeps)");
        }
        if let Some(caption) = caption {
            summary.push_str(&format!(" · showing {caption} · PgUp/PgDn, Alt-←/→ scroll"));
        }
        lines.push(Line::styled(summary, theme.dim()));
    }
    if outcome.statements.len() > 1 {
        lines.push(Line::styled(
            format!(
                "{} statements ran; the last one's result is shown.",
                outcome.statements.len()
            ),
            theme.dim(),
        ));
    }
    lines.push(Line::styled(
        format!("took {}", duration(outcome.elapsed)),
        theme.dim(),
    ));
    lines
}

/// A result as a lesson shows it: the first `rows` rows.
pub fn outcome_lines(
    outcome: &Outcome,
    rows: usize,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let Some(last) = outcome.statements.last() else {
        return Vec::new();
    };
    if last.result.columns.is_empty() {
        return vec![Line::raw(format!(
            "OK · {}",
            plural(last.rows_affected, "row affected", "rows affected")
        ))];
    }
    let window = Window {
        first_row: 0,
        first_column: 0,
        height: rows,
        width,
    };
    let (mut lines, _) = table::lines(&last.result, window, theme);
    if last.result.rows.len() > rows {
        lines.push(Line::styled(
            format!("… {} more rows", last.result.rows.len() - rows),
            theme.dim(),
        ));
    }
    lines
}

/// The server's error as a learner should see it: SQLSTATE and message, the line it points
/// at with a caret beneath, then detail and hint.
pub fn failure_lines(sql: &str, failure: &ServerError, theme: &Theme) -> Vec<Line<'static>> {
    let code = if failure.sqlstate.is_empty() {
        String::new()
    } else {
        format!(" {}", failure.sqlstate)
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("✗ error{code}: "), theme.bad()),
        Span::styled(failure.message.clone(), theme.bad()),
    ])];
    if let Some(caret) = failure.caret_line(sql) {
        lines.push(Line::styled(
            format!("  {}", caret.text.replace('\t', " ")),
            theme.code(),
        ));
        lines.push(Line::styled(
            format!("  {}^", " ".repeat(caret.column)),
            theme.bad(),
        ));
    }
    if let Some(detail) = &failure.detail {
        lines.push(Line::raw(format!("Detail: {detail}")));
    }
    if let Some(hint) = &failure.hint {
        lines.push(Line::styled(format!("Hint: {hint}"), theme.key()));
    }
    lines
}
