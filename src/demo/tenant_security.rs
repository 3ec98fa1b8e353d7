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
//! Here: the demo list, the current user and the other tenant, the measured steps; the
//! demos themselves in `handlers` (naive, checked), `idor`, `composite_fk`, `rls`, `pooled`
//! and `attacks`.

pub mod attacks;
mod composite_fk;
mod handlers;
mod idor;
mod pooled;
mod rls;

use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use super::meter::{Meter, Metered};
use super::{DemoContext, DemoSpec, Error, exec, refusal, refusal_lines, say, sql};
use crate::data::acting::ActingAs;
use crate::data::demo::{DemoProgress, DemoReport};
use crate::data::proxy::Statement;
use crate::query_log::{ScopeReport, Totals};

/// Every demo of this module is named `tenant_security.…`.
pub(super) const PREFIX: &str = "tenant_security.";

/// The story's first two tenants: the attacker's and the victim's when the lab acts as
/// alice.
const ACME: i64 = 1;
const TECHCO: i64 = 2;

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

/// What a demo says: its title and its lines.
pub(super) type Told = (String, Vec<String>);

/// Who sends the requests: the user the lab acts as, alice of Acme otherwise.
#[derive(Debug, Clone)]
pub(super) struct Current {
    pub(super) user_id: i64,
    pub(super) username: String,
    pub(super) organization_id: i64,
}

impl Current {
    pub(super) fn of(ctx: &DemoContext) -> Self {
        match &ctx.acting_as {
            Some(ActingAs {
                user_id,
                username,
                organization_id,
                ..
            }) => Current {
                user_id: *user_id,
                username: username.clone(),
                organization_id: *organization_id,
            },
            None => Current {
                user_id: 1,
                username: "alice".into(),
                organization_id: ACME,
            },
        }
    }

    /// The tenant the attacks aim at: TechCo, or Acme when the current user is TechCo's.
    pub(super) fn victim(&self) -> i64 {
        if self.organization_id == TECHCO {
            ACME
        } else {
            TECHCO
        }
    }

    /// `alice (user 1, org 1)`.
    pub(super) fn label(&self) -> String {
        format!(
            "{} (user {}, org {})",
            self.username, self.user_id, self.organization_id
        )
    }
}

/// The demo's connection through its meter, and what each measured piece of work cost: a
/// handler's requests are measured one by one, so each response shows its own round trips.
/// The ORM and foreign-key lessons' demos measure their requests the same way, with this.
pub(super) struct Measured {
    meter: Meter,
    conn: PgConnection,
    parts: Vec<Metered>,
    /// Where the id sequence stood before the demo's first insert, put back by `report`.
    sequence: Option<Sequence>,
}

impl Measured {
    pub(super) async fn start(ctx: &DemoContext, name: &str) -> Result<Self, Error> {
        let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
        let conn = meter.connect(&format!("pglab demo: {name}")).await?;
        Ok(Measured {
            meter,
            conn,
            parts: Vec::new(),
            sequence: None,
        })
    }

    /// Notes where the id sequence `name` stands, for `report` to put it back.
    pub(super) async fn hold_sequence(
        &mut self,
        demo: &'static str,
        name: &'static str,
    ) -> Result<(), Error> {
        let (read, _) = self
            .step("the id sequence", async |conn| {
                Sequence::of(conn, demo, name).await
            })
            .await;
        self.sequence = Some(read?);
        Ok(())
    }

    /// Opens the demo's transaction, the id sequence `name` noted first.
    pub(super) async fn begin(
        &mut self,
        demo: &'static str,
        sequence: &'static str,
    ) -> Result<(), Error> {
        self.hold_sequence(demo, sequence).await?;
        let (begun, _) = self
            .step("begin", async |conn| {
                exec(conn, demo, "opening its transaction", "begin").await
            })
            .await;
        begun
    }

    /// Runs `work` on the demo's connection; its output and its round trips.
    pub(super) async fn step<T>(
        &mut self,
        name: &str,
        work: impl AsyncFnOnce(&mut PgConnection) -> T,
    ) -> (T, u64) {
        let (output, totals) = self.step_totals(name, work).await;
        (output, totals.round_trips)
    }

    /// Runs `work` on the demo's connection; its output and everything its traffic added
    /// up to (round trips, bytes received).
    pub(super) async fn step_totals<T>(
        &mut self,
        name: &str,
        work: impl AsyncFnOnce(&mut PgConnection) -> T,
    ) -> (T, Totals) {
        let Measured {
            meter, conn, parts, ..
        } = self;
        let (output, measured) = meter.measure(name, work(conn)).await;
        let totals = measured.report.totals;
        parts.push(measured);
        (output, totals)
    }

    /// The statements the proxy saw since the log's entry `after` (0: all kept), and the
    /// number of the last entry, to pass next time.
    pub(super) fn seen_after(&self, after: u64) -> (Vec<Statement>, u64) {
        self.meter.seen_after(after)
    }

    /// Ends the demo's transaction if a failure left it open, puts the id sequence back,
    /// closes the connection and reports every step's traffic together.
    pub(super) async fn report(self, told: Result<Told, Error>) -> Result<DemoReport, Error> {
        let Measured {
            meter,
            mut conn,
            parts,
            sequence,
        } = self;
        let restored = match sequence {
            Some(sequence) => {
                // Outside a transaction this only warns; inside a failed one it ends it.
                let _ = sqlx::raw_sql("rollback").execute(&mut conn).await;
                sequence.restore(&mut conn).await
            }
            None => Ok(()),
        };
        let _ = sqlx::Connection::close(conn).await;
        let sessions = meter.finish().await;
        let (title, lines) = told?;
        restored?;
        Ok(DemoReport::measured(
            title,
            wrapped(lines),
            &together(parts),
            sessions,
        ))
    }
}

/// The sentences that explain (they start a line with a capital) wrapped to the pane; the
/// transcript of requests, statements and rows keeps its shape, and a line of it too long
/// for the pane (a server's message) goes on under its own indentation.
fn wrapped(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .flat_map(
            |line| match line.starts_with(|c: char| c.is_ascii_uppercase()) {
                true => super::wrapped(vec![line]),
                false => {
                    let indent = " ".repeat(line.len() - line.trim_start().len() + 2);
                    crate::text::wrap(&line, super::REPORT_WIDTH, &indent)
                }
            },
        )
        .collect()
}

/// Several measured steps as one: their counts added, their warnings kept.
fn together(parts: Vec<Metered>) -> Metered {
    let mut totals = Totals::default();
    let mut warnings = Vec::new();
    let mut wall = std::time::Duration::ZERO;
    let mut sessions_started = 0;
    for part in parts {
        let t = part.report.totals;
        totals.round_trips += t.round_trips;
        for (sum, n) in totals.by_kind.iter_mut().zip(t.by_kind) {
            *sum += n;
        }
        totals.statements += t.statements;
        totals.rows += t.rows;
        totals.errors += t.errors;
        totals.warnings += t.warnings;
        totals.waiting += t.waiting;
        totals.received += t.received;
        warnings.extend(part.report.warnings);
        wall += part.wall;
        sessions_started += part.sessions_started;
    }
    Metered {
        report: ScopeReport {
            name: "tenant_security".into(),
            totals,
            wall,
            warnings,
            reconnected: false,
        },
        wall,
        sessions_started,
    }
}

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
    let mut lab = Measured::start(ctx, name).await?;
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

/// An id sequence as the demo found it (posts' unless named): a rollback does not move a
/// sequence back, so a demo that inserts puts it back itself.
struct Sequence {
    name: &'static str,
    last_value: i64,
    is_called: bool,
}

impl Sequence {
    /// The sequence `name` (one of the story's, named by the demo).
    async fn of(
        conn: &mut PgConnection,
        demo: &'static str,
        name: &'static str,
    ) -> Result<Self, Error> {
        // `name` is a constant of the demo's, never input.
        let read = format!("select last_value, is_called from {name}");
        let (last_value, is_called) = sqlx::query_as(sqlx::AssertSqlSafe(read))
            .fetch_one(conn)
            .await
            .map_err(sql(demo, "reading the id sequence"))?;
        Ok(Sequence {
            name,
            last_value,
            is_called,
        })
    }

    async fn restore(&self, conn: &mut PgConnection) -> Result<(), Error> {
        sqlx::query("select setval($1::regclass, $2, $3)")
            .bind(self.name)
            .bind(self.last_value)
            .bind(self.is_called)
            .execute(conn)
            .await
            .map_err(sql("tenant_security", "putting the id sequence back"))?;
        Ok(())
    }
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

    #[test]
    fn the_other_tenant_is_never_the_current_one() {
        let mut current = Current {
            user_id: 1,
            username: "alice".into(),
            organization_id: ACME,
        };
        assert_eq!(current.victim(), TECHCO);
        current.organization_id = TECHCO;
        assert_eq!(current.victim(), ACME);
        current.organization_id = 3;
        assert_eq!(current.victim(), TECHCO);
    }
}
