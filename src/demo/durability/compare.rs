//! `durability.compare`: the chapter's comparison of memory and database, each cell measured
//! in this run: a lookup by key, an aggregate over 100,000 articles, what a second process
//! sees, and an article whose author does not exist.

use std::time::{Duration, Instant};

use super::store::{self, Store};
use super::*;
use crate::data::ResultSet;
use crate::demo::meter::Meter;

const DEMO: &str = "durability.compare";
/// Articles both sides aggregate over.
const ROWS: i64 = 100_000;
/// In-memory lookups timed together (one lookup is too short for the clock).
const MEMORY_LOOKUPS: i64 = 100_000;
/// Database lookups, each one round trip, each timed.
const DB_LOOKUPS: usize = 200;
/// Runs of the in-memory aggregate; the median is shown. The database's runs once: the
/// same statement again would be the repeat the lab's log flags, and rightly.
const AGGREGATE_RUNS: usize = 5;
/// The id the store's orphan gets: past the generated ones, so none is replaced.
const ORPHAN_IN_MEMORY: i64 = ROWS + 1;
/// The id the foreign-key check tries; no user has it.
const NO_SUCH_AUTHOR: i64 = 999;

/// What the demo measured.
struct Measured {
    memory_lookup: Duration,
    db_lookup: Duration,
    memory_aggregate: Duration,
    db_aggregate: Duration,
    groups: u64,
    first_store: (u32, u64),
    second_store: (u32, u64),
    sessions: (i32, i32),
    seen_by_b: Option<String>,
    orphan_in_memory: String,
    orphan_in_db: Option<(String, String)>,
}

pub(super) async fn run(
    ctx: &DemoContext,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let program = store::program()?;
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let options = meter.options(&format!("pglab demo: {DEMO}"));
    let work = async {
        say(
            progress,
            "filling the in-memory store with 100,000 articles",
        );
        let mut first = Store::spawn(&program).await?;
        first.ask(&format!("fill {ROWS}")).await?;
        let total = first
            .ask_number(&format!("lookups {MEMORY_LOOKUPS}"), 0)
            .await?;
        let memory_lookup = Duration::from_nanos(total / MEMORY_LOOKUPS as u64);
        let mut runs = Vec::new();
        let mut groups = 0;
        for _ in 0..AGGREGATE_RUNS {
            let [nanos, counted] = first.ask_numbers("count_by_author").await?;
            runs.push(Duration::from_nanos(nanos));
            groups = counted;
        }
        let memory_aggregate = median(runs);

        say(progress, "the same 100,000 articles in PostgreSQL");
        let mut a = crate::db::connect(&options).await?;
        reset_articles(&mut a, DEMO).await?;
        let step = "building the 100,000 articles";
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "create temporary table article_rows as
                 select g::bigint as id, (g % 50 + 1)::bigint as author_id,
                        'article ' || g as title
                   from generate_series(1, {ROWS}) g;
             alter table article_rows add primary key (id);
             analyze article_rows"
        )))
        .execute(&mut a)
        .await
        .map_err(crate::demo::sql(DEMO, step))?;

        say(progress, "200 lookups by key, one round trip each");
        let mut runs = Vec::new();
        for i in 0..DB_LOOKUPS as i64 {
            let id = (i * 7_919) % ROWS + 1;
            let started = Instant::now();
            let _: String = sqlx::query_scalar("select title from article_rows where id = $1")
                .bind(id)
                .fetch_one(&mut a)
                .await
                .map_err(crate::demo::sql(DEMO, "looking an article up"))?;
            runs.push(started.elapsed());
        }
        let db_lookup = median(runs);

        say(progress, "count per author with GROUP BY");
        let started = Instant::now();
        let _: Vec<(i64, i64)> =
            sqlx::query_as("select author_id, count(*) from article_rows group by author_id")
                .fetch_all(&mut a)
                .await
                .map_err(crate::demo::sql(DEMO, "counting per author"))?;
        let db_aggregate = started.elapsed();

        say(progress, "a second store, and a second session");
        let mut second = Store::spawn(&program).await?;
        let second_count = second.ask_number("count", 0).await?;
        let first_count = first.ask_number("count", 0).await?;
        let mut b = crate::db::connect(&options).await?;
        sqlx::query("insert into articles (id, author_id, title) values ($1, $2, $3)")
            .bind(6_i64)
            .bind(1_i64)
            .bind("Written by A")
            .execute(&mut a)
            .await
            .map_err(crate::demo::sql(DEMO, "writing in session A"))?;
        let seen_by_b: Option<String> =
            sqlx::query_scalar("select title from articles where id = $1")
                .bind(6_i64)
                .fetch_optional(&mut b)
                .await
                .map_err(crate::demo::sql(DEMO, "reading in session B"))?;
        let sessions = (
            backend_pid(&mut a, DEMO).await?,
            backend_pid(&mut b, DEMO).await?,
        );
        let _ = sqlx::Connection::close(b).await;

        say(progress, "an article by an author who does not exist");
        let orphan_in_memory = first
            .ask(&format!(
                "put {ORPHAN_IN_MEMORY} {NO_SUCH_AUTHOR} Nobody wrote this"
            ))
            .await?;
        let refused =
            sqlx::query("insert into articles (id, author_id, title) values ($1, $2, $3)")
                .bind(7_i64)
                .bind(NO_SUCH_AUTHOR)
                .bind("Nobody wrote this")
                .execute(&mut a)
                .await;
        let orphan_in_db = refusal(DEMO, "inserting an article by nobody", refused)?
            .map(|failure| (failure.sqlstate, failure.message));
        // Back to the three articles every demo starts from; the temporary table goes with
        // the session.
        reset_articles(&mut a, DEMO).await?;
        let _ = sqlx::Connection::close(a).await;
        let first_pid = first.pid;
        first.kill().await?;
        let second_pid = second.pid;
        second.kill().await?;
        Ok::<_, Error>(Measured {
            memory_lookup,
            db_lookup,
            memory_aggregate,
            db_aggregate,
            groups,
            first_store: (first_pid, first_count),
            second_store: (second_pid, second_count),
            sessions,
            seen_by_b,
            orphan_in_memory,
            orphan_in_db,
        })
    };
    let (result, measured) = meter.measure(DEMO, work).await;
    let sessions = meter.finish().await;
    let m = result?;
    let mut report = DemoReport::measured(
        "In memory or in PostgreSQL, measured".to_string(),
        m.lines(),
        &measured,
        sessions,
    );
    report.table = Some(m.table());
    Ok(report)
}

impl Measured {
    fn table(&self) -> ResultSet {
        let cell = |s: String| Some(s);
        let rows = vec![
            vec![
                cell("lookup by key".into()),
                cell(short(self.memory_lookup)),
                cell(short(self.db_lookup)),
            ],
            vec![
                cell("count per author, 100,000 rows".into()),
                cell(short(self.memory_aggregate)),
                cell(short(self.db_aggregate)),
            ],
            vec![
                cell("a second process reads".into()),
                cell(format!(
                    "{} articles",
                    crate::text::group(self.second_store.1 as f64)
                )),
                cell(match &self.seen_by_b {
                    Some(_) => "A's new article".into(),
                    None => "nothing (!)".into(),
                }),
            ],
            vec![
                cell(format!("an article by user {NO_SUCH_AUTHOR}")),
                cell(if self.orphan_in_memory.starts_with("ok") {
                    "stored".into()
                } else {
                    self.orphan_in_memory.clone()
                }),
                cell(match &self.orphan_in_db {
                    Some((sqlstate, _)) => format!("refused ({sqlstate})"),
                    None => "stored (!)".into(),
                }),
            ],
        ];
        ResultSet::new(
            vec![
                "measured now".into(),
                "in-memory store".into(),
                "PostgreSQL".into(),
            ],
            rows,
        )
    }

    fn lines(&self) -> Vec<String> {
        let ratio = |db: Duration, mem: Duration| db.as_secs_f64() / mem.as_secs_f64().max(1e-9);
        let mut lines = vec![
            format!(
                "Lookup by key: the store's HashMap, {} lookups timed together inside the \
                 store, {} each on average; PostgreSQL, the primary key of a 100,000-row \
                 table, {DB_LOOKUPS} queries each timed from here, one round trip each, median \
                 {}. Arithmetic: {}× as long.",
                crate::text::group(MEMORY_LOOKUPS as f64),
                short(self.memory_lookup),
                short(self.db_lookup),
                crate::text::group(ratio(self.db_lookup, self.memory_lookup)),
            ),
            format!(
                "Count per author ({} authors): a loop over the store's map, median of \
                 {AGGREGATE_RUNS} runs, {}; GROUP BY on the server, one run, the round trip \
                 included, {}.",
                self.groups,
                short(self.memory_aggregate),
                short(self.db_aggregate),
            ),
            format!(
                "A second process: a second store (pid {}) started empty while the first (pid {}) \
                 held {} articles: each process has its own memory. A second session (server \
                 process {}) read the article session A (process {}) had just written: {}.",
                self.second_store.0,
                self.first_store.0,
                crate::text::group(self.first_store.1 as f64),
                self.sessions.1,
                self.sessions.0,
                self.seen_by_b
                    .as_deref()
                    .map_or("not found (!)".to_string(), |t| format!("\"{t}\"")),
            ),
        ];
        lines.push(match &self.orphan_in_db {
            Some((sqlstate, message)) => format!(
                "An article by user {NO_SUCH_AUTHOR}, who does not exist: the store kept it \
                 (it answered `{}`, its new count): only code you write could have checked; \
                 PostgreSQL refused it, SQLSTATE \
                 {sqlstate}: {message}.",
                self.orphan_in_memory
            ),
            None => format!(
                "An article by user {NO_SUCH_AUTHOR}: both stored it (!): the foreign key is \
                 missing."
            ),
        });
        let mut spaced = Vec::new();
        for line in lines {
            if !spaced.is_empty() {
                spaced.push(String::new());
            }
            spaced.push(line);
        }
        crate::demo::wrapped(spaced)
    }
}

/// The middle of `runs` (the upper middle of an even count).
fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs.get(runs.len() / 2).copied().unwrap_or_default()
}

/// A duration in the unit that suits it: `38 ns`, `142 µs`, `1.9 ms`.
fn short(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 10_000 {
        format!("{:.1} µs", ns as f64 / 1_000.0)
    } else if ns < 1_000_000 {
        format!("{:.0} µs", ns as f64 / 1_000.0)
    } else {
        crate::text::duration(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_their_own_unit() {
        assert_eq!(short(Duration::from_nanos(38)), "38 ns");
        assert_eq!(short(Duration::from_nanos(4_250)), "4.2 µs");
        assert_eq!(short(Duration::from_micros(142)), "142 µs");
        assert_eq!(short(Duration::from_micros(1_900)), "1.9 ms");
    }

    #[test]
    fn the_median_is_the_middle_run() {
        let runs = [5, 1, 3].map(Duration::from_millis).to_vec();
        assert_eq!(median(runs), Duration::from_millis(3));
        assert_eq!(median(Vec::new()), Duration::ZERO);
    }
}
