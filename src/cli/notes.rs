//! `pglab notes`: the presenter view, in a terminal of its own beside the projected lab. It
//! follows a lab on the same data directory through its socket ([`crate::presenter`]) —
//! whichever of the two starts first — shows the step's notes, what the next key press will
//! do and the time against the plan, and sends →, ← and Enter to the lab. While no lab runs
//! it looks for one every [`POLL`]; when its lab quits it waits for the next.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use ratatui::crossterm::event::Event as TermEvent;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use crate::app::notes::{NotesCommand, NotesEvent, NotesState};
use crate::db::LabConfig;
use crate::keymap::{self, Context};
use crate::presenter::client::{self, Connection};
use crate::runtime::Journal;
use crate::terminal;
use crate::ui::theme::Theme;

/// How often the data directory is looked at for labs: a lab that starts is followed
/// within this.
const POLL: Duration = Duration::from_millis(100);

/// Runs the presenter view until the presenter quits.
pub fn run(config: &LabConfig, theme: Theme) -> anyhow::Result<()> {
    if !super::lab::has_terminal() {
        return Err(super::Refused(
            "pglab notes draws the presenter view and needs a terminal; run it in one \
             (over ssh: ssh -t HOST pglab notes)"
                .into(),
        )
        .into());
    }
    let journal = Journal::open(&config.data_dir.join(super::lab::JOURNAL_FILE));
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(follow(&config.data_dir, theme, journal))
}

fn now_event() -> NotesEvent {
    NotesEvent::Tick {
        now: Instant::now().into_std(),
        clock: chrono::Local::now().time(),
    }
}

async fn follow(data_dir: &Path, theme: Theme, journal: Journal) -> anyhow::Result<()> {
    let mut session = terminal::Session::enter().context("cannot take over the terminal")?;
    let (term_tx, mut term_rx) = mpsc::channel(64);
    // crossterm's reader blocks; a thread of its own hands key presses to the loop.
    std::thread::spawn(move || {
        while let Ok(event) = ratatui::crossterm::event::read() {
            if term_tx.blocking_send(event).is_err() {
                break;
            }
        }
    });
    let mut state = NotesState::new(
        data_dir.display().to_string(),
        Instant::now().into_std(),
        chrono::Local::now().time(),
    );
    let mut connection: Option<Connection> = None;
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(MissedTickBehavior::Skip);
    // The clock and the elapsed times move on by the second.
    let mut second = tokio::time::interval(Duration::from_secs(1));
    second.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut dirty = true;
    loop {
        if dirty {
            session
                .terminal
                .draw(|frame| crate::ui::notes::render(&state, frame, &theme))?;
            dirty = false;
        }
        tokio::select! {
            Some(event) = term_rx.recv() => {
                dirty = true;
                let action = match event {
                    TermEvent::Key(key) => keymap::action_for(Context::Notes, key, false),
                    _ => None,
                };
                match action.and_then(|action| state.update(action)) {
                    Some(NotesCommand::Quit) => return Ok(()),
                    Some(NotesCommand::Drive(command)) => {
                        if let Some(lab) = connection.as_mut()
                            && lab.drive(command).await.is_err()
                        {
                            connection = None;
                            state.apply(NotesEvent::Disconnected);
                        }
                    }
                    Some(NotesCommand::FollowOther) => {
                        let current = connection.take().map(|c| c.path);
                        state.apply(NotesEvent::Disconnected);
                        connection = connect_first(&others(data_dir, current.as_deref()), &journal).await;
                        if connection.is_some() {
                            state.apply(NotesEvent::Connected);
                        }
                    }
                    None => {}
                }
            }
            received = async { connection.as_mut().expect("guarded").receive().await }, if connection.is_some() => {
                dirty = true;
                match received {
                    Ok(Some(message)) => state.apply(NotesEvent::Received { message, at: Instant::now().into_std() }),
                    Ok(None) => {
                        connection = None;
                        state.apply(NotesEvent::Disconnected);
                    }
                    Err(why) => journal.write(&format!("notes view: the lab sent {why}; dropped")),
                }
            }
            _ = poll.tick() => {
                let labs = client::labs(data_dir);
                if connection.is_none() {
                    connection = connect_first(&labs, &journal).await;
                    if connection.is_some() {
                        dirty = true;
                        state.apply(NotesEvent::Connected);
                    }
                }
                // Listed again: connecting removed the sockets of labs that are gone.
                let count = client::labs(data_dir).len();
                if count != state.labs {
                    dirty = true;
                    state.apply(NotesEvent::Labs(count));
                }
            }
            _ = second.tick() => {
                dirty = true;
                state.apply(now_event());
            }
        }
        if dirty {
            state.apply(now_event());
        }
    }
}

/// The labs after `current` in the listing, then those before it: the next one round.
fn others(data_dir: &Path, current: Option<&Path>) -> Vec<PathBuf> {
    let mut labs = client::labs(data_dir);
    if let Some(at) = labs.iter().position(|p| Some(p.as_path()) == current) {
        labs.rotate_left(at + 1);
        labs.pop();
    }
    labs
}

/// A connection to the first of `labs` that answers; the sockets of those gone are removed.
async fn connect_first(labs: &[PathBuf], journal: &Journal) -> Option<Connection> {
    for path in labs {
        match client::connect(path).await {
            Ok(connection) => {
                journal.write(&format!("notes view: following {}", path.display()));
                return Some(connection);
            }
            Err(error @ crate::presenter::Error::Stale(_)) => {
                journal.write(&format!("notes view: {error}"));
            }
            // Not ours to reach (another user's, say): looked at again next time round,
            // without a journal line every POLL.
            Err(_) => {}
        }
    }
    None
}
