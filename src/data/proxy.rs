//! What the proxy reports: sessions starting and ending, and every round trip with the
//! statements it carried. Events are facts read off the wire; judging them (kinds of
//! queries, N+1, lint) is the recorder's work (`query_log`), and [`Kind`], the label it gives
//! each round trip, lives here because demo reports carry it too.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ServerError;

/// Numbers sessions in the order the proxies of this process accepted them, from 1.
pub type SessionId = u64;

/// Who is on the other end of a session, from its startup message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: SessionId,
    pub client: SocketAddr,
    pub user: String,
    pub database: String,
    /// As sent at startup; later changes arrive as [`ProxyEvent::ApplicationName`].
    pub application_name: String,
    /// The server process serving the session (from `BackendKeyData`).
    pub backend_pid: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProxyEvent {
    /// The server accepted the session: authentication is over and it is ready for queries.
    SessionStarted {
        session: Arc<SessionInfo>,
        /// Round trips the startup took (SSL refusal, startup message, each authentication
        /// step), and the time from the first byte to ready, as the client saw them.
        startup_round_trips: u32,
        startup: Duration,
    },
    /// The session set a new `application_name` (the server reports every change).
    ApplicationName {
        session: SessionId,
        name: String,
    },
    RoundTrip(RoundTrip),
    /// A cancel request for a running query, relayed to the server.
    Cancel {
        client: SocketAddr,
    },
    SessionEnded {
        session: SessionId,
        end: SessionEnd,
    },
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEnd {
    /// The client said goodbye (Terminate) or closed its side.
    ClientClosed,
    /// The server closed the connection; `error` is the last message it sent, if any (for
    /// example a shutdown or a failed login).
    ServerClosed { error: Option<ServerError> },
    /// The proxy ended the session: a malformed message, an I/O error, an unreachable server.
    Failed(String),
}

/// One wait of the client for the server: a simple `Query`, a `Sync` (with the
/// extended-protocol messages before it) or a `FunctionCall` up to the `ReadyForQuery`
/// answering it, or a `Flush` the client waited on (see `proxy::round_trip`). Pipelined
/// requests are separate round trips.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundTrip {
    pub session: SessionId,
    /// The client's first message of this round trip reached the proxy.
    pub sent: Instant,
    /// From `sent` until the answer reached the client (latency injection included).
    pub duration: Duration,
    pub shape: Shape,
    /// The statements executed, in order; empty for pings and prepares.
    pub statements: Vec<Statement>,
    /// The first error the server reported in this round trip.
    pub error: Option<ServerError>,
    /// Transaction state after the round trip (`I` idle, `T` in a transaction, `E` failed).
    pub transaction: u8,
    /// Bytes the server sent in answer (rows, completions, its `ReadyForQuery`), as they
    /// crossed the wire: what a wide result costs to transfer.
    pub received: u64,
}

/// What a round trip asked the server to do, from the messages it contained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Nothing: a lone `Sync` or an empty query, as drivers send to test a connection.
    Ping,
    /// `Parse`/`Describe` without execution: preparing a statement.
    Prepare,
    /// At least one statement ran (or was meant to and failed).
    Execute,
}

/// One executed statement (or, for a simple `Query` holding several, the whole text).
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: Arc<str>,
    /// The SQL was longer than the proxy keeps and is cut short.
    pub truncated: bool,
    /// Hash of the bound parameter values and formats; 0 for none (simple queries).
    pub params: u64,
    /// Statements the server completed: 1 for an `Execute`, the number of command tags for
    /// a multi-statement `Query`.
    pub completed: u32,
    /// Rows returned or changed, from the command tags (`SELECT 3`, `UPDATE 2`, `COPY 9`),
    /// or the rows sent when a portal was suspended.
    pub rows: u64,
    /// The statement failed (the round trip's `error` says why).
    pub failed: bool,
    /// Sent in the same pipeline after a statement that failed: the server skipped it.
    pub skipped: bool,
}

/// What a round trip was for, as the query log classifies it and the log shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Query,
    Prepare,
    /// A lone `Sync`, an empty query or a SELECT of constants (`SELECT 1`): a driver checking
    /// the connection.
    Ping,
    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT and their kin.
    TransactionControl,
    /// A driver reading the system catalog (type lookups and the like).
    CatalogLookup,
    /// A pool putting the session back as new between borrowers (`DISCARD ALL`, `RESET ALL`,
    /// `UNLISTEN *`, `DEALLOCATE ALL`, …).
    SessionReset,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Query,
        Kind::Prepare,
        Kind::Ping,
        Kind::TransactionControl,
        Kind::CatalogLookup,
        Kind::SessionReset,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kind::Query => "query",
            Kind::Prepare => "prepare",
            Kind::Ping => "ping",
            Kind::TransactionControl => "transaction",
            Kind::CatalogLookup => "catalog",
            Kind::SessionReset => "reset",
        }
    }
}
