//! Drawing the lab: the layout, and one view per pane. Views read [`App`] and draw; they
//! never change it and never do I/O. The same line builders serve the terminal UI and the
//! plain-text lesson runner (`pglab lessons run`).

pub mod audit;
pub mod console;
pub mod framed;
pub mod headline;
pub mod help;
pub mod lessons;
pub mod log;
pub mod markdown;
pub mod notes;
pub mod page;
pub mod pin;
pub mod plan;
pub mod player;
pub mod schema;
pub mod status;
pub mod table;
pub mod tables;
pub mod theme;

use ratatui::Frame;

use crate::app::{App, Screen};
use crate::scroll::Viewport;
use theme::Theme;

/// What the views keep between frames: each scrolling pane's viewport. The runtime owns
/// one beside the [`App`] and hands it to every [`render`]; a fresh one (a test, a new
/// terminal) lands where the app's scroll intents say.
#[derive(Debug, Default)]
pub struct Viewports {
    pub player: page::PageViewport,
    pub plan: plan::PlanViewport,
    pub audit: audit::AuditViewport,
    pub schema: page::PageViewport,
    pub tables: page::PageViewport,
    pub pin: page::PageViewport,
    pub help: Viewport,
}

/// Draws the whole app with `theme`.
pub fn render(app: &App, viewports: &mut Viewports, theme: &Theme, frame: &mut Frame) {
    let area = frame.area();
    if app.blanked {
        // Blanked by a clicker: the theme's background and nothing on it.
        theme.paint(frame.buffer_mut());
        return;
    }
    let areas = crate::layout::areas(area.width, area.height, app.presenting);
    match app.screen {
        Screen::Lessons => lessons::render(app, frame, areas.main, theme),
        Screen::Player => player::render(app, frame, areas.main, theme, &mut viewports.player),
        Screen::Console => console::render(app, frame, areas.main, theme, &mut viewports.pin),
        Screen::Plan => plan::render(app, frame, areas.main, theme, &mut viewports.plan),
        Screen::Audit => audit::render(app, frame, areas.main, theme, &mut viewports.audit),
        Screen::Schema => schema::render(app, frame, areas.main, theme, &mut viewports.schema),
        Screen::Tables => tables::render(app, frame, areas.main, theme, &mut viewports.tables),
    }
    if app.presenting {
        log::render_strip(app, frame, areas.log, theme);
    } else {
        log::render(app, frame, areas.log, theme);
    }
    if let Some(entry) = &app.log.opened {
        log::render_opened(entry, frame, areas.main, theme);
    }
    status::render(app, frame, areas.status, areas.footer, theme);
    if app.help {
        help::render(frame, area, &app.help_scroll, &mut viewports.help, theme);
    }
    theme.paint(frame.buffer_mut());
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
