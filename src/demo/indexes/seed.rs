//! `indexes.seed`: (re)creates `big_users` and fills it on the server, a chunk of rows per
//! statement with news after each, then `vacuum analyze` so that the plans the lesson shows
//! next are the ones a settled table gets: statistics for the planner to choose with, and a
//! visibility map that lets index-only scans skip the table.

use std::time::{Duration, Instant};

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::{long_connection, paragraph, per_second, say, sql_error};
use crate::data::demo::{DemoProgress, DemoReport, Headline};
use crate::db::demo_data::{self, BIG_USERS, TableSize};
use crate::demo::meter::Meter;
use crate::demo::params;
use crate::demo::{DemoContext, Error};
use crate::text::group;

const DEMO: &str = "indexes.seed";
const DEFAULT_ROWS: i64 = 1_000_000;
/// Rows per INSERT: one round trip each, big enough that the round trips cost nothing next
/// to the work, small enough that progress arrives every fraction of a second.
const CHUNK_ROWS: i64 = 50_000;

struct Filled {
    dropped: bool,
    statements: u64,
    insert: Duration,
    vacuum: Duration,
    size: TableSize,
}

pub(super) async fn run(
    ctx: &DemoContext,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let rows = params::int(params, "rows").unwrap_or(DEFAULT_ROWS);
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut conn = long_connection(&mut meter, DEMO, "pglab demo: seed big_users").await?;
    let (filled, measured) = meter.measure(DEMO, fill(&mut conn, rows, progress)).await;
    let _ = sqlx::Connection::close(conn).await;
    let sessions = meter.finish().await;
    let filled = filled?;

    let mut lines = Vec::new();
    if filled.dropped {
        lines.push(format!(
            "dropped the {BIG_USERS} of an earlier run first, with every index built on it"
        ));
    }
    lines.push(format!(
        "{} rows in {} ({} rows per second): {} INSERT … SELECT statements of up to {} rows, \
         generated on the server, so no row crossed the network",
        group(rows as f64),
        crate::text::duration(filled.insert),
        per_second(rows, filled.insert),
        filled.statements,
        group(CHUNK_ROWS as f64),
    ));
    lines.push(format!(
        "vacuum analyze took {}: its statistics let the planner weigh a scan against an \
         index, and its visibility map lets an index-only scan skip the table's pages",
        crate::text::duration(filled.vacuum)
    ));
    let size = &filled.size;
    lines.push(format!(
        "{BIG_USERS} takes {} in {} pages of 8 kB; its one index, the primary key, takes {}",
        size.pretty,
        group(size.pages as f64),
        size.index_pretty
    ));
    lines.push(format!(
        "a lookup by email, which no index covers yet, has to read all {} pages",
        group(size.pages as f64)
    ));
    let lines = lines.iter().flat_map(|line| paragraph(line)).collect();
    let mut report = DemoReport::measured(
        format!("{BIG_USERS}: {} rows", group(rows as f64)),
        lines,
        &measured,
        sessions,
    );
    report.headline = Some(Headline {
        value: group(size.pages as f64),
        label: format!("pages of {BIG_USERS}: a lookup by email reads every one"),
    });
    // The chunks are one statement repeated, which the log's N+1 rule flags; here it is by
    // design (each round trip carries 50,000 rows of work, and the split is what lets the
    // progress be told), so the report explains it instead of repeating the warning.
    let before = report.warnings.len();
    report
        .warnings
        .retain(|warning| !warning.starts_with("N+1"));
    if report.warnings.len() < before {
        report.lines.extend(paragraph(&format!(
            "the log flags the {} INSERTs as an N+1 burst: the same statement again and \
             again. Here each one does {} rows of work, so its round trip costs nothing \
             next to it; the table is filled in chunks only to report progress",
            filled.statements,
            group(CHUNK_ROWS as f64)
        )));
    }
    Ok(report)
}

async fn fill(
    conn: &mut PgConnection,
    rows: i64,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Filled, Error> {
    let dropped = demo_data::drop_table_if_exists(conn, BIG_USERS).await?;
    if dropped {
        say(
            progress,
            format!("dropped the {BIG_USERS} of an earlier run"),
        );
    }
    demo_data::create_big_users_table(conn, BIG_USERS).await?;
    let started = Instant::now();
    let mut statements = 0;
    let mut first = 1;
    while first <= rows {
        let last = (first + CHUNK_ROWS - 1).min(rows);
        demo_data::insert_big_users(conn, BIG_USERS, first, last, rows).await?;
        statements += 1;
        say(
            progress,
            format!(
                "{} of {} rows, {}",
                group(last as f64),
                group(rows as f64),
                crate::text::duration(started.elapsed())
            ),
        );
        first = last + 1;
    }
    let insert = started.elapsed();
    say(progress, format!("vacuum analyze {BIG_USERS}"));
    let started = Instant::now();
    sqlx::raw_sql("vacuum analyze big_users")
        .execute(&mut *conn)
        .await
        .map_err(sql_error(DEMO, "vacuuming and analyzing big_users"))?;
    let vacuum = started.elapsed();
    let size = demo_data::table_size(conn, BIG_USERS).await?;
    Ok(Filled {
        dropped,
        statements,
        insert,
        vacuum,
        size,
    })
}
