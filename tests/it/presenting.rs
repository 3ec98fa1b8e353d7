//! Presenting mode (`--present`) as the room sees it: the lesson at the full width with the
//! query log as a strip, the step's headline number in large type in every theme, clicker
//! keys stepping through a diagram's layers, the blank screen, and presenter notes kept off
//! the projected screen while a notes view shows them.

use std::time::Duration;

use clap::ValueEnum;
use pglab::app::{Action, App, Command, Event};
use pglab::data::demo::{DemoReport, Headline};
use pglab::data::proxy::Kind;
use pglab::keymap::{self, Context};
use pglab::lesson::StepKind;
use pglab::ui::Viewports;
use pglab::ui::theme::{Theme, ThemeName, contrast};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::support::app::{app, at_step, step_where, traffic};
use super::support::screen::draw;

/// Presses `code` as the runtime does: through the keymap, in the app's context.
fn press(app: &mut App, code: KeyCode) -> Vec<Command> {
    let key = KeyEvent::new(code, KeyModifiers::NONE);
    match keymap::action_for(app.context(), key, app.is_typing()) {
        Some(action) => app.update(action),
        None => Vec::new(),
    }
}

/// The N+1 lesson's lazy-loop demo finished, in presenting mode, with the log's traffic:
/// its report names its headline as the demo does.
fn presenting_the_lazy_loop() -> App {
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
        |k| matches!(k, StepKind::Demo { name, .. } if name == "n_plus_one.lazy"),
    );
    at_step(&mut app, demo);
    app.update(Action::TogglePresenting);
    let Some(Command::RunDemo { id, .. }) = app.update(Action::Activate).pop() else {
        panic!("the step runs its demo")
    };
    let report = DemoReport {
        title: "N+1: the lazy loop, 10 posts".into(),
        lines: vec!["1 query for the 10 posts, then 1 per post: 11 query round trips".into()],
        round_trips: 11,
        statements: 11,
        by_kind: vec![(Kind::Query, 11)],
        wall: Duration::from_millis(4),
        sessions: 1,
        headline: Some(Headline {
            value: "11".into(),
            label: "query round trips — the lazy loop, 10 posts".into(),
        }),
        ..DemoReport::default()
    };
    app.apply(Event::DemoFinished {
        id,
        result: Ok(report),
    });
    app
}

#[test]
fn presenting_a_headline_at_every_size() {
    let mut app = presenting_the_lazy_loop();
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for (width, height) in [(80, 24), (100, 30), (120, 40), (140, 40)] {
            app.update(Action::Resize { width, height });
            let screen = draw(&app, width, height);
            // The query log is a strip: no bordered pane, the counters on it.
            assert!(!screen.contains("Query log"), "{screen}");
            assert!(
                screen.contains("⇄ 11 round trips · 11 statements"),
                "{screen}"
            );
            insta::assert_snapshot!(format!("present_lazy@{width}x{height}"), screen);
        }
    });
}

/// At 100×30 and 120×40, in each theme: the same screen as the snapshots, drawn in the
/// theme's colours — its background under every cell, the big number in the headline
/// colour at the body text's ratio.
#[test]
fn the_headline_is_drawn_in_each_themes_colours() {
    let mut app = presenting_the_lazy_loop();
    for (width, height) in [(100, 30), (120, 40)] {
        app.update(Action::Resize { width, height });
        let plain = draw(&app, width, height);
        for &name in ThemeName::value_variants() {
            let theme = Theme::named(name);
            let mut terminal =
                ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).unwrap();
            terminal
                .draw(|frame| pglab::ui::render(&app, &mut Viewports::default(), &theme, frame))
                .unwrap();
            let buffer = terminal.backend().buffer();
            let text: Vec<String> = (0..height)
                .map(|y| {
                    let line: String = (0..width).map(|x| buffer[(x, y)].symbol()).collect();
                    line.trim_end().to_string()
                })
                .collect();
            assert_eq!(text.join("\n"), plain, "{name:?} draws the same screen");
            let background = buffer[(0, 0)].bg;
            let big = theme.headline().fg.expect("the headline has a colour");
            let mut pixels = 0;
            for cell in &buffer.content {
                assert_eq!(cell.bg, background, "{name:?}: {cell:?}");
                if ["█", "▀", "▄", "▌", "▐"].contains(&cell.symbol()) && cell.fg == big {
                    pixels += 1;
                }
            }
            assert!(pixels > 20, "{name:?} {width}×{height}: {pixels} pixels");
            let ratio = contrast(big, background).expect("RGB colours");
            assert!(ratio >= 7.0, "{name:?}: {ratio:.2}");
        }
    }
}

#[test]
fn page_down_reveals_a_diagram_layer_then_moves_to_the_next_step() {
    let mut app = app();
    let diagram = step_where(&app, |k| matches!(k, StepKind::Diagram { .. }));
    at_step(&mut app, diagram);
    let StepKind::Diagram { layers } =
        &app.catalog.lessons[app.player.as_ref().unwrap().lesson].steps[diagram].kind
    else {
        unreachable!()
    };
    let layers = layers.len();
    assert!(layers >= 2, "the diagram is revealed layer by layer");
    // Outside presenting mode PageDown scrolls and leaves the layers alone.
    press(&mut app, KeyCode::PageDown);
    assert_eq!(app.player.as_ref().unwrap().layers, 1);
    press(&mut app, KeyCode::F(12));
    assert!(app.presenting);
    assert_eq!(app.context(), Context::Presenting);
    press(&mut app, KeyCode::PageDown);
    let player = app.player.as_ref().unwrap();
    assert_eq!((player.step, player.layers), (diagram, 2));
    for _ in 2..layers {
        press(&mut app, KeyCode::PageDown);
    }
    assert_eq!(app.player.as_ref().unwrap().step, diagram);
    press(&mut app, KeyCode::PageDown);
    assert_eq!(app.player.as_ref().unwrap().step, diagram + 1);
    press(&mut app, KeyCode::PageUp);
    assert_eq!(app.player.as_ref().unwrap().step, diagram);
}

#[test]
fn b_blanks_the_screen_and_any_key_only_brings_it_back() {
    let mut app = presenting_the_lazy_loop();
    let step = app.player.as_ref().unwrap().step;
    press(&mut app, KeyCode::Char('b'));
    assert!(app.blanked);
    assert_eq!(draw(&app, 100, 30).trim(), "", "nothing is drawn");
    // q would quit and → would step: on a blank screen each only brings it back.
    for code in [KeyCode::Char('q'), KeyCode::Right] {
        let commands = press(&mut app, code);
        assert!(commands.is_empty() && !app.blanked && !app.quitting);
        assert_eq!(app.player.as_ref().unwrap().step, step);
        press(&mut app, KeyCode::Char('.'));
        assert!(app.blanked);
    }
}

#[test]
fn notes_stay_off_the_projected_screen_while_a_notes_view_shows_them() {
    let mut app = app();
    let diagram = step_where(&app, |k| matches!(k, StepKind::Diagram { .. }));
    at_step(&mut app, diagram);
    let lesson = app.player.as_ref().unwrap().lesson;
    let notes = app.catalog.lessons[lesson].steps[diagram]
        .notes
        .clone()
        .expect("the diagram step has presenter notes");
    // A phrase from the notes, long enough to be theirs alone.
    let phrase: String = notes
        .split_whitespace()
        .take(4)
        .collect::<Vec<_>>()
        .join(" ");
    let shows_notes = |app: &App| {
        let screen = draw(app, 140, 40);
        let flat = screen.split_whitespace().collect::<Vec<_>>().join(" ");
        flat.contains(&phrase) || screen.contains("Presenter notes")
    };
    app.update(Action::Resize {
        width: 140,
        height: 40,
    });
    press(&mut app, KeyCode::F(12));
    app.apply(Event::NotesViewAttached(true));
    press(&mut app, KeyCode::Char('t'));
    assert!(!shows_notes(&app), "{}", draw(&app, 140, 40));
    let notice = app.notice.clone().unwrap_or_default();
    assert!(notice.contains("pglab notes"), "{notice}");

    // No notes view: t opens them here, and the pane says why.
    app.apply(Event::NotesViewAttached(false));
    press(&mut app, KeyCode::Char('t'));
    assert!(shows_notes(&app));
    assert!(draw(&app, 140, 40).contains("no notes view is attached"));
    // A notes view attaching takes them off the projected screen.
    app.apply(Event::NotesViewAttached(true));
    assert!(!shows_notes(&app), "{}", draw(&app, 140, 40));
}

#[test]
fn help_lists_the_presenting_keys() {
    let help: Vec<String> = pglab::ui::help::lines(&Theme::plain())
        .iter()
        .map(ToString::to_string)
        .collect();
    let at = help
        .iter()
        .position(|l| l == Context::Presenting.title())
        .expect("a presenting section");
    let section = help[at..].join("\n");
    for wanted in ["PgDn", "PgUp", "b .", "blank the screen"] {
        assert!(section.contains(wanted), "{wanted}: {section}");
    }
    assert!(
        help.iter()
            .any(|l| l.contains("F12") && l.contains("presenting mode"))
    );
}
