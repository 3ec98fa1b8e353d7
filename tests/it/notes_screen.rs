//! The presenter view (`pglab notes`) drawn into a test terminal: following a lab on the
//! N+1 lesson's demo step after a run, at 80×24, 100×30, 120×40 and 140×40, and waiting for
//! a lab. The snapshot comes from the shipped lesson through the app's own presenter
//! snapshot; the times and the clock are fixed here, so nothing needs masking.

use std::time::{Duration, Instant};

use pglab::app::notes::{NotesEvent, NotesState};
use pglab::app::{Action, Command, Event};
use pglab::data::demo::DemoReport;
use pglab::data::presenter::{Elapsed, FromLab, Hello, Published};
use pglab::lesson::StepKind;
use pglab::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::support::app::{app, at_step, step_where};

fn draw(state: &NotesState, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| pglab::ui::notes::render(state, frame, &Theme::plain()))
        .unwrap();
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| {
            let line: String = (0..width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect();
            line.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn snapshot(name: &str, state: &NotesState, sizes: &[(u16, u16)]) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for &(width, height) in sizes {
            insta::assert_snapshot!(
                format!("{name}@{width}x{height}"),
                draw(state, width, height)
            );
        }
    });
}

fn waiting() -> (NotesState, Instant) {
    let now = Instant::now();
    let clock = chrono::NaiveTime::from_hms_opt(10, 15, 0).unwrap();
    (
        NotesState::new("/home/ada/.local/share/pglab".into(), now, clock),
        now,
    )
}

/// A view following a presenting lab on the N+1 lesson's first demo step, run once.
fn following() -> NotesState {
    let mut app = app();
    app.presenting = true;
    let demo = step_where(&app, |k| matches!(k, StepKind::Demo { .. }));
    at_step(&mut app, demo);
    let Some(Command::RunDemo { id, .. }) = app.update(Action::Activate).pop() else {
        panic!("the demo step runs its demo");
    };
    let report = DemoReport {
        round_trips: 11,
        wall: Duration::from_millis(42),
        ..DemoReport::default()
    };
    app.apply(Event::DemoFinished {
        id,
        result: Ok(report),
    });
    let (mut state, now) = waiting();
    state.apply(NotesEvent::Connected);
    state.apply(NotesEvent::Labs(2));
    let hello = Hello {
        pid: 4242,
        terminal: Some("/dev/pts/3".into()),
        started_at: "2026-12-03T09:50:00+01:00".into(),
        database: app.database.clone(),
    };
    let published = Published {
        snapshot: pglab::app::presenter::snapshot(&app),
        elapsed: Elapsed {
            lesson_ms: 192_000,
            lesson_running: true,
            session_ms: 1_540_000,
        },
    };
    for message in [
        FromLab::Hello(hello),
        FromLab::Snapshot(Box::new(published)),
    ] {
        state.apply(NotesEvent::Received { message, at: now });
    }
    state
}

#[test]
fn following_a_lab_on_a_demo_step_it_ran() {
    snapshot(
        "notes_following",
        &following(),
        &[(80, 24), (100, 30), (120, 40), (140, 40)],
    );
}

/// As the lab's screens (`screens::every_theme_paints_its_background_and_legible_colours`):
/// in each theme the background is painted everywhere and every cell reaches 4.5:1 on it.
#[test]
fn every_theme_paints_the_presenter_view_legibly() {
    use clap::ValueEnum;
    use pglab::ui::theme::{ThemeName, contrast};

    let state = following();
    for &name in ThemeName::value_variants() {
        let theme = Theme::named(name);
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        terminal
            .draw(|frame| pglab::ui::notes::render(&state, frame, &theme))
            .unwrap();
        let buffer = terminal.backend().buffer();
        let background = buffer[(0, 0)].bg;
        for cell in &buffer.content {
            assert_eq!(cell.bg, background, "{name:?}: {cell:?}");
            let ratio = contrast(cell.fg, cell.bg)
                .unwrap_or_else(|| panic!("{name:?}: {cell:?} is not RGB"));
            assert!(ratio >= 4.5, "{name:?}: {ratio:.2} for {cell:?}");
        }
    }
}

#[test]
fn waiting_for_a_lab() {
    snapshot("notes_waiting", &waiting().0, &[(100, 30)]);
}
