//! The in-memory article store: the "server" of the chapters before the database, which
//! keeps its articles in a Rust `HashMap` and nowhere else. It runs as a process of its own
//! (`pglab __store`, hidden), so the lesson can kill it and start it again for real; the
//! demo talks to it over its standard input and output, one line per request and one per
//! answer:
//!
//! | request | answer |
//! |---|---|
//! | (on start) | `ready PID` |
//! | `put ID AUTHOR TITLE` | `ok COUNT` (the article stored, however unknown AUTHOR is) |
//! | `get ID` | `row ID AUTHOR TITLE` or `none` |
//! | `count` | `count N` |
//! | `fill N` | `ok COUNT`: N generated articles, ids 1..=N, 50 authors |
//! | `lookups N` | `ns TOTAL HITS`: N lookups by key of the store's own map, timed in the store |
//! | `count_by_author` | `ns TOTAL GROUPS`: articles counted per author in a loop, timed |
//!
//! The store ends when its input closes (the demo, or the lab, went away), so it never
//! outlives the program that started it.
//!
//! Which program runs it: `PGLAB_PROGRAM` when set, otherwise the running program. That is
//! `pglab` itself everywhere but in test binaries, which set nothing in their environment
//! and start the store from `env!("CARGO_BIN_EXE_pglab")` through [`Store::spawn`] instead.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::demo::Error;

/// The hidden subcommand that runs a store; see `cli`.
pub const STORE_COMMAND: &str = "__store";
/// Overrides the program that runs the store (a test harness, an installed copy elsewhere).
pub const PROGRAM_VAR: &str = "PGLAB_PROGRAM";
/// Longest the demo waits for one answer: the slowest request loops over 100,000 articles.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
/// Authors the generated articles are spread over.
const AUTHORS: i64 = 50;

/// One article, as the store keeps it.
#[derive(Debug, Clone)]
struct Article {
    author: i64,
    title: String,
}

/// The store's main loop (`pglab __store`): answers requests until its input closes.
pub fn serve() -> std::io::Result<()> {
    let stdin = std::io::stdin().lock();
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready {}", std::process::id())?;
    out.flush()?;
    let mut articles = HashMap::new();
    for line in stdin.lines() {
        writeln!(out, "{}", answer(&mut articles, &line?))?;
        out.flush()?;
    }
    Ok(())
}

fn answer(articles: &mut HashMap<i64, Article>, request: &str) -> String {
    let mut words = request.splitn(4, ' ');
    let command = words.next().unwrap_or_default();
    let mut number = || words.next().and_then(|w| w.parse::<i64>().ok());
    match command {
        "put" => {
            let (Some(id), Some(author)) = (number(), number()) else {
                return "error: put ID AUTHOR TITLE".into();
            };
            let title = words.next().unwrap_or_default().to_string();
            articles.insert(id, Article { author, title });
            format!("ok {}", articles.len())
        }
        "get" => match number().and_then(|id| articles.get(&id).map(|a| (id, a))) {
            Some((id, a)) => format!("row {id} {} {}", a.author, a.title),
            None => "none".into(),
        },
        "count" => format!("count {}", articles.len()),
        "fill" => {
            for id in 1..=number().unwrap_or(0) {
                let author = id % AUTHORS + 1;
                let title = format!("article {id}");
                articles.insert(id, Article { author, title });
            }
            format!("ok {}", articles.len())
        }
        "lookups" => {
            let n = number().unwrap_or(0).max(0);
            let keys = articles.len().max(1) as u64;
            // Keys scattered by a multiplicative step, computed before the clock starts.
            let wanted: Vec<i64> = (0..n as u64)
                .map(|i| (i.wrapping_mul(2_654_435_761) % keys + 1) as i64)
                .collect();
            let started = Instant::now();
            let hits = wanted
                .iter()
                .filter(|id| std::hint::black_box(articles.get(id)).is_some())
                .count();
            format!("ns {} {hits}", started.elapsed().as_nanos())
        }
        "count_by_author" => {
            let started = Instant::now();
            let mut per_author: HashMap<i64, u64> = HashMap::new();
            for article in articles.values() {
                *per_author.entry(article.author).or_default() += 1;
            }
            let groups = std::hint::black_box(per_author).len();
            format!("ns {} {groups}", started.elapsed().as_nanos())
        }
        other => format!("error: unknown request {other:?}"),
    }
}

/// The program that runs the store: [`PROGRAM_VAR`], else this program.
pub fn program() -> Result<PathBuf, Error> {
    match std::env::var_os(PROGRAM_VAR).filter(|p| !p.is_empty()) {
        Some(program) => Ok(PathBuf::from(program)),
        None => std::env::current_exe().map_err(|cause| {
            Error::Db(crate::db::Error::Io {
                what: "cannot find the pglab program to run the in-memory store".into(),
                cause,
            })
        }),
    }
}

/// A running store, seen from the demo.
pub struct Store {
    child: Child,
    input: ChildStdin,
    answers: Lines<BufReader<ChildStdout>>,
    pub pid: u32,
}

impl Store {
    /// Starts `program __store` and waits for its `ready`.
    pub async fn spawn(program: &Path) -> Result<Self, Error> {
        let mut child = Command::new(program)
            .arg(STORE_COMMAND)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // A demo that fails or is stopped half-way takes its store with it.
            .kill_on_drop(true)
            .spawn()
            .map_err(|cause| {
                Error::Db(crate::db::Error::Io {
                    what: format!("cannot start the in-memory store ({})", program.display()),
                    cause,
                })
            })?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(broken("it has no pipes"));
        };
        let mut store = Self {
            child,
            input,
            answers: BufReader::new(output).lines(),
            pid: 0,
        };
        let ready = store.read_answer().await.map_err(|_| {
            broken(&format!(
                "{} did not answer `ready`: is it the pglab program? Set {PROGRAM_VAR} to it",
                program.display()
            ))
        })?;
        store.pid = ready
            .strip_prefix("ready ")
            .and_then(|pid| pid.parse().ok())
            .ok_or_else(|| broken(&format!("it said {ready:?} instead of `ready PID`")))?;
        Ok(store)
    }

    /// Sends one request and returns its answer.
    pub async fn ask(&mut self, request: &str) -> Result<String, Error> {
        self.input
            .write_all(format!("{request}\n").as_bytes())
            .await
            .map_err(|e| broken(&format!("it stopped listening ({e})")))?;
        self.input
            .flush()
            .await
            .map_err(|e| broken(&format!("it stopped listening ({e})")))?;
        self.read_answer().await
    }

    /// A number from an answer `PREFIX N …`: the `index`-th word after the prefix.
    pub async fn ask_number(&mut self, request: &str, index: usize) -> Result<u64, Error> {
        let answer = self.ask(request).await?;
        answer
            .split(' ')
            .nth(index + 1)
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| broken(&format!("it answered {request:?} with {answer:?}")))
    }

    /// The first `N` numbers of an answer `PREFIX N1 N2 …`, from one request: a timing
    /// and what it counted belong to the same run.
    pub async fn ask_numbers<const N: usize>(&mut self, request: &str) -> Result<[u64; N], Error> {
        let answer = self.ask(request).await?;
        let mut words = answer.split(' ').skip(1);
        let mut numbers = [0; N];
        for number in &mut numbers {
            *number = words
                .next()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| broken(&format!("it answered {request:?} with {answer:?}")))?;
        }
        Ok(numbers)
    }

    async fn read_answer(&mut self) -> Result<String, Error> {
        match tokio::time::timeout(ANSWER_TIMEOUT, self.answers.next_line()).await {
            Ok(Ok(Some(line))) => Ok(line),
            Ok(Ok(None)) => Err(broken("it exited")),
            Ok(Err(e)) => Err(broken(&format!("its answer could not be read ({e})"))),
            Err(_) => Err(broken(&format!(
                "it did not answer within {} s",
                ANSWER_TIMEOUT.as_secs()
            ))),
        }
    }

    /// Kills the store the hard way (`SIGKILL`, as a crash or a deploy would end it) and
    /// waits until it is gone.
    pub async fn kill(mut self) -> Result<(), Error> {
        self.child
            .kill()
            .await
            .map_err(|e| broken(&format!("it could not be killed ({e})")))
    }
}

fn broken(why: &str) -> Error {
    Error::Db(crate::db::Error::Io {
        what: "the in-memory store failed".into(),
        cause: std::io::Error::other(why.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_keeps_what_it_is_given_and_nothing_checks_the_author() {
        let mut articles = HashMap::new();
        assert_eq!(answer(&mut articles, "put 1 1 Hello there"), "ok 1");
        assert_eq!(answer(&mut articles, "put 2 999 Nobody wrote this"), "ok 2");
        assert_eq!(answer(&mut articles, "get 1"), "row 1 1 Hello there");
        assert_eq!(answer(&mut articles, "get 3"), "none");
        assert_eq!(answer(&mut articles, "count"), "count 2");
        assert!(answer(&mut articles, "put x").starts_with("error"));
    }

    #[test]
    fn generated_articles_are_found_and_grouped() {
        let mut articles = HashMap::new();
        assert_eq!(answer(&mut articles, "fill 1000"), "ok 1000");
        let lookups = answer(&mut articles, "lookups 500");
        assert!(lookups.ends_with(" 500"), "{lookups}");
        let groups = answer(&mut articles, "count_by_author");
        assert!(groups.ends_with(" 50"), "{groups}");
    }
}
