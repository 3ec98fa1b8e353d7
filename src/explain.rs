//! The plan model: `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` output (or plain `EXPLAIN (FORMAT
//! JSON)`) from PostgreSQL 13–17, read into a tree of [`Node`]s with the numbers a reader
//! actually needs derived once: inclusive and exclusive time with loops and parallel workers
//! accounted for, totals instead of per-loop averages, filter share, estimate error with its
//! direction, exclusive buffers and cost, and the plan-wide planning, execution, trigger and
//! JIT times. Pure: it reads text and computes; fetching plans and the catalog facts insights
//! use is `db`'s job.
//!
//! - [`parse`](mod@parse): JSON → tree, with errors naming the node and key
//! - [`node`]: one node as printed
//! - [`metrics`]: the derived numbers and the formulas behind them
//! - [`text`]: a plain-text rendering (tree, bars, badges, headline, one node in words, a
//!   diff), in segments a view can style
//! - [`condition`]: the columns and operators in printed conditions
//! - [`insight`]: problems with their reason and SQL fix, given catalog facts
//! - [`diff`](mod@diff): two plans compared, before and after a change

pub mod condition;
pub mod diff;
pub mod insight;
pub mod metrics;
pub mod node;
pub mod parse;
pub mod text;

use serde_json::{Map, Value};

pub use diff::{PlanDiff, compare};
pub use insight::{CatalogFacts, ForeignKey, Insight, Symptom, TableIndex, insights};
pub use metrics::{Approximation, Count, Direction, Estimate, Metrics, Timing};
pub use node::{Actual, Buffers, Node, NodeId, Relationship, Removed};
pub use parse::{ParseError, from_value, parse};

/// A parsed plan with its derived metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// All nodes in pre-order; `nodes[0]` is the root.
    pub nodes: Vec<Node>,
    /// True when the plan carries actuals (EXPLAIN ANALYZE).
    pub analyzed: bool,
    pub planning_ms: Option<f64>,
    /// Includes executor start-up and shut-down and AFTER triggers; excludes planning.
    pub execution_ms: Option<f64>,
    /// The triggers that fired: AFTER ones (foreign-key checks among them), which no node's
    /// time includes, and BEFORE ones, inside the modifying node's time.
    pub triggers: Vec<Trigger>,
    pub jit: Option<Jit>,
    /// Planner settings that differ from the defaults (`SETTINGS` option).
    pub settings: Map<String, Value>,
    /// Buffers used while planning (PostgreSQL 13+ with BUFFERS).
    pub planning_buffers: Option<Buffers>,
    /// Every top-level key as printed (except `Plan`).
    pub props: Map<String, Value>,
}

/// One trigger's line from the `Triggers` list.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    /// "RI_ConstraintTrigger_a_16500" for a foreign-key check.
    pub name: String,
    pub constraint: Option<String>,
    pub relation: Option<String>,
    /// Total over all calls, in ms.
    pub time_ms: Option<f64>,
    pub calls: f64,
    /// A BEFORE trigger, which runs inside the Insert/Update/Delete node: its time is part of
    /// that node's, so [`Plan::trigger_ms`] leaves it out. The plan does not say which kind a
    /// trigger is; the catalog does (`db::explain` sets this).
    pub before: bool,
}

impl Trigger {
    /// Foreign keys are enforced by internal triggers with this name prefix.
    pub fn is_foreign_key_check(&self) -> bool {
        self.name.starts_with("RI_ConstraintTrigger")
    }
}

/// Just-in-time compilation summary (`JIT`); all times in ms.
#[derive(Debug, Clone, PartialEq)]
pub struct Jit {
    pub functions: f64,
    pub generation_ms: Option<f64>,
    pub inlining_ms: Option<f64>,
    pub optimization_ms: Option<f64>,
    pub emission_ms: Option<f64>,
    pub total_ms: Option<f64>,
}

impl Plan {
    pub fn root(&self) -> &Node {
        // A plan always has its root: the parser refuses input without one.
        &self.nodes[0]
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0]
    }

    pub fn children(&self, id: NodeId) -> impl Iterator<Item = &Node> {
        self.node(id).children.iter().map(|child| self.node(*child))
    }

    /// Total time of the triggers no node's time includes (all but BEFORE ones), ms (0 when
    /// none fired).
    pub fn trigger_ms(&self) -> f64 {
        // A fold from +0.0: an empty f64 sum is -0.0, which would print as "-0".
        self.triggers
            .iter()
            .filter(|t| !t.before)
            .filter_map(|t| t.time_ms)
            .fold(0.0, |sum, ms| sum + ms)
    }

    /// The sum of every node's exclusive time, ms: by construction the root's inclusive time
    /// (`None` without timing).
    pub fn nodes_ms(&self) -> Option<f64> {
        self.nodes
            .iter()
            .map(|node| node.metrics.time.map(|time| time.exclusive_ms))
            .sum()
    }

    /// Execution time that no node and no trigger accounts for: executor start-up and
    /// shut-down (freeing memory, removing temporary files). Small, but not zero.
    pub fn unattributed_ms(&self) -> Option<f64> {
        Some(self.execution_ms? - self.trigger_ms() - self.nodes_ms()?)
    }

    /// The time the share bars are drawn against: execution time when known, else the root's.
    pub fn runtime_ms(&self) -> Option<f64> {
        self.execution_ms
            .or_else(|| self.root().metrics.time.map(|time| time.inclusive_ms))
    }

    /// The node where the most exclusive time went (the first such, on ties).
    pub fn slowest_node(&self) -> Option<&Node> {
        self.nodes
            .iter()
            .filter_map(|node| Some((node, node.metrics.time?.exclusive_ms)))
            .fold(None, |best: Option<(&Node, f64)>, (node, ms)| match best {
                Some((_, best_ms)) if best_ms >= ms => best,
                _ => Some((node, ms)),
            })
            .map(|(node, _)| node)
    }
}
