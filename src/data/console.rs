//! What running learner SQL produced: a result per statement, in order, and how long the
//! whole text took. `db::console` fills it; the console view, the lesson player and the
//! grader read it.

use std::time::Duration;

use super::ResultSet;

/// What one run of learner SQL did: a result per statement, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub statements: Vec<StatementResult>,
    /// From sending the text to the last answer.
    pub elapsed: Duration,
}

impl Outcome {
    /// The last statement's result (what a script "returns"); empty when nothing ran.
    pub fn into_last_result(self) -> ResultSet {
        self.statements
            .into_iter()
            .last()
            .map(|s| s.result)
            .unwrap_or_default()
    }
}

/// One statement's result.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementResult {
    /// The columns and the first rows. Columns come from the rows themselves: sqlx does not
    /// hand out the row description of a statement that returned no rows, so a zero-row
    /// result has no column names.
    pub result: ResultSet,
    /// From the command tag: rows returned by a SELECT, changed by INSERT/UPDATE/DELETE;
    /// 0 for statements without a count (CREATE, SET).
    pub rows_affected: u64,
    /// More rows came than were kept; they were counted, not stored.
    pub truncated: bool,
}
