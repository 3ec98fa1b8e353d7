//! What was read for an exercise's check beyond the answer's own result: the checked
//! statement's plan and its speed-up. `db::grading` reads it; `lesson::grade` judges it.

/// What was read for a check; each part only when the check needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measured {
    /// The `Node Type` of every node of the checked statement's plan.
    pub plan_nodes: Option<Vec<String>>,
    /// As planned against index scans switched off; above 1 the indexes pay off.
    pub speedup: Option<f64>,
}
