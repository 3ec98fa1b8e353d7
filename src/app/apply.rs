//! [`App::apply`]: folding what happened outside — proxy traffic, finished requests — into
//! the state. Results for requests nobody waits for any more are dropped.

use crate::data::demo::{DemoFailure, DemoReport};
use crate::data::grading::Gathered;
use crate::lesson::{StepKind, judge};

use super::console::ConsoleResult;
use super::event::{Event, Ran};
use super::player::{Focus, StepOutput, failure_text, report_in_lesson};
use super::{App, Command, RequestId};
use crate::query_log::ScopeReport;
use crate::scroll::Jump;

impl App {
    /// Takes in one fact from outside.
    pub fn apply(&mut self, event: Event) -> Vec<Command> {
        // Output for the step on screen is brought into view (a running demo's newest
        // line, a finished result from its first line); output for a step the learner has
        // moved away from waits there.
        let jump = match &event {
            Event::DemoProgressed { id, .. } => Some((*id, Jump::Bottom)),
            Event::Executed { id, .. } | Event::DemoFinished { id, .. } => {
                Some((*id, Jump::Show(Focus::Output)))
            }
            _ => None,
        };
        let on_screen = jump.filter(|(id, _)| {
            self.player
                .as_ref()
                .is_some_and(|p| p.waiting.is_some_and(|w| w.id == *id && w.step == p.step))
        });
        let refresh = self.changes_tables(&event);
        let mut commands = self.fold(event);
        if refresh {
            commands.extend(self.refresh_tables());
        }
        if let Some((_, jump)) = on_screen
            && let Some(player) = self.player.as_mut()
        {
            player.scroll.jump(jump);
        }
        commands
    }

    fn fold(&mut self, event: Event) -> Vec<Command> {
        match event {
            Event::Proxy(event) => {
                self.log.record(event);
            }
            Event::LabReady { database, facts } => {
                self.database = database;
                if let Some(facts) = facts {
                    self.log.log.set_facts(facts);
                }
                return self.load_users();
            }
            Event::LabFailed(message) => {
                self.database = "no database".into();
                // Nobody to act as on a database that is not there.
                self.acting = super::acting::ActingState::default();
                self.lab_error = Some(message);
            }
            Event::Quiet => {
                self.log.finish_bursts(None);
            }
            Event::ConsoleReady => {
                self.console.ready = true;
                self.console.notice = None;
            }
            Event::Executed { id, result } => self.executed(id, result),
            Event::Explained { id, result } => self.explained(id, result),
            Event::DemoProgressed { id, progress } => {
                if let Some(StepOutput::Demo {
                    progress: shown, ..
                }) = self.waiting_output(id)
                {
                    shown.push(progress);
                }
            }
            Event::DemoFinished { id, result } => {
                let result = self.in_lesson(result);
                if let Some(StepOutput::Demo { report, .. }) = self.waiting_output(id) {
                    *report = Some(result);
                }
                self.stop_waiting(id);
            }
            Event::ExerciseRan { id, gathered } => return self.exercise_ran(id, gathered),
            Event::AuditLoaded { id, events, actors } => self.audit_loaded(id, events, actors),
            Event::AuditArrived(events) => self.audit_arrived(events),
            Event::SchemaLoaded { id, map } => self.schema_loaded(id, map),
            Event::TablesLoaded { id, snapshot } => return self.tables_loaded(id, snapshot),
            Event::UsersLoaded { id, users } => self.users_loaded(id, users),
            Event::Failed { id, message } if self.acting.loading == Some(id) => {
                self.users_failed(message);
            }
            Event::Failed { id, message } if self.schema.loading == Some(id) => {
                self.schema_failed(message);
            }
            Event::Failed { id, message } if self.tables.loading == Some(id) => {
                self.tables_failed(message);
            }
            Event::Failed { id, message } if self.audit.loading == Some(id) => {
                self.audit_failed(message);
            }
            Event::Failed { id, message } => {
                if self.console.running == Some(id) {
                    self.console.running = None;
                    self.console.scope = None;
                    self.console.ready = false;
                    self.console.notice = Some(message);
                } else if let Some(StepOutput::Demo { report, .. }) = self.waiting_output(id) {
                    *report = Some(Err(message));
                    self.stop_waiting(id);
                } else if self.player_waits_for(id) {
                    self.notice = Some(message);
                    self.stop_waiting(id);
                }
            }
            Event::ProgressNotSaved(message) => self.notice = Some(message),
            Event::NotesViewAttached(attached) => {
                self.notes_view_attached = attached;
                self.hide_notes_shown_elsewhere();
            }
            Event::Drive(command) => return self.drive(command),
        }
        Vec::new()
    }

    /// A demo's outcome in the open lesson's words: other steps it names, by number and
    /// title.
    fn in_lesson(&self, result: Result<DemoReport, DemoFailure>) -> Result<DemoReport, String> {
        let lesson = self
            .player
            .as_ref()
            .map(|p| &self.catalog.lessons[p.lesson]);
        match (result, lesson) {
            (Ok(report), Some(lesson)) => Ok(report_in_lesson(report, lesson)),
            (Ok(report), None) => Ok(report),
            (Err(failure), Some(lesson)) => Err(failure_text(&failure, lesson)),
            (Err(failure), None) => Err(failure.message),
        }
    }

    fn player_waits_for(&self, id: RequestId) -> bool {
        self.player
            .as_ref()
            .and_then(|p| p.waiting)
            .is_some_and(|w| w.id == id)
    }

    /// The output of the step waiting for `id`.
    fn waiting_output(&mut self, id: RequestId) -> Option<&mut StepOutput> {
        let player = self.player.as_mut()?;
        let waiting = player.waiting.filter(|w| w.id == id)?;
        player.outputs.get_mut(&waiting.step)
    }

    fn stop_waiting(&mut self, id: RequestId) {
        if let Some(player) = self.player.as_mut()
            && player.waiting.is_some_and(|w| w.id == id)
        {
            if let Some(scope) = player.waiting.and_then(|w| w.scope) {
                self.log.log.close_scope(scope);
            }
            player.waiting = None;
        }
    }

    /// Ends the console's request `id` if it is the one running: the statement that ran and
    /// what the proxy counted for it. `None` for any other (stale) id.
    fn finish_console(&mut self, id: RequestId) -> Option<(String, Option<ScopeReport>)> {
        if self.console.running != Some(id) {
            return None;
        }
        self.console.running = None;
        let report = self
            .console
            .scope
            .take()
            .and_then(|s| self.log.log.close_scope(s));
        Some((std::mem::take(&mut self.console.running_sql), report))
    }

    fn explained(
        &mut self,
        id: RequestId,
        result: Result<Box<super::event::Explained>, crate::data::ServerError>,
    ) {
        let Some((sql, report)) = self.finish_console(id) else {
            return;
        };
        match result {
            Ok(explained) => {
                let replaced = self.plan.take();
                self.plan = Some(super::plan::PlanState::new(sql, explained, replaced));
                self.screen = super::Screen::Plan;
            }
            // The server's error shows in the console, caret and all.
            Err(failure) => {
                self.console.result = Some(ConsoleResult::new(sql, Err(failure), report))
            }
        }
    }

    fn executed(&mut self, id: RequestId, ran: Ran) {
        if let Some((sql, report)) = self.finish_console(id) {
            self.console.notice = None;
            self.console.result = Some(ConsoleResult::new(sql, ran, report));
            return;
        }
        let Some(player) = self.player.as_mut() else {
            return;
        };
        let Some(waiting) = player.waiting.filter(|w| w.id == id) else {
            return;
        };
        let report = waiting.scope.and_then(|s| self.log.log.close_scope(s));
        player
            .outputs
            .insert(waiting.step, StepOutput::Query { ran, report });
        player.waiting = None;
    }

    fn exercise_ran(&mut self, id: RequestId, gathered: Gathered) -> Vec<Command> {
        let Some((sql, report)) = self.finish_console(id) else {
            return Vec::new();
        };
        let Some(target) = self.console.exercise.clone() else {
            self.console.result = Some(ConsoleResult::new(sql, gathered.ran, report));
            return Vec::new();
        };
        let lesson = &self.catalog.lessons[target.lesson];
        let StepKind::Exercise(exercise) = &lesson.steps[target.step].kind else {
            return Vec::new();
        };
        let verdict = judge(&exercise.check, &gathered, report.as_ref());
        let passed = verdict.as_ref().is_ok_and(|v| v.passed());
        let lesson_id = lesson.id.clone();
        if let Some(player) = self.player.as_mut().filter(|p| p.lesson == target.lesson) {
            player.outputs.insert(
                target.step,
                StepOutput::Graded {
                    verdict,
                    report: report.clone(),
                },
            );
        }
        self.console.result = Some(ConsoleResult::new(sql, gathered.ran, report));
        if passed {
            self.progress.mark_passed(&lesson_id, target.step);
            return vec![self.save()];
        }
        Vec::new()
    }
}
