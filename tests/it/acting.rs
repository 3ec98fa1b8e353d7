//! The users the lab can act as, read from the story data on a real server: every live
//! user with its organization, by id; a soft-deleted user is no longer offered.

use pglab::testing::TestDb;

#[tokio::test]
async fn the_story_users_load_with_their_organizations() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let users = pglab::db::acting::users(&mut conn).await.unwrap();
    let shown: Vec<String> = users.iter().map(|u| u.label()).collect();
    assert_eq!(
        shown[..4],
        [
            "alice · Acme Corp (org 1)",
            "bob · Acme Corp (org 1)",
            "charlie · TechCo (org 2)",
            "diana · StartUp Inc (org 3)",
        ]
    );
    assert_eq!(users.len(), 10, "{shown:?}");
    assert!(users.windows(2).all(|w| w[0].user_id < w[1].user_id));

    sqlx::query("update lab.users set deleted_at = now() where username = 'bob'")
        .execute(&mut conn)
        .await
        .unwrap();
    let users = pglab::db::acting::users(&mut conn).await.unwrap();
    assert_eq!(users.len(), 9);
    assert!(users.iter().all(|u| u.username != "bob"));
}
