//! `indexes.create`: runs a lesson's `CREATE INDEX` on one connection while a second one
//! polls `pg_stat_progress_create_index` for the first one's backend, so the learner sees the
//! build go through its phases (scan the table, sort, load the tree) instead of a pause.
//!
//! The index is named in the statement (checked when the lesson loads), so a second run finds
//! the first run's index and drops it before building again: re-running a step always shows
//! a build, never "already exists".

use std::time::{Duration, Instant};

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::{long_connection, paragraph, say, sql_error};
use crate::data::demo::{DemoProgress, DemoReport, Headline};
use crate::db::demo_data;
use crate::demo::meter::Meter;
use crate::demo::params::{self, CreateIndex};
use crate::demo::{DemoContext, Error};

const DEMO: &str = "indexes.create";
const DEFAULT_SQL: &str = "create index big_users_email_idx on big_users (email)";
/// How often the watcher asks for the build's progress: often enough to catch the phases of
/// a build that takes a second, rarely enough to cost the server nothing.
const POLL_EVERY: Duration = Duration::from_millis(50);

/// One sample of `pg_stat_progress_create_index`.
#[derive(Debug, sqlx::FromRow)]
struct Sample {
    phase: String,
    blocks_total: i64,
    blocks_done: i64,
    tuples_total: i64,
    tuples_done: i64,
}

impl Sample {
    /// The phase without the "building index: " every build phase starts with.
    fn short_phase(&self) -> &str {
        self.phase
            .strip_prefix("building index: ")
            .unwrap_or(&self.phase)
    }

    /// "61% of blocks" while the table is read, "40% of tuples" while the tree is loaded.
    fn done(&self) -> Option<String> {
        let percent = |done: i64, total: i64| done as f64 * 100.0 / total as f64;
        if self.phase.contains("scanning table") && self.blocks_total > 0 {
            Some(format!(
                "{:.0}% of blocks",
                percent(self.blocks_done, self.blocks_total)
            ))
        } else if self.tuples_total > 0 {
            Some(format!(
                "{:.0}% of tuples",
                percent(self.tuples_done, self.tuples_total)
            ))
        } else {
            None
        }
    }
}

struct Built {
    rebuilt: bool,
    took: Duration,
    /// Phases in the order first seen.
    phases: Vec<String>,
    polls: u64,
    index_size: String,
    index_bytes: i64,
    table_size: demo_data::TableSize,
}

pub(super) async fn run(
    ctx: &DemoContext,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let sql = params::text(params, "sql").unwrap_or(DEFAULT_SQL);
    let target = params::create_index(sql)
        .map_err(|why| Error::BadParams(format!("demo `{DEMO}`: parameter `sql` {why}")))?;
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut builder = long_connection(&mut meter, DEMO, "pglab demo: create index").await?;
    let mut watcher = meter.connect("pglab demo: index progress").await?;
    let (built, measured) = meter
        .measure(
            DEMO,
            build(&mut builder, &mut watcher, sql, &target, progress),
        )
        .await;
    let _ = sqlx::Connection::close(builder).await;
    let _ = sqlx::Connection::close(watcher).await;
    let sessions = meter.finish().await;
    let built = built?;

    let CreateIndex { index, table } = &target;
    let mut lines = Vec::new();
    if built.rebuilt {
        lines.push(format!(
            "rebuilt: {index} existed from an earlier run, so it was dropped first"
        ));
    }
    lines.push(format!(
        "built {index} on {table} in {}",
        crate::text::duration(built.took)
    ));
    lines.push(if built.phases.is_empty() {
        format!(
            "no phase seen: the build was over before the first of {} looks at its progress \
             ({} ms apart)",
            built.polls,
            POLL_EVERY.as_millis()
        )
    } else {
        format!(
            "phases seen by a second connection, looking every {} ms: {}",
            POLL_EVERY.as_millis(),
            built.phases.join(" → ")
        )
    });
    let share = built.index_bytes as f64 * 100.0 / built.table_size.bytes.max(1) as f64;
    lines.push(format!(
        "the index takes {}; the table {table} takes {} (the index is {share:.0}% of that)",
        built.index_size, built.table_size.pretty
    ));
    lines.push(
        "from now on every insert into the table, and every update of an indexed column, \
         writes this index too ({step:indexes.write_cost} measures what that costs)"
            .to_string(),
    );
    let lines = lines.iter().flat_map(|line| paragraph(line)).collect();
    let took = crate::text::duration(built.took);
    let mut report = DemoReport::measured(
        format!("{index}: built in {took}"),
        lines,
        &measured,
        sessions,
    );
    report.headline = Some(Headline {
        value: took,
        label: format!("to build {index} on {table}"),
    });
    Ok(report)
}

async fn build(
    builder: &mut PgConnection,
    watcher: &mut PgConnection,
    sql: &str,
    target: &CreateIndex,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Built, Error> {
    let pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&mut *builder)
        .await
        .map_err(sql_error(
            DEMO,
            "reading the building connection's process id",
        ))?;
    let rebuilt = drop_earlier(builder, target).await?;
    say(progress, format!("building {}", target.index));
    let (created, took, phases, polls) =
        watched(builder, watcher, sql, pid, target, progress).await;
    created.map_err(sql_error(DEMO, "building the index"))?;
    let (index_bytes, index_size) = demo_data::index_size(builder, &target.index).await?;
    let table_size = demo_data::table_size(builder, &target.table).await?;
    Ok(Built {
        rebuilt,
        took,
        phases,
        polls,
        index_size,
        index_bytes,
        table_size,
    })
}

/// Runs `sql` on `builder` and, until it returns, samples its progress from `watcher`:
/// the result, the time it took, the phases in the order first seen and how many looks.
async fn watched(
    builder: &mut PgConnection,
    watcher: &mut PgConnection,
    sql: &str,
    pid: i32,
    target: &CreateIndex,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> (sqlx::Result<()>, Duration, Vec<String>, u64) {
    let mut phases: Vec<String> = Vec::new();
    let mut polls = 0;
    let started = Instant::now();
    // The lesson's own statement, checked to be one CREATE INDEX when the lesson loaded; the
    // simple protocol lets it be CONCURRENTLY too.
    let create = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut *builder);
    let mut create = std::pin::pin!(create);
    let mut ticker = tokio::time::interval(POLL_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let created = loop {
        tokio::select! {
            biased;
            created = &mut create => break created,
            _ = ticker.tick() => {
                polls += 1;
                // A failed look is a missed frame, not a failed build.
                let Ok(Some(sample)) = sqlx::query_as::<_, Sample>(
                    "select phase, blocks_total, blocks_done, tuples_total, tuples_done
                       from pg_stat_progress_create_index
                      where pid = $1",
                )
                .bind(pid)
                .fetch_optional(&mut *watcher)
                .await else {
                    continue;
                };
                let phase = sample.short_phase().to_string();
                let done = sample.done().map_or_else(String::new, |d| format!(", {d}"));
                say(progress, format!("building {}: {phase}{done}", target.index));
                if !phases.contains(&phase) {
                    phases.push(phase);
                }
            }
        }
    };
    (created.map(|_| ()), started.elapsed(), phases, polls)
}

/// Drops an index of the target's name left on the same table by an earlier run; refuses to
/// touch one of that name on another table. Whether there was one.
async fn drop_earlier(conn: &mut PgConnection, target: &CreateIndex) -> Result<bool, Error> {
    let same_table: Option<Option<bool>> = sqlx::query_scalar(
        "select i.indrelid = to_regclass($2)
           from pg_index i
          where i.indexrelid = to_regclass($1)",
    )
    .bind(&target.index)
    .bind(&target.table)
    .fetch_optional(&mut *conn)
    .await
    .map_err(sql_error(DEMO, "looking for an index of that name"))?;
    match same_table {
        None => Ok(false),
        Some(Some(true)) => {
            // The name as the lesson wrote it, quotes and all, parsed by sqlparser as one
            // object name: it cannot carry a second statement.
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("drop index {}", target.index)))
                .execute(conn)
                .await
                .map_err(sql_error(DEMO, "dropping the earlier run's index"))?;
            Ok(true)
        }
        Some(_) => Err(Error::Refused {
            demo: DEMO,
            why: format!(
                "an index named {} already exists on another table than {}; \
                 give the lesson's index another name",
                target.index, target.table
            ),
        }),
    }
}
