//! Generating large data sets on the server (`pglab seed`): users spread over the existing
//! tenants, each with a number of posts. Rows are produced by `generate_series` inside
//! PostgreSQL, so nothing crosses the network but the statements; chunks keep transactions
//! short and let a progress bar move.

use sqlx::postgres::PgConnection;

use super::Error;

/// Most users one `pglab seed` may add (about 1.5 GB with their indexes).
pub const MAX_USERS: i64 = 10_000_000;
pub const MAX_POSTS_PER_USER: i64 = 1_000;
/// Most posts one `pglab seed` may add.
pub const MAX_POSTS: i64 = 20_000_000;
/// Users per statement: large enough that per-statement overhead vanishes, small enough
/// that progress moves every second or so.
const CHUNK: i64 = 100_000;

/// A validated request for generated rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedSize {
    pub users: i64,
    pub posts_per_user: i64,
}

impl SeedSize {
    /// Refuses sizes that are negative, empty or too large for a laptop, saying which limit.
    pub fn new(users: i64, posts_per_user: i64) -> Result<Self, Error> {
        if !(1..=MAX_USERS).contains(&users) {
            return Err(Error::Refused(format!(
                "--users must be between 1 and {MAX_USERS}, got {users}"
            )));
        }
        if !(0..=MAX_POSTS_PER_USER).contains(&posts_per_user) {
            return Err(Error::Refused(format!(
                "--posts-per-user must be between 0 and {MAX_POSTS_PER_USER}, got {posts_per_user}"
            )));
        }
        if users.saturating_mul(posts_per_user) > MAX_POSTS {
            return Err(Error::Refused(format!(
                "{users} users × {posts_per_user} posts each is {} posts; the limit is {MAX_POSTS}. \
                 Ask for fewer users or fewer posts per user.",
                users.saturating_mul(posts_per_user)
            )));
        }
        Ok(Self {
            users,
            posts_per_user,
        })
    }

    pub fn total_rows(&self) -> i64 {
        self.users + self.users * self.posts_per_user
    }
}

/// Rows added by one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Added {
    pub users: i64,
    pub posts: i64,
}

/// Adds `size` rows, calling `progress` with the rows written so far after every chunk, then
/// refreshes the planner's statistics.
pub async fn generate(
    conn: &mut PgConnection,
    size: SeedSize,
    mut progress: impl FnMut(Added),
) -> Result<Added, Error> {
    // Continue numbering after what exists, so repeated runs never collide on email.
    let (start,): (i64,) = sqlx::query_as("select coalesce(max(id), 0) + 1 from users")
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::sql("cannot read the users table"))?;
    let mut added = Added::default();
    let mut first = start;
    let last = start + size.users - 1;
    while first <= last {
        let chunk_last = (first + CHUNK - 1).min(last);
        let (users, posts): (i64, i64) = sqlx::query_as(GENERATE_CHUNK)
            .bind(first)
            .bind(chunk_last)
            .bind(size.posts_per_user)
            .fetch_one(&mut *conn)
            .await
            .map_err(Error::sql("cannot generate rows"))?;
        added.users += users;
        added.posts += posts;
        progress(added);
        first = chunk_last + 1;
    }
    sqlx::raw_sql("analyze users; analyze posts;")
        .execute(&mut *conn)
        .await
        .map_err(Error::sql("cannot analyze the new rows"))?;
    Ok(added)
}

/// Users `$1..=$2` (numbered names and emails, round-robin over the tenants, timestamps
/// spread over a year) and `$3` posts each, in one statement.
const GENERATE_CHUNK: &str = "
with tenants as (
    select array_agg(id order by id) as ids from organizations
), new_users as (
    insert into users (organization_id, username, email, created_at, updated_at)
    select t.ids[1 + (g % cardinality(t.ids))],
           'user' || g,
           'user' || g || '@generated.test',
           timestamptz '2026-01-01 00:00+00' + (g % 525600) * interval '1 minute',
           timestamptz '2026-01-01 00:00+00' + (g % 525600) * interval '1 minute'
      from tenants t, generate_series($1::bigint, $2::bigint) g
    returning id, organization_id, username, created_at
), new_posts as (
    insert into posts (organization_id, author_id, title, body, created_at, updated_at)
    select u.organization_id, u.id,
           'Post ' || n || ' by ' || u.username,
           'Generated post number ' || n || '.',
           u.created_at + n * interval '1 hour',
           u.created_at + n * interval '1 hour'
      from new_users u, generate_series(1, $3::bigint) n
    returning 1
)
select (select count(*) from new_users), (select count(*) from new_posts)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_negative_zero_and_absurd_sizes_with_the_limit() {
        for (users, posts, needle) in [
            (-5, 0, "between 1 and"),
            (0, 0, "between 1 and"),
            (MAX_USERS + 1, 0, "between 1 and"),
            (10, -1, "--posts-per-user"),
            (10, MAX_POSTS_PER_USER + 1, "--posts-per-user"),
            (MAX_USERS, 1_000, "the limit is"),
        ] {
            let err = SeedSize::new(users, posts).unwrap_err().to_string();
            assert!(err.contains(needle), "{users}/{posts}: {err}");
        }
    }

    #[test]
    fn accepts_a_million_users() {
        let size = SeedSize::new(1_000_000, 2).unwrap();
        assert_eq!(size.total_rows(), 3_000_000);
    }
}
