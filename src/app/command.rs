//! The effects `App::update` asks the runtime for. Each long-running one carries a
//! [`RequestId`]; its result comes back as an [`super::event::Event`] with the same id, and
//! results for a request the app no longer waits for are dropped.

use std::time::Duration;

use crate::lesson::{Check, Progress};

/// Names one request to the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Run learner SQL on the console connection (through the proxy).
    Execute {
        id: RequestId,
        sql: String,
    },
    /// EXPLAIN ANALYZE learner SQL on the console connection (data changes rolled back),
    /// with the insights the catalog allows.
    Explain {
        id: RequestId,
        sql: String,
    },
    /// Cancel the statement running on the console connection.
    Cancel,
    /// End the demo started as request `id`: its task, and the statements its sessions
    /// have running on the server. No `DemoFinished` follows.
    StopDemo(RequestId),
    /// Run a named demo with its parameters.
    RunDemo {
        id: RequestId,
        name: String,
        params: toml::Table,
        /// Who the lab acts as, for a handler that serves one user's request.
        acting_as: Option<crate::data::acting::ActingAs>,
    },
    /// Run the learner's answer on the console connection, then the reference solution
    /// (and, when the check needs plans, EXPLAIN of the answer) beside it, for grading.
    CheckExercise {
        id: RequestId,
        sql: String,
        solution: String,
        check: Box<Check>,
    },
    /// Read the audit log: the events `filter` lets through, newest first (at most
    /// `app::audit::CAPACITY`), and the organization of every actor among them. A
    /// window in the filter is relative: resolve it against the clock when reading
    /// (`filter.resolved(Utc::now())`). Answered by `Event::AuditLoaded` or
    /// `Event::Failed` with the same id.
    LoadAudit {
        id: RequestId,
        filter: crate::audit::filter::Filter,
    },
    /// Read the schema map from the catalog as the learner. Answered by
    /// `Event::SchemaLoaded` or `Event::Failed` with the same id.
    LoadSchema {
        id: RequestId,
    },
    /// Read the rows of `tables` (of the lessons' schema) for the tables view, as the
    /// learner. Answered by `Event::TablesLoaded` or `Event::Failed` with the same id.
    LoadTables {
        id: RequestId,
        tables: Vec<String>,
    },
    /// Read the users the lab can act as, with their organizations. Answered by
    /// `Event::UsersLoaded` or `Event::Failed` with the same id.
    LoadUsers {
        id: RequestId,
    },
    /// Change the proxy's simulated round-trip time.
    SetLatency(Duration),
    /// Write the progress file.
    SaveProgress(Box<Progress>),
    Quit,
}
