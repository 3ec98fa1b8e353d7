//! `n_plus_one.endpoints`: counting round trips per request, the way to find an N+1 in an
//! application of one's own. A small blog application answers two endpoints, each requested
//! twice with a bigger page the second time: the front page (`GET /posts`, loading each
//! post's author lazily) and an author's page (`GET /users/1/posts`, the author, then their
//! posts). Its connection goes through a proxy like `pglab proxy`, and after each request the
//! count since the last pause is read exactly as `pglab proxy` prints it when the traffic
//! pauses. A count that grows with the page is the N+1.

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::{AUTHOR, NEWEST_POSTS, Strategy};
use crate::data::ResultSet;
use crate::data::demo::{DemoProgress, DemoReport};
use crate::demo::meter::Meter;
use crate::demo::{DemoContext, Error};
use crate::query_log::{Totals, bytes, pause_line, raised_once};

const DEMO: &str = "n_plus_one.endpoints";
/// The author page's queries: the author, then their newest posts.
const AUTHOR_BY_ID: &str = "select id, username from users where id = $1";
const POSTS_BY: &str = "select id, title from posts where author_id = $1 and deleted_at is null \
     order by created_at desc, id desc limit $2";
/// The author whose page is requested (alice, in the story).
const AUTHOR_ID: i64 = 1;
/// Page sizes each endpoint is requested with, in order.
const PAGES: [i64; 2] = [5, 10];

/// An endpoint of the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    /// The front page: the newest posts, each author loaded when the page reads it.
    Posts,
    /// One author's page: the author, then their posts.
    AuthorPosts,
}

impl Endpoint {
    fn path(self, limit: i64) -> String {
        match self {
            Endpoint::Posts => format!("GET /posts?limit={limit}"),
            Endpoint::AuthorPosts => format!("GET /users/{AUTHOR_ID}/posts?limit={limit}"),
        }
    }

    /// Handles one request; returns how many posts the page shows.
    async fn handle(self, conn: &mut PgConnection, limit: i64) -> sqlx::Result<usize> {
        match self {
            Endpoint::Posts => Ok(Strategy::Lazy.run(conn, Some(limit)).await?.len()),
            Endpoint::AuthorPosts => {
                let _author: (i64, String) = sqlx::query_as(AUTHOR_BY_ID)
                    .bind(AUTHOR_ID)
                    .fetch_one(&mut *conn)
                    .await?;
                let posts: Vec<(i64, String)> = sqlx::query_as(POSTS_BY)
                    .bind(AUTHOR_ID)
                    .bind(limit)
                    .fetch_all(&mut *conn)
                    .await?;
                Ok(posts.len())
            }
        }
    }
}

pub(super) async fn run(
    ctx: &DemoContext,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut conn = meter.connect("pglab demo: blog app").await?;
    let columns: Vec<String> = [
        "request",
        "posts",
        "round trips",
        "rows",
        "received",
        "waited",
    ]
    .map(String::from)
    .to_vec();
    let _ = progress.send(DemoProgress::TableColumns(columns.clone()));
    let answered = requests(&mut meter, &mut conn, progress).await;
    let _ = sqlx::Connection::close(conn).await;
    let sessions = meter.finish().await;
    let answered = answered?;
    Ok(report(columns, &answered, sessions))
}

/// One request and what the proxy counted for it.
struct Answered {
    endpoint: Endpoint,
    limit: i64,
    shown: usize,
    since: Totals,
    wall: std::time::Duration,
    warnings: Vec<crate::data::warning::Raised>,
}

async fn requests(
    meter: &mut Meter,
    conn: &mut PgConnection,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Vec<Answered>, Error> {
    let sql_error = |step| crate::demo::sql(DEMO, step);
    // A running application has its statements prepared already: the counts are the
    // requests' queries.
    for sql in [NEWEST_POSTS, AUTHOR, AUTHOR_BY_ID, POSTS_BY] {
        sqlx::Executor::prepare(&mut *conn, sqlx::SqlStr::from_static(sql))
            .await
            .map_err(sql_error("preparing the application's statements"))?;
    }
    meter.pause().await;
    let mut answered = Vec::new();
    for endpoint in [Endpoint::Posts, Endpoint::AuthorPosts] {
        for limit in PAGES {
            let _ = progress.send(DemoProgress::Message(endpoint.path(limit)));
            let (shown, measured) = meter
                .measure(&endpoint.path(limit), endpoint.handle(conn, limit))
                .await;
            let shown = shown.map_err(sql_error("answering a request"))?;
            // What `pglab proxy` prints once the traffic pauses after the request.
            let since = meter.pause().await.unwrap_or_default();
            let row = row(endpoint, limit, shown, &since);
            let _ = progress.send(DemoProgress::TableRow(row));
            answered.push(Answered {
                endpoint,
                limit,
                shown,
                since,
                wall: measured.wall,
                warnings: raised_once(&measured.report.warnings),
            });
        }
    }
    Ok(answered)
}

fn row(endpoint: Endpoint, limit: i64, shown: usize, since: &Totals) -> Vec<Option<String>> {
    vec![
        Some(endpoint.path(limit)),
        Some(shown.to_string()),
        Some(since.round_trips.to_string()),
        Some(since.rows.to_string()),
        Some(bytes(since.received)),
        Some(crate::text::duration(since.waiting)),
    ]
}

fn report(columns: Vec<String>, answered: &[Answered], sessions: u64) -> DemoReport {
    let rows = answered
        .iter()
        .map(|a| row(a.endpoint, a.limit, a.shown, &a.since))
        .collect();
    let mut lines = Vec::new();
    for endpoint in [Endpoint::Posts, Endpoint::AuthorPosts] {
        let of: Vec<&Answered> = answered.iter().filter(|a| a.endpoint == endpoint).collect();
        let [small, big] = of.as_slice() else {
            continue;
        };
        let path = endpoint.path(0);
        let path = path.trim_end_matches("?limit=0");
        let (a, b) = (small.since.round_trips, big.since.round_trips);
        let counts = format!(
            "{path}: {a} round trips at limit={} ({} posts shown), {b} at limit={} ({} shown)",
            small.limit, small.shown, big.limit, big.shown
        );
        lines.push(if b > a {
            format!("{counts}: the count grows with the page, one more per post: an N+1")
        } else {
            format!("{counts}: the same whatever the page holds")
        });
    }
    if let Some(first) = answered.first() {
        lines.push(format!(
            "after each request, once the traffic paused, `pglab proxy` prints the same count; \
             after the first one: ── since the last pause: {}",
            pause_line(&first.since)
        ));
    }
    let mut totals = Totals::default();
    let mut wall = std::time::Duration::ZERO;
    let mut warnings = Vec::new();
    for a in answered {
        totals.round_trips += a.since.round_trips;
        totals.statements += a.since.statements;
        for (sum, n) in totals.by_kind.iter_mut().zip(a.since.by_kind) {
            *sum += n;
        }
        wall += a.wall;
        for warning in &a.warnings {
            if !warnings.contains(warning) {
                warnings.push(warning.clone());
            }
        }
    }
    DemoReport {
        title: "Round trips per request: two endpoints of a blog application".into(),
        lines: crate::demo::wrapped(lines),
        table: Some(ResultSet::new(columns, rows)),
        round_trips: totals.round_trips,
        statements: totals.statements,
        by_kind: totals.kinds_seen(),
        wall,
        sessions,
        warnings,
        measurements: Vec::new(),
        plans: Vec::new(),
        headline: None,
    }
}
