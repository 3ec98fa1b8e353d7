//! Exact counts for a demo: a proxy of the demo's own in front of the lab database, a query
//! log of its own fed from that proxy, and every event passed on to the lab's log so the
//! learner watches the traffic live.
//!
//! Why the counts are exact: the proxy sends a round trip's events before it forwards the
//! answer, so when the workload's await returns, every event of its round trips is already in
//! the channel. The workload and the draining run in one task (`select!`, events first), and
//! after the workload finishes the channel is emptied with `try_recv` before the totals are
//! read. Nothing is sampled and nothing is timed out of the count.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio::sync::mpsc;

use super::Error;
use crate::data::proxy::{ProxyEvent, SessionId, Statement};
use crate::proxy::{self, Latency, Proxy};
use crate::query_log::{QueryLog, ScopeReport, Totals};

/// How long a finished demo waits for its sessions' ends to pass through (so the lab's log
/// can close their N+1 bursts); a hang guard, not a delay: ends normally arrive at once.
const SESSION_END_WAIT: Duration = Duration::from_secs(2);

/// What one measured piece of work cost.
#[derive(Debug, Clone)]
pub struct Metered {
    pub report: ScopeReport,
    /// From starting the work until it returned (the scope's own wall time also counts
    /// the draining).
    pub wall: Duration,
    /// Server sessions the proxy saw start during the work (a pool opening connections).
    pub sessions_started: u64,
}

pub struct Meter {
    /// Kept alive for as long as the demo runs: dropping it ends its sessions.
    _proxy: Proxy,
    routed: PgConnectOptions,
    events: mpsc::Receiver<ProxyEvent>,
    recorder: Recorder,
}

/// The demo's log and the tee to the lab's, apart from the receiver so both can be borrowed
/// at once inside `select!`.
struct Recorder {
    log: QueryLog,
    tee: Option<mpsc::Sender<ProxyEvent>>,
    started: HashSet<SessionId>,
    ended: HashSet<SessionId>,
}

impl Recorder {
    async fn record(&mut self, event: ProxyEvent) {
        match &event {
            ProxyEvent::SessionStarted { session, .. } => {
                self.started.insert(session.id);
            }
            ProxyEvent::SessionEnded { session, .. } => {
                self.ended.insert(*session);
            }
            _ => {}
        }
        if let Some(tee) = &self.tee
            && tee.send(event.clone()).await.is_err()
        {
            // The lab stopped listening; the demo's own counts go on.
            self.tee = None;
        }
        self.log.record(event);
    }
}

impl Meter {
    /// A proxy in front of `learner` with the delay `latency`, teeing to `tee`.
    pub async fn start(
        learner: &PgConnectOptions,
        latency: Latency,
        tee: Option<mpsc::Sender<ProxyEvent>>,
    ) -> Result<Self, Error> {
        // The lint's table facts come over a short direct connection: reading them through
        // the proxy would put a catalog query the learner did not ask for into the lab's log.
        let mut direct = crate::db::connect(learner).await?;
        let facts = crate::db::catalog::table_facts(&mut direct).await?;
        let _ = sqlx::Connection::close(direct).await;
        let (tx, events) = mpsc::channel(proxy::EVENT_BUFFER);
        let (proxy, routed) = Proxy::in_front_of(learner, latency, tx).await?;
        Ok(Self {
            _proxy: proxy,
            routed,
            events,
            recorder: Recorder {
                log: QueryLog::new(crate::query_log::DEFAULT_CAPACITY, facts),
                tee,
                started: HashSet::new(),
                ended: HashSet::new(),
            },
        })
    }

    /// Options that reach the database through this meter's proxy, as `application_name`.
    pub fn options(&self, application_name: &str) -> PgConnectOptions {
        self.routed.clone().application_name(application_name)
    }

    /// A dedicated connection through the proxy.
    pub async fn connect(&mut self, application_name: &str) -> Result<PgConnection, Error> {
        let conn = crate::db::connect(&self.options(application_name)).await?;
        self.drain().await;
        Ok(conn)
    }

    /// Runs `work` and records its traffic in a scope named `name`.
    pub async fn measure<T>(&mut self, name: &str, work: impl Future<Output = T>) -> (T, Metered) {
        self.drain().await;
        let Self {
            events, recorder, ..
        } = &mut *self;
        let sessions_before = recorder.started.len();
        let scope = recorder.log.open_scope(name, None);
        let started = Instant::now();
        let mut work = std::pin::pin!(work);
        let output = loop {
            tokio::select! {
                biased;
                Some(event) = events.recv() => recorder.record(event).await,
                output = &mut work => break output,
            }
        };
        let wall = started.elapsed();
        self.drain().await;
        let recorder = &mut self.recorder;
        let report = recorder
            .log
            .close_scope(scope)
            .unwrap_or_else(|| ScopeReport {
                name: name.to_string(),
                totals: Default::default(),
                wall,
                warnings: Vec::new(),
                reconnected: false,
            });
        let sessions_started = (recorder.started.len() - sessions_before) as u64;
        (
            output,
            Metered {
                report,
                wall,
                sessions_started,
            },
        )
    }

    /// What the traffic added up to since the last pause, as `pglab proxy` reports it when
    /// the traffic pauses (`None` if there was none); the count starts anew.
    pub async fn pause(&mut self) -> Option<Totals> {
        self.drain().await;
        self.recorder.log.finish_bursts(None);
        self.recorder.log.pause()
    }

    /// The statements of the log's entries numbered after `after`, in order, and the last
    /// entry's number. Call it after a measured piece of work: the work's events are
    /// recorded by then.
    pub fn seen_after(&self, after: u64) -> (Vec<Statement>, u64) {
        let log = &self.recorder.log;
        let last = log.entries().next_back().map_or(after, |entry| entry.seq);
        let statements = log
            .entries()
            .filter(|entry| entry.seq > after)
            .flat_map(|entry| entry.round_trip.statements.iter().cloned())
            .collect();
        (statements, last)
    }

    /// Records what is already in the channel.
    async fn drain(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            self.recorder.record(event).await;
        }
    }

    /// After the demo closed its connections: waits (briefly) until every session's end
    /// has passed through, so the lab's log sees the sessions end and reports their bursts.
    /// Returns how many server sessions the proxy saw start since the meter did.
    pub async fn finish(mut self) -> u64 {
        let deadline = tokio::time::Instant::now() + SESSION_END_WAIT;
        while self
            .recorder
            .started
            .difference(&self.recorder.ended)
            .count()
            > 0
        {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => self.recorder.record(event).await,
                Ok(None) | Err(_) => break,
            }
        }
        self.recorder.started.len() as u64
    }
}
