//! The lab's side of the presenter channel: a socket presenter views connect to. Each view
//! gets the hello, the latest snapshot, then every snapshot published after it (a `watch`
//! channel: a slow view skips to the newest); what the views send and who comes and goes
//! is handed to the lab as [`News`]. Dropping the [`Server`] closes the socket and removes
//! its file.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::BufReader;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

use super::lines::{self, LineReader};
use super::{Error, MAX_NOTES_LINE};
use crate::data::presenter::{Drive, FromLab, FromNotes, Hello, Published};

/// A view that has not taken a message in this long is dropped: a frozen view must not
/// hold a task forever.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the presenter views did, for the lab to act on and journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum News {
    /// A view connected; `views` follow the lab now.
    Attached { views: usize },
    /// A view went away; `views` are left.
    Detached { views: usize },
    /// A view pressed a key.
    Drive(Drive),
    /// A view sent something that is not a message; it was dropped.
    Refused(String),
}

/// The listening socket; dropped, it stops listening and removes its file.
#[derive(Debug)]
pub struct Server {
    path: PathBuf,
    accepting: tokio::task::AbortHandle,
}

impl Server {
    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.accepting.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Listens on `path` (its folder made 0700, the socket 0600). A file already there is a
/// dead lab's that had this lab's process id: it is replaced. Each view that connects is
/// greeted with `hello` (its `database` as the latest snapshot says), then follows
/// `published`; `news` hears what they do. Must be called inside a tokio runtime.
pub fn listen(
    path: PathBuf,
    hello: Hello,
    published: watch::Receiver<Published>,
    news: impl Fn(News) + Send + Sync + 'static,
) -> Result<Server, Error> {
    let listener = bind(&path)?;
    let news: Arc<dyn Fn(News) + Send + Sync> = Arc::new(news);
    let views = Arc::new(AtomicUsize::new(0));
    let accepting = tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let hello = Hello {
                        database: published.borrow().snapshot.database.clone(),
                        ..hello.clone()
                    };
                    tokio::spawn(serve(
                        stream,
                        hello,
                        published.clone(),
                        news.clone(),
                        views.clone(),
                    ));
                }
                Err(error) => {
                    news(News::Refused(format!("accepting a view failed: {error}")));
                    // Out of file descriptors, say: try again later, without spinning.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    })
    .abort_handle();
    Ok(Server { path, accepting })
}

fn bind(path: &Path) -> Result<UnixListener, Error> {
    let listen_error = |source| Error::Listen {
        path: path.to_path_buf(),
        source,
    };
    if let Some(folder) = path.parent() {
        let folder_error = |source| Error::Folder {
            path: folder.to_path_buf(),
            source,
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)
            .map_err(folder_error)?;
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700))
            .map_err(folder_error)?;
    }
    let listener = match std::os::unix::net::UnixListener::bind(path) {
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
            std::fs::remove_file(path).map_err(listen_error)?;
            std::os::unix::net::UnixListener::bind(path)
        }
        bound => bound,
    }
    .map_err(listen_error)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(listen_error)?;
    listener.set_nonblocking(true).map_err(listen_error)?;
    UnixListener::from_std(listener).map_err(listen_error)
}

/// One view, until it hangs up or stops reading.
async fn serve(
    stream: UnixStream,
    hello: Hello,
    mut published: watch::Receiver<Published>,
    news: Arc<dyn Fn(News) + Send + Sync>,
    views: Arc<AtomicUsize>,
) {
    news(News::Attached {
        views: views.fetch_add(1, Ordering::SeqCst) + 1,
    });
    let (read, mut write) = stream.into_split();
    let mut reader = LineReader::new(BufReader::new(read), MAX_NOTES_LINE);
    let first = published.borrow_and_update().clone();
    let mut open = send(&mut write, FromLab::Hello(hello)).await
        && send(&mut write, FromLab::Snapshot(Box::new(first))).await;
    while open {
        tokio::select! {
            changed = published.changed() => {
                let latest = published.borrow_and_update().clone();
                open = changed.is_ok() && send(&mut write, FromLab::Snapshot(Box::new(latest))).await;
            }
            line = reader.next() => match line {
                Ok(Some(line)) => match lines::read::<FromNotes>(line) {
                    Ok(FromNotes::Drive { command }) => news(News::Drive(command)),
                    Err(why) => news(News::Refused(format!("a presenter view sent {why}; dropped"))),
                },
                Ok(None) | Err(_) => open = false,
            },
        }
    }
    news(News::Detached {
        views: views.fetch_sub(1, Ordering::SeqCst) - 1,
    });
}

/// Whether `message` reached the view in time.
async fn send(write: &mut tokio::net::unix::OwnedWriteHalf, message: FromLab) -> bool {
    tokio::time::timeout(WRITE_TIMEOUT, lines::write(write, &message))
        .await
        .is_ok_and(|sent| sent.is_ok())
}
