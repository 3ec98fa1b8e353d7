//! Rows a demo adds for one measurement: the scale demo needs thousands of posts, which the
//! story does not have, and the wide-join demo authors with long bios. They are made server-side in one statement (no rows cross the
//! network) inside the caller's transaction, which the caller rolls back, so they never
//! outlive the demo.
//!
//! The index lesson's big table, `big_users`, lives here too: its shape and the generator
//! that fills it (and the write-cost demo's scratch tables of the same shape). Every value is
//! a function of the row number, so two runs of the same size hold the same rows and a
//! lesson's numbers can be reproduced.

use sqlx::AssertSqlSafe;
use sqlx::postgres::PgConnection;

use super::Error;

/// Adds `count` posts, newer than every post already there, by the story's users in turn
/// (each post in its author's organization). Returns how many were added: 0 when there are
/// no users to write them. Their ids are given, far above any the sequence hands out: a
/// rollback takes the rows back but would not take back what they drew from the sequence,
/// and the next post the learner writes would skip thousands of ids.
pub async fn add_generated_posts(conn: &mut PgConnection, count: i32) -> Result<u64, Error> {
    let done = sqlx::query(
        "with authors as (
             select array_agg(id order by id) as ids,
                    array_agg(organization_id order by id) as orgs
               from users
              where deleted_at is null
         ),
         newest as (
             select coalesce(max(created_at), now()) as at from posts
         )
         insert into posts (id, organization_id, author_id, title, body, created_at, updated_at)
         overriding system value
         select 1000000000 + g,
                a.orgs[1 + g % cardinality(a.ids)],
                a.ids[1 + g % cardinality(a.ids)],
                'Generated post ' || g,
                '',
                n.at + g * interval '1 second',
                n.at + g * interval '1 second'
           from authors a, newest n, generate_series(1, $1::int) as g
          where cardinality(a.ids) > 0",
    )
    .bind(count)
    .execute(conn)
    .await
    .map_err(Error::sql("cannot generate posts for the demo"))?;
    Ok(done.rows_affected())
}

/// Gives every user a `bio` of `bytes` bytes, inside the caller's transaction: the column
/// is added (a change of the table's shape, so the table is locked until the transaction
/// ends; waiting for that lock gives up after 2 s rather than hang behind someone else's
/// open transaction). The text is hex digits from md5, different for every user.
pub async fn add_user_bios(conn: &mut PgConnection, bytes: i32) -> Result<u64, Error> {
    sqlx::raw_sql("set local lock_timeout = '2s'; alter table users add column bio text")
        .execute(&mut *conn)
        .await
        .map_err(Error::sql(
            "cannot add a bio column to users (is another session holding the table?)",
        ))?;
    let done = sqlx::query(
        "update users u
            set bio = left((select string_agg(md5(u.id || '-' || g), '')
                              from generate_series(1, $1 / 32 + 1) as g), $1)",
    )
    .bind(bytes)
    .execute(conn)
    .await
    .map_err(Error::sql("cannot write the users' bios for the demo"))?;
    Ok(done.rows_affected())
}

/// The index lesson's big table: as many users as a lesson asks for, with no index but its
/// primary key. The story's `users` already has a unique index on email, which would spoil
/// the first half of the lesson.
pub const BIG_USERS: &str = "big_users";

/// The columns of `big_users` and of every table shaped like it.
const BIG_USERS_COLUMNS: &str = "
    id              bigint generated always as identity primary key,
    organization_id bigint not null,
    email           text not null,
    username        text not null,
    country         text not null,
    is_active       boolean not null,
    created_at      timestamptz not null,
    deleted_at      timestamptz";

/// Where a generated user's values come from: row number `g` of `total`.
///
/// - organization_id: 1..=1000, scattered by a multiplicative hash (not in id order);
/// - email `user<g>@example.com`: unique by construction, with no index to enforce it;
/// - country: one of 20 codes, skewed by the cube of a number spread evenly over [0, 1)
///   (Fibonacci hashing: neighbouring rows land far apart, so every stretch of sign-up dates
///   holds every country) so the first is common (about 37 % of rows) and the last rare
///   (under 2 %);
/// - is_active: false for every 20th row, so true for 95 % (a column an index rarely helps);
/// - created_at: evenly over the five years from 2021 on, in id order, as sign-ups arrive
///   (`$3` is the seconds between two rows);
/// - deleted_at: set on every 20th row (a different 5 % from the inactive ones), 30 days
///   after sign-up.
const BIG_USERS_VALUES: &str = "
    1 + (g * 2654435761) % 1000,
    'user' || g || '@example.com',
    'user' || g,
    (array['us', 'in', 'de', 'gb', 'fr', 'br', 'ca', 'jp', 'es', 'it',
           'nl', 'pl', 'se', 'mx', 'au', 'kr', 'ng', 'za', 'ar', 'fi'])
        [1 + floor(20 * power(((g * 2654435761) % 4294967296)::float8 / 4294967296, 3))::int],
    g % 20 <> 0,
    timestamptz '2021-01-01 00:00:00+00' + g * $3::float8 * interval '1 second',
    case when g % 20 = 10
         then timestamptz '2021-01-01 00:00:00+00'
              + (g * $3::float8 + 2592000) * interval '1 second'
    end";

/// Five years (of 365.25 days) in seconds: the span `created_at` covers.
const FIVE_YEARS_SECS: f64 = 5.0 * 365.25 * 86_400.0;

/// Creates `table` (a name from pglab's code, never from input) with `big_users`' columns.
pub async fn create_big_users_table(
    conn: &mut PgConnection,
    table: &'static str,
) -> Result<(), Error> {
    let ddl = format!("create table {table} ({BIG_USERS_COLUMNS})");
    sqlx::raw_sql(AssertSqlSafe(ddl))
        .execute(conn)
        .await
        .map_err(Error::sql("cannot create the demo's big table"))?;
    Ok(())
}

/// Drops `table` (a name from pglab's code) if it exists; whether it did.
pub async fn drop_table_if_exists(
    conn: &mut PgConnection,
    table: &'static str,
) -> Result<bool, Error> {
    let existed: bool = sqlx::query_scalar("select to_regclass($1) is not null")
        .bind(table)
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::sql("cannot look up the demo's big table"))?;
    if existed {
        sqlx::raw_sql(AssertSqlSafe(format!("drop table {table}")))
            .execute(conn)
            .await
            .map_err(Error::sql("cannot drop the demo's big table"))?;
    }
    Ok(existed)
}

/// Adds generated users number `first..=last` of `total` to `table` (a name from pglab's
/// code, shaped by [`create_big_users_table`]) in one statement; how many were added.
pub async fn insert_big_users(
    conn: &mut PgConnection,
    table: &'static str,
    first: i64,
    last: i64,
    total: i64,
) -> Result<u64, Error> {
    let sql = format!(
        "insert into {table}
             (organization_id, email, username, country, is_active, created_at, deleted_at)
         select {BIG_USERS_VALUES}
           from generate_series($1::bigint, $2::bigint) as g"
    );
    let done = sqlx::query(AssertSqlSafe(sql))
        .bind(first)
        .bind(last)
        .bind(FIVE_YEARS_SECS / total.max(1) as f64)
        .execute(conn)
        .await
        .map_err(Error::sql("cannot generate rows for the demo's big table"))?;
    Ok(done.rows_affected())
}

/// How much room a table takes: its heap with TOAST and maps, without indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSize {
    pub bytes: i64,
    /// As PostgreSQL prints it ("73 MB").
    pub pretty: String,
    /// `pg_class.relpages`: the page count as of the last VACUUM or ANALYZE.
    pub pages: i64,
    /// All its indexes together.
    pub index_bytes: i64,
    pub index_pretty: String,
}

/// The sizes of `table` (resolved on the search path).
pub async fn table_size(conn: &mut PgConnection, table: &str) -> Result<TableSize, Error> {
    let (bytes, pretty, pages, index_bytes, index_pretty): (i64, String, i64, i64, String) =
        sqlx::query_as(
            "select pg_table_size(c.oid), pg_size_pretty(pg_table_size(c.oid)),
                    c.relpages::bigint,
                    pg_indexes_size(c.oid), pg_size_pretty(pg_indexes_size(c.oid))
               from pg_class c
              where c.oid = $1::regclass",
        )
        .bind(table)
        .fetch_one(conn)
        .await
        .map_err(Error::sql("cannot read the size of the demo's table"))?;
    Ok(TableSize {
        bytes,
        pretty,
        pages,
        index_bytes,
        index_pretty,
    })
}

/// The size of one index (resolved on the search path), in bytes and as printed.
pub async fn index_size(conn: &mut PgConnection, index: &str) -> Result<(i64, String), Error> {
    sqlx::query_as(
        "select pg_relation_size($1::regclass), pg_size_pretty(pg_relation_size($1::regclass))",
    )
    .bind(index)
    .fetch_one(conn)
    .await
    .map_err(Error::sql("cannot read the size of the index"))
}

/// The indexes on `table` (resolved on the search path) besides its primary key: each one's
/// name and key columns as PostgreSQL prints them, with a partial index's predicate.
pub async fn secondary_indexes(
    conn: &mut PgConnection,
    table: &str,
) -> Result<Vec<(String, String)>, Error> {
    sqlx::query_as(
        "select ic.relname::text,
                (select string_agg(pg_get_indexdef(i.indexrelid, k, true), ', ' order by k)
                   from generate_series(1, i.indnkeyatts::int) as k)
                || coalesce(' where ' || pg_get_expr(i.indpred, i.indrelid, true), '')
           from pg_index i
           join pg_class ic on ic.oid = i.indexrelid
          where i.indrelid = to_regclass($1) and not i.indisprimary
          order by ic.relname",
    )
    .bind(table)
    .fetch_all(conn)
    .await
    .map_err(Error::sql("cannot list the table's indexes"))
}
