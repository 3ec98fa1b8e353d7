//! The audit lesson's demos, all on the story's rows and the two logs of migration 0003
//! (`audit.events`, written by a trigger; `lab.audit_logs`, written by the application):
//!
//! - `audit.replay`: the week before a support call, replayed as committed changes by
//!   different people from different addresses, and one made from psql; the events it
//!   produced, with their flags;
//! - `audit.compare_capture`: one change through the application (both logs get it) and one
//!   made directly (only the trigger sees it);
//! - `audit.immutability`: the learner may not change or remove an event, but may rewrite
//!   the application's own log (inside a transaction that is rolled back);
//! - `audit.redaction`: a password change, named in the event but its values kept out;
//! - `audit.pooled_actor`: a transaction-local actor ends with its transaction; a session
//!   one stays on the connection for whoever uses it next;
//! - `audit.read_logging`: one visitor's session with writes logged, then with every row
//!   read logged too, rows and bytes counted;
//! - `audit.failed_write`: an audit write that fails, inside the change's transaction (the
//!   change goes with it) and best effort after it (the record is lost);
//! - `audit.indexes`: the log's indexes from the catalog, and the timeline's questions
//!   planned and timed on a large copy, with and without them;
//! - `audit.retention`: old events moved out of a plain copy with `DELETE`, and a month
//!   detached, exported and dropped from a partitioned one.
//!
//! The last four build what they need (tables, copies, locks) inside a transaction they
//! roll back, so they leave the story and both logs as they found them.
//!
//! The log only grows, so every demo is written to be replayed: the replay first puts its
//! rows back to the story's values (as the lab itself, the system actor `pglab (reset)`,
//! which is logged too but never as a person of the story), and the other demos toggle
//! between two values, so each run changes something and logs it.
//!
//! Here: the demo list, the story's people and rows, and what the demos share; the demos
//! themselves in `replay`, `logs` (the two logs compared, and which one can be rewritten),
//! `secrets` (redaction, a pooled connection's actor), `reads`, `failures`, `indexes` and
//! `retention`.

mod failures;
mod indexes;
mod logs;
mod reads;
mod replay;
mod retention;
mod secrets;

use std::net::{IpAddr, Ipv4Addr};

use serde_json::json;
use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::meter::Meter;
use super::{DemoContext, DemoSpec, Error, say, sql};
use crate::audit::{AuditEvent, rules, text};
use crate::data::demo::{DemoProgress, DemoReport};
use crate::db::Error as DbError;
use crate::db::audit::{
    self as log, Actor, AppAction, AppChange, LAB_RESET, within_actor, within_system,
};

/// Every demo of this module is named `audit.…`.
pub(super) const PREFIX: &str = "audit.";

pub const DEMOS: &[DemoSpec] = &[
    DemoSpec {
        name: "audit.replay",
        summary: "the week before a support call, replayed by several people; the events it left",
        params: &[],
    },
    DemoSpec {
        name: "audit.compare_capture",
        summary: "the application's own log against the trigger: one change through the app, one direct",
        params: &[],
    },
    DemoSpec {
        name: "audit.immutability",
        summary: "changing or removing an audit event is refused; the app's own log is not protected",
        params: &[],
    },
    DemoSpec {
        name: "audit.redaction",
        summary: "a password change: the column is named, its values are not logged",
        params: &[],
    },
    DemoSpec {
        name: "audit.pooled_actor",
        summary: "a transaction-local actor ends with its transaction; a session one leaks",
        params: &[],
    },
    DemoSpec {
        name: "audit.read_logging",
        summary: "one visitor's session with writes logged, then with every row read logged too",
        params: &[],
    },
    DemoSpec {
        name: "audit.failed_write",
        summary: "an audit write that fails: in the change's transaction, and best effort after it",
        params: &[],
    },
    DemoSpec {
        name: "audit.retention",
        summary: "old events archived with DELETE on a plain copy, a month detached on a partitioned one",
        params: &[],
    },
    DemoSpec {
        name: "audit.indexes",
        summary: "the log's indexes from the catalog; the timeline's questions planned and timed with and without them",
        params: &[],
    },
];

/// How wide an event's block is drawn in a report.
const WIDTH: usize = 76;

// The story's people (seed/story.sql) and the addresses the replay gives them (ranges
// reserved for documentation, so no real machine is named).
const ACME: i64 = 1;
const ALICE: i64 = 1;
const BOB: i64 = 2;
const ERIN: i64 = 5;
const ALICE_OFFICE: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));
const BOB_HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 23));
const BOB_ELSEWHERE: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 146));
const ERIN_LAPTOP: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 77));

// The rows the replay touches, with the story's values and the replay's.
const ROADMAP_POST: i64 = 4;
const ROADMAP_TITLE: &str = "Q1 roadmap";
const ROADMAP_EDITED: &str = "Q1 roadmap: search first";
const BOB_EMAIL: &str = "bob@acme.test";
const BOB_NEW_EMAIL: &str = "bob.b@acme.test";
const OUTAGE_POST: i64 = 8;
const OUTAGE_BODY: &str = "A missing index and a busy Monday.";
const OUTAGE_HOTFIX: &str = "A missing index, a busy Monday and a fix made by hand.";

/// Runs the demo `name` (already checked).
pub(super) async fn run(
    ctx: &DemoContext,
    name: &'static str,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut conn = meter.connect(&format!("pglab demo: {name}")).await?;
    // The lab's own reads (the story's rows before, the events after) go around the proxy:
    // the log and the counts show the application's work only.
    let mut lab = crate::db::connect(&ctx.learner).await?;
    say(
        progress,
        format!("running {name} on a dedicated connection"),
    );
    let (outcome, measured) = meter
        .measure(name, async {
            let app = &mut conn;
            let lab = &mut lab;
            match name {
                "audit.replay" => replay::replay(app, lab).await,
                "audit.compare_capture" => logs::compare_capture(app, lab).await,
                "audit.immutability" => logs::immutability(app, lab).await,
                "audit.redaction" => secrets::redaction(app, lab).await,
                "audit.indexes" => indexes::indexes(app, lab, progress).await,
                "audit.failed_write" => failures::failed_write(app, lab).await,
                "audit.read_logging" => reads::read_logging(app, lab).await,
                "audit.retention" => retention::retention(app, progress).await,
                _ => secrets::pooled_actor(app).await,
            }
        })
        .await;
    let _ = sqlx::Connection::close(conn).await;
    let _ = sqlx::Connection::close(lab).await;
    let sessions = meter.finish().await;
    let (title, lines) = outcome?;
    Ok(DemoReport::measured(title, lines, &measured, sessions))
}

type Outcome = Result<(String, Vec<String>), Error>;

fn actor(id: i64, addr: IpAddr) -> Actor {
    Actor {
        id,
        client_addr: Some(addr),
    }
}

/// One statement with bind parameters, as the application's code would send it.
async fn exec(
    conn: &mut PgConnection,
    what: &'static str,
    sql: &'static str,
    binds: &[&str],
    id: i64,
) -> Result<u64, DbError> {
    let mut query = sqlx::query(sql);
    for bind in binds {
        query = query.bind(*bind);
    }
    // Every row of the replay is Acme's: the statements carry the tenant check a real
    // handler would (the lab's lint asks for it).
    let done = query
        .bind(id)
        .bind(ACME)
        .execute(conn)
        .await
        .map_err(DbError::sql(what))?;
    Ok(done.rows_affected())
}

/// Declares `who` for the rest of the open transaction: a request's first statement.
async fn declare(conn: &mut PgConnection, demo: &'static str, who: Actor) -> Result<(), Error> {
    sqlx::query(
        "select set_config('pglab.actor_id', $1, true),
                set_config('pglab.client_addr', $2, true)",
    )
    .bind(who.id.to_string())
    .bind(who.client_addr.map(|a| a.to_string()).unwrap_or_default())
    .execute(conn)
    .await
    .map_err(sql(demo, "declaring the actor"))?;
    Ok(())
}

/// The id of the newest event of `audit.events` (0 when empty): the replay reads what came
/// after it.
async fn newest_event(conn: &mut PgConnection) -> Result<i64, Error> {
    sqlx::query_scalar("select coalesce(max(id), 0) from audit.events")
        .fetch_one(conn)
        .await
        .map_err(sql("audit", "reading the newest event's id"))
}

/// Events after `after`, oldest first.
async fn events_after(conn: &mut PgConnection, after: i64) -> Result<Vec<AuditEvent>, Error> {
    let mut events = log::events_after(conn, after, log::MAX_LIMIT).await?;
    events.reverse();
    Ok(events)
}

/// Each event's block with its flags, a blank line between blocks.
async fn blocks(conn: &mut PgConnection, events: &[AuditEvent]) -> Result<Vec<String>, Error> {
    let actors = log::actor_organizations(conn).await?;
    let flags = rules::flags(events, &actors);
    let mut lines = Vec::new();
    for (event, flags) in events.iter().zip(&flags) {
        // updated_at moves with every change: it says nothing the header does not.
        let mut shown = event.clone();
        shown.changed.retain(|column| column != "updated_at");
        if let (Some(old), Some(new)) = (&event.old, &mut shown.new)
            && let Some(before) = old.get("updated_at")
        {
            new.insert("updated_at".to_string(), before.clone());
        }
        lines.push(format!("#{}", event.id));
        lines.extend(text::event_lines(&shown, flags, WIDTH));
        lines.push(String::new());
    }
    Ok(lines)
}

/// What the server answered to a refused statement: `SQLSTATE 42501: message`.
fn refusal(error: &sqlx::Error) -> String {
    match error.as_database_error() {
        Some(db) => format!(
            "SQLSTATE {}: {}",
            db.code().as_deref().unwrap_or("?"),
            db.message()
        ),
        None => error.to_string(),
    }
}

/// A statement of the demo's own (transaction control, DDL, settings), sent as plain text.
async fn raw(
    conn: &mut PgConnection,
    demo: &'static str,
    step: &'static str,
    text: &str,
) -> Result<(), Error> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(text.to_string()))
        .execute(conn)
        .await
        .map_err(sql(demo, step))?;
    Ok(())
}

/// One line of a report, cut to [`WIDTH`].
fn clipped(line: &str) -> String {
    crate::text::clip(line, WIDTH)
}

/// A size on disk: `512 kB`, `2.6 MB`.
fn size(bytes: i64) -> String {
    if bytes < 1024 * 1024 {
        format!("{} kB", crate::text::group(bytes as f64 / 1024.0))
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

/// A sentence or two of a report, wrapped to [`WIDTH`]: report lines are never wrapped on
/// screen, so prose must arrive at a width every pane shows.
fn para(text: &str) -> Vec<String> {
    crate::text::wrap(text, WIDTH, "")
}

/// As [`para`], every line after the first indented by `indent`; a first line's own
/// leading spaces are kept.
pub(super) fn para_under(text: &str, indent: &str) -> Vec<String> {
    crate::text::wrap(text, WIDTH, indent)
}

/// An `insert … select` filling `table` (shaped like `audit.events`) with `$1` made-up update
/// events spread over the users and posts of 50 organizations and 500 actors, each at the
/// time `occurred_at` gives (an SQL expression of the series number `g`). For demos that
/// measure the log at a size the story never reaches; the table is theirs and is dropped.
pub(super) fn generated_events(table: &str, occurred_at: &str) -> String {
    format!(
        "insert into {table} (id, occurred_at, table_name, record_id, action, organization_id,
                             actor_id, client_addr, old_values, new_values, changed_fields)
         select g,
                {occurred_at},
                case when g % 3 = 0 then 'users' else 'posts' end,
                1 + (g * 7919) % 5000,
                'update',
                1 + g % 50,
                1 + (g * 104729) % 500,
                '203.0.113.7',
                jsonb_build_object('id', 1 + (g * 7919) % 5000, 'title', 'draft ' || g),
                jsonb_build_object('id', 1 + (g * 7919) % 5000, 'title', 'final ' || g),
                '{{title,updated_at}}'
           from generate_series(1, $1::bigint) g"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_kilobytes_then_megabytes() {
        assert_eq!(size(16_384), "16 kB");
        assert_eq!(size(2_411_724), "2.3 MB");
    }

    #[test]
    fn every_demo_here_is_named_with_the_prefix() {
        assert!(DEMOS.iter().all(|demo| demo.name.starts_with(PREFIX)));
    }
}
