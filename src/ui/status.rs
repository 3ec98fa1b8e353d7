//! The two bottom lines: the status bar (database, latency, the round-trip meter) and the
//! footer with the keys that matter where the keyboard is.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::keymap;

use super::theme::Theme;

pub fn render(app: &App, frame: &mut Frame, status: Rect, footer: Rect, theme: &Theme) {
    let totals = app.log.log.totals();
    let console = app
        .log
        .console_session
        .and_then(|s| app.log.log.session_totals(s))
        .map_or(0, |t| t.round_trips);
    let mut spans = vec![
        Span::styled(" pglab ", theme.title()),
        Span::styled("│ ", theme.dim()),
        Span::raw(app.database.clone()),
        Span::styled(" │ ", theme.dim()),
        Span::raw(format!("latency {} ms", app.latency().as_millis())),
        Span::styled(" │ ", theme.dim()),
        Span::styled(
            format!("⇄ {} round trips", totals.round_trips),
            theme.meter(),
        ),
        Span::raw(format!(" (console {console})")),
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
    frame.render_widget(Paragraph::new(Line::from(spans)), status);

    let context = if app.help {
        keymap::Context::Global
    } else {
        app.context()
    };
    let mut keys = Vec::new();
    for (key, what) in keymap::footer(context) {
        keys.push(Span::styled(format!(" {key}"), theme.key()));
        keys.push(Span::styled(format!(" {what} "), theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(keys)), footer);
}
