//! Where each pane goes on a terminal of a given size: pure geometry, shared by the views
//! (which draw into these rectangles) and the model (which hit-tests the mouse wheel and
//! sizes a page of the plan with them), so the two always agree. Nothing here depends on
//! what a pane shows.

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

/// The panes of a terminal `width` × `height`.
pub fn areas(width: u16, height: u16) -> Areas {
    let area = Rect::new(0, 0, width, height);
    let [body, status, footer] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    // Beside the main pane only when both get their room; otherwise the log goes below and
    // the main pane takes the whole width.
    let (main, log) = if width >= MAIN_BESIDE_LOG + SIDE_LOG_MIN {
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

/// Lines of the plan tree on screen on a terminal of `size`: a page of nodes.
pub fn plan_tree_height(size: (u16, u16)) -> usize {
    let main = areas(size.0, size.1).main;
    usize::from(plan_panes(inner(main)).0.height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_moves_beside_the_main_pane_on_wide_terminals() {
        let narrow = areas(80, 24);
        assert_eq!(narrow.main.width, 80);
        assert!(narrow.log.y > narrow.main.y);
        let wide = areas(160, 40);
        assert!(wide.log.x > wide.main.x);
        assert_eq!(wide.log.height, wide.main.height);
        // Beside the log, the main pane keeps room for a lesson's widest diagram.
        for width in 120..300 {
            let areas = areas(width, 40);
            assert!(
                areas.log.x == 0 || areas.main.width >= MAIN_BESIDE_LOG,
                "{width}"
            );
        }
        assert_eq!(
            areas(120, 40).main.width,
            120,
            "at 120 columns the log goes below"
        );
    }

    #[test]
    fn tiny_terminals_still_get_a_layout() {
        for (w, h) in [(1, 1), (20, 5), (0, 0), (20, 40)] {
            let areas = areas(w, h);
            assert!(areas.main.height <= h && areas.log.height <= h);
            assert!(inner(areas.main).width <= w);
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
