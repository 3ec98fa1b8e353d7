//! The index lesson's demos, all on `big_users`, a table of the lesson's own (the story's
//! `users` is small and already has a unique index on email):
//!
//! - `indexes.seed` ([`seed`]): (re)creates `big_users` with a million generated rows and no
//!   index but its primary key, then `vacuum analyze`;
//! - `indexes.explain` ([`plans`]): one statement's measured plan, its insights and its median
//!   time;
//! - `indexes.create` ([`build`]): builds an index while a second connection watches its
//!   phases in `pg_stat_progress_create_index`;
//! - `indexes.compare` ([`plans`]): one statement as the planner plans it now and with index
//!   use switched off, and how many times faster the first was;
//! - `indexes.depth` ([`depth`]): one lookup through a primary key on tables from a hundred
//!   rows to `big_users`, and the pages each read: a tree's depth, measured;
//! - `indexes.foreign_key` ([`foreign_key`]): a posts table referencing `big_users`, a user
//!   deleted and a user's posts joined, without and with an index on the referencing column;
//! - `indexes.write_cost` ([`write_cost`]): the same bulk insert into a table with only its
//!   primary key and into one with four more indexes.
//!
//! What a demo says is wrapped to [`LINE_WIDTH`] here: the player shows a report's lines as
//! they are (a table must keep its columns), so a sentence longer than the pane would run
//! out of sight at the lesson's narrowest size.
//!
//! `big_users` has `organization_id` and `deleted_at`, so the log's tenancy and soft-delete
//! lints note the lesson's lookups: true, and the subject of other lessons.

mod build;
mod depth;
mod foreign_key;
mod plans;
mod printed;
mod ratios;
mod seed;
mod write_cost;

use std::time::Duration;

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::meter::Meter;
use super::params::{ParamKind, ParamSpec, SqlShape};
use super::{DemoContext, DemoSpec, Error, say};
use crate::data::demo::{DemoProgress, DemoReport, MeasuredPlan};
use crate::db::console::ExecuteError;
use crate::explain::Plan;

/// Every demo of this module is named `indexes.…`.
pub(super) const PREFIX: &str = "indexes.";

/// Most `TIMING OFF` runs a demo takes a median of.
const MAX_RUNS: i64 = 50;
/// The lab's learner statements stop after 30 s; building an index on or filling a table of
/// millions of rows can take longer, and that wait is the lesson, not a runaway query.
const LONG_STATEMENT_TIMEOUT: &str = "10min";

pub const DEMOS: &[DemoSpec] = &[
    DemoSpec {
        name: "indexes.seed",
        summary: "(re)create big_users, filled server-side, with only its primary key",
        params: &[ParamSpec {
            name: "rows",
            kind: ParamKind::Int {
                min: 1_000,
                max: 5_000_000,
            },
            help: "how many users to generate (default 1000000)",
        }],
    },
    DemoSpec {
        name: "indexes.explain",
        summary: "a statement's measured plan, its insights and its median time",
        params: &[
            ParamSpec {
                name: "sql",
                kind: ParamKind::Sql(SqlShape::Any),
                help: "the statement to explain (default: a lookup by email on big_users)",
            },
            ParamSpec {
                name: "runs",
                kind: ParamKind::Int {
                    min: 1,
                    max: MAX_RUNS,
                },
                help: "how many runs without per-node timing to take the median of (default 5)",
            },
        ],
    },
    DemoSpec {
        name: "indexes.create",
        summary: "build an index and watch its phases from a second connection",
        params: &[ParamSpec {
            name: "sql",
            kind: ParamKind::Sql(SqlShape::NamedCreateIndex),
            help: "the CREATE INDEX, with a name (default: big_users_email_idx on email)",
        }],
    },
    DemoSpec {
        name: "indexes.compare",
        summary: "a statement as planned now and with index use switched off",
        params: &[
            ParamSpec {
                name: "sql",
                kind: ParamKind::Sql(SqlShape::Any),
                help: "the statement to compare (default: a lookup by email on big_users)",
            },
            ParamSpec {
                name: "runs",
                kind: ParamKind::Int {
                    min: 1,
                    max: MAX_RUNS,
                },
                help: "how many runs without per-node timing to take the median of (default 7)",
            },
        ],
    },
    DemoSpec {
        name: "indexes.depth",
        summary: "one primary-key lookup on tables of growing size, and the pages it read",
        params: &[ParamSpec {
            name: "sizes",
            kind: ParamKind::IntList {
                min: 10,
                max: 1_000_000,
                max_len: 5,
            },
            help: "the rows of the scratch tables measured before big_users \
                   (default [100, 10000, 100000])",
        }],
    },
    DemoSpec {
        name: "indexes.foreign_key",
        summary: "a user deleted and a user's posts joined, without and with an index on \
                  the posts' author_id",
        params: &[ParamSpec {
            name: "posts",
            kind: ParamKind::Int {
                min: 1_000,
                max: 2_000_000,
            },
            help: "how many posts the scratch table referencing big_users holds \
                   (default 500000)",
        }],
    },
    DemoSpec {
        name: "indexes.write_cost",
        summary: "one bulk insert into a table with only its primary key, and with 4 more indexes",
        params: &[ParamSpec {
            name: "rows",
            kind: ParamKind::Int {
                min: 1_000,
                max: 1_000_000,
            },
            help: "how many rows each insert writes (default 100000)",
        }],
    },
];

/// The statement the plan demos measure when a lesson names none: one user by email.
const EMAIL_LOOKUP: &str = "select * from big_users where email = 'user4242@example.com'";

/// Runs the demo `name` (already checked) with its parameters.
pub(super) async fn run(
    ctx: &DemoContext,
    name: &'static str,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    match name {
        "indexes.seed" => seed::run(ctx, params, progress).await,
        "indexes.explain" => plans::explain(ctx, params, progress).await,
        "indexes.create" => build::run(ctx, params, progress).await,
        "indexes.compare" => plans::compare(ctx, params, progress).await,
        "indexes.depth" => depth::run(ctx, params, progress).await,
        "indexes.foreign_key" => foreign_key::run(ctx, params, progress).await,
        _ => write_cost::run(ctx, params, progress).await,
    }
}

/// A dedicated connection through `meter` that may run for as long as a big table needs.
async fn long_connection(
    meter: &mut Meter,
    demo: &'static str,
    application_name: &str,
) -> Result<PgConnection, Error> {
    let mut conn = meter.connect(application_name).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "set statement_timeout = '{LONG_STATEMENT_TIMEOUT}'"
    )))
    .execute(&mut conn)
    .await
    .map_err(sql_error(demo, "allowing its statements more time"))?;
    Ok(conn)
}

/// An sqlx failure of `demo` while doing `step`, with the table-missing case explained.
fn sql_error(demo: &'static str, step: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |cause| match missing_table(&cause) {
        Some(missing) => run_seed_first(demo, missing),
        None => Error::Sql { demo, step, cause },
    }
}

/// A failure of a statement run under EXPLAIN, with the table-missing case explained.
fn statement_error(demo: &'static str, step: &'static str) -> impl FnOnce(ExecuteError) -> Error {
    move |cause| match &cause {
        ExecuteError::Sql(failure) if failure.sqlstate == UNDEFINED_TABLE => {
            run_seed_first(demo, failure.message.clone())
        }
        _ => Error::Statement {
            demo,
            step,
            cause: Box::new(cause),
        },
    }
}

const UNDEFINED_TABLE: &str = "42P01";
/// The demo that builds the lesson's table.
const SEED: &str = "indexes.seed";

/// The lesson's table is missing: the seed demo's step builds it.
fn run_seed_first(demo: &'static str, cause: String) -> Error {
    Error::RunFirst {
        demo,
        cause,
        builds: crate::db::demo_data::BIG_USERS,
        builder: SEED,
    }
}

fn missing_table(cause: &sqlx::Error) -> Option<String> {
    let db = cause.as_database_error()?;
    (db.code().as_deref() == Some(UNDEFINED_TABLE)).then(|| db.message().to_string())
}

/// "1,030×" for large ratios, "3.7×" for small ones.
pub(super) fn times(ratio: f64) -> String {
    if ratio >= 10.0 {
        format!("{}×", crate::text::group(ratio))
    } else {
        format!("{ratio:.1}×")
    }
}

/// The widest line a demo of this module writes: the lesson pane's inner width at 80
/// columns, less a margin.
pub(super) const LINE_WIDTH: usize = 76;

/// `text` as lines of at most [`LINE_WIDTH`], continued with an indent of two.
fn paragraph(text: &str) -> Vec<String> {
    wrapped(text, "  ")
}

/// `text` as lines of at most [`LINE_WIDTH`], continued with `indent`, and never with a
/// measured number on one line and its unit on the next ("9120 kB", "0.019 ms").
fn wrapped(text: &str, indent: &str) -> Vec<String> {
    crate::text::wrap(&super::bind_units(text), LINE_WIDTH, indent)
        .into_iter()
        .map(|line| line.replace(super::BOUND, " "))
        .collect()
}

/// Items the way a sentence lists them: "a", "a and b", "a, b and c".
fn listed(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A plan for the report's plan diff, its planning time left out. The lesson compares what
/// statements cost to run, and the screen explains each ratio it shows; the planning times
/// of two single runs would add one nobody accounts for (`pglab explain --before` keeps it).
pub(super) fn diffed(label: String, mut plan: Plan, median_ms: f64) -> MeasuredPlan {
    plan.planning_ms = None;
    MeasuredPlan {
        label,
        plan,
        median_ms,
    }
}

/// Rows per second as a whole number with thousands grouped.
fn per_second(rows: i64, took: Duration) -> String {
    crate::text::group(rows as f64 / took.as_secs_f64().max(1e-9))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_read_as_times() {
        assert_eq!(times(1030.4), "1,030×");
        assert_eq!(times(3.72), "3.7×");
        assert_eq!(times(0.81), "0.8×");
        assert_eq!(
            per_second(1_000_000, Duration::from_millis(12_300)),
            "81,301"
        );
    }

    #[test]
    fn lists_and_counts_read_as_sentences() {
        let items = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(listed(&items(&[])), "");
        assert_eq!(listed(&items(&["a"])), "a");
        assert_eq!(listed(&items(&["a", "b"])), "a and b");
        assert_eq!(listed(&items(&["a", "b", "c"])), "a, b and c");
    }

    #[test]
    fn paragraphs_fit_the_narrowest_pane() {
        let long = "word ".repeat(60);
        let lines = paragraph(long.trim());
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.chars().count() <= LINE_WIDTH));
        assert!(lines[1..].iter().all(|l| l.starts_with("  ")));
    }

    #[test]
    fn a_missing_table_names_the_demo_that_builds_it() {
        assert!(DEMOS.iter().any(|demo| demo.name == SEED));
        let failure = run_seed_first("indexes.explain", "no big_users".into()).failure();
        assert_eq!(failure.run_first.map(|r| r.demo), Some(SEED));
        assert!(!failure.message.contains("indexes."), "{}", failure.message);
    }

    #[test]
    fn a_number_and_its_unit_wrap_together() {
        let long = "x".repeat(LINE_WIDTH - 5);
        let text = format!("{long} 9120 kB, then 0.019 ms.");
        // Plain wrapping would end the first line with "9120".
        assert_eq!(
            crate::text::wrap(&text, LINE_WIDTH, "  ")[0],
            format!("{long} 9120")
        );
        assert_eq!(paragraph(&text), [long, "  9120 kB, then 0.019 ms.".into()]);
        // Numbers with other words, and units without numbers, wrap as before.
        assert_eq!(
            crate::demo::bind_units("5 B-trees, 2 ms; in s"),
            "5 B-trees, 2\u{a0}ms; in s"
        );
        assert_eq!(
            crate::demo::bind_units("  indented 8 kB"),
            "  indented 8\u{a0}kB"
        );
    }

    #[test]
    fn every_demo_here_is_named_with_the_prefix() {
        assert!(DEMOS.iter().all(|demo| demo.name.starts_with(PREFIX)));
    }
}
