//! The learner role: owns the lesson tables, is not a superuser, cannot reach the server's
//! files or programs, and runs with a statement timeout. These hold on the private cluster;
//! with DATABASE_URL the URL's own role is used and they are skipped.

use pglab::testing::TestDb;

use super::schema::sqlstate;

fn on_private_cluster() -> bool {
    let private = std::env::var_os("DATABASE_URL").is_none();
    if !private {
        eprintln!("skipped: with DATABASE_URL the URL's own role is the learner");
    }
    private
}

#[tokio::test]
async fn learner_is_not_a_superuser_and_has_a_timeout() {
    if !on_private_cluster() {
        return;
    }
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let (user, superuser, timeout, path): (String, bool, String, String) = sqlx::query_as(
        "select current_user::text, rolsuper, current_setting('statement_timeout'),
                current_setting('search_path')
           from pg_roles where rolname = current_user",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(user, "pglab_learner");
    assert!(!superuser);
    assert_eq!(timeout, "30s");
    assert_eq!(path, "lab, public");
}

#[tokio::test]
async fn learner_cannot_run_server_programs_or_read_server_files() {
    if !on_private_cluster() {
        return;
    }
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    for attempt in [
        "copy (select 1) to program 'true'",
        "select pg_read_file('/etc/passwd')",
        "copy users from '/etc/passwd'",
        "select * from pglab._sqlx_migrations",
    ] {
        let error = sqlx::query(attempt).execute(&mut conn).await.unwrap_err();
        assert_eq!(
            sqlstate(&error),
            "42501",
            "{attempt} was not refused: {error}"
        );
    }
}

#[tokio::test]
async fn learner_owns_the_lesson_tables_and_can_index_them() {
    if !on_private_cluster() {
        return;
    }
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let owners: Vec<(String, String)> = sqlx::query_as(
        "select tablename::text, tableowner::text from pg_tables
          where schemaname = 'lab' order by 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    // users, posts, organizations, audit_logs, and the archives of users and posts
    assert_eq!(owners.len(), 6);
    assert!(
        owners.iter().all(|(_, owner)| owner == "pglab_learner"),
        "{owners:?}"
    );
    sqlx::query("create index users_username_idx on users (username)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("create table scratch (id int)")
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn nobody_can_connect_to_the_template_that_resets_copy() {
    if !on_private_cluster() {
        return;
    }
    let db = TestDb::create().await.unwrap();
    let template = db.learner.clone().database(pglab::db::TEMPLATE_DATABASE);
    let error = pglab::db::connect(&template).await.unwrap_err().to_string();
    assert!(
        error.contains("not currently accepting connections"),
        "{error}"
    );
}
