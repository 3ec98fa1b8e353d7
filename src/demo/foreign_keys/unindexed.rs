//! `foreign_keys.unindexed`: what off-boarding tenants costs when the column that points at
//! them has no index. The index lesson's `indexes.foreign_key` measures the check of a
//! parent with no children; this one measures the other side of the same trigger: parents
//! whose children cascade.
//!
//! Inside one transaction, rolled back at the end: `fk_tenants` (1,000 generated tenants)
//! and `fk_members` (generated members spread over them, `tenant_id` referencing
//! `fk_tenants` with `ON DELETE CASCADE`). The first [`DELETED`] tenants are deleted under
//! `EXPLAIN (ANALYZE, BUFFERS)` (which `db::explain` runs in a savepoint it rolls back)
//! without an index on `fk_members (tenant_id)`, then with one; the cascade is the foreign
//! key's trigger, whose time and calls EXPLAIN reports under the plan, and how it read
//! `fk_members` comes from the transaction's statistics (`pg_stat_xact_user_tables`).

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use crate::data::demo::{DemoProgress, DemoReport};
use crate::db::explain::{self as fetch, Analyze, Planner};
use crate::demo::indexes::diffed;
use crate::demo::meter::Meter;
use crate::demo::table_reads::{Reads, scans};
use crate::demo::{DemoContext, Error, params, say, sql};
use crate::explain::Plan;
use crate::explain::text::ms;
use crate::text::{group, plural};

const DEMO: &str = "foreign_keys.unindexed";
const DEFAULT_MEMBERS: i64 = 200_000;
const TENANTS: i64 = 1_000;
/// Tenants off-boarded by the measured delete.
const DELETED: i64 = 20;
/// Timed runs per index state, for the medians.
const RUNS: usize = 5;
const INDEX: &str = "fk_members_tenant_id_idx";
const DELETE: &str = "delete from fk_tenants where id <= 20";

/// The delete measured in one index state.
struct Measured {
    plan: Plan,
    median_ms: f64,
    reads: Reads,
}

pub(super) async fn run(
    ctx: &DemoContext,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let members = params::int(params, "members").unwrap_or(DEFAULT_MEMBERS);
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut conn = meter.connect("pglab demo: unindexed foreign key").await?;
    let (result, metered) = meter
        .measure(
            DEMO,
            super::super::rolled_back(
                &mut conn,
                DEMO,
                "rolling back the generated tables",
                async |conn| measure(conn, members, progress).await,
            ),
        )
        .await;
    let _ = sqlx::Connection::close(conn).await;
    let sessions = meter.finish().await;
    let (cascaded, without, with) = result?;

    let mut lines = crate::demo::wrapped(vec![format!(
        "fk_members: {} members of {} tenants, tenant_id → fk_tenants (id) on delete \
         cascade. The delete off-boards the first {DELETED} tenants; {} of their members \
         go with them. Under the plan, EXPLAIN ANALYZE lists the foreign key's trigger: \
         the cascade runs there, once per deleted tenant.",
        group(members as f64),
        group(TENANTS as f64),
        group(cascaded as f64),
    )]);
    lines.push(String::new());
    lines.push(format!("  {DELETE}"));
    lines.push(String::new());
    let columns = |label: &str, a: String, b: String| format!("{label:<28}{a:<22}{b}");
    lines.push(columns("", "no index".into(), "with the index".into()));
    lines.push(columns(
        "the cascade's trigger",
        trigger(&without.plan),
        trigger(&with.plan),
    ));
    lines.push(columns(
        "seq scans of fk_members",
        scans(without.reads.seq_scan, Some(without.reads.seq_tup_read)),
        scans(with.reads.seq_scan, Some(with.reads.seq_tup_read)),
    ));
    lines.push(columns(
        "index scans of fk_members",
        group(without.reads.idx_scan as f64),
        group(with.reads.idx_scan as f64),
    ));
    lines.push(columns(
        "the analyzed run",
        without.plan.execution_ms.map_or_else(|| "—".into(), ms),
        with.plan.execution_ms.map_or_else(|| "—".into(), ms),
    ));
    lines.push(columns(
        &format!("median of {RUNS} runs"),
        ms(without.median_ms),
        ms(with.median_ms),
    ));
    lines.push(String::new());
    lines.extend(crate::demo::wrapped(vec![format!(
        "Without the index, each deleted tenant costs a full read of fk_members: the \
         trigger's calls times the table's rows. With {INDEX} each is a short index \
         lookup. By the medians, {} (arithmetic). Off-boarding is rare, but the same \
         trigger runs for every single delete of a parent row, and it holds the parent's \
         lock while it reads. Rolled back: both tables and the index are gone.",
        ratio(without.median_ms, with.median_ms)
    )]));
    let title = format!(
        "Off-boarding {DELETED} tenants: {} without an index on tenant_id, {} with one",
        ms(without.median_ms),
        ms(with.median_ms)
    );
    let mut report = DemoReport::measured(title, lines, &metered, sessions);
    report.plans = vec![
        diffed(
            "delete, no index on tenant_id".into(),
            without.plan,
            without.median_ms,
        ),
        diffed(format!("delete, with {INDEX}"), with.plan, with.median_ms),
    ];
    Ok(report)
}

async fn measure(
    conn: &mut PgConnection,
    members: i64,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<(i64, Measured, Measured), Error> {
    say(
        progress,
        format!(
            "generating {} tenants and {} members",
            group(TENANTS as f64),
            group(members as f64)
        ),
    );
    sqlx::raw_sql(
        "create table fk_tenants (id bigint primary key, name text not null);
         create table fk_members (
             id        bigint primary key,
             tenant_id bigint not null,
             name      text not null
         );
         insert into fk_tenants select g, 'Tenant ' || g from generate_series(1, 1000) g;",
    )
    .execute(&mut *conn)
    .await
    .map_err(sql(DEMO, "creating the tables"))?;
    // Members scattered over the tenants (7919 is prime), so a tenant's rows lie on pages
    // all over the table, as rows written over years do.
    sqlx::query(
        "insert into fk_members
         select g, 1 + (g * 7919) % 1000, 'Member ' || g from generate_series(1::bigint, $1) g",
    )
    .bind(members)
    .execute(&mut *conn)
    .await
    .map_err(sql(DEMO, "generating the members"))?;
    // Added after the rows, the key is checked in one pass instead of once per row.
    sqlx::raw_sql(
        "alter table fk_members add constraint fk_members_tenant_id_fkey
             foreign key (tenant_id) references fk_tenants (id) on delete cascade;
         analyze fk_tenants, fk_members",
    )
    .execute(&mut *conn)
    .await
    .map_err(sql(DEMO, "adding the foreign key"))?;
    let cascaded: i64 = sqlx::query_scalar("select count(*) from fk_members where tenant_id <= $1")
        .bind(DELETED)
        .fetch_one(&mut *conn)
        .await
        .map_err(sql(DEMO, "counting the members that cascade"))?;
    say(progress, format!("deleting {DELETED} tenants, no index"));
    let without = measured(conn).await?;
    say(progress, format!("creating {INDEX}"));
    sqlx::raw_sql("create index fk_members_tenant_id_idx on fk_members (tenant_id)")
        .execute(&mut *conn)
        .await
        .map_err(sql(DEMO, "creating the index"))?;
    say(
        progress,
        format!("deleting {DELETED} tenants, with {INDEX}"),
    );
    let with = measured(conn).await?;
    Ok((cascaded, without, with))
}

async fn measured(conn: &mut PgConnection) -> Result<Measured, Error> {
    let statement = |step| {
        move |cause| Error::Statement {
            demo: DEMO,
            step,
            cause: Box::new(cause),
        }
    };
    let before = Reads::of(conn, "fk_members")
        .await
        .map_err(sql(DEMO, "reading the statistics of fk_members"))?;
    let plan = fetch::explain(conn, DELETE, Analyze::Yes)
        .await
        .map_err(statement("explaining the delete"))?
        .plan;
    let after = Reads::of(conn, "fk_members")
        .await
        .map_err(sql(DEMO, "reading the statistics of fk_members"))?;
    let median_ms = fetch::compare_runs(conn, DELETE, RUNS, Planner::AsIs)
        .await
        .map_err(statement("timing the delete"))?
        .median_ms;
    Ok(Measured {
        plan,
        median_ms,
        reads: after.since(before),
    })
}

/// "812.4 ms, 20 calls": the foreign key's trigger in the analyzed delete.
fn trigger(plan: &Plan) -> String {
    plan.triggers
        .iter()
        .find(|t| t.is_foreign_key_check())
        .map_or_else(
            || "—".to_string(),
            |t| {
                let time = t.time_ms.map_or_else(|| "?".to_string(), ms);
                format!("{time}, {}", plural(t.calls, "call", "calls"))
            },
        )
}

/// "the index made it 41× faster".
fn ratio(before_ms: f64, after_ms: f64) -> String {
    let ratio = before_ms / after_ms.max(0.001);
    match ratio >= 1.0 {
        true => format!(
            "the index made the delete {} faster",
            crate::demo::indexes::times(ratio)
        ),
        false => format!(
            "the delete was {} slower with the index",
            crate::demo::indexes::times(1.0 / ratio)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_read_as_words() {
        assert_eq!(scans(20, Some(4_000_000)), "20 (4,000,000 rows)");
        assert_eq!(scans(0, Some(0)), "0");
        assert!(ratio(41.0, 1.0).contains("41× faster"));
    }

    #[test]
    fn the_delete_off_boards_the_tenants_the_report_names() {
        assert!(DELETE.ends_with(&format!("<= {DELETED}")));
    }
}
