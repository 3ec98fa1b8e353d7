//! The schema map screen: the text `pglab schema` prints (`data::schema::text`), styled by
//! line role, never wrapped — it scrolls down and sideways, with the border saying what is
//! cut off and which keys scroll there.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use crate::app::App;
use crate::data::schema::text::{self, Role};
use crate::keymap::Context;

use super::framed::{self, Framing};
use super::page::PageViewport;
use super::theme::Theme;

pub fn render(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    viewport: &mut PageViewport,
) {
    let state = &app.schema;
    let mut page = framed::page_with_errors(app, state.error.as_deref(), theme);
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
    let title = if state.loading.is_some() && state.map.is_some() {
        " Schema map · reading the catalog again… "
    } else {
        " Schema map "
    };
    let framing = Framing {
        title,
        context: Context::Schema,
        scroll: &state.scroll,
        sideways: &state.sideways,
    };
    framed::draw(app, frame, area, &page, framing, theme, viewport);
}
