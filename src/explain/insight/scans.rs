//! The insights about how a table is reached: a seq scan that an index would avoid, an index
//! scan that throws most of its rows away, a nested loop rescanning a table, and a composite
//! index used past its bounding prefix. Each names the columns its fix indexes, read from the
//! node's printed conditions, equality columns first.

use super::super::condition::{self, Comparison, Op};
use super::super::text::{ms, percent};
use super::super::{Node, Plan, Relationship};
use super::{
    CatalogFacts, Insight, LARGE_TABLE_ROWS, MANY_INNER_LOOPS, MOST_ROWS_DISCARDED, Symptom,
    WASTED_INDEX_ROWS, belongs_to, create_index, exclusive_ms, index_order, own_comparisons, prop,
    removed_per_loop,
};
use crate::text::group;

pub(super) fn seq_scan_filter(node: &Node) -> Option<Insight> {
    if node.node_type != "Seq Scan" {
        return None;
    }
    let table = node.relation.as_deref()?;
    let returned = node.metrics.rows?.value;
    let removed = node.metrics.removed_by_filter?.value;
    let examined = returned + removed;
    if examined < LARGE_TABLE_ROWS || removed / examined < MOST_ROWS_DISCARDED {
        return None;
    }
    let columns = index_order(&own_comparisons(node, &["Filter"]));
    if columns.is_empty() {
        // `LIKE '%x%'`, functions, OR: a plain B-tree index would not serve this filter.
        return None;
    }
    Some(Insight {
        kind: Symptom::SeqScanFilter,
        node: node.id,
        reason: format!(
            "{} read {} rows and its filter threw {} of them away ({}) to return {}; \
             an index on {} lets it go straight to the matching rows",
            node.title(),
            group(examined),
            group(removed),
            percent(removed / examined),
            group(returned),
            columns.join(", ")
        ),
        fix: create_index(table, &columns),
        cost_ms: exclusive_ms(node),
    })
}

pub(super) fn index_filter(plan: &Plan, node: &Node, catalog: &CatalogFacts) -> Option<Insight> {
    let index = match node.node_type.as_str() {
        "Index Scan" | "Index Only Scan" => node.index_name.clone(),
        // The bitmap's index is named on the Bitmap Index Scan below.
        "Bitmap Heap Scan" => plan
            .children(node.id)
            .find_map(|child| child.index_name.clone()),
        _ => return None,
    };
    let table = node.relation.as_deref()?;
    let returned = node.metrics.rows?.value;
    let removed = node.metrics.removed_by_filter?.value;
    if removed <= WASTED_INDEX_ROWS || removed / (removed + returned) < MOST_ROWS_DISCARDED {
        return None;
    }
    let filtered = own_comparisons(node, &["Filter"]);
    let mut wanted = own_comparisons(node, &["Index Cond", "Recheck Cond"]);
    wanted.extend(filtered.iter().cloned());
    let columns = index_order(&wanted);
    let filter_columns = index_order(&filtered);
    if filter_columns.is_empty() {
        return None;
    }
    let index_text = match index
        .as_ref()
        .and_then(|name| catalog.index_columns.get(name))
    {
        Some(existing) => format!(
            "{} ({})",
            index.as_deref().unwrap_or_default(),
            existing.join(", ")
        ),
        None => index.unwrap_or_else(|| "the index".to_owned()),
    };
    Some(Insight {
        kind: Symptom::IndexFilter,
        node: node.id,
        reason: format!(
            "{} found {} rows through {index_text}, then its filter threw {} of them away \
             ({}); an index that also holds {} finds only the rows that match",
            node.title(),
            group(removed + returned),
            group(removed),
            percent(removed / (removed + returned)),
            filter_columns.join(", ")
        ),
        fix: create_index(table, &columns),
        cost_ms: exclusive_ms(node),
    })
}

pub(super) fn nested_loop_scan(plan: &Plan, node: &Node) -> Option<Insight> {
    if node.node_type != "Nested Loop" {
        return None;
    }
    let inner = plan
        .children(node.id)
        .find(|child| child.relationship == Relationship::Inner)?;
    // A Materialize keeps the inner rows after one scan, but every outer row still compares
    // against all of them.
    let (runs, scan) = match inner.node_type.as_str() {
        "Seq Scan" => (inner, inner),
        "Materialize" => (inner, plan.children(inner.id).next()?),
        _ => return None,
    };
    let loops = runs.actual?.loops;
    if scan.node_type != "Seq Scan" || loops < MANY_INNER_LOOPS {
        return None;
    }
    let table = scan.relation.as_deref()?;
    let mut keys = own_comparisons(scan, &["Filter"]);
    keys.extend(
        condition::comparisons(prop(node, "Join Filter").unwrap_or_default())
            .into_iter()
            .filter(|comparison| belongs_to(comparison, scan)),
    );
    let columns = index_order(&keys);
    if columns.is_empty() {
        return None;
    }
    let per_run = scan.actual.map_or(0.0, |actual| actual.rows) + removed_per_loop(scan);
    Some(Insight {
        kind: Symptom::NestedLoopScan,
        node: scan.id,
        reason: format!(
            "{} ran {} {} times, once per outer row, going through {} rows each time{}; \
             an index on {} turns each run into a lookup",
            node.title(),
            scan.title(),
            group(loops),
            group(per_run),
            inner
                .metrics
                .time
                .map_or_else(String::new, |t| format!(" ({} in all)", ms(t.inclusive_ms))),
            columns.join(", ")
        ),
        fix: create_index(table, &columns),
        cost_ms: inner.metrics.time.map(|time| time.inclusive_ms),
    })
}

pub(super) fn index_prefix(plan: &Plan, node: &Node, catalog: &CatalogFacts) -> Option<Insight> {
    if !matches!(
        node.node_type.as_str(),
        "Index Scan" | "Index Only Scan" | "Bitmap Index Scan"
    ) {
        return None;
    }
    let index = node.index_name.as_deref()?;
    let columns = catalog.index_columns.get(index)?;
    let conditions = own_comparisons(node, &["Index Cond"]);
    let mut bounding: Vec<&str> = Vec::new();
    for column in columns {
        let on_column: Vec<&Comparison> =
            conditions.iter().filter(|c| &c.column == column).collect();
        if on_column.is_empty() {
            break;
        }
        bounding.push(column);
        // After a range, the next column's entries are no longer in one contiguous run.
        if !on_column.iter().any(|c| c.op == Op::Equality) {
            break;
        }
    }
    let mut checked: Vec<&str> = Vec::new();
    for comparison in &conditions {
        let column = comparison.column.as_str();
        if !bounding.contains(&column) && !checked.contains(&column) {
            checked.push(column);
        }
    }
    if checked.is_empty() {
        return None;
    }
    let mut named: Vec<&str> = Vec::new();
    for comparison in &conditions {
        if !named.contains(&comparison.column.as_str()) {
            named.push(&comparison.column);
        }
    }
    // A Bitmap Index Scan names no table: its Bitmap Heap Scan (through any BitmapAnd/Or)
    // does.
    let mut table = node.relation.as_deref();
    let mut above = node.parent;
    while table.is_none()
        && let Some(id) = above
    {
        table = plan.node(id).relation.as_deref();
        above = plan.node(id).parent;
    }
    let bound_text = if bounding.is_empty() {
        format!(
            "none of them bounds the scan (the index starts with {}, which the query does not \
             constrain), so the whole index is read",
            columns.first().map_or("", String::as_str)
        )
    } else {
        format!(
            "only {} bounds the part of the index read",
            bounding.join(", ")
        )
    };
    let fix = match table {
        Some(table) => create_index(table, &index_order(&conditions)),
        None => return None,
    };
    Some(Insight {
        kind: Symptom::IndexPrefix,
        node: node.id,
        reason: format!(
            "{index} is on ({}); the Index Cond constrains {}, but {bound_text}: {} {} only \
             checked entry by entry (the left-prefix rule: an index is searched by its leading \
             columns, equality first)",
            columns.join(", "),
            named.join(" and "),
            checked.join(" and "),
            if checked.len() == 1 { "is" } else { "are" }
        ),
        fix,
        cost_ms: exclusive_ms(node),
    })
}
