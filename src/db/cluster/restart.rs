//! Taking the private server down on purpose and bringing it back, for the lesson that shows
//! what survives: a clean restart (fast shutdown, then start) and a crash (`SIGKILL` to the
//! postmaster, then start, which runs crash recovery).
//!
//! The server comes back on the port it had, so every connection option the lab and other
//! labs hold stays valid and their next statement reconnects; and it is supervised the way it
//! was (by a keeper for the `pglab` program, by a thread of this process in test binaries,
//! which cannot run the keeper). The start lock is held throughout, so a lab starting
//! meanwhile waits for the new server instead of starting one of its own.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::{Cluster, Error, PidFile, STOP_TIMEOUT, State, Supervision, keeper, postmaster};

/// How the server goes down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interruption {
    /// A fast shutdown: sessions are ended, a shutdown checkpoint is written.
    Restart,
    /// `SIGKILL` to the postmaster: nothing is written, the next start recovers from WAL.
    Crash,
}

/// What a restart changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restarted {
    pub old: PidFile,
    pub new: PidFile,
    /// The server's processes (besides the postmaster) that were running when it was killed;
    /// each noticed its parent's death and exited before the new server started. Zero for
    /// a clean restart, which stops them itself.
    pub orphans: usize,
    /// What the server wrote to its log from just before it went down until it was ready
    /// again (at most [`MAX_LOG_READ`] bytes, the last ones).
    pub log: String,
}

/// The longest the old server's children may take to notice a killed postmaster.
const ORPHAN_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(20);
/// A start that finds the old shared memory still attached is tried again this many times,
/// this long apart (see [`Cluster::start_after_crash`]).
const SHARED_MEMORY_RETRIES: u32 = 10;
const SHARED_MEMORY_RETRY_PAUSE: Duration = Duration::from_millis(500);
/// What PostgreSQL says when it refuses to start for that reason.
const SHARED_MEMORY_IN_USE: &str = "pre-existing shared memory block";
/// Bounds what [`Restarted::log`] holds: a start writes a few dozen lines.
const MAX_LOG_READ: u64 = 256 * 1024;

impl Cluster {
    /// Takes the running server down as `how` says and starts it again on the same port.
    /// Blocking: a crash recovery can take seconds.
    pub fn interrupt(&self, how: Interruption) -> Result<Restarted, Error> {
        let _starting = keeper::lock_start(&self.layout)?;
        let State::Running(old) = self.state()? else {
            return Err(Error::Unavailable(
                "the lab's server is not running, so there is nothing to restart".into(),
            ));
        };
        let supervision = supervision_of(old.pid);
        let log_from = std::fs::metadata(self.layout.server_log()).map_or(0, |m| m.len());
        let orphans = match how {
            Interruption::Restart => {
                postmaster::stop(old.pid, STOP_TIMEOUT, || postmaster::pid_is_gone(old.pid))?;
                self.start(supervision)?;
                0
            }
            Interruption::Crash => {
                let orphans = crash(old.pid, &self.layout.pid_file())?;
                self.start_after_crash(supervision)?;
                orphans
            }
        };
        let new = PidFile::read(&self.layout.pid_file()).ok_or_else(|| Error::StartFailed {
            log: self.layout.server_log(),
            tail: self.log_tail(),
        })?;
        if new.port != old.port {
            return Err(Error::Unavailable(format!(
                "the server came back on port {} instead of {}: another program took the \
                 port meanwhile; restart pglab to reconnect",
                new.port, old.port
            )));
        }
        Ok(Restarted {
            old,
            new,
            orphans,
            log: self.log_since(log_from),
        })
    }

    /// Starts the server after [`crash`]. That waited for every process still attached to
    /// the old shared memory, as far as it could see them; should one still hold it (seen too
    /// late, or no `/proc` to look in), PostgreSQL refuses to start with "pre-existing shared
    /// memory block … is still in use", and the start is tried again a few times, as the
    /// straggler has lost its postmaster and exits on its own.
    fn start_after_crash(&self, supervision: Supervision) -> Result<(), Error> {
        let mut tries = 0;
        loop {
            match self.start(supervision) {
                Err(Error::StartFailed { tail, .. })
                    if tail.contains(SHARED_MEMORY_IN_USE) && tries < SHARED_MEMORY_RETRIES =>
                {
                    tries += 1;
                    std::thread::sleep(SHARED_MEMORY_RETRY_PAUSE);
                }
                result => return result.map(|_| ()),
            }
        }
    }

    /// The server log from byte `from` on; from its start when it was rotated meanwhile.
    fn log_since(&self, from: u64) -> String {
        let Ok(mut file) = File::open(self.layout.server_log()) else {
            return String::new();
        };
        let len = file.metadata().map_or(0, |m| m.len());
        let from = if len < from { 0 } else { from };
        let from = from.max(len.saturating_sub(MAX_LOG_READ));
        let mut bytes = Vec::new();
        if file.seek(SeekFrom::Start(from)).is_err() || file.read_to_end(&mut bytes).is_err() {
            return String::new();
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Kills the postmaster `pid` and waits until it and every process it had started are gone:
/// a new server refuses to start while the old one's shared memory is still attached.
/// Returns how many of those processes there were.
///
/// The children read before the kill miss a backend forked in between, and once the
/// postmaster is dead its children belong to another parent, so they cannot be found by
/// parent afterwards. What the new server checks is the old System V segment's attach count
/// (its id is in the pid file), so that is what is waited for too, from
/// `/proc/sysvipc/shm`. Without `/proc` neither is visible and the start retries instead.
fn crash(pid: i32, pid_file: &Path) -> Result<usize, Error> {
    let segment = shared_memory_id(pid_file);
    let children = children_of(pid);
    match kill(Pid::from_raw(pid), Signal::SIGKILL) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
        Err(errno) => {
            return Err(Error::Io {
                what: format!("cannot kill the database server (pid {pid})"),
                cause: errno.into(),
            });
        }
    }
    let gone = |pids: &[i32]| pids.iter().all(|&p| postmaster::pid_is_gone(p));
    let detached = || segment.and_then(attached_to).unwrap_or(0) == 0;
    let deadline = Instant::now() + ORPHAN_TIMEOUT;
    // The postmaster is reaped by its supervisor (the keeper, or a thread of this process).
    while !(gone(&[pid]) && gone(&children) && detached()) {
        if Instant::now() > deadline {
            return Err(Error::Unavailable(format!(
                "the killed server's processes did not exit within {} s",
                ORPHAN_TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(POLL);
    }
    Ok(children.len())
}

/// The id of the server's System V shared memory segment: the second number on the pid
/// file's seventh line (`key id`).
fn shared_memory_id(pid_file: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(pid_file).ok()?;
    text.lines().nth(6)?.split_whitespace().nth(1)?.parse().ok()
}

/// How many processes attach the segment `id`; `None` once it is gone or unreadable.
fn attached_to(id: i32) -> Option<u64> {
    parse_attached(&std::fs::read_to_string("/proc/sysvipc/shm").ok()?, id)
}

/// The `nattch` column of segment `id`'s row in `/proc/sysvipc/shm`.
fn parse_attached(table: &str, id: i32) -> Option<u64> {
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next()?.split_whitespace().collect();
    let id_column = header.iter().position(|c| *c == "shmid")?;
    let attached_column = header.iter().position(|c| *c == "nattch")?;
    lines.find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields.get(id_column)?.parse::<i32>().ok()? == id)
            .then(|| fields.get(attached_column)?.parse().ok())?
    })
}

/// Who started the postmaster `pid`: this process (a test binary's in-process server) or a
/// keeper. Without `/proc` (macOS), a keeper: only test binaries run servers in-process.
fn supervision_of(pid: i32) -> Supervision {
    match parent_of(pid) {
        Some(parent) if parent == std::process::id() as i32 => Supervision::InProcess,
        _ => Supervision::Keeper,
    }
}

/// The parent of `pid`, from `/proc/<pid>/stat`.
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_parent(&stat)
}

/// The fourth field of a `stat` line; the second (the command, in parentheses) may itself
/// hold spaces and parentheses, so fields are counted from the last `)`.
fn parse_parent(stat: &str) -> Option<i32> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// Every process whose parent is `pid` (the server's backends and helpers).
fn children_of(pid: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&child| parent_of(child) == Some(pid))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_is_read_past_a_command_with_spaces_and_parentheses() {
        let stat = "4242 (postgres: a (b) c) S 4100 4242 4242 0 -1 4194560";
        assert_eq!(parse_parent(stat), Some(4100));
        assert_eq!(parse_parent("garbage"), None);
    }

    #[test]
    fn the_attach_count_is_read_from_the_segments_row() {
        let table = "       key      shmid perms                  size  cpid  lpid nattch   uid\n\
                     5432001      32769   600                    56  4100  4242      3    70\n\
                     5433001      32770   600                    56  4300  4300      0    70\n";
        assert_eq!(parse_attached(table, 32769), Some(3));
        assert_eq!(parse_attached(table, 32770), Some(0));
        assert_eq!(parse_attached(table, 1), None);
    }

    #[test]
    fn this_process_has_a_parent_and_is_its_childrens_parent() {
        let me = std::process::id() as i32;
        assert!(parent_of(me).is_some_and(|p| p > 0));
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        assert!(children_of(me).contains(&(child.id() as i32)));
        assert_eq!(supervision_of(child.id() as i32), Supervision::InProcess);
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
