//! The one door for learner SQL: the text the learner typed runs exactly as typed, on a
//! connection of its own, with the simple query protocol (every value arrives in PostgreSQL's
//! text form). A script of several statements is sent one statement at a time, as
//! interactive psql and application code send them: each statement is a round trip of its
//! own, which is what the lab counts and the N+1 lesson's exercise grades. Also the
//! console's helpers around it: cancelling a running statement, and reading the node types of
//! a statement's plan for lesson checks.
//!
//! Learner SQL errors are data, not failures of the lab: they come back as a
//! [`ServerError`] with everything the server said, and a UI can put a caret under the error
//! position.

use std::time::Instant;

use futures::TryStreamExt;
use sqlx::postgres::{
    PgConnectOptions, PgConnection, PgDatabaseError, PgErrorPosition, PgRow, PgSeverity,
};
use sqlx::{AssertSqlSafe, Column, Either, Row, ValueRef};

use super::Error;
use crate::data::console::{Outcome, StatementResult};
use crate::data::{ResultSet, ServerError};

/// A learner's connection and the server process serving it (the handle for cancelling).
#[derive(Debug)]
pub struct Console {
    conn: PgConnection,
    backend_pid: i32,
    /// Whether the learner's statements left a transaction open, followed statement by
    /// statement (see [`crate::sql::rerun::transaction_open_after`]): sqlx only knows of
    /// the transactions it opened itself.
    in_transaction: bool,
}

/// The server's error for learner SQL, as data; an internal position points into SQL a
/// function ran, not the learner's text, and is left out.
fn server_error(error: &PgDatabaseError) -> ServerError {
    ServerError {
        severity: format!("{:?}", error.severity()).to_uppercase(),
        sqlstate: error.code().to_string(),
        message: error.message().to_string(),
        detail: error.detail().map(str::to_string),
        hint: error.hint().map(str::to_string),
        position: match error.position() {
            Some(PgErrorPosition::Original(position)) => Some(position),
            _ => None,
        },
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    /// The server refused or aborted the SQL: the learner's to read and fix.
    #[error("{0}")]
    Sql(ServerError),
    /// The connection is gone (server restarted, network lost, session terminated);
    /// connect again with [`Console::connect`].
    #[error(
        "the connection to the database was lost ({}); reconnect to continue",
        super::server_words(.0)
    )]
    Connection(sqlx::Error),
    /// EXPLAIN (a plan check, `pglab explain`) reads the plan of exactly one statement.
    #[error(
        "EXPLAIN works on exactly one statement, and the text holds {found}; \
         keep the one whose plan you want"
    )]
    NotOneStatement { found: usize },
    /// The server answered with a plan pglab cannot read.
    #[error("the server's EXPLAIN output could not be read: {0}")]
    Plan(String),
}

impl From<sqlx::Error> for ExecuteError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) => match db.try_downcast_ref::<PgDatabaseError>() {
                // A FATAL error ends the session: the caller must reconnect.
                Some(pg) if !matches!(pg.severity(), PgSeverity::Fatal | PgSeverity::Panic) => {
                    ExecuteError::Sql(server_error(pg))
                }
                _ => ExecuteError::Connection(error),
            },
            _ => ExecuteError::Connection(error),
        }
    }
}

impl Console {
    /// Connects as `options` say (the learner role) and notes the server process's id.
    pub async fn connect(options: &PgConnectOptions) -> Result<Self, Error> {
        let mut conn = super::connect(options).await?;
        let backend_pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
            .fetch_one(&mut conn)
            .await
            .map_err(Error::sql(
                "cannot read the console session's server process id",
            ))?;
        Ok(Self {
            conn,
            backend_pid,
            in_transaction: false,
        })
    }

    /// The server process serving this console: what [`cancel`] needs.
    pub fn backend_pid(&self) -> i32 {
        self.backend_pid
    }

    /// Whether the learner's statements so far left a transaction open on this session.
    pub fn in_transaction(&self) -> bool {
        self.in_transaction
    }

    /// The connection, for helpers that read on the learner's behalf ([`plan_node_types`]).
    pub fn connection(&mut self) -> &mut PgConnection {
        &mut self.conn
    }

    /// Runs `sql` exactly as typed, one statement per round trip, keeping at most `max_rows`
    /// rows of each statement's result (the rest are counted). A failing statement stops the
    /// script, its error position counted in the whole text; what the statements before it
    /// did stays done (each commits on its own unless the script opened a transaction), as
    /// in psql.
    pub async fn execute(&mut self, sql: &str, max_rows: usize) -> Result<Outcome, ExecuteError> {
        let started = Instant::now();
        let pieces = crate::sql::split_statements(sql);
        let mut statements = Vec::new();
        if pieces.len() <= 1 {
            // One statement (or none) goes exactly as typed, comments and all.
            self.run(sql, max_rows, &mut statements).await?;
            self.ran(sql);
        } else {
            for (start, piece) in pieces {
                match self.run(piece, max_rows, &mut statements).await {
                    Ok(()) => self.ran(piece),
                    Err(ExecuteError::Sql(mut error)) => {
                        // The server counts from the start of the statement it was sent.
                        let before = sql[..start].chars().count();
                        error.position = error.position.map(|p| p + before);
                        return Err(ExecuteError::Sql(error));
                    }
                    Err(other) => return Err(other),
                }
            }
        }
        Ok(Outcome {
            statements,
            elapsed: started.elapsed(),
        })
    }

    /// Follows the transaction state past a statement that ran. One that failed leaves it as
    /// it was: inside a transaction, aborted but still open.
    fn ran(&mut self, sql: &str) {
        self.in_transaction = crate::sql::rerun::transaction_open_after(sql, self.in_transaction);
    }

    /// Sends `sql` in one `Query` message and appends a result per statement it held.
    async fn run(
        &mut self,
        sql: &str,
        max_rows: usize,
        statements: &mut Vec<StatementResult>,
    ) -> Result<(), ExecuteError> {
        // The learner's text is the point: it runs unchanged, by design, and only here.
        let mut stream = sqlx::raw_sql(AssertSqlSafe(sql.to_string())).fetch_many(&mut self.conn);
        let mut current = StatementResult {
            result: ResultSet::default(),
            rows_affected: 0,
            truncated: false,
        };
        while let Some(item) = stream.try_next().await? {
            match item {
                Either::Right(row) => {
                    if current.result.columns.is_empty() {
                        current.result.columns = column_names(&row);
                    }
                    if current.result.rows.len() < max_rows {
                        current.result.rows.push(text_values(&row)?);
                    } else {
                        current.truncated = true;
                    }
                }
                Either::Left(done) => {
                    current.rows_affected = done.rows_affected();
                    statements.push(std::mem::replace(
                        &mut current,
                        StatementResult {
                            result: ResultSet::default(),
                            rows_affected: 0,
                            truncated: false,
                        },
                    ));
                }
            }
        }
        Ok(())
    }
}

fn column_names(row: &PgRow) -> Vec<String> {
    row.columns().iter().map(|c| c.name().to_string()).collect()
}

/// Every value of `row` as the text the server sent (the simple protocol sends text for
/// every type, so no decoding per type is needed or wanted).
fn text_values(row: &PgRow) -> Result<Vec<Option<String>>, sqlx::Error> {
    (0..row.len())
        .map(|index| {
            let value = row.try_get_raw(index)?;
            if value.is_null() {
                return Ok(None);
            }
            let bytes = value.as_bytes().map_err(sqlx::Error::Decode)?;
            Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
        })
        .collect()
}

/// The column names `sql` would return, read by preparing it (never running it) on a short
/// unobserved connection of its own: the simple protocol a learner's statement runs on only
/// tells the columns along with a row, so an empty result has none. `None` when `sql` is not
/// one read-only query, or cannot be prepared there (it names a temporary table of the
/// console's session, say).
pub async fn columns_of(options: &PgConnectOptions, sql: &str) -> Option<Vec<String>> {
    if crate::sql::statement_count(sql) != 1 || crate::sql::kind::changes_data(sql) {
        return None;
    }
    let mut conn = super::connect(options).await.ok()?;
    let prepared = sqlx::Executor::prepare(
        &mut conn,
        sqlx::SqlSafeStr::into_sql_str(AssertSqlSafe(sql.to_string())),
    )
    .await;
    let _ = sqlx::Connection::close(conn).await;
    let statement = prepared.ok()?;
    let columns: Vec<String> = sqlx::Statement::columns(&statement)
        .iter()
        .map(|c| sqlx::Column::name(c).to_string())
        .collect();
    (!columns.is_empty()).then_some(columns)
}

/// Cancels whatever the server processes `backend_pids` are running, from a short
/// connection of its own (the console's connection is busy waiting for that very
/// statement). A cancelled statement fails with SQLSTATE 57014. False when none of them is
/// a process of this role any more.
pub async fn cancel(options: &PgConnectOptions, backend_pids: &[i32]) -> Result<bool, Error> {
    let mut conn = super::connect(options).await?;
    let cancelled: bool = sqlx::query_scalar(
        "select coalesce(bool_or(pg_cancel_backend(pid)), false) from unnest($1::int4[]) as pid",
    )
    .bind(backend_pids)
    .fetch_one(&mut conn)
    .await
    .map_err(Error::sql("cannot cancel the running statement"))?;
    let _ = sqlx::Connection::close(conn).await;
    Ok(cancelled)
}

/// The node types of `sql`'s plan, root first and depth first (`["Hash Join", "Seq Scan",
/// "Hash", "Seq Scan"]`), from `EXPLAIN (FORMAT JSON)`: the statement is planned, never run.
pub async fn plan_node_types(
    conn: &mut PgConnection,
    sql: &str,
) -> Result<Vec<String>, ExecuteError> {
    let found = crate::sql::statement_count(sql);
    if found != 1 {
        return Err(ExecuteError::NotOneStatement { found });
    }
    // The extended protocol refuses a second statement on its own, so nothing after the one
    // statement could run even if the count above were wrong; and without ANALYZE, EXPLAIN
    // only plans. Not kept in sqlx's statement cache: it is learner text, seen once.
    let explain = format!("explain (format json) {sql}");
    let (plan,): (serde_json::Value,) = sqlx::query_as(AssertSqlSafe(explain))
        .persistent(false)
        .fetch_one(conn)
        .await?;
    let root = plan
        .get(0)
        .and_then(|p| p.get("Plan"))
        .ok_or_else(|| ExecuteError::Plan(format!("no \"Plan\" in {plan}")))?;
    let mut types = Vec::new();
    collect_node_types(root, &mut types);
    Ok(types)
}

fn collect_node_types(node: &serde_json::Value, out: &mut Vec<String>) {
    if let Some(kind) = node.get("Node Type").and_then(|t| t.as_str()) {
        out.push(kind.to_string());
    }
    if let Some(children) = node.get("Plans").and_then(|p| p.as_array()) {
        for child in children {
            collect_node_types(child, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_types_are_read_depth_first() {
        let plan: serde_json::Value = serde_json::json!({
            "Node Type": "Hash Join",
            "Plans": [
                {"Node Type": "Seq Scan"},
                {"Node Type": "Hash", "Plans": [{"Node Type": "Index Scan"}]}
            ]
        });
        let mut types = Vec::new();
        collect_node_types(&plan, &mut types);
        assert_eq!(types, ["Hash Join", "Seq Scan", "Hash", "Index Scan"]);
    }
}
