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
use ratatui::widgets::{Block, Paragraph};

use crate::app::App;
use crate::data::tables::text::{self, Role};
use crate::keymap::Context;

use super::page::{Cut, Page, PageViewport};
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
    let inner = crate::layout::inner(area);
    let (width, height) = (usize::from(inner.width), usize::from(inner.height));
    let mut page: Page<()> = Page::default();
    if let Some(error) = &app.lab_error {
        page.prose_lines(super::lab_error_lines(error, theme));
    } else if let Some(error) = &state.error {
        page.prose(Line::styled(format!("✗ {error}"), theme.bad()));
    }
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
    let laid = page.lay_out(width);
    let offset = viewport
        .lines
        .resolve(&state.scroll, laid.lines.len(), height, |()| None);
    let column = viewport
        .columns
        .resolve(&state.sideways, laid.widest, width, |()| None);
    let cut = Cut::of(&laid, offset, column, width, height).line(Context::Tables, theme);
    let title = if state.loading.is_some() && state.snapshot.is_some() {
        " Tables · reading the rows again… "
    } else {
        " Tables "
    };
    let block = Block::bordered()
        .title(Span::styled(title, theme.title()))
        .title_bottom(cut)
        .border_style(theme.border(!app.log_focused));
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(laid.window(offset, height, column)), inner);
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
