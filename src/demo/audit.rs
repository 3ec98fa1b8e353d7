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
//!   one stays on the connection for whoever uses it next.
//!
//! The log only grows, so every demo is written to be replayed: the replay first puts its
//! rows back to the story's values (as Acme's administrator, which is logged too), and the
//! other demos toggle between two values, so each run changes something and logs it.

use std::net::{IpAddr, Ipv4Addr};

use serde_json::json;
use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::meter::Meter;
use super::{DemoContext, DemoProgress, DemoReport, DemoSpec, Error};
use crate::app::action::Action;
use crate::audit::{Event, rules, text};
use crate::db::Error as DbError;
use crate::db::audit::{self as log, Actor, AppAction, AppChange, within_actor};
use crate::keymap::{Context, key_for};

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
                "audit.replay" => replay(app, lab).await,
                "audit.compare_capture" => compare_capture(app, lab).await,
                "audit.immutability" => immutability(app, lab).await,
                "audit.redaction" => redaction(app, lab).await,
                _ => pooled_actor(app).await,
            }
        })
        .await;
    let _ = sqlx::Connection::close(conn).await;
    let _ = sqlx::Connection::close(lab).await;
    let sessions = meter.sessions_started();
    meter.finish().await;
    let (title, lines) = outcome?;
    Ok(DemoReport::measured(title, lines, &measured, sessions))
}

type Outcome = Result<(String, Vec<String>), Error>;

fn say(progress: &mpsc::UnboundedSender<DemoProgress>, message: String) {
    // Nobody listening (a CLI run) is fine: the report says it all again.
    let _ = progress.send(DemoProgress::Message(message));
}

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

/// The id of the newest event of `audit.events` (0 when empty): the replay reads what came
/// after it.
async fn newest_event(conn: &mut PgConnection) -> Result<i64, Error> {
    sqlx::query_scalar("select coalesce(max(id), 0) from audit.events")
        .fetch_one(conn)
        .await
        .map_err(sql("audit", "reading the newest event's id"))
}

/// Events after `after`, oldest first.
async fn events_after(conn: &mut PgConnection, after: i64) -> Result<Vec<Event>, Error> {
    let mut events = log::events_after(conn, after, log::MAX_LIMIT).await?;
    events.reverse();
    Ok(events)
}

/// Each event's block with its flags, a blank line between blocks.
async fn blocks(conn: &mut PgConnection, events: &[Event]) -> Result<Vec<String>, Error> {
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

fn sql(demo: &'static str, step: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |cause| Error::Sql { demo, step, cause }
}

/// The story's rows as the replay starts them: each differing one is put back, as Acme's
/// administrator would after the investigation. Returns how many events that wrote.
async fn rewind(conn: &mut PgConnection, lab: &mut PgConnection) -> Result<u64, Error> {
    let (email, is_admin, title, body): (String, bool, String, String) = sqlx::query_as(
        "select u.email, u.is_admin, r.title, o.body
           from users u, posts r, posts o
          where u.id = $1 and r.id = $2 and o.id = $3",
    )
    .bind(BOB)
    .bind(ROADMAP_POST)
    .bind(OUTAGE_POST)
    .fetch_one(&mut *lab)
    .await
    .map_err(sql("audit.replay", "reading the story's rows"))?;
    if email == BOB_EMAIL && !is_admin && title == ROADMAP_TITLE && body == OUTAGE_BODY {
        return Ok(0);
    }
    let before = newest_event(lab).await?;
    within_actor(conn, actor(ALICE, ALICE_OFFICE), async |tx| {
        exec(
            tx,
            "cannot put bob's account back",
            "update users set email = $1, is_admin = false\n          where id = $2 and organization_id = $3",
            &[BOB_EMAIL],
            BOB,
        )
        .await?;
        exec(
            tx,
            "cannot put a post back",
            "update posts set title = $1 where id = $2 and organization_id = $3",
            &[ROADMAP_TITLE],
            ROADMAP_POST,
        )
        .await?;
        exec(
            tx,
            "cannot put a post back",
            "update posts set body = $1 where id = $2 and organization_id = $3",
            &[OUTAGE_BODY],
            OUTAGE_POST,
        )
        .await
    })
    .await?;
    Ok(events_after(lab, before).await?.len() as u64)
}

async fn replay(conn: &mut PgConnection, lab: &mut PgConnection) -> Outcome {
    let rewound = rewind(conn, lab).await?;
    let before = newest_event(lab).await?;
    // Monday: alice, Acme's administrator, retitles her roadmap from the office.
    within_actor(conn, actor(ALICE, ALICE_OFFICE), async |tx| {
        exec(
            tx,
            "cannot retitle the post",
            "update posts set title = $1 where id = $2 and organization_id = $3",
            &[ROADMAP_EDITED],
            ROADMAP_POST,
        )
        .await
    })
    .await?;
    // Tuesday: bob changes his email, from home.
    within_actor(conn, actor(BOB, BOB_HOME), async |tx| {
        exec(
            tx,
            "cannot change the email",
            "update users set email = $1 where id = $2 and organization_id = $3",
            &[BOB_NEW_EMAIL],
            BOB,
        )
        .await
    })
    .await?;
    // Wednesday night: bob's account grants itself administrator rights, from elsewhere.
    within_actor(conn, actor(BOB, BOB_ELSEWHERE), async |tx| {
        exec(
            tx,
            "cannot change the admin flag",
            "update users set is_admin = true where id = $1 and organization_id = $2",
            &[],
            BOB,
        )
        .await
    })
    .await?;
    // Thursday: someone with the database password fixes a post by hand in psql: no
    // application, so nobody declares an actor.
    exec(
        conn,
        "cannot edit the post directly",
        "update posts set body = $1 where id = $2 and organization_id = $3",
        &[OUTAGE_HOTFIX],
        OUTAGE_POST,
    )
    .await?;

    let events = events_after(lab, before).await?;
    let mut lines = vec![
        "Who is who: user 1 = alice (Acme's administrator), user 2 = bob (Acme, not an \
         administrator in the story)."
            .to_string(),
    ];
    if rewound > 0 {
        lines.push(format!(
            "An earlier replay had changed these rows: alice put them back first, which wrote \
             {rewound} more event(s). Nothing was removed from the log; it only grows."
        ));
    }
    lines.push(format!(
        "Four changes committed, {} event(s) written by the trigger, oldest first:",
        events.len()
    ));
    lines.push(String::new());
    lines.extend(blocks(lab, &events).await?);
    lines.push(format!(
        "Press {} to open the timeline and investigate them there.",
        key_for(Context::Global, &Action::ShowAudit)
    ));
    Ok(("The week before the support call".to_string(), lines))
}

async fn compare_capture(conn: &mut PgConnection, lab: &mut PgConnection) -> Outcome {
    const POST: i64 = 1;
    const TITLES: [&str; 2] = ["Welcome to the Acme blog", "Welcome to Acme's blog"];
    const BODIES: [&str; 2] = [
        "Who we are and what we ship.",
        "Who we are, what we ship and why.",
    ];
    let demo = "audit.compare_capture";
    let (title, body): (String, String) =
        sqlx::query_as("select title, body from posts where id = $1")
            .bind(POST)
            .fetch_one(&mut *lab)
            .await
            .map_err(sql(demo, "reading post 1"))?;
    let new_title = if title == TITLES[0] {
        TITLES[1]
    } else {
        TITLES[0]
    };
    let new_body = if body == BODIES[0] {
        BODIES[1]
    } else {
        BODIES[0]
    };
    let before_trigger = newest_event(lab).await?;
    let before_app: i64 = sqlx::query_scalar("select coalesce(max(id), 0) from audit_logs")
        .fetch_one(&mut *lab)
        .await
        .map_err(sql(demo, "reading the app log's newest id"))?;

    // 1. Through the application: the handler changes the row and writes its own log row,
    // in the same transaction.
    within_actor(conn, actor(ALICE, ALICE_OFFICE), async |tx| {
        exec(
            tx,
            "cannot retitle the post",
            "update posts set title = $1 where id = $2 and organization_id = $3",
            &[new_title],
            POST,
        )
        .await?;
        log::log_app_change(
            tx,
            &AppChange {
                action: AppAction::Update,
                table: "posts",
                record_id: POST,
                organization_id: Some(1),
                actor_id: Some(ALICE),
                ip: Some(ALICE_OFFICE),
                old: Some(&json!({ "title": title })),
                new: Some(&json!({ "title": new_title })),
            },
        )
        .await
    })
    .await?;
    // 2. Directly, as a script or psql would: no handler, so no app log row.
    exec(
        conn,
        "cannot edit the post directly",
        "update posts set body = $1 where id = $2 and organization_id = $3",
        &[new_body],
        POST,
    )
    .await?;

    let trigger = events_after(lab, before_trigger).await?;
    let filter = crate::audit::Filter {
        record: Some(("posts".to_string(), POST)),
        ..Default::default()
    };
    let mut app: Vec<Event> = log::app_events(lab, &filter, log::MAX_LIMIT)
        .await?
        .into_iter()
        .filter(|e| e.id > before_app)
        .collect();
    app.reverse();
    let mut lines = vec![
        "Two changes to post 1: its title through the application (alice, from the office), \
         its body directly, with no application in between."
            .to_string(),
        String::new(),
        format!("{:<34} {:>6}", "log", "new rows"),
        format!("{:<34} {:>6}", "audit.events (the trigger)", trigger.len()),
        format!(
            "{:<34} {:>6}",
            "lab.audit_logs (the application)",
            app.len()
        ),
        String::new(),
        "audit.events:".to_string(),
    ];
    lines.extend(blocks(lab, &trigger).await?);
    lines.push("lab.audit_logs:".to_string());
    lines.extend(blocks(lab, &app).await?);
    let missed = trigger.len().saturating_sub(app.len());
    lines.push(format!(
        "The application's log missed {missed} change(s): the body edit never passed through \
         the code that writes it. It also has no database role and only the columns the \
         handler chose to record."
    ));
    Ok(("Two logs, one direct change".to_string(), lines))
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

async fn immutability(conn: &mut PgConnection, lab: &mut PgConnection) -> Outcome {
    let demo = "audit.immutability";
    let (me, events): (String, i64) =
        sqlx::query_as("select current_user::text, count(*) from audit.events")
            .fetch_one(&mut *lab)
            .await
            .map_err(sql(demo, "counting the events"))?;
    let mut lines = vec![format!(
        "Connected as {me}, the role your console uses. audit.events holds {events} event(s)."
    )];
    lines.push(String::new());
    for attempt in [
        "update audit.events set actor_id = null where id = (select max(id) from audit.events)",
        "delete from audit.events where occurred_at < now()",
    ] {
        let outcome = sqlx::raw_sql(sqlx::AssertSqlSafe(attempt))
            .execute(&mut *conn)
            .await;
        lines.push(format!("> {attempt}"));
        lines.push(match outcome {
            Err(error) => format!("  refused: {}", refusal(&error)),
            Ok(done) => format!("  NOT refused: {} row(s) affected", done.rows_affected()),
        });
    }
    lines.push(String::new());

    // The application's own table, owned by the learner: every change goes through, so
    // the demo undoes them.
    let mut tx = sqlx::Connection::begin(&mut *conn)
        .await
        .map_err(sql(demo, "opening a transaction"))?;
    let id = log::log_app_change(
        &mut tx,
        &AppChange {
            action: AppAction::Update,
            table: "users",
            record_id: BOB,
            organization_id: Some(1),
            actor_id: Some(BOB),
            ip: Some(BOB_ELSEWHERE),
            old: Some(&json!({ "is_admin": false })),
            new: Some(&json!({ "is_admin": true })),
        },
    )
    .await?;
    let rewritten = sqlx::query("update audit_logs set actor_id = $1 where id = $2")
        .bind(ALICE)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(sql(demo, "rewriting the app log"))?
        .rows_affected();
    let deleted = sqlx::query("delete from audit_logs")
        .execute(&mut *tx)
        .await
        .map_err(sql(demo, "emptying the app log"))?
        .rows_affected();
    tx.rollback()
        .await
        .map_err(sql(demo, "rolling the app log back"))?;
    lines.extend([
        "lab.audit_logs, in a transaction that is then rolled back:".to_string(),
        format!("> update audit_logs set actor_id = {ALICE} where id = {id}"),
        format!("  allowed: {rewritten} row(s): bob's entry now blames alice"),
        "> delete from audit_logs".to_string(),
        format!("  allowed: {deleted} row(s) gone"),
        "(rolled back: nothing changed)".to_string(),
        String::new(),
    ]);
    let owners: Vec<(String, String)> = sqlx::query_as(
        "select schemaname || '.' || tablename, tableowner::text from pg_tables
          where (schemaname, tablename) in (('audit', 'events'), ('lab', 'audit_logs'))
          order by 1",
    )
    .fetch_all(&mut *lab)
    .await
    .map_err(sql(demo, "reading the tables' owners"))?;
    for (table, owner) in owners {
        lines.push(format!("{table:<16} owned by {owner}"));
    }
    lines.push(
        "A table's owner may change it at will. The log the trigger writes belongs to another \
         role, and you were only granted SELECT on it."
            .to_string(),
    );
    Ok(("Append-only, and for whom".to_string(), lines))
}

async fn redaction(conn: &mut PgConnection, lab: &mut PgConnection) -> Outcome {
    let demo = "audit.redaction";
    // A fake hash with the time in it: every run really changes the column.
    let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
    let hash = format!("$argon2id$v=19$m=19456,t=2,p=1$fake-salt$demo-{nanos:x}");
    let before = newest_event(lab).await?;
    within_actor(conn, actor(ERIN, ERIN_LAPTOP), async |tx| {
        exec(
            tx,
            "cannot change the password",
            "update users set password_hash = $1 where id = $2 and organization_id = $3",
            &[&hash],
            ERIN,
        )
        .await
    })
    .await?;
    let events = events_after(lab, before).await?;
    let Some(event) = events.first() else {
        return Err(Error::Refused {
            demo,
            why: "the password change wrote no event: is the users_audit trigger enabled?"
                .to_string(),
        });
    };
    let (changed, old, new): (Vec<String>, Option<String>, Option<String>) = sqlx::query_as(
        "select changed_fields, old_values ->> 'password_hash', new_values ->> 'password_hash'
           from audit.events where id = $1",
    )
    .bind(event.id)
    .fetch_one(&mut *lab)
    .await
    .map_err(sql(demo, "reading the event back"))?;
    let mut lines = vec![
        "erin (user 5) changed her password from her laptop. The event the trigger wrote:"
            .to_string(),
        String::new(),
    ];
    lines.extend(blocks(lab, &events).await?);
    lines.extend([
        "The same event, as stored:".to_string(),
        format!(
            "  changed_fields                  {{{}}}",
            changed.join(", ")
        ),
        format!(
            "  old_values ->> 'password_hash'  {}",
            old.as_deref().unwrap_or("null")
        ),
        format!(
            "  new_values ->> 'password_hash'  {}",
            new.as_deref().unwrap_or("null")
        ),
        String::new(),
        "The log says that the password changed, by whom and when; the hash itself stays in \
         users. The columns kept out are listed in audit.redacted_columns."
            .to_string(),
    ]);
    Ok(("A secret, named but not copied".to_string(), lines))
}

async fn pooled_actor(conn: &mut PgConnection) -> Outcome {
    let demo = "audit.pooled_actor";
    const READ: &str =
        "select pg_backend_pid(), coalesce(current_setting('pglab.actor_id', true), '')";
    let seen = |(pid, actor): (i32, String)| {
        let actor = if actor.is_empty() {
            "(not set)".to_string()
        } else {
            actor
        };
        format!("server process {pid}: pglab.actor_id = {actor}")
    };
    let mut lines = vec![
        "One connection, used by two requests one after the other, as a pool does.".to_string(),
        String::new(),
        "Request 1 (alice): set_config('pglab.actor_id', '1', true) inside its transaction"
            .to_string(),
    ];
    let inside = within_actor(conn, actor(ALICE, ALICE_OFFICE), async |tx| {
        sqlx::query_as(READ)
            .fetch_one(tx)
            .await
            .map_err(DbError::sql("cannot read the setting"))
    })
    .await?;
    lines.push(format!("  during it:  {}", seen(inside)));
    let after: (i32, String) = sqlx::query_as(READ)
        .fetch_one(&mut *conn)
        .await
        .map_err(sql(demo, "reading the setting after the transaction"))?;
    lines.push(format!("  request 2:  {}", seen(after)));
    lines.push(String::new());

    lines.push(
        "The same with set_config('pglab.actor_id', '1', false): for the session".to_string(),
    );
    sqlx::query("select set_config('pglab.actor_id', '1', false)")
        .execute(&mut *conn)
        .await
        .map_err(sql(demo, "setting the actor for the session"))?;
    let leaked: (i32, String) = sqlx::query_as(READ)
        .fetch_one(&mut *conn)
        .await
        .map_err(sql(demo, "reading the leaked setting"))?;
    lines.push(format!(
        "  request 2:  {}   ← anything it changes is blamed on alice",
        seen(leaked)
    ));
    sqlx::query("reset pglab.actor_id")
        .execute(&mut *conn)
        .await
        .map_err(sql(demo, "resetting the setting"))?;
    lines.push("(the demo then ran `reset pglab.actor_id`)".to_string());
    Ok(("Whose request is this?".to_string(), lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_here_is_named_with_the_prefix() {
        assert!(DEMOS.iter().all(|demo| demo.name.starts_with(PREFIX)));
    }
}
