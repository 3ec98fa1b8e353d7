//! Beyond tables, live: `postgres.jsonb` (documents in a `jsonb` column, read with `->>`,
//! matched with `@>`, the containment served by a GIN index — both plans measured) and
//! `postgres.search` (full-text search over the posts, ranked by `ts_rank`, the matches
//! highlighted by `ts_headline`).

use sqlx::Row;

use super::*;
use crate::data::demo::MeasuredPlan;
use crate::db::explain::Analyze;

/// The containment the GIN index serves, and the same question asked with `->>`, which
/// it cannot serve (a B-tree on the expression could).
const CONTAINS: &str = r#"select count(*) from post_events where payload @> '{"kind": "share"}'"#;
const EXTRACTS: &str = "select count(*) from post_events where payload ->> 'kind' = 'share'";

pub(super) async fn jsonb(
    conn: &mut PgConnection,
    rows: i64,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<(Told, Vec<MeasuredPlan>), Error> {
    const DEMO: &str = "postgres.jsonb";
    let mut lines = Vec::new();
    // One transaction, rolled back at the end: the table and its index never outlive it.
    exec(conn, DEMO, "opening its transaction", "begin").await?;
    exec(
        conn,
        DEMO,
        "creating the events table",
        "create table post_events (id bigint primary key, payload jsonb not null)",
    )
    .await?;
    say(progress, "generating events");
    sqlx::query(
        "insert into post_events
         select g, jsonb_build_object(
                    'kind', case when g % 100 = 0 then 'share'
                                 when g % 7 = 0 then 'like' else 'view' end,
                    'device', (array['phone', 'laptop', 'tablet'])[1 + g % 3],
                    'post_id', 1 + g % 17)
           from generate_series(1, $1) as g",
    )
    .bind(rows)
    .execute(&mut *conn)
    .await
    .map_err(super::super::sql(DEMO, "generating the events"))?;
    let sample: String = sqlx::query_scalar("select payload::text from post_events where id = 700")
        .fetch_one(&mut *conn)
        .await
        .map_err(super::super::sql(DEMO, "reading an event"))?;
    lines.push(format!(
        "post_events: {} rows in a transaction of the demo's own; one payload: {sample}",
        crate::text::group(rows as f64)
    ));
    let by_device = sqlx::query(
        "select payload ->> 'device', count(*) from post_events
          where payload ->> 'kind' = 'share' group by 1 order by 1",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(super::super::sql(DEMO, "counting shares by device"))?;
    lines.push(
        "shares by device  (payload ->> 'device', where payload ->> 'kind' = 'share'):".into(),
    );
    for row in by_device {
        let device: String = row.get(0);
        let count: i64 = row.get(1);
        lines.push(format!("  {device:<8}{count}"));
    }
    say(progress, "building the GIN index");
    exec(
        conn,
        DEMO,
        "building the GIN index",
        "create index post_events_payload_idx on post_events using gin (payload)",
    )
    .await?;
    exec(conn, DEMO, "refreshing statistics", "analyze post_events").await?;
    say(progress, "measuring both plans");
    let extracts = plan(conn, DEMO, EXTRACTS).await?;
    let contains = plan(conn, DEMO, CONTAINS).await?;
    exec(conn, DEMO, "rolling back", "rollback").await?;
    lines.push(String::new());
    lines.push(format!("->> 'kind' = 'share':  {}", scans(&extracts)));
    lines.push(format!("@> kind share:         {}", scans(&contains)));
    let used = uses_index(&contains);
    lines.push(String::new());
    lines.push(if used {
        "The planner served the containment query (@>) from the GIN index, which indexes \
         every key and value of each document; the ->> comparison read the whole table: a \
         GIN index answers containment, not an expression's equality (a B-tree index on \
         (payload ->> 'kind') would)."
            .to_string()
    } else {
        "The planner read the whole table for both queries: at this size it judged the index \
         not worth it. Run the demo with more rows to see it change its mind."
            .to_string()
    });
    lines.push("The demo rolled its transaction back: post_events and its index are gone.".into());
    let measured = |label: &str, plan: crate::explain::Plan| MeasuredPlan {
        label: label.to_string(),
        median_ms: plan.execution_ms.unwrap_or(0.0),
        plan,
    };
    let plans = vec![
        measured("payload ->> 'kind' = 'share'", extracts),
        measured(r#"payload @> '{"kind": "share"}'"#, contains),
    ];
    Ok((("Documents in a jsonb column".into(), lines), plans))
}

async fn plan(
    conn: &mut PgConnection,
    demo: &'static str,
    sql: &str,
) -> Result<crate::explain::Plan, Error> {
    crate::db::explain::explain(conn, sql, Analyze::Yes)
        .await
        .map(|fetched| fetched.plan)
        .map_err(|cause| Error::Statement {
            demo,
            step: "explaining a query",
            cause: Box::new(cause),
        })
}

/// Whether a node of `plan` reads the GIN index.
pub fn uses_index(plan: &crate::explain::Plan) -> bool {
    plan.nodes
        .iter()
        .any(|n| n.index_name.as_deref() == Some("post_events_payload_idx"))
}

/// The node that reads the table or its index (the plan's last scan: under a bitmap heap
/// scan, the index scan that feeds it), and the execution time measured.
fn scans(plan: &crate::explain::Plan) -> String {
    let scan = plan
        .nodes
        .iter()
        .rev()
        .find(|n| n.node_type.contains("Scan"))
        .map_or_else(|| "no scan".to_string(), |n| n.title());
    let time = plan
        .execution_ms
        .map_or_else(String::new, |ms| format!(", {ms:.3} ms"));
    format!("{scan}{time}")
}

pub(super) async fn search(conn: &mut PgConnection) -> Result<Told, Error> {
    const DEMO: &str = "postgres.search";
    let rows = sqlx::query(
        "select title,
                ts_rank(to_tsvector('english', title || ' ' || body), query)::real,
                ts_headline('english', title || ' — ' || body, query,
                            'StartSel=«, StopSel=»')
           from posts, websearch_to_tsquery('english', $1) as query
          where posts.deleted_at is null
            and to_tsvector('english', title || ' ' || body) @@ query
          order by 2 desc, title",
    )
    .bind(DEFAULT_QUERY)
    .fetch_all(&mut *conn)
    .await
    .map_err(super::super::sql(DEMO, "searching the posts"))?;
    let (query, vector): (String, String) = sqlx::query_as(
        "select websearch_to_tsquery('english', $1)::text,
                to_tsvector('english', 'Scaling our database')::text",
    )
    .bind(DEFAULT_QUERY)
    .fetch_one(&mut *conn)
    .await
    .map_err(super::super::sql(DEMO, "reading the search terms"))?;
    let mut lines = vec![
        format!("search box:  {DEFAULT_QUERY}"),
        format!("as a query:  {query}"),
        format!("a title as stored:  'Scaling our database' → {vector}"),
        String::new(),
        format!("{:<6}  {}", "rank", "headline (matches in «»)"),
    ];
    for row in &rows {
        let rank: f32 = row.get(1);
        let headline: String = row.get(2);
        lines.push(format!("{rank:<6.4}  {headline}"));
    }
    lines.push(String::new());
    lines.push(format!(
        "{} of the live posts match. Both sides are cut into words and stemmed the same way \
         (above: the query and one title as PostgreSQL keeps them, 'our' dropped as a stop \
         word), ts_rank ordered the matches, ts_headline marked them: a search box without a \
         separate search engine.",
        rows.len()
    ));
    Ok(("Full-text search over the posts".into(), lines))
}

/// What the search demo looks for, as a search box would take it.
pub(super) const DEFAULT_QUERY: &str = "postgresql or database";
