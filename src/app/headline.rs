//! A step's headline: the one measured number presenting mode draws in large type for the
//! back row. A demo may name its own ([`DemoReport::headline`]); otherwise it is read off
//! what the step measured: a speed-up from two plans' medians, one plan's median, the lazy
//! loop's round trips against a join's, or the round trips counted. Never text from a
//! lesson file.

use crate::data::demo::{DemoReport, Headline};
use crate::lesson::Verdict;
use crate::query_log::ScopeReport;
use crate::text::{duration, group, plural};

use super::player::StepOutput;

/// The headline of what a step produced, once it has finished; `None` while it runs or
/// when it failed.
pub fn of(output: &StepOutput) -> Option<Headline> {
    match output {
        StepOutput::Query {
            ran: Ok(_),
            report: Some(report),
        } => Some(scope(report)),
        StepOutput::Demo {
            report: Some(Ok(report)),
            ..
        } => Some(demo(report)),
        StepOutput::Graded {
            verdict: Ok(verdict),
            report: Some(report),
        } => Some(graded(verdict, report)),
        _ => None,
    }
}

/// A statement's: its round trips, with the rows and time beside them in the label.
fn scope(report: &ScopeReport) -> Headline {
    let totals = &report.totals;
    Headline {
        value: count(totals.round_trips),
        label: format!(
            "{} — {} in {}",
            noun(totals.round_trips, "round trip", "round trips"),
            plural(totals.rows, "row", "rows"),
            duration(totals.waiting)
        ),
    }
}

/// An answer's: the round trips it took, with whether it passed.
fn graded(verdict: &Verdict, report: &ScopeReport) -> Headline {
    let round_trips = report.totals.round_trips;
    let outcome = if verdict.passed() {
        "your answer, passed"
    } else {
        "your answer, not yet passing"
    };
    Headline {
        value: count(round_trips),
        label: format!(
            "{} — {outcome}",
            noun(round_trips, "round trip", "round trips")
        ),
    }
}

fn demo(report: &DemoReport) -> Headline {
    if let Some(headline) = &report.headline {
        return headline.clone();
    }
    if let [before, after, ..] = report.plans.as_slice()
        && before.median_ms > 0.0
        && after.median_ms > 0.0
    {
        let ratio = before.median_ms / after.median_ms;
        let (value, faster) = if ratio >= 1.0 {
            (ratio, "faster")
        } else {
            (1.0 / ratio, "slower")
        };
        return Headline {
            value: format!("{}×", figures(value)),
            label: format!(
                "{faster} — {} vs {} (median ÷ median, arithmetic)",
                after.label, before.label
            ),
        };
    }
    // The title names the plan's scans; the plan's own label is only "as planned".
    if let [plan] = report.plans.as_slice() {
        return Headline {
            value: milliseconds(plan.median_ms),
            label: format!("median execution time — {}", report.title),
        };
    }
    if let Some(headline) = lazy_against_join(report) {
        return headline;
    }
    Headline {
        value: count(report.round_trips),
        label: format!(
            "{} — {}",
            noun(report.round_trips, "round trip", "round trips"),
            report.title
        ),
    }
}

/// The scale demo's: the lazy loop's round trips at its largest size and lowest latency,
/// with the join's for the same posts.
fn lazy_against_join(report: &DemoReport) -> Option<Headline> {
    let largest = report.measurements.iter().map(|m| m.posts).max()?;
    let at = |strategy: &str| {
        report
            .measurements
            .iter()
            .filter(|m| m.posts == largest && m.strategy == strategy)
            .min_by_key(|m| m.latency)
    };
    let (lazy, join) = (at("lazy")?, at("join")?);
    Some(Headline {
        value: count(lazy.round_trips),
        label: format!(
            "{} — the lazy loop over {} posts; one JOIN: {}",
            noun(lazy.round_trips, "round trip", "round trips"),
            count(largest),
            count(join.round_trips)
        ),
    })
}

/// `10,001`: grouped, so the room reads it at a glance.
fn count(n: u64) -> String {
    group(n as f64)
}

fn noun(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// Two or three significant figures: `38`, `4.2`, `0.31`.
fn figures(value: f64) -> String {
    if value >= 10.0 {
        group(value)
    } else {
        format!("{value:.1}")
    }
}

fn milliseconds(ms: f64) -> String {
    duration(std::time::Duration::from_secs_f64(ms.max(0.0) / 1000.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::demo::{MeasuredPlan, Measurement};
    use std::time::Duration;

    fn plan(label: &str, median_ms: f64) -> MeasuredPlan {
        let json = r#"[{"Plan": {"Node Type": "Result", "Actual Total Time": 0.01,
            "Actual Rows": 1, "Actual Loops": 1, "Total Cost": 0.01, "Plan Rows": 1}}]"#;
        MeasuredPlan {
            label: label.into(),
            plan: crate::explain::parse::parse(json).expect("a plan"),
            median_ms,
        }
    }

    fn finished(report: DemoReport) -> StepOutput {
        StepOutput::Demo {
            progress: Vec::new(),
            report: Some(Ok(report)),
        }
    }

    #[test]
    fn two_plans_give_the_speed_up_of_their_medians() {
        let report = DemoReport {
            plans: vec![plan("no index", 120.0), plan("with the index", 0.05)],
            ..DemoReport::default()
        };
        let headline = of(&finished(report)).expect("a headline");
        assert_eq!(headline.value, "2,400×");
        assert_eq!(
            headline.label,
            "faster — with the index vs no index (median ÷ median, arithmetic)"
        );
        let slower = DemoReport {
            plans: vec![plan("seq scan", 10.0), plan("forced index", 40.0)],
            ..DemoReport::default()
        };
        let headline = of(&finished(slower)).expect("a headline");
        assert_eq!(headline.value, "4.0×");
        assert!(headline.label.starts_with("slower"), "{}", headline.label);
    }

    #[test]
    fn the_scale_table_sets_the_lazy_loop_against_the_join() {
        let run = |posts, strategy, round_trips| Measurement {
            posts,
            strategy,
            latency: Duration::ZERO,
            round_trips,
            wall: Duration::from_millis(1),
        };
        let report = DemoReport {
            round_trips: 1134,
            measurements: vec![
                run(10, "lazy", 11),
                run(10, "join", 1),
                run(1000, "lazy", 1001),
                run(1000, "join", 1),
            ],
            ..DemoReport::default()
        };
        let headline = of(&finished(report)).expect("a headline");
        assert_eq!(headline.value, "1,001");
        assert_eq!(
            headline.label,
            "round trips — the lazy loop over 1,000 posts; one JOIN: 1"
        );
    }

    #[test]
    fn a_demo_that_names_its_headline_keeps_it_and_a_running_one_has_none() {
        let named = Headline {
            value: "11".into(),
            label: "query round trips — the lazy loop, 10 posts".into(),
        };
        let report = DemoReport {
            round_trips: 23,
            headline: Some(named.clone()),
            ..DemoReport::default()
        };
        assert_eq!(of(&finished(report)), Some(named));
        let running = StepOutput::Demo {
            progress: Vec::new(),
            report: None,
        };
        assert_eq!(of(&running), None);
        let plain = DemoReport {
            title: "N+1 on a default pool".into(),
            round_trips: 1,
            ..DemoReport::default()
        };
        assert_eq!(
            of(&finished(plain)).map(|h| h.label),
            Some("round trip — N+1 on a default pool".into())
        );
    }
}
