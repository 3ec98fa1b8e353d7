//! An audit event as plain text for `pglab audit` and anything else that prints events
//! without styles: a header (when, which log, what happened to which row), who and from
//! where, then one line per column, `field: old → new` for an update.

use serde_json::{Map, Value};

use super::{Action, Capture, Event, REDACTED};

/// The lines of one event, without a trailing blank line.
pub fn event_lines(event: &Event) -> Vec<String> {
    let log = match event.capture {
        Capture::Trigger => "trigger",
        Capture::App => "app log",
    };
    let mut lines = vec![
        format!(
            "#{} {} UTC  {} {}:{}  ({log})",
            event.id,
            event.at.format("%Y-%m-%d %H:%M:%S%.3f"),
            event.action.as_str(),
            event.table,
            event.record_id,
        ),
        format!("  by {}  from {}", who(event), where_from(event)),
    ];
    let empty = Map::new();
    let old = event.old.as_ref().unwrap_or(&empty);
    let new = event.new.as_ref().unwrap_or(&empty);
    match event.action {
        Action::Update => {
            for field in &event.changed {
                lines.push(format!(
                    "  {field}: {} → {}",
                    value(old.get(field)),
                    value(new.get(field))
                ));
            }
        }
        Action::Insert => lines.extend(
            new.iter()
                .map(|(f, v)| format!("  {f}: {}", value(Some(v)))),
        ),
        Action::Delete => lines.extend(
            old.iter()
                .map(|(f, v)| format!("  {f}: {}", value(Some(v)))),
        ),
    }
    lines
}

/// Every event, a blank line between two.
pub fn render(events: &[Event]) -> String {
    events
        .iter()
        .map(|event| event_lines(event).join("\n"))
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn who(event: &Event) -> String {
    let actor = match event.actor_id {
        Some(id) => format!("actor {id}"),
        None => "no actor".to_owned(),
    };
    match &event.db_user {
        Some(user) => format!("{actor} (db user {user})"),
        None => actor,
    }
}

fn where_from(event: &Event) -> &str {
    event.client_addr.as_deref().unwrap_or("unknown address")
}

/// JSON as written, except that a missing value is `–` and a redacted one reads
/// `[redacted]` rather than as a quoted string.
fn value(value: Option<&Value>) -> String {
    match value {
        None => "–".to_owned(),
        Some(Value::String(text)) if text == REDACTED => REDACTED.to_owned(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Option<Map<String, Value>> {
        match value {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    fn update() -> Event {
        Event {
            id: 7,
            at: chrono::Utc
                .with_ymd_and_hms(2026, 4, 2, 10, 15, 3)
                .single()
                .unwrap_or_default(),
            capture: Capture::Trigger,
            table: "users".into(),
            record_id: 1,
            action: Action::Update,
            organization_id: Some(1),
            actor_id: Some(1),
            client_addr: Some("203.0.113.7".into()),
            db_user: Some("pglab_learner".into()),
            old: object(json!({"username": "alice", "password_hash": REDACTED, "id": 1})),
            new: object(json!({"username": "al", "password_hash": REDACTED, "id": 1})),
            changed: vec!["username".into(), "password_hash".into()],
        }
    }

    #[test]
    fn an_update_lists_its_changed_columns_with_secrets_redacted() {
        assert_eq!(
            event_lines(&update()),
            [
                "#7 2026-04-02 10:15:03.000 UTC  update users:1  (trigger)",
                "  by actor 1 (db user pglab_learner)  from 203.0.113.7",
                "  username: \"alice\" → \"al\"",
                "  password_hash: [redacted] → [redacted]",
            ]
        );
    }

    #[test]
    fn an_app_insert_without_actor_lists_the_new_row() {
        let mut event = update();
        event.capture = Capture::App;
        event.action = Action::Insert;
        event.old = None;
        event.new = object(json!({"id": 1, "title": null}));
        event.actor_id = None;
        event.db_user = None;
        event.client_addr = None;
        let lines = event_lines(&event);
        assert_eq!(
            lines[0],
            "#7 2026-04-02 10:15:03.000 UTC  insert users:1  (app log)"
        );
        assert_eq!(lines[1], "  by no actor  from unknown address");
        assert_eq!(&lines[2..], ["  id: 1", "  title: null"]);
        assert_eq!(render(&[event.clone(), event]).matches("\n\n").count(), 1);
    }
}
