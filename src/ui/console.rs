//! The SQL console: the editor on top; beneath it what the last statement returned — a
//! table that scrolls both ways, or the server's error with a caret under the spot it
//! points at — and, for an exercise, the verdict. A pinned step takes its place above or
//! beside them first ([`super::pin`]).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::player::StepOutput;
use crate::app::{Action, App};
use crate::data::ServerError;
use crate::data::console::Outcome;
use crate::keymap::{self, Context};
use crate::lesson::text::{Audience, resolve};

use super::page::{Page, PageViewport};
use super::table::{self, Window};
use super::theme::Theme;
use crate::text::{duration, plural};

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: &Theme, pinned: &mut PageViewport) {
    let whole = area.height;
    let area = super::pin::render(app, frame, area, theme, pinned);
    let console = &app.console;
    let run = keymap::key_for(Context::Console, &Action::RunConsole);
    let exercise = app.console_exercise().map(|(step, _)| step);
    // A tall pane gives an exercise's task a box of its own above the editor; a short one
    // names the exercise on the editor and shows the task where the result will come.
    let boxed = exercise.is_some() && area.height >= TASK_BOX_HEIGHT;
    let area = match exercise {
        Some(step) if boxed => task(frame, area, &step.title, step.body.as_deref(), theme),
        _ => area,
    };
    // Beside a task or under a pinned pane, the editor keeps three lines in view.
    let shared = boxed || area.height < whole;
    let editor_height = (area.height / 3).clamp(if shared { 5 } else { 3 }, 12);
    let [editor_area, result_area] =
        Layout::vertical([Constraint::Length(editor_height), Constraint::Min(1)]).areas(area);

    let room = usize::from(editor_area.width.saturating_sub(2));
    let title = match exercise {
        Some(_) if boxed => format!(" Your answer · {run} checks it "),
        Some(step) => crate::text::words_within(
            &format!(" Exercise: {} · {run} checks it ", step.title),
            room,
        ),
        None => format!(" SQL console · {run} runs "),
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
    let mut page = Page::<()>::default();
    if let Some(notice) = &console.notice {
        page.prose(Line::styled(notice.clone(), theme.warning()));
    }
    if let Some(body) = exercise
        .filter(|_| !boxed && console.result.is_none())
        .and_then(|s| s.body.as_deref())
    {
        super::markdown::render_into(&mut page, &resolve(body, Audience::Lab), theme);
        page.blank();
    }
    if console.running.is_some() {
        page.prose(Line::styled(
            "Running… Esc cancels it on the server.",
            theme.warning(),
        ));
    } else if let Some(result) = &console.result {
        if let Some(StepOutput::Graded { verdict, .. }) = graded_output(app) {
            match verdict {
                Ok(v) if v.passed() => page.prose(Line::styled(
                    format!(
                        "✓ Passed: {}. {} goes back to the lesson.",
                        v.held.join("; "),
                        keymap::key_for(Context::Console, &Action::Back)
                    ),
                    theme.good(),
                )),
                Ok(v) => super::player::failing_lines(&mut page, v, theme),
                Err(message) => page.prose(Line::styled(format!("✗ {message}"), theme.bad())),
            }
        }
        match &result.ran {
            Ok(outcome) => {
                let height = usize::from(inner.height).saturating_sub(page.len() + 4);
                window_lines(
                    &mut page,
                    outcome,
                    result.row,
                    result.column,
                    height,
                    inner.width,
                    theme,
                );
            }
            Err(failure) => failure_lines(&mut page, &result.sql, failure, theme),
        }
        if let Some(report) = &result.report {
            page.prose(super::player::measured_line(report, theme));
        }
    } else if let Some(error) = &app.lab_error {
        page.prose_lines(super::lab_error_lines(error, theme));
    } else if !console.ready && console.notice.is_none() {
        // After a lost connection the notice says the next run reconnects: nothing is
        // connecting until then.
        page.prose(Line::styled("Connecting…", theme.dim()));
    }
    let laid = page.lay_out(usize::from(inner.width));
    frame.render_widget(
        Paragraph::new(laid.window(0, usize::from(inner.height), 0)),
        inner,
    );
}

/// Console panes at least this tall give an exercise's task a box of its own.
const TASK_BOX_HEIGHT: u16 = 20;

/// The exercise's task above the editor: its title on the border, its text inside, in at
/// most a third of `area`; returns what is left for the editor and the result.
fn task(frame: &mut Frame, area: Rect, title: &str, body: Option<&str>, theme: &Theme) -> Rect {
    let mut page = Page::<()>::default();
    if let Some(body) = body {
        super::markdown::render_into(&mut page, &resolve(body, Audience::Lab), theme);
    }
    let inner_width = usize::from(area.width.saturating_sub(2));
    let laid = page.lay_out(inner_width);
    let room = usize::from(area.height / 4).saturating_sub(2).max(1);
    let shown = laid.lines.len().min(room);
    let [task_area, rest] = Layout::vertical([
        Constraint::Length(u16::try_from(shown + 2).unwrap_or(u16::MAX)),
        Constraint::Min(1),
    ])
    .areas(area);
    let mut block = Block::bordered()
        .title(Span::styled(
            format!(
                " {} ",
                crate::text::words_within(&format!("Exercise: {title}"), inner_width)
            ),
            theme.title(),
        ))
        .border_style(theme.border(false));
    if laid.lines.len() > shown {
        let back = keymap::key_for(Context::Console, &Action::Back);
        block = block.title_bottom(
            Line::styled(format!(" more in the lesson ({back}) "), theme.warning()).right_aligned(),
        );
    }
    let inner = block.inner(task_area);
    frame.render_widget(block, task_area);
    frame.render_widget(Paragraph::new(laid.window(0, shown, 0)), inner);
    rest
}

fn graded_output(app: &App) -> Option<&StepOutput> {
    let target = app.console.exercise.as_ref()?;
    let player = app.player.as_ref().filter(|p| p.lesson == target.lesson)?;
    player.outputs.get(&target.step)
}

/// The last statement's rows from `row`, `column`, in `height` rows of `width` cells.
fn window_lines(
    page: &mut Page<()>,
    outcome: &Outcome,
    row: usize,
    column: usize,
    height: usize,
    width: u16,
    theme: &Theme,
) {
    let Some(last) = outcome.statements.last() else {
        return page.prose(Line::styled(
            "Nothing was run (an empty statement).",
            theme.dim(),
        ));
    };
    if last.result.columns.is_empty() {
        page.prose(Line::raw(format!(
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
        page.pre_lines(table);
        let mut summary = plural(last.result.rows.len() as u64, "row", "rows");
        if last.truncated {
            summary.push_str(" (more were returned than the console keeps)");
        }
        if let Some(caption) = caption {
            summary.push_str(&format!(" · showing {caption} · PgUp/PgDn, Alt-←/→ scroll"));
        }
        page.prose(Line::styled(summary, theme.dim()));
    }
    if outcome.statements.len() > 1 {
        page.prose(Line::styled(
            format!(
                "{} statements ran; the last one's result is shown.",
                outcome.statements.len()
            ),
            theme.dim(),
        ));
    }
    page.prose(Line::styled(
        format!("took {}", duration(outcome.elapsed)),
        theme.dim(),
    ));
}

/// A result as a lesson shows it: the first `rows` rows.
pub fn outcome_lines<M: Copy + PartialEq>(
    page: &mut Page<M>,
    outcome: &Outcome,
    rows: usize,
    width: usize,
    theme: &Theme,
) {
    let Some(last) = outcome.statements.last() else {
        return;
    };
    if last.result.columns.is_empty() {
        return page.prose(Line::raw(format!(
            "OK · {}",
            plural(last.rows_affected, "row affected", "rows affected")
        )));
    }
    let window = Window {
        first_row: 0,
        first_column: 0,
        height: rows,
        width,
    };
    let (table, _) = table::lines(&last.result, window, theme);
    page.pre_lines(table);
    if last.result.rows.len() > rows {
        page.prose(Line::styled(
            format!("… {} more rows", last.result.rows.len() - rows),
            theme.dim(),
        ));
    }
}

/// The server's error as a learner should see it: SQLSTATE and message, the line it points
/// at with a caret beneath (pre-formatted, so the caret stays under its spot), then detail
/// and hint.
pub fn failure_lines<M: Copy + PartialEq>(
    page: &mut Page<M>,
    sql: &str,
    failure: &ServerError,
    theme: &Theme,
) {
    let code = if failure.sqlstate.is_empty() {
        String::new()
    } else {
        format!(" {}", failure.sqlstate)
    };
    page.prose(Line::from(vec![
        Span::styled(format!("✗ error{code}: "), theme.bad()),
        Span::styled(failure.message.clone(), theme.bad()),
    ]));
    if let Some(caret) = failure.caret_line(sql) {
        page.pre(Line::styled(
            format!("  {}", caret.text.replace('\t', " ")),
            theme.code(),
        ));
        page.pre(Line::styled(
            format!("  {}^", " ".repeat(caret.column)),
            theme.bad(),
        ));
    }
    if let Some(detail) = &failure.detail {
        page.prose(Line::raw(format!("Detail: {detail}")));
    }
    if let Some(hint) = &failure.hint {
        page.prose(Line::styled(format!("Hint: {hint}"), theme.key()));
    }
}
