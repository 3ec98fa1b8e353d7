//! The presenter channel: how a lab and `pglab notes` in another terminal find and talk to
//! each other. Each lab listens on a Unix socket of its own, `<data dir>/presenter/<pid>.sock`
//! (the directory 0700, the socket 0600: only the lab's user can connect), and speaks
//! newline-delimited JSON ([`crate::data::presenter`]): the lab sends a hello, then a
//! snapshot whenever what the presenter sees changed; the view sends drive commands (→, ←,
//! Enter). Every line is bounded ([`lines`]); a line too long, not UTF-8 or not a message
//! is dropped with a journal line, and a peer that hangs up mid-line is simply gone.
//!
//! Why a socket in the data directory and not the database's LISTEN/NOTIFY:
//! - It works before and without the database. The lab shows its lesson list while the
//!   database starts, and a database that died must not take the instructor's remote with
//!   it in the middle of a lecture.
//! - Nobody with database access can forge a drive command. Any role that can connect —
//!   the learner role, or every student sharing a course's `DATABASE_URL` — can NOTIFY any
//!   channel; on a shared database a student could drive the projector. The socket's
//!   permissions admit the lab's own user and no one else.
//! - The notes never pass through the database: they stay on the presenting machine.
//! - Two machines (notes on a laptop, lab on the projector's): run `pglab notes` over ssh on
//!   the presenting machine; ssh carries the terminal, the socket stays local.
//!
//! Several labs on one data directory each have their own socket; a view lists them
//! ([`client::labs`]) and removes the sockets of labs that died without cleaning up (a
//! connection to them is refused). [`server`] is the lab's side, [`client`] the view's.

pub mod client;
pub mod lines;
pub mod server;

use std::path::{Path, PathBuf};

/// The folder of the labs' sockets, inside the data directory.
pub const DIR: &str = "presenter";

/// Longest line a lab reads from a view: a drive command is a few dozen bytes.
pub const MAX_NOTES_LINE: usize = 1024;

/// Longest line a view reads from a lab: a snapshot carries one step's notes, which a lesson
/// file bounds (`lesson::MAX_FILE_BYTES`), escaped as JSON.
pub const MAX_LAB_LINE: usize = 1024 * 1024;

/// Something the presenter channel could not do; the message names the path.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot prepare the presenter folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen for presenter views on {path}: {source}")]
    Listen {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot reach the lab at {path}: {source}")]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The socket's lab is gone (the connection was refused); its file was removed.
    #[error("the lab at {0} is gone; its socket was removed")]
    Stale(PathBuf),
}

/// `<data dir>/presenter`.
pub fn folder(data_dir: &Path) -> PathBuf {
    data_dir.join(DIR)
}

/// The socket of the lab with process id `pid`.
pub fn socket_path(data_dir: &Path, pid: u32) -> PathBuf {
    folder(data_dir).join(format!("{pid}.sock"))
}
