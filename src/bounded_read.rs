//! Reading a file someone named — a lesson file, the progress file, a statement for
//! `pglab explain --file` — without trusting what is there: never more than a limit (a file
//! that grows while it is read included, since reading stops one byte past the limit), and,
//! where only a file will do, only a regular file, checked before opening and again on the
//! opened descriptor (opened non-blocking, so a FIFO swapped in between never blocks). The
//! callers word the refusals for their reader.

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::fcntl::OFlag;

/// Why a file's bytes could not be had.
#[derive(Debug)]
pub enum Unreadable {
    NotFound,
    /// A folder, a device, a FIFO, a socket; or a symbolic link where links are refused.
    NotRegular,
    /// Its size in bytes when it was known before reading, else `None` (a stream that went
    /// past the limit).
    TooLarge(Option<u64>),
    Io(io::Error),
}

/// Whether a path that is a symbolic link is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    Follow,
    Refuse,
}

/// The bytes of the regular file at `path`, at most `limit` of them.
pub fn read_regular(path: &Path, links: Links, limit: u64) -> Result<Vec<u8>, Unreadable> {
    let file = open_regular(path, links)?;
    let size = file.metadata().map_err(Unreadable::Io)?.len();
    if size > limit {
        return Err(Unreadable::TooLarge(Some(size)));
    }
    read_at_most(file, limit)
}

/// Opens the regular file at `path` for reading. Its type is checked on the path first (so
/// a device is never even opened) and then on the descriptor, in case the path changed in
/// between; `O_NONBLOCK` keeps that open from waiting for a FIFO's writer.
pub fn open_regular(path: &Path, links: Links) -> Result<File, Unreadable> {
    let metadata = match links {
        Links::Follow => std::fs::metadata(path),
        Links::Refuse => std::fs::symlink_metadata(path),
    }
    .map_err(from_io)?;
    if !metadata.is_file() {
        return Err(Unreadable::NotRegular);
    }
    let mut flags = OFlag::O_NONBLOCK;
    if links == Links::Refuse {
        flags |= OFlag::O_NOFOLLOW;
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits())
        .open(path)
        .map_err(|error| match error.raw_os_error() {
            Some(code) if code == nix::errno::Errno::ELOOP as i32 => Unreadable::NotRegular,
            _ => from_io(error),
        })?;
    if !file.metadata().map_err(Unreadable::Io)?.is_file() {
        return Err(Unreadable::NotRegular);
    }
    Ok(file)
}

/// Everything `reader` gives, unless that is more than `limit` bytes: then `TooLarge`, after
/// reading one byte past the limit and no more.
pub fn read_at_most(reader: impl Read, limit: u64) -> Result<Vec<u8>, Unreadable> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(Unreadable::Io)?;
    if bytes.len() as u64 > limit {
        return Err(Unreadable::TooLarge(None));
    }
    Ok(bytes)
}

fn from_io(error: io::Error) -> Unreadable {
    if error.kind() == ErrorKind::NotFound {
        Unreadable::NotFound
    } else {
        Unreadable::Io(error)
    }
}

/// A byte count as messages write limits: `256 KiB`, `8 MiB`.
pub fn size_words(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = KIB * KIB;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A scratch folder removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("pglab-bounded-read-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let scratch = Scratch::new("fifo");
        let fifo = scratch.0.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        for links in [Links::Follow, Links::Refuse] {
            assert!(matches!(
                read_regular(&fifo, links, 10),
                Err(Unreadable::NotRegular)
            ));
        }
        // Were the type check on the path skipped (the FIFO swapped in after it), opening is
        // still non-blocking and the descriptor's own type refuses it.
        let opened = OpenOptions::new()
            .read(true)
            .custom_flags(OFlag::O_NONBLOCK.bits())
            .open(&fifo)
            .unwrap();
        assert!(!opened.metadata().unwrap().is_file());
    }

    #[test]
    fn devices_and_links_to_them_are_refused_and_streams_stop_at_the_limit() {
        let scratch = Scratch::new("devices");
        let zero = scratch.0.join("zero.md");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(matches!(
            read_regular(Path::new("/dev/zero"), Links::Follow, 10),
            Err(Unreadable::NotRegular)
        ));
        assert!(matches!(
            read_regular(&zero, Links::Follow, 10),
            Err(Unreadable::NotRegular)
        ));
        assert!(matches!(
            read_regular(&zero, Links::Refuse, 10),
            Err(Unreadable::NotRegular)
        ));
        // A stream named on purpose is read, but never past the limit.
        let endless = File::open("/dev/zero").unwrap();
        assert!(matches!(
            read_at_most(endless, 1 << 20),
            Err(Unreadable::TooLarge(None))
        ));
        assert_eq!(read_at_most(&b"select 1"[..], 8).unwrap(), b"select 1");
    }

    #[test]
    fn links_are_followed_only_when_asked_and_sizes_are_checked_first() {
        let scratch = Scratch::new("links");
        let real = scratch.0.join("real.json");
        std::fs::write(&real, "0123456789").unwrap();
        let link = scratch.0.join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(
            read_regular(&link, Links::Follow, 10).unwrap(),
            b"0123456789"
        );
        assert!(matches!(
            read_regular(&link, Links::Refuse, 10),
            Err(Unreadable::NotRegular)
        ));
        assert!(matches!(
            read_regular(&real, Links::Refuse, 9),
            Err(Unreadable::TooLarge(Some(10)))
        ));
        assert!(matches!(
            read_regular(&scratch.0, Links::Follow, 9),
            Err(Unreadable::NotRegular)
        ));
        assert!(matches!(
            read_regular(&scratch.0.join("gone"), Links::Follow, 9),
            Err(Unreadable::NotFound)
        ));
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size_words(256 * 1024), "256 KiB");
        assert_eq!(size_words(8 << 20), "8 MiB");
        assert_eq!(size_words(1000), "1000 bytes");
    }
}
