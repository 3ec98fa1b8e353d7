//! The lab driven like a person drives it: `pglab` in a real terminal (tmux), keys sent,
//! the screen read back. Each journey ends by quitting and checking the shell got its
//! terminal back. Without tmux they are skipped, with a note, on a developer's machine; with
//! `CI` set (CI sets it, and `.ci/run` exports it) a missing tmux fails them instead, so a
//! CI image without tmux cannot pass with the journeys silently skipped.

use std::process::Command;
use std::time::{Duration, Instant};

use super::support::Scratch;

/// Whether this is a CI run: `CI` set to anything but empty, `0` or `false` (CI services
/// set `CI=true`, `.ci/run` sets `CI=1`).
pub(crate) fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !matches!(value.trim(), "" | "0" | "false"))
}

/// Longest a journey waits for one screen (first start of a private cluster included).
const SCREEN_TIMEOUT: Duration = Duration::from_secs(90);

/// A tmux server of the test's own, running one `pglab` in a 100×30 window.
struct Terminal {
    socket: String,
}

impl Terminal {
    fn start(lab: &Scratch, name: &str) -> Option<Self> {
        Self::start_with(lab, name, "")
    }

    /// `pglab ARGS` (written as the shell reads them) instead of the bare lab: a second
    /// terminal on the same data directory is a second `Terminal` with another name.
    fn start_with(lab: &Scratch, name: &str, args: &str) -> Option<Self> {
        if Command::new("tmux").arg("-V").output().is_err() {
            assert!(
                !in_ci(),
                "tmux is not installed, and CI is set: journey `{name}` cannot run. Install \
                 tmux (`apt-get install tmux`; .ci/run does), or unset CI to skip the journeys."
            );
            eprintln!("tmux is not installed: journey `{name}` skipped (CI is not set)");
            return None;
        }
        let socket = format!("pglab-journey-{name}-{}", std::process::id());
        let program = format!(
            "env PGLAB_DATA_DIR='{}' PGLAB_LESSONS='{}/lessons' TERM=xterm-256color '{}' {args}; echo EXITED $?; sleep 60",
            lab.dir.display(),
            env!("CARGO_MANIFEST_DIR"),
            env!("CARGO_BIN_EXE_pglab"),
        );
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "100",
                "-y",
                "30",
            ])
            .args(["env", "-u", "DATABASE_URL", "sh", "-c", &program])
            .status()
            .expect("tmux runs");
        assert!(status.success(), "tmux could not start");
        Some(Self { socket })
    }

    /// Opens the shipped lesson `id` from the top of the lesson list: one Down for each
    /// lesson before it, whatever lessons are added in front.
    fn open_lesson(&self, id: &str) {
        let place = super::support::app::catalog()
            .lessons
            .iter()
            .position(|lesson| lesson.id == id)
            .expect("the lesson ships");
        let mut keys = vec!["Down"; place];
        keys.push("Enter");
        self.keys(&keys);
    }

    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys"])
            .args(keys)
            .status()
            .expect("tmux runs");
        assert!(status.success());
    }

    /// Types text literally (no key names, `;` stays a semicolon).
    fn type_text(&self, text: &str) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-l", text])
            .status()
            .expect("tmux runs");
        assert!(status.success());
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The terminal is as pglab found it: the normal screen, no mouse reporting.
    fn assert_restored(&self) {
        let out = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "display",
                "-p",
                "#{alternate_on}#{mouse_any_flag}",
            ])
            .output()
            .expect("tmux runs");
        let flags = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(flags, "00", "alternate screen / mouse reporting still on");
    }

    /// The screen once every one of `needles` is on it.
    fn wait_for(&self, needles: &[&str]) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if needles.iter().all(|n| screen.contains(n)) {
                return screen;
            }
            assert!(
                started.elapsed() < SCREEN_TIMEOUT,
                "waited {SCREEN_TIMEOUT:?} for {needles:?}; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

#[test]
fn the_n_plus_one_lesson_counts_the_loop_then_the_join_and_quits_cleanly() {
    let lab = Scratch::new("journey-lesson");
    let Some(term) = Terminal::start(&lab, "lesson") else {
        return;
    };
    term.wait_for(&["Lessons", "The N+1 problem"]);
    // The lesson list works before the database is up; wait for it anyway, so the demo
    // below has a database to run on.
    term.wait_for(&["pglab_learner@"]);
    term.open_lesson("n-plus-one");
    term.wait_for(&["8 · The N+1 problem", "step 1 of 13"]);
    // Step 2 is a diagram of four layers: three presses reveal them, a fourth moves on.
    for _ in 0..6 {
        term.keys(&["Right"]);
    }
    term.wait_for(&["step 4 of 13", "The loop, live"]);
    term.keys(&["Enter"]);
    let screen = term.wait_for(&["11 query round", "N+1: 1 query then 10"]);
    assert!(screen.contains("select username from users"), "{screen}");

    term.keys(&["Right"]);
    term.wait_for(&["step 5 of 13", "One JOIN"]);
    term.keys(&["Enter"]);
    term.wait_for(&["⇄ 1 round trip (1 query)"]);

    term.keys(&["q"]);
    term.wait_for(&["EXITED 0"]);
    term.assert_restored();
}

#[test]
fn the_console_points_at_a_syntax_error_and_cancels_a_long_statement() {
    let lab = Scratch::new("journey-console");
    let Some(term) = Terminal::start(&lab, "console") else {
        return;
    };
    term.wait_for(&["Lessons", "pglab_learner@"]);
    term.keys(&["F3"]);
    term.wait_for(&["SQL console"]);
    term.type_text("select id, usrname");
    term.keys(&["Enter"]);
    term.type_text("from users;");
    term.keys(&["C-r"]);
    let screen = term.wait_for(&["error 42703", "^"]);
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("  select id, usrname"))
        .expect("the failing line is shown");
    let caret = lines[at + 1].find('^').expect("a caret under it");
    let column = lines[at].find("usrname").expect("the misspelt column");
    assert_eq!(
        caret, column,
        "the caret points at the misspelt column:\n{screen}"
    );

    term.keys(&["-N", "40", "BSpace"]);
    term.type_text("select pg_sleep(30)");
    term.keys(&["C-r"]);
    term.wait_for(&["Running…"]);
    let asked = Instant::now();
    term.keys(&["Escape"]);
    term.wait_for(&["57014", "canceling statement due to user request"]);
    // Not a timing target: a bound that tells a cancel from the sleep simply ending.
    assert!(
        asked.elapsed() < Duration::from_secs(25),
        "the cancel reached the server before the sleep ended"
    );

    term.keys(&["C-c"]);
    term.wait_for(&["EXITED 0"]);
    term.assert_restored();
}

#[test]
fn a_change_made_in_psql_appears_in_the_open_audit_timeline() {
    let lab = Scratch::new("journey-audit");
    let Some(term) = Terminal::start(&lab, "audit") else {
        return;
    };
    term.wait_for(&["Lessons", "pglab_learner@"]);
    term.keys(&["F7"]);
    term.wait_for(&["Audit timeline", "No audit events yet"]);
    // An instructor in another terminal, through psql: nothing the lab sent or waits for.
    let psql = lab
        .pglab()
        .args(["db", "psql", "--"])
        .args([
            "-c",
            "update users set is_admin = true where username = 'bob'",
        ])
        .output()
        .unwrap();
    assert!(psql.status.success(), "{psql:?}");
    let screen = term.wait_for(&[
        "update users:2",
        "privilege change",
        "outside the application",
    ]);
    assert!(screen.contains("is_admin"), "{screen}");

    term.keys(&["q"]);
    term.wait_for(&["EXITED 0"]);
    term.assert_restored();
}

#[test]
fn a_running_demo_stops_on_esc_and_the_console_still_answers() {
    let lab = Scratch::new("journey-stop");
    let Some(term) = Terminal::start(&lab, "stop") else {
        return;
    };
    term.wait_for(&["Lessons", "pglab_learner@"]);
    term.open_lesson("n-plus-one");
    term.wait_for(&["8 · The N+1 problem", "step 1 of 13"]);
    // Step 2's diagram takes three presses to reveal; nine presses reach step 7.
    for _ in 0..9 {
        term.keys(&["Right"]);
    }
    term.wait_for(&["step 7 of 13", "scale table"]);
    term.keys(&["Enter"]);
    // The first measured row is in: the demo is under way, with rows still to come.
    term.wait_for(&["lazy", "Running…"]);
    let asked = Instant::now();
    term.keys(&["Escape"]);
    let screen = term.wait_for(&["Stopped before it finished"]);
    assert!(
        screen.contains("step 7 of 13"),
        "Esc stops the demo, not the lesson"
    );
    // Not a timing target: the whole table takes many seconds, so a stop that waited for
    // it would take longer than this.
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "{:?}",
        asked.elapsed()
    );
    // Nothing of the demo is left working on the server.
    let started = Instant::now();
    loop {
        let sessions = lab
            .pglab()
            .args(["db", "psql", "--", "-tA", "-c"])
            .arg("select count(*) from pg_stat_activity where application_name like 'pglab demo%'")
            .output()
            .unwrap();
        let count = String::from_utf8_lossy(&sessions.stdout).trim().to_string();
        if count == "0" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "demo sessions still on the server: {count}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    term.keys(&["F3"]);
    term.wait_for(&["SQL console"]);
    term.type_text("select 41 + 1 as answer");
    term.keys(&["C-r"]);
    term.wait_for(&["answer", "42", "1 row"]);

    term.keys(&["C-c"]);
    term.wait_for(&["EXITED 0"]);
    term.assert_restored();
}

#[test]
fn every_layer_of_a_long_diagram_comes_into_view_at_100_by_30() {
    let lab = Scratch::new("journey-layers");
    let Some(term) = Terminal::start(&lab, "layers") else {
        return;
    };
    term.wait_for(&["Lessons", "Audit logging"]);
    term.open_lesson("audit-logging");
    term.wait_for(&["11 · Audit logging", "step 1 of"]);
    term.keys(&["Right"]);
    term.wait_for(&["step 2 of", "a request arrives", "1 of 5 shown"]);
    for shown in 2..=5 {
        term.keys(&["Right"]);
        if shown < 5 {
            term.wait_for(&[&format!("{shown} of 5 shown")]);
        }
    }
    // The last layer, whole, on screen.
    let screen = term.wait_for(&["later, someone asks", "who changed bob's account"]);
    assert!(screen.contains("more above"), "{screen}");

    term.keys(&["q"]);
    term.wait_for(&["EXITED 0"]);
    term.assert_restored();
}

#[test]
fn after_lesson_ones_crash_the_console_reconnects_and_counts_the_new_session() {
    // A data dir of its own: the crash below kills only this journey's server, and the
    // scratch's drop stops that server (`pglab db stop`) however the journey ends.
    let lab = Scratch::new("journey-crash");
    let Some(term) = Terminal::start(&lab, "crash") else {
        return;
    };
    term.wait_for(&["Lessons", "Why a database", "pglab_learner@"]);
    term.keys(&["Enter"]);
    term.wait_for(&["1 · Why a database", "step 1 of 9"]);
    // One press to the diagram, three to reveal its layers, then the memory demo, the
    // restart and the crash.
    for _ in 0..7 {
        term.keys(&["Right"]);
    }
    term.wait_for(&[
        "step 5 of 9",
        "crashed mid-transaction",
        "Enter runs the demo",
    ]);
    term.keys(&["Enter"]);
    let report = term.wait_for(&[
        "was not properly shut down",
        "redo starts at",
        "article 5 (not committed): absent",
    ]);
    assert!(
        report.contains("there: \"Committed before the crash\""),
        "{report}"
    );

    // The console's connection died with the server; its next read reconnects.
    term.keys(&["F3"]);
    term.wait_for(&["SQL console"]);
    term.type_text("select count(*) as articles_now from articles");
    term.keys(&["C-r"]);
    let screen = term.wait_for(&["articles_now", "1 row", "on a new connection"]);
    let lines: Vec<&str> = screen.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.contains("│articles_now"))
        .expect("the result's column");
    assert!(lines[header + 2].contains("│4 "), "{screen}");
    // The query log says the console connected again (that the server closed the old
    // connection is said further up, at the crash, above the demo's own statements).
    assert!(
        screen.contains("↻ the console connected again: server process"),
        "{screen}"
    );
    // The query log: the new console session asks for its server process id, then runs
    // the statement; the result's count is that session's, not zero.
    let pid = lines
        .iter()
        .rposition(|l| l.contains("select pg_backend_pid()"))
        .expect("the new session's first statement in the log");
    assert!(
        lines[pid + 1..]
            .iter()
            .any(|l| l.contains("1r select count(*) as articles_now from articles")),
        "{screen}"
    );
    assert!(screen.contains("⇄ 3 round trips"), "{screen}");
    println!("{screen}");

    term.keys(&["C-c"]);
    term.wait_for(&["EXITED 0"]);
    term.assert_restored();
    drop(term);
    let stopped = lab.run(&["db", "stop"]);
    assert!(stopped.status.success(), "{stopped:?}");
    let left = Command::new("pgrep")
        .args(["-a", "-f"])
        .arg(format!("postgres -D {}", lab.dir.display()))
        .output()
        .expect("pgrep runs");
    assert!(
        left.stdout.is_empty(),
        "server processes left behind: {}",
        String::from_utf8_lossy(&left.stdout)
    );
}

#[test]
fn the_presenter_view_drives_the_projected_lab_and_its_notes_stay_off_it() {
    let lab = Scratch::new("journey-notes");
    let Some(projected) = Terminal::start_with(&lab, "projected", "--present") else {
        return;
    };
    let Some(notes) = Terminal::start_with(&lab, "notes", "notes") else {
        return;
    };
    notes.wait_for(&["presenting", "The lab shows the lesson list"]);
    projected.wait_for(&["pglab_learner@"]);
    projected.open_lesson("n-plus-one");
    projected.wait_for(&["8 · The N+1 problem", "step 1 of 13"]);
    let first = "Ask the room how many queries";
    notes.wait_for(&[first, "next step: What the loop sends"]);

    notes.keys(&["Right"]);
    let screen = projected.wait_for(&["step 2 of 13", "What the loop sends"]);
    let second = "Reveal one layer at a time";
    notes.wait_for(&[second, "reveal layer 2 of 4"]);
    assert!(
        !screen.contains(second) && !screen.contains(first),
        "the notes stay off the projected screen:\n{screen}"
    );
    // The diagram's next layer, pressed from the presenter view.
    notes.keys(&["Right"]);
    notes.wait_for(&["reveal layer 3 of 4"]);
    let screen = projected.wait_for(&["2 of 4 shown"]);
    assert!(!screen.contains(second), "{screen}");

    notes.keys(&["q"]);
    notes.wait_for(&["EXITED 0"]);
    notes.assert_restored();
    projected.keys(&["q"]);
    projected.wait_for(&["EXITED 0"]);
    projected.assert_restored();
}
