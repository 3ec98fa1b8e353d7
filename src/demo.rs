//! Demos: named Rust experiments a lesson step runs (`kind = "demo"`, `demo =
//! "n_plus_one.lazy"`, `params = { posts = 10 }`). Each is a small piece of the blog
//! platform written the way real backend code is written, run for real against the lab
//! database and measured by the lab's proxy: the numbers a lesson shows are the numbers of
//! this run.
//!
//! - [`n_plus_one`]: the N+1 lesson (lazy loop, JOIN, batched `ANY($1)`, a default pool, the
//!   scale table)
//! - [`indexes`]: the index lesson (a big table, plans measured with and without an index,
//!   an index build watched while it runs, what indexes cost on writes)
//! - [`soft_delete`]: the soft-delete lesson (a hard delete, the lifecycle, the forgotten
//!   filter, email uniqueness among live rows, purge after retention), each on the story's
//!   rows and rolled back
//! - [`audit`]: the audit lesson (a support call replayed as events, the app's log against
//!   the trigger, what logging reads costs, a failed audit write, an append-only log, a
//!   redacted secret, an actor that must not outlive its transaction, the log's indexes,
//!   retention by archive and by partition)
//! - [`durability`]: the first lesson (an in-memory store killed and restarted, the lab's
//!   server restarted and crashed, memory and database compared, every cell measured)
//! - [`postgres`]: the "what PostgreSQL is" lesson (ACID live: a transfer refused halfway,
//!   two sessions, constraints; a jsonb column and its GIN index; full-text search)
//! - [`cloud`]: the cloud lesson (the lab's connection URL taken apart, what a transaction
//!   pooler breaks, this lab's own cluster against a managed one, the same server questions
//!   on any server, the measured round trip and one page at simulated distances)
//! - [`tenancy`]: the multi-tenancy lesson (a database per customer measured against one
//!   shared database, two tenants' lists and the list without `organization_id`, the index
//!   on `organization_id` measured)
//! - [`tenant_security`]: the multi-tenant security lesson (a handler that trusts the body
//!   and one that checks, another tenant's post by id, a composite foreign key, row-level
//!   security, a tenant setting leaking through a pool, the attack suite), all rolled back
//! - [`orm`]: the ORM lesson (rows read by position and by name across a migration, a model
//!   that writes its SQL, the model beside the catalog, SQL injection against bound
//!   parameters, what a mapper hides), all rolled back
//! - [`foreign_keys`]: the relationships lesson (both directions of a key, a join table, an
//!   orphan refused, every `ON DELETE` policy with its audit events, a deferred check, the
//!   cascade without an index), all rolled back
//! - [`requests`]: what the lessons that play an application's requests share: one metered
//!   connection, each request measured on its own, the user who sends them
//! - [`params`]: what each demo accepts, checked when a lesson loads
//! - `meter`: a proxy and query log of the demo's own, teeing every event to the lab's log
//!
//! Where the SQL lives: the demos' queries stay beside the loops that issue them, in the
//! demo modules, against the rule that app SQL lives in `db/`. A demo *is* the application
//! code being taught; the lesson shows the loop and its SQL side by side, and moving the
//! SQL away would hide the very thing the learner compares. Everything a demo needs that is
//! not the lesson (the scale demo's generated rows, the index lesson's big table) lives in
//! `db::demo_data`.

pub mod audit;
pub mod cloud;
pub mod durability;
pub mod foreign_keys;
pub mod indexes;
pub mod meter;
pub mod n_plus_one;
pub mod orm;
pub mod params;
pub mod postgres;
pub mod requests;
pub mod soft_delete;
pub mod table_reads;
pub mod tenancy;
pub mod tenant_security;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio::sync::mpsc;

use crate::data;
use crate::data::demo::{DemoFailure, DemoProgress, DemoReport, RunFirst};
use crate::db::console::ExecuteError;
use crate::proxy::{self, Latency};
use params::ParamSpec;

/// What every demo runs with.
#[derive(Debug, Clone)]
pub struct DemoContext {
    /// The learner's options, straight to the lab database (each demo puts a proxy of its
    /// own in front).
    pub learner: PgConnectOptions,
    /// The lab's latency knob: changes while a demo runs apply to its remaining round trips.
    pub latency: Latency,
    /// The lab's query log: every event of the demo is passed on to it as it happens. Its
    /// reader must keep reading while a demo runs: like the proxy, the tee drops nothing, so
    /// a full channel holds the demo until there is room.
    pub log: Option<mpsc::Sender<data::proxy::ProxyEvent>>,
    /// The lab's private cluster, when the lab runs on one: demos that restart or crash the
    /// server, or read its files, need it. `None` on a `DATABASE_URL` server, which the lab
    /// does not own.
    pub cluster: Option<crate::db::cluster::Cluster>,
    /// The user the lab acts as when the demo starts, for handlers that serve one user's
    /// request. `None` before the users are read, when there are none, and outside the
    /// lab (`lessons run`, `lessons check`): a demo that needs a user picks one itself.
    pub acting_as: Option<data::acting::ActingAs>,
}

// The report is data and lives in `data`; building it from a meter's counts is the demos'
// business, so this constructor stays beside the meter.
impl DemoReport {
    /// The report of a demo whose work `measured` counted, on `sessions` server sessions.
    pub fn measured(
        title: String,
        lines: Vec<String>,
        measured: &meter::Metered,
        sessions: u64,
    ) -> Self {
        let totals = &measured.report.totals;
        DemoReport {
            title,
            lines,
            round_trips: totals.round_trips,
            statements: totals.statements,
            by_kind: totals.kinds_seen(),
            wall: measured.wall,
            sessions,
            // Each connection of a pool reports its lint once: once is enough here.
            warnings: crate::query_log::raised_once(&measured.report.warnings),
            ..DemoReport::default()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("there is no demo `{name}`; known demos: {known}")]
    UnknownDemo { name: String, known: String },
    #[error("{0}")]
    BadParams(String),
    #[error(transparent)]
    Db(#[from] crate::db::Error),
    #[error("the demo could not start its proxy: {0}")]
    Proxy(#[from] proxy::Error),
    // The messages below reach the learner under a lesson step: they never name the demo
    // (`demo` is kept for the log and for tests), the step is on screen already.
    #[error(
        "The demo failed while {step}: {}. `pglab db reset` restores the story data if a lesson changed it.",
        crate::db::server_words(cause)
    )]
    Sql {
        demo: &'static str,
        step: &'static str,
        cause: sqlx::Error,
    },
    #[error("The demo failed while {step}: {cause}")]
    Statement {
        demo: &'static str,
        step: &'static str,
        // Boxed: a failed statement carries its SQLSTATE, message, detail and hint, and
        // every other error should not pay for that room.
        cause: Box<ExecuteError>,
    },
    #[error("The demo cannot run: {why}")]
    Refused { demo: &'static str, why: String },
    /// What the demo reads is built by another demo of its lesson (`big_users`, by
    /// `indexes.seed`); the lesson names that step ([`Error::failure`]).
    #[error("{cause}; an earlier step of this lesson builds {builds}: run it first")]
    RunFirst {
        demo: &'static str,
        cause: String,
        builds: &'static str,
        builder: &'static str,
    },
}

impl Error {
    /// The error as the learner reads it, with what a lesson needs to name the step to run
    /// first.
    pub fn failure(&self) -> DemoFailure {
        let run_first = match self {
            Error::RunFirst {
                cause,
                builds,
                builder,
                ..
            } => Some(RunFirst {
                cause: cause.clone(),
                builds,
                demo: builder,
            }),
            _ => None,
        };
        DemoFailure {
            message: self.to_string(),
            run_first,
        }
    }
}

impl crate::exit::ExitStatus for Error {
    fn exit_code(&self) -> u8 {
        use crate::exit::{EXIT_FAILURE, EXIT_REFUSED};
        match self {
            // Transparent: the database error is not in the chain, so it is asked here.
            Error::Db(error) => error.exit_code(),
            Error::Statement { cause, .. } => cause.exit_code(),
            Error::Refused { .. } | Error::RunFirst { .. } => EXIT_REFUSED,
            Error::UnknownDemo { .. }
            | Error::BadParams(_)
            | Error::Proxy(_)
            | Error::Sql { .. } => EXIT_FAILURE,
        }
    }
}

/// A demo lessons can name.
#[derive(Debug, Clone, Copy)]
pub struct DemoSpec {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamSpec],
}

/// Every demo's group, in the order help lists them.
const GROUPS: [&[DemoSpec]; 11] = [
    durability::DEMOS,
    postgres::DEMOS,
    cloud::DEMOS,
    tenancy::DEMOS,
    tenant_security::DEMOS,
    orm::DEMOS,
    foreign_keys::DEMOS,
    n_plus_one::DEMOS,
    indexes::DEMOS,
    soft_delete::DEMOS,
    audit::DEMOS,
];

/// Every demo, in the order help lists them.
pub static DEMOS: std::sync::LazyLock<Vec<DemoSpec>> = std::sync::LazyLock::new(|| GROUPS.concat());

fn find(name: &str) -> Result<&'static DemoSpec, Error> {
    DEMOS
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| Error::UnknownDemo {
            name: name.to_string(),
            known: DEMOS.iter().map(|d| d.name).collect::<Vec<_>>().join(", "),
        })
}

/// Checks a lesson's demo step when the lesson loads: the name exists, and every parameter
/// is known, of the right type and in range.
pub fn validate(name: &str, params: &toml::Table) -> Result<(), String> {
    let spec = find(name).map_err(|e| e.to_string())?;
    params::check(spec.name, spec.params, params)
}

/// Runs the demo `name` with `params`, sending progress as it goes.
pub async fn run(
    ctx: &DemoContext,
    name: &str,
    params: &toml::Table,
    progress: mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let spec = find(name)?;
    params::check(spec.name, spec.params, params).map_err(Error::BadParams)?;
    if spec.name.starts_with(indexes::PREFIX) {
        indexes::run(ctx, spec.name, params, &progress).await
    } else if spec.name.starts_with(soft_delete::PREFIX) {
        soft_delete::run(ctx, spec.name, params, &progress).await
    } else if spec.name.starts_with(postgres::PREFIX) {
        postgres::run(ctx, spec.name, params, &progress).await
    } else if spec.name.starts_with(cloud::PREFIX) {
        cloud::run(ctx, spec.name, params, &progress).await
    } else if spec.name.starts_with(tenancy::PREFIX) {
        tenancy::run(ctx, spec.name, params, &progress).await
    } else if spec.name.starts_with(tenant_security::PREFIX) {
        tenant_security::run(ctx, spec.name, &progress).await
    } else if spec.name.starts_with(orm::PREFIX) {
        orm::run(ctx, spec.name, &progress).await
    } else if spec.name.starts_with(foreign_keys::PREFIX) {
        foreign_keys::run(ctx, spec.name, params, &progress).await
    } else if spec.name.starts_with(audit::PREFIX) {
        audit::run(ctx, spec.name, &progress).await
    } else if spec.name.starts_with(durability::PREFIX) {
        durability::run(ctx, spec.name, &progress).await
    } else {
        n_plus_one::run(ctx, spec.name, params, &progress).await
    }
}

/// A report's sentences are wrapped to this width: the lesson pane of an 80-column terminal
/// shows them whole (report lines are shown as written, never wrapped by the view).
pub(crate) const REPORT_WIDTH: usize = 76;

/// `lines` wrapped to [`REPORT_WIDTH`], a long sentence's later lines indented under it,
/// never with a measured number on one line and its unit on the next; shorter lines
/// (program output, aligned figures) are left as they are.
pub(crate) fn wrapped(lines: Vec<String>) -> Vec<String> {
    lines
        .iter()
        .flat_map(|line| crate::text::wrap(&bind_units(line), REPORT_WIDTH, "  "))
        .map(|line| line.replace(BOUND, " "))
        .collect()
}

/// The units the demos write measured numbers with.
const UNITS: [&str; 11] = [
    "ns", "µs", "ms", "s", "min", "bytes", "kB", "MB", "GB", "TB", "PB",
];
/// Joins a number to its unit while wrapping: `text::wrap` breaks at plain spaces only.
pub(crate) const BOUND: char = '\u{a0}';

/// `text` with the space between a number and the unit after it made unbreakable.
pub(crate) fn bind_units(text: &str) -> String {
    let mut bound = String::with_capacity(text.len());
    let mut previous = "";
    for (n, word) in text.split(' ').enumerate() {
        if n > 0 {
            let unit = word.trim_end_matches(|c: char| c.is_ascii_punctuation());
            let joined = previous.ends_with(|c: char| c.is_ascii_digit()) && UNITS.contains(&unit);
            bound.push(if joined { BOUND } else { ' ' });
        }
        bound.push_str(word);
        previous = word;
    }
    bound
}

/// A failed statement of demo `demo` while doing `step`, as the demo's error.
pub(crate) fn sql(demo: &'static str, step: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |cause| Error::Sql { demo, step, cause }
}

/// `work` on `conn` inside a transaction that is rolled back whatever happened, so what a
/// measurement builds (generated tables, indexes) never outlives it; `undoing` names what
/// the rollback takes back, for its error.
pub(crate) async fn rolled_back<T>(
    conn: &mut PgConnection,
    demo: &'static str,
    undoing: &'static str,
    work: impl AsyncFnOnce(&mut PgConnection) -> Result<T, Error>,
) -> Result<T, Error> {
    sqlx::raw_sql("begin")
        .execute(&mut *conn)
        .await
        .map_err(sql(demo, "opening the transaction"))?;
    let result = work(&mut *conn).await;
    let rollback = sqlx::raw_sql("rollback").execute(&mut *conn).await;
    let result = result?;
    rollback.map_err(sql(demo, undoing))?;
    Ok(result)
}

/// Tells whoever watches the demo run what it is doing now.
pub(crate) fn say(progress: &mpsc::UnboundedSender<DemoProgress>, message: impl Into<String>) {
    // Nobody listening (a CLI run) is fine: the report says it all again.
    let _ = progress.send(DemoProgress::Message(message.into()));
}

/// Runs `sql` (no parameters, one or more statements) as step `step` of demo `demo`.
pub(crate) async fn exec(
    conn: &mut sqlx::PgConnection,
    demo: &'static str,
    step: &'static str,
    sql: &'static str,
) -> Result<(), Error> {
    sqlx::raw_sql(sql)
        .execute(conn)
        .await
        .map_err(self::sql(demo, step))?;
    Ok(())
}

/// A statement the demo expects the server may refuse: the refusal, as the lab shows
/// errors; anything but an SQL error (a lost connection) fails the demo.
pub(crate) fn refusal<T>(
    demo: &'static str,
    step: &'static str,
    outcome: Result<T, sqlx::Error>,
) -> Result<Option<data::ServerError>, Error> {
    match outcome {
        Ok(_) => Ok(None),
        Err(cause) => match ExecuteError::from(cause) {
            ExecuteError::Sql(failure) => Ok(Some(failure)),
            other => Err(Error::Statement {
                demo,
                step,
                cause: Box::new(other),
            }),
        },
    }
}

/// `✗ SQLSTATE 23514: message`, then the detail, as lines.
pub(crate) fn refusal_lines(failure: &data::ServerError) -> Vec<String> {
    let mut lines = vec![format!(
        "  ✗ SQLSTATE {}: {}",
        failure.sqlstate, failure.message
    )];
    lines.extend(failure.detail.iter().map(|d| format!("    detail: {d}")));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_demos_and_parameters_are_named_with_what_is_allowed() {
        let err = validate("n_plus_one.eager", &toml::Table::new()).unwrap_err();
        assert!(err.contains("n_plus_one.eager") && err.contains("n_plus_one.lazy"));
        let params: toml::Table = toml::from_str("postz = 3").unwrap();
        let err = validate("n_plus_one.lazy", &params).unwrap_err();
        assert!(err.contains("postz") && err.contains("posts"), "{err}");
    }
}
