//! `pglab` on a terminal: the lab itself. Loads the lessons and the learner's progress —
//! refusing to start on a broken lesson file or a damaged progress file, with the reason —
//! then hands over to the runtime.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use crate::db::LabConfig;
use crate::lesson::{Catalog, PROGRESS_FILE, Progress};
use crate::runtime::{self, Journal};

/// The lab's log file's name in the data directory.
pub const JOURNAL_FILE: &str = "pglab.log";

/// Whether `pglab` without a command should open the lab: only with a terminal to draw on.
pub fn has_terminal() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// The lessons folder: `--lessons`/`PGLAB_LESSONS`, else the one pglab was built from.
pub fn lessons_dir(given: Option<&Path>) -> PathBuf {
    given.map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons"),
        Path::to_path_buf,
    )
}

/// Loads the catalogue, every problem in it reported as `file:line: what is wrong`.
pub fn load_catalog(dir: &Path) -> anyhow::Result<Catalog> {
    Catalog::load(dir, &crate::demo::validate).map_err(|problems| {
        anyhow::anyhow!(
            "the lessons in {} have problems:\n{problems}",
            dir.display()
        )
    })
}

pub fn run(config: &LabConfig, lessons: Option<&Path>) -> anyhow::Result<()> {
    let catalog = load_catalog(&lessons_dir(lessons))?;
    let progress_path = config.data_dir.join(PROGRESS_FILE);
    let progress = Progress::load(&progress_path).with_context(|| {
        format!(
            "your progress file {} cannot be read; move it away to start afresh",
            progress_path.display()
        )
    })?;
    runtime::run(runtime::Options {
        config: config.clone(),
        catalog: Arc::new(catalog),
        progress,
        progress_path,
        journal: Journal::open(&config.data_dir.join(JOURNAL_FILE)),
    })
}
