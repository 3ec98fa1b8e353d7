//! The lab's log file (`pglab.log` in the data directory): what happened, for the person
//! debugging a session afterwards. The terminal belongs to the UI, so nothing is printed.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Appends timestamped lines to a file; a journal that could not be opened stays silent.
/// Clones write to the same file (background tasks keep one).
#[derive(Debug, Clone)]
pub struct Journal {
    file: Option<Arc<Mutex<File>>>,
}

impl Journal {
    pub fn open(path: &Path) -> Self {
        let file = path
            .parent()
            .map(std::fs::create_dir_all)
            .transpose()
            .ok()
            .and_then(|_| OpenOptions::new().create(true).append(true).open(path).ok());
        Self {
            file: file.map(|file| Arc::new(Mutex::new(file))),
        }
    }

    pub fn write(&self, line: &str) {
        if let Some(file) = &self.file
            && let Ok(mut file) = file.lock()
        {
            let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S%.3f");
            let _ = writeln!(file, "{now} {line}");
        }
    }
}
