//! `db::Error`: everything that can go wrong while finding, starting or talking to the lab's
//! database. Each message names what failed and what to do about it, and already includes
//! its cause, so causes are fields rather than error sources (printing the chain would
//! repeat them). Also which exit code each of the module's errors ends the program with.

use std::path::PathBuf;

use super::binaries::{INSTALL_HELP, MIN_MAJOR_VERSION, Unusable};
use super::console::ExecuteError;
use crate::exit::{EXIT_FAILURE, EXIT_REFUSED, EXIT_UNAVAILABLE, ExitStatus};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no PostgreSQL server programs found on this machine.\n{INSTALL_HELP}")]
    NoBinaries,

    #[error("cannot use {dir} as PostgreSQL's program folder: {why} (check PG_BINDIR)")]
    BadBinDir { dir: PathBuf, why: Unusable },

    #[error(
        "cannot use the data directory {path}: {cause}.\n\
         Choose a writable folder with --data-dir or PGLAB_DATA_DIR."
    )]
    DataDir {
        path: PathBuf,
        cause: std::io::Error,
    },

    #[error(
        "the database server must run as an unprivileged user, but user {user} cannot reach \
         {dir} (a parent folder is not searchable by it).\n\
         Choose another folder with --data-dir or PGLAB_DATA_DIR, or `chmod o+x` the parent."
    )]
    NotTraversable { dir: PathBuf, user: String },

    #[error(
        "running as root, and neither a `postgres` nor a `nobody` user exists to run the \
         database server as (PostgreSQL refuses to run as root)"
    )]
    NoServiceUser,

    #[error("{what}: {cause}")]
    Io { what: String, cause: std::io::Error },

    #[error("initdb could not create the cluster in {dir}:\n{output}")]
    Initdb { dir: PathBuf, output: String },

    #[error("the database server did not start. Last lines of {log}:\n{tail}")]
    StartFailed { log: PathBuf, tail: String },

    #[error("the database server did not become ready within {secs} s; see {log}")]
    StartTimeout { log: PathBuf, secs: u64 },

    #[error(
        "could not reach the database at {target}: {}\n{advice}",
        server_words(cause)
    )]
    Connect {
        target: String,
        advice: &'static str,
        cause: sqlx::Error,
    },

    #[error(
        "the database at {target} did not answer within {secs} s.\n\
         Is the host right, and does a firewall let you reach it?"
    )]
    ConnectTimeout { target: String, secs: u64 },

    #[error(
        "the server at {target} runs PostgreSQL {version}; pglab needs {MIN_MAJOR_VERSION} or \
         newer.\nUpgrade that server, or unset DATABASE_URL to use pglab's own database."
    )]
    ServerTooOld { target: String, version: String },

    #[error(
        "could not bring the lab schema up to date: {0}\n\
         `pglab db reset` starts over from the story seed."
    )]
    Migrate(sqlx::migrate::MigrateError),

    #[error("{what}: {}", server_words(cause))]
    Sql {
        what: &'static str,
        cause: sqlx::Error,
    },

    #[error(
        "{path} is damaged ({why}).\nDelete it and the `cluster` folder beside it to start \
         over with a fresh lab database."
    )]
    Damaged { path: PathBuf, why: String },

    #[error("the database is unavailable: {0}")]
    Unavailable(String),

    #[error(
        "could not rebuild `{statement}` after an interrupted `pglab seed`: {}\n\
         `pglab db reset` starts over from the story seed.",
        server_words(cause)
    )]
    Rebuild {
        statement: String,
        cause: sqlx::Error,
    },

    /// The request itself was refused (sizes out of range, malformed URLs).
    #[error("{0}")]
    Refused(String),
}

/// What went wrong in `error`, for people: the server's own message for a database error,
/// without sqlx's "error returned from database:" and without PostgreSQL's source location
/// (` at line 3211` is a line of the server's C code, which sqlx appends); any other error as
/// sqlx words it.
pub fn server_words(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}

impl Error {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |cause| Error::Io { what, cause }
    }

    pub(crate) fn sql(what: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |cause| Error::Sql { what, cause }
    }
}

impl ExitStatus for Error {
    fn exit_code(&self) -> u8 {
        use Error as E;
        match self {
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
            | E::Unavailable(_) => EXIT_UNAVAILABLE,
            E::Refused(_) => EXIT_REFUSED,
            // The database was there; what was asked of it failed.
            E::Migrate(_) | E::Sql { .. } | E::Rebuild { .. } => EXIT_FAILURE,
        }
    }
}

impl ExitStatus for ExecuteError {
    fn exit_code(&self) -> u8 {
        match self {
            // The server went away under the statement.
            ExecuteError::Connection(_) => EXIT_UNAVAILABLE,
            ExecuteError::Sql(_) | ExecuteError::NotOneStatement { .. } | ExecuteError::Plan(_) => {
                EXIT_FAILURE
            }
        }
    }
}
