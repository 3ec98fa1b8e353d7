//! Frame render time of the lab's busiest screen: the SQL console with a 200-row result
//! beside a query log holding 10,000 round trips, against the same screen with an empty log
//! and no result, drawn in the same run. Target: under 5 ms a frame (the log is virtualised:
//! only the lines on screen are built).
//!
//!     cargo bench --bench render

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use pglab::app::{Action, App, Command, Event};
use pglab::data::ResultSet;
use pglab::data::console::{Outcome, StatementResult};
use pglab::data::proxy::{self, RoundTrip, SessionInfo, Shape, Statement};
use pglab::lesson::{Catalog, Progress};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const FRAMES: u32 = 300;
const SIZES: [(u16, u16); 2] = [(80, 24), (200, 60)];

fn app() -> App {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    let catalog = Catalog::load(&dir, &pglab::demo::validate).unwrap();
    let mut app = App::new(Arc::new(catalog), Progress::default(), "bench".into());
    app.apply(Event::ConsoleReady);
    app.update(Action::ShowConsole);
    app
}

/// The console showing a 200-row result, after 10,000 round trips on 100 sessions.
fn busy_app() -> App {
    let mut app = app();
    for session in 1..=100u64 {
        app.apply(Event::Proxy(proxy::ProxyEvent::SessionStarted {
            session: Arc::new(SessionInfo {
                id: session,
                client: "127.0.0.1:1".parse().unwrap(),
                user: "pglab_learner".into(),
                database: "pglab".into(),
                application_name: "bench".into(),
                backend_pid: None,
            }),
            startup_round_trips: 3,
            startup: Duration::from_millis(1),
        }));
        let mut statements =
            vec!["select id, title, author_id from posts order by created_at desc limit 100"];
        statements.extend(std::iter::repeat_n(
            "select username from users where id = $1",
            99,
        ));
        for (i, sql) in statements.into_iter().enumerate() {
            app.apply(Event::Proxy(proxy::ProxyEvent::RoundTrip(RoundTrip {
                session,
                sent: Instant::now(),
                duration: Duration::from_micros(250),
                shape: Shape::Execute,
                statements: vec![Statement {
                    sql: Arc::from(sql),
                    truncated: false,
                    params: i as u64,
                    completed: 1,
                    rows: 1,
                    failed: false,
                    skipped: false,
                }],
                error: None,
                transaction: b'I',
                received: 0,
            })));
        }
    }
    app.apply(Event::Quiet);
    app.update(Action::Paste("select * from posts".into()));
    let id = match app.update(Action::RunConsole).pop() {
        Some(Command::Execute { id, .. }) => id,
        other => panic!("{other:?}"),
    };
    let rows = (0..200)
        .map(|n| {
            vec![
                Some(n.to_string()),
                Some(format!("Post number {n} about databases")),
                Some("2026-03-10 10:00:00+00".into()),
                None,
            ]
        })
        .collect();
    let result = ResultSet::new(
        vec![
            "id".into(),
            "title".into(),
            "created_at".into(),
            "deleted_at".into(),
        ],
        rows,
    );
    app.apply(Event::Executed {
        id,
        result: Ok(Outcome {
            statements: vec![StatementResult {
                result,
                rows_affected: 200,
                truncated: false,
            }],
            elapsed: Duration::from_millis(1),
        }),
    });
    app
}

/// Median time to draw one frame of `app` at `width` × `height`.
fn frame_time(app: &mut App, width: u16, height: u16) -> Duration {
    app.update(Action::Resize { width, height });
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let mut viewports = pglab::ui::Viewports::default();
    let theme = pglab::ui::theme::Theme::plain();
    let mut times: Vec<Duration> = (0..FRAMES)
        .map(|_| {
            let started = Instant::now();
            terminal
                .draw(|frame| pglab::ui::render(app, &mut viewports, &theme, frame))
                .unwrap();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let mut busy = busy_app();
    let mut idle = app();
    assert_eq!(busy.log.log.totals().round_trips, 10_000);
    println!("frame render time, median of {FRAMES} frames (target < 5 ms)");
    println!(
        "{:>9}  {:>12}  {:>22}  {:>6}",
        "size", "empty lab", "10,000 round trips,", "ratio"
    );
    println!("{:>9}  {:>12}  {:>22}  {:>6}", "", "", "200-row result", "");
    for (width, height) in SIZES {
        let baseline = frame_time(&mut idle, width, height);
        let loaded = frame_time(&mut busy, width, height);
        println!(
            "{:>9}  {:>9.3} ms  {:>19.3} ms  {:>6.2}",
            format!("{width}x{height}"),
            baseline.as_secs_f64() * 1e3,
            loaded.as_secs_f64() * 1e3,
            loaded.as_secs_f64() / baseline.as_secs_f64()
        );
    }
}
