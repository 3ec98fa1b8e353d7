//! The diff view: the plan explained before against the current one, as
//! `explain::text::diff_lines` words it, under the two statements; the summary in bold.

use ratatui::text::{Line, Span};

use crate::app::plan::{PlanState, PreviousPlan};
use crate::explain::{compare, text};
use crate::text::abbreviate;
use crate::ui::theme::Theme;

pub fn lines(
    previous: &PreviousPlan,
    current: &PlanState,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let before = &previous.explained.plan;
    let after = &current.explained.plan;
    let statement = |label: &'static str, sql: &str| {
        let room = width.saturating_sub(label.len() + 1);
        let sql = crate::text::clip(&abbreviate(sql, room), room);
        Line::from(vec![
            Span::styled(label, theme.dim()),
            Span::styled(sql, theme.code()),
        ])
    };
    let mut lines = vec![
        statement("before ", &previous.sql),
        statement("after  ", &current.sql),
        Line::raw(""),
    ];
    let body = text::diff_lines(&compare(before, after), before, after, width);
    // The summary runs up to the first blank line.
    let summary = body.iter().position(String::is_empty).unwrap_or(0);
    for (index, line) in body.into_iter().enumerate() {
        lines.push(if index < summary {
            Line::styled(line, theme.strong())
        } else {
            Line::raw(line)
        });
    }
    lines
}
