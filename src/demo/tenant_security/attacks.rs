//! `tenant_security.attacks`: cross-tenant attempts by the current user's session, run
//! twice on the story's rows: once as the tables are, once with the row-level security of
//! `tenant_security.rls` enabled and forced. Each attempt's statement returns (or affects)
//! rows whose tenant it reports; a row of another tenant is a leak. The session's tenant is
//! the current user's in both runs: the policy, not the setting, is what differs.
//!
//! Each run is one transaction, each attempt inside a savepoint it is rolled back to (so a
//! delete does not hide rows from the next attempt), and the run is rolled back at the end:
//! the view, the function and the policies it creates never outlive it.

use futures::TryStreamExt;

use super::rls::{ENABLE, FORCE, set_tenant};
use super::*;

/// A value an attempt binds.
#[derive(Debug, Clone, Copy)]
enum Arg {
    /// The current user's organization.
    OwnOrg,
    /// The organization attacked.
    OtherOrg,
    /// The attacked tenant's first live post.
    OtherPost,
    /// The current user's tenant's first live post.
    OwnPost,
    /// The current user.
    User,
}

/// How an attempt's rows come back.
#[derive(Debug, Clone, Copy)]
enum Via {
    /// A statement returning one `organization_id` per row read or written.
    Rows,
    /// `COPY … TO STDOUT`, one `organization_id` per line.
    Copy,
}

/// One cross-tenant attempt.
#[derive(Debug, Clone, Copy)]
pub struct Attack {
    pub name: &'static str,
    sql: &'static str,
    args: &'static [Arg],
    via: Via,
}

const fn rows(name: &'static str, sql: &'static str, args: &'static [Arg]) -> Attack {
    Attack {
        name,
        sql,
        args,
        via: Via::Rows,
    }
}

/// Every attempt, in the order the table lists them.
pub const ATTACKS: &[Attack] = &[
    rows(
        "list the other tenant's posts",
        "select organization_id from posts where organization_id = $1",
        &[Arg::OtherOrg],
    ),
    rows(
        "read a post by its id",
        "select organization_id from posts where id = $1",
        &[Arg::OtherPost],
    ),
    rows(
        "list posts, no tenant filter",
        "select organization_id from posts",
        &[],
    ),
    rows(
        "widen the filter with OR true",
        "select organization_id from posts where organization_id = $1 or true",
        &[Arg::OwnOrg],
    ),
    rows(
        "join through users",
        "select p.organization_id from users u join posts p on p.author_id = u.id
          where u.organization_id = $1",
        &[Arg::OtherOrg],
    ),
    rows(
        "subquery on users",
        "select organization_id from posts
          where author_id in (select id from users where organization_id = $1)",
        &[Arg::OtherOrg],
    ),
    rows(
        "read the other tenant's users",
        "select organization_id from users where organization_id = $1",
        &[Arg::OtherOrg],
    ),
    rows(
        "read the other organization",
        "select id from organizations where id = $1",
        &[Arg::OtherOrg],
    ),
    rows(
        "update a post by its id",
        "update posts set title = 'Hacked!' where id = $1 returning organization_id",
        &[Arg::OtherPost],
    ),
    rows(
        "delete a post by its id",
        "delete from posts where id = $1 returning organization_id",
        &[Arg::OtherPost],
    ),
    rows(
        "insert into the other tenant",
        "insert into posts (organization_id, author_id, title, body)
         values ($1, $2, 'Hacked!', '') returning organization_id",
        &[Arg::OtherOrg, Arg::User],
    ),
    rows(
        "move an own post to the other",
        "update posts set organization_id = $1 where id = $2 returning organization_id",
        &[Arg::OtherOrg, Arg::OwnPost],
    ),
    Attack {
        name: "COPY posts to stdout",
        sql: "copy posts (organization_id) to stdout",
        args: &[],
        via: Via::Copy,
    },
    rows(
        "read through a view",
        "select organization_id from tenant_feed where organization_id = $1",
        &[Arg::OtherOrg],
    ),
    rows(
        "a SECURITY DEFINER function",
        "select posts_of($1)",
        &[Arg::OtherOrg],
    ),
];

/// The view and the function the attempts go through, created in each run's transaction.
const DETOURS: &str = "
create view tenant_feed as select organization_id, title from posts;
create function posts_of(org bigint) returns setof bigint
  language sql security definer
  as $$ select organization_id from posts where organization_id = org $$;";

const DEMO: &str = "tenant_security.attacks";

/// What one attempt got: rows of other tenants, and the refusal's SQLSTATE if refused.
#[derive(Debug, Clone)]
struct Outcome {
    leaked: u64,
    refused: Option<String>,
}

/// The ids the attempts bind.
struct Targets {
    own_org: i64,
    other_org: i64,
    other_post: i64,
    own_post: i64,
    user: i64,
}

impl Targets {
    fn value(&self, arg: Arg) -> i64 {
        match arg {
            Arg::OwnOrg => self.own_org,
            Arg::OtherOrg => self.other_org,
            Arg::OtherPost => self.other_post,
            Arg::OwnPost => self.own_post,
            Arg::User => self.user,
        }
    }
}

async fn first_post(conn: &mut PgConnection, org: i64) -> Result<i64, Error> {
    sqlx::query_scalar(
        "select min(id) from posts where organization_id = $1 and deleted_at is null",
    )
    .bind(org)
    .fetch_one(conn)
    .await
    .map_err(sql(DEMO, "finding a tenant's first post"))
}

/// Runs one attempt; the statement's own refusal is an outcome, not a failure.
async fn attempt(
    conn: &mut PgConnection,
    attack: &Attack,
    targets: &Targets,
) -> Result<Outcome, Error> {
    let tenants: Result<Vec<i64>, sqlx::Error> = match attack.via {
        Via::Rows => {
            let mut query = sqlx::query_scalar(attack.sql);
            for arg in attack.args {
                query = query.bind(targets.value(*arg));
            }
            query.fetch_all(&mut *conn).await
        }
        Via::Copy => copied(conn, attack.sql).await,
    };
    Ok(match tenants {
        Ok(rows) => Outcome {
            leaked: rows.iter().filter(|&&org| org != targets.own_org).count() as u64,
            refused: None,
        },
        Err(cause) => Outcome {
            leaked: 0,
            refused: refusal(DEMO, "running an attack", Err::<(), _>(cause))?
                .map(|failure| failure.sqlstate),
        },
    })
}

/// The tenant ids a `COPY … TO STDOUT` of one bigint column sends, one per line.
async fn copied(conn: &mut PgConnection, statement: &str) -> Result<Vec<i64>, sqlx::Error> {
    let chunks: Vec<bytes::Bytes> = conn.copy_out_raw(statement).await?.try_collect().await?;
    let text: String = chunks
        .iter()
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect();
    Ok(text.lines().filter_map(|line| line.parse().ok()).collect())
}

/// One run: every attempt, with row-level security (`rls`) or without.
async fn suite(
    conn: &mut PgConnection,
    targets: &Targets,
    rls: bool,
) -> Result<Vec<Outcome>, Error> {
    exec(conn, DEMO, "opening its transaction", "begin").await?;
    exec(conn, DEMO, "creating the view and the function", DETOURS).await?;
    if rls {
        exec(conn, DEMO, "enabling row-level security", ENABLE).await?;
        exec(conn, DEMO, "forcing row-level security", FORCE).await?;
    }
    set_tenant(conn, DEMO, &targets.own_org.to_string()).await?;
    let mut outcomes = Vec::new();
    for attack in ATTACKS {
        exec(conn, DEMO, "setting a savepoint", "savepoint attack").await?;
        outcomes.push(attempt(conn, attack, targets).await?);
        exec(
            conn,
            DEMO,
            "undoing the attack",
            "rollback to savepoint attack",
        )
        .await?;
    }
    exec(conn, DEMO, "rolling back", "rollback").await?;
    Ok(outcomes)
}

pub(super) async fn run(
    lab: &mut RequestRun,
    current: &Current,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    lab.hold_sequence(DEMO, POST_IDS).await?;
    let (runs, _) = lab
        .step(DEMO, async |conn| {
            let targets = Targets {
                own_org: current.organization_id,
                other_org: current.victim(),
                other_post: first_post(conn, current.victim()).await?,
                own_post: first_post(conn, current.organization_id).await?,
                user: current.user_id,
            };
            say(progress, "the attacks, without row-level security");
            let without = suite(conn, &targets, false).await?;
            say(progress, "the attacks, with row-level security");
            let with = suite(conn, &targets, true).await?;
            Ok::<_, Error>((without, with))
        })
        .await;
    let (without, with) = runs?;
    let mut lines = vec![
        format!(
            "Signed in as {}, attacking org {}; the session's tenant is org {} in both runs.",
            current.label(),
            current.victim(),
            current.organization_id
        ),
        String::new(),
        format!(
            "  {:<32} {:>8} {:>8}",
            "attack (rows of other tenants)", "no RLS", "RLS on"
        ),
    ];
    for ((attack, off), on) in ATTACKS.iter().zip(&without).zip(&with) {
        let refused = on
            .refused
            .as_ref()
            .map(|state| format!("  refused {state}"))
            .unwrap_or_default();
        lines.push(format!(
            "  {:<32} {:>8} {:>8}{refused}",
            attack.name, off.leaked, on.leaked
        ));
    }
    let leaks_off = without.iter().filter(|o| o.leaked > 0).count();
    let leaks_on = with.iter().filter(|o| o.leaked > 0).count();
    let rows_off: u64 = without.iter().map(|o| o.leaked).sum();
    lines.push(String::new());
    lines.push(format!(
        "Without row-level security, {leaks_off} of {} attacks reached another tenant's rows \
         ({} in all); with it, {leaks_on}. The attacks' SQL is the same in both runs.",
        ATTACKS.len(),
        crate::text::plural(rows_off, "row", "rows")
    ));
    Ok((
        format!("Attacks: {leaks_off} leak without RLS, {leaks_on} with"),
        lines,
    ))
}
