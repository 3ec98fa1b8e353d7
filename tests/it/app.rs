//! The app core without a terminal or a database: actions in, state and commands out, with
//! the shipped lessons as the catalogue.

use pglab::app::{Action, App, Command, Event, RequestId, Screen};
use pglab::data::ResultSet;
use pglab::data::grading::{Gathered, Measured};
use pglab::lesson::{Progress, StepKind};

use super::support::app::{
    app, at_step, failure, n_plus_one, outcome, rows, step_where, traffic, with_console,
};

/// The lab in the console, answering the N+1 lesson's exercise (its step index too).
fn answering_exercise() -> (App, usize) {
    let mut app = with_console(app());
    let exercise = step_where(&app, |k| matches!(k, StepKind::Exercise(_)));
    at_step(&mut app, exercise);
    app.update(Action::Activate);
    (app, exercise)
}

fn only_id(commands: &[Command]) -> RequestId {
    match commands {
        [Command::Execute { id, .. }]
        | [Command::RunDemo { id, .. }]
        | [Command::CheckExercise { id, .. }] => *id,
        other => panic!("expected one request, got {other:?}"),
    }
}

#[test]
fn opening_a_lesson_resumes_where_the_progress_says_and_saves() {
    let mut app = app();
    let mut progress = Progress::default();
    progress.set_step("n-plus-one", 3);
    app.progress = progress;
    app.selected = n_plus_one(&app);
    let commands = app.update(Action::Open);
    assert_eq!(app.screen, Screen::Player);
    assert_eq!(app.player.as_ref().unwrap().step, 3);
    assert!(matches!(commands.as_slice(), [Command::SaveProgress(_)]));
}

#[test]
fn a_diagram_reveals_its_layers_before_the_next_step() {
    let mut app = app();
    let diagram = step_where(&app, |k| matches!(k, StepKind::Diagram { .. }));
    let StepKind::Diagram { layers } = &app.catalog.lessons[n_plus_one(&app)].steps[diagram].kind
    else {
        unreachable!()
    };
    let layers = layers.len();
    at_step(&mut app, diagram);
    for shown in 2..=layers {
        app.update(Action::NextStep);
        let player = app.player.as_ref().unwrap();
        assert_eq!((player.step, player.layers), (diagram, shown));
    }
    app.update(Action::NextStep);
    assert_eq!(app.player.as_ref().unwrap().step, diagram + 1);
}

#[test]
fn a_run_step_executes_and_keeps_its_result_with_the_round_trips_counted() {
    let mut app = with_console(app());
    let run = step_where(&app, |k| matches!(k, StepKind::Run { .. }));
    at_step(&mut app, run);
    let commands = app.update(Action::Activate);
    let id = only_id(&commands);
    // A second Enter while it runs asks for nothing.
    assert!(app.update(Action::Activate).is_empty());
    for event in traffic(1, true, &[("select id, title, author_id from posts", 10)])
        .into_iter()
        .skip(1)
    {
        app.apply(Event::Proxy(event));
    }
    app.apply(Event::Executed {
        id,
        result: Ok(outcome(rows(&["id"], &[&["1"]]))),
    });
    let player = app.player.as_ref().unwrap();
    assert!(player.waiting.is_none());
    match player.outputs.get(&run) {
        Some(pglab::app::player::StepOutput::Query {
            ran: Ok(_),
            report: Some(report),
        }) => {
            assert_eq!(report.totals.round_trips, 1);
            assert_eq!(report.totals.rows, 10);
        }
        other => panic!("unexpected output {other:?}"),
    }
}

#[test]
fn results_for_requests_nobody_waits_for_are_dropped() {
    let mut app = app();
    app.update(Action::ShowConsole);
    app.update(Action::Paste("select 1".into()));
    let waiting = only_id(&app.update(Action::RunConsole));
    let stale = RequestId(waiting.0 - 1);
    app.apply(Event::Executed {
        id: stale,
        result: Ok(outcome(ResultSet::default())),
    });
    app.apply(Event::Failed {
        id: stale,
        message: "gone".into(),
    });
    assert_eq!(
        app.console.running,
        Some(waiting),
        "still waiting for its own answer"
    );
    assert!(app.console.result.is_none());
    assert!(app.console.notice.is_none());
    app.apply(Event::Executed {
        id: waiting,
        result: Ok(outcome(ResultSet::default())),
    });
    assert!(app.console.result.is_some());
}

#[test]
fn the_free_console_lets_go_of_an_exercise_and_gives_back_the_learners_text() {
    let mut app = app();
    app.update(Action::ShowConsole);
    app.update(Action::Paste("select 42".into()));
    app.update(Action::Back);
    let exercise = step_where(&app, |k| matches!(k, StepKind::Exercise(_)));
    at_step(&mut app, exercise);
    app.update(Action::Activate);
    assert!(app.console.exercise.is_some());
    app.update(Action::ShowLessons);
    app.update(Action::ShowConsole);
    assert!(app.console.exercise.is_none());
    assert_eq!(app.console.text(), "select 42");
    assert!(matches!(
        app.update(Action::RunConsole).as_slice(),
        [Command::Execute { .. }]
    ));
}

#[test]
fn ctrl_c_in_the_console_stops_the_statement_before_it_quits() {
    let mut app = app();
    app.update(Action::ShowConsole);
    app.update(Action::Paste("select pg_sleep(30)".into()));
    app.update(Action::RunConsole);
    assert_eq!(app.update(Action::Quit), [Command::Cancel]);
    assert!(!app.quitting);
}

#[test]
fn an_exercise_opens_in_the_console_and_a_right_answer_passes_and_is_saved() {
    let (mut app, exercise) = answering_exercise();
    assert_eq!(app.screen, Screen::Console);
    assert!(
        app.console.text().contains("from posts"),
        "the starter is in the editor"
    );
    let id = only_id(&app.update(Action::RunConsole));
    let answer = rows(&["title", "username"], &[&["Q1 roadmap", "alice"]]);
    for event in traffic(
        1,
        true,
        &[(
            "select p.title, u.username from posts p join users u on true",
            1,
        )],
    )
    .into_iter()
    .skip(1)
    {
        app.apply(Event::Proxy(event));
    }
    let commands = app.apply(Event::ExerciseRan {
        id,
        gathered: Gathered {
            answer: String::new(),
            ran: Ok(outcome(answer.clone())),
            expected: Ok(answer),
            checked: None,
            measured: Ok(Measured::default()),
            diagnosis_rows: Vec::new(),
        },
    });
    assert!(matches!(commands.as_slice(), [Command::SaveProgress(_)]));
    assert!(app.progress.lesson("n-plus-one").is_passed(exercise));
}

#[test]
fn a_wrong_answer_says_why_and_is_not_saved_as_passed() {
    let (mut app, exercise) = answering_exercise();
    let id = only_id(&app.update(Action::RunConsole));
    app.apply(Event::Proxy(traffic(1, true, &[("select 1", 1)]).remove(1)));
    app.apply(Event::ExerciseRan {
        id,
        gathered: Gathered {
            answer: "select 1".into(),
            ran: Ok(outcome(rows(
                &["title", "username"],
                &[&["Q1 roadmap", "bob"]],
            ))),
            expected: Ok(rows(&["title", "username"], &[&["Q1 roadmap", "alice"]])),
            checked: None,
            measured: Ok(Measured::default()),
            diagnosis_rows: Vec::new(),
        },
    });
    assert!(!app.progress.lesson("n-plus-one").is_passed(exercise));
    let output = app.player.as_ref().unwrap().outputs.get(&exercise);
    let Some(pglab::app::player::StepOutput::Graded {
        verdict: Ok(verdict),
        ..
    }) = output
    else {
        panic!("no verdict: {output:?}");
    };
    assert!(!verdict.passed());
    assert!(
        verdict
            .findings
            .iter()
            .any(|f| f.to_string().contains("missing")),
        "{:?}",
        verdict.findings
    );
}

#[test]
fn hints_come_one_at_a_time_and_stop_at_the_last() {
    let mut app = app();
    let exercise = step_where(&app, |k| matches!(k, StepKind::Exercise(_)));
    at_step(&mut app, exercise);
    let StepKind::Exercise(e) = &app.catalog.lessons[n_plus_one(&app)].steps[exercise].kind else {
        unreachable!()
    };
    let hints = e.hints.len();
    for expected in 1..=hints {
        app.update(Action::RevealHint);
        assert_eq!(
            app.progress.lesson("n-plus-one").hints_revealed(exercise),
            expected
        );
    }
    assert!(app.update(Action::RevealHint).is_empty());
    assert!(app.notice.as_deref().unwrap_or("").contains("last hint"));
}

#[test]
fn a_quiz_answer_is_kept_and_out_of_range_keys_are_ignored() {
    let mut app = app();
    let quiz = step_where(&app, |k| matches!(k, StepKind::Quiz(_)));
    at_step(&mut app, quiz);
    assert!(app.update(Action::Answer(5)).is_empty());
    assert!(matches!(
        app.update(Action::Answer(1)).as_slice(),
        [Command::SaveProgress(_)]
    ));
    assert_eq!(app.progress.lesson("n-plus-one").quiz_answer(quiz), Some(1));
}

#[test]
fn the_latency_knob_cycles_through_its_settings() {
    let mut app = app();
    let mut seen = Vec::new();
    for _ in 0..6 {
        match app.update(Action::CycleLatency).as_slice() {
            [Command::SetLatency(latency)] => seen.push(latency.as_millis()),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seen, [1, 5, 20, 50, 100, 0]);
}

#[test]
fn esc_cancels_a_running_statement_before_it_leaves_the_console() {
    let mut app = app();
    app.update(Action::ShowConsole);
    app.update(Action::Paste("select pg_sleep(30)".into()));
    let id = only_id(&app.update(Action::RunConsole));
    assert_eq!(app.update(Action::Back), [Command::Cancel]);
    assert_eq!(app.screen, Screen::Console);
    app.apply(Event::Executed {
        id,
        result: Err(failure(
            "57014",
            "canceling statement due to user request",
            None,
        )),
    });
    assert!(app.console.running.is_none());
    app.update(Action::Back);
    assert_eq!(app.screen, Screen::Lessons);
}

#[test]
fn quitting_saves_progress_and_cancels_what_runs() {
    let mut app = app();
    app.update(Action::ShowConsole);
    app.update(Action::Paste("select 1".into()));
    app.update(Action::RunConsole);
    // Away from the console, quitting does not wait: it cancels and goes.
    app.update(Action::ShowLessons);
    let commands = app.update(Action::Quit);
    assert!(matches!(
        commands.as_slice(),
        [Command::Cancel, Command::SaveProgress(_), Command::Quit]
    ));
}

#[test]
fn the_log_shows_an_n_plus_one_once_the_burst_goes_quiet() {
    let mut app = app();
    let mut statements = vec![("select id, title, author_id from posts", 10)];
    statements.extend(std::iter::repeat_n(
        ("select username from users where id = $1", 1),
        10,
    ));
    for event in traffic(7, false, &statements) {
        app.apply(Event::Proxy(event));
    }
    assert_eq!(app.log.log.totals().round_trips, 11);
    app.apply(Event::Quiet);
    let lines = app.log.visible(40);
    let warnings: Vec<String> = lines
        .iter()
        .filter_map(|l| match l {
            pglab::app::log::Line::Notice {
                notice: pglab::app::log::Notice::Warning(warning),
                ..
            } => Some(warning.message()),
            _ => None,
        })
        .collect();
    assert!(
        warnings.iter().any(|w| w.starts_with("N+1")),
        "{warnings:?}"
    );
}

#[test]
fn the_log_scrolls_back_and_holds_still_while_traffic_arrives() {
    let mut app = app();
    let statements: Vec<(&str, u64)> = (0..50).map(|_| ("select 1", 1)).collect();
    for event in traffic(3, false, &statements) {
        app.apply(Event::Proxy(event));
    }
    app.update(Action::ToggleLogFocus);
    app.update(Action::Up);
    app.update(Action::Up);
    let before = app.log.visible(5);
    for event in traffic(3, false, &[("select 2", 1)]).into_iter().skip(1) {
        app.apply(Event::Proxy(event));
    }
    let after = app.log.visible(5);
    let seqs = |lines: &[pglab::app::log::Line]| -> Vec<u64> {
        lines
            .iter()
            .filter_map(|l| match l {
                pglab::app::log::Line::RoundTrip(e) => Some(e.seq),
                _ => None,
            })
            .collect()
    };
    assert_eq!(seqs(&before), seqs(&after));
    app.update(Action::End);
    assert_eq!(
        seqs(&app.log.visible(3)).last(),
        Some(&51),
        "End follows the newest again"
    );
}

#[test]
fn a_reset_takes_the_same_key_twice_and_keeps_progress_otherwise() {
    let mut app = app();
    app.selected = n_plus_one(&app);
    app.update(Action::Open);
    app.update(Action::NextStep);
    app.update(Action::ShowLessons);
    assert!(app.progress.lesson("n-plus-one").is_started());
    assert!(
        app.update(Action::ResetLesson).is_empty(),
        "the first press only asks"
    );
    // Another key in between cancels; Up then Down come back to the same lesson.
    app.update(Action::Up);
    app.update(Action::Down);
    assert!(
        app.update(Action::ResetLesson).is_empty(),
        "another key in between cancels"
    );
    assert!(matches!(
        app.update(Action::ResetLesson).as_slice(),
        [Command::SaveProgress(_)]
    ));
    assert!(!app.progress.lesson("n-plus-one").is_started());
    assert!(app.player.is_none());
}

#[test]
fn a_lint_free_exercise_fails_on_the_warning_its_own_round_trips_raised() {
    let mut app = app();
    app.apply(Event::LabReady {
        database: "pglab".into(),
        facts: Some(pglab::sql::lint::TableFacts::new(
            ["posts".to_string()],
            ["posts".to_string()],
        )),
    });
    let mut app = with_console(app);
    let lesson = app
        .catalog
        .lessons
        .iter()
        .position(|l| l.id == "soft-deletes")
        .unwrap();
    app.selected = lesson;
    let exercise = app.catalog.lessons[lesson]
        .steps
        .iter()
        .position(|s| matches!(s.kind, StepKind::Exercise(_)))
        .unwrap();
    app.update(Action::Open);
    while app.player.as_ref().unwrap().step < exercise {
        app.update(Action::NextStep);
    }
    app.update(Action::Activate);
    let id = only_id(&app.update(Action::RunConsole));
    // The right rows, but by leaving out the draft by title rather than by deleted_at.
    let sneaky = "select title from posts where organization_id = 1 \
                  and title <> 'Draft: pricing ideas' order by created_at desc";
    app.apply(Event::Proxy(traffic(1, true, &[(sneaky, 1)]).remove(1)));
    let answer = rows(&["title"], &[&["Spring release notes"]]);
    app.apply(Event::ExerciseRan {
        id,
        gathered: Gathered {
            answer: sneaky.into(),
            ran: Ok(outcome(answer.clone())),
            expected: Ok(answer),
            checked: None,
            measured: Ok(Measured::default()),
            diagnosis_rows: Vec::new(),
        },
    });
    assert!(!app.progress.lesson("soft-deletes").is_passed(exercise));
    let output = app.player.as_ref().unwrap().outputs.get(&exercise);
    let Some(pglab::app::player::StepOutput::Graded {
        verdict: Ok(verdict),
        ..
    }) = output
    else {
        panic!("no verdict: {output:?}");
    };
    let findings: Vec<String> = verdict.findings.iter().map(ToString::to_string).collect();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(
        findings[0].starts_with(
            "the lab's query log flagged your SQL: posts is read without a deleted_at condition"
        ),
        "{findings:?}"
    );
}

/// Starts the first demo step of the N+1 lesson; returns its request id.
fn demo_running(app: &mut App) -> RequestId {
    let demo = step_where(app, |k| matches!(k, StepKind::Demo { .. }));
    at_step(app, demo);
    match app.update(Action::Activate).as_slice() {
        [Command::RunDemo { id, .. }] => *id,
        other => panic!("expected a demo to start, got {other:?}"),
    }
}

#[test]
fn esc_stops_a_running_demo_and_says_so_then_leaves_the_lesson() {
    let mut app = app();
    let id = demo_running(&mut app);
    assert_eq!(app.update(Action::Back), vec![Command::StopDemo(id)]);
    assert_eq!(
        app.screen,
        Screen::Player,
        "the first Esc only stops the demo"
    );
    let player = app.player.as_ref().unwrap();
    assert!(player.waiting.is_none());
    let Some(pglab::app::player::StepOutput::Demo {
        report: Some(Err(message)),
        ..
    }) = player.outputs.get(&player.step)
    else {
        panic!("the step says it was stopped")
    };
    assert!(message.contains("Stopped before it finished"), "{message}");
    // Whatever the stopped task might still send is not for anyone.
    app.apply(Event::DemoFinished {
        id,
        result: Err("late".into()),
    });
    assert!(matches!(
        app.player.as_ref().unwrap().outputs.get(&app.player.as_ref().unwrap().step),
        Some(pglab::app::player::StepOutput::Demo { report: Some(Err(m)), .. }) if m.contains("Stopped")
    ));
    assert!(app.update(Action::Back).is_empty());
    assert_eq!(app.screen, Screen::Lessons);
}

#[test]
fn leaving_a_lesson_stops_its_demo() {
    let mut app = app();
    let id = demo_running(&mut app);
    assert!(
        app.update(Action::ShowLessons)
            .contains(&Command::StopDemo(id))
    );
    assert!(app.player.as_ref().unwrap().waiting.is_none());
}

#[test]
fn the_console_runs_while_a_demo_runs() {
    let mut app = with_console(app());
    demo_running(&mut app);
    app.update(Action::ShowConsole);
    app.console.set_text("select 1");
    assert!(matches!(
        app.update(Action::RunConsole).as_slice(),
        [Command::Execute { .. }]
    ));
}
