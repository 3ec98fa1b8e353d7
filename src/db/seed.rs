//! Large generated data sets (`pglab seed`): users spread over the existing tenants, each
//! with a number of posts. The load follows PostgreSQL's bulk-loading advice: drop indexes
//! and keys (`deferred_ddl`), stream rows with binary `COPY` on several connections side by
//! side (`rows`), build the indexes again, analyze.

mod deferred_ddl;
mod rows;

use std::sync::atomic::{AtomicI64, Ordering};

use sqlx::Connection;
use sqlx::postgres::PgConnectOptions;

pub use deferred_ddl::finish_interrupted as finish_interrupted_load;

use rows::{Plan, write_chunk};

use super::lab::connect;
use super::{Error, LESSON_SCHEMA};

/// Most users one `pglab seed` may add (about 1.5 GB with their indexes).
pub const MAX_USERS: i64 = 10_000_000;
pub const MAX_POSTS_PER_USER: i64 = 1_000;
/// Most posts one `pglab seed` may add.
pub const MAX_POSTS: i64 = 20_000_000;
/// Rows per `COPY`: large enough that per-statement overhead vanishes, small enough that
/// the buffered chunk stays around 10 MB and progress moves several times a second.
const ROWS_PER_CHUNK: i64 = 100_000;

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

/// Where a run is, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Rows written so far.
    Loading(Added),
    /// Indexes and constraints rebuilt so far, of `total`.
    Indexing { done: i64, total: i64 },
}

/// Adds `size` rows over `workers` connections side by side, then rebuilds indexes and
/// refreshes the planner's statistics. `progress` is told after every chunk and index.
///
/// Ids are given explicitly (user `n` is `user<n>`), so the data is the same whichever
/// connection writes which chunk, and numbering continues after the rows already there.
pub async fn generate(
    options: &PgConnectOptions,
    size: SeedSize,
    workers: usize,
    mut progress: impl FnMut(Progress),
) -> Result<Added, Error> {
    let workers = workers.clamp(1, 8);
    let mut conn = connect(options).await?;
    deferred_ddl::lock_load(&mut conn).await?;
    let (first_user, first_post, tenants): (i64, i64, Vec<i64>) = sqlx::query_as(
        "select (select coalesce(max(id), 0) + 1 from users),
                (select coalesce(max(id), 0) + 1 from posts),
                array(select id from organizations order by id)",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(Error::sql("cannot read the lab tables"))?;
    if tenants.is_empty() {
        return Err(Error::Refused(
            "there are no organizations to add users to; `pglab db reset` brings them back".into(),
        ));
    }
    let plan = Plan {
        first_user,
        first_post,
        size,
        tenants,
    };
    let mut tables = vec![format!("{LESSON_SCHEMA}.users")];
    if size.posts_per_user > 0 {
        tables.push(format!("{LESSON_SCHEMA}.posts"));
    }
    deferred_ddl::defer(&mut conn, &tables).await?;

    let loaded = load(options, &plan, workers, |added| {
        progress(Progress::Loading(added))
    })
    .await;
    // Rebuild even when the load failed part-way: the table must not stay without its keys.
    let rebuilt = deferred_ddl::restore(options, workers, |done, total| {
        progress(Progress::Indexing { done, total })
    })
    .await;
    // Even after a partial load, the identity sequences must move past the ids written, or
    // the learner's next insert would collide with a generated row.
    let sequences = sqlx::raw_sql(
        "select setval(pg_get_serial_sequence('users', 'id'), (select max(id) from users));
         select setval(pg_get_serial_sequence('posts', 'id'), (select max(id) from posts));",
    )
    .execute(&mut conn)
    .await
    .map_err(Error::sql("cannot move the id sequences"));
    let added = loaded?;
    rebuilt?;
    sequences?;
    sqlx::raw_sql("analyze users; analyze posts;")
        .execute(&mut conn)
        .await
        .map_err(Error::sql("cannot analyze the new rows"))?;
    let _ = conn.close().await;
    Ok(added)
}

/// Writes the rows in chunks (see [`Plan::users_per_chunk`]); each connection takes the next
/// chunk free.
async fn load(
    options: &PgConnectOptions,
    plan: &Plan,
    workers: usize,
    mut progress: impl FnMut(Added),
) -> Result<Added, Error> {
    let per_chunk = plan.users_per_chunk();
    let chunks = (plan.size.users + per_chunk - 1) / per_chunk;
    let next_chunk = AtomicI64::new(0);
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let writers = futures::future::try_join_all((0..workers).map(|_| {
        let done_tx = done_tx.clone();
        let next_chunk = &next_chunk;
        async move {
            let mut conn = connect(options).await?;
            // Each chunk commits on its own; not waiting for each commit's disk flush is
            // safe here (a crash loses at most the last chunks, never consistency).
            sqlx::query("select set_config('synchronous_commit', 'off', false)")
                .execute(&mut conn)
                .await
                .map_err(Error::sql("cannot configure the load"))?;
            loop {
                let chunk = next_chunk.fetch_add(1, Ordering::Relaxed);
                if chunk >= chunks {
                    let _ = conn.close().await;
                    return Ok::<_, Error>(());
                }
                let added = write_chunk(&mut conn, plan, chunk).await?;
                let _ = done_tx.send(added);
            }
        }
    }));
    drop(done_tx);
    let mut total = Added::default();
    let report = async {
        while let Some(added) = done_rx.recv().await {
            total.users += added.users;
            total.posts += added.posts;
            progress(total);
        }
    };
    let (written, ()) = tokio::join!(writers, report);
    written?;
    Ok(total)
}

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
