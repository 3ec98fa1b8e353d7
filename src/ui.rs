//! Drawing the lab: the layout, and one view per pane. Views read [`App`] and draw; they
//! never change it and never do I/O. The same line builders serve the terminal UI and the
//! plain-text lesson runner (`pglab lessons run`).

pub mod console;
pub mod help;
pub mod lessons;
pub mod log;
pub mod markdown;
pub mod plan;
pub mod player;
pub mod status;
pub mod table;
pub mod theme;
pub mod timeline;

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use crate::app::{App, Screen};
use theme::Theme;

/// Terminals at least this wide put the query log beside the main pane, not under it.
const SIDE_LOG_WIDTH: u16 = 120;

/// Where each pane goes on a terminal of the given size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub main: Rect,
    pub log: Rect,
    pub status: Rect,
    pub footer: Rect,
}

/// The layout for a terminal of `width` × `height`; the same function places the panes
/// and hit-tests the mouse, so the two always agree.
pub fn layout(width: u16, height: u16, _screen: Screen) -> Areas {
    let area = Rect::new(0, 0, width, height);
    let [body, status, footer] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let (main, log) = if width >= SIDE_LOG_WIDTH {
        let log_width = (width * 2 / 5).clamp(40, 70);
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

/// Draws the whole app.
pub fn render(app: &App, frame: &mut Frame) {
    let theme = app.theme;
    let area = frame.area();
    let areas = layout(area.width, area.height, app.screen);
    match app.screen {
        Screen::Lessons => lessons::render(app, frame, areas.main, &theme),
        Screen::Player => player::render(app, frame, areas.main, &theme),
        Screen::Console => console::render(app, frame, areas.main, &theme),
        Screen::Plan => plan::render(app, frame, areas.main, &theme),
        Screen::Audit => timeline::render(app, frame, areas.main, &theme),
    }
    log::render(app, frame, areas.log, &theme);
    status::render(app, frame, areas.status, areas.footer, &theme);
    if app.help {
        help::render(frame, area, app.help_scroll, &theme);
    }
}

/// Why the database is not there, line by line as the message was written (it may carry
/// install instructions), for the panes that would otherwise wait for it.
pub fn lab_error_lines(error: &str, theme: &Theme) -> Vec<ratatui::text::Line<'static>> {
    let mut lines = vec![ratatui::text::Line::styled(
        "✗ The database could not be opened; the lessons need it. Quit (q), fix this, start again:",
        theme.bad(),
    )];
    lines.extend(
        error
            .lines()
            .map(|l| ratatui::text::Line::raw(l.to_string())),
    );
    lines
}

/// A duration as people read it: `0.4 ms`, `12 ms`, `1.25 s`.
pub fn duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// `1 round trip`, `2 round trips`.
pub fn plural(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_moves_beside_the_main_pane_on_wide_terminals() {
        let narrow = layout(80, 24, Screen::Lessons);
        assert_eq!(narrow.main.width, 80);
        assert!(narrow.log.y > narrow.main.y);
        let wide = layout(160, 40, Screen::Lessons);
        assert!(wide.log.x > wide.main.x);
        assert_eq!(wide.log.height, wide.main.height);
    }

    #[test]
    fn tiny_terminals_still_get_a_layout() {
        for (w, h) in [(1, 1), (20, 5), (0, 0), (20, 40)] {
            let areas = layout(w, h, Screen::Player);
            assert!(areas.main.height <= h && areas.log.height <= h);
        }
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(Duration::from_micros(400)), "0.4 ms");
        assert_eq!(duration(Duration::from_millis(12)), "12 ms");
        assert_eq!(duration(Duration::from_millis(1250)), "1.25 s");
    }
}
