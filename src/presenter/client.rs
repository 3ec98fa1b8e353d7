//! A presenter view's side of the channel: the labs running on a data directory
//! ([`labs`]), a connection to one of them ([`connect`]), its messages in
//! ([`Connection::receive`]) and the presenter's keys out ([`Connection::drive`]).

use std::path::{Path, PathBuf};

use tokio::io::BufReader;
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use super::lines::{self, LineReader};
use super::{Error, MAX_LAB_LINE, folder};
use crate::data::presenter::{Drive, FromLab, FromNotes};

/// The sockets of the labs on `data_dir`, the most recently started first. Listed, not
/// checked: a dead lab's socket shows until a connection to it is refused.
pub fn labs(data_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder(data_dir)) else {
        return Vec::new();
    };
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "sock"))
        .map(|path| {
            let modified = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (modified, path)
        })
        .collect();
    found.sort_by(|a, b| b.cmp(a));
    found.into_iter().map(|(_, path)| path).collect()
}

/// A view's connection to one lab.
#[derive(Debug)]
pub struct Connection {
    pub path: PathBuf,
    reader: LineReader<BufReader<OwnedReadHalf>>,
    writer: OwnedWriteHalf,
}

/// Connects to the lab listening on `path`. A refused connection means the lab is gone:
/// its socket file is removed and [`Error::Stale`] returned.
pub async fn connect(path: &Path) -> Result<Connection, Error> {
    match UnixStream::connect(path).await {
        Ok(stream) => {
            let (read, writer) = stream.into_split();
            Ok(Connection {
                path: path.to_path_buf(),
                reader: LineReader::new(BufReader::new(read), MAX_LAB_LINE),
                writer,
            })
        }
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
            let _ = std::fs::remove_file(path);
            Err(Error::Stale(path.to_path_buf()))
        }
        Err(source) => Err(Error::Connect {
            path: path.to_path_buf(),
            source,
        }),
    }
}

impl Connection {
    /// The lab's next message: `Ok(None)` once it has gone, `Err` with the reason for a
    /// line that was not a message (dropped; the next call reads on). Cancel-safe.
    pub async fn receive(&mut self) -> Result<Option<FromLab>, String> {
        match self.reader.next().await {
            Ok(Some(line)) => lines::read(line).map(Some),
            Ok(None) | Err(_) => Ok(None),
        }
    }

    /// Presses `command`'s key on the lab.
    pub async fn drive(&mut self, command: Drive) -> std::io::Result<()> {
        lines::write(&mut self.writer, &FromNotes::Drive { command }).await
    }
}
