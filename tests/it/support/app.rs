//! The lab's app core as the tests drive it: the shipped lessons as the catalogue, a fresh
//! `App`, steps found by kind, and the results and proxy traffic the tests feed in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pglab::app::{Action, App, Command, Event};
use pglab::data::acting::ActingAs;
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
    acting_as_the_story(&mut app);
    // The tests drive the N+1 lesson, wherever the index puts it.
    app.selected = n_plus_one(&app);
    app
}

/// The database opens and the story's first users are read, as at lab start: the lab
/// acts as alice.
pub fn acting_as_the_story(app: &mut App) {
    let database = app.database.clone();
    let commands = app.apply(Event::LabReady {
        database,
        facts: None,
    });
    let [Command::LoadUsers { id }] = commands[..] else {
        panic!("the lab reads its users once the database is ready: {commands:?}");
    };
    let user = |user_id, username: &str, organization_id, organization: &str| ActingAs {
        user_id,
        username: username.into(),
        organization_id,
        organization: organization.into(),
    };
    app.apply(Event::UsersLoaded {
        id,
        users: vec![
            user(1, "alice", 1, "Acme Corp"),
            user(2, "bob", 1, "Acme Corp"),
            user(3, "charlie", 2, "TechCo"),
            user(4, "diana", 3, "StartUp Inc"),
        ],
    });
}

/// Where the N+1 lesson, the one these fixtures play, sits in the catalogue: found by its
/// id, since lessons before it are added over time.
pub fn n_plus_one(app: &App) -> usize {
    app.catalog
        .lessons
        .iter()
        .position(|lesson| lesson.id == "n-plus-one")
        .expect("the N+1 lesson ships")
}

/// The index of the first step of the N+1 lesson with a kind `wanted` accepts.
pub fn step_where(app: &App, wanted: impl Fn(&StepKind) -> bool) -> usize {
    app.catalog.lessons[n_plus_one(app)]
        .steps
        .iter()
        .position(|s| wanted(&s.kind))
        .expect("the lesson has such a step")
}

/// Opens the N+1 lesson at `step`.
pub fn at_step(app: &mut App, step: usize) {
    app.selected = n_plus_one(app);
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
                skipped: false,
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
