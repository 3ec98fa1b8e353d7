//! `pglab explain "SQL"`: the plan of one statement as plain text, run as the learner: the
//! rendered tree, then each insight with its reason and SQL fix, and a note when the
//! statement changed data (those changes were rolled back). With `--before "OTHER SQL"`,
//! the diff of OTHER SQL's plan (before) against SQL's (after) instead, its execution times
//! measured fairly: both statements warmed up, then timed in alternating order with per-node
//! timing off, medians compared, and a difference within the runs' spread called no
//! measurable change. Server errors end the command with exit code 1 and the server's message.

use std::io::Write;

use anyhow::Context;

use super::ExplainArgs;
use crate::db::console::ExecuteError;
use crate::db::explain::{self as fetch, Analyze, Planner};
use crate::db::{Lab, LabConfig};
use crate::explain::{self, text};
use crate::ui::plan::insight_lines;

pub async fn run(config: &LabConfig, args: &ExplainArgs) -> anyhow::Result<()> {
    let lab = Lab::open(config).await?;
    let mut conn = crate::db::connect(&lab.learner).await?;
    let analyze = if args.no_analyze {
        Analyze::No
    } else {
        Analyze::Yes
    };
    if let Some(before_sql) = &args.before {
        let before = fetch::explain(&mut conn, before_sql, analyze)
            .await
            .map_err(|error| explain_failed(before_sql, error))?;
        let after = fetch::explain(&mut conn, &args.sql, analyze)
            .await
            .map_err(|error| explain_failed(&args.sql, error))?;
        let mut diff = explain::compare(&before.plan, &after.plan);
        if analyze == Analyze::Yes {
            let runs = alternated_runs(&mut conn, before_sql, &args.sql).await?;
            diff = diff.timed(&runs.before_ms, &runs.after_ms);
            // Planning is timed the same way: the first plan of a statement pays for reading
            // the catalog into the session's caches.
            if let Some(planning) =
                explain::diff::timed_change(&runs.before_planning_ms, &runs.after_planning_ms)
            {
                diff.planning = planning;
            }
        }
        return print_diff((before_sql, &before), (&args.sql, &after), &diff);
    }
    let fetched = fetch::explain(&mut conn, &args.sql, analyze)
        .await
        .map_err(|error| explain_failed(&args.sql, error))?;
    let catalog = fetch::catalog(&mut conn, &fetched.plan).await?;
    let insights = explain::insights(&fetched.plan, &catalog);
    let width = super::output_width();

    let mut out = std::io::stdout().lock();
    for line in text::render(&fetched.plan, width) {
        writeln!(out, "{line}")?;
    }
    for line in insight_lines(&fetched.plan, &insights, width) {
        writeln!(out, "{line}")?;
    }
    if fetched.rolled_back {
        writeln!(out)?;
        writeln!(out, "this statement changed data; it was rolled back")?;
    }
    out.flush()
        .context("cannot write the plan to standard output")?;
    Ok(())
}

/// Timed runs per statement for `--before`: enough for a median that one slow run does not
/// move, few enough to stay quick on a laptop.
const TIMED_RUNS: usize = 7;

/// Execution and planning times of both statements' timed runs, ms, in the order they ran.
#[derive(Default)]
struct Runs {
    before_ms: Vec<f64>,
    after_ms: Vec<f64>,
    before_planning_ms: Vec<f64>,
    after_planning_ms: Vec<f64>,
}

/// Each statement's times over [`TIMED_RUNS`] `TIMING OFF` runs, after one warm-up run each
/// (which reads the pages into the cache), in alternating order so that neither always runs
/// first.
async fn alternated_runs(
    conn: &mut sqlx::PgConnection,
    before_sql: &str,
    after_sql: &str,
) -> anyhow::Result<Runs> {
    let mut runs = Runs::default();
    for round in 0..=TIMED_RUNS {
        let order = if round % 2 == 0 {
            [(before_sql, true), (after_sql, false)]
        } else {
            [(after_sql, false), (before_sql, true)]
        };
        for (sql, is_before) in order {
            let timed = fetch::compare_runs(conn, sql, 1, Planner::AsIs)
                .await
                .map_err(|error| explain_failed(sql, error))?;
            // Round 0 is the warm-up.
            if round > 0 {
                let (execution, planning) = if is_before {
                    (&mut runs.before_ms, &mut runs.before_planning_ms)
                } else {
                    (&mut runs.after_ms, &mut runs.after_planning_ms)
                };
                execution.push(timed.median_ms);
                planning.extend(timed.plan.planning_ms);
            }
        }
    }
    Ok(runs)
}

/// The two statements, then the diff of their plans; each fetched plan is (SQL, plan).
fn print_diff(
    before: (&str, &fetch::Fetched),
    after: (&str, &fetch::Fetched),
    diff: &explain::PlanDiff,
) -> anyhow::Result<()> {
    let width = super::output_width();
    let mut out = std::io::stdout().lock();
    for (label, (sql, fetched)) in [("before", before), ("after ", after)] {
        let sql = crate::text::clip(
            &crate::text::abbreviate(sql, width),
            width.saturating_sub(7),
        );
        writeln!(out, "{label} {sql}")?;
        if fetched.rolled_back {
            writeln!(out, "       (changed data; rolled back)")?;
        }
    }
    if let Some(spread) = diff.execution.spread {
        let note = format!(
            "execution and planning: medians of {TIMED_RUNS} runs each, per-node timing off, \
             alternated after a warm-up; execution varied by up to {} (a difference within \
             the runs' spread is no measurable change)",
            text::ms(spread)
        );
        for line in crate::text::wrap(&note, width, "  ") {
            writeln!(out, "{line}")?;
        }
    }
    writeln!(out)?;
    for line in text::diff_lines(diff, &before.1.plan, &after.1.plan, width) {
        writeln!(out, "{line}")?;
    }
    out.flush()
        .context("cannot write the plans' diff to standard output")?;
    Ok(())
}

/// The server's message with its detail, hint and a caret under the position it points at.
fn explain_failed(sql: &str, error: ExecuteError) -> anyhow::Error {
    let ExecuteError::Sql(failure) = &error else {
        return error.into();
    };
    let mut message = failure.to_string();
    for (label, extra) in [("detail", &failure.detail), ("hint", &failure.hint)] {
        if let Some(extra) = extra {
            message.push_str(&format!("\n{label}: {extra}"));
        }
    }
    if let Some(caret) = failure.caret_line(sql) {
        message.push_str(&format!(
            "\nline {}: {}\n{}{}^",
            caret.line,
            caret.text,
            " ".repeat(format!("line {}: ", caret.line).len()),
            " ".repeat(caret.column)
        ));
    }
    anyhow::anyhow!(message)
}
