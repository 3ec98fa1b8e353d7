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

use serde::Deserialize;

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
/// A nested loop's inner side going through fewer rows than this per outer row is cheaper
/// scanned than looked up.
pub const INNER_ROWS_WORTH_AN_INDEX: f64 = 1_000.0;
/// A nested loop's inner side taking less than this share of the runtime is not worth an index.
pub const INNER_SHARE: f64 = 0.1;
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
    /// The query's text keeps an index from serving it (a cast on the column, a partial
    /// index's predicate left out): the fix is a rewrite, not a new index.
    Rewrite,
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

/// Facts from the live catalog, keyed by the names the plan prints. Deserializable so that
/// the plan corpus can store what the catalog said next to each plan.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct CatalogFacts {
    /// An index's key columns in order (`Index Name` → columns; expressions as printed).
    pub index_columns: HashMap<String, Vec<String>>,
    /// A foreign key's referencing side (`Constraint Name` → table and columns).
    pub foreign_keys: HashMap<String, ForeignKey>,
    /// Every index of each table the plan reads or a foreign key check searches (`Relation
    /// Name` → indexes). A table absent here is unknown, not unindexed: advice that depends on
    /// its indexes then says less.
    pub table_indexes: HashMap<String, Vec<TableIndex>>,
}

/// The referencing side of a foreign key: the table holding the reference and its columns.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ForeignKey {
    pub table: String,
    pub columns: Vec<String>,
}

/// One index of a table, as the catalog defines it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TableIndex {
    pub name: String,
    /// Key columns in order; an expression key as PostgreSQL prints it (`lower(email)`).
    pub columns: Vec<String>,
    /// A partial index's `WHERE`, as PostgreSQL prints it (`(deleted_at IS NULL)`).
    #[serde(default)]
    pub predicate: Option<String>,
}

impl CatalogFacts {
    /// `table`'s indexes, or `None` when the catalog was not asked about it.
    pub fn indexes_of(&self, table: &str) -> Option<&[TableIndex]> {
        self.table_indexes.get(table).map(Vec::as_slice)
    }

    /// A full (not partial) index of `table` whose key starts with `columns` in some order:
    /// one that can find rows by those columns alone.
    pub fn full_index_on(&self, table: &str, columns: &[String]) -> Option<&TableIndex> {
        self.indexes_of(table)?.iter().find(|index| {
            index.predicate.is_none()
                && index.columns.len() >= columns.len()
                && columns
                    .iter()
                    .all(|column| index.columns[..columns.len()].contains(column))
        })
    }
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

/// The tables `plan` reads, whose indexes a [`CatalogFacts`] for it needs.
pub fn table_names(plan: &Plan) -> Vec<String> {
    let mut names: Vec<String> = plan
        .nodes
        .iter()
        .filter_map(|node| node.relation.clone())
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
        found.extend(spill(plan, node));
    }
    // A seq scan already blamed on its nested loop needs no second insight.
    for node in plan.nodes.iter().filter(|node| !node.never_executed()) {
        let blamed = found
            .iter()
            .any(|insight| insight.kind == Symptom::NestedLoopScan && insight.node == node.id);
        if !blamed {
            found.extend(scans::seq_scan_filter(node, catalog));
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

/// Bytes an in-memory sort or hash spends per row beyond the row's own width: the tuple
/// header, the sort slot or hash link, and the allocator's chunk header (PostgreSQL 15).
const ROW_OVERHEAD_BYTES: f64 = 64.0;

fn spill(plan: &Plan, node: &Node) -> Option<Insight> {
    let number = |key: &str| node.props.get(key).and_then(serde_json::Value::as_f64);
    let text = |key: &str| prop(node, key).unwrap_or_default();
    // The rows the operation held, from the plan's own figures: what the input sent it (a
    // Hash or Sort returns every input row) at the width the planner measured, plus the
    // per-row overhead. The planner's own estimate counts too: it splits a hash into batches
    // when *it* expects more than fits, whatever the rows turn out to be.
    let input_kb = |rows: f64| rows * (node.plan_width + ROW_OVERHEAD_BYTES) / 1024.0;
    let held_rows = plan
        .children(node.id)
        .find(|child| !child.relationship.is_subplan())
        .and_then(|child| child.metrics.rows)
        .map_or(0.0, |rows| rows.value);
    let (needed_kb, what) = match node.node_type.as_str() {
        "Sort" | "Incremental Sort"
            if text("Sort Space Type") == "Disk" || text("Sort Method").starts_with("external") =>
        {
            let disk = number("Sort Space Used")?;
            (
                input_kb(held_rows).max(disk * 2.0),
                format!("sorted on disk ({} kB)", group(disk)),
            )
        }
        "Hash" if number("Hash Batches")? > 1.0 => {
            let batches = number("Hash Batches")?;
            let planned = number("Original Hash Batches").unwrap_or(1.0);
            let peak = number("Peak Memory Usage")?;
            let batches_text = group(batches);
            let expected = if planned > 1.0 {
                format!(
                    " (the planner expected it: it planned {} batches)",
                    group(planned)
                )
            } else {
                String::new()
            };
            (
                (peak * batches)
                    .max(input_kb(held_rows))
                    .max(input_kb(node.plan_rows)),
                format!("split its hash table into {batches_text} batches on disk{expected}"),
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
    // Round up to a power of two: a round number a reader can remember and adjust, and
    // never below what the figures say it needs.
    let megabytes = (needed_kb / 1024.0).ceil().max(1.0);
    let setting = 2_f64.powi(megabytes.log2().ceil() as i32);
    Some(Insight {
        kind: Symptom::Spill,
        node: node.id,
        reason: format!(
            "{} {what}, writing {} temporary blocks, because it needed more than work_mem; \
             its {} rows of about {} bytes need roughly {} MB in memory (arithmetic on the \
             plan's figures), so {} MB keeps it there (set it for this session, not \
             server-wide: every sort and hash of every connection may use that much)",
            node.title(),
            group(temp as f64),
            group(held_rows),
            group(node.plan_width),
            group(megabytes),
            group(setting)
        ),
        fix: format!("set work_mem = '{}MB';", group(setting)),
        cost_ms: exclusive_ms(node),
    })
}

fn misestimates(plan: &Plan) -> Vec<Insight> {
    let mut found: Vec<Insight> = Vec::new();
    // Nodes whose misestimate is accounted for (advised on or beyond statistics' reach).
    let mut explained: Vec<NodeId> = Vec::new();
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
        let below = explained
            .iter()
            .any(|&id| id == node.id || is_descendant(plan, id, node.id));
        if below {
            continue;
        }
        let tables = tables_at_or_below(plan, node);
        if tables.is_empty() {
            continue;
        }
        // Where no statistics can help, the node is explained but nothing is advised: the
        // nodes above inherit its error and are not flagged either.
        // `id <= $2`: the value comes from an InitPlan at run time, so the planner used a
        // default guess. `(author_id)::numeric = 250000.0`: no statistics describe the cast
        // value; the scan's own insight says to drop the cast. `HAVING count(*) > 5`: the
        // planner cannot know how many groups pass a condition on an aggregate.
        if conditions.iter().any(Comparison::against_parameter)
            || conditions.iter().any(Comparison::hides_column)
            || (is_aggregate(node) && prop(node, "Filter").is_some())
        {
            explained.push(node.id);
            continue;
        }
        // `GROUP BY substr(title, 1, 12)`: the planner guesses how many distinct values an
        // expression has unless expression statistics (PostgreSQL 14+) count them.
        let expressions = group_key_expressions(node);
        if !expressions.is_empty() {
            explained.push(node.id);
            if let [table] = tables.as_slice() {
                found.push(expression_statistics(node, estimate, table, &expressions));
            }
            continue;
        }
        explained.push(node.id);
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

fn is_aggregate(node: &Node) -> bool {
    matches!(node.node_type.as_str(), "Aggregate" | "Group")
}

/// The `Group Key` entries of `node` that are expressions rather than plain columns.
fn group_key_expressions(node: &Node) -> Vec<String> {
    if !is_aggregate(node) {
        return Vec::new();
    }
    node.props
        .get("Group Key")
        .and_then(serde_json::Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(serde_json::Value::as_str)
                .filter(|key| key.contains('('))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn expression_statistics(
    node: &Node,
    estimate: super::Estimate,
    table: &str,
    expressions: &[String],
) -> Insight {
    let actual = node.actual.map_or(0.0, |actual| actual.rows);
    let more_or_fewer = match estimate.direction {
        Direction::Under => "more",
        _ => "fewer",
    };
    Insight {
        kind: Symptom::Misestimate,
        node: node.id,
        reason: format!(
            "{} was planned for {} groups and made {} ({:.0}× {more_or_fewer}): the planner \
             has no statistics on {}, only on plain columns, so it guessed how many distinct \
             values it has; ANALYZE alone cannot fix that, statistics on the expression can",
            node.title(),
            group(node.plan_rows),
            group(actual),
            estimate.factor,
            expressions.join(", ")
        ),
        fix: format!(
            "create statistics {} on {} from {}; analyze {};",
            ident(&format!("{table}_group_key_stats")),
            expressions
                .iter()
                .map(|expression| format!("({expression})"))
                .collect::<Vec<_>>()
                .join(", "),
            ident(table),
            ident(table)
        ),
        cost_ms: exclusive_ms(node),
    }
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
            let (fix, why) = match catalog.foreign_keys.get(constraint) {
                Some(key) => {
                    let child = format!("{} ({})", key.table, key.columns.join(", "));
                    let why = match catalog.indexes_of(&key.table) {
                        // Indexed: each check is an index lookup, and the time is what that
                        // many lookups cost; an index is not the fix.
                        Some(_) if catalog.full_index_on(&key.table, &key.columns).is_some() => {
                            return None;
                        }
                        Some(_) => format!(
                            "no index of {} starts with {}, so each look reads that whole table",
                            key.table,
                            key.columns.join(", ")
                        ),
                        None => {
                            format!("without an index on {child} each look reads that whole table")
                        }
                    };
                    (create_index(&key.table, &key.columns), why)
                }
                None => (
                    format!(
                        "select conrelid::regclass, pg_get_constraintdef(oid) from pg_constraint \
                         where conname = '{}'; -- then create an index on the columns it names",
                        constraint.replace('\'', "''")
                    ),
                    "without an index on the referencing column each look reads that whole \
                     table"
                        .to_owned(),
                ),
            };
            Some(Insight {
                kind: Symptom::ForeignKeyCheck,
                node: plan.root().id,
                reason: format!(
                    "the foreign-key check {constraint} took {} of {} ({}) in {}: for each row \
                     changed in {parent} PostgreSQL looks for rows still referencing it, and \
                     {why}",
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
