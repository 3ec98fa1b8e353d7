//! The presenter view (`pglab notes`): which lab it follows and the clock on the top line;
//! the current step's notes, rendered as the lesson pane renders Markdown; then what → and
//! Enter will do on the lab, the next step, and the lesson's and session's time against
//! the plan; the keys at the bottom. Draws [`NotesState`] and nothing else.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::Action;
use crate::app::notes::NotesState;
use crate::data::presenter::{LabScreen, LessonSnapshot, Published};
use crate::keymap::{self, Context};

use super::markdown;
use super::page::Page;
use super::theme::Theme;

/// Draws the presenter view.
pub fn render(state: &NotesState, frame: &mut Frame, theme: &Theme) {
    let panel_lines = panel_lines(state, theme);
    let [header, notes, panel, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(u16::try_from(panel_lines.len()).unwrap_or(u16::MAX)),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(Paragraph::new(header_line(state, theme)), header);
    let clock = state.clock.format(" %H:%M ").to_string();
    frame.render_widget(
        Paragraph::new(Line::styled(clock, theme.strong()).right_aligned()),
        header,
    );
    render_notes(state, frame, notes, theme);
    frame.render_widget(Paragraph::new(panel_lines), panel);
    frame.render_widget(Paragraph::new(footer_line(state, theme)), footer);
    theme.paint(frame.buffer_mut());
}

/// How the presenter presses `action` here.
fn key(action: &Action) -> String {
    keymap::key_for(Context::Notes, action)
}

/// `pglab 4242 · pts/3 · started 17:40 · presenting · 2 labs (o: other)`: the lab followed.
fn header_line(state: &NotesState, theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    match state.following.as_ref().and_then(|f| f.hello.as_ref()) {
        Some(hello) => {
            spans.push(Span::styled(format!(" pglab {}", hello.pid), theme.title()));
            if let Some(terminal) = &hello.terminal {
                spans.push(Span::raw(format!(
                    " · {}",
                    terminal.trim_start_matches("/dev/")
                )));
            }
            let started = chrono::DateTime::parse_from_rfc3339(&hello.started_at).map_or_else(
                |_| hello.started_at.clone(),
                |t| t.format("%H:%M").to_string(),
            );
            spans.push(Span::raw(format!(" · started {started}")));
        }
        None => spans.push(Span::styled(" pglab notes · no lab yet", theme.dim())),
    }
    if state.published().is_some_and(|p| p.snapshot.presenting) {
        spans.push(Span::raw(" · presenting"));
    }
    if state.labs > 1 {
        spans.push(Span::styled(
            format!(
                " · {} labs ({}: other)",
                state.labs,
                key(&Action::FollowOtherLab)
            ),
            theme.warning(),
        ));
    }
    Line::from(spans)
}

fn render_notes(state: &NotesState, frame: &mut Frame, area: Rect, theme: &Theme) {
    let lesson = state.published().and_then(|p| p.snapshot.lesson.as_ref());
    let mut block = Block::bordered().border_style(theme.border(true));
    let mut page: Page<()> = Page::default();
    match (state.following.as_ref(), state.published(), lesson) {
        (None, ..) => {
            page.prose(Line::styled(
                format!(
                    "Waiting for pglab — start it in another terminal (same data dir: {}).",
                    state.data_dir
                ),
                theme.text(),
            ));
            page.blank();
            page.prose(Line::styled(
                "This view follows it as soon as it runs, and again after it restarts.",
                theme.dim(),
            ));
        }
        (Some(_), None, _) => {
            page.prose(Line::styled("Connected; waiting for the lab…", theme.dim()))
        }
        (Some(_), Some(published), None) => page.prose(Line::styled(
            format!(
                "The lab shows the {}. Open a lesson there; its presenter notes appear here.",
                published.snapshot.screen.name()
            ),
            theme.text(),
        )),
        (Some(_), Some(_), Some(lesson)) => {
            block = block
                .title(Span::styled(
                    format!(" {} · {} ", lesson.number, lesson.title),
                    theme.title(),
                ))
                .title_top(
                    Line::styled(
                        format!(" step {} of {} ", lesson.step, lesson.steps),
                        theme.dim(),
                    )
                    .right_aligned(),
                );
            page.prose(Line::styled(
                format!("▸ {}", lesson.step_title),
                theme.heading(),
            ));
            page.blank();
            match &lesson.notes {
                Some(notes) => markdown::render_into(&mut page, notes, theme),
                None => page.prose(Line::styled(
                    "No presenter notes for this step.",
                    theme.dim(),
                )),
            }
        }
    }
    let inner = crate::layout::inner(area);
    let (width, height) = (usize::from(inner.width), usize::from(inner.height));
    let laid = page.lay_out(width);
    if laid.lines.len() > height {
        block = block.title_bottom(Line::styled(
            " … more below (widen the terminal) ",
            theme.dim(),
        ));
    }
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(laid.window(0, height, 0)), inner);
}

/// What the keys do next, the next step, and the time.
fn panel_lines(state: &NotesState, theme: &Theme) -> Vec<Line<'static>> {
    let Some(published) = state.published() else {
        return Vec::new();
    };
    let label = |action: &Action| Span::styled(format!(" {:<6}", key(action)), theme.key());
    let mut lines = Vec::new();
    if let Some(lesson) = &published.snapshot.lesson {
        lines.push(Line::from(vec![
            label(&Action::NextStep),
            Span::raw(lesson.next_key.clone()),
        ]));
        lines.push(enter_line(lesson, label(&Action::Activate), theme));
        if !lesson.next_key.starts_with("next step") {
            let next = lesson.next_title.as_deref().map_or_else(
                || "this is the lesson's last step".to_string(),
                |title| format!("next step: {title}"),
            );
            lines.push(Line::styled(format!("       {next}"), theme.dim()));
        }
    }
    lines.push(time_line(state, published, theme));
    let notice = state.notice.as_ref().or(published.snapshot.notice.as_ref());
    if let Some(notice) = notice {
        lines.push(Line::styled(format!(" {notice}"), theme.warning()));
    }
    lines
}

/// Enter's line: what it does, whether the step runs now, what it measured last.
fn enter_line(lesson: &LessonSnapshot, label: Span<'static>, theme: &Theme) -> Line<'static> {
    let mut spans = vec![label];
    match (&lesson.enter_key, lesson.running) {
        (_, true) => spans.push(Span::styled("● running now on the lab", theme.warning())),
        (Some(does), false) => spans.push(Span::raw(does.clone())),
        (None, false) => spans.push(Span::styled("nothing to run on this step", theme.dim())),
    }
    if let Some(round_trips) = lesson.round_trips {
        spans.push(Span::styled(
            format!(
                " · last run: {}",
                crate::text::plural(round_trips, "round trip", "round trips")
            ),
            theme.dim(),
        ));
    }
    Line::from(spans)
}

/// `lesson 03:12 of 15:00 · session 25:40 · the lab shows the SQL console`.
fn time_line(state: &NotesState, published: &Published, theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    let (lesson_time, session_time) = state.elapsed().unwrap_or_default();
    if let Some(lesson) = &published.snapshot.lesson {
        let planned = Duration::from_secs(u64::from(lesson.minutes) * 60);
        let style = if lesson_time > planned {
            theme.warning()
        } else {
            theme.strong()
        };
        spans.push(Span::raw(" lesson "));
        spans.push(Span::styled(minutes(lesson_time), style));
        spans.push(Span::raw(format!(" of {} · ", minutes(planned))));
    } else {
        spans.push(Span::raw(" "));
    }
    spans.push(Span::raw("session "));
    spans.push(Span::styled(minutes(session_time), theme.strong()));
    if published.snapshot.screen != LabScreen::Lesson {
        spans.push(Span::styled(
            format!(" · the lab shows the {}", published.snapshot.screen.name()),
            theme.dim(),
        ));
    }
    Line::from(spans)
}

/// `03:12`, or `1:03:12` past an hour.
fn minutes(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{hours}:{minutes:02}:{seconds:02}")
    } else {
        format!("{minutes:02}:{seconds:02}")
    }
}

/// The keys that do something now, from the keymap.
fn footer_line(state: &NotesState, theme: &Theme) -> Line<'static> {
    let following = state.following.is_some();
    let offered = |action: &Action| match action {
        Action::NextStep | Action::PrevStep | Action::Activate => following,
        Action::FollowOtherLab => state.labs > 1,
        Action::Quit => true,
        _ => false,
    };
    let mut spans = Vec::new();
    for (key, word) in keymap::footer(Context::Notes, false, offered) {
        spans.push(Span::styled(format!(" {key}"), theme.key()));
        spans.push(Span::styled(format!(" {word} "), theme.dim()));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_minutes_and_seconds() {
        assert_eq!(minutes(Duration::from_secs(192)), "03:12");
        assert_eq!(minutes(Duration::from_secs(3_792)), "1:03:12");
    }
}
