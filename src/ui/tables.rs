//! The live tables view: the text `pglab tables` prints (`data::tables::text`), laid out
//! for the pane's width, each row in its tenant's colour, rows of other tenants than the
//! acting user's greyed (their tenant's cell keeps its colour), soft-deleted rows struck
//! through — and every one of those also
//! marked in the text, so nothing is lost without colour. Each table's box frame and title
//! take the table's own colour (never its rows: those are the tenants'), and each foreign
//! key's arrow the colour of the table it points at. Never wrapped: it scrolls down and
//! sideways, the border saying what is cut off.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::app::App;
use crate::data::tables::text::{self, Role};
use crate::keymap::Context;

use super::framed::{self, Framing};
use super::page::PageViewport;
use super::theme::Theme;

/// Narrower than this inside the border, the boxes cannot be read even scrolled.
const MIN_WIDTH: usize = 30;

pub fn render(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    viewport: &mut PageViewport,
) {
    let state = &app.tables;
    let width = usize::from(crate::layout::inner(area).width);
    let mut page = framed::page_with_errors(app, state.error.as_deref(), theme);
    match state.snapshot.as_deref() {
        _ if width < MIN_WIDTH => page.prose(Line::styled(
            format!("Too narrow: widen to {} columns.", MIN_WIDTH + 2),
            theme.warning(),
        )),
        Some(snapshot) => {
            let lines = text::lines(snapshot, width, app.acting.current());
            for line in lines {
                let prose = line.prose;
                let spans: Vec<Span> = line
                    .pieces
                    .into_iter()
                    .map(|piece| {
                        let style = match &piece.table {
                            Some(table) => table_style(table, piece.role, theme),
                            None => style(piece.role, theme),
                        };
                        Span::styled(piece.text, style)
                    })
                    .collect();
                if prose {
                    page.prose(Line::from(spans));
                } else {
                    page.pre(Line::from(spans));
                }
            }
        }
        None if state.loading.is_some() => {
            page.prose(Line::styled("reading the tables…", theme.dim()));
        }
        None => {}
    }
    let title = if state.loading.is_some() && state.snapshot.is_some() {
        " Tables · reading the rows again… "
    } else {
        " Tables "
    };
    let framing = Framing {
        title,
        context: Context::Tables,
        scroll: &state.scroll,
        sideways: &state.sideways,
    };
    framed::draw(app, frame, area, &page, framing, theme, viewport);
}

/// A piece in its table's colour, bold for the box's title.
fn table_style(table: &str, role: Role, theme: &Theme) -> Style {
    match role {
        Role::Heading => theme.table(table).add_modifier(Modifier::BOLD),
        _ => theme.table(table),
    }
}

fn style(role: Role, theme: &Theme) -> Style {
    match role {
        Role::Heading => theme.strong(),
        Role::Plain => theme.text(),
        Role::Muted => theme.dim(),
        Role::Row {
            tenant,
            deleted,
            other_tenant,
            tenant_cell,
        } => {
            let base = if other_tenant && !tenant_cell {
                theme.dim()
            } else {
                theme.tenant(tenant)
            };
            if deleted {
                base.add_modifier(Modifier::CROSSED_OUT)
            } else {
                base
            }
        }
    }
}
