//! The N+1 lesson's demos. The program is the same every time: list the newest posts that
//! are not deleted, each with its author's username. How it fetches the authors changes:
//!
//! - `n_plus_one.lazy`: the posts, then one query per post for its author (`id = $1`);
//! - `n_plus_one.join`: posts and authors in one JOIN;
//! - `n_plus_one.batched`: the posts, then all their authors at once (`id = any($1)`);
//! - `n_plus_one.pool`: the lazy loop through a default sqlx `PgPool`, to show the pings the
//!   pool adds around every query;
//! - `n_plus_one.scale` ([`scale`]): lazy, join and batched at growing sizes, with and
//!   without simulated latency, as a table;
//! - `n_plus_one.wide` ([`wide`]): when not to eager-load, a JOIN that repeats a long bio on
//!   every row against two queries, bytes and time measured;
//! - `n_plus_one.endpoints` ([`endpoints`]): a small blog application's two endpoints, each
//!   request's round trips counted the way `pglab proxy` counts them.
//!
//! The feed lists every tenant's posts (an operator's view), so the log's tenancy lint
//! notes that the queries have no `organization_id` condition: true, and not this lesson.

mod endpoints;
mod scale;
mod wide;

use std::collections::HashMap;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::meter::{Meter, Metered};
use super::params::{self, ParamKind, ParamSpec};
use super::{DemoContext, DemoSpec, Error};
use crate::data::demo::{DemoProgress, DemoReport, Headline};
use crate::data::proxy::Kind;

/// Most posts a demo lists or generates.
pub const MAX_POSTS: i64 = 10_000;
/// Printed lines shown before "… N more".
const LINES_SHOWN: usize = 10;

const POSTS: ParamSpec = ParamSpec {
    name: "posts",
    kind: ParamKind::Int {
        min: 1,
        max: MAX_POSTS,
    },
    help: "how many of the newest posts to list (default: every post of the story)",
};

pub const DEMOS: &[DemoSpec] = &[
    DemoSpec {
        name: "n_plus_one.lazy",
        summary: "posts, then one query per post for its author",
        params: &[POSTS],
    },
    DemoSpec {
        name: "n_plus_one.join",
        summary: "posts and their authors in one JOIN",
        params: &[POSTS],
    },
    DemoSpec {
        name: "n_plus_one.batched",
        summary: "posts, then all their authors with id = any($1)",
        params: &[POSTS],
    },
    DemoSpec {
        name: "n_plus_one.pool",
        summary: "the lazy loop through a default sqlx pool, pings included",
        params: &[POSTS],
    },
    DemoSpec {
        name: "n_plus_one.scale",
        summary: "lazy, join and batched at growing sizes, with and without latency",
        params: scale::PARAMS,
    },
    DemoSpec {
        name: "n_plus_one.wide",
        summary: "a JOIN that repeats each author's long bio against two queries: bytes and time",
        params: wide::PARAMS,
    },
    DemoSpec {
        name: "n_plus_one.endpoints",
        summary: "two endpoints of a small blog app, round trips counted per request",
        params: &[],
    },
];

/// The newest posts that are not deleted; `limit $1` with NULL lists them all.
const NEWEST_POSTS: &str = "select id, title, author_id from posts \
     where deleted_at is null order by created_at desc, id desc limit $1";
/// One author: what the lazy loop runs once per post.
const AUTHOR: &str = "select username from users where id = $1";
/// Posts with their authors in one statement.
const POSTS_WITH_AUTHORS: &str = "select p.title, u.username from posts p \
     join users u on u.id = p.author_id \
     where p.deleted_at is null order by p.created_at desc, p.id desc limit $1";
/// Every author of a page of posts at once.
const AUTHORS: &str = "select id, username from users where id = any($1)";

/// What the program prints for one post: its title and its author's username.
type Line = (String, String);

/// How the authors are fetched (the cloud lesson loads the same page at simulated
/// distances).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Strategy {
    Lazy,
    Join,
    Batched,
}

impl Strategy {
    const ALL: [Strategy; 3] = [Strategy::Lazy, Strategy::Join, Strategy::Batched];

    pub(super) fn label(self) -> &'static str {
        match self {
            Strategy::Lazy => "lazy",
            Strategy::Join => "join",
            Strategy::Batched => "batched",
        }
    }

    fn application_name(self) -> &'static str {
        match self {
            Strategy::Lazy => "pglab demo: lazy loop",
            Strategy::Join => "pglab demo: join",
            Strategy::Batched => "pglab demo: batched",
        }
    }

    /// The statements the strategy sends.
    fn statements(self) -> &'static [&'static str] {
        match self {
            Strategy::Lazy => &[NEWEST_POSTS, AUTHOR],
            Strategy::Join => &[POSTS_WITH_AUTHORS],
            Strategy::Batched => &[NEWEST_POSTS, AUTHORS],
        }
    }

    /// Prepares the strategy's statements on `conn` (sqlx keeps them for reuse).
    pub(super) async fn prepare(self, conn: &mut PgConnection) -> sqlx::Result<()> {
        for sql in self.statements() {
            sqlx::Executor::prepare(&mut *conn, sqlx::SqlStr::from_static(sql)).await?;
        }
        Ok(())
    }

    pub(super) async fn run(
        self,
        conn: &mut PgConnection,
        limit: Option<i64>,
    ) -> sqlx::Result<Vec<Line>> {
        match self {
            Strategy::Lazy => lazy(conn, limit).await,
            Strategy::Join => join(conn, limit).await,
            Strategy::Batched => batched(conn, limit).await,
        }
    }
}

async fn lazy(conn: &mut PgConnection, limit: Option<i64>) -> sqlx::Result<Vec<Line>> {
    let posts: Vec<(i64, String, i64)> = sqlx::query_as(NEWEST_POSTS)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    let mut lines = Vec::with_capacity(posts.len());
    for (_, title, author_id) in posts {
        let username: String = sqlx::query_scalar(AUTHOR)
            .bind(author_id)
            .fetch_one(&mut *conn)
            .await?;
        lines.push((title, username));
    }
    Ok(lines)
}

async fn join(conn: &mut PgConnection, limit: Option<i64>) -> sqlx::Result<Vec<Line>> {
    sqlx::query_as(POSTS_WITH_AUTHORS)
        .bind(limit)
        .fetch_all(conn)
        .await
}

async fn batched(conn: &mut PgConnection, limit: Option<i64>) -> sqlx::Result<Vec<Line>> {
    let posts: Vec<(i64, String, i64)> = sqlx::query_as(NEWEST_POSTS)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    if posts.is_empty() {
        // No posts, no authors to ask for: one round trip.
        return Ok(Vec::new());
    }
    let mut ids: Vec<i64> = posts.iter().map(|p| p.2).collect();
    ids.sort_unstable();
    ids.dedup();
    let authors: HashMap<i64, String> = sqlx::query_as(AUTHORS)
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
    Ok(posts
        .into_iter()
        .map(|(_, title, author)| {
            let username = authors.get(&author).cloned().unwrap_or_default();
            (title, username)
        })
        .collect())
}

/// The lazy loop on a pool: every query acquires a connection and releases it.
async fn lazy_on_pool(pool: &PgPool, limit: Option<i64>) -> sqlx::Result<Vec<Line>> {
    let posts: Vec<(i64, String, i64)> = sqlx::query_as(NEWEST_POSTS)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    let mut lines = Vec::with_capacity(posts.len());
    for (_, title, author_id) in posts {
        let username: String = sqlx::query_scalar(AUTHOR)
            .bind(author_id)
            .fetch_one(pool)
            .await?;
        lines.push((title, username));
    }
    // A release finishes in a task of its own (its ping included): wait for the last ones,
    // so their pings are part of this loop's cost, as they are on a server under load.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while pool.num_idle() < pool.size() as usize && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(lines)
}

/// Runs the demo `name` (already checked) with its parameters.
pub(super) async fn run(
    ctx: &DemoContext,
    name: &'static str,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let limit = params::int(params, "posts");
    match name {
        "n_plus_one.lazy" => single(ctx, Strategy::Lazy, limit, progress).await,
        "n_plus_one.join" => single(ctx, Strategy::Join, limit, progress).await,
        "n_plus_one.batched" => single(ctx, Strategy::Batched, limit, progress).await,
        "n_plus_one.pool" => pool(ctx, limit, progress).await,
        "n_plus_one.wide" => wide::run(ctx, params, progress).await,
        "n_plus_one.endpoints" => endpoints::run(ctx, progress).await,
        _ => scale::run(ctx, params, progress).await,
    }
}

async fn single(
    ctx: &DemoContext,
    strategy: Strategy,
    limit: Option<i64>,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut conn = meter.connect(strategy.application_name()).await?;
    let _ = progress.send(DemoProgress::Message(format!(
        "running the {} loop on a dedicated connection",
        strategy.label()
    )));
    // A long-running application has its statements prepared on its connections already;
    // preparing them first keeps the measured round trips to the queries themselves (the
    // preparing shows in the lab's log, before the loop).
    strategy
        .prepare(&mut conn)
        .await
        .map_err(|cause| Error::Sql {
            demo: "n_plus_one",
            step: "preparing the statements",
            cause,
        })?;
    let (listed, measured) = meter
        .measure(strategy.label(), strategy.run(&mut conn, limit))
        .await;
    let _ = sqlx::Connection::close(conn).await;
    let sessions = meter.finish().await;
    let listed = listed.map_err(|cause| Error::Sql {
        demo: "n_plus_one",
        step: "listing posts with their authors",
        cause,
    })?;
    let n = listed.len() as u64;
    let queries = measured.report.totals.of_kind(Kind::Query);
    let prepares = measured.report.totals.of_kind(Kind::Prepare);
    let mut lines = printed(&listed);
    lines.push(String::new());
    lines.push(match strategy {
        Strategy::Lazy => format!(
            "1 query for the {n} posts, then 1 per post for its author: \
             {queries} query round trips (1 + {n})"
        ),
        Strategy::Join => {
            format!("posts and authors in one JOIN: {queries} query round trip for {n} posts")
        }
        Strategy::Batched => format!(
            "1 query for the {n} posts, 1 for all their authors (id = any($1)): \
             {queries} query round trips"
        ),
    });
    if prepares > 0 {
        lines.push(format!("+ {prepares} prepare round trips"));
    }
    lines.push(
        "(its statements were prepared before the loop, as on an application's warm \
         connection: the round trips counted are the queries)"
            .to_string(),
    );
    lines.push(wall_line(&measured, &ctx.latency.round_trip()));
    // The room reads the queries: the prepares happened before the loop.
    let how = match strategy {
        Strategy::Lazy => "the lazy loop",
        Strategy::Join => "one JOIN",
        Strategy::Batched => "the list, then all authors at once",
    };
    let mut report = report(
        format!("N+1: the {} loop, {n} posts", strategy.label()),
        lines,
        &measured,
        sessions,
    );
    report.headline = Some(Headline {
        value: queries.to_string(),
        label: format!(
            "{} — {how}, {n} posts",
            if queries == 1 {
                "query round trip"
            } else {
                "query round trips"
            }
        ),
    });
    Ok(report)
}

async fn pool(
    ctx: &DemoContext,
    limit: Option<i64>,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    // sqlx's defaults, untouched: test_before_acquire = true, up to 10 connections,
    // opened when first needed.
    let pool = PgPool::connect_lazy_with(meter.options("pglab demo: pool"));
    let _ = progress.send(DemoProgress::Message(
        "running the lazy loop on a default sqlx pool".into(),
    ));
    let (listed, measured) = meter.measure("pool", lazy_on_pool(&pool, limit)).await;
    pool.close().await;
    let sessions = meter.finish().await;
    let listed = listed.map_err(|cause| Error::Sql {
        demo: "n_plus_one.pool",
        step: "listing posts with their authors through the pool",
        cause,
    })?;
    let fetches = listed.len() as u64 + 1;
    let totals = &measured.report.totals;
    let (queries, pings, prepares) = (
        totals.of_kind(Kind::Query),
        totals.of_kind(Kind::Ping),
        totals.of_kind(Kind::Prepare),
    );
    let opened = measured.sessions_started;
    let mut lines = printed(&listed);
    lines.push(String::new());
    lines.push(format!(
        "{fetches} queries on the pool, each one acquiring a connection and releasing it: \
         {queries} query round trips, {pings} pings, {prepares} prepares, {} in all",
        totals.round_trips
    ));
    lines.push(
        "acquire: the pool pings an idle connection (a lone Sync) before handing it out \
         (test_before_acquire, on by default); a connection it has just opened is not pinged"
            .into(),
    );
    lines.push(
        "release: every connection is pinged again on its way back to the pool, to be sure \
         it is still usable"
            .into(),
    );
    lines.push(format!(
        "so pings = 2 × {fetches} queries − {opened} new connection(s) = {}; the pool opened \
         {opened} because a release still pinging leaves no idle connection for the next query",
        (2 * fetches).saturating_sub(opened)
    ));
    lines.push(
        "one connection acquired for the whole loop (or a dedicated one, as the other demos \
         use) costs one acquire and one release ping instead"
            .into(),
    );
    lines.push(wall_line(&measured, &ctx.latency.round_trip()));
    Ok(report(
        format!("N+1 on a default pool, {} posts", listed.len()),
        lines,
        &measured,
        sessions,
    ))
}

/// The program's output: the first lines, then how many more.
fn printed(listed: &[Line]) -> Vec<String> {
    let mut lines: Vec<String> = listed
        .iter()
        .take(LINES_SHOWN)
        .map(|(title, author)| format!("{title} — {author}"))
        .collect();
    if listed.len() > LINES_SHOWN {
        lines.push(format!("… {} more", listed.len() - LINES_SHOWN));
    }
    lines
}

fn wall_line(measured: &Metered, latency: &Duration) -> String {
    format!(
        "wall time {} at a simulated round trip of {}",
        crate::text::duration(measured.wall),
        crate::text::duration(*latency)
    )
}

fn report(title: String, lines: Vec<String>, measured: &Metered, sessions: u64) -> DemoReport {
    DemoReport::measured(title, super::wrapped(lines), measured, sessions)
}
