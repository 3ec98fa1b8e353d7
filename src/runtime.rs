//! The lab's event loop, the edge between [`App`] and the world. It owns the terminal, the
//! database, the proxy every lab connection goes through, the console connection and the
//! demos; it turns terminal input into actions (through the keymap), runs the commands
//! `App::update` returns as tasks, feeds their results and the proxy's traffic back as
//! events, and draws when something changed — never on a timer. What changed is published
//! to presenter views (`pglab notes`) too, and their keys come back as events.

mod audit_feed;
mod console_worker;
mod journal;
pub mod presenter;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use ratatui::crossterm::event::{Event as TermEvent, MouseEventKind};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::app::{self, Action, App, Command, Event};
use crate::db::{Lab, LabConfig};
use crate::demo::DemoContext;
use crate::keymap;
use crate::lesson::{Catalog, Progress};
use crate::proxy::{self, Latency, Proxy};
use crate::terminal;
use console_worker::Job;
pub use journal::Journal;

/// After this long without traffic, open N+1 bursts are reported.
const QUIET_AFTER: Duration = Duration::from_secs(1);
/// Longest quitting waits for a running statement's cancel to reach the server.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(2);
/// Proxy events folded into the state before the next draw, at most.
const EVENTS_PER_DRAW: usize = 2_048;

/// What the lab needs to start.
pub struct Options {
    pub config: LabConfig,
    pub catalog: Arc<Catalog>,
    pub progress: Progress,
    pub progress_path: PathBuf,
    pub journal: Journal,
    pub theme: crate::ui::theme::Theme,
    /// Start in presenting mode (`--present`).
    pub present: bool,
}

/// Runs the lab until the user quits.
pub fn run(options: Options) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run_lab(options))
}

/// The parts that exist once the database is open.
struct Connected {
    lab: Lab,
    _proxy: Proxy,
    jobs: mpsc::Sender<Job>,
    console_pid: Arc<AtomicI32>,
}

/// A demo running as a task: what stopping it needs.
struct RunningDemo {
    id: app::RequestId,
    task: tokio::task::AbortHandle,
    /// The server processes of the demo's sessions, as its proxy saw them start.
    backends: Arc<std::sync::Mutex<Vec<i32>>>,
}

/// What carrying out commands needs: the database once it is open, the latency knob, the
/// progress file, the channels results come back on, the running demo, and the journal.
struct Effects {
    connected: Option<Connected>,
    demo: Option<RunningDemo>,
    latency: Latency,
    progress_path: PathBuf,
    /// The progress this lab loaded or last saved: a save merges what changed since into
    /// the file, so a second lab on the same data directory keeps its work.
    saved_progress: Progress,
    proxy_tx: mpsc::Sender<crate::data::proxy::ProxyEvent>,
    event_tx: mpsc::UnboundedSender<Event>,
    journal: Journal,
}

async fn run_lab(options: Options) -> anyhow::Result<()> {
    let Options {
        config,
        catalog,
        progress,
        progress_path,
        journal,
        theme,
        present,
    } = options;
    let mut session = terminal::Session::enter().context("cannot take over the terminal")?;
    journal.write("lab started");

    let (term_tx, mut term_rx) = mpsc::channel(256);
    // crossterm's reader blocks; a thread of its own hands key presses to the loop.
    std::thread::spawn(move || {
        while let Ok(event) = ratatui::crossterm::event::read() {
            if term_tx.blocking_send(event).is_err() {
                break;
            }
        }
    });
    let (proxy_tx, mut proxy_rx) = mpsc::channel(proxy::EVENT_BUFFER);
    let (event_tx, mut event_rx) = mpsc::unbounded_channel::<Event>();
    let mut effects = Effects {
        connected: None,
        demo: None,
        latency: Latency::default(),
        progress_path,
        saved_progress: progress.clone(),
        proxy_tx,
        event_tx,
        journal,
    };

    let mut app = App::new(catalog, progress, "starting the database…".into());
    app.presenting = present;
    let mut presenter = presenter::Presenter::start(
        &config.data_dir,
        &app,
        effects.event_tx.clone(),
        effects.journal.clone(),
    );
    let mut viewports = crate::ui::Viewports::default();
    let size = session.terminal.size()?;
    app.update(Action::Resize {
        width: size.width,
        height: size.height,
    });

    let lab_config = config.clone();
    // Polled in place, not spawned: opening the lab is one future the loop waits on
    // beside the keyboard, so the lesson list is usable while the database starts.
    let mut opening = Some(Box::pin(async move { Lab::open(&lab_config).await }));
    let mut quiet_at: Option<Instant> = None;
    let mut dirty = true;
    let mut stop = std::pin::pin!(shutdown_signal());

    loop {
        if dirty {
            presenter.publish(&app);
            session
                .terminal
                .draw(|frame| crate::ui::render(&app, &mut viewports, &theme, frame))?;
            dirty = false;
        }
        let commands = tokio::select! {
            Some(event) = term_rx.recv() => {
                dirty = true;
                match action_of(&app, event) {
                    Some(action) => app.update(action),
                    None => Vec::new(),
                }
            }
            Some(event) = proxy_rx.recv() => {
                dirty = true;
                let mut commands = app.apply(Event::Proxy(event));
                for _ in 0..EVENTS_PER_DRAW {
                    match proxy_rx.try_recv() {
                        Ok(event) => commands.extend(app.apply(Event::Proxy(event))),
                        Err(_) => break,
                    }
                }
                quiet_at = Some(Instant::now() + QUIET_AFTER);
                commands
            }
            Some(event) = event_rx.recv() => {
                dirty = true;
                // Traffic a task caused is in the proxy's channel before the task's result
                // (the proxy reports a message before forwarding it): fold it in first, so
                // the result's counts are complete.
                let mut commands = Vec::new();
                while let Ok(traffic) = proxy_rx.try_recv() {
                    commands.extend(app.apply(Event::Proxy(traffic)));
                }
                commands.extend(app.apply(event));
                commands
            }
            opened = async { opening.as_mut().expect("guarded by the branch condition").await }, if opening.is_some() => {
                opening = None;
                dirty = true;
                let event = match opened {
                    Ok(lab) => effects.connect(lab).await,
                    Err(error) => Event::LabFailed(format!("{error}")),
                };
                match &event {
                    Event::LabReady { database, .. } => effects.journal.write(&format!("database ready: {database}")),
                    Event::LabFailed(why) => effects.journal.write(&format!("database unavailable: {why}")),
                    _ => {}
                }
                app.apply(event)
            }
            () = async { tokio::time::sleep_until(quiet_at.expect("guarded")).await }, if quiet_at.is_some() => {
                quiet_at = None;
                dirty = true;
                app.apply(Event::Quiet)
            }
            () = &mut stop => app.update(Action::Quit),
        };
        let quitting = commands.contains(&Command::Quit);
        for command in commands {
            if command == Command::Quit {
                effects.journal.write("lab closed");
                return Ok(());
            }
            if let Err(not_saved) = effects.run(command, quitting).await {
                // The last save failed and there is no screen left to say so: the message
                // is printed once the terminal is back, and pglab exits with an error.
                drop(session);
                anyhow::bail!("{not_saved}");
            }
        }
    }
}

/// SIGTERM or SIGHUP (the terminal went away): quit as if asked, restoring the terminal.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = hup.recv() => {}
    }
}

/// The action a terminal event means, if any.
fn action_of(app: &App, event: TermEvent) -> Option<Action> {
    match event {
        TermEvent::Key(key) => keymap::action_for(app.context(), key, app.is_typing()),
        TermEvent::Paste(text) if app.is_typing() => Some(Action::Paste(text)),
        TermEvent::Resize(width, height) => Some(Action::Resize { width, height }),
        TermEvent::Mouse(mouse) => {
            let lines = match mouse.kind {
                MouseEventKind::ScrollUp => -3,
                MouseEventKind::ScrollDown => 3,
                _ => return None,
            };
            Some(Action::Scroll {
                column: mouse.column,
                row: mouse.row,
                lines,
            })
        }
        _ => None,
    }
}

impl Effects {
    /// Puts the proxy in front of the freshly opened lab and starts the console connection.
    async fn connect(&mut self, lab: Lab) -> Event {
        let database = crate::db::describe(&lab.learner);
        let started = Proxy::in_front_of(&lab.learner, self.latency.clone(), self.proxy_tx.clone());
        let (proxy, routed) = match started.await {
            Ok(started) => started,
            Err(error) => {
                return Event::LabFailed(format!("the lab's proxy could not start: {error}"));
            }
        };
        // Read directly, not through the proxy: the learner did not ask for this query.
        let facts = match crate::db::connect(&lab.learner).await {
            Ok(mut conn) => crate::db::catalog::table_facts(&mut conn).await.ok(),
            Err(_) => None,
        };
        let console_pid = Arc::new(AtomicI32::new(0));
        let (jobs, job_rx) = mpsc::channel(8);
        tokio::spawn(console_worker::serve(
            routed.application_name(app::log::CONSOLE_APPLICATION),
            lab.learner.clone(),
            console_pid.clone(),
            job_rx,
            self.event_tx.clone(),
        ));
        tokio::spawn(audit_feed::follow(
            lab.learner.clone(),
            self.event_tx.clone(),
            self.journal.clone(),
        ));
        self.connected = Some(Connected {
            lab,
            _proxy: proxy,
            jobs,
            console_pid,
        });
        Event::LabReady { database, facts }
    }

    /// Carries out one command; what it produces comes back as events. While `quitting`,
    /// a cancel is sent before the lab goes, and a failed save is returned, not shown.
    async fn run(&mut self, command: Command, quitting: bool) -> Result<(), String> {
        match command {
            Command::SetLatency(round_trip) => self.latency.set(round_trip, Duration::ZERO),
            // Small and synchronous: the file is a few hundred bytes, and a save that
            // returns has reached the disk.
            Command::SaveProgress(progress) => {
                match progress.save(&self.saved_progress, &self.progress_path) {
                    Ok(()) => self.saved_progress = *progress,
                    Err(error) => {
                        let message = format!("Progress not saved: {error}");
                        self.journal.write(&message);
                        if quitting {
                            return Err(message);
                        }
                        self.send(Event::ProgressNotSaved(message));
                    }
                }
            }
            Command::Execute { id, sql } => self.send_job(id, Job::Execute { id, sql }),
            Command::Explain { id, sql } => self.send_job(id, Job::Explain { id, sql }),
            Command::CheckExercise {
                id,
                sql,
                solution,
                check,
            } => self.send_job(
                id,
                Job::Check {
                    id,
                    sql,
                    solution,
                    check,
                },
            ),
            Command::Cancel => {
                if let Some(c) = &self.connected {
                    let pid = c.console_pid.load(Ordering::Relaxed);
                    let options = c.lab.learner.clone();
                    let cancel = async move {
                        let _ = crate::db::console::cancel(&options, &[pid]).await;
                    };
                    if quitting {
                        // The runtime ends right after: the cancel must go out first.
                        let _ = tokio::time::timeout(CANCEL_TIMEOUT, cancel).await;
                    } else {
                        tokio::spawn(cancel);
                    }
                }
            }
            Command::RunDemo {
                id,
                name,
                params,
                acting_as,
            } => self.spawn_demo(id, name, params, acting_as),
            Command::StopDemo(id) => self.stop_demo(id),
            Command::LoadAudit { id, filter } => self.spawn_read(id, move |options| async move {
                audit_feed::load(&options, id, filter).await
            }),
            Command::LoadSchema { id } => {
                self.spawn_read(
                    id,
                    move |options| async move { load_schema(&options, id).await },
                )
            }
            Command::LoadTables { id, tables } => self.spawn_read(id, move |options| async move {
                load_tables(&options, id, &tables).await
            }),
            Command::LoadUsers { id } => {
                self.spawn_read(
                    id,
                    move |options| async move { load_users(&options, id).await },
                )
            }
            Command::Quit => {}
        }
        Ok(())
    }

    fn send(&self, event: Event) {
        // The loop owns the receiver and outlives every sender: a failed send cannot happen
        // while anyone listens.
        let _ = self.event_tx.send(event);
    }

    /// Runs `read` as a task of its own with the learner's connection options and sends the
    /// event it ends with; without a database the request fails at once.
    fn spawn_read<F>(
        &self,
        id: app::RequestId,
        read: impl FnOnce(sqlx::postgres::PgConnectOptions) -> F + Send + 'static,
    ) where
        F: Future<Output = Event> + Send + 'static,
    {
        let Some(c) = &self.connected else {
            self.not_ready(id);
            return;
        };
        let (options, events) = (c.lab.learner.clone(), self.event_tx.clone());
        tokio::spawn(async move {
            let _ = events.send(read(options).await);
        });
    }

    fn not_ready(&self, id: app::RequestId) {
        self.send(Event::Failed {
            id,
            message: "The database is not ready yet.".into(),
        });
    }

    fn send_job(&self, id: app::RequestId, job: Job) {
        let Some(c) = &self.connected else {
            return self.not_ready(id);
        };
        if c.jobs.try_send(job).is_err() {
            self.send(Event::Failed {
                id,
                message: "The console is busy or gone; try again.".into(),
            });
        }
    }

    /// Runs a demo as a task; its progress and its report come back as events, its
    /// traffic reaches the log through the proxy channel (passing by a relay that notes
    /// the server process of each session it opens, so a stop can cancel their work).
    fn spawn_demo(
        &mut self,
        id: app::RequestId,
        name: String,
        params: toml::Table,
        acting_as: Option<crate::data::acting::ActingAs>,
    ) {
        let Some(c) = &self.connected else {
            return self.not_ready(id);
        };
        let backends = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tee, mut traffic) = mpsc::channel(proxy::EVENT_BUFFER);
        let (lab_log, seen) = (self.proxy_tx.clone(), backends.clone());
        tokio::spawn(async move {
            while let Some(event) = traffic.recv().await {
                if let crate::data::proxy::ProxyEvent::SessionStarted { session, .. } = &event
                    && let (Some(pid), Ok(mut seen)) = (session.backend_pid, seen.lock())
                {
                    seen.push(pid);
                }
                if lab_log.send(event).await.is_err() {
                    break;
                }
            }
        });
        let context = DemoContext {
            learner: c.lab.learner.clone(),
            latency: self.latency.clone(),
            log: Some(tee),
            cluster: c.lab.cluster().cloned(),
            acting_as,
        };
        let events = self.event_tx.clone();
        let task = tokio::spawn(async move {
            let (progress_tx, mut progress_rx) = mpsc::unbounded_channel();
            let forward = events.clone();
            let relay = tokio::spawn(async move {
                while let Some(progress) = progress_rx.recv().await {
                    let _ = forward.send(Event::DemoProgressed { id, progress });
                }
            });
            let result = crate::demo::run(&context, &name, &params, progress_tx).await;
            let _ = relay.await;
            let result = result.map_err(|e| e.failure());
            let _ = events.send(Event::DemoFinished { id, result });
        });
        self.demo = Some(RunningDemo {
            id,
            task: task.abort_handle(),
            backends,
        });
    }

    /// Ends demo `id`: the task is dropped where it stands (its connections close, so an
    /// open transaction rolls back), and a statement still running on the server for one
    /// of its sessions is cancelled rather than left to finish for nobody.
    fn stop_demo(&mut self, id: app::RequestId) {
        let Some(demo) = self.demo.take_if(|d| d.id == id) else {
            return;
        };
        demo.task.abort();
        let pids = demo.backends.lock().map(|p| p.clone()).unwrap_or_default();
        if let (Some(c), false) = (&self.connected, pids.is_empty()) {
            let options = c.lab.learner.clone();
            let journal = self.journal.clone();
            tokio::spawn(async move {
                if let Err(error) = crate::db::console::cancel(&options, &pids).await {
                    journal.write(&format!("stopping a demo's statements failed: {error}"));
                }
            });
        }
        self.journal.write("demo stopped");
    }
}

/// The schema map, read on a connection of its own as the learner (not through the proxy:
/// the learner did not send these queries, so the query log does not count them).
async fn load_schema(options: &sqlx::postgres::PgConnectOptions, id: app::RequestId) -> Event {
    let read = async {
        let mut conn = crate::db::connect(options).await?;
        crate::db::schema::read(&mut conn, crate::db::LESSON_SCHEMA, &[]).await
    };
    match read.await {
        Ok(map) => Event::SchemaLoaded {
            id,
            map: Box::new(map),
        },
        Err(error) => Event::Failed {
            id,
            message: format!("The schema map could not be read: {error}"),
        },
    }
}

/// The tables view's rows, read like the schema map: as the learner, on a connection of
/// its own, not through the proxy.
async fn load_tables(
    options: &sqlx::postgres::PgConnectOptions,
    id: app::RequestId,
    tables: &[String],
) -> Event {
    let read = async {
        let mut conn = crate::db::connect(options).await?;
        crate::db::tables::read(&mut conn, crate::db::LESSON_SCHEMA, tables).await
    };
    match read.await {
        Ok(snapshot) => Event::TablesLoaded {
            id,
            snapshot: Box::new(snapshot),
        },
        Err(error) => Event::Failed {
            id,
            message: format!("The tables could not be read: {error}"),
        },
    }
}

/// The users the lab can act as, read like the schema map: on a connection of its own, not
/// through the proxy, so the query log counts only what the learner and the demos sent.
async fn load_users(options: &sqlx::postgres::PgConnectOptions, id: app::RequestId) -> Event {
    let read = async {
        let mut conn = crate::db::connect(options).await?;
        crate::db::acting::users(&mut conn).await
    };
    match read.await {
        Ok(users) => Event::UsersLoaded { id, users },
        Err(error) => Event::Failed {
            id,
            message: format!("The users to act as could not be read: {error}"),
        },
    }
}
