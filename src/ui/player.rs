//! The lesson player: the step's prose, its diagram layers, its SQL and what running it
//! measured, exercise hints and verdicts, quiz answers and presenter notes. The lines are
//! built by [`step_lines`], which the plain-text runner uses too.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::app::event::Ran;
use crate::app::player::StepOutput;
use crate::app::{Action, App};
use crate::data::demo::{DemoProgress, DemoReport, MeasuredPlan};
use crate::explain::{diff, text};
use crate::keymap::{self, Context};
use crate::lesson::{Lesson, LessonProgress, StepKind, Verdict};
use crate::query_log::ScopeReport;

use super::console::{failure_lines, outcome_lines};
use super::theme::Theme;
use super::{duration, markdown, plural};

/// Rows of a result shown inside a lesson (the console shows all of them).
const ROWS_IN_LESSON: usize = 12;

/// Everything a step's lines depend on.
pub struct StepView<'a> {
    pub lesson: &'a Lesson,
    pub index: usize,
    /// Diagram layers revealed.
    pub layers: usize,
    pub output: Option<&'a StepOutput>,
    pub progress: &'a LessonProgress,
    pub notes: bool,
    pub running: bool,
    /// Whether to print key hints (the plain-text runner has no keys).
    pub interactive: bool,
}

/// The lesson pane's paragraph for the current step, and its title and counter; the same
/// for drawing and for measuring how far it scrolls.
pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: &Theme) {
    let Some(player) = app.player.as_ref() else {
        return;
    };
    let lesson = &app.catalog.lessons[player.lesson];
    let title = format!(" {} · {} ", lesson.diagram, lesson.title);
    let counter = format!(" step {} of {} ", player.step + 1, lesson.steps.len());
    let block = Block::bordered()
        .title(Span::styled(title, theme.title()))
        .title_top(Line::styled(counter, theme.dim()).right_aligned())
        .border_style(theme.border(!app.log_focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(paragraph) = paragraph(app, inner.width, theme) else {
        return;
    };
    let last = paragraph
        .line_count(inner.width)
        .saturating_sub(usize::from(inner.height));
    let scroll = player.scroll.min(u16::try_from(last).unwrap_or(u16::MAX));
    frame.render_widget(paragraph.scroll((scroll, 0)), inner);
}

/// The current step as a wrapped paragraph `width` cells wide.
fn paragraph(app: &App, width: u16, theme: &Theme) -> Option<Paragraph<'static>> {
    let player = app.player.as_ref()?;
    let lesson = &app.catalog.lessons[player.lesson];
    let view = StepView {
        lesson,
        index: player.step,
        layers: player.layers,
        output: player.outputs.get(&player.step),
        progress: app.progress.lesson(&lesson.id),
        notes: player.notes,
        running: player.waiting.is_some_and(|w| w.step == player.step),
        interactive: true,
    };
    let lines = step_lines(&view, theme, usize::from(width));
    Some(Paragraph::new(lines).wrap(Wrap { trim: false }))
}

/// How far the lesson pane scrolls before its last line reaches the bottom, on a terminal
/// of the app's size: where "show the result" scrolls to.
pub fn scroll_limit(app: &App) -> u16 {
    let area = super::layout(app.size.0, app.size.1, app.screen).main;
    let (width, height) = (area.width.saturating_sub(2), area.height.saturating_sub(2));
    let lines = paragraph(app, width, &Theme::plain()).map_or(0, |p| p.line_count(width));
    u16::try_from(lines.saturating_sub(usize::from(height))).unwrap_or(u16::MAX)
}

/// How the key for `action` is written in the lesson player.
fn key(action: &Action) -> String {
    keymap::key_for(Context::Player, action)
}

/// The lines of one step.
pub fn step_lines(view: &StepView, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let step = &view.lesson.steps[view.index];
    let mut lines = vec![
        Line::styled(format!("▸ {}", step.title), theme.heading()),
        Line::default(),
    ];
    if let Some(body) = &step.body {
        lines.extend(markdown::render(body, theme));
        lines.push(Line::default());
    }
    let hint = |lines: &mut Vec<Line<'static>>, text: &str| {
        if view.interactive {
            lines.push(Line::styled(text.to_string(), theme.dim()));
        }
    };
    match &step.kind {
        StepKind::Read => {}
        StepKind::Diagram { layers } => {
            let shown = view.layers.clamp(1, layers.len());
            for (i, layer) in layers[..shown].iter().enumerate() {
                if i > 0 {
                    lines.push(Line::default());
                }
                lines.extend(
                    layer
                        .lines()
                        .map(|l| Line::styled(l.to_string(), theme.code())),
                );
            }
            if shown < layers.len() {
                lines.push(Line::default());
                hint(
                    &mut lines,
                    &format!(
                        "{} reveals the next part ({shown} of {} shown)",
                        key(&Action::NextStep),
                        layers.len()
                    ),
                );
            }
        }
        StepKind::Run { sql } => {
            lines.extend(sql_lines(sql, theme));
            lines.push(Line::default());
            match view.output {
                _ if view.running => lines.push(Line::styled("Running…", theme.warning())),
                Some(StepOutput::Query { ran, report }) => {
                    lines.extend(ran_lines(sql, ran, report.as_ref(), theme, width))
                }
                _ => hint(&mut lines, &format!("{} runs it.", key(&Action::Activate))),
            }
        }
        StepKind::Demo { name, .. } => match view.output {
            Some(StepOutput::Demo { progress, report }) => {
                lines.extend(demo_lines(progress, report.as_ref(), theme, width));
                if view.running {
                    lines.push(Line::styled(
                        "Running… (the log shows each round trip)",
                        theme.warning(),
                    ));
                }
            }
            _ => hint(
                &mut lines,
                &format!("{} runs the demo ({name}).", key(&Action::Activate)),
            ),
        },
        StepKind::Exercise(exercise) => {
            let passed = view.progress.is_passed(view.index);
            let hints = view
                .progress
                .hints_revealed(view.index)
                .min(exercise.hints.len());
            for (i, text) in exercise.hints.iter().take(hints).enumerate() {
                lines.push(Line::from(vec![
                    Span::styled(format!("Hint {}: ", i + 1), theme.key()),
                    Span::raw(text.clone()),
                ]));
            }
            if let Some(StepOutput::Graded { verdict, report }) = view.output {
                lines.push(Line::default());
                lines.extend(verdict_lines(verdict, report.as_ref(), theme));
            } else if passed {
                lines.push(Line::styled("✓ Passed", theme.good()));
            }
            if passed || view.progress.gave_up(view.index) {
                lines.push(Line::default());
                lines.push(Line::styled(
                    "A reference solution, for comparison:",
                    theme.dim(),
                ));
                lines.extend(sql_lines(&exercise.solution, theme));
            }
            lines.push(Line::default());
            let more = if hints < exercise.hints.len() {
                format!(
                    " · {}: hint {} of {}",
                    key(&Action::RevealHint),
                    hints + 1,
                    exercise.hints.len()
                )
            } else {
                String::new()
            };
            let give_up_hint = format!(" · {}: show the solution", key(&Action::GiveUp));
            let give_up = if passed { "" } else { &give_up_hint };
            hint(
                &mut lines,
                &format!(
                    "{}: write your answer in the console{more}{give_up}",
                    key(&Action::Activate)
                ),
            );
        }
        StepKind::Quiz(quiz) => {
            lines.push(Line::styled(quiz.question.clone(), theme.text()));
            lines.push(Line::default());
            let chosen = view.progress.quiz_answer(view.index);
            for (i, option) in quiz.options.iter().enumerate() {
                let (mark, style) = match chosen {
                    Some(c) if c == i && option.correct => ("✓", theme.good()),
                    Some(c) if c == i => ("✗", theme.bad()),
                    Some(_) if option.correct => ("✓", theme.good()),
                    _ => (" ", theme.text()),
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("{mark} {}) ", i + 1), style),
                    Span::raw(option.text.clone()),
                ]));
            }
            if let Some(option) = chosen.and_then(|c| quiz.options.get(c)) {
                lines.push(Line::default());
                let verdict = if option.correct {
                    "Right. "
                } else {
                    "Not quite. "
                };
                lines.push(Line::from(vec![
                    Span::styled(
                        verdict,
                        if option.correct {
                            theme.good()
                        } else {
                            theme.bad()
                        },
                    ),
                    Span::raw(option.why.clone()),
                ]));
            } else {
                lines.push(Line::default());
                hint(&mut lines, "Press the number of your answer (1, 2, …).");
            }
        }
    }
    if view.notes {
        lines.push(Line::default());
        lines.push(Line::styled("── Presenter notes ──", theme.key()));
        match &step.notes {
            Some(notes) => lines.extend(markdown::render(notes, theme)),
            None => lines.push(Line::styled("(none for this step)", theme.dim())),
        }
    }
    lines
}

fn sql_lines(sql: &str, theme: &Theme) -> Vec<Line<'static>> {
    sql.trim_end()
        .lines()
        .map(|l| {
            Line::from(vec![
                Span::styled("  │ ", theme.dim()),
                Span::styled(l.to_string(), theme.code()),
            ])
        })
        .collect()
}

/// A statement's result with what the proxy counted for it.
pub fn ran_lines(
    sql: &str,
    ran: &Ran,
    report: Option<&ScopeReport>,
    theme: &Theme,
    width: usize,
) -> Vec<Line<'static>> {
    let mut lines = match ran {
        Ok(outcome) => outcome_lines(outcome, ROWS_IN_LESSON, width, theme),
        Err(failure) => failure_lines(sql, failure, theme),
    };
    if let Some(report) = report {
        lines.push(measured_line(report, theme));
        lines.extend(
            report
                .warnings
                .iter()
                .map(|w| Line::styled(format!("⚠ {}", w.message()), theme.warning())),
        );
    }
    lines
}

/// `⇄ 1 round trip · 3 rows · 0.8 ms`, as the proxy measured.
pub fn measured_line(report: &ScopeReport, theme: &Theme) -> Line<'static> {
    let totals = &report.totals;
    Line::from(vec![
        Span::styled(
            format!(
                "⇄ {}",
                plural(totals.round_trips, "round trip", "round trips")
            ),
            theme.meter(),
        ),
        Span::styled(
            format!(
                " · {} · waited {}",
                plural(totals.rows, "row", "rows"),
                duration(totals.waiting)
            ),
            theme.dim(),
        ),
    ])
}

fn demo_lines(
    progress: &[DemoProgress],
    report: Option<&Result<DemoReport, String>>,
    theme: &Theme,
    width: usize,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    match report {
        Some(Ok(report)) => lines.extend(report_lines(report, theme, width)),
        Some(Err(message)) => lines.push(Line::styled(format!("✗ {message}"), theme.bad())),
        None => lines.extend(progress_lines(progress, theme)),
    }
    lines
}

fn verdict_lines(
    verdict: &Result<Verdict, String>,
    report: Option<&ScopeReport>,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    match verdict {
        Ok(verdict) if verdict.passed() => lines.push(Line::styled(
            format!("✓ Passed: {}.", verdict.held.join("; ")),
            theme.good(),
        )),
        Ok(verdict) => {
            lines.push(Line::styled("✗ Not yet:", theme.bad()));
            lines.extend(
                verdict
                    .findings
                    .iter()
                    .map(|f| Line::raw(format!("  • {f}"))),
            );
        }
        Err(message) => lines.push(Line::styled(format!("✗ {message}"), theme.bad())),
    }
    if let Some(report) = report {
        lines.push(measured_line(report, theme));
    }
    lines
}

/// A finished demo: what its program printed, its table, what the proxy counted, and the
/// warnings the lab raised.
pub fn report_lines(report: &DemoReport, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let mut lines: Vec<Line> = plan_lines(&report.plans, width)
        .into_iter()
        .map(Line::raw)
        .collect();
    if !lines.is_empty() && !report.lines.is_empty() {
        lines.push(Line::default());
    }
    lines.extend(report.lines.iter().map(|l| Line::raw(l.clone())));
    if let Some(table) = &report.table {
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        let (table, _) =
            super::table::lines(table, super::table::Window::all(table.rows.len()), theme);
        lines.extend(table);
    }
    lines.push(Line::default());
    let kinds: Vec<String> = report
        .by_kind
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| format!("{n} {}", kind.label()))
        .collect();
    lines.push(Line::from(vec![
        Span::styled(
            format!(
                "⇄ {}",
                plural(report.round_trips, "round trip", "round trips")
            ),
            theme.meter(),
        ),
        Span::styled(
            format!(
                " ({}) · {} · {}",
                kinds.join(", "),
                plural(report.statements, "statement", "statements"),
                duration(report.wall)
            ),
            theme.dim(),
        ),
    ]));
    lines.extend(
        report
            .warnings
            .iter()
            .map(|w| Line::styled(format!("⚠ {w}"), theme.warning())),
    );
    lines
}

/// A demo's measured plans at `width`: one as its tree, two as the diff from the first to
/// the second, with both trees.
fn plan_lines(plans: &[MeasuredPlan], width: usize) -> Vec<String> {
    match plans {
        [] => Vec::new(),
        [one] => text::render(&one.plan, width),
        [before, after, ..] => {
            let labels = format!("before = {} · after = {}", before.label, after.label);
            let mut lines = crate::wrap::wrap(&labels, width, "  ");
            let diff = diff::compare(&before.plan, &after.plan);
            lines.extend(text::diff_lines(&diff, &before.plan, &after.plan, width));
            lines
        }
    }
}

/// A running demo's news so far; table rows gather under their columns.
fn progress_lines(progress: &[DemoProgress], theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut table = crate::data::ResultSet::default();
    for news in progress {
        match news {
            DemoProgress::Message(message) => {
                lines.push(Line::styled(message.clone(), theme.dim()))
            }
            DemoProgress::TableColumns(columns) => table.columns = columns.clone(),
            DemoProgress::TableRow(row) => table.rows.push(row.clone()),
        }
    }
    if !table.columns.is_empty() {
        let (rows, _) =
            super::table::lines(&table, super::table::Window::all(table.rows.len()), theme);
        lines.extend(rows);
    }
    lines
}
