//! Insights: the problems a plan shows, each tied to the node it is about, with a reason built
//! from that plan's numbers and the exact SQL that fixes it. Pure: facts only the live
//! catalog knows (an index's columns, a foreign key's referencing columns) come in as a
//! [`CatalogFacts`] that `db::explain` reads; without them the insights that need them say less
//! or stay quiet, never guess.
//!
//! The thresholds are the research note's (§8.10, §4.3–4.4), named below so that tests and
//! lesson prose can refer to them. Insights come out ranked by the time their node cost:
//! the fix worth trying first is first.

use std::collections::HashMap;

mod scans;

use super::condition::{self, Comparison};
use super::text::{ms, percent};
use super::{Direction, Node, NodeId, Plan};
use crate::text::group;

/// A seq scan is worth an index only on a table this large: below it, reading every page is
/// about as cheap as an index lookup (the docs' toy-table warning).
pub const LARGE_TABLE_ROWS: f64 = 10_000.0;
/// "Discards most rows": the share of examined rows a filter threw away.
pub const MOST_ROWS_DISCARDED: f64 = 0.9;
/// An index scan whose filter threw away more rows than this (in all) needs a better index
/// (postgres.ai Joe's `INDEX_INEFFICIENT_HIGH_FILTERED`).
pub const WASTED_INDEX_ROWS: f64 = 100.0;
/// A nested loop's inner seq scan run this many times is a table scan per outer row.
pub const MANY_INNER_LOOPS: f64 = 100.0;
/// Row estimates off by this factor or more mislead the planner's choices above the node.
pub const MISESTIMATE_FACTOR: f64 = 100.0;
/// A foreign-key trigger taking at least this share of the execution time dominates it.
pub const TRIGGER_SHARE: f64 = 0.5;

/// What an insight found wrong in a plan: the symptom its fix treats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Symptom {
    /// A seq scan on a large table that discards most rows: index the filter columns.
    SeqScanFilter,
    /// An index scan that throws most of what it found away: a composite index.
    IndexFilter,
    /// A nested loop rescanning a table per outer row: index the join key.
    NestedLoopScan,
    /// The planner's row estimate is off by ≥ [`MISESTIMATE_FACTOR`]: refresh statistics.
    Misestimate,
    /// A sort or hash did not fit in `work_mem` and went to disk.
    Spill,
    /// A foreign-key check dominates a DELETE/UPDATE: index the referencing column.
    ForeignKeyCheck,
    /// Only a prefix of a multicolumn index's conditions bounds the scan.
    IndexPrefix,
}

/// One problem, its evidence and its fix.
#[derive(Debug, Clone, PartialEq)]
pub struct Insight {
    pub kind: Symptom,
    /// The node the problem is in (the root for a trigger, which no node contains).
    pub node: NodeId,
    /// Why, in a sentence built from this plan's numbers.
    pub reason: String,
    /// The SQL to run, exactly.
    pub fix: String,
    /// The time the problem's node (or trigger) took, ms: what fixing it could save at most.
    pub cost_ms: Option<f64>,
}

/// Facts from the live catalog, keyed by the names the plan prints.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogFacts {
    /// An index's key columns in order (`Index Name` → columns; expressions as printed).
    pub index_columns: HashMap<String, Vec<String>>,
    /// A foreign key's referencing side (`Constraint Name` → table and columns).
    pub foreign_keys: HashMap<String, ForeignKey>,
}

/// The referencing side of a foreign key: the table holding the reference and its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub table: String,
    pub columns: Vec<String>,
}

/// The index names a [`CatalogFacts`] for `plan` needs columns for.
pub fn index_names(plan: &Plan) -> Vec<String> {
    let mut names: Vec<String> = plan
        .nodes
        .iter()
        .filter_map(|node| node.index_name.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The foreign-key constraints whose checks fired while `plan` ran.
pub fn foreign_key_names(plan: &Plan) -> Vec<String> {
    plan.triggers
        .iter()
        .filter(|trigger| trigger.is_foreign_key_check())
        .filter_map(|trigger| trigger.constraint.clone())
        .collect()
}

/// Every insight for `plan`, the costliest first. Plain EXPLAIN (no ANALYZE) has no actual
/// rows to judge by, so it gets none.
pub fn insights(plan: &Plan, catalog: &CatalogFacts) -> Vec<Insight> {
    if !plan.analyzed {
        return Vec::new();
    }
    let mut found = Vec::new();
    for node in plan.nodes.iter().filter(|node| !node.never_executed()) {
        found.extend(scans::nested_loop_scan(plan, node));
        found.extend(scans::index_filter(plan, node, catalog));
        found.extend(scans::index_prefix(plan, node, catalog));
        found.extend(spill(node));
    }
    // A seq scan already blamed on its nested loop needs no second insight.
    for node in plan.nodes.iter().filter(|node| !node.never_executed()) {
        let blamed = found
            .iter()
            .any(|insight| insight.kind == Symptom::NestedLoopScan && insight.node == node.id);
        if !blamed {
            found.extend(scans::seq_scan_filter(node));
        }
    }
    found.extend(misestimates(plan));
    found.extend(foreign_key_checks(plan, catalog));
    found.sort_by(|a, b| {
        b.cost_ms
            .unwrap_or(0.0)
            .total_cmp(&a.cost_ms.unwrap_or(0.0))
    });
    found
}

fn spill(node: &Node) -> Option<Insight> {
    let number = |key: &str| node.props.get(key).and_then(serde_json::Value::as_f64);
    let text = |key: &str| prop(node, key).unwrap_or_default();
    // kB the operation would need in memory. A sorted row in memory carries overhead its
    // on-disk form does not, so twice the disk size is the usual first try; a hash needs
    // every batch's memory at once. The EXPLAIN after `set` shows whether it fitted.
    let (needed_kb, what) = match node.node_type.as_str() {
        "Sort" | "Incremental Sort"
            if text("Sort Space Type") == "Disk" || text("Sort Method").starts_with("external") =>
        {
            let disk = number("Sort Space Used")?;
            (disk * 2.0, format!("sorted on disk ({} kB)", group(disk)))
        }
        "Hash" if number("Hash Batches")? > number("Original Hash Batches").unwrap_or(1.0) => {
            let batches = number("Hash Batches")?;
            let peak = number("Peak Memory Usage")?;
            let batches_text = group(batches);
            (
                peak * batches,
                format!("split its hash table into {batches_text} batches on disk"),
            )
        }
        "Aggregate" if number("HashAgg Batches").unwrap_or(0.0) > 1.0 => {
            let disk = number("Disk Usage").unwrap_or(0.0);
            let peak = number("Peak Memory Usage").unwrap_or(0.0);
            (
                disk + peak,
                format!("spilled {} kB of groups to disk", group(disk)),
            )
        }
        _ => return None,
    };
    let temp = node
        .metrics
        .buffers
        .map_or(0, |buffers| buffers.temp_written);
    let megabytes = (needed_kb / 1024.0).ceil().max(1.0);
    // Round up to a power of two: a round number a reader can remember and adjust.
    let setting = 2_f64.powi(megabytes.log2().ceil() as i32);
    Some(Insight {
        kind: Symptom::Spill,
        node: node.id,
        reason: format!(
            "{} {what}, writing {} temporary blocks, because it needed more than work_mem; \
             about {} MB would keep it in memory (set it for this session, not server-wide: \
             every sort and hash of every connection may use that much)",
            node.title(),
            group(temp as f64),
            group(megabytes)
        ),
        fix: format!("set work_mem = '{}MB';", group(setting)),
        cost_ms: exclusive_ms(node),
    })
}

fn misestimates(plan: &Plan) -> Vec<Insight> {
    let mut found: Vec<Insight> = Vec::new();
    // Children before parents: a wrong estimate propagates upward, so only the lowest node
    // of a chain is flagged, where fresh statistics can fix it.
    for node in plan.nodes.iter().rev() {
        let Some(estimate) = node.metrics.estimate else {
            continue;
        };
        if estimate.factor < MISESTIMATE_FACTOR
            || estimate.cut_short
            || node.never_executed()
            || matches!(node.node_type.as_str(), "BitmapAnd" | "BitmapOr")
        {
            continue;
        }
        let conditions = own_comparisons(node, &["Filter", "Index Cond", "Recheck Cond"]);
        // `id <= $2`: the value comes from an InitPlan at run time, so the planner used a
        // default guess that no statistics can improve.
        if conditions.iter().any(Comparison::against_parameter) {
            continue;
        }
        let below = found
            .iter()
            .any(|insight| is_descendant(plan, insight.node, node.id));
        if below {
            continue;
        }
        let tables = tables_at_or_below(plan, node);
        if tables.is_empty() {
            continue;
        }
        let actual = node.actual.map_or(0.0, |actual| actual.rows);
        let (more_or_fewer, arrow) = match estimate.direction {
            Direction::Under => ("more", "↓"),
            _ => ("fewer", "↑"),
        };
        let mut fix: Vec<String> = Vec::new();
        let columns = index_order(&conditions);
        let correlated = estimate.direction == Direction::Under && columns.len() >= 2;
        if correlated && let Some(table) = node.relation.as_deref() {
            // The planner multiplies the selectivities of separate columns; when one column
            // determines the other that product is far too small.
            fix.push(format!(
                "create statistics {} (dependencies) on {} from {};",
                ident(&format!("{table}_{}_stats", columns.join("_"))),
                columns
                    .iter()
                    .map(|c| ident(c))
                    .collect::<Vec<_>>()
                    .join(", "),
                ident(table)
            ));
        }
        fix.extend(
            tables
                .iter()
                .map(|table| format!("analyze {};", ident(table))),
        );
        found.push(Insight {
            kind: Symptom::Misestimate,
            node: node.id,
            reason: format!(
                "{} was planned for {} rows per run and returned {} ({} {:.0}× {more_or_fewer} \
                 than planned); the plan above it was chosen for the wrong number of rows{}",
                node.title(),
                group(node.plan_rows),
                group(actual),
                arrow,
                estimate.factor,
                if correlated {
                    ", typically because the filtered columns depend on each other"
                } else {
                    ", typically because the table's statistics are stale"
                }
            ),
            fix: fix.join(" "),
            cost_ms: exclusive_ms(node),
        });
    }
    found
}

fn foreign_key_checks(plan: &Plan, catalog: &CatalogFacts) -> Vec<Insight> {
    let Some(total) = plan.execution_ms.filter(|total| *total > 0.0) else {
        return Vec::new();
    };
    plan.triggers
        .iter()
        // `_a_` triggers act on the referenced table's side (its rows deleted or their key
        // updated) and must search the referencing table; `_c_` ones check a new reference
        // against a primary key, which always has an index.
        .filter(|trigger| trigger.name.starts_with("RI_ConstraintTrigger_a_"))
        .filter_map(|trigger| {
            let time = trigger.time_ms?;
            let constraint = trigger.constraint.as_deref()?;
            if time / total < TRIGGER_SHARE {
                return None;
            }
            let parent = trigger.relation.as_deref().unwrap_or("the parent table");
            let (child, fix) = match catalog.foreign_keys.get(constraint) {
                Some(key) => (
                    format!("{} ({})", key.table, key.columns.join(", ")),
                    create_index(&key.table, &key.columns),
                ),
                None => (
                    "the referencing column".to_owned(),
                    format!(
                        "select conrelid::regclass, pg_get_constraintdef(oid) from pg_constraint \
                         where conname = '{}'; -- then create an index on the columns it names",
                        constraint.replace('\'', "''")
                    ),
                ),
            };
            Some(Insight {
                kind: Symptom::ForeignKeyCheck,
                node: plan.root().id,
                reason: format!(
                    "the foreign-key check {constraint} took {} of {} ({}) in {}: for each row \
                     changed in {parent} PostgreSQL looks for rows still referencing it, and \
                     without an index on {child} each look is a scan of that whole table",
                    ms(time),
                    ms(total),
                    percent(time / total),
                    if trigger.calls == 1.0 {
                        "1 call".to_owned()
                    } else {
                        format!("{} calls", group(trigger.calls))
                    }
                ),
                fix,
                cost_ms: Some(time),
            })
        })
        .collect()
}

/// The comparisons in `node`'s own `keys`, restricted to its own table's columns.
fn own_comparisons(node: &Node, keys: &[&str]) -> Vec<Comparison> {
    keys.iter()
        .filter_map(|key| prop(node, key))
        .flat_map(condition::comparisons)
        .filter(|comparison| belongs_to(comparison, node))
        .collect()
}

/// Unqualified columns are the scanned table's own; qualified ones must name it or its alias.
fn belongs_to(comparison: &Comparison, node: &Node) -> bool {
    match comparison.qualifier.as_deref() {
        None => true,
        Some(q) => Some(q) == node.alias.as_deref() || Some(q) == node.relation.as_deref(),
    }
}

fn index_order(comparisons: &[Comparison]) -> Vec<String> {
    condition::index_order(comparisons)
}

fn prop<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    node.props.get(key).and_then(serde_json::Value::as_str)
}

fn exclusive_ms(node: &Node) -> Option<f64> {
    node.metrics.time.map(|time| time.exclusive_ms)
}

fn removed_per_loop(node: &Node) -> f64 {
    node.removed.by_filter.unwrap_or(0.0)
}

fn is_descendant(plan: &Plan, node: NodeId, ancestor: NodeId) -> bool {
    let mut current = plan.node(node).parent;
    while let Some(id) = current {
        if id == ancestor {
            return true;
        }
        current = plan.node(id).parent;
    }
    false
}

/// The tables `node` reads: its own, or those of the scans in its subtree.
fn tables_at_or_below(plan: &Plan, node: &Node) -> Vec<String> {
    let mut tables: Vec<String> = plan
        .nodes
        .iter()
        .filter(|other| other.id == node.id || is_descendant(plan, other.id, node.id))
        .filter_map(|other| other.relation.clone())
        .collect();
    tables.sort();
    tables.dedup();
    tables
}

fn create_index(table: &str, columns: &[String]) -> String {
    let columns: Vec<String> = columns.iter().map(|column| ident(column)).collect();
    format!("create index on {} ({});", ident(table), columns.join(", "))
}

/// `name` as SQL: bare when PostgreSQL would read it back unchanged, else double-quoted.
fn ident(name: &str) -> String {
    // Reserved words a table or column of a web app is likely to be named after.
    const RESERVED: &[&str] = &[
        "user",
        "order",
        "group",
        "table",
        "column",
        "check",
        "default",
        "limit",
        "offset",
        "from",
        "to",
        "where",
        "select",
        "desc",
        "asc",
        "end",
        "references",
        "primary",
    ];
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !RESERVED.contains(&name);
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}
