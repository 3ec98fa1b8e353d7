//! The "what PostgreSQL is" lesson's demos:
//!
//! - `postgres.atomicity`: a money transfer whose second half is refused, run without and
//!   then inside a transaction: money appears from nowhere in the first, nothing is left
//!   behind in the second;
//! - `postgres.isolation`: two sessions; one inserts a post and does not commit, the other
//!   does not see it;
//! - `postgres.consistency`: the blog's constraints refuse bad rows, each with its SQLSTATE
//!   and the server's message;
//! - `postgres.jsonb` and `postgres.search` (in `beyond`): a `jsonb` column served by a GIN
//!   index, its plans measured; full-text search over the posts, ranked and highlighted.
//!
//! Nothing here changes the story: the transfer's accounts are a temporary table of the
//! demo's own session (gone when it closes), every change to a blog table is rolled back or
//! refused, and rows go in with explicit ids (`overriding system value`) so no identity
//! sequence moves. Statements on the blog's tables name their tenant and live rows, so the
//! only warnings raised are those a step is about.

mod acid;
mod beyond;

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::meter::Meter;
use super::params::{self, ParamKind, ParamSpec};
use super::{DemoContext, DemoSpec, Error, exec, refusal, refusal_lines, say};
use crate::data::demo::{DemoProgress, DemoReport};

/// Every demo of this module is named `postgres.…`.
pub(super) const PREFIX: &str = "postgres.";

/// Acme, the story's first tenant, and alice, its first user.
const ACME: i64 = 1;
const ALICE: i64 = 1;
/// The id the demos' own post takes: far above the story's, given explicitly so the
/// identity sequence does not move (a rollback would not move it back).
const DEMO_POST: i64 = 1_001;
const DEFAULT_EVENTS: i64 = 20_000;

pub const DEMOS: &[DemoSpec] = &[
    DemoSpec {
        name: "postgres.atomicity",
        summary: "a transfer refused halfway: without a transaction, then inside one",
        params: &[],
    },
    DemoSpec {
        name: "postgres.isolation",
        summary: "two sessions: one inserts and does not commit, the other does not see it",
        params: &[],
    },
    DemoSpec {
        name: "postgres.consistency",
        summary: "the blog's constraints refuse bad rows, with SQLSTATE and message",
        params: &[],
    },
    DemoSpec {
        name: "postgres.jsonb",
        summary: "a jsonb column queried with ->> and @>, a GIN index, the plans measured",
        params: &[ParamSpec {
            name: "rows",
            kind: ParamKind::Int {
                min: 1_000,
                max: 200_000,
            },
            help: "how many events to generate (default 20000)",
        }],
    },
    DemoSpec {
        name: "postgres.search",
        summary: "full-text search over the posts, ranked (ts_rank) and highlighted (ts_headline)",
        params: &[],
    },
];

/// What a demo says: its title and its lines.
type Told = (String, Vec<String>);

/// Runs the demo `name` (already checked) with its parameters.
pub(super) async fn run(
    ctx: &DemoContext,
    name: &'static str,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut conn = meter.connect("pglab demo: session A").await?;
    // The isolation demo's second session, through the same meter: both show in the log.
    let mut other = match name {
        "postgres.isolation" => Some(meter.connect("pglab demo: session B").await?),
        _ => None,
    };
    let rows = params::int(params, "rows").unwrap_or(DEFAULT_EVENTS);
    let work = async {
        match (name, other.as_mut()) {
            ("postgres.atomicity", _) => acid::atomicity(&mut conn, progress)
                .await
                .map(|told| (told, Vec::new())),
            ("postgres.isolation", Some(b)) => acid::isolation(&mut conn, b, progress)
                .await
                .map(|told| (told, Vec::new())),
            ("postgres.consistency", _) => acid::consistency(&mut conn)
                .await
                .map(|told| (told, Vec::new())),
            ("postgres.jsonb", _) => beyond::jsonb(&mut conn, rows, progress).await,
            _ => beyond::search(&mut conn)
                .await
                .map(|told| (told, Vec::new())),
        }
    };
    let (result, measured) = meter.measure(name, work).await;
    // Closing also rolls back whatever a failed demo left open.
    let _ = sqlx::Connection::close(conn).await;
    if let Some(other) = other {
        let _ = sqlx::Connection::close(other).await;
    }
    let sessions = meter.finish().await;
    let ((title, lines), plans) = result?;
    let lines = lines
        .into_iter()
        .flat_map(
            |line| match line.starts_with(|c: char| c.is_ascii_uppercase()) {
                true => super::wrapped(vec![line]),
                false => vec![line],
            },
        )
        .collect();
    let mut report = DemoReport::measured(title, lines, &measured, sessions);
    report.plans = plans;
    Ok(report)
}
