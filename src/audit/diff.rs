//! An event's columns side by side, old → new: what an insert wrote, what a delete took
//! away, what an update changed. Redacted values stay redacted: a changed password hash
//! says it changed and never shows a value.

use serde_json::{Map, Value};

use super::{AuditEvent, Operation, REDACTED};

/// One column's value on one side of the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// The side does not exist (no old row for an insert, no new row for a delete).
    Absent,
    /// The value as JSON writes it: `"ann@acme.test"`, `42`, `true`, `null`.
    Value(String),
    /// A sensitive column: the log holds no value for it.
    Redacted,
}

/// One column of the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub column: String,
    pub old: Cell,
    pub new: Cell,
    /// The update changed this column (inserts and deletes: always false, the whole row
    /// is new or gone).
    pub changed: bool,
}

impl Field {
    pub fn redacted(&self) -> bool {
        self.old == Cell::Redacted || self.new == Cell::Redacted
    }
}

/// Every column of `event`, changed ones first (in the order the event lists them), then
/// the rest by name.
pub fn fields(event: &AuditEvent) -> Vec<Field> {
    let empty = Map::new();
    let old = event.old.as_ref().unwrap_or(&empty);
    let new = event.new.as_ref().unwrap_or(&empty);
    let mut columns: Vec<&String> = old.keys().chain(new.keys()).collect();
    columns.sort();
    columns.dedup();
    let mut fields: Vec<Field> = columns
        .into_iter()
        .map(|column| {
            let before = cell(event.old.as_ref(), column);
            let after = cell(event.new.as_ref(), column);
            // A redacted column compares equal on both sides even when it changed: the
            // event's own list of changed columns is what knows.
            let changed = event.action == Operation::Update
                && (event.changed.contains(column) || before != after);
            Field {
                column: column.clone(),
                old: before,
                new: after,
                changed,
            }
        })
        .collect();
    let rank = |field: &Field| {
        event
            .changed
            .iter()
            .position(|c| *c == field.column)
            .unwrap_or(usize::MAX)
    };
    // Stable: unchanged columns keep their alphabetical order behind the changed ones.
    fields.sort_by_key(|field| (!field.changed, rank(field)));
    fields
}

/// Only the columns an update changed; for inserts and deletes, every column.
pub fn changes(event: &AuditEvent) -> Vec<Field> {
    let all = fields(event);
    if event.action == Operation::Update {
        all.into_iter().filter(|f| f.changed).collect()
    } else {
        all
    }
}

fn cell(row: Option<&Map<String, Value>>, column: &str) -> Cell {
    match row.map(|row| row.get(column)) {
        None => Cell::Absent,
        Some(None) => Cell::Absent,
        Some(Some(Value::String(text))) if text == REDACTED => Cell::Redacted,
        Some(Some(value)) => Cell::Value(value.to_string()),
    }
}

impl Cell {
    /// How the cell reads in a diff line.
    pub fn text(&self) -> &str {
        match self {
            Cell::Absent => "",
            Cell::Value(text) => text,
            Cell::Redacted => REDACTED,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::audit::Capture;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    pub(crate) fn row(value: Value) -> Option<Map<String, Value>> {
        match value {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    pub(crate) fn event(action: Operation, old: Value, new: Value, changed: &[&str]) -> AuditEvent {
        AuditEvent {
            id: 1,
            at: Utc.with_ymd_and_hms(2026, 11, 26, 18, 2, 11).unwrap(),
            capture: Capture::Trigger,
            table: "users".into(),
            record_id: 10,
            action,
            organization_id: Some(1),
            actor_id: Some(7),
            system_actor: None,
            client_addr: Some("203.0.113.7".into()),
            db_user: Some("pglab_app".into()),
            old: row(old),
            new: row(new),
            changed: changed.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn an_update_marks_what_changed_and_puts_it_first() {
        let ev = event(
            Operation::Update,
            json!({"id": 10, "email": "a@x.test", "is_admin": false}),
            json!({"id": 10, "email": "a@x.test", "is_admin": true}),
            &["is_admin"],
        );
        let fields = fields(&ev);
        assert_eq!(fields[0].column, "is_admin");
        assert!(fields[0].changed);
        assert_eq!(fields[0].old, Cell::Value("false".into()));
        assert_eq!(fields[0].new, Cell::Value("true".into()));
        assert!(fields[1..].iter().all(|f| !f.changed));
        assert_eq!(fields[1].new, Cell::Value("\"a@x.test\"".into()));
        assert_eq!(changes(&ev).len(), 1);
    }

    #[test]
    fn a_redacted_column_that_changed_says_so_without_values() {
        let ev = event(
            Operation::Update,
            json!({"id": 10, "password_hash": REDACTED}),
            json!({"id": 10, "password_hash": REDACTED}),
            &["password_hash"],
        );
        let field = &changes(&ev)[0];
        assert_eq!(field.column, "password_hash");
        assert!(field.changed && field.redacted());
        assert_eq!(field.new.text(), REDACTED);
    }

    #[test]
    fn a_change_the_event_did_not_list_is_still_found() {
        let ev = event(
            Operation::Update,
            json!({"title": "a"}),
            json!({"title": "b"}),
            &[],
        );
        assert!(fields(&ev)[0].changed);
    }

    #[test]
    fn inserts_are_all_new_and_deletes_all_old() {
        let insert = event(
            Operation::Insert,
            Value::Null,
            json!({"id": 3, "x": null}),
            &[],
        );
        let fields_in = changes(&insert);
        assert_eq!(fields_in.len(), 2);
        assert!(
            fields_in
                .iter()
                .all(|f| f.old == Cell::Absent && !f.changed)
        );
        assert_eq!(fields_in[1].new, Cell::Value("null".into()));
        let delete = event(Operation::Delete, json!({"id": 3}), Value::Null, &[]);
        let gone = changes(&delete);
        assert_eq!(gone[0].new, Cell::Absent);
        assert_eq!(gone[0].old, Cell::Value("3".into()));
    }
}
