//! The node detail panel: the selected node described in one sentence, then its numbers
//! (`explain::text::detail`) as label and value, wrapped to the panel.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::explain::{NodeId, Plan, text};
use crate::text::wrap;
use crate::ui::theme::Theme;

/// Width of the label column.
const LABEL: usize = 11;

/// Draws the panel for node `id`; `beside` says it stands to the right of the tree (a rule
/// on its left), not below it (a rule above is enough).
pub fn render(frame: &mut Frame, area: Rect, beside: bool, plan: &Plan, id: NodeId, theme: &Theme) {
    let borders = if beside {
        Borders::TOP | Borders::LEFT
    } else {
        Borders::TOP
    };
    let title = format!(" node {} of {} ", id.0 + 1, plan.nodes.len());
    let block = Block::new()
        .borders(borders)
        .border_style(theme.dim())
        .title(Span::styled(title, theme.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = lines(plan, id, usize::from(inner.width), theme);
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The sentence (bold), then one line per number, continuation lines indented under the
/// values.
pub fn lines(plan: &Plan, id: NodeId, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines: Vec<Line> = wrap(&text::describe(plan, id), width, "")
        .into_iter()
        .map(|line| Line::styled(line, theme.strong()))
        .collect();
    let indent = " ".repeat(LABEL);
    for (label, value) in text::detail(plan, id) {
        let wrapped = wrap(&format!("{label:<LABEL$}{value}"), width, &indent);
        for (index, line) in wrapped.into_iter().enumerate() {
            match line.split_at_checked(LABEL) {
                Some((head, rest)) if index == 0 => lines.push(Line::from(vec![
                    Span::styled(head.to_owned(), theme.dim()),
                    Span::raw(rest.to_owned()),
                ])),
                _ => lines.push(Line::raw(line)),
            }
        }
    }
    lines
}
