//! What crosses the presenter channel between a lab and `pglab notes`, one JSON object per
//! line: the lab's [`Hello`] and [`Snapshot`]s ([`FromLab`]), the presenter's [`Drive`]
//! commands ([`FromNotes`]). The lab computes the snapshot from its state
//! (`app::presenter`); `presenter` carries it; the notes view draws it.

use serde::{Deserialize, Serialize};

/// A message from the lab to a presenter view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromLab {
    /// Sent once, first: which lab this is.
    Hello(Hello),
    /// Sent after the hello and again whenever something the presenter sees changed.
    Snapshot(Box<Published>),
}

/// A message from a presenter view to the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromNotes {
    /// Press a key of the lesson player on the projected lab.
    Drive { command: Drive },
}

/// The lesson player's keys a presenter view can press.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Drive {
    /// → : the next diagram layer, else the next step.
    Next,
    /// ← : the previous step.
    Previous,
    /// Enter: what the step does (its SQL, its demo, its exercise, the screen it opens).
    Activate,
}

/// Which lab is talking: enough to tell two labs on one data directory apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub pid: u32,
    /// The lab's terminal (`/dev/pts/3`), when the system says.
    pub terminal: Option<String>,
    /// When the lab started, local time, RFC 3339.
    pub started_at: String,
    /// Where the lab's data lives when the view connected (the snapshot keeps it current).
    pub database: String,
}

/// A snapshot as published: the lab's state and the times the runtime measured for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub snapshot: Snapshot,
    pub elapsed: Elapsed,
}

/// Time as the lab measured it when the snapshot was sent; a view adds the time since it
/// arrived (to the lesson's only while `lesson_running`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Elapsed {
    /// How long the open lesson has been open, summed over this run of the lab.
    pub lesson_ms: u64,
    /// Whether the lesson's time is running now (its player or a screen it opened is up).
    pub lesson_running: bool,
    /// Since the lab started.
    pub session_ms: u64,
}

/// What a presenter needs to see of the lab, computed from its state alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// `--present`: the lab is on the projector.
    pub presenting: bool,
    /// The screen the lab shows.
    pub screen: LabScreen,
    /// Where the lab's data lives (password-free), as its status bar says.
    pub database: String,
    /// The lesson open in the player, if any.
    pub lesson: Option<LessonSnapshot>,
    /// The last notice the lab showed (a refused drive command says why here).
    pub notice: Option<String>,
}

/// A screen of the lab, as a presenter view names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabScreen {
    #[default]
    LessonList,
    Lesson,
    Console,
    Plan,
    Audit,
    Schema,
    Tables,
}

impl LabScreen {
    /// `the lesson list`, `the SQL console`, … for sentences.
    pub fn name(self) -> &'static str {
        match self {
            LabScreen::LessonList => "lesson list",
            LabScreen::Lesson => "lesson",
            LabScreen::Console => "SQL console",
            LabScreen::Plan => "plan",
            LabScreen::Audit => "audit timeline",
            LabScreen::Schema => "schema map",
            LabScreen::Tables => "tables view",
        }
    }
}

/// The open lesson and its step, as a presenter drives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonSnapshot {
    /// The lesson's id: its time is kept under it.
    pub id: String,
    /// The chapter diagram it teaches (the lesson's number).
    pub number: u8,
    pub title: String,
    /// Planned minutes (`minutes` in lesson.toml).
    pub minutes: u8,
    /// 1-based.
    pub step: usize,
    pub steps: usize,
    pub step_title: String,
    /// The step's presenter notes (Markdown, keys already named), if it has any.
    pub notes: Option<String>,
    pub next_title: Option<String>,
    /// What → does now: `reveal layer 3 of 4`, `next step: TITLE`, `last step`.
    pub next_key: String,
    /// What Enter does now, if anything: `run the demo (took 1.25 s last time)`.
    pub enter_key: Option<String>,
    /// The step's SQL or demo is running now.
    pub running: bool,
    /// Round trips the step's last run measured, if it ran.
    pub round_trips: Option<u64>,
}
