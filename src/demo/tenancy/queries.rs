//! `tenancy.queries`: the blog's list of posts as two users of different tenants see it,
//! each filtered by its tenant (`organization_id = $1`), then the same list with the filter
//! forgotten: every tenant's posts, and the lab's tenancy lint on the query log.
//!
//! The first user is the one the lab acts as (alice outside the lab); the second is the
//! first user of another tenant (charlie, for alice). Who they are is read over a
//! connection of its own, so the log holds only the blog's three queries.

use std::collections::BTreeMap;

use sqlx::postgres::PgConnection;

use crate::data::acting::ActingAs;
use crate::data::demo::DemoReport;
use crate::demo::meter::Meter;
use crate::demo::{DemoContext, Error, sql, wrapped};

const DEMO: &str = "tenancy.queries";
/// Who the demo serves when the lab acts as nobody (`lessons run`, `lessons check`).
const DEFAULT_USER: &str = "alice";

/// The blog's list for one tenant: its live posts, newest first.
const TENANT_LIST: &str = "select id, title, organization_id from posts
      where organization_id = $1 and deleted_at is null
      order by created_at desc, id desc";
/// The same list with the tenant's condition forgotten.
const EVERYONES_LIST: &str = "select id, title, organization_id from posts
      where deleted_at is null
      order by created_at desc, id desc";

/// A post as the list reads it: id, title, its tenant.
type Post = (i64, String, i64);

/// Most posts of one list the report prints.
const SHOWN: usize = 4;

pub(super) async fn run(ctx: &DemoContext) -> Result<DemoReport, Error> {
    let (first, second, names) = users(ctx).await?;
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut conn = meter.connect("pglab demo: the blog's list").await?;
    let (result, measured) = meter.measure(DEMO, lists(&mut conn, &first, &second)).await;
    let _ = sqlx::Connection::close(conn).await;
    let sessions = meter.finish().await;
    let (mine, theirs, everyone) = result?;

    // The query as it runs, its continuation lines indented under the first.
    let mut lines: Vec<String> = TENANT_LIST
        .lines()
        .enumerate()
        .map(|(i, line)| match i {
            0 => line.to_string(),
            _ => format!("  {}", line.trim()),
        })
        .collect();
    lines.push(String::new());
    lines.extend(listed(&first, &mine));
    lines.push(String::new());
    lines.extend(listed(&second, &theirs));
    let shared = mine
        .iter()
        .filter(|post| theirs.iter().any(|other| other.0 == post.0))
        .count();
    lines.push(String::new());
    lines.push(format!(
        "Posts in both lists: {shared}. Same table, same query, another $1."
    ));
    lines.push(String::new());
    lines.push("The same list, the tenant's condition forgotten:".to_string());
    lines.push("  where deleted_at is null".to_string());
    let mut by_tenant: BTreeMap<i64, usize> = BTreeMap::new();
    for (_, _, tenant) in &everyone {
        *by_tenant.entry(*tenant).or_default() += 1;
    }
    lines.push(format!(
        "  → {} posts, of {} tenants:",
        everyone.len(),
        by_tenant.len()
    ));
    lines.extend(by_tenant.iter().map(|(tenant, count)| {
        let name = names.get(tenant).map_or("", String::as_str);
        format!("    organization_id {tenant:<3} {name:<14} {count:>3}")
    }));
    lines.push(String::new());
    lines.extend(wrapped(vec![format!(
        "Nothing failed: the query is valid SQL, and {} would see {} posts of other tenants \
         on the page. The lab's proxy read all three statements; the third reads posts with \
         no organization_id condition, and its lint says so below{}.",
        first.username,
        everyone
            .iter()
            .filter(|(_, _, tenant)| *tenant != first.organization_id)
            .count(),
        if ctx.log.is_some() {
            " and in the query log"
        } else {
            ""
        }
    )]));
    let title = format!(
        "{}: {} posts, {}: {}, no tenant filter: {}",
        first.username,
        mine.len(),
        second.username,
        theirs.len(),
        everyone.len()
    );
    Ok(DemoReport::measured(title, lines, &measured, sessions))
}

/// The user the lab acts as (alice when it acts as nobody), the first user of another
/// tenant, and every tenant's name by id.
async fn users(ctx: &DemoContext) -> Result<(ActingAs, ActingAs, BTreeMap<i64, String>), Error> {
    let mut conn = crate::db::connect(&ctx.learner).await?;
    let users = crate::db::acting::users(&mut conn).await?;
    let names: Vec<(i64, String)> = sqlx::query_as("select id, name from organizations")
        .fetch_all(&mut conn)
        .await
        .map_err(sql(DEMO, "reading the organizations' names"))?;
    let _ = sqlx::Connection::close(conn).await;
    let first = ctx
        .acting_as
        .clone()
        .or_else(|| users.iter().find(|u| u.username == DEFAULT_USER).cloned())
        .or_else(|| users.first().cloned());
    let second = first.as_ref().and_then(|first| {
        users
            .iter()
            .find(|u| u.organization_id != first.organization_id)
            .cloned()
    });
    match (first, second) {
        (Some(first), Some(second)) => Ok((first, second, names.into_iter().collect())),
        _ => Err(Error::Refused {
            demo: DEMO,
            why: "the story needs live users in two organizations, and lab.users has fewer; \
                  `pglab db reset` brings them back"
                .into(),
        }),
    }
}

async fn lists(
    conn: &mut PgConnection,
    first: &ActingAs,
    second: &ActingAs,
) -> Result<(Vec<Post>, Vec<Post>, Vec<Post>), Error> {
    let mine = sqlx::query_as::<_, Post>(TENANT_LIST)
        .bind(first.organization_id)
        .fetch_all(&mut *conn)
        .await
        .map_err(sql(DEMO, "listing the first tenant's posts"))?;
    let theirs = sqlx::query_as::<_, Post>(TENANT_LIST)
        .bind(second.organization_id)
        .fetch_all(&mut *conn)
        .await
        .map_err(sql(DEMO, "listing the second tenant's posts"))?;
    let everyone = sqlx::query_as::<_, Post>(EVERYONES_LIST)
        .fetch_all(&mut *conn)
        .await
        .map_err(sql(DEMO, "listing without the tenant filter"))?;
    Ok((mine, theirs, everyone))
}

/// `as alice · Acme Corp (org 1), $1 = 1 → 6 posts`, then the first few titles.
fn listed(user: &ActingAs, posts: &[Post]) -> Vec<String> {
    let mut lines = vec![format!(
        "as {}, $1 = {} → {}",
        user.label(),
        user.organization_id,
        crate::text::plural(posts.len(), "post", "posts")
    )];
    lines.extend(
        posts
            .iter()
            .take(SHOWN)
            .map(|(id, title, _)| format!("  #{id:<3} {}", crate::text::clip(title, 60))),
    );
    if posts.len() > SHOWN {
        lines.push(format!("  … and {} more", posts.len() - SHOWN));
    }
    lines
}
