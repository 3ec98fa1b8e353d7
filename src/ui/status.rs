//! The two bottom lines: the status bar (the round-trip meter, latency, warnings, the
//! database) and the footer with the keys that matter where the keyboard is.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::keymap;

use super::plural;
use super::theme::Theme;

pub fn render(app: &App, frame: &mut Frame, status: Rect, footer: Rect, theme: &Theme) {
    let totals = app.log.log.totals();
    let console = app
        .log
        .console_session
        .and_then(|s| app.log.log.session_totals(s))
        .map_or(0, |t| t.round_trips);
    // Most telling first: on a narrow terminal the end of the line is cut.
    let mut spans = vec![
        Span::styled(
            format!(
                " ⇄ {} ",
                plural(totals.round_trips, "round trip", "round trips")
            ),
            theme.meter(),
        ),
        Span::styled(format!("(console {console})"), theme.dim()),
        Span::styled(" │ ", theme.dim()),
        Span::raw(format!("latency {} ms", app.latency().as_millis())),
    ];
    if totals.warnings > 0 {
        spans.push(Span::styled(" │ ", theme.dim()));
        spans.push(Span::styled(
            format!("⚠ {}", totals.warnings),
            theme.warning(),
        ));
    }
    if let Some(notice) = &app.notice {
        spans.push(Span::styled(" │ ", theme.dim()));
        spans.push(Span::styled(notice.clone(), theme.warning()));
    }
    spans.push(Span::styled(" │ ", theme.dim()));
    spans.push(Span::styled(app.database.clone(), theme.dim()));
    frame.render_widget(Paragraph::new(Line::from(spans)), status);

    let mut keys = Vec::new();
    for (key, what) in keymap::footer(app.context(), app.is_typing(), |action| app.offers(action)) {
        keys.push(Span::styled(format!(" {key}"), theme.key()));
        keys.push(Span::styled(format!(" {what} "), theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(keys)), footer);
}
