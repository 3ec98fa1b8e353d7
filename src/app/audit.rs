//! The audit timeline's state and its part of [`App::update`] / [`App::apply`]: the events
//! shown (newest first), the filter, the selection, and what arrives live. Reading the log
//! is the runtime's: the app asks with [`Command::LoadAudit`] and takes the answer as
//! [`Event::AuditLoaded`]; changes committed later come as [`Event::AuditArrived`].
//!
//! A room watches this screen live, so it follows the newest event while the selection is
//! on it, and holds still otherwise: events arriving above a selection the user moved stay
//! above it, counted in the title, until the user goes back to the newest.

use chrono::TimeDelta;
use ratatui_textarea::TextArea;

use crate::audit::AuditEvent;
use crate::audit::filter::{Filter, Window};
use crate::audit::rules::{self, ActorOrgs, Flag};

use super::{Action, App, Command, RequestId, Screen};

/// The most events kept; older ones fall off the end (the log itself keeps everything).
pub const CAPACITY: usize = 500;
/// The window key's cycle: all, the last hour, the last ten minutes.
pub const WINDOWS: [Option<TimeDelta>; 3] = [
    None,
    Some(TimeDelta::hours(1)),
    Some(TimeDelta::minutes(10)),
];

#[derive(Debug, Default)]
pub struct AuditState {
    /// Newest first (by id: the order the log wrote them), all matching `filter`.
    pub events: Vec<AuditEvent>,
    /// The flags of `events[i]`, recomputed whenever the events change (a burst depends on
    /// its neighbours).
    pub flags: Vec<Vec<Flag>>,
    /// Each known actor's organization, for the cross-tenant rule.
    pub actors: ActorOrgs,
    pub filter: Filter,
    /// Index into `events`; its block is drawn expanded, and the view keeps it on screen.
    pub selected: usize,
    /// Events that arrived above the selection while the user was away from the newest
    /// (the view counts those it cannot show).
    pub unseen: usize,
    /// The load the screen waits for; other answers are stale.
    pub loading: Option<RequestId>,
    /// Why the last load failed.
    pub error: Option<String>,
    /// The filter being typed, while the prompt is open: a one-line editor, which reads
    /// the keys itself (the model never looks at a key code).
    pub prompt: Option<TextArea<'static>>,
}

impl AuditState {
    /// On the newest event: new events take the selection.
    pub fn following(&self) -> bool {
        self.selected == 0
    }

    pub fn selected_event(&self) -> Option<&AuditEvent> {
        self.events.get(self.selected)
    }

    /// Merges `incoming` into the events (those the filter lets through, each id once),
    /// keeping the screen where it was unless it follows the newest.
    fn merge(&mut self, incoming: Vec<AuditEvent>) {
        let following = self.following();
        let selected_id = self.selected_event().map(|e| e.id);
        let before = self.events.len();
        for event in incoming {
            if self.filter.matches(&event) && self.events.iter().all(|e| e.id != event.id) {
                self.events.push(event);
            }
        }
        if self.events.len() == before {
            return;
        }
        self.events.sort_by_key(|e| std::cmp::Reverse(e.id));
        self.events.truncate(CAPACITY);
        self.flags = rules::flags(&self.events, &self.actors);
        let index_of =
            |id: Option<i64>| id.and_then(|id| self.events.iter().position(|e| e.id == id));
        if following {
            self.selected = 0;
            return;
        }
        let last = self.events.len().saturating_sub(1);
        let selected = index_of(selected_id).unwrap_or(last).min(last);
        self.unseen += selected.saturating_sub(self.selected);
        self.selected = selected;
    }

    /// Keeps only the events `filter` lets through (a narrower filter applies at once; the
    /// reload fills in what a wider one adds).
    fn narrow(&mut self) {
        let filter = &self.filter;
        self.events.retain(|e| filter.matches(e));
        self.flags = rules::flags(&self.events, &self.actors);
        self.selected = 0;
        self.unseen = 0;
    }

    /// Moves the selection to `index` (clamped); events above it that it passes are seen.
    fn select(&mut self, index: usize) {
        self.selected = index.min(self.events.len().saturating_sub(1));
        self.unseen = self.unseen.min(self.selected);
    }
}

impl App {
    /// F7: the timeline, read afresh from the log.
    pub(super) fn show_audit(&mut self) -> Vec<Command> {
        if self.screen != Screen::Audit {
            self.audit_return = self.screen;
        }
        self.screen = Screen::Audit;
        self.log_focused = false;
        vec![self.load_audit()]
    }

    fn load_audit(&mut self) -> Command {
        let id = self.request_id();
        self.audit.loading = Some(id);
        Command::LoadAudit {
            id,
            filter: self.audit.filter.clone(),
        }
    }

    pub(super) fn update_audit(&mut self, action: Action) -> Vec<Command> {
        if self.audit.prompt.is_some() {
            return self.update_prompt(action);
        }
        // A page: about as many events as the pane shows collapsed (a header, the
        // changed columns and a spare line each); the view keeps the selection on screen.
        let pane = crate::layout::inner(self.areas().main);
        let page = usize::from(pane.height / 3).max(1);
        let state = &mut self.audit;
        match action {
            Action::Back => self.screen = self.audit_return,
            Action::Up => state.select(state.selected.saturating_sub(1)),
            Action::Down => state.select(state.selected + 1),
            Action::PageUp => state.select(state.selected.saturating_sub(page)),
            Action::PageDown => state.select(state.selected + page),
            Action::End => state.select(0),
            Action::FilterRecord | Action::FilterActor | Action::FilterTable => {
                return self.filter_by_selected(&action);
            }
            Action::CycleWindow => {
                let now = WINDOWS
                    .iter()
                    .position(|w| *w == state.filter.window.map(|w| w.0))
                    .unwrap_or(0);
                state.filter.window = WINDOWS[(now + 1) % WINDOWS.len()].map(Window);
                return self.refilter();
            }
            Action::EditFilter => {
                let typed = state.filter.clone();
                // The prompt starts from the filter in force, as it would be typed.
                let mut prompt = TextArea::default();
                if !typed.is_empty() {
                    prompt.insert_str(format!("{typed} "));
                }
                state.prompt = Some(prompt);
            }
            Action::ClearFilter if !state.filter.is_empty() => {
                state.filter = Filter::default();
                return self.refilter();
            }
            _ => {}
        }
        Vec::new()
    }

    /// Keys while the filter prompt is open: text, Enter applies, Esc leaves it unchanged.
    fn update_prompt(&mut self, action: Action) -> Vec<Command> {
        let Some(prompt) = self.audit.prompt.as_mut() else {
            return Vec::new();
        };
        match action {
            // Enter never reaches the editor (it applies the filter), so it stays one line.
            Action::Edit(key) => {
                prompt.input(key);
            }
            // A filter is one line: pasted line breaks become spaces between words.
            Action::Paste(text) => {
                prompt.insert_str(text.replace(['\r', '\n'], " "));
            }
            Action::Back => self.audit.prompt = None,
            Action::Activate => match Filter::parse(&prompt.lines().concat()) {
                Ok(filter) => {
                    self.audit.prompt = None;
                    self.audit.filter = filter;
                    return self.refilter();
                }
                Err(error) => self.notice = Some(format!("✗ {error}")),
            },
            _ => {}
        }
        Vec::new()
    }

    /// r / a / t: narrow to the selected event's row, actor or table; the same key again
    /// lets go of that part of the filter.
    fn filter_by_selected(&mut self, action: &Action) -> Vec<Command> {
        let Some(event) = self.audit.selected_event().cloned() else {
            self.notice = Some("No event selected to filter by.".into());
            return Vec::new();
        };
        let filter = &mut self.audit.filter;
        match action {
            Action::FilterRecord => {
                toggle(&mut filter.record, (event.table, event.record_id));
            }
            Action::FilterTable => toggle(&mut filter.table, event.table),
            _ => match (event.actor_id, &event.system_actor) {
                (Some(actor), _) => toggle(&mut filter.actor, actor),
                (None, Some(system)) => {
                    self.notice = Some(format!("{system} is not a user: no user to filter by."));
                    return Vec::new();
                }
                (None, None) => {
                    self.notice = Some(
                        "This change has no application user: it was made outside the application."
                            .into(),
                    );
                    return Vec::new();
                }
            },
        }
        self.refilter()
    }

    fn refilter(&mut self) -> Vec<Command> {
        self.audit.narrow();
        vec![self.load_audit()]
    }

    /// The log's answer to [`Command::LoadAudit`] `id`; stale answers are dropped. Events
    /// that arrived live while it was being read are kept.
    pub(super) fn audit_loaded(
        &mut self,
        id: RequestId,
        events: Vec<AuditEvent>,
        actors: ActorOrgs,
    ) {
        if self.audit.loading != Some(id) {
            return;
        }
        let state = &mut self.audit;
        state.loading = None;
        state.error = None;
        state.actors = actors;
        let newest = events.iter().map(|e| e.id).max().unwrap_or(i64::MIN);
        state.events.retain(|e| e.id > newest);
        state.selected = 0;
        state.unseen = 0;
        state.merge(events);
        state.flags = rules::flags(&state.events, &state.actors);
    }

    /// Events committed after the screen read the log (the `pglab_audit` notifications).
    pub(super) fn audit_arrived(&mut self, events: Vec<AuditEvent>) {
        self.audit.merge(events);
    }

    /// The load the screen waits for could not run: the screen says why.
    pub(super) fn audit_failed(&mut self, message: String) {
        self.audit.loading = None;
        self.audit.error = Some(message);
    }

    pub(super) fn scroll_audit(&mut self, lines: i16) {
        let state = &mut self.audit;
        state.select(state.selected.saturating_add_signed(lines.into()));
    }
}

/// Sets `slot` to `value`, or clears it when it already holds `value`.
fn toggle<T: PartialEq>(slot: &mut Option<T>, value: T) {
    *slot = if slot.as_ref() == Some(&value) {
        None
    } else {
        Some(value)
    };
}
