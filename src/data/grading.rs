//! What was gathered for one exercise attempt: the answer's own outcome, the reference
//! solution's rows, what the check measures beyond them (the checked statement's plan and
//! speed-up), and the rows its diagnoses compare a wrong answer's rows with. `db::grading` gathers it, the same way for the lab and for `pglab lessons
//! check`; `lesson::judge` decides on it, together with what the proxy counted.

use super::console::Outcome;
use super::{ResultSet, ServerError};

/// What was read for a check beyond the rows; each part only when the check needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measured {
    /// The `Node Type` of every node of the checked statement's plan.
    pub plan_nodes: Option<Vec<String>>,
    /// As planned against index scans switched off; above 1 the indexes pay off.
    pub speedup: Option<f64>,
}

/// Everything read for one attempt except its round trips and warnings, which the proxy
/// counts while the answer runs and the caller's query log reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Gathered {
    /// The learner's SQL as it was run.
    pub answer: String,
    /// The learner's SQL: a result per statement, or the server's error.
    pub ran: Result<Outcome, ServerError>,
    /// The reference solution's last result (or, when the check's `query` gives the rows,
    /// that query's after the solution); empty when the check compares no rows or the
    /// answer failed (nothing is compared with a failed answer).
    pub expected: Result<ResultSet, String>,
    /// The last result of the check's `query` run after the answer, or the server's refusal
    /// of it (the answer's doing: a constraint it left refuses the query's delete); `None`
    /// when the check compares the answer's own rows, or the answer failed.
    pub checked: Option<Result<ResultSet, ServerError>>,
    /// The checked statement's plan and speed-up, as far as the check needs them; empty when
    /// the answer failed.
    pub measured: Result<Measured, String>,
    /// The rows of each query the check's diagnoses compare an answer's extra and missing
    /// rows with, by its SQL; read when the check compares rows and the answer ran. A query
    /// that failed says why (its diagnosis then cannot hold).
    pub diagnosis_rows: Vec<(String, Result<ResultSet, String>)>,
}
