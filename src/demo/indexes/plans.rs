//! `indexes.explain` and `indexes.compare`: plans measured on the lab database.
//!
//! One `EXPLAIN (ANALYZE, BUFFERS)` run gives the plan to show; the time compared is the
//! median of several `TIMING OFF` runs, because reading the clock for every row can double a
//! scan's time and one cold run can triple it. Anything the statement changes is rolled
//! back (`db::explain` sees to it).
//!
//! `compare` measures the statement as planned, then steers the planner the other way with
//! `set local` inside a transaction that it rolls back, so the setting never outlives the
//! measurement: index use off when the planner chose an index (what the index is worth to
//! this statement, on this table, now), sequential scans off when it chose to read the table
//! (what the index it passed over would have cost).

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::{
    EMAIL_LOOKUP, diffed, listed, paragraph, printed, ratios, say, sql_error, statement_error,
    times,
};
use crate::data::demo::{DemoProgress, DemoReport, MeasuredPlan};
use crate::db::demo_data;
use crate::db::explain::{self as fetch, Analyze, Fetched, Planner, Timings};
use crate::demo::meter::Meter;
use crate::demo::params;
use crate::demo::{DemoContext, Error};
use crate::explain::text::{headline, ms};
use crate::explain::{Node, Plan, insights};
use crate::text::group;

const DEFAULT_EXPLAIN_RUNS: usize = 5;
const DEFAULT_COMPARE_RUNS: usize = 7;

/// A plan and the median of its timed runs.
struct Measured {
    fetched: Fetched,
    timings: Timings,
}

pub(super) async fn explain(
    ctx: &DemoContext,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    const DEMO: &str = "indexes.explain";
    let sql = params::text(params, "sql").unwrap_or(EMAIL_LOOKUP);
    let runs = run_count(params, DEFAULT_EXPLAIN_RUNS);
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut conn = meter.connect("pglab demo: explain").await?;
    let work = async {
        let measured = measure(&mut conn, DEMO, sql, runs, progress).await?;
        let catalog = fetch::catalog(&mut conn, &measured.fetched.plan).await?;
        Ok::<_, Error>((measured, catalog))
    };
    let (result, metered) = meter.measure(DEMO, work).await;
    let _ = sqlx::Connection::close(conn).await;
    let sessions = meter.finish().await;
    let (measured, catalog) = result?;

    let plan = &measured.fetched.plan;
    let mut lines = printed::scan_lines(plan);
    if !lines.is_empty() {
        lines.push(String::new());
    }
    let found = insights(plan, &catalog);
    if found.is_empty() {
        lines.push("No insight: nothing in this plan stands out as fixable.".to_string());
    }
    for insight in &found {
        lines.extend(paragraph(&format!("⚠ {}", insight.reason)));
        lines.extend(paragraph(&format!("  fix: {}", insight.fix)));
    }
    lines.push(String::new());
    lines.extend(paragraph(&timing_line(&measured.timings)));
    if measured.fetched.rolled_back {
        lines.extend(paragraph(ROLLED_BACK));
    }
    let mut report = DemoReport::measured(headline(plan), lines, &metered, sessions);
    report.plans = vec![MeasuredPlan {
        label: "as planned".to_string(),
        plan: measured.fetched.plan,
        median_ms: measured.timings.median_ms,
    }];
    Ok(report)
}

pub(super) async fn compare(
    ctx: &DemoContext,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    const DEMO: &str = "indexes.compare";
    let sql = params::text(params, "sql").unwrap_or(EMAIL_LOOKUP);
    let runs = run_count(params, DEFAULT_COMPARE_RUNS);
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut conn = meter.connect("pglab demo: compare").await?;
    let work = async {
        say(
            progress,
            "measuring the plan the planner picks now".to_string(),
        );
        let planned = measure(&mut conn, DEMO, sql, runs, progress).await?;
        let other_way = other_way(&planned.fetched.plan);
        let (_, doing) = steering_words(other_way);
        say(progress, format!("measuring again with {doing}"));
        let steered = steered(&mut conn, DEMO, sql, runs, other_way, progress).await?;
        // When the planner read a table without an index, the indexes it passed over are
        // part of the answer.
        let passed_over = match seq_scanned(&planned.fetched.plan) {
            Some(table) if other_way == Planner::NoSeqScan => {
                let indexes = demo_data::secondary_indexes(&mut conn, table).await?;
                Some((table.to_string(), indexes))
            }
            _ => None,
        };
        Ok::<_, Error>((planned, other_way, steered, passed_over))
    };
    let (result, metered) = meter.measure(DEMO, work).await;
    let _ = sqlx::Connection::close(conn).await;
    let sessions = meter.finish().await;
    let (planned, other_way, steered, passed_over) = result?;

    let (planned_ms, steered_ms) = (planned.timings.median_ms, steered.timings.median_ms);
    // How many times faster the planner's choice was than the other way.
    let speedup = steered_ms / planned_ms.max(0.001);
    let (label, doing) = steering_words(other_way);
    let mut lines = Vec::new();
    lines.extend(paragraph(&format!(
        "as planned:   {}",
        scans(&planned.fetched.plan)
    )));
    lines.extend(paragraph(&format!(
        "{label} {}",
        scans(&steered.fetched.plan)
    )));
    lines.push(String::new());
    lines.extend(ratios::lines(
        &ratios::Side {
            label: label.trim_end().trim_end_matches(':'),
            phrase: &format!("with {doing}"),
            plan: &steered.fetched.plan,
            median_ms: steered_ms,
        },
        &ratios::Side {
            label: "as planned",
            phrase: "as planned",
            plan: &planned.fetched.plan,
            median_ms: planned_ms,
        },
        runs,
    ));
    lines.push(String::new());
    let mut verdict = Vec::new();
    let title = match other_way {
        Planner::NoSeqScan => {
            verdict.extend(kept_seq_scan(&steered.fetched.plan, speedup));
            verdict.extend(passed_over.map(|(table, indexes)| {
                why_kept(
                    &planned.fetched.plan,
                    &steered.fetched.plan,
                    &table,
                    &indexes,
                )
            }));
            "The planner kept the Seq Scan".to_string()
        }
        _ if !uses_index(&planned.fetched.plan) => {
            verdict.push(
                "Neither plan reads an index or scans a table: steering the planner changes \
                 nothing for this statement."
                    .into(),
            );
            "No index in either plan".to_string()
        }
        _ if within_noise(speedup) => {
            verdict.push(format!(
                "By the medians both ran in about the same time ({} with the index, {} \
                 without): at this size the difference is noise.",
                ms(planned_ms),
                ms(steered_ms)
            ));
            "About the same either way".to_string()
        }
        _ if speedup >= 1.0 => {
            verdict.push(format!(
                "By the medians, with the index it ran {} faster ({} instead of {}).",
                times(speedup),
                ms(planned_ms),
                ms(steered_ms)
            ));
            format!("The index made it {} faster", times(speedup))
        }
        _ => {
            verdict.push(format!(
                "By the medians, with the index it ran slower: {} instead of {} ({} the \
                 time).",
                ms(planned_ms),
                ms(steered_ms),
                times(1.0 / speedup)
            ));
            "The index plan was slower".to_string()
        }
    };
    if planned.fetched.rolled_back {
        verdict.push(ROLLED_BACK.to_string());
    }
    for sentence in verdict {
        lines.extend(paragraph(&sentence));
    }
    let mut report = DemoReport::measured(title, lines, &metered, sessions);
    // Shown as a diff from the other way (before) to the planner's choice (after).
    report.plans = vec![
        diffed(doing.to_string(), steered.fetched.plan, steered_ms),
        diffed("as planned".to_string(), planned.fetched.plan, planned_ms),
    ];
    Ok(report)
}

/// The alternative worth measuring: without indexes when the planner chose one, with
/// sequential scans off (an index wherever one fits) when it chose to read the table.
fn other_way(plan: &Plan) -> Planner {
    if !uses_index(plan) && seq_scanned(plan).is_some() {
        Planner::NoSeqScan
    } else {
        Planner::NoIndexes
    }
}

/// Two medians closer than this ratio are the same for a learner: repeated runs of one
/// statement on a shared laptop differ by that much.
const NOISE: f64 = 1.15;

fn within_noise(ratio: f64) -> bool {
    (1.0 / NOISE..=NOISE).contains(&ratio)
}

/// How the second measurement is named: its label, as wide as "as planned:   ", and what
/// it does, in words.
fn steering_words(planner: Planner) -> (&'static str, &'static str) {
    match planner {
        Planner::NoSeqScan => ("index forced:", "sequential scans switched off"),
        Planner::NoIndexes | Planner::AsIs => ("no indexes:  ", "index use switched off"),
    }
}

/// What forcing an index showed when the planner read the whole table; `speedup` is the
/// forced time over the planner's.
fn kept_seq_scan(forced: &Plan, speedup: f64) -> Vec<String> {
    if !uses_index(forced) {
        return vec![
            "The planner kept the Seq Scan, and no index could replace it: with sequential \
             scans switched off it still read the table."
                .to_string(),
        ];
    }
    let verdict = if within_noise(speedup) {
        "The planner kept the Seq Scan; by the medians, forcing the index took about the \
         same time, so at this size either way is fine."
            .to_string()
    } else if speedup >= 1.0 {
        format!(
            "The planner kept the Seq Scan, and it was right: by the medians, forcing the \
             index took {} the time.",
            times(speedup)
        )
    } else {
        format!(
            "The planner kept the Seq Scan, yet by the medians forcing the index was {} \
             faster on this machine: the planner works from estimates of cost, and here \
             they were off.",
            times(1.0 / speedup)
        )
    };
    vec![verdict]
}

const ROLLED_BACK: &str =
    "The statement changes data: every run of it was rolled back, so nothing it did was kept.";

fn run_count(params: &toml::Table, default: usize) -> usize {
    params::int(params, "runs").map_or(default, |n| n.max(1) as usize)
}

/// One analyzed plan of `sql`, then the median of `runs` timed runs.
async fn measure(
    conn: &mut PgConnection,
    demo: &'static str,
    sql: &str,
    runs: usize,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Measured, Error> {
    say(progress, "EXPLAIN (ANALYZE, BUFFERS)".to_string());
    let fetched = fetch::explain(conn, sql, Analyze::Yes)
        .await
        .map_err(statement_error(demo, "explaining the statement"))?;
    say(
        progress,
        format!("{runs} runs without per-node timing, for the median"),
    );
    // Any steering is already set for the transaction this runs in.
    let timings = fetch::compare_runs(conn, sql, runs, Planner::AsIs)
        .await
        .map_err(statement_error(demo, "timing the statement"))?;
    Ok(Measured { fetched, timings })
}

/// [`measure`] inside a transaction where the planner is steered by `planner`; rolled back
/// after, whatever happened.
async fn steered(
    conn: &mut PgConnection,
    demo: &'static str,
    sql: &str,
    runs: usize,
    planner: Planner,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Measured, Error> {
    sqlx::raw_sql("begin")
        .execute(&mut *conn)
        .await
        .map_err(sql_error(demo, "opening the transaction"))?;
    let mut measured = Ok(());
    for &setting in planner.settings() {
        if let Err(cause) = sqlx::raw_sql(setting).execute(&mut *conn).await {
            measured = Err(sql_error(demo, "steering the planner")(cause));
            break;
        }
    }
    let measured = match measured {
        Ok(()) => measure(conn, demo, sql, runs, progress).await,
        Err(error) => Err(error),
    };
    let rollback = sqlx::raw_sql("rollback").execute(&mut *conn).await;
    let measured = measured?;
    rollback.map_err(sql_error(demo, "undoing the planner settings"))?;
    Ok(measured)
}

/// The scan nodes of `plan`, as text EXPLAIN titles them, joined by " + " (a bitmap scan is
/// two nodes).
fn scans(plan: &Plan) -> String {
    let titles: Vec<String> = plan
        .nodes
        .iter()
        .filter(|node| is_scan(node))
        .map(Node::title)
        .collect();
    if titles.is_empty() {
        plan.root().title()
    } else {
        titles.join(" + ")
    }
}

/// The table the plan's first Seq Scan reads.
fn seq_scanned(plan: &Plan) -> Option<&str> {
    plan.nodes
        .iter()
        .find(|node| node.node_type == "Seq Scan")
        .and_then(|node| node.relation.as_deref())
}

/// Why reading all of `table` won, from the scan's numbers, the index the forced plan read
/// and the indexes the table has besides its primary key.
fn why_kept(plan: &Plan, forced: &Plan, table: &str, indexes: &[(String, String)]) -> String {
    let described = |name: &str| {
        indexes.iter().find(|(index, _)| index == name).map_or_else(
            || name.to_string(),
            |(index, columns)| format!("{index} ({columns})"),
        )
    };
    let mut used: Vec<String> = Vec::new();
    for name in forced
        .nodes
        .iter()
        .filter_map(|node| node.index_name.as_deref())
    {
        let name = described(name);
        if !used.contains(&name) {
            used.push(name);
        }
    }
    let which = if !used.is_empty() {
        format!("Forced, the planner read {}.", listed(&used))
    } else if indexes.is_empty() {
        return format!(
            "{table} has no index but its primary key: no index fits this condition yet."
        );
    } else {
        let all: Vec<String> = indexes.iter().map(|(name, _)| described(name)).collect();
        format!(
            "{table} has {} besides its primary key: {}.",
            crate::text::plural(all.len() as f64, "index", "indexes"),
            listed(&all)
        )
    };
    let scan = plan.nodes.iter().find(|node| node.node_type == "Seq Scan");
    let matched = scan.and_then(|node| {
        let returned = node.metrics.rows?.value;
        let removed = node.metrics.removed_by_filter.map_or(0.0, |c| c.value);
        let examined = returned + removed;
        (examined > 0.0).then_some((returned, examined))
    });
    let pages = scan
        .and_then(|node| node.metrics.buffers)
        .map(|buffers| buffers.pages_touched());
    let why = match (matched, pages) {
        (_, Some(pages)) if pages <= SMALL_TABLE_PAGES => format!(
            "But the whole of {table} is {}: reading it costs less than walking an index \
             down to {}.",
            crate::text::plural(pages as f64, "page", "pages"),
            if pages == 1 {
                "that page"
            } else {
                "the same pages"
            }
        ),
        (Some((returned, examined)), _) if returned / examined >= MOST_ROWS_MATCH => format!(
            "But {} of the {} rows of {table} match the condition ({:.0}%): reading every \
             page in order is cheaper than jumping from the index to the table for nearly \
             every row.",
            group(returned),
            group(examined),
            returned * 100.0 / examined
        ),
        _ if used.is_empty() => "None of them fits this condition, or the planner \
                                 estimated that reading the whole table costs less."
            .to_string(),
        _ => "The planner estimated that reading the whole table costs less.".to_string(),
    };
    format!("{which} {why}")
}

/// A table this small is read whole: an index walk alone touches about as many pages.
const SMALL_TABLE_PAGES: u64 = 4;

/// A share of matching rows above which an index on the condition rarely pays off: the
/// research note saw a Seq Scan chosen at 90 %, a bitmap scan at 10 %.
const MOST_ROWS_MATCH: f64 = 0.2;

fn is_scan(node: &Node) -> bool {
    node.node_type.ends_with("Scan")
}

/// Whether any node of `plan` reads an index.
fn uses_index(plan: &Plan) -> bool {
    plan.nodes.iter().any(|node| node.index_name.is_some())
}

/// The median and spread of the timed runs, and why they are the numbers to compare.
fn timing_line(timings: &Timings) -> String {
    let fastest = timings
        .runs_ms
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let slowest = timings.runs_ms.iter().copied().fold(0.0, f64::max);
    let n = timings.runs_ms.len();
    if n == 1 {
        return format!(
            "1 run without per-node timing: {} (the time to compare; the plan above paid for \
             reading the clock at every row)",
            ms(timings.median_ms)
        );
    }
    format!(
        "median of {n} runs without per-node timing: {} (fastest {}, slowest {}); the time to \
         compare, since the plan above paid for reading the clock at every row",
        ms(timings.median_ms),
        ms(fastest),
        ms(slowest)
    )
}
