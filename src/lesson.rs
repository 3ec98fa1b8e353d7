//! Lessons as data: the validated lesson model the TUI plays and the CLI checks, read from
//! `lessons/index.toml` and one `lesson.toml` folder per lesson ([`Catalog::load`]); grading an
//! exercise attempt against the reference result ([`judge`], [`grade`]); and the learner's
//! saved progress ([`Progress`]). No database here: running SQL and measuring round trips and
//! plans is `db::grading`'s job and the proxy's, this module only says what to run and
//! whether the outcome passes.
//!
//! Submodules: `document` (spanned TOML access that records problems with their lines),
//! `manifest` (one `lesson.toml` and the files it names), `catalog` (the index, cross-lesson
//! checks, lookup), `source` (the built-in lessons or a folder, read under the same rules),
//! `grade` (verdicts that say why), `progress` (the state file), [`text`] (keys named
//! through the keymap, and each passage in its lab and plain-text forms).

mod catalog;
mod document;
mod grade;
mod manifest;
mod progress;
mod source;
pub mod text;

use std::path::PathBuf;

pub use catalog::{Catalog, LoadErrors, Problem};
pub use grade::{Attempt, Finding, Verdict, grade, judge};
pub use progress::{Completion, LessonProgress, PROGRESS_FILE, Progress, ProgressError};
pub use source::{Entry, MAX_FILE_BYTES, Source};

/// The `format_version` of `index.toml` this build reads.
pub const FORMAT_VERSION: i64 = 1;

/// The chapter's diagrams are numbered 1 to this; every lesson maps to one of them.
pub const DIAGRAM_COUNT: u8 = 11;

/// One lesson: a folder listed in the index, validated, with its files loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Lesson {
    /// Unique across the catalogue: `[a-z0-9-]+`, at most 32 characters.
    pub id: String,
    /// The lesson folder: the catalogue folder joined with the index's `dir`; for the
    /// built-in lessons, `lessons/<dir>` as in pglab's source tree (read from the binary).
    pub dir: PathBuf,
    /// The chapter diagram this lesson teaches, `1..=DIAGRAM_COUNT`, unique across lessons.
    pub diagram: u8,
    pub title: String,
    /// One line for the lesson list.
    pub summary: String,
    /// At least one.
    pub steps: Vec<Step>,
}

/// One step of a lesson, shown one at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub title: String,
    /// Presenter notes (shown by `pglab notes`), never to the learner.
    pub notes: Option<String>,
    /// The Markdown named by `text`, loaded; always present on a read step.
    pub body: Option<String>,
    pub kind: StepKind,
}

/// What a step does beyond showing its title and body.
#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    /// Prose only.
    Read,
    /// A text diagram revealed layer by layer; at least 2 layers, in reveal order, each
    /// without its trailing newline.
    Diagram {
        layers: Vec<String>,
    },
    /// SQL shown, then executed on the learner's connection.
    Run {
        sql: String,
    },
    /// A named Rust demo; the name and params were accepted by the demo validator at load.
    Demo {
        name: String,
        params: toml::Table,
    },
    Exercise(Exercise),
    Quiz(Quiz),
}

impl StepKind {
    /// The `kind` value in `lesson.toml`, for labels.
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Read => "read",
            StepKind::Diagram { .. } => "diagram",
            StepKind::Run { .. } => "run",
            StepKind::Demo { .. } => "demo",
            StepKind::Exercise(_) => "exercise",
            StepKind::Quiz(_) => "quiz",
        }
    }
}

/// SQL the learner writes, checked against a reference solution.
#[derive(Debug, Clone, PartialEq)]
pub struct Exercise {
    /// What the editor starts with.
    pub starter: String,
    /// The reference solution: its result is the expected one, and `lessons check` proves it
    /// passes its own check.
    pub solution: String,
    /// Revealed one at a time; at least one, none empty.
    pub hints: Vec<String>,
    pub check: Check,
}

/// What an attempt must satisfy; at least one part is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Check {
    /// Compare the rows with the reference solution's, in order or as a multiset.
    pub rows: Option<RowOrder>,
    /// At most this many round trips (at least 1).
    pub max_round_trips: Option<u64>,
    /// PostgreSQL plan node types (`"Hash Join"`) the plan must contain.
    pub plan_contains: Vec<String>,
    /// Plan node types the plan must not contain.
    pub plan_excludes: Vec<String>,
    /// The statement the plan and speed-up checks look at, run after the answer: an answer
    /// that creates an index is judged by the query it should speed up. Without it, they look
    /// at the answer itself.
    pub query: Option<String>,
    /// The checked statement, as planned, must run at least this many times faster than with
    /// index scans switched off (medians of several runs, measured when graded).
    pub min_speedup: Option<u32>,
    /// The attempt's round trips must raise no warning in the lab's query log (no lint, no
    /// N+1): `lint_free = true` in a lesson file.
    pub lint_free: bool,
}

impl Check {
    /// Whether the attempt's plan is needed (so the caller knows to EXPLAIN it).
    pub fn needs_plan(&self) -> bool {
        !self.plan_contains.is_empty() || !self.plan_excludes.is_empty()
    }

    /// The statement whose plan and speed are checked, given the learner's `answer`.
    pub fn target<'a>(&'a self, answer: &'a str) -> &'a str {
        self.query.as_deref().unwrap_or(answer)
    }
}

/// How result rows are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOrder {
    /// Same rows in the same order (the exercise asks for an ORDER BY).
    Ordered,
    /// Same rows, any order; duplicates still count.
    Unordered,
}

/// A multiple-choice question with exactly one correct option.
#[derive(Debug, Clone, PartialEq)]
pub struct Quiz {
    pub question: String,
    /// 2 to 6 options.
    pub options: Vec<QuizOption>,
}

impl Quiz {
    /// The index of the correct option (loading guarantees there is exactly one).
    pub fn correct_option(&self) -> Option<usize> {
        self.options.iter().position(|option| option.correct)
    }
}

/// One answer to a quiz; `why` is shown after it is chosen, right or wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuizOption {
    pub text: String,
    pub correct: bool,
    pub why: String,
}
