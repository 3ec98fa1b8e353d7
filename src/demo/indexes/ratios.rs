//! Why `indexes.compare` shows two speed-ups, and which one to quote. The plan diff above its
//! lines divides the execution times of one `EXPLAIN (ANALYZE, BUFFERS)` run of each plan;
//! its verdict divides the medians of the runs without per-node timing that follow. Both are
//! measured, and on a lookup of a hundredth of a millisecond they can differ several times
//! over: the analyzed run reads the clock as rows pass each node, and it runs first, when
//! the pages may not be in PostgreSQL's cache yet. The demo sets the four times side by side
//! and says where the difference comes from, with the numbers of this run.

use std::cmp::Ordering;

use super::{paragraph, times};
use crate::explain::Plan;
use crate::explain::text::ms;
use crate::text::group;

/// Two times closer than this are the same time (as `plans` judges its verdict).
const SAME_TIME: f64 = 1.15;
/// Two ratios closer than this tell the same story.
const SAME_STORY: f64 = 1.5;

/// One of the two measured plans, as the table names it.
pub(super) struct Side<'a> {
    /// "as planned", "no indexes", "index forced": the table's row.
    pub label: &'a str,
    /// The same in a sentence: "as planned", "with index use switched off".
    pub phrase: &'a str,
    pub plan: &'a Plan,
    pub median_ms: f64,
}

/// The table of both measurements and the sentences under it; `before` is the plan the
/// diff calls before (the steered one), `after` the planner's own.
pub(super) fn lines(before: &Side, after: &Side, runs: usize) -> Vec<String> {
    let (Some(analyzed_before), Some(analyzed_after)) =
        (before.plan.execution_ms, after.plan.execution_ms)
    else {
        return Vec::new();
    };
    let one_run = analyzed_before / analyzed_after.max(0.001);
    let medians = before.median_ms / after.median_ms.max(0.001);
    let label_width = before.label.len().max("as planned ran".len()) + 2;
    let row = |label: &str, one: String, median: String| {
        format!("{label:<label_width$}{one:<22}{median}")
    };
    let runs_heading = if runs == 1 {
        "1 run without".to_string()
    } else {
        format!("median of {runs} runs")
    };
    let mut lines = vec![
        row("", "one EXPLAIN ANALYZE".into(), runs_heading),
        row(
            "",
            "(the plans above)".into(),
            if runs == 1 {
                "per-node timing".into()
            } else {
                "without per-node timing".into()
            },
        ),
        row(before.label, ms(analyzed_before), ms(before.median_ms)),
        row(after.label, ms(analyzed_after), ms(after.median_ms)),
        row("as planned ran", faster(one_run), faster(medians)),
        String::new(),
    ];
    let apart = (one_run / medians).max(medians / one_run);
    if apart < SAME_STORY && direction(one_run) == direction(medians) {
        lines.extend(paragraph(&format!(
            "Both columns tell the same story. The medians are the numbers to quote: one \
             run can be an unlucky one, and the {runs} runs of the second column had no \
             clock to read at every row."
        )));
        return lines;
    }
    lines.extend(paragraph(&format!(
        "Why two ratios: the plans above come from one EXPLAIN (ANALYZE, BUFFERS) run of \
         each, which reads the clock as rows pass every node, and which ran first{}. The \
         second column comes from the runs after it, with per-node timing off.",
        cache_clause(before, after)
    )));
    let mut why = format!(
        "The analyzed run took {} the median {} and {} the median {} (arithmetic): its \
         extra cost was not the same for both plans, so their ratio moved. Quote the \
         medians.",
        times(analyzed_after / after.median_ms.max(0.001)),
        after.phrase,
        times(analyzed_before / before.median_ms.max(0.001)),
        before.phrase,
    );
    if let (Some(pages_before), Some(pages_after)) = (pages(before.plan), pages(after.plan)) {
        why.push_str(&format!(
            " The pages, {} against {}, are counts, not times: no clock moves them.",
            group(pages_after as f64),
            group(pages_before as f64)
        ));
    }
    lines.extend(paragraph(&why));
    lines
}

/// ", when 3 of the 4 pages it read as planned were not yet in PostgreSQL's cache": the
/// analyzed runs' reads from outside the cache, when there were any.
fn cache_clause(before: &Side, after: &Side) -> String {
    let cold: Vec<String> = [after, before]
        .iter()
        .filter_map(|side| {
            let buffers = side.plan.root().buffers?;
            let read = buffers.shared_read + buffers.local_read;
            (read > 0).then(|| {
                format!(
                    "{} of the {} pages it read {}",
                    group(read as f64),
                    group(buffers.pages_touched() as f64),
                    side.phrase
                )
            })
        })
        .collect();
    match cold.as_slice() {
        [] => String::new(),
        [one] => format!(", when {one} were not in PostgreSQL's cache yet"),
        [first, second, ..] => {
            format!(", when {first}, and {second}, were not in PostgreSQL's cache yet")
        }
    }
}

/// "899× faster", "1.1× slower", "about as fast": the planner's plan against the other.
fn faster(ratio: f64) -> String {
    match direction(ratio) {
        Ordering::Equal => "about as fast".to_string(),
        Ordering::Greater => format!("{} faster", times(ratio)),
        Ordering::Less => format!("{} slower", times(1.0 / ratio)),
    }
}

/// Which way a ratio of the other plan's time over the planner's points, with times closer
/// than [`SAME_TIME`] counted as equal.
fn direction(ratio: f64) -> Ordering {
    if (1.0 / SAME_TIME..=SAME_TIME).contains(&ratio) {
        Ordering::Equal
    } else if ratio > 1.0 {
        Ordering::Greater
    } else {
        Ordering::Less
    }
}

/// The pages the whole plan touched, as its top node counts them.
fn pages(plan: &Plan) -> Option<u64> {
    plan.root().buffers.map(|buffers| buffers.pages_touched())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::parse;

    fn pair() -> (Plan, Plan) {
        let seq = parse(include_str!("../../../tests/fixtures/plans/seq_scan.json")).unwrap();
        let index = parse(include_str!(
            "../../../tests/fixtures/plans/index_scan.json"
        ))
        .unwrap();
        (seq, index)
    }

    #[test]
    fn ratios_far_apart_are_explained_with_this_runs_numbers() {
        let (seq, index) = pair();
        let before = Side {
            label: "no indexes",
            phrase: "with index use switched off",
            plan: &seq,
            median_ms: 18.0,
        };
        let after = Side {
            label: "as planned",
            phrase: "as planned",
            plan: &index,
            median_ms: 0.02,
        };
        let lines = lines(&before, &after, 7);
        assert_eq!(lines[0].trim(), "one EXPLAIN ANALYZE   median of 7 runs");
        assert!(
            lines[2].starts_with("no indexes      20.2 ms"),
            "{lines:#?}"
        );
        assert!(
            lines[4].starts_with("as planned ran  115× faster"),
            "{lines:#?}"
        );
        assert!(lines[4].ends_with("900× faster"), "{lines:#?}");
        let text = lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
        assert!(text.contains("Why two ratios"), "{text}");
        assert!(
            text.contains("3 of the 4 pages it read as planned were not in"),
            "{text}"
        );
        assert!(text.contains("Quote the medians."), "{text}");
        assert!(text.contains("The pages, 4 against 1,235"), "{text}");
        assert!(
            lines
                .iter()
                .all(|l| l.chars().count() <= super::super::LINE_WIDTH)
        );
    }

    #[test]
    fn ratios_that_agree_say_so() {
        let (seq, index) = pair();
        let before = Side {
            label: "no indexes",
            phrase: "with index use switched off",
            plan: &seq,
            median_ms: 19.0,
        };
        let after = Side {
            label: "as planned",
            phrase: "as planned",
            plan: &index,
            median_ms: 0.17,
        };
        let text = lines(&before, &after, 5)
            .iter()
            .map(|l| l.trim())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(text.contains("Both columns tell the same story"), "{text}");
    }
}
