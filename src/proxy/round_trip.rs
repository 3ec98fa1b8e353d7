//! Following one session's conversation message by message, to tell where each round trip
//! begins and ends and which statements it carried. Pure: the session feeds it the decoded
//! messages of both directions with the time they passed the proxy.
//!
//! A round trip is each time the client waits for the server. The client waits at three
//! messages:
//! - a simple `Query`, a `Sync` or a `FunctionCall`: the server answers each with exactly one
//!   `ReadyForQuery`, which ends the round trip. Requests are queued as batches ending at those
//!   messages, and each `ReadyForQuery` answers the oldest one; pipelined batches are
//!   therefore separate round trips, each timed from its own first message, while everything
//!   before one `Sync` (psycopg's pipeline mode, `executemany`: many `Bind`/`Execute`, one
//!   `Sync`) is one round trip.
//! - a `Flush`: the server sends what it has so far and no `ReadyForQuery` follows. asyncpg
//!   prepares this way (`Parse`, `Describe`, `Flush`) and waits for the description. The
//!   proxy cannot see a client wait, only what it sends next: once the server has answered
//!   a flushed batch, the client's next message ends that round trip (timed to the last
//!   answer) and starts a new one. A client that sends on without waiting for the answer
//!   keeps one round trip.
//!
//! SQL reaches an execution through names: `Parse` names a statement, `Bind` makes a portal of
//! it, `Execute` runs the portal.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use super::frame::{Fields, Frame};
use crate::data::ServerError;
use crate::data::proxy::{ProxyEvent, RoundTrip, SessionInfo, Shape, Statement};
use crate::hash::fnv1a_64;

/// Most prepared statements and portals remembered per session; a client that keeps
/// creating new names without closing them cannot grow the proxy without bound.
const MAX_NAMES: usize = 10_000;
/// Most requests and statements awaiting answers that are tracked per session; a client that
/// pipelines more without reading is relayed all the same, its excess counted less exactly.
const MAX_PENDING: usize = 10_000;
/// PostgreSQL cuts statement and portal names at 63 bytes; longer ones are not worth keeping.
const MAX_NAME_LEN: usize = 64;

#[derive(Debug)]
pub struct Conversation {
    info: SessionInfo,
    /// Startup is over once the server first said it is ready for queries.
    ready: bool,
    startup_began: Instant,
    startup_round_trips: u32,
    prepared: HashMap<String, Sql>,
    portals: HashMap<String, Portal>,
    /// Requests sent and not yet answered by `ReadyForQuery`, oldest first.
    batches: VecDeque<Batch>,
    /// The newest batch has not been ended by a `Sync`, `Query` or `FunctionCall` yet.
    last_batch_open: bool,
    copy: Copy,
    /// The client sent Terminate: the server closing next is the client's goodbye.
    terminated: bool,
    /// The last error the server sent outside any request (a failed login) or that ended
    /// the session (FATAL, PANIC).
    last_fatal_error: Option<ServerError>,
    /// Transaction state from the last `ReadyForQuery`, for round trips ended by a `Flush`.
    transaction: u8,
}

/// Where the session is in the COPY FROM STDIN sub-protocol, during which the server ignores
/// `Sync` and `Flush`: counting those as requests would shift every later answer by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Copy {
    None,
    /// Data flows from the client; `extended` when the COPY came through `Execute`, which
    /// then owes the server one `Sync` after the data.
    In {
        extended: bool,
    },
    /// The data is done; the next `Sync` belongs to the COPY's request.
    AwaitingSync,
}

#[derive(Debug, Clone)]
struct Sql {
    text: Arc<str>,
    truncated: bool,
}

#[derive(Debug, Clone)]
struct Portal {
    sql: Sql,
    params: u64,
}

#[derive(Debug)]
struct Batch {
    sent: Instant,
    /// Statements prepared (`Parse`) in this batch, for a round trip that only prepares.
    parsed: Vec<Sql>,
    /// Names this batch's `Parse` messages took, with what they named before, until the
    /// server confirms each (`ParseComplete`): a `Parse` that fails, or that an earlier error
    /// made the server skip, must not replace the statement the name still has.
    unconfirmed: VecDeque<(String, Option<Sql>)>,
    described: bool,
    /// Statements sent and not yet answered, in order.
    pending: VecDeque<Pending>,
    done: Vec<Statement>,
    /// Rows sent for the statement at the front of `pending` so far.
    rows_in_flight: u64,
    /// Bytes the server sent in answer so far.
    received: u64,
    error: Option<ServerError>,
    /// The client sent `Flush`: it may wait for the answer before its next message.
    flushed: bool,
    /// When the latest answer to a flushed batch reached the client.
    answered: Option<Instant>,
}

#[derive(Debug)]
struct Pending {
    statement: Statement,
    /// A simple `Query`: one entry for its whole text, collecting every command tag until
    /// `ReadyForQuery`.
    simple: bool,
}

impl Conversation {
    pub fn new(info: SessionInfo, began: Instant) -> Self {
        Self {
            info,
            ready: false,
            startup_began: began,
            startup_round_trips: 0,
            prepared: HashMap::new(),
            portals: HashMap::new(),
            batches: VecDeque::new(),
            last_batch_open: false,
            copy: Copy::None,
            terminated: false,
            last_fatal_error: None,
            transaction: b'I',
        }
    }

    /// One more request of the startup exchange (an SSL request, the startup message).
    pub fn startup_request(&mut self) {
        self.startup_round_trips += 1;
    }

    /// A message from the client reached the proxy at `at`. Returns the round trip it ended:
    /// a flushed batch the server had answered.
    pub fn on_frontend(&mut self, frame: &Frame<'_>, at: Instant) -> Option<ProxyEvent> {
        if !self.ready {
            // Password and SASL messages: each waits for the server's next step.
            if frame.tag == b'p' {
                self.startup_round_trips += 1;
            }
            return None;
        }
        let waited = self.end_flushed();
        let mut fields = Fields::new(frame.body);
        match frame.tag {
            b'Q' => {
                let sql = sql_text(fields.cstr(), frame.truncated);
                let statement = Statement {
                    truncated: frame.truncated,
                    ..statement(sql)
                };
                self.push_pending(at, statement, true);
                self.last_batch_open = false;
            }
            b'P' => {
                let name = name(fields.cstr());
                let sql = Sql {
                    text: sql_text(fields.cstr(), frame.truncated),
                    truncated: frame.truncated,
                };
                let previous = self.prepared.get(&name).cloned();
                let batch = self.batch(at);
                if batch.parsed.len() < MAX_PENDING {
                    batch.parsed.push(sql.clone());
                    batch.unconfirmed.push_back((name.clone(), previous));
                }
                remember(&mut self.prepared, name, sql);
            }
            b'B' => {
                let portal = name(fields.cstr());
                let statement_name = name(fields.cstr());
                let params = fnv1a_64(fields.rest());
                let sql = self.prepared.get(&statement_name).cloned().unwrap_or(Sql {
                    text: Arc::from(format!("(unknown prepared statement {statement_name:?})")),
                    truncated: false,
                });
                self.batch(at);
                remember(&mut self.portals, portal, Portal { sql, params });
            }
            b'E' => {
                let portal = name(fields.cstr());
                let statement = match self.portals.get(&portal) {
                    Some(p) => Statement {
                        params: p.params,
                        truncated: p.sql.truncated,
                        ..statement(p.sql.text.clone())
                    },
                    None => statement(format!("(unknown portal {portal:?})").into()),
                };
                self.push_pending(at, statement, false);
            }
            b'D' => self.batch(at).described = true,
            b'C' => {
                let kind = fields.u8();
                let name = name(fields.cstr());
                match kind {
                    Some(b'S') => self.prepared.remove(&name),
                    _ => self.portals.remove(&name).map(|p| p.sql),
                };
                self.batch(at);
            }
            b'S' => match self.copy {
                // The server ignores Sync during COPY data.
                Copy::In { .. } => {}
                Copy::AwaitingSync => self.copy = Copy::None,
                Copy::None => {
                    self.batch(at);
                    self.last_batch_open = false;
                }
            },
            b'F' => {
                let function = fields.i32().unwrap_or_default();
                let call = format!("(function call, oid {function})");
                self.push_pending(at, statement(call.into()), false);
                self.last_batch_open = false;
            }
            // CopyDone, CopyFail: the data is over.
            b'c' | b'f' => {
                if let Copy::In { extended } = self.copy {
                    self.copy = if extended {
                        Copy::AwaitingSync
                    } else {
                        Copy::None
                    };
                }
            }
            b'X' => self.terminated = true,
            // Flush: the client may wait for what it sent so far (ignored during COPY).
            b'H' => {
                if self.copy == Copy::None
                    && self.last_batch_open
                    && let Some(batch) = self.batches.back_mut()
                {
                    batch.flushed = true;
                }
            }
            // COPY data: part of a request already counted.
            _ => {}
        }
        waited
    }

    /// Ends the open batch as a round trip if the client flushed it and the server answered:
    /// the client's next message came after the answer it waited for.
    fn end_flushed(&mut self) -> Option<ProxyEvent> {
        let answered = match self.batches.back() {
            Some(batch) if self.last_batch_open && self.batches.len() == 1 && batch.flushed => {
                batch.answered?
            }
            _ => return None,
        };
        let batch = self.batches.pop_front()?;
        self.last_batch_open = false;
        Some(self.round_trip(batch, self.transaction, answered))
    }

    /// Whether the client said goodbye (Terminate) before the connection closed.
    pub fn terminated(&self) -> bool {
        self.terminated
    }

    /// A message from the server reached the proxy; `delivered` is when it reaches the
    /// client (later than arrival when latency is injected).
    pub fn on_backend(&mut self, frame: &Frame<'_>, delivered: Instant) -> Option<ProxyEvent> {
        // The answer's size, its ReadyForQuery included; messages outside any request (a
        // notice, a parameter change) are nobody's round trip.
        if self.ready
            && let Some(batch) = self.batches.front_mut()
        {
            batch.received += frame.wire_len as u64;
            if batch.flushed {
                batch.answered = Some(delivered);
            }
        }
        let mut fields = Fields::new(frame.body);
        match frame.tag {
            b'Z' => {
                self.copy = Copy::None;
                return self.ready_for_query(fields.u8().unwrap_or(b'I'), delivered);
            }
            b'S' => {
                let name = fields.cstr();
                let value = String::from_utf8_lossy(fields.cstr()).into_owned();
                if name == b"application_name" && value != self.info.application_name {
                    self.info.application_name.clone_from(&value);
                    if self.ready {
                        return Some(ProxyEvent::ApplicationName {
                            session: self.info.id,
                            name: value,
                        });
                    }
                }
            }
            b'K' => self.info.backend_pid = fields.i32(),
            b'E' => self.error(parse_error(frame.body)),
            b'D' => {
                if let Some(batch) = self.batches.front_mut() {
                    batch.rows_in_flight += 1;
                }
            }
            b'C' => {
                let tag = fields.cstr();
                self.complete(|s, rows_sent| {
                    s.completed += 1;
                    s.rows += rows_of_tag(tag).unwrap_or(rows_sent);
                });
            }
            b's' => self.complete(|s, rows_sent| {
                s.completed += 1;
                s.rows += rows_sent;
            }),
            // Function call result.
            b'V' => self.complete(|s, _| s.completed += 1),
            // Empty query: answered, nothing ran.
            b'I' => self.complete(|_, _| {}),
            // CopyInResponse, CopyBothResponse: the client sends data now.
            b'G' | b'W' => self.copy_started(),
            // ParseComplete: the oldest unconfirmed name is the server's now.
            b'1' => {
                if let Some(batch) = self.batches.front_mut() {
                    batch.unconfirmed.pop_front();
                }
            }
            _ => {}
        }
        None
    }

    /// The server closed the connection: requests it never answered end here, with the
    /// error that ended the session.
    pub fn server_closed(&mut self, at: Instant) -> (Vec<ProxyEvent>, Option<ServerError>) {
        let error = self.last_fatal_error.take();
        let unanswered = std::mem::take(&mut self.batches)
            .into_iter()
            .filter(|b| !b.pending.is_empty() || !b.done.is_empty())
            .map(|mut batch| {
                batch
                    .error
                    .get_or_insert_with(|| error.clone().unwrap_or_default());
                self.round_trip(batch, 0, at)
            })
            .collect();
        (unanswered, error)
    }

    /// The batch client messages go to now: the open one, or a new one sent at `at`.
    fn batch(&mut self, at: Instant) -> &mut Batch {
        let room = self.batches.len() < MAX_PENDING;
        if (!self.last_batch_open && room) || self.batches.is_empty() {
            self.batches.push_back(Batch {
                sent: at,
                parsed: Vec::new(),
                unconfirmed: VecDeque::new(),
                described: false,
                pending: VecDeque::new(),
                done: Vec::new(),
                rows_in_flight: 0,
                received: 0,
                error: None,
                flushed: false,
                answered: None,
            });
        }
        self.last_batch_open = true;
        let last = self.batches.len() - 1;
        &mut self.batches[last]
    }

    fn push_pending(&mut self, at: Instant, statement: Statement, simple: bool) {
        let batch = self.batch(at);
        if batch.pending.len() < MAX_PENDING {
            batch.pending.push_back(Pending { statement, simple });
        }
    }

    /// The server finished a statement of the oldest batch; `update` records how, given
    /// the rows sent for it.
    fn complete(&mut self, update: impl FnOnce(&mut Statement, u64)) {
        let Some(batch) = self.batches.front_mut() else {
            return;
        };
        let rows_sent = std::mem::take(&mut batch.rows_in_flight);
        match batch.pending.front_mut() {
            // A simple query's entry stays until ReadyForQuery, collecting every tag.
            Some(entry) if entry.simple => update(&mut entry.statement, rows_sent),
            Some(_) => {
                if let Some(mut entry) = batch.pending.pop_front() {
                    update(&mut entry.statement, rows_sent);
                    batch.done.push(entry.statement);
                }
            }
            None => {}
        }
    }

    fn copy_started(&mut self) {
        let Some(batch) = self.batches.front() else {
            return;
        };
        let extended = batch.pending.front().is_some_and(|p| !p.simple);
        self.copy = Copy::In { extended };
        if extended {
            // Syncs the client sent after the COPY's Execute reach a server in copy mode,
            // which ignores them: they are not requests of their own.
            self.batches.truncate(1);
            self.last_batch_open = false;
        }
    }

    fn error(&mut self, error: ServerError) {
        if matches!(error.severity.as_str(), "FATAL" | "PANIC") {
            self.last_fatal_error = Some(error.clone());
        }
        if let Copy::In { extended } = self.copy {
            // The COPY failed; in extended mode the server now waits for a Sync.
            self.copy = if extended {
                Copy::AwaitingSync
            } else {
                Copy::None
            };
        }
        let Some(batch) = self.batches.front_mut().filter(|_| self.ready) else {
            self.last_fatal_error = Some(error);
            return;
        };
        match batch.pending.front_mut() {
            Some(entry) if entry.simple => entry.statement.failed = true,
            Some(_) => {
                if let Some(mut entry) = batch.pending.pop_front() {
                    entry.statement.failed = true;
                    batch.done.push(entry.statement);
                }
                // The server skips everything else up to the Sync: those never ran.
                batch
                    .done
                    .extend(batch.pending.drain(..).map(|p| Statement {
                        skipped: true,
                        ..p.statement
                    }));
            }
            None => {}
        }
        batch.rows_in_flight = 0;
        batch.error.get_or_insert(error);
        // Parses not confirmed yet failed or were skipped: their names keep their old SQL.
        while let Some((name, previous)) = batch.unconfirmed.pop_back() {
            match previous {
                Some(sql) => self.prepared.insert(name, sql),
                None => self.prepared.remove(&name),
            };
        }
    }

    fn ready_for_query(&mut self, transaction: u8, delivered: Instant) -> Option<ProxyEvent> {
        if !self.ready {
            self.ready = true;
            // Requests sent during authentication belong to the startup.
            self.batches.clear();
            self.last_batch_open = false;
            return Some(ProxyEvent::SessionStarted {
                session: Arc::new(self.info.clone()),
                startup_round_trips: self.startup_round_trips,
                startup: delivered.saturating_duration_since(self.startup_began),
            });
        }
        self.transaction = transaction;
        let batch = self.batches.pop_front()?;
        if self.batches.is_empty() {
            self.last_batch_open = false;
        }
        Some(self.round_trip(batch, transaction, delivered))
    }

    fn round_trip(&self, mut batch: Batch, transaction: u8, delivered: Instant) -> ProxyEvent {
        batch
            .done
            .extend(batch.pending.drain(..).map(|p| p.statement));
        let executed = batch.done.iter().any(|s| s.completed > 0 || s.failed);
        let prepared = !batch.parsed.is_empty() || batch.described;
        let shape = if executed || (batch.error.is_some() && !prepared) {
            Shape::Execute
        } else if prepared {
            Shape::Prepare
        } else {
            Shape::Ping
        };
        let statements = match shape {
            Shape::Execute => batch.done,
            // What was prepared, so a syntax error has its SQL beside it.
            Shape::Prepare => {
                let failed = batch.error.is_some();
                let count = batch.parsed.len();
                batch
                    .parsed
                    .into_iter()
                    .enumerate()
                    .map(|(i, sql)| Statement {
                        truncated: sql.truncated,
                        failed: failed && i + 1 == count,
                        ..statement(sql.text)
                    })
                    .collect()
            }
            Shape::Ping => Vec::new(),
        };
        ProxyEvent::RoundTrip(RoundTrip {
            session: self.info.id,
            sent: batch.sent,
            duration: delivered.saturating_duration_since(batch.sent),
            shape,
            statements,
            error: batch.error,
            transaction,
            received: batch.received,
        })
    }
}

fn statement(sql: Arc<str>) -> Statement {
    Statement {
        sql,
        truncated: false,
        params: 0,
        completed: 0,
        rows: 0,
        failed: false,
        skipped: false,
    }
}

fn sql_text(bytes: &[u8], truncated: bool) -> Arc<str> {
    let text = String::from_utf8_lossy(bytes);
    if truncated {
        Arc::from(format!("{text}…"))
    } else {
        Arc::from(text)
    }
}

fn name(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_NAME_LEN)]).into_owned()
}

/// Stores a named statement or portal; the unnamed one ("") is replaced as the protocol
/// says. Past [`MAX_NAMES`] the oldest are not tracked: forget them all rather than grow.
fn remember<V>(map: &mut HashMap<String, V>, name: String, value: V) {
    if map.len() >= MAX_NAMES && !map.contains_key(&name) {
        map.clear();
    }
    map.insert(name, value);
}

/// Rows a command tag reports: `SELECT 3`, `INSERT 0 5`, `UPDATE 2`, `COPY 9`, …; `None`
/// for commands whose tag carries no count (`SHOW`, `EXPLAIN`, `CREATE TABLE`).
fn rows_of_tag(tag: &[u8]) -> Option<u64> {
    let tag = String::from_utf8_lossy(tag);
    let mut words = tag.split_ascii_whitespace();
    let counts_rows = matches!(
        words.next(),
        Some("SELECT" | "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "COPY" | "FETCH" | "MOVE")
    );
    if !counts_rows {
        return None;
    }
    words.next_back()?.parse().ok()
}

/// The fields of an `ErrorResponse` body: pairs of a field type byte and a string.
pub fn parse_error(body: &[u8]) -> ServerError {
    let mut error = ServerError::default();
    let mut fields = Fields::new(body);
    while let Some(kind) = fields.u8().filter(|&k| k != 0) {
        let value = String::from_utf8_lossy(fields.cstr()).into_owned();
        match kind {
            b'V' => error.severity = value,
            b'S' if error.severity.is_empty() => error.severity = value,
            b'C' => error.sqlstate = value,
            b'M' => error.message = value,
            b'D' => error.detail = Some(value),
            b'H' => error.hint = Some(value),
            b'P' => error.position = value.parse().ok(),
            _ => {}
        }
    }
    error
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn info() -> SessionInfo {
        SessionInfo {
            id: 7,
            client: "127.0.0.1:1".parse().unwrap(),
            user: "u".into(),
            database: "d".into(),
            application_name: "test".into(),
            backend_pid: None,
        }
    }

    /// A conversation past startup, and helpers that speak both sides of it.
    struct Script {
        conversation: Conversation,
        t0: Instant,
        events: Vec<ProxyEvent>,
    }

    impl Script {
        fn new() -> Self {
            let t0 = Instant::now();
            let mut script = Self {
                conversation: Conversation::new(info(), t0),
                t0,
                events: Vec::new(),
            };
            script.conversation.startup_request();
            script.client(b'p', b"secret\0", 1);
            script.server(b'K', &[0, 0, 0, 42, 0, 0, 0, 1], 2);
            script.server(b'Z', b"I", 3);
            script
        }

        fn client(&mut self, tag: u8, body: &[u8], ms: u64) {
            let frame = Frame {
                tag,
                body,
                truncated: false,
                wire_len: 5 + body.len(),
            };
            let at = self.t0 + Duration::from_millis(ms);
            self.events
                .extend(self.conversation.on_frontend(&frame, at));
        }

        /// Parse, Bind and Execute of `sql` through the unnamed statement and portal.
        fn execute_unnamed(&mut self, sql: &str, ms: u64) {
            self.client(b'P', format!("\0{sql}\0\0\0").as_bytes(), ms);
            self.client(b'B', b"\0\0\0\0\0\0\0\0", ms);
            self.client(b'E', b"\0\0\0\0\0", ms);
        }

        fn server(&mut self, tag: u8, body: &[u8], ms: u64) {
            let frame = Frame {
                tag,
                body,
                truncated: false,
                wire_len: 5 + body.len(),
            };
            let at = self.t0 + Duration::from_millis(ms);
            self.events.extend(self.conversation.on_backend(&frame, at));
        }

        fn round_trips(&self) -> Vec<&RoundTrip> {
            self.events
                .iter()
                .filter_map(|e| match e {
                    ProxyEvent::RoundTrip(rt) => Some(rt),
                    _ => None,
                })
                .collect()
        }
    }

    #[test]
    fn startup_reports_its_round_trips_and_the_backend_pid() {
        let script = Script::new();
        match &script.events[..] {
            [
                ProxyEvent::SessionStarted {
                    session,
                    startup_round_trips: 2,
                    startup,
                },
            ] => {
                assert_eq!(session.backend_pid, Some(42));
                assert_eq!(*startup, Duration::from_millis(3));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_multi_statement_query_is_one_round_trip_with_every_tag_counted() {
        let mut s = Script::new();
        s.client(b'Q', b"select 1; select 2 from t; update t set a = 1\0", 10);
        s.server(b'T', b"", 11);
        s.server(b'D', b"", 11);
        s.server(b'C', b"SELECT 1\0", 11);
        s.server(b'C', b"SELECT 2\0", 12);
        s.server(b'C', b"UPDATE 5\0", 12);
        s.server(b'Z', b"I", 14);
        let rts = s.round_trips();
        assert_eq!(rts.len(), 1);
        assert_eq!(rts[0].shape, Shape::Execute);
        assert_eq!(rts[0].duration, Duration::from_millis(4));
        assert_eq!(rts[0].statements.len(), 1);
        assert_eq!(rts[0].statements[0].completed, 3);
        assert_eq!(rts[0].statements[0].rows, 8);
        // Every answer message counts at its wire size: T, D, three C, Z.
        assert_eq!(rts[0].received, 5 + 5 + 14 + 14 + 14 + 6);
    }

    #[test]
    fn prepare_then_execute_are_two_round_trips_linked_by_name() {
        let mut s = Script::new();
        s.client(b'P', b"s1\0select * from users where id = $1\0\0\0", 10);
        s.client(b'D', b"Ss1\0", 10);
        s.client(b'S', b"", 10);
        s.server(b'1', b"", 11);
        s.server(b't', b"", 11);
        s.server(b'T', b"", 11);
        s.server(b'Z', b"I", 11);
        s.client(b'B', b"\0s1\0\0\0\0\x01\0\0\0\x017\0\0", 20);
        s.client(b'E', b"\0\0\0\0\0", 20);
        s.client(b'S', b"", 20);
        s.server(b'2', b"", 21);
        s.server(b'D', b"", 21);
        s.server(b'C', b"SELECT 1\0", 21);
        s.server(b'Z', b"I", 22);
        let rts = s.round_trips();
        assert_eq!(rts.len(), 2);
        assert_eq!(rts[0].shape, Shape::Prepare);
        assert_eq!(
            &*rts[0].statements[0].sql,
            "select * from users where id = $1"
        );
        assert_eq!(rts[0].statements[0].completed, 0);
        assert_eq!(rts[1].shape, Shape::Execute);
        let stmt = &rts[1].statements[0];
        assert_eq!(&*stmt.sql, "select * from users where id = $1");
        assert_eq!((stmt.completed, stmt.rows), (1, 1));
        assert_ne!(stmt.params, 0);
    }

    #[test]
    fn a_lone_sync_and_an_empty_query_are_pings() {
        let mut s = Script::new();
        s.client(b'S', b"", 10);
        s.server(b'Z', b"I", 11);
        s.client(b'Q', b";\0", 12);
        s.server(b'I', b"", 13);
        s.server(b'Z', b"I", 13);
        let shapes: Vec<_> = s.round_trips().iter().map(|rt| rt.shape).collect();
        assert_eq!(shapes, vec![Shape::Ping, Shape::Ping]);
    }

    #[test]
    fn pipelined_syncs_are_separate_round_trips_each_timed_from_its_own_start() {
        let mut s = Script::new();
        for (ms, sql) in [(10, "select 1"), (11, "select 2")] {
            s.execute_unnamed(sql, ms);
            s.client(b'S', b"", ms);
        }
        for ms in [15, 16] {
            s.server(b'1', b"", ms);
            s.server(b'2', b"", ms);
            s.server(b'C', b"SELECT 1\0", ms);
            s.server(b'Z', b"I", ms);
        }
        let rts = s.round_trips();
        assert_eq!(rts.len(), 2);
        assert_eq!(&*rts[0].statements[0].sql, "select 1");
        assert_eq!(&*rts[1].statements[0].sql, "select 2");
        assert_eq!(rts[0].duration, Duration::from_millis(5));
        assert_eq!(rts[1].duration, Duration::from_millis(5));
    }

    #[test]
    fn an_error_mid_pipeline_fails_one_statement_and_skips_the_rest() {
        let mut s = Script::new();
        for sql in ["select 1/0", "select 1"] {
            s.execute_unnamed(sql, 10);
        }
        s.client(b'S', b"", 10);
        s.server(b'1', b"", 11);
        s.server(b'2', b"", 11);
        s.server(b'E', b"SERROR\0VERROR\0C22012\0Mdivision by zero\0\0", 11);
        s.server(b'Z', b"I", 12);
        let rts = s.round_trips();
        assert_eq!(rts.len(), 1);
        let statements: Vec<_> = rts[0]
            .statements
            .iter()
            .map(|s| (&*s.sql, s.failed, s.skipped))
            .collect();
        assert_eq!(
            statements,
            [("select 1/0", true, false), ("select 1", false, true)]
        );
        let error = rts[0].error.as_ref().unwrap();
        assert_eq!(
            (&*error.sqlstate, &*error.message),
            ("22012", "division by zero")
        );
    }

    #[test]
    fn a_flush_the_client_waited_on_is_a_round_trip_of_its_own() {
        // asyncpg: Parse, Describe, Flush; it waits for the description, then executes.
        let mut s = Script::new();
        s.client(b'P', b"s1\0select * from users where id = $1\0\0\0", 10);
        s.client(b'D', b"Ss1\0", 10);
        s.client(b'H', b"", 10);
        s.server(b'1', b"", 12);
        s.server(b't', b"", 12);
        s.server(b'T', b"", 13);
        s.client(b'B', b"\0s1\0\0\0\0\x01\0\0\0\x017\0\0", 20);
        s.client(b'E', b"\0\0\0\0\0", 20);
        s.client(b'S', b"", 20);
        s.server(b'2', b"", 21);
        s.server(b'C', b"SELECT 1\0", 21);
        s.server(b'Z', b"I", 22);
        let rts = s.round_trips();
        let shapes: Vec<_> = rts.iter().map(|rt| rt.shape).collect();
        assert_eq!(shapes, [Shape::Prepare, Shape::Execute]);
        assert_eq!(rts[0].duration, Duration::from_millis(3));
        assert_eq!(rts[1].duration, Duration::from_millis(2));
        assert_eq!(
            &*rts[1].statements[0].sql,
            "select * from users where id = $1"
        );
    }

    #[test]
    fn a_flush_followed_at_once_by_more_messages_stays_one_round_trip() {
        // The client flushed but sent on before any answer: it did not wait.
        let mut s = Script::new();
        s.execute_unnamed("select 1", 10);
        s.client(b'H', b"", 10);
        s.client(b'S', b"", 10);
        s.server(b'1', b"", 11);
        s.server(b'2', b"", 11);
        s.server(b'C', b"SELECT 1\0", 11);
        s.server(b'Z', b"I", 12);
        assert_eq!(s.round_trips().len(), 1);
    }

    #[test]
    fn many_executions_before_one_sync_are_one_round_trip() {
        // executemany, pipeline mode: Bind/Execute pairs, one Sync.
        let mut s = Script::new();
        s.client(b'P', b"s1\0insert into t values ($1)\0\0\0", 10);
        for _ in 0..10 {
            s.client(b'B', b"\0s1\0\0\0\0\x01\0\0\0\x017\0\0", 10);
            s.client(b'E', b"\0\0\0\0\0", 10);
        }
        s.client(b'S', b"", 10);
        s.server(b'1', b"", 11);
        for _ in 0..10 {
            s.server(b'2', b"", 11);
            s.server(b'C', b"INSERT 0 1\0", 11);
        }
        s.server(b'Z', b"I", 12);
        let rts = s.round_trips();
        assert_eq!(rts.len(), 1);
        assert_eq!(rts[0].statements.len(), 10);
    }

    #[test]
    fn a_failed_login_is_kept_for_the_session_end() {
        let t0 = Instant::now();
        let mut c = Conversation::new(info(), t0);
        let body = b"SFATAL\0C28P01\0Mpassword authentication failed\0\0";
        let frame = Frame {
            tag: b'E',
            body,
            truncated: false,
            wire_len: 5 + body.len(),
        };
        assert_eq!(c.on_backend(&frame, t0), None);
        assert_eq!(c.server_closed(t0).1.unwrap().sqlstate, "28P01");
    }

    #[test]
    fn application_name_changes_are_reported_after_startup() {
        let mut s = Script::new();
        s.server(b'S', b"application_name\0psql\0", 30);
        assert!(matches!(
            s.events.last(),
            Some(ProxyEvent::ApplicationName { name, .. }) if name == "psql"
        ));
    }

    #[test]
    fn an_extended_copy_swallows_the_syncs_the_server_ignores() {
        let mut s = Script::new();
        s.execute_unnamed("copy t from stdin", 10);
        s.client(b'S', b"", 10);
        s.server(b'1', b"", 11);
        s.server(b'2', b"", 11);
        s.server(b'G', b"", 11);
        s.client(b'd', b"", 12);
        s.client(b'S', b"", 12);
        s.client(b'c', b"", 13);
        s.client(b'S', b"", 13);
        s.server(b'C', b"COPY 2\0", 14);
        s.server(b'Z', b"I", 14);
        s.client(b'Q', b"select 1\0", 20);
        s.server(b'C', b"SELECT 1\0", 21);
        s.server(b'Z', b"I", 21);
        let rts = s.round_trips();
        let sql: Vec<&str> = rts.iter().map(|rt| &*rt.statements[0].sql).collect();
        assert_eq!(sql, ["copy t from stdin", "select 1"]);
        assert_eq!(rts[0].statements[0].rows, 2);
    }

    #[test]
    fn a_server_that_dies_mid_query_reports_the_query_with_the_fatal_error() {
        let mut s = Script::new();
        s.client(b'Q', b"select pg_sleep(10)\0", 10);
        s.server(
            b'E',
            b"SFATAL\0VFATAL\0C57P01\0Mterminating connection\0\0",
            11,
        );
        let (unanswered, error) = s.conversation.server_closed(s.t0);
        assert_eq!(error.unwrap().sqlstate, "57P01");
        match &unanswered[..] {
            [ProxyEvent::RoundTrip(rt)] => {
                assert!(rt.statements[0].failed);
                assert_eq!(rt.error.as_ref().unwrap().sqlstate, "57P01");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tags_without_a_count_take_the_rows_sent() {
        let mut s = Script::new();
        s.client(b'Q', b"show work_mem\0", 10);
        s.server(b'D', b"", 11);
        s.server(b'C', b"SHOW\0", 11);
        s.server(b'Z', b"I", 11);
        assert_eq!(s.round_trips()[0].statements[0].rows, 1);
    }

    #[test]
    fn a_failed_parse_leaves_the_name_to_its_old_statement() {
        let mut s = Script::new();
        s.client(b'P', b"s1\0select 1\0\0\0", 10);
        s.client(b'S', b"", 10);
        s.server(b'1', b"", 11);
        s.server(b'Z', b"I", 11);
        // The same name again: the server refuses (42P05), the old statement stays.
        s.client(b'P', b"s1\0select 2\0\0\0", 20);
        s.client(b'S', b"", 20);
        s.server(
            b'E',
            b"SERROR\0C42P05\0Mprepared statement \"s1\" already exists\0\0",
            21,
        );
        s.server(b'Z', b"I", 21);
        s.client(b'B', b"\0s1\0\0\0\0\0\0\0", 30);
        s.client(b'E', b"\0\0\0\0\0", 30);
        s.client(b'S', b"", 30);
        s.server(b'2', b"", 31);
        s.server(b'C', b"SELECT 1\0", 31);
        s.server(b'Z', b"I", 31);
        let rts = s.round_trips();
        assert_eq!(&*rts[2].statements[0].sql, "select 1");
    }

    #[test]
    fn command_tags_give_row_counts() {
        for (tag, rows) in [
            (&b"SELECT 12"[..], Some(12)),
            (b"INSERT 0 5", Some(5)),
            (b"UPDATE 3", Some(3)),
            (b"COPY 9", Some(9)),
            (b"CREATE TABLE", None),
            (b"SHOW", None),
        ] {
            assert_eq!(rows_of_tag(tag), rows, "{}", String::from_utf8_lossy(tag));
        }
    }
}
