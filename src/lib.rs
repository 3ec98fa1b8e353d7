//! pglab: a terminal lab for the database chapter of a backend course, on a real PostgreSQL.
//!
//! Module map, bottom to top:
//! - data (bottom): [`data`] (the values I/O hands the core: result sets, statement outcomes,
//!   the server's errors, the proxy's observations, demo reports and progress, what was
//!   gathered for an exercise attempt); it imports none of the layers above it
//! - core (pure): [`app`] (the lab's state and its update), [`keymap`] (every key, once),
//!   [`scroll`] (scroll intents the model records and the views resolve), [`layout`] (where
//!   each pane goes: geometry shared by the model and the views),
//!   [`audit`] (audit events read back: who changed which row, when, from where; filters,
//!   the field diff, suspicious-change rules, plain-text rendering),
//!   [`lesson`] (lessons as data: the catalogue and its checks, grading attempts, progress),
//!   [`sql`] (reading SQL without running it: fingerprints, kinds, lint, N+1),
//!   [`conninfo`] (connection URLs taken apart, each part labelled, passwords masked),
//!   [`query_log`] (the recorder: round trips, totals, scopes, warnings),
//!   [`explain`] (EXPLAIN plans: the tree, loop- and worker-aware metrics, plain-text
//!   rendering, diffs), [`hash`] (one stable hash), [`text`] (cutting and wrapping by display width; durations, counts and numbers as pglab writes them); `app` and the views take
//!   what I/O produced from `data` and name no I/O module
//! - I/O: [`db`] (the private cluster or `DATABASE_URL`, roles, schema, seed, reset, status,
//!   grading's reads; all SQL the app issues), [`proxy`] (the observing wire-protocol proxy:
//!   round trips, latency injection), [`presenter`] (the socket a lab and `pglab notes`
//!   talk over)
//! - domain demos: [`demo`] (named experiments lessons run and measure: the N+1 loops, the
//!   index lesson's plans and builds)
//! - views (pure): [`ui`] (the screens, and the line builders the plain-text runner shares)
//! - [`bounded_read`]: reading a file someone named (lessons, progress, a statement), never
//!   more than a limit and, where a file is expected, only a regular file
//! - edges: [`cli`] (command line and dispatch), [`config`] (data directory, resolution),
//!   [`terminal`] (taking and restoring the terminal), [`runtime`] (the lab's event loop),
//!   [`exit`] (the exit codes, and the trait by which an error says its own)
//! - [`testing`]: the test harness (one cluster per test binary, a fresh database per test)

pub mod app;
pub mod audit;
pub mod bounded_read;
pub mod cli;
pub mod config;
pub mod conninfo;
pub mod data;
pub mod db;
pub mod demo;
pub mod exit;
pub mod explain;
pub mod hash;
pub mod keymap;
pub mod layout;
pub mod lesson;
pub mod presenter;
pub mod proxy;
pub mod query_log;
pub mod runtime;
pub mod scroll;
pub mod sql;
pub mod terminal;
pub mod testing;
pub mod text;
pub mod ui;

use std::error::Error as StdError;
use std::process::ExitCode;

pub use exit::{EXIT_FAILURE, EXIT_REFUSED, EXIT_UNAVAILABLE, ExitStatus};

/// Runs the parsed command line.
pub fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    cli::dispatch(cli)?;
    Ok(ExitCode::SUCCESS)
}

/// The exit code for an error that ended the program (documented in `pglab --help`).
pub fn exit_code_for(error: &anyhow::Error) -> ExitCode {
    ExitCode::from(exit_status(error))
}

/// [`exit_code_for`] as a number: the code of the first error in the chain that knows its
/// code (an unavailable database stays 3 under any context or wrapper), else 1.
pub fn exit_status(error: &anyhow::Error) -> u8 {
    error
        .chain()
        .find_map(known_exit_code)
        .unwrap_or(EXIT_FAILURE)
}

/// The code `error` says, if its type is one that knows. A trait object cannot be asked for
/// another trait, so the types are listed: every error type implementing [`ExitStatus`].
fn known_exit_code(error: &(dyn StdError + 'static)) -> Option<u8> {
    fn code_of<T: ExitStatus + StdError + 'static>(error: &(dyn StdError + 'static)) -> Option<u8> {
        error.downcast_ref::<T>().map(ExitStatus::exit_code)
    }
    const KNOWN: [fn(&(dyn StdError + 'static)) -> Option<u8>; 5] = [
        code_of::<db::Error>,
        code_of::<db::console::ExecuteError>,
        code_of::<demo::Error>,
        code_of::<cli::Refused>,
        code_of::<proxy::tls::ConfigError>,
    ];
    KNOWN.iter().find_map(|code| code(error))
}

#[cfg(test)]
mod tests {
    use anyhow::Context;

    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("reading the plan")]
    struct Wrapper(#[source] db::Error);

    fn lost() -> db::console::ExecuteError {
        db::console::ExecuteError::Connection(sqlx::Error::PoolClosed)
    }

    #[test]
    fn the_first_error_in_the_chain_that_knows_its_code_decides() {
        let unavailable = || db::Error::Unavailable("the server stopped".into());
        let cases: [(anyhow::Error, u8); 9] = [
            (anyhow::Error::new(unavailable()), EXIT_UNAVAILABLE),
            // A transparent wrapper: the db error is not in the chain, the demo error answers.
            (demo::Error::Db(unavailable()).into(), EXIT_UNAVAILABLE),
            (
                Err::<(), _>(demo::Error::Db(unavailable()))
                    .context("running lesson 9")
                    .unwrap_err(),
                EXIT_UNAVAILABLE,
            ),
            (
                anyhow::Error::new(unavailable()).context("pglab db status"),
                EXIT_UNAVAILABLE,
            ),
            (Wrapper(unavailable()).into(), EXIT_UNAVAILABLE),
            (
                demo::Error::Statement {
                    demo: "n_plus_one.lazy",
                    step: "loading the posts",
                    cause: Box::new(lost()),
                }
                .into(),
                EXIT_UNAVAILABLE,
            ),
            (
                anyhow::Error::new(db::Error::Refused("--users must be positive".into()))
                    .context("pglab seed"),
                EXIT_REFUSED,
            ),
            (
                anyhow::Error::new(cli::Refused("0.0.0.0:5555 is reachable".into()))
                    .context("pglab proxy"),
                EXIT_REFUSED,
            ),
            (
                anyhow::anyhow!("psql ended with exit status 2"),
                EXIT_FAILURE,
            ),
        ];
        for (error, code) in cases {
            assert_eq!(exit_status(&error), code, "{error:#}");
        }
    }
}
