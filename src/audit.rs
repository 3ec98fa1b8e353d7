//! Audit events as the lab reads them back: one row change captured by the database (a
//! trigger) or written by the application (a helper), with who, what, when and from where.
//! Pure: reading events from PostgreSQL is `db::audit`'s job, drawing them the `ui`'s.
//!
//! Submodules: [`filter`] (which events to show, parsed from `users:10`, `1h`…), [`diff`]
//! (an event's columns, old → new), [`rules`] (suspicious changes, each with a reason) and
//! [`text`] (an event as plain lines, shared by the CLI and the timeline screen).

pub mod diff;
pub mod filter;
pub mod rules;
pub mod text;

pub use filter::Filter;
pub use rules::{ActorOrgs, Flag, Rule};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// What happened to the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Insert,
    Update,
    Delete,
}

impl Operation {
    /// As stored in the log (`insert`, `update`, `delete`).
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }

    /// The stored word back; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "insert" => Some(Operation::Insert),
            "update" => Some(Operation::Update),
            "delete" => Some(Operation::Delete),
            _ => None,
        }
    }
}

/// Which mechanism wrote the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capture {
    /// The database's trigger: every change, whoever made it (psql included).
    Trigger,
    /// The application's helper: only the changes the application made and remembered to log.
    App,
}

/// One audit event.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Increasing in the order the events were written.
    pub id: i64,
    pub at: DateTime<Utc>,
    pub capture: Capture,
    /// The table the changed row belongs to (`users`, `posts`).
    pub table: String,
    /// The row's `id`.
    pub record_id: i64,
    pub action: Operation,
    /// The tenant of the row, when the row has one.
    pub organization_id: Option<i64>,
    /// The application user who made the change, as the application declared it for the
    /// transaction; `None` when nobody declared one (a change from psql, a migration).
    pub actor_id: Option<i64>,
    /// A system actor declared instead of a user (a job, the lab putting its story back):
    /// not a person, so no rule judges its changes. Only the trigger's log has one.
    pub system_actor: Option<String>,
    /// Where the request came from, as the application declared it, else the database
    /// client's address.
    pub client_addr: Option<String>,
    /// The database role that ran the statement.
    pub db_user: Option<String>,
    /// The row before (updates and deletes) and after (inserts and updates), column by
    /// column; sensitive columns hold [`REDACTED`] instead of their value.
    pub old: Option<Map<String, Value>>,
    pub new: Option<Map<String, Value>>,
    /// The columns an update changed, in column order (empty for inserts and deletes).
    pub changed: Vec<String>,
}

/// What a sensitive column's value is replaced with in the log.
pub const REDACTED: &str = "[redacted]";
