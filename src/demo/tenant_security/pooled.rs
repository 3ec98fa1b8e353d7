//! `tenant_security.pooled`: the tenant setting on a pooled connection. A pool of one
//! connection serves two requests, each in its own transaction: first one of the other
//! tenant's users, then a signed-out visitor for whom no tenant is set and a policy should
//! show nothing. With a session-level setting the second request still runs as the first
//! one's tenant; with `set_config(…, true)` the setting ends with the first transaction.
//!
//! The policy here is real and spans transactions, so it cannot live in a rolled-back
//! transaction: each pool's one session gets a temporary copy of `posts` (once it exists, a
//! temporary table comes first in the session's search path, so `from posts` reads it) with
//! row-level security forced on it. The copy ends with the session, and the story's tables
//! are never touched. Before anything is set, the session also shows the two ways a policy
//! reads its setting wrong: without `missing_ok`, and without `nullif`.

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::rls::policy_lines;
use super::*;
use crate::demo::meter::Meter;
use crate::demo::requests::wrapped;

const DEMO: &str = "tenant_security.pooled";

/// The copy and its policy, on the pool's one session.
const SESSION_SETUP: &str = "
create temp table posts as select * from posts where deleted_at is null;
alter table posts enable row level security;
alter table posts force row level security;
create policy tenant_only on posts
  using (organization_id = nullif(current_setting('app.org_id', true), '')::bigint);";

/// The handler's query: no tenant in it, the policy adds it.
const RECENT: &str = "select organization_id from posts where deleted_at is null";

/// How the request's middleware sets the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setting {
    /// `set_config(…, false)`, what `SET app.org_id = …` does: for the rest of the session.
    Session,
    /// `set_config(…, true)`, what `SET LOCAL` does: until the transaction ends.
    Local,
}

/// What one request saw: the tenants of the rows it read, and the setting it ran with.
struct Seen {
    rows: Vec<i64>,
    setting: Option<String>,
}

/// One request: a transaction; the tenant set (if the user is signed in); the posts read.
async fn recent_posts(pool: &PgPool, tenant: Option<i64>, how: Setting) -> sqlx::Result<Seen> {
    let mut tx = pool.begin().await?;
    if let Some(org) = tenant {
        sqlx::query("select set_config('app.org_id', $1, $2)")
            .bind(org.to_string())
            .bind(how == Setting::Local)
            .execute(&mut *tx)
            .await?;
    }
    let rows = sqlx::query_scalar(RECENT).fetch_all(&mut *tx).await?;
    let setting = sqlx::query_scalar("select current_setting('app.org_id', true)")
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Seen { rows, setting })
}

/// `org 2: 5` (5 posts of org 2), or `no rows`.
fn by_tenant(rows: &[i64]) -> String {
    let mut counts: Vec<(i64, usize)> = Vec::new();
    for org in rows {
        match counts.iter_mut().find(|(o, _)| o == org) {
            Some((_, n)) => *n += 1,
            None => counts.push((*org, 1)),
        }
    }
    counts.sort();
    match counts.is_empty() {
        true => "no rows".to_string(),
        false => counts
            .iter()
            .map(|(org, n)| format!("org {org}: {n}"))
            .collect::<Vec<_>>()
            .join("  "),
    }
}

/// One pool of one connection, two requests; the refusals of the two wrong ways to read
/// the setting when `pitfalls`.
async fn requests(
    options: sqlx::postgres::PgConnectOptions,
    first: i64,
    how: Setting,
    pitfalls: bool,
) -> Result<(Seen, Seen, Vec<String>), Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(sql(DEMO, "opening the pool"))?;
    let mut lines = Vec::new();
    let mut conn = pool
        .acquire()
        .await
        .map_err(sql(DEMO, "taking a connection"))?;
    if pitfalls {
        let never_set = sqlx::query("select current_setting('app.org_id')")
            .execute(&mut *conn)
            .await;
        if let Some(failure) = refusal(DEMO, "reading an unset setting", never_set)? {
            lines.push("current_setting('app.org_id'), never set, without missing_ok:".into());
            lines.extend(refusal_lines(&failure));
        }
    }
    exec(
        &mut conn,
        DEMO,
        "copying posts for the session",
        SESSION_SETUP,
    )
    .await?;
    drop(conn);
    let one = recent_posts(&pool, Some(first), how)
        .await
        .map_err(sql(DEMO, "serving the first request"))?;
    let two = recent_posts(&pool, None, how)
        .await
        .map_err(sql(DEMO, "serving the second request"))?;
    if pitfalls {
        let mut conn = pool
            .acquire()
            .await
            .map_err(sql(DEMO, "taking a connection"))?;
        let cast = sqlx::query("select current_setting('app.org_id', true)::bigint")
            .execute(&mut *conn)
            .await;
        if let Some(failure) = refusal(DEMO, "reading the ended setting", cast)? {
            lines.push("after a local setting ended, the same cast without nullif:".into());
            lines.extend(refusal_lines(&failure));
        }
    }
    pool.close().await;
    Ok((one, two, lines))
}

pub(super) async fn run(
    ctx: &DemoContext,
    current: &Current,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let first = current.victim();
    let session = meter.options("pglab demo: pool, session SET");
    let local = meter.options("pglab demo: pool, set_config local");
    let work = async {
        say(progress, "two requests, tenant set for the session");
        let leaky = requests(session, first, Setting::Session, false).await?;
        say(progress, "two requests, tenant set for the transaction");
        let fixed = requests(local, first, Setting::Local, true).await?;
        Ok::<_, Error>((leaky, fixed))
    };
    let (result, measured) = meter.measure(DEMO, work).await;
    let sessions = meter.finish().await;
    let ((s1, s2, _), (l1, l2, pitfalls)) = result?;
    let cell = |seen: &Seen| by_tenant(&seen.rows);
    let value = |seen: &Seen| match &seen.setting {
        None => "NULL".to_string(),
        Some(v) => format!("'{v}'"),
    };
    let row = |label: &str, a: String, b: String| format!("{label:<26} {a:<16} {b}");
    let mut lines = vec![
        "A pool of one connection, two requests, one transaction each.".to_string(),
        "the policy on the session's copy of posts:".to_string(),
        policy_lines()[0].clone(),
        policy_lines()[1].clone(),
        format!("the handler: {RECENT}"),
        String::new(),
        row("", "session SET".into(), "set_config(…, true)".into()),
        row(&format!("1: a user of org {first}"), cell(&s1), cell(&l1)),
        row("2: signed out, no tenant", cell(&s2), cell(&l2)),
        row("app.org_id in request 2", value(&s2), value(&l2)),
        String::new(),
    ];
    lines.extend(pitfalls);
    lines.push(String::new());
    lines.push(match s2.rows.is_empty() {
        false => format!(
            "Leak: with a session setting, the signed-out request read {}: the pool handed \
             it the same session, and request 1's tenant was still set.",
            match s2.rows.iter().all(|org| *org == first) {
                true => format!(
                    "{} of org {first}",
                    crate::text::plural(s2.rows.len() as u64, "post", "posts")
                ),
                false => format!("posts of several tenants ({})", by_tenant(&s2.rows)),
            }
        ),
        true => "No leak with a session setting (!): request 2 read no rows.".to_string(),
    });
    lines.push(format!(
        "Set for the transaction, the setting ended with request 1: request 2 read {}. The \
         two errors are why the policy reads the setting with missing_ok and nullif.",
        cell(&l2)
    ));
    Ok(DemoReport::measured(
        "A session setting leaks through the pool".to_string(),
        wrapped(lines),
        &measured,
        sessions,
    ))
}
