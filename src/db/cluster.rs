//! The lab's private PostgreSQL cluster: created once with `initdb` in the data directory,
//! started on 127.0.0.1 and a unix socket on a free port, reused when already running, and
//! never left behind when the lab exits.
//!
//! Two ways to keep the server alive ([`Supervision`]):
//! - **Keeper** (the `pglab` binary): a small detached `pglab` process owns the server and
//!   stops it once no pglab holds the lab lock, so several labs share one server and a
//!   killed lab (even by SIGKILL) releases it.
//! - **In-process** (test binaries): the server is a child of a thread that lives as long as
//!   the process, and dies with it.
//!
//! The durability lesson restarts and crashes the server on purpose (`restart`).

mod creation;
mod keeper;
mod layout;
mod postmaster;
mod restart;
mod service_user;

use std::fs::File;
use std::io::Write;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

pub use creation::Creation;
pub(crate) use keeper::lock_start;
pub use keeper::{KEEPER_COMMAND, LabLock, serve as serve_keeper};
pub use layout::Layout;
pub use postmaster::{PidFile, State};
pub use restart::{Interruption, Restarted};
pub use service_user::ServiceUser;

use super::Error;
use super::binaries::{self, Binaries, SearchPath};
use super::credentials::Credentials;

/// Stops the server running in `layout`, if any, without creating or probing anything.
/// Holds the start lock, so a lab that is starting up finishes first and then sees the
/// server gone. Returns false when none was running.
pub fn stop(layout: &Layout) -> Result<bool, Error> {
    if !layout.root.exists() {
        return Ok(false);
    }
    let _starting = lock_start(layout)?;
    match state_of(layout) {
        State::Running(pf) => {
            postmaster::stop(pf.pid, STOP_TIMEOUT, || postmaster::pid_is_gone(pf.pid))?;
            Ok(true)
        }
        State::Stopped | State::Stale => Ok(false),
    }
}

/// What the pid file in `layout` says, without touching anything.
pub fn state_of(layout: &Layout) -> State {
    postmaster::state(&layout.pid_file())
}

/// How long a fast shutdown may take before it becomes an immediate one.
pub(crate) const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Tries before giving up when the chosen port is taken between choosing and binding it.
const PORT_ATTEMPTS: usize = 3;

/// Who keeps the server process alive; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Supervision {
    Keeper,
    InProcess,
}

/// Where a running cluster listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub port: u16,
    pub socket_dir: std::path::PathBuf,
}

/// A cluster's files and the programs and user that run it. Creating one checks the data
/// directory and finds the binaries; it starts nothing.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub layout: Layout,
    pub binaries: Binaries,
    pub user: ServiceUser,
}

impl Cluster {
    /// Prepares `layout.root` and finds the server programs.
    pub fn open(layout: Layout) -> Result<Self, Error> {
        let user = ServiceUser::for_this_process()?;
        let root = &layout.root;
        let data_dir_error = |cause| Error::DataDir {
            path: root.clone(),
            cause,
        };
        std::fs::create_dir_all(root).map_err(data_dir_error)?;
        // Creating a directory can succeed on a read-only tree that already has it; prove
        // we can write by creating the lock file, which every later step needs anyway.
        File::options()
            .create(true)
            .append(true)
            .open(layout.start_lock())
            .map_err(data_dir_error)?;
        user.check_can_reach(root)?;
        let cluster_major = std::fs::read_to_string(layout.pgdata().join("PG_VERSION"))
            .ok()
            .and_then(|v| v.trim().parse().ok());
        let binaries = binaries::find(&SearchPath::from_env(), cluster_major)?;
        Ok(Self {
            layout,
            binaries,
            user,
        })
    }

    pub fn is_initialised(&self) -> bool {
        self.layout.pgdata().join("PG_VERSION").is_file()
    }

    /// Runs `initdb` once; the bootstrap superuser gets the password from `credentials`.
    pub fn initialise(&self, credentials: &Credentials) -> Result<(), Error> {
        let pgdata = self.layout.pgdata();
        // A failed earlier attempt leaves a partial folder that initdb would refuse.
        if pgdata.exists() {
            std::fs::remove_dir_all(&pgdata)
                .map_err(Error::io(format!("cannot clear {}", pgdata.display())))?;
        }
        self.make_server_dir(&pgdata, 0o700)?;
        let pwfile = self.layout.root.join("initdb.pw");
        write_private(&pwfile, &credentials.superuser)?;
        self.user.take_ownership(&pwfile)?;
        let mut initdb = Command::new(self.binaries.initdb());
        initdb
            .arg("-D")
            .arg(&pgdata)
            .args(["--username", "postgres", "--pwfile"])
            .arg(&pwfile)
            .args([
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ])
            .current_dir(&self.layout.root);
        self.user.apply(&mut initdb);
        let output = initdb.output();
        let _ = std::fs::remove_file(&pwfile);
        let output = output.map_err(Error::io("cannot run initdb"))?;
        if !output.status.success() {
            return Err(Error::Initdb {
                dir: pgdata,
                output: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
        let conf = pgdata.join("postgresql.conf");
        let mut file = File::options()
            .append(true)
            .open(&conf)
            .map_err(Error::io(format!("cannot open {}", conf.display())))?;
        writeln!(
            file,
            "\n# Added by pglab: the port, addresses and socket folder live in pglab.conf.\n\
             include_if_exists = 'pglab.conf'"
        )
        .map_err(Error::io(format!("cannot write {}", conf.display())))?;
        Ok(())
    }

    /// What the pid file says, cleaning up a stale one so the next start is not refused.
    pub fn state(&self) -> Result<State, Error> {
        let pid_file = self.layout.pid_file();
        let state = postmaster::state(&pid_file);
        if state == State::Stale {
            std::fs::remove_file(&pid_file).map_err(Error::io(format!(
                "cannot remove stale {}",
                pid_file.display()
            )))?;
        }
        Ok(state)
    }

    /// Starts the server unless it runs already. Callers hold the start lock.
    pub fn start(&self, supervision: Supervision) -> Result<Endpoint, Error> {
        if let State::Running(pf) = self.state()? {
            return Ok(self.endpoint(&pf));
        }
        let socket_dir = self.layout.socket_dir(self.user.uid);
        self.make_server_dir(&socket_dir, 0o700)?;
        match supervision {
            Supervision::InProcess => self.start_in_thread()?,
            Supervision::Keeper => keeper::spawn(self)?,
        }
        match PidFile::read(&self.layout.pid_file()) {
            Some(pf) => Ok(self.endpoint(&pf)),
            None => Err(Error::StartFailed {
                log: self.layout.server_log(),
                tail: self.log_tail(),
            }),
        }
    }

    fn endpoint(&self, pf: &PidFile) -> Endpoint {
        Endpoint {
            port: pf.port,
            socket_dir: pf.socket_dir.clone(),
        }
    }

    /// Spawns the server from a thread that never ends, so it lives exactly as long as this
    /// process (the kernel signals it when the spawning thread exits).
    fn start_in_thread(&self) -> Result<(), Error> {
        let (tx, rx) = mpsc::channel();
        let cluster = self.clone();
        std::thread::Builder::new()
            .name("pglab-postmaster".into())
            .spawn(move || match cluster.start_with_free_port() {
                Ok(mut child) => {
                    let _ = tx.send(Ok(()));
                    let _ = child.wait();
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            })
            .map_err(Error::io("cannot start the supervising thread"))?;
        rx.recv().map_err(|_| Error::StartFailed {
            log: self.layout.server_log(),
            tail: self.log_tail(),
        })?
    }

    /// Picks a port (the last one used when it is still free), writes it to `pglab.conf` and
    /// starts the server; retries with a fresh port if another program took it meanwhile.
    pub(crate) fn start_with_free_port(&self) -> Result<std::process::Child, Error> {
        let mut last_error = None;
        for _ in 0..PORT_ATTEMPTS {
            let port = choose_port(self.configured_port())?;
            self.write_managed_conf(port)?;
            match self.spawn_postmaster() {
                Ok(child) => return Ok(child),
                Err(Error::StartFailed { log, tail }) if tail.contains("already in use") => {
                    last_error = Some(Error::StartFailed { log, tail });
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or(Error::StartFailed {
            log: self.layout.server_log(),
            tail: self.log_tail(),
        }))
    }

    fn configured_port(&self) -> Option<u16> {
        let text = std::fs::read_to_string(self.layout.managed_conf()).ok()?;
        text.lines()
            .find_map(|line| line.strip_prefix("port = "))
            .and_then(|port| port.trim().parse().ok())
    }

    fn write_managed_conf(&self, port: u16) -> Result<(), Error> {
        let socket_dir = self.layout.socket_dir(self.user.uid);
        let text = format!(
            "# Written by pglab at every start; edits are overwritten.\n\
             port = {port}\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{}'\n\
             logging_collector = off\n",
            socket_dir.display().to_string().replace('\'', "''")
        );
        let path = self.layout.managed_conf();
        std::fs::write(&path, text).map_err(Error::io(format!("cannot write {}", path.display())))
    }

    /// Creates a folder the server writes to, owned by the service user. An existing one
    /// must be a real folder (not a symlink someone planted in `/tmp`) owned by that user
    /// or by us; it is never followed elsewhere.
    fn make_server_dir(&self, dir: &Path, mode: u32) -> Result<(), Error> {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        let refuse = |why: &str| Error::DataDir {
            path: dir.to_path_buf(),
            cause: std::io::Error::other(why.to_string()),
        };
        match std::fs::symlink_metadata(dir) {
            Ok(meta) if meta.file_type().is_symlink() || !meta.is_dir() => {
                return Err(refuse("it exists and is not a plain folder"));
            }
            Ok(meta)
                if meta.uid() != self.user.uid && meta.uid() != nix::unistd::geteuid().as_raw() =>
            {
                return Err(refuse("it belongs to another user"));
            }
            Ok(_) => {}
            Err(_) => std::fs::DirBuilder::new()
                .mode(mode)
                .create(dir)
                .map_err(|cause| Error::DataDir {
                    path: dir.to_path_buf(),
                    cause,
                })?,
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).map_err(Error::io(
            format!("cannot set permissions on {}", dir.display()),
        ))?;
        self.user.take_ownership(dir)
    }
}

/// `preferred` when nothing listens there, else a port the kernel picks.
fn choose_port(preferred: Option<u16>) -> Result<u16, Error> {
    if let Some(port) = preferred
        && TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
    {
        return Ok(port);
    }
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|addr| addr.port())
        .map_err(Error::io("cannot find a free port on 127.0.0.1"))
}

/// Writes a file only the lab's user can read.
pub(crate) fn write_private(path: &Path, contents: &str) -> Result<(), Error> {
    use std::os::unix::fs::OpenOptionsExt;
    let what = || format!("cannot write {}", path.display());
    let mut file = File::options()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(Error::io(what()))?;
    file.write_all(contents.as_bytes())
        .map_err(Error::io(what()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_preferred_port_is_replaced() {
        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = taken.local_addr().unwrap().port();
        let chosen = choose_port(Some(port)).unwrap();
        assert_ne!(chosen, port);
    }

    #[test]
    fn a_free_preferred_port_is_kept() {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert_eq!(choose_port(Some(port)).unwrap(), port);
    }
}
