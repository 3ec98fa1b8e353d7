//! Facts from outside the app: the proxy's traffic and the results of the runtime's work.
//! Past-tense names; `App::apply` folds them into the state.

use crate::data::console::Outcome;
use crate::data::demo::{DemoFailure, DemoProgress, DemoReport};
use crate::data::grading::Gathered;
use crate::data::{ServerError, proxy};

use super::command::RequestId;

/// A statement's plan, what to fix in it, and whether its changes were rolled back.
#[derive(Debug)]
pub struct Explained {
    pub plan: crate::explain::Plan,
    pub insights: Vec<crate::explain::Insight>,
    pub rolled_back: bool,
}

/// A learner statement's result: rows, or the server's error as data.
pub type Ran = Result<Outcome, ServerError>;

#[derive(Debug)]
pub enum Event {
    /// The database is open and the proxy in front of it; `facts` are the tables the lint
    /// knows about (none when the catalog could not be read).
    LabReady {
        database: String,
        facts: Option<crate::sql::lint::TableFacts>,
    },
    /// The database could not be opened; the message says why and what to do.
    LabFailed(String),
    /// The proxy saw something on one of the lab's connections.
    Proxy(proxy::ProxyEvent),
    /// No traffic for a while: N+1 bursts still open are over.
    Quiet,
    /// The console connection is (again) up.
    ConsoleReady,
    /// Learner SQL finished.
    Executed { id: RequestId, result: Ran },
    Explained {
        id: RequestId,
        result: Result<Box<Explained>, ServerError>,
    },
    DemoProgressed {
        id: RequestId,
        progress: DemoProgress,
    },
    DemoFinished {
        id: RequestId,
        result: Result<DemoReport, DemoFailure>,
    },
    /// An exercise answer ran and what its check needs was read (`db::grading`).
    ExerciseRan { id: RequestId, gathered: Gathered },
    /// The answer to `Command::LoadAudit`: the events newest first, and each actor's
    /// organization (application user id → organization id) for the cross-tenant rule.
    AuditLoaded {
        id: RequestId,
        events: Vec<crate::audit::AuditEvent>,
        actors: crate::audit::rules::ActorOrgs,
    },
    /// Audit events committed since the log was read (announced on `pglab_audit`), in any
    /// order; the app keeps those its filter lets through.
    AuditArrived(Vec<crate::audit::AuditEvent>),
    /// The answer to `Command::LoadSchema`.
    SchemaLoaded {
        id: RequestId,
        map: Box<crate::data::schema::SchemaMap>,
    },
    /// The answer to `Command::LoadTables`.
    TablesLoaded {
        id: RequestId,
        snapshot: Box<crate::data::tables::TablesSnapshot>,
    },
    /// The answer to `Command::LoadUsers`: the live users by id (empty when there are none).
    UsersLoaded {
        id: RequestId,
        users: Vec<crate::data::acting::ActingAs>,
    },
    /// A request could not run at all (the connection is gone, for example).
    Failed { id: RequestId, message: String },
    /// Writing the progress file failed; the message says where and why.
    ProgressNotSaved(String),
    /// A presenter view (`pglab notes`) started (true) or stopped (false) following the lab.
    NotesViewAttached(bool),
    /// A presenter view pressed one of the lesson player's keys.
    Drive(crate::data::presenter::Drive),
}
