//! `durability.memory`: the same articles written to the in-memory store and to
//! PostgreSQL; the store killed (`SIGKILL`) and started again, then both asked again.

use super::store::{self, Store};
use super::*;
use crate::demo::meter::Meter;

const DEMO: &str = "durability.memory";
/// Inside width of the pictures' boxes.
const BOX: usize = 30;

pub(super) async fn run(
    ctx: &DemoContext,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let program = store::program()?;
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let options = meter.options(&format!("pglab demo: {DEMO}"));
    let work = async {
        say(progress, "writing the articles to PostgreSQL");
        let mut conn = crate::db::connect(&options).await?;
        reset_articles(&mut conn, DEMO).await?;
        let db_before = count_articles(&mut conn, DEMO).await?;
        let _ = sqlx::Connection::close(conn).await;

        say(progress, "starting the in-memory store");
        let mut first = Store::spawn(&program).await?;
        for (id, author, title) in ARTICLES {
            first.ask(&format!("put {id} {author} {title}")).await?;
        }
        let kept_before = first.ask_number("count", 0).await?;
        let first_pid = first.pid;

        say(progress, "killing the store and starting it again");
        first.kill().await?;
        let mut second = Store::spawn(&program).await?;
        let kept_after = second.ask_number("count", 0).await?;
        let first_article = second.ask("get 1").await?;
        let second_pid = second.pid;
        second.kill().await?;

        say(progress, "asking PostgreSQL again, on a new connection");
        let mut conn = crate::db::connect(&options).await?;
        let db_after = count_articles(&mut conn, DEMO).await?;
        let _ = sqlx::Connection::close(conn).await;
        Ok::<_, Error>(Told {
            first_pid,
            second_pid,
            kept_before,
            kept_after,
            first_article,
            db_before,
            db_after,
        })
    };
    let (result, measured) = meter.measure(DEMO, work).await;
    let sessions = meter.finish().await;
    let told = result?;
    Ok(DemoReport::measured(
        "An in-memory store, killed and started again".to_string(),
        told.lines(),
        &measured,
        sessions,
    ))
}

/// What the demo saw.
struct Told {
    first_pid: u32,
    second_pid: u32,
    kept_before: u64,
    kept_after: u64,
    first_article: String,
    db_before: i64,
    db_after: i64,
}

impl Told {
    fn lines(&self) -> Vec<String> {
        let n = ARTICLES.len();
        let mut lines = crate::demo::wrapped(vec![
            format!(
                "The in-memory store (process {}) took {n} articles; asked `count`, it said {}.",
                self.first_pid, self.kept_before
            ),
            format!(
                "PostgreSQL took the same {n} articles into the table articles: {} rows.",
                self.db_before
            ),
            String::new(),
            format!(
                "kill -9 {}, then the store started again as process {}.",
                self.first_pid, self.second_pid
            ),
        ]);
        lines.push(format!("  store: count → {}", self.kept_after));
        lines.push(format!("  store: get 1 → {}", self.first_article));
        lines.push(format!(
            "  PostgreSQL, on a new connection: {} rows",
            self.db_after
        ));
        lines.push(String::new());
        lines.extend(self.picture());
        lines.push(String::new());
        lines.extend(crate::demo::wrapped(vec![
            "The store kept its articles in a HashMap inside its own process: when the \
             process ended, so did the map. PostgreSQL had written them to its files before \
             it confirmed the INSERT, so a new process, or a new connection, finds them again."
                .to_string(),
        ]));
        lines
    }

    /// The lesson's diagram, with this run's processes and counts written in.
    fn picture(&self) -> Vec<String> {
        let mark = |kept: bool| if kept { "← kept" } else { "← lost" };
        let store = |pid: u32, count: u64, note: &str| {
            boxed(
                &format!("in-memory store · pid {pid}"),
                &[format!("articles: {count:<6} {note}")],
                BOX,
            )
        };
        let database = |count: i64, note: &str| {
            boxed(
                "PostgreSQL · articles",
                &[format!("rows: {count:<10} {note}")],
                BOX,
            )
        };
        let kept = self.kept_after >= self.kept_before;
        let mut left = vec!["before".to_string()];
        left.extend(store(self.first_pid, self.kept_before, ""));
        left.extend(database(self.db_before, ""));
        let mut right = vec!["after kill -9 and a new start".to_string()];
        right.extend(store(self.second_pid, self.kept_after, mark(kept)));
        right.extend(database(
            self.db_after,
            mark(self.db_after >= self.db_before),
        ));
        side_by_side(&left, &right, 3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_picture_fits_a_report_line() {
        let told = Told {
            first_pid: 4_194_303,
            second_pid: 4_194_304,
            kept_before: 3,
            kept_after: 0,
            first_article: "none".into(),
            db_before: 3,
            db_after: 3,
        };
        let picture = told.picture();
        assert!(
            picture.iter().all(|l| l.chars().count() <= 76),
            "{picture:#?}"
        );
        assert!(picture.iter().any(|l| l.contains("pid 4194304")));
        assert!(picture.iter().any(|l| l.contains("← lost")));
    }
}
