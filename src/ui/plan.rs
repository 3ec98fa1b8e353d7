//! The plan of a statement as the lab shows it: the rendered tree (`explain::text`), then
//! each insight with its reason and SQL fix, and a note when the statement's changes were
//! rolled back. The same lines serve `pglab explain` and the lab's plan screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::{App, PlanState};
use crate::explain::{Insight, Plan, text};

use super::theme::Theme;
use super::wrap;

/// The insights section, costliest first: each insight's node, why, and the fix, wrapped
/// to `width`.
pub fn insight_lines(plan: &Plan, insights: &[Insight], width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    if !plan.analyzed {
        lines.push("insights need a measured run: drop --no-analyze to get them".to_owned());
        return lines;
    }
    if insights.is_empty() {
        lines.push("insights: none; nothing in this plan crosses a threshold".to_owned());
        return lines;
    }
    lines.push("insights (the costliest first):".to_owned());
    for (number, insight) in insights.iter().enumerate() {
        let node = plan.node(insight.node);
        let cost = insight
            .cost_ms
            .map_or_else(String::new, |cost| format!(" ({})", text::ms(cost)));
        lines.push(format!("{}. {}{cost}", number + 1, node.title()));
        lines.extend(wrap(&format!("   Why: {}.", insight.reason), width, "   "));
        lines.extend(wrap(&format!("   Fix: `{}`", insight.fix), width, "   "));
    }
    lines
}

/// The lines of the plan screen: tree, insights, and the rollback note.
pub fn lines(state: &PlanState, width: usize) -> Vec<String> {
    let explained = &state.explained;
    let mut lines = text::render(&explained.plan, width);
    lines.extend(insight_lines(&explained.plan, &explained.insights, width));
    if explained.rolled_back {
        lines.push(String::new());
        lines.push("this statement changed data; it was rolled back".to_string());
    }
    lines
}

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: &Theme) {
    let Some(state) = app.plan.as_ref() else {
        return;
    };
    let statement = state.sql.split_whitespace().collect::<Vec<_>>().join(" ");
    let block = Block::bordered()
        .title(Span::styled(" Plan ", theme.title()))
        .title_bottom(Span::styled(
            format!(" {} ", crate::sql::n_plus_one::abbreviate(&statement, 60)),
            theme.dim(),
        ))
        .border_style(theme.border(!app.log_focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let text: Vec<Line> = lines(state, usize::from(inner.width))
        .into_iter()
        .map(Line::raw)
        .collect();
    let last =
        u16::try_from(text.len().saturating_sub(usize::from(inner.height))).unwrap_or(u16::MAX);
    frame.render_widget(
        Paragraph::new(text).scroll((state.scroll.min(last), 0)),
        inner,
    );
}
