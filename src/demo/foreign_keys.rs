//! The relationships and foreign keys lesson's demos:
//!
//! - `foreign_keys.one_to_many`: an organization's users and a user's organization, the two
//!   directions of one foreign key, as an ORM's lazy relationship (two queries) and as a join
//!   (one), round trips counted;
//! - `foreign_keys.many_to_many`: tags on posts through a join table whose two foreign keys
//!   make its primary key;
//! - `foreign_keys.orphan`: a user inserted into an organization that does not exist, refused
//!   with 23503, and what an application's `POST /users` answers, unhandled and mapped;
//! - `foreign_keys.on_delete`: Acme deleted under every `ON DELETE` policy, on copies of the
//!   tenant tables, row counts before and after and what the audit trail recorded;
//! - `foreign_keys.deferred`: `RESTRICT` against a deferred `NO ACTION`, checked at `COMMIT`;
//! - `foreign_keys.unindexed`: deleting tenants whose rows cascade, without and with an index
//!   on the referencing column, the trigger's time and reads from `EXPLAIN ANALYZE`.
//!
//! Nothing outlives a demo: each works in a transaction it rolls back (the tables it adds,
//! the rows it writes, the audit events its deletes record), except `deferred`, which must
//! really commit and so works on temporary tables that end with its session. Sequences a
//! rollback would leave moved (a refused insert still draws an id) are put back.
//!
//! Here: the demo list and the dispatch; the demos in `relations` (one-to-many,
//! many-to-many), `orphans`, `on_delete`, `deferred` and `unindexed`.

mod deferred;
mod on_delete;
mod orphans;
mod relations;
mod unindexed;

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::params::{ParamKind, ParamSpec};
use super::requests::RequestRun;
use super::{DemoContext, DemoSpec, Error};
use crate::data::acting::ActingAs;
use crate::data::demo::{DemoProgress, DemoReport};

/// Every demo of this module is named `foreign_keys.…`.
pub(super) const PREFIX: &str = "foreign_keys.";

pub const DEMOS: &[DemoSpec] = &[
    DemoSpec {
        name: "foreign_keys.one_to_many",
        summary: "an organization's users and a user's organization: lazy and joined",
        params: &[],
    },
    DemoSpec {
        name: "foreign_keys.many_to_many",
        summary: "tags on posts through a join table",
        params: &[],
    },
    DemoSpec {
        name: "foreign_keys.orphan",
        summary: "a user into organization 999: 23503, and what POST /users answers",
        params: &[],
    },
    DemoSpec {
        name: "foreign_keys.on_delete",
        summary: "Acme deleted under CASCADE, RESTRICT, NO ACTION, SET NULL: counts and audit",
        params: &[],
    },
    DemoSpec {
        name: "foreign_keys.deferred",
        summary: "RESTRICT against a deferred NO ACTION, checked at COMMIT",
        params: &[],
    },
    DemoSpec {
        name: "foreign_keys.unindexed",
        summary: "cascading tenant deletes without and with an index on the foreign key",
        params: &[ParamSpec {
            name: "members",
            kind: ParamKind::Int {
                min: 1_000,
                max: 2_000_000,
            },
            help: "how many generated members reference the generated tenants (default 200000)",
        }],
    },
];

/// Who the lab acts as: the handlers serve this user; alice of Acme otherwise.
#[derive(Debug, Clone)]
struct Current {
    user_id: i64,
    username: String,
}

impl Current {
    fn of(ctx: &DemoContext) -> Self {
        match &ctx.acting_as {
            Some(ActingAs {
                user_id, username, ..
            }) => Current {
                user_id: *user_id,
                username: username.clone(),
            },
            None => Current {
                user_id: 1,
                username: "alice".into(),
            },
        }
    }
}

/// Runs the demo `name` (already checked).
pub(super) async fn run(
    ctx: &DemoContext,
    name: &'static str,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    match name {
        "foreign_keys.unindexed" => return unindexed::run(ctx, params, progress).await,
        "foreign_keys.deferred" => {
            let mut lab = RequestRun::start(ctx, name).await?;
            let told = deferred::run(&mut lab, progress).await;
            return lab.report(told).await;
        }
        _ => {}
    }
    let current = Current::of(ctx);
    let mut lab = RequestRun::start(ctx, name).await?;
    let told = match name {
        "foreign_keys.one_to_many" => relations::one_to_many(&mut lab, &current, progress).await,
        "foreign_keys.many_to_many" => relations::many_to_many(&mut lab, progress).await,
        "foreign_keys.orphan" => orphans::run(&mut lab, progress).await,
        _ => on_delete::run(&mut lab, progress).await,
    };
    lab.report(told).await
}

/// `sql`'s lines, indented under a transcript line.
fn shown(sql: &str) -> impl Iterator<Item = String> + '_ {
    sql.lines().map(|line| format!("    {}", line.trim_start()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_here_is_named_with_the_prefix() {
        assert!(DEMOS.iter().all(|demo| demo.name.starts_with(PREFIX)));
    }
}
