//! `orm.positional` and `orm.from_row`: one list of a tenant's users read two ways, before
//! and after a migration. Positional code takes column 2 as the username because that is
//! where it was when the code was written; `FromRow` asks for the column by name. The
//! migration changes username's type the expand-and-contract way (add a new column, copy,
//! drop the old, rename), which is how a column is changed without a long lock, and which
//! moves it to the end of the table. It runs on a temporary copy of the users' columns,
//! inside the demo's transaction.

use sqlx::Row;
use sqlx::postgres::PgConnection;

use super::*;
use crate::demo::sql;

/// The copy the demos read: the four columns of `users` the list shows, in their order, for
/// the current tenant's live users (a DDL statement takes no parameters: the tenant id, a
/// number from the session and never input, is written in).
fn copy(org: i64) -> String {
    format!(
        "create temp table users_copy as
    select id, organization_id, username, email from users
     where organization_id = {org} and deleted_at is null"
    )
}
/// The migration: username becomes `varchar(80)`, without rewriting the table under a lock.
const MIGRATION: &str = "alter table users_copy add column username_new varchar(80);
update users_copy set username_new = username;
alter table users_copy drop column username;
alter table users_copy rename column username_new to username";
/// What both versions of the list run: every column, as a quick `select *` does.
const LIST: &str = "select * from users_copy where organization_id = $1 order by id";
const COLUMNS: &str = "select string_agg(attname, ', ' order by attnum) from pg_attribute
    where attrelid = 'users_copy'::regclass and attnum > 0 and not attisdropped";

/// A user as the list shows it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(super) struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
}

// Both readers prepare LIST afresh each time (`persistent(false)`), as a new connection after
// the deploy would: a statement sqlx kept prepared from before the migration is refused by
// the server ("cached plan must not change result type"), which hides the bug until the
// application restarts.

/// Reads the list by position: id is column 0, username 2, email 3, as they were.
async fn list_by_position(conn: &mut PgConnection, org: i64) -> sqlx::Result<Vec<User>> {
    let rows = sqlx::query(LIST)
        .persistent(false)
        .bind(org)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(User {
                id: row.try_get(0)?,
                username: row.try_get(2)?,
                email: row.try_get(3)?,
            })
        })
        .collect()
}

/// Reads the list by name: `FromRow` asks the row for `id`, `username` and `email`.
async fn list_by_name(conn: &mut PgConnection, org: i64) -> sqlx::Result<Vec<User>> {
    sqlx::query_as::<_, User>(LIST)
        .persistent(false)
        .bind(org)
        .fetch_all(conn)
        .await
}

/// Which of the two readers a demo shows.
#[derive(Clone, Copy)]
enum Reader {
    Position,
    Name,
}

impl Reader {
    async fn list(self, conn: &mut PgConnection, org: i64) -> sqlx::Result<Vec<User>> {
        match self {
            Reader::Position => list_by_position(conn, org).await,
            Reader::Name => list_by_name(conn, org).await,
        }
    }
}

pub(super) async fn positional(
    lab: &mut RequestRun,
    current: &Current,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    let mut lines = vec![
        "The code, written when username was column 2:".to_string(),
        "  let rows = sqlx::query(LIST).persistent(false)".into(),
        "      .bind(org).fetch_all(conn).await?;".into(),
        "  User { id: row.try_get(0)?,".into(),
        "         username: row.try_get(2)?, email: row.try_get(3)? }".into(),
    ];
    let (before, after) = before_and_after(
        lab,
        "orm.positional",
        Reader::Position,
        current,
        progress,
        &mut lines,
    )
    .await?;
    let swapped = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b.username == a.email && b.email == a.username)
        .count();
    lines.push(String::new());
    lines.push(format!(
        "{} of {}: the email is in the username field and the username in the email \
         field. Nothing failed: both are text, so the driver had nothing to object to, and \
         the page would show the wrong values to every user.",
        swapped_users(swapped),
        after.len()
    ));
    Ok(("Read by position: the fields swapped".into(), lines))
}

pub(super) async fn from_row(
    lab: &mut RequestRun,
    current: &Current,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    let mut lines = vec![
        "The code: the struct names its columns, FromRow looks each one up by name.".to_string(),
        "  #[derive(sqlx::FromRow)]".into(),
        "  struct User { id: i64, username: String, email: String }".into(),
        "  let users: Vec<User> = sqlx::query_as(LIST).persistent(false)".into(),
        "      .bind(org).fetch_all(conn).await?;".into(),
    ];
    let (before, after) = before_and_after(
        lab,
        "orm.from_row",
        Reader::Name,
        current,
        progress,
        &mut lines,
    )
    .await?;
    let same = before == after;
    lines.push(String::new());
    lines.push(match same {
        true => format!(
            "The same {} before and after: the migration moved a column, and lookups by \
             name do not care where it is. What they do care about is the name: rename a \
             column and the mapping fails loudly on the first read, instead of mixing \
             fields up quietly.",
            crate::text::plural(after.len(), "user", "users")
        ),
        false => "The lists differ: the mapping by name did not survive the migration.".into(),
    });
    Ok((
        "Mapped by name: the migration changes nothing".into(),
        lines,
    ))
}

/// `1 user swapped`, `4 users swapped`.
fn swapped_users(n: usize) -> String {
    format!("{} swapped", crate::text::plural(n, "user", "users"))
}

/// Builds the copy, lists the tenant's users with `reader`, migrates, lists again.
async fn before_and_after(
    lab: &mut RequestRun,
    demo: &'static str,
    reader: Reader,
    current: &Current,
    progress: &mpsc::UnboundedSender<DemoProgress>,
    lines: &mut Vec<String>,
) -> Result<(Vec<User>, Vec<User>), Error> {
    let org = current.organization_id;
    lines.push(format!("  LIST = \"{LIST}\""));
    lines.push(String::new());
    let (copied, _) = lab
        .step("the copy", async |conn| {
            sqlx::raw_sql(sqlx::AssertSqlSafe(copy(org)))
                .execute(conn)
                .await
        })
        .await;
    copied.map_err(sql(demo, "copying users"))?;
    say(progress, "listing the users before the migration");
    let before = listed(lab, demo, reader, org, "before the migration", lines).await?;
    lines.push(String::new());
    lines.push("The migration (username becomes varchar(80), expand and contract):".into());
    lines.extend(sql_lines(MIGRATION, "  "));
    let (migrated, _) = lab
        .step("the migration", async |conn| {
            exec(conn, demo, "migrating the copy", MIGRATION).await
        })
        .await;
    migrated?;
    lines.push(String::new());
    say(progress, "listing the users after the migration");
    let after = listed(lab, demo, reader, org, "after the migration", lines).await?;
    Ok((before, after))
}

/// Lists the users with `reader`, with the table's columns as the catalog has them.
async fn listed(
    lab: &mut RequestRun,
    demo: &'static str,
    reader: Reader,
    org: i64,
    when: &str,
    lines: &mut Vec<String>,
) -> Result<Vec<User>, Error> {
    let (listed, _) = lab
        .step(when, async |conn| {
            let columns: String = sqlx::query_scalar(COLUMNS)
                .fetch_one(&mut *conn)
                .await
                .map_err(sql(demo, "reading the copy's columns"))?;
            let users = reader
                .list(conn, org)
                .await
                .map_err(sql(demo, "listing the users"))?;
            Ok::<_, Error>((columns, users))
        })
        .await;
    let (columns, users) = listed?;
    lines.push(format!("{when}: the columns are {columns}"));
    lines.push(format!("  {:<4}{:<22}{}", "id", "username", "email"));
    for user in &users {
        lines.push(format!(
            "  {:<4}{:<22}{}",
            user.id, user.username, user.email
        ));
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swapped_users_are_counted_with_their_noun() {
        assert_eq!(swapped_users(1), "1 user swapped");
        assert_eq!(swapped_users(4), "4 users swapped");
    }
}
