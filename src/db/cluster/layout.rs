//! Where the private cluster keeps its files inside the lab's data directory, and the one
//! place that knows the unix-socket path limit.

use std::path::{Path, PathBuf};

/// `sun_path` holds 108 bytes on Linux (104 on macOS) including the NUL; PostgreSQL appends
/// `/.s.PGSQL.<port>` (at most 17 bytes) to the socket directory. Stay under the smaller limit.
const MAX_SOCKET_PATH: usize = 103;
const LONGEST_SOCKET_NAME: &str = "/.s.PGSQL.65535.lock";

/// Paths of one lab data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The lab's data directory (`--data-dir`, `PGLAB_DATA_DIR`, or the per-user default).
    pub root: PathBuf,
}

impl Layout {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// PGDATA: owned by the user the server runs as.
    pub fn pgdata(&self) -> PathBuf {
        self.root.join("cluster")
    }

    /// The server's log, appended across runs and rotated by size.
    pub fn server_log(&self) -> PathBuf {
        self.root.join("postgres.log")
    }

    /// Role passwords, readable by the lab's user only.
    pub fn credentials(&self) -> PathBuf {
        self.root.join("credentials.toml")
    }

    /// Held shared by every running pglab; the keeper stops the server once it can take it
    /// exclusively, i.e. when no pglab is left. The kernel drops the lock of a killed process.
    pub fn lab_lock(&self) -> PathBuf {
        self.root.join("lab.lock")
    }

    /// Held exclusively while one pglab checks for and starts the server, so two labs opened
    /// at once do not both start one.
    pub fn start_lock(&self) -> PathBuf {
        self.root.join("start.lock")
    }

    /// The settings pglab owns (port, addresses, socket folder), included by `postgresql.conf`.
    pub fn managed_conf(&self) -> PathBuf {
        self.pgdata().join("pglab.conf")
    }

    pub fn pid_file(&self) -> PathBuf {
        self.pgdata().join("postmaster.pid")
    }

    /// The unix-socket folder: inside the data directory when the full socket path fits,
    /// otherwise a short per-user folder under the system's temporary directory.
    pub fn socket_dir(&self, uid: u32) -> PathBuf {
        let inside = self.root.join("run");
        if inside.as_os_str().len() + LONGEST_SOCKET_NAME.len() <= MAX_SOCKET_PATH {
            inside
        } else {
            short_socket_dir(&self.root, uid)
        }
    }
}

/// `/tmp/pglab-<uid>-<hash of the data dir>`: unique per data directory, always short.
fn short_socket_dir(root: &Path, uid: u32) -> PathBuf {
    let hash = crate::db::stable_hash([root.as_os_str().as_encoded_bytes()]);
    PathBuf::from("/tmp").join(format!("pglab-{uid}-{:08x}", hash as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_data_dir_keeps_the_socket_inside() {
        let layout = Layout::new("/home/ana/.local/share/pglab");
        assert_eq!(
            layout.socket_dir(1000),
            PathBuf::from("/home/ana/.local/share/pglab/run")
        );
    }

    #[test]
    fn deep_data_dir_moves_the_socket_to_a_short_stable_path() {
        let deep = format!("/home/ana/{}/pglab", "very-long-folder-name/".repeat(6));
        let layout = Layout::new(&deep);
        let dir = layout.socket_dir(1000);
        assert!(
            dir.to_string_lossy().starts_with("/tmp/pglab-1000-"),
            "{dir:?}"
        );
        assert!(dir.as_os_str().len() + LONGEST_SOCKET_NAME.len() <= MAX_SOCKET_PATH);
        assert_eq!(
            dir,
            Layout::new(&deep).socket_dir(1000),
            "stable across calls"
        );
        assert_ne!(dir, Layout::new(format!("{deep}2")).socket_dir(1000));
    }
}
