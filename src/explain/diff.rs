//! Two plans compared, before and after a change (an index, a rewrite, a setting): how
//! execution and planning time, pages touched and rows returned moved, and which nodes were
//! replaced, dropped or added. Pure numbers and titles; the words are
//! [`text::diff_lines`](super::text::diff_lines)'.

use std::collections::HashMap;

use super::{Node, Plan};

/// Ratios this close to 1 are measurement noise, not a change worth a "×".
const SAME_WITHIN: f64 = 1.1;

/// What changed from `before` to `after`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanDiff {
    /// `Execution Time` (or the root's time), ms.
    pub execution: Change,
    pub planning: Change,
    /// Pages every node touched, from cache or disk (`None` without BUFFERS).
    pub pages: Change,
    /// Rows the root returned.
    pub rows: Change,
    /// A node of `before` whose place went to a node of `after` on the same relation:
    /// "Seq Scan on users" → "Index Scan using users_email_key on users".
    pub replaced: Vec<(String, String)>,
    /// Titles only `before` has (as many times as it has them more).
    pub disappeared: Vec<String>,
    /// Titles only `after` has.
    pub appeared: Vec<String>,
}

/// One number before and after.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub before: Option<f64>,
    pub after: Option<f64>,
    /// How far repeated runs of the same statement wandered (the wider of the two series'
    /// ranges, each without its fastest and slowest run), when `before` and `after` are medians of such runs: a difference within it
    /// is no measurable change.
    pub spread: Option<f64>,
}

/// Which way a number moved, and by how many times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trend {
    /// Within [`SAME_WITHIN`] of each other.
    Same,
    /// `after` is smaller by `factor` (≥ 1).
    Less { factor: f64 },
    /// `after` is larger by `factor` (≥ 1).
    More { factor: f64 },
}

impl Change {
    /// How `after` compares with `before`; `None` when either is missing, or one is zero and
    /// the other not (no finite factor).
    pub fn trend(&self) -> Option<Trend> {
        let (before, after) = (self.before?, self.after?);
        if before == after
            || self
                .spread
                .is_some_and(|spread| (after - before).abs() <= spread)
        {
            return Some(Trend::Same);
        }
        if before <= 0.0 || after <= 0.0 {
            return None;
        }
        let factor = before.max(after) / before.min(after);
        Some(if factor < SAME_WITHIN {
            Trend::Same
        } else if after < before {
            Trend::Less { factor }
        } else {
            Trend::More { factor }
        })
    }
}

impl PlanDiff {
    /// The execution times replaced by the medians of repeated `TIMING OFF` runs of each
    /// statement, with their spread as the noise floor: one run per side, with per-node
    /// timing on, cannot tell a change from the run-to-run wobble.
    pub fn timed(mut self, before_ms: &[f64], after_ms: &[f64]) -> PlanDiff {
        if let Some(change) = timed_change(before_ms, after_ms) {
            self.execution = change;
        }
        self
    }
}

/// Medians of two series of runs and their spread; `None` if either is empty.
pub fn timed_change(before_ms: &[f64], after_ms: &[f64]) -> Option<Change> {
    // The range of the runs without the fastest and the slowest (from 5 runs on): one
    // hiccup (a checkpoint, another process) must not hide a real change.
    let range = |runs: &[f64]| {
        let mut sorted = runs.to_vec();
        sorted.sort_by(f64::total_cmp);
        let kept = if sorted.len() >= 5 {
            &sorted[1..sorted.len() - 1]
        } else {
            &sorted[..]
        };
        kept.last()
            .zip(kept.first())
            .map_or(0.0, |(high, low)| high - low)
    };
    if before_ms.is_empty() || after_ms.is_empty() {
        return None;
    }
    Some(Change {
        before: Some(median(before_ms)),
        after: Some(median(after_ms)),
        spread: Some(range(before_ms).max(range(after_ms))),
    })
}

/// The middle value (the mean of the two middle ones for an even count); 0 for none.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Compares the plan `before` a change with the plan `after` it.
pub fn compare(before: &Plan, after: &Plan) -> PlanDiff {
    let (replaced, disappeared, appeared) = node_changes(before, after);
    PlanDiff {
        execution: Change {
            before: before.runtime_ms(),
            after: after.runtime_ms(),
            spread: None,
        },
        planning: Change {
            before: before.planning_ms,
            after: after.planning_ms,
            spread: None,
        },
        pages: Change {
            before: pages(before),
            after: pages(after),
            spread: None,
        },
        rows: Change {
            before: before.root().metrics.rows.map(|rows| rows.value),
            after: after.root().metrics.rows.map(|rows| rows.value),
            spread: None,
        },
        replaced,
        disappeared,
        appeared,
    }
}

/// Every node's exclusive pages added up: the whole plan's, InitPlans included.
fn pages(plan: &Plan) -> Option<f64> {
    let counted: Vec<u64> = plan
        .nodes
        .iter()
        .filter_map(|node| node.metrics.buffers.map(|b| b.pages_touched()))
        .collect();
    (!counted.is_empty()).then(|| counted.iter().sum::<u64>() as f64)
}

type NodeChanges = (Vec<(String, String)>, Vec<String>, Vec<String>);

/// The titles each plan has more of than the other; a dropped and an added node on the same
/// relation pair up as a replacement, in plan order.
fn node_changes(before: &Plan, after: &Plan) -> NodeChanges {
    let mut gone = surplus(&before.nodes, &after.nodes);
    let mut new = surplus(&after.nodes, &before.nodes);
    let mut replaced = Vec::new();
    gone.retain(|old| {
        let Some(relation) = old.relation.as_deref() else {
            return true;
        };
        match new
            .iter()
            .position(|candidate| candidate.relation.as_deref() == Some(relation))
        {
            Some(at) => {
                replaced.push((old.title(), new.remove(at).title()));
                false
            }
            None => true,
        }
    });
    let titles = |nodes: Vec<&Node>| nodes.iter().map(|node| node.title()).collect();
    (replaced, titles(gone), titles(new))
}

/// The nodes of `mine` whose title `theirs` has fewer of (the first ones are kept as "the
/// same", the rest are surplus).
fn surplus<'a>(mine: &'a [Node], theirs: &[Node]) -> Vec<&'a Node> {
    let mut available: HashMap<String, usize> = HashMap::new();
    for node in theirs {
        *available.entry(node.title()).or_default() += 1;
    }
    mine.iter()
        .filter(|node| match available.get_mut(&node.title()) {
            Some(count) if *count > 0 => {
                *count -= 1;
                false
            }
            _ => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::parse;

    fn plan(json: &str) -> Plan {
        parse(json).unwrap()
    }

    #[test]
    fn an_index_replaces_the_seq_scan() {
        let seq = plan(include_str!("../../tests/fixtures/plans/seq_scan.json"));
        let index = plan(include_str!("../../tests/fixtures/plans/index_scan.json"));
        let diff = compare(&seq, &index);
        // 20.155 ms → 0.175 ms of execution; 1,235 → 4 pages.
        let Some(Trend::Less { factor }) = diff.execution.trend() else {
            panic!("{diff:?}")
        };
        assert!((factor - 20.155 / 0.175).abs() < 1e-9);
        assert_eq!(
            diff.pages.trend(),
            Some(Trend::Less {
                factor: 1235.0 / 4.0
            })
        );
        assert_eq!(diff.rows.trend(), Some(Trend::Same));
        assert_eq!(
            diff.replaced,
            [(
                "Seq Scan on users".to_owned(),
                "Index Scan using users_email_key on users".to_owned()
            )]
        );
        assert!(diff.appeared.is_empty() && diff.disappeared.is_empty());
        // And the other way round, it is slower by the same factor.
        let back = compare(&index, &seq);
        assert!(matches!(back.execution.trend(), Some(Trend::More { .. })));
    }

    #[test]
    fn nodes_without_a_counterpart_are_listed() {
        let seq = plan(include_str!("../../tests/fixtures/plans/seq_scan.json"));
        let nested = plan(include_str!("../../tests/fixtures/plans/nested_loop.json"));
        let diff = compare(&seq, &nested);
        assert_eq!(
            diff.replaced,
            [(
                "Seq Scan on users".to_owned(),
                "Index Scan using users_pkey on users u".to_owned()
            )]
        );
        assert!(diff.disappeared.is_empty());
        assert_eq!(
            diff.appeared,
            [
                "Nested Loop".to_owned(),
                "Index Scan using posts_author_id_idx on posts p".to_owned()
            ]
        );
    }

    #[test]
    fn the_same_plan_has_no_changes() {
        let seq = plan(include_str!("../../tests/fixtures/plans/seq_scan.json"));
        let diff = compare(&seq, &seq);
        assert_eq!(diff.execution.trend(), Some(Trend::Same));
        assert!(diff.replaced.is_empty() && diff.appeared.is_empty());
        assert!(diff.disappeared.is_empty());
    }

    #[test]
    fn zero_has_no_factor() {
        let change = Change {
            before: Some(0.0),
            after: Some(3.0),
            spread: None,
        };
        assert_eq!(change.trend(), None);
        let none = Change {
            before: None,
            after: Some(3.0),
            spread: None,
        };
        assert_eq!(none.trend(), None);
    }

    #[test]
    fn a_difference_within_the_runs_spread_is_no_change() {
        let wobble = Change {
            before: Some(10.0),
            after: Some(13.0),
            spread: Some(4.0),
        };
        assert_eq!(wobble.trend(), Some(Trend::Same));
        let real = Change {
            spread: Some(2.0),
            ..wobble
        };
        assert!(matches!(real.trend(), Some(Trend::More { .. })));
        // One slow run does not widen the spread enough to hide a 50× change.
        let fifty = timed_change(
            &[1.5, 1.4, 1.6, 5.7, 1.5, 1.45, 1.55],
            &[0.03, 0.031, 0.029, 0.03, 0.03, 0.032, 0.03],
        )
        .unwrap();
        assert!(
            matches!(fifty.trend(), Some(Trend::Less { .. })),
            "{fifty:?}"
        );
        let same = timed_change(&[1.0, 1.2, 0.9, 1.1, 1.05], &[1.1, 0.95, 1.0, 1.15, 1.2]).unwrap();
        assert_eq!(same.trend(), Some(Trend::Same));
        assert_eq!(median(&[1.0, 50.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }
}
