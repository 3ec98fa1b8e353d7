//! The insights about how a table is reached: a seq scan that an index would avoid, an index
//! scan that throws most of its rows away, a nested loop rescanning a table, and a composite
//! index used past its bounding prefix. Each names the columns its fix indexes, read from the
//! node's printed conditions, equality columns first.

use super::super::condition::{self, Comparison, Op};
use super::super::text::{ms, percent};
use super::super::{Node, Plan, Relationship};
use super::{
    CatalogFacts, INNER_ROWS_WORTH_AN_INDEX, INNER_SHARE, Insight, LARGE_TABLE_ROWS,
    MANY_INNER_LOOPS, MOST_ROWS_DISCARDED, Symptom, WASTED_INDEX_ROWS, belongs_to, create_index,
    exclusive_ms, ident, index_order, own_comparisons, prop, removed_per_loop,
};
use crate::text::group;

pub(super) fn seq_scan_filter(node: &Node, catalog: &CatalogFacts) -> Option<Insight> {
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
    let filter = own_comparisons(node, &["Filter"]);
    let evidence = format!(
        "{} read {} rows and its filter threw {} of them away ({}) to return {}",
        node.title(),
        group(examined),
        group(removed),
        percent(removed / examined),
        group(returned),
    );
    let insight = |kind, reason: String, fix: String| Insight {
        kind,
        node: node.id,
        reason: format!("{evidence}; {reason}"),
        fix,
        cost_ms: exclusive_ms(node),
    };
    // A cast on the column: no index on the column can serve it, whatever exists.
    if let Some(cast) = filter
        .iter()
        .find(|c| c.hides_column() && c.op != Op::Other)
    {
        let (reason, fix) = uncast(table, cast, catalog);
        return Some(insight(Symptom::Rewrite, reason, fix));
    }
    let lookups: Vec<Comparison> = filter
        .iter()
        .filter(|c| c.op != Op::Other)
        .cloned()
        .collect();
    let columns = index_order(&lookups);
    // `LIKE '%x%'`, functions, OR: what a plain B-tree index would not serve.
    let unservable: Vec<&Comparison> = filter.iter().filter(|c| c.op == Op::Other).collect();
    let filter_text = prop(node, "Filter").unwrap_or_default();
    let substring = unservable
        .iter()
        .find(|c| filter_text.contains(&format!("{} ~~", c.column)));
    if columns.is_empty() {
        return None;
    }
    // The index exists but only for the rows its predicate describes (lesson 9's partial
    // index): repeating the predicate is the fix, if the query means those rows.
    // Not when a full index serves the column too, nor when the query already repeats the
    // predicate (the planner then judged the index not worth it).
    let repeated = |predicate: &str| {
        filter_text.contains(predicate.trim_start_matches('(').trim_end_matches(')'))
    };
    let partial = catalog.indexes_of(table).and_then(|indexes| {
        indexes.iter().find(|index| {
            index.columns.first() == columns.first()
                && index.predicate.as_deref().is_some_and(|p| !repeated(p))
        })
    });
    if let Some(partial) = partial.filter(|_| catalog.full_index_on(table, &columns[..1]).is_none())
    {
        let predicate = partial.predicate.as_deref().unwrap_or_default();
        return Some(insight(
            Symptom::Rewrite,
            format!(
                "{} already indexes {}, but only the rows where {predicate}, and this query \
                 does not say it wants only those, so the planner cannot use it; if the query \
                 means those rows (a soft-deleting application's usually does), say so and the \
                 index applies",
                partial.name,
                partial.columns.join(", ")
            ),
            format!("-- add to the query's WHERE: and {predicate}"),
        ));
    }
    if let Some(existing) = catalog.full_index_on(table, &columns[..1]) {
        // The planner had an index and preferred the table: its condition matches too many
        // rows to be worth it. What throws the rows away is a condition no B-tree serves.
        let column = substring?.column.clone();
        return Some(insight(
            Symptom::SeqScanFilter,
            format!(
                "{} already indexes {}, and the planner preferred reading the table: {} \
                 matches too many rows for it to help; the rows are thrown away by the LIKE on \
                 {column}, whose leading % no B-tree index can serve, and a trigram index can",
                existing.name,
                existing.columns.join(", "),
                columns[0]
            ),
            format!(
                "create extension if not exists pg_trgm; create index on {} using gin ({} \
                 gin_trgm_ops);",
                ident(table),
                ident(&column)
            ),
        ));
    }
    Some(insight(
        Symptom::SeqScanFilter,
        format!(
            "an index on {} lets it go straight to the matching rows",
            columns.join(", ")
        ),
        create_index(table, &columns),
    ))
}

/// The reason and fix for a filter that casts its column: compare the column as it is.
fn uncast(table: &str, cast: &Comparison, catalog: &CatalogFacts) -> (String, String) {
    let column = &cast.column;
    let to = cast.cast.as_deref().unwrap_or_default();
    let indexed = catalog.full_index_on(table, std::slice::from_ref(column));
    let index_note = match indexed {
        Some(index) => format!("{} on {column} cannot serve it", index.name),
        None => format!("no index on {column} could serve it"),
    };
    if to == "date" && cast.op == Op::Equality {
        // `created_at::date = d` is the half-open range of that day.
        let day = cast.value.trim_end_matches("::date");
        let index = match (catalog.indexes_of(table), indexed) {
            (Some(_), None) => format!(" {}", create_index(table, std::slice::from_ref(column))),
            _ => String::new(),
        };
        return (
            format!(
                "casting {column} to date for every row hides the column ({index_note}) and \
                 from its statistics; the same rows are one day's range of {column}, which an \
                 index on {column} serves as it is{}",
                if index.is_empty() {
                    ""
                } else {
                    " (and none exists yet)"
                }
            ),
            format!(
                "-- rewrite the condition as a range: where {column} >= {day} and {column} < \
                 {day}::date + 1;{index}"
            ),
        );
    }
    // `author_id = 250000.0`: a numeric literal makes PostgreSQL compare as numeric, casting
    // the column. A literal of the column's own type keeps the column bare.
    let value = cast.value.trim_end_matches(&format!("::{to}")).to_owned();
    let literal = match value.parse::<f64>() {
        Ok(number) if number.fract() == 0.0 && !value.contains('e') => {
            format!("{column} = {}", number as i64)
        }
        _ => format!("{column} = cast({value} as <the type of {column}>)"),
    };
    (
        format!(
            "the value's type ({to}) makes PostgreSQL cast {column} for every row, which hides \
             the column ({index_note}) and from its statistics (so ANALYZE cannot fix the \
             estimate): write the value in the column's own type"
        ),
        format!("-- compare the column as it is: where {literal}"),
    )
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
    // A Materialize keeps the inner rows after one scan: the scan ran once, and each outer
    // row compares against the materialized rows instead.
    let (runs, scan) = match inner.node_type.as_str() {
        "Seq Scan" => (inner, inner),
        "Materialize" => (inner, plan.children(inner.id).next()?),
        _ => return None,
    };
    let loops = runs.actual?.loops;
    if scan.node_type != "Seq Scan" || loops < MANY_INNER_LOOPS {
        return None;
    }
    // Rows gone through per outer row: the scanned table's rows, or the materialized ones.
    let per_run = if runs.id == scan.id {
        scan.actual.map_or(0.0, |actual| actual.rows) + removed_per_loop(scan)
    } else {
        runs.actual.map_or(0.0, |actual| actual.rows)
    };
    // A few rows per run are cheaper to go through than to look up, and a loop that costs
    // little of the statement is not worth an index either.
    let inner_ms = runs.metrics.time.map_or(0.0, |time| time.inclusive_ms);
    let share = plan
        .runtime_ms()
        .filter(|total| *total > 0.0)
        .map(|total| inner_ms / total);
    if per_run < INNER_ROWS_WORTH_AN_INDEX || share.is_some_and(|share| share < INNER_SHARE) {
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
    let what_ran = if runs.id == scan.id {
        format!(
            "{} {} times, once per outer row,",
            scan.title(),
            group(loops)
        )
    } else {
        format!(
            "{} once and rescanned its {} rows {} times, once per outer row,",
            scan.title(),
            group(per_run),
            group(loops)
        )
    };
    Some(Insight {
        kind: Symptom::NestedLoopScan,
        node: scan.id,
        reason: format!(
            "{} ran {what_ran} going through {} rows each time{}; an index on {} turns each \
             run into a lookup",
            node.title(),
            group(per_run),
            runs.metrics
                .time
                .map_or_else(String::new, |t| format!(" ({} in all)", ms(t.inclusive_ms))),
            columns.join(", ")
        ),
        fix: create_index(table, &columns),
        cost_ms: runs.metrics.time.map(|time| time.inclusive_ms),
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
