//! The command line: what `pglab` accepts (clap), and the dispatch to each command. Commands
//! write plain text to stdout; errors travel up to `main`.

mod audit;
mod db;
mod explain;
pub mod lab;
pub mod lessons;
mod notes;
mod proxy;
mod proxy_log;
mod schema;
mod seed;
mod stdout;
mod tables;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::db::LabConfig;
use crate::db::cluster::{Layout, serve_keeper};
pub use stdout::{EXIT_OUTPUT_CLOSED, output_closed, stdout};

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

    /// The lessons folder (holding index.toml). [default: the lessons built into pglab]
    #[arg(long, env = "PGLAB_LESSONS", global = true, value_name = "DIR")]
    pub lessons: Option<PathBuf>,

    /// Where pglab keeps its private database, logs and progress.
    /// [default: ~/.local/share/pglab; /var/lib/pglab for root]
    #[arg(long, env = "PGLAB_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Colours for the lab's screens: light is for projectors with a white background.
    /// An explicit theme overrides NO_COLOR. [default: dark, or no colour with NO_COLOR]
    #[arg(long, env = "PGLAB_THEME", global = true, value_name = "THEME")]
    pub theme: Option<crate::ui::theme::ThemeName>,

    /// Presenting mode, for a projected screen: presenter notes stay off it (they go to
    /// `pglab notes` in another terminal), headline numbers are drawn large,
    /// PageDown/PageUp (a presentation clicker) step through the lesson and b or . blanks
    /// the screen. F12 in the lab turns it on and off.
    #[arg(long)]
    pub present: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

const EXIT_CODES: &str = "\
Exit codes: 0 success, 1 failure, 2 bad command line, 3 database unavailable, 4 request refused;
141 when the reader of the output went away (`| head`)";

/// A request the command line refuses before doing anything (exit code 4). The message says
/// what was asked and how to ask for it if it is really meant.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

impl crate::exit::ExitStatus for Refused {
    fn exit_code(&self) -> u8 {
        crate::exit::EXIT_REFUSED
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect and manage the lab database.
    #[command(subcommand)]
    Db(DbCommand),

    /// Add generated users and posts to the lab database (for the index lessons).
    Seed(SeedArgs),

    /// Put the observing proxy in front of the lab database and log every round trip.
    ///
    /// Point any program (psql, your web app) at the address it prints instead of the
    /// database: it counts each round trip, flags N+1 loops and tenancy or soft-delete
    /// mistakes, and can simulate a distant server with --latency.
    Proxy(ProxyArgs),

    /// Show the plan of one SQL statement, run as the learner, with what to fix and why.
    ///
    /// Runs EXPLAIN (ANALYZE, BUFFERS): the statement really runs, and a statement that
    /// changes data has its changes rolled back.
    Explain(ExplainArgs),

    /// Show the audit log: who changed which row, when, from where, old → new.
    ///
    /// Reads the log the database's trigger writes (every change, however it was made),
    /// newest first; with --app, the application's own `audit_logs` instead.
    Audit(AuditArgs),

    /// The schema map: the server, its databases and schemas, each table's columns (type,
    /// null, default, keys) and the foreign keys between tables, read from the live catalog
    /// as the learner.
    Schema {
        /// Only these tables of the lessons' schema (and the foreign keys that reach them).
        #[arg(value_name = "TABLE")]
        tables: Vec<String>,
    },

    /// The tables view: chosen tables side by side with their live rows, each row's tenant
    /// (its organization_id), soft-deleted rows marked ✗, and the foreign keys between
    /// the tables, read as the learner.
    Tables {
        /// Up to 4 tables of the lessons' schema; organizations, users and posts when none.
        #[arg(value_name = "TABLE")]
        tables: Vec<String>,
    },

    /// The presenter view: the projected lab's speaker notes, in a terminal of its own.
    ///
    /// Follows a pglab running on the same data directory (start either first), shows the
    /// current step's presenter notes, what the next key press does, and the time against
    /// the lesson's plan; →, ← and Enter drive the lab from here. For a second machine,
    /// run it over ssh on the presenting one.
    Notes,

    /// List the lessons, check them all, or play one as plain text.
    #[command(subcommand)]
    Lessons(LessonsCommand),

    /// Keeps the private server running for the labs sharing a data directory (internal).
    #[command(name = crate::db::cluster::KEEPER_COMMAND, hide = true)]
    Keeper,

    /// The first lesson's in-memory article store, talking on stdin/stdout (internal).
    #[command(name = crate::demo::durability::STORE_COMMAND, hide = true)]
    Store,
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

#[derive(Debug, Subcommand)]
pub enum LessonsCommand {
    /// The lessons in order, with your progress.
    List,
    /// Validate every lesson file, then run every lesson's SQL, demos and reference
    /// solutions on a fresh copy of the story database (your own database is not touched).
    Check,
    /// Play a lesson as plain text: its prose, diagrams, and its SQL and demos run live.
    Run {
        /// The lesson's id or diagram number, e.g. `n-plus-one` or `8`.
        id: String,
        /// `markdown` writes a handout: the lesson as played now, with this run's
        /// measurements, every diagram layer, and no exercise solutions.
        #[arg(long, value_enum, default_value_t = RunFormat::Text)]
        format: RunFormat,
    },
}

/// How `pglab lessons run` prints a lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RunFormat {
    /// Plain text for the terminal (on a terminal it waits between steps).
    Text,
    /// A Markdown handout, never interactive.
    Markdown,
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

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// One SQL statement, e.g. "select * from users where email = 'ada@example.com'".
    #[arg(required_unless_present = "file")]
    pub sql: Option<String>,
    /// Read the statement from FILE instead, `-` for standard input: for a statement too long
    /// for a command line (at most 8 MiB).
    #[arg(short = 'f', long, value_name = "FILE", conflicts_with = "sql")]
    pub file: Option<PathBuf>,
    /// Only plan the statement (estimates, nothing runs, no insights).
    #[arg(long)]
    pub no_analyze: bool,
    /// Compare with this statement's plan instead: it is "before", SQL is "after" (e.g. the
    /// same query before and after a rewrite); prints the diff, trees side by side.
    #[arg(long, value_name = "OTHER_SQL")]
    pub before: Option<String>,
    /// Like --before, with the statement read from FILE (`-` for standard input).
    #[arg(long, value_name = "FILE", conflicts_with = "before")]
    pub before_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// One row's history, as TABLE:ID, e.g. users:10.
    #[arg(long, value_name = "TABLE:ID", value_parser = crate::audit::filter::parse_record)]
    pub record: Option<(String, i64)>,
    /// Only what this application user did (their user id).
    #[arg(long, value_name = "ID")]
    pub actor: Option<i64>,
    /// Only changes to this table, e.g. posts.
    #[arg(long, value_name = "TABLE")]
    pub table: Option<String>,
    /// Only events from the last this long: 30s, 15m, 1h, 7d.
    #[arg(long, value_name = "WINDOW", value_parser = crate::audit::filter::Window::parse)]
    pub since: Option<crate::audit::filter::Window>,
    /// Show at most this many events (1 to 10,000).
    #[arg(long, default_value_t = 20, value_name = "N",
          value_parser = clap::value_parser!(i64).range(1..=crate::db::audit::MAX_LIMIT))]
    pub limit: i64,
    /// Read the application's own log (`audit_logs`) instead of the trigger's.
    #[arg(long)]
    pub app: bool,
}

#[derive(Debug, clap::Args)]
pub struct ProxyArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:55432", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Allow a --listen address other machines can reach.
    #[arg(long)]
    pub allow_remote: bool,
    /// Simulated round-trip time added to every exchange, e.g. 40ms.
    #[arg(long, default_value = "0ms", value_parser = proxy::parse_duration)]
    pub latency: Duration,
    /// Random variation of the simulated round-trip time, e.g. 5ms.
    #[arg(long, default_value = "0ms", value_parser = proxy::parse_duration)]
    pub jitter: Duration,
    /// Forward to this server instead of the lab database (postgres://user:pass@host:port/db;
    /// with credentials the proxy also reads its tables for the lint).
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
    /// Write one JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
    /// Consecutive repeats of one statement that count as an N+1.
    #[arg(long, default_value_t = crate::sql::n_plus_one::DEFAULT_THRESHOLD, value_name = "N",
          value_parser = proxy::parse_threshold)]
    pub n_plus_one: usize,
}

/// Runs `cli`; see [`crate::run`].
pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let config = LabConfig::from_cli(&cli)?;
    let Some(command) = cli.command else {
        if lab::has_terminal() {
            let theme = crate::ui::theme::Theme::choose(cli.theme);
            return lab::run(&config, cli.lessons.as_deref(), theme, cli.present);
        }
        // Scripts and pipes get the status report: the lab needs a terminal to draw on.
        return block_on(db::status(&config));
    };
    match command {
        Command::Lessons(command) => {
            block_on(lessons::run(&config, cli.lessons.as_deref(), command))
        }
        Command::Notes => notes::run(&config, crate::ui::theme::Theme::choose(cli.theme)),
        Command::Keeper => Ok(serve_keeper(Layout::new(config.data_dir))?),
        Command::Store => Ok(crate::demo::durability::serve_store()?),
        Command::Db(DbCommand::Stop) => db::stop(&config),
        Command::Db(DbCommand::Url { owner }) => db::url(&config, owner),
        Command::Db(DbCommand::Status) => block_on(db::status(&config)),
        Command::Db(DbCommand::Psql { owner, args }) => block_on(db::psql(&config, owner, &args)),
        Command::Db(DbCommand::Serve) => block_on(db::serve(&config)),
        Command::Db(DbCommand::Reset) => block_on(db::reset(&config)),
        Command::Seed(args) => block_on(seed::run(&config, &args)),
        Command::Explain(args) => block_on(explain::run(&config, &args)),
        Command::Audit(args) => block_on(audit::run(&config, &args)),
        Command::Schema { tables } => block_on(schema::run(&config, &tables)),
        Command::Tables { tables } => block_on(tables::run(&config, &tables, output_width())),
        // One thread, like PgBouncer: relaying is waiting on sockets, and one thread saves
        // the wake-ups between threads that a relay would otherwise pay per message.
        Command::Proxy(args) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(proxy::run(&config, &args)),
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

/// The width plain-text output is laid out for: the terminal's (at least 40 columns), or 80
/// when standard output is a pipe, a file or a test.
fn output_width() -> usize {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return 80;
    }
    ratatui::crossterm::terminal::size().map_or(80, |(columns, _)| usize::from(columns).max(40))
}
