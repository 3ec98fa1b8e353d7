//! Reading the users the lab can act as: every live user of the story data (`lab.users`,
//! soft-deleted ones left out, since they can no longer sign in) with its organization, in
//! id order, as whoever is connected.

use sqlx::postgres::PgConnection;

use super::Error;
use crate::data::acting::ActingAs;

/// The live users with their organizations, by user id. Empty when the learner deleted
/// them all.
pub async fn users(conn: &mut PgConnection) -> Result<Vec<ActingAs>, Error> {
    // `lab` is `db::LESSON_SCHEMA`, spelled out: a query's text is a constant.
    let rows: Vec<(i64, String, i64, String)> = sqlx::query_as(
        "select u.id, u.username, o.id, o.name
           from lab.users u
           join lab.organizations o on o.id = u.organization_id
          where u.deleted_at is null
          order by u.id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::sql("cannot read the users to act as"))?;
    Ok(rows
        .into_iter()
        .map(
            |(user_id, username, organization_id, organization)| ActingAs {
                user_id,
                username,
                organization_id,
                organization,
            },
        )
        .collect())
}
