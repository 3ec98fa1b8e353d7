//! Lessons as data: the validated lesson model the TUI plays and the CLI checks, read from
//! `lessons/index.toml` and one `lesson.toml` folder per lesson ([`Catalog::load`]); grading an
//! exercise attempt against the reference result ([`judge`], [`grade`]); and the learner's
//! saved progress ([`Progress`]). No database here: running SQL and measuring round trips and
//! plans is `db::grading`'s job and the proxy's, this module only says what to run and
//! whether the outcome passes. A wrong answer is told why: the judge names the rows that
//! differ, and an exercise's diagnoses ([`Diagnosis`]) explain the mistakes its lesson
//! foresaw, each proven to fire by a wrong answer the lesson declares.
//!
//! Submodules: `document` (spanned TOML access that records problems with their lines),
//! `manifest` (one `lesson.toml` and the files it names), `catalog` (the index, cross-lesson
//! checks, lookup), `source` (the built-in lessons or a folder, read under the same rules),
//! `grade` (verdicts that say why), `progress` (the state file), [`text`] (keys named
//! through the keymap, and each passage in its lab and plain-text forms).

mod catalog;
mod document;
mod grade;
pub mod inputs;
mod manifest;
mod progress;
mod source;
pub mod text;

use std::path::PathBuf;

use crate::data::warning::WarningRule;

pub use catalog::{Catalog, LoadErrors, Problem, diagram_run};
pub use grade::{Attempt, Finding, Verdict, Why, grade, judge};
pub use progress::{Completion, LessonProgress, PROGRESS_FILE, Progress, ProgressError};
pub use source::{Entry, MAX_FILE_BYTES, Source};

/// The `format_version` of `index.toml` this build reads.
pub const FORMAT_VERSION: i64 = 1;

/// The chapter's diagrams are numbered 1 to this; every lesson maps to one of them.
pub const DIAGRAM_COUNT: u8 = 11;

/// A lesson's planned `minutes` are 1 to this: two hours is the longest lecture slot.
pub const MAX_MINUTES: u8 = 120;

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
    /// The minutes the lesson is planned to take in a lecture, `1..=MAX_MINUTES`.
    pub minutes: u8,
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
    /// The warning rules a run or demo step is about (`warnings = ["n_plus_one"]`): their
    /// warnings are shown in full under its result, any other folds into one line, and
    /// `lessons check` fails when one of them is not raised. `None`: every warning in full.
    pub warnings: Option<Vec<WarningRule>>,
    /// A screen of the lab a read step opens when run (`opens = "schema"`, or
    /// `opens = "tables"` with `tables = ["organizations", "users"]`).
    pub opens: Option<Opens>,
}

#[cfg(test)]
impl Step {
    /// A step with only a title and a kind, for unit tests.
    pub fn bare(title: &str, kind: StepKind) -> Self {
        Self {
            title: title.into(),
            notes: None,
            body: None,
            kind,
            warnings: None,
            opens: None,
        }
    }
}

/// A screen of the lab a lesson step can open; the plain-text runner prints it instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opens {
    /// The schema map, read from the catalog when it opens.
    Schema,
    /// The live tables view on these tables of the lessons' schema (1 to
    /// `data::tables::MAX_TABLES` plain names, checked when the lesson is read; whether
    /// they exist, when it runs).
    Tables(Vec<String>),
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
    /// Wrong answers the lesson expects, each with the diagnosis that must explain it:
    /// `lessons check` grades them, so every diagnosis is tested, not assumed.
    pub wrong: Vec<WrongAnswer>,
}

/// A wrong answer and the diagnosis (by name) its verdict must give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongAnswer {
    pub answer: String,
    pub expect: String,
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
    /// SQL run after the answer, which the checks look at instead of the answer itself: an
    /// answer that creates an index is judged by the plan and speed of the query it should
    /// speed up (one statement, then); an answer that changes a constraint, by the rows its
    /// last statement returns (a delete, then a select of what survived), run in a
    /// transaction that is rolled back, and compared with what it returns after the
    /// reference solution.
    pub query: Option<String>,
    /// The checked statement, as planned, must run at least this many times faster than with
    /// index scans switched off (medians of several runs, measured when graded).
    pub min_speedup: Option<u32>,
    /// The attempt's round trips must raise no warning in the lab's query log (no lint, no
    /// N+1): `lint_free = true` in a lesson file.
    pub lint_free: bool,
    /// Inputs a handler would receive (a normal one, a malicious one): the answer and the
    /// reference run once per input, `$1` bound to it and `{input}` replaced by its text as
    /// string formatting would, and their rows are compared labelled with the input
    /// (`inputs = [...]`, with `rows`). See [`inputs`].
    pub inputs: Vec<String>,
    /// Not a requirement: why an answer fails, for the wrong answers a lesson expects
    /// (`[[step.diagnosis]]`). Tried in order; the first whose conditions all hold explains
    /// a failing verdict.
    pub diagnoses: Vec<Diagnosis>,
}

impl Check {
    /// Whether the attempt's plan is needed (so the caller knows to EXPLAIN it).
    pub fn needs_plan(&self) -> bool {
        !self.plan_contains.is_empty() || !self.plan_excludes.is_empty()
    }

    /// Whether the rows compared are `query`'s, run after the answer, rather than the
    /// answer's own.
    pub fn rows_after_answer(&self) -> bool {
        self.rows.is_some() && self.query.is_some()
    }

    /// The statement whose plan and speed are checked, given the learner's `answer`.
    pub fn target<'a>(&'a self, answer: &'a str) -> &'a str {
        self.query.as_deref().unwrap_or(answer)
    }

    /// The queries the diagnoses compare an answer's extra and missing rows with, each once,
    /// in order: grading runs them when the check compares rows.
    pub fn diagnosis_queries(&self) -> Vec<&str> {
        let mut queries: Vec<&str> = Vec::new();
        for condition in self.diagnoses.iter().flat_map(|d| &d.when) {
            if let Condition::ExtraRowsIn(sql) | Condition::MissingRowsIn(sql) = condition
                && !queries.contains(&sql.as_str())
            {
                queries.push(sql);
            }
        }
        queries
    }
}

/// Why an answer is wrong, when it is wrong in a way the lesson foresaw: conditions on the
/// answer and its verdict, and the sentence that explains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// `[a-z0-9-]+`, unique in the exercise; what a wrong answer's `expect` names.
    pub name: String,
    /// At least one; all must hold.
    pub when: Vec<Condition>,
    /// Shown to the learner. `{extra}`, `{missing}` and `{round_trips}` are replaced with
    /// the answer's extra rows, its missing rows and its round-trip count.
    pub why: String,
}

/// One condition of a diagnosis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The answer's text holds one of these token patterns (`= null`): compared token by
    /// token, case aside, never inside a string or a comment.
    AnswerHas(Vec<String>),
    /// The answer's text holds none of these patterns.
    AnswerLacks(Vec<String>),
    /// The answer has extra rows, and each is a row this query returns (compared on the
    /// answer's columns; a query with one column more names each row with it).
    ExtraRowsIn(String),
    /// The answer lacks rows, and each is a row this query returns.
    MissingRowsIn(String),
    /// The verdict has a finding of this family.
    Fails(Failure),
    /// The lab's query log raised this rule's warning for the answer.
    Warned(WarningRule),
}

/// Families of findings a diagnosis can ask about (`fails = "columns"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Any finding about the rows (none, columns, missing, extra, order).
    Rows,
    Columns,
    Order,
    RoundTrips,
    Plan,
    Speedup,
    Lint,
}

impl Failure {
    pub const ALL: [Failure; 7] = [
        Failure::Rows,
        Failure::Columns,
        Failure::Order,
        Failure::RoundTrips,
        Failure::Plan,
        Failure::Speedup,
        Failure::Lint,
    ];

    /// The name lesson files use.
    pub fn name(self) -> &'static str {
        match self {
            Failure::Rows => "rows",
            Failure::Columns => "columns",
            Failure::Order => "order",
            Failure::RoundTrips => "round_trips",
            Failure::Plan => "plan",
            Failure::Speedup => "speedup",
            Failure::Lint => "lint",
        }
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
