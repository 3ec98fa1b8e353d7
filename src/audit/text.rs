//! An audit event as plain lines: when, who and from where, what happened to which row, the
//! columns old → new, and the flags with their reasons. `pglab audit` prints these; the
//! timeline screen builds its rows from the same pieces and only adds styles, so the two
//! read the same.

use unicode_width::UnicodeWidthStr;

use super::diff::{self, Cell, Field};
use super::rules::Flag;
use super::{AuditEvent, Capture, Operation};
use crate::text::clip;
use crate::text::wrap;

/// Marks an update's changed column (`~`), an inserted one (`+`), a deleted one (`-`).
pub fn marker(action: Operation, changed: bool) -> &'static str {
    match action {
        Operation::Insert => "+",
        Operation::Delete => "-",
        Operation::Update if changed => "~",
        Operation::Update => " ",
    }
}

/// The flag symbol: a warning sign, so that meaning never rests on colour.
pub const FLAG: &str = "⚠";

/// The event's block: a header, who and where, the diff (an update's changed columns;
/// an insert's or a delete's whole row), the flags; each line at most `width` cells.
pub fn event_lines(event: &AuditEvent, flags: &[Flag], width: usize) -> Vec<String> {
    let mut lines = vec![clip(&format!("{}  {}", when(event), what(event)), width)];
    lines.extend(wrapped(&format!("  {}", who(event)), width));
    lines.extend(
        diff_lines(event, false)
            .into_iter()
            .map(|line| clip(&format!("  {line}"), width)),
    );
    for flag in flags {
        lines.extend(wrapped(&format!("  {}", flag_line(flag)), width));
    }
    lines
}

/// Wrapped under a deeper indent; a word longer than the line is cut, not left to overflow.
fn wrapped(text: &str, width: usize) -> Vec<String> {
    wrap(text, width, "    ")
        .iter()
        .map(|line| clip(line, width))
        .collect()
}

/// `2026-11-26 18:02:11 UTC`.
pub fn when(event: &AuditEvent) -> String {
    event.at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `update users:10`.
pub fn what(event: &AuditEvent) -> String {
    format!(
        "{} {}:{}",
        event.action.as_str(),
        event.table,
        event.record_id
    )
}

/// `by user 7 from 203.0.113.7 · role pglab_app · trigger`: the application's user when
/// one was declared, the system actor (`by pglab (reset)`) when one was, else a plain
/// statement that nobody was.
pub fn who(event: &AuditEvent) -> String {
    let mut parts = vec![match (event.actor_id, &event.system_actor) {
        (Some(actor), _) => format!("by user {actor}"),
        (None, Some(system)) => format!("by {system}"),
        (None, None) => "no application user".to_string(),
    }];
    if let Some(addr) = &event.client_addr {
        parts[0].push_str(&format!(" from {addr}"));
    }
    if let Some(role) = &event.db_user {
        parts.push(format!("role {role}"));
    }
    parts.push(
        match event.capture {
            Capture::Trigger => "trigger",
            Capture::App => "app log",
        }
        .to_string(),
    );
    parts.join(" · ")
}

/// The diff, one line per column: `~ is_admin  false → true`. With `all`, an update's
/// unchanged columns follow its changed ones.
pub fn diff_lines(event: &AuditEvent, all: bool) -> Vec<String> {
    let fields = if all {
        diff::fields(event)
    } else {
        diff::changes(event)
    };
    let name_width = name_width(&fields);
    fields
        .iter()
        .map(|field| field_line(field, event.action, name_width))
        .collect()
}

/// The width the column names are padded to in a diff (long names are not cut).
pub fn name_width(fields: &[Field]) -> usize {
    fields
        .iter()
        .map(|f| f.column.width())
        .max()
        .unwrap_or(0)
        .min(20)
}

/// One column of the diff: its marker, its name padded to `name_width`, its value(s).
pub fn field_line(field: &Field, action: Operation, name_width: usize) -> String {
    let marker = marker(action, field.changed);
    let name = format!("{:<name_width$}", field.column);
    format!("{marker} {name}  {}", values(field, action))
}

/// `false → true`, `changed (value redacted)`, or the one side that exists.
pub fn values(field: &Field, action: Operation) -> String {
    match action {
        Operation::Update if field.changed && field.redacted() => {
            "changed (value redacted)".to_string()
        }
        Operation::Update if field.changed => {
            format!("{} → {}", shown(&field.old), shown(&field.new))
        }
        Operation::Delete => shown(&field.old),
        Operation::Insert | Operation::Update => shown(&field.new),
    }
}

fn shown(cell: &Cell) -> String {
    match cell {
        Cell::Absent => "(none)".to_string(),
        other => other.text().to_string(),
    }
}

/// `⚠ privilege change: user 10 was made an administrator …`.
pub fn flag_line(flag: &Flag) -> String {
    format!("{FLAG} {}: {}", flag.rule.name(), flag.reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::REDACTED;
    use crate::audit::diff::tests::event;
    use crate::audit::rules::{ActorOrgs, flags};
    use serde_json::{Value, json};

    #[test]
    fn an_update_reads_as_who_what_and_the_changed_columns() {
        let ev = event(
            Operation::Update,
            json!({"id": 10, "is_admin": false, "email": "a@x.test", "password_hash": REDACTED}),
            json!({"id": 10, "is_admin": true, "email": "a@x.test", "password_hash": REDACTED}),
            &["is_admin", "password_hash"],
        );
        let flags = flags(std::slice::from_ref(&ev), &ActorOrgs::new());
        assert_eq!(
            event_lines(&ev, &flags[0], 80),
            [
                "2026-11-26 18:02:11 UTC  update users:10",
                "  by user 7 from 203.0.113.7 · role pglab_app · trigger",
                "  ~ is_admin       false → true",
                "  ~ password_hash  changed (value redacted)",
                "  ⚠ privilege change: user 10 was made an administrator (is_admin false → true):",
                "    check who granted it",
            ]
        );
        let all = diff_lines(&ev, true);
        assert_eq!(all[2], "  email          \"a@x.test\"");
    }

    #[test]
    fn inserts_and_deletes_show_their_whole_row() {
        let mut ev = event(
            Operation::Delete,
            json!({"id": 3, "title": "Hi"}),
            Value::Null,
            &[],
        );
        ev.actor_id = None;
        ev.client_addr = None;
        assert_eq!(
            event_lines(&ev, &[], 80)[1..],
            [
                "  no application user · role pglab_app · trigger",
                "  - id     3",
                "  - title  \"Hi\"",
            ]
        );
        let insert = event(
            Operation::Insert,
            Value::Null,
            json!({"secret": REDACTED}),
            &[],
        );
        assert_eq!(diff_lines(&insert, false), ["+ secret  [redacted]"]);
    }

    #[test]
    fn a_system_actor_reads_as_itself_not_as_a_user_or_as_nobody() {
        let mut ev = event(Operation::Update, json!({"t": 1}), json!({"t": 2}), &["t"]);
        ev.actor_id = None;
        ev.system_actor = Some("pglab (reset)".into());
        ev.client_addr = None;
        assert_eq!(who(&ev), "by pglab (reset) · role pglab_app · trigger");
    }

    #[test]
    fn lines_never_exceed_the_width() {
        let ev = event(
            Operation::Update,
            json!({"body": "x".repeat(200)}),
            json!({"body": "y".repeat(200)}),
            &["body"],
        );
        for width in [10, 40] {
            for line in event_lines(&ev, &[], width) {
                assert!(line.width() <= width, "{line}");
            }
        }
    }
}
