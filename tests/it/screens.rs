//! Snapshots of every screen state, drawn into a test terminal at 80×24, 100×30, 120×40 and 140×40.
//! Every number on them comes from the synthetic traffic and results the tests feed in, so
//! nothing needs masking.

use pglab::app::{Action, App, Command, Event};
use pglab::data::demo::{DemoReport, Measurement};
use pglab::data::grading::{Gathered, Measured};
use pglab::data::proxy::Kind;
use pglab::data::warning::{Raised, WarningRule};
use pglab::lesson::StepKind;
use pglab::query_log::{ScopeReport, Totals};
use pglab::ui::Viewports;

use super::support::app::{
    app, at_step, failure, outcome, rows, step_where, traffic, with_console,
};
use super::support::screen::{cells, colour_of, draw, draw_with};

/// The four terminal sizes every screen is looked at: a laptop's default, two common
/// windows, and a projector's wide one.
const SIZES: [(u16, u16); 4] = [(80, 24), (100, 30), (120, 40), (140, 40)];

/// Snapshots `app` at every size, as `name@80x24` … `name@140x40`.
fn snapshot(name: &str, app: &mut App) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for (width, height) in SIZES {
            app.update(Action::Resize { width, height });
            insta::assert_snapshot!(format!("{name}@{width}x{height}"), draw(app, width, height));
        }
    });
}

#[test]
fn lesson_list() {
    snapshot("lessons", &mut app());
}

#[test]
fn lesson_first_step() {
    let mut app = app();
    app.update(Action::Open);
    snapshot("player_read", &mut app);
}

#[test]
fn diagram_half_revealed_with_notes() {
    let mut app = app();
    let diagram = step_where(&app, |k| matches!(k, StepKind::Diagram { .. }));
    at_step(&mut app, diagram);
    app.update(Action::NextStep);
    app.update(Action::ToggleNotes);
    snapshot("player_diagram_notes", &mut app);
}

#[test]
fn run_step_with_its_result() {
    let mut app = with_console(app());
    let run = step_where(&app, |k| matches!(k, StepKind::Run { .. }));
    at_step(&mut app, run);
    let Some(Command::Execute { id, .. }) = app.update(Action::Activate).pop() else {
        panic!()
    };
    for event in traffic(1, true, &[("select id, title, author_id from posts where deleted_at is null order by created_at desc limit 10", 3)]).into_iter().skip(1) {
        app.apply(Event::Proxy(event));
    }
    let result = rows(
        &["id", "title", "author_id"],
        &[
            &["17", "Spring release notes", "1"],
            &["16", "Scaling our database", "9"],
            &["15", "Hello from the new hire", "8"],
        ],
    );
    app.apply(Event::Executed {
        id,
        result: Ok(outcome(result)),
    });
    snapshot("player_run_result", &mut app);
}

#[test]
fn demo_step_finished_with_the_scale_table() {
    let mut app = app();
    let mut statements = vec![("select id, title, author_id from posts", 10)];
    statements.extend(std::iter::repeat_n(
        ("select username from users where id = $1", 1),
        10,
    ));
    for event in traffic(5, false, &statements) {
        app.apply(Event::Proxy(event));
    }
    app.apply(Event::Quiet);
    let demo = step_where(
        &app,
        |k| matches!(k, StepKind::Demo { name, .. } if name == "n_plus_one.scale"),
    );
    at_step(&mut app, demo);
    let Some(Command::RunDemo { id, .. }) = app.update(Action::Activate).pop() else {
        panic!()
    };
    let table = rows(
        &["posts", "strategy", "round trips", "0 ms", "2 ms"],
        &[
            &["10", "lazy", "11", "3.1 ms", "28.0 ms"],
            &["10", "join", "1", "0.4 ms", "2.6 ms"],
            &["10", "batched", "2", "0.7 ms", "5.0 ms"],
        ],
    );
    let report = DemoReport {
        title: "The scale table".into(),
        lines: vec!["Measured inside a transaction that is rolled back.".into()],
        table: Some(table),
        round_trips: 14,
        statements: 14,
        by_kind: vec![(Kind::Query, 14)],
        wall: std::time::Duration::from_millis(40),
        sessions: 1,
        warnings: vec![Raised {
            rule: WarningRule::NPlusOne,
            subject: String::new(),
            message: "N+1: 1 query then 10 × `select username from users where id = $1`".into(),
        }],
        measurements: Vec::<Measurement>::new(),
        plans: Vec::new(),
        headline: None,
    };
    app.apply(Event::DemoFinished {
        id,
        result: Ok(report),
    });
    snapshot("player_demo_scale", &mut app);
}

#[test]
fn exercise_with_a_hint_and_a_wrong_answer() {
    let mut app = with_console(app());
    let exercise = step_where(&app, |k| matches!(k, StepKind::Exercise(_)));
    at_step(&mut app, exercise);
    app.update(Action::RevealHint);
    app.update(Action::Activate);
    let Some(Command::CheckExercise { id, .. }) = app.update(Action::RunConsole).pop() else {
        panic!()
    };
    app.apply(Event::Proxy(
        traffic(
            1,
            true,
            &[(
                "select id, title, author_id from posts where deleted_at is null",
                17,
            )],
        )
        .remove(1),
    ));
    app.apply(Event::ExerciseRan {
        id,
        gathered: Gathered {
            answer: "select id, title, author_id from posts where deleted_at is null".into(),
            ran: Ok(outcome(rows(
                &["id", "title", "author_id"],
                &[&["1", "Welcome to the Acme blog", "1"]],
            ))),
            expected: Ok(rows(
                &["title", "username"],
                &[&["Welcome to the Acme blog", "alice"]],
            )),
            checked: None,
            measured: Ok(Measured::default()),
            diagnosis_rows: Vec::new(),
        },
    });
    snapshot("console_exercise_wrong", &mut app);
    app.update(Action::Back);
    snapshot("player_exercise_wrong", &mut app);
}

#[test]
fn quiz_answered_wrong() {
    let mut app = app();
    let quiz = step_where(&app, |k| matches!(k, StepKind::Quiz(_)));
    at_step(&mut app, quiz);
    app.update(Action::Answer(0));
    snapshot("player_quiz_answered", &mut app);
}

#[test]
fn console_error_with_caret() {
    let mut app = with_console(app());
    app.update(Action::ShowConsole);
    app.update(Action::Paste("select id, usrname\nfrom users".into()));
    let Some(Command::Execute { id, .. }) = app.update(Action::RunConsole).pop() else {
        panic!()
    };
    app.apply(Event::Executed {
        id,
        result: Err(failure(
            "42703",
            "column \"usrname\" does not exist",
            Some(12),
        )),
    });
    snapshot("console_error", &mut app);
}

#[test]
fn console_result_scrolled() {
    let mut app = with_console(app());
    app.update(Action::ShowConsole);
    app.update(Action::Paste(
        "select * from generate_series(1, 200)".into(),
    ));
    let Some(Command::Execute { id, .. }) = app.update(Action::RunConsole).pop() else {
        panic!()
    };
    let numbers: Vec<Vec<String>> = (1..=200)
        .map(|n| {
            vec![
                n.to_string(),
                format!("row number {n}"),
                "x".repeat(30),
                "y".repeat(30),
            ]
        })
        .collect();
    let result = pglab::data::ResultSet::new(
        vec![
            "n".into(),
            "label".into(),
            "wide_one".into(),
            "wide_two".into(),
        ],
        numbers
            .into_iter()
            .map(|r| r.into_iter().map(Some).collect())
            .collect(),
    );
    app.apply(Event::Executed {
        id,
        result: Ok(outcome(result)),
    });
    app.update(Action::PageDown);
    app.update(Action::Right);
    snapshot("console_result_scrolled", &mut app);
}

#[test]
fn console_running() {
    let mut app = with_console(app());
    app.update(Action::ShowConsole);
    app.update(Action::Paste("select pg_sleep(30)".into()));
    app.update(Action::RunConsole);
    snapshot("console_running", &mut app);
}

#[test]
fn help_overlay() {
    let mut app = app();
    app.update(Action::ToggleHelp);
    snapshot("help", &mut app);
}

#[test]
fn log_focused_and_scrolled() {
    let mut app = app();
    let statements: Vec<(&str, u64)> = (0..40)
        .map(|_| ("select * from posts where id = $1", 1))
        .collect();
    for event in traffic(2, false, &statements) {
        app.apply(Event::Proxy(event));
    }
    app.update(Action::ToggleLogFocus);
    app.update(Action::PageUp);
    snapshot("log_scrolled", &mut app);
}

#[test]
fn a_round_trip_opened_from_the_log_shows_its_whole_sql() {
    let mut app = app();
    let long = "select p.id, p.title, p.created_at, u.username, u.email, o.name from posts p join users u on u.id = p.author_id join organizations o on o.id = p.organization_id where p.deleted_at is null order by p.created_at desc";
    for event in traffic(2, false, &[(long, 12)]) {
        app.apply(Event::Proxy(event));
    }
    app.update(Action::ToggleLogFocus);
    app.update(Action::Activate);
    assert!(app.log.opened.is_some());
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("order by p.created_at desc"), "{screen}");
    snapshot("log_opened", &mut app);
    app.update(Action::ToggleLogFocus);
    assert!(
        app.log.opened.is_none() && app.log_focused,
        "Esc closes it, the log keeps the keys"
    );
}

#[test]
fn a_database_that_failed_to_open_says_so() {
    let mut app = app();
    app.apply(Event::LabFailed(
        "no PostgreSQL binaries found: install postgresql".into(),
    ));
    snapshot("lab_failed", &mut app);
}

#[test]
fn a_scope_report_reads_naturally() {
    // The measured line under a result, on its own (the snapshots mask its time).
    let report = ScopeReport {
        name: "step".into(),
        totals: Totals {
            round_trips: 1,
            statements: 1,
            rows: 3,
            ..Totals::default()
        },
        wall: std::time::Duration::from_millis(1),
        warnings: Vec::new(),
        reconnected: false,
    };
    let line = pglab::ui::player::measured_line(&report, &pglab::ui::theme::Theme::plain());
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    assert!(
        text.starts_with("⇄ 1 round trip · 3 rows · waited"),
        "{text}"
    );
}

#[test]
fn plan_of_an_explained_statement() {
    let mut app = with_console(app());
    app.update(Action::ShowConsole);
    app.update(Action::Paste(
        "select * from users where username = 'user77'".into(),
    ));
    let Some(Command::Explain { id, .. }) = app.update(Action::Explain).pop() else {
        panic!()
    };
    let json = include_str!("../fixtures/plans/seq_scan.json");
    let plan = pglab::explain::parse(json).unwrap();
    let insights = pglab::explain::insights(&plan, &Default::default());
    app.apply(Event::Explained {
        id,
        result: Ok(Box::new(pglab::app::event::Explained {
            plan,
            insights,
            rolled_back: false,
        })),
    });
    assert_eq!(app.screen, pglab::app::Screen::Plan);
    snapshot("plan", &mut app);
}

/// The lab after explaining `json`'s plan for `sql` from the console.
fn explain_in(app: &mut App, sql: &str, json: &str) {
    app.update(Action::ShowConsole);
    app.console.set_text(sql);
    let Some(Command::Explain { id, .. }) = app.update(Action::Explain).pop() else {
        panic!()
    };
    let plan = pglab::explain::parse(json).unwrap();
    let insights = pglab::explain::insights(&plan, &Default::default());
    app.apply(Event::Explained {
        id,
        result: Ok(Box::new(pglab::app::event::Explained {
            plan,
            insights,
            rolled_back: false,
        })),
    });
}

#[test]
fn plan_with_a_node_selected() {
    let mut app = with_console(app());
    explain_in(
        &mut app,
        "select u.email, p.title from users u join posts p on p.author_id = u.id where u.id between 1000 and 1099",
        include_str!("../fixtures/plans/nested_loop.json"),
    );
    app.update(Action::Down);
    app.update(Action::Down);
    snapshot("plan_node_selected", &mut app);
}

#[test]
fn plan_diff_against_the_previous_plan() {
    let mut app = with_console(app());
    explain_in(
        &mut app,
        "select * from users where username = 'user50000'",
        include_str!("../fixtures/plans/seq_scan.json"),
    );
    // Nothing to compare with yet: the key says so and the footer does not offer it.
    app.update(Action::ToggleDiff);
    assert!(
        app.notice
            .as_deref()
            .unwrap()
            .starts_with("Nothing to compare yet")
    );
    assert!(!app.offers(&Action::ToggleDiff));
    explain_in(
        &mut app,
        "select * from users where email = 'user50000@generated.test'",
        include_str!("../fixtures/plans/index_scan.json"),
    );
    assert!(app.offers(&Action::ToggleDiff));
    app.update(Action::ToggleDiff);
    snapshot("plan_diff", &mut app);
}

#[test]
fn the_selected_node_stays_in_view() {
    let mut app = with_console(app());
    explain_in(
        &mut app,
        "with recent as (select * from posts) select 1",
        include_str!("../fixtures/plans/cte.json"),
    );
    app.update(Action::Resize {
        width: 80,
        height: 24,
    });
    let mut viewports = Viewports::default();
    // The cursor (▶) marks the selected node's row; it must be on screen after every key.
    let mut in_view = |app: &App| draw_with(app, &mut viewports, 80, 24).contains('▶');
    assert!(in_view(&app));
    for _ in 0..10 {
        app.update(Action::Down);
        assert!(in_view(&app));
    }
    assert_eq!(
        app.plan.as_ref().unwrap().selected,
        6,
        "stops at the last node"
    );
    for _ in 0..10 {
        app.update(Action::Up);
        assert!(in_view(&app));
    }
    // A page down moves the cursor a page of nodes, and it stays on screen.
    app.update(Action::PageDown);
    assert!(app.plan.as_ref().unwrap().selected > 0 && in_view(&app));
    app.update(Action::PageDown);
    assert!(in_view(&app));
}

#[test]
fn the_plan_screen_lays_out_at_any_size() {
    let mut app = with_console(app());
    explain_in(
        &mut app,
        "select 1",
        include_str!("../fixtures/plans/never_executed.json"),
    );
    explain_in(
        &mut app,
        "select 2",
        include_str!("../fixtures/plans/hash_join_spill.json"),
    );
    for diff in [false, true] {
        for (width, height) in [(1, 1), (20, 5), (20, 40), (60, 12), (200, 50)] {
            app.update(Action::Resize { width, height });
            app.update(Action::Down);
            draw(&app, width, height);
        }
        app.update(Action::ToggleDiff);
        assert_eq!(app.plan.as_ref().unwrap().diff, !diff);
    }
    // Wide enough, the detail panel stands beside the tree.
    app.update(Action::Resize {
        width: 200,
        height: 50,
    });
    let screen = draw(&app, 200, 50);
    let header = screen
        .lines()
        .find(|line| line.contains(" node 4 of 4 "))
        .unwrap();
    assert!(header.contains("Hash Join returned"), "{screen}");
}

#[test]
fn audit_timeline_with_an_escalation_selected() {
    let mut app = super::support::audit_story::timeline_with(super::support::audit_story::story());
    // From the newest (a change from psql) down to the escalation.
    app.update(Action::Down);
    app.update(Action::Down);
    snapshot("audit_timeline", &mut app);
    // 120 columns: the first width that puts the query log beside the timeline.
    app.update(Action::Resize {
        width: 120,
        height: 40,
    });
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("audit_timeline@120x40", draw(&app, 120, 40));
    });
}

#[test]
fn audit_timeline_filtered_and_holding_still() {
    let mut events = super::support::audit_story::story();
    let latest = events.pop().unwrap();
    let mut app = super::support::audit_story::timeline_with(events);
    app.update(Action::Down); // the escalation: users:9 by user 5
    app.update(Action::Down); // the last delete of the burst
    app.update(Action::FilterActor);
    app.update(Action::Down);
    let mut same_actor = latest;
    same_actor.actor_id = Some(5);
    same_actor.client_addr = Some("198.51.100.23".into());
    app.apply(Event::AuditArrived(vec![same_actor]));
    snapshot("audit_timeline_filtered", &mut app);
}

#[test]
fn audit_timeline_empty_says_how_to_make_events() {
    let mut app = super::support::audit_story::timeline_with(Vec::new());
    snapshot("audit_empty", &mut app);
}

#[test]
fn the_audit_timeline_lays_out_at_any_size() {
    let mut app = super::support::audit_story::timeline_with(super::support::audit_story::story());
    for (width, height) in [(20, 8), (1, 1), (0, 0), (30, 12), (200, 60)] {
        app.update(Action::Resize { width, height });
        for action in [
            Action::Down,
            Action::PageDown,
            Action::FilterTable,
            Action::Up,
        ] {
            app.update(action);
            draw(&app, width, height);
        }
    }
}

#[test]
fn audit_filter_being_typed() {
    let mut app = super::support::audit_story::timeline_with(super::support::audit_story::story());
    app.update(Action::EditFilter);
    for c in "table=users 1h".chars() {
        app.update(Action::Edit(ratatui::crossterm::event::KeyEvent::new(
            ratatui::crossterm::event::KeyCode::Char(c),
            ratatui::crossterm::event::KeyModifiers::NONE,
        )));
    }
    snapshot("audit_prompt", &mut app);
}

/// Every diagram of every lesson, all layers revealed, at every size: snapshotted, and no
/// diagram line is ever wrapped — each one on screen is a whole line of the diagram or
/// its start, cut at the pane's edge, and the last layer is on screen.
#[test]
fn every_diagram_at_every_size_is_never_wrapped() {
    let base = app();
    for (lesson_index, lesson) in base.catalog.lessons.iter().enumerate() {
        for (step_index, step) in lesson.steps.iter().enumerate() {
            let StepKind::Diagram { layers } = &step.kind else {
                continue;
            };
            let mut app = app();
            app.open_lesson(lesson_index);
            while app.player.as_ref().unwrap().step < step_index {
                app.update(Action::NextStep);
            }
            for _ in 1..layers.len() {
                app.update(Action::NextStep);
            }
            assert_eq!(app.player.as_ref().unwrap().layers, layers.len());
            let diagram_lines: Vec<&str> = layers
                .iter()
                .flat_map(|layer| layer.lines())
                .filter(|line| !line.trim().is_empty())
                .collect();
            let last_layer = layers.last().unwrap();
            let last_line = last_layer.lines().rfind(|l| !l.trim().is_empty()).unwrap();
            for (width, height) in SIZES {
                app.update(Action::Resize { width, height });
                let screen = draw(&app, width, height);
                let name = format!(
                    "diagram_{}_step{}@{width}x{height}",
                    lesson.id,
                    step_index + 1
                );
                insta::with_settings!({prepend_module_to_snapshot => false}, {
                    insta::assert_snapshot!(name.clone(), screen);
                });
                let pane_lines: Vec<String> = screen
                    .lines()
                    .filter_map(|row| row.strip_prefix('│'))
                    .map(|row| row.split('│').next().unwrap_or("").trim_end().to_string())
                    .collect();
                let mut found_last = false;
                for shown in pane_lines.iter().filter(|l| !l.trim().is_empty()) {
                    let matching = diagram_lines.iter().find(|line| {
                        let line = line.trim_end();
                        line == shown || line.starts_with(shown.as_str())
                    });
                    // A row that is part of a diagram line but not its start is a wrapped
                    // continuation.
                    if matching.is_none() {
                        assert!(
                            !diagram_lines.iter().any(|line| line.contains(shown.trim())
                                && shown.trim().len() > 8
                                && !line.trim_start().starts_with(shown.trim())),
                            "{name}: a wrapped diagram line: {shown:?}\n{screen}"
                        );
                    }
                    found_last |= last_line.trim_end().starts_with(shown.as_str())
                        && !shown.trim().is_empty();
                }
                assert!(
                    found_last,
                    "{name}: the last layer is not on screen\n{screen}"
                );
            }
        }
    }
}

#[test]
fn the_lesson_list_names_the_steps_still_to_do() {
    let mut app = app();
    // The N+1 lesson: more steps are left than the list names.
    app.selected = super::support::app::n_plus_one(&app);
    app.update(Action::Open);
    app.update(Action::Back);
    let screen = draw(&app, 140, 40);
    assert!(screen.contains("Still to do: step 2 (“"), "{screen}");
    assert!(screen.contains("more."), "{screen}");
}

#[test]
fn a_stopped_demo_keeps_the_rows_it_measured() {
    use pglab::data::demo::DemoProgress;
    let mut app = app();
    let demo = step_where(&app, |k| matches!(k, StepKind::Demo { .. }));
    at_step(&mut app, demo);
    let Some(Command::RunDemo { id, .. }) = app.update(Action::Activate).pop() else {
        panic!("the demo starts")
    };
    for progress in [
        DemoProgress::Message("measuring 10 posts".into()),
        DemoProgress::TableColumns(vec!["posts".into(), "strategy".into()]),
        DemoProgress::TableRow(vec![Some("10".into()), Some("lazy".into())]),
    ] {
        app.apply(Event::DemoProgressed { id, progress });
    }
    app.update(Action::Back);
    let screen = draw(&app, 100, 30);
    assert!(screen.contains("10    │ lazy"), "{screen}");
    assert!(screen.contains("Stopped before it finished"), "{screen}");
    snapshot("player_demo_stopped", &mut app);
}

/// The schema map of a fresh lab database, read as the learner; the server's version and
/// the databases' sizes differ from server to server, so they are set to fixed values.
#[tokio::test]
async fn schema_map_of_the_blog() {
    let db = pglab::testing::TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let mut map = pglab::db::schema::read(&mut conn, pglab::db::LESSON_SCHEMA, &[])
        .await
        .unwrap();
    // What differs from server to server is fixed here: the version, the sizes, whether
    // the data directory is visible, who owns the lesson schema (the learner role on the
    // private cluster, the URL's role on a DATABASE_URL server), and the databases — other
    // tests create and drop theirs on the same server meanwhile.
    map.server.version = "15.0".into();
    map.server.data_directory = None;
    for schema in &mut map.schemas {
        if schema.name == pglab::db::LESSON_SCHEMA {
            schema.owner = "pglab_learner".into();
        }
    }
    map.databases = vec![
        pglab::data::schema::Database {
            name: "pglab".into(),
            size_bytes: Some(8_273_920),
            current: true,
        },
        pglab::data::schema::Database {
            name: "postgres".into(),
            size_bytes: None,
            current: false,
        },
    ];
    map.databases_left_out = 0;
    let mut app = app();
    let commands = app.update(Action::ShowSchema);
    let Some(Command::LoadSchema { id }) = commands.first() else {
        panic!("the schema map reads the catalog when it opens: {commands:?}");
    };
    app.apply(Event::SchemaLoaded {
        id: *id,
        map: Box::new(map),
    });
    snapshot("schema_map", &mut app);
    // In colour, tall enough for every box: each table's frame in a colour of its own,
    // each arrow (in a box and in the list) in the colour of the table it points at.
    let buffer = cells(&app, &dark(), 100, 200);
    let colour = |text: &str| colour_of(&buffer, text).unwrap_or_else(|| panic!("{text}"));
    let organizations = colour("┌─ organizations");
    assert_ne!(organizations, colour("┌─ users"));
    assert_ne!(colour("┌─ users"), colour("┌─ posts"));
    assert_eq!(colour("→ organizations.id"), organizations);
    assert_eq!(colour("→  organizations.id"), organizations);
    assert_eq!(colour("users.organization_id  →"), colour("┌─ users"));
    // Scrolled down to the boxes and sideways past the column names.
    app.update(Action::Resize {
        width: 80,
        height: 24,
    });
    for _ in 0..20 {
        app.update(Action::Down);
    }
    app.update(Action::Right);
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("schema_map_scrolled@80x24", draw(&app, 80, 24));
    });
}

/// The tables view on a fresh lab database with two tenants left (the third deleted) and
/// one soft-deleted post, acting as alice: the other tenant's rows greyed and marked.
#[tokio::test]
async fn tables_view_with_two_tenants_and_a_deleted_row() {
    let db = pglab::testing::TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    sqlx::raw_sql(
        "delete from posts where organization_id = 3;
         delete from users where organization_id = 3;
         delete from organizations where id = 3;
         delete from posts where id > 12 and deleted_at is null;
         update posts set deleted_at = '2026-03-20 10:00+00' where id = 3;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let names: Vec<String> = ["organizations", "users", "posts"]
        .map(String::from)
        .to_vec();
    let rows = pglab::db::tables::read(&mut conn, pglab::db::LESSON_SCHEMA, &names)
        .await
        .unwrap();
    let mut app = app();
    let commands = app.update(Action::ShowTables);
    let Some(Command::LoadTables { id, tables }) = commands.first() else {
        panic!("the tables view reads the rows when it opens: {commands:?}");
    };
    assert_eq!(tables, &names);
    app.apply(Event::TablesLoaded {
        id: *id,
        snapshot: Box::new(rows),
    });
    let screen = draw(&app, 120, 40);
    assert!(
        screen.contains("greyed: not alice's tenant (org 1)"),
        "{screen}"
    );
    assert!(screen.contains("✗ 3   2"), "{screen}");
    snapshot("tables", &mut app);
    // In colour: the boxes' frames in their tables' colours, never a tenant's; the arrow
    // in the colour of the table it points at.
    let buffer = cells(&app, &dark(), 100, 200);
    let colour = |text: &str| colour_of(&buffer, text).unwrap_or_else(|| panic!("{text}"));
    let organizations = colour("┌─ organizations (");
    assert_ne!(organizations, colour("┌─ users ("));
    assert_eq!(colour("→ organizations.id"), organizations);
    assert_eq!(colour("users.organization_id →"), colour("┌─ users ("));
    let tenants: Vec<_> = (1..=5)
        .filter_map(|id| dark().tenant(Some(id)).fg)
        .collect();
    for table in ["┌─ organizations (", "┌─ users (", "┌─ posts ("] {
        assert!(
            !tenants.contains(&colour(table)),
            "{table} has a tenant's colour"
        );
    }
    // Scrolled to the foreign keys at the bottom.
    app.update(Action::Resize {
        width: 80,
        height: 24,
    });
    for _ in 0..30 {
        app.update(Action::Down);
    }
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("tables_scrolled@80x24", draw(&app, 80, 24));
    });
    // Too narrow to draw boxes: a short message instead.
    let narrow = draw(&app, 20, 12);
    assert!(narrow.contains("Too narrow"), "{narrow}");
    // Acting as charlie (org 2) greys the other tenant instead, without reading again.
    for _ in 0..30 {
        app.update(Action::Up);
    }
    for _ in 0..2 {
        assert!(
            app.update(Action::CycleUser).is_empty(),
            "no read on switching"
        );
    }
    let screen = draw(&app, 120, 40);
    assert!(
        screen.contains("greyed: not charlie's tenant (org 2)"),
        "{screen}"
    );
    assert!(
        screen.contains("│ ·  1   1                alice"),
        "{screen}"
    );
    assert!(
        screen.contains("│    3   2                charlie"),
        "{screen}"
    );
}

fn dark() -> pglab::ui::theme::Theme {
    pglab::ui::theme::Theme::named(pglab::ui::theme::ThemeName::Dark)
}

/// The N+1 diagram pinned with two of its layers revealed, then the SQL console: the
/// pinned pane above or beside the editor, or one line naming it where the window is short.
#[test]
fn console_with_a_pinned_diagram() {
    let mut app = with_console(app());
    let diagram = step_where(&app, |k| matches!(k, StepKind::Diagram { .. }));
    at_step(&mut app, diagram);
    app.update(Action::NextStep);
    app.update(Action::TogglePin);
    app.update(Action::NextStep);
    app.update(Action::NextStep);
    app.update(Action::ShowConsole);
    let short = draw(&app, 80, 24);
    assert!(
        short.contains("Pinned: lesson 8, step 2: What the loop sends · P in the lesson unpins"),
        "{short}"
    );
    let tall = draw(&app, 120, 40);
    assert!(tall.contains("Pinned · lesson 8, step 2"), "{tall}");
    assert!(tall.contains("1 query for the list + 1 per post"), "{tall}");
    snapshot("console_pinned_diagram", &mut app);
    // Scrolled down inside the pane, the editor untouched.
    app.update(Action::PinDown);
    app.update(Action::PinDown);
    let scrolled = draw(&app, 100, 30);
    assert!(scrolled.contains("more above (Alt-↑)"), "{scrolled}");
}

/// The scale table pinned once measured: the console shows the table first, its sentences
/// after; running the step again shows the new numbers there.
#[test]
fn console_with_the_pinned_scale_table() {
    let mut app = with_console(app());
    let demo = step_where(
        &app,
        |k| matches!(k, StepKind::Demo { name, .. } if name == "n_plus_one.scale"),
    );
    at_step(&mut app, demo);
    let finish = |app: &mut App, lazy: &str| {
        let Some(Command::RunDemo { id, .. }) = app.update(Action::Activate).pop() else {
            panic!()
        };
        let table = rows(
            &["posts", "strategy", "round trips", "0 ms", "2 ms"],
            &[
                &["10", "lazy", "11", "3.1 ms", lazy],
                &["10", "join", "1", "0.4 ms", "2.6 ms"],
                &["10", "batched", "2", "0.7 ms", "5.0 ms"],
            ],
        );
        let report = DemoReport {
            title: "The scale table".into(),
            lines: vec!["Measured inside a transaction that is rolled back.".into()],
            table: Some(table),
            round_trips: 14,
            statements: 14,
            by_kind: vec![(Kind::Query, 14)],
            wall: std::time::Duration::from_millis(40),
            ..DemoReport::default()
        };
        app.apply(Event::DemoFinished {
            id,
            result: Ok(report),
        });
    };
    finish(&mut app, "28.0 ms");
    app.update(Action::TogglePin);
    app.update(Action::ShowConsole);
    snapshot("console_pinned_scale", &mut app);
    app.update(Action::Back);
    finish(&mut app, "31.5 ms");
    app.update(Action::ShowConsole);
    let screen = draw(&app, 120, 40);
    assert!(screen.contains("31.5 ms"), "{screen}");
    assert!(!screen.contains("28.0 ms"), "{screen}");
}

/// Every cell of a lesson screen with notes, of the help overlay, of the tables view (its
/// frames in their tables' colours) and of a pinned diagram above the console's editor,
/// drawn in each theme at 100×30: the theme's own background is painted everywhere (a light
/// projector theme cannot lean on the terminal's), and everything drawn on it, whatever view
/// drew it, is an RGB colour reaching 4.5:1 against it (the theme's unit test holds each
/// style to its own ratio).
#[test]
fn every_theme_paints_its_background_and_legible_colours() {
    use clap::ValueEnum;
    use pglab::ui::theme::{Theme, ThemeName, contrast};
    use ratatui::style::Modifier;

    let mut diagram = app();
    let step = step_where(&diagram, |k| matches!(k, StepKind::Diagram { .. }));
    at_step(&mut diagram, step);
    diagram.update(Action::NextStep);
    diagram.update(Action::ToggleNotes);
    let mut help = app();
    help.update(Action::ToggleHelp);
    // The tables view's frames and arrows in their tables' colours, and a pinned diagram.
    let mut tables = app();
    let Some(Command::LoadTables { id, .. }) = tables.update(Action::ShowTables).pop() else {
        panic!("the tables view reads its rows");
    };
    tables.apply(Event::TablesLoaded {
        id,
        snapshot: Box::new(two_tables()),
    });
    let mut pinned = app();
    at_step(&mut pinned, step);
    pinned.update(Action::TogglePin);
    pinned.update(Action::ShowConsole);
    for &name in ThemeName::value_variants() {
        let theme = Theme::named(name);
        for (screen, app) in [
            ("diagram", &mut diagram),
            ("help", &mut help),
            ("tables", &mut tables),
            ("pinned", &mut pinned),
        ] {
            app.update(Action::Resize {
                width: 100,
                height: 30,
            });
            let mut terminal =
                ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap();
            terminal
                .draw(|frame| pglab::ui::render(app, &mut Viewports::default(), &theme, frame))
                .unwrap();
            let buffer = terminal.backend().buffer();
            let background = buffer[(0, 0)].bg;
            // On the console, the pinned pane above the editor: the editor's cursor is the
            // text area's own.
            let rows = match screen {
                "pinned" => (0..30)
                    .position(|y| {
                        let row: String = (0..100).map(|x| buffer[(x, y)].symbol()).collect();
                        row.contains("SQL console")
                    })
                    .expect("the console's editor is drawn"),
                _ => 30,
            };
            assert!(
                rows > 2,
                "{name:?} {screen}: nothing drawn above the editor"
            );
            for cell in &buffer.content[..rows * 100] {
                let (fg, bg) = if cell.modifier.contains(Modifier::REVERSED) {
                    (cell.bg, cell.fg)
                } else {
                    (cell.fg, cell.bg)
                };
                if !cell.modifier.contains(Modifier::REVERSED) {
                    assert_eq!(bg, background, "{name:?} {screen}: {cell:?}");
                }
                let ratio = contrast(fg, bg)
                    .unwrap_or_else(|| panic!("{name:?} {screen}: {cell:?} is not RGB"));
                assert!(ratio >= 4.5, "{name:?} {screen}: {ratio:.2} for {cell:?}");
            }
        }
    }
}

/// Organizations and users, one row each, and the foreign key between them.
fn two_tables() -> pglab::data::tables::TablesSnapshot {
    use pglab::data::tables::{RowsOfTable, TableLink, TableRow, TablesSnapshot};
    let table = |name: &str, columns: &[&str], cells: &[&str]| RowsOfTable {
        name: name.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        tenant_column: Some(0),
        soft_deletes: false,
        rows: vec![TableRow {
            tenant: Some(1),
            deleted: false,
            cells: cells.iter().map(|c| Some(c.to_string())).collect(),
        }],
        more: 0,
    };
    TablesSnapshot {
        tables: vec![
            table("organizations", &["id", "name"], &["1", "Acme Corp"]),
            table("users", &["organization_id", "username"], &["1", "alice"]),
        ],
        links: vec![TableLink {
            from_table: "users".into(),
            from_columns: vec!["organization_id".into()],
            to_table: "organizations".into(),
            to_columns: vec!["id".into()],
        }],
    }
}
