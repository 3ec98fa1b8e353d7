//! Fetching plans: learner SQL under `EXPLAIN`, with what it changes undone, plus the catalog
//! facts the plan's insights need (an index's columns, a foreign key's referencing columns).
//!
//! `EXPLAIN ANALYZE` runs the statement for real. A data-modifying statement is therefore
//! explained inside a transaction (a savepoint when the learner already has one open) that is
//! rolled back, and the result says so, for the learner to be told. Every ANALYZE run is
//! wrapped that way, in fact: a SELECT can call a function that writes, and undoing nothing
//! costs nothing; but only text that visibly changes data is reported as rolled back.

use std::collections::HashMap;

use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Row};

use super::Error;
use super::console::ExecuteError;
use crate::explain::diff::median;
use crate::explain::{self, CatalogFacts, ForeignKey, Plan, TableIndex};

/// Whether EXPLAIN runs the statement (actual times, rows, buffers) or only plans it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Analyze {
    Yes,
    No,
}

/// A plan fetched for learner SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub plan: Plan,
    /// The statement changed data when it ran, and those changes were rolled back.
    pub rolled_back: bool,
}

/// Which plans the planner may choose for a timed run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planner {
    /// Whatever it would choose: the statement as the application runs it.
    AsIs,
    /// Index, index-only and bitmap scans switched off (`SET LOCAL`), so a table is read
    /// the way it would be without its indexes.
    NoIndexes,
    /// Sequential scans switched off, so an index is used wherever one can be.
    NoSeqScan,
}

impl Planner {
    /// The `SET LOCAL`s that steer the planner; the transaction they run in undoes them.
    pub fn settings(self) -> &'static [&'static str] {
        match self {
            Planner::AsIs => &[],
            Planner::NoIndexes => &[
                "set local enable_indexscan = off",
                "set local enable_indexonlyscan = off",
                "set local enable_bitmapscan = off",
            ],
            Planner::NoSeqScan => &["set local enable_seqscan = off"],
        }
    }
}

/// Execution times of several `TIMING OFF` runs of one statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Timings {
    /// Each run's `Execution Time`, ms, in the order they ran.
    pub runs_ms: Vec<f64>,
    /// The median of `runs_ms`: one slow run (a cold cache, a checkpoint) does not move it.
    pub median_ms: f64,
    /// As [`Fetched::rolled_back`].
    pub rolled_back: bool,
    /// The last run's plan: its shape and rows, without node times (`TIMING OFF`).
    pub plan: Plan,
}

/// Explains `sql` (exactly one statement) with `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`, or
/// `EXPLAIN (FORMAT JSON)` with [`Analyze::No`], and reads the plan.
pub async fn explain(
    conn: &mut PgConnection,
    sql: &str,
    analyze: Analyze,
) -> Result<Fetched, ExecuteError> {
    if let Some(found) = not_one_statement(sql) {
        return Err(ExecuteError::NotOneStatement { found });
    }
    let rolled_back = analyze == Analyze::Yes && crate::sql::changes_data(sql);
    let value = match analyze {
        // Planning only: nothing runs, so nothing needs undoing.
        Analyze::No => fetch_json(conn, "explain (format json)", sql).await?,
        Analyze::Yes => undone(conn, &[], "explain (analyze, buffers, format json)", sql).await?,
    };
    let mut plan = explain::from_value(&value).map_err(|e| ExecuteError::Plan(e.to_string()))?;
    mark_before_triggers(conn, &mut plan).await?;
    Ok(Fetched { plan, rolled_back })
}

/// Runs `sql` under `EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON)` `runs` times (at least once)
/// with the planner steered by `planner`, and returns the execution times and their median.
/// Per-node timing is off because reading the clock for every row can double a query's time
/// (research note §6.7), which would blur a before/after comparison.
pub async fn compare_runs(
    conn: &mut PgConnection,
    sql: &str,
    runs: usize,
    planner: Planner,
) -> Result<Timings, ExecuteError> {
    if let Some(found) = not_one_statement(sql) {
        return Err(ExecuteError::NotOneStatement { found });
    }
    let mut runs_ms = Vec::with_capacity(runs.max(1));
    let mut plan = None;
    for _ in 0..runs.max(1) {
        let explain = "explain (analyze, timing off, format json)";
        let value = undone(conn, planner.settings(), explain, sql).await?;
        let run = explain::from_value(&value).map_err(|e| ExecuteError::Plan(e.to_string()))?;
        let ms = run
            .execution_ms
            .ok_or_else(|| ExecuteError::Plan("the plan has no \"Execution Time\"".to_string()))?;
        runs_ms.push(ms);
        plan = Some(run);
    }
    Ok(Timings {
        median_ms: median(&runs_ms),
        runs_ms,
        rolled_back: crate::sql::changes_data(sql),
        plan: plan.expect("at least one run"),
    })
}

/// How much faster `sql` runs as planned than with index scans switched off: the median of
/// `runs` timed runs each way, divided. Above 1 the planner's indexes pay off.
pub async fn speedup_over_no_indexes(
    conn: &mut PgConnection,
    sql: &str,
    runs: usize,
) -> Result<f64, ExecuteError> {
    let planned = compare_runs(conn, sql, runs, Planner::AsIs).await?;
    let without = compare_runs(conn, sql, runs, Planner::NoIndexes).await?;
    // A statement too fast for the clock's 0.001 ms resolution counts as taking that long.
    Ok(without.median_ms / planned.median_ms.max(0.001))
}

/// The key columns of each named index visible on the search path, in index order
/// (expressions as PostgreSQL prints them; INCLUDE columns left out, they bound nothing).
/// Names not found are absent from the map.
pub async fn index_columns(
    conn: &mut PgConnection,
    index_names: &[String],
) -> Result<HashMap<String, Vec<String>>, Error> {
    let rows: Vec<(String, Vec<String>)> = sqlx::query_as(
        "select c.relname::text,
                array_agg(pg_get_indexdef(i.indexrelid, k.n, true) order by k.n)
           from pg_index i
           join pg_class c on c.oid = i.indexrelid
          cross join lateral generate_series(1, i.indnkeyatts::int) as k(n)
          where c.relname = any($1) and pg_table_is_visible(c.oid)
          group by c.relname",
    )
    .bind(index_names)
    .fetch_all(conn)
    .await
    .map_err(Error::sql("cannot read the columns of the plan's indexes"))?;
    Ok(rows.into_iter().collect())
}

/// The referencing table and columns of each named foreign-key constraint on a table visible
/// on the search path. Names not found are absent from the map.
pub async fn foreign_keys(
    conn: &mut PgConnection,
    constraint_names: &[String],
) -> Result<HashMap<String, ForeignKey>, Error> {
    let rows: Vec<(String, String, Vec<String>)> = sqlx::query_as(
        "select con.conname::text, c.relname::text,
                array_agg(a.attname::text order by k.n)
           from pg_constraint con
           join pg_class c on c.oid = con.conrelid
          cross join lateral unnest(con.conkey) with ordinality as k(attnum, n)
           join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum
          where con.contype = 'f' and con.conname = any($1) and pg_table_is_visible(c.oid)
          group by con.conname, c.relname",
    )
    .bind(constraint_names)
    .fetch_all(conn)
    .await
    .map_err(Error::sql(
        "cannot read the foreign keys whose checks the plan ran",
    ))?;
    Ok(rows
        .into_iter()
        .map(|(name, table, columns)| (name, ForeignKey { table, columns }))
        .collect())
}

/// Table, index (none for a table without one), key columns, partial predicate.
type IndexRow = (String, Option<String>, Option<Vec<String>>, Option<String>);

/// Every index of each named table visible on the search path: key columns in order
/// (expressions as PostgreSQL prints them) and a partial index's predicate. A table that has
/// no index maps to an empty list; a name not found is absent.
pub async fn table_indexes(
    conn: &mut PgConnection,
    tables: &[String],
) -> Result<HashMap<String, Vec<TableIndex>>, Error> {
    let rows: Vec<IndexRow> = sqlx::query_as(
        "select t.relname::text, ic.relname::text,
                    (select array_agg(pg_get_indexdef(i.indexrelid, k.n, true) order by k.n)
                       from generate_series(1, i.indnkeyatts::int) as k(n)),
                    pg_get_expr(i.indpred, i.indrelid, true)
               from pg_class t
               left join pg_index i on i.indrelid = t.oid
               left join pg_class ic on ic.oid = i.indexrelid
              where t.relname = any($1) and t.relkind in ('r', 'p', 'm')
                and pg_table_is_visible(t.oid)
              order by t.relname, ic.relname",
    )
    .bind(tables)
    .fetch_all(conn)
    .await
    .map_err(Error::sql("cannot read the indexes of the plan's tables"))?;
    let mut found: HashMap<String, Vec<TableIndex>> = HashMap::new();
    for (table, index, columns, predicate) in rows {
        let indexes = found.entry(table).or_default();
        if let Some(name) = index {
            indexes.push(TableIndex {
                name,
                columns: columns.unwrap_or_default(),
                predicate,
            });
        }
    }
    Ok(found)
}

/// Everything [`explain::insights`] can use from the catalog for `plan`.
pub async fn catalog(conn: &mut PgConnection, plan: &Plan) -> Result<CatalogFacts, Error> {
    let index_columns = index_columns(conn, &explain::insight::index_names(plan)).await?;
    let foreign_keys = foreign_keys(conn, &explain::insight::foreign_key_names(plan)).await?;
    let mut tables = explain::insight::table_names(plan);
    tables.extend(foreign_keys.values().map(|key| key.table.clone()));
    tables.sort();
    tables.dedup();
    let table_indexes = table_indexes(conn, &tables).await?;
    Ok(CatalogFacts {
        index_columns,
        foreign_keys,
        table_indexes,
    })
}

/// Marks the plan's BEFORE triggers, which the catalog knows and the plan does not print
/// (bit 2 of `pg_trigger.tgtype`), so that their time is not counted twice.
async fn mark_before_triggers(conn: &mut PgConnection, plan: &mut Plan) -> Result<(), sqlx::Error> {
    if plan.triggers.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = plan.triggers.iter().map(|t| t.name.clone()).collect();
    let before: Vec<(String, String)> = sqlx::query_as(
        "select t.tgname::text, c.relname::text
           from pg_trigger t join pg_class c on c.oid = t.tgrelid
          where t.tgname = any($1) and t.tgtype & 2 = 2 and pg_table_is_visible(c.oid)",
    )
    .bind(&names)
    .fetch_all(conn)
    .await?;
    for trigger in &mut plan.triggers {
        trigger.before = before.iter().any(|(name, table)| {
            *name == trigger.name && trigger.relation.as_deref().is_none_or(|r| r == table)
        });
    }
    Ok(())
}

/// The statement count when it is not exactly one.
fn not_one_statement(sql: &str) -> Option<usize> {
    let found = crate::sql::statement_count(sql);
    (found != 1).then_some(found)
}

/// Runs `explain sql` in a transaction or savepoint that is rolled back whatever happens,
/// after `settings` (`SET LOCAL`s, which a rollback to the savepoint undoes too).
async fn undone(
    conn: &mut PgConnection,
    settings: &[&'static str],
    explain: &str,
    sql: &str,
) -> Result<serde_json::Value, ExecuteError> {
    // Inside the learner's own transaction a BEGIN would be ignored and the ROLLBACK would end
    // theirs; a savepoint undoes only the EXPLAIN. In a transaction block `now()` is the
    // block's start, earlier than this statement's; outside one they are the same instant.
    // That holds for a simple-protocol query only (the extended protocol restamps the
    // statement at each message), hence `raw_sql`. In a failed transaction this query fails,
    // and that error is the learner's answer.
    let row = sqlx::raw_sql("select now() <> statement_timestamp()")
        .fetch_one(&mut *conn)
        .await?;
    let in_block: bool = row.try_get(0)?;
    let (open, undo): (&'static str, &'static [&'static str]) = if in_block {
        (
            "savepoint pglab_explain",
            &[
                "rollback to savepoint pglab_explain",
                "release savepoint pglab_explain",
            ],
        )
    } else {
        ("begin", &["rollback"])
    };
    sqlx::raw_sql(open).execute(&mut *conn).await?;
    let mut result = Ok(serde_json::Value::Null);
    for &setting in settings {
        if let Err(error) = sqlx::raw_sql(setting).execute(&mut *conn).await {
            result = Err(error.into());
            break;
        }
    }
    if result.is_ok() {
        result = fetch_json(conn, explain, sql).await;
    }
    let mut undo_result = Ok(());
    for &statement in undo {
        if let Err(error) = sqlx::raw_sql(statement).execute(&mut *conn).await {
            undo_result = Err(error);
            break;
        }
    }
    // The statement's own error says more than a failed undo after it.
    let value = result?;
    undo_result?;
    Ok(value)
}

/// `explain sql`'s single JSON value.
async fn fetch_json(
    conn: &mut PgConnection,
    explain: &str,
    sql: &str,
) -> Result<serde_json::Value, ExecuteError> {
    // The one place pglab splices learner text into SQL of its own: EXPLAIN takes a
    // statement, not a value, so it cannot be a bind parameter. It is safe because the text
    // holds exactly one statement (counted above), and the extended protocol used here
    // refuses a second one anyway, so nothing can follow the EXPLAIN. Not kept in sqlx's
    // statement cache: learner text is seen once.
    let text = format!("{explain} {sql}");
    let (value,): (serde_json::Value,) = sqlx::query_as(AssertSqlSafe(text))
        .persistent(false)
        .fetch_one(conn)
        .await
        .map_err(|error| in_statement(error.into(), explain))?;
    Ok(value)
}

/// `error` with its position counted in the learner's statement rather than in the text
/// sent (`explain` and a space before it), so a caret lands under the right character.
fn in_statement(mut error: ExecuteError, explain: &str) -> ExecuteError {
    if let ExecuteError::Sql(failure) = &mut error {
        let before = explain.chars().count() + 1;
        failure.position = failure
            .position
            .and_then(|position| position.checked_sub(before))
            .filter(|position| *position > 0);
    }
    error
}
