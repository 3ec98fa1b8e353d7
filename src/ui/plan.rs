//! The plan screen: the explained statement's tree, coloured by where the time went, with a
//! cursor on one node and a detail panel for it (beside the tree on wide panes, below it
//! otherwise), then the insights; or, on request, the diff against the plan explained
//! before it. The words come from `explain::text`, so they match `pglab explain`; this
//! module only lays them out and styles them.

mod detail;
mod diff;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::App;
use crate::app::plan::PlanState;
use crate::explain::text::{self, Role};
use crate::explain::{Insight, NodeId, Plan};
use crate::scroll::Viewport;

use super::theme::Theme;
use crate::text::wrap;

/// Lines above the first node: headline, plan-wide times, a blank line, the column header.
const TREE_HEAD: usize = 4;
/// In front of each node's row: the cursor, or room for it.
const CURSOR: &str = "▶ ";
const NO_CURSOR: &str = "  ";

/// What the plan screen keeps between frames: how far the tree and the diff are scrolled.
#[derive(Debug, Default)]
pub struct PlanViewport {
    tree: Viewport,
    diff: Viewport,
}

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

/// The tree pane: headline (bold), times, the styled tree with the cursor, the legend, the
/// insights and the rollback note.
fn tree_lines(state: &PlanState, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let explained = &state.explained;
    let plan = &explained.plan;
    // The headline keeps its point (the time) by taking a second line, in place of the
    // blank one, when it needs it: the tree starts on the same line either way.
    let mut headline = wrap(&text::headline(plan), width, "  ");
    headline.truncate(2);
    let spare = headline.len() == 1;
    let mut lines: Vec<Line<'static>> = headline
        .into_iter()
        .map(|line| Line::styled(crate::text::clip(&line, width), theme.strong()))
        .collect();
    lines.push(Line::raw(crate::text::clip(&text::summary(plan), width)));
    if spare {
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(
        crate::text::clip(&format!("{NO_CURSOR}{}", text::column_header(plan)), width),
        theme.dim(),
    ));
    for node in &plan.nodes {
        let selected = node.id.0 == state.selected;
        let mut spans = vec![Span::raw(if selected { CURSOR } else { NO_CURSOR })];
        for segment in text::row(plan, node) {
            let style = if node.metrics.never_executed {
                theme.dim()
            } else {
                style(segment.role, theme)
            };
            spans.push(Span::styled(segment.text, style));
        }
        let line = Line::from(clip_spans(spans, width));
        lines.push(if selected {
            line.style(theme.selected())
        } else {
            line
        });
    }
    lines.push(Line::raw(""));
    for legend in text::legend(plan) {
        lines.push(Line::styled(crate::text::clip(&legend, width), theme.dim()));
    }
    lines.extend(
        insight_lines(plan, &explained.insights, width)
            .into_iter()
            .map(Line::raw),
    );
    if explained.rolled_back {
        lines.push(Line::raw(""));
        lines.push(Line::raw("this statement changed data; it was rolled back"));
    }
    lines
}

/// What each role of the tree looks like; every colour repeats what a symbol or a word
/// already says (the bar's length and "%", the badge's "!" marks, "never run").
fn style(role: Role, theme: &Theme) -> Style {
    match role {
        Role::Bar { share } => theme.share(share),
        Role::Tree | Role::Muted => theme.dim(),
        Role::Title => theme.text(),
        Role::Badge { severe: true } => theme.bad(),
        Role::Badge { severe: false } | Role::Warning => theme.warning(),
        Role::Plain | Role::Time => theme.text(),
    }
}

/// Cuts styled spans to `width` cells, ending in "…" when something was cut (as
/// `text::clip` does for plain lines).
pub(super) fn clip_spans(spans: Vec<Span<'static>>, width: usize) -> Vec<Span<'static>> {
    let joined: String = spans.iter().map(|span| span.content.as_ref()).collect();
    let clipped = crate::text::clip(&joined, width);
    if clipped == joined {
        return spans;
    }
    let mut left = clipped.chars().count().saturating_sub(1);
    let mut out = Vec::new();
    for span in spans {
        let take = span.content.chars().count().min(left);
        if take > 0 {
            let content: String = span.content.chars().take(take).collect();
            out.push(Span::styled(content, span.style));
        }
        left -= take;
        if left == 0 {
            break;
        }
    }
    out.push(Span::raw("…"));
    out
}

pub fn render(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    viewport: &mut PlanViewport,
) {
    let Some(state) = app.plan.as_ref() else {
        return;
    };
    let statement = state.sql.split_whitespace().collect::<Vec<_>>().join(" ");
    let previous = state.previous.as_ref().filter(|_| state.diff);
    let title = if previous.is_some() {
        " Plan diff: before │ after "
    } else {
        " Plan "
    };
    let block = Block::bordered()
        .title(Span::styled(title, theme.title()))
        .title_bottom(Span::styled(
            format!(" {} ", crate::text::abbreviate(&statement, 60)),
            theme.dim(),
        ))
        .border_style(theme.border(!app.log_focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    if let Some(previous) = previous {
        let lines = diff::lines(previous, state, width, theme);
        let height = usize::from(inner.height);
        let offset = viewport
            .diff
            .resolve(&state.diff_scroll, lines.len(), height, |()| None);
        frame.render_widget(Paragraph::new(lines).scroll((clamp_u16(offset), 0)), inner);
        return;
    }
    let (tree, detail) = crate::layout::plan_panes(inner);
    let lines = tree_lines(state, usize::from(tree.width), theme);
    let height = usize::from(tree.height);
    let offset = viewport
        .tree
        .resolve(&state.tree_scroll, lines.len(), height, |()| None);
    // The selected node stays on screen; the first one brings the headline back with it.
    let line = TREE_HEAD + state.selected;
    let offset = if state.selected == 0 {
        0
    } else if line < offset {
        line
    } else if line >= offset + height.max(1) {
        line + 1 - height.max(1)
    } else {
        offset
    };
    viewport.tree.offset = offset;
    frame.render_widget(Paragraph::new(lines).scroll((clamp_u16(offset), 0)), tree);
    if let Some(area) = detail {
        let beside = area.x > tree.x;
        let plan = &state.explained.plan;
        detail::render(frame, area, beside, plan, NodeId(state.selected), theme);
    }
}

fn clamp_u16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipped_spans_keep_their_styles_and_end_in_an_ellipsis() {
        let theme = Theme::plain();
        let spans = vec![Span::styled("abc", theme.strong()), Span::raw("defgh")];
        let clipped = clip_spans(spans, 5);
        let text: String = clipped.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "abcd…");
        assert_eq!(clipped[0].style, theme.strong());
    }
}
