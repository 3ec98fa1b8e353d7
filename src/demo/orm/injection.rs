//! `orm.injection`: `GET /users?name=…`, a search among the current tenant's users, written
//! twice. The first handler formats the name into its SQL and sends the text over the simple
//! protocol (what `cursor.execute(f"…")` in Python or a JDBC `Statement` does); the second
//! sends the same SQL with `$1` and binds the name, as a mapper does. Each is fed two normal
//! names, `x' or '1'='1`, and a name that ends the statement and drops a table. The dropped
//! table is a scratch table the demo creates (standing in for one an attacker guessed), and
//! a savepoint brings it back before the bound handler gets the same input.

use std::collections::BTreeMap;

use sqlx::postgres::PgConnection;

use super::*;
use crate::demo::sql;

/// A user the search found, with its tenant's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct Found {
    pub username: String,
    pub organization: String,
}

/// The bound version's SQL; the formatted one is the same text with the values written in.
const SEARCH: &str = "select u.id, u.username, o.name as organization
  from users u join organizations o on o.id = u.organization_id
 where u.organization_id = $1 and u.username = $2 and u.deleted_at is null";
const SCRATCH: &str = "create temp table invoices as
    select g as id, 100 * g as amount from generate_series(1, 3) g";
const SCRATCH_EXISTS: &str = "select to_regclass('invoices') is not null";

/// The inputs, in the order the demo sends them.
const NORMAL: [&str; 2] = ["alice", "bob"];
const ALWAYS_TRUE: &str = "x' or '1'='1";
const DROP: &str = "x'; drop table invoices; --";

/// Builds the SQL by formatting: the name becomes part of the statement's text.
fn formatted(org: i64, name: &str) -> String {
    format!(
        "select u.id, u.username, o.name as organization
  from users u join organizations o on o.id = u.organization_id
 where u.organization_id = {org} and u.username = '{name}' and u.deleted_at is null"
    )
}

/// The injectable handler: formats, and sends the text as one simple query, which may hold
/// several statements.
async fn search_formatted(
    conn: &mut PgConnection,
    org: i64,
    name: &str,
) -> sqlx::Result<Vec<Found>> {
    use sqlx::{FromRow, Row};
    let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(formatted(org, name)))
        .fetch_all(conn)
        .await?;
    // Only the rows of the select: a stacked statement returns none.
    rows.iter()
        .filter(|row| row.columns().len() == 3)
        .map(Found::from_row)
        .collect()
}

/// The safe handler: the same SQL, the tenant and the name bound as `$1` and `$2`.
async fn search_bound(conn: &mut PgConnection, org: i64, name: &str) -> sqlx::Result<Vec<Found>> {
    sqlx::query_as(SEARCH)
        .bind(org)
        .bind(name)
        .fetch_all(conn)
        .await
}

#[derive(Clone, Copy)]
enum Handler {
    Formatted,
    Bound,
}

impl Handler {
    async fn search(
        self,
        conn: &mut PgConnection,
        org: i64,
        name: &str,
    ) -> sqlx::Result<Vec<Found>> {
        match self {
            Handler::Formatted => search_formatted(conn, org, name).await,
            Handler::Bound => search_bound(conn, org, name).await,
        }
    }
}

/// `1 user: alice of Acme Corp`, `0 users`, or `3 users` and, for the next line, `of Acme
/// Corp 1, TechCo 2`.
fn by_tenant(found: &[Found]) -> (String, Option<String>) {
    let count = crate::text::plural(found.len(), "user", "users");
    if let [user] = found {
        return (
            format!("{count}: {} of {}", user.username, user.organization),
            None,
        );
    }
    let mut tenants: BTreeMap<&str, usize> = BTreeMap::new();
    for user in found {
        *tenants.entry(&user.organization).or_default() += 1;
    }
    let each: Vec<String> = tenants.iter().map(|(t, n)| format!("{t} {n}")).collect();
    let breakdown = (!each.is_empty()).then(|| format!("of {}", each.join(", ")));
    (count, breakdown)
}

/// `  GET /users?name=…   → answer`, and the tenants on a line of their own.
fn answered(name: &str, found: &[Found], more: &str) -> Vec<String> {
    let (count, breakdown) = by_tenant(found);
    let mut lines = vec![format!("  {:<44} → {count}{more}", request(name))];
    lines.extend(breakdown.map(|b| format!("      {b}")));
    lines
}

/// `GET /users?name=x' or '1'='1` as a client would type it.
fn request(name: &str) -> String {
    format!("GET /users?name={name}")
}

pub(super) async fn run(
    lab: &mut RequestRun,
    current: &Current,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "orm.injection";
    let org = current.organization_id;
    let (made, _) = lab
        .step("the scratch table", async |conn| {
            exec(conn, DEMO, "creating the scratch table", SCRATCH).await
        })
        .await;
    made?;
    let mut lines = vec![
        format!(
            "Signed in as {}: the search looks among organization {org}'s users.",
            current.label()
        ),
        String::new(),
        "The string-built handler sends this, the name written in by format!():".into(),
    ];
    lines.extend(sql_lines(&formatted(org, "{name}"), "  "));
    lines.push(String::new());

    // Two ordinary searches in one measured step: the log compares their texts.
    say(progress, "two ordinary searches, string-built");
    let (normal, round_trips) = lab
        .step("string-built searches", async |conn| {
            let mut found = Vec::new();
            for name in NORMAL {
                found.push(Handler::Formatted.search(conn, org, name).await?);
            }
            Ok::<_, sqlx::Error>(found)
        })
        .await;
    let normal = normal.map_err(sql(DEMO, "searching"))?;
    for (name, found) in NORMAL.iter().zip(&normal) {
        lines.extend(answered(name, found, ""));
    }
    lines.push(format!(
        "  ({} for the two)",
        crate::text::plural(round_trips, "round trip", "round trips")
    ));

    say(progress, "the always-true name, string-built");
    let (leaked, _) = lab
        .step("string-built: always true", async |conn| {
            Handler::Formatted.search(conn, org, ALWAYS_TRUE).await
        })
        .await;
    let leaked = leaked.map_err(sql(DEMO, "searching"))?;
    lines.extend(answered(ALWAYS_TRUE, &leaked, ""));
    lines.push("    the server ran:".into());
    let where_line = formatted(org, ALWAYS_TRUE)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_string();
    lines.push(format!("    {where_line}"));
    lines.push("    and binds tighter than or: the last comparison is true for every row".into());

    say(progress, "a name that drops a table, string-built");
    let (dropped, _) = lab
        .step("string-built: drop table", async |conn| {
            sqlx::raw_sql("savepoint before_attack")
                .execute(&mut *conn)
                .await?;
            let found = Handler::Formatted.search(conn, org, DROP).await?;
            let exists: bool = sqlx::query_scalar(SCRATCH_EXISTS)
                .fetch_one(&mut *conn)
                .await?;
            sqlx::raw_sql("rollback to savepoint before_attack")
                .execute(&mut *conn)
                .await?;
            Ok::<_, sqlx::Error>((found, exists))
        })
        .await;
    let (found, exists) = dropped.map_err(sql(DEMO, "searching"))?;
    lines.extend(answered(DROP, &found, ""));
    lines.push(format!(
        "    invoices afterwards: {}  (a second statement ran; the demo's savepoint brings \
         it back)",
        if exists { "still there" } else { "gone" }
    ));

    lines.push(String::new());
    lines.push("The bound handler sends the SQL with $1 and $2, the values apart:".into());
    lines.extend(sql_lines(SEARCH, "  "));
    let mut inputs: Vec<&str> = NORMAL.to_vec();
    inputs.extend([ALWAYS_TRUE, DROP]);
    for name in inputs {
        say(progress, format!("{}, bound", request(name)));
        let (found, _) = lab
            .step("bound search", async |conn| {
                let found = Handler::Bound.search(conn, org, name).await?;
                let exists: bool = sqlx::query_scalar(SCRATCH_EXISTS).fetch_one(conn).await?;
                Ok::<_, sqlx::Error>((found, exists))
            })
            .await;
        let (found, exists) = found.map_err(sql(DEMO, "searching"))?;
        let table = match name == DROP {
            true => format!("; invoices {}", if exists { "intact" } else { "gone" }),
            false => String::new(),
        };
        lines.extend(answered(name, &found, &table));
    }
    lines.push(String::new());
    lines.push(format!(
        "String-built, one crafted name returned {} of every tenant and another ran a \
         statement of the attacker's. Bound, the same names are only names: no user is \
         called that. The query log flags the string-built searches: the same statement \
         arrived with different values written into its text.",
        crate::text::plural(leaked.len(), "user", "users")
    ));
    Ok((
        format!(
            "String-built SQL leaks {}; bound, 0",
            crate::text::plural(leaked.len(), "user", "users")
        ),
        lines,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formatted_sql_carries_the_input_as_text() {
        let sql = formatted(1, ALWAYS_TRUE);
        assert!(sql.contains("u.username = 'x' or '1'='1' and u.deleted_at is null"));
        assert!(formatted(1, DROP).contains("'x'; drop table invoices; --'"));
    }

    #[test]
    fn found_users_are_counted_by_tenant() {
        let user = |id, tenant: &str| Found {
            username: format!("u{id}"),
            organization: tenant.into(),
        };
        assert_eq!(by_tenant(&[]), ("0 users".into(), None));
        assert_eq!(
            by_tenant(&[user(1, "Acme")]),
            ("1 user: u1 of Acme".into(), None)
        );
        assert_eq!(
            by_tenant(&[user(1, "Acme"), user(2, "TechCo"), user(3, "Acme")]),
            ("3 users".into(), Some("of Acme 2, TechCo 1".into()))
        );
    }
}
