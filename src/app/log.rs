//! The query log as the lab shows it: the recorder's entries and warnings in arrival order,
//! where the view is scrolled to, which session is the console's and which round trip is
//! opened in full; and the log's part of [`App::update`] while it has the keys.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::data::proxy::{self, SessionId};
use crate::query_log::{Entry, QueryLog, Warning};
use crate::sql::lint::TableFacts;

use super::{Action, App};

/// Warnings kept for display (each also sits in its entry or in the scope that saw it).
const NOTICES_KEPT: usize = 1_000;

/// A line of the log: a round trip, or a notice that came after the round trip `after`.
#[derive(Debug, Clone)]
pub enum Line {
    RoundTrip(Arc<Entry>),
    Notice { after: u64, notice: Notice },
}

/// What the log says between round trips.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// A lint or N+1 warning not attached to one entry.
    Warning(Warning),
    /// The server dropped the console's connection (a restart, a crash): its words, if any.
    ConsoleLost(Option<String>),
    /// The console connected again, served by this server process.
    ConsoleReconnected { backend_pid: Option<i32> },
}

#[derive(Debug)]
pub struct LogView {
    pub log: QueryLog,
    /// Notices not attached to an entry (a burst's N+1 is only known when it ends; a lost
    /// connection is not a round trip).
    notices: VecDeque<(u64, Notice)>,
    /// Lines scrolled back from the newest; 0 follows new traffic.
    pub offset: usize,
    /// The console connection's session, once the proxy has seen it start.
    pub console_session: Option<SessionId>,
    /// The round trip opened in full (its whole SQL), over the other panes.
    pub opened: Option<Arc<Entry>>,
    last_seq: u64,
}

/// The `application_name` the console connection announces itself with.
pub const CONSOLE_APPLICATION: &str = "pglab console";

impl LogView {
    pub fn new(capacity: usize) -> Self {
        Self {
            log: QueryLog::new(capacity, TableFacts::default()),
            notices: VecDeque::new(),
            offset: 0,
            console_session: None,
            opened: None,
            last_seq: 0,
        }
    }

    /// Records a proxy event; returns the warnings it raised.
    pub fn record(&mut self, event: proxy::ProxyEvent) -> Vec<Warning> {
        let connection = self.console_connection(&event);
        let (entry, warnings) = self.log.record(event);
        if let Some(entry) = entry {
            // Warnings about a burst this entry ended go after the burst, before the entry;
            // an entry's own warnings are drawn beneath it.
            self.push_notices(entry.earlier.iter().cloned());
            self.last_seq = entry.seq;
            if self.offset > 0 {
                // Keep the lines the reader is looking at still.
                self.offset += 1 + entry.warnings.len();
            }
        } else {
            self.push_notices(warnings.iter().cloned());
        }
        self.push(connection);
        warnings
    }

    /// What `event` says about the console's connection, for the log to show: the server
    /// dropping it, or a new one replacing it.
    fn console_connection(&mut self, event: &proxy::ProxyEvent) -> Option<Notice> {
        match event {
            proxy::ProxyEvent::SessionStarted { session, .. }
                if session.application_name == CONSOLE_APPLICATION =>
            {
                // A new console session replaces one the server dropped: a statement waiting
                // to be counted runs again on it, so its count moves there too.
                let old = self.console_session.replace(session.id)?;
                self.log.follow(old, session.id);
                Some(Notice::ConsoleReconnected {
                    backend_pid: session.backend_pid,
                })
            }
            proxy::ProxyEvent::SessionEnded { session, end }
                if Some(*session) == self.console_session =>
            {
                match end {
                    proxy::SessionEnd::ClientClosed => None,
                    proxy::SessionEnd::ServerClosed { error } => Some(Notice::ConsoleLost(
                        error
                            .as_ref()
                            .map(|e| format!("{} ({})", e.message, e.sqlstate)),
                    )),
                    proxy::SessionEnd::Failed(why) => Some(Notice::ConsoleLost(Some(why.clone()))),
                }
            }
            _ => None,
        }
    }

    /// Ends open N+1 bursts (the log went quiet, or a step ended) and shows their warnings.
    pub fn finish_bursts(&mut self, session: Option<SessionId>) -> Vec<Warning> {
        let warnings = self.log.finish_bursts(session);
        self.push_notices(warnings.iter().cloned());
        warnings
    }

    fn push_notices(&mut self, warnings: impl Iterator<Item = Warning>) {
        for warning in warnings {
            self.push(Some(Notice::Warning(warning)));
        }
    }

    fn push(&mut self, notice: Option<Notice>) {
        let Some(notice) = notice else { return };
        if self.notices.len() == NOTICES_KEPT {
            self.notices.pop_front();
        }
        self.notices.push_back((self.last_seq, notice));
        if self.offset > 0 {
            self.offset += 1;
        }
    }

    pub fn clear(&mut self) {
        let facts = self.log.facts().clone();
        let console = self.console_session;
        *self = Self::new(self.log.capacity());
        self.log.set_facts(facts);
        self.console_session = console;
    }

    /// The last `height` lines ending `offset` lines before the newest, oldest first:
    /// only what fits on screen is gathered, however long the log.
    pub fn visible(&self, height: usize) -> Vec<Line> {
        let mut lines = Vec::with_capacity(height);
        let mut skip = self.offset;
        // Walking back from the newest line: skip the ones scrolled past, keep `height`;
        // says when the screen is full, so the walk stops there.
        let mut push = |line: Line| {
            if skip > 0 {
                skip -= 1;
            } else if lines.len() < height {
                lines.push(line);
            }
            lines.len() == height
        };
        let line = |after: u64, notice: &Notice| Line::Notice {
            after,
            notice: notice.clone(),
        };
        let mut notices = self.notices.iter().rev().peekable();
        for entry in self.log.entries().rev() {
            // Notices raised after this entry come after it, i.e. before it when walking back.
            while let Some((after, notice)) = notices.next_if(|(after, _)| *after >= entry.seq) {
                push(line(*after, notice));
            }
            for warning in entry.warnings.iter().rev() {
                push(line(entry.seq, &Notice::Warning(warning.clone())));
            }
            if push(Line::RoundTrip(entry.clone())) {
                break;
            }
        }
        for (after, notice) in notices {
            if push(line(*after, notice)) {
                break;
            }
        }
        lines.reverse();
        lines
    }

    /// The round trip of the log's bottom line as scrolled (a warning's line counts as the
    /// round trip it follows): the one the view marks and Enter opens.
    pub fn marked(&self) -> Option<Arc<Entry>> {
        match self.visible(1).pop()? {
            Line::RoundTrip(entry) => Some(entry),
            Line::Notice { after, .. } => self.log.entries().find(|e| e.seq == after).cloned(),
        }
    }

    /// Scrolls towards older lines (`delta` > 0) or newer ones.
    pub fn scroll(&mut self, delta: isize) {
        let total = self
            .log
            .entries()
            .map(|entry| 1 + entry.warnings.len())
            .sum::<usize>()
            + self.notices.len();
        self.offset = self
            .offset
            .saturating_add_signed(delta)
            .min(total.saturating_sub(1));
    }
}

/// The query log's part of [`App::update`], while it has the keys.
impl App {
    pub(super) fn update_log(&mut self, action: Action) {
        let page = self.log_page();
        match action {
            Action::Up => self.log.scroll(1),
            Action::Down => self.log.scroll(-1),
            Action::PageUp => self.log.scroll(page),
            Action::PageDown => self.log.scroll(-page),
            Action::End => self.log.offset = 0,
            Action::Activate if self.log.opened.is_some() => self.log.opened = None,
            Action::Activate => {
                self.log.opened = self.log.marked();
                if self.log.opened.is_none() {
                    self.notice = Some("No round trip to open yet.".into());
                }
            }
            _ => {}
        }
    }

    fn log_page(&self) -> isize {
        let area = self.areas();
        area.log.height.saturating_sub(2).max(1) as isize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::proxy::{ProxyEvent, SessionEnd, SessionInfo};
    use std::time::Duration;

    fn console_started(id: u64, pid: i32) -> ProxyEvent {
        ProxyEvent::SessionStarted {
            session: Arc::new(SessionInfo {
                id,
                client: ([127, 0, 0, 1], 5000).into(),
                user: "pglab_learner".into(),
                database: "pglab".into(),
                application_name: CONSOLE_APPLICATION.into(),
                backend_pid: Some(pid),
            }),
            startup_round_trips: 3,
            startup: Duration::from_millis(1),
        }
    }

    fn notices(view: &LogView) -> Vec<Notice> {
        view.visible(10)
            .into_iter()
            .filter_map(|line| match line {
                Line::Notice { notice, .. } => Some(notice),
                Line::RoundTrip(_) => None,
            })
            .collect()
    }

    #[test]
    fn a_console_connection_the_server_dropped_and_its_replacement_are_told() {
        let mut view = LogView::new(100);
        view.record(console_started(1, 100));
        assert!(notices(&view).is_empty(), "the first connection is no news");
        view.record(ProxyEvent::SessionEnded {
            session: 1,
            end: SessionEnd::ServerClosed { error: None },
        });
        view.record(console_started(2, 200));
        assert_eq!(
            notices(&view),
            vec![
                Notice::ConsoleLost(None),
                Notice::ConsoleReconnected {
                    backend_pid: Some(200)
                }
            ]
        );
        // The console closing its own connection (the lab quitting) is not a loss.
        view.record(ProxyEvent::SessionEnded {
            session: 2,
            end: SessionEnd::ClientClosed,
        });
        assert_eq!(notices(&view).len(), 2);
    }
}
