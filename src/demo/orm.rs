//! The ORM lesson's demos, on the story's users, everything rolled back:
//!
//! - `orm.positional`: rows read by position (`row.get(2)`), then a migration rebuilds a
//!   column on a copy of `users` and the same code puts the email in the username field;
//! - `orm.from_row`: the same rows mapped to a struct by column name (`FromRow`), before and
//!   after the same migration;
//! - `orm.model`: a small model that writes its own SQL (an insert, a filtered select, an
//!   update of the fields that changed), beside the statements the proxy saw;
//! - `orm.mapping`: the model's fields next to the catalog's columns (types in Rust,
//!   PostgreSQL, SQLAlchemy and TypeScript; key, unique, nullable, default) and what the
//!   server answers when a value does not fit;
//! - `orm.injection`: a handler that formats the search term into its SQL, fed a normal name,
//!   `x' or '1'='1` and a `drop table`, against the same handler with the term bound;
//! - `orm.tradeoffs`: what a mapper hides, measured: a lazy relationship's round trips and
//!   `select *`'s bytes.
//!
//! Why rolled back: the lesson changes the story on purpose (a migration, a new user, a
//! dropped table) and every later lesson counts on the story as it was. DDL is transactional
//! in PostgreSQL, so the migration and the drop end with the demo's transaction; the one
//! thing a rollback leaves moved, the users' id sequence, is put back by the model demo.
//!
//! The connection and the per-request measuring are the multi-tenant security lesson's
//! ([`super::requests::RequestRun`]): both lessons show handlers and their round trips.

mod injection;
mod mapping;
mod model;
mod rows;
mod tradeoffs;

use tokio::sync::mpsc;

use super::requests::{Current, RequestRun, Told};
use super::{DemoContext, DemoSpec, Error, exec, say};
use crate::data::demo::{DemoProgress, DemoReport};

/// Every demo of this module is named `orm.…`.
pub(super) const PREFIX: &str = "orm.";

pub const DEMOS: &[DemoSpec] = &[
    DemoSpec {
        name: "orm.positional",
        summary: "rows read by position, then a column rebuilt: the email lands in username",
        params: &[],
    },
    DemoSpec {
        name: "orm.from_row",
        summary: "rows mapped to a struct by column name (FromRow) survive the same migration",
        params: &[],
    },
    DemoSpec {
        name: "orm.model",
        summary: "a model writes its insert, filtered select and update; the SQL the proxy saw",
        params: &[],
    },
    DemoSpec {
        name: "orm.mapping",
        summary: "model fields beside the catalog's columns; values that do not fit, refused",
        params: &[],
    },
    DemoSpec {
        name: "orm.injection",
        summary: "a string-formatted search fed x' or '1'='1 and a drop table; the bound one",
        params: &[],
    },
    DemoSpec {
        name: "orm.tradeoffs",
        summary: "what a mapper hides: a lazy relationship's round trips, select *'s bytes",
        params: &[],
    },
];

/// Runs the demo `name` (already checked).
pub(super) async fn run(
    ctx: &DemoContext,
    name: &'static str,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let current = Current::of(ctx);
    let mut lab = RequestRun::start(ctx, name).await?;
    let told = rolled_back(&mut lab, name, async |lab| match name {
        "orm.positional" => rows::positional(lab, &current, progress).await,
        "orm.from_row" => rows::from_row(lab, &current, progress).await,
        "orm.model" => model::run(lab, &current, progress).await,
        "orm.mapping" => mapping::run(lab, &current, progress).await,
        "orm.injection" => injection::run(lab, &current, progress).await,
        _ => tradeoffs::run(lab, &current, progress).await,
    })
    .await;
    lab.report(told).await
}

/// Runs `demo` inside one transaction, rolled back whether it succeeded or not.
async fn rolled_back(
    lab: &mut RequestRun,
    name: &'static str,
    demo: impl AsyncFnOnce(&mut RequestRun) -> Result<Told, Error>,
) -> Result<Told, Error> {
    let (begun, _) = lab
        .step("begin", async |conn| {
            exec(conn, name, "opening its transaction", "begin").await
        })
        .await;
    begun?;
    let told = demo(lab).await;
    let (ended, _) = lab
        .step("rollback", async |conn| {
            exec(conn, name, "rolling back", "rollback").await
        })
        .await;
    let mut told = told?;
    ended?;
    told.1.push(String::new());
    told.1
        .push("Rolled back: the story is as it was before the demo.".into());
    Ok(told)
}

/// `sql` shown one line per line of text, under `indent`.
fn sql_lines(sql: &str, indent: &str) -> Vec<String> {
    sql.lines()
        .map(|line| format!("{indent}{}", line.trim()))
        .filter(|line| !line.trim().is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_here_is_named_with_the_prefix() {
        assert!(DEMOS.iter().all(|demo| demo.name.starts_with(PREFIX)));
    }

    #[test]
    fn sql_is_shown_line_by_line_without_blank_lines() {
        assert_eq!(
            sql_lines("select id\n\n     from users", "  "),
            vec!["  select id", "  from users"]
        );
    }
}
