//! What the model asks a scrolling pane to show, without knowing how tall the content or
//! the pane is. [`App::update`](crate::app::App::update) records intents — "down a line",
//! "a page up", "back to the top", "show the layer just revealed" — in a [`Scroll`]; the
//! view resolves them against the lines it actually drew (ratatui's `StatefulWidget`
//! pattern: the view keeps the offset, clamped to what exists).
//!
//! Moves are summed since the last jump, so key presses that arrive between two frames all
//! count, and a view drawn afresh (a test, a new terminal) lands where an incremental one
//! would. Each jump carries a serial, so the view applies it once.

/// Where a jump puts the pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jump<T> {
    /// The first line at the top.
    #[default]
    Top,
    /// The last line at the bottom: "follow the newest output".
    Bottom,
    /// Something the view can find in its lines (a diagram layer, the notes, a result):
    /// as much of it on screen as fits, its first line first.
    Show(T),
}

/// The scroll intents recorded for one pane. `T` names what a [`Jump::Show`] can point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scroll<T> {
    jump: Jump<T>,
    /// Counts the jumps: the view applies a jump when this differs from the last it saw.
    serial: u64,
    /// Lines moved since the jump, down positive.
    lines: i64,
    /// Pages moved since the jump, down positive.
    pages: i64,
}

impl<T> Default for Scroll<T> {
    fn default() -> Self {
        Self {
            jump: Jump::Top,
            serial: 0,
            lines: 0,
            pages: 0,
        }
    }
}

impl<T: Copy> Scroll<T> {
    /// Moves by `lines` (down positive).
    pub fn lines(&mut self, lines: i64) {
        self.lines = self.lines.saturating_add(lines);
    }

    /// Moves by `pages` pane heights (down positive).
    pub fn pages(&mut self, pages: i64) {
        self.pages = self.pages.saturating_add(pages);
    }

    /// Forgets earlier moves and puts the pane at `jump`.
    pub fn jump(&mut self, jump: Jump<T>) {
        self.jump = jump;
        self.serial += 1;
        self.lines = 0;
        self.pages = 0;
    }
}

/// A pane's viewport, kept by its view between frames: the first line shown, and how much
/// of the model's [`Scroll`] it has applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Viewport {
    /// The first line shown.
    pub offset: usize,
    /// The jump serial applied last; `None` before the first frame.
    serial: Option<u64>,
    lines: i64,
    pages: i64,
}

impl Viewport {
    /// Applies what `scroll` asks that this viewport has not applied yet, for `content`
    /// lines in a pane `height` lines high; `find` gives the line range of a
    /// [`Jump::Show`] target, if the content has it. Returns the offset to draw from,
    /// clamped so the last line is never above the bottom.
    pub fn resolve<T: Copy>(
        &mut self,
        scroll: &Scroll<T>,
        content: usize,
        height: usize,
        find: impl Fn(T) -> Option<std::ops::Range<usize>>,
    ) -> usize {
        let last = content.saturating_sub(height);
        if self.serial != Some(scroll.serial) {
            self.offset = match scroll.jump {
                Jump::Top => 0,
                Jump::Bottom => last,
                Jump::Show(target) => match find(target) {
                    // The target's end comes into view, then its start wins if it is
                    // taller than the pane.
                    Some(range) => range
                        .end
                        .saturating_sub(height)
                        .max(self.offset.min(range.start))
                        .min(range.start),
                    None => self.offset,
                },
            };
            self.serial = Some(scroll.serial);
            self.lines = 0;
            self.pages = 0;
        }
        let page = i64::try_from(height.saturating_sub(1).max(1)).unwrap_or(i64::MAX);
        let moved = (scroll.lines - self.lines)
            .saturating_add((scroll.pages - self.pages).saturating_mul(page));
        (self.lines, self.pages) = (scroll.lines, scroll.pages);
        let offset = i64::try_from(self.offset.min(last)).unwrap_or(i64::MAX);
        self.offset = usize::try_from(offset.saturating_add(moved).max(0))
            .unwrap_or(0)
            .min(last);
        self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: ()) -> Option<std::ops::Range<usize>> {
        None
    }

    #[test]
    fn moves_are_clamped_to_the_content() {
        let mut scroll = Scroll::default();
        let mut view = Viewport::default();
        assert_eq!(view.resolve(&scroll, 100, 10, none), 0);
        scroll.lines(-3);
        assert_eq!(view.resolve(&scroll, 100, 10, none), 0, "not above the top");
        scroll.lines(5);
        assert_eq!(
            view.resolve(&scroll, 100, 10, none),
            5,
            "only the new moves count"
        );
        scroll.pages(100);
        assert_eq!(
            view.resolve(&scroll, 100, 10, none),
            90,
            "the last line at the bottom"
        );
        scroll.lines(-1);
        assert_eq!(view.resolve(&scroll, 100, 10, none), 89, "back up at once");
    }

    #[test]
    fn a_page_keeps_one_line_of_context() {
        let mut scroll = Scroll::<()>::default();
        scroll.pages(1);
        assert_eq!(Viewport::default().resolve(&scroll, 100, 10, none), 9);
    }

    #[test]
    fn a_jump_is_applied_once_and_later_moves_count_from_it() {
        let mut scroll = Scroll::<()>::default();
        let mut view = Viewport::default();
        scroll.lines(4);
        scroll.jump(Jump::Bottom);
        assert_eq!(view.resolve(&scroll, 50, 10, none), 40);
        scroll.lines(-2);
        assert_eq!(view.resolve(&scroll, 50, 10, none), 38);
        assert_eq!(
            view.resolve(&scroll, 60, 10, none),
            38,
            "more content: stays"
        );
        assert_eq!(
            Viewport::default().resolve(&scroll, 50, 10, none),
            38,
            "a fresh view lands in the same place"
        );
    }

    #[test]
    fn a_shown_target_comes_into_view_start_first() {
        let find = |range: (usize, usize)| move |_: ()| Some(range.0..range.1);
        let mut scroll = Scroll::default();
        scroll.jump(Jump::Show(()));
        // Below the pane: scrolled until its end is on screen.
        assert_eq!(
            Viewport::default().resolve(&scroll, 100, 10, find((30, 35))),
            25
        );
        // Taller than the pane: its start at the top.
        assert_eq!(
            Viewport::default().resolve(&scroll, 100, 10, find((30, 60))),
            30
        );
        // Already on screen: nothing moves.
        let mut view = Viewport {
            offset: 20,
            ..Viewport::default()
        };
        assert_eq!(view.resolve(&scroll, 100, 10, find((22, 25))), 20);
        // Above the pane: its start at the top.
        let mut view = Viewport {
            offset: 50,
            ..Viewport::default()
        };
        assert_eq!(view.resolve(&scroll, 100, 10, find((22, 25))), 22);
        // Gone: nothing moves.
        let mut view = Viewport {
            offset: 7,
            ..Viewport::default()
        };
        assert_eq!(view.resolve(&scroll, 100, 10, none), 7);
    }
}
