//! What the integration tests share: running the `pglab` binary in a data directory of its
//! own (here), the app core's fixtures ([`app`]), drawing a screen ([`screen`]) and the
//! audit story ([`audit_story`]).

pub mod app;
pub mod audit_story;
pub mod screen;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use pglab::db::cluster::{Layout, PidFile, State, state_of};

/// A scratch data directory, removed (after stopping its server) when dropped.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("pglab-it-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self { dir }
    }

    /// `pglab ARGS` with this data directory and no DATABASE_URL.
    pub fn pglab(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pglab"));
        cmd.env("PGLAB_DATA_DIR", &self.dir)
            .env_remove("DATABASE_URL");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.pglab().args(args).output().expect("pglab runs")
    }

    /// Starts `pglab db serve` and returns once it reports the database up.
    pub fn serve(&self) -> Child {
        let mut child = self
            .pglab()
            .args(["db", "serve"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("pglab runs");
        let mut reader = BufReader::new(child.stdout.take().expect("piped"));
        let mut first_line = String::new();
        reader
            .read_line(&mut first_line)
            .expect("pglab db serve writes");
        assert!(
            first_line.contains("is up"),
            "pglab db serve said {first_line:?}"
        );
        // Keep reading: closing the pipe would make serve's next line fail and end it early.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        child
    }

    /// The running server's pid file; fails the test with `why` when none runs.
    pub fn running_server(&self, why: &str) -> PidFile {
        match self.state() {
            State::Running(pid_file) => pid_file,
            other => panic!("{why} (server state: {other:?})"),
        }
    }

    pub fn state(&self) -> State {
        state_of(&Layout::new(&self.dir))
    }

    /// Waits until no server runs in this data directory; false after `timeout`.
    pub fn wait_stopped(&self, timeout: Duration) -> bool {
        wait_until(timeout, || !matches!(self.state(), State::Running(_)))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = self.run(&["db", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Fails with both streams shown unless `out` succeeded.
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "pglab failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

/// The port the status output reports.
pub fn reported_port(status_stdout: &str) -> u16 {
    status_stdout
        .lines()
        .find(|l| l.starts_with("url"))
        .and_then(|l| l.rsplit(':').next())
        .and_then(|tail| tail.split('/').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in:\n{status_stdout}"))
}
