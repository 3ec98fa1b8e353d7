//! `foreign_keys.deferred`: `RESTRICT` and `NO ACTION` refuse the same plain delete; they
//! differ in *when* they look. Both keys are declared `DEFERRABLE INITIALLY DEFERRED`:
//! `NO ACTION` then waits for `COMMIT`, and `RESTRICT` checks at once regardless. Three
//! transactions, each on fresh temporary copies of organizations and users (they end with
//! the demo's session, so the `COMMIT`s here commit nothing of the story's):
//!
//! 1. `RESTRICT`: delete Acme, then its users: refused at the first statement;
//! 2. `NO ACTION`, the same two deletes: accepted, and `COMMIT` finds no orphan;
//! 3. `NO ACTION`, Acme alone: accepted, and `COMMIT` refuses.

use super::*;
use crate::demo::requests::Told;
use crate::demo::{exec, refusal, say};

const DEMO: &str = "foreign_keys.deferred";

const COPIES: &str = "drop table if exists pg_temp.tmp_users, pg_temp.tmp_organizations;
create temporary table tmp_organizations (id bigint primary key, name text not null);
create temporary table tmp_users (
    id bigint primary key,
    organization_id bigint not null references tmp_organizations (id)
        on delete {policy} deferrable initially deferred,
    username text not null);
insert into tmp_organizations select id, name from organizations;
insert into tmp_users select id, organization_id, username from users;";

const DELETE_ACME: &str = "delete from tmp_organizations where id = 1";
const DELETE_USERS: &str = "delete from tmp_users where organization_id = 1";

/// A transaction's statements, as run, each with what the server said.
struct Played {
    policy: &'static str,
    lines: Vec<String>,
    committed: bool,
}

async fn play(
    conn: &mut PgConnection,
    policy: &'static str,
    statements: &[&'static str],
) -> Result<Played, Error> {
    let copies = COPIES.replace("{policy}", policy);
    sqlx::raw_sql(sqlx::AssertSqlSafe(copies))
        .execute(&mut *conn)
        .await
        .map_err(crate::demo::sql(DEMO, "copying organizations and users"))?;
    exec(conn, DEMO, "opening the transaction", "begin").await?;
    let mut lines = vec!["  begin".to_string()];
    for statement in statements.iter().chain(&["commit"]) {
        let ran = sqlx::raw_sql(*statement).execute(&mut *conn).await;
        match refusal(DEMO, "running the transaction", ran)? {
            None => lines.push(format!("  {statement:<48}ok")),
            Some(failure) => {
                lines.push(format!("  {statement:<48}✗ {}", failure.sqlstate));
                lines.push(format!("    {}", failure.message));
                if *statement != "commit" {
                    // The transaction is aborted: end it, as a client must.
                    exec(conn, DEMO, "rolling back", "rollback").await?;
                    lines.push("  rollback".to_string());
                }
                return Ok(Played {
                    policy,
                    lines,
                    committed: false,
                });
            }
        }
    }
    Ok(Played {
        policy,
        lines,
        committed: true,
    })
}

pub(super) async fn run(
    lab: &mut RequestRun,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    let scenarios: [(&str, &'static str, &[&'static str]); 3] = [
        (
            "RESTRICT, deferrable initially deferred: Acme, then its users",
            "restrict",
            &[DELETE_ACME, DELETE_USERS],
        ),
        (
            "NO ACTION, deferrable initially deferred: the same two deletes",
            "no action",
            &[DELETE_ACME, DELETE_USERS],
        ),
        (
            "NO ACTION, deferrable initially deferred: Acme alone",
            "no action",
            &[DELETE_ACME],
        ),
    ];
    let mut lines = vec![
        "Temporary copies of organizations and users, the key on tmp_users declared".into(),
        "  references tmp_organizations (id) on delete <policy>".into(),
        "  deferrable initially deferred".into(),
        String::new(),
    ];
    let mut outcomes = Vec::new();
    for (what, policy, statements) in scenarios {
        say(progress, what);
        let (played, _) = lab
            .step(policy, async |conn| play(conn, policy, statements).await)
            .await;
        let played = played?;
        lines.push(format!("{what}:"));
        lines.extend(played.lines.iter().cloned());
        lines.push(String::new());
        outcomes.push(played);
    }
    let (dropped, _) = lab
        .step("drop the copies", async |conn| {
            exec(
                conn,
                DEMO,
                "dropping the copies",
                "drop table pg_temp.tmp_users, pg_temp.tmp_organizations",
            )
            .await
        })
        .await;
    dropped?;
    lines.push(
        "RESTRICT looked the moment Acme went, deferred or not: its users were still there. \
         NO ACTION waited for COMMIT and judged the transaction's end state: no orphan, \
         committed; an orphan left, refused at COMMIT, and the whole transaction undone. \
         Without DEFERRABLE the two behave alike: both refuse the first delete. The copies \
         were temporary tables: the commits changed nothing of the story."
            .to_string(),
    );
    let summary: Vec<String> = outcomes
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p.policy.to_uppercase(),
                if p.committed { "committed" } else { "refused" }
            )
        })
        .collect();
    Ok((format!("Deferred: {}", summary.join(", ")), lines))
}
