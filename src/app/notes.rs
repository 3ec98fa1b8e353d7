//! The presenter view's state (`pglab notes`, a program of its own beside the lab): which
//! lab it follows, the last snapshot the lab published and when it arrived, how many labs
//! run on the data directory, and the time now. [`NotesState::update`] turns the
//! presenter's keys into [`NotesCommand`]s; [`NotesState::apply`] takes in what the channel
//! and the clock say. Pure, like the lab's app: the program reads the clocks and the socket.

use std::time::{Duration, Instant};

use crate::data::presenter::{Drive, FromLab, Hello, Published};

use super::Action;

/// What the presenter view must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotesCommand {
    /// Send this key to the lab.
    Drive(Drive),
    /// Follow the next lab on the data directory.
    FollowOther,
    Quit,
}

/// What happened to the presenter view.
#[derive(Debug, Clone)]
pub enum NotesEvent {
    /// Connected to a lab; its hello comes next.
    Connected,
    /// The lab sent a message; `at` is when it arrived.
    Received { message: FromLab, at: Instant },
    /// The lab went away.
    Disconnected,
    /// This many labs have sockets on the data directory.
    Labs(usize),
    /// The clock moved on: the monotonic `now` and the wall clock's time of day.
    Tick {
        now: Instant,
        clock: chrono::NaiveTime,
    },
}

/// The lab the view follows.
#[derive(Debug, Clone)]
pub struct Following {
    pub hello: Option<Hello>,
    /// The last snapshot, and when it arrived.
    pub published: Option<(Published, Instant)>,
}

#[derive(Debug, Clone)]
pub struct NotesState {
    /// The data directory the labs are looked for in, as the user should read it.
    pub data_dir: String,
    pub following: Option<Following>,
    /// Labs with a socket on the data directory.
    pub labs: usize,
    /// One line: the last thing worth telling (a key that had no lab to go to).
    pub notice: Option<String>,
    pub now: Instant,
    pub clock: chrono::NaiveTime,
}

impl NotesState {
    pub fn new(data_dir: String, now: Instant, clock: chrono::NaiveTime) -> Self {
        Self {
            data_dir,
            following: None,
            labs: 0,
            notice: None,
            now,
            clock,
        }
    }

    /// Carries out a key the presenter pressed.
    pub fn update(&mut self, action: Action) -> Option<NotesCommand> {
        self.notice = None;
        let drive = match action {
            Action::Quit => return Some(NotesCommand::Quit),
            Action::NextStep => Drive::Next,
            Action::PrevStep => Drive::Previous,
            Action::Activate => Drive::Activate,
            Action::FollowOtherLab if self.labs > 1 => return Some(NotesCommand::FollowOther),
            Action::FollowOtherLab => {
                self.notice = Some("No other lab runs on this data directory.".into());
                return None;
            }
            _ => return None,
        };
        if self.following.is_none() {
            self.notice = Some("No lab to drive yet: start pglab first.".into());
            return None;
        }
        Some(NotesCommand::Drive(drive))
    }

    /// Takes in what the channel or the clock said.
    pub fn apply(&mut self, event: NotesEvent) {
        match event {
            NotesEvent::Connected => {
                self.following = Some(Following {
                    hello: None,
                    published: None,
                });
            }
            NotesEvent::Received { message, at } => {
                let Some(following) = self.following.as_mut() else {
                    return;
                };
                match message {
                    FromLab::Hello(hello) => following.hello = Some(hello),
                    FromLab::Snapshot(published) => following.published = Some((*published, at)),
                }
            }
            NotesEvent::Disconnected => self.following = None,
            NotesEvent::Labs(labs) => self.labs = labs,
            NotesEvent::Tick { now, clock } => {
                self.now = now;
                self.clock = clock;
            }
        }
    }

    /// The last snapshot.
    pub fn published(&self) -> Option<&Published> {
        self.following
            .as_ref()
            .and_then(|f| f.published.as_ref())
            .map(|(p, _)| p)
    }

    /// The open lesson's time and the session's, as of now: what the lab measured plus the
    /// time since it said so (the lesson's only while its time runs).
    pub fn elapsed(&self) -> Option<(Duration, Duration)> {
        let (published, at) = self.following.as_ref()?.published.as_ref()?;
        let since = self.now.saturating_duration_since(*at);
        let elapsed = published.elapsed;
        let lesson = Duration::from_millis(elapsed.lesson_ms)
            + if elapsed.lesson_running {
                since
            } else {
                Duration::ZERO
            };
        Some((lesson, Duration::from_millis(elapsed.session_ms) + since))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::presenter::{Elapsed, Snapshot};

    fn state() -> (NotesState, Instant) {
        let now = Instant::now();
        (
            NotesState::new("/tmp/lab".into(), now, chrono::NaiveTime::MIN),
            now,
        )
    }

    #[test]
    fn keys_drive_only_a_lab_that_is_followed() {
        let (mut notes, _) = state();
        assert_eq!(notes.update(Action::NextStep), None);
        assert!(
            notes
                .notice
                .as_deref()
                .is_some_and(|n| n.contains("start pglab"))
        );
        notes.apply(NotesEvent::Connected);
        assert_eq!(
            notes.update(Action::Activate),
            Some(NotesCommand::Drive(Drive::Activate))
        );
        assert_eq!(notes.update(Action::FollowOtherLab), None);
        notes.apply(NotesEvent::Labs(2));
        assert_eq!(
            notes.update(Action::FollowOtherLab),
            Some(NotesCommand::FollowOther)
        );
    }

    #[test]
    fn the_lesson_clock_runs_on_between_snapshots_only_while_the_lesson_is_open() {
        let (mut notes, start) = state();
        notes.apply(NotesEvent::Connected);
        let published = |running| Published {
            snapshot: Snapshot::default(),
            elapsed: Elapsed {
                lesson_ms: 60_000,
                lesson_running: running,
                session_ms: 600_000,
            },
        };
        let later = start + Duration::from_secs(5);
        let tick = NotesEvent::Tick {
            now: later,
            clock: chrono::NaiveTime::MIN,
        };
        for (running, lesson) in [(true, 65), (false, 60)] {
            notes.apply(NotesEvent::Received {
                message: FromLab::Snapshot(Box::new(published(running))),
                at: start,
            });
            notes.apply(tick.clone());
            assert_eq!(
                notes.elapsed(),
                Some((Duration::from_secs(lesson), Duration::from_secs(605)))
            );
        }
    }
}
