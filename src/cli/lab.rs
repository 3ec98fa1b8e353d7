//! `pglab` on a terminal: the lab itself. Loads the lessons and the learner's progress —
//! refusing to start on a broken lesson file or a damaged progress file, with the reason —
//! then hands over to the runtime.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use crate::db::LabConfig;
use crate::lesson::{Catalog, PROGRESS_FILE, Progress, Source};
use crate::runtime::{self, Journal};
use crate::ui::theme::Theme;

/// The lab's log file's name in the data directory.
pub const JOURNAL_FILE: &str = "pglab.log";

/// Whether `pglab` without a command should open the lab: only with a terminal to draw on.
pub fn has_terminal() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// The lessons: the folder `--lessons`/`PGLAB_LESSONS` names, else the ones built into the
/// binary (so an installed or copied `pglab` needs no folder beside it).
pub fn lessons_source(given: Option<&Path>) -> Source {
    given.map_or_else(Source::built_in, |dir| Source::Folder(dir.to_path_buf()))
}

/// Loads the catalogue, every problem in it reported as `file:line: what is wrong`.
pub fn load_catalog(source: Source) -> anyhow::Result<Catalog> {
    let named = source.to_string();
    Catalog::load_from(source, &crate::demo::validate)
        .map_err(|problems| anyhow::anyhow!("{named} have problems:\n{problems}"))
}

pub fn run(
    config: &LabConfig,
    lessons: Option<&Path>,
    theme: Theme,
    present: bool,
) -> anyhow::Result<()> {
    let catalog = load_catalog(lessons_source(lessons))?;
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
        theme,
        present,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_folder_the_lessons_come_from_the_binary() {
        // Not `CARGO_MANIFEST_DIR/lessons`: an installed binary's build folder may be gone.
        assert!(matches!(lessons_source(None), Source::Embedded(_)));
        let folder = Path::new("/srv/course/lessons");
        assert_eq!(
            lessons_source(Some(folder)),
            Source::Folder(folder.to_path_buf())
        );
    }
}
