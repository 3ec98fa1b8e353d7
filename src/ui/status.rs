//! The two bottom lines: the status bar (the round-trip meter, latency, warnings, the
//! database) and the footer with the keys that matter where the keyboard is.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::app::App;
use crate::data::acting::ActingAs;
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
    let head: usize = spans.iter().map(|s| s.content.width()).sum();
    let mut tail = Vec::new();
    if totals.warnings > 0 {
        tail.push(Span::styled(" │ ", theme.dim()));
        tail.push(Span::styled(
            format!("⚠ {}", totals.warnings),
            theme.warning(),
        ));
    }
    if let Some(notice) = &app.notice {
        tail.push(Span::styled(" │ ", theme.dim()));
        tail.push(Span::styled(notice.clone(), theme.warning()));
    }
    // Who the lab acts as comes after the meter, in the room warnings and a notice leave:
    // in full, without the organization's name, or not at all.
    let room = usize::from(status.width)
        .saturating_sub(head + tail.iter().map(|s| s.content.width()).sum::<usize>());
    if let Some(label) = app
        .acting
        .current()
        .and_then(|user| acting_label(user, room))
    {
        spans.push(Span::styled(" │ ", theme.dim()));
        spans.push(Span::raw(label));
    }
    spans.extend(tail);
    // The database comes last: whole where it fits, cut with an ellipsis, or left out
    // rather than shown as a stub (the schema map names it too).
    let used: usize = spans.iter().map(|s| s.content.width()).sum();
    let room = usize::from(status.width).saturating_sub(used + " │ ".width());
    if let Some(database) = shortened(&app.database, room) {
        spans.push(Span::styled(" │ ", theme.dim()));
        spans.push(Span::styled(database, theme.dim()));
    }
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

/// The fewest cells a cut database name is shown in; below, it is left out.
const DATABASE_MIN: usize = 12;

/// `text` whole when it fits `room` cells, else cut to fit with `…` (at least
/// [`DATABASE_MIN`] cells), else `None`.
fn shortened(text: &str, room: usize) -> Option<String> {
    if text.width() <= room {
        return Some(text.to_string());
    }
    if room < DATABASE_MIN {
        return None;
    }
    let mut cut = String::new();
    for c in text.chars() {
        if cut.width() + c.to_string().width() + 1 > room {
            break;
        }
        cut.push(c);
    }
    cut.push('…');
    Some(cut)
}

/// `acting as alice · Acme Corp (org 1)`, shortened to fit `room` cells (its separator
/// included); `None` when not even `alice (org 1)` fits.
fn acting_label(user: &ActingAs, room: usize) -> Option<String> {
    let separator = " │ ".width();
    [
        format!("acting as {}", user.label()),
        user.label(),
        user.short_label(),
    ]
    .into_iter()
    .find(|label| separator + label.width() <= room)
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
    fn the_database_is_whole_cut_or_left_out() {
        let db = "pglab_learner@127.0.0.1:5432/pglab";
        assert_eq!(shortened(db, 40).as_deref(), Some(db));
        assert_eq!(shortened(db, 14).as_deref(), Some("pglab_learner…"));
        assert_eq!(shortened(db, 11), None);
    }

    #[test]
    fn the_acting_label_shortens_to_fit_and_then_goes() {
        let alice = ActingAs {
            user_id: 1,
            username: "alice".into(),
            organization_id: 1,
            organization: "Acme Corp".into(),
        };
        let full = acting_label(&alice, 100);
        assert_eq!(full.as_deref(), Some("acting as alice · Acme Corp (org 1)"));
        assert_eq!(
            acting_label(&alice, 30).as_deref(),
            Some("alice · Acme Corp (org 1)")
        );
        assert_eq!(acting_label(&alice, 16).as_deref(), Some("alice (org 1)"));
        assert_eq!(acting_label(&alice, 15), None);
    }

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
