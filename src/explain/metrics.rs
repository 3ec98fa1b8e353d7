//! The numbers derived from a plan, and the formulas behind them. PostgreSQL prints times,
//! rows and removed rows as averages per loop, buffers and times including the children, and
//! parallel nodes' times summed over every process; each of those has to be undone before
//! two nodes can be compared. The formulas follow the research note (§8) and PEV2, the tool
//! that gets them right; where a number can only be estimated, it says so through
//! [`Approximation`] instead of pretending to be exact.
//!
//! Notation below: `t` = Actual Total Time (ms per loop), `L` = Actual Loops, `r` = Actual
//! Rows (per loop), `p` = Plan Rows (per loop), `P` = processes running the node.

use super::Plan;
use super::node::{Buffers, Node, NodeId, Relationship};

/// Everything derived for one node.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Metrics {
    /// The node was planned but never ran (`Actual Loops` = 0): it gets zeros, not ratios.
    pub never_executed: bool,
    /// `P`: processes sharing the node's work: workers launched by the nearest Gather above it
    /// plus the leader, or 1 outside parallel parts and inside InitPlans, SubPlans and CTEs.
    pub processes: u64,
    /// `None` without ANALYZE or with `TIMING OFF`.
    pub time: Option<Timing>,
    /// `r × L`: rows emitted over all loops.
    pub rows: Option<Count>,
    /// `Rows Removed by Filter × L`.
    pub removed_by_filter: Option<Count>,
    /// `Rows Removed by Join Filter × L`.
    pub removed_by_join_filter: Option<Count>,
    /// `Rows Removed by Index Recheck × L`.
    pub removed_by_index_recheck: Option<Count>,
    /// Share of the rows the node examined that its filters threw away:
    /// `removed / (removed + rows)`, all removal kinds together, totals over all loops.
    pub filter_fraction: Option<f64>,
    pub estimate: Option<Estimate>,
    /// Exclusive buffers: the node's counters minus those of the children that ran inside it.
    pub buffers: Option<Buffers>,
    /// Exclusive `shared hit / (hit + read)`; `None` when it touched no shared page.
    pub hit_ratio: Option<f64>,
    /// `max(0, Total Cost − Σ children's Total Cost)`, in planner units (not ms).
    pub cost_exclusive: f64,
}

impl Metrics {
    /// Rows thrown away by the node's filter, join filter and index recheck, each × loops.
    pub fn removed_rows(&self) -> impl Iterator<Item = f64> {
        [
            self.removed_by_filter,
            self.removed_by_join_filter,
            self.removed_by_index_recheck,
        ]
        .into_iter()
        .flatten()
        .map(|count| count.value)
    }
}

/// Time spent in a node, in ms.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timing {
    /// Wall-clock estimate including children: `t × L / P`.
    pub inclusive_ms: f64,
    /// Summed over every process and loop: `t × L` (equal to `inclusive_ms` when `P` = 1).
    pub cpu_ms: f64,
    /// `inclusive_ms` minus the children that ran inside this node (see [`derive`]).
    pub exclusive_ms: f64,
    pub inclusive_approx: Approximation,
    pub exclusive_approx: Approximation,
}

/// Why a derived time is not exact. All false: exact up to the printed precision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Approximation {
    /// `P` > 1: the processes' summed time divided by `P` assumes they shared the work evenly.
    pub parallel: bool,
    /// `L` > 1 with a per-loop time under 0.05 ms: printed to 0.001 ms, the total can be off by
    /// more than 1 %.
    pub loop_rounding: bool,
    /// Part of an InitPlan or CTE's time was taken out on a guess: shared among CTE scans in
    /// proportion to their time, or charged to the first of several nodes using an InitPlan.
    pub shared_subplan: bool,
    /// The subtraction came out below zero (rounding) and was floored at 0.
    pub clamped: bool,
}

impl Approximation {
    pub fn any(&self) -> bool {
        self.parallel || self.loop_rounding || self.shared_subplan || self.clamped
    }

    pub fn merge(self, other: Approximation) -> Approximation {
        Approximation {
            parallel: self.parallel || other.parallel,
            loop_rounding: self.loop_rounding || other.loop_rounding,
            shared_subplan: self.shared_subplan || other.shared_subplan,
            clamped: self.clamped || other.clamped,
        }
    }
}

/// A per-loop count multiplied back by loops.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Count {
    pub value: f64,
    /// PostgreSQL up to 17 rounds the per-loop average to a whole number, so with `L` > 1 the
    /// product is only close ("~" when shown).
    pub approximate: bool,
}

/// Which way the planner was wrong about a node's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// More rows came than planned (↓: the planner expected fewer).
    Under,
    /// Fewer rows came than planned (↑: the planner expected more).
    Over,
    Exact,
}

/// The planner's row estimate against what happened, per loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// How many times off, always ≥ 1: `max(r,1) / max(p,1)` or its inverse.
    pub factor: f64,
    pub direction: Direction,
    /// Below a Limit the node may have been stopped early, so fewer actual rows than planned
    /// says nothing about the estimate (the docs' caveat): don't flag these.
    pub cut_short: bool,
}

/// Fills in every node's [`Metrics`]. Called once by the parser.
pub(super) fn derive(mut plan: Plan) -> Plan {
    let count = plan.nodes.len();
    let ends = subtree_ends(&plan.nodes);
    let leader_runs = plan
        .settings
        .get("parallel_leader_participation")
        .and_then(|value| value.as_str())
        != Some("off");

    // Pass 1, parents before children: processes and whether a Limit may have cut the node short.
    let mut processes = vec![1_u64; count];
    let mut cut_short = vec![false; count];
    for id in 0..count {
        let node = &plan.nodes[id];
        let Some(parent) = node.parent.map(|parent| &plan.nodes[parent.0]) else {
            continue;
        };
        if node.relationship.is_subplan() {
            continue;
        }
        processes[id] = if parent.is_gather() {
            match parent.workers_launched.unwrap_or(0) {
                // With no worker launched the leader runs the whole plan itself.
                0 => 1,
                workers => match (node.actual, parent.actual) {
                    // The child runs once per process per run of the Gather: its loops say
                    // whether the leader took part, whatever `parallel_leader_participation`
                    // was (only a SETTINGS plan prints it).
                    (Some(child), Some(gather)) if child.loops > 0.0 && gather.loops > 0.0 => {
                        ((child.loops / gather.loops).round() as u64).clamp(1, workers + 1)
                    }
                    _ => workers + u64::from(leader_runs),
                },
            }
        } else {
            processes[parent.id.0]
        };
        // A Sort, a Hash or an aggregate reads its whole input before it returns a row, so a
        // Limit above it cannot cut what is below it short.
        cut_short[id] =
            parent.node_type == "Limit" || (cut_short[parent.id.0] && !reads_whole_input(parent));
    }

    // Inclusive time: t × L / P.
    let mut timings: Vec<Option<Timing>> = plan
        .nodes
        .iter()
        .map(|node| inclusive(node, processes[node.id.0]))
        .collect();

    // Exclusive time and buffers: subtract the children that ran inside the node. InitPlans
    // are not among them: an InitPlan runs when its value is first needed, inside whichever
    // node uses it, so it is charged to that node below.
    let mut buffers: Vec<Option<Buffers>> = plan.nodes.iter().map(|node| node.buffers).collect();
    for node in &plan.nodes {
        let id = node.id.0;
        let inside = node
            .children
            .iter()
            .map(|child| &plan.nodes[child.0])
            .filter(|child| child.relationship != Relationship::InitPlan);
        for child in inside {
            subtract(&mut timings, &mut buffers, &plan.nodes, id, child, None);
        }
    }
    for init in plan
        .nodes
        .iter()
        .filter(|node| node.relationship == Relationship::InitPlan)
    {
        let Some(parent) = init.parent else { continue };
        let name = init.subplan_name.as_deref().unwrap_or("");
        if let Some(cte) = name.strip_prefix("CTE ") {
            share_cte(&plan, &ends, parent, init, cte, &mut timings, &mut buffers);
        } else {
            let users = initplan_users(&plan, &ends, parent, init, name);
            let (target, guessed) = match users.as_slice() {
                [] => (parent.0, false),
                [only] => (only.0, false),
                [first, ..] => (first.0, true),
            };
            subtract(&mut timings, &mut buffers, &plan.nodes, target, init, None);
            if guessed && let Some(time) = timings[target].as_mut() {
                time.exclusive_approx.shared_subplan = true;
            }
        }
    }

    for node in &mut plan.nodes {
        let id = node.id.0;
        let mut time = timings[id];
        if let Some(time) = time.as_mut()
            && time.exclusive_ms < 0.0
        {
            time.exclusive_ms = 0.0;
            time.exclusive_approx.clamped = true;
        }
        node.metrics = per_node(node, processes[id], time, buffers[id], cut_short[id]);
    }
    exact_rows_under_gather(&mut plan);
    let costs: Vec<f64> = plan
        .nodes
        .iter()
        .map(|node| {
            let children: f64 = node
                .children
                .iter()
                .map(|child| plan.nodes[child.0].total_cost)
                .sum();
            (node.total_cost - children).max(0.0)
        })
        .collect();
    for (node, cost) in plan.nodes.iter_mut().zip(costs) {
        node.metrics.cost_exclusive = cost;
    }
    plan
}

/// Whether `node` consumes all of its input before returning its first row.
fn reads_whole_input(node: &Node) -> bool {
    match node.node_type.as_str() {
        "Sort" | "Hash" => true,
        // A sorted aggregate streams group by group; plain and hashed ones read everything.
        "Aggregate" => node.strategy.as_deref() != Some("Sorted"),
        _ => false,
    }
}

/// A Gather passes on every row its processes produce and counts them exactly, while its
/// child prints a per-process average rounded to a whole number (1 row found by one of 3
/// processes prints as 0). The Gather's count is the child's true total, so the child takes
/// it, and its filter share with it.
fn exact_rows_under_gather(plan: &mut Plan) {
    for id in 0..plan.nodes.len() {
        if !counted_by_gather(plan, NodeId(id)) {
            continue;
        }
        let Some(parent) = plan.nodes[id].parent else {
            continue;
        };
        let rows = plan.nodes[parent.0].metrics.rows;
        let metrics = &mut plan.nodes[id].metrics;
        metrics.rows = rows;
        let removed: f64 = metrics.removed_rows().sum();
        if let Some(rows) = rows.filter(|_| removed > 0.0) {
            metrics.filter_fraction = Some(removed / (removed + rows.value));
        }
    }
}

/// Whether node `id`'s row total is its Gather's exact count rather than its own rounded
/// per-process average times its loops: it runs in several processes, directly under a
/// Gather that counted exactly.
pub fn counted_by_gather(plan: &Plan, id: NodeId) -> bool {
    let node = plan.node(id);
    let gather = node.parent.map(|parent| plan.node(parent));
    node.relationship == Relationship::Outer
        && !node.metrics.never_executed
        && node.metrics.rows.is_some()
        && node.actual.is_some_and(|actual| actual.loops > 1.0)
        && gather.is_some_and(|gather| {
            // Under a Limit the Gather stops reading early, and rows its processes had
            // already produced are dropped uncounted.
            gather.is_gather()
                && gather.metrics.rows.is_some_and(|rows| !rows.approximate)
                && !gather
                    .metrics
                    .estimate
                    .is_some_and(|estimate| estimate.cut_short)
        })
}

fn inclusive(node: &Node, processes: u64) -> Option<Timing> {
    let actual = node.actual?;
    let per_loop = actual.total_ms?;
    let loops = actual.loops;
    let cpu_ms = per_loop * loops;
    let approx = Approximation {
        parallel: processes > 1 && loops > 0.0,
        loop_rounding: loops > 1.0 && per_loop < 0.05,
        ..Approximation::default()
    };
    let inclusive_ms = cpu_ms / processes as f64;
    Some(Timing {
        inclusive_ms,
        cpu_ms,
        exclusive_ms: inclusive_ms,
        inclusive_approx: approx,
        exclusive_approx: approx,
    })
}

/// Takes `child`'s inclusive time (or `share` of it) and buffers out of node `target`'s
/// exclusive ones.
fn subtract(
    timings: &mut [Option<Timing>],
    buffers: &mut [Option<Buffers>],
    nodes: &[Node],
    target: usize,
    child: &Node,
    share: Option<f64>,
) {
    if let (Some(child_time), Some(time)) = (timings[child.id.0], timings[target].as_mut()) {
        time.exclusive_ms -= share.unwrap_or(child_time.inclusive_ms);
        time.exclusive_approx = time.exclusive_approx.merge(child_time.inclusive_approx);
    }
    if share.is_none()
        && let (Some(theirs), Some(mine)) = (nodes[child.id.0].buffers, buffers[target].as_mut())
    {
        *mine = mine.saturating_sub(&theirs);
    }
}

/// A CTE runs as its scans pull rows from it, so its time sits inside the CTE Scans' time.
/// It is taken out of them in proportion to their own exclusive time (PEV2's correction);
/// its buffers are taken out of the scan that read the most, then the next, since the first
/// scan to pull a row is the one that paid for it.
fn share_cte(
    plan: &Plan,
    ends: &[usize],
    parent: NodeId,
    cte: &Node,
    name: &str,
    timings: &mut [Option<Timing>],
    buffers: &mut [Option<Buffers>],
) {
    let scans: Vec<usize> = (parent.0..ends[parent.0])
        .filter(|id| !(cte.id.0..ends[cte.id.0]).contains(id))
        .filter(|id| {
            let node = &plan.nodes[*id];
            node.node_type == "CTE Scan" && node.cte_name.as_deref() == Some(name)
        })
        .collect();
    if scans.is_empty() {
        return;
    }
    if let Some(cte_time) = timings[cte.id.0] {
        let weights: Vec<f64> = scans
            .iter()
            .map(|id| timings[*id].map_or(0.0, |time| time.exclusive_ms.max(0.0)))
            .collect();
        let total: f64 = weights.iter().sum();
        for (id, weight) in scans.iter().zip(weights) {
            let fraction = if total > 0.0 {
                weight / total
            } else {
                1.0 / scans.len() as f64
            };
            let share = cte_time.inclusive_ms * fraction;
            subtract(timings, buffers, &plan.nodes, *id, cte, Some(share));
            if let Some(time) = timings[*id].as_mut() {
                time.exclusive_approx.shared_subplan = true;
            }
        }
    }
    if let Some(cte_buffers) = cte.buffers {
        let mut order = scans.clone();
        order.sort_by_key(|id| std::cmp::Reverse(buffers[*id].map_or(0, |b| b.pages_touched())));
        for (slot, owed) in cte_buffers.counters().into_iter().enumerate() {
            let mut owed = owed;
            for id in &order {
                let Some(scan) = buffers[*id].as_mut() else {
                    continue;
                };
                let counter = scan.counters_mut().into_iter().nth(slot);
                if let Some(counter) = counter {
                    let taken = owed.min(*counter);
                    *counter -= taken;
                    owed -= taken;
                }
            }
        }
    }
}

/// The nodes (outside the InitPlan itself, under the node it hangs from) whose printed
/// conditions use the InitPlan's result: `$0` up to PostgreSQL 16, `(InitPlan 1)` from 17.
fn initplan_users(
    plan: &Plan,
    ends: &[usize],
    parent: NodeId,
    init: &Node,
    name: &str,
) -> Vec<NodeId> {
    let mut markers: Vec<String> = Vec::new();
    if let Some((_, returns)) = name.split_once("(returns ") {
        markers.extend(
            returns
                .trim_end_matches(')')
                .split(',')
                .map(|param| param.trim().to_owned())
                .filter(|param| param.starts_with('$')),
        );
    }
    if let Some(label) = name.split(" (").next().filter(|label| !label.is_empty()) {
        markers.push(format!("({label})"));
    }
    (parent.0..ends[parent.0])
        .filter(|id| !(init.id.0..ends[init.id.0]).contains(id))
        .map(|id| &plan.nodes[id])
        .filter(|node| {
            node.printed_strings()
                .any(|text| markers.iter().any(|marker| mentions(text, marker)))
        })
        .map(|node| node.id)
        .collect()
}

/// True when `marker` occurs in `text` not followed by a digit (`$1` must not match `$12`).
fn mentions(text: &str, marker: &str) -> bool {
    text.match_indices(marker).any(|(at, _)| {
        !text[at + marker.len()..]
            .chars()
            .next()
            .is_some_and(|next| next.is_ascii_digit())
    })
}

/// For each node, one past the index of its last descendant (nodes are in pre-order, so a
/// subtree is a contiguous range).
fn subtree_ends(nodes: &[Node]) -> Vec<usize> {
    let mut ends: Vec<usize> = (1..=nodes.len()).collect();
    for id in (0..nodes.len()).rev() {
        if let Some(last) = nodes[id].children.last() {
            ends[id] = ends[last.0];
        }
    }
    ends
}

fn per_node(
    node: &Node,
    processes: u64,
    time: Option<Timing>,
    buffers: Option<Buffers>,
    cut_short: bool,
) -> Metrics {
    let never_executed = node.never_executed();
    let mut metrics = Metrics {
        never_executed,
        processes,
        time,
        buffers,
        hit_ratio: buffers.and_then(|b| {
            let touched = b.shared_hit + b.shared_read;
            (touched > 0).then(|| b.shared_hit as f64 / touched as f64)
        }),
        ..Metrics::default()
    };
    let Some(actual) = node.actual else {
        return metrics;
    };
    let loops = actual.loops;
    // Whole per-loop counts times several loops are only close to the true total.
    let total = |per_loop: f64| Count {
        value: per_loop * loops,
        approximate: loops > 1.0 && per_loop.fract() == 0.0,
    };
    metrics.rows = Some(total(actual.rows));
    metrics.removed_by_filter = node.removed.by_filter.map(total);
    metrics.removed_by_join_filter = node.removed.by_join_filter.map(total);
    metrics.removed_by_index_recheck = node.removed.by_index_recheck.map(total);
    if never_executed {
        return metrics;
    }
    let removed: Vec<f64> = metrics.removed_rows().collect();
    if !removed.is_empty() {
        let removed: f64 = removed.iter().sum();
        let examined = removed + actual.rows * loops;
        metrics.filter_fraction = (examined > 0.0).then(|| removed / examined);
    }
    // BitmapAnd/Or always report 0 rows: there is no estimate to judge.
    if !matches!(node.node_type.as_str(), "BitmapAnd" | "BitmapOr") {
        metrics.estimate = Some(estimate(actual.rows, node.plan_rows, cut_short));
    }
    metrics
}

/// Compares per loop, with both sides floored at 1 so that 0 rows is not an infinite error.
pub fn estimate(actual_rows: f64, plan_rows: f64, cut_short: bool) -> Estimate {
    let ratio = actual_rows.max(1.0) / plan_rows.max(1.0);
    let (factor, direction) = if ratio > 1.0 {
        (ratio, Direction::Under)
    } else if ratio < 1.0 {
        (1.0 / ratio, Direction::Over)
    } else {
        (1.0, Direction::Exact)
    };
    Estimate {
        factor,
        direction,
        cut_short,
    }
}
