//! The lab's app core as the tests drive it: the shipped lessons as the catalogue, a fresh
//! `App`, steps found by kind, and the results and proxy traffic the tests feed in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pglab::app::{Action, App, Event};
use pglab::data::console::{Outcome, StatementResult};
use pglab::data::proxy::{self, RoundTrip, SessionInfo, Shape, Statement};
use pglab::data::{ResultSet, ServerError};
use pglab::lesson::{Catalog, Progress, StepKind};

pub fn catalog() -> Arc<Catalog> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    Arc::new(Catalog::load(&dir, &pglab::demo::validate).expect("the shipped lessons load"))
}

pub fn app() -> App {
    let mut app = App::new(
        catalog(),
        Progress::default(),
        "pglab_learner@127.0.0.1:5432/pglab".into(),
    );
    app.apply(Event::ConsoleReady);
    // The tests drive the N+1 lesson: selected in the list, whichever lessons come before it.
    app.selected = app
        .catalog
        .lessons
        .iter()
        .position(|l| l.id == "n-plus-one")
        .expect("the N+1 lesson ships");
    app
}

/// The index of the first step of the N+1 lesson with a kind `wanted` accepts.
pub fn step_where(app: &App, wanted: impl Fn(&StepKind) -> bool) -> usize {
    app.catalog.lessons[app.selected]
        .steps
        .iter()
        .position(|s| wanted(&s.kind))
        .expect("the lesson has such a step")
}

/// Opens the N+1 lesson at `step`.
pub fn at_step(app: &mut App, step: usize) {
    app.update(Action::Open);
    while app.player.as_ref().unwrap().step < step {
        app.update(Action::NextStep);
    }
}

pub fn rows(columns: &[&str], rows: &[&[&str]]) -> ResultSet {
    ResultSet::new(
        columns.iter().map(|c| c.to_string()).collect(),
        rows.iter()
            .map(|r| r.iter().map(|v| Some(v.to_string())).collect())
            .collect(),
    )
}

pub fn outcome(result: ResultSet) -> Outcome {
    Outcome {
        statements: vec![StatementResult {
            rows_affected: result.rows.len() as u64,
            result,
            truncated: false,
        }],
        elapsed: Duration::from_micros(800),
    }
}

pub fn failure(sqlstate: &str, message: &str, position: Option<usize>) -> ServerError {
    ServerError {
        sqlstate: sqlstate.into(),
        severity: "ERROR".into(),
        message: message.into(),
        detail: None,
        hint: Some("Perhaps you meant to reference the column \"users.username\".".into()),
        position,
    }
}

/// Proxy traffic on `session`: its start (as the console when `console`), then one round
/// trip per statement.
pub fn traffic(session: u64, console: bool, statements: &[(&str, u64)]) -> Vec<proxy::ProxyEvent> {
    let name = if console {
        pglab::app::log::CONSOLE_APPLICATION
    } else {
        "pglab demo: lazy loop"
    };
    let mut events = vec![proxy::ProxyEvent::SessionStarted {
        session: Arc::new(SessionInfo {
            id: session,
            client: "127.0.0.1:50000".parse().unwrap(),
            user: "pglab_learner".into(),
            database: "pglab".into(),
            application_name: name.into(),
            backend_pid: Some(4242),
        }),
        startup_round_trips: 3,
        startup: Duration::from_millis(2),
    }];
    for (i, (sql, rows)) in statements.iter().enumerate() {
        events.push(proxy::ProxyEvent::RoundTrip(RoundTrip {
            session,
            sent: Instant::now(),
            duration: Duration::from_micros(300),
            shape: Shape::Execute,
            statements: vec![Statement {
                sql: Arc::from(*sql),
                truncated: false,
                params: i as u64 + 1,
                completed: 1,
                rows: *rows,
                failed: false,
            }],
            error: None,
            transaction: b'I',
            received: 0,
        }));
    }
    events
}

/// `app` with its console connection started, as the proxy reports it (session 1).
pub fn with_console(mut app: App) -> App {
    for event in traffic(1, true, &[]) {
        app.apply(Event::Proxy(event));
    }
    app
}
