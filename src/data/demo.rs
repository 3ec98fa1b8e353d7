//! What a demo sends while it runs and what it reports when done: progress news, the
//! measured runs behind its table, the plans it measured, and the round trips its proxy
//! counted. `demo` produces them; the lesson player and the plain-text runner show them.

use std::time::Duration;

use super::ResultSet;
use super::proxy::Kind;
use super::warning::Raised;
use crate::explain::Plan;

/// News from a running demo, for a UI to show before the report arrives.
#[derive(Debug, Clone, PartialEq)]
pub enum DemoProgress {
    /// What the demo is doing now.
    Message(String),
    /// The columns of the table the demo is measuring, sent once before its first row.
    TableColumns(Vec<String>),
    /// One row of that table, as soon as it is measured.
    TableRow(Vec<Option<String>>),
}

/// One measured run inside a demo (a row of the scale table at one latency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measurement {
    pub posts: u64,
    /// `lazy`, `join` or `batched`.
    pub strategy: &'static str,
    /// The simulated round-trip delay it ran with.
    pub latency: Duration,
    pub round_trips: u64,
    pub wall: Duration,
}

/// A plan a demo measured, for a UI to draw or set beside another.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredPlan {
    /// What the plan was measured as ("with the index", "index use switched off").
    pub label: String,
    /// The plan of one `EXPLAIN (ANALYZE, BUFFERS)` run.
    pub plan: Plan,
    /// The median execution time of the demo's `TIMING OFF` runs, ms.
    pub median_ms: f64,
}

/// What a demo did and what it cost, as measured by its proxy.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DemoReport {
    pub title: String,
    /// What the demo's program printed, then what the numbers mean. A line names another
    /// step of the lesson as `{step:DEMO}`, the step running demo DEMO, which the lesson
    /// shows by its number and title: a demo's own name is never shown.
    pub lines: Vec<String>,
    /// A table of measurements (the scale demo).
    pub table: Option<ResultSet>,
    /// Round trips of the measured work, every kind.
    pub round_trips: u64,
    /// Statements the server completed or failed.
    pub statements: u64,
    /// Round trips by kind, in [`Kind::ALL`] order, kinds that occurred only.
    pub by_kind: Vec<(Kind, u64)>,
    pub wall: Duration,
    /// Server sessions the demo opened through its proxy.
    pub sessions: u64,
    /// The N+1 and lint warnings the demo's own log raised, each message once.
    pub warnings: Vec<Raised>,
    /// The runs behind `table`, with numbers rather than text.
    pub measurements: Vec<Measurement>,
    /// The plans the demo measured (the index demos), shown before `lines`: one as its
    /// tree, two as a diff from the first (before) to the second (after).
    pub plans: Vec<MeasuredPlan>,
    /// The one number the room should read, where the demo names it itself; otherwise
    /// presenting mode derives one from the fields above.
    pub headline: Option<Headline>,
}

/// A step's headline measurement, drawn in large type in presenting mode: a measured value
/// as it is read out (`11`, `38×`, `2.4 s`) and what it is (`round trips — the lazy loop`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headline {
    pub value: String,
    pub label: String,
}

impl DemoReport {
    /// Round trips of one kind.
    pub fn of_kind(&self, kind: Kind) -> u64 {
        self.by_kind
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| *n)
    }
}

/// Why a demo ended without a report, in words for the learner: never the demo's internal
/// name, since a lesson shows its steps by number and title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoFailure {
    /// The whole explanation, for where no lesson step can be named.
    pub message: String,
    /// Set when the demo needs what another demo builds: the lesson that shows the failure
    /// names the step running that demo.
    pub run_first: Option<RunFirst>,
}

/// What a demo missed, and the demo whose step builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFirst {
    /// What went wrong, without advice (`relation "big_users" does not exist`).
    pub cause: String,
    /// What the other step builds (`big_users`).
    pub builds: &'static str,
    /// The demo that builds it (`indexes.seed`).
    pub demo: &'static str,
}

impl From<String> for DemoFailure {
    fn from(message: String) -> Self {
        DemoFailure {
            message,
            run_first: None,
        }
    }
}

impl From<&str> for DemoFailure {
    fn from(message: &str) -> Self {
        message.to_string().into()
    }
}
