//! The pinned step: what an instructor leaves up beside the SQL console while the students
//! code — a diagram step's revealed layers, or what a run or demo step measured. The pin
//! names the step, not a copy of what it showed: run the step again and the pinned pane
//! shows the new numbers. It stays when the screen changes.
//!
//! When another lesson is opened, the pinned lesson's steps can no longer run, so the pin
//! keeps what its step last measured ([`Pin::kept`]) and still shows it, saying so; opening
//! the pinned lesson again hands that output back to the lesson, and the pin is live again.
//! Pinning another step replaces the pin; the same key on the pinned step takes it down.

use crate::keymap::{self, Context};
use crate::lesson::StepKind;
use crate::scroll::Scroll;

use super::player::StepOutput;
use super::{Action, App};

/// Columns one sideways key press moves the pinned pane.
const SIDEWAYS_STEP: i64 = 8;

#[derive(Debug)]
pub struct Pin {
    /// Index into the catalogue's lessons.
    pub lesson: usize,
    pub step: usize,
    /// Diagram layers shown: those revealed when it was pinned, more if more are revealed.
    pub layers: usize,
    /// The step's output, kept while its lesson is closed (the lesson has it otherwise).
    pub kept: Option<StepOutput>,
    pub scroll: Scroll<()>,
    pub sideways: Scroll<()>,
}

/// What the pinned pane shows, read from the pin and the player.
pub enum Pinned<'a> {
    /// A diagram's first `layers` layers.
    Diagram { layers: &'a [String] },
    /// A run or demo step's output as it is now: `None` before the step has run.
    Output {
        output: Option<&'a StepOutput>,
        running: bool,
        /// Its lesson is closed: the output is what the step last measured, kept.
        closed: bool,
    },
}

impl App {
    /// Pins what the lesson's current step shows; on the pinned step, takes the pin down.
    pub(super) fn toggle_pin(&mut self) {
        let Some(player) = self.player.as_ref() else {
            return;
        };
        let Some(step) = self.catalog.lessons[player.lesson].steps.get(player.step) else {
            return;
        };
        if self
            .pin
            .as_ref()
            .is_some_and(|pin| pin.lesson == player.lesson && pin.step == player.step)
        {
            self.pin = None;
            self.notice = Some("Unpinned.".into());
            return;
        }
        let layers = match &step.kind {
            StepKind::Diagram { .. } => player.layers.max(1),
            StepKind::Run { .. } | StepKind::Demo { .. } => 0,
            _ => {
                self.notice = Some(format!(
                    "Nothing to pin here: {} pins a diagram or what a step measured.",
                    keymap::key_for(Context::Player, &Action::TogglePin)
                ));
                return;
            }
        };
        self.pin = Some(Pin {
            lesson: player.lesson,
            step: player.step,
            layers,
            kept: None,
            scroll: Scroll::default(),
            sideways: Scroll::default(),
        });
        self.notice = Some(format!(
            "Pinned: the SQL console ({}) shows it.",
            keymap::key_for(Context::Global, &Action::ShowConsole)
        ));
    }

    /// A diagram layer was revealed on the step on screen: the pin of that step shows it too.
    pub(super) fn pin_follows_reveal(&mut self) {
        if let (Some(pin), Some(player)) = (self.pin.as_mut(), self.player.as_ref())
            && (pin.lesson, pin.step) == (player.lesson, player.step)
        {
            pin.layers = pin.layers.max(player.layers);
        }
    }

    /// Before the lesson player is replaced or closed: the pin keeps its step's output.
    pub(super) fn pin_keeps_output(&mut self) {
        if let (Some(pin), Some(player)) = (self.pin.as_mut(), self.player.as_mut())
            && pin.lesson == player.lesson
        {
            pin.kept = player.outputs.remove(&pin.step);
        }
    }

    /// After the pinned lesson is opened again: its step takes back the output the pin kept.
    pub(super) fn pin_returns_output(&mut self) {
        if let (Some(pin), Some(player)) = (self.pin.as_mut(), self.player.as_mut())
            && pin.lesson == player.lesson
            && let Some(output) = pin.kept.take()
        {
            player.outputs.insert(pin.step, output);
        }
    }

    /// Scrolls the pinned pane.
    pub(super) fn scroll_pin(&mut self, lines: i64, columns: i64) {
        if let Some(pin) = self.pin.as_mut() {
            pin.scroll.lines(lines);
            pin.sideways.lines(columns * SIDEWAYS_STEP);
        }
    }

    /// What the pinned pane shows now, if something is pinned.
    pub fn pinned(&self) -> Option<Pinned<'_>> {
        let pin = self.pin.as_ref()?;
        let step = self.catalog.lessons.get(pin.lesson)?.steps.get(pin.step)?;
        let player = self.player.as_ref().filter(|p| p.lesson == pin.lesson);
        Some(match &step.kind {
            StepKind::Diagram { layers } => Pinned::Diagram {
                layers: layers.get(..pin.layers.max(1)).unwrap_or(layers),
            },
            _ => Pinned::Output {
                output: match player {
                    Some(player) => player.outputs.get(&pin.step),
                    None => pin.kept.as_ref(),
                },
                running: player
                    .and_then(|p| p.waiting)
                    .is_some_and(|w| w.step == pin.step),
                closed: player.is_none(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::app::{Command, Event, Screen};
    use crate::data::demo::DemoReport;
    use crate::lesson::{Catalog, Lesson, Progress, Source, Step};

    fn lesson(id: &str, diagram: u8, steps: Vec<Step>) -> Lesson {
        Lesson {
            id: id.into(),
            dir: id.into(),
            diagram,
            minutes: 5,
            title: id.into(),
            summary: String::new(),
            steps,
        }
    }

    /// Lesson 0: a read step, a two-layer diagram, a demo; lesson 1: a diagram. Lesson 0 open.
    fn app() -> App {
        let demo = StepKind::Demo {
            name: "n_plus_one.scale".into(),
            params: toml::Table::new(),
        };
        let diagram = || StepKind::Diagram {
            layers: vec!["one".into(), "two".into()],
        };
        let lessons = vec![
            lesson(
                "first",
                8,
                vec![
                    Step::bare("Story", StepKind::Read),
                    Step::bare("Loop", diagram()),
                    Step::bare("Scale", demo),
                ],
            ),
            lesson("second", 9, vec![Step::bare("Tree", diagram())]),
        ];
        let catalog = Arc::new(Catalog {
            source: Source::Embedded(&[]),
            lessons,
        });
        let mut app = App::new(catalog, Progress::default(), "test".into());
        app.update(Action::Open);
        app
    }

    fn pinned_step(app: &App) -> Option<(usize, usize, usize)> {
        app.pin.as_ref().map(|p| (p.lesson, p.step, p.layers))
    }

    /// Runs the demo step on screen to its end with a report titled `title`.
    fn run_demo(app: &mut App, title: &str) {
        let Some(Command::RunDemo { id, .. }) = app.update(Action::Activate).pop() else {
            panic!("the demo step runs its demo");
        };
        let report = DemoReport {
            title: title.into(),
            ..DemoReport::default()
        };
        app.apply(Event::DemoFinished {
            id,
            result: Ok(report),
        });
    }

    fn pinned_title(app: &App) -> Option<String> {
        match app.pinned()? {
            Pinned::Output {
                output:
                    Some(StepOutput::Demo {
                        report: Some(Ok(report)),
                        ..
                    }),
                ..
            } => Some(report.title.clone()),
            _ => None,
        }
    }

    #[test]
    fn the_key_pins_a_diagram_its_reveals_follow_and_again_unpins() {
        let mut app = app();
        app.update(Action::TogglePin);
        assert_eq!(pinned_step(&app), None, "a read step has nothing to pin");
        assert!(
            app.notice
                .as_deref()
                .is_some_and(|n| n.contains("Nothing to pin"))
        );
        app.update(Action::NextStep);
        app.update(Action::TogglePin);
        assert_eq!(pinned_step(&app), Some((0, 1, 1)));
        app.update(Action::NextStep);
        assert_eq!(
            pinned_step(&app),
            Some((0, 1, 2)),
            "the reveal shows in the pin"
        );
        let Some(Pinned::Diagram { layers }) = app.pinned() else {
            panic!("a diagram is pinned");
        };
        assert_eq!(layers, ["one", "two"]);
        app.update(Action::TogglePin);
        assert_eq!(pinned_step(&app), None);
    }

    #[test]
    fn pinning_another_step_replaces_the_pin() {
        let mut app = app();
        app.update(Action::NextStep);
        app.update(Action::TogglePin);
        app.update(Action::NextStep);
        app.update(Action::NextStep);
        app.update(Action::TogglePin);
        assert_eq!(pinned_step(&app), Some((0, 2, 0)));
        assert!(matches!(
            app.pinned(),
            Some(Pinned::Output {
                output: None,
                running: false,
                closed: false
            })
        ));
    }

    #[test]
    fn the_pin_shows_the_step_as_it_runs_again_and_on_every_screen() {
        let mut app = app();
        app.update(Action::NextStep);
        app.update(Action::NextStep);
        app.update(Action::NextStep);
        run_demo(&mut app, "first run");
        app.update(Action::TogglePin);
        assert_eq!(pinned_title(&app).as_deref(), Some("first run"));
        run_demo(&mut app, "second run");
        assert_eq!(pinned_title(&app).as_deref(), Some("second run"));
        app.update(Action::ShowConsole);
        assert_eq!(app.screen, Screen::Console);
        assert_eq!(pinned_title(&app).as_deref(), Some("second run"));
        app.update(Action::ShowTables);
        app.update(Action::ShowLessons);
        assert_eq!(pinned_step(&app), Some((0, 2, 0)));
    }

    #[test]
    fn another_lesson_keeps_the_pin_with_what_it_measured_until_its_lesson_returns() {
        let mut app = app();
        for _ in 0..3 {
            app.update(Action::NextStep);
        }
        run_demo(&mut app, "measured");
        app.update(Action::TogglePin);
        app.update(Action::ShowLessons);
        app.update(Action::Down);
        app.update(Action::Open);
        assert_eq!(app.player.as_ref().map(|p| p.lesson), Some(1));
        assert_eq!(pinned_title(&app).as_deref(), Some("measured"));
        assert!(matches!(
            app.pinned(),
            Some(Pinned::Output { closed: true, .. })
        ));
        app.update(Action::ShowLessons);
        app.update(Action::Up);
        app.update(Action::Open);
        assert!(app.pin.as_ref().is_some_and(|p| p.kept.is_none()));
        assert!(matches!(
            app.pinned(),
            Some(Pinned::Output { closed: false, .. })
        ));
        assert_eq!(pinned_title(&app).as_deref(), Some("measured"));
        let player = app.player.as_ref().expect("the lesson is open");
        assert!(
            player.outputs.contains_key(&2),
            "the step has its numbers back"
        );
    }

    #[test]
    fn the_pinned_pane_scrolls_from_the_console() {
        let mut app = app();
        app.update(Action::NextStep);
        app.update(Action::TogglePin);
        app.update(Action::ShowConsole);
        app.update(Action::PinDown);
        app.update(Action::PinRight);
        let pin = app.pin.as_ref().expect("pinned");
        let mut fresh = Scroll::<()>::default();
        fresh.lines(1);
        assert_eq!(pin.scroll, fresh);
        fresh = Scroll::default();
        fresh.lines(SIDEWAYS_STEP);
        assert_eq!(pin.sideways, fresh);
    }
}
