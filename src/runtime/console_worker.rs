//! The console connection's own task: runs learner SQL one request at a time on a
//! connection routed through the proxy (so every round trip is counted), grades exercise
//! answers against the reference solution on a second, unobserved connection, and
//! reconnects after the server went away.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use sqlx::postgres::PgConnectOptions;
use tokio::sync::mpsc;

use crate::app::{Event, RequestId};
use crate::db::console::{self, Console, ExecuteError};
use crate::result_set::ResultSet;

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
        needs_plan: bool,
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
            Job::Execute { id, .. } | Job::Check { id, .. } => *id,
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
        let attempt = match &job {
            Job::Execute { sql, .. } | Job::Check { sql, .. } => conn.execute(sql, MAX_ROWS).await,
        };
        let attempt = match attempt {
            Ok(outcome) => Ok(outcome),
            Err(ExecuteError::Sql(failure)) => Err(failure),
            Err(error) => {
                console = None;
                let message =
                    format!("The connection was lost ({error}); the next run reconnects.");
                let _ = events.send(Event::Failed { id, message });
                continue;
            }
        };
        let event = match job {
            Job::Execute { .. } => Event::Executed {
                id,
                result: attempt,
            },
            Job::Check {
                sql,
                solution,
                needs_plan,
                ..
            } => {
                if grader.is_none() {
                    grader = Console::connect(&direct).await.ok();
                }
                let (expected, plan) = match grader.as_mut() {
                    Some(grader) => {
                        let expected = reference_rows(grader, &solution).await;
                        let plan = if needs_plan {
                            Some(
                                console::plan_node_types(grader.connection(), &sql)
                                    .await
                                    .map_err(|e| e.to_string()),
                            )
                        } else {
                            None
                        };
                        (expected, plan)
                    }
                    None => (Err("cannot connect to grade the answer".to_string()), None),
                };
                Event::ExerciseRan {
                    id,
                    attempt,
                    expected,
                    plan,
                }
            }
        };
        let _ = events.send(event);
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

async fn reference_rows(grader: &mut Console, solution: &str) -> Result<ResultSet, String> {
    let outcome = grader
        .execute(solution, usize::MAX)
        .await
        .map_err(|e| e.to_string())?;
    outcome
        .statements
        .into_iter()
        .last()
        .map(|s| s.result)
        .ok_or_else(|| "the solution ran no statement".to_string())
}
