//! The lesson list: one line per lesson with its diagram number, progress marks and planned
//! minutes, and the selected lesson's summary beneath.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::app::App;
use crate::lesson::{Lesson, StepKind};

use super::theme::Theme;

/// Progress as the list shows it: `●` done, `◐` started, `○` not started.
pub fn marks(app: &App, lesson: &Lesson) -> (char, String) {
    let progress = app.progress.lesson(&lesson.id);
    let completion = app.progress.completion(lesson);
    let exercises: Vec<usize> = lesson
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.kind, StepKind::Exercise(_)))
        .map(|(i, _)| i)
        .collect();
    let passed = exercises.iter().filter(|&&i| progress.is_passed(i)).count();
    let mark = if completion.is_complete() {
        '●'
    } else if progress.is_started() {
        '◐'
    } else {
        '○'
    };
    let mut text = format!("steps {}/{}", completion.done, completion.total);
    if !exercises.is_empty() {
        text.push_str(&format!(" · exercises {passed}/{}", exercises.len()));
    }
    (mark, text)
}

/// Which steps of a started lesson are not done yet: `Still to do: step 9 (exercise
/// “…”), step 11 (quiz “…”)`, the first three named.
fn still_to_do(app: &App, lesson: &Lesson) -> Option<String> {
    if !app.progress.lesson(&lesson.id).is_started() {
        return None;
    }
    let unfinished = app.progress.unfinished(lesson);
    if unfinished.is_empty() {
        return Some("Every step done.".into());
    }
    let named: Vec<String> = unfinished
        .iter()
        .take(3)
        .map(|&index| {
            let step = &lesson.steps[index];
            let what = match step.kind {
                StepKind::Exercise(_) => "exercise ",
                StepKind::Quiz(_) => "quiz ",
                _ => "",
            };
            format!("step {} ({what}“{}”)", index + 1, step.title)
        })
        .collect();
    let more = unfinished.len().saturating_sub(named.len());
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    Some(format!("Still to do: {}{more}.", named.join(", ")))
}

/// A dim line naming chapter diagrams that have no lesson yet.
fn unwritten_line(run: &std::ops::RangeInclusive<u8>, theme: &Theme) -> Line<'static> {
    let label = format!("  {:>3}  no lesson yet", crate::lesson::diagram_run(run));
    Line::styled(label, theme.dim())
}

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: &Theme) {
    let block = Block::bordered()
        .title(Span::styled(" Lessons ", theme.title()))
        .border_style(theme.border(!app.log_focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lessons = &app.catalog.lessons;
    // The database's failure, when there is one, needs room: it says what to do.
    let detail_height = if app.lab_error.is_some() {
        inner.height / 2
    } else {
        5
    };
    let [list, detail] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(detail_height)]).areas(inner);
    let mut lines = Vec::new();
    let unwritten = app.catalog.unwritten();
    // The line the selected lesson is drawn on: gap lines push lessons down.
    let mut selected_line = 0;
    for (i, lesson) in lessons.iter().enumerate() {
        // Diagrams without a lesson are named where they would be, dim and not selectable,
        // so the numbers on the left are never a silent jump.
        let previous = i.checked_sub(1).map_or(0, |p| lessons[p].diagram);
        if let Some(run) = unwritten
            .iter()
            .find(|run| *run.start() > previous && *run.end() < lesson.diagram)
        {
            lines.push(unwritten_line(run, theme));
        }
        if i == app.selected {
            selected_line = lines.len();
        }
        let (mark, progress) = marks(app, lesson);
        // Right-aligned, so the planned minutes line up at the edge.
        let text = format!("{progress} · {} min", lesson.minutes);
        let title = format!(" {mark} {:>2}  {}", lesson.diagram, lesson.title);
        let width = usize::from(list.width);
        let pad = width.saturating_sub(title.chars().count() + text.chars().count() + 1);
        let line = Line::from(vec![
            Span::raw(title),
            Span::raw(" ".repeat(pad)),
            Span::styled(text, theme.dim()),
        ]);
        lines.push(if i == app.selected {
            line.style(theme.selected())
        } else {
            line
        });
    }
    // Diagrams after the last lesson have no lesson to come before.
    if let Some(last) = lessons.last() {
        for run in unwritten.iter().filter(|run| *run.start() > last.diagram) {
            lines.push(unwritten_line(run, theme));
        }
    }
    if lessons.is_empty() {
        lines.push(Line::styled("No lessons found.", theme.bad()));
    }
    // Keep the selection on screen.
    let height = usize::from(list.height);
    let first = selected_line.saturating_sub(height.saturating_sub(1));
    let shown: Vec<Line> = lines.into_iter().skip(first).collect();
    frame.render_widget(Paragraph::new(shown), list);

    if let Some(lesson) = lessons.get(app.selected) {
        let mut text = vec![Line::styled(
            "─".repeat(usize::from(detail.width)),
            theme.dim(),
        )];
        match &app.lab_error {
            Some(error) => text.extend(super::lab_error_lines(error, theme)),
            None => {
                text.push(Line::raw(lesson.summary.clone()));
                if let Some(todo) = still_to_do(app, lesson) {
                    text.push(Line::styled(todo, theme.dim()));
                }
            }
        }
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), detail);
    }
}
