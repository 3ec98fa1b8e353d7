//! `indexes.write_cost`: what indexes cost on writes. The same generated rows are inserted
//! into two scratch tables of `big_users`' shape, one with only its primary key and one with
//! four secondary indexes of the kinds the lesson builds (a lookup, a composite, a
//! low-selectivity one and a partial one), and the two inserts are timed.
//!
//! The tables are the demo's own (`pglab_write_cost_*`), created at the start and dropped at
//! the end whatever happened, so the learner's tables, `big_users` included, are never
//! touched. They are ordinary tables, not temporary ones: a temporary table skips the
//! write-ahead log, which is part of what every real insert pays for each index.

use std::time::{Duration, Instant};

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::{listed, long_connection, paragraph, per_second, say, sql_error, times};
use crate::data::ResultSet;
use crate::data::demo::{DemoProgress, DemoReport, Headline};
use crate::db::demo_data::{self, TableSize};
use crate::demo::meter::Meter;
use crate::demo::params;
use crate::demo::{DemoContext, Error};
use crate::text::group;

const DEMO: &str = "indexes.write_cost";
const DEFAULT_ROWS: i64 = 100_000;
const BARE: &str = "pglab_write_cost_bare";
const INDEXED: &str = "pglab_write_cost_indexed";
/// The secondary indexes of the indexed table, as the report names them.
const INDEXES: [(&str, &str); 4] = [
    (
        "create index pglab_write_cost_email on pglab_write_cost_indexed (email)",
        "one on email",
    ),
    (
        "create index pglab_write_cost_org_created on pglab_write_cost_indexed \
         (organization_id, created_at)",
        "one on (organization_id, created_at)",
    ),
    (
        "create index pglab_write_cost_country on pglab_write_cost_indexed (country)",
        "one on country",
    ),
    (
        "create index pglab_write_cost_deleted on pglab_write_cost_indexed (deleted_at) \
         where deleted_at is not null",
        "a partial one on deleted_at, for the rows where it is not null",
    ),
];

/// One table's insert.
struct Insert {
    took: Duration,
    size: TableSize,
}

pub(super) async fn run(
    ctx: &DemoContext,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let rows = params::int(params, "rows").unwrap_or(DEFAULT_ROWS);
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut conn = long_connection(&mut meter, DEMO, "pglab demo: write cost").await?;
    let (inserts, measured) = meter
        .measure(DEMO, measure(&mut conn, rows, progress))
        .await;
    // Dropped on success and failure alike (and left from an interrupted run, at the start).
    let dropped = drop_tables(&mut conn).await;
    let _ = sqlx::Connection::close(conn).await;
    let sessions = meter.finish().await;
    let (bare, indexed) = inserts?;
    dropped?;

    let ratio = indexed.took.as_secs_f64() / bare.took.as_secs_f64().max(1e-9);
    // Short headers and cells: the table fits 70 columns, a lesson pane or a terminal.
    let columns = [
        "table",
        "indexes",
        "insert",
        "rows/s",
        "table size",
        "index size",
    ]
    .map(String::from)
    .to_vec();
    let row = |name: &str, indexes: &str, insert: &Insert| {
        [
            name.to_string(),
            indexes.to_string(),
            crate::text::duration(insert.took),
            per_second(rows, insert.took),
            insert.size.pretty.clone(),
            insert.size.index_pretty.clone(),
        ]
        .map(Some)
        .to_vec()
    };
    let table = ResultSet::new(
        columns,
        vec![
            row("bare", "primary key", &bare),
            row("indexed", "primary key + 4", &indexed),
        ],
    );
    let mut lines = vec![
        format!(
            "the same {} generated rows, inserted in one statement into each of two scratch \
             tables of big_users' shape ({BARE} and {INDEXED}):",
            group(rows as f64)
        ),
        format!(
            "only the primary key: {}; with four more: {} ({} the time)",
            crate::text::duration(bare.took),
            crate::text::duration(indexed.took),
            times(ratio)
        ),
        format!(
            "the four extra indexes: {}",
            listed(&INDEXES.map(|(_, what)| what.to_string()))
        ),
        format!(
            "each row written to the second table also went into 5 B-trees, in the leaf page \
             its key belongs on: the indexes take {} next to the table's {}",
            indexed.size.index_pretty, indexed.size.pretty
        ),
        "an index speeds up the reads that use it and slows down every write to its table: \
         keep the ones a query needs"
            .to_string(),
        "both scratch tables were dropped afterwards".to_string(),
    ];
    if ratio < 1.0 {
        lines.push(
            "this time the indexed insert was not slower: at small sizes the noise of one run \
             (a checkpoint, the cache) can hide the cost; try more rows"
                .to_string(),
        );
    }
    let lines = lines.iter().flat_map(|line| paragraph(line)).collect();
    let mut report = DemoReport::measured(
        format!("Write cost: {} with four more indexes", times(ratio)),
        lines,
        &measured,
        sessions,
    );
    report.table = Some(table);
    report.headline = Some(Headline {
        value: times(ratio),
        label: format!(
            "the time to insert {} rows with four more indexes (arithmetic: the ratio)",
            group(rows as f64)
        ),
    });
    Ok(report)
}

async fn measure(
    conn: &mut PgConnection,
    rows: i64,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<(Insert, Insert), Error> {
    drop_tables(conn).await?;
    for table in [BARE, INDEXED] {
        demo_data::create_big_users_table(conn, table).await?;
    }
    for (create, _) in INDEXES {
        sqlx::raw_sql(create)
            .execute(&mut *conn)
            .await
            .map_err(sql_error(DEMO, "indexing the scratch table"))?;
    }
    let bare = insert(conn, BARE, "only its primary key", rows, progress).await?;
    let indexed = insert(conn, INDEXED, "4 more indexes", rows, progress).await?;
    Ok((bare, indexed))
}

/// Inserts `rows` generated rows into `table`, timed.
async fn insert(
    conn: &mut PgConnection,
    table: &'static str,
    what: &str,
    rows: i64,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Insert, Error> {
    say(
        progress,
        format!(
            "inserting {} rows into {table} ({what})",
            group(rows as f64)
        ),
    );
    let started = Instant::now();
    demo_data::insert_big_users(conn, table, 1, rows, rows).await?;
    let took = started.elapsed();
    let size = demo_data::table_size(conn, table).await?;
    Ok(Insert { took, size })
}

async fn drop_tables(conn: &mut PgConnection) -> Result<(), Error> {
    for table in [BARE, INDEXED] {
        demo_data::drop_table_if_exists(conn, table).await?;
    }
    Ok(())
}
