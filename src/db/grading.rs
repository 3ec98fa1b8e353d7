//! The measurements an exercise's check needs beyond the answer's own result: the checked
//! statement's plan and its speed-up over a run without indexes. The database side of
//! grading; [`crate::lesson::grade`] then decides on what was read.

use sqlx::postgres::PgConnection;

use super::console::{ExecuteError, plan_node_types};
use super::explain::speedup_over_no_indexes;
use crate::data::grading::Measured;
use crate::lesson::Check;

/// Timed runs each way behind a speed-up: the median of 5 shrugs off one slow run.
const SPEEDUP_RUNS: usize = 5;

/// Reads what `check` needs about the statement it checks (its `query`, else `answer`), on
/// `conn`, which must see what the answer did (the same transaction, or after its commit).
pub async fn measure(
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
