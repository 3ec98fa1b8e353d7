//! Passwords of the private cluster's roles, generated once and kept in the data directory
//! (mode 0600). The cluster uses password authentication even on loopback so that other
//! accounts on a shared machine cannot walk into a student's database.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Error;
use super::cluster::write_private;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// The bootstrap superuser `postgres`: creates roles and databases, nothing else.
    pub superuser: String,
    /// `pglab_owner`: runs migrations, seeds and resets.
    pub owner: String,
    /// `pglab_learner`: runs the learner's SQL.
    pub learner: String,
}

impl Credentials {
    /// Reads the stored passwords of an existing cluster; without them it cannot be entered.
    pub fn load(path: &Path) -> Result<Self, Error> {
        if !path.exists() {
            return Err(Error::Damaged {
                path: path.to_path_buf(),
                why: "it is missing, and the cluster beside it was created with its passwords"
                    .into(),
            });
        }
        Self::load_or_create(path)
    }

    /// Reads the stored passwords, or creates and stores new ones.
    pub fn load_or_create(path: &Path) -> Result<Self, Error> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| Error::Damaged {
                path: path.to_path_buf(),
                why: e.message().to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let fresh = Self {
                    superuser: random_password()?,
                    owner: random_password()?,
                    learner: random_password()?,
                };
                let text = toml::to_string(&fresh).map_err(|e| Error::Damaged {
                    path: path.to_path_buf(),
                    why: e.to_string(),
                })?;
                write_private(path, &format!("# pglab role passwords\n{text}"))?;
                Ok(fresh)
            }
            Err(e) => Err(Error::Io {
                what: format!("cannot read {}", path.display()),
                cause: e,
            }),
        }
    }
}

/// 24 random bytes from the kernel, hex-encoded: URL-safe, no quoting needed anywhere.
fn random_password() -> Result<String, Error> {
    use std::io::Read;
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(Error::io("cannot read /dev/urandom"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn created_once_then_read_back_private() {
        let dir = std::env::temp_dir().join(format!("pglab-cred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("credentials.toml");
        let _ = std::fs::remove_file(&path);
        let first = Credentials::load_or_create(&path).unwrap();
        let again = Credentials::load_or_create(&path).unwrap();
        assert_eq!(first, again);
        assert_ne!(first.owner, first.learner);
        assert_eq!(first.owner.len(), 48);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::remove_file(&path).unwrap();
        let err = Credentials::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("missing") && err.contains("fresh lab database"),
            "{err}"
        );
        assert!(
            !path.exists(),
            "loading must not invent passwords for an existing cluster"
        );
        std::fs::write(&path, "not = [toml").unwrap();
        let err = Credentials::load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("damaged"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
