//! Rows a demo adds for one measurement: the scale demo needs thousands of posts, which the
//! story does not have. They are made server-side in one statement (no rows cross the
//! network) inside the caller's transaction, which the caller rolls back, so they never
//! outlive the demo.

use sqlx::postgres::PgConnection;

use super::Error;

/// Adds `count` posts, newer than every post already there, by the story's users in turn
/// (each post in its author's organization). Returns how many were added: 0 when there are
/// no users to write them.
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
         insert into posts (organization_id, author_id, title, body, created_at, updated_at)
         select a.orgs[1 + g % cardinality(a.ids)],
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
