//! The blog schema and the story seed, as every fresh lab database has them.

use pglab::testing::TestDb;

#[tokio::test]
async fn story_seed_has_three_tenants_on_three_plans() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.owner_conn().await.unwrap();
    let plans: Vec<(i64, String, String)> =
        sqlx::query_as("select id, slug, plan from organizations order by id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        plans,
        [
            (1, "acme".into(), "pro".into()),
            (2, "techco".into(), "free".into()),
            (3, "startup".into(), "enterprise".into()),
        ]
    );
    let per_tenant: Vec<(i64, i64, i64)> = sqlx::query_as(
        "select o.id,
                (select count(*) from users u where u.organization_id = o.id),
                (select count(distinct p.author_id) from posts p where p.organization_id = o.id)
           from organizations o order by o.id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for (org, users, authors) in per_tenant {
        assert!(users >= 3, "tenant {org} has {users} users");
        assert!(authors >= 2, "tenant {org} has posts by {authors} authors");
    }
}

#[tokio::test]
async fn story_ids_are_stable() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.owner_conn().await.unwrap();
    let (alice, org): (String, i64) =
        sqlx::query_as("select username, organization_id from users where id = 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!((alice.as_str(), org), ("alice", 1));
    let (deleted,): (i64,) =
        sqlx::query_as("select count(*) from posts where deleted_at is not null")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(deleted, 1, "the story has one soft-deleted post");
}

#[tokio::test]
async fn every_foreign_key_has_an_index_that_starts_with_its_columns() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.owner_conn().await.unwrap();
    let unindexed: Vec<(String, String)> = sqlx::query_as(
        "select c.conrelid::regclass::text, c.conname::text
           from pg_constraint c
           join pg_namespace n on n.oid = c.connamespace
          where c.contype = 'f' and n.nspname = 'lab'
            and not exists (
                select 1 from pg_index i
                 where i.indrelid = c.conrelid and i.indpred is null
                   and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey)",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(unindexed, [], "foreign keys without an index");
    let (fks,): (i64,) = sqlx::query_as(
        "select count(*) from pg_constraint c join pg_namespace n on n.oid = c.connamespace
          where c.contype = 'f' and n.nspname = 'lab'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        fks, 3,
        "users→organizations, posts→organizations, posts→users"
    );
}

#[tokio::test]
async fn foreign_keys_refuse_orphans_and_authors_with_posts() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.owner_conn().await.unwrap();
    let orphan = sqlx::query(
        "insert into users (organization_id, username, email) values (999, 'zed', 'zed@x.test')",
    )
    .execute(&mut conn)
    .await
    .unwrap_err();
    assert_eq!(sqlstate(&orphan), "23503");
    let author = sqlx::query("delete from users where username = 'alice'")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&author), "23503");
    sqlx::query("delete from organizations where slug = 'techco'")
        .execute(&mut conn)
        .await
        .unwrap();
    let (left,): (i64,) = sqlx::query_as("select count(*) from users where organization_id = 2")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 0, "removing a tenant removes its users and posts");
}

#[tokio::test]
async fn updates_refresh_updated_at_and_email_is_unique() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.owner_conn().await.unwrap();
    let (before, after): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as(
            "with old as (select updated_at from posts where id = 1)
             update posts set title = 'Renamed' where id = 1
             returning (select updated_at from old), updated_at",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(after > before, "{before} → {after}");
    let duplicate = sqlx::query(
        "insert into users (organization_id, username, email) values (2, 'x', 'alice@acme.test')",
    )
    .execute(&mut conn)
    .await
    .unwrap_err();
    assert_eq!(sqlstate(&duplicate), "23505");
}

#[tokio::test]
async fn migrations_are_recorded_outside_the_lesson_schema() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.owner_conn().await.unwrap();
    let (applied,): (i64,) =
        sqlx::query_as("select count(*) from pglab._sqlx_migrations where success")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(applied as usize, pglab::db::migrator().iter().count());
    let (in_lab,): (bool,) = sqlx::query_as("select to_regclass('lab._sqlx_migrations') is null")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(in_lab);
}

pub fn sqlstate(error: &sqlx::Error) -> String {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned())
        .unwrap_or_else(|| panic!("not a database error: {error}"))
}
