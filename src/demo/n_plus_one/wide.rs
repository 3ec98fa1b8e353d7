//! `n_plus_one.wide`: when *not* to eager-load with a JOIN. Every author gets a long bio and
//! the feed shows it beside each post. The JOIN sends each post's row with its author's bio,
//! so a bio travels once per post; two queries (the posts, then their authors with
//! `id = any($1)`) send each bio once and pay one more round trip. Both are measured at 0 ms
//! and at a simulated round trip: round trips, rows and bytes as the proxy saw them, and the
//! median wall time of several runs. The report states the trade-off from those numbers.
//!
//! Like the scale demo, the bios and the extra posts live in a transaction on the demo's
//! connection that is rolled back at the end.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::{MAX_POSTS, NEWEST_POSTS};
use crate::data::ResultSet;
use crate::data::demo::{DemoProgress, DemoReport, Measurement};
use crate::demo::meter::{Meter, Metered};
use crate::demo::params::{self, ParamKind, ParamSpec};
use crate::demo::{DemoContext, Error};
use crate::proxy::Latency;
use crate::query_log::{Totals, bytes, raised_once};

const DEMO: &str = "n_plus_one.wide";
const DEFAULT_POSTS: i64 = 500;
const DEFAULT_BIO_KB: i64 = 8;
const DEFAULT_LATENCY: Duration = Duration::from_millis(2);
/// Timed runs of each strategy at each latency; the median is shown.
const RUNS: usize = 5;

pub(super) const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "posts",
        kind: ParamKind::Int {
            min: 1,
            max: MAX_POSTS,
        },
        help: "how many of the newest posts the feed shows (default 500)",
    },
    ParamSpec {
        name: "bio_kb",
        kind: ParamKind::Int { min: 0, max: 256 },
        help: "the length of every author's bio, in kB (default 8)",
    },
    ParamSpec {
        name: "latency",
        kind: ParamKind::Millis { max_ms: 20 },
        help: "the simulated round trip of the second timing column (default \"2ms\")",
    },
];

/// The feed with each author's name and bio, in one statement.
const WIDE_JOIN: &str = "select p.id, p.title, u.username, u.bio from posts p \
     join users u on u.id = p.author_id \
     where p.deleted_at is null order by p.created_at desc, p.id desc limit $1";
/// The feed's authors, each once.
const AUTHORS_WITH_BIO: &str = "select id, username, bio from users where id = any($1)";

/// How the feed fetches the authors' bios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fetch {
    Join,
    TwoQueries,
}

impl Fetch {
    const ALL: [Fetch; 2] = [Fetch::Join, Fetch::TwoQueries];

    fn label(self) -> &'static str {
        match self {
            Fetch::Join => "join",
            Fetch::TwoQueries => "two queries",
        }
    }

    /// Runs the feed; returns how many posts it shows.
    async fn run(self, conn: &mut PgConnection, limit: i64) -> sqlx::Result<usize> {
        match self {
            Fetch::Join => {
                let rows: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(WIDE_JOIN)
                    .bind(limit)
                    .fetch_all(conn)
                    .await?;
                Ok(rows.len())
            }
            Fetch::TwoQueries => {
                let posts: Vec<(i64, String, i64)> = sqlx::query_as(NEWEST_POSTS)
                    .bind(limit)
                    .fetch_all(&mut *conn)
                    .await?;
                let mut ids: Vec<i64> = posts.iter().map(|p| p.2).collect();
                ids.sort_unstable();
                ids.dedup();
                let authors: HashMap<i64, (String, Option<String>)> =
                    sqlx::query_as::<_, (i64, String, Option<String>)>(AUTHORS_WITH_BIO)
                        .bind(&ids)
                        .fetch_all(&mut *conn)
                        .await?
                        .into_iter()
                        .map(|(id, name, bio)| (id, (name, bio)))
                        .collect();
                // The page pairs each post with its author, as the JOIN's rows do.
                Ok(posts.iter().filter(|p| authors.contains_key(&p.2)).count())
            }
        }
    }
}

/// One strategy at one latency: what the proxy counted on its first run, and the median
/// wall time of all runs.
struct Run {
    fetch: Fetch,
    latency: Duration,
    totals: Totals,
    median: Duration,
}

pub(super) async fn run(
    ctx: &DemoContext,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let posts = params::int(params, "posts").unwrap_or(DEFAULT_POSTS);
    let bio_kb = params::int(params, "bio_kb").unwrap_or(DEFAULT_BIO_KB);
    let delay = params::millis(params, "latency").unwrap_or(DEFAULT_LATENCY);
    let latency = Latency::default();
    let mut meter = Meter::start(&ctx.learner, latency.clone(), ctx.log.clone()).await?;
    let mut conn = meter.connect("pglab demo: wide join").await?;
    let columns: Vec<String> = [
        "fetch",
        "round trips",
        "rows",
        "received",
        "0 ms",
        &format!("{} ms", delay.as_secs_f64() * 1000.0),
    ]
    .map(String::from)
    .to_vec();
    let _ = progress.send(DemoProgress::TableColumns(columns.clone()));
    let measured = measure(
        &mut meter, &mut conn, &latency, posts, bio_kb, delay, progress,
    )
    .await;
    latency.set(Duration::ZERO, Duration::ZERO);
    let rollback = sqlx::raw_sql("rollback").execute(&mut conn).await;
    let _ = sqlx::Connection::close(conn).await;
    meter.finish().await;
    let (runs, warnings, authors) = measured?;
    rollback.map_err(|cause| Error::Sql {
        demo: DEMO,
        step: "rolling back the bios and posts",
        cause,
    })?;
    let mut report = report(&runs, columns, posts, bio_kb, delay, authors);
    report.warnings = warnings;
    Ok(report)
}

type Outcome = (Vec<Run>, Vec<crate::data::warning::Raised>, u64);

async fn measure(
    meter: &mut Meter,
    conn: &mut PgConnection,
    latency: &Latency,
    posts: i64,
    bio_kb: i64,
    delay: Duration,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Outcome, Error> {
    let _ = progress.send(DemoProgress::Message(format!(
        "giving every author a {bio_kb} kB bio and adding {posts} posts, inside a transaction \
         that will be rolled back"
    )));
    let (authors, _) = meter
        .measure("wide: setup", setup(conn, posts, bio_kb))
        .await;
    let authors = authors?;
    let mut runs = Vec::new();
    let mut warnings = Vec::new();
    for fetch in Fetch::ALL {
        let mut row = vec![Some(fetch.label().to_string())];
        for delay in [Duration::ZERO, delay] {
            latency.set(delay, Duration::ZERO);
            let mut measured: Vec<Metered> = Vec::with_capacity(RUNS);
            for _ in 0..RUNS {
                let name = format!("wide: {}", fetch.label());
                let (shown, run) = meter.measure(&name, fetch.run(conn, posts)).await;
                shown.map_err(|cause| Error::Sql {
                    demo: DEMO,
                    step: "running a measured feed",
                    cause,
                })?;
                measured.push(run);
            }
            let mut walls: Vec<Duration> = measured.iter().map(|m| m.wall).collect();
            walls.sort_unstable();
            // Every run sends the same statements; the first one's counts stand for all.
            let first = &measured[0].report;
            for warning in raised_once(&first.warnings) {
                if !warnings.contains(&warning) {
                    warnings.push(warning);
                }
            }
            if delay.is_zero() {
                let totals = &first.totals;
                row.push(Some(totals.round_trips.to_string()));
                row.push(Some(totals.rows.to_string()));
                row.push(Some(bytes(totals.received)));
            }
            let median = walls[walls.len() / 2];
            row.push(Some(crate::text::duration(median)));
            runs.push(Run {
                fetch,
                latency: delay,
                totals: first.totals,
                median,
            });
        }
        let _ = progress.send(DemoProgress::TableRow(row));
    }
    Ok((runs, warnings, authors))
}

/// Begins the transaction, adds the bios and the posts, and runs each strategy once so its
/// statements are prepared. Returns how many authors the feed has.
async fn setup(conn: &mut PgConnection, posts: i64, bio_kb: i64) -> Result<u64, Error> {
    let sql_error = |step| crate::demo::sql(DEMO, step);
    sqlx::raw_sql("begin")
        .execute(&mut *conn)
        .await
        .map_err(sql_error("starting the transaction"))?;
    let bytes = i32::try_from(bio_kb * 1000).unwrap_or(i32::MAX);
    crate::db::demo_data::add_user_bios(conn, bytes).await?;
    let count = i32::try_from(posts).unwrap_or(i32::MAX);
    crate::db::demo_data::add_generated_posts(conn, count).await?;
    for fetch in Fetch::ALL {
        fetch
            .run(conn, posts)
            .await
            .map_err(sql_error("preparing the measured statements"))?;
    }
    let authors: i64 = sqlx::query_scalar(
        "select count(distinct author_id) from (select author_id from posts \
         where deleted_at is null order by created_at desc, id desc limit $1) feed",
    )
    .bind(posts)
    .fetch_one(&mut *conn)
    .await
    .map_err(sql_error("counting the feed's authors"))?;
    Ok(authors.unsigned_abs())
}

fn report(
    runs: &[Run],
    columns: Vec<String>,
    posts: i64,
    bio_kb: i64,
    delay: Duration,
    authors: u64,
) -> DemoReport {
    let find = |fetch: Fetch, latency: Duration| {
        runs.iter()
            .find(|r| r.fetch == fetch && r.latency == latency)
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let rows: Vec<Vec<Option<String>>> = Fetch::ALL
        .iter()
        .map(|&fetch| {
            let fast = find(fetch, Duration::ZERO);
            let slow = find(fetch, delay);
            let totals = fast.map(|r| r.totals).unwrap_or_default();
            vec![
                Some(fetch.label().to_string()),
                Some(totals.round_trips.to_string()),
                Some(totals.rows.to_string()),
                Some(bytes(totals.received)),
                fast.map(|r| crate::text::duration(r.median)),
                slow.map(|r| crate::text::duration(r.median)),
            ]
        })
        .collect();
    let mut lines = vec![format!(
        "every author got a bio of {bio_kb} kB, and the feed shows the {posts} newest posts \
         (by {authors} authors), each with its author's name and bio"
    )];
    if let (Some(join), Some(two)) = (
        find(Fetch::Join, Duration::ZERO),
        find(Fetch::TwoQueries, Duration::ZERO),
    ) {
        let (j, t) = (join.totals.received, two.totals.received);
        lines.push(format!(
            "join: 1 round trip, and every row carries its author's bio: {} received, the \
             bios {} times over ({posts} posts × {bio_kb} kB is {} by arithmetic)",
            bytes(j),
            posts,
            bytes(posts.unsigned_abs() * bio_kb.unsigned_abs() * 1000)
        ));
        lines.push(format!(
            "two queries: one round trip more, and each of the {authors} bios once: {} \
             received, {:.0}× less than the join",
            bytes(t),
            j as f64 / t.max(1) as f64
        ));
    }
    for latency in [Duration::ZERO, delay] {
        let (Some(join), Some(two)) =
            (find(Fetch::Join, latency), find(Fetch::TwoQueries, latency))
        else {
            continue;
        };
        let (winner, loser, w, l) = if join.median <= two.median {
            ("the join", "the two queries", join.median, two.median)
        } else {
            ("the two queries", "the join", two.median, join.median)
        };
        lines.push(format!(
            "at {} ms: {winner} {} against {loser} {} (medians of {RUNS} runs): {winner} \
             {:.1}× as fast",
            ms(latency),
            crate::text::duration(w),
            crate::text::duration(l),
            ms(l) / ms(w).max(1e-6)
        ));
    }
    lines.push(verdict(runs, delay));
    let totals = runs.iter().fold(Totals::default(), |mut sum, run| {
        sum.round_trips += run.totals.round_trips * RUNS as u64;
        sum.statements += run.totals.statements * RUNS as u64;
        sum.rows += run.totals.rows * RUNS as u64;
        for (s, n) in sum.by_kind.iter_mut().zip(run.totals.by_kind) {
            *s += n * RUNS as u64;
        }
        sum
    });
    DemoReport {
        title: format!("A wide JOIN against two queries: {posts} posts, {bio_kb} kB bios"),
        lines: crate::demo::wrapped(lines),
        table: Some(ResultSet::new(columns, rows)),
        round_trips: totals.round_trips,
        statements: totals.statements,
        by_kind: totals.kinds_seen(),
        wall: runs.iter().map(|r| r.median * RUNS as u32).sum(),
        sessions: 1,
        warnings: Vec::new(),
        measurements: runs
            .iter()
            .map(|run| Measurement {
                posts: posts.unsigned_abs(),
                strategy: run.fetch.label(),
                latency: run.latency,
                round_trips: run.totals.round_trips,
                wall: run.median,
            })
            .collect(),
        plans: Vec::new(),
        headline: None,
    }
}

/// The trade-off, in one sentence, from which strategy won at each latency.
fn verdict(runs: &[Run], delay: Duration) -> String {
    let join_wins = |latency: Duration| {
        let time = |fetch| {
            runs.iter()
                .find(|r| r.fetch == fetch && r.latency == latency)
                .map(|r| r.median)
        };
        match (time(Fetch::Join), time(Fetch::TwoQueries)) {
            (Some(join), Some(two)) => Some(join <= two),
            _ => None,
        }
    };
    let far = format!("{} ms", delay.as_secs_f64() * 1000.0);
    match (join_wins(Duration::ZERO), join_wins(delay)) {
        (Some(false), Some(false)) => format!(
            "so here the repeated bios cost more than the round trip the JOIN saves, even at \
             {far}: load the authors with a second query"
        ),
        (Some(true), Some(true)) => "so here the round trip costs more than the repeated bios, \
             even at 0 ms: the JOIN still wins; make the bios or the page bigger and measure \
             again"
            .to_string(),
        (Some(false), Some(true)) => format!(
            "so the two queries win at 0 ms and the JOIN at {far}: the farther the database, \
             the more the round trip a JOIN saves is worth, and the more bytes it may repeat"
        ),
        (Some(true), Some(false)) => format!(
            "the JOIN won at 0 ms and the two queries at {far}, which an extra round trip \
             cannot explain: the difference is within this machine's noise; measure again"
        ),
        _ => "not every run was measured".to_string(),
    }
}
