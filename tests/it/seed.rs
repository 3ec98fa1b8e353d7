//! Generated data: `pglab::db::seed::generate` on a real database.

use pglab::db::seed::{Added, SeedSize, generate};
use pglab::testing::TestDb;

#[tokio::test]
async fn generates_users_and_posts_spread_over_the_tenants() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.owner_conn().await.unwrap();
    let mut reports = Vec::new();
    let size = SeedSize::new(1_500, 3).unwrap();
    let added = generate(&mut conn, size, |so_far| reports.push(so_far))
        .await
        .unwrap();
    assert_eq!(
        added,
        Added {
            users: 1_500,
            posts: 4_500
        }
    );
    assert_eq!(reports.last(), Some(&added));
    let per_tenant: Vec<(i64,)> = sqlx::query_as(
        "select count(*) from users where email like '%@generated.test'
          group by organization_id order by organization_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(per_tenant, [(500,), (500,), (500,)]);
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
    let mut conn = db.owner_conn().await.unwrap();
    let size = SeedSize::new(100, 0).unwrap();
    generate(&mut conn, size, |_| {}).await.unwrap();
    generate(&mut conn, size, |_| {}).await.unwrap();
    let (users,): (i64,) = sqlx::query_as("select count(*) from users")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(users, 10 + 200);
}
