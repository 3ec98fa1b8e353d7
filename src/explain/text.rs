//! A plan as plain text: a one-line headline saying where the time went, a line of plan-wide
//! times, then the tree with one line per node (exclusive-time bar, time, share of runtime,
//! title, rows, loops, estimate badge, filter, buffers, spills) and a legend. Meaning is
//! carried by symbols and words, never by colour alone, so it reads the same on a washed-out
//! projector, in a log, or through `NO_COLOR`.

use super::Plan;
use super::metrics::{Count, Direction, Estimate};
use super::node::{Node, Relationship};
use crate::text::{clip, group, plural, wrap};

mod describe;
mod diff;
pub use describe::{describe, detail};
pub use diff::{diff_lines, diff_summary};

/// Cells of the exclusive-time bar.
const BAR_CELLS: usize = 8;
/// Eighths of a cell, from one eighth to a full block.
const EIGHTHS: [char; 8] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];
/// Estimates closer than this are not worth a badge.
const BADGE_FACTOR: f64 = 2.0;

/// What a piece of a tree row says, so that a view can style it without re-deriving the
/// layout: the words are the same for the plain text and the lab's coloured tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Role {
    /// Punctuation, separators, and numbers with no emphasis.
    Plain,
    /// The exclusive-time bar, filled to `share` (0..=1) of the runtime.
    Bar { share: f64 },
    /// Exclusive time and share of runtime.
    Time,
    /// The "├─ " connectors.
    Tree,
    /// The node's title.
    Title,
    /// An estimate badge; `severe` from ×10 on (its "!" marks say so in words too).
    Badge { severe: bool },
    /// A spill to disk ("⚠ external merge").
    Warning,
    /// "never run" and "never executed".
    Muted,
}

/// A run of text with its [`Role`].
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub text: String,
    pub role: Role,
}

impl Segment {
    fn new(text: impl Into<String>, role: Role) -> Self {
        Self {
            text: text.into(),
            role,
        }
    }
}

/// Renders `plan` in lines no wider than `width` display cells: sentences wrap, the tree's
/// lines end in "…" (a wrapped tree line would break the tree's shape).
pub fn render(plan: &Plan, width: usize) -> Vec<String> {
    let sentences = |text: String| wrap(&text, width, "  ");
    let mut lines = sentences(headline(plan));
    lines.extend(sentences(summary(plan)));
    lines.push(String::new());
    lines.push(clip(&column_header(plan), width));
    let tree = plan.nodes.iter().map(|node| joined(&row(plan, node)));
    lines.extend(tree.map(|line| clip(&line, width)));
    lines.push(String::new());
    lines.extend(legend(plan).into_iter().flat_map(sentences));
    lines
}

/// The line above the tree naming its columns.
pub fn column_header(plan: &Plan) -> String {
    if plan.analyzed {
        format!(
            "{:<w$} {:>10} {:>4}  node",
            "exclusive",
            "",
            "%",
            w = BAR_CELLS
        )
    } else {
        format!("{:>w$}  node", "cost (excl)", w = BAR_CELLS + 16)
    }
}

/// What the symbols in the tree mean.
pub fn legend(plan: &Plan) -> Vec<String> {
    if !plan.analyzed {
        return vec![
            "estimates only: EXPLAIN without ANALYZE does not run the statement".to_owned(),
        ];
    }
    vec![
        "≈ estimated time (parallel workers, per-loop rounding, shared subplan) · \
         ~ rounded count"
            .to_owned(),
        "↓ more rows than planned · ↑ fewer · ! off by ×10, !! ×100, !!! ×1000".to_owned(),
    ]
}

/// One node's line of the tree, in segments: time columns (or cost), connectors, title,
/// then the details separated by " · ".
pub fn row(plan: &Plan, node: &Node) -> Vec<Segment> {
    let mut segments = if plan.analyzed {
        timing_columns(node, plan.runtime_ms())
    } else {
        vec![Segment::new(
            format!(
                "{:>w$}",
                format!("{:.2}", node.metrics.cost_exclusive),
                w = BAR_CELLS + 16
            ),
            Role::Time,
        )]
    };
    segments.push(Segment::new("  ", Role::Plain));
    segments.push(Segment::new(tree_prefix(plan, node), Role::Tree));
    segments.push(Segment::new(node_label(node), Role::Title));
    for (index, detail) in details(node).into_iter().enumerate() {
        let separator = if index == 0 { "  " } else { " · " };
        segments.push(Segment::new(separator, Role::Plain));
        segments.push(detail);
    }
    segments
}

/// The segments' text, one after the other.
pub fn joined(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(|segment| segment.text.as_str())
        .collect()
}

/// One sentence saying where the time went, e.g. "Seq Scan on users read 1,235 pages to
/// return 1 row: 20.1 ms".
pub fn headline(plan: &Plan) -> String {
    let root = plan.root();
    if !plan.analyzed {
        return format!(
            "Not run (no ANALYZE): {} is estimated at cost {:.2} for {} rows",
            root.title(),
            root.total_cost,
            group(root.plan_rows)
        );
    }
    let of_total = match plan.execution_ms {
        Some(total) if plan.nodes.len() > 1 || !plan.triggers.is_empty() => {
            format!(" of {}", ms(total))
        }
        _ => String::new(),
    };
    let slowest = plan.slowest_node();
    let slowest_time = slowest.and_then(|node| node.metrics.time);
    let slowest_ms = slowest_time.map_or(0.0, |time| time.exclusive_ms);
    let trigger = plan
        .triggers
        .iter()
        .filter_map(|trigger| Some((trigger, trigger.time_ms?)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((trigger, trigger_ms)) = trigger
        && trigger_ms > slowest_ms
    {
        let what = match (&trigger.constraint, trigger.is_foreign_key_check()) {
            (Some(constraint), true) => format!("The foreign-key check {constraint}"),
            (Some(constraint), false) => format!("The trigger for {constraint}"),
            (None, _) => format!("Trigger {}", trigger.name),
        };
        let calls = plural(trigger.calls, "call", "calls");
        return format!("{what} took {}{of_total} ({calls})", ms(trigger_ms));
    }
    let Some(node) = slowest else {
        let rows = root.metrics.rows.map_or_else(String::new, rows_text);
        let total = plan.execution_ms.map_or_else(String::new, ms);
        return format!(
            "{} returned {rows} in {total} (no per-node timing)",
            root.title()
        );
    };
    let approx = if slowest_time.is_some_and(|time| time.exclusive_approx.any()) {
        "≈"
    } else {
        ""
    };
    let time = format!("{approx}{}", ms(slowest_ms));
    let rows = node.metrics.rows.map_or_else(String::new, rows_text);
    let pages = node.metrics.buffers.map_or(0, |b| b.pages_touched());
    if pages > 0 {
        let pages = plural(pages as f64, "page", "pages");
        format!(
            "{} read {pages} to return {rows}: {time}{of_total}",
            node.title()
        )
    } else {
        format!("{} returned {rows}: {time}{of_total}", node.title())
    }
}

/// Planning, execution, trigger and JIT times, and execution time outside every node.
pub fn summary(plan: &Plan) -> String {
    let mut parts = Vec::new();
    if let Some(planning) = plan.planning_ms {
        parts.push(format!("planning {}", ms(planning)));
    }
    if let Some(execution) = plan.execution_ms {
        parts.push(format!("execution {}", ms(execution)));
    }
    if !plan.triggers.is_empty() {
        parts.push(format!(
            "triggers {} ({})",
            ms(plan.trigger_ms()),
            plural(plan.triggers.len() as f64, "trigger", "triggers")
        ));
    }
    if let Some(jit) = &plan.jit {
        let total = jit.total_ms.map_or_else(|| "?".to_owned(), ms);
        parts.push(format!(
            "JIT {total} ({})",
            plural(jit.functions, "function", "functions")
        ));
    }
    if let Some(outside) = plan.unattributed_ms().filter(|outside| *outside >= 0.001) {
        parts.push(format!("start-up and shut-down {}", ms(outside)));
    }
    if parts.is_empty() {
        "no plan-wide times (EXPLAIN without ANALYZE)".to_owned()
    } else {
        parts.join(" · ")
    }
}

/// Bar, exclusive time and share of runtime.
fn timing_columns(node: &Node, runtime: Option<f64>) -> Vec<Segment> {
    let time = node.metrics.time.filter(|_| !node.metrics.never_executed);
    let Some(time) = time else {
        let role = if node.metrics.never_executed {
            Role::Muted
        } else {
            Role::Plain
        };
        let text = format!(
            "{:<w$} {:>10} {:>4}",
            "",
            exclusive(node),
            "",
            w = BAR_CELLS
        );
        return vec![Segment::new(text, role)];
    };
    let share = runtime
        .filter(|runtime| *runtime > 0.0)
        .map_or(0.0, |runtime| (time.exclusive_ms / runtime).clamp(0.0, 1.0));
    vec![
        Segment::new(bar(share), Role::Bar { share }),
        Segment::new(
            format!(
                " {:>10} {:>4}",
                exclusive(node),
                format!("{:.0}%", share * 100.0)
            ),
            Role::Time,
        ),
    ]
}

/// A node's exclusive time as its tree row shows it: "≈0.200 ms", "never run", or "—"
/// without timing; its exclusive cost without ANALYZE.
pub(super) fn exclusive(node: &Node) -> String {
    if node.actual.is_none() {
        return format!("{:.2}", node.metrics.cost_exclusive);
    }
    if node.metrics.never_executed {
        return "never run".to_owned();
    }
    match node.metrics.time {
        Some(time) if time.exclusive_approx.any() => format!("≈{}", ms(time.exclusive_ms)),
        Some(time) => ms(time.exclusive_ms),
        None => "—".to_owned(),
    }
}

/// A bar of `BAR_CELLS` cells, filled to `share` (0..=1) in eighths of a cell.
pub fn bar(share: f64) -> String {
    let eighths = (share.clamp(0.0, 1.0) * (BAR_CELLS * 8) as f64).round() as usize;
    let mut out: String = std::iter::repeat_n('█', eighths / 8).collect();
    if let Some(partial) = (eighths % 8).checked_sub(1) {
        out.push(EIGHTHS[partial]);
    }
    let used = out.chars().count();
    out.extend(std::iter::repeat_n(' ', BAR_CELLS - used));
    out
}

/// "├─ " style connectors showing each node's place under its ancestors.
fn tree_prefix(plan: &Plan, node: &Node) -> String {
    let mut segments = Vec::new();
    let mut current = node;
    while let Some(parent) = current.parent.map(|id| plan.node(id)) {
        let last = parent.children.last() == Some(&current.id);
        segments.push(if current.id == node.id {
            if last { "└─ " } else { "├─ " }
        } else if last {
            "   "
        } else {
            "│  "
        });
        current = parent;
    }
    segments.reverse();
    segments.concat()
}

/// The title, with the InitPlan/SubPlan/CTE name in brackets in front when there is one.
fn node_label(node: &Node) -> String {
    match (&node.relationship, &node.subplan_name) {
        (Relationship::InitPlan | Relationship::SubPlan, Some(name)) => {
            format!("[{name}] {}", node.title())
        }
        _ => node.title(),
    }
}

fn details(node: &Node) -> Vec<Segment> {
    let metrics = &node.metrics;
    let mut parts = Vec::new();
    if metrics.never_executed {
        parts.push(Segment::new("never executed", Role::Muted));
    }
    match (metrics.rows, node.actual) {
        (Some(rows), Some(_)) if !metrics.never_executed => {
            parts.push(Segment::new(rows_text(rows), Role::Plain))
        }
        (None, _) => parts.push(Segment::new(
            format!("est {}", plural(node.plan_rows, "row", "rows")),
            Role::Plain,
        )),
        _ => {}
    }
    if let Some(actual) = node.actual.filter(|actual| actual.loops > 1.0) {
        parts.push(Segment::new(
            format!("×{} loops", group(actual.loops)),
            Role::Plain,
        ));
    }
    if let Some(estimate) = metrics.estimate
        && let Some(text) = badge(estimate)
    {
        let severe = estimate.factor >= 10.0;
        parts.push(Segment::new(text, Role::Badge { severe }));
    }
    if let Some(fraction) = metrics.filter_fraction {
        let removed: f64 = metrics.removed_rows().sum();
        if removed > 0.0 {
            let text = format!("{} removed ({})", group(removed), percent(fraction));
            parts.push(Segment::new(text, Role::Plain));
        }
    }
    if let (Some(planned), Some(launched)) = (node.workers_planned, node.workers_launched) {
        parts.push(Segment::new(
            format!("workers {launched}/{planned}"),
            Role::Plain,
        ));
    }
    if let Some(buffers) = metrics.buffers {
        let mut shown = Vec::new();
        for (label, value) in [
            ("hit", buffers.shared_hit + buffers.local_hit),
            ("read", buffers.shared_read + buffers.local_read),
            ("dirtied", buffers.shared_dirtied + buffers.local_dirtied),
            ("temp read", buffers.temp_read),
            ("temp written", buffers.temp_written),
        ] {
            if value > 0 {
                shown.push(format!("{label} {}", group(value as f64)));
            }
        }
        if !shown.is_empty() {
            parts.push(Segment::new(
                format!("buffers {}", shown.join(" ")),
                Role::Plain,
            ));
        }
    }
    parts.extend(spill(node).map(|text| Segment::new(text, Role::Warning)));
    parts
}

/// Sorts and hashes that did not fit in work_mem say so.
fn spill(node: &Node) -> Option<String> {
    let text = |key: &str| node.props.get(key).and_then(|value| value.as_str());
    let number = |key: &str| node.props.get(key).and_then(|value| value.as_f64());
    if text("Sort Space Type") == Some("Disk") {
        let method = text("Sort Method").unwrap_or("sort");
        let space = number("Sort Space Used")
            .map_or_else(String::new, |kb| format!(", {} kB on disk", group(kb)));
        return Some(format!("⚠ {method}{space}"));
    }
    match number("Hash Batches") {
        Some(batches) if batches > 1.0 => Some(format!("⚠ {} hash batches", group(batches))),
        _ => None,
    }
}

/// "↓12×" for an under-estimate, "↑3.5×" for an over-estimate, with ! marks for severity;
/// nothing when close, or when a Limit may have stopped the node early.
fn badge(estimate: Estimate) -> Option<String> {
    if estimate.cut_short || estimate.factor < BADGE_FACTOR {
        return None;
    }
    let arrow = match estimate.direction {
        Direction::Under => '↓',
        Direction::Over => '↑',
        Direction::Exact => return None,
    };
    let factor = if estimate.factor < 10.0 {
        format!("{:.1}", estimate.factor)
    } else {
        group(estimate.factor)
    };
    let severity = match estimate.factor {
        f if f >= 1000.0 => " !!!",
        f if f >= 100.0 => " !!",
        f if f >= 10.0 => " !",
        _ => "",
    };
    Some(format!("{arrow}{factor}×{severity}"))
}

pub(super) fn rows_text(rows: Count) -> String {
    let tilde = if rows.approximate { "~" } else { "" };
    format!("{tilde}{}", plural(rows.value, "row", "rows"))
}

/// Milliseconds with precision that shrinks as they grow: 0.049 ms, 2.35 ms, 20.1 ms, 376 ms.
pub fn ms(value: f64) -> String {
    let digits = match value.abs() {
        v if v < 1.0 => 3,
        v if v < 10.0 => 2,
        v if v < 100.0 => 1,
        _ => return format!("{} ms", group(value)),
    };
    format!("{value:.digits$} ms")
}

/// "37%", or ">99%" / "<1%" where rounding would claim "100%" or "0%".
pub(super) fn percent(fraction: f64) -> String {
    match fraction * 100.0 {
        p if p > 99.0 && p < 100.0 => ">99%".to_owned(),
        p if p > 0.0 && p < 1.0 => "<1%".to_owned(),
        p => format!("{p:.0}%"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(ms(0.0494), "0.049 ms");
        assert_eq!(ms(2.351), "2.35 ms");
        assert_eq!(ms(10.818), "10.8 ms");
        assert_eq!(ms(20.077), "20.1 ms");
        assert_eq!(ms(376.016), "376 ms");
        assert_eq!(percent(0.9999), ">99%");
        assert_eq!(percent(0.004), "<1%");
        assert_eq!(percent(0.5), "50%");
    }

    #[test]
    fn bars_fill_in_eighths() {
        assert_eq!(bar(0.0), "        ");
        assert_eq!(bar(1.0), "████████");
        assert_eq!(bar(0.5), "████    ");
        assert_eq!(bar(1.0 / 64.0), "▏       ");
        assert_eq!(bar(3.0 / 64.0), "▍       ");
    }

    #[test]
    fn badges_point_the_way_the_planner_was_wrong() {
        use super::super::metrics::estimate;
        assert_eq!(
            badge(estimate(120.0, 1.0, false)),
            Some("↓120× !!".to_owned())
        );
        assert_eq!(
            badge(estimate(1.0, 842.0, false)),
            Some("↑842× !!".to_owned())
        );
        assert_eq!(badge(estimate(30.0, 10.0, false)), Some("↓3.0×".to_owned()));
        assert_eq!(badge(estimate(11.0, 10.0, false)), None);
        assert_eq!(badge(estimate(20.0, 100_000.0, true)), None);
    }
}
