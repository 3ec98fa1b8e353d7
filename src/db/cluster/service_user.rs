//! The operating-system user the database server runs as. PostgreSQL refuses to run as root,
//! so when pglab itself runs as root (CI, containers, classroom images) the server runs as
//! `postgres` (created by distribution packages) or else `nobody`, and every file the server
//! writes is handed to that user.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use nix::unistd::{Gid, Uid, User, chown};

use crate::db::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// True when pglab runs as root and must switch user for every server process.
    pub is_switched: bool,
}

impl ServiceUser {
    /// The user the server runs as, given who is running pglab.
    pub fn for_this_process() -> Result<Self, Error> {
        let euid = Uid::effective();
        if !euid.is_root() {
            let name = User::from_uid(euid)
                .ok()
                .flatten()
                .map_or_else(|| euid.to_string(), |u| u.name);
            return Ok(Self {
                name,
                uid: euid.as_raw(),
                gid: Gid::effective().as_raw(),
                is_switched: false,
            });
        }
        ["postgres", "nobody"]
            .iter()
            .find_map(|name| User::from_name(name).ok().flatten())
            .map(|user| Self {
                name: user.name,
                uid: user.uid.as_raw(),
                gid: user.gid.as_raw(),
                is_switched: true,
            })
            .ok_or(Error::NoServiceUser)
    }

    /// Makes `cmd` run as this user (a no-op unless pglab is root).
    pub fn apply(&self, cmd: &mut Command) {
        if self.is_switched {
            // std drops supplementary groups before setuid when the parent is root.
            cmd.uid(self.uid).gid(self.gid);
        }
    }

    /// Hands `path` to this user so the server can write there.
    pub fn take_ownership(&self, path: &Path) -> Result<(), Error> {
        if !self.is_switched {
            return Ok(());
        }
        chown(
            path,
            Some(Uid::from_raw(self.uid)),
            Some(Gid::from_raw(self.gid)),
        )
        .map_err(|errno| Error::Io {
            what: format!("cannot hand {} to user {}", path.display(), self.name),
            cause: errno.into(),
        })
    }

    /// Fails unless this user may enter every folder on the way to `dir`. Root can walk into
    /// `/root` (mode 0700); the server, running as `postgres`, cannot.
    pub fn check_can_reach(&self, dir: &Path) -> Result<(), Error> {
        if !self.is_switched {
            return Ok(());
        }
        for ancestor in dir.ancestors().filter(|a| !a.as_os_str().is_empty()) {
            let Ok(meta) = std::fs::metadata(ancestor) else {
                continue; // not created yet: pglab creates it, searchable by all
            };
            let mode = meta.mode();
            let searchable = if meta.uid() == self.uid {
                mode & 0o100 != 0
            } else if meta.gid() == self.gid {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            };
            if !searchable {
                return Err(Error::NotTraversable {
                    dir: dir.to_path_buf(),
                    user: self.name.clone(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn switched() -> ServiceUser {
        ServiceUser {
            name: "svc".into(),
            uid: 4242,
            gid: 4242,
            is_switched: true,
        }
    }

    #[test]
    fn a_folder_closed_to_others_blocks_the_service_user() {
        let base = std::env::temp_dir().join(format!("pglab-reach-{}", std::process::id()));
        let closed = base.join("closed");
        std::fs::create_dir_all(closed.join("inner")).unwrap();
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).unwrap();
        let err = switched()
            .check_can_reach(&closed.join("inner/pglab"))
            .unwrap_err();
        assert!(matches!(err, Error::NotTraversable { .. }), "{err}");
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o755)).unwrap();
        switched()
            .check_can_reach(&closed.join("inner/pglab"))
            .unwrap();
        std::fs::remove_dir_all(base).unwrap();
    }

    #[test]
    fn an_unswitched_user_is_never_blocked() {
        let me = ServiceUser {
            is_switched: false,
            ..switched()
        };
        me.check_can_reach(Path::new("/root/deep/pglab")).unwrap();
    }
}
