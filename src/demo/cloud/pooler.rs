//! `cloud.transaction_pooler`: what breaks behind a transaction pooler. A pooler in
//! transaction mode lends a server connection for one transaction, then hands the next
//! transaction whichever connection is free; anything a session kept on its connection —
//! a `SET`, a prepared statement — stays behind on the first one.
//!
//! The lab has no pooler to stand up, so it plays one, and says so: the same four
//! statements run once on one server connection (a direct connection, or a session
//! pooler, which keeps one server connection per client), then spread over two real server
//! connections, each statement its own transaction on the next connection in turn, as a
//! busy pooler may hand them out. Every answer and error is the server's own.

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use crate::data::demo::{DemoProgress, DemoReport};
use crate::demo::meter::Meter;
use crate::demo::{DemoContext, Error};

const DEMO: &str = "cloud.transaction_pooler";

/// The session's statements, in order: a setting, reading it back, a prepared statement,
/// running it.
const STATEMENTS: [&str; 4] = [
    "set time zone 'Asia/Tokyo'",
    "show time zone",
    "prepare newest_posts as select title from posts \
     where organization_id = 1 and deleted_at is null order by created_at desc, id desc limit 3",
    "execute newest_posts",
];

/// What the server answered to one statement.
struct Answer {
    /// `A` or `B`: which server connection ran it.
    on: char,
    sql: &'static str,
    /// The answer in a few words, or the server's error.
    said: String,
    failed: bool,
}

pub(super) async fn run(
    ctx: &DemoContext,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut a = meter.connect("pglab demo: server connection A").await?;
    let mut b = meter.connect("pglab demo: server connection B").await?;
    let _ = progress.send(DemoProgress::Message(
        "one session on one server connection".into(),
    ));
    let (answers, measured) = meter
        .measure(DEMO, async {
            let direct = session(&mut a, &mut b, false).await?;
            // A fresh start for the pooled run: the direct run's setting and statement
            // would otherwise still be on A.
            sqlx::raw_sql("discard all").execute(&mut a).await?;
            let pooled = session(&mut a, &mut b, true).await?;
            Ok::<_, sqlx::Error>((direct, pooled))
        })
        .await;
    let _ = sqlx::Connection::close(a).await;
    let _ = sqlx::Connection::close(b).await;
    let sessions = meter.finish().await;
    let (direct, pooled) = answers.map_err(crate::demo::sql(DEMO, "running the session"))?;

    let mut lines = crate::demo::wrapped(vec![
        "Direct connection or session pooler: the whole session on one server connection.".into(),
    ]);
    lines.extend(transcript(&direct));
    lines.push(String::new());
    lines.extend(crate::demo::wrapped(vec![
        "Transaction pooler, played by the lab: each statement is a transaction of its own, \
         and the next one goes to the other server connection."
            .into(),
    ]));
    lines.extend(transcript(&pooled));
    lines.push(String::new());
    let zone = pooled.get(1).map_or(String::new(), |a| a.said.clone());
    let failed = pooled.iter().filter(|a| a.failed).count();
    lines.extend(crate::demo::wrapped(vec![
        format!(
            "The setting stayed on A: B answers with the server's default ({zone}). The \
             prepared statement is on A too, so B does not know it: {failed} of the {} \
             statements failed, and nothing in the application changed, only where each \
             transaction ran.",
            pooled.len()
        ),
        "Drivers prepare statements on their own (the statement-cache-capacity parameter of \
         the lab's URL is sqlx's cache of them), which is why Supabase's documentation says \
         to turn prepared statements off for its transaction mode. A setting that must hold \
         belongs inside the transaction, with SET LOCAL, or in the role's defaults."
            .into(),
    ]));
    Ok(DemoReport::measured(
        "What a transaction pooler breaks".into(),
        lines,
        &measured,
        sessions,
    ))
}

/// Runs [`STATEMENTS`], all on `a`, or alternating `a`, `b`, `a`, `b` when `pooled`.
async fn session(
    a: &mut PgConnection,
    b: &mut PgConnection,
    pooled: bool,
) -> sqlx::Result<Vec<Answer>> {
    let mut answers = Vec::new();
    for (n, sql) in STATEMENTS.into_iter().enumerate() {
        let on = if pooled && n % 2 == 1 { 'B' } else { 'A' };
        let conn = if on == 'B' { &mut *b } else { &mut *a };
        answers.push(answer(conn, on, sql).await?);
    }
    Ok(answers)
}

/// One statement's answer in a few words; a server error is an answer too.
async fn answer(conn: &mut PgConnection, on: char, sql: &'static str) -> sqlx::Result<Answer> {
    use futures::TryStreamExt;
    let rows: Result<Vec<sqlx::postgres::PgRow>, sqlx::Error> =
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .fetch_many(&mut *conn)
            .try_filter_map(|step| async move { Ok(step.right()) })
            .try_collect()
            .await;
    let (said, failed) = match rows {
        Ok(rows) if sql.starts_with("show") => {
            let value = rows
                .first()
                .and_then(|row| sqlx::Row::try_get::<String, _>(row, 0).ok())
                .unwrap_or_default();
            (value, false)
        }
        Ok(rows) if sql.starts_with("execute") => {
            (crate::text::plural(rows.len() as u64, "row", "rows"), false)
        }
        Ok(_) => (sql.split(' ').next().unwrap_or("").to_uppercase(), false),
        Err(sqlx::Error::Database(db)) => (
            format!(
                "ERROR {}: {}",
                db.code().as_deref().unwrap_or("?"),
                db.message()
            ),
            true,
        ),
        Err(other) => return Err(other),
    };
    Ok(Answer {
        on,
        sql,
        said,
        failed,
    })
}

/// The statements as a transcript: which connection, the statement cut short, the answer.
fn transcript(answers: &[Answer]) -> Vec<String> {
    answers
        .iter()
        .flat_map(|a| {
            let sql = crate::text::abbreviate(a.sql, 60);
            let mark = if a.failed { "✗" } else { "→" };
            [
                format!("  {}  {sql}", a.on),
                format!("       {mark} {}", a.said),
            ]
        })
        .collect()
}
