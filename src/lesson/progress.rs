//! The learner's progress, per lesson id: the step they are on, the furthest step seen, passed
//! exercises, quiz answers, hints revealed and solutions given up for; and its file.
//!
//! The file is pretty-printed JSON (`progress.json` in the data directory), so a learner can
//! read it, sync it or hand it in:
//!
//! ```json
//! {
//!   "format_version": 1,
//!   "lessons": {
//!     "n-plus-one": {
//!       "step": 4, "reached": 5, "passed": [4], "quiz_answers": { "5": 1 },
//!       "hints_revealed": { "4": 2 }, "gave_up": []
//!     }
//!   }
//! }
//! ```
//!
//! Step numbers are 0-based indices into the lesson's steps. Saving is atomic (a temp file in
//! the same folder, fsync, rename), so a crash leaves the old file or the new one, never half;
//! a damaged file is an error naming it and is never overwritten silently. The file is read
//! as a regular file of at most [`MAX_PROGRESS_BYTES`] (a link to it is followed, so it can
//! live in a synced folder).
//!
//! Two labs may share a data directory, each holding the progress it loaded: a save merges
//! (see [`merge`]) what this lab changed since it last saved into what the file holds now, under
//! an exclusive lock on `progress.json.lock` beside it, so neither lab's work is lost.

mod merge;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Lesson, StepKind};
use crate::bounded_read::{self, Links, Unreadable, size_words};

/// The progress file's usual name inside the data directory.
pub const PROGRESS_FILE: &str = "progress.json";

/// The largest progress file read: a learner who opened every lesson and answered everything
/// has a few kilobytes.
pub const MAX_PROGRESS_BYTES: u64 = 1024 * 1024;

/// The `format_version` this build writes and reads.
const PROGRESS_VERSION: u32 = 1;

/// Reading or writing the progress file failed.
#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error("cannot read the progress file {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "the progress file {} is not a regular file (a folder, a FIFO or a device); move it \
         aside to start over",
        path.display()
    )]
    NotRegular { path: PathBuf },
    #[error(
        "the progress file {} is larger than {}, far more than progress takes; move it \
         aside to start over",
        path.display(),
        size_words(MAX_PROGRESS_BYTES)
    )]
    TooLarge { path: PathBuf },
    #[error(
        "the progress file {} is damaged ({source}); move it aside to start over \
         (pglab will not overwrite it)",
        path.display()
    )]
    Damaged {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "the progress file {} has format_version {found}, newer than this pglab reads \
         ({PROGRESS_VERSION}); update pglab",
        path.display()
    )]
    Newer { path: PathBuf, found: u32 },
    #[error("cannot save progress to {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// Progress in every lesson the learner opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    format_version: u32,
    #[serde(default)]
    lessons: BTreeMap<String, LessonProgress>,
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            format_version: PROGRESS_VERSION,
            lessons: BTreeMap::new(),
        }
    }
}

/// Progress in one lesson. Fields default when absent so older files keep loading.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LessonProgress {
    step: usize,
    /// The furthest step shown; `None` until the lesson is opened.
    reached: Option<usize>,
    passed: BTreeSet<usize>,
    quiz_answers: BTreeMap<usize, usize>,
    hints_revealed: BTreeMap<usize, usize>,
    gave_up: BTreeSet<usize>,
}

/// What `Progress::lesson` returns for a lesson never opened.
static NOT_STARTED: LessonProgress = LessonProgress {
    step: 0,
    reached: None,
    passed: BTreeSet::new(),
    quiz_answers: BTreeMap::new(),
    hints_revealed: BTreeMap::new(),
    gave_up: BTreeSet::new(),
};

/// How much of a lesson is done, for the list's progress marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    pub done: usize,
    pub total: usize,
}

impl Completion {
    pub fn is_complete(&self) -> bool {
        self.done == self.total
    }

    /// `done / total` from 0.0 to 1.0 (1.0 for a lesson without steps).
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.done as f64 / self.total as f64
        }
    }
}

impl Progress {
    /// Reads the progress file; a missing file is a fresh start.
    pub fn load(path: &Path) -> Result<Progress, ProgressError> {
        let bytes = match bounded_read::read_regular(path, Links::Follow, MAX_PROGRESS_BYTES) {
            Ok(bytes) => bytes,
            Err(Unreadable::NotFound) => return Ok(Progress::default()),
            Err(Unreadable::NotRegular) => {
                let path = path.to_path_buf();
                return Err(ProgressError::NotRegular { path });
            }
            Err(Unreadable::TooLarge(_)) => {
                let path = path.to_path_buf();
                return Err(ProgressError::TooLarge { path });
            }
            Err(Unreadable::Io(source)) => {
                let path = path.to_path_buf();
                return Err(ProgressError::Read { path, source });
            }
        };
        let progress: Progress =
            serde_json::from_slice(&bytes).map_err(|source| ProgressError::Damaged {
                path: path.to_path_buf(),
                source,
            })?;
        if progress.format_version > PROGRESS_VERSION {
            let path = path.to_path_buf();
            let found = progress.format_version;
            return Err(ProgressError::Newer { path, found });
        }
        Ok(progress)
    }

    /// Saves this progress (a lab's whole state) to `path`, keeping what other labs saved
    /// there: under the file's lock, what this lab changed since `base` (the state it loaded
    /// or last saved) is merged into the file's current content (see [`merge`]), and the
    /// result is written atomically, creating the folder if needed.
    pub fn save(&self, base: &Progress, path: &Path) -> Result<(), ProgressError> {
        let write_error = |source| ProgressError::Write {
            path: path.to_path_buf(),
            source,
        };
        let _lock = lock(path).map_err(write_error)?;
        let theirs = Progress::load(path)?;
        merge::merge(base, self, theirs)
            .write_atomically(path)
            .map_err(write_error)
    }

    fn write_atomically(&self, path: &Path) -> io::Result<()> {
        let name = path.file_name().ok_or_else(|| {
            io::Error::new(ErrorKind::InvalidInput, "the path does not name a file")
        })?;
        let dir = folder_of(path);
        fs::create_dir_all(dir)?;
        let mut json = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        json.push(b'\n');
        // Same folder as the target, so the rename stays on one filesystem and is atomic.
        let temp = dir.join(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        let written = File::create(&temp)
            .and_then(|mut file| {
                file.write_all(&json)?;
                file.sync_all()
            })
            .and_then(|()| fs::rename(&temp, path));
        if written.is_err() {
            // Nothing useful to do if removing the temp file fails too; report the first error.
            let _ = fs::remove_file(&temp);
        }
        written?;
        // Make the rename itself durable. Some filesystems refuse to fsync a directory; the
        // file is already in place then, so that is no reason to report failure.
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// The progress in lesson `id` (not started if never opened).
    pub fn lesson(&self, id: &str) -> &LessonProgress {
        self.lessons.get(id).unwrap_or(&NOT_STARTED)
    }

    fn entry(&mut self, id: &str, step: usize) -> &mut LessonProgress {
        let lesson = self.lessons.entry(id.to_string()).or_default();
        lesson.reached = Some(lesson.reached.map_or(step, |reached| reached.max(step)));
        lesson
    }

    /// The learner is on `step` (which counts as seen).
    pub fn set_step(&mut self, id: &str, step: usize) {
        self.entry(id, step).step = step;
    }

    /// The exercise at `step` passed its check.
    pub fn mark_passed(&mut self, id: &str, step: usize) {
        self.entry(id, step).passed.insert(step);
    }

    /// The learner chose `option` (0-based) in the quiz at `step`; the last answer counts.
    pub fn answer_quiz(&mut self, id: &str, step: usize, option: usize) {
        self.entry(id, step).quiz_answers.insert(step, option);
    }

    /// Reveals one more hint of the exercise at `step`, up to `available`; returns how many
    /// are revealed now.
    pub fn reveal_hint(&mut self, id: &str, step: usize, available: usize) -> usize {
        let lesson = self.entry(id, step);
        let revealed = lesson.hints_revealed.entry(step).or_default();
        *revealed = (*revealed + 1).min(available);
        *revealed
    }

    /// The learner gave up on the exercise at `step` and was shown the solution.
    pub fn give_up(&mut self, id: &str, step: usize) {
        self.entry(id, step).gave_up.insert(step);
    }

    /// Forgets everything about lesson `id`.
    pub fn reset_lesson(&mut self, id: &str) {
        self.lessons.remove(id);
    }

    pub fn reset_all(&mut self) {
        self.lessons.clear();
    }

    /// Whether step `index` of `lesson` is done: an exercise passed, a quiz answered right,
    /// any other step seen.
    fn is_done(&self, lesson: &Lesson, index: usize) -> bool {
        let progress = self.lesson(&lesson.id);
        match lesson.steps.get(index).map(|s| &s.kind) {
            Some(StepKind::Exercise(_)) => progress.is_passed(index),
            Some(StepKind::Quiz(quiz)) => {
                let answer = progress.quiz_answer(index);
                answer.is_some() && answer == quiz.correct_option()
            }
            Some(_) => progress.has_seen(index),
            None => false,
        }
    }

    /// Steps done in `lesson`: exercises passed, quizzes answered right, other steps seen.
    pub fn completion(&self, lesson: &Lesson) -> Completion {
        let done = (0..lesson.steps.len())
            .filter(|index| self.is_done(lesson, *index))
            .count();
        Completion {
            done,
            total: lesson.steps.len(),
        }
    }

    /// The steps of `lesson` not done yet, in order (0-based).
    pub fn unfinished(&self, lesson: &Lesson) -> Vec<usize> {
        (0..lesson.steps.len())
            .filter(|index| !self.is_done(lesson, *index))
            .collect()
    }

    pub fn is_complete(&self, lesson: &Lesson) -> bool {
        self.completion(lesson).is_complete()
    }
}

/// Holds the exclusive lock on `path`'s lock file (`progress.json.lock`, created beside it and
/// never removed: removing it would let two labs lock two different files) until dropped.
fn lock(path: &Path) -> io::Result<File> {
    let mut name = path
        .file_name()
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "the path does not name a file"))?
        .to_os_string();
    name.push(".lock");
    let dir = folder_of(path);
    fs::create_dir_all(dir)?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(name))?;
    file.lock()?;
    Ok(file)
}

/// The folder `path` is in (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

impl LessonProgress {
    /// The step to show, kept inside a lesson of `step_count` steps (a lesson may have lost
    /// steps since the file was saved).
    pub fn current_step(&self, step_count: usize) -> usize {
        self.step.min(step_count.saturating_sub(1))
    }

    pub fn is_started(&self) -> bool {
        self.reached.is_some()
    }

    pub fn has_seen(&self, step: usize) -> bool {
        self.reached.is_some_and(|reached| step <= reached)
    }

    pub fn is_passed(&self, step: usize) -> bool {
        self.passed.contains(&step)
    }

    /// The option chosen in the quiz at `step`, if answered.
    pub fn quiz_answer(&self, step: usize) -> Option<usize> {
        self.quiz_answers.get(&step).copied()
    }

    /// How many hints of the exercise at `step` are revealed.
    pub fn hints_revealed(&self, step: usize) -> usize {
        self.hints_revealed.get(&step).copied().unwrap_or(0)
    }

    pub fn gave_up(&self, step: usize) -> bool {
        self.gave_up.contains(&step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::{Check, Exercise, Quiz, QuizOption, Step};

    /// A scratch folder under the system temp dir, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("pglab-progress-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            Self(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn step(kind: StepKind) -> Step {
        Step::bare("t", kind)
    }

    fn lesson() -> Lesson {
        let option = |correct| QuizOption {
            text: "x".into(),
            correct,
            why: "y".into(),
        };
        Lesson {
            id: "n-plus-one".into(),
            dir: PathBuf::from("lessons/08-n-plus-one"),
            diagram: 8,
            minutes: 15,
            title: "N+1".into(),
            summary: "s".into(),
            steps: vec![
                step(StepKind::Read),
                step(StepKind::Exercise(Exercise {
                    starter: "select".into(),
                    solution: "select 1".into(),
                    hints: vec!["h1".into(), "h2".into()],
                    check: Check::default(),
                    wrong: Vec::new(),
                })),
                step(StepKind::Quiz(Quiz {
                    question: "q".into(),
                    options: vec![option(false), option(true)],
                })),
            ],
        }
    }

    #[test]
    fn completion_counts_seen_passed_and_right_answers() {
        let lesson = lesson();
        let mut progress = Progress::default();
        assert_eq!(
            progress.completion(&lesson),
            Completion { done: 0, total: 3 }
        );
        assert!(!progress.lesson("n-plus-one").is_started());
        progress.set_step("n-plus-one", 0);
        assert_eq!(progress.completion(&lesson).done, 1);
        progress.set_step("n-plus-one", 2);
        assert_eq!(
            progress.completion(&lesson).done,
            1,
            "seeing a quiz is not answering it"
        );
        progress.answer_quiz("n-plus-one", 2, 0);
        assert_eq!(
            progress.completion(&lesson).done,
            1,
            "a wrong answer is not done"
        );
        assert_eq!(progress.unfinished(&lesson), [1, 2]);
        progress.answer_quiz("n-plus-one", 2, 1);
        progress.mark_passed("n-plus-one", 1);
        assert!(progress.is_complete(&lesson));
        assert!(progress.unfinished(&lesson).is_empty());
        assert_eq!(progress.completion(&lesson).ratio(), 1.0);
        progress.reset_lesson("n-plus-one");
        assert_eq!(progress.completion(&lesson).done, 0);
    }

    #[test]
    fn hints_stop_at_the_last_one_and_flags_stick() {
        let mut progress = Progress::default();
        assert_eq!(progress.reveal_hint("a", 1, 2), 1);
        assert_eq!(progress.reveal_hint("a", 1, 2), 2);
        assert_eq!(progress.reveal_hint("a", 1, 2), 2);
        assert_eq!(progress.lesson("a").hints_revealed(1), 2);
        assert_eq!(progress.lesson("a").hints_revealed(3), 0);
        progress.give_up("a", 1);
        assert!(progress.lesson("a").gave_up(1));
        assert!(!progress.lesson("b").gave_up(1));
        progress.set_step("a", 7);
        assert_eq!(
            progress.lesson("a").current_step(3),
            2,
            "clamped to the lesson"
        );
        assert_eq!(progress.lesson("a").current_step(0), 0);
        progress.reset_all();
        assert_eq!(progress, Progress::default());
    }

    #[test]
    fn save_then_load_round_trips_and_creates_the_folder() {
        let scratch = Scratch::new("round-trip");
        let path = scratch.0.join("nested").join(PROGRESS_FILE);
        let mut progress = Progress::default();
        progress.set_step("n-plus-one", 3);
        progress.answer_quiz("n-plus-one", 5, 1);
        progress.reveal_hint("n-plus-one", 4, 3);
        progress.mark_passed("n-plus-one", 4);
        progress.save(&Progress::default(), &path).unwrap();
        assert_eq!(Progress::load(&path).unwrap(), progress);
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        let lock = format!("{PROGRESS_FILE}.lock");
        assert_eq!(names.len(), 2, "no temp file left behind: {names:?}");
        assert!(names.contains(&PROGRESS_FILE.into()) && names.contains(&lock.into()));
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("\"quiz_answers\": {\n        \"5\": 1"),
            "{text}"
        );
    }

    #[test]
    fn missing_file_is_a_fresh_start() {
        let scratch = Scratch::new("missing");
        let progress = Progress::load(&scratch.0.join(PROGRESS_FILE)).unwrap();
        assert_eq!(progress, Progress::default());
    }

    #[test]
    fn damaged_or_newer_file_is_an_error_naming_it_and_is_kept() {
        let scratch = Scratch::new("damaged");
        fs::create_dir_all(&scratch.0).unwrap();
        let path = scratch.0.join(PROGRESS_FILE);
        fs::write(&path, "{ not json").unwrap();
        let error = Progress::load(&path).unwrap_err();
        assert!(matches!(error, ProgressError::Damaged { .. }));
        let message = error.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("move it aside"), "{message}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "{ not json");

        fs::write(&path, r#"{ "format_version": 2, "lessons": {} }"#).unwrap();
        let error = Progress::load(&path).unwrap_err();
        assert!(
            matches!(error, ProgressError::Newer { found: 2, .. }),
            "{error}"
        );
    }

    #[test]
    fn older_files_without_some_fields_load() {
        let scratch = Scratch::new("older");
        fs::create_dir_all(&scratch.0).unwrap();
        let path = scratch.0.join(PROGRESS_FILE);
        fs::write(
            &path,
            r#"{ "format_version": 1, "lessons": { "a": { "step": 2 } } }"#,
        )
        .unwrap();
        let progress = Progress::load(&path).unwrap();
        assert_eq!(progress.lesson("a").current_step(5), 2);
        assert!(!progress.lesson("a").is_started());
    }

    #[test]
    fn two_labs_saving_different_lessons_in_turn_keep_both() {
        let scratch = Scratch::new("two-labs");
        let path = scratch.0.join(PROGRESS_FILE);
        // Both labs start from the same (empty) file and each saves its whole state.
        let (mut first, mut second) = (Progress::default(), Progress::default());
        let (mut first_saved, mut second_saved) = (first.clone(), second.clone());
        for step in 0..3 {
            first.set_step("n-plus-one", step);
            first.save(&first_saved, &path).unwrap();
            first_saved = first.clone();
            second.mark_passed("indexes", step + 10);
            second.save(&second_saved, &path).unwrap();
            second_saved = second.clone();
        }
        let kept = Progress::load(&path).unwrap();
        assert_eq!(kept.lesson("n-plus-one").current_step(9), 2);
        assert!((10..13).all(|step| kept.lesson("indexes").is_passed(step)));
    }

    /// Labs saving at the same moment, as threads (the lock is per open file, so threads
    /// contend for it as processes do): every lab's every save survives.
    #[test]
    fn concurrent_saves_lose_nothing() {
        let scratch = Scratch::new("concurrent");
        let path = scratch.0.join(PROGRESS_FILE);
        let labs: Vec<_> = (0..4)
            .map(|lab| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let id = format!("lesson-{lab}");
                    let mut progress = Progress::default();
                    let mut saved = progress.clone();
                    for step in 0..25 {
                        progress.mark_passed(&id, step);
                        progress.save(&saved, &path).unwrap();
                        saved = progress.clone();
                    }
                })
            })
            .collect();
        for lab in labs {
            lab.join().unwrap();
        }
        let kept = Progress::load(&path).unwrap();
        for lab in 0..4 {
            let lesson = kept.lesson(&format!("lesson-{lab}"));
            assert!((0..25).all(|step| lesson.is_passed(step)), "lab {lab}");
        }
    }

    #[test]
    fn a_progress_file_that_is_no_file_or_too_large_is_refused_by_name() {
        let scratch = Scratch::new("not-a-file");
        fs::create_dir_all(&scratch.0).unwrap();
        let path = scratch.0.join(PROGRESS_FILE);
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let error = Progress::load(&path).unwrap_err();
        assert!(matches!(error, ProgressError::NotRegular { .. }), "{error}");
        assert!(error.to_string().contains(&path.display().to_string()));
        fs::remove_file(&path).unwrap();
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let error = Progress::load(&path).unwrap_err();
        assert!(matches!(error, ProgressError::NotRegular { .. }), "{error}");
        fs::remove_file(&path).unwrap();
        fs::write(&path, vec![b' '; MAX_PROGRESS_BYTES as usize + 1]).unwrap();
        let error = Progress::load(&path).unwrap_err();
        assert!(error.to_string().contains("larger than 1 MiB"), "{error}");
    }
}
