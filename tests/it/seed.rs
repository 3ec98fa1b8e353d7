//! Generated data: `pglab::db::seed::generate` on a real database.

use pglab::db::seed::{Added, Progress, SeedSize, generate};
use pglab::testing::TestDb;

#[tokio::test]
async fn generates_users_and_posts_spread_over_the_tenants() {
    let db = TestDb::create().await.unwrap();
    let mut reports = Vec::new();
    // With one post each, 250,000 users make five chunks of 50,000, shared by two writers.
    let size = SeedSize::new(250_000, 1).unwrap();
    let added = generate(&db.owner, size, 2, |p| reports.push(p))
        .await
        .unwrap();
    let mut conn = db.owner_conn().await.unwrap();
    assert_eq!(
        added,
        Added {
            users: 250_000,
            posts: 250_000
        }
    );
    let loading: Vec<_> = reports
        .iter()
        .filter_map(|p| match p {
            Progress::Loading(so_far) => Some(*so_far),
            Progress::Indexing { .. } => None,
        })
        .collect();
    assert_eq!(loading.len(), 5);
    assert_eq!(loading.last(), Some(&added));
    assert!(matches!(
        reports.last(),
        Some(Progress::Indexing { done, total }) if done == total
    ));
    let per_tenant: Vec<(i64,)> = sqlx::query_as(
        "select count(*) from users where email like '%@generated.test'
          group by organization_id order by organization_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(per_tenant, [(83_333,), (83_333,), (83_334,)]);
    let (mismatched,): (i64,) = sqlx::query_as(
        "select count(*) from posts p join users u on u.id = p.author_id
          where p.organization_id <> u.organization_id",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(mismatched, 0, "a post lives in its author's tenant");
    let (estimate,): (f32,) =
        sqlx::query_as("select reltuples from pg_class where relname = 'posts'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(
        estimate > 4_000.0,
        "posts were analyzed (reltuples = {estimate})"
    );
}

#[tokio::test]
async fn seeding_twice_continues_the_numbering() {
    let db = TestDb::create().await.unwrap();
    let size = SeedSize::new(100, 0).unwrap();
    generate(&db.owner, size, 2, |_| {}).await.unwrap();
    generate(&db.owner, size, 2, |_| {}).await.unwrap();
    let mut conn = db.owner_conn().await.unwrap();
    let (users,): (i64,) = sqlx::query_as("select count(*) from users")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(users, 10 + 200);
}

#[tokio::test]
async fn the_schema_is_whole_after_a_load() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.owner_conn().await.unwrap();
    let shape = "select c.conrelid::regclass::text || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid)
                   from pg_constraint c where c.connamespace = 'lab'::regnamespace
                 union all
                 select pg_get_indexdef(indexrelid) from pg_index
                  where indrelid in ('users'::regclass, 'posts'::regclass)
                 order by 1";
    sqlx::query("create index users_learner_idx on users (lower(username))")
        .execute(&mut conn)
        .await
        .unwrap();
    let before: Vec<(String,)> = sqlx::query_as(shape).fetch_all(&mut conn).await.unwrap();
    generate(&db.owner, SeedSize::new(1_000, 2).unwrap(), 2, |_| {})
        .await
        .unwrap();
    let after: Vec<(String,)> = sqlx::query_as(shape).fetch_all(&mut conn).await.unwrap();
    assert_eq!(
        before, after,
        "indexes and constraints (a learner's included) come back"
    );
    // New rows continue the identity sequence instead of colliding with generated ids.
    sqlx::query(
        "insert into users (organization_id, username, email) values (1, 'new', 'n@x.test')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let (pending,): (i64,) = sqlx::query_as("select count(*) from pglab.deferred_ddl")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(pending, 0);
}

#[tokio::test]
async fn an_interrupted_load_is_finished_at_the_next_start() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.owner_conn().await.unwrap();
    // What a killed `pglab seed` leaves: indexes dropped, their rebuilds recorded.
    sqlx::query(
        "insert into pglab.deferred_ddl (phase, statement)
         values (1, 'create index posts_title_idx on lab.posts (title)')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    pglab::db::seed::finish_interrupted_load(&mut conn)
        .await
        .unwrap();
    let (rebuilt,): (bool,) = sqlx::query_as("select to_regclass('posts_title_idx') is not null")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(rebuilt);
}

#[tokio::test]
async fn two_loads_at_once_take_turns() {
    let db = TestDb::create().await.unwrap();
    let size = SeedSize::new(20_000, 1).unwrap();
    let (a, b) = tokio::join!(
        generate(&db.owner, size, 2, |_| {}),
        generate(&db.owner, size, 2, |_| {})
    );
    a.unwrap();
    b.unwrap();
    let mut conn = db.owner_conn().await.unwrap();
    let (users, distinct, keys): (i64, i64, i64) = sqlx::query_as(
        "select count(*), count(distinct id),
                (select count(*) from pg_constraint where conrelid = 'users'::regclass)
                + (select count(*) from pg_index
                    where indrelid = 'users'::regclass and indisunique and indpred is not null)
           from users",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!((users, distinct), (40_010, 40_010));
    assert_eq!(
        keys, 3,
        "primary key, unique index on live emails, foreign key"
    );
    // generated rows are not audited, and the audit trigger is back on afterwards
    let (events, audited): (i64, Vec<String>) = sqlx::query_as(
        "select (select count(*) from audit.events),
                array(select tgname::text from pg_trigger
                       where tgfoid = 'audit.capture()'::regprocedure and tgenabled = 'O'
                       order by 1)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(events, 0);
    assert_eq!(audited, ["posts_audit", "users_audit"]);
}
