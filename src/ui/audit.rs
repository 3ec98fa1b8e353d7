//! The audit timeline: one block per event down a spine, newest at the top, so a live
//! change lands where the room is already looking. Each block: the time, a node (● or ⚠
//! when flagged), the action and row, who and from where; the changed columns on one line;
//! the flags with their reasons. The selected block opens up: the date, the database role,
//! every column old → new. Words come from `audit::text`, as `pglab audit` prints them.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use unicode_width::UnicodeWidthStr;

use crate::app::audit::AuditState;
use crate::app::{Action, App};
use crate::audit::diff::{self, Field};
use crate::audit::rules::Flag;
use crate::audit::{AuditEvent, Operation as Change, text};
use crate::keymap::{Context, key_for};
use crate::text::clip as text_clip;
use crate::text::wrap;

use super::plan::clip_spans;
use super::theme::Theme;

/// In front of the time: the cursor, or room for it.
const CURSOR: &str = "▶ ";
const NO_CURSOR: &str = "  ";
/// Under the header's cursor, time and node: the spine the blocks hang from.
const SPINE: &str = "           │ ";

/// What the timeline keeps between frames: the first event drawn (by id, so events arriving
/// above it do not move the screen) and the pane's size (a new size may bring newer events
/// back above the selection).
#[derive(Debug, Default)]
pub struct AuditViewport {
    top: Option<i64>,
    size: (usize, usize),
}

impl AuditViewport {
    /// The first event to draw so that the selected one's block is on screen, moving as
    /// little as possible from where the screen was.
    fn top(&mut self, state: &AuditState, width: usize, height: usize) -> usize {
        let height_between = |from: usize, to: usize| -> usize {
            (from..=to.min(state.events.len().saturating_sub(1)))
                .map(|index| event_block(state, index, width, &Theme::plain()).len())
                .sum()
        };
        let was = self
            .top
            .and_then(|id| state.events.iter().position(|e| e.id == id))
            .unwrap_or(0);
        let mut top = was.min(state.selected);
        while top < state.selected && height_between(top, state.selected) > height {
            top += 1;
        }
        if self.size != (width, height) {
            while top > 0 && height_between(top - 1, state.selected) <= height {
                top -= 1;
            }
            self.size = (width, height);
        }
        self.top = state.events.get(top).map(|e| e.id);
        top
    }
}

/// Event `index`'s lines: opened up when it is the selected one.
fn event_block(
    state: &AuditState,
    index: usize,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let Some(event) = state.events.get(index) else {
        return Vec::new();
    };
    let flags = state.flags.get(index).map_or(&[][..], Vec::as_slice);
    let selected = index == state.selected;
    let mut lines = vec![header(event, flags, selected, width, theme)];
    let room = width.saturating_sub(SPINE.width());
    if selected {
        let who = format!("{} · {}", event.at.format("%Y-%m-%d"), text::who(event));
        for line in wrap(&who, room, "  ") {
            lines.push(spined(vec![Span::styled(line, theme.dim())], width, theme));
        }
        let fields = diff::fields(event);
        let name_width = text::name_width(&fields);
        for field in &fields {
            let spans = field_spans(field, event.action, name_width, theme);
            lines.push(spined(spans, width, theme));
        }
    } else {
        lines.push(spined(summary(event, theme), width, theme));
    }
    for flag in flags {
        let line = text::flag_line(flag);
        let parts = if selected {
            wrap(&line, room, "  ")
        } else {
            vec![line]
        };
        for (n, part) in parts.into_iter().enumerate() {
            let spans = if n == 0 {
                flag_spans(flag, &part, theme)
            } else {
                vec![Span::styled(part, theme.warning())]
            };
            lines.push(spined(spans, width, theme));
        }
    }
    lines
}

/// `▶ 18:02:11 ⚠ update users:10  by user 7 from 203.0.113.7`.
fn header(
    event: &AuditEvent,
    flags: &[Flag],
    selected: bool,
    width: usize,
    theme: &Theme,
) -> Line<'static> {
    let (node, node_style) = if flags.is_empty() {
        ("●", theme.dim())
    } else {
        (text::FLAG, theme.bad())
    };
    let who = match (event.actor_id, &event.client_addr, &event.system_actor) {
        (Some(actor), Some(addr), _) => format!("user {actor} from {addr}"),
        (Some(actor), None, _) => format!("user {actor}"),
        (None, _, Some(system)) => system.clone(),
        (None, _, None) => format!(
            "no app user, role {}",
            event.db_user.as_deref().unwrap_or("unknown")
        ),
    };
    let spans = vec![
        Span::raw(if selected { CURSOR } else { NO_CURSOR }),
        Span::styled(event.at.format("%H:%M:%S").to_string(), theme.dim()),
        Span::raw(" "),
        Span::styled(node, node_style),
        Span::raw(" "),
        Span::styled(event.action.as_str(), action_style(event.action, theme)),
        Span::styled(
            format!(" {}:{}", event.table, event.record_id),
            theme.strong(),
        ),
        Span::styled(format!("  {who}"), theme.text()),
    ];
    let line = Line::from(clip_spans(spans, width));
    if selected {
        line.style(theme.selected())
    } else {
        line
    }
}

/// The collapsed body on one line: an update's changed columns
/// (`~ is_admin false → true · ~ password_hash changed (value redacted)`), or an insert's
/// or delete's row without its id (the header has it) and empty columns
/// (`- title "Draft 5" · author_id 5`).
fn summary(event: &AuditEvent, theme: &Theme) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let fields = diff::changes(event);
    let shown = fields.iter().filter(|f| {
        event.action == Change::Update
            || f.column != "id" && text::values(f, event.action) != "null"
    });
    for (n, field) in shown.enumerate() {
        if n > 0 {
            spans.push(Span::styled(" · ", theme.dim()));
        }
        let mut field = field_spans(field, event.action, 0, theme);
        if n > 0 && event.action != Change::Update {
            // One `+` or `-` says the whole row came or went.
            field[0].content = field[0]
                .content
                .trim_start_matches(['+', '-', ' '])
                .to_string()
                .into();
        }
        spans.extend(field);
    }
    if spans.is_empty() {
        spans.push(Span::styled("no column values logged", theme.dim()));
    }
    spans
}

/// One column: its marker and name (highlighted when an update changed it), then its
/// value or old → new.
fn field_spans(
    field: &Field,
    action: Change,
    name_width: usize,
    theme: &Theme,
) -> Vec<Span<'static>> {
    let marker = text::marker(action, field.changed);
    let name = format!("{marker} {:<name_width$} ", field.column);
    let name_style = match action {
        Change::Update if field.changed => theme.warning().patch(theme.strong()),
        Change::Update => theme.dim(),
        Change::Insert | Change::Delete => action_style(action, theme),
    };
    let value_style = if action == Change::Update && !field.changed {
        theme.dim()
    } else {
        theme.text()
    };
    let mut spans = vec![Span::styled(name, name_style)];
    let values = text::values(field, action);
    match values.split_once(" → ") {
        Some((old, new)) if action == Change::Update && !field.redacted() => {
            spans.push(Span::styled(old.to_string(), theme.text()));
            spans.push(Span::styled(" → ", theme.dim()));
            spans.push(Span::styled(new.to_string(), theme.strong()));
        }
        _ => spans.push(Span::styled(values, value_style)),
    }
    spans
}

/// The first line of a flag (`⚠ privilege change: …`, maybe wrapped short) with the
/// symbol and the rule's name in the alarm style.
fn flag_spans(flag: &Flag, line: &str, theme: &Theme) -> Vec<Span<'static>> {
    let head = format!("{} {}: ", text::FLAG, flag.rule.name());
    match line.strip_prefix(&head) {
        Some(rest) => vec![
            Span::styled(head, theme.bad()),
            Span::styled(rest.to_string(), theme.warning()),
        ],
        None => vec![Span::styled(line.to_string(), theme.bad())],
    }
}

/// Insert, update and delete each in their colour; the word itself says which.
fn action_style(action: Change, theme: &Theme) -> Style {
    match action {
        Change::Insert => theme.good(),
        Change::Update => theme.code(),
        Change::Delete => theme.bad(),
    }
}

/// `spans` hung from the spine, cut to `width`.
fn spined(spans: Vec<Span<'static>>, width: usize, theme: &Theme) -> Line<'static> {
    let mut all = vec![Span::styled(SPINE, theme.dim())];
    all.extend(spans);
    Line::from(clip_spans(all, width))
}

/// What the pane says when there is no event to draw: loading, the error, how to make
/// events, or that the filter hides them all.
fn placeholder(state: &AuditState, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let key = |action: Action| key_for(Context::Audit, &action);
    let (first, first_style, more) = if let Some(error) = &state.error {
        (
            format!("✗ The audit log could not be read: {error}"),
            theme.bad(),
            String::new(),
        )
    } else if state.loading.is_some() {
        ("Reading the audit log…".into(), theme.dim(), String::new())
    } else if !state.filter.is_empty() {
        (
            format!("No event matches “{}”.", state.filter),
            theme.strong(),
            format!(
                "{} clears the filter; {} changes the time window.",
                key(Action::ClearFilter),
                key(Action::CycleWindow)
            ),
        )
    } else {
        (
            "No audit events yet.".into(),
            theme.strong(),
            format!(
                "Change a row in the console ({}) or in psql (`pglab db psql`): every insert, \
                 update and delete on an audited table appears here as it commits, newest at \
                 the top.",
                key_for(Context::Global, &Action::ShowConsole)
            ),
        )
    };
    let mut lines: Vec<Line> = wrap(&first, width, "  ")
        .into_iter()
        .map(|l| Line::styled(l, first_style))
        .collect();
    if !more.is_empty() {
        lines.push(Line::raw(""));
        lines.extend(wrap(&more, width, "").into_iter().map(Line::raw));
    }
    lines
}

pub fn render(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    viewport: &mut AuditViewport,
) {
    let state = &app.audit;
    let inner = crate::layout::inner(area);
    let width = usize::from(inner.width);
    let height = usize::from(inner.height);
    let top = viewport.top(state, width, height);
    // New events above the first one drawn, that the user has not gone back up to.
    let unseen = state.unseen.min(top);
    let mut title = vec![Span::styled(
        format!(
            " Audit timeline · {} · {} ",
            crate::text::plural(state.events.len() as u64, "event", "events"),
            state.filter
        ),
        theme.title(),
    )];
    if unseen > 0 {
        title.push(Span::styled(
            format!(
                " ↑ {} new ({}) ",
                unseen,
                key_for(Context::Audit, &Action::End)
            ),
            theme.warning(),
        ));
    }
    if state.loading.is_some() && !state.events.is_empty() {
        title.push(Span::styled(" reading… ", theme.dim()));
    }
    let bottom = match &state.prompt {
        // The prompt sits where the eye already is for the filter: the pane's edge.
        Some(prompt) => {
            // The cursor (▏) sits where the editor's is, so ← and → show where typing goes.
            let typed = prompt.lines().concat();
            let at = prompt.cursor().1;
            let before: String = typed.chars().take(at).collect();
            let after: String = typed.chars().skip(at).collect();
            Line::from(vec![
                Span::styled(" filter: ", theme.key()),
                Span::styled(format!("{before}▏{after} "), theme.strong()),
            ])
        }
        None => Line::styled(" newest first · times in UTC ", theme.dim()),
    };
    let block = Block::bordered()
        .title(Line::from(title))
        .title_bottom(bottom)
        .border_style(theme.border(!app.log_focused));
    frame.render_widget(block, area);
    if state.events.is_empty() {
        frame.render_widget(Paragraph::new(placeholder(state, width, theme)), inner);
        return;
    }
    // A failed reload leaves the events shown before it; the failure heads them.
    let mut lines: Vec<Line> = state
        .error
        .iter()
        .map(|error| Line::styled(text_clip(&format!("✗ {error}"), width), theme.bad()))
        .collect();
    for index in top..state.events.len() {
        if lines.len() >= height {
            break;
        }
        lines.extend(event_block(state, index, width, theme));
    }
    lines.truncate(height);
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::diff::tests::event;
    use crate::audit::rules::{ActorOrgs, flags};
    use ratatui::style::Modifier;
    use serde_json::json;

    fn state() -> AuditState {
        let mut escalation = event(
            Change::Update,
            json!({"is_admin": false}),
            json!({"is_admin": true}),
            &["is_admin"],
        );
        escalation.id = 2;
        let plain = event(Change::Update, json!({"t": 1}), json!({"t": 2}), &["t"]);
        let events = vec![escalation, plain];
        AuditState {
            flags: flags(&events, &ActorOrgs::new()),
            events,
            ..AuditState::default()
        }
    }

    #[test]
    fn a_flagged_event_says_so_with_a_symbol_not_only_a_colour() {
        let state = state();
        let theme = Theme::plain();
        let flagged = event_block(&state, 0, 80, &theme);
        let node = &flagged[0].spans[3];
        assert_eq!(node.content, text::FLAG);
        assert!(node.style.add_modifier.contains(Modifier::BOLD));
        assert_eq!(flagged[0].style, theme.selected(), "the selected header");
        let plain = event_block(&state, 1, 80, &theme);
        assert_eq!(plain[0].spans[3].content, "●");
        assert_eq!(plain.len(), 2, "collapsed: header and changes");
    }

    #[test]
    fn blocks_fit_any_width() {
        let state = state();
        for width in [0, 1, 5, 13, 20] {
            for index in 0..2 {
                for line in event_block(&state, index, width, &Theme::plain()) {
                    assert!(line.width() <= width.max(1), "{width}: {line:?}");
                }
            }
        }
    }
}
