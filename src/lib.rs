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
//!   [`query_log`] (the recorder: round trips, totals, scopes, warnings),
//!   [`explain`] (EXPLAIN plans: the tree, loop- and worker-aware metrics, plain-text
//!   rendering, diffs), [`wrap`] (word wrapping by display width); `app` and the views take
//!   what I/O produced from `data` and name no I/O module
//! - I/O: [`db`] (the private cluster or `DATABASE_URL`, roles, schema, seed, reset, status,
//!   grading's reads; all SQL the app issues), [`proxy`] (the observing wire-protocol proxy:
//!   round trips, latency injection)
//! - domain demos: [`demo`] (named experiments lessons run and measure: the N+1 loops, the
//!   index lesson's plans and builds)
//! - views (pure): [`ui`] (the screens, and the line builders the plain-text runner shares)
//! - edges: [`cli`] (command line and dispatch), [`config`] (data directory, resolution),
//!   [`terminal`] (taking and restoring the terminal), [`runtime`] (the lab's event loop)
//! - [`testing`]: the test harness (one cluster per test binary, a fresh database per test)

pub mod app;
pub mod audit;
pub mod cli;
pub mod config;
pub mod data;
pub mod db;
pub mod demo;
pub mod explain;
pub mod keymap;
pub mod layout;
pub mod lesson;
pub mod proxy;
pub mod query_log;
pub mod runtime;
pub mod scroll;
pub mod sql;
pub mod terminal;
pub mod testing;
pub mod ui;
pub mod wrap;

use std::process::ExitCode;

/// Exit code: the database could not be found, started or reached.
pub const EXIT_UNAVAILABLE: u8 = 3;
/// Exit code: the request was refused (e.g. an absurd seed size).
pub const EXIT_REFUSED: u8 = 4;

/// Runs the parsed command line.
pub fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    cli::dispatch(cli)?;
    Ok(ExitCode::SUCCESS)
}

/// The exit code for an error that ended the program (documented in `pglab --help`).
pub fn exit_code_for(error: &anyhow::Error) -> ExitCode {
    use db::Error as E;
    match error.downcast_ref::<db::Error>() {
        Some(
            E::NoBinaries
            | E::BadBinDir { .. }
            | E::DataDir { .. }
            | E::NotTraversable { .. }
            | E::NoServiceUser
            | E::Initdb { .. }
            | E::StartFailed { .. }
            | E::StartTimeout { .. }
            | E::Connect { .. }
            | E::ConnectTimeout { .. }
            | E::ServerTooOld { .. }
            | E::Io { .. }
            | E::Damaged { .. }
            | E::Unavailable(_),
        ) => ExitCode::from(EXIT_UNAVAILABLE),
        Some(E::Refused(_)) => ExitCode::from(EXIT_REFUSED),
        _ => ExitCode::FAILURE,
    }
}
