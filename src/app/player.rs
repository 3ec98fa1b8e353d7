//! The lesson player's state: which lesson and step, how much of a diagram is revealed,
//! the scroll position, and what each step produced when it ran (kept while the lesson is
//! open, so stepping back shows the numbers again).

use std::collections::HashMap;

use crate::demo::{DemoProgress, DemoReport};
use crate::lesson::Verdict;
use crate::query_log::{ScopeId, ScopeReport};

use super::command::RequestId;
use super::event::Ran;

/// What a step showed after it ran.
#[derive(Debug)]
pub enum StepOutput {
    /// A run step's statement and what the proxy counted for it.
    Query {
        ran: Ran,
        report: Option<ScopeReport>,
    },
    /// A demo: progress as it arrives, then its report (or why it failed).
    Demo {
        progress: Vec<DemoProgress>,
        report: Option<Result<DemoReport, String>>,
    },
    /// An exercise answer: the grade, or the error the answer ran into.
    Graded {
        verdict: Result<Verdict, String>,
        report: Option<ScopeReport>,
    },
}

/// A request the player waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    pub id: RequestId,
    pub step: usize,
    pub scope: Option<ScopeId>,
}

#[derive(Debug)]
pub struct PlayerState {
    /// Index into the catalogue's lessons.
    pub lesson: usize,
    pub step: usize,
    /// Diagram layers on screen (at least one).
    pub layers: usize,
    /// Lines scrolled down in the lesson pane.
    pub scroll: u16,
    pub notes: bool,
    pub outputs: HashMap<usize, StepOutput>,
    pub waiting: Option<Waiting>,
}

impl PlayerState {
    pub fn new(lesson: usize, step: usize) -> Self {
        Self {
            lesson,
            step,
            layers: 1,
            scroll: 0,
            notes: false,
            outputs: HashMap::new(),
            waiting: None,
        }
    }

    /// Moves to `step`, starting it at its top with one diagram layer showing.
    pub fn go_to(&mut self, step: usize) {
        self.step = step;
        self.layers = 1;
        self.scroll = 0;
    }
}
