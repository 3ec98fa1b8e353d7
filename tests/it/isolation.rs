//! Lessons played one after another on one database, as a learner plays them in the lab:
//! every demo and run step of every built-in lesson, in order, and after each lesson the lab
//! database is what it was before, down to its catalog: no table, column, constraint, index,
//! policy, row-level-security switch, trigger state, role or database setting, row or
//! sequence a lesson changed on the way (`lessons check` cannot see this: it gives each
//! lesson a fresh copy). Exercises are left out: an answer is the learner's own change.
//!
//! Lesson 1's demos are left out: they start `pglab` itself as the in-memory store, which a
//! test binary is not, and restart or crash the server, which the tests share; they have
//! tests of their own (`demo_durability`). Other demos get no cluster, as on a
//! `DATABASE_URL` server: one that needs it refuses.

use std::time::Duration;

use pglab::data::demo::DemoReport;
use pglab::demo::{self, DemoContext};
use pglab::lesson::{Catalog, Source, StepKind};
use pglab::proxy::Latency;
use pglab::testing::TestDb;

use super::demo::lab_state;
use tokio::sync::mpsc;

/// What a lesson may leave behind on purpose, and why: lesson 1's `articles`, for the learner
/// to query after the restart and the crash; the index lesson's generated table, built once
/// by a step and kept so that its later steps (and a second visit) need not generate a
/// million rows again.
const KEPT_ON_PURPOSE: [&str; 2] = ["articles", "big_users"];
/// Lessons whose demos commit changes to the story's rows on purpose, and why: the audit
/// lesson's log records only what commits, so its replay commits a week of changes (putting
/// the story's values back first, so it can be replayed). Their catalog must still be
/// unchanged.
const COMMITS_ROWS: [&str; 1] = ["audit-logging"];
/// The lines of [`lab_state`] that are rows rather than catalog.
const ROW_LINES: [&str; 5] = [
    "organization ",
    "user ",
    "post ",
    "sequence ",
    "audit events ",
];
/// Demos left out (see the module doc).
const NOT_HERE: &str = "durability.";

/// The lines only one of the two states has, marked `-` (before) and `+` (after).
fn changes(before: &[String], after: &[String]) -> Vec<String> {
    let gone = before
        .iter()
        .filter(|l| !after.contains(l))
        .map(|l| format!("- {l}"));
    let new = after
        .iter()
        .filter(|l| !before.contains(l))
        .map(|l| format!("+ {l}"));
    gone.chain(new).collect()
}

async fn run_demo(ctx: &DemoContext, name: &str, params: &toml::Table) -> Result<(), String> {
    let (tx, _progress) = mpsc::unbounded_channel();
    let ran = tokio::time::timeout(Duration::from_secs(300), demo::run(ctx, name, params, tx))
        .await
        .map_err(|_| format!("demo {name} ran past its hang guard"))?;
    match ran {
        Ok(DemoReport { .. }) => Ok(()),
        // The server is not the demo's to restart here (see the module doc).
        Err(demo::Error::Refused { .. }) => Ok(()),
        Err(error) => Err(format!("demo {name} failed: {error}")),
    }
}

#[tokio::test]
async fn every_lesson_played_in_order_leaves_the_lab_database_as_it_found_it() {
    let db = TestDb::create().await.unwrap();
    let (log, mut events) = mpsc::channel(pglab::proxy::EVENT_BUFFER);
    // The demos tee every event to the lab's log, which must keep reading.
    let drain = tokio::spawn(async move { while events.recv().await.is_some() {} });
    let ctx = DemoContext {
        learner: db.learner.clone(),
        latency: Latency::default(),
        log: Some(log),
        cluster: None,
        acting_as: None,
    };
    let catalog = Catalog::load_from(Source::built_in(), &demo::validate).unwrap();
    let before = lab_state(&db, &KEPT_ON_PURPOSE).await;
    assert!(
        before.iter().any(|l| l.starts_with("post ")),
        "the story is loaded: {before:#?}"
    );
    let mut learner = db.learner_conn().await.unwrap();
    let mut problems = Vec::new();
    for lesson in &catalog.lessons {
        for (index, step) in lesson.steps.iter().enumerate() {
            let ran = match &step.kind {
                StepKind::Demo { name, .. } if name.starts_with(NOT_HERE) => Ok(()),
                StepKind::Demo { name, params } => run_demo(&ctx, name, params).await,
                // The lesson's own SQL, run as the learner runs it.
                StepKind::Run { sql } => sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                    .execute(&mut learner)
                    .await
                    .map(drop)
                    .map_err(|e| format!("its SQL failed: {e}")),
                _ => Ok(()),
            };
            if let Err(why) = ran {
                problems.push(format!("{} step {}: {why}", lesson.id, index + 1));
            }
        }
        let mut changed = changes(&before, &lab_state(&db, &KEPT_ON_PURPOSE).await);
        if COMMITS_ROWS.contains(&lesson.id.as_str()) {
            changed.retain(|line| !ROW_LINES.iter().any(|rows| line[2..].starts_with(rows)));
        }
        if !changed.is_empty() {
            problems.push(format!(
                "{} left the lab database changed:\n  {}",
                lesson.id,
                changed.join("\n  ")
            ));
            break;
        }
    }
    drop(ctx);
    drain.abort();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
