//! The keeper: a detached `pglab` process that owns the server for all labs using one data
//! directory.
//!
//! Every pglab holds a *shared* lock on `lab.lock` for as long as it runs. The keeper polls
//! for an *exclusive* lock; it gets one only when no pglab is left (the kernel releases the
//! locks of exited and killed processes alike), and then stops the server and exits. The
//! server is the keeper's child with a parent-death signal (Linux), so killing the keeper
//! stops it too; elsewhere a killed keeper leaves the server to `pglab db stop`.
//!
//! Start-up handshake: the keeper writes one line to its stdout, `ready` or `error: <why>`.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::{Cluster, Error, Layout, postmaster};

const POLL: Duration = Duration::from_millis(200);
/// Generous: the first start after a crash replays WAL before it is ready.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(90);
/// The hidden subcommand that runs a keeper; see `cli`.
pub const KEEPER_COMMAND: &str = "__keeper";

/// A pglab's claim on the shared server; dropping it (or dying) lets the server stop.
#[derive(Debug)]
pub struct LabLock {
    _file: File,
}

impl LabLock {
    /// Blocks while a keeper is stopping the server, so a new lab never connects to a server
    /// that is going away.
    pub fn acquire(layout: &Layout) -> Result<Self, Error> {
        let file = open_lock(&layout.lab_lock())?;
        file.lock_shared()
            .map_err(Error::io("cannot take the lab lock"))?;
        Ok(Self { _file: file })
    }
}

/// Held while one pglab checks for and starts the server.
pub(crate) fn lock_start(layout: &Layout) -> Result<File, Error> {
    let file = open_lock(&layout.start_lock())?;
    file.lock()
        .map_err(Error::io("cannot take the start lock"))?;
    Ok(file)
}

fn open_lock(path: &std::path::Path) -> Result<File, Error> {
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|cause| Error::DataDir {
            path: path.to_path_buf(),
            cause,
        })
}

/// Starts a keeper for `cluster` and waits for its handshake.
pub(super) fn spawn(cluster: &Cluster) -> Result<(), Error> {
    let exe = std::env::current_exe().map_err(Error::io("cannot find the pglab program"))?;
    let log = File::options()
        .create(true)
        .append(true)
        .open(cluster.layout.server_log())
        .map_err(Error::io("cannot open the server log"))?;
    let mut cmd = Command::new(exe);
    cmd.arg(KEEPER_COMMAND)
        .arg("--data-dir")
        .arg(&cluster.layout.root)
        .env("PG_BINDIR", &cluster.binaries.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    detach_from_terminal(&mut cmd);
    let mut child = cmd
        .spawn()
        .map_err(Error::io("cannot start the pglab keeper"))?;
    let Some(stdout) = child.stdout.take() else {
        return Err(keeper_failed(cluster, "no handshake pipe"));
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(HANDSHAKE_TIMEOUT)
        .map_err(|_| Error::StartTimeout {
            log: cluster.layout.server_log(),
            secs: HANDSHAKE_TIMEOUT.as_secs(),
        })?;
    let line = line.trim_end();
    if line == "ready" {
        return Ok(());
    }
    let _ = child.wait();
    let why = match line.strip_prefix("error: ") {
        Some(why) => why.replace("\\n", "\n"),
        None => String::from("the keeper exited before the server was ready"),
    };
    Err(keeper_failed(cluster, &why))
}

fn keeper_failed(cluster: &Cluster, why: &str) -> Error {
    Error::StartFailed {
        log: cluster.layout.server_log(),
        tail: format!("{}\n({why})", cluster.log_tail()),
    }
}

/// The keeper's main loop (`pglab __keeper`). Returns when the server has stopped.
pub fn serve(layout: Layout) -> Result<(), Error> {
    let mut handshake = std::io::stdout();
    let started = Cluster::open(layout).and_then(|cluster| {
        let child = cluster.start_with_free_port()?;
        Ok((cluster, child))
    });
    let (cluster, mut child) = match started {
        Ok(ok) => ok,
        Err(e) => {
            let _ = writeln!(handshake, "error: {}", e.to_string().replace('\n', "\\n"));
            return Err(e);
        }
    };
    let _ = writeln!(handshake, "ready");
    let _ = handshake.flush();
    let lab_lock = open_lock(&cluster.layout.lab_lock())?;
    loop {
        std::thread::sleep(POLL);
        if child
            .try_wait()
            .map_err(Error::io("cannot watch the server"))?
            .is_some()
        {
            return Ok(()); // stopped by `pglab db stop`, or crashed: nothing left to keep
        }
        if lab_lock.try_lock().is_ok() {
            // No pglab is left. Stop while still holding the lock, so a lab starting right
            // now waits instead of connecting to a server that is going away.
            // The server is our child: it is gone once reaped (a zombie still answers kill).
            postmaster::stop(child.id() as i32, super::STOP_TIMEOUT, || {
                child.try_wait().is_ok_and(|status| status.is_some())
            })?;
            return Ok(());
        }
    }
}

#[allow(unsafe_code)]
fn detach_from_terminal(cmd: &mut Command) {
    // SAFETY: setsid(2) is async-signal-safe and touches no Rust state. A new session keeps
    // Ctrl-C in the student's terminal from reaching the keeper (and through it the server)
    // while other labs still use it.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()?;
            Ok(())
        });
    }
}
