//! The soft-delete lesson's demos, all on the story's own rows:
//!
//! - `soft_delete.hard_delete`: a `DELETE` takes a post for good, and a user who still has
//!   posts cannot be deleted at all (the foreign key refuses);
//! - `soft_delete.lifecycle`: one post marked deleted, hidden from the list, brought back;
//! - `soft_delete.forgotten_filter`: a tenant's list with and without `deleted_at is null`,
//!   the lab's lint catching the one without;
//! - `soft_delete.unique_email`: a deleted user's email taken again, and `ON CONFLICT` with and
//!   without the partial index's predicate;
//! - `soft_delete.purge`: retention: rows deleted long enough ago moved to the archive tables.
//!
//! Every demo that changes a row does it inside one transaction it rolls back at the end (a
//! failure closes the connection, which rolls back too), and inserts with explicit ids so no
//! sequence moves: the story is the same after a demo as before, and a lesson can be replayed.
//! The statements name their tenant (`organization_id = $n`) so the only lint a demo raises
//! is the one it is about; the purge is the exception, a job across every tenant by design.
//!
//! Here: the demo list, the story's rows, and what the demos share; the demos themselves in
//! `rows` (hard delete, lifecycle, the forgotten filter), `unique_email` and `purge`.

mod purge;
mod rows;
mod unique_email;

use sqlx::Row;
use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::meter::Meter;
use super::params::{self, ParamKind, ParamSpec};
use super::{DemoContext, DemoSpec, Error, exec, refusal, refusal_lines, say, sql};
use crate::data::demo::{DemoProgress, DemoReport};

/// Every demo of this module is named `soft_delete.…`.
pub(super) const PREFIX: &str = "soft_delete.";

/// Acme, the story's first tenant.
const ACME: i64 = 1;
/// Acme's "Q1 roadmap", the post the demos delete.
const ROADMAP: i64 = 4;
/// bob, who wrote two of Acme's posts.
const BOB: i64 = 2;
/// Ids for the accounts the unique-email demo creates: far above the story's, and given
/// explicitly so the identity sequence does not move (a rollback would not move it back).
const NEW_ACCOUNT: i64 = 1_001;
const DEFAULT_RETENTION_DAYS: i64 = 90;

pub const DEMOS: &[DemoSpec] = &[
    DemoSpec {
        name: "soft_delete.hard_delete",
        summary: "DELETE a post for good, and a user with posts refused by the foreign key",
        params: &[],
    },
    DemoSpec {
        name: "soft_delete.lifecycle",
        summary: "a post soft-deleted, hidden from the list, restored",
        params: &[],
    },
    DemoSpec {
        name: "soft_delete.forgotten_filter",
        summary: "a list without `deleted_at is null`, caught by the lab's lint",
        params: &[],
    },
    DemoSpec {
        name: "soft_delete.unique_email",
        summary: "a deleted user's email reused; ON CONFLICT with and without the predicate",
        params: &[],
    },
    DemoSpec {
        name: "soft_delete.purge",
        summary: "retention: rows deleted long ago archived, then removed",
        params: &[ParamSpec {
            name: "days",
            kind: ParamKind::Int { min: 1, max: 3650 },
            help: "the retention period in days (default 90)",
        }],
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
    let mut conn = meter.connect(&format!("pglab demo: {name}")).await?;
    let days = params::int(params, "days").unwrap_or(DEFAULT_RETENTION_DAYS);
    let work = async {
        match name {
            "soft_delete.hard_delete" => rows::hard_delete(&mut conn, progress).await,
            "soft_delete.lifecycle" => rows::lifecycle(&mut conn, progress).await,
            "soft_delete.forgotten_filter" => rows::forgotten_filter(&mut conn).await,
            "soft_delete.unique_email" => unique_email::unique_email(&mut conn, progress).await,
            _ => purge::purge(&mut conn, days, progress).await,
        }
    };
    let (result, measured) = meter.measure(name, work).await;
    // Closing also rolls back whatever a failed demo left open.
    let _ = sqlx::Connection::close(conn).await;
    let sessions = meter.finish().await;
    let (title, lines) = result?;
    // The sentences that explain (they start a line with a capital) are wrapped to the
    // pane; the transcript of statements and rows keeps its shape.
    let lines = lines
        .into_iter()
        .flat_map(
            |line| match line.starts_with(|c: char| c.is_ascii_uppercase()) {
                true => super::wrapped(vec![line]),
                false => vec![line],
            },
        )
        .collect();
    Ok(DemoReport::measured(title, lines, &measured, sessions))
}

/// One post as the demos print it, deleted or not: `#4 "Q1 roadmap" · deleted_at NULL`;
/// `None` when no such row exists at all.
async fn post_state(
    conn: &mut PgConnection,
    demo: &'static str,
    id: i64,
) -> Result<Option<String>, Error> {
    // Deleted or not, on purpose: the demos show the row in every state.
    let row = sqlx::query(
        "select title, coalesce(to_char(deleted_at at time zone 'UTC', \
                 'YYYY-MM-DD HH24:MI:SS \"UTC\"'), 'NULL') as deleted_at
           from posts
          where id = $1 and organization_id = $2
            and (deleted_at is null or deleted_at is not null)",
    )
    .bind(id)
    .bind(ACME)
    .fetch_optional(conn)
    .await
    .map_err(sql(demo, "reading the post"))?;
    Ok(row.map(|row| {
        let title: String = row.get(0);
        let deleted_at: String = row.get(1);
        format!("#{id} \"{title}\" · deleted_at {deleted_at}")
    }))
}

/// How many of Acme's posts the blog lists (the live ones).
async fn listed(conn: &mut PgConnection, demo: &'static str) -> Result<i64, Error> {
    sqlx::query_scalar(
        "select count(*) from posts where organization_id = $1 and deleted_at is null",
    )
    .bind(ACME)
    .fetch_one(conn)
    .await
    .map_err(sql(demo, "counting the listed posts"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_here_is_named_with_the_prefix() {
        assert!(DEMOS.iter().all(|demo| demo.name.starts_with(PREFIX)));
    }
}
