//! The command line: what `pglab` accepts (clap), and the dispatch to each command. Commands
//! write plain text to stdout; errors travel up to `main`.

mod db;
mod seed;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::db::LabConfig;
use crate::db::cluster::{Layout, serve_keeper};

/// A terminal lab for the database chapter of a backend course, running on a real PostgreSQL.
///
/// Without DATABASE_URL, pglab runs its own private PostgreSQL in the data directory, created
/// on first use and stopped when the last pglab exits.
#[derive(Debug, Parser)]
#[command(name = "pglab", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// Use this PostgreSQL (13 or newer) instead of pglab's private one, e.g. a Supabase URL.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Where pglab keeps its private database, logs and progress.
    /// [default: ~/.local/share/pglab; /var/lib/pglab for root]
    #[arg(long, env = "PGLAB_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

const EXIT_CODES: &str = "\
Exit codes: 0 success, 1 failure, 2 bad command line, 3 database unavailable, 4 request refused";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect and manage the lab database.
    #[command(subcommand)]
    Db(DbCommand),

    /// Add generated users and posts to the lab database (for the index lessons).
    Seed(SeedArgs),

    /// Keeps the private server running for the labs sharing a data directory (internal).
    #[command(name = crate::db::cluster::KEEPER_COMMAND, hide = true)]
    Keeper,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Start the database if needed and report where it lives, its version and its size.
    Status,
    /// Print the connection URL (with the password, for tools; the server must be running).
    Url {
        /// The owner role's URL instead of the learner's.
        #[arg(long)]
        owner: bool,
    },
    /// Open psql on the lab database as the learner.
    Psql {
        /// Connect as the owner role instead.
        #[arg(long)]
        owner: bool,
        /// Arguments passed on to psql, after `--`.
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Keep the database running until Ctrl-C, for other programs to connect to.
    Serve,
    /// Stop the private database server now (open labs lose their connections).
    Stop,
    /// Return the lab database to the seeded state (your progress is kept).
    Reset,
}

#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// How many users to add (1 to 10,000,000), spread over the three tenants.
    #[arg(long, allow_negative_numbers = true)]
    pub users: i64,
    /// How many posts each new user writes (0 to 1,000).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub posts_per_user: i64,
}

/// Runs `cli`; see [`crate::run`].
pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let config = LabConfig::from_cli(&cli)?;
    match cli.command.unwrap_or(Command::Db(DbCommand::Status)) {
        Command::Keeper => Ok(serve_keeper(Layout::new(config.data_dir))?),
        Command::Db(DbCommand::Stop) => db::stop(&config),
        Command::Db(DbCommand::Url { owner }) => db::url(&config, owner),
        Command::Db(DbCommand::Status) => block_on(db::status(&config)),
        Command::Db(DbCommand::Psql { owner, args }) => block_on(db::psql(&config, owner, &args)),
        Command::Db(DbCommand::Serve) => block_on(db::serve(&config)),
        Command::Db(DbCommand::Reset) => block_on(db::reset(&config)),
        Command::Seed(args) => block_on(seed::run(&config, &args)),
    }
}

/// The keeper and the commands that only read files stay synchronous; the rest run here.
fn block_on(task: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(task)
}
