//! `cloud.server`: "Supabase is PostgreSQL", shown by asking whichever server the lab runs
//! on the questions one asks any PostgreSQL: `version()`, a handful of settings that matter
//! to an application, and the lesson tables with their rows. With `DATABASE_URL` set to a
//! cloud database the same step shows that server's answers.

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use crate::data::ResultSet;
use crate::data::demo::{DemoProgress, DemoReport};
use crate::demo::meter::Meter;
use crate::demo::{DemoContext, Error};

const DEMO: &str = "cloud.server";

/// The settings shown, in order, with what each changes for an application.
const SETTINGS: [(&str, &str); 7] = [
    ("server_version", "the release: which features you have"),
    ("max_connections", "connections at once, all clients"),
    ("shared_buffers", "memory kept for cached table pages"),
    ("listen_addresses", "where it accepts TCP connections"),
    ("ssl", "whether it offers encryption"),
    ("TimeZone", "how timestamps are shown to you"),
    ("statement_timeout", "longest a statement of yours runs"),
];

const VERSION: &str = "select version()";
/// The settings this role can see (`current_setting` formats them with their unit).
const SHOWN_SETTINGS: &str = "select name, current_setting(name) from pg_settings \
     where name = any($1)";
const TABLE_ROWS: &str = "select 'organizations', count(*) from organizations \
     union all select 'users', count(*) from users \
     union all select 'posts', count(*) from posts \
     union all select 'audit_logs', count(*) from audit_logs";

struct Answers {
    version: String,
    settings: Vec<(String, String)>,
    tables: Vec<(String, i64)>,
}

async fn ask(conn: &mut PgConnection) -> sqlx::Result<Answers> {
    let version = sqlx::query_scalar(VERSION).fetch_one(&mut *conn).await?;
    let names: Vec<&str> = SETTINGS.iter().map(|(name, _)| *name).collect();
    let settings = sqlx::query_as(SHOWN_SETTINGS)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await?;
    let tables = sqlx::query_as(TABLE_ROWS).fetch_all(&mut *conn).await?;
    Ok(Answers {
        version,
        settings,
        tables,
    })
}

pub(super) async fn run(
    ctx: &DemoContext,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut conn = meter.connect("pglab demo: which server").await?;
    let _ = progress.send(DemoProgress::Message("asking the server what it is".into()));
    let (answers, measured) = meter.measure(DEMO, ask(&mut conn)).await;
    let _ = sqlx::Connection::close(conn).await;
    let sessions = meter.finish().await;
    let answers = answers.map_err(crate::demo::sql(DEMO, "asking the server what it is"))?;

    let tables = answers
        .tables
        .iter()
        .map(|(name, rows)| {
            format!(
                "{name} {}",
                crate::text::plural(*rows as u64, "row", "rows")
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let hidden: Vec<&str> = SETTINGS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !answers.settings.iter().any(|(n, _)| n == name))
        .collect();
    let mut lines = vec![
        format!("select version() → {}", answers.version),
        format!("The lesson tables on it: {tables}."),
    ];
    if !hidden.is_empty() {
        lines.push(format!(
            "Not visible to the lab's role here: {}.",
            hidden.join(", ")
        ));
    }
    lines.push(
        "A cloud database answers the same questions the same way: Supabase, RDS or Cloud SQL \
         run this same server program. Start the lab with DATABASE_URL set to one and this \
         step shows its answers instead."
            .into(),
    );
    let mut shown = super::which_server(ctx);
    shown.extend(crate::demo::wrapped(lines));
    let mut report = DemoReport::measured(
        "The same PostgreSQL, whichever server".into(),
        shown,
        &measured,
        sessions,
    );
    report.table = Some(settings_table(&answers.settings));
    Ok(report)
}

/// The settings in [`SETTINGS`] order, the ones this role cannot see left out.
fn settings_table(seen: &[(String, String)]) -> ResultSet {
    let rows = SETTINGS
        .iter()
        .filter_map(|(name, means)| {
            let (_, value) = seen.iter().find(|(n, _)| n == name)?;
            // The build's note ("15.18 (Debian …)") is on the version() line already.
            let value = value.split(" (").next().unwrap_or(value);
            Some(vec![
                Some(name.to_string()),
                Some(value.to_string()),
                Some(means.to_string()),
            ])
        })
        .collect();
    ResultSet::new(
        ["setting", "on this server", "what it changes"]
            .map(String::from)
            .to_vec(),
        rows,
    )
}
