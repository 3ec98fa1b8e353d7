//! A [`PlanDiff`] as plain text: a one-line summary ("after: 0.175 ms vs 20.2 ms — 115×
//! faster; …"), a small before/after table, the node changes, then both trees, side by
//! side when the width allows and one above the other when not. Shared by `pglab explain
//! --before` and the lab's diff view.

use unicode_width::UnicodeWidthStr;

use super::super::Plan;
use super::super::diff::{Change, PlanDiff, Trend};
use super::describe::factor;
use super::{Role, exclusive, headline, joined, ms, row};
use crate::text::wrap;
use crate::text::{clip, group};

/// Narrower tree columns than this are unreadable: the trees are stacked instead.
const MIN_COLUMN: usize = 32;
/// Between the two columns.
const GUTTER: &str = " │ ";
/// The table's label column.
const LABEL: usize = 11;
const VALUE: usize = 12;

/// "after: 0.175 ms vs 20.2 ms — 115× faster; 4 vs 1,235 pages (309× fewer); Seq Scan on
/// users → Index Scan using users_email_key on users".
pub fn diff_summary(diff: &PlanDiff) -> String {
    let mut parts = Vec::new();
    if let (Some(before), Some(after)) = (diff.execution.before, diff.execution.after) {
        let trend = trend_words(&diff.execution, "faster", "slower");
        parts.push(format!("after: {} vs {} — {trend}", ms(after), ms(before)));
    }
    if let (Some(before), Some(after)) = (diff.pages.before, diff.pages.after) {
        parts.push(format!(
            "{} vs {} pages ({})",
            group(after),
            group(before),
            trend_words(&diff.pages, "fewer", "more")
        ));
    }
    let mut nodes: Vec<String> = diff
        .replaced
        .iter()
        .map(|(old, new)| format!("{old} → {new}"))
        .collect();
    nodes.extend(diff.disappeared.iter().map(|old| format!("− {old}")));
    nodes.extend(diff.appeared.iter().map(|new| format!("+ {new}")));
    if nodes.is_empty() {
        nodes.push("the same nodes".to_owned());
    }
    parts.push(nodes.join(", "));
    parts.join("; ")
}

/// The whole comparison in lines no wider than `width` display cells.
pub fn diff_lines(diff: &PlanDiff, before: &Plan, after: &Plan, width: usize) -> Vec<String> {
    let mut lines = wrap(&diff_summary(diff), width, "  ");
    lines.push(String::new());
    lines.push(format!(
        "{:<LABEL$}{:<VALUE$}{:<VALUE$}",
        "", "before", "after"
    ));
    for (label, change, numbers) in [
        ("execution", diff.execution, Numbers::Ms("faster", "slower")),
        ("planning", diff.planning, Numbers::Ms("faster", "slower")),
        ("pages", diff.pages, Numbers::Count("fewer", "more")),
        ("rows", diff.rows, Numbers::Count("fewer", "more")),
    ] {
        if change.before.is_none() && change.after.is_none() {
            continue;
        }
        let show = |value: Option<f64>| match (value, numbers) {
            (None, _) => "—".to_owned(),
            (Some(value), Numbers::Ms(..)) => ms(value),
            (Some(value), Numbers::Count(..)) => group(value),
        };
        let (less, more) = match numbers {
            Numbers::Ms(less, more) | Numbers::Count(less, more) => (less, more),
        };
        lines.push(format!(
            "{label:<LABEL$}{:<VALUE$}{:<VALUE$}{}",
            show(change.before),
            show(change.after),
            trend_words(&change, less, more)
        ));
    }
    let indent = " ".repeat(LABEL);
    for (old, new) in &diff.replaced {
        let text = format!("{:<LABEL$}{old} → {new}", "replaced");
        lines.extend(wrap(&text, width, &indent));
    }
    for old in &diff.disappeared {
        lines.extend(wrap(&format!("{:<LABEL$}− {old}", "gone"), width, &indent));
    }
    for new in &diff.appeared {
        lines.extend(wrap(&format!("{:<LABEL$}+ {new}", "new"), width, &indent));
    }
    lines.push(String::new());
    let column = width.saturating_sub(GUTTER.width()) / 2;
    if column >= MIN_COLUMN {
        let left = tree("before", before, column);
        let right = tree("after", after, column);
        for index in 0..left.len().max(right.len()) {
            let left = left.get(index).map_or("", String::as_str);
            let right = right.get(index).map_or("", String::as_str);
            let pad = column.saturating_sub(left.width());
            lines.push(format!("{left}{}{GUTTER}{right}", " ".repeat(pad)));
        }
    } else {
        lines.extend(tree("before", before, width));
        lines.push(String::new());
        lines.extend(tree("after", after, width));
    }
    lines
        .into_iter()
        .map(|line| clip(line.trim_end(), width))
        .collect()
}

/// How a table row's numbers are written, and the words for going down and up.
#[derive(Clone, Copy)]
enum Numbers {
    Ms(&'static str, &'static str),
    Count(&'static str, &'static str),
}

/// "115× faster", "1.5× slower", "about the same"; empty when there is no factor.
fn trend_words(change: &Change, less: &str, more: &str) -> String {
    match change.trend() {
        Some(Trend::Same) if change.spread.is_some() => "no measurable change".to_owned(),
        Some(Trend::Same) => "about the same".to_owned(),
        Some(Trend::Less { factor: f }) => format!("{} {less}", factor(f)),
        Some(Trend::More { factor: f }) => format!("{} {more}", factor(f)),
        None => String::new(),
    }
}

/// One plan as a narrow column: a heading, its headline, then one line per node with its
/// exclusive time and title (the details are the full tree's).
fn tree(heading: &str, plan: &Plan, width: usize) -> Vec<String> {
    let mut lines = vec![heading.to_owned()];
    lines.extend(wrap(&headline(plan), width, "  "));
    for node in &plan.nodes {
        let title: Vec<_> = row(plan, node)
            .into_iter()
            .filter(|segment| matches!(segment.role, Role::Tree | Role::Title))
            .collect();
        let line = format!("{:>10}  {}", exclusive(node), joined(&title));
        lines.push(clip(&line, width));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::{diff::compare, parse};

    fn pair() -> (Plan, Plan) {
        let seq = parse(include_str!("../../../tests/fixtures/plans/seq_scan.json")).unwrap();
        let index = parse(include_str!(
            "../../../tests/fixtures/plans/index_scan.json"
        ))
        .unwrap();
        (seq, index)
    }

    #[test]
    fn the_summary_gives_time_pages_and_nodes() {
        let (seq, index) = pair();
        assert_eq!(
            diff_summary(&compare(&seq, &index)),
            "after: 0.175 ms vs 20.2 ms — 115× faster; 4 vs 1,235 pages (309× fewer); \
             Seq Scan on users → Index Scan using users_email_key on users"
        );
        assert_eq!(
            diff_summary(&compare(&seq, &seq)),
            "after: 20.2 ms vs 20.2 ms — about the same; 1,235 vs 1,235 pages (about the \
             same); the same nodes"
        );
    }

    #[test]
    fn wide_output_puts_the_trees_side_by_side() {
        let (seq, index) = pair();
        let lines = diff_lines(&compare(&seq, &index), &seq, &index, 100);
        assert!(lines.iter().all(|line| line.width() <= 100));
        let trees = lines
            .iter()
            .position(|line| line.starts_with("before"))
            .unwrap();
        assert!(lines[trees].contains(" │ after"), "{lines:#?}");
        assert!(
            lines
                .iter()
                .any(|line| line.contains("execution  20.2 ms     0.175 ms    115× faster")),
            "{lines:#?}"
        );
    }

    #[test]
    fn narrow_output_stacks_them() {
        let (seq, index) = pair();
        let lines = diff_lines(&compare(&seq, &index), &seq, &index, 50);
        assert!(lines.iter().all(|line| line.width() <= 50));
        assert!(lines.iter().any(|line| line == "before"));
        assert!(lines.iter().any(|line| line == "after"));
        // Even absurdly narrow, nothing panics.
        for width in [0, 1, 20] {
            diff_lines(&compare(&seq, &index), &seq, &index, width);
        }
    }
}
