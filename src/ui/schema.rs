//! The schema map screen: the text `pglab schema` prints (`data::schema::text`), styled by
//! line role, never wrapped — it scrolls down and sideways, with the border saying what is
//! cut off and which keys scroll there.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::App;
use crate::data::schema::text::{self, Role};
use crate::keymap::Context;

use super::page::{Cut, Page, PageViewport};
use super::theme::Theme;

pub fn render(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    viewport: &mut PageViewport,
) {
    let state = &app.schema;
    let inner = crate::layout::inner(area);
    let (width, height) = (usize::from(inner.width), usize::from(inner.height));
    let mut page: Page<()> = Page::default();
    if let Some(error) = &app.lab_error {
        page.prose_lines(super::lab_error_lines(error, theme));
    } else if let Some(error) = &state.error {
        page.prose(Line::styled(format!("✗ {error}"), theme.bad()));
    }
    match state.map.as_deref() {
        Some(map) => page.pre_lines(text::lines(map, &[]).into_iter().map(|line| {
            let style = match line.role {
                Role::Heading => theme.strong(),
                Role::Plain => theme.text(),
                Role::Muted => theme.dim(),
            };
            Line::styled(line.text, style)
        })),
        None if state.loading.is_some() => {
            page.prose(Line::styled("reading the catalog…", theme.dim()));
        }
        None => {}
    }
    let laid = page.lay_out(width);
    let offset = viewport
        .lines
        .resolve(&state.scroll, laid.lines.len(), height, |()| None);
    let column = viewport
        .columns
        .resolve(&state.sideways, laid.widest, width, |()| None);
    let cut = Cut::of(&laid, offset, column, width, height).line(Context::Schema, theme);
    let title = if state.loading.is_some() && state.map.is_some() {
        " Schema map · reading the catalog again… "
    } else {
        " Schema map "
    };
    let block = Block::bordered()
        .title(Span::styled(title, theme.title()))
        .title_bottom(cut)
        .border_style(theme.border(!app.log_focused));
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(laid.window(offset, height, column)), inner);
}
