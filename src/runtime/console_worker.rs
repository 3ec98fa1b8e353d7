//! The console connection's own task: runs learner SQL one request at a time on a
//! connection routed through the proxy (so every round trip is counted), grades exercise
//! answers against the reference solution on a second, unobserved connection, and
//! reconnects after the server went away.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use sqlx::postgres::PgConnectOptions;
use tokio::sync::mpsc;

use crate::app::event::{Explained, Ran};
use crate::app::{Event, RequestId};
use crate::data::console::Outcome;
use crate::data::grading::Measured;
use crate::data::{ResultSet, ServerError};
use crate::db::console::{Console, ExecuteError};
use crate::db::explain::Analyze;
use crate::db::grading::measure;
use crate::lesson::Check;

/// Rows of one result the console keeps (the rest are counted, not stored).
const MAX_ROWS: usize = 10_000;

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
    let mut grader: Option<Console> = None;
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
            Job::Execute { sql, .. } => match ran(conn.execute(&sql, MAX_ROWS).await, id) {
                Ok(result) => Event::Executed { id, result },
                Err(lost) => *lost,
            },
            Job::Check {
                sql,
                solution,
                check,
                ..
            } => match ran(conn.execute(&sql, MAX_ROWS).await, id) {
                Ok(attempt) => {
                    // A failed answer is told its error; the solution and the timed runs
                    // (which may scan a million rows ten times) would be read for nothing.
                    let (expected, measured) = match &attempt {
                        Ok(_) => grade_inputs(&mut grader, &direct, &sql, &solution, &check).await,
                        Err(_) => (Ok(ResultSet::default()), Ok(Measured::default())),
                    };
                    Event::ExerciseRan {
                        id,
                        attempt,
                        expected,
                        measured,
                    }
                }
                Err(lost) => *lost,
            },
        };
        if matches!(event, Event::Failed { .. }) {
            // The connection is gone: the next request opens a new one.
            console = None;
        }
        let _ = events.send(event);
    }
}

/// A statement's outcome as the app takes it: rows or the server's error; a lost
/// connection becomes the `Failed` event for request `id`.
fn ran(outcome: Result<Outcome, ExecuteError>, id: RequestId) -> Result<Ran, Box<Event>> {
    match outcome {
        Ok(outcome) => Ok(Ok(outcome)),
        Err(ExecuteError::Sql(failure)) => Ok(Err(failure)),
        Err(error) => Err(Box::new(Event::Failed {
            id,
            message: format!("The connection was lost ({error}); the next run reconnects."),
        })),
    }
}

/// EXPLAIN ANALYZE on the console connection (so the log counts it), the catalog facts the
/// insights need, and the insights. A lost connection comes back as `Failed`; anything else
/// the server refused, as the statement's error.
async fn explain(conn: &mut Console, id: RequestId, sql: &str) -> Event {
    let failed = |message: String| Event::Failed { id, message };
    let fetched = match crate::db::explain::explain(conn.connection(), sql, Analyze::Yes).await {
        Ok(fetched) => fetched,
        Err(ExecuteError::Sql(failure)) => {
            return Event::Explained {
                id,
                result: Err(failure),
            };
        }
        Err(ExecuteError::Connection(error)) => {
            return failed(format!(
                "The connection was lost ({error}); the next run reconnects."
            ));
        }
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

/// The reference solution's rows (when the check compares rows) and what else the check
/// measures (the plan, the speed-up), read on the unobserved grading connection. A grading
/// connection that was lost (the server restarted, a pooler closed it) is opened again once
/// before giving up.
async fn grade_inputs(
    grader: &mut Option<Console>,
    direct: &PgConnectOptions,
    sql: &str,
    solution: &str,
    check: &Check,
) -> (Result<ResultSet, String>, Result<Measured, String>) {
    for attempt in 0..2 {
        if grader.is_none() {
            *grader = Console::connect(direct).await.ok();
        }
        let Some(conn) = grader.as_mut() else {
            break;
        };
        let expected = match check.rows {
            // Rows nobody compares are not worth running the solution for (it may build an
            // index over a million rows).
            None => Ok(ResultSet::default()),
            Some(_) => reference_rows(conn, solution).await,
        };
        let expected = match expected {
            Err(ExecuteError::Connection(_)) if attempt == 0 => {
                *grader = None;
                continue;
            }
            other => other.map_err(|e| e.to_string()),
        };
        let measured = measure(conn.connection(), check, sql)
            .await
            .map_err(|e| e.to_string());
        return (expected, measured);
    }
    let lost = "cannot connect to grade the answer".to_string();
    (Err(lost.clone()), Err(lost))
}

/// The reference solution's last result, run inside a transaction that is rolled back: a
/// solution that changes rows must not change the learner's data each time it is graded.
async fn reference_rows(grader: &mut Console, solution: &str) -> Result<ResultSet, ExecuteError> {
    grader.execute("begin", 0).await?;
    let outcome = grader.execute(solution, usize::MAX).await;
    // Whatever the solution did, it is undone; a failed rollback means a lost connection,
    // which the next grading notices.
    let _ = grader.execute("rollback", 0).await;
    Ok(outcome?.into_last_result())
}
