//! Settings resolved from the command line and the environment before anything starts.

use std::path::PathBuf;

use anyhow::{Context, bail};

use crate::cli::Cli;
use crate::db::LabConfig;
use crate::db::cluster::Supervision;

/// The lab's data directory when none is given: per user, where the platform keeps
/// application data. Root gets a system folder, because the database server (which cannot
/// run as root) must be able to enter it, and `/root` is closed to other users.
pub fn default_data_dir() -> anyhow::Result<PathBuf> {
    if nix::unistd::Uid::effective().is_root() {
        return Ok(PathBuf::from("/var/lib/pglab"));
    }
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(xdg).join("pglab"));
    }
    let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) else {
        bail!("HOME is not set, so pglab cannot pick a data directory; pass --data-dir");
    };
    let home = PathBuf::from(home);
    Ok(if cfg!(target_os = "macos") {
        home.join("Library/Application Support/pglab")
    } else {
        home.join(".local/share/pglab")
    })
}

impl LabConfig {
    /// The lab as the `pglab` program runs it: servers shared through a keeper process.
    pub fn from_cli(cli: &Cli) -> anyhow::Result<Self> {
        let data_dir = match &cli.data_dir {
            Some(dir) => std::path::absolute(dir)
                .with_context(|| format!("cannot resolve the data directory {}", dir.display()))?,
            None => default_data_dir()?,
        };
        let database_url = cli.database_url.clone().filter(|url| !url.is_empty());
        if let Some(url) = &database_url {
            crate::conninfo::check_scheme(url)
                .map_err(|why| crate::cli::Refused(format!("DATABASE_URL {why}")))?;
        }
        Ok(Self {
            database_url,
            data_dir,
            supervision: Supervision::Keeper,
        })
    }
}
