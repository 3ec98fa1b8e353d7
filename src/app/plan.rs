//! The plan screen's state and its part of [`App::update`]: the explained statement, the
//! selected node (the view keeps it on screen), and the plan explained before it for the
//! diff view.

use crate::keymap::Context;
use crate::scroll::{Jump, Scroll};

use super::{Action, App, Screen, event};

/// The plan screen's state: what was explained, the node the detail panel shows, and the
/// plan explained before it (for the diff view). The view keeps the selected node on
/// screen; the diff view scrolls by intents.
#[derive(Debug)]
pub struct PlanState {
    pub sql: String,
    pub explained: Box<event::Explained>,
    /// Index of the selected node in `explained.plan.nodes`.
    pub selected: usize,
    /// Pages moved through the tree, so a page down past the last node shows what follows it.
    pub tree_scroll: Scroll<()>,
    /// The statement explained before this one; kept so that a change (an index, a
    /// rewrite) can be compared with what came before it.
    pub previous: Option<Box<PreviousPlan>>,
    /// The diff view (previous vs this plan) is showing instead of the tree.
    pub diff: bool,
    pub diff_scroll: Scroll<()>,
}

/// A plan that was replaced on the plan screen by a newer one.
#[derive(Debug)]
pub struct PreviousPlan {
    pub sql: String,
    pub explained: Box<event::Explained>,
}

impl PlanState {
    /// A fresh plan screen for `explained`, remembering the plan it replaces.
    pub fn new(sql: String, explained: Box<event::Explained>, replaced: Option<PlanState>) -> Self {
        Self {
            sql,
            explained,
            selected: 0,
            tree_scroll: Scroll::default(),
            previous: replaced.map(|old| {
                Box::new(PreviousPlan {
                    sql: old.sql,
                    explained: old.explained,
                })
            }),
            diff: false,
            diff_scroll: Scroll::default(),
        }
    }

    /// Moves the selection by `delta` nodes.
    pub(super) fn select(&mut self, delta: isize) {
        let last = self.explained.plan.nodes.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }
}

/// The plan screen's part of [`App::update`].
impl App {
    pub(super) fn update_plan(&mut self, action: Action) {
        // A page of nodes is the tree pane's height, less a line of context.
        let page = crate::layout::plan_tree_height(self.areas().main)
            .saturating_sub(1)
            .max(1) as isize;
        let Some(plan) = self.plan.as_mut() else {
            self.screen = Screen::Console;
            return;
        };
        match action {
            Action::Up if plan.diff => plan.diff_scroll.lines(-1),
            Action::Down if plan.diff => plan.diff_scroll.lines(1),
            Action::PageUp if plan.diff => plan.diff_scroll.pages(-1),
            Action::PageDown if plan.diff => plan.diff_scroll.pages(1),
            Action::Up => plan.select(-1),
            Action::Down => plan.select(1),
            Action::PageUp => {
                plan.select(-page);
                plan.tree_scroll.pages(-1);
            }
            Action::PageDown => {
                plan.select(page);
                plan.tree_scroll.pages(1);
            }
            Action::ToggleDiff if plan.previous.is_none() => {
                let explain = crate::keymap::key_for(Context::Console, &Action::Explain);
                self.notice = Some(format!(
                    "Nothing to compare yet: explain another statement first ({explain})."
                ));
            }
            Action::ToggleDiff => {
                plan.diff = !plan.diff;
                plan.diff_scroll.jump(Jump::Top);
            }
            Action::Back => {
                plan.diff = false;
                self.screen = Screen::Console;
            }
            _ => {}
        }
    }
}
