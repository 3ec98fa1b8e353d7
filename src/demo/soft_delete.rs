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

use sqlx::Row;
use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::meter::Meter;
use super::params::{self, ParamKind, ParamSpec};
use super::{DemoContext, DemoProgress, DemoReport, DemoSpec, Error};
use crate::db::console::ExecuteError;

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
            "soft_delete.hard_delete" => hard_delete(&mut conn, progress).await,
            "soft_delete.lifecycle" => lifecycle(&mut conn, progress).await,
            "soft_delete.forgotten_filter" => forgotten_filter(&mut conn).await,
            "soft_delete.unique_email" => unique_email(&mut conn, progress).await,
            _ => purge(&mut conn, days, progress).await,
        }
    };
    let (result, measured) = meter.measure(name, work).await;
    // Closing also rolls back whatever a failed demo left open.
    let _ = sqlx::Connection::close(conn).await;
    let sessions = meter.sessions_started();
    meter.finish().await;
    let (title, lines) = result?;
    Ok(DemoReport::measured(title, lines, &measured, sessions))
}

fn say(progress: &mpsc::UnboundedSender<DemoProgress>, message: &str) {
    // Nobody listening (a CLI run) is fine: the report says it all again.
    let _ = progress.send(DemoProgress::Message(message.to_string()));
}

fn failed(demo: &'static str, step: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |cause| Error::Sql { demo, step, cause }
}

async fn exec(
    conn: &mut PgConnection,
    demo: &'static str,
    step: &'static str,
    sql: &'static str,
) -> Result<(), Error> {
    sqlx::raw_sql(sql)
        .execute(conn)
        .await
        .map_err(failed(demo, step))?;
    Ok(())
}

/// A statement the demo expects the server to refuse: the refusal, as the lab shows errors.
/// Anything but an SQL error (a lost connection) fails the demo.
fn refusal(
    demo: &'static str,
    step: &'static str,
    outcome: Result<sqlx::postgres::PgQueryResult, sqlx::Error>,
) -> Result<Option<crate::db::console::SqlFailure>, Error> {
    match outcome {
        Ok(_) => Ok(None),
        Err(cause) => match ExecuteError::from(cause) {
            ExecuteError::Sql(failure) => Ok(Some(failure)),
            other => Err(Error::Statement {
                demo,
                step,
                cause: Box::new(other),
            }),
        },
    }
}

/// `SQLSTATE 23503: message`, then the detail, as lines.
fn refusal_lines(failure: &crate::db::console::SqlFailure) -> Vec<String> {
    let mut lines = vec![format!(
        "  ✗ SQLSTATE {}: {}",
        failure.sqlstate, failure.message
    )];
    lines.extend(failure.detail.iter().map(|d| format!("    detail: {d}")));
    lines
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
    .map_err(failed(demo, "reading the post"))?;
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
    .map_err(failed(demo, "counting the listed posts"))
}

async fn hard_delete(
    conn: &mut PgConnection,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "soft_delete.hard_delete";
    let mut lines = Vec::new();
    exec(conn, DEMO, "opening its transaction", "begin").await?;
    let before = post_state(conn, DEMO, ROADMAP).await?;
    lines.push(format!(
        "before:  {}",
        before.as_deref().unwrap_or("(no such post)")
    ));
    say(progress, "deleting a post with DELETE");
    let gone = sqlx::query("delete from posts where id = $1 and organization_id = $2")
        .bind(ROADMAP)
        .bind(ACME)
        .execute(&mut *conn)
        .await
        .map_err(failed(DEMO, "deleting the post"))?
        .rows_affected();
    lines.push(format!(
        "delete from posts where id = {ROADMAP} …  → {gone} row deleted"
    ));
    let after = post_state(conn, DEMO, ROADMAP).await?;
    lines.push(format!(
        "after:   {}",
        after.as_deref().unwrap_or(
            "no row at all, deleted or not: nothing to restore, only a backup has it now"
        )
    ));
    lines.push(String::new());

    say(progress, "deleting a user who still has posts");
    exec(conn, DEMO, "setting a savepoint", "savepoint before_user").await?;
    let outcome = sqlx::query("delete from users where id = $1 and organization_id = $2")
        .bind(BOB)
        .bind(ACME)
        .execute(&mut *conn)
        .await;
    match refusal(DEMO, "deleting a user", outcome)? {
        Some(failure) => {
            lines.push(format!(
                "delete from users where id = {BOB} (bob, author of Acme posts) → refused:"
            ));
            lines.extend(refusal_lines(&failure));
            lines.push(
                "  posts.author_id references users.id (ON DELETE RESTRICT): the user cannot go \
                 while their posts stay."
                    .to_string(),
            );
        }
        None => lines.push(format!("delete from users where id = {BOB} → deleted (!)")),
    }
    exec(conn, DEMO, "rolling back", "rollback").await?;
    let restored = post_state(conn, DEMO, ROADMAP).await?;
    lines.push(String::new());
    lines.push(format!(
        "The demo ran in a transaction and rolled it back; the post is back: {}",
        restored.as_deref().unwrap_or("no, it is still missing (!)")
    ));
    Ok(("DELETE is forever".to_string(), lines))
}

async fn lifecycle(
    conn: &mut PgConnection,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "soft_delete.lifecycle";
    let mut lines = Vec::new();
    exec(conn, DEMO, "opening its transaction", "begin").await?;
    let state = |label: &str, row: Option<String>, listed: i64| {
        format!(
            "{label:<10}{}  (Acme's list shows {listed} posts)",
            row.unwrap_or_else(|| "(no such post)".to_string())
        )
    };
    let row = post_state(conn, DEMO, ROADMAP).await?;
    lines.push(state("live:", row, listed(conn, DEMO).await?));

    say(progress, "soft-deleting the post");
    let marked = sqlx::query(
        "update posts set deleted_at = now()
          where id = $1 and organization_id = $2 and deleted_at is null",
    )
    .bind(ROADMAP)
    .bind(ACME)
    .execute(&mut *conn)
    .await
    .map_err(failed(DEMO, "soft-deleting the post"))?
    .rows_affected();
    lines.push(format!(
        "  update posts set deleted_at = now() where id = {ROADMAP} and deleted_at is null → \
         {marked} row"
    ));
    let row = post_state(conn, DEMO, ROADMAP).await?;
    lines.push(state("deleted:", row, listed(conn, DEMO).await?));

    say(progress, "restoring the post");
    let back = sqlx::query(
        "update posts set deleted_at = null
          where id = $1 and organization_id = $2 and deleted_at is not null",
    )
    .bind(ROADMAP)
    .bind(ACME)
    .execute(&mut *conn)
    .await
    .map_err(failed(DEMO, "restoring the post"))?
    .rows_affected();
    lines.push(format!(
        "  update posts set deleted_at = null where id = {ROADMAP} and deleted_at is not null → \
         {back} row"
    ));
    let row = post_state(conn, DEMO, ROADMAP).await?;
    lines.push(state("restored:", row, listed(conn, DEMO).await?));
    exec(conn, DEMO, "rolling back", "rollback").await?;
    lines.push(String::new());
    lines.push(
        "The row never left the table: deleting and restoring are one UPDATE each. \
         (Rolled back at the end, so the story is as it was.)"
            .to_string(),
    );
    Ok(("Deleted, then restored".to_string(), lines))
}

/// Acme's list as a careless page writes it, and as it should be.
const LIST_UNFILTERED: &str = "select id, title from posts where organization_id = $1 \
     order by created_at desc, id desc";
const LIST_FILTERED: &str = "select id, title from posts where organization_id = $1 \
     and deleted_at is null order by created_at desc, id desc";

async fn forgotten_filter(conn: &mut PgConnection) -> Result<Told, Error> {
    const DEMO: &str = "soft_delete.forgotten_filter";
    let unfiltered = sqlx::query_as::<_, (i64, String)>(LIST_UNFILTERED)
        .bind(ACME)
        .fetch_all(&mut *conn)
        .await
        .map_err(failed(DEMO, "listing without the filter"))?;
    let filtered = sqlx::query_as::<_, (i64, String)>(LIST_FILTERED)
        .bind(ACME)
        .fetch_all(&mut *conn)
        .await
        .map_err(failed(DEMO, "listing with the filter"))?;
    let extra: Vec<&(i64, String)> = unfiltered
        .iter()
        .filter(|post| !filtered.contains(post))
        .collect();
    let mut lines = vec![
        "select id, title from posts where organization_id = 1 order by created_at desc"
            .to_string(),
        format!(
            "  → {} posts, {} of them deleted:",
            unfiltered.len(),
            extra.len()
        ),
    ];
    lines.extend(
        extra
            .iter()
            .map(|(id, title)| format!("    #{id} \"{title}\" ← deleted, shown anyway")),
    );
    lines.push(
        "select … where organization_id = 1 and deleted_at is null order by created_at desc"
            .to_string(),
    );
    lines.push(format!("  → {} posts, none deleted", filtered.len()));
    lines.push(String::new());
    lines.push(
        "The lab read both statements as they passed its proxy: the first reads posts with no \
         deleted_at condition, and its lint says so in the warning below. The second raised \
         none."
            .to_string(),
    );
    let title = format!(
        "The forgotten filter shows {} deleted post{}",
        extra.len(),
        if extra.len() == 1 { "" } else { "s" }
    );
    Ok((title, lines))
}

const INSERT_ACCOUNT: &str = "insert into users (id, organization_id, username, email) \
     overriding system value values ($1, $2, $3, $4)";

async fn unique_email(
    conn: &mut PgConnection,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "soft_delete.unique_email";
    const EMAIL: &str = "bob@acme.test";
    let mut lines = Vec::new();
    exec(conn, DEMO, "opening its transaction", "begin").await?;
    say(progress, "soft-deleting bob");
    sqlx::query(
        "update users set deleted_at = now()
          where id = $1 and organization_id = $2 and deleted_at is null",
    )
    .bind(BOB)
    .bind(ACME)
    .execute(&mut *conn)
    .await
    .map_err(failed(DEMO, "soft-deleting bob"))?;
    lines.push(format!("bob (user {BOB}, {EMAIL}) is soft-deleted."));

    let insert = |id: i64, username: &'static str, suffix: &'static str| {
        let sql = format!("{INSERT_ACCOUNT}{suffix}");
        (sql, id, username)
    };
    let (sql, id, username) = insert(NEW_ACCOUNT, "bob.again", "");
    let created = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(ACME)
        .bind(username)
        .bind(EMAIL)
        .execute(&mut *conn)
        .await;
    match refusal(DEMO, "creating a new account", created)? {
        None => lines.push(format!(
            "a new account {username} with {EMAIL} → created: the unique index \
             users_email_key only counts rows where deleted_at is null"
        )),
        Some(failure) => {
            lines.push(format!("a new account with {EMAIL} → refused (!)"));
            lines.extend(refusal_lines(&failure));
        }
    }

    say(progress, "a second live account with the same email");
    exec(conn, DEMO, "setting a savepoint", "savepoint twice").await?;
    let (sql, id, username) = insert(NEW_ACCOUNT + 1, "bob.twice", "");
    let twice = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(ACME)
        .bind(username)
        .bind(EMAIL)
        .execute(&mut *conn)
        .await;
    match refusal(DEMO, "creating a duplicate account", twice)? {
        Some(failure) => {
            lines.push("a second live account with the same email → refused:".to_string());
            lines.extend(refusal_lines(&failure));
        }
        None => lines.push("a second live account with the same email → created (!)".into()),
    }
    exec(
        conn,
        DEMO,
        "undoing to the savepoint",
        "rollback to savepoint twice",
    )
    .await?;
    lines.push(String::new());

    // The same second account, with one ON CONFLICT clause or another.
    let insert_twice = |conflict: &'static str| {
        let (sql, id, username) = insert(NEW_ACCOUNT + 1, "bob.twice", conflict);
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(ACME)
            .bind(username)
            .bind(EMAIL)
    };
    say(progress, "ON CONFLICT with the index's predicate");
    let with_predicate = insert_twice(" on conflict (email) where deleted_at is null do nothing")
        .execute(&mut *conn)
        .await;
    lines.push("insert … on conflict (email) where deleted_at is null do nothing".to_string());
    match refusal(DEMO, "inserting with ON CONFLICT", with_predicate)? {
        None => lines
            .push("  → accepted; 0 rows inserted: the conflict was found and skipped".to_string()),
        Some(failure) => lines.extend(refusal_lines(&failure)),
    }

    say(progress, "ON CONFLICT without the predicate");
    exec(conn, DEMO, "setting a savepoint", "savepoint no_predicate").await?;
    let without = insert_twice(" on conflict (email) do nothing")
        .execute(&mut *conn)
        .await;
    lines.push("insert … on conflict (email) do nothing".to_string());
    match refusal(DEMO, "inserting with ON CONFLICT", without)? {
        Some(failure) => {
            lines.extend(refusal_lines(&failure));
            lines.push(
                "  the only unique index on email is partial: ON CONFLICT must repeat its \
                 WHERE for PostgreSQL to pick it"
                    .to_string(),
            );
        }
        None => lines.push("  → accepted (!)".to_string()),
    }
    exec(conn, DEMO, "rolling back", "rollback").await?;
    lines.push(String::new());
    lines.push(
        "Rolled back at the end: bob is live again and the new accounts never existed.".into(),
    );
    Ok(("Unique among live rows".to_string(), lines))
}

async fn purge(
    conn: &mut PgConnection,
    days: i64,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "soft_delete.purge";
    let mut lines = Vec::new();
    exec(conn, DEMO, "opening its transaction", "begin").await?;
    // Some history to purge: heidi (TechCo) left 120 days ago and her post went with her;
    // frank (Acme) left as long ago, but his post is still up; bob's on-call post was
    // deleted just now.
    say(
        progress,
        "setting the scene: three deletions of different ages",
    );
    exec(
        conn,
        DEMO,
        "setting the scene",
        "update users set deleted_at = now() - interval '120 days'
          where organization_id = 2 and id = 8;
         update posts set deleted_at = now() - interval '120 days'
          where organization_id = 2 and author_id = 8;
         update users set deleted_at = now() - interval '120 days'
          where organization_id = 1 and id = 6;
         update posts set deleted_at = now()
          where organization_id = 1 and id = 2",
    )
    .await?;
    lines.push(
        "Inside the demo's transaction: heidi (TechCo) left 120 days ago with her post; frank \
         (Acme) left 120 days ago, his post still up; bob's \"Our on-call rotation\" was \
         deleted a moment ago. The story's withdrawn draft was deleted on 2026-02-26."
            .to_string(),
    );
    let due: (i64, i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from posts where deleted_at is not null),
                (select count(*) from posts where deleted_at < now() - make_interval(days => $1)),
                (select count(*) from users where deleted_at is not null),
                (select count(*) from users where deleted_at < now() - make_interval(days => $1))",
    )
    .bind(days as i32)
    .fetch_one(&mut *conn)
    .await
    .map_err(failed(DEMO, "counting the deleted rows"))?;
    lines.push(format!(
        "soft-deleted now: {} posts ({} older than {days} days), {} users ({} older)",
        due.0, due.1, due.2, due.3
    ));

    say(progress, "purging");
    let (posts, users, kept): (i64, i64, Vec<i64>) = sqlx::query_as(
        "select posts_archived, users_archived, users_kept
           from purge_deleted(make_interval(days => $1))",
    )
    .bind(days as i32)
    .fetch_one(&mut *conn)
    .await
    .map_err(failed(DEMO, "purging"))?;
    let kept_names: Vec<String> = sqlx::query_scalar(
        "select username || ' (' || id || ')' from users where id = any($1) order by id",
    )
    .bind(&kept)
    .fetch_all(&mut *conn)
    .await
    .map_err(failed(DEMO, "naming the users kept"))?;
    lines.push(format!(
        "select * from purge_deleted(interval '{days} days')  → {} and {} archived; users \
         kept: {}",
        count_of(posts, "post"),
        count_of(users, "user"),
        if kept.is_empty() {
            "none".to_string()
        } else {
            kept_names.join(", ")
        }
    ));
    let archived: Vec<String> = sqlx::query_scalar(
        "select title from posts_archive where deleted_at is not null order by id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(failed(DEMO, "reading the archive"))?;
    for title in &archived {
        lines.push(format!("  archived: \"{title}\""));
    }
    if !kept.is_empty() {
        lines.push(
            "  a user past retention whose posts are still up stays: the posts reference them"
                .to_string(),
        );
    }
    let left: i64 = sqlx::query_scalar("select count(*) from posts where deleted_at is not null")
        .fetch_one(&mut *conn)
        .await
        .map_err(failed(DEMO, "counting what is left"))?;
    lines.push(format!(
        "still soft-deleted in posts: {left} (deleted too recently to purge; still restorable)"
    ));
    exec(conn, DEMO, "rolling back", "rollback").await?;
    lines.push(String::new());
    lines.push(
        "Rolled back at the end: nothing was archived for real. A retention job runs for every \
         tenant at once, so the log's tenancy lint notes the missing organization_id: expected \
         here."
            .to_string(),
    );
    Ok((
        format!(
            "Purged after {days} days: {} and {} archived",
            count_of(posts, "post"),
            count_of(users, "user")
        ),
        lines,
    ))
}

/// "1 post", "2 posts".
fn count_of(count: i64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_here_is_named_with_the_prefix() {
        assert!(DEMOS.iter().all(|demo| demo.name.starts_with(PREFIX)));
    }

    #[test]
    fn counts_read_in_the_singular_and_the_plural() {
        assert_eq!(count_of(1, "user"), "1 user");
        assert_eq!(count_of(0, "post"), "0 posts");
        assert_eq!(count_of(2, "post"), "2 posts");
    }
}
