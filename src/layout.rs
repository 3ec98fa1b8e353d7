//! Where each pane goes on a terminal of a given size: pure geometry, shared by the views
//! (which draw into these rectangles) and the model (which hit-tests the mouse wheel and
//! sizes a page of the plan with them), so the two always agree. Nothing here depends on
//! what a pane shows.
//!
//! Presenting mode has its own geometry: the lesson pane takes the width, the query log
//! shrinks to a strip of one or two rows, and the step's headline number gets a band of its
//! own, sized to the pane, when it fits without crowding out the step.

use ratatui::layout::{Constraint, Layout, Rect};

/// The main pane's width when the query log is beside it, at least: room for the lessons'
/// widest diagram (88 columns inside the border) and a plan with its detail panel.
const MAIN_BESIDE_LOG: u16 = 92;
/// The narrowest query log worth putting beside the main pane.
const SIDE_LOG_MIN: u16 = 40;
/// Plan panes at least this wide (border included) show the node detail beside the tree.
const PLAN_DETAIL_BESIDE: u16 = 110;

/// Where each pane goes on a terminal of the given size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub main: Rect,
    pub log: Rect,
    pub status: Rect,
    pub footer: Rect,
}

/// Bodies at least this tall give the presenting strip two rows (counters, then the latest
/// statement); shorter ones one.
const STRIP_TWO_ROWS: u16 = 24;

/// The panes of a terminal `width` × `height`; `presenting` keeps the log to a strip.
pub fn areas(width: u16, height: u16, presenting: bool) -> Areas {
    let area = Rect::new(0, 0, width, height);
    let [body, status, footer] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    // Beside the main pane only when both get their room; otherwise the log goes below and
    // the main pane takes the whole width.
    let (main, log) = if presenting {
        let strip = if body.height >= STRIP_TWO_ROWS { 2 } else { 1 };
        let [main, log] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(strip)]).areas(body);
        (main, log)
    } else if width >= MAIN_BESIDE_LOG + SIDE_LOG_MIN {
        let log_width = (width - MAIN_BESIDE_LOG).clamp(SIDE_LOG_MIN, 70);
        let [main, log] =
            Layout::horizontal([Constraint::Min(1), Constraint::Length(log_width)]).areas(body);
        (main, log)
    } else {
        let log_height = (body.height / 4).clamp(3, 10).min(body.height / 2);
        let [main, log] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(log_height)]).areas(body);
        (main, log)
    };
    Areas {
        main,
        log,
        status,
        footer,
    }
}

/// Inside a pane's one-cell border.
pub fn inner(area: Rect) -> Rect {
    Rect {
        x: area.x.saturating_add(1),
        y: area.y.saturating_add(1),
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    }
}

/// The plan tree's area and the node detail panel's, inside the plan pane's border; no
/// panel when there is no room for one.
pub fn plan_panes(inner: Rect) -> (Rect, Option<Rect>) {
    if inner.width + 2 >= PLAN_DETAIL_BESIDE {
        let width = (inner.width * 2 / 5).clamp(40, 64);
        let [tree, detail] =
            Layout::horizontal([Constraint::Min(1), Constraint::Length(width)]).areas(inner);
        (tree, Some(detail))
    } else if inner.height >= 8 {
        let height = (inner.height * 9 / 20).clamp(4, 14);
        let [tree, detail] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(height)]).areas(inner);
        (tree, Some(detail))
    } else {
        (inner, None)
    }
}

/// Lines of the plan tree on screen in a plan pane `main`: a page of nodes.
pub fn plan_tree_height(main: Rect) -> usize {
    usize::from(plan_panes(inner(main)).0.height)
}

/// How large a headline number is drawn: each of the font's 8×8 pixels a whole cell, half
/// a cell's height, or a quarter of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Full,
    HalfHeight,
    Quadrant,
}

impl Scale {
    /// Cells one character takes: columns, rows.
    pub fn cell(self) -> (u16, u16) {
        match self {
            Scale::Full => (8, 8),
            Scale::HalfHeight => (8, 4),
            Scale::Quadrant => (4, 4),
        }
    }
}

/// Lesson panes at least this tall inside give a headline full-size pixels.
const HEADLINE_FULL: u16 = 30;
/// Below this, a headline would crowd the step: none is drawn.
const HEADLINE_SMALLEST: u16 = 20;

/// The lesson pane's inside `inner` split for a headline of `chars` characters: the step's
/// area, the headline's band (a blank row, the number, its label) and the scale it is drawn
/// at; `None` when no scale fits the width or the pane is too short to spare the rows.
pub fn headline(inner: Rect, chars: u16) -> Option<(Rect, Rect, Scale)> {
    if inner.height < HEADLINE_SMALLEST {
        return None;
    }
    let sizes: &[Scale] = if inner.height >= HEADLINE_FULL {
        &[Scale::Full, Scale::HalfHeight, Scale::Quadrant]
    } else {
        &[Scale::HalfHeight, Scale::Quadrant]
    };
    let scale = sizes
        .iter()
        .copied()
        .find(|s| s.cell().0.saturating_mul(chars) <= inner.width)?;
    let band = scale.cell().1 + 2;
    let [step, band] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(band)]).areas(inner);
    Some((step, band, scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_moves_beside_the_main_pane_on_wide_terminals() {
        let narrow = areas(80, 24, false);
        assert_eq!(narrow.main.width, 80);
        assert!(narrow.log.y > narrow.main.y);
        let wide = areas(160, 40, false);
        assert!(wide.log.x > wide.main.x);
        assert_eq!(wide.log.height, wide.main.height);
        // Beside the log, the main pane keeps room for a lesson's widest diagram.
        for width in 120..300 {
            let areas = areas(width, 40, false);
            assert!(
                areas.log.x == 0 || areas.main.width >= MAIN_BESIDE_LOG,
                "{width}"
            );
        }
        assert_eq!(
            areas(120, 40, false).main.width,
            120,
            "at 120 columns the log goes below"
        );
    }

    #[test]
    fn tiny_terminals_still_get_a_layout() {
        for (w, h) in [(1, 1), (20, 5), (0, 0), (20, 40)] {
            for presenting in [false, true] {
                let areas = areas(w, h, presenting);
                assert!(areas.main.height <= h && areas.log.height <= h);
                assert!(inner(areas.main).width <= w);
            }
        }
    }

    #[test]
    fn presenting_gives_the_lesson_the_width_and_the_log_a_strip() {
        for (width, height, strip) in [(80, 24, 1), (100, 30, 2), (120, 40, 2), (140, 40, 2)] {
            let areas = areas(width, height, true);
            assert_eq!(areas.main.width, width);
            assert_eq!(areas.log.height, strip, "{width}×{height}");
            assert_eq!(areas.log.y, areas.main.y + areas.main.height);
        }
    }

    #[test]
    fn the_headline_shrinks_with_the_pane_and_leaves_the_step_most_of_it() {
        let inside = |width, height| inner(areas(width, height, true).main);
        let scale = |width, height, chars| headline(inside(width, height), chars).map(|h| h.2);
        assert_eq!(scale(120, 40, 5), Some(Scale::Full));
        assert_eq!(scale(140, 40, 5), Some(Scale::Full));
        assert_eq!(scale(100, 30, 5), Some(Scale::HalfHeight));
        assert_eq!(scale(100, 30, 14), Some(Scale::Quadrant));
        assert_eq!(scale(100, 30, 40), None);
        assert_eq!(scale(80, 24, 2), None);
        for (width, height) in [(100, 30), (120, 40), (140, 40)] {
            let (step, band, _) = headline(inside(width, height), 3).expect("a headline");
            assert!(step.height >= band.height * 2, "{width}×{height}");
            assert_eq!(band.y, step.y + step.height);
        }
    }

    #[test]
    fn the_plan_detail_goes_beside_a_wide_tree_and_below_a_narrow_one() {
        let (tree, detail) = plan_panes(Rect::new(1, 1, 150, 30));
        assert!(detail.is_some_and(|d| d.x > tree.x));
        let (tree, detail) = plan_panes(Rect::new(1, 1, 80, 30));
        assert!(detail.is_some_and(|d| d.y > tree.y));
        assert!(plan_panes(Rect::new(1, 1, 18, 5)).1.is_none());
    }
}
