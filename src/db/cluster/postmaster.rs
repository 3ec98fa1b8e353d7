//! The `postgres` server process: reading `postmaster.pid`, telling a live server from a stale
//! file, spawning it tied to the life of its parent, waiting until it accepts connections,
//! and stopping it.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::Cluster;
use crate::db::Error;

/// How long a start may take: crash recovery after a hard kill replays WAL first.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(20);
/// The server log is rotated to `postgres.log.1` when it grows past this.
const MAX_LOG_BYTES: u64 = 4 * 1024 * 1024;

/// The parts of `postmaster.pid` pglab reads (see `src/include/utils/pidfile.h` in PostgreSQL:
/// pid, data dir, start time, port, socket dir, listen address, shmem key, status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PidFile {
    pub pid: i32,
    pub port: u16,
    pub socket_dir: PathBuf,
    /// `ready` once the server accepts connections; `starting`, `stopping` or `standby` else.
    pub status: String,
}

impl PidFile {
    pub fn parse(text: &str) -> Option<Self> {
        let lines: Vec<&str> = text.lines().collect();
        Some(Self {
            pid: lines.first()?.trim().parse().ok()?,
            port: lines.get(3)?.trim().parse().ok()?,
            socket_dir: PathBuf::from(lines.get(4).map_or("", |l| l.trim())),
            status: lines.get(7).map_or("", |l| l.trim()).to_string(),
        })
    }

    pub fn read(path: &Path) -> Option<Self> {
        Self::parse(&std::fs::read_to_string(path).ok()?)
    }

    pub fn is_ready(&self) -> bool {
        self.status == "ready"
    }
}

/// What the pid file on disk says about the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// No pid file: the server is down.
    Stopped,
    /// The pid file names a running postgres.
    Running(PidFile),
    /// The pid file is left over from a crash, or names a process that is not postgres.
    Stale,
}

pub fn state(pid_file: &Path) -> State {
    if !pid_file.exists() {
        return State::Stopped;
    }
    match PidFile::read(pid_file) {
        Some(pf) if is_postgres(pf.pid) => State::Running(pf),
        // A server writes the file in steps; give a half-written one a moment.
        None if recently_modified(pid_file) => {
            std::thread::sleep(Duration::from_millis(200));
            match PidFile::read(pid_file) {
                Some(pf) if is_postgres(pf.pid) => State::Running(pf),
                _ => State::Stale,
            }
        }
        _ => State::Stale,
    }
}

fn recently_modified(path: &Path) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().is_ok_and(|age| age < Duration::from_secs(2)))
}

/// True when `pid` is alive and, where `/proc` can tell, is a postgres process (a crashed
/// server's pid may have been reused by anything).
pub fn is_postgres(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    match kill(Pid::from_raw(pid), None) {
        Ok(()) | Err(Errno::EPERM) => {}
        Err(_) => return false,
    }
    match std::fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(comm) => comm.trim() == "postgres",
        Err(_) => !Path::new("/proc/self").exists(), // no procfs (macOS): trust kill()
    }
}

impl Cluster {
    /// Starts `postgres` as a child of the calling thread and waits until it is ready.
    ///
    /// The child gets `SIGINT` (fast shutdown) when the calling *thread* ends, so call this
    /// from a thread that lives as long as the server should (prctl(2) `PR_SET_PDEATHSIG`).
    pub fn spawn_postmaster(&self) -> Result<Child, Error> {
        let log = self.open_server_log()?;
        let log_for_stderr = log
            .try_clone()
            .map_err(Error::io("cannot reuse the server log"))?;
        let mut cmd = Command::new(self.binaries.postgres());
        cmd.arg("-D")
            .arg(self.layout.pgdata())
            .current_dir(&self.layout.root)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_for_stderr);
        self.user.apply(&mut cmd);
        tie_to_parent_thread(&mut cmd);
        let mut child = cmd
            .spawn()
            .map_err(Error::io("cannot start the postgres program"))?;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = child
                .try_wait()
                .map_err(Error::io("cannot watch the server"))?
            {
                return Err(Error::StartFailed {
                    log: self.layout.server_log(),
                    tail: format!("{}\n(postgres exited: {status})", self.log_tail()),
                });
            }
            if let Some(pf) = PidFile::read(&self.layout.pid_file())
                && pf.pid == child.id() as i32
                && pf.is_ready()
            {
                return Ok(child);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(Error::StartTimeout {
                    log: self.layout.server_log(),
                    secs: READY_TIMEOUT.as_secs(),
                });
            }
            std::thread::sleep(POLL);
        }
    }

    /// Opens the server log for appending, rotating it first when it has grown large. The
    /// file belongs to the lab's user; the server only inherits the open descriptor.
    fn open_server_log(&self) -> Result<File, Error> {
        let path = self.layout.server_log();
        if std::fs::metadata(&path).is_ok_and(|m| m.len() > MAX_LOG_BYTES) {
            let _ = std::fs::rename(&path, path.with_extension("log.1"));
        }
        File::options()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(Error::io(format!("cannot open {}", path.display())))
    }

    /// The last lines of the server log, for error messages.
    pub fn log_tail(&self) -> String {
        let Ok(mut file) = File::open(self.layout.server_log()) else {
            return String::from("(no server log)");
        };
        let len = file.metadata().map_or(0, |m| m.len());
        let _ = file.seek(SeekFrom::Start(len.saturating_sub(4096)));
        let mut bytes = Vec::new();
        let _ = file.read_to_end(&mut bytes);
        // The window may start inside a multi-byte character.
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(8)..].join("\n")
    }
}

/// Asks the server to stop (fast shutdown: open sessions are ended) and waits until
/// `is_gone` says so; after `timeout`, an immediate shutdown (the server replays WAL at its
/// next start).
pub fn stop(pid: i32, timeout: Duration, mut is_gone: impl FnMut() -> bool) -> Result<(), Error> {
    let pid = Pid::from_raw(pid);
    let signal = |signal| match kill(pid, signal) {
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(errno) => Err(Error::Io {
            what: format!("cannot signal the database server (pid {pid})"),
            cause: errno.into(),
        }),
    };
    signal(Signal::SIGINT)?;
    let deadline = Instant::now() + timeout;
    while !is_gone() {
        if Instant::now() > deadline {
            signal(Signal::SIGQUIT)?;
            wait_briefly(&mut is_gone);
            return Ok(());
        }
        std::thread::sleep(POLL);
    }
    Ok(())
}

fn wait_briefly(is_gone: &mut impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(5);
    while !is_gone() && Instant::now() < until {
        std::thread::sleep(POLL);
    }
}

/// For servers that are not our child: gone once the pid no longer exists.
pub fn pid_is_gone(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None).is_err()
}

#[allow(unsafe_code)]
fn tie_to_parent_thread(cmd: &mut Command) {
    // SAFETY: the closure runs between fork and exec and only calls prctl(2), which is
    // async-signal-safe. This is the only way to ask the kernel to signal the server when
    // pglab dies, including by SIGKILL, so no server outlives the lab.
    unsafe {
        cmd.pre_exec(|| {
            #[cfg(target_os = "linux")]
            nix::sys::prctl::set_pdeathsig(Signal::SIGINT)?;
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_real_pid_file() {
        let text = "4242\n/var/lib/pglab/cluster\n1764151234\n54321\n/var/lib/pglab/run\n\
                    127.0.0.1\n   123456    7\nready   \n";
        let pf = PidFile::parse(text).unwrap();
        assert_eq!(pf.pid, 4242);
        assert_eq!(pf.port, 54321);
        assert_eq!(pf.socket_dir, PathBuf::from("/var/lib/pglab/run"));
        assert!(pf.is_ready());
    }

    #[test]
    fn a_half_written_pid_file_is_not_ready() {
        let pf = PidFile::parse("4242\n/d\n1\n54321\n").unwrap();
        assert!(!pf.is_ready());
        assert_eq!(PidFile::parse("garbage\n"), None);
    }

    #[test]
    fn a_live_process_that_is_not_postgres_is_not_a_server() {
        assert!(!is_postgres(std::process::id() as i32));
        assert!(!is_postgres(0));
        assert!(!is_postgres(-1));
    }
}
