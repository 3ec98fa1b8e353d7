//! `tenancy.index`: in a shared database every query a tenant makes asks for its own rows,
//! `where organization_id = $1`, and without an index on that column each one reads every
//! tenant's rows to find them.
//!
//! Inside one transaction, rolled back at the end so nothing outlives the demo (the story's
//! `posts` already has its index, and other lessons must find it as it is): `tenant_posts` is
//! created with generated posts spread over many tenants, then one tenant's newest posts
//! are planned (EXPLAIN ANALYZE, the lab's plan engine) and timed (the median of several
//! runs), without an index on `organization_id` and again with one.

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use crate::data::demo::{DemoProgress, DemoReport};
use crate::db::console::ExecuteError;
use crate::db::explain::{self as fetch, Analyze, Planner};
use crate::demo::indexes::{diffed, times};
use crate::demo::meter::Meter;
use crate::demo::{DemoContext, Error, params, say, sql, wrapped};
use crate::explain::text::ms;
use crate::explain::{Node, Plan};
use crate::text::group;

const DEMO: &str = "tenancy.index";
const DEFAULT_ROWS: i64 = 500_000;
const DEFAULT_TENANTS: i64 = 1_000;
/// Timed runs per index state, for the medians.
const RUNS: usize = 5;
const TABLE: &str = "tenant_posts";
const INDEX: &str = "tenant_posts_organization_id_idx";
/// Generating and indexing half a million rows can outlast the learner's statement timeout;
/// that wait is part of the demo, not a runaway query.
const LONG_STATEMENT_TIMEOUT: &str = "set local statement_timeout = '10min'";

/// One tenant's page, measured in one index state.
struct Measured {
    plan: Plan,
    median_ms: f64,
}

pub(super) async fn run(
    ctx: &DemoContext,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let rows = params::int(params, "rows").unwrap_or(DEFAULT_ROWS);
    let tenants = params::int(params, "tenants").unwrap_or(DEFAULT_TENANTS);
    // A tenant in the middle of the range, so the demo does not pick the first by habit.
    let tenant = tenants / 2 + 1;
    let query = format!(
        "select id, title, created_at from {TABLE} where organization_id = {tenant} \
         order by created_at desc limit 20"
    );
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut conn = meter.connect("pglab demo: the tenant index").await?;
    let (result, metered) = meter
        .measure(
            DEMO,
            super::super::rolled_back(&mut conn, DEMO, "rolling back tenant_posts", async |conn| {
                measure(conn, rows, tenants, &query, progress).await
            }),
        )
        .await;
    let _ = sqlx::Connection::close(conn).await;
    let sessions = meter.finish().await;
    let (tenant_rows, without, with) = result?;

    let mut lines = wrapped(vec![format!(
        "{TABLE}: {} posts of {} tenants, spread over the table as posts written over \
         time are; tenant {tenant} has {} of them. Its page, the newest 20:",
        group(rows as f64),
        group(tenants as f64),
        group(tenant_rows as f64),
    )]);
    lines.push(format!("  select id, title, created_at from {TABLE}"));
    lines.push(format!("   where organization_id = {tenant}"));
    lines.push("   order by created_at desc limit 20".to_string());
    lines.push(String::new());
    let columns =
        |label: &str, before: String, after: String| format!("{label:<24}{before:<24}{after}");
    lines.push(columns("", "no index".into(), "with the index".into()));
    lines.push(columns(
        &format!("{TABLE} read by"),
        scan(&without.plan),
        scan(&with.plan),
    ));
    lines.push(columns(
        "rows read and dropped",
        dropped(&without.plan),
        dropped(&with.plan),
    ));
    lines.push(columns(
        "pages, the whole query",
        pages(&without.plan),
        pages(&with.plan),
    ));
    lines.push(columns(
        &format!("median of {RUNS} runs"),
        ms(without.median_ms),
        ms(with.median_ms),
    ));
    lines.push(String::new());
    lines.extend(wrapped(vec![format!(
        "By the medians the index made the page {} faster (arithmetic). Without it, every \
         tenant's page reads every tenant's posts, and the more tenants share the table the \
         larger the share it throws away. The index is {INDEX}, on {TABLE} \
         (organization_id); the blog's own posts has one like it (posts_organization_id_idx). \
         Everything here was rolled back: {TABLE} and its index are gone.",
        times(without.median_ms / with.median_ms.max(0.001)),
    )]));
    let title = format!(
        "One tenant's page: {} without an index on organization_id, {} with one",
        ms(without.median_ms),
        ms(with.median_ms)
    );
    let mut report = DemoReport::measured(title, lines, &metered, sessions);
    report.plans = vec![
        diffed(
            "tenant's page, no index".to_string(),
            without.plan,
            without.median_ms,
        ),
        diffed(
            format!("tenant's page, with {INDEX}"),
            with.plan,
            with.median_ms,
        ),
    ];
    Ok(report)
}

async fn measure(
    conn: &mut PgConnection,
    rows: i64,
    tenants: i64,
    query: &str,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<(i64, Measured, Measured), Error> {
    sqlx::raw_sql(LONG_STATEMENT_TIMEOUT)
        .execute(&mut *conn)
        .await
        .map_err(sql(DEMO, "allowing its statements more time"))?;
    let taken: bool = sqlx::query_scalar("select to_regclass($1) is not null")
        .bind(TABLE)
        .fetch_one(&mut *conn)
        .await
        .map_err(sql(DEMO, "looking for a table named tenant_posts"))?;
    if taken {
        return Err(Error::Refused {
            demo: DEMO,
            why: format!(
                "a table named {TABLE} exists already, and the demo creates its own: drop \
                 yours, or `pglab db reset`"
            ),
        });
    }
    say(
        progress,
        format!(
            "creating {TABLE}: {} posts of {} tenants",
            group(rows as f64),
            group(tenants as f64)
        ),
    );
    sqlx::raw_sql(
        "create table tenant_posts (
             id              bigint generated always as identity primary key,
             organization_id bigint not null,
             title           text not null,
             created_at      timestamptz not null
         )",
    )
    .execute(&mut *conn)
    .await
    .map_err(sql(DEMO, "creating tenant_posts"))?;
    // Tenants in a scattered order (7919 is prime): a tenant's posts lie on pages all over
    // the table, as posts of many tenants written day after day do.
    sqlx::query(
        "insert into tenant_posts (organization_id, title, created_at)
         select 1 + (g * 7919) % $2, 'Post ' || g,
                timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute'
           from generate_series(1::bigint, $1) as g",
    )
    .bind(rows)
    .bind(tenants)
    .execute(&mut *conn)
    .await
    .map_err(sql(DEMO, "generating the posts"))?;
    sqlx::raw_sql("analyze tenant_posts")
        .execute(&mut *conn)
        .await
        .map_err(sql(DEMO, "analyzing tenant_posts"))?;
    let tenant_rows: i64 =
        sqlx::query_scalar("select count(*) from tenant_posts where organization_id = $1 / 2 + 1")
            .bind(tenants)
            .fetch_one(&mut *conn)
            .await
            .map_err(sql(DEMO, "counting the tenant's posts"))?;
    say(progress, format!("measuring without {INDEX}"));
    let without = measured(conn, query).await?;
    say(progress, format!("creating {INDEX}"));
    sqlx::raw_sql(
        "create index tenant_posts_organization_id_idx on tenant_posts (organization_id)",
    )
    .execute(&mut *conn)
    .await
    .map_err(sql(DEMO, "creating the index"))?;
    say(progress, format!("measuring with {INDEX}"));
    let with = measured(conn, query).await?;
    Ok((tenant_rows, without, with))
}

/// The page explained once and timed [`RUNS`] times.
async fn measured(conn: &mut PgConnection, query: &str) -> Result<Measured, Error> {
    let plan = fetch::explain(conn, query, Analyze::Yes)
        .await
        .map_err(statement(DEMO, "explaining the tenant's page"))?
        .plan;
    let median_ms = fetch::compare_runs(conn, query, RUNS, Planner::AsIs)
        .await
        .map_err(statement(DEMO, "timing the tenant's page"))?
        .median_ms;
    Ok(Measured { plan, median_ms })
}

fn statement(demo: &'static str, step: &'static str) -> impl FnOnce(ExecuteError) -> Error {
    move |cause| Error::Statement {
        demo,
        step,
        cause: Box::new(cause),
    }
}

/// The nodes that read `tenant_posts`: a scan, or a bitmap heap scan and its index scan.
fn table_node(plan: &Plan) -> Option<&Node> {
    plan.nodes
        .iter()
        .find(|node| node.relation.as_deref() == Some(TABLE))
}

/// How the plan reads the table, as text EXPLAIN titles it, with its index when it has one.
fn scan(plan: &Plan) -> String {
    let index = plan
        .nodes
        .iter()
        .find_map(|node| node.index_name.as_deref());
    match (table_node(plan), index) {
        (Some(node), Some(_)) if node.index_name.is_none() => {
            format!("{} + index", node.kind_label())
        }
        (Some(node), _) => node.kind_label(),
        (None, _) => "—".to_string(),
    }
}

/// Rows the table's scan read and threw away (its filter, or the bitmap's recheck).
fn dropped(plan: &Plan) -> String {
    let removed: f64 = table_node(plan)
        .map(|node| node.metrics.removed_rows().sum())
        .unwrap_or(0.0);
    group(removed)
}

/// The pages the whole query touched, as its top node counts them.
fn pages(plan: &Plan) -> String {
    plan.root()
        .buffers
        .map_or_else(|| "—".to_string(), |b| group(b.pages_touched() as f64))
}
