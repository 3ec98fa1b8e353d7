//! `foreign_keys.on_delete`: what deleting a tenant does to the rows that point at it, under
//! each `ON DELETE` policy. For every policy, inside a savepoint, the demo copies
//! organizations, users and posts into `copy_…` tables whose three foreign keys all carry
//! that policy (their columns nullable, so `SET NULL` can work), opts the user and post
//! copies into the audit trigger (`audit.track`, as the story's users and posts are), and
//! deletes Acme as an off-boarding job would. It counts each table before and after and reads
//! the audit events the delete wrote; then rolls the savepoint back, copies, events and all.
//!
//! `SET DEFAULT` is left out on purpose: in a tenant table the only default to fall back to
//! is another tenant, and moving a customer's rows into another customer is a breach.

use super::*;
use crate::demo::requests::Told;
use crate::demo::{exec, refusal, say, sql};

const DEMO: &str = "foreign_keys.on_delete";
const POLICIES: [&str; 4] = ["cascade", "restrict", "no action", "set null"];
/// The tenant deleted, and the name the off-boarding job records itself under.
const ACME: i64 = 1;
const JOB: &str = "tenant off-boarding";

/// The copies, with `{policy}` on each foreign key.
const COPIES: &str = "create table copy_organizations (id bigint primary key, name text not null);
create table copy_users (
    id bigint primary key,
    organization_id bigint references copy_organizations (id) on delete {policy},
    username text not null);
create table copy_posts (
    id bigint primary key,
    organization_id bigint references copy_organizations (id) on delete {policy},
    author_id bigint references copy_users (id) on delete {policy},
    title text not null);
insert into copy_organizations select id, name from organizations;
insert into copy_users select id, organization_id, username from users;
insert into copy_posts select id, organization_id, author_id, title from posts;
select audit.track('copy_users'), audit.track('copy_posts');";

/// Rows in each copy, and those that belong to no organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
struct Counts {
    organizations: i64,
    users: i64,
    posts: i64,
    users_without: i64,
    posts_without: i64,
}

const COUNTS: &str = "select (select count(*) from copy_organizations) as organizations,
        (select count(*) from copy_users) as users,
        (select count(*) from copy_posts) as posts,
        (select count(*) from copy_users where organization_id is null) as users_without,
        (select count(*) from copy_posts where organization_id is null) as posts_without";

/// Audit events of one table and action written by the delete.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Recorded {
    table_name: String,
    action: String,
    events: i64,
    actors: String,
    changed: String,
}

const RECORDED: &str = "select table_name, action, count(*) as events,
        string_agg(distinct coalesce(system_actor, actor_id::text, 'nobody'), ', ') as actors,
        coalesce(string_agg(distinct array_to_string(changed_fields, ', '), '; '), '') as changed
   from audit.events where id > $1
  group by table_name, action order by table_name, action";

/// One policy's outcome.
struct Outcome {
    policy: &'static str,
    before: Counts,
    after: Counts,
    refused: Option<crate::data::ServerError>,
    recorded: Vec<Recorded>,
}

pub(super) async fn run(
    lab: &mut RequestRun,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    let (begun, _) = lab
        .step("begin", async |conn| {
            exec(conn, DEMO, "opening its transaction", "begin").await
        })
        .await;
    begun?;
    let mut outcomes = Vec::new();
    for policy in POLICIES {
        say(
            progress,
            format!("on delete {policy}: copying and deleting Acme"),
        );
        let (outcome, _) = lab
            .step(policy, async |conn| one_policy(conn, policy).await)
            .await;
        outcomes.push(outcome?);
    }
    let (ended, _) = lab
        .step("rollback", async |conn| {
            exec(conn, DEMO, "rolling back", "rollback").await
        })
        .await;
    ended?;
    Ok(told(&outcomes))
}

async fn one_policy(conn: &mut PgConnection, policy: &'static str) -> Result<Outcome, Error> {
    exec(conn, DEMO, "setting a savepoint", "savepoint copies").await?;
    let copies = COPIES.replace("{policy}", policy);
    sqlx::raw_sql(sqlx::AssertSqlSafe(copies))
        .execute(&mut *conn)
        .await
        .map_err(sql(DEMO, "copying the tenant tables"))?;
    let before: Counts = sqlx::query_as(COUNTS)
        .fetch_one(&mut *conn)
        .await
        .map_err(sql(DEMO, "counting the copies"))?;
    let last_event: i64 = sqlx::query_scalar("select coalesce(max(id), 0) from audit.events")
        .fetch_one(&mut *conn)
        .await
        .map_err(sql(DEMO, "reading the audit log"))?;
    exec(conn, DEMO, "setting a savepoint", "savepoint remove").await?;
    // Two statements in one round trip; the job's name and the id are constants.
    let ran = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "select set_config('pglab.system_actor', '{JOB}', true);
         delete from copy_organizations where id = {ACME}"
    )))
    .execute(&mut *conn)
    .await;
    let refused = refusal(DEMO, "deleting Acme", ran)?;
    if refused.is_some() {
        exec(
            conn,
            DEMO,
            "undoing the delete",
            "rollback to savepoint remove",
        )
        .await?;
    }
    let after: Counts = sqlx::query_as(COUNTS)
        .fetch_one(&mut *conn)
        .await
        .map_err(sql(DEMO, "counting the copies again"))?;
    let recorded: Vec<Recorded> = sqlx::query_as(RECORDED)
        .bind(last_event)
        .fetch_all(&mut *conn)
        .await
        .map_err(sql(DEMO, "reading what the audit log recorded"))?;
    exec(
        conn,
        DEMO,
        "dropping the copies",
        "rollback to savepoint copies",
    )
    .await?;
    Ok(Outcome {
        policy,
        before,
        after,
        refused,
        recorded,
    })
}

fn told(outcomes: &[Outcome]) -> Told {
    let mut lines = vec![
        format!(
            "Acme (organization {ACME}) deleted from copies of organizations, users and \
             posts, once per policy, all three foreign keys of the copy with that policy:"
        ),
        String::new(),
    ];
    let row = |policy: &str, delete: &str, orgs: &str, users: &str, posts: &str, audit: &str| {
        format!("{policy:<11}{delete:<10}{orgs:<15}{users:<10}{posts:<10}{audit}")
    };
    lines.push(row(
        "ON DELETE",
        "delete",
        "organizations",
        "users",
        "posts",
        "audit events",
    ));
    for o in outcomes {
        let delete = match &o.refused {
            None => "done".to_string(),
            Some(failure) => format!("✗ {}", failure.sqlstate),
        };
        let counts = |before: i64, after: i64| format!("{before} → {after}");
        let events: i64 = o.recorded.iter().map(|r| r.events).sum();
        lines.push(row(
            &o.policy.to_uppercase(),
            &delete,
            &counts(o.before.organizations, o.after.organizations),
            &counts(o.before.users, o.after.users),
            &counts(o.before.posts, o.after.posts),
            &events.to_string(),
        ));
    }
    lines.push(String::new());
    let mut told_refusal: Option<&str> = None;
    for o in outcomes {
        let policy = o.policy.to_uppercase();
        if let Some(failure) = &o.refused {
            if told_refusal == Some(failure.message.as_str()) {
                lines.push(format!(
                    "{policy}: the same refusal, SQLSTATE {}.",
                    failure.sqlstate
                ));
                continue;
            }
            told_refusal = Some(&failure.message);
            lines.push(format!("{policy}: {}", failure.message));
            lines.extend(failure.detail.iter().map(|d| format!("  detail: {d}")));
        } else if o.after.users_without + o.after.posts_without > 0 {
            lines.push(format!(
                "{policy}: every row stayed; {} and {} now belong to no organization.",
                crate::text::plural(o.after.users_without, "user", "users"),
                crate::text::plural(o.after.posts_without, "post", "posts"),
            ));
        } else {
            lines.push(format!(
                "{policy}: {} and {} went with Acme.",
                crate::text::plural(o.before.users - o.after.users, "user", "users"),
                crate::text::plural(o.before.posts - o.after.posts, "post", "posts"),
            ));
        }
    }
    lines.push(String::new());
    lines.push("what the audit trail recorded (audit.events, by table and action):".into());
    for o in outcomes {
        let policy = o.policy.to_uppercase();
        if o.recorded.is_empty() {
            lines.push(format!(
                "  {policy:<11}nothing: the refused delete wrote no row"
            ));
        }
        for (n, r) in o.recorded.iter().enumerate() {
            let changed = match r.changed.is_empty() {
                true => String::new(),
                false => format!(" ({})", r.changed),
            };
            let label = if n == 0 { policy.as_str() } else { "" };
            lines.push(format!(
                "  {label:<11}{:<12}{:>3} × {}{changed}",
                r.table_name, r.events, r.action
            ));
        }
    }
    let actors: Vec<&str> = outcomes
        .iter()
        .flat_map(|o| &o.recorded)
        .map(|r| r.actors.as_str())
        .collect();
    if let Some(first) = actors.first()
        && actors.iter().all(|a| a == first)
    {
        lines.push(format!("  every event's actor: {first}"));
    }
    lines.push(String::new());
    lines.push(
        "One event per row a capture trigger saw: a cascade fires the row triggers of every \
         table it reaches, so each user and post that went (or was set to NULL) is in the \
         log with its old values, under the job's name. The organization itself is \
         not: copy_organizations has no capture trigger, as organizations has none in the \
         story. The log records what its triggers watch, table by table. Rolled back: the \
         copies and their events are gone."
            .to_string(),
    );
    let refused: Vec<String> = outcomes
        .iter()
        .filter(|o| o.refused.is_some())
        .map(|o| o.policy.to_uppercase())
        .collect();
    let cascade = outcomes
        .iter()
        .find(|o| o.policy == "cascade" && o.refused.is_none());
    let title = match (cascade, refused.as_slice()) {
        (Some(o), [_, ..]) => format!(
            "Deleting Acme: CASCADE took {} rows with it, {} refused",
            (o.before.users - o.after.users) + (o.before.posts - o.after.posts),
            refused.join(" and ")
        ),
        _ => "Deleting Acme under every ON DELETE policy".to_string(),
    };
    (title, lines)
}
