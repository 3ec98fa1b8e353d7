//! `tenancy.databases`: one database per customer, measured. The demo clones the lab's
//! seeded template once per customer (`CREATE DATABASE … TEMPLATE …`, timed one by one),
//! reads each copy's size, then applies one schema change (a column added to `posts`) to
//! every copy, connecting to each as the learner the way a deploy script would, and the same
//! change once to the shared lab database, in a transaction rolled back. The 1,000-customer
//! line is arithmetic on these measurements, and says so.
//!
//! Creating databases needs a role allowed to (`db::customer_databases::Creator`): the owner
//! role on the private cluster, the `DATABASE_URL` role where it has `CREATEDB`; elsewhere the
//! demo refuses. Every copy is dropped at the end, failed or not; a [`DropOnStop`] drops them
//! when the demo is stopped mid-way, and the next run (and `pglab db reset`) drops what a
//! killed lab left behind.

use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection};
use tokio::sync::mpsc;

use crate::data::demo::{DemoProgress, DemoReport};
use crate::db::customer_databases::{self as customers, Creator};
use crate::demo::meter::Meter;
use crate::demo::{DemoContext, Error, params, say, sql, wrapped};
use crate::text::{duration, group, size};

const DEMO: &str = "tenancy.databases";
const DEFAULT_CUSTOMERS: i64 = 20;
/// The customers the closing arithmetic scales to.
const AT_SCALE: f64 = 1_000.0;
/// The schema change every database gets: a column, the commonest migration there is.
const CHANGE: &str = "alter table posts add column pinned boolean not null default false";

/// One customer's database, measured.
struct Customer {
    name: String,
    created: Duration,
    bytes: i64,
    changed: Duration,
}

pub(super) async fn run(
    ctx: &DemoContext,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let count = params::int(params, "customers").unwrap_or(DEFAULT_CUSTOMERS);
    let creator = Creator::find(&ctx.learner, ctx.cluster.as_ref())
        .await?
        .map_err(|why| Error::Refused { demo: DEMO, why })?;
    let lab_database = ctx.learner.get_database().unwrap_or_default().to_string();
    let family = customers::family(&lab_database).ok_or_else(|| Error::Refused {
        demo: DEMO,
        why: format!(
            "the lab database's name, {lab_database}, is too long to name its customers' \
             databases after it (PostgreSQL keeps 63 bytes of a name)"
        ),
    })?;
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let routed = meter.options("pglab demo: a database per customer");
    let mut admin = crate::db::connect(&creator.options(routed.clone())).await?;
    let mut guard = DropOnStop {
        admin: Some(creator.options(ctx.learner.clone())),
        family: family.clone(),
        creating: sqlx::query_scalar("select pg_catalog.pg_backend_pid()")
            .fetch_one(&mut admin)
            .await
            .map_err(sql(DEMO, "reading the session's server process"))?,
    };
    let work = async {
        let left_over = customers::drop_family(&mut admin, &family).await?;
        let customers = measure(&mut admin, &routed, &creator, &family, count, progress).await;
        say(progress, "dropping the customer databases");
        let dropped = customers::drop_family(&mut admin, &family).await;
        let customers = customers?;
        dropped?;
        let remaining = customers::count_family(&mut admin, &family).await?;
        let shared = shared_change(&routed).await?;
        Ok::<_, Error>((left_over, customers, remaining, shared))
    };
    let (result, measured) = meter.measure(DEMO, work).await;
    let _ = admin.close().await;
    let sessions = meter.finish().await;
    let (left_over, customers, remaining, shared) = result?;
    guard.admin = None;

    let mut lines = wrapped(vec![format!(
        "{} databases, {family}01 to {family}{:02}, each created with CREATE DATABASE … \
         TEMPLATE {}: a copy of the lab's seeded schema and story.",
        customers.len(),
        customers.len(),
        creator.template
    )]);
    lines.push(String::new());
    lines.push(format!(
        "  {:<28}{:>10}{:>10}{:>12}",
        "database", "create", "size", "add column"
    ));
    for customer in customers.iter().take(3) {
        lines.push(row(customer, &family));
    }
    if customers.len() > 4 {
        lines.push(format!("  … {} more", customers.len() - 4));
    }
    if let Some(last) = customers.last().filter(|_| customers.len() > 3) {
        lines.push(row(last, &family));
    }
    let n = customers.len() as f64;
    let created: Duration = customers.iter().map(|c| c.created).sum();
    let bytes: i64 = customers.iter().map(|c| c.bytes).sum();
    let changed: Duration = customers.iter().map(|c| c.changed).sum();
    lines.push(format!(
        "  {:<28}{:>10}{:>10}{:>12}",
        format!("all {}", customers.len()),
        duration(created),
        size(bytes),
        duration(changed)
    ));
    lines.push(String::new());
    lines.push(format!(
        "  {:<28}{:>32}",
        "one shared database", "add column"
    ));
    lines.push(format!(
        "  {:<28}{:>32}",
        format!("{lab_database} (rolled back)"),
        duration(shared)
    ));
    lines.push(String::new());
    lines.extend(wrapped(vec![format!(
        "Arithmetic on these figures, not measured: {} customers would take {} databases, \
         {} of disk ({} × {}) and {} to create ({} × {}); every schema change would \
         connect to {} databases, {} ({} × {}), against {} once for the shared database.",
        group(AT_SCALE),
        group(AT_SCALE),
        size((bytes as f64 / n * AT_SCALE) as i64),
        group(AT_SCALE),
        size((bytes as f64 / n) as i64),
        duration(created.div_f64(n).mul_f64(AT_SCALE)),
        group(AT_SCALE),
        duration(created.div_f64(n)),
        group(AT_SCALE),
        duration(changed.div_f64(n).mul_f64(AT_SCALE)),
        group(AT_SCALE),
        duration(changed.div_f64(n)),
        duration(shared),
    )]));
    lines.push(String::new());
    let mut closing = format!(
        "Each time is the wall time the demo waited, through the lab's proxy; each add column \
         includes connecting to that database. The shared database's change ran in a \
         transaction rolled back, so posts is as it was. Dropped again: all {}; {} left \
         now.",
        customers.len(),
        remaining
    );
    if left_over > 0 {
        closing.push_str(&format!(
            " ({left_over} left by an earlier run that was stopped were dropped first.)"
        ));
    }
    lines.extend(wrapped(vec![closing]));
    let title = format!(
        "{} databases: {} of disk, {} to create; one column added: {} vs {}",
        customers.len(),
        size(bytes),
        duration(created),
        duration(changed),
        duration(shared)
    );
    Ok(DemoReport::measured(title, lines, &measured, sessions))
}

/// `  customer 01     31 ms   7.5 MB      12 ms`: the database by its number.
fn row(customer: &Customer, family: &str) -> String {
    let number = customer.name.strip_prefix(family).unwrap_or(&customer.name);
    format!(
        "  {:<28}{:>10}{:>10}{:>12}",
        format!("customer {number}"),
        duration(customer.created),
        size(customer.bytes),
        duration(customer.changed)
    )
}

/// Creates the databases one by one, timing each, then reads their sizes and applies the
/// schema change to each.
async fn measure(
    admin: &mut PgConnection,
    routed: &PgConnectOptions,
    creator: &Creator,
    family: &str,
    count: i64,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Vec<Customer>, Error> {
    let mut customers = Vec::new();
    for k in 1..=count {
        let name = format!("{family}{k:02}");
        say(progress, format!("creating database {k} of {count}"));
        // CREATE DATABASE takes no parameters: the names are quoted here, not by a server
        // function looked up on a privileged session's search path.
        let create = format!(
            "create database {} template {}",
            crate::db::quote_ident(&name),
            crate::db::quote_ident(&creator.template)
        );
        let started = Instant::now();
        sqlx::raw_sql(AssertSqlSafe(create))
            .execute(&mut *admin)
            .await
            .map_err(sql(DEMO, "creating a customer's database"))?;
        customers.push(Customer {
            name,
            created: started.elapsed(),
            bytes: 0,
            changed: Duration::ZERO,
        });
    }
    let sizes: Vec<(String, i64)> = sqlx::query_as(
        "select datname::text, pg_catalog.pg_database_size(oid) from pg_catalog.pg_database
          where pg_catalog.starts_with(datname, $1)",
    )
    .bind(family.to_string())
    .fetch_all(&mut *admin)
    .await
    .map_err(sql(DEMO, "reading the databases' sizes"))?;
    for (name, bytes) in sizes {
        if let Some(customer) = customers.iter_mut().find(|c| c.name == name) {
            customer.bytes = bytes;
        }
    }
    for (k, customer) in customers.iter_mut().enumerate() {
        say(
            progress,
            format!("adding the column to database {} of {count}", k + 1),
        );
        let started = Instant::now();
        let mut conn = crate::db::connect(&routed.clone().database(&customer.name)).await?;
        sqlx::raw_sql(AssertSqlSafe(format!("begin; {CHANGE}; commit")))
            .execute(&mut conn)
            .await
            .map_err(sql(DEMO, "changing a customer's schema"))?;
        let _ = conn.close().await;
        customer.changed = started.elapsed();
    }
    Ok(customers)
}

/// The same change on the shared lab database, connection included as for each customer,
/// in a transaction rolled back: the other lessons' posts keep their columns.
async fn shared_change(routed: &PgConnectOptions) -> Result<Duration, Error> {
    let started = Instant::now();
    let mut conn = crate::db::connect(routed).await?;
    sqlx::raw_sql(AssertSqlSafe(format!("begin; {CHANGE}; rollback")))
        .execute(&mut conn)
        .await
        .map_err(sql(DEMO, "changing the shared database's schema"))?;
    let _ = conn.close().await;
    Ok(started.elapsed())
}

/// Drops the customer databases when the demo ends before its own cleanup ran (stopped
/// from the lab, which drops the demo's task): on a thread of its own, since a drop cannot
/// wait for a runtime. Cleared once the demo dropped them itself.
///
/// The demo's own session may still be creating a database on the server when its task is
/// dropped: it is ended first, and waited for, so that database is not created after the
/// family was listed and dropped.
struct DropOnStop {
    admin: Option<PgConnectOptions>,
    family: String,
    /// The server process of the session that creates the databases.
    creating: i32,
}

/// How long a stopped run waits for its creating session to end.
const SESSION_END_WAIT: Duration = Duration::from_secs(10);

impl Drop for DropOnStop {
    fn drop(&mut self) {
        let Some(admin) = self.admin.take() else {
            return;
        };
        let family = std::mem::take(&mut self.family);
        let creating = self.creating;
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut conn = crate::db::connect(&admin).await?;
                end_session(&mut conn, creating).await?;
                customers::drop_family(&mut conn, &family).await
            })?;
            Ok::<_, anyhow::Error>(())
        });
    }
}

/// Ends the server process `pid` (a session of the same role) and waits until it is gone.
async fn end_session(conn: &mut PgConnection, pid: i32) -> Result<(), crate::db::Error> {
    const WHY: &str = "cannot end the demo's session";
    sqlx::query("select pg_catalog.pg_terminate_backend($1)")
        .bind(pid)
        .execute(&mut *conn)
        .await
        .map_err(crate::db::Error::sql(WHY))?;
    let deadline = Instant::now() + SESSION_END_WAIT;
    while Instant::now() < deadline {
        let alive: bool = sqlx::query_scalar(
            "select exists (select from pg_catalog.pg_stat_activity where pid = $1)",
        )
        .bind(pid)
        .fetch_one(&mut *conn)
        .await
        .map_err(crate::db::Error::sql(WHY))?;
        if !alive {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}
