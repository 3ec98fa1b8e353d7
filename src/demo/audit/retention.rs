//! `audit.retention`: an audit log past its retention period, cleared two ways on two
//! copies of the log filled with the same generated events. On a plain table the old events
//! are moved to an archive table with `DELETE … RETURNING`; on a table partitioned by month
//! the oldest month is detached (a table of its own from then on), exported with `COPY`,
//! and dropped. Each step is timed and the tables measured before and after.
//!
//! `audit.events` itself is neither: its triggers refuse every `DELETE`, which is why a log
//! meant to be kept for years is partitioned from the start, and its owner detaches months.
//! Every table here is of the lesson schema and created inside a transaction the demo rolls
//! back at the end.

use std::time::{Duration, Instant};

use futures::TryStreamExt;

use super::*;
use crate::text::group;

const DEMO: &str = "audit.retention";
/// How many events each copy holds, spread evenly from the first kept month's start to now.
const GENERATED: i64 = 40_000;
/// Months of partitions: this one and the three before it.
const MONTHS: i64 = 4;
const FLAT: &str = "pglab_events_flat";
const ARCHIVE: &str = "pglab_events_archive";
const BY_MONTH: &str = "pglab_events_by_month";

/// One month's partition: its name and bounds (`YYYY-MM-DD`, the next month's first day
/// exclusive).
struct Month {
    table: String,
    from: String,
    to: String,
}

pub(super) async fn retention(
    conn: &mut PgConnection,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Outcome {
    raw(conn, DEMO, "opening the demo's transaction", "begin").await?;
    let measured = copies(conn, progress).await;
    let undone = raw(conn, DEMO, "rolling the copies back", "rollback").await;
    let lines = measured?;
    undone?;
    Ok((
        "Retention: an archive by DELETE, or a month detached".to_string(),
        lines,
    ))
}

async fn copies(
    conn: &mut PgConnection,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Vec<String>, Error> {
    let months: Vec<(String, String, String)> = sqlx::query_as(
        "select 'pglab_events_' || to_char(m, 'YYYY_MM'),
                to_char(m, 'YYYY-MM-DD'),
                to_char(m + interval '1 month', 'YYYY-MM-DD')
           from generate_series(date_trunc('month', now()) - make_interval(months => $1 - 1),
                                date_trunc('month', now()), interval '1 month') m
          order by m",
    )
    .bind(MONTHS as i32)
    .fetch_all(&mut *conn)
    .await
    .map_err(sql(DEMO, "naming the months"))?;
    let months: Vec<Month> = months
        .into_iter()
        .map(|(table, from, to)| Month { table, from, to })
        .collect();
    let (Some(oldest), Some(first_kept)) = (months.first(), months.get(1)) else {
        return Err(Error::Refused {
            demo: DEMO,
            why: "fewer than two months to partition by".to_string(),
        });
    };

    say(
        progress,
        format!(
            "filling two copies of the log with {} generated events",
            group(GENERATED as f64)
        ),
    );
    for table in [FLAT, ARCHIVE] {
        raw(
            conn,
            DEMO,
            "creating a plain copy",
            &format!("create table {table} (like audit.events including defaults)"),
        )
        .await?;
    }
    raw(
        conn,
        DEMO,
        "creating the partitioned copy",
        &format!(
            "create table {BY_MONTH} (like audit.events including defaults) \
             partition by range (occurred_at)"
        ),
    )
    .await?;
    for month in &months {
        // Names and dates come from the query above, never from input.
        raw(
            conn,
            DEMO,
            "creating a month's partition",
            &format!(
                "create table {} partition of {BY_MONTH} for values from ('{}') to ('{}')",
                month.table, month.from, month.to
            ),
        )
        .await?;
    }
    sqlx::query(sqlx::AssertSqlSafe(super::generated_events(
        FLAT,
        "$2::timestamptz + (now() - $2::timestamptz) * (g::float8 / $1)",
    )))
    .bind(GENERATED)
    .bind(&oldest.from)
    .execute(&mut *conn)
    .await
    .map_err(sql(DEMO, "filling the plain copy"))?;
    raw(
        conn,
        DEMO,
        "filling the partitioned copy",
        &format!("insert into {BY_MONTH} select * from {FLAT}"),
    )
    .await?;

    let mut lines = para(&format!(
        "Two copies of an audit log, each with the same {} generated events from {} to \
         now: one a plain table, one partitioned by month. The demo's retention policy: \
         keep this month and the {} before it, so the events before {} leave the log.",
        group(GENERATED as f64),
        oldest.from,
        months.len() - 2,
        first_kept.from
    ));
    lines.push(String::new());

    // 1. The plain table: the old rows moved out one by one.
    let flat_before = relation_bytes(conn, FLAT).await?;
    let started = Instant::now();
    let moved = sqlx::query(sqlx::AssertSqlSafe(format!(
        "with moved as (delete from {FLAT} where occurred_at < $1::timestamptz returning *)
         insert into {ARCHIVE} select * from moved"
    )))
    .bind(&first_kept.from)
    .execute(&mut *conn)
    .await
    .map_err(sql(DEMO, "moving the old events to the archive"))?
    .rows_affected();
    let took = started.elapsed();
    let flat_after = relation_bytes(conn, FLAT).await?;
    lines.push(format!("1. A plain table, {FLAT} ({}):", size(flat_before)));
    lines.push(format!("   > with moved as (delete from {FLAT}"));
    lines.push(format!(
        "                    where occurred_at < '{}' returning *)",
        first_kept.from
    ));
    lines.push(format!("     insert into {ARCHIVE} select * from moved"));
    lines.push(format!(
        "     {} rows moved in {}",
        group(moved as f64),
        crate::text::duration(took)
    ));
    lines.extend(para_under(
        &format!(
            "   {FLAT} still takes {} on disk ({} before the move): a deleted row stays \
             in its page until VACUUM clears it, and deleting it was a write.",
            size(flat_after),
            size(flat_before)
        ),
        "   ",
    ));
    lines.push(String::new());

    // 2. The partitioned table: the oldest month detached, exported, dropped.
    lines.extend(para_under(
        &format!("2. Partitioned by month, {BY_MONTH}: its partitions, from pg_partition_tree:"),
        "   ",
    ));
    let before = partitions(conn).await?;
    let before_bytes: i64 = before.iter().map(|(_, _, b)| b).sum();
    for (table, rows, bytes) in before {
        lines.push(format!(
            "   {table:<24} {:>8} rows {:>10}",
            group(rows as f64),
            size(bytes)
        ));
    }
    let detach = format!("alter table {BY_MONTH} detach partition {}", oldest.table);
    let took = timed(conn, "detaching the oldest month", &detach).await?;
    let (log_rows, month_rows): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select (select count(*) from {BY_MONTH}), (select count(*) from {})",
        oldest.table
    )))
    .fetch_one(&mut *conn)
    .await
    .map_err(sql(DEMO, "counting after the detach"))?;
    lines.push(format!("   > alter table {BY_MONTH}"));
    lines.push(format!("       detach partition {}", oldest.table));
    lines.extend(para_under(
        &format!(
            "     {}: the log now holds {} events; the month's {} are a table of their own",
            crate::text::duration(took),
            group(log_rows as f64),
            group(month_rows as f64)
        ),
        "     ",
    ));
    let started = Instant::now();
    let (rows, bytes) = export(conn, &oldest.table).await?;
    let took = started.elapsed();
    lines.push(format!(
        "   > copy {} to stdout   (the export to cheap storage)",
        oldest.table
    ));
    lines.push(format!(
        "     {} rows, {} in {}",
        group(rows as f64),
        size(bytes),
        crate::text::duration(took)
    ));
    let drop = format!("drop table {}", oldest.table);
    let took = timed(conn, "dropping the exported month", &drop).await?;
    let left: i64 = partitions(conn).await?.iter().map(|(_, _, b)| b).sum();
    lines.push(format!("   > {drop}"));
    lines.push(format!(
        "     {}: the partitions now take {} on disk ({} before)",
        crate::text::duration(took),
        size(left),
        size(before_bytes)
    ));
    lines.push(String::new());
    lines.extend(para(
        "(The three tables and their partitions were created inside a transaction the \
         demo rolled back: all of it is gone. audit.events was not touched.)",
    ));
    Ok(lines)
}

/// Runs one statement of the demo's own and times it from the client.
async fn timed(conn: &mut PgConnection, step: &'static str, text: &str) -> Result<Duration, Error> {
    let started = Instant::now();
    raw(conn, DEMO, step, text).await?;
    Ok(started.elapsed())
}

/// A table's size on disk, its main fork.
async fn relation_bytes(conn: &mut PgConnection, table: &str) -> Result<i64, Error> {
    sqlx::query_scalar("select pg_relation_size($1::regclass)")
        .bind(table)
        .fetch_one(conn)
        .await
        .map_err(sql(DEMO, "measuring a table"))
}

/// Each partition of the partitioned copy: its name, rows and size.
async fn partitions(conn: &mut PgConnection) -> Result<Vec<(String, i64, i64)>, Error> {
    let tables: Vec<(String, i64)> = sqlx::query_as(
        "select relid::text, pg_relation_size(relid)
           from pg_partition_tree($1::regclass)
          where isleaf
          order by relid::text",
    )
    .bind(BY_MONTH)
    .fetch_all(&mut *conn)
    .await
    .map_err(sql(DEMO, "listing the partitions"))?;
    let mut out = Vec::new();
    for (table, bytes) in tables {
        // The name comes from the catalog: one of the demo's own partitions.
        let rows: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
                .fetch_one(&mut *conn)
                .await
                .map_err(sql(DEMO, "counting a partition"))?;
        out.push((table, rows, bytes));
    }
    Ok(out)
}

/// `COPY table TO STDOUT`, read to the end: rows (lines) and bytes received.
async fn export(conn: &mut PgConnection, table: &str) -> Result<(i64, i64), Error> {
    let mut stream = conn
        .copy_out_raw(&format!("copy {table} to stdout"))
        .await
        .map_err(sql(DEMO, "exporting the detached month"))?;
    let (mut rows, mut bytes) = (0i64, 0i64);
    while let Some(chunk) = stream
        .try_next()
        .await
        .map_err(sql(DEMO, "reading the export"))?
    {
        bytes += chunk.len() as i64;
        rows += chunk.iter().filter(|b| **b == b'\n').count() as i64;
    }
    Ok((rows, bytes))
}
