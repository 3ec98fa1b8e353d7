//! How long creating the private cluster took, measured by the lab that created it and kept
//! in the data directory (`creation.toml`), so a lesson can show it later: `initdb`'s run,
//! then the first start until the server accepted connections. Written once, when the lab
//! creates the cluster; a data directory made before the lab recorded this has no record.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Layout;

/// What creating the cluster cost, as measured when it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Creation {
    /// When the cluster was created (RFC 3339, UTC).
    pub created_at: String,
    /// `initdb`, start to end, in microseconds.
    pub initdb_us: u64,
    /// The first start, from launching the server until it accepted connections, µs.
    pub first_start_us: u64,
}

impl Creation {
    pub fn new(initdb: Duration, first_start: Duration) -> Self {
        Self {
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            initdb_us: micros(initdb),
            first_start_us: micros(first_start),
        }
    }

    pub fn initdb(&self) -> Duration {
        Duration::from_micros(self.initdb_us)
    }

    pub fn first_start(&self) -> Duration {
        Duration::from_micros(self.first_start_us)
    }

    /// Writes the record into `layout`'s data directory.
    pub fn write(&self, layout: &Layout) -> std::io::Result<()> {
        let text = toml::to_string(self).map_err(std::io::Error::other)?;
        let header = "# Written by pglab when it created this cluster; lesson 3 shows it.\n";
        std::fs::write(path(layout), format!("{header}{text}"))
    }

    /// The record of `layout`'s cluster, if the lab that created it wrote one.
    pub fn read(layout: &Layout) -> Option<Self> {
        let text = std::fs::read_to_string(path(layout)).ok()?;
        toml::from_str(&text).ok()
    }
}

fn path(layout: &Layout) -> PathBuf {
    layout.root.join("creation.toml")
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_written() {
        let dir = std::env::temp_dir().join(format!("pglab-creation-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let layout = Layout::new(&dir);
        assert_eq!(Creation::read(&layout), None);
        let record = Creation::new(Duration::from_millis(812), Duration::from_micros(402_125));
        record.write(&layout).unwrap();
        let read = Creation::read(&layout).unwrap();
        assert_eq!(read, record);
        assert_eq!(read.first_start(), Duration::from_micros(402_125));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
