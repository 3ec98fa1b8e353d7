//! The audit story the timeline's tests and snapshots share: a new post, a password change,
//! a burst of deletes, an escalation, a cross-tenant edit and a change from psql; and the lab
//! on the timeline with it loaded.

use chrono::{TimeZone, Utc};
use pglab::app::{Action, App, Command, Event, RequestId};
use pglab::audit::filter::Filter;
use pglab::audit::rules::ActorOrgs;
use pglab::audit::{self, Capture, REDACTED};
use serde_json::{Value, json};

use super::app::app;

fn row(value: Value) -> Option<serde_json::Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// One event at 18:`minute`:`second` on the lab's day, by `actor` from a web address.
pub fn event(
    id: i64,
    (minute, second): (u32, u32),
    action: audit::Operation,
    (table, record_id): (&str, i64),
    actor: Option<i64>,
    (old, new): (Value, Value),
    changed: &[&str],
) -> audit::AuditEvent {
    audit::AuditEvent {
        id,
        at: Utc
            .with_ymd_and_hms(2026, 11, 26, 18, minute, second)
            .unwrap(),
        capture: Capture::Trigger,
        table: table.into(),
        record_id,
        action,
        organization_id: Some(if table == "posts" && record_id >= 40 {
            2
        } else {
            1
        }),
        actor_id: actor,
        system_actor: None,
        client_addr: Some(match actor {
            Some(5) => "198.51.100.23".into(),
            Some(_) => "203.0.113.7".into(),
            None => "127.0.0.1".into(),
        }),
        db_user: Some(
            if actor.is_some() {
                "pglab_app"
            } else {
                "postgres"
            }
            .into(),
        ),
        old: row(old),
        new: row(new),
        changed: changed.iter().map(|c| c.to_string()).collect(),
    }
}

/// The story, oldest first (the order they were written).
pub fn story() -> Vec<audit::AuditEvent> {
    use audit::Operation::{Delete, Insert, Update};
    let mut events = vec![
        event(
            1,
            (0, 5),
            Insert,
            ("posts", 31),
            Some(2),
            (
                Value::Null,
                json!({"id": 31, "organization_id": 1, "author_id": 2, "title": "Quarterly numbers", "deleted_at": null}),
            ),
            &[],
        ),
        event(
            2,
            (1, 10),
            Update,
            ("users", 2),
            Some(2),
            (
                json!({"id": 2, "organization_id": 1, "email": "ann@acme.test", "password_hash": REDACTED, "is_admin": false}),
                json!({"id": 2, "organization_id": 1, "email": "ann@acme.example", "password_hash": REDACTED, "is_admin": false}),
            ),
            &["email", "password_hash"],
        ),
    ];
    for (n, post) in (40..45).enumerate() {
        let n = n as u32;
        events.push(event(
            3 + i64::from(n),
            (2, n * 9),
            Delete,
            ("posts", post),
            Some(5),
            (
                json!({"id": post, "organization_id": 2, "author_id": 5, "title": format!("Draft {}", n + 1)}),
                Value::Null,
            ),
            &[],
        ));
    }
    events.push(event(
        8,
        (3, 12),
        Update,
        ("users", 9),
        Some(5),
        (
            json!({"id": 9, "organization_id": 1, "email": "max@acme.test", "password_hash": REDACTED, "is_admin": false}),
            json!({"id": 9, "organization_id": 1, "email": "max@acme.test", "password_hash": REDACTED, "is_admin": true}),
        ),
        // The password changed too: an account taken over, then made an administrator.
        &["is_admin", "password_hash"],
    ));
    let mut foreign = event(
        9,
        (4, 0),
        Update,
        ("posts", 17),
        Some(3),
        (
            json!({"id": 17, "organization_id": 2, "title": "Roadmap"}),
            json!({"id": 17, "organization_id": 2, "title": "Roadmap (leaked)"}),
        ),
        &["title"],
    );
    foreign.organization_id = Some(2);
    events.push(foreign);
    events.push(event(
        10,
        (5, 30),
        Update,
        ("posts", 12),
        None,
        (
            json!({"id": 12, "organization_id": 1, "title": "Hello"}),
            json!({"id": 12, "organization_id": 1, "title": "Hello, world"}),
        ),
        &["title"],
    ));
    events
}

/// Actor → organization: users 2 and 3 are in organization 1, user 5 in organization 2.
pub fn actors() -> ActorOrgs {
    ActorOrgs::from([(2, 1), (3, 1), (5, 2)])
}

/// The id of the `LoadAudit` among `commands`, with its filter.
pub fn load(commands: &[Command]) -> (RequestId, Filter) {
    commands
        .iter()
        .find_map(|c| match c {
            Command::LoadAudit { id, filter } => Some((*id, filter.clone())),
            _ => None,
        })
        .expect("the screen asks for the log")
}

/// The lab on the timeline with `events` loaded (newest first, as the log returns them).
pub fn timeline_with(events: Vec<audit::AuditEvent>) -> App {
    let mut app = app();
    let (id, _) = load(&app.update(Action::ShowAudit));
    let mut events = events;
    events.reverse();
    app.apply(Event::AuditLoaded {
        id,
        events,
        actors: actors(),
    });
    app
}
