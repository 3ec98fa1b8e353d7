//! The lab as a presenter view sees it: [`snapshot`] reads the state into the
//! [`Snapshot`] the runtime publishes to `pglab notes`, and [`App::drive`] carries out the
//! keys a presenter pressed there on the projected lesson.

use crate::data::presenter::{Drive, LabScreen, LessonSnapshot, Snapshot};
use crate::keymap::{self, Context};
use crate::lesson::text::{Audience, resolve};
use crate::lesson::{Opens, StepKind};
use crate::text::duration;

use super::player::StepOutput;
use super::{Action, App, Command, Screen};

/// What a presenter needs of `app` now. Pure: the same state gives the same snapshot, so
/// the runtime publishes only when it differs from the last one.
pub fn snapshot(app: &App) -> Snapshot {
    Snapshot {
        presenting: app.presenting,
        screen: lab_screen(app.screen),
        database: app.database.clone(),
        lesson: lesson(app),
        notice: app.notice.clone(),
    }
}

fn lab_screen(screen: Screen) -> LabScreen {
    match screen {
        Screen::Lessons => LabScreen::LessonList,
        Screen::Player => LabScreen::Lesson,
        Screen::Console => LabScreen::Console,
        Screen::Plan => LabScreen::Plan,
        Screen::Audit => LabScreen::Audit,
        Screen::Schema => LabScreen::Schema,
        Screen::Tables => LabScreen::Tables,
    }
}

fn lesson(app: &App) -> Option<LessonSnapshot> {
    let player = app.player.as_ref()?;
    let lesson = &app.catalog.lessons[player.lesson];
    let step = lesson.steps.get(player.step)?;
    let next = lesson.steps.get(player.step + 1);
    let next_key = match (&step.kind, next) {
        (StepKind::Diagram { layers }, _) if player.layers < layers.len() => {
            format!("reveal layer {} of {}", player.layers + 1, layers.len())
        }
        (_, Some(next)) => format!("next step: {}", next.title),
        (_, None) => "last step".into(),
    };
    let output = player.outputs.get(&player.step);
    let enter_key = app
        .player_offers(&Action::Activate)
        .then(|| enter_does(&step.kind, step.opens.as_ref(), output))
        .flatten();
    Some(LessonSnapshot {
        id: lesson.id.clone(),
        number: lesson.diagram,
        title: lesson.title.clone(),
        minutes: lesson.minutes,
        step: player.step + 1,
        steps: lesson.steps.len(),
        step_title: step.title.clone(),
        notes: step
            .notes
            .as_deref()
            .map(|notes| resolve(notes, Audience::Lab)),
        next_title: next.map(|n| n.title.clone()),
        next_key,
        enter_key,
        running: player.waiting.is_some_and(|w| w.step == player.step),
        round_trips: output.and_then(round_trips),
    })
}

/// What Enter does on a step: a demo says how long it took when this lab ran it before.
fn enter_does(
    kind: &StepKind,
    opens: Option<&Opens>,
    output: Option<&StepOutput>,
) -> Option<String> {
    match (opens, kind) {
        (Some(Opens::Schema), _) => Some("open the schema map".into()),
        (Some(Opens::Tables(_)), _) => Some("open the tables view".into()),
        (None, StepKind::Run { .. }) => Some("run the SQL".into()),
        (None, StepKind::Exercise(_)) => Some("open the exercise".into()),
        (None, StepKind::Demo { .. }) => Some(match output {
            Some(StepOutput::Demo {
                report: Some(Ok(report)),
                ..
            }) => format!("run the demo (took {} last time)", duration(report.wall)),
            _ => "run the demo".into(),
        }),
        (None, StepKind::Read | StepKind::Diagram { .. } | StepKind::Quiz(_)) => None,
    }
}

/// The round trips a step's last run measured.
fn round_trips(output: &StepOutput) -> Option<u64> {
    match output {
        StepOutput::Query { report, .. } | StepOutput::Graded { report, .. } => {
            report.as_ref().map(|r| r.totals.round_trips)
        }
        StepOutput::Demo {
            report: Some(Ok(report)),
            ..
        } => Some(report.round_trips),
        StepOutput::Demo { .. } => None,
    }
}

impl App {
    /// A key a presenter pressed in `pglab notes`: the player's, on the open lesson, which
    /// comes back to the screen if another one is up. Without an open lesson it is refused,
    /// saying so.
    pub(super) fn drive(&mut self, command: Drive) -> Vec<Command> {
        if self.player.is_none() {
            self.notice = Some(format!(
                "The presenter view pressed a key, but no lesson is open: {} opens one.",
                keymap::key_for(Context::LessonList, &Action::Open)
            ));
            return Vec::new();
        }
        self.notice = None;
        self.help = false;
        self.log_focused = false;
        self.log.opened = None;
        self.screen = Screen::Player;
        self.update_player(match command {
            Drive::Next => Action::NextStep,
            Drive::Previous => Action::PrevStep,
            Drive::Activate => Action::Activate,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::app::Event;
    use crate::app::player::PlayerState;
    use crate::data::demo::DemoReport;
    use crate::lesson::{Catalog, Lesson, Progress, Source, Step};

    fn app() -> App {
        let diagram = StepKind::Diagram {
            layers: vec!["a".into(), "b".into(), "c".into(), "d".into()],
        };
        let demo = StepKind::Demo {
            name: "n_plus_one.lazy".into(),
            params: toml::Table::new(),
        };
        let lesson = Lesson {
            id: "n-plus-one".into(),
            dir: "lessons/08-n-plus-one".into(),
            diagram: 8,
            minutes: 15,
            title: "The N+1 problem".into(),
            summary: String::new(),
            steps: vec![
                Step {
                    notes: Some("Stop on the {key:player.next_step} press.".into()),
                    ..Step::bare("What the loop sends", diagram)
                },
                Step::bare("The loop, live", demo),
            ],
        };
        let catalog = Arc::new(Catalog {
            source: Source::Embedded(&[]),
            lessons: vec![lesson],
        });
        App::new(catalog, Progress::default(), "test".into())
    }

    #[test]
    fn a_diagram_step_says_which_layer_the_next_press_reveals() {
        let mut app = app();
        app.update(Action::Open);
        app.update(Action::NextStep);
        let lesson = snapshot(&app).lesson.expect("a lesson is open");
        assert_eq!(lesson.next_key, "reveal layer 3 of 4");
        app.player = Some(PlayerState::new(0, 0));
        let lesson = snapshot(&app).lesson.expect("a lesson is open");
        assert_eq!(lesson.next_key, "reveal layer 2 of 4");
        assert_eq!(
            (lesson.number, lesson.minutes, lesson.step, lesson.steps),
            (8, 15, 1, 2)
        );
        assert_eq!(lesson.step_title, "What the loop sends");
        assert_eq!(lesson.next_title.as_deref(), Some("The loop, live"));
        assert_eq!(lesson.enter_key, None, "a diagram has nothing to run");
        // Keys in notes are named as the lab binds them.
        assert_eq!(lesson.notes.as_deref(), Some("Stop on the `→` press."));
    }

    #[test]
    fn a_demo_step_says_how_long_it_took_only_once_measured() {
        let mut app = app();
        app.update(Action::Open);
        for _ in 0..4 {
            app.apply(Event::Drive(Drive::Next));
        }
        let lesson = snapshot(&app).lesson.expect("a lesson is open");
        assert_eq!((lesson.step, lesson.next_key.as_str()), (2, "last step"));
        assert_eq!(lesson.enter_key.as_deref(), Some("run the demo"));
        let Some(Command::RunDemo { id, .. }) = app.apply(Event::Drive(Drive::Activate)).pop()
        else {
            panic!("Enter from the presenter view runs the demo");
        };
        assert!(snapshot(&app).lesson.is_some_and(|l| l.running));
        let report = DemoReport {
            round_trips: 11,
            wall: std::time::Duration::from_millis(1250),
            ..DemoReport::default()
        };
        app.apply(Event::DemoFinished {
            id,
            result: Ok(report),
        });
        let lesson = snapshot(&app).lesson.expect("a lesson is open");
        assert_eq!(
            lesson.enter_key.as_deref(),
            Some("run the demo (took 1.25 s last time)")
        );
        assert_eq!((lesson.running, lesson.round_trips), (false, Some(11)));
    }

    #[test]
    fn driving_brings_the_lesson_back_and_is_refused_without_one() {
        let mut app = app();
        app.apply(Event::Drive(Drive::Next));
        assert_eq!(app.screen, Screen::Lessons);
        assert!(
            snapshot(&app)
                .notice
                .is_some_and(|n| n.contains("no lesson is open"))
        );
        app.update(Action::Open);
        app.update(Action::ShowConsole);
        assert_eq!(snapshot(&app).screen, LabScreen::Console);
        app.apply(Event::Drive(Drive::Next));
        assert_eq!(app.screen, Screen::Player);
        assert_eq!(app.player.as_ref().map(|p| p.layers), Some(2));
    }
}
