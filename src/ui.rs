//! Drawing the lab: the layout, and one view per pane. Views read [`App`] and draw; they
//! never change it and never do I/O. The same line builders serve the terminal UI and the
//! plain-text lesson runner (`pglab lessons run`).

pub mod audit;
pub mod console;
pub mod help;
pub mod lessons;
pub mod log;
pub mod markdown;
pub mod page;
pub mod plan;
pub mod player;
pub mod status;
pub mod table;
pub mod theme;

use std::time::Duration;

use ratatui::Frame;

use crate::app::{App, Screen};
use crate::scroll::Viewport;
use theme::Theme;

/// What the views keep between frames: each scrolling pane's viewport. The runtime owns
/// one beside the [`App`] and hands it to every [`render`]; a fresh one (a test, a new
/// terminal) lands where the app's scroll intents say.
#[derive(Debug, Default)]
pub struct Viewports {
    pub player: player::PlayerViewport,
    pub plan: plan::PlanViewport,
    pub audit: audit::AuditViewport,
    pub help: Viewport,
}

/// Draws the whole app with `theme`.
pub fn render(app: &App, viewports: &mut Viewports, theme: &Theme, frame: &mut Frame) {
    let area = frame.area();
    let areas = crate::layout::areas(area.width, area.height);
    match app.screen {
        Screen::Lessons => lessons::render(app, frame, areas.main, theme),
        Screen::Player => player::render(app, frame, areas.main, theme, &mut viewports.player),
        Screen::Console => console::render(app, frame, areas.main, theme),
        Screen::Plan => plan::render(app, frame, areas.main, theme, &mut viewports.plan),
        Screen::Audit => audit::render(app, frame, areas.main, theme, &mut viewports.audit),
    }
    log::render(app, frame, areas.log, theme);
    if let Some(entry) = &app.log.opened {
        log::render_opened(entry, frame, areas.main, theme);
    }
    status::render(app, frame, areas.status, areas.footer, theme);
    if app.help {
        help::render(frame, area, &app.help_scroll, &mut viewports.help, theme);
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
    fn durations_read_naturally() {
        assert_eq!(duration(Duration::from_micros(400)), "0.4 ms");
        assert_eq!(duration(Duration::from_millis(12)), "12 ms");
        assert_eq!(duration(Duration::from_millis(1250)), "1.25 s");
    }
}
