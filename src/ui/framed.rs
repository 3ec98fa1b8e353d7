//! A screen that is one scrolling page in a bordered pane — the schema map, the tables view:
//! the lab's or the screen's error first, then the screen's text, scrolled down and sideways
//! where the app's scroll state asks (clamped to what there is), with what is cut off and
//! the keys that scroll there in the bottom border.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::App;
use crate::keymap::Context;
use crate::scroll::Scroll;

use super::page::{Cut, Page, PageViewport};
use super::theme::Theme;

/// A page with the lab's error, or else the screen's own `error`, on top.
pub fn page_with_errors(app: &App, error: Option<&str>, theme: &Theme) -> Page<()> {
    let mut page = Page::default();
    if let Some(lab_error) = &app.lab_error {
        page.prose_lines(super::lab_error_lines(lab_error, theme));
    } else if let Some(error) = error {
        page.prose(Line::styled(format!("✗ {error}"), theme.bad()));
    }
    page
}

/// Where a framed page is scrolled to, what its pane is called and whose keys scroll it.
pub struct Framing<'a> {
    pub title: &'a str,
    pub context: Context,
    pub scroll: &'a Scroll<()>,
    pub sideways: &'a Scroll<()>,
}

/// Draws `page` in `area`, framed as [`Framing`] says.
pub fn draw(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    page: &Page<()>,
    framing: Framing<'_>,
    theme: &Theme,
    viewport: &mut PageViewport,
) {
    let inner = crate::layout::inner(area);
    let (width, height) = (usize::from(inner.width), usize::from(inner.height));
    let laid = page.lay_out(width);
    let offset = viewport
        .lines
        .resolve(framing.scroll, laid.lines.len(), height, |()| None);
    let column = viewport
        .columns
        .resolve(framing.sideways, laid.widest, width, |()| None);
    let cut = Cut::of(&laid, offset, column, width, height).line(framing.context, theme);
    let block = Block::bordered()
        .title(Span::styled(framing.title, theme.title()))
        .title_bottom(cut)
        .border_style(theme.border(!app.log_focused));
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(laid.window(offset, height, column)), inner);
}
