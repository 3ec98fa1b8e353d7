//! The multi-tenant security lesson's demos, all on the story's rows:
//!
//! - `tenant_security.naive`: `POST /posts` with another tenant's `organization_id` sent to a
//!   handler that trusts the body: the post lands in that tenant's list;
//! - `tenant_security.checked`: the same request to a handler that fetches the current user,
//!   checks the organization exists and compares: 403, 404, and 201 for a fair request;
//! - `tenant_security.idor`: reading and updating another tenant's post by id, with and
//!   without the tenant in the `WHERE`;
//! - `tenant_security.composite_fk`: a foreign key on `(organization_id, author_id)` that
//!   refuses a post whose author belongs to another tenant, whatever the handler does;
//! - `tenant_security.rls`: a row-level security policy, the owner who bypasses it, `FORCE`,
//!   the tenant set per transaction, the policy's filter in the plan;
//! - `tenant_security.pooled`: a session `SET` on a pool of one connection leaks one
//!   request's tenant into the next; `set_config(…, true)` does not;
//! - `tenant_security.attacks`: cross-tenant attempts run without and with row-level
//!   security, rows of other tenants counted per attempt.
//!
//! Why everything is rolled back: the breach is the point of the first demo, and the learner
//! sees "Hacked!" in the other tenant's list, read inside the same transaction the handler
//! wrote it in. Committing it would put a post into the story every later lesson counts on,
//! and the lesson would need a clean-up step that a learner can skip. The policies, the
//! extra constraints and the `FORCE` switch are DDL, and PostgreSQL's DDL is transactional:
//! they exist only inside the demo's transaction (the pooled demo, which needs several
//! transactions on one session, puts its policy on a temporary copy of `posts` that ends
//! with its session). What a rollback does not undo is a sequence: the demos that insert note
//! where `posts_id_seq` stood before their first insert, and put it back when they end, on
//! every path but a stop (which drops the demo's task: the story's next post then skips the
//! few ids the demo drew). A post the learner commits from another session while a demo
//! runs (a few milliseconds) would have its id handed out again; the demos accept that.
//!
//! Here: the demo list and a tenant's list as the blog shows it; the demos themselves in
//! `handlers` (naive, checked), `idor`, `composite_fk`, `rls`, `pooled` and `attacks`, on
//! the connection and the measured requests of [`super::requests`].

pub mod attacks;
mod composite_fk;
mod handlers;
mod idor;
mod pooled;
mod rls;

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::requests::{Current, RequestRun, Told};
use super::{DemoContext, DemoSpec, Error, exec, refusal, refusal_lines, say, sql};
use crate::data::demo::{DemoProgress, DemoReport};

/// Every demo of this module is named `tenant_security.…`.
pub(super) const PREFIX: &str = "tenant_security.";

/// The sequence the posts' ids come from, which the demos that insert put back.
const POST_IDS: &str = "posts_id_seq";

pub const DEMOS: &[DemoSpec] = &[
    DemoSpec {
        name: "tenant_security.naive",
        summary: "POST /posts with another tenant's organization_id, to a handler that trusts it",
        params: &[],
    },
    DemoSpec {
        name: "tenant_security.checked",
        summary: "the same request to a handler that checks: 403, 404, 201",
        params: &[],
    },
    DemoSpec {
        name: "tenant_security.idor",
        summary: "another tenant's post read and updated by id, with and without the tenant",
        params: &[],
    },
    DemoSpec {
        name: "tenant_security.composite_fk",
        summary: "a composite foreign key refuses an author from another tenant",
        params: &[],
    },
    DemoSpec {
        name: "tenant_security.rls",
        summary: "a row-level security policy: owner bypass, FORCE, tenant per transaction, plan",
        params: &[],
    },
    DemoSpec {
        name: "tenant_security.pooled",
        summary: "a session SET leaks the tenant across pooled requests; set_config(…, true) not",
        params: &[],
    },
    DemoSpec {
        name: "tenant_security.attacks",
        summary: "cross-tenant attacks without and with row-level security, leaks counted",
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
    if name == "tenant_security.pooled" {
        return pooled::run(ctx, &current, progress).await;
    }
    let mut lab = RequestRun::start(ctx, name).await?;
    let told = match name {
        "tenant_security.naive" => handlers::naive(&mut lab, &current, progress).await,
        "tenant_security.checked" => handlers::checked(&mut lab, &current, progress).await,
        "tenant_security.idor" => idor::run(&mut lab, &current, progress).await,
        "tenant_security.composite_fk" => composite_fk::run(&mut lab, &current, progress).await,
        "tenant_security.rls" => rls::run(&mut lab, &current, progress).await,
        _ => attacks::run(&mut lab, &current, progress).await,
    };
    lab.report(told).await
}

/// A tenant's name and its live posts, as the blog lists them.
async fn tenant_list(
    conn: &mut PgConnection,
    demo: &'static str,
    org: i64,
) -> Result<(String, Vec<(i64, String)>), Error> {
    let name: String = sqlx::query_scalar("select name from organizations where id = $1")
        .bind(org)
        .fetch_one(&mut *conn)
        .await
        .map_err(sql(demo, "reading the tenant's name"))?;
    let posts = sqlx::query_as(
        "select id, title from posts
          where organization_id = $1 and deleted_at is null order by id",
    )
    .bind(org)
    .fetch_all(conn)
    .await
    .map_err(sql(demo, "listing the tenant's posts"))?;
    Ok((name, posts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_here_is_named_with_the_prefix() {
        assert!(DEMOS.iter().all(|demo| demo.name.starts_with(PREFIX)));
    }
}
