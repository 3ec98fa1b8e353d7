//! The live tables view: the text `pglab tables` prints (`data::tables::text`), laid out
//! for the pane's width, each row in its tenant's colour, rows of other tenants than the
//! acting user's greyed (their tenant's cell keeps its colour), soft-deleted rows struck
//! through — and every one of those also
//! marked in the text, so nothing is lost without colour. Never wrapped: it scrolls down
//! and sideways, the border saying what is cut off.

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
                    .map(|piece| Span::styled(piece.text, style(piece.role, theme)))
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
