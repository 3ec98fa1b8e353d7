//! `pglab audit`: the newest events of the database's audit log (or, with `--app`, of the
//! application's own `audit_logs`) as plain text, narrowed to one row, one actor, one table
//! or a recent time window. Read as the learner, who may read the log and nothing more.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;

use super::AuditArgs;
use crate::audit::plain;
use crate::db::audit::{self, Filter};
use crate::db::{Lab, LabConfig};

pub async fn run(config: &LabConfig, args: &AuditArgs) -> anyhow::Result<()> {
    let lab = Lab::open(config).await?;
    let mut conn = crate::db::connect(&lab.learner).await?;
    let filter = Filter {
        record: args.record.clone().map(|r| (r.table, r.id)),
        actor_id: args.actor,
        table: args.table.clone(),
        within: args.since,
        limit: args.limit,
    };
    let events = if args.app {
        audit::app_events(&mut conn, &filter).await?
    } else {
        audit::events(&mut conn, &filter).await?
    };
    let mut out = std::io::stdout().lock();
    if events.is_empty() {
        writeln!(out, "no audit events match")?;
    } else {
        writeln!(out, "{}", plain::render(&events))?;
    }
    out.flush()
        .context("cannot write the audit events to standard output")?;
    Ok(())
}

/// One row: `--record users:10`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub table: String,
    pub id: i64,
}

/// Parses `TABLE:ID`, saying which half is missing or wrong.
pub fn parse_record(text: &str) -> Result<Record, String> {
    let Some((table, id)) = text.split_once(':') else {
        return Err(format!(
            "expected TABLE:ID, e.g. users:10; `{text}` has no id (add `:` and the row's id)"
        ));
    };
    let table = parse_table(table)?;
    let id = id
        .trim()
        .parse()
        .map_err(|_| format!("the id in `{text}` must be a whole number, e.g. users:10"))?;
    Ok(Record { table, id })
}

/// A plain table name as the log stores it (`users`, `posts`).
pub fn parse_table(text: &str) -> Result<String, String> {
    let name = text.trim();
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "`{text}` is not a table name; write it as the log does, e.g. users or posts"
        ))
    }
}

/// A window back from now: a whole number and a unit, `s`, `m`, `h`, `d` or `w` (`90m`,
/// `1h`, `7d`).
pub fn parse_since(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let usage = || {
        format!("`{text}` is not a time window; write a number and a unit: 30s, 15m, 1h, 7d or 2w")
    };
    let number: u64 = number.parse().map_err(|_| usage())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(usage()),
    };
    number
        .checked_mul(seconds)
        .filter(|s| *s <= 100 * 365 * 86_400)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` reaches back more than a hundred years"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_need_a_table_and_a_whole_number() {
        assert_eq!(
            parse_record("users:10"),
            Ok(Record {
                table: "users".into(),
                id: 10
            })
        );
        assert!(parse_record("users").is_err_and(|e| e.contains("has no id")));
        assert!(parse_record("users:ten").is_err_and(|e| e.contains("whole number")));
        assert!(parse_record("Users;drop:1").is_err_and(|e| e.contains("not a table name")));
    }

    #[test]
    fn windows_take_a_number_and_a_unit() {
        assert_eq!(parse_since("90m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_since("1h"), Ok(Duration::from_secs(3_600)));
        assert_eq!(parse_since("7d"), Ok(Duration::from_secs(604_800)));
        for bad in ["5x", "h", "1.5h", "", "-1h"] {
            assert!(
                parse_since(bad).is_err_and(|e| e.contains("30s, 15m, 1h")),
                "{bad}"
            );
        }
        assert!(parse_since("99999999999w").is_err_and(|e| e.contains("hundred years")));
    }
}
