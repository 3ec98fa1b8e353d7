//! The presenter channel over real Unix sockets: the lab's side as the runtime runs it
//! (`runtime::presenter`) and a view's side (`presenter::client`) in one test — the hello
//! and snapshots arrive, a drive command arrives as the app's event, lines that are not
//! messages are refused with a journal line, a view hanging up mid-line is just gone, and
//! a dead lab's socket is removed.

use std::path::Path;
use std::time::Duration;

use pglab::app::{Action, App, Event};
use pglab::data::presenter::{Drive, FromLab, LabScreen};
use pglab::presenter::client;
use pglab::runtime::Journal;
use pglab::runtime::presenter::Presenter;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::sync::mpsc;

use super::support::Scratch;
use super::support::app::app;

/// Longest a test waits for the other end; generous, never a timing claim.
const PATIENCE: Duration = Duration::from_secs(10);

struct Lab {
    app: App,
    presenter: Presenter,
    events: mpsc::UnboundedReceiver<Event>,
    journal: std::path::PathBuf,
}

fn lab(dir: &Path) -> Lab {
    let app = app();
    let (tx, events) = mpsc::unbounded_channel();
    let journal = dir.join("pglab.log");
    let presenter = Presenter::start(dir, &app, tx, Journal::open(&journal));
    Lab {
        app,
        presenter,
        events,
        journal,
    }
}

impl Lab {
    async fn event(&mut self) -> Event {
        tokio::time::timeout(PATIENCE, self.events.recv())
            .await
            .expect("an event in time")
            .expect("the channel is open")
    }

    fn journal(&self) -> String {
        std::fs::read_to_string(&self.journal).unwrap_or_default()
    }
}

async fn message(connection: &mut client::Connection) -> FromLab {
    tokio::time::timeout(PATIENCE, connection.receive())
        .await
        .expect("a message in time")
        .expect("a message, not a refused line")
        .expect("the lab is there")
}

fn socket(dir: &Path) -> std::path::PathBuf {
    pglab::presenter::socket_path(dir, std::process::id())
}

#[tokio::test]
async fn a_view_gets_the_hello_and_each_changed_snapshot_and_drives_the_lab() {
    let scratch = Scratch::new("presenter-drive");
    let mut lab = lab(&scratch.dir);
    let path = socket(&scratch.dir);
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600, "only the lab's user may connect");
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert_eq!(client::labs(&scratch.dir), std::slice::from_ref(&path));

    let mut view = client::connect(&path).await.expect("the lab listens");
    let FromLab::Hello(hello) = message(&mut view).await else {
        panic!("the hello comes first");
    };
    assert_eq!(hello.pid, std::process::id());
    assert_eq!(hello.database, "pglab_learner@127.0.0.1:5432/pglab");
    let FromLab::Snapshot(first) = message(&mut view).await else {
        panic!("then the snapshot");
    };
    assert_eq!(first.snapshot.screen, LabScreen::LessonList);
    assert!(first.snapshot.lesson.is_none());
    assert!(matches!(lab.event().await, Event::NotesViewAttached(true)));

    lab.app.update(Action::Open);
    lab.presenter.publish(&lab.app);
    let FromLab::Snapshot(opened) = message(&mut view).await else {
        panic!("a snapshot");
    };
    let lesson = opened.snapshot.lesson.expect("the lesson is open");
    assert_eq!((lesson.number, lesson.step, lesson.minutes), (8, 1, 15));
    assert!(lesson.notes.is_some_and(|n| n.contains("Ask the room")));
    assert!(opened.elapsed.lesson_running);

    view.drive(Drive::Next).await.expect("the lab reads");
    let event = lab.event().await;
    assert!(matches!(event, Event::Drive(Drive::Next)), "{event:?}");
    lab.app.apply(event);
    // Published on change only: an unchanged state sends nothing.
    lab.presenter.publish(&lab.app);
    lab.presenter.publish(&lab.app);
    let FromLab::Snapshot(moved) = message(&mut view).await else {
        panic!("a snapshot");
    };
    assert_eq!(moved.snapshot.lesson.map(|l| l.step), Some(2));
    assert!(
        tokio::time::timeout(Duration::from_millis(200), view.receive())
            .await
            .is_err(),
        "nothing changed, nothing sent"
    );

    drop(view);
    assert!(matches!(lab.event().await, Event::NotesViewAttached(false)));
    assert!(
        lab.journal()
            .contains("presenter view attached (1 following)")
    );
    assert!(
        lab.journal()
            .contains("presenter view detached (0 following)")
    );
    drop(lab);
    assert!(!path.exists(), "a lab that quits removes its socket");
}

#[tokio::test]
async fn lines_that_are_not_messages_are_refused_and_a_half_line_is_nothing() {
    let scratch = Scratch::new("presenter-refuse");
    let mut lab = lab(&scratch.dir);
    let mut raw = UnixStream::connect(socket(&scratch.dir))
        .await
        .expect("the lab listens");
    assert!(matches!(lab.event().await, Event::NotesViewAttached(true)));
    let oversized = format!(
        "{{\"type\":\"drive\",\"command\":\"next\",\"pad\":\"{}\"}}\n",
        "x".repeat(pglab::presenter::MAX_NOTES_LINE)
    );
    raw.write_all(b"not json\n").await.unwrap();
    raw.write_all(oversized.as_bytes()).await.unwrap();
    raw.write_all(b"{\"type\":\"drive\",\"command\":\"jump\"}\n")
        .await
        .unwrap();
    raw.write_all(b"{\"type\":\"drive\",\"command\":\"previous\"}\n")
        .await
        .unwrap();
    // Only the one real message gets through, after the refused ones.
    let event = lab.event().await;
    assert!(matches!(event, Event::Drive(Drive::Previous)), "{event:?}");
    let journal = lab.journal();
    assert!(journal.contains("a malformed line"), "{journal}");
    assert!(journal.contains("over the limit"), "{journal}");
    assert_eq!(journal.matches("; dropped").count(), 3, "{journal}");

    // A view that hangs up in the middle of a line: the half line is no command.
    raw.write_all(b"{\"type\":\"drive\",\"command\":\"ne")
        .await
        .unwrap();
    drop(raw);
    let event = lab.event().await;
    assert!(
        matches!(event, Event::NotesViewAttached(false)),
        "{event:?}"
    );
    assert_eq!(lab.journal().matches("; dropped").count(), 3);
}

#[tokio::test]
async fn a_dead_labs_socket_is_removed_when_its_connection_is_refused() {
    let scratch = Scratch::new("presenter-stale");
    let folder = pglab::presenter::folder(&scratch.dir);
    std::fs::create_dir_all(&folder).unwrap();
    let dead = folder.join("1.sock");
    // A socket file nobody listens on: what a lab that was killed leaves.
    drop(std::os::unix::net::UnixListener::bind(&dead).unwrap());
    assert_eq!(client::labs(&scratch.dir), std::slice::from_ref(&dead));
    let refused = client::connect(&dead).await.expect_err("nobody listens");
    assert!(
        matches!(refused, pglab::presenter::Error::Stale(_)),
        "{refused}"
    );
    assert!(!dead.exists());
    assert!(client::labs(&scratch.dir).is_empty());

    // A lab that finds a file of its own process id (a dead lab's, the id reused) replaces it.
    let own = socket(&scratch.dir);
    drop(std::os::unix::net::UnixListener::bind(&own).unwrap());
    let _lab = lab(&scratch.dir);
    client::connect(&own).await.expect("the new lab listens");
}

#[test]
fn without_a_terminal_the_notes_view_says_it_needs_one() {
    let scratch = Scratch::new("presenter-no-tty");
    let out = scratch.run(&["notes"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(i32::from(pglab::EXIT_REFUSED)),
        "{stderr}"
    );
    assert!(stderr.contains("needs a terminal"), "{stderr}");
}
