//! Which audit events to show: one row's history, one actor's changes, one table, a time
//! window. Parsed from the words a person types (`users:10`, `actor=7`, `table=posts`,
//! `1h`), the same for the CLI's arguments and the timeline's filter.
//!
//! A window (`1h`) is relative to "now", which this pure module does not read: it is kept
//! as [`Filter::window`] and turned into the absolute [`Filter::since`] by whoever has a
//! clock ([`Filter::resolved`]), at the moment the events are read.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use thiserror::Error;

use super::AuditEvent;

/// Everything a filter can narrow by; `None` means "any". The default shows everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// One row: its table and its `id`.
    pub record: Option<(String, i64)>,
    /// Changes declared by this application user.
    pub actor: Option<i64>,
    /// Changes to this table.
    pub table: Option<String>,
    /// Only events at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Only the events of the last so long, as asked for; see [`Filter::resolved`].
    pub window: Option<Window>,
}

/// A stretch of time back from now: `30m`, `1h`, `2d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window(pub TimeDelta);

/// Why a filter's text could not be read; each message names the input and what to write.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterError {
    #[error("`{0}` names a table but no row: write `{0}:10` for row 10, or `table={0}`")]
    NoRowId(String),
    #[error("`{text}`: the row id `{id}` is not a whole number (write `{table}:10`)")]
    BadRowId {
        text: String,
        table: String,
        id: String,
    },
    #[error("`{0}`: a record needs a table name before the colon (write `users:10`)")]
    NoTable(String),
    #[error("`{text}`: the actor `{id}` is not a user id (write `actor=7`)")]
    BadActor { text: String, id: String },
    #[error("`{0}`: a window is a number and a unit: s, m, h or d (write `30m` or `1h`)")]
    BadWindow(String),
    #[error("`{text}`: unknown unit `{unit}`; use s, m, h or d (write `30m` or `1h`)")]
    BadUnit { text: String, unit: String },
    #[error("`{0}`: the window must be longer than nothing and shorter than a century")]
    WindowOutOfRange(String),
    #[error("`{0}` is not a filter: write `users:10`, `actor=7`, `table=posts` or `1h`")]
    Unknown(String),
}

impl Filter {
    /// Reads space-separated words, each narrowing further: `users:10` (one row),
    /// `actor=7`, `table=posts`, and a window `30m` / `1h` / `2d`. Empty text is no filter.
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        let mut filter = Filter::default();
        for word in text.split_whitespace() {
            if let Some(id) = word.strip_prefix("actor=") {
                filter.actor = Some(id.parse().map_err(|_| FilterError::BadActor {
                    text: word.to_string(),
                    id: id.to_string(),
                })?);
            } else if let Some(table) = word.strip_prefix("table=") {
                filter.table = Some(table.to_string());
            } else if word.contains(':') {
                filter.record = Some(parse_record(word)?);
            } else if word.starts_with(|c: char| c.is_ascii_digit()) {
                filter.window = Some(Window::parse(word)?);
            } else if word.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return Err(FilterError::NoRowId(word.to_string()));
            } else {
                return Err(FilterError::Unknown(word.to_string()));
            }
        }
        Ok(filter)
    }

    /// True when nothing narrows the events.
    pub fn is_empty(&self) -> bool {
        self == &Filter::default()
    }

    /// The filter with its window turned into an absolute `since`, as of `now`; the later
    /// of the two bounds wins when both are set.
    pub fn resolved(&self, now: DateTime<Utc>) -> Filter {
        let mut filter = self.clone();
        if let Some(Window(length)) = self.window {
            let from = now - length;
            filter.since = Some(self.since.map_or(from, |since| since.max(from)));
        }
        filter
    }

    /// True when `event` passes every part of the filter. A window not yet resolved does
    /// not narrow: the reader of the log applies it (see [`Filter::resolved`]).
    pub fn matches(&self, event: &AuditEvent) -> bool {
        let record = self
            .record
            .as_ref()
            .is_none_or(|(table, id)| *table == event.table && *id == event.record_id);
        let actor = self.actor.is_none_or(|actor| event.actor_id == Some(actor));
        let table = self.table.as_ref().is_none_or(|t| *t == event.table);
        let since = self.since.is_none_or(|since| event.at >= since);
        record && actor && table && since
    }
}

/// `users:10` → (`users`, 10).
pub fn parse_record(text: &str) -> Result<(String, i64), FilterError> {
    let Some((table, id)) = text.split_once(':') else {
        return Err(FilterError::NoRowId(text.to_string()));
    };
    if table.is_empty() {
        return Err(FilterError::NoTable(text.to_string()));
    }
    let id = id.parse().map_err(|_| FilterError::BadRowId {
        text: text.to_string(),
        table: table.to_string(),
        id: id.to_string(),
    })?;
    Ok((table.to_string(), id))
}

impl Window {
    /// `45s`, `30m`, `1h`, `2d`.
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        let digits = text.chars().take_while(char::is_ascii_digit).count();
        let (number, unit) = text.split_at(digits);
        let Ok(number) = number.parse::<i64>() else {
            return Err(FilterError::BadWindow(text.to_string()));
        };
        let seconds = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "" => return Err(FilterError::BadWindow(text.to_string())),
            _ => {
                return Err(FilterError::BadUnit {
                    text: text.to_string(),
                    unit: unit.to_string(),
                });
            }
        };
        // A century bounds the arithmetic; nobody audits further back from a terminal.
        const CENTURY: i64 = 100 * 365 * 86_400;
        match number.checked_mul(seconds) {
            Some(total) if total > 0 && total <= CENTURY => Ok(Window(TimeDelta::seconds(total))),
            _ => Err(FilterError::WindowOutOfRange(text.to_string())),
        }
    }
}

impl fmt::Display for Window {
    /// The largest unit that divides the window: `90m` stays `90m`, `120m` is `2h`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0.num_seconds();
        let (unit, size) = [("d", 86_400), ("h", 3600), ("m", 60)]
            .into_iter()
            .find(|(_, size)| seconds % size == 0 && seconds >= *size)
            .unwrap_or(("s", 1));
        write!(f, "{}{unit}", seconds / size)
    }
}

impl fmt::Display for Filter {
    /// The filter as it would be typed (`users:10 actor=7 1h`), `all events` when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut words = Vec::new();
        if let Some((table, id)) = &self.record {
            words.push(format!("{table}:{id}"));
        }
        if let Some(actor) = self.actor {
            words.push(format!("actor={actor}"));
        }
        if let Some(table) = &self.table {
            words.push(format!("table={table}"));
        }
        if let Some(window) = self.window {
            words.push(window.to_string());
        }
        if let Some(since) = self.since {
            words.push(format!("since {}", since.format("%Y-%m-%d %H:%M:%S UTC")));
        }
        if words.is_empty() {
            return f.write_str("all events");
        }
        f.write_str(&words.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Capture, Operation};
    use chrono::TimeZone;

    fn event(table: &str, record_id: i64, actor: Option<i64>, minute: u32) -> AuditEvent {
        AuditEvent {
            id: 1,
            at: Utc.with_ymd_and_hms(2026, 11, 26, 18, minute, 0).unwrap(),
            capture: Capture::Trigger,
            table: table.into(),
            record_id,
            action: Operation::Update,
            organization_id: Some(1),
            actor_id: actor,
            system_actor: None,
            client_addr: None,
            db_user: None,
            old: None,
            new: None,
            changed: Vec::new(),
        }
    }

    #[test]
    fn words_narrow_by_record_actor_table_and_window() {
        let filter = Filter::parse("users:10 actor=7 table=users 30m").unwrap();
        assert_eq!(filter.record, Some(("users".into(), 10)));
        assert_eq!(filter.actor, Some(7));
        assert_eq!(filter.table.as_deref(), Some("users"));
        assert_eq!(filter.window, Some(Window(TimeDelta::minutes(30))));
        assert_eq!(filter.to_string(), "users:10 actor=7 table=users 30m");
        assert!(Filter::parse("  ").unwrap().is_empty());
        assert_eq!(Filter::default().to_string(), "all events");
    }

    #[test]
    fn windows_read_every_unit() {
        assert_eq!(Window::parse("45s").unwrap().0, TimeDelta::seconds(45));
        assert_eq!(Window::parse("1h").unwrap().0, TimeDelta::hours(1));
        assert_eq!(Window::parse("2d").unwrap().0, TimeDelta::days(2));
        assert_eq!(Window::parse("120m").unwrap().to_string(), "2h");
        assert_eq!(Window::parse("90m").unwrap().to_string(), "90m");
    }

    #[test]
    fn mistakes_say_what_to_write() {
        let message = |text: &str| Filter::parse(text).unwrap_err().to_string();
        assert_eq!(
            message("users"),
            "`users` names a table but no row: write `users:10` for row 10, or `table=users`"
        );
        assert_eq!(
            message("users:x"),
            "`users:x`: the row id `x` is not a whole number (write `users:10`)"
        );
        assert_eq!(
            message("5x"),
            "`5x`: unknown unit `x`; use s, m, h or d (write `30m` or `1h`)"
        );
        assert!(message(":3").contains("needs a table name"));
        assert!(message("actor=bob").contains("not a user id"));
        assert!(message("5").contains("a number and a unit"));
        assert!(message("0m").contains("longer than nothing"));
        assert!(message("99999999999999d").contains("shorter than a century"));
        assert!(message("a-b").contains("is not a filter"));
    }

    #[test]
    fn matching_checks_every_part() {
        let ev = event("users", 10, Some(7), 30);
        assert!(Filter::default().matches(&ev));
        assert!(Filter::parse("users:10 actor=7").unwrap().matches(&ev));
        assert!(!Filter::parse("users:11").unwrap().matches(&ev));
        assert!(!Filter::parse("posts:10").unwrap().matches(&ev));
        assert!(!Filter::parse("actor=8").unwrap().matches(&ev));
        assert!(!Filter::parse("table=posts").unwrap().matches(&ev));
        let outside = event("users", 10, None, 30);
        assert!(!Filter::parse("actor=7").unwrap().matches(&outside));
    }

    #[test]
    fn a_window_narrows_once_resolved_against_now() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 18, 45, 0).unwrap();
        let filter = Filter::parse("10m").unwrap();
        let old = event("users", 10, None, 30);
        let recent = event("users", 10, None, 40);
        assert!(filter.matches(&old), "unresolved windows do not narrow");
        let resolved = filter.resolved(now);
        assert!(!resolved.matches(&old));
        assert!(resolved.matches(&recent));
        assert_eq!(resolved.window, filter.window);
    }
}
