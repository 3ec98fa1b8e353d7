//! `audit.failed_write`: what becomes of a change whose audit record cannot be written.
//! Another connection keeps writers out of the application's log (`lock table … in
//! exclusive mode`, as a long maintenance job would), every write to it gives up after
//! [`LOCK_TIMEOUT`], and three requests edit one post:
//!
//! 1. the database's log: the trigger writes its event inside the change's transaction, so
//!    when it cannot (a bug declares an actor that is not a user id) the change fails too;
//! 2. the application's log in the same transaction as the change: refused together;
//! 3. best effort: the change commits first and the log row is written on its own: the
//!    change stays, the record is lost.
//!
//! All three run inside one transaction that is rolled back at the end, each "commit" a
//! released savepoint, so the story's rows and both logs are as before. The trigger's
//! events of that transaction go with it (their ids are not handed out again: a gap in
//! `audit.events.id` is a rolled-back change, not a removed event).

use std::time::{Duration, Instant};

use super::*;

const DEMO: &str = "audit.failed_write";
/// How long a write to the application's log waits for the lock before it fails.
const LOCK_TIMEOUT: &str = "200 ms";
/// The title the requests try to give the roadmap post.
const REVISED: &str = "Q1 roadmap, revised";
/// What the buggy request declares as its actor: a name, where the trigger needs an id.
const NOT_AN_ID: &str = "bob";

/// Post 4 as the requests left it: its title, the application's log rows about it, and
/// the trigger's events about it since the demo began.
struct State {
    title: String,
    app_rows: i64,
    trigger_events: i64,
}

impl State {
    fn lines(&self, before: &str) -> [String; 2] {
        let how = if self.title == before {
            "unchanged"
        } else {
            "changed"
        };
        [
            clipped(&format!(
                "   post {ROADMAP_POST}'s title  \"{}\" ({how})",
                self.title
            )),
            format!(
                "   its records     app log rows {} · trigger events {}",
                self.app_rows, self.trigger_events
            ),
        ]
    }
}

pub(super) async fn failed_write(conn: &mut PgConnection, lab: &mut PgConnection) -> Outcome {
    let newest = newest_event(lab).await?;
    raw(conn, DEMO, "opening the demo's transaction", "begin").await?;
    let requests = async {
        raw(
            conn,
            DEMO,
            "limiting lock waits",
            &format!(
                "set local lock_timeout = '{}'",
                LOCK_TIMEOUT.replace(' ', "")
            ),
        )
        .await?;
        // The maintenance job, on a connection of its own: reads go on, writes wait.
        raw(lab, DEMO, "starting the job's transaction", "begin").await?;
        raw(
            lab,
            DEMO,
            "keeping writers out of audit_logs",
            "lock table audit_logs in exclusive mode",
        )
        .await?;
        three_requests(conn, newest).await
    };
    let outcome = requests.await;
    // Whatever happened: the job ends, the requests are undone.
    let job_done = raw(lab, DEMO, "ending the job", "rollback").await;
    let undone = raw(conn, DEMO, "rolling the requests back", "rollback").await;
    let lines = outcome?;
    job_done?;
    undone?;
    Ok(("When the audit write fails".to_string(), lines))
}

async fn three_requests(conn: &mut PgConnection, newest: i64) -> Result<Vec<String>, Error> {
    let story = state(conn, newest).await?;
    let title = if story.title == REVISED {
        ROADMAP_TITLE
    } else {
        REVISED
    };
    let update = format!("   > update posts set title = … where id = {ROADMAP_POST}");
    let mut lines = para(&format!(
        "A job on another connection holds lab.audit_logs in exclusive mode: reads go on, \
         writes wait. Every write below waits for it at most {LOCK_TIMEOUT} (lock_timeout)."
    ));
    lines.push(String::new());

    // 1. The trigger's record cannot be written: the change fails with it.
    lines.extend(para_under(
        &format!(
            "1. The database's log. The trigger writes its event inside the change's \
         transaction. A bug declares the actor as '{NOT_AN_ID}', not as a user id:"
        ),
        "   ",
    ));
    raw(conn, DEMO, "opening request 1", "savepoint request").await?;
    sqlx::query("select set_config('pglab.actor_id', $1, true)")
        .bind(NOT_AN_ID)
        .execute(&mut *conn)
        .await
        .map_err(sql(DEMO, "declaring the actor"))?;
    let refused = retitle(conn, title).await;
    raw(
        conn,
        DEMO,
        "undoing request 1",
        "rollback to savepoint request",
    )
    .await?;
    lines.push(update.clone());
    lines.extend(match refused {
        Ok(rows) => vec![format!("     NOT refused: {rows} row(s)")],
        Err(error) => para_under(&format!("     refused: {}", refusal(&error)), "       "),
    });
    lines.extend(state(conn, newest).await?.lines(&story.title));
    lines.push(String::new());

    // 2. The application's own record, in the same transaction: refused together.
    lines.extend(para_under(
        "2. The application's log, written in the same transaction as the change:",
        "   ",
    ));
    raw(conn, DEMO, "opening request 2", "savepoint request").await?;
    declare(conn, DEMO, actor(ALICE, ALICE_OFFICE)).await?;
    let rows = retitle(conn, title)
        .await
        .map_err(sql(DEMO, "retitling the post"))?;
    let (failure, waited) = log_row(conn, &story.title, title).await;
    raw(
        conn,
        DEMO,
        "undoing request 2",
        "rollback to savepoint request",
    )
    .await?;
    lines.push(format!(
        "{update}{}",
        outcome_column(&update, &format!("{rows} row"))
    ));
    lines.extend(write_outcome(failure, waited));
    lines.push("   > rollback".to_string());
    lines.extend(state(conn, newest).await?.lines(&story.title));
    lines.extend(para_under(
        "   The change was refused with its record: nothing happened, and nothing is \
         missing from either log.",
        "   ",
    ));
    lines.push(String::new());

    // 3. Best effort: the change commits first; its record is written afterwards, and lost.
    lines.extend(para_under(
        "3. Best effort: the change commits, then the log row is written on its own:",
        "   ",
    ));
    raw(conn, DEMO, "opening request 3", "savepoint request").await?;
    declare(conn, DEMO, actor(ALICE, ALICE_OFFICE)).await?;
    let rows = retitle(conn, title)
        .await
        .map_err(sql(DEMO, "retitling the post"))?;
    raw(
        conn,
        DEMO,
        "committing request 3",
        "release savepoint request",
    )
    .await?;
    raw(conn, DEMO, "opening the log write", "savepoint log_write").await?;
    let (failure, waited) = log_row(conn, &story.title, title).await;
    raw(
        conn,
        DEMO,
        "giving up the log write",
        "rollback to savepoint log_write",
    )
    .await?;
    let committed = format!("{update}; commit");
    lines.push(format!(
        "{committed}{}",
        outcome_column(&committed, &format!("{rows} row, committed"))
    ));
    lines.extend(write_outcome(failure, waited));
    lines.extend(state(conn, newest).await?.lines(&story.title));
    lines.extend(para_under(
        "   The change stayed; the application's record of it is lost, and only the \
         trigger's event, written in the change's own transaction, still tells.",
        "   ",
    ));
    lines.push(String::new());
    lines.extend(para(
        "(One transaction held the three requests, each commit a released savepoint, and \
         the demo rolled it back: post 4 and both logs are as they were.)",
    ));
    Ok(lines)
}

/// The request's change, as its handler sends it.
async fn retitle(conn: &mut PgConnection, title: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("update posts set title = $1 where id = $2 and organization_id = $3")
        .bind(title)
        .bind(ROADMAP_POST)
        .bind(ACME)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// The application's record of the change, and how long it waited: what the server said
/// when it failed, `None` when it was written (nothing held the table after all).
async fn log_row(conn: &mut PgConnection, old: &str, new: &str) -> (Option<String>, Duration) {
    let started = Instant::now();
    let written = log::log_app_change(
        conn,
        &AppChange {
            action: AppAction::Update,
            table: "posts",
            record_id: ROADMAP_POST,
            organization_id: Some(ACME),
            actor_id: Some(ALICE),
            ip: Some(ALICE_OFFICE),
            old: Some(&json!({ "title": old })),
            new: Some(&json!({ "title": new })),
        },
    )
    .await;
    let waited = started.elapsed();
    match written {
        Ok(_) => (None, waited),
        Err(DbError::Sql { cause, .. }) => (Some(refusal(&cause)), waited),
        Err(other) => (Some(other.to_string()), waited),
    }
}

/// Where a statement's outcome starts: a fixed column, so the outcomes line up.
const OUTCOME_AT: usize = 53;

/// Spaces up to [`OUTCOME_AT`] (at least two), then `outcome`.
fn outcome_column(statement: &str, outcome: &str) -> String {
    let gap = OUTCOME_AT.saturating_sub(statement.chars().count()).max(2);
    format!("{}{outcome}", " ".repeat(gap))
}

fn write_outcome(failure: Option<String>, waited: Duration) -> Vec<String> {
    let insert = "   > insert into audit_logs …";
    match failure {
        None => vec![format!(
            "{insert}{}",
            outcome_column(
                insert,
                &format!(
                    "written after {} (NOT blocked)",
                    crate::text::duration(waited)
                )
            )
        )],
        Some(error) => {
            let mut lines = vec![format!(
                "{insert}{}",
                outcome_column(
                    insert,
                    &format!("failed after {}", crate::text::duration(waited))
                )
            )];
            lines.extend(para_under(&format!("     {error}"), "       "));
            lines
        }
    }
}

async fn state(conn: &mut PgConnection, newest: i64) -> Result<State, Error> {
    let (title, app_rows, trigger_events): (String, i64, i64) = sqlx::query_as(
        "select (select title from posts
                  where id = $1 and organization_id = $2 and deleted_at is null),
                (select count(*) from audit_logs
                  where table_name = 'posts' and record_id = $1 and organization_id = $2),
                (select count(*) from audit.events
                  where id > $3 and table_name = 'posts' and record_id = $1
                    and organization_id = $2)",
    )
    .bind(ROADMAP_POST)
    .bind(ACME)
    .bind(newest)
    .fetch_one(conn)
    .await
    .map_err(sql(DEMO, "reading post 4 and its records"))?;
    Ok(State {
        title,
        app_rows,
        trigger_events,
    })
}
