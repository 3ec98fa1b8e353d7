//! The lesson player's state: which lesson and step, how much of a diagram is revealed,
//! the scroll position, and what each step produced when it ran (kept while the lesson is
//! open, so stepping back shows the numbers again).

use std::collections::HashMap;

use crate::data::demo::{DemoFailure, DemoProgress, DemoReport};
use crate::keymap::{self, Context};
use crate::lesson::Verdict;
use crate::lesson::{Lesson, StepKind};
use crate::query_log::{ScopeId, ScopeReport};
use crate::scroll::{Jump, Scroll};

use super::command::{Command, RequestId};
use super::console::ExerciseTarget;
use super::event::Ran;
use super::{Action, App, Screen};

/// Columns one sideways key press moves the lesson's diagrams and tables.
const SIDEWAYS_STEP: i64 = 8;

/// What a step showed after it ran.
#[derive(Debug)]
pub enum StepOutput {
    /// A run step's statement and what the proxy counted for it.
    Query {
        ran: Ran,
        report: Option<ScopeReport>,
    },
    /// A demo: progress as it arrives, then its report (or why it failed).
    Demo {
        progress: Vec<DemoProgress>,
        report: Option<Result<DemoReport, String>>,
    },
    /// An exercise answer: the grade, or the error the answer ran into.
    Graded {
        verdict: Result<Verdict, String>,
        report: Option<ScopeReport>,
    },
}

/// How a demo's failure reads inside `lesson`: when another step must run first, that step by
/// its number and title (`step 3, "Build big_users"`), never a demo's internal name.
pub fn failure_text(failure: &DemoFailure, lesson: &Lesson) -> String {
    match &failure.run_first {
        Some(first) => match step_running(lesson, first.demo) {
            Some(step) => format!(
                "{}: {step} builds {}; run that step first, then this one.",
                first.cause, first.builds
            ),
            None => failure.message.clone(),
        },
        None => failure.message.clone(),
    }
}

/// A demo's report as `lesson` shows it: each `{step:DEMO}` in its lines becomes the step
/// running DEMO, by number and title ("a later step" if the lesson has none).
pub fn report_in_lesson(mut report: DemoReport, lesson: &Lesson) -> DemoReport {
    for line in &mut report.lines {
        while let Some(start) = line.find("{step:") {
            let Some(length) = line[start..].find('}') else {
                break;
            };
            let demo = &line[start + "{step:".len()..start + length];
            let step = step_running(lesson, demo).unwrap_or_else(|| "a later step".into());
            line.replace_range(start..=start + length, &step);
        }
    }
    report
}

/// `step 17, "What indexes cost on every write",` for the first step of `lesson` that runs
/// `demo`.
fn step_running(lesson: &Lesson, demo: &str) -> Option<String> {
    let (index, step) = lesson
        .steps
        .iter()
        .enumerate()
        .find(|(_, step)| matches!(&step.kind, StepKind::Demo { name, .. } if name == demo))?;
    Some(format!(
        "step {}, \u{201c}{}\u{201d},",
        index + 1,
        step.title
    ))
}

/// A part of a step the lesson pane can bring into view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The step's title and prose (the Markdown handout writes them from their source).
    Body,
    /// Diagram layer `n` (0-based), with the line that says what comes next.
    Layer(usize),
    /// What running the step produced: its result, demo report or verdict.
    Output,
    Notes,
}

/// A request the player waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    pub id: RequestId,
    pub step: usize,
    pub scope: Option<ScopeId>,
    /// A demo (on connections of its own), not a run step's SQL (on the console's).
    pub demo: bool,
}

#[derive(Debug)]
pub struct PlayerState {
    /// Index into the catalogue's lessons.
    pub lesson: usize,
    pub step: usize,
    /// Diagram layers on screen (at least one).
    pub layers: usize,
    /// Where the lesson pane should be: moves and jumps the view resolves.
    pub scroll: Scroll<Focus>,
    /// Sideways scrolling of the pane's pre-formatted lines (diagrams, tables).
    pub sideways: Scroll<()>,
    pub notes: bool,
    pub outputs: HashMap<usize, StepOutput>,
    pub waiting: Option<Waiting>,
}

impl PlayerState {
    pub fn new(lesson: usize, step: usize) -> Self {
        Self {
            lesson,
            step,
            layers: 1,
            scroll: Scroll::default(),
            sideways: Scroll::default(),
            notes: false,
            outputs: HashMap::new(),
            waiting: None,
        }
    }

    /// Moves to `step`, starting it at its top with one diagram layer showing.
    pub fn go_to(&mut self, step: usize) {
        self.step = step;
        self.layers = 1;
        self.scroll.jump(Jump::Top);
        self.sideways.jump(Jump::Top);
    }
}

/// The player's part of [`App::update`].
impl App {
    pub(super) fn update_player(&mut self, action: Action) -> Vec<Command> {
        let Some(player) = self.player.as_mut() else {
            self.screen = Screen::Lessons;
            return Vec::new();
        };
        let lesson = &self.catalog.lessons[player.lesson];
        let Some(step) = lesson.steps.get(player.step) else {
            return Vec::new();
        };
        let last_step = lesson.steps.len().saturating_sub(1);
        match action {
            // Esc first stops a running demo, as the console's stops its statement.
            Action::Back if player.waiting.is_some_and(|w| w.demo) => {
                return self.stop_demo().into_iter().collect();
            }
            Action::Back => self.screen = Screen::Lessons,
            Action::Up => player.scroll.lines(-1),
            Action::Down => player.scroll.lines(1),
            Action::PageUp => player.scroll.pages(-1),
            Action::PageDown => player.scroll.pages(1),
            Action::Left => player.sideways.lines(-SIDEWAYS_STEP),
            Action::Right => player.sideways.lines(SIDEWAYS_STEP),
            Action::ToggleNotes if self.presenting && self.notes_view_attached => {
                self.notice = Some(super::presenting::NOTES_ELSEWHERE.to_string());
            }
            Action::ToggleNotes => {
                player.notes = !player.notes;
                if player.notes {
                    player.scroll.jump(Jump::Show(Focus::Notes));
                }
            }
            Action::NextStep => {
                if let StepKind::Diagram { layers } = &step.kind
                    && player.layers < layers.len()
                {
                    player.layers += 1;
                    player
                        .scroll
                        .jump(Jump::Show(Focus::Layer(player.layers - 1)));
                    self.pin_follows_reveal();
                } else if player.step < last_step {
                    let next = player.step + 1;
                    player.go_to(next);
                    let id = lesson.id.clone();
                    self.progress.set_step(&id, next);
                    return vec![self.save()];
                }
            }
            Action::PrevStep if player.step > 0 => {
                let previous = player.step - 1;
                player.go_to(previous);
                let id = lesson.id.clone();
                self.progress.set_step(&id, previous);
                return vec![self.save()];
            }
            Action::Activate => return self.activate_step(),
            Action::TogglePin => self.toggle_pin(),
            Action::RevealHint => {
                if let StepKind::Exercise(exercise) = &step.kind {
                    let (id, index) = (lesson.id.clone(), player.step);
                    let shown = self.progress.lesson(&id).hints_revealed(index);
                    if shown < exercise.hints.len() {
                        self.progress.reveal_hint(&id, index, exercise.hints.len());
                        return vec![self.save()];
                    }
                    let give_up = keymap::key_for(Context::Player, &Action::GiveUp);
                    self.notice = Some(format!(
                        "That was the last hint; {give_up} shows the solution."
                    ));
                }
            }
            Action::GiveUp => {
                if matches!(step.kind, StepKind::Exercise(_)) {
                    let (id, index) = (lesson.id.clone(), player.step);
                    self.progress.give_up(&id, index);
                    return vec![self.save()];
                }
            }
            Action::Answer(option) => {
                if let StepKind::Quiz(quiz) = &step.kind
                    && usize::from(option) < quiz.options.len()
                {
                    let (id, index) = (lesson.id.clone(), player.step);
                    player.scroll.jump(Jump::Show(Focus::Output));
                    self.progress.answer_quiz(&id, index, usize::from(option));
                    return vec![self.save()];
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// Whether `action` does something on the step on screen (the footer offers only
    /// those): Enter where there is something to run, → where there is more, ← after the first.
    pub(super) fn player_offers(&self, action: &Action) -> bool {
        let Some(player) = self.player.as_ref() else {
            return false;
        };
        let lesson = &self.catalog.lessons[player.lesson];
        let Some(step) = lesson.steps.get(player.step) else {
            return false;
        };
        match action {
            Action::Activate => {
                player.waiting.is_none()
                    && (step.opens.is_some()
                        || matches!(
                            step.kind,
                            StepKind::Run { .. } | StepKind::Demo { .. } | StepKind::Exercise(_)
                        ))
            }
            Action::NextStep => {
                player.step + 1 < lesson.steps.len()
                    || matches!(&step.kind, StepKind::Diagram { layers } if player.layers < layers.len())
            }
            Action::PrevStep => player.step > 0,
            _ => true,
        }
    }

    /// Stops the demo the player waits for, if one runs: its output says so, and the
    /// runtime is asked to end it (its server work included).
    pub(super) fn stop_demo(&mut self) -> Option<Command> {
        let player = self.player.as_mut()?;
        let waiting = player.waiting.filter(|w| w.demo)?;
        player.waiting = None;
        if let Some(StepOutput::Demo { report, .. }) = player.outputs.get_mut(&waiting.step) {
            *report = Some(Err(format!(
                "Stopped before it finished ({}). {} runs it again.",
                keymap::key_for(Context::Player, &Action::Back),
                keymap::key_for(Context::Player, &Action::Activate)
            )));
        }
        Some(Command::StopDemo(waiting.id))
    }

    pub(super) fn activate_step(&mut self) -> Vec<Command> {
        let is_run = self.player.as_ref().is_some_and(|p| {
            matches!(
                self.catalog.lessons[p.lesson]
                    .steps
                    .get(p.step)
                    .map(|s| &s.kind),
                Some(StepKind::Run { .. })
            )
        });
        if is_run && self.console.running.is_some() {
            self.notice = Some(format!(
                "A console statement is still running: {} in the console cancels it.",
                keymap::key_for(Context::Console, &Action::Back)
            ));
            return Vec::new();
        }
        if self.player.as_ref().is_some_and(|p| p.waiting.is_some()) {
            self.notice = Some(format!(
                "Still running: its numbers appear when it ends ({} stops a demo).",
                keymap::key_for(Context::Player, &Action::Back)
            ));
            return Vec::new();
        }
        let opens = self
            .player
            .as_ref()
            .and_then(|p| self.catalog.lessons[p.lesson].steps.get(p.step))
            .and_then(|step| step.opens.clone());
        match opens {
            Some(crate::lesson::Opens::Schema) => return self.show_schema(),
            Some(crate::lesson::Opens::Tables(names)) => return self.show_tables(&names),
            None => {}
        }
        let id = self.request_id();
        let console_session = self.log.console_session;
        let Some(player) = self.player.as_mut() else {
            return Vec::new();
        };
        let lesson = &self.catalog.lessons[player.lesson];
        let index = player.step;
        match &lesson.steps[index].kind {
            StepKind::Run { sql } => {
                let scope = self
                    .log
                    .log
                    .open_scope(&format!("step {}", index + 1), console_session);
                player.waiting = Some(Waiting {
                    id,
                    step: index,
                    scope: Some(scope),
                    demo: false,
                });
                player.outputs.remove(&index);
                player.scroll.jump(Jump::Show(Focus::Output));
                vec![Command::Execute {
                    id,
                    sql: sql.clone(),
                }]
            }
            StepKind::Demo { name, params } => {
                player.waiting = Some(Waiting {
                    id,
                    step: index,
                    scope: None,
                    demo: true,
                });
                player.outputs.insert(
                    index,
                    StepOutput::Demo {
                        progress: Vec::new(),
                        report: None,
                    },
                );
                player.scroll.jump(Jump::Show(Focus::Output));
                vec![Command::RunDemo {
                    id,
                    name: name.clone(),
                    params: params.clone(),
                    acting_as: self.acting.current().cloned(),
                }]
            }
            StepKind::Exercise(exercise) => {
                let target = ExerciseTarget {
                    lesson: player.lesson,
                    step: index,
                };
                if self.console.exercise.as_ref() != Some(&target) {
                    if self.console.exercise.is_none() {
                        self.console.own_text = Some(self.console.text());
                    }
                    self.console.set_text(&exercise.starter);
                    self.console.exercise = Some(target);
                    self.console.result = None;
                }
                self.show_console();
                Vec::new()
            }
            StepKind::Read | StepKind::Diagram { .. } | StepKind::Quiz(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::demo::RunFirst;
    use crate::lesson::Step;

    fn lesson() -> Lesson {
        let step = |title: &str, demo: &str| {
            Step::bare(
                title,
                StepKind::Demo {
                    name: demo.into(),
                    params: toml::Table::new(),
                },
            )
        };
        Lesson {
            id: "indexes".into(),
            dir: "lessons/09-indexes".into(),
            diagram: 9,
            minutes: 10,
            title: "Indexes".into(),
            summary: String::new(),
            steps: vec![
                step("Build big_users", "indexes.seed"),
                step("A lookup", "indexes.explain"),
                step("What indexes cost", "indexes.write_cost"),
            ],
        }
    }

    #[test]
    fn a_step_to_run_first_is_named_by_number_and_title() {
        let failure = DemoFailure {
            message: "relation \"big_users\" does not exist; an earlier step of this lesson \
                      builds big_users: run it first"
                .into(),
            run_first: Some(RunFirst {
                cause: "relation \"big_users\" does not exist".into(),
                builds: "big_users",
                demo: "indexes.seed",
            }),
        };
        assert_eq!(
            failure_text(&failure, &lesson()),
            "relation \"big_users\" does not exist: step 1, \u{201c}Build big_users\u{201d}, \
             builds big_users; run that step first, then this one."
        );
        let elsewhere = Lesson {
            steps: Vec::new(),
            ..lesson()
        };
        assert_eq!(failure_text(&failure, &elsewhere), failure.message);
    }

    #[test]
    fn report_lines_name_other_steps_by_number_and_title() {
        let report = DemoReport {
            lines: vec!["writes it too ({step:indexes.write_cost} measures that)".into()],
            ..DemoReport::default()
        };
        let shown = report_in_lesson(report.clone(), &lesson());
        assert_eq!(
            shown.lines,
            ["writes it too (step 3, \u{201c}What indexes cost\u{201d}, measures that)"]
        );
        let alone = Lesson {
            steps: Vec::new(),
            ..lesson()
        };
        assert_eq!(
            report_in_lesson(report, &alone).lines,
            ["writes it too (a later step measures that)"]
        );
    }
}
