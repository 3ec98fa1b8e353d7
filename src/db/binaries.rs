//! Finding the PostgreSQL server programs (`initdb`, `postgres`) already installed on this
//! machine. pglab never downloads a server: it uses what the package manager put there, and
//! when nothing is found it says exactly how to install it.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Error;

/// The oldest server major version pglab supports (the lessons use features of 13+).
pub const MIN_MAJOR_VERSION: u32 = 13;

/// A directory holding a usable set of PostgreSQL server programs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binaries {
    pub dir: PathBuf,
    /// Major version, read from `postgres --version`.
    pub major: u32,
    /// The full version line, e.g. `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`.
    pub version: String,
}

impl Binaries {
    pub fn initdb(&self) -> PathBuf {
        self.dir.join("initdb")
    }

    pub fn postgres(&self) -> PathBuf {
        self.dir.join("postgres")
    }

    /// `psql` usually lives beside the server programs; Debian also links it into `/usr/bin`.
    pub fn psql(&self) -> PathBuf {
        let beside = self.dir.join("psql");
        if beside.is_file() {
            beside
        } else {
            PathBuf::from("psql")
        }
    }
}

/// Where to look, in order. Built from the environment by [`SearchPath::from_env`]; tests build
/// their own to exercise each rule without touching the machine's real installation.
#[derive(Debug, Clone, Default)]
pub struct SearchPath {
    /// `PG_BINDIR`: when set it is the only candidate, so a wrong value is reported, not skipped.
    pub explicit: Option<PathBuf>,
    /// The answer of `pg_config --bindir`, if `pg_config` ran.
    pub pg_config: Option<PathBuf>,
    /// Parents whose versioned children hold a `bin/` (Debian `/usr/lib/postgresql/<v>`).
    pub versioned_parents: Vec<PathBuf>,
    /// Directories matching `<prefix><version>` (RHEL `/usr/pgsql-15`, Homebrew `postgresql@15`),
    /// given as (parent, name prefix, suffix below the match).
    pub versioned_prefixes: Vec<(PathBuf, String, PathBuf)>,
    /// `PATH`, in order.
    pub path: Vec<PathBuf>,
}

impl SearchPath {
    pub fn from_env() -> Self {
        let pg_config = Command::new("pg_config")
            .arg("--bindir")
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        Self {
            explicit: std::env::var_os("PG_BINDIR").map(PathBuf::from),
            pg_config,
            versioned_parents: vec![PathBuf::from("/usr/lib/postgresql")],
            versioned_prefixes: vec![
                (PathBuf::from("/usr"), "pgsql-".into(), PathBuf::from("bin")),
                (
                    PathBuf::from("/opt/homebrew/opt"),
                    "postgresql@".into(),
                    PathBuf::from("bin"),
                ),
                (
                    PathBuf::from("/usr/local/opt"),
                    "postgresql@".into(),
                    PathBuf::from("bin"),
                ),
            ],
            path: std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect())
                .unwrap_or_default(),
        }
    }

    /// Every candidate directory, in search order, newest version first within a family.
    fn candidates(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        out.extend(self.pg_config.clone());
        for parent in &self.versioned_parents {
            out.extend(newest_first(parent, "").into_iter().map(|d| d.join("bin")));
        }
        for (parent, prefix, below) in &self.versioned_prefixes {
            out.extend(
                newest_first(parent, prefix)
                    .into_iter()
                    .map(|d| d.join(below)),
            );
        }
        out.extend(self.path.iter().cloned());
        out
    }
}

/// Finds the first directory on the search path with `initdb` and `postgres` of a supported
/// version, and of major version `cluster_major` when an existing cluster needs it (a data
/// directory only runs under the major version that created it).
pub fn find(search: &SearchPath, cluster_major: Option<u32>) -> Result<Binaries, Error> {
    let matches = |found: Binaries| match cluster_major {
        Some(major) if found.major != major => Err(Unusable::OtherMajor {
            found: found.version,
            wanted: major,
        }),
        _ => Ok(found),
    };
    if let Some(dir) = &search.explicit {
        return probe(dir)
            .and_then(matches)
            .map_err(|why| Error::BadBinDir {
                dir: dir.clone(),
                why,
            });
    }
    let mut unusable = None;
    for dir in search.candidates() {
        match probe(&dir).and_then(matches) {
            Ok(found) => return Ok(found),
            // Worth naming if nothing usable turns up; missing programs are not.
            Err(why @ (Unusable::OtherMajor { .. } | Unusable::TooOld(_))) => {
                unusable.get_or_insert((dir, why));
            }
            Err(_) => {}
        }
    }
    Err(match unusable {
        Some((dir, why)) => Error::BadBinDir { dir, why },
        None => Error::NoBinaries,
    })
}

/// Why a directory cannot serve as the lab's server programs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error("it has no `initdb` and `postgres` programs")]
    Missing,
    #[error("`postgres --version` failed there ({0})")]
    Unrunnable(String),
    #[error("it holds {0}, and pglab needs PostgreSQL {MIN_MAJOR_VERSION} or newer")]
    TooOld(String),
    #[error(
        "it holds {found}, but the lab's cluster was created by PostgreSQL {wanted}; install \
         version {wanted} again, or delete the data directory's `cluster` folder to start a \
         fresh lab database"
    )]
    OtherMajor { found: String, wanted: u32 },
}

fn probe(dir: &Path) -> Result<Binaries, Unusable> {
    if !dir.join("initdb").is_file() || !dir.join("postgres").is_file() {
        return Err(Unusable::Missing);
    }
    let out = Command::new(dir.join("postgres"))
        .arg("--version")
        .output()
        .map_err(|e| Unusable::Unrunnable(e.to_string()))?;
    if !out.status.success() {
        return Err(Unusable::Unrunnable(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let major = parse_major(&version)
        .ok_or_else(|| Unusable::Unrunnable(format!("unexpected output {version:?}")))?;
    if major < MIN_MAJOR_VERSION {
        return Err(Unusable::TooOld(version));
    }
    Ok(Binaries {
        dir: dir.to_path_buf(),
        major,
        version,
    })
}

/// `postgres (PostgreSQL) 15.18 (Debian …)` → 15; `postgres (PostgreSQL) 9.6.24` → 9.
pub fn parse_major(version_line: &str) -> Option<u32> {
    let number = version_line
        .split_whitespace()
        .find(|word| word.starts_with(|c: char| c.is_ascii_digit()))?;
    number.split(['.', 'b', 'r']).next()?.parse().ok()
}

/// Children of `parent` named `<prefix><number>…`, highest number first.
fn newest_first(parent: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix(prefix)?;
            let major = version.split('.').next()?.parse().ok()?;
            Some((major, entry.path()))
        })
        .collect();
    found.sort_by_key(|(major, _)| std::cmp::Reverse(*major));
    found.into_iter().map(|(_, path)| path).collect()
}

/// How to get PostgreSQL onto this machine, or do without it. Shown when nothing is found.
pub const INSTALL_HELP: &str = "\
pglab runs its own private PostgreSQL, but it needs the server programs installed once:
  Debian/Ubuntu:  sudo apt-get install -y postgresql
  Fedora/RHEL:    sudo dnf install -y postgresql-server
  macOS:          brew install postgresql@16
If they live somewhere unusual, point PG_BINDIR at the folder holding `initdb` and `postgres`.
Or skip the private server and use any PostgreSQL 13+ (Supabase, RDS, a teacher's server):
  DATABASE_URL='postgres://user:password@host:5432/dbname' pglab";

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A fake `postgres` that prints a chosen version, and an empty `initdb`.
    fn fake_bin(dir: &Path, version: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let postgres = dir.join("postgres");
        std::fs::write(
            &postgres,
            format!("#!/bin/sh\necho 'postgres (PostgreSQL) {version}'\n"),
        )
        .unwrap();
        std::fs::set_permissions(&postgres, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("initdb"), "").unwrap();
    }

    /// A temporary folder, removed when the test ends.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("pglab-bin-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            Self(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn parses_major_versions() {
        assert_eq!(
            parse_major("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"),
            Some(15)
        );
        assert_eq!(parse_major("postgres (PostgreSQL) 9.6.24"), Some(9));
        assert_eq!(parse_major("postgres (PostgreSQL) 17beta1"), Some(17));
        assert_eq!(parse_major("garbage"), None);
    }

    #[test]
    fn prefers_the_newest_debian_style_version() {
        let scratch = Scratch::new("debian");
        let root = &scratch.0;
        fake_bin(&root.join("13/bin"), "13.4");
        fake_bin(&root.join("16/bin"), "16.2");
        fake_bin(&root.join("9.6/bin"), "9.6.24");
        let search = SearchPath {
            versioned_parents: vec![root.to_path_buf()],
            ..SearchPath::default()
        };
        let found = find(&search, None).unwrap();
        assert_eq!(found.dir, root.join("16/bin"));
        assert_eq!(found.major, 16);
    }

    #[test]
    fn an_existing_cluster_keeps_its_major_version() {
        let scratch = Scratch::new("major");
        let root = &scratch.0;
        fake_bin(&root.join("15/bin"), "15.8");
        fake_bin(&root.join("16/bin"), "16.2");
        let search = SearchPath {
            versioned_parents: vec![root.to_path_buf()],
            ..SearchPath::default()
        };
        assert_eq!(find(&search, Some(15)).unwrap().major, 15);
        let err = find(&search, Some(14)).unwrap_err().to_string();
        assert!(err.contains("created by PostgreSQL 14"), "{err}");
    }

    #[test]
    fn explicit_bindir_that_is_wrong_is_reported_not_skipped() {
        let scratch = Scratch::new("explicit");
        let root = &scratch.0;
        fake_bin(&root.join("good"), "15.1");
        let search = SearchPath {
            explicit: Some(root.join("missing")),
            path: vec![root.join("good")],
            ..SearchPath::default()
        };
        let err = find(&search, None).unwrap_err().to_string();
        assert!(err.contains("missing"), "{err}");
        assert!(err.contains("PG_BINDIR"), "{err}");
    }

    #[test]
    fn too_old_server_is_named_when_nothing_newer_exists() {
        let scratch = Scratch::new("old");
        let root = &scratch.0;
        fake_bin(root, "12.9");
        let search = SearchPath {
            path: vec![root.to_path_buf()],
            ..SearchPath::default()
        };
        let err = find(&search, None).unwrap_err().to_string();
        assert!(err.contains("12.9") && err.contains("13 or newer"), "{err}");
    }

    #[test]
    fn nothing_found_explains_how_to_install() {
        let search = SearchPath {
            path: vec![Scratch::new("empty").0.clone()],
            ..SearchPath::default()
        };
        let err = find(&search, None).unwrap_err().to_string();
        for needle in [
            "apt-get install",
            "dnf install",
            "brew install",
            "DATABASE_URL",
        ] {
            assert!(err.contains(needle), "missing {needle:?} in {err}");
        }
    }
}
