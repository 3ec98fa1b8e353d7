//! `indexes.foreign_key`: a foreign key makes PostgreSQL index the referenced side (the
//! primary key) but not the referencing one, and both a delete on the referenced table and a
//! join on the key read the referencing table to find its rows.
//!
//! Inside one transaction, rolled back at the end so nothing outlives the demo: `big_posts`
//! is created with generated posts by the first half of `big_users` (so the newest users
//! have written nothing) and a foreign key on `author_id`. Then, without an index on
//! `author_id` and again with one: the newest user is deleted under `EXPLAIN (ANALYZE,
//! BUFFERS)` and timed (the foreign-key check finds no post, which only an index can tell
//! without reading them all), with `pg_stat_xact_user_tables` saying how the check read
//! `big_posts`; and one author's posts are joined to them, planned and timed. The deletes run
//! in savepoints that `db::explain` rolls back, so the user is still there for the next one.

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::{diffed, long_connection, paragraph, say, sql_error, statement_error, times};
use crate::data::demo::{DemoProgress, DemoReport};
use crate::db::explain::{self as fetch, Analyze, Planner};
use crate::demo::meter::Meter;
use crate::demo::params;
use crate::demo::table_reads::{Reads, scans};
use crate::demo::{DemoContext, Error};
use crate::explain::Plan;
use crate::explain::text::ms;
use crate::text::group;

const DEMO: &str = "indexes.foreign_key";
const DEFAULT_POSTS: i64 = 500_000;
/// Timed runs per statement and index state, for the medians.
const RUNS: usize = 5;
const POSTS: &str = "big_posts";
const INDEX: &str = "big_posts_author_id_idx";
const BEFORE: &str = "no index on author_id";

/// The delete and the join, measured once without the index and once with it.
struct Measured {
    delete: Plan,
    delete_ms: f64,
    check: Reads,
    join: Plan,
    join_ms: f64,
}

pub(super) async fn run(
    ctx: &DemoContext,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let posts = params::int(params, "posts").unwrap_or(DEFAULT_POSTS);
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut conn = long_connection(&mut meter, DEMO, "pglab demo: foreign key").await?;
    let (result, metered) = meter
        .measure(
            DEMO,
            super::super::rolled_back(&mut conn, DEMO, "rolling back big_posts", async |conn| {
                measure(conn, posts, progress).await
            }),
        )
        .await;
    let _ = sqlx::Connection::close(conn).await;
    let sessions = meter.finish().await;
    let (setup, without, with) = result?;

    let mut lines = paragraph(&format!(
        "{POSTS}: {} posts by users 1 to {}, with a foreign key author_id → big_users (id). \
         User {} signed up last and has written nothing. Deleting them, the foreign-key \
         check must make sure no post points at them.",
        group(setup.posts as f64),
        group(setup.authors as f64),
        group(setup.newest as f64),
    ));
    lines.push(String::new());
    lines.extend(paragraph(
        "The two plans have the same nodes: the check is not one of them. It is a trigger \
         that runs after the plan, once per deleted row, and looks for posts by that user. \
         EXPLAIN ANALYZE prints its time under the plan; how it read big_posts comes from \
         the statistics PostgreSQL keeps for the transaction (pg_stat_xact_user_tables). \
         The index is big_posts_author_id_idx, on big_posts (author_id).",
    ));
    lines.push(String::new());
    let columns =
        |label: &str, before: String, after: String| format!("{label:<27}{before:<20}{after}");
    lines.push(columns("", "no index".into(), "with the index".into()));
    lines.push(columns(
        "the check took",
        trigger_ms(&without.delete),
        trigger_ms(&with.delete),
    ));
    lines.push(columns(
        "seq scans of big_posts",
        scans(without.check.seq_scan, Some(without.check.seq_tup_read)),
        scans(with.check.seq_scan, Some(with.check.seq_tup_read)),
    ));
    lines.push(columns(
        "index scans of big_posts",
        scans(without.check.idx_scan, None),
        scans(with.check.idx_scan, None),
    ));
    lines.push(columns(
        "delete, the analyzed run",
        without
            .delete
            .execution_ms
            .map_or_else(|| "—".to_string(), ms),
        with.delete.execution_ms.map_or_else(|| "—".to_string(), ms),
    ));
    lines.push(columns(
        &format!("delete, median of {RUNS}"),
        ms(without.delete_ms),
        ms(with.delete_ms),
    ));
    lines.push(String::new());
    lines.extend(paragraph(
        "One author's posts with their author, a join on the foreign key:",
    ));
    lines.push(format!(
        "  select p.id, p.title from big_users u join {POSTS} p"
    ));
    lines.push(format!(
        "    on p.author_id = u.id where u.id = {}",
        setup.author
    ));
    lines.push(columns("", "no index".into(), "with the index".into()));
    lines.push(columns(
        "big_posts read by",
        posts_scan(&without.join),
        posts_scan(&with.join),
    ));
    lines.push(columns(
        "pages, the whole join",
        pages(&without.join),
        pages(&with.join),
    ));
    lines.push(columns(
        &format!("join, median of {RUNS}"),
        ms(without.join_ms),
        ms(with.join_ms),
    ));
    lines.push(String::new());
    lines.extend(paragraph(&format!(
        "By the medians, the index made the delete {} and the join {} (arithmetic); the \
         plan diff divides the analyzed runs instead, which read the clock at every node. \
         PostgreSQL indexes a primary key by itself, never the column that refers to it: \
         that index is yours to create. Everything here was rolled back: {POSTS} and its \
         index are gone, and user {} is still there.",
        speed(without.delete_ms, with.delete_ms),
        speed(without.join_ms, with.join_ms),
        group(setup.newest as f64),
    )));
    let title = format!(
        "Deleting a user: {} without an index on author_id, {} with one",
        ms(without.delete_ms),
        ms(with.delete_ms)
    );
    let mut report = DemoReport::measured(title, lines, &metered, sessions);
    report.plans = vec![
        diffed(
            format!("delete, {BEFORE}"),
            without.delete,
            without.delete_ms,
        ),
        diffed(format!("delete, with {INDEX}"), with.delete, with.delete_ms),
    ];
    Ok(report)
}

/// What the demo generated and whom it looked up.
struct Setup {
    posts: i64,
    /// Posts are by users 1..=authors.
    authors: i64,
    /// The newest user, deleted.
    newest: i64,
    /// A user with posts, whose posts are joined.
    author: i64,
}

async fn measure(
    conn: &mut PgConnection,
    posts: i64,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<(Setup, Measured, Measured), Error> {
    let taken: bool = sqlx::query_scalar("select to_regclass($1) is not null")
        .bind(POSTS)
        .fetch_one(&mut *conn)
        .await
        .map_err(sql_error(DEMO, "looking for a table named big_posts"))?;
    if taken {
        return Err(Error::Refused {
            demo: DEMO,
            why: format!(
                "a table named {POSTS} exists already, and the demo creates its own: drop \
                 yours, or `pglab db reset`"
            ),
        });
    }
    let newest: Option<i64> = sqlx::query_scalar("select max(id) from big_users")
        .fetch_one(&mut *conn)
        .await
        .map_err(sql_error(DEMO, "finding the newest user of big_users"))?;
    let newest = newest.filter(|&id| id >= 2).ok_or_else(|| Error::Refused {
        demo: DEMO,
        why: "big_users has fewer than two users; run the lesson's seed step first".into(),
    })?;
    let authors = newest / 2;
    say(
        progress,
        format!(
            "creating {POSTS}: {} posts by users 1 to {}",
            group(posts as f64),
            group(authors as f64)
        ),
    );
    sqlx::raw_sql(
        "create table big_posts (
             id         bigint generated always as identity primary key,
             author_id  bigint not null,
             title      text not null,
             created_at timestamptz not null
         )",
    )
    .execute(&mut *conn)
    .await
    .map_err(sql_error(DEMO, "creating big_posts"))?;
    // Authors in a scattered order (7919 is prime), so a user's posts lie on pages all
    // over the table, as posts written over years do.
    sqlx::query(
        "insert into big_posts (author_id, title, created_at)
         select 1 + (g * 7919) % $2, 'Post ' || g,
                timestamptz '2021-01-01 00:00:00+00' + g * interval '1 minute'
           from generate_series(1::bigint, $1) as g",
    )
    .bind(posts)
    .bind(authors)
    .execute(&mut *conn)
    .await
    .map_err(sql_error(DEMO, "generating the posts"))?;
    say(progress, "adding the foreign key and analyzing".to_string());
    // Added after the rows, the key is checked in one pass instead of once per post.
    sqlx::raw_sql(
        "alter table big_posts add constraint big_posts_author_id_fkey
             foreign key (author_id) references big_users (id);
         analyze big_posts",
    )
    .execute(&mut *conn)
    .await
    .map_err(sql_error(DEMO, "adding the foreign key"))?;
    let author: i64 = sqlx::query_scalar("select author_id from big_posts where id = $1")
        .bind((posts / 2).max(1))
        .fetch_one(&mut *conn)
        .await
        .map_err(sql_error(DEMO, "picking an author"))?;
    let setup = Setup {
        posts,
        authors,
        newest,
        author,
    };
    say(progress, format!("measuring without {INDEX}"));
    let without = measured(conn, &setup).await?;
    say(progress, format!("creating {INDEX}"));
    sqlx::raw_sql("create index big_posts_author_id_idx on big_posts (author_id)")
        .execute(&mut *conn)
        .await
        .map_err(sql_error(DEMO, "creating the index"))?;
    say(progress, format!("measuring with {INDEX}"));
    let with = measured(conn, &setup).await?;
    Ok((setup, without, with))
}

/// The delete and the join, each explained once and timed [`RUNS`] times.
async fn measured(conn: &mut PgConnection, setup: &Setup) -> Result<Measured, Error> {
    let delete = format!("delete from big_users where id = {}", setup.newest);
    let before = Reads::of(conn, "big_posts")
        .await
        .map_err(sql_error(DEMO, "reading the statistics of big_posts"))?;
    let delete_plan = fetch::explain(conn, &delete, Analyze::Yes)
        .await
        .map_err(statement_error(DEMO, "explaining the delete"))?
        .plan;
    let after = Reads::of(conn, "big_posts")
        .await
        .map_err(sql_error(DEMO, "reading the statistics of big_posts"))?;
    let delete_ms = fetch::compare_runs(conn, &delete, RUNS, Planner::AsIs)
        .await
        .map_err(statement_error(DEMO, "timing the delete"))?
        .median_ms;
    let join = format!(
        "select p.id, p.title from big_users u join big_posts p on p.author_id = u.id \
         where u.id = {}",
        setup.author
    );
    let join_plan = fetch::explain(conn, &join, Analyze::Yes)
        .await
        .map_err(statement_error(DEMO, "explaining the join"))?
        .plan;
    let join_ms = fetch::compare_runs(conn, &join, RUNS, Planner::AsIs)
        .await
        .map_err(statement_error(DEMO, "timing the join"))?
        .median_ms;
    Ok(Measured {
        delete: delete_plan,
        delete_ms,
        check: after.since(before),
        join: join_plan,
        join_ms,
    })
}

/// The foreign-key check's time in the analyzed delete.
fn trigger_ms(plan: &Plan) -> String {
    plan.triggers
        .iter()
        .find(|trigger| trigger.is_foreign_key_check())
        .and_then(|trigger| trigger.time_ms)
        .map_or_else(|| "—".to_string(), ms)
}

/// The scan of `big_posts` in the join's plan, as text EXPLAIN titles it.
fn posts_scan(plan: &Plan) -> String {
    posts_node(plan).map_or_else(|| "—".to_string(), |node| node.kind_label())
}

/// The pages the whole join touched, as its top node counts them.
fn pages(plan: &Plan) -> String {
    plan.root()
        .buffers
        .map_or_else(|| "—".to_string(), |b| group(b.pages_touched() as f64))
}

fn posts_node(plan: &Plan) -> Option<&crate::explain::Node> {
    plan.nodes
        .iter()
        .find(|node| node.relation.as_deref() == Some(POSTS))
}

/// "412× faster", "about as fast".
fn speed(before_ms: f64, after_ms: f64) -> String {
    let ratio = before_ms / after_ms.max(0.001);
    if (0.87..=1.15).contains(&ratio) {
        "about as fast as before".to_string()
    } else if ratio > 1.0 {
        format!("{} faster", times(ratio))
    } else {
        format!("{} slower", times(1.0 / ratio))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_and_speeds_read_as_words() {
        assert_eq!(scans(1, Some(500_000)), "1 (500,000 rows)");
        assert_eq!(scans(0, Some(0)), "0");
        assert_eq!(scans(1, None), "1");
        assert_eq!(speed(18.0, 0.04), "450× faster");
        assert_eq!(speed(1.0, 1.05), "about as fast as before");
        assert_eq!(speed(1.0, 3.0), "3.0× slower");
    }
}
