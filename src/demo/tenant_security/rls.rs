//! `tenant_security.rls`: row-level security on the story's tables. A policy compares each
//! row's tenant with the setting `app.org_id`; the demo counts the posts each tenant sees as
//! the policy is enabled (the owner still sees every row), forced (it applies to the owner
//! too), and the tenant set, cleared and changed per transaction; then it shows the
//! policy's condition in a tenant query's plan. Everything happens inside one transaction
//! that is rolled back: policies and `FORCE` are DDL, and PostgreSQL undoes DDL too.

use sqlx::Row;

use super::*;

/// The setting every policy reads, and how: `missing_ok` (the `true`) makes a setting never
/// set read as NULL instead of an error, and `nullif` turns the `''` a session keeps after a
/// transaction-local setting ended into NULL too. A NULL tenant matches no row.
pub(super) const TENANT: &str = "nullif(current_setting('app.org_id', true), '')::bigint";

/// Row-level security on the three tenant tables: enabled, one policy each. Without a
/// `with check`, the `using` condition also checks the rows an insert or update writes.
pub(super) const ENABLE: &str = "
alter table organizations enable row level security;
alter table users enable row level security;
alter table posts enable row level security;
create policy tenant_only on organizations
  using (id = nullif(current_setting('app.org_id', true), '')::bigint);
create policy tenant_only on users
  using (organization_id = nullif(current_setting('app.org_id', true), '')::bigint);
create policy tenant_only on posts
  using (organization_id = nullif(current_setting('app.org_id', true), '')::bigint);";

/// The owner of a table is exempt from its policies unless the table forces them.
pub(super) const FORCE: &str = "
alter table organizations force row level security;
alter table users force row level security;
alter table posts force row level security;";

/// How the demos set the tenant: for this transaction only.
pub(super) const SET_TENANT: &str = "select set_config('app.org_id', $1, true)";

const VISIBLE: &str =
    "select organization_id, count(*) from posts where deleted_at is null group by 1 order by 1";
const TENANT_QUERY: &str = "select id, title from posts where deleted_at is null order by id";

/// The posts policy's condition, as two lines the pane shows whole.
pub(super) fn policy_lines() -> [String; 2] {
    [
        "  using (organization_id =".to_string(),
        format!("         {TENANT})"),
    ]
}

/// Sets the tenant for the current transaction (`""` clears it).
pub(super) async fn set_tenant(
    conn: &mut PgConnection,
    demo: &'static str,
    org: &str,
) -> Result<(), Error> {
    sqlx::query(SET_TENANT)
        .bind(org)
        .execute(conn)
        .await
        .map_err(sql(demo, "setting the tenant"))?;
    Ok(())
}

/// `org 1: 8  org 2: 5`: the posts each tenant has among the rows the session sees.
async fn visible(conn: &mut PgConnection, demo: &'static str) -> Result<String, Error> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(VISIBLE)
        .fetch_all(conn)
        .await
        .map_err(sql(demo, "counting the visible posts"))?;
    Ok(match rows.is_empty() {
        true => "no rows".to_string(),
        false => rows
            .iter()
            .map(|(org, n)| format!("org {org}: {n}"))
            .collect::<Vec<_>>()
            .join("  "),
    })
}

pub(super) async fn run(
    lab: &mut RequestRun,
    current: &Current,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "tenant_security.rls";
    let own = current.organization_id.to_string();
    let victim = current.victim().to_string();
    let mut lines = vec![
        "live posts the session sees, by tenant:".to_string(),
        "  select organization_id, count(*) from posts".to_string(),
        "   where deleted_at is null group by 1 order by 1".to_string(),
        String::new(),
    ];
    let (stages, _) = lab
        .step("row-level security", async |conn| {
            let mut seen = Vec::new();
            exec(conn, DEMO, "opening its transaction", "begin").await?;
            set_tenant(conn, DEMO, &own).await?;
            seen.push(("no policy".to_string(), visible(conn, DEMO).await?));
            say(progress, "enabling row-level security");
            exec(conn, DEMO, "enabling row-level security", ENABLE).await?;
            let owner: bool = sqlx::query_scalar(
                "select pg_get_userbyid(relowner) = current_user from pg_class
                  where oid = 'posts'::regclass",
            )
            .fetch_one(&mut *conn)
            .await
            .map_err(sql(DEMO, "asking who owns posts"))?;
            let who = if owner { "you own posts" } else { "not owner" };
            seen.push((format!("enabled ({who})"), visible(conn, DEMO).await?));
            say(progress, "forcing row-level security on the owner");
            exec(conn, DEMO, "forcing row-level security", FORCE).await?;
            seen.push((format!("forced, tenant {own}"), visible(conn, DEMO).await?));
            set_tenant(conn, DEMO, "").await?;
            seen.push(("forced, tenant ''".to_string(), visible(conn, DEMO).await?));
            set_tenant(conn, DEMO, &victim).await?;
            seen.push((
                format!("forced, tenant {victim}"),
                visible(conn, DEMO).await?,
            ));
            set_tenant(conn, DEMO, &own).await?;
            let plan: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
                "explain (costs off) {TENANT_QUERY}"
            )))
            .fetch_all(&mut *conn)
            .await
            .map_err(sql(DEMO, "explaining a tenant query"))?
            .iter()
            .map(|row| row.get::<String, _>(0))
            .collect();
            exec(conn, DEMO, "rolling back", "rollback").await?;
            Ok::<_, Error>((seen, plan))
        })
        .await;
    let (seen, plan) = stages?;
    for (stage, counts) in &seen {
        lines.push(format!("  {stage:<24} {counts}"));
    }
    lines.push(String::new());
    lines.push("the policy on posts:".to_string());
    lines.extend(policy_lines());
    lines.push(format!("the tenant, per transaction: {SET_TENANT}"));
    lines.push(String::new());
    lines.push(format!(
        "a query that names no tenant, and its plan (tenant {own}):"
    ));
    lines.push(format!("  {TENANT_QUERY}"));
    lines.extend(plan.iter().map(|line| format!("    {line}")));
    lines.push(String::new());
    lines.push(conclusion(&seen, &own));
    lines.push(
        match plan.iter().any(|line| line.contains("current_setting")) {
            true => "The query names no tenant, yet its plan compares organization_id with the \
                 setting: that condition is the policy's. Rolled back: no policy is left on \
                 the tables."
                .to_string(),
            false => "The plan does not show the policy's condition (!). Rolled back: no policy \
                  is left on the tables."
                .to_string(),
        },
    );
    Ok((
        "Row-level security, one tenant per transaction".to_string(),
        lines,
    ))
}

/// What the stages showed, said from their counts: on a server where the lab's role
/// bypasses row-level security (a superuser, or a role with BYPASSRLS, as a `DATABASE_URL`
/// may be), forcing it changes nothing, and the report must not say it did.
fn conclusion(seen: &[(String, String)], own: &str) -> String {
    let counts = |i: usize| seen.get(i).map_or("", |(_, counts)| counts.as_str());
    let owner_bypassed = counts(1) == counts(0);
    let only_own =
        counts(2).starts_with(&format!("org {own}:")) && counts(2).matches("org ").count() == 1;
    let none_unset = counts(3) == "no rows";
    match (owner_bypassed, only_own, none_unset) {
        (true, true, true) => "Enabled alone, the policy did not touch the owner's view; forced, \
             each transaction saw only its tenant, and no tenant at all saw nothing."
            .to_string(),
        (_, false, _) => "Forced, the session still saw other tenants' rows: the lab's role \
             bypasses row-level security on this server (a superuser, or a role with \
             BYPASSRLS), so no policy protects what it runs. An application must connect as \
             a role without either."
            .to_string(),
        _ => format!(
            "The stages did not go as expected on this server: enabled {}, forced with no \
             tenant {}.",
            counts(1),
            counts(3)
        ),
    }
}
