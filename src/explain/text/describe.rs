//! One node explained in words: the numbers of the lab's node detail panel (time, rows ×
//! loops, estimate, filter, buffers, cost, conditions) and one sentence built from them,
//! e.g. "Seq Scan on users ran once, read 1,235 pages (all from cache) and threw away
//! 100,009 of 100,010 rows (>99%) to return 1 row: 20.1 ms, >99% of the query."

use super::super::metrics::{Approximation, Direction, counted_by_gather};
use super::super::node::NodeId;
use super::super::{Node, Plan};
use super::{ms, percent, rows_text};
use crate::text::{group, plural};

/// The printed keys worth showing as they are: what the node matched on and sorted by.
const CONDITIONS: [&str; 11] = [
    "Index Cond",
    "Recheck Cond",
    "Filter",
    "Join Filter",
    "Hash Cond",
    "Merge Cond",
    "One-Time Filter",
    "Sort Key",
    "Group Key",
    "Sort Method",
    "Cache Key",
];

/// One sentence about node `id` from its numbers: how often it ran, what it read, what it
/// threw away, what it returned, and what it cost in time and share of the query.
pub fn describe(plan: &Plan, id: NodeId) -> String {
    let node = plan.node(id);
    let title = node.title();
    let metrics = &node.metrics;
    let Some(actual) = node.actual else {
        return format!(
            "{title} is planned to return {} at cost {:.2} ({:.2} of its own); without ANALYZE \
             it did not run.",
            plural(node.plan_rows, "row", "rows"),
            node.total_cost,
            metrics.cost_exclusive
        );
    };
    if metrics.never_executed {
        return format!(
            "{title} never ran: the plan did not need its rows this time, so it cost nothing."
        );
    }
    let runs = match actual.loops {
        1.0 => "ran once".to_owned(),
        loops if counted_by_gather(plan, id) => {
            format!("ran in {} processes side by side", group(loops))
        }
        loops => format!(
            "ran {} times ({} each)",
            group(loops),
            plural(actual.rows, "row", "rows")
        ),
    };
    let mut clauses = vec![runs];
    if let Some(buffers) = metrics.buffers.filter(|b| b.pages_touched() > 0) {
        let read = buffers.shared_read + buffers.local_read;
        let from = match read {
            0 => "all from cache".to_owned(),
            read if read == buffers.pages_touched() => "all from disk".to_owned(),
            read => format!("{} from disk", group(read as f64)),
        };
        clauses.push(format!(
            "read {} ({from})",
            plural(buffers.pages_touched() as f64, "page", "pages")
        ));
    }
    let returned = metrics.rows.map_or_else(String::new, rows_text);
    let removed: f64 = metrics.removed_rows().sum();
    let rows = match (metrics.filter_fraction, metrics.rows) {
        (Some(fraction), Some(rows)) if removed > 0.0 => format!(
            "threw away {} of {} rows ({}) to return {returned}",
            group(removed),
            group(removed + rows.value),
            percent(fraction)
        ),
        _ => format!("returned {returned}"),
    };
    let mut sentence = format!("{title} {}", clauses.join(", "));
    sentence.push_str(if clauses.len() > 1 { " and " } else { ", " });
    sentence.push_str(&rows);
    if let Some(time) = metrics.time {
        let approx = if time.exclusive_approx.any() {
            "≈"
        } else {
            ""
        };
        sentence.push_str(&format!(": {approx}{}", ms(time.exclusive_ms)));
        if let Some(runtime) = plan.runtime_ms().filter(|runtime| *runtime > 0.0) {
            let share = (time.exclusive_ms / runtime).clamp(0.0, 1.0);
            sentence.push_str(&format!(", {} of the query", percent(share)));
        }
    }
    sentence.push('.');
    sentence
}

/// The node's numbers as (label, value) pairs, in the order the detail panel lists them;
/// labels are short so the values line up.
pub fn detail(plan: &Plan, id: NodeId) -> Vec<(&'static str, String)> {
    let node = plan.node(id);
    let metrics = &node.metrics;
    let mut fields = Vec::new();
    if metrics.never_executed {
        fields.push(("ran", "never executed".to_owned()));
    }
    if let Some(time) = metrics.time.filter(|_| !metrics.never_executed) {
        let mut value = format!(
            "{} exclusive · {} inclusive",
            ms(time.exclusive_ms),
            ms(time.inclusive_ms)
        );
        let why = approximation(time.exclusive_approx.merge(time.inclusive_approx));
        if !why.is_empty() {
            value.push_str(&format!(" (approximate: {why})"));
        }
        fields.push(("time", value));
    }
    if let (Some(rows), Some(actual)) = (metrics.rows, node.actual) {
        let value = if counted_by_gather(plan, id) {
            format!(
                "{} in all, as the Gather above counted them (each of {} printed {}, \
                 rounded)",
                rows_text(rows),
                plural(actual.loops, "loop", "loops"),
                group(actual.rows)
            )
        } else {
            format!(
                "{} × {} = {}",
                group(actual.rows),
                plural(actual.loops, "loop", "loops"),
                rows_text(rows)
            )
        };
        fields.push(("rows", value));
    }
    fields.push(("estimate", estimate(node)));
    if let Some(fraction) = metrics.filter_fraction {
        let mut kinds = Vec::new();
        for (what, count) in [
            ("by filter", metrics.removed_by_filter),
            ("by join filter", metrics.removed_by_join_filter),
            ("by index recheck", metrics.removed_by_index_recheck),
        ] {
            if let Some(count) = count.filter(|count| count.value > 0.0) {
                let tilde = if count.approximate { "~" } else { "" };
                kinds.push(format!("{tilde}{} {what}", group(count.value)));
            }
        }
        if !kinds.is_empty() {
            fields.push((
                "removed",
                format!(
                    "{} ({} of the rows examined)",
                    kinds.join(", "),
                    percent(fraction)
                ),
            ));
        }
    }
    if let Some(buffers) = metrics.buffers {
        let mut value = format!(
            "{} hit · {} read",
            group((buffers.shared_hit + buffers.local_hit) as f64),
            group((buffers.shared_read + buffers.local_read) as f64)
        );
        if let Some(ratio) = metrics.hit_ratio {
            value.push_str(&format!(" · {} from cache", percent(ratio)));
        }
        if buffers.temp_read + buffers.temp_written > 0 {
            value.push_str(&format!(
                " · temp {} read {} written",
                group(buffers.temp_read as f64),
                group(buffers.temp_written as f64)
            ));
        }
        fields.push(("buffers", value));
    }
    fields.push((
        "cost",
        format!(
            "{:.2} of its own, {:.2} in total (planner units, not ms)",
            metrics.cost_exclusive, node.total_cost
        ),
    ));
    if let Some(index) = &node.index_name {
        fields.push(("index", index.clone()));
    }
    for key in CONDITIONS {
        if let Some(value) = node.props.get(key) {
            let text = match value {
                serde_json::Value::String(text) => text.clone(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|item| {
                        item.as_str()
                            .map_or_else(|| item.to_string(), str::to_owned)
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            fields.push((condition_label(key), text));
        }
    }
    fields
}

/// Planned against actual rows per loop, with the direction in words and an arrow.
fn estimate(node: &Node) -> String {
    let planned = group(node.plan_rows);
    let Some(estimate) = node.metrics.estimate else {
        return format!("{planned} rows per loop planned");
    };
    let actual = node.actual.map_or(0.0, |actual| actual.rows);
    let how = match estimate.direction {
        Direction::Exact => "exact".to_owned(),
        Direction::Under => format!("↓ {} under", factor(estimate.factor)),
        Direction::Over => format!("↑ {} over", factor(estimate.factor)),
    };
    let caveat = if estimate.cut_short && estimate.direction == Direction::Over {
        " (a Limit may have stopped it early)"
    } else {
        ""
    };
    format!(
        "{how}: {planned} planned, {} per loop{caveat}",
        group(actual)
    )
}

/// "12×" from 10 on, "3.5×" below.
pub(super) fn factor(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.1}×")
    } else {
        format!("{}×", group(value))
    }
}

/// Why a time is approximate, in words; empty when it is not.
fn approximation(approx: Approximation) -> String {
    let mut why = Vec::new();
    if approx.parallel {
        why.push("work split over parallel processes");
    }
    if approx.loop_rounding {
        why.push("per-loop times rounded");
    }
    if approx.shared_subplan {
        why.push("a subplan's time shared out");
    }
    if approx.clamped {
        why.push("rounding below zero");
    }
    why.join(", ")
}

fn condition_label(key: &str) -> &'static str {
    match key {
        "Index Cond" => "index cond",
        "Recheck Cond" => "recheck",
        "Filter" => "filter",
        "Join Filter" => "join filter",
        "Hash Cond" => "hash cond",
        "Merge Cond" => "merge cond",
        "One-Time Filter" => "one-time",
        "Sort Key" => "sort key",
        "Group Key" => "group key",
        "Sort Method" => "sort",
        _ => "cache key",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::parse;

    fn plan(json: &str) -> Plan {
        parse(json).unwrap()
    }

    #[test]
    fn a_seq_scan_says_what_it_read_and_threw_away() {
        let plan = plan(include_str!("../../../tests/fixtures/plans/seq_scan.json"));
        assert_eq!(
            describe(&plan, NodeId(0)),
            "Seq Scan on users ran once, read 1,235 pages (all from cache) and threw away \
             100,009 of 100,010 rows (>99%) to return 1 row: 20.1 ms, >99% of the query."
        );
    }

    #[test]
    fn an_index_scan_reads_a_few_pages_from_disk() {
        let plan = plan(include_str!(
            "../../../tests/fixtures/plans/index_scan.json"
        ));
        assert_eq!(
            describe(&plan, NodeId(0)),
            "Index Scan using users_email_key on users ran once, read 4 pages (3 from disk) \
             and returned 1 row: 0.117 ms, 67% of the query."
        );
    }

    #[test]
    fn a_loop_says_how_often_it_ran() {
        let plan = plan(include_str!(
            "../../../tests/fixtures/plans/nested_loop.json"
        ));
        let inner = plan
            .nodes
            .iter()
            .find(|node| node.relation.as_deref() == Some("posts"))
            .unwrap();
        let sentence = describe(&plan, inner.id);
        assert!(
            sentence.starts_with(
                "Index Scan using posts_author_id_idx on posts p ran 100 times (1 row each), \
                 read 300 pages (all from cache) and returned ~100 rows: "
            ),
            "{sentence}"
        );
    }

    #[test]
    fn never_executed_and_unanalyzed_nodes_say_so() {
        let plan_never = plan(include_str!(
            "../../../tests/fixtures/plans/never_executed.json"
        ));
        let never = plan_never
            .nodes
            .iter()
            .find(|node| node.metrics.never_executed)
            .unwrap();
        assert!(describe(&plan_never, never.id).contains("never ran"));
        let fields = detail(&plan_never, never.id);
        assert_eq!(fields[0], ("ran", "never executed".to_owned()));

        let estimated = plan(include_str!(
            "../../../tests/fixtures/plans/no_analyze.json"
        ));
        assert!(describe(&estimated, NodeId(0)).contains("without ANALYZE it did not run"));
    }

    #[test]
    fn the_detail_lists_every_number() {
        let plan = plan(include_str!("../../../tests/fixtures/plans/seq_scan.json"));
        let fields = detail(&plan, NodeId(0));
        let get = |label: &str| {
            fields
                .iter()
                .find(|(l, _)| *l == label)
                .map(|(_, value)| value.as_str())
                .unwrap_or_else(|| panic!("no {label} in {fields:?}"))
        };
        assert_eq!(get("time"), "20.1 ms exclusive · 20.1 ms inclusive");
        assert_eq!(get("rows"), "1 × 1 loop = 1 row");
        assert_eq!(get("estimate"), "exact: 1 planned, 1 per loop");
        assert_eq!(
            get("removed"),
            "100,009 by filter (>99% of the rows examined)"
        );
        assert_eq!(get("buffers"), "1,235 hit · 0 read · 100% from cache");
        assert_eq!(get("filter"), "(username = 'user50000'::text)");
        assert!(get("cost").starts_with("2485.12 of its own"));
    }

    #[test]
    fn parallel_times_are_marked_approximate() {
        let plan = plan(include_str!(
            "../../../tests/fixtures/plans/parallel_seq_scan.json"
        ));
        let scan = plan
            .nodes
            .iter()
            .find(|node| node.node_type == "Seq Scan")
            .unwrap();
        let time = detail(&plan, scan.id)
            .into_iter()
            .find(|(label, _)| *label == "time")
            .unwrap()
            .1;
        assert!(
            time.contains("approximate: work split over parallel processes"),
            "{time}"
        );
        assert!(describe(&plan, scan.id).contains(": ≈"));
    }

    #[test]
    fn rows_counted_by_a_gather_say_so() {
        let plan = plan(include_str!(
            "../../../tests/fixtures/plans/parallel_seq_scan.json"
        ));
        let partial = plan
            .nodes
            .iter()
            .find(|node| {
                node.node_type == "Aggregate"
                    && node.parent.is_some_and(|p| plan.node(p).is_gather())
            })
            .unwrap();
        let rows = detail(&plan, partial.id)
            .into_iter()
            .find(|(label, _)| *label == "rows")
            .unwrap()
            .1;
        assert_eq!(
            rows,
            "3 rows in all, as the Gather above counted them (each of 3 loops printed 1, rounded)"
        );
        assert!(describe(&plan, partial.id).contains("ran in 3 processes side by side"));
    }
}
