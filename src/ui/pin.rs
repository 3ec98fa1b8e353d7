//! The pinned pane inside the SQL console's area: the pinned step's diagram or measured
//! output (`app::pin`), as live as the lesson has it, titled with its lesson and step.
//! Where the console area is wide enough for it and an editor, it stands beside them; else
//! above them, at most half the area tall; in a short area it shrinks to one line that
//! names what is pinned. Pre-formatted lines are never wrapped: the pane scrolls down and
//! sideways, its border naming the keys.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use unicode_width::UnicodeWidthStr;

use crate::app::pin::Pinned;
use crate::app::player::StepOutput;
use crate::app::{Action, App};
use crate::keymap::{Context, key_for};
use crate::lesson::{Step, StepKind};

use super::page::{Cut, Page, PageViewport};
use super::theme::Theme;

/// Console areas at least this tall show the pinned pane; shorter ones a line naming it.
const PANE_FROM_HEIGHT: u16 = 20;
/// Rows a pinned pane above the editor leaves the editor and the result, at least.
const CONSOLE_BELOW: u16 = 14;
/// The least width an editor keeps beside a pinned pane.
const EDITOR_BESIDE: u16 = 50;
/// The least width inside a pinned pane beside the editor, for its sentences.
const PANE_BESIDE_MIN: u16 = 56;

/// Draws the pin, if there is one, in `area`; returns what is left for the console.
pub fn render(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    viewport: &mut PageViewport,
) -> Rect {
    let (Some(pin), Some(pinned)) = (app.pin.as_ref(), app.pinned()) else {
        return area;
    };
    let Some(lesson) = app.catalog.lessons.get(pin.lesson) else {
        return area;
    };
    let Some(step) = lesson.steps.get(pin.step) else {
        return area;
    };
    let what = format!(
        "lesson {}, step {}: {}",
        lesson.diagram,
        pin.step + 1,
        step.title
    );
    let unpin = format!(
        "{} in the lesson unpins",
        key_for(Context::Player, &Action::TogglePin)
    );
    if area.height < PANE_FROM_HEIGHT {
        let [line, rest] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
        // The window's height is why the pane is not there: said when there is room.
        let room = usize::from(line.width);
        let taller = format!("Pinned: {what} · {unpin} · a taller window shows it");
        let text = if taller.width() <= room {
            taller
        } else {
            let key = format!(" · {unpin}");
            let named = format!("Pinned: {what}");
            crate::text::words_within(&named, room.saturating_sub(key.width())) + &key
        };
        frame.render_widget(Paragraph::new(Line::styled(text, theme.title())), line);
        return rest;
    }
    let page = page(
        step,
        &pinned,
        theme,
        usize::from(area.width.saturating_sub(2)),
    );
    let laid = page.lay_out(usize::from(area.width.saturating_sub(2)));
    let beside = u16::try_from(laid.widest)
        .unwrap_or(u16::MAX)
        .max(PANE_BESIDE_MIN)
        .saturating_add(2);
    let (pane, rest) = if area.width >= beside.saturating_add(EDITOR_BESIDE) {
        let [rest, pane] =
            Layout::horizontal([Constraint::Min(EDITOR_BESIDE), Constraint::Length(beside)])
                .areas(area);
        (pane, rest)
    } else {
        let tall = u16::try_from(laid.lines.len() + 2).unwrap_or(u16::MAX);
        let [pane, rest] = Layout::vertical([
            Constraint::Length(
                tall.min(area.height / 2)
                    .min(area.height.saturating_sub(CONSOLE_BELOW)),
            ),
            Constraint::Min(1),
        ])
        .areas(area);
        (pane, rest)
    };
    let inner = crate::layout::inner(pane);
    let (width, height) = (usize::from(inner.width), usize::from(inner.height));
    let laid = page.lay_out(width);
    let offset = viewport
        .lines
        .resolve(&pin.scroll, laid.lines.len(), height, |()| None);
    let column = viewport
        .columns
        .resolve(&pin.sideways, laid.widest, width, |()| None);
    let keys = [
        Action::PinUp,
        Action::PinDown,
        Action::PinLeft,
        Action::PinRight,
    ]
    .map(|action| key_for(Context::Console, &action));
    let cut = Cut::of(&laid, offset, column, width, height).line_with(&keys, theme);
    let title = crate::text::words_within(&format!("Pinned · {what}"), width.saturating_sub(2));
    let block = Block::bordered()
        .title(Span::styled(format!(" {title} "), theme.title()))
        .title_bottom(Line::styled(format!(" {unpin} "), theme.dim()))
        .title_bottom(cut)
        .border_style(theme.border(false));
    frame.render_widget(block, pane);
    frame.render_widget(Paragraph::new(laid.window(offset, height, column)), inner);
    rest
}

/// What the pinned step shows: its diagram's revealed layers, or its output now.
fn page(step: &Step, pinned: &Pinned, theme: &Theme, width: usize) -> Page<()> {
    let mut page = Page::default();
    let about = step.warnings.as_deref();
    match pinned {
        Pinned::Diagram { layers } => {
            for (i, layer) in layers.iter().enumerate() {
                if i > 0 {
                    page.blank();
                }
                page.pre_lines(
                    layer
                        .lines()
                        .map(|l| Line::styled(l.to_string(), theme.code())),
                );
            }
        }
        Pinned::Output {
            output,
            running,
            closed,
        } => {
            if *closed {
                page.prose(Line::styled(
                    "Kept from before its lesson was closed: open the lesson again to run the step anew.",
                    theme.dim(),
                ));
            }
            match (output, &step.kind) {
                (Some(StepOutput::Query { ran, report }), StepKind::Run { sql }) if !running => {
                    super::player::ran_lines(
                        &mut page,
                        sql,
                        ran,
                        report.as_ref(),
                        about,
                        theme,
                        width,
                    );
                }
                // A finished demo's table is what the room reads: first, its
                // sentences after it.
                (
                    Some(StepOutput::Demo {
                        report: Some(Ok(report)),
                        ..
                    }),
                    _,
                ) if !running && report.table.is_some() => {
                    let mut rest = report.clone();
                    if let Some(table) = rest.table.take() {
                        let all = super::table::Window::all(table.rows.len());
                        page.pre_lines(super::table::lines(&table, all, theme).0);
                        page.blank();
                    }
                    super::player::report_lines(&mut page, &rest, about, theme, width);
                }
                (Some(StepOutput::Demo { progress, report }), _) => {
                    super::player::demo_lines(
                        &mut page,
                        progress,
                        report.as_ref(),
                        about,
                        theme,
                        width,
                    );
                    if *running {
                        page.prose(Line::styled("Running…", theme.warning()));
                    }
                }
                _ if *running => page.prose(Line::styled("Running…", theme.warning())),
                _ => page.prose(Line::styled(
                    format!(
                        "Not run yet: {} on the step in the lesson runs it.",
                        key_for(Context::Player, &Action::Activate)
                    ),
                    theme.dim(),
                )),
            }
        }
    }
    page
}
