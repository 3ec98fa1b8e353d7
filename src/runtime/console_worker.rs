//! The console connection's own task: runs learner SQL one request at a time on a
//! connection routed through the proxy (so every round trip is counted), gathers exercise
//! attempts through [`Grader`] (the reference solution and the measurements on a second,
//! unobserved connection), and reconnects after the server went away: a plain read outside
//! a transaction whose connection turns out to be gone is run again, once, on a new one
//! (see [`crate::sql::rerun`]); anything else is reported lost, with why it was not rerun.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use sqlx::postgres::PgConnectOptions;
use tokio::sync::mpsc;

use crate::app::event::{Explained, Ran};
use crate::app::{Event, RequestId};
use crate::data::ServerError;
use crate::data::console::Outcome;
use crate::db::console::{Console, ExecuteError};
use crate::db::explain::Analyze;
use crate::db::grading::{ANSWER_ROWS, Grader};
use crate::lesson::Check;
use crate::sql::rerun::NotRunAgain;

/// Rows of one result the console keeps (the rest are counted, not stored): as many as an
/// exercise answer keeps, so an answer shows what it is graded on.
const MAX_ROWS: usize = ANSWER_ROWS;

#[derive(Debug)]
pub enum Job {
    Execute {
        id: RequestId,
        sql: String,
    },
    Check {
        id: RequestId,
        sql: String,
        solution: String,
        check: Box<Check>,
    },
    Explain {
        id: RequestId,
        sql: String,
    },
}

pub async fn serve(
    observed: PgConnectOptions,
    direct: PgConnectOptions,
    pid: Arc<AtomicI32>,
    mut jobs: mpsc::Receiver<Job>,
    events: mpsc::UnboundedSender<Event>,
) {
    let mut console = open(&observed, &pid, &events).await;
    let mut grader = Grader::new(direct.clone());
    while let Some(job) = jobs.recv().await {
        let id = match &job {
            Job::Execute { id, .. } | Job::Check { id, .. } | Job::Explain { id, .. } => *id,
        };
        if console.is_none() {
            console = open(&observed, &pid, &events).await;
        }
        let Some(conn) = console.as_mut() else {
            let _ = events.send(Event::Failed {
                id,
                message: "Cannot reach the database; is it running?".into(),
            });
            continue;
        };
        let event = match job {
            Job::Explain { sql, .. } => explain(conn, id, &sql).await,
            Job::Execute { sql, .. } => match ran(
                execute_reconnecting(conn, &sql, &observed, &pid, &events).await,
                id,
            ) {
                Ok(mut result) => {
                    name_empty_columns(&mut result, &direct, &sql).await;
                    Event::Executed { id, result }
                }
                Err(lost) => *lost,
            },
            Job::Check {
                sql,
                solution,
                check,
                ..
            } => match grader.attempt(conn, &sql, &solution, &check).await {
                Ok(gathered) => Event::ExerciseRan { id, gathered },
                Err(error) => lost(id, &error),
            },
        };
        if matches!(event, Event::Failed { .. }) {
            // The connection is gone: the next request opens a new one.
            console = None;
        }
        let _ = events.send(event);
    }
}

/// Runs `sql` on `conn`; when the connection turns out to be gone (the server restarted or
/// crashed since the last statement, as the first lesson does on purpose) and `sql` is a
/// plain read outside a transaction, runs it once more on a new connection, which replaces
/// `conn`. Anything else is not run twice: the server may have run it before the connection
/// broke, or it belonged to a transaction the lost session rolled back; its loss is reported
/// with the reason and the next run reconnects.
async fn execute_reconnecting(
    conn: &mut Console,
    sql: &str,
    observed: &PgConnectOptions,
    pid: &AtomicI32,
    events: &mpsc::UnboundedSender<Event>,
) -> Result<Outcome, Lost> {
    let in_transaction = conn.in_transaction();
    let outcome = conn.execute(sql, MAX_ROWS).await;
    if !matches!(outcome, Err(ExecuteError::Connection(_))) {
        return outcome.map_err(Lost::plain);
    }
    if let Err(why) = crate::sql::rerun::may_run_again(sql, in_transaction) {
        return outcome.map_err(|error| Lost {
            error,
            not_run_again: Some(why),
        });
    }
    match open(observed, pid, events).await {
        Some(fresh) => {
            *conn = fresh;
            conn.execute(sql, MAX_ROWS).await.map_err(Lost::plain)
        }
        None => outcome.map_err(Lost::plain),
    }
}

/// A statement's failure, and when its connection was lost, why it was not run again.
struct Lost {
    error: ExecuteError,
    not_run_again: Option<NotRunAgain>,
}

impl Lost {
    fn plain(error: ExecuteError) -> Self {
        Self {
            error,
            not_run_again: None,
        }
    }
}

/// A statement's outcome as the app takes it: rows or the server's error; a lost
/// connection becomes the `Failed` event for request `id`.
fn ran(outcome: Result<Outcome, Lost>, id: RequestId) -> Result<Ran, Box<Event>> {
    match outcome {
        Ok(outcome) => Ok(Ok(outcome)),
        Err(Lost {
            error: ExecuteError::Sql(failure),
            ..
        }) => Ok(Err(failure)),
        Err(Lost {
            error,
            not_run_again: Some(why),
        }) => Err(Box::new(Event::Failed {
            id,
            message: not_run_again_message(&error, why),
        })),
        Err(Lost { error, .. }) => Err(Box::new(lost(id, &error))),
    }
}

/// A query that returned no rows still shows its column headers: they are read by
/// preparing it on an unobserved connection, so the log and the round-trip count show only
/// what the learner ran.
async fn name_empty_columns(result: &mut Ran, direct: &PgConnectOptions, sql: &str) {
    let Ok(outcome) = result else { return };
    let Some(last) = outcome.statements.last_mut() else {
        return;
    };
    if last.result.columns.is_empty()
        && last.result.rows.is_empty()
        && last.rows_affected == 0
        && let Some(columns) = crate::db::console::columns_of(direct, sql).await
    {
        last.result.columns = columns;
    }
}

/// The `Failed` event for request `id` when the console's connection is gone.
fn lost(id: RequestId, error: &ExecuteError) -> Event {
    Event::Failed {
        id,
        message: lost_message(error),
    }
}

/// Says the console's connection is gone and why, in the server's own words when it gave
/// them ("terminating connection due to administrator command" after a restart).
fn lost_message(error: &ExecuteError) -> String {
    format!(
        "The connection was lost ({}); the next run reconnects.",
        cause_of(error)
    )
}

/// The server's own words for a lost connection when it gave them.
fn cause_of(error: &ExecuteError) -> String {
    match error {
        ExecuteError::Connection(sqlx::Error::Database(db)) => db.message().to_string(),
        ExecuteError::Connection(other) => other.to_string(),
        other => other.to_string(),
    }
}

/// Says the connection is gone, why the statement was not run again on a new one, and that
/// running it again reconnects.
fn not_run_again_message(error: &ExecuteError, why: NotRunAgain) -> String {
    format!(
        "The connection was lost ({}); the statement was not run again because {}; run it \
         again to reconnect.",
        cause_of(error),
        why.because()
    )
}

/// EXPLAIN ANALYZE on the console connection (so the log counts it), the catalog facts the
/// insights need, and the insights. A lost connection comes back as `Failed`; anything else
/// the server refused, as the statement's error.
async fn explain(conn: &mut Console, id: RequestId, sql: &str) -> Event {
    let failed = |message: String| Event::Failed { id, message };
    // DDL would reach the server as `explain create table …`, a bare syntax error.
    if let Some(refusal) = crate::sql::kind::explain_refusal(sql) {
        return Event::Explained {
            id,
            result: Err(ServerError::refused(&refusal)),
        };
    }
    let fetched = match crate::db::explain::explain(conn.connection(), sql, Analyze::Yes).await {
        Ok(fetched) => fetched,
        Err(ExecuteError::Sql(failure)) => {
            return Event::Explained {
                id,
                result: Err(failure),
            };
        }
        Err(error @ ExecuteError::Connection(_)) => return failed(lost_message(&error)),
        Err(other) => {
            return Event::Explained {
                id,
                result: Err(ServerError::refused(&other.to_string())),
            };
        }
    };
    let catalog = crate::db::explain::catalog(conn.connection(), &fetched.plan)
        .await
        .unwrap_or_default();
    let insights = crate::explain::insights(&fetched.plan, &catalog);
    Event::Explained {
        id,
        result: Ok(Box::new(Explained {
            plan: fetched.plan,
            insights,
            rolled_back: fetched.rolled_back,
        })),
    }
}

async fn open(
    options: &PgConnectOptions,
    pid: &AtomicI32,
    events: &mpsc::UnboundedSender<Event>,
) -> Option<Console> {
    match Console::connect(options).await {
        Ok(console) => {
            pid.store(console.backend_pid(), Ordering::Relaxed);
            let _ = events.send(Event::ConsoleReady);
            Some(console)
        }
        Err(_) => None,
    }
}
