//! `durability.restart` and `durability.crash`: the lab's own server taken down, cleanly or
//! by `SIGKILL`, and started again on the same port; the rows counted before and after, and
//! the server's own log lines about it (only those written since the demo began).

use super::*;
use crate::db::cluster::{Cluster, Interruption, Restarted};
use crate::demo::meter::Meter;

/// Log lines a clean restart writes that the report shows.
const RESTART_LINES: &[&str] = &[
    "received fast shutdown request",
    "database system is shut down",
    "database system was shut down at",
    "database system is ready to accept connections",
];

/// Log lines of a crash recovery that the report shows.
const RECOVERY_LINES: &[&str] = &[
    "database system was interrupted",
    "was not properly shut down",
    "redo starts at",
    "redo done at",
    "redo is not required",
    "database system is ready to accept connections",
];

/// `HH:MM:SS.mmm` of the postmaster's start.
const START_TIME: &str = "select to_char(pg_postmaster_start_time(), 'HH24:MI:SS.MS TZ')";

pub(super) async fn restart(
    ctx: &DemoContext,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    const DEMO: &str = "durability.restart";
    let cluster = ctx
        .cluster
        .clone()
        .ok_or_else(|| not_owned(DEMO, "restarting it"))?;
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let options = meter.options(&format!("pglab demo: {DEMO}"));
    let work = async {
        let mut conn = crate::db::connect(&options).await?;
        reset_articles(&mut conn, DEMO).await?;
        let before = snapshot(&mut conn, DEMO).await?;
        let _ = sqlx::Connection::close(conn).await;

        say(
            progress,
            "stopping the server (fast shutdown) and starting it again",
        );
        let restarted = interrupt(cluster, Interruption::Restart, DEMO).await?;

        let mut conn = crate::db::connect(&options).await?;
        let after = snapshot(&mut conn, DEMO).await?;
        let _ = sqlx::Connection::close(conn).await;
        Ok::<_, Error>((before, restarted, after))
    };
    let (result, measured) = meter.measure(DEMO, work).await;
    let sessions = meter.finish().await;
    let (before, restarted, after) = result?;

    let mut lines = crate::demo::wrapped(vec![
        format!(
            "Before: the server's main process (the postmaster) was pid {}, on port {}, \
             started at {}; articles held {} rows.",
            restarted.old.pid, restarted.old.port, before.started, before.rows
        ),
        format!(
            "A fast shutdown (SIGINT to pid {}): sessions ended, everything written out, the \
             server stopped; then started again.",
            restarted.old.pid
        ),
        format!(
            "After: pid {}, on port {}, started at {}; articles holds {} rows.",
            restarted.new.pid, restarted.new.port, after.started, after.rows
        ),
        String::new(),
        "What the server wrote to its log meanwhile:".to_string(),
    ]);
    lines.extend(log_lines(&restarted.log, RESTART_LINES));
    Ok(DemoReport::measured(
        "The server restarted".to_string(),
        lines,
        &measured,
        sessions,
    ))
}

pub(super) async fn crash(
    ctx: &DemoContext,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    const DEMO: &str = "durability.crash";
    let cluster = ctx
        .cluster
        .clone()
        .ok_or_else(|| not_owned(DEMO, "crashing it"))?;
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let options = meter.options(&format!("pglab demo: {DEMO}"));
    let work = async {
        let mut committed = crate::db::connect(&options).await?;
        reset_articles(&mut committed, DEMO).await?;
        say(progress, "transaction A: insert article 4 and commit");
        exec(&mut committed, DEMO, "running its transaction", "begin").await?;
        insert(&mut committed, 4, "Committed before the crash").await?;
        exec(&mut committed, DEMO, "running its transaction", "commit").await?;

        say(progress, "transaction B: insert article 5, no commit");
        let mut open = crate::db::connect(&options).await?;
        exec(&mut open, DEMO, "running its transaction", "begin").await?;
        insert(&mut open, 5, "Never committed").await?;
        let seen_by_b = count_articles(&mut open, DEMO).await?;
        let seen_by_a = count_articles(&mut committed, DEMO).await?;

        say(progress, "SIGKILL to the postmaster; starting it again");
        let restarted = interrupt(cluster, Interruption::Crash, DEMO).await?;
        // Both sessions died with the server: their clients learn it at their next use.
        let b_lost = sqlx::query("select 1").execute(&mut open).await.is_err();
        drop(open);
        drop(committed);

        let mut after = crate::db::connect(&options).await?;
        let survivors: Vec<(i64, String)> =
            sqlx::query_as("select id, title from articles where id in (4, 5) order by id")
                .fetch_all(&mut after)
                .await
                .map_err(crate::demo::sql(DEMO, "reading articles 4 and 5"))?;
        let rows = count_articles(&mut after, DEMO).await?;
        let _ = sqlx::Connection::close(after).await;
        Ok::<_, Error>(Crashed {
            restarted,
            seen_by_a,
            seen_by_b,
            b_lost,
            survivors,
            rows,
        })
    };
    let (result, measured) = meter.measure(DEMO, work).await;
    let sessions = meter.finish().await;
    let crashed = result?;
    Ok(DemoReport::measured(
        "The server crashed, and recovered".to_string(),
        crashed.lines(),
        &measured,
        sessions,
    ))
}

/// What the crash demo saw.
struct Crashed {
    restarted: Restarted,
    seen_by_a: i64,
    seen_by_b: i64,
    b_lost: bool,
    survivors: Vec<(i64, String)>,
    rows: i64,
}

impl Crashed {
    fn lines(&self) -> Vec<String> {
        let r = &self.restarted;
        let found = |id: i64| {
            self.survivors
                .iter()
                .find(|(i, _)| *i == id)
                .map_or("absent".to_string(), |(_, t)| format!("there: \"{t}\""))
        };
        let mut lines = crate::demo::wrapped(vec![
            "Transaction A inserted article 4 and committed.".to_string(),
            format!(
                "Transaction B inserted article 5 and did not commit: B saw {} articles, A \
                 saw {}.",
                self.seen_by_b, self.seen_by_a
            ),
            format!(
                "kill -9 {} (the postmaster, port {}): no shutdown, nothing written out. \
                 {} of its processes noticed and exited{}.",
                r.old.pid,
                r.old.port,
                r.orphans,
                if self.b_lost {
                    "; B's session is gone with them"
                } else {
                    ""
                }
            ),
            format!(
                "Started again: pid {}, on port {}. Its log since the kill:",
                r.new.pid, r.new.port
            ),
        ]);
        lines.extend(log_lines(&r.log, RECOVERY_LINES));
        lines.push(String::new());
        lines.push(format!("  article 4 (committed):     {}", found(4)));
        lines.push(format!("  article 5 (not committed): {}", found(5)));
        lines.push(format!("  articles now: {} rows", self.rows));
        lines.push(String::new());
        lines.extend(crate::demo::wrapped(vec![
            "Durability: what committed survived the crash, because its commit was in the \
             write-ahead log on disk before A was told it had committed; the restart replayed \
             that log (redo). Atomicity: B's insert was half-done work, and recovery does not \
             finish it: the row is not there."
                .to_string(),
        ]));
        lines
    }
}

/// The start time and the row count, as one session sees them.
struct Snapshot {
    started: String,
    rows: i64,
}

async fn snapshot(conn: &mut sqlx::PgConnection, demo: &'static str) -> Result<Snapshot, Error> {
    let started: String = sqlx::query_scalar(START_TIME)
        .fetch_one(&mut *conn)
        .await
        .map_err(crate::demo::sql(demo, "reading the server's start time"))?;
    let rows = count_articles(conn, demo).await?;
    Ok(Snapshot { started, rows })
}

async fn insert(conn: &mut sqlx::PgConnection, id: i64, title: &str) -> Result<(), Error> {
    sqlx::query("insert into articles (id, author_id, title) values ($1, 1, $2)")
        .bind(id)
        .bind(title)
        .execute(conn)
        .await
        .map_err(crate::demo::sql("durability.crash", "inserting an article"))?;
    Ok(())
}

/// Runs the blocking restart on a thread of its own: a crash recovery takes seconds.
async fn interrupt(
    cluster: Cluster,
    how: Interruption,
    demo: &'static str,
) -> Result<Restarted, Error> {
    tokio::task::spawn_blocking(move || cluster.interrupt(how))
        .await
        .map_err(|e| Error::Refused {
            demo,
            why: format!("the restart stopped half-way ({e})"),
        })?
        .map_err(Error::Db)
}

/// The lines of `log` that say one of `wanted`, without their time and process prefix (the
/// level, `LOG:`, stays), indented and wrapped to the report.
fn log_lines(log: &str, wanted: &[&str]) -> Vec<String> {
    let picked: Vec<String> = log
        .lines()
        .filter(|line| wanted.iter().any(|w| line.contains(w)))
        .map(|line| {
            let message = ["LOG:", "WARNING:", "FATAL:", "PANIC:"]
                .iter()
                .filter_map(|level| line.find(level))
                .min()
                .map_or(line, |at| &line[at..]);
            format!(
                "  {}",
                message.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        })
        .collect();
    if picked.is_empty() {
        return vec!["  (no such lines: the server log could not be read)".to_string()];
    }
    picked
        .iter()
        .flat_map(|line| crate::text::wrap(line, 76, "      "))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_lose_their_prefix_and_keep_their_level() {
        let log = "2026-12-03 12:00:01.123 UTC [4242] LOG:  database system was interrupted; last known up at 2026-12-03 11:59:00 UTC\n\
                   2026-12-03 12:00:01.130 UTC [4242] LOG:  checkpoint starting: end-of-recovery\n\
                   2026-12-03 12:00:01.125 UTC [4242] LOG:  redo starts at 0/1A2B3C8\n";
        let lines = log_lines(log, RECOVERY_LINES);
        assert!(lines[0].starts_with("  LOG: database system was interrupted;"));
        assert!(lines[1].starts_with("      "), "{lines:#?}");
        assert!(lines.iter().all(|l| l.chars().count() <= 76), "{lines:#?}");
        assert_eq!(lines.last().unwrap(), "  LOG: redo starts at 0/1A2B3C8");
        assert!(log_lines("", RECOVERY_LINES)[0].contains("no such lines"));
    }
}
