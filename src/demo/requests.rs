//! Demos that play an application's requests: the handlers of the tenant-security, ORM and
//! foreign-key lessons run on one connection through the demo's meter ([`RequestRun`]),
//! each request measured on its own so every response shows its own round trips; who sends
//! them ([`Current`]: the user the lab acts as, alice otherwise); what a demo says
//! ([`Told`]); and the id sequence a demo that inserts puts back when it ends, since a
//! rollback does not.

use sqlx::postgres::PgConnection;

use super::meter::{Meter, Metered};
use super::{DemoContext, Error, exec, sql};
use crate::data::acting::ActingAs;
use crate::data::demo::DemoReport;
use crate::data::proxy::Statement;
use crate::query_log::{ScopeReport, Totals};

/// The story's first two tenants: the attacker's and the victim's when the lab acts as
/// alice.
const ACME: i64 = 1;
const TECHCO: i64 = 2;

/// What a demo says: its title and its lines.
pub type Told = (String, Vec<String>);

/// Who sends the requests: the user the lab acts as, alice of Acme otherwise.
#[derive(Debug, Clone)]
pub struct Current {
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
pub struct RequestRun {
    meter: Meter,
    conn: PgConnection,
    parts: Vec<Metered>,
    /// Where the id sequence stood before the demo's first insert, put back by `report`.
    sequence: Option<Sequence>,
}

impl RequestRun {
    pub(super) async fn start(ctx: &DemoContext, name: &str) -> Result<Self, Error> {
        let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
        let conn = meter.connect(&format!("pglab demo: {name}")).await?;
        Ok(RequestRun {
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
        let RequestRun {
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
        let RequestRun {
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
pub(super) fn wrapped(lines: Vec<String>) -> Vec<String> {
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
            .map_err(sql("requests", "putting the id sequence back"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
