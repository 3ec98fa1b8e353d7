//! The two bottom lines: the status bar (the round-trip meter, latency, warnings, the
//! database) and the footer with the keys that matter where the keyboard is.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::app::App;
use crate::keymap;

use super::theme::Theme;
use crate::text::plural;

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

    let entries = keymap::footer(app.context(), app.is_typing(), |action| app.offers(action));
    let keys = fitting(entries, usize::from(footer.width))
        .into_iter()
        .flat_map(|(key, what)| {
            [
                Span::styled(format!(" {key}"), theme.key()),
                Span::styled(format!(" {what} "), theme.dim()),
            ]
        });
    frame.render_widget(Paragraph::new(Line::from_iter(keys)), footer);
}

/// The footer's entries that fit in `width` cells, whole: a key is never shown without its
/// word. Where not all fit, the help key stays, since it lists every other one.
fn fitting(entries: Vec<(String, &'static str)>, width: usize) -> Vec<(String, &'static str)> {
    let cells = |(key, what): &(String, &str)| key.width() + what.width() + 3;
    let help = entries
        .iter()
        .position(|(_, what)| *what == keymap::HELP_WORD);
    let total: usize = entries.iter().map(cells).sum();
    if total <= width {
        return entries;
    }
    let mut room = width.saturating_sub(help.map_or(0, |i| cells(&entries[i])));
    let mut kept = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        if Some(i) == help {
            continue;
        }
        if cells(entry) > room {
            break;
        }
        room -= cells(entry);
        kept.push(entry.clone());
    }
    if let Some(i) = help {
        kept.push(entries[i].clone());
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_footer_keeps_whole_entries_and_the_help_key() {
        let entries = vec![
            ("→".to_string(), "next"),
            ("Enter".to_string(), "run"),
            ("q".to_string(), "quit"),
            ("?".to_string(), keymap::HELP_WORD),
            ("Tab".to_string(), "log"),
        ];
        assert_eq!(fitting(entries.clone(), 100), entries);
        let narrow = fitting(entries, 20);
        assert_eq!(
            narrow,
            [
                ("→".to_string(), "next"),
                ("?".to_string(), keymap::HELP_WORD)
            ]
        );
    }
}
