//! The lesson player: the step's prose, its diagram layers, its SQL and what running it
//! measured, exercise hints and verdicts, quiz answers and presenter notes. The lines are
//! built by [`step_page`], which the plain-text runner uses too; the pane keeps its own
//! viewport ([`PageViewport`]) and resolves the player's scroll intents against it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::event::Ran;
use crate::app::player::{Focus, StepOutput};
use crate::app::{Action, App};
use crate::data::demo::{DemoProgress, DemoReport, MeasuredPlan};
use crate::data::warning::{Raised, WarningRule};
use crate::explain::{diff, text};
use crate::keymap::{self, Context};
use crate::lesson::text::{Audience, resolve};
use crate::lesson::{Lesson, LessonProgress, StepKind, Verdict};
use crate::query_log::{ScopeReport, Warning};

use super::console::{failure_lines, outcome_lines};
use super::markdown;
use super::page::{Cut, Page, PageViewport};
use super::theme::Theme;
use crate::text::{duration, plural};

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
    /// The screen is projected (presenting mode): notes shown on it say why they are.
    pub presenting: bool,
    pub running: bool,
    /// The lab, with keys: key hints are printed and lesson text names keys. The plain-text
    /// runner has no keys: its lesson text is the plain-text form.
    pub interactive: bool,
}

/// The lesson pane: the current step laid out for the pane's width, scrolled where the
/// player's intents say, with markers on the border for what is cut off.
pub fn render(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    viewport: &mut PageViewport,
) {
    let Some(player) = app.player.as_ref() else {
        return;
    };
    let lesson = &app.catalog.lessons[player.lesson];
    let inner = crate::layout::inner(area);
    let view = StepView {
        lesson,
        index: player.step,
        layers: player.layers,
        output: player.outputs.get(&player.step),
        progress: app.progress.lesson(&lesson.id),
        notes: app.notes_on_screen(),
        presenting: app.presenting,
        running: player.waiting.is_some_and(|w| w.step == player.step),
        interactive: true,
    };
    // Presenting, a finished step's headline number takes a band at the pane's foot.
    let headline = view
        .output
        .filter(|_| app.presenting && !view.running)
        .and_then(crate::app::headline::of)
        .and_then(|headline| {
            let chars = u16::try_from(headline.value.chars().count()).unwrap_or(u16::MAX);
            crate::layout::headline(inner, chars).map(|split| (headline, split))
        });
    let inner = match &headline {
        Some((headline, (step, band, scale))) => {
            super::headline::render(headline, frame, *band, *scale, theme);
            *step
        }
        None => inner,
    };
    let (width, height) = (usize::from(inner.width), usize::from(inner.height));
    let laid = step_page(&view, theme, width).lay_out(width);
    let offset = viewport
        .lines
        .resolve(&player.scroll, laid.lines.len(), height, |focus| {
            laid.find(focus)
        });
    let column = viewport
        .columns
        .resolve(&player.sideways, laid.widest, width, |()| None);
    let title = format!(" {} · {} ", lesson.diagram, lesson.title);
    let counter = format!(" step {} of {} ", player.step + 1, lesson.steps.len());
    let cut = Cut::of(&laid, offset, column, width, height);
    let block = Block::bordered()
        .title(Span::styled(title, theme.title()))
        .title_top(Line::styled(counter, theme.dim()).right_aligned())
        .title_bottom(cut.line(Context::Player, theme))
        .border_style(theme.border(!app.log_focused));
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(laid.window(offset, height, column)), inner);
}

/// How the key for `action` is written in the lesson player.
fn key(action: &Action) -> String {
    keymap::key_for(Context::Player, action)
}

/// The lines of one step: prose, and pre-formatted diagrams, SQL and results, with the
/// parts a scroll intent can point at marked.
pub fn step_page(view: &StepView, theme: &Theme, width: usize) -> Page<Focus> {
    let step = &view.lesson.steps[view.index];
    let audience = if view.interactive {
        Audience::Lab
    } else {
        Audience::Plain
    };
    let text = |text: &str| resolve(text, audience);
    let mut page = Page::default();
    page.marked(Focus::Body, |page| {
        page.prose(Line::styled(format!("▸ {}", step.title), theme.heading()));
        page.blank();
        if let Some(body) = &step.body {
            markdown::render_into(page, &text(body), theme);
            page.blank();
        }
    });
    let hint = |page: &mut Page<Focus>, text: &str| {
        if view.interactive {
            page.prose(Line::styled(text.to_string(), theme.dim()));
        }
    };
    match &step.kind {
        StepKind::Read => {}
        StepKind::Diagram { layers } => {
            let shown = view.layers.clamp(1, layers.len());
            for (i, layer) in layers[..shown].iter().enumerate() {
                page.marked(Focus::Layer(i), |page| {
                    if i > 0 {
                        page.blank();
                    }
                    page.pre_lines(
                        layer
                            .lines()
                            .map(|l| Line::styled(l.to_string(), theme.code())),
                    );
                    if i + 1 == shown && shown < layers.len() {
                        page.blank();
                        hint(
                            page,
                            &format!(
                                "{} reveals the next part ({shown} of {} shown)",
                                key(&Action::NextStep),
                                layers.len()
                            ),
                        );
                    }
                });
            }
        }
        StepKind::Run { sql } => {
            page.pre_lines(sql_lines(sql, theme));
            page.blank();
            page.marked(Focus::Output, |page| match view.output {
                _ if view.running => page.prose(Line::styled("Running…", theme.warning())),
                Some(StepOutput::Query { ran, report }) => {
                    let about = step.warnings.as_deref();
                    ran_lines(page, sql, ran, report.as_ref(), about, theme, width)
                }
                _ => hint(page, &format!("{} runs it.", key(&Action::Activate))),
            });
        }
        StepKind::Demo { .. } => page.marked(Focus::Output, |page| match view.output {
            Some(StepOutput::Demo { progress, report }) => {
                let about = step.warnings.as_deref();
                demo_lines(page, progress, report.as_ref(), about, theme, width);
                if view.running {
                    page.prose(Line::styled(
                        format!(
                            "Running… the log shows each round trip; {} stops it.",
                            key(&Action::Back)
                        ),
                        theme.warning(),
                    ));
                }
            }
            _ => hint(page, &format!("{} runs the demo.", key(&Action::Activate))),
        }),
        StepKind::Exercise(exercise) => {
            let passed = view.progress.is_passed(view.index);
            let hints = view
                .progress
                .hints_revealed(view.index)
                .min(exercise.hints.len());
            for (i, hint) in exercise.hints.iter().take(hints).enumerate() {
                page.prose(Line::from(vec![
                    Span::styled(format!("Hint {}: ", i + 1), theme.key()),
                    Span::raw(text(hint)),
                ]));
            }
            page.marked(Focus::Output, |page| {
                if let Some(StepOutput::Graded { verdict, report }) = view.output {
                    page.blank();
                    verdict_lines(page, verdict, report.as_ref(), theme);
                } else if passed {
                    page.prose(Line::styled("✓ Passed", theme.good()));
                }
            });
            if passed || view.progress.gave_up(view.index) {
                page.blank();
                page.prose(Line::styled(
                    "A reference solution, for comparison:",
                    theme.dim(),
                ));
                page.pre_lines(sql_lines(&exercise.solution, theme));
            }
            page.blank();
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
                &mut page,
                &format!(
                    "{}: write your answer in the console{more}{give_up}",
                    key(&Action::Activate)
                ),
            );
        }
        StepKind::Quiz(quiz) => {
            page.prose(Line::styled(text(&quiz.question), theme.text()));
            page.blank();
            let chosen = view.progress.quiz_answer(view.index);
            for (i, option) in quiz.options.iter().enumerate() {
                // Only the chosen option is marked: a wrong press does not give the right
                // one away.
                let (mark, style) = match chosen {
                    Some(c) if c == i && option.correct => ("✓", theme.good()),
                    Some(c) if c == i => ("✗", theme.bad()),
                    _ => (" ", theme.text()),
                };
                page.prose(Line::from(vec![
                    Span::styled(format!("{mark} {}) ", i + 1), style),
                    Span::raw(text(&option.text)),
                ]));
            }
            page.blank();
            page.marked(Focus::Output, |page| {
                if let Some(option) = chosen.and_then(|c| quiz.options.get(c)) {
                    let (verdict, style) = if option.correct {
                        ("Right. ", theme.good())
                    } else {
                        ("Not quite. ", theme.bad())
                    };
                    page.prose(Line::from(vec![
                        Span::styled(verdict, style),
                        Span::raw(text(&option.why)),
                    ]));
                    if !option.correct {
                        hint(page, "Try another: press its number.");
                    }
                } else {
                    hint(page, "Press the number of your answer (1, 2, …).");
                }
            });
        }
    }
    if view.notes {
        page.marked(Focus::Notes, |page| {
            page.blank();
            page.prose(Line::styled("── Presenter notes ──", theme.key()));
            if view.presenting {
                page.prose(Line::styled(
                    "Shown here because no notes view is attached (pglab notes shows them \
                     in another terminal, off the projected screen).",
                    theme.dim(),
                ));
            }
            match &step.notes {
                // Presenter notes are for the lab alone.
                Some(notes) => markdown::render_into(page, &resolve(notes, Audience::Lab), theme),
                None => page.prose(Line::styled("(none for this step)", theme.dim())),
            }
        });
    }
    page
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

/// A statement's result with what the proxy counted for it; `about` is the warning rules
/// the step is about (the others fold into one line).
pub fn ran_lines<M: Copy + PartialEq>(
    page: &mut Page<M>,
    sql: &str,
    ran: &Ran,
    report: Option<&ScopeReport>,
    about: Option<&[WarningRule]>,
    theme: &Theme,
    width: usize,
) {
    match ran {
        Ok(outcome) => outcome_lines(page, outcome, ROWS_IN_LESSON, width, theme),
        Err(failure) => failure_lines(page, sql, failure, theme),
    }
    if let Some(report) = report {
        page.prose(measured_line(report, theme));
        let raised: Vec<Raised> = report.warnings.iter().map(Warning::raised).collect();
        warning_lines(page, &raised, about, theme);
    }
}

/// The warnings a step is about in full, each with ⚠; the others in one dim line (the query
/// log keeps them whole).
fn warning_lines<M: Copy + PartialEq>(
    page: &mut Page<M>,
    warnings: &[Raised],
    about: Option<&[WarningRule]>,
    theme: &Theme,
) {
    let (shown, folded) = crate::data::warning::split(warnings, about);
    page.prose_lines(
        shown
            .iter()
            .map(|w| Line::styled(format!("⚠ {w}"), theme.warning())),
    );
    if let Some(folded) = folded {
        page.prose(Line::styled(format!("+ {folded}"), theme.dim()));
    }
}

/// `⇄ 1 round trip · 3 rows · 0.8 ms`, as the proxy measured; when the connection had to be
/// opened again on the way, says so, since the count then includes its setup.
pub fn measured_line(report: &ScopeReport, theme: &Theme) -> Line<'static> {
    let totals = &report.totals;
    let mut line = Line::from(vec![
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
    ]);
    if report.reconnected {
        line.push_span(Span::styled(
            " · on a new connection (the old one was gone), its setup included",
            theme.dim(),
        ));
    }
    line
}

/// A demo's output: its report, or what it measured before it failed or while it runs.
pub fn demo_lines<M: Copy + PartialEq>(
    page: &mut Page<M>,
    progress: &[DemoProgress],
    report: Option<&Result<DemoReport, String>>,
    about: Option<&[WarningRule]>,
    theme: &Theme,
    width: usize,
) {
    match report {
        Some(Ok(report)) => report_lines(page, report, about, theme, width),
        // A demo that failed or was stopped keeps what it measured before it ended.
        Some(Err(message)) => {
            progress_lines(page, progress, theme);
            page.prose(Line::styled(format!("✗ {message}"), theme.bad()));
        }
        None => progress_lines(page, progress, theme),
    }
}

fn verdict_lines(
    page: &mut Page<Focus>,
    verdict: &Result<Verdict, String>,
    report: Option<&ScopeReport>,
    theme: &Theme,
) {
    match verdict {
        Ok(verdict) if verdict.passed() => page.prose(Line::styled(
            format!("✓ Passed: {}.", verdict.held.join("; ")),
            theme.good(),
        )),
        Ok(verdict) => failing_lines(page, verdict, theme),
        Err(message) => page.prose(Line::styled(format!("✗ {message}"), theme.bad())),
    }
    if let Some(report) = report {
        page.prose(measured_line(report, theme));
    }
}

/// A failing verdict: why, when a diagnosis explains it, then what the judge found.
pub fn failing_lines<M: Copy + PartialEq>(page: &mut Page<M>, verdict: &Verdict, theme: &Theme) {
    match &verdict.why {
        Some(why) => page.prose(Line::from(vec![
            Span::styled("✗ Not yet. ", theme.bad()),
            Span::styled(why.text.clone(), theme.text()),
        ])),
        None => page.prose(Line::styled("✗ Not yet:", theme.bad())),
    }
    if verdict.why.is_some() {
        page.prose(Line::styled("What the check found:", theme.dim()));
    }
    page.prose_lines(
        verdict
            .findings
            .iter()
            .map(|f| Line::raw(format!("  • {f}"))),
    );
}

/// A finished demo: what its program printed, its table, what the proxy counted, and the
/// warnings the lab raised (those the step is about, `about`, in full).
pub fn report_lines<M: Copy + PartialEq>(
    page: &mut Page<M>,
    report: &DemoReport,
    about: Option<&[WarningRule]>,
    theme: &Theme,
    width: usize,
) {
    let plans = plan_lines(&report.plans, width);
    let mut gap = !plans.is_empty();
    page.pre_lines(plans.into_iter().map(Line::raw));
    if !report.lines.is_empty() {
        if gap {
            page.blank();
        }
        gap = true;
        for line in &report.lines {
            if is_aligned(line) {
                page.pre(Line::raw(line.clone()));
            } else {
                page.prose(Line::raw(line.clone()));
            }
        }
    }
    if let Some(table) = &report.table {
        if gap {
            page.blank();
        }
        let (table, _) =
            super::table::lines(table, super::table::Window::all(table.rows.len()), theme);
        page.pre_lines(table);
    }
    page.blank();
    let kinds: Vec<String> = report
        .by_kind
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| format!("{n} {}", kind.label()))
        .collect();
    page.prose(Line::from(vec![
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
    warning_lines(page, &report.warnings, about, theme);
}

/// Whether a line a demo printed is laid out in columns (spaces that align it after its
/// indentation, or box drawing) and must keep its shape; other lines are sentences and wrap.
fn is_aligned(line: &str) -> bool {
    line.trim_start().contains("  ") || line.contains(['│', '─', '┌', '└', '┐', '┘', '├', '┼'])
}

/// A demo's measured plans at `width`: one as its tree, two as the diff from the first to
/// the second, with both trees.
fn plan_lines(plans: &[MeasuredPlan], width: usize) -> Vec<String> {
    match plans {
        [] => Vec::new(),
        [one] => text::render(&one.plan, width),
        [before, after, ..] => {
            let labels = format!("before = {} · after = {}", before.label, after.label);
            let mut lines = crate::text::wrap(&labels, width, "  ");
            let diff = diff::compare(&before.plan, &after.plan);
            lines.extend(text::diff_lines(&diff, &before.plan, &after.plan, width));
            lines
        }
    }
}

/// A running demo's news so far; table rows gather under their columns.
fn progress_lines<M: Copy + PartialEq>(
    page: &mut Page<M>,
    progress: &[DemoProgress],
    theme: &Theme,
) {
    let mut table = crate::data::ResultSet::default();
    for news in progress {
        match news {
            DemoProgress::Message(message) => {
                page.prose(Line::styled(message.clone(), theme.dim()))
            }
            DemoProgress::TableColumns(columns) => table.columns = columns.clone(),
            DemoProgress::TableRow(row) => table.rows.push(row.clone()),
        }
    }
    if !table.columns.is_empty() {
        let (rows, _) =
            super::table::lines(&table, super::table::Window::all(table.rows.len()), theme);
        page.pre_lines(rows);
    }
}

#[cfg(test)]
mod tests {
    use super::is_aligned;

    #[test]
    fn sentences_wrap_and_columns_keep_their_shape() {
        assert!(!is_aligned(
            "each strategy ran once before the measurements, so it was warm"
        ));
        assert!(!is_aligned("  fix: create index on posts (author_id)"));
        assert!(is_aligned("  during it:  user 2 (bob)"));
        assert!(is_aligned("users            owned by pglab_learner"));
        assert!(is_aligned("└ true: for this transaction only"));
    }
}
