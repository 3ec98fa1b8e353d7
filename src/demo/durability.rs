//! The first lesson's demos: what survives when a server stops, measured on real processes.
//!
//! - `durability.memory`: articles written to an in-memory store (a process of its own, see
//!   [`store`]) and to PostgreSQL; the store is killed and started again: empty. PostgreSQL
//!   still has them.
//! - `durability.restart`: the lab's private server stopped cleanly and started again: a
//!   new postmaster, a new start time, the same rows.
//! - `durability.crash`: the postmaster killed with `SIGKILL` while one transaction has
//!   committed and another has not; started again, it replays its write-ahead log: the
//!   committed row is there, the other is not.
//! - `durability.compare`: the comparison table, every cell measured in this run.
//!
//! The rows live in `articles`, a table the demos create in the lesson schema (with a
//! foreign key to `users`) and fill with the same three articles each time, so any demo can
//! run first and a lesson can be replayed. The table stays for the learner to query; its
//! foreign key cascades, so that it never refuses a later lesson's delete of a user. The restart and the crash need a server the lab
//! owns: on a `DATABASE_URL` server they refuse, since others may be using it.

mod compare;
mod memory;
mod server;
pub mod store;

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::{DemoContext, DemoSpec, Error, exec, refusal, say};
use crate::data::demo::{DemoProgress, DemoReport};

pub use store::{STORE_COMMAND, serve as serve_store};

/// Every demo of this module is named `durability.…`.
pub(super) const PREFIX: &str = "durability.";

pub const DEMOS: &[DemoSpec] = &[
    DemoSpec {
        name: "durability.memory",
        summary: "articles in an in-memory store and in PostgreSQL; the store killed and restarted",
        params: &[],
    },
    DemoSpec {
        name: "durability.restart",
        summary: "the lab's server restarted (fast shutdown, start): new pid, same rows",
        params: &[],
    },
    DemoSpec {
        name: "durability.crash",
        summary: "the postmaster killed mid-transaction; crash recovery keeps what committed",
        params: &[],
    },
    DemoSpec {
        name: "durability.compare",
        summary: "in memory vs PostgreSQL: lookups, an aggregate, two processes, a foreign key",
        params: &[],
    },
];

/// The articles every demo starts from: id, author (a user of the story), title.
const ARTICLES: [(i64, i64, &str); 3] = [
    (1, 1, "Why the server forgot"),
    (2, 2, "Rows on disk"),
    (3, 1, "Crash, then recover"),
];

/// Runs the demo `name` (already checked).
pub(super) async fn run(
    ctx: &DemoContext,
    name: &'static str,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    match name {
        "durability.memory" => memory::run(ctx, progress).await,
        "durability.restart" => server::restart(ctx, progress).await,
        "durability.crash" => server::crash(ctx, progress).await,
        _ => compare::run(ctx, progress).await,
    }
}

/// Creates `articles` when missing and puts back exactly the three articles of
/// [`ARTICLES`]: whatever an earlier run added is removed.
async fn reset_articles(conn: &mut PgConnection, demo: &'static str) -> Result<(), Error> {
    let step = "preparing the articles table";
    sqlx::raw_sql(
        "create table if not exists articles (
             id bigint primary key,
             author_id bigint not null references users (id) on delete cascade,
             title text not null,
             written_at timestamptz not null default now()
         )",
    )
    .execute(&mut *conn)
    .await
    .map_err(super::sql(demo, step))?;
    sqlx::query("delete from articles")
        .execute(&mut *conn)
        .await
        .map_err(super::sql(demo, step))?;
    // One statement for the three, so the log shows one insert rather than a loop.
    let mut insert = sqlx::query(
        "insert into articles (id, author_id, title) values ($1, $2, $3), ($4, $5, $6), ($7, $8, $9)",
    );
    for (id, author, title) in ARTICLES {
        insert = insert.bind(id).bind(author).bind(title);
    }
    insert
        .execute(&mut *conn)
        .await
        .map_err(super::sql(demo, step))?;
    Ok(())
}

/// How many rows `articles` holds.
async fn count_articles(conn: &mut PgConnection, demo: &'static str) -> Result<i64, Error> {
    sqlx::query_scalar("select count(*) from articles")
        .fetch_one(conn)
        .await
        .map_err(super::sql(demo, "counting the articles"))
}

/// The server process serving `conn`.
async fn backend_pid(conn: &mut PgConnection, demo: &'static str) -> Result<i32, Error> {
    sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(conn)
        .await
        .map_err(super::sql(demo, "asking for the session's server process"))
}

/// A box of `width` columns inside its border, titled, holding `lines`: for the pictures the
/// reports draw (never wider than a report line, so they are never wrapped).
fn boxed(title: &str, lines: &[String], width: usize) -> Vec<String> {
    let title = format!(" {title} ");
    let title_width = title.chars().count();
    let mut out = vec![format!(
        "┌─{title}{}┐",
        "─".repeat(width.saturating_sub(title_width + 1))
    )];
    for line in lines {
        let pad = width.saturating_sub(line.chars().count() + 1);
        out.push(format!("│ {line}{}│", " ".repeat(pad)));
    }
    out.push(format!("└{}┘", "─".repeat(width)));
    out
}

/// Two pictures side by side, `gap` columns apart; the shorter one padded with blanks.
fn side_by_side(left: &[String], right: &[String], gap: usize) -> Vec<String> {
    let width = left.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let rows = left.len().max(right.len());
    (0..rows)
        .map(|i| {
            let l = left.get(i).map_or("", String::as_str);
            let r = right.get(i).map_or("", String::as_str);
            let pad = width - l.chars().count() + gap;
            format!("{l}{}{r}", " ".repeat(pad)).trim_end().to_string()
        })
        .collect()
}

/// The refusal of a demo that restarts or crashes the server, on a server the lab does not
/// own.
fn not_owned(demo: &'static str, what: &str) -> Error {
    Error::Refused {
        demo,
        why: format!(
            "this lab runs on the server named by DATABASE_URL, which pglab does not own; \
             {what} would cut off everyone else using it. Run pglab without DATABASE_URL (its \
             private server) to see this step"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_here_is_named_with_the_prefix() {
        assert!(DEMOS.iter().all(|demo| demo.name.starts_with(PREFIX)));
    }

    #[test]
    fn boxes_line_up_side_by_side() {
        let left = boxed("store · pid 7", &["articles: 3".to_string()], 20);
        let right = boxed("store · pid 12", &["articles: 0".to_string()], 20);
        let both = side_by_side(&left, &right, 3);
        assert_eq!(both.len(), 3);
        let widths: Vec<usize> = both.iter().map(|l| l.chars().count()).collect();
        assert!(widths.iter().all(|&w| w == widths[0]), "{both:#?}");
        assert_eq!(left[0].chars().count(), left[1].chars().count());
    }
}
