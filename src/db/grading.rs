//! Gathering an exercise attempt: the one way the lab and `pglab lessons check` run an answer
//! and read what its check needs, so both grade an answer alike. The answer runs on the
//! learner's connection, the one the proxy watches, so its round trips and warnings are
//! counted by whoever reads the proxy (the lab's query log, or a meter); the reference
//! solution and the measurements run on a second, unobserved connection, which sees the
//! answer's committed work (an index it built) and adds nothing to its count. The rows the
//! exercise's diagnoses compare a wrong answer with are read there too. What was read comes
//! back as [`Gathered`]; [`crate::lesson::judge`] then decides.

use sqlx::postgres::{PgConnectOptions, PgConnection};

use super::console::{Console, ExecuteError, plan_node_types};
use super::explain::speedup_over_no_indexes;
use crate::data::ResultSet;
use crate::data::console::{Outcome, StatementResult};
use crate::data::grading::{Gathered, Measured};
use crate::lesson::{Check, inputs};

/// Rows of an answer's result that are kept, and so shown and compared.
pub const ANSWER_ROWS: usize = 10_000;
/// Timed runs each way behind a speed-up: the median of 5 shrugs off one slow run.
const SPEEDUP_RUNS: usize = 5;

/// The unobserved connection grading reads on, opened on first use and opened again once
/// when it was lost (the server restarted, a pooler closed it).
#[derive(Debug)]
pub struct Grader {
    options: PgConnectOptions,
    conn: Option<Console>,
}

impl Grader {
    /// A grader that connects with `options`: straight to the lab database, not through the
    /// proxy, as the learner role (a reference solution is learner-level SQL).
    pub fn new(options: PgConnectOptions) -> Self {
        Self {
            options,
            conn: None,
        }
    }

    /// Runs `answer` on `console` (the learner's connection, through the proxy; committed as
    /// the learner's own work) and gathers what `check` needs besides the round trips: the
    /// reference `solution`'s rows when the check compares rows, and the checked statement's
    /// plan and speed-up. A failed answer is told its error; the solution and the timed runs
    /// (which may scan a million rows ten times) would be read for nothing.
    ///
    /// Errs only when `console`'s connection was lost; a problem on the grading side comes
    /// back inside [`Gathered`].
    pub async fn attempt(
        &mut self,
        console: &mut Console,
        answer: &str,
        solution: &str,
        check: &Check,
    ) -> Result<Gathered, ExecuteError> {
        let ran = match run_checked(console, answer, check, ANSWER_ROWS).await {
            Ok(outcome) => Ok(outcome),
            Err(ExecuteError::Sql(error)) => Err(error),
            Err(lost) => return Err(lost),
        };
        if ran.is_err() {
            return Ok(Gathered {
                answer: answer.to_string(),
                ran,
                expected: Ok(ResultSet::default()),
                checked: None,
                measured: Ok(Measured::default()),
                diagnosis_rows: Vec::new(),
            });
        }
        let Read {
            expected,
            checked,
            measured,
            diagnosis_rows,
        } = self.read(answer, solution, check).await;
        Ok(Gathered {
            answer: answer.to_string(),
            ran,
            expected,
            checked,
            measured,
            diagnosis_rows,
        })
    }

    /// The reference rows, the rows of the check's query after the answer, the measurements
    /// and the diagnoses' rows, on the grading connection.
    async fn read(&mut self, answer: &str, solution: &str, check: &Check) -> Read {
        for attempt in 0..2 {
            if self.conn.is_none() {
                self.conn = Console::connect(&self.options).await.ok();
            }
            let Some(conn) = self.conn.as_mut() else {
                break;
            };
            let expected = match (check.rows, &check.query) {
                // Rows nobody compares are not worth running the solution for (it may build
                // an index over a million rows).
                (None, _) => Ok(ResultSet::default()),
                (Some(_), query) => rolled_back(conn, solution, check, query.as_deref()).await,
            };
            let expected = match expected {
                Err(ExecuteError::Connection(_)) if attempt == 0 => {
                    self.conn = None;
                    continue;
                }
                other => other.map_err(|e| e.to_string()),
            };
            // The answer is committed: the query sees what it left.
            let checked = match (&check.query, check.rows_after_answer()) {
                (Some(query), true) => {
                    match rolled_back(conn, query, &Check::default(), None).await {
                        Ok(rows) => Some(Ok(rows)),
                        Err(ExecuteError::Sql(refusal)) => Some(Err(refusal)),
                        Err(other) => {
                            let lost = format!("the check's query could not run: {other}");
                            return Read::failed(lost);
                        }
                    }
                }
                _ => None,
            };
            let measured = measure(conn.connection(), check, answer)
                .await
                .map_err(|e| e.to_string());
            // Only an answer with rows can have extra or missing ones to explain.
            let mut diagnosis_rows = Vec::new();
            if check.rows.is_some() {
                for query in check.diagnosis_queries() {
                    let rows = rolled_back(conn, query, &Check::default(), None)
                        .await
                        .map_err(|e| e.to_string());
                    diagnosis_rows.push((query.to_string(), rows));
                }
            }
            return Read {
                expected,
                checked,
                measured,
                diagnosis_rows,
            };
        }
        Read::failed("cannot connect to grade the answer".to_string())
    }
}

/// What [`Grader::read`] read, as [`Gathered`] holds it.
struct Read {
    expected: Result<ResultSet, String>,
    checked: Option<Result<ResultSet, crate::data::ServerError>>,
    measured: Result<Measured, String>,
    diagnosis_rows: Vec<(String, Result<ResultSet, String>)>,
}

impl Read {
    /// Nothing could be read, for the reason `why`.
    fn failed(why: String) -> Self {
        Read {
            expected: Err(why.clone()),
            checked: None,
            measured: Err(why),
            diagnosis_rows: Vec::new(),
        }
    }
}

/// Runs `sql` as `check` grades it: as it is, or once per input of `check.inputs`, the
/// results of all inputs together as the last statement's (see [`crate::lesson::inputs`]).
async fn run_checked(
    console: &mut Console,
    sql: &str,
    check: &Check,
    max_rows: usize,
) -> Result<Outcome, ExecuteError> {
    if check.inputs.is_empty() {
        return console.execute(sql, max_rows).await;
    }
    let started = std::time::Instant::now();
    let mut results = Vec::new();
    for input in &check.inputs {
        let ran = console.execute(&inputs::script(sql, input), max_rows).await;
        // Forgotten whatever happened: a later input, or the next attempt, prepares again.
        // A statement that failed to prepare left nothing to forget.
        let _ = console.execute(inputs::FORGET, 0).await;
        results.push((input.clone(), ran?.into_last_result()));
    }
    let result = inputs::together(results);
    Ok(Outcome {
        statements: vec![StatementResult {
            rows_affected: result.rows.len() as u64,
            result,
            truncated: false,
        }],
        elapsed: started.elapsed(),
    })
}

/// The last result of `sql` (the reference solution, a diagnosis's query), or of `then` run
/// after it (the check's query after the solution), inside a transaction that is rolled
/// back: SQL that changes rows must not change the learner's data each time an answer is
/// graded. `sql` runs as `check` grades it (once per input, when it has inputs).
async fn rolled_back(
    grader: &mut Console,
    sql: &str,
    check: &Check,
    then: Option<&str>,
) -> Result<ResultSet, ExecuteError> {
    grader.execute("begin", 0).await?;
    let mut outcome = run_checked(grader, sql, check, usize::MAX).await;
    if let (Ok(_), Some(then)) = (&outcome, then) {
        outcome = grader.execute(then, usize::MAX).await;
    }
    // Whatever it did, it is undone; a failed rollback means a lost connection, which the
    // next grading notices.
    let _ = grader.execute("rollback", 0).await;
    Ok(outcome?.into_last_result())
}

/// Reads what `check` needs about the statement it checks (its `query`, else `answer`), on
/// `conn`, which must see what the answer did (here: after its commit).
async fn measure(
    conn: &mut PgConnection,
    check: &Check,
    answer: &str,
) -> Result<Measured, ExecuteError> {
    let target = check.target(answer);
    let plan_nodes = match check.needs_plan() {
        true => Some(plan_node_types(conn, target).await?),
        false => None,
    };
    let speedup = match check.min_speedup {
        Some(_) => Some(speedup_over_no_indexes(conn, target, SPEEDUP_RUNS).await?),
        None => None,
    };
    Ok(Measured {
        plan_nodes,
        speedup,
    })
}
