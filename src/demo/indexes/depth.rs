//! `indexes.depth`: why an index lookup reads a few pages, measured instead of drawn. The
//! same lookup by primary key runs on scratch copies of the first hundred, ten thousand, …
//! rows of `big_users` and on `big_users` itself, each under `EXPLAIN (ANALYZE, BUFFERS)`;
//! the pages each one read sit beside the size of each index. The index grows with the
//! table, the pages a lookup reads grow by one per level of the tree, and a level is added
//! only when the rows have grown by as much as one page of the tree holds entries.
//!
//! The learner's role cannot read a B-tree's metapage (`pageinspect` is a superuser's tool),
//! so the depth is read off the lookup itself: an Index Scan that finds one row reads one
//! page per level, then the row's page of the table. The scratch tables are created inside a
//! transaction the demo rolls back, so nothing of them outlives it, and sequential and
//! bitmap scans are switched off in it (`set local`), so that even the hundred-row table is
//! read through its tree, which its planner would rightly skip.

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::{listed, long_connection, paragraph, say, sql_error, statement_error, times};
use crate::data::demo::{DemoProgress, DemoReport, Headline};
use crate::db::demo_data::BIG_USERS;
use crate::db::explain::{self as fetch, Analyze};
use crate::demo::meter::Meter;
use crate::demo::params;
use crate::demo::{DemoContext, Error};
use crate::text::group;

const DEMO: &str = "indexes.depth";
const DEFAULT_SIZES: [i64; 3] = [100, 10_000, 100_000];

/// One table's lookup.
struct Lookup {
    table: String,
    index: String,
    rows: i64,
    index_pages: i64,
    /// The Index Scan's pages, as its `Buffers` count them.
    pages_read: u64,
}

pub(super) async fn run(
    ctx: &DemoContext,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let mut sizes = params::ints(params, "sizes").unwrap_or_else(|| DEFAULT_SIZES.to_vec());
    sizes.sort_unstable();
    sizes.dedup();
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut conn = long_connection(&mut meter, DEMO, "pglab demo: tree depth").await?;
    let (lookups, measured) = meter
        .measure(
            DEMO,
            super::super::rolled_back(
                &mut conn,
                DEMO,
                "rolling back the scratch tables",
                async |conn| measure(conn, &sizes, progress).await,
            ),
        )
        .await;
    let _ = sqlx::Connection::close(conn).await;
    let sessions = meter.finish().await;
    let lookups = lookups?;

    let mut lines = paragraph(
        "One lookup by primary key, of the middle row, on each table under EXPLAIN \
         (ANALYZE, BUFFERS), run twice: the second run is counted, since a first run also \
         reads pages outside the tree (the index's metapage). The scratch tables are copies \
         of the first rows of big_users, made in a transaction that was rolled back.",
    );
    lines.push(String::new());
    lines.extend(table_lines(&lookups));
    lines.extend(paragraph(
        "lookup read: the Buffers of that Index Scan (measured). tree levels: those pages \
         less one, the page of the table the row is on (arithmetic).",
    ));
    lines.push(String::new());
    for pair in lookups.windows(2) {
        let (small, big) = (&pair[0], &pair[1]);
        let more = big.pages_read as i64 - small.pages_read as i64;
        let change = match more {
            0 => "the same pages".to_string(),
            1 => "one page more".to_string(),
            n if n > 1 => format!("{n} pages more"),
            n => format!("{} fewer", crate::text::plural(-n as f64, "page", "pages")),
        };
        lines.extend(paragraph(&format!(
            "{} → {} rows ({} as many, arithmetic): {change}",
            group(small.rows as f64),
            group(big.rows as f64),
            times(big.rows as f64 / small.rows.max(1) as f64)
        )));
    }
    if let Some(largest) = lookups.last() {
        lines.push(String::new());
        let per_page = largest.rows as f64 / largest.index_pages.max(1) as f64;
        let reach: Vec<String> = (1..=lookups.last().map_or(1, |l| l.pages_read.max(2) - 1))
            .map(|levels| {
                format!(
                    "{} with {}",
                    group(three_figures(per_page.powi(levels as i32))),
                    crate::text::plural(levels as f64, "level", "levels")
                )
            })
            .collect();
        lines.extend(paragraph(&format!(
            "{} holds {} entries in {}: about {} per page (arithmetic). Each level of the \
             tree multiplies the rows it can reach by about that many: about {} \
             (arithmetic, the per-page figure to the power of the levels). A lookup reads \
             one page more only when the rows pass the next of these.",
            largest.index,
            group(largest.rows as f64),
            crate::text::plural(largest.index_pages as f64, "page", "pages"),
            group(per_page),
            listed(&reach),
        )));
    }
    let title = match (lookups.first(), lookups.last()) {
        (Some(first), Some(last)) => format!(
            "{} rows: {} per lookup; {} rows: {}",
            group(first.rows as f64),
            crate::text::plural(first.pages_read as f64, "page", "pages"),
            group(last.rows as f64),
            crate::text::plural(last.pages_read as f64, "page", "pages")
        ),
        _ => "No table to look up".to_string(),
    };
    let mut report = DemoReport::measured(title, lines, &measured, sessions);
    report.headline = lookups.last().map(|last| Headline {
        value: group(last.pages_read as f64),
        label: format!(
            "{} per lookup in {} rows",
            if last.pages_read == 1 {
                "page"
            } else {
                "pages"
            },
            group(last.rows as f64)
        ),
    });
    Ok(report)
}

/// `value` rounded to three significant figures: 132,714 → 133,000. An estimate labelled
/// "about" should not carry digits it does not have.
fn three_figures(value: f64) -> f64 {
    if value < 1000.0 {
        return value.round();
    }
    let scale = 10f64.powi(value.log10().floor() as i32 - 2);
    (value / scale).round() * scale
}

/// The lookups as an aligned table, in the report's lines so that the sentences about it
/// can follow it.
fn table_lines(lookups: &[Lookup]) -> Vec<String> {
    let name_width = lookups
        .iter()
        .map(|lookup| lookup.table.len())
        .max()
        .unwrap_or(0)
        .max("table".len());
    let row = |cells: [&str; 5]| {
        format!(
            "{:<name_width$}  {:>9}  {:>11}  {:>11}  {:>11}",
            cells[0], cells[1], cells[2], cells[3], cells[4]
        )
    };
    let mut lines = vec![row([
        "table",
        "rows",
        "index pages",
        "lookup read",
        "tree levels",
    ])];
    for lookup in lookups {
        lines.push(row([
            &lookup.table,
            &group(lookup.rows as f64),
            &group(lookup.index_pages as f64),
            &crate::text::plural(lookup.pages_read as f64, "page", "pages"),
            &group(lookup.pages_read.saturating_sub(1) as f64),
        ]));
    }
    lines
}

async fn measure(
    conn: &mut PgConnection,
    sizes: &[i64],
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Vec<Lookup>, Error> {
    let big_rows: i64 = sqlx::query_scalar("select count(*) from big_users")
        .fetch_one(&mut *conn)
        .await
        .map_err(sql_error(DEMO, "counting the rows of big_users"))?;
    for setting in [
        "set local enable_seqscan = off",
        "set local enable_bitmapscan = off",
    ] {
        sqlx::raw_sql(setting)
            .execute(&mut *conn)
            .await
            .map_err(sql_error(DEMO, "steering the planner to the index"))?;
    }
    let mut tables = Vec::new();
    // Only sizes below big_users' own: a copy of all of it would say nothing new.
    for &rows in sizes.iter().filter(|&&rows| rows < big_rows) {
        let table = format!("pglab_depth_{rows}");
        say(
            progress,
            format!("copying {} rows into {table}", group(rows as f64)),
        );
        // The name is made here from a number; the size is bound.
        let copy =
            format!("create table {table} as select * from big_users where id <= $1 order by id");
        let copied = sqlx::query(sqlx::AssertSqlSafe(copy))
            .bind(rows)
            .execute(&mut *conn)
            .await
            .map_err(sql_error(DEMO, "copying rows into a scratch table"))?
            .rows_affected();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "alter table {table} add constraint {table}_pkey primary key (id)"
        )))
        .execute(&mut *conn)
        .await
        .map_err(sql_error(DEMO, "giving the scratch table its primary key"))?;
        tables.push((table, copied as i64));
    }
    tables.push((BIG_USERS.to_string(), big_rows));
    let mut lookups = Vec::new();
    for (table, rows) in tables {
        say(progress, format!("looking up the middle row of {table}"));
        lookups.push(lookup(conn, &table, rows).await?);
    }
    Ok(lookups)
}

/// The middle row of `table` (a name made by this demo) by id, looked up twice; the
/// second run's Index Scan.
async fn lookup(conn: &mut PgConnection, table: &str, rows: i64) -> Result<Lookup, Error> {
    // The first id from halfway between the smallest and the largest: a row that exists,
    // found through the index itself.
    let facts = format!(
        "select (select id from {table}
                  where id >= (select (min(id) + max(id)) / 2 from {table})
                  order by id limit 1),
                i.indexrelid::regclass::text,
                pg_relation_size(i.indexrelid) / current_setting('block_size')::bigint
           from pg_index i
          where i.indrelid = $1::regclass and i.indisprimary"
    );
    let (middle, index, index_pages): (Option<i64>, String, i64) =
        sqlx::query_as(sqlx::AssertSqlSafe(facts))
            .bind(table)
            .fetch_one(&mut *conn)
            .await
            .map_err(sql_error(
                DEMO,
                "reading the table's primary key and its size",
            ))?;
    let key = middle.unwrap_or(1);
    let sql = format!("select * from {table} where id = {key}");
    let mut scan_pages = 0;
    // The first run reads the metapage and the catalog; the second reads the tree alone.
    for _ in 0..2 {
        let fetched = fetch::explain(conn, &sql, Analyze::Yes)
            .await
            .map_err(statement_error(DEMO, "explaining the lookup"))?;
        scan_pages = fetched
            .plan
            .nodes
            .iter()
            .find(|node| node.index_name.as_deref() == Some(index.as_str()))
            .and_then(|node| node.buffers)
            .map_or(0, |buffers| buffers.pages_touched());
    }
    Ok(Lookup {
        table: table.to_string(),
        index,
        rows,
        index_pages,
        pages_read: scan_pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_keep_three_figures() {
        assert_eq!(three_figures(364.3), 364.0);
        assert_eq!(three_figures(132_714.0), 133_000.0);
        assert_eq!(three_figures(48_347_381.0), 48_300_000.0);
    }
}
