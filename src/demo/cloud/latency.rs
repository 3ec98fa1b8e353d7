//! `cloud.latency`: how far away the database is, in time. First the real round trip to the
//! lab's database, measured: many `select 1` (simple-protocol queries, one round trip each)
//! on one connection through the demo's proxy, each timed by the client; min, median, p90
//! and max. Then the blog's front page — the N+1 lesson's lazy loop and its one-JOIN fix —
//! at no added delay, and at two simulated round trips the lesson picks as examples of a
//! database in the app's region and in another one, added by the demo's proxy. Last, what a
//! time budget affords at each: arithmetic on the measured figures, said to be arithmetic.

use std::time::{Duration, Instant};

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use crate::data::ResultSet;
use crate::data::demo::{DemoProgress, DemoReport, Measurement};
use crate::data::proxy::Kind;
use crate::demo::meter::Meter;
use crate::demo::n_plus_one::Strategy;
use crate::demo::params;
use crate::demo::{DemoContext, Error};
use crate::proxy::Latency;
use crate::query_log::Totals;

const DEMO: &str = "cloud.latency";
const DEFAULT_ROUND_TRIPS: i64 = 200;
const DEFAULT_SAME_REGION: Duration = Duration::from_millis(1);
const DEFAULT_CROSS_REGION: Duration = Duration::from_millis(40);
const DEFAULT_BUDGET_MS: i64 = 100;
/// Round trips before the timed ones: the connection's first answers pay for warming up.
const WARM_UP: usize = 5;
/// Posts on the page: the lazy loop sends 1 + this many queries.
const PAGE_POSTS: i64 = 5;

/// The measured round trips of `select 1`, sorted.
struct Timed(Vec<Duration>);

impl Timed {
    /// The value at `fraction` of the sorted times (nearest rank): 0.5 the median.
    fn at(&self, fraction: f64) -> Duration {
        let n = self.0.len();
        let rank = ((fraction * n as f64).ceil() as usize).clamp(1, n.max(1));
        self.0.get(rank - 1).copied().unwrap_or_default()
    }

    fn min(&self) -> Duration {
        self.0.first().copied().unwrap_or_default()
    }

    fn max(&self) -> Duration {
        self.0.last().copied().unwrap_or_default()
    }
}

/// One page load at one simulated round trip.
struct PageRun {
    strategy: Strategy,
    delay: Duration,
    round_trips: u64,
    wall: Duration,
}

pub(super) async fn run(
    ctx: &DemoContext,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let count = params::int(params, "round_trips").unwrap_or(DEFAULT_ROUND_TRIPS) as usize;
    let same = params::millis(params, "same_region").unwrap_or(DEFAULT_SAME_REGION);
    let cross = params::millis(params, "cross_region").unwrap_or(DEFAULT_CROSS_REGION);
    let budget = params::int(params, "budget_ms").unwrap_or(DEFAULT_BUDGET_MS);
    // A delay of the demo's own: the real round trip is measured without the lab's knob,
    // and the simulated ones are the lesson's examples whatever the knob says.
    let latency = Latency::default();
    let mut meter = Meter::start(&ctx.learner, latency.clone(), ctx.log.clone()).await?;
    let mut conn = meter.connect("pglab demo: round trips").await?;
    let sql_error = |step| crate::demo::sql(DEMO, step);
    for _ in 0..WARM_UP {
        select_one(&mut conn)
            .await
            .map_err(sql_error("warming up"))?;
    }
    let _ = progress.send(DemoProgress::Message(format!(
        "timing {count} round trips of select 1"
    )));
    let (timed, pinged) = meter
        .measure("select 1", time_round_trips(&mut conn, count))
        .await;
    let timed = timed.map_err(sql_error("timing select 1"))?;
    for strategy in [Strategy::Lazy, Strategy::Join] {
        strategy
            .prepare(&mut conn)
            .await
            .map_err(sql_error("preparing the page's statements"))?;
    }
    let columns: Vec<String> = ["page", "simulated round trip", "round trips", "wall time"]
        .map(String::from)
        .to_vec();
    let _ = progress.send(DemoProgress::TableColumns(columns.clone()));
    let mut totals = pinged.report.totals;
    let mut warnings = pinged.report.warnings.clone();
    let mut pages = Vec::new();
    let mut failure = None;
    'delays: for delay in [Duration::ZERO, same, cross] {
        latency.set(delay, Duration::ZERO);
        for strategy in [Strategy::Lazy, Strategy::Join] {
            let (listed, measured) = meter
                .measure(strategy.label(), strategy.run(&mut conn, Some(PAGE_POSTS)))
                .await;
            if let Err(cause) = listed {
                failure = Some(cause);
                break 'delays;
            }
            add(&mut totals, &measured.report.totals);
            warnings.extend(measured.report.warnings.iter().cloned());
            let run = PageRun {
                strategy,
                delay,
                round_trips: measured.report.totals.of_kind(Kind::Query),
                wall: measured.wall,
            };
            let _ = progress.send(DemoProgress::TableRow(row(&run)));
            pages.push(run);
        }
    }
    latency.set(Duration::ZERO, Duration::ZERO);
    let _ = sqlx::Connection::close(conn).await;
    let sessions = meter.finish().await;
    if let Some(cause) = failure {
        return Err(sql_error("loading the page")(cause));
    }
    let wall = pinged.wall + pages.iter().map(|p| p.wall).sum::<Duration>();
    Ok(DemoReport {
        title: "How far away is the database?".into(),
        lines: crate::demo::wrapped(lines(&timed, &pages, same, cross, budget)),
        table: Some(ResultSet::new(columns, pages.iter().map(row).collect())),
        round_trips: totals.round_trips,
        statements: totals.statements,
        by_kind: totals.kinds_seen(),
        wall,
        sessions,
        warnings: crate::query_log::raised_once(&warnings),
        measurements: pages
            .iter()
            .map(|p| Measurement {
                posts: PAGE_POSTS as u64,
                strategy: p.strategy.label(),
                latency: p.delay,
                round_trips: p.round_trips,
                wall: p.wall,
            })
            .collect(),
        plans: Vec::new(),
        headline: None,
    })
}

/// One `select 1` in the simple protocol: a single round trip, nothing prepared.
async fn select_one(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::raw_sql("select 1").execute(conn).await.map(|_| ())
}

async fn time_round_trips(conn: &mut PgConnection, count: usize) -> sqlx::Result<Timed> {
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        select_one(conn).await?;
        times.push(started.elapsed());
    }
    times.sort_unstable();
    Ok(Timed(times))
}

fn add(sum: &mut Totals, more: &Totals) {
    sum.round_trips += more.round_trips;
    sum.statements += more.statements;
    for (total, n) in sum.by_kind.iter_mut().zip(more.by_kind) {
        *total += n;
    }
}

fn page_label(strategy: Strategy) -> String {
    match strategy {
        Strategy::Join => "one JOIN".into(),
        _ => format!("lazy loop, {PAGE_POSTS} posts"),
    }
}

fn delay_label(delay: Duration) -> String {
    if delay.is_zero() {
        "none added".into()
    } else {
        crate::text::duration(delay)
    }
}

fn row(run: &PageRun) -> Vec<Option<String>> {
    vec![
        Some(page_label(run.strategy)),
        Some(delay_label(run.delay)),
        Some(run.round_trips.to_string()),
        Some(crate::text::duration(run.wall)),
    ]
}

fn micros(d: Duration) -> String {
    crate::text::group(d.as_secs_f64() * 1e6)
}

fn lines(
    timed: &Timed,
    pages: &[PageRun],
    same: Duration,
    cross: Duration,
    budget_ms: i64,
) -> Vec<String> {
    let median = timed.at(0.5);
    let mut lines = vec![
        format!(
            "Measured: {} round trips of `select 1` on one connection, through the demo's \
             proxy, each timed by the client: min {} µs, median {} µs, p90 {} µs, max {} µs.",
            timed.0.len(),
            micros(timed.min()),
            micros(median),
            micros(timed.at(0.9)),
            micros(timed.max()),
        ),
        format!(
            "Simulated: the same page with {} and with {} added to every round trip by the \
             proxy. The lesson chose these as examples of a database in the app's region and \
             in another one; they are not measurements of any provider.",
            crate::text::duration(same),
            crate::text::duration(cross)
        ),
    ];
    let lazy: Vec<&PageRun> = pages
        .iter()
        .filter(|p| p.strategy == Strategy::Lazy)
        .collect();
    if let (Some(first), Some(last)) = (lazy.first(), lazy.last()) {
        lines.push(format!(
            "The lazy page makes {} round trips and the JOIN 1, at every distance; only the \
             wait per trip changes: the lazy page took {} with nothing added and {} at {}.",
            first.round_trips,
            crate::text::duration(first.wall),
            crate::text::duration(last.wall),
            crate::text::duration(last.delay)
        ));
    }
    let budget = Duration::from_millis(budget_ms.unsigned_abs());
    let mut affords = vec![format!(
        "{} at the measured median",
        crate::text::plural(affordable(budget, median), "round trip", "round trips")
    )];
    for run in lazy.iter().filter(|p| !p.delay.is_zero()) {
        let per_trip = run.wall / u32::try_from(run.round_trips.max(1)).unwrap_or(u32::MAX);
        affords.push(format!(
            "{} at {} ({} per trip on the lazy page)",
            crate::text::plural(affordable(budget, per_trip), "round trip", "round trips"),
            crate::text::duration(run.delay),
            crate::text::duration(per_trip)
        ));
    }
    lines.push(format!(
        "Arithmetic on these figures, for a page allowed {budget_ms} ms of waiting on the \
         database (a budget chosen as an example): it affords {}.",
        affords.join(", ")
    ));
    lines
}

/// How many whole trips of `per_trip` fit in `budget`.
fn affordable(budget: Duration, per_trip: Duration) -> u64 {
    if per_trip.is_zero() {
        return 0;
    }
    (budget.as_nanos() / per_trip.as_nanos()) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let timed = Timed((1..=10).map(Duration::from_micros).collect());
        assert_eq!(timed.at(0.5), Duration::from_micros(5));
        assert_eq!(timed.at(0.9), Duration::from_micros(9));
        assert_eq!(timed.min(), Duration::from_micros(1));
        assert_eq!(timed.max(), Duration::from_micros(10));
        assert_eq!(
            affordable(Duration::from_millis(100), Duration::from_millis(40)),
            2
        );
    }
}
