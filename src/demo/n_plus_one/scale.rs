//! `n_plus_one.scale`: the lazy loop, the JOIN and the batched query at growing numbers of
//! posts, each at 0 ms and at a simulated round-trip delay, measured into a table whose rows
//! are sent as soon as they are known.
//!
//! The story has a handful of posts; the sizes need thousands. They are generated on the
//! demo's connection inside a transaction, every run reads them inside that transaction, and
//! the transaction is rolled back at the end (or dropped with the connection if the demo
//! fails), so nothing the demo made outlives it.

use std::time::Duration;

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::{MAX_POSTS, Strategy};
use crate::data::ResultSet;
use crate::data::demo::{DemoProgress, DemoReport, Measurement};
use crate::data::warning::Raised;
use crate::demo::meter::{Meter, Metered};
use crate::demo::params::{self, ParamKind, ParamSpec};
use crate::demo::{DemoContext, Error};
use crate::proxy::Latency;
use crate::query_log::Totals;

const DEFAULT_SIZES: [i64; 4] = [10, 100, 1_000, 10_000];
const DEFAULT_LATENCY: Duration = Duration::from_millis(2);

pub(super) const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "sizes",
        kind: ParamKind::IntList {
            min: 1,
            max: MAX_POSTS,
            max_len: 6,
        },
        help: "numbers of posts to measure at (default [10, 100, 1000, 10000])",
    },
    ParamSpec {
        name: "latency",
        kind: ParamKind::Millis { max_ms: 20 },
        help: "the simulated round trip of the second timing column (default \"2ms\")",
    },
];

const DEMO: &str = "n_plus_one.scale";

/// What the runs added up to, and the table.
struct Table {
    generated: u64,
    rows: Vec<Vec<Option<String>>>,
    measurements: Vec<Measurement>,
    totals: Totals,
    wall: Duration,
    warnings: Vec<Raised>,
}

pub(super) async fn run(
    ctx: &DemoContext,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let sizes = params::ints(params, "sizes").unwrap_or_else(|| DEFAULT_SIZES.to_vec());
    let delay = params::millis(params, "latency").unwrap_or(DEFAULT_LATENCY);
    // A latency of the demo's own: the table compares fixed delays, whatever the lab's
    // knob says.
    let latency = Latency::default();
    let mut meter = Meter::start(&ctx.learner, latency.clone(), ctx.log.clone()).await?;
    let mut conn = meter.connect("pglab demo: scale").await?;
    let columns = vec![
        "posts".to_string(),
        "strategy".to_string(),
        "round trips".to_string(),
        "0 ms".to_string(),
        latency_label(delay),
    ];
    let _ = progress.send(DemoProgress::TableColumns(columns.clone()));
    let measured = measure_all(&mut meter, &mut conn, &latency, &sizes, delay, progress).await;
    // Rolled back on success and failure alike; a failed rollback leaves the transaction
    // to die with the connection, which the server rolls back too.
    latency.set(Duration::ZERO, Duration::ZERO);
    let rollback = sqlx::raw_sql("rollback").execute(&mut conn).await;
    let _ = sqlx::Connection::close(conn).await;
    meter.finish().await;
    let table = measured?;
    rollback.map_err(|cause| Error::Sql {
        demo: DEMO,
        step: "rolling back the generated posts",
        cause,
    })?;
    Ok(report(table, columns, &sizes, delay))
}

async fn measure_all(
    meter: &mut Meter,
    conn: &mut PgConnection,
    latency: &Latency,
    sizes: &[i64],
    delay: Duration,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Table, Error> {
    let largest = sizes.iter().copied().max().unwrap_or(1);
    let _ = progress.send(DemoProgress::Message(format!(
        "generating {largest} posts inside a transaction that will be rolled back"
    )));
    let (setup, _) = meter.measure("scale: setup", setup(conn, largest)).await;
    let mut table = Table {
        generated: setup?,
        rows: Vec::new(),
        measurements: Vec::new(),
        totals: Totals::default(),
        wall: Duration::ZERO,
        warnings: Vec::new(),
    };
    for &size in sizes {
        let _ = progress.send(DemoProgress::Message(format!("measuring {size} posts")));
        for strategy in Strategy::ALL {
            let mut runs = Vec::new();
            for delay in [Duration::ZERO, delay] {
                latency.set(delay, Duration::ZERO);
                let name = format!("scale: {} {size}", strategy.label());
                let (listed, measured) = meter.measure(&name, strategy.run(conn, Some(size))).await;
                listed.map_err(|cause| Error::Sql {
                    demo: DEMO,
                    step: "running a measured loop",
                    cause,
                })?;
                table.add(size, strategy, delay, &measured);
                runs.push(measured);
            }
            let row = row(size, strategy, &runs);
            let _ = progress.send(DemoProgress::TableRow(row.clone()));
            table.rows.push(row);
        }
    }
    Ok(table)
}

/// Begins the transaction, generates the posts, and runs each strategy once so every
/// statement is prepared before anything is measured.
async fn setup(conn: &mut PgConnection, largest: i64) -> Result<u64, Error> {
    let sql_error = |step| crate::demo::sql(DEMO, step);
    sqlx::raw_sql("begin")
        .execute(&mut *conn)
        .await
        .map_err(sql_error("starting the transaction"))?;
    let count = i32::try_from(largest).unwrap_or(i32::MAX);
    let generated = crate::db::demo_data::add_generated_posts(conn, count).await?;
    for strategy in Strategy::ALL {
        strategy
            .run(conn, Some(1))
            .await
            .map_err(sql_error("preparing the measured statements"))?;
    }
    Ok(generated)
}

impl Table {
    fn add(&mut self, size: i64, strategy: Strategy, delay: Duration, measured: &Metered) {
        let totals = &measured.report.totals;
        self.measurements.push(Measurement {
            posts: size.unsigned_abs(),
            strategy: strategy.label(),
            latency: delay,
            round_trips: totals.round_trips,
            wall: measured.wall,
        });
        self.totals.round_trips += totals.round_trips;
        self.totals.statements += totals.statements;
        self.totals.rows += totals.rows;
        for (sum, n) in self.totals.by_kind.iter_mut().zip(totals.by_kind) {
            *sum += n;
        }
        self.wall += measured.wall;
        for warning in crate::query_log::raised_once(&measured.report.warnings) {
            if !self.warnings.contains(&warning) {
                self.warnings.push(warning);
            }
        }
    }
}

/// `posts | strategy | round trips | 0 ms | <latency>`; round trips differ between the two
/// runs only if something unexpected was sent, and then both are shown.
fn row(size: i64, strategy: Strategy, runs: &[Metered]) -> Vec<Option<String>> {
    let trips: Vec<u64> = runs.iter().map(|m| m.report.totals.round_trips).collect();
    let round_trips = match trips.as_slice() {
        [a, b] if a != b => format!("{a} / {b}"),
        [a, ..] => a.to_string(),
        [] => String::new(),
    };
    let mut row = vec![
        Some(size.to_string()),
        Some(strategy.label().to_string()),
        Some(round_trips),
    ];
    row.extend(runs.iter().map(|m| Some(crate::text::duration(m.wall))));
    row
}

fn latency_label(delay: Duration) -> String {
    format!("{} ms", delay.as_secs_f64() * 1000.0)
}

fn report(table: Table, columns: Vec<String>, sizes: &[i64], delay: Duration) -> DemoReport {
    let largest = sizes.iter().copied().max().unwrap_or(0).unsigned_abs();
    let wall_of = |strategy: &str| {
        table
            .measurements
            .iter()
            .find(|m| m.posts == largest && m.strategy == strategy && m.latency == delay)
            .map(|m| m.wall)
    };
    let mut lines = vec![
        format!(
            "{} posts were generated server-side inside a transaction on the demo's \
             connection; every run read them inside it, and it was rolled back at the end: \
             nothing was kept",
            table.generated
        ),
        "each strategy ran once before the measurements, so its statements were already \
         prepared: the round trips are the queries themselves"
            .to_string(),
        format!(
            "the delay columns use the demo's own simulated round trip (0 ms and {}), not the \
             lab's latency knob",
            latency_label(delay)
        ),
    ];
    // What a round trip really cost: the delay is a floor, and timers and scheduling add
    // to it, so the measured figure is shown rather than the setting.
    let per_trip = |latency: Duration| {
        table
            .measurements
            .iter()
            .find(|m| m.posts == largest && m.strategy == "lazy" && m.latency == latency)
            .map(|m| m.wall / u32::try_from(m.round_trips.max(1)).unwrap_or(u32::MAX))
    };
    if let (Some(fast), Some(slow)) = (per_trip(Duration::ZERO), per_trip(delay)) {
        lines.push(format!(
            "one round trip of the lazy loop at {largest} posts took {} at 0 ms and {} at {} (measured wall time ÷ round trips)",
            crate::text::duration(fast),
            crate::text::duration(slow),
            latency_label(delay)
        ));
    }
    if let (Some(lazy), Some(join)) = (wall_of("lazy"), wall_of("join")) {
        lines.push(format!(
            "at {largest} posts and {}: lazy {} against join {} ({:.0}× as long)",
            latency_label(delay),
            crate::text::duration(lazy),
            crate::text::duration(join),
            lazy.as_secs_f64() / join.as_secs_f64().max(1e-6)
        ));
    }
    DemoReport {
        title: format!(
            "N+1 at scale: {} sizes, 0 ms and {}",
            sizes.len(),
            latency_label(delay)
        ),
        lines: crate::demo::wrapped(lines),
        table: Some(ResultSet::new(columns, table.rows)),
        round_trips: table.totals.round_trips,
        statements: table.totals.statements,
        by_kind: table.totals.kinds_seen(),
        wall: table.wall,
        sessions: 1,
        warnings: table.warnings,
        measurements: table.measurements,
        plans: Vec::new(),
        headline: None,
    }
}
