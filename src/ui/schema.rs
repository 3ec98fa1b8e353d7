//! The schema map screen: the text `pglab schema` prints (`data::schema::text`), styled by
//! line role, each table's box frame and title in the table's own colour and each foreign-key
//! arrow in the colour of the table it points at; never wrapped — it scrolls down and
//! sideways, with the border saying what is cut off and which keys scroll there.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use crate::app::App;
use crate::data::schema::text::{self, MapLine, Role};
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
        Some(map) => page.pre_lines(
            text::lines(map, &[])
                .into_iter()
                .map(|line| styled(line, theme)),
        ),
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

/// A line of the map in its role's style, the stretches that belong to a table in the
/// table's colour (bold on a heading: a box's title).
fn styled(line: MapLine, theme: &Theme) -> Line<'static> {
    let base = match line.role {
        Role::Heading => theme.strong(),
        Role::Plain => theme.text(),
        Role::Muted => theme.dim(),
    };
    let mut spans = Vec::new();
    let mut at = 0;
    for colour in &line.table_colours {
        let mut style = theme.table(&colour.table);
        if line.role == Role::Heading {
            style = style.add_modifier(Modifier::BOLD);
        }
        spans.push(Span::styled(part(&line.text, at..colour.bytes.start), base));
        spans.push(Span::styled(part(&line.text, colour.bytes.clone()), style));
        at = colour.bytes.end;
    }
    spans.push(Span::styled(part(&line.text, at..line.text.len()), base));
    spans.retain(|span| !span.content.is_empty());
    Line::from(spans)
}

fn part(text: &str, bytes: std::ops::Range<usize>) -> String {
    text.get(bytes).unwrap_or_default().to_owned()
}
