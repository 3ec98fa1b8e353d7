//! `audit.read_logging`: what logging reads would cost, against logging writes only. One
//! visitor's session on Acme's blog (views of the front page, then one edit) runs twice on
//! the same connection: once as the lab logs (the trigger records the edit), once with
//! every row a page shows also written to an access log, the way read logging works. The
//! rows and bytes each way are counted in the database, and the access log's size on disk
//! measured. The views are not timed: at one visitor's scale the difference is smaller than
//! one run's noise, and the cost that grows with traffic is what is kept.
//!
//! Each request declares its actor first, as the lesson's application does, so the page
//! views are not a loop of one statement (which the lab's log would rightly call N+1). The
//! access log is a table of the lesson schema created inside a transaction that is rolled
//! back at the end, with the edits.

use super::*;
use crate::text::group;

const DEMO: &str = "audit.read_logging";
/// The access log the second run writes to; gone with the transaction.
const ACCESS_LOG: &str = "pglab_access_log";
/// Front-page views in one visitor's session.
const VIEWS: usize = 20;
/// The titles the two runs' edits give alice's roadmap.
const EDITS: [&str; 2] = ["Q1 roadmap (draft 2)", "Q1 roadmap (draft 3)"];

/// Acme's front page: its live posts, newest first.
const FRONT_PAGE: &str = "select id, title, author_id from posts
  where organization_id = $1 and deleted_at is null
  order by id desc";

/// The same page, with every row shown written to the access log in the same statement.
fn front_page_logged() -> String {
    format!(
        "with shown as (
    select id, title, author_id from posts
     where organization_id = $1 and deleted_at is null
     order by id desc
), logged as (
    insert into {ACCESS_LOG} (organization_id, actor_id, table_name, record_id, client_addr)
    select $1, current_setting('pglab.actor_id')::bigint, 'posts', id,
           nullif(current_setting('pglab.client_addr', true), '')::inet
      from shown
)
select id, title, author_id from shown"
    )
}

/// What one run of the session cost.
struct Run {
    /// Rows one page view showed.
    shown: usize,
    /// Rows written to the logs (the trigger's and, when reads are logged, the access log).
    log_rows: i64,
    /// Their size as stored, row by row (`pg_column_size`), without page or index overhead.
    log_bytes: i64,
}

pub(super) async fn read_logging(conn: &mut PgConnection, lab: &mut PgConnection) -> Outcome {
    let newest = newest_event(lab).await?;
    raw(conn, DEMO, "opening the demo's transaction", "begin").await?;
    let measured = async {
        raw(
            conn,
            DEMO,
            "creating the access log",
            &format!(
                "create table {ACCESS_LOG} (
                    id              bigint generated always as identity primary key,
                    organization_id bigint,
                    actor_id        bigint,
                    table_name      text not null,
                    record_id       bigint not null,
                    client_addr     inet,
                    viewed_at       timestamptz not null default clock_timestamp()
                )"
            ),
        )
        .await?;
        let writes_only = session(conn, false, EDITS[0], newest).await?;
        let mut reads_too = session(conn, true, EDITS[1], newest).await?;
        // The trigger's count covers both sessions: the second's is what it added.
        reads_too.log_rows -= writes_only.log_rows;
        reads_too.log_bytes -= writes_only.log_bytes;
        let on_disk: i64 = sqlx::query_scalar("select pg_total_relation_size($1::regclass)")
            .bind(ACCESS_LOG)
            .fetch_one(&mut *conn)
            .await
            .map_err(sql(DEMO, "measuring the access log"))?;
        Ok::<_, Error>((writes_only, reads_too, on_disk))
    }
    .await;
    let undone = raw(conn, DEMO, "rolling the session back", "rollback").await;
    let (writes_only, reads_too, on_disk) = measured?;
    undone?;

    let mut lines = para(&format!(
        "alice's session on Acme's blog, run twice: {VIEWS} views of the front page \
         ({} posts each), then one edit of her roadmap. Each request declares her as \
         the actor first.",
        writes_only.shown
    ));
    lines.push(String::new());
    lines.push(format!("{:<18} {:>9} {:>10}", "", "log rows", "row bytes"));
    for (label, run) in [
        ("writes only", &writes_only),
        ("reads logged too", &reads_too),
    ] {
        lines.push(format!(
            "{label:<18} {:>9} {:>10}",
            group(run.log_rows as f64),
            group(run.log_bytes as f64)
        ));
    }
    lines.push(String::new());
    // Arithmetic on the measured counts: what the reads added, per view.
    let per_view_rows = (reads_too.log_rows - writes_only.log_rows) as f64 / VIEWS as f64;
    let per_view_bytes = (reads_too.log_bytes - writes_only.log_bytes) as f64 / VIEWS as f64;
    lines.extend(para(&format!(
        "Logging reads wrote {} log rows per page view (one per post shown) and about {} \
         bytes: the difference between the two lines ÷ {VIEWS} views, arithmetic on the \
         measured counts. Logging writes wrote none per view: the edit's one event is the \
         whole log of the session.",
        group(per_view_rows),
        group(per_view_bytes)
    )));
    lines.push(String::new());
    lines.extend(para(&format!(
        "After this one session the access log took {} on disk, with its primary key.",
        size(on_disk)
    )));
    lines.push(String::new());
    lines.extend(para(
        "(Both runs ran inside a transaction the demo rolled back: the access log, the \
         two edits and their events are gone.)",
    ));
    Ok((
        format!(
            "Logging reads: {} log rows per page view instead of none",
            group(per_view_rows)
        ),
        lines,
    ))
}

/// One visitor session: [`VIEWS`] front-page views, each its own request, then one edit
/// titled `title`. Counts the trigger's events after event `newest` and the access log.
async fn session(
    conn: &mut PgConnection,
    log_reads: bool,
    title: &str,
    newest: i64,
) -> Result<Run, Error> {
    let logged = front_page_logged();
    let page = if log_reads {
        logged.as_str()
    } else {
        FRONT_PAGE
    };
    let mut shown = 0;
    for _ in 0..VIEWS {
        declare(conn, DEMO, actor(ALICE, ALICE_OFFICE)).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(page))
            .bind(ACME)
            .fetch_all(&mut *conn)
            .await
            .map_err(sql(DEMO, "showing the front page"))?;
        shown = rows.len();
    }
    declare(conn, DEMO, actor(ALICE, ALICE_OFFICE)).await?;
    exec(
        conn,
        "cannot retitle the post",
        "update posts set title = $1 where id = $2 and organization_id = $3",
        &[title],
        ROADMAP_POST,
    )
    .await?;
    let (log_rows, log_bytes) = log_rows(conn, log_reads, newest).await?;
    Ok(Run {
        shown,
        log_rows,
        log_bytes,
    })
}

/// Rows and bytes in the logs now: the trigger's events after event `newest`, and the
/// access log's rows when reads are logged.
async fn log_rows(
    conn: &mut PgConnection,
    log_reads: bool,
    newest: i64,
) -> Result<(i64, i64), Error> {
    let (events, event_bytes): (i64, i64) = sqlx::query_as(
        "select count(*), coalesce(sum(pg_column_size(e.*)), 0)::bigint
           from audit.events e where e.id > $1 and e.organization_id = $2",
    )
    .bind(newest)
    .bind(ACME)
    .fetch_one(&mut *conn)
    .await
    .map_err(sql(DEMO, "counting the trigger's events"))?;
    let (reads, read_bytes): (i64, i64) = if log_reads {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select count(*), coalesce(sum(pg_column_size(a.*)), 0)::bigint
               from {ACCESS_LOG} a where a.organization_id = $1"
        )))
        .bind(ACME)
        .fetch_one(&mut *conn)
        .await
        .map_err(sql(DEMO, "counting the access log"))?
    } else {
        (0, 0)
    };
    Ok((events + reads, event_bytes + read_bytes))
}
