//! One plan node as PostgreSQL printed it: identity, estimates, per-loop actuals, counters,
//! every key kept verbatim, and the node's place in the tree. The derived numbers live in
//! [`Metrics`](super::metrics::Metrics), filled in once the whole tree is known.

use serde_json::{Map, Value};

use super::metrics::Metrics;

/// Index of a node in [`Plan::nodes`](super::Plan::nodes); the root is `NodeId(0)` and nodes
/// are stored in pre-order (a parent before its children, children in printed order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub usize);

/// How a node hangs under its parent (`"Parent Relationship"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relationship {
    /// The root has none.
    None,
    Outer,
    Inner,
    /// Runs once before its value is needed (`$n` / `(InitPlan n)`); CTEs are InitPlans too.
    InitPlan,
    /// Re-run by its parent, typically once per row.
    SubPlan,
    /// A child of Append, BitmapAnd/Or and the like.
    Member,
    Subquery,
    /// A relationship this version of pglab does not know, kept as printed.
    Other(String),
}

impl Relationship {
    pub(super) fn from_printed(text: Option<&str>) -> Self {
        match text {
            None => Self::None,
            Some("Outer") => Self::Outer,
            Some("Inner") => Self::Inner,
            Some("InitPlan") => Self::InitPlan,
            Some("SubPlan") => Self::SubPlan,
            Some("Member") => Self::Member,
            Some("Subquery") => Self::Subquery,
            Some(other) => Self::Other(other.to_owned()),
        }
    }

    /// InitPlans and SubPlans run on their own schedule, not as part of the parent's row flow.
    pub fn is_subplan(&self) -> bool {
        matches!(self, Self::InitPlan | Self::SubPlan)
    }
}

/// What the node measured when it ran (`EXPLAIN ANALYZE`). Times and rows are averages per
/// loop, exactly as printed; totals are in [`Metrics`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Actual {
    /// `Actual Startup Time`, ms per loop; absent with `TIMING OFF`.
    pub startup_ms: Option<f64>,
    /// `Actual Total Time`, ms per loop; absent with `TIMING OFF`.
    pub total_ms: Option<f64>,
    /// `Actual Rows` per loop (fractional from PostgreSQL 18 on).
    pub rows: f64,
    /// `Actual Loops`: how many times the node ran, over all processes. 0 = never executed.
    pub loops: f64,
}

/// Rows a node looked at and threw away, per loop as printed (`nfiltered / nloops`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Removed {
    pub by_filter: Option<f64>,
    pub by_join_filter: Option<f64>,
    pub by_index_recheck: Option<f64>,
}

/// Block counters (`BUFFERS`). As printed they include the children's blocks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Buffers {
    pub shared_hit: u64,
    pub shared_read: u64,
    pub shared_dirtied: u64,
    pub shared_written: u64,
    pub local_hit: u64,
    pub local_read: u64,
    pub local_dirtied: u64,
    pub local_written: u64,
    pub temp_read: u64,
    pub temp_written: u64,
}

impl Buffers {
    /// Pages this node looked at in shared and local buffers, from cache or not.
    pub fn pages_touched(&self) -> u64 {
        self.shared_hit + self.shared_read + self.local_hit + self.local_read
    }

    /// Every counter minus `other`'s, stopping at zero.
    pub fn saturating_sub(&self, other: &Buffers) -> Buffers {
        let mut out = *self;
        for (mine, theirs) in out.counters_mut().into_iter().zip(other.counters()) {
            *mine = mine.saturating_sub(theirs);
        }
        out
    }

    pub(super) fn counters(&self) -> [u64; 10] {
        [
            self.shared_hit,
            self.shared_read,
            self.shared_dirtied,
            self.shared_written,
            self.local_hit,
            self.local_read,
            self.local_dirtied,
            self.local_written,
            self.temp_read,
            self.temp_written,
        ]
    }

    pub(super) fn counters_mut(&mut self) -> [&mut u64; 10] {
        [
            &mut self.shared_hit,
            &mut self.shared_read,
            &mut self.shared_dirtied,
            &mut self.shared_written,
            &mut self.local_hit,
            &mut self.local_read,
            &mut self.local_dirtied,
            &mut self.local_written,
            &mut self.temp_read,
            &mut self.temp_written,
        ]
    }

    /// The JSON keys, in the order of [`Buffers::counters`].
    pub(super) const KEYS: [&'static str; 10] = [
        "Shared Hit Blocks",
        "Shared Read Blocks",
        "Shared Dirtied Blocks",
        "Shared Written Blocks",
        "Local Hit Blocks",
        "Local Read Blocks",
        "Local Dirtied Blocks",
        "Local Written Blocks",
        "Temp Read Blocks",
        "Temp Written Blocks",
    ];
}

/// One plan node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: NodeId,
    pub parent: Option<NodeId>,
    pub children: Vec<NodeId>,
    /// 0 for the root.
    pub depth: usize,
    /// `Node Type` as printed in JSON ("Seq Scan", "Aggregate", "ModifyTable").
    pub node_type: String,
    pub relationship: Relationship,
    /// `Subplan Name`: "InitPlan 1 (returns $0)", "SubPlan 2", "CTE recent".
    pub subplan_name: Option<String>,
    pub relation: Option<String>,
    pub schema: Option<String>,
    pub alias: Option<String>,
    pub index_name: Option<String>,
    pub cte_name: Option<String>,
    pub function_name: Option<String>,
    pub join_type: Option<String>,
    /// ModifyTable's `Operation` ("Insert", "Update", "Delete", "Merge").
    pub operation: Option<String>,
    /// Aggregate's `Strategy` ("Plain", "Sorted", "Hashed", "Mixed").
    pub strategy: Option<String>,
    /// "Partial", "Finalize" or "Simple".
    pub partial_mode: Option<String>,
    pub scan_direction: Option<String>,
    pub parallel_aware: bool,
    pub startup_cost: f64,
    pub total_cost: f64,
    /// `Plan Rows`: the planner's estimate per loop.
    pub plan_rows: f64,
    pub plan_width: f64,
    /// `None` for plain EXPLAIN (no ANALYZE).
    pub actual: Option<Actual>,
    pub removed: Removed,
    /// `None` when the plan was fetched without BUFFERS.
    pub buffers: Option<Buffers>,
    pub workers_planned: Option<u64>,
    pub workers_launched: Option<u64>,
    /// Every key of the node as printed (except `Plans`), for what the model does not name.
    pub props: Map<String, Value>,
    pub metrics: Metrics,
}

impl Node {
    /// The label a reader knows from text EXPLAIN: "Parallel Seq Scan", "Hash Left Join",
    /// "HashAggregate", "Delete", "Index Scan Backward", "Finalize Aggregate".
    pub fn kind_label(&self) -> String {
        let base = match (self.node_type.as_str(), self.strategy.as_deref()) {
            ("Aggregate", Some("Hashed")) => "HashAggregate".to_owned(),
            ("Aggregate", Some("Sorted")) => "GroupAggregate".to_owned(),
            ("Aggregate", Some("Mixed")) => "MixedAggregate".to_owned(),
            ("SetOp", Some("Hashed")) => "HashSetOp".to_owned(),
            ("ModifyTable", _) => self
                .operation
                .clone()
                .unwrap_or_else(|| self.node_type.clone()),
            (other, _) => other.to_owned(),
        };
        let joined = match self.join_type.as_deref() {
            Some(join) if join != "Inner" => match base.strip_suffix(" Join") {
                Some(stem) => format!("{stem} {join} Join"),
                // "Nested Loop" has no " Join" to splice into.
                None => format!("{base} {join} Join"),
            },
            _ => base,
        };
        let mut label = String::new();
        if self.parallel_aware {
            label.push_str("Parallel ");
        }
        if let Some(mode @ ("Partial" | "Finalize")) = self.partial_mode.as_deref() {
            label.push_str(mode);
            label.push(' ');
        }
        label.push_str(&joined);
        if self.scan_direction.as_deref() == Some("Backward") {
            label.push_str(" Backward");
        }
        label
    }

    /// The full title: kind, index and target, e.g. "Index Scan using users_email_key on users"
    /// or "Seq Scan on users u" or "CTE Scan on recent".
    pub fn title(&self) -> String {
        let mut title = self.kind_label();
        if let Some(index) = &self.index_name {
            title.push_str(" using ");
            title.push_str(index);
        }
        let target = self
            .relation
            .as_deref()
            .or(self.cte_name.as_deref())
            .or(self.function_name.as_deref());
        if let Some(target) = target {
            title.push_str(" on ");
            title.push_str(target);
            if let Some(alias) = self.alias.as_deref().filter(|alias| *alias != target) {
                title.push(' ');
                title.push_str(alias);
            }
        }
        title
    }

    pub fn is_gather(&self) -> bool {
        matches!(self.node_type.as_str(), "Gather" | "Gather Merge")
    }

    /// True when the node ran under ANALYZE zero times (`(never executed)` in text).
    pub fn never_executed(&self) -> bool {
        self.actual.is_some_and(|actual| actual.loops == 0.0)
    }

    /// Every string the node prints (conditions, keys, outputs), for finding `$n` uses.
    pub(super) fn printed_strings(&self) -> impl Iterator<Item = &str> {
        self.props
            .iter()
            .filter(|(key, _)| key.as_str() != "Subplan Name")
            .flat_map(|(_, value)| match value {
                Value::String(text) => vec![text.as_str()],
                Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            })
    }
}
