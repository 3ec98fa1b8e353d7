//! `audit.indexes`: what makes the timeline fast. The indexes of `audit.events` as the
//! catalog lists them; the timeline's three questions (one record's history, one actor's
//! changes, the last hour) planned on the log as it is now; then on a copy of the log with
//! many generated events and the same indexes, built from the catalog's own definitions,
//! as planned and with index scans switched off.
//!
//! The copy is an ordinary table in the lesson schema, created inside a transaction that
//! is rolled back at the end: it behaves like the real log (shared buffers, statistics
//! from `analyze`), and nothing of it outlives the demo. Its name is unknown to the lint
//! when the demo's meter starts, so reading it without a tenant condition (as the timeline
//! reads the log) raises no warning.

use super::*;
use crate::app::audit::CAPACITY;
use crate::db::explain::{self as fetch, Analyze, Fetched, Planner, Timings};
use crate::explain::Plan;
use crate::explain::text::ms;
use crate::text::group;

const DEMO: &str = "audit.indexes";
/// The copy of the log the demo fills; created and dropped inside one transaction.
const COPY: &str = "pglab_events_copy";
/// How many events the copy holds, spread evenly over [`DAYS`] up to now.
const GENERATED: i64 = 100_000;
const DAYS: i64 = 90;
/// Timed runs behind each median.
const RUNS: usize = 5;

/// The timeline's questions, as its filter writes them (`db::audit::events`).
const QUESTIONS: [(&str, &str); 3] = [
    ("one record", "table_name = 'users' and record_id = 2"),
    ("one actor", "actor_id = 2"),
    ("the last hour", "occurred_at >= now() - interval '1 hour'"),
];

/// The timeline's read: newest first, at most as many events as it keeps.
fn timeline_query(table: &str, condition: &str) -> String {
    format!("select * from {table} where {condition} order by id desc limit {CAPACITY}")
}

/// One index of `audit.events`, from the catalog.
struct Index {
    name: String,
    columns: String,
    bytes: i64,
    /// `pg_get_indexdef`, aimed at the copy instead of the log.
    on_copy: String,
}

async fn catalog(lab: &mut PgConnection) -> Result<Vec<Index>, Error> {
    let rows: Vec<(String, String, i64, String)> = sqlx::query_as(
        "select c.relname::text,
                regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING [a-z]+ ', ''),
                pg_relation_size(i.indexrelid),
                replace(pg_get_indexdef(i.indexrelid), ' ON audit.events ', ' ON ' || $1 || ' ')
           from pg_index i
           join pg_class c on c.oid = i.indexrelid
          where i.indrelid = 'audit.events'::regclass
          order by i.indisprimary desc, c.relname",
    )
    .bind(COPY)
    .fetch_all(lab)
    .await
    .map_err(sql(DEMO, "reading the log's indexes from the catalog"))?;
    Ok(rows
        .into_iter()
        .map(|(name, columns, bytes, on_copy)| Index {
            name,
            columns,
            bytes,
            on_copy,
        })
        .collect())
}

pub(super) async fn indexes(
    conn: &mut PgConnection,
    lab: &mut PgConnection,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Outcome {
    let indexes = catalog(lab).await?;
    let (events, pages): (i64, i64) = sqlx::query_as(
        "select count(*), pg_relation_size('audit.events') / current_setting('block_size')::int
           from audit.events",
    )
    .fetch_one(&mut *lab)
    .await
    .map_err(sql(DEMO, "counting the log's events"))?;
    let mut lines = para(&format!(
        "audit.events holds {} event(s) in {}. Its indexes, from pg_index:",
        group(events as f64),
        pages_text(pages)
    ));
    lines.push(String::new());
    for index in &indexes {
        lines.push(clipped(&format!(
            "  {:<24} {:<30} {:>8}",
            index.name,
            index.columns,
            size(index.bytes)
        )));
    }
    lines.push(String::new());

    // The log as it is: the lab's own read, as the timeline makes it, around the proxy.
    lines.extend(para(
        "The timeline's three questions on audit.events as it is now, as planned:",
    ));
    for (label, condition) in QUESTIONS {
        let plan = explained(lab, &timeline_query("audit.events", condition)).await?;
        lines.push(clipped(&format!("  {label:<14} {}", scans(&plan.plan))));
    }
    lines.push(String::new());

    say(
        progress,
        format!(
            "filling a copy of the log with {} generated events",
            group(GENERATED as f64)
        ),
    );
    raw(conn, DEMO, "opening the copy's transaction", "begin").await?;
    let measured = on_copy(conn, &indexes, progress).await;
    // Whatever happened, nothing of the copy stays.
    let undone = raw(conn, DEMO, "rolling the copy back", "rollback").await;
    let (copy_pages, answers) = measured?;
    undone?;

    lines.extend(para(&format!(
        "The same questions on a copy with {} generated events over {DAYS} days ({}), \
         with the same indexes, built from their definitions above; the median of {RUNS} \
         runs each way:",
        group(GENERATED as f64),
        pages_text(copy_pages)
    )));
    lines.push(String::new());
    let mut speedups = Vec::new();
    for ((label, condition), answer) in QUESTIONS.iter().zip(&answers) {
        let rows = answer
            .planned
            .plan
            .root()
            .metrics
            .rows
            .map_or(0.0, |r| r.value);
        lines.push(clipped(&format!(
            "{label}: where {condition} ({} rows)",
            group(rows)
        )));
        lines.push(clipped(&format!(
            "  indexes    {}",
            scans(&answer.planned.plan)
        )));
        lines.push(format!(
            "             {}, {}",
            pages_text(total_pages(&answer.planned.plan)),
            ms(answer.planned_runs.median_ms)
        ));
        lines.push(clipped(&format!(
            "  no index   {}",
            scans(&answer.steered.plan)
        )));
        let speedup = answer.steered_runs.median_ms / answer.planned_runs.median_ms.max(0.001);
        speedups.push(speedup);
        lines.push(format!(
            "             {}, {}: {}",
            pages_text(total_pages(&answer.steered.plan)),
            ms(answer.steered_runs.median_ms),
            verdict(speedup)
        ));
    }
    lines.push(String::new());
    lines.extend(para(
        "(The copy was created and filled inside a transaction the demo rolled back: it is \
         gone, and audit.events was only read.)",
    ));
    let slowest = speedups.iter().copied().fold(f64::INFINITY, f64::min);
    let title = if slowest.is_finite() && slowest >= 1.0 {
        format!(
            "The timeline's indexes: every question at least {} faster",
            times(slowest)
        )
    } else {
        "The timeline's questions with and without indexes".to_string()
    };
    Ok((title, lines))
}

/// One question on the copy: as planned and with index scans off, each once with BUFFERS
/// and timed [`RUNS`] times.
struct Answer {
    planned: Fetched,
    planned_runs: Timings,
    steered: Fetched,
    steered_runs: Timings,
}

/// Fills the copy, builds the log's indexes on it, and answers each question both ways.
/// Returns the copy's size in pages and one answer per question.
async fn on_copy(
    conn: &mut PgConnection,
    indexes: &[Index],
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<(i64, Vec<Answer>), Error> {
    raw(
        conn,
        DEMO,
        "creating the copy",
        &format!("create table {COPY} (like audit.events including defaults)"),
    )
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(super::generated_events(
        COPY,
        "now() - make_interval(secs => ($1 - g) * ($2 * 86400.0 / $1))",
    )))
    .bind(GENERATED)
    .bind(DAYS)
    .execute(&mut *conn)
    .await
    .map_err(sql(DEMO, "filling the copy"))?;
    say(
        progress,
        "building the log's indexes on the copy, then analyze",
    );
    for index in indexes {
        raw(conn, DEMO, "building an index on the copy", &index.on_copy).await?;
    }
    raw(conn, DEMO, "analyzing the copy", &format!("analyze {COPY}")).await?;
    let (pages,): (i64,) = sqlx::query_as(
        "select pg_relation_size($1::regclass) / current_setting('block_size')::int",
    )
    .bind(COPY)
    .fetch_one(&mut *conn)
    .await
    .map_err(sql(DEMO, "measuring the copy"))?;

    let mut answers = Vec::new();
    for (label, condition) in QUESTIONS {
        say(
            progress,
            format!("{label}: as planned, then without indexes"),
        );
        let query = timeline_query(COPY, condition);
        let planned = explained(conn, &query).await?;
        let planned_runs = timed(conn, &query, Planner::AsIs).await?;
        let steered = steered(conn, &query).await?;
        let steered_runs = timed(conn, &query, Planner::NoIndexes).await?;
        answers.push(Answer {
            planned,
            planned_runs,
            steered,
            steered_runs,
        });
    }
    Ok((pages, answers))
}

async fn explained(conn: &mut PgConnection, query: &str) -> Result<Fetched, Error> {
    fetch::explain(conn, query, Analyze::Yes)
        .await
        .map_err(|cause| Error::Statement {
            demo: DEMO,
            step: "explaining a timeline question",
            cause: Box::new(cause),
        })
}

async fn timed(conn: &mut PgConnection, query: &str, planner: Planner) -> Result<Timings, Error> {
    fetch::compare_runs(conn, query, RUNS, planner)
        .await
        .map_err(|cause| Error::Statement {
            demo: DEMO,
            step: "timing a timeline question",
            cause: Box::new(cause),
        })
}

/// The plan with BUFFERS as it is without index scans: steered inside a savepoint, so the
/// settings end with it.
async fn steered(conn: &mut PgConnection, query: &str) -> Result<Fetched, Error> {
    raw(conn, DEMO, "steering the planner", "savepoint no_indexes").await?;
    for setting in Planner::NoIndexes.settings() {
        raw(conn, DEMO, "steering the planner", setting).await?;
    }
    let plan = explained(conn, query).await;
    raw(
        conn,
        DEMO,
        "letting the planner go",
        "rollback to savepoint no_indexes",
    )
    .await?;
    plan
}

/// How the plan reached its rows: its scans (kind and index, no table), then a Sort above
/// them if there is one.
fn scans(plan: &Plan) -> String {
    let leaves: Vec<String> = plan
        .nodes
        .iter()
        .filter(|node| node.children.is_empty())
        .map(|node| match &node.index_name {
            Some(index) => format!("{} using {index}", node.kind_label()),
            None => node.kind_label(),
        })
        .collect();
    let mut text = leaves.join(" + ");
    if plan.nodes.iter().any(|node| node.node_type == "Sort") {
        text.push_str(", then Sort");
    }
    text
}

/// Pages the whole plan looked at (the root's buffers include its children's).
fn total_pages(plan: &Plan) -> i64 {
    plan.root()
        .buffers
        .map_or(0, |buffers| buffers.pages_touched() as i64)
}

fn pages_text(pages: i64) -> String {
    match pages {
        1 => "1 page".to_string(),
        n => format!("{} pages", group(n as f64)),
    }
}

/// What the indexes did to one question, from the ratio of the medians (without ÷ with).
fn verdict(speedup: f64) -> String {
    if speedup >= 1.0 {
        format!("the indexes made it {} faster", times(speedup))
    } else {
        format!(
            "slower with the indexes ({} the time)",
            times(1.0 / speedup)
        )
    }
}

/// "490×" for large ratios, "3.7×" for small ones.
fn times(ratio: f64) -> String {
    if ratio >= 10.0 {
        format!("{}×", group(ratio))
    } else {
        format!("{ratio:.1}×")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ratios_read_plainly() {
        assert_eq!(times(489.6), "490×");
        assert_eq!(times(3.72), "3.7×");
        assert_eq!(pages_text(1), "1 page");
        assert_eq!(pages_text(2_041), "2,041 pages");
    }

    #[test]
    fn the_questions_are_the_timelines_read() {
        assert_eq!(
            timeline_query("audit.events", QUESTIONS[1].1),
            "select * from audit.events where actor_id = 2 order by id desc limit 500"
        );
    }
}
