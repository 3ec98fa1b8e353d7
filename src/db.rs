//! The lab's database: where it comes from (`DATABASE_URL` or the private cluster), the roles
//! and schema it carries, the story seed, resets, and status. Every SQL statement pglab itself
//! issues lives under this module and uses bind parameters where PostgreSQL accepts them.
//!
//! - [`audit`]: the audit trail: actor context per transaction, the application's own log,
//!   reading events back, live notifications, soft delete, restore and purge
//! - [`console`]: the one door for learner SQL (run as typed, cancel, plan node types)
//! - [`customer_databases`]: the tenancy lesson's database per customer, cloned from the
//!   template and dropped again
//! - [`demo_data`]: rows the demos add for a measurement and roll back afterwards
//! - [`explain`]: plans for learner SQL (DML rolled back), timed runs, and the catalog facts
//!   behind the plan's insights
//! - [`schema`]: the schema map, read from the catalog as the connected role sees it
//! - [`grading`]: gathering an exercise attempt (the answer, the reference rows, the plan and
//!   speed-up its check needs), one way for the lab and `pglab lessons check`
//!
//! Names used throughout:
//! - database `pglab`: the learner's lab database; `pglab_template`: the migrated, seeded
//!   copy every reset clones.
//! - schema `lab`: the lesson tables, owned by the learner role; schema `pglab`: pglab's
//!   own bookkeeping (applied migrations); schema `audit`: the append-only log the audit
//!   trigger writes, owned by the owner role and only readable by the learner.
//! - roles `pglab_owner` (migrations, seed, reset) and `pglab_learner` (learner SQL, not a
//!   superuser, with a statement timeout).

pub mod acting;
pub mod audit;
pub mod binaries;
pub mod catalog;
pub mod cluster;
pub mod console;
mod credentials;
pub mod customer_databases;
pub mod demo_data;
mod error;
pub mod explain;
pub mod grading;
mod lab;
pub(crate) mod provision;
pub mod schema;
pub mod scratch;
pub mod seed;
pub mod status;
pub mod tables;

pub use error::{Error, server_words};
pub use lab::{Lab, LabConfig, Source, connect, describe, mask_password, private_url};
pub use provision::Purpose;

/// The lab database's name on the private cluster.
pub const LAB_DATABASE: &str = "pglab";
/// The migrated and seeded database that resets clone.
pub const TEMPLATE_DATABASE: &str = "pglab_template";
pub const OWNER_ROLE: &str = "pglab_owner";
pub const LEARNER_ROLE: &str = "pglab_learner";
/// Schema holding the lesson tables; first on every lab connection's search_path.
pub const LESSON_SCHEMA: &str = "lab";
/// Schema holding the database's audit log (`audit.events`), owned by the owner role: the
/// learner may read it and nothing else.
pub const AUDIT_SCHEMA: &str = "audit";
/// Schema holding pglab's own bookkeeping (applied migrations, pending index rebuilds).
pub const BOOKKEEPING_SCHEMA: &str = "pglab";
/// Longest a learner statement may run before the server cancels it.
pub const LEARNER_STATEMENT_TIMEOUT: &str = "30s";

/// The schema migrations in `migrations/`, embedded at compile time.
pub fn migrator() -> sqlx::migrate::Migrator {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.create_schema(BOOKKEEPING_SCHEMA);
    migrator.dangerous_set_table_name(format!("{BOOKKEEPING_SCHEMA}._sqlx_migrations"));
    migrator
}

/// The deterministic story data set loaded into every fresh lab database.
pub const STORY_SEED: &str = include_str!("../seed/story.sql");

/// `name` as a quoted SQL identifier, for the statements that take no parameters
/// (`CREATE DATABASE`, identifiers in `FROM`): quoted here rather than by a server function,
/// which a privileged session would look up on its search path.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A hash of byte strings that is the same on every run and every Rust version: names
/// derived from it (socket folders, template versions) stay stable.
pub(crate) fn stable_hash<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> u64 {
    crate::hash::of_parts(parts)
}

/// Returns the lab database to its seeded state and drops the databases a stopped
/// customer-database demo left behind. The learner's progress lives in files and is not
/// touched. Open the lab with [`Purpose::Reset`] first.
pub async fn reset(lab: &Lab) -> Result<(), Error> {
    provision::reset_database(lab).await?;
    customer_databases::drop_left_over(lab).await
}
