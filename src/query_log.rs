//! The recorder: turns the proxy's events into the lab's query log. It keeps the last
//! round trips in a bounded ring, totals per session, per scope (a lesson step opens one)
//! and overall, gives each round trip its kind, and runs the detectors: N+1 bursts,
//! duplicates and spliced literals per session, and the tenancy and soft-delete lint per
//! statement. Pure: no I/O; the table facts for the lint come from the caller.
//!
//! Work per statement is kept small (the proxy may report tens of thousands a second):
//! fingerprints are cached, and kinds and lint results are cached per fingerprint.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::data::proxy::{Kind, ProxyEvent, RoundTrip, SessionId, SessionInfo, Shape};
use crate::data::warning::{Raised, WarningRule};
use crate::sql::fingerprint::{Fingerprint, Fingerprinter};
use crate::sql::kind::{StatementKind, statement_kind};
use crate::sql::lint::{Lint, TableFacts, lint};
use crate::sql::n_plus_one::{BurstDetector, DEFAULT_THRESHOLD, Finding, Observed, Span};

/// Round trips kept for display when no other size is asked for.
pub const DEFAULT_CAPACITY: usize = 10_000;
/// Ended sessions whose totals are kept.
const ENDED_SESSIONS_KEPT: usize = 1_000;
/// Fingerprints whose kind and lint result are remembered.
const ANALYSIS_CACHE: usize = 4_096;
/// Distinct statement shapes counted for the summary; later new shapes are not counted.
const SHAPES_COUNTED: usize = 10_000;

/// Something worth a learner's attention, with the statement it is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// A pattern across statements: N+1, duplicates, literals spliced into SQL.
    Pattern(Finding),
    /// A statement that breaks a tenancy or soft-delete rule.
    Lint { lint: Lint, sql: Arc<str> },
}

impl Warning {
    pub fn message(&self) -> String {
        match self {
            Warning::Pattern(finding) => finding.message(),
            Warning::Lint { lint, .. } => lint.message(),
        }
    }

    /// The session and round trips an N+1 or duplicate warning is about.
    pub fn span(&self) -> Option<Span> {
        match self {
            Warning::Pattern(finding) => finding.span(),
            Warning::Lint { .. } => None,
        }
    }

    /// The message, after the round trips it is about when it names some (`s3 #2–#6: N+1…`),
    /// as the logs print it.
    pub fn line(&self) -> String {
        match self.span() {
            Some(span) => format!("{}: {}", span.label(), self.message()),
            None => self.message(),
        }
    }

    /// The rule that raised it, as lesson files name it.
    pub fn rule(&self) -> WarningRule {
        match self {
            Warning::Pattern(Finding::NPlusOne { .. }) => WarningRule::NPlusOne,
            Warning::Pattern(Finding::Duplicates { .. }) => WarningRule::Duplicate,
            Warning::Pattern(Finding::SplicedLiterals { .. }) => WarningRule::Spliced,
            Warning::Lint { lint, .. } => match lint {
                Lint::MissingTenantFilter { .. } => WarningRule::Tenancy,
                Lint::MissingSoftDeleteFilter { .. } => WarningRule::SoftDelete,
                Lint::LiteralComparison { .. } => WarningRule::Constants,
            },
        }
    }

    /// As a report keeps it: rule, the table a lint is about, message.
    pub fn raised(&self) -> Raised {
        let subject = match self {
            Warning::Lint {
                lint:
                    Lint::MissingTenantFilter { table, .. }
                    | Lint::MissingSoftDeleteFilter { table, .. },
                ..
            } => table.clone(),
            _ => String::new(),
        };
        Raised {
            rule: self.rule(),
            subject,
            message: self.message(),
        }
    }
}

/// The messages of `warnings`, each once (every connection reports its lint, and a grade or a
/// demo report needs a message only once).
pub fn warning_messages(warnings: &[Warning]) -> Vec<String> {
    raised_once(warnings)
        .into_iter()
        .map(|raised| raised.message)
        .collect()
}

/// `warnings` as a report keeps them, each message once.
pub fn raised_once(warnings: &[Warning]) -> Vec<Raised> {
    warnings
        .iter()
        .map(Warning::raised)
        .fold(Vec::new(), |mut kept, raised| {
            if !kept.iter().any(|k| k.message == raised.message) {
                kept.push(raised);
            }
            kept
        })
}

/// One recorded round trip.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Numbers entries in the order they were recorded, from 1.
    pub seq: u64,
    pub application_name: Arc<str>,
    pub kind: Kind,
    pub round_trip: RoundTrip,
    /// Raised about this round trip (lint, spliced values).
    pub warnings: Vec<Warning>,
    /// Raised while recording this round trip about earlier ones: the N+1 or duplicates of
    /// a burst this round trip ended. Shown before it, each naming the round trips it is
    /// about.
    pub earlier: Vec<Warning>,
}

/// Sums over a set of round trips.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub round_trips: u64,
    /// Round trips of each kind, indexed like [`Kind::ALL`].
    pub by_kind: [u64; Kind::ALL.len()],
    pub statements: u64,
    pub rows: u64,
    pub errors: u64,
    pub warnings: u64,
    /// Client-observed time spent waiting for answers.
    pub waiting: Duration,
    /// Bytes the server sent in answer.
    pub received: u64,
}

impl Totals {
    pub fn of_kind(&self, kind: Kind) -> u64 {
        self.by_kind[kind_index(kind)]
    }

    /// Round trips by kind, in [`Kind::ALL`] order, the kinds that occurred only: what a
    /// demo's report shows.
    pub fn kinds_seen(&self) -> Vec<(Kind, u64)> {
        Kind::ALL
            .iter()
            .map(|&kind| (kind, self.of_kind(kind)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    fn add(&mut self, kind: Kind, rt: &RoundTrip) {
        self.round_trips += 1;
        self.by_kind[kind_index(kind)] += 1;
        for statement in &rt.statements {
            self.statements += u64::from(statement.completed) + u64::from(statement.failed);
            self.rows += statement.rows;
        }
        self.errors += u64::from(rt.error.is_some());
        self.waiting += rt.duration;
        self.received += rt.received;
    }
}

fn kind_index(kind: Kind) -> usize {
    Kind::ALL.iter().position(|&k| k == kind).unwrap_or(0)
}

/// Identifies an open scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScopeId(u64);

/// What happened inside a scope.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeReport {
    pub name: String,
    pub totals: Totals,
    /// From opening the scope to the report.
    pub wall: Duration,
    pub warnings: Vec<Warning>,
    /// The session it counted ended meanwhile and a new one took its place (the server went
    /// away and the client reconnected): the totals include the new session's own setup.
    pub reconnected: bool,
}

#[derive(Debug)]
struct Scope {
    name: String,
    /// Only this session's round trips, or all.
    session: Option<SessionId>,
    /// Moved onto a new session by [`QueryLog::follow`].
    reconnected: bool,
    opened: Instant,
    totals: Totals,
    warnings: Vec<Warning>,
}

#[derive(Debug)]
struct Session {
    application_name: Arc<str>,
    totals: Totals,
    detector: BurstDetector,
    /// Fingerprints whose lint was already reported: once per session is enough.
    linted: HashSet<u64>,
    ended: bool,
}

impl Session {
    fn new(application_name: &str, threshold: usize) -> Self {
        Self {
            application_name: Arc::from(application_name),
            totals: Totals::default(),
            detector: BurstDetector::new(threshold),
            linted: HashSet::new(),
            ended: false,
        }
    }
}

/// What a statement's fingerprint says about it, worked out once per fingerprint.
#[derive(Debug, Clone)]
struct Analysis {
    kind: StatementKind,
    lints: Vec<Lint>,
}

#[derive(Debug)]
pub struct QueryLog {
    capacity: usize,
    entries: VecDeque<Arc<Entry>>,
    next_seq: u64,
    sessions: HashMap<SessionId, Session>,
    ended: VecDeque<SessionId>,
    scopes: HashMap<ScopeId, Scope>,
    next_scope: u64,
    totals: Totals,
    /// What happened since the traffic last paused: a request's worth, for `pause`.
    since_pause: Totals,
    fingerprinter: Fingerprinter,
    /// Shared, not copied: most statements only need the kind.
    analyses: HashMap<u64, Arc<Analysis>>,
    facts: TableFacts,
    threshold: usize,
    /// Executions per statement shape (fingerprint hash → shape, count).
    shapes: HashMap<u64, (Arc<str>, u64)>,
}

impl QueryLog {
    /// A log keeping the last `capacity` round trips, linting against `facts`.
    pub fn new(capacity: usize, facts: TableFacts) -> Self {
        Self {
            capacity: capacity.max(1),
            entries: VecDeque::new(),
            next_seq: 1,
            sessions: HashMap::new(),
            ended: VecDeque::new(),
            scopes: HashMap::new(),
            next_scope: 1,
            totals: Totals::default(),
            since_pause: Totals::default(),
            fingerprinter: Fingerprinter::new(),
            analyses: HashMap::new(),
            facts,
            threshold: DEFAULT_THRESHOLD,
            shapes: HashMap::new(),
        }
    }

    /// New table facts (after the schema changed); lint results are worked out again.
    pub fn set_facts(&mut self, facts: TableFacts) {
        self.facts = facts;
        self.analyses.clear();
    }

    /// The table facts the lint works from.
    pub fn facts(&self) -> &TableFacts {
        &self.facts
    }

    /// How many round trips the log keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Repeats that make an N+1, for sessions that start from now on.
    pub fn set_threshold(&mut self, threshold: usize) {
        self.threshold = threshold.max(2);
    }

    /// Records one proxy event. Returns the entry a round trip became, and the warnings
    /// the event raised (also for events that are not round trips: a session's end
    /// finishes its last burst).
    pub fn record(&mut self, event: ProxyEvent) -> (Option<Arc<Entry>>, Vec<Warning>) {
        match event {
            ProxyEvent::SessionStarted { session, .. } => {
                self.session_started(&session);
                (None, Vec::new())
            }
            ProxyEvent::ApplicationName { session, name } => {
                if let Some(s) = self.sessions.get_mut(&session) {
                    s.application_name = Arc::from(name);
                }
                (None, Vec::new())
            }
            ProxyEvent::RoundTrip(rt) => {
                let entry = self.round_trip(rt);
                let warnings = entry.earlier.iter().chain(&entry.warnings).cloned();
                let warnings = warnings.collect();
                (Some(entry), warnings)
            }
            ProxyEvent::SessionEnded { session, .. } => (None, self.session_ended(session)),
            ProxyEvent::Cancel { .. } => (None, Vec::new()),
        }
    }

    fn session_started(&mut self, info: &SessionInfo) {
        let session = Session::new(&info.application_name, self.threshold);
        self.sessions.insert(info.id, session);
    }

    fn session_ended(&mut self, id: SessionId) -> Vec<Warning> {
        let warnings = self.finish_bursts(Some(id));
        if let Some(session) = self.sessions.get_mut(&id) {
            session.ended = true;
            self.ended.push_back(id);
        }
        while self.ended.len() > ENDED_SESSIONS_KEPT {
            if let Some(old) = self.ended.pop_front() {
                self.sessions.remove(&old);
            }
        }
        warnings
    }

    fn round_trip(&mut self, rt: RoundTrip) -> Arc<Entry> {
        let session_id = rt.session;
        let seq = self.next_seq;
        let mut warnings = Vec::new();
        let mut earlier = Vec::new();
        let mut kinds = Vec::with_capacity(rt.statements.len());
        // Sessions that started before this log did are picked up on first sight.
        let threshold = self.threshold;
        self.sessions
            .entry(session_id)
            .or_insert_with(|| Session::new("", threshold));
        // Prepared-only statements did not run, nor did statements skipped after an error:
        // they are shown, not counted or judged.
        let executed = if rt.shape == Shape::Execute {
            &rt.statements[..]
        } else {
            &[]
        };
        for statement in executed.iter().filter(|s| !s.skipped) {
            let fingerprint = self.fingerprinter.fingerprint(&statement.sql);
            let analysis = self.analysis(&statement.sql, &fingerprint);
            // Once per message: a multi-statement Query is one text, sent once.
            self.count_shape(&fingerprint);
            kinds.push(analysis.kind);
            let Some(session) = self.sessions.get_mut(&session_id) else {
                continue;
            };
            let findings = session.detector.observe(Observed {
                session: session_id,
                seq,
                sql: &statement.sql,
                fingerprint: &fingerprint,
                params: statement.params,
                kind: analysis.kind,
            });
            for finding in findings {
                match finding.span() {
                    Some(span) if span.last < seq => earlier.push(Warning::Pattern(finding)),
                    _ => warnings.push(Warning::Pattern(finding)),
                }
            }
            if !analysis.lints.is_empty() && remember_once(&mut session.linted, fingerprint.hash) {
                warnings.extend(analysis.lints.iter().map(|lint| Warning::Lint {
                    lint: lint.clone(),
                    sql: statement.sql.clone(),
                }));
            }
        }
        let kind = kind_of(rt.shape, &kinds);
        let application_name = match self.sessions.get_mut(&session_id) {
            Some(session) => {
                session.totals.add(kind, &rt);
                session.application_name.clone()
            }
            None => Arc::from(""),
        };
        self.totals.add(kind, &rt);
        self.since_pause.add(kind, &rt);
        for scope in scopes_of(&mut self.scopes, session_id) {
            scope.totals.add(kind, &rt);
        }
        self.add_warnings(session_id, &earlier);
        self.add_warnings(session_id, &warnings);
        let entry = Arc::new(Entry {
            seq,
            application_name,
            kind,
            round_trip: rt,
            warnings,
            earlier,
        });
        self.next_seq += 1;
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry.clone());
        entry
    }

    fn analysis(&mut self, sql: &str, fingerprint: &Fingerprint) -> Arc<Analysis> {
        if let Some(known) = self.analyses.get(&fingerprint.hash) {
            return known.clone();
        }
        let kind = statement_kind(sql);
        let lints = match kind {
            StatementKind::Query => lint(sql, &self.facts),
            _ => Vec::new(),
        };
        let analysis = Arc::new(Analysis { kind, lints });
        if self.analyses.len() >= ANALYSIS_CACHE {
            self.analyses.clear();
        }
        self.analyses.insert(fingerprint.hash, analysis.clone());
        analysis
    }

    fn count_shape(&mut self, fingerprint: &Fingerprint) {
        let counted = self.shapes.len() < SHAPES_COUNTED;
        match self.shapes.get_mut(&fingerprint.hash) {
            Some((_, count)) => *count += 1,
            None if counted => {
                let shape = (fingerprint.shape.clone(), 1);
                self.shapes.insert(fingerprint.hash, shape);
            }
            None => {}
        }
    }

    /// The `n` statement shapes executed most often, with their counts, most first.
    pub fn top_statements(&self, n: usize) -> Vec<(Arc<str>, u64)> {
        let mut shapes: Vec<_> = self.shapes.values().cloned().collect();
        shapes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        shapes.truncate(n);
        shapes
    }

    /// Ends the current burst of `session` (or of every session): a burst's N+1 warning
    /// is only certain once it is over. Call when a lesson step ends or the log goes idle.
    pub fn finish_bursts(&mut self, session: Option<SessionId>) -> Vec<Warning> {
        let mut warnings = Vec::new();
        let ids: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(id, s)| session.is_none_or(|wanted| wanted == **id) && !s.ended)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let Some(s) = self.sessions.get_mut(&id) else {
                continue;
            };
            let found: Vec<Warning> = s
                .detector
                .finish()
                .into_iter()
                .map(Warning::Pattern)
                .collect();
            self.add_warnings(id, &found);
            warnings.extend(found);
        }
        warnings
    }

    /// Counts `warnings` raised on `session`: in its totals, overall, and in the scopes
    /// that watch it.
    fn add_warnings(&mut self, session: SessionId, warnings: &[Warning]) {
        let count = warnings.len() as u64;
        if let Some(s) = self.sessions.get_mut(&session) {
            s.totals.warnings += count;
        }
        self.totals.warnings += count;
        self.since_pause.warnings += count;
        for scope in scopes_of(&mut self.scopes, session) {
            scope.totals.warnings += count;
            scope.warnings.extend(warnings.iter().cloned());
        }
    }

    /// Starts counting what happens from now on, for one session or for all. A burst still
    /// running is finished first (and reported to the scopes already open), so the new
    /// scope starts clean; and its sessions forget which shapes they have already linted and
    /// which literals they have seen: a scope is judged by its own statements (an exercise
    /// attempt is warned for a tenant-less query the learner had also typed before it, and
    /// is not called string-built for changing a literal it had typed before).
    pub fn open_scope(&mut self, name: &str, session: Option<SessionId>) -> ScopeId {
        self.finish_bursts(session);
        for (_, s) in self
            .sessions
            .iter_mut()
            .filter(|(id, _)| session.is_none_or(|wanted| wanted == **id))
        {
            s.linted.clear();
            s.detector.forget_literals();
        }
        let id = ScopeId(self.next_scope);
        self.next_scope += 1;
        self.scopes.insert(
            id,
            Scope {
                name: name.to_string(),
                session,
                reconnected: false,
                opened: Instant::now(),
                totals: Totals::default(),
                warnings: Vec::new(),
            },
        );
        id
    }

    /// Moves the scopes counting session `from` onto session `to`: the client behind `from`
    /// lost its connection and opened `to` in its place, and a statement it runs again there
    /// belongs to the scope that was waiting for it.
    pub fn follow(&mut self, from: SessionId, to: SessionId) {
        for scope in self.scopes.values_mut() {
            if scope.session == Some(from) {
                scope.session = Some(to);
                scope.reconnected = true;
            }
        }
    }

    /// The scope's report so far, while it stays open.
    pub fn scope_report(&self, id: ScopeId) -> Option<ScopeReport> {
        self.scopes.get(&id).map(|scope| ScopeReport {
            name: scope.name.clone(),
            totals: scope.totals,
            wall: scope.opened.elapsed(),
            warnings: scope.warnings.clone(),
            reconnected: scope.reconnected,
        })
    }

    /// Closes a scope after finishing its sessions' bursts, and reports it.
    pub fn close_scope(&mut self, id: ScopeId) -> Option<ScopeReport> {
        let session = self.scopes.get(&id)?.session;
        self.finish_bursts(session);
        let report = self.scope_report(id);
        self.scopes.remove(&id);
        report
    }

    /// The last round trips, oldest first.
    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &Arc<Entry>> {
        self.entries.iter()
    }

    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// The traffic paused (a request is over, as far as anyone watching from outside the
    /// application can tell): what happened since the last pause, and a fresh count from
    /// now. `None` when nothing happened since.
    pub fn pause(&mut self) -> Option<Totals> {
        let since = std::mem::take(&mut self.since_pause);
        (since.round_trips > 0).then_some(since)
    }

    pub fn session_totals(&self, session: SessionId) -> Option<&Totals> {
        self.sessions.get(&session).map(|s| &s.totals)
    }
}

/// What `pglab proxy` prints when the traffic pauses, and what a demo shows per request:
/// `11 round trips (10 query, 1 prepare) · 20 rows · 1.4 kB received · waited 3.2 ms`.
pub fn pause_line(totals: &Totals) -> String {
    let kinds: Vec<String> = Kind::ALL
        .iter()
        .filter(|&&kind| totals.of_kind(kind) > 0)
        .map(|&kind| format!("{} {}", totals.of_kind(kind), kind.label()))
        .collect();
    let mut line = format!(
        "{} ({}) · {} · {} received · waited {:.1} ms",
        counted(totals.round_trips, "round trip"),
        kinds.join(", "),
        counted(totals.rows, "row"),
        bytes(totals.received),
        totals.waiting.as_secs_f64() * 1000.0
    );
    if totals.warnings > 0 {
        line.push_str(&format!(" · {}", counted(totals.warnings, "warning")));
    }
    line
}

fn counted(n: u64, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ => format!("{n} {noun}s"),
    }
}

/// A byte count as people read it: `812 B`, `14.2 kB`, `3.1 MB` (powers of 1000).
/// For traffic on the wire, whose small differences the N+1 lesson compares side by side;
/// sizes of stored data use [`crate::text::size`], as `pg_size_pretty` writes them.
pub fn bytes(n: u64) -> String {
    let n = n as f64;
    if n < 1e3 {
        format!("{n} B")
    } else if n < 1e6 {
        format!("{:.1} kB", n / 1e3)
    } else {
        format!("{:.1} MB", n / 1e6)
    }
}

/// The open scopes that count `session`'s round trips.
fn scopes_of(
    scopes: &mut HashMap<ScopeId, Scope>,
    session: SessionId,
) -> impl Iterator<Item = &mut Scope> {
    scopes
        .values_mut()
        .filter(move |scope| scope.session.is_none_or(|s| s == session))
}

/// A round trip's kind from its shape and its statements' kinds.
fn kind_of(shape: Shape, statements: &[StatementKind]) -> Kind {
    let all = |kind| !statements.is_empty() && statements.iter().all(|&k| k == kind);
    match shape {
        Shape::Ping => Kind::Ping,
        Shape::Prepare => Kind::Prepare,
        Shape::Execute
            if !statements.is_empty()
                && statements
                    .iter()
                    .all(|&k| matches!(k, StatementKind::Empty | StatementKind::Ping)) =>
        {
            Kind::Ping
        }
        Shape::Execute if all(StatementKind::SessionReset) => Kind::SessionReset,
        Shape::Execute if all(StatementKind::TransactionControl) => Kind::TransactionControl,
        Shape::Execute if all(StatementKind::CatalogLookup) => Kind::CatalogLookup,
        Shape::Execute => Kind::Query,
    }
}

/// Adds `hash` to a bounded set; true when it was not there.
fn remember_once(seen: &mut HashSet<u64>, hash: u64) -> bool {
    if seen.len() >= ANALYSIS_CACHE {
        seen.clear();
    }
    seen.insert(hash)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::data::proxy::{SessionEnd, Statement};

    fn facts() -> TableFacts {
        TableFacts::new(
            ["users", "posts"].map(String::from),
            ["users", "posts"].map(String::from),
        )
    }

    fn started(log: &mut QueryLog, id: SessionId) {
        let session = Arc::new(SessionInfo {
            id,
            client: ([127, 0, 0, 1], 5000).into(),
            user: "pglab_learner".into(),
            database: "pglab".into(),
            application_name: "lesson".into(),
            backend_pid: Some(1),
        });
        log.record(ProxyEvent::SessionStarted {
            session,
            startup_round_trips: 4,
            startup: Duration::from_millis(1),
        });
    }

    fn executed(session: SessionId, sql: &str, params: u64, rows: u64) -> ProxyEvent {
        ProxyEvent::RoundTrip(RoundTrip {
            session,
            sent: Instant::now(),
            duration: Duration::from_millis(2),
            shape: Shape::Execute,
            statements: vec![Statement {
                sql: Arc::from(sql),
                truncated: false,
                params,
                completed: 1,
                rows,
                failed: false,
                skipped: false,
            }],
            error: None,
            transaction: b'I',
            received: 0,
        })
    }

    fn bare(session: SessionId, shape: Shape) -> ProxyEvent {
        ProxyEvent::RoundTrip(RoundTrip {
            session,
            sent: Instant::now(),
            duration: Duration::from_millis(1),
            shape,
            statements: Vec::new(),
            error: None,
            transaction: b'I',
            received: 0,
        })
    }

    fn n_plus_one_count(warnings: &[Warning]) -> Vec<usize> {
        warnings
            .iter()
            .filter_map(|w| match w {
                Warning::Pattern(Finding::NPlusOne { count, .. }) => Some(*count),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn round_trips_get_kinds_from_their_shape_and_statements() {
        let mut log = QueryLog::new(100, facts());
        started(&mut log, 1);
        for event in [
            bare(1, Shape::Ping),
            bare(1, Shape::Prepare),
            executed(1, "BEGIN", 0, 0),
            executed(
                1,
                "select typname from pg_catalog.pg_type where oid = $1",
                1,
                1,
            ),
            executed(1, "select version()", 0, 1),
            executed(1, "COMMIT", 0, 0),
        ] {
            log.record(event);
        }
        let kinds: Vec<Kind> = log.entries().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Ping,
                Kind::Prepare,
                Kind::TransactionControl,
                Kind::CatalogLookup,
                Kind::Query,
                Kind::TransactionControl
            ]
        );
        let totals = log.session_totals(1).unwrap();
        assert_eq!(totals.round_trips, 6);
        assert_eq!(totals.of_kind(Kind::TransactionControl), 2);
        assert_eq!(totals.statements, 4);
        assert_eq!(totals.rows, 2);
    }

    #[test]
    fn a_burst_warning_goes_before_the_round_trip_that_ended_it_and_names_its_range() {
        let mut log = QueryLog::new(100, facts());
        started(&mut log, 4);
        log.record(executed(4, "select id from posts", 0, 3));
        for author in 1..=3 {
            log.record(executed(
                4,
                "select name from users where id = $1",
                author,
                1,
            ));
        }
        let (entry, _) = log.record(executed(4, "select now()", 0, 1));
        let entry = entry.unwrap();
        assert!(entry.warnings.is_empty());
        match &entry.earlier[..] {
            [warning] => assert!(
                warning.line().starts_with("s4 #1–#4: N+1"),
                "{}",
                warning.line()
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_multi_statement_query_counts_once_in_the_summary() {
        let mut log = QueryLog::new(100, facts());
        started(&mut log, 1);
        for _ in 0..3 {
            let mut event = executed(1, "select 1; select 2; select 3", 0, 3);
            if let ProxyEvent::RoundTrip(rt) = &mut event {
                rt.statements[0].completed = 3;
            }
            log.record(event);
        }
        assert_eq!(log.top_statements(1)[0].1, 3);
    }

    #[test]
    fn housekeeping_gets_its_own_kinds_and_never_counts_as_a_query() {
        let mut log = QueryLog::new(100, facts());
        started(&mut log, 1);
        // What SQLAlchemy's pool_pre_ping, asyncpg's pool and psycopg 3 send, as the proxy
        // saw them.
        for sql in [
            "SELECT 1",
            "SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;",
            "DEALLOCATE ALL",
            "SELECT\n    current_setting('jit') AS cur,\n    set_config('jit', 'off', false) AS new",
        ] {
            log.record(executed(1, sql, 0, 1));
        }
        let kinds: Vec<Kind> = log.entries().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Ping,
                Kind::SessionReset,
                Kind::SessionReset,
                Kind::CatalogLookup
            ]
        );
        let totals = log.pause().expect("four round trips");
        assert_eq!(totals.of_kind(Kind::Query), 0);
        assert!(
            pause_line(&totals).starts_with("4 round trips (1 ping, 1 catalog, 2 reset)"),
            "{}",
            pause_line(&totals)
        );
    }

    #[test]
    fn a_lazy_loop_is_reported_once_when_the_burst_ends() {
        let mut log = QueryLog::new(100, facts());
        started(&mut log, 1);
        let scope = log.open_scope("lazy loop", Some(1));
        log.record(executed(
            1,
            "select id, author_id from posts where organization_id = $1 and deleted_at is null",
            1,
            10,
        ));
        let mut raised = Vec::new();
        for author in 1..=10 {
            let (_, warnings) = log.record(executed(
                1,
                "select username from users where id = $1 and organization_id = $2 and deleted_at is null",
                author,
                1,
            ));
            raised.extend(warnings);
        }
        assert!(
            n_plus_one_count(&raised).is_empty(),
            "not before the burst ends"
        );
        let report = log.close_scope(scope).unwrap();
        assert_eq!(n_plus_one_count(&report.warnings), [10]);
        assert_eq!(report.totals.round_trips, 11);
        assert_eq!(report.totals.rows, 20);
        assert_eq!(report.totals.warnings, 1);
    }

    #[test]
    fn scopes_count_only_their_session_and_only_while_open() {
        let mut log = QueryLog::new(100, facts());
        started(&mut log, 1);
        started(&mut log, 2);
        log.record(executed(1, "select 1", 0, 1));
        let mine = log.open_scope("mine", Some(1));
        let all = log.open_scope("all", None);
        log.record(executed(1, "select 2", 0, 1));
        log.record(executed(2, "select 3", 0, 1));
        assert_eq!(log.scope_report(mine).unwrap().totals.round_trips, 1);
        assert_eq!(log.close_scope(all).unwrap().totals.round_trips, 2);
        assert_eq!(log.close_scope(all), None);
        assert_eq!(log.totals().round_trips, 3);
    }

    #[test]
    fn a_scope_follows_its_client_onto_a_new_session() {
        let mut log = QueryLog::new(100, facts());
        started(&mut log, 1);
        let scope = log.open_scope("console", Some(1));
        started(&mut log, 2);
        log.follow(1, 2);
        log.record(executed(2, "select count(*) from articles", 0, 1));
        let report = log.close_scope(scope).unwrap();
        assert_eq!(report.totals.round_trips, 1);
        assert!(report.reconnected);
    }

    #[test]
    fn lint_is_reported_once_per_statement_shape_and_session() {
        let mut log = QueryLog::new(100, facts());
        started(&mut log, 1);
        let (_, first) = log.record(executed(1, "select * from posts where id = $1", 1, 1));
        let (_, again) = log.record(executed(1, "select * from posts where id = $1", 2, 1));
        assert!(
            first.iter().any(|w| matches!(w, Warning::Lint { .. })),
            "{first:?}"
        );
        assert!(
            !again.iter().any(|w| matches!(w, Warning::Lint { .. })),
            "{again:?}"
        );
    }

    #[test]
    fn a_scope_judges_its_own_statements_for_lint_and_splicing() {
        let mut log = QueryLog::new(100, facts());
        started(&mut log, 1);
        let lint = |w: &[Warning]| w.iter().any(|w| matches!(w, Warning::Lint { .. }));
        let spliced = |w: &[Warning]| {
            w.iter()
                .any(|w| matches!(w, Warning::Pattern(Finding::SplicedLiterals { .. })))
        };
        // Typed at the console before the attempt: linted, and a first literal seen.
        let (_, before) = log.record(executed(1, "select * from posts where id = $1", 1, 1));
        assert!(lint(&before), "{before:?}");
        log.record(executed(
            1,
            "select * from posts where organization_id = 1 and deleted_at is null",
            0,
            1,
        ));
        let attempt = log.open_scope("step 9", Some(1));
        // The same tenant-less shape is warned again inside the attempt …
        let (_, again) = log.record(executed(1, "select * from posts where id = $1", 1, 1));
        assert!(lint(&again), "{again:?}");
        // … and a literal changed by hand since then is not called string-built.
        let (_, other) = log.record(executed(
            1,
            "select * from posts where organization_id = 2 and deleted_at is null",
            0,
            1,
        ));
        assert!(!spliced(&other), "{other:?}");
        // Within one scope, splicing is still caught.
        let (_, third) = log.record(executed(
            1,
            "select * from posts where organization_id = 3 and deleted_at is null",
            0,
            1,
        ));
        assert!(spliced(&third), "{third:?}");
        let warnings = log.close_scope(attempt).unwrap().warnings;
        // Both lints of the tenant-less read (tenant and soft delete), and the splice.
        assert_eq!(warnings.len(), 3, "{warnings:#?}");
    }

    #[test]
    fn new_table_facts_change_the_lint() {
        let mut log = QueryLog::new(
            100,
            TableFacts::new(Vec::<String>::new(), Vec::<String>::new()),
        );
        started(&mut log, 1);
        let (_, none) = log.record(executed(1, "select * from posts", 0, 1));
        assert!(none.is_empty(), "{none:?}");
        log.set_facts(facts());
        started(&mut log, 2);
        let (_, some) = log.record(executed(2, "select * from posts", 0, 1));
        assert!(!some.is_empty());
    }

    #[test]
    fn the_ring_keeps_the_last_entries_and_totals_keep_everything() {
        let mut log = QueryLog::new(3, facts());
        started(&mut log, 1);
        for _ in 0..5 {
            log.record(executed(1, "select 1", 0, 1));
        }
        let seqs: Vec<u64> = log.entries().map(|e| e.seq).collect();
        assert_eq!(seqs, [3, 4, 5]);
        assert_eq!(log.totals().round_trips, 5);
        assert_eq!(log.top_statements(1)[0].1, 5);
    }

    #[test]
    fn a_pause_reports_what_happened_since_the_last_one() {
        let mut log = QueryLog::new(100, facts());
        started(&mut log, 1);
        assert_eq!(log.pause(), None);
        log.record(executed(1, "select id from organizations", 0, 1));
        log.record(bare(1, Shape::Ping));
        let first = log.pause().expect("two round trips");
        assert_eq!(first.round_trips, 2);
        assert_eq!(
            pause_line(&first),
            "2 round trips (1 query, 1 ping) · 1 row · 0 B received · waited 3.0 ms"
        );
        assert_eq!(log.pause(), None);
        log.record(executed(1, "select * from posts", 0, 4));
        let second = log.pause().expect("one round trip");
        assert_eq!((second.round_trips, second.rows), (1, 4));
        assert!(pause_line(&second).ends_with(" · 2 warnings"), "{second:?}");
        assert_eq!(log.totals().round_trips, 3);
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(14_200), "14.2 kB");
        assert_eq!(bytes(3_100_000), "3.1 MB");
    }

    #[test]
    fn a_session_end_finishes_its_burst() {
        let mut log = QueryLog::new(100, facts());
        started(&mut log, 1);
        log.record(executed(1, "select id from organizations", 0, 1));
        for id in 1..=4 {
            log.record(executed(1, "select * from users where id = $1", id, 1));
        }
        let (_, warnings) = log.record(ProxyEvent::SessionEnded {
            session: 1,
            end: SessionEnd::ClientClosed,
        });
        assert_eq!(n_plus_one_count(&warnings), [4]);
    }
}
