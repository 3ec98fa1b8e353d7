//! The lab's end of the presenter view: it listens for `pglab notes` ([`crate::presenter`]),
//! publishes the app's presenter snapshot after each change (and only on change) with the
//! times the runtime measured — each lesson's while it was open, the session's since the
//! lab started: the app reads no clocks — and turns what the views do into events and
//! journal lines. Without its socket the lab runs on, as it does without its database.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use crate::app::{App, Event, Screen, presenter::snapshot};
use crate::data::presenter::{Elapsed, Hello, Published, Snapshot};
use crate::presenter::server::{self, News, Server};

use super::Journal;

/// Publishes what the presenter sees.
pub struct Presenter {
    _server: Option<Server>,
    published: watch::Sender<Published>,
    clock: Clock,
}

impl Presenter {
    /// Listens on this lab's socket in `data_dir`; drive commands and views coming and going
    /// arrive on `events`.
    pub fn start(
        data_dir: &Path,
        app: &App,
        events: mpsc::UnboundedSender<Event>,
        journal: Journal,
    ) -> Self {
        let now = Instant::now();
        let mut clock = Clock::new(now);
        let first = clock.publish(snapshot(app), lesson_running(app), now);
        let (published, watching) = watch::channel(first);
        let hello = Hello {
            pid: std::process::id(),
            terminal: terminal(),
            started_at: chrono::Local::now().to_rfc3339(),
            database: String::new(),
        };
        let path = crate::presenter::socket_path(data_dir, std::process::id());
        let told = journal.clone();
        let news = move |news: News| match news {
            News::Attached { views } => {
                told.write(&format!("presenter view attached ({views} following)"));
                if views == 1 {
                    let _ = events.send(Event::NotesViewAttached(true));
                }
            }
            News::Detached { views } => {
                told.write(&format!("presenter view detached ({views} following)"));
                if views == 0 {
                    let _ = events.send(Event::NotesViewAttached(false));
                }
            }
            News::Drive(command) => {
                let _ = events.send(Event::Drive(command));
            }
            News::Refused(why) => told.write(&why),
        };
        let server = match server::listen(path, hello, watching, news) {
            Ok(server) => {
                journal.write(&format!(
                    "presenter views can follow on {}",
                    server.path().display()
                ));
                Some(server)
            }
            Err(error) => {
                journal.write(&format!("{error}; no presenter view can follow this lab"));
                None
            }
        };
        Self {
            _server: server,
            published,
            clock,
        }
    }

    /// Publishes the presenter's snapshot of `app` if it changed since the last one.
    pub fn publish(&mut self, app: &App) {
        let snapshot = snapshot(app);
        let running = lesson_running(app);
        let last = self.published.borrow();
        if last.snapshot == snapshot && last.elapsed.lesson_running == running {
            return;
        }
        drop(last);
        let published = self.clock.publish(snapshot, running, Instant::now());
        self.published.send_replace(published);
    }
}

/// A lesson's time runs while it is open: its player, or a screen it opened, is up.
fn lesson_running(app: &App) -> bool {
    app.player.is_some() && app.screen != Screen::Lessons
}

/// The lab's terminal, as the system names it (`/dev/pts/3`).
fn terminal() -> Option<String> {
    std::fs::read_link("/proc/self/fd/0")
        .ok()
        .map(|path| path.display().to_string())
        .filter(|name| name.starts_with("/dev/"))
}

/// Time spent per lesson and since the start.
struct Clock {
    started: Instant,
    /// Settled time per lesson id.
    spent: HashMap<String, Duration>,
    /// The lesson whose time runs, since when.
    running: Option<(String, Instant)>,
}

impl Clock {
    fn new(now: Instant) -> Self {
        Self {
            started: now,
            spent: HashMap::new(),
            running: None,
        }
    }

    /// `snapshot` with the times as of `now`, the open lesson's clock `running` or stopped.
    fn publish(&mut self, snapshot: Snapshot, running: bool, now: Instant) -> Published {
        let lesson = snapshot.lesson.as_ref().map(|l| l.id.clone());
        let running = lesson.clone().filter(|_| running);
        if self.running.as_ref().map(|(id, _)| id) != running.as_ref() {
            if let Some((id, since)) = self.running.take() {
                *self.spent.entry(id).or_default() += now - since;
            }
            self.running = running.map(|id| (id, now));
        }
        let lesson_ms = lesson.map_or(Duration::ZERO, |id| {
            let settled = self.spent.get(&id).copied().unwrap_or_default();
            match &self.running {
                Some((running, since)) if *running == id => settled + (now - *since),
                _ => settled,
            }
        });
        Published {
            snapshot,
            elapsed: Elapsed {
                lesson_ms: millis(lesson_ms),
                lesson_running: self.running.is_some(),
                session_ms: millis(now - self.started),
            },
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::presenter::LessonSnapshot;

    fn on(id: &str) -> Snapshot {
        Snapshot {
            lesson: Some(LessonSnapshot {
                id: id.into(),
                ..LessonSnapshot::default()
            }),
            ..Snapshot::default()
        }
    }

    #[test]
    fn a_lessons_time_counts_only_while_it_is_open_and_is_kept_per_lesson() {
        let start = Instant::now();
        let at = |seconds| start + Duration::from_secs(seconds);
        let mut clock = Clock::new(start);
        let lesson = |p: Published| (p.elapsed.lesson_ms / 1000, p.elapsed.lesson_running);
        assert_eq!(lesson(clock.publish(on("a"), true, at(0))), (0, true));
        // Back on the lesson list for 5 s: the lesson's time stands still.
        assert_eq!(lesson(clock.publish(on("a"), false, at(10))), (10, false));
        assert_eq!(lesson(clock.publish(on("a"), true, at(15))), (10, true));
        // Another lesson starts from nothing; the first keeps its time.
        assert_eq!(lesson(clock.publish(on("b"), true, at(18))), (0, true));
        let back = clock.publish(on("a"), true, at(20));
        assert_eq!(lesson(back.clone()), (13, true));
        assert_eq!(back.elapsed.session_ms, 20_000);
    }
}
