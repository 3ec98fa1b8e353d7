//! Fetching plans for learner SQL on a real PostgreSQL: plans parse, data-modifying
//! statements are rolled back (also inside the learner's own transaction), more than one
//! statement is refused before anything runs, timed runs give a sane median, the catalog
//! facts for insights are read; and `pglab explain` end to end.

use pglab::db::console::ExecuteError;
use pglab::db::explain::{self as fetch, Analyze, Planner};
use pglab::testing::TestDb;
use sqlx::postgres::PgConnection;
use sqlx::{ConnectOptions, Connection};

use super::support::{Scratch, assert_success, stderr, stdout};

async fn post_count(conn: &mut PgConnection) -> i64 {
    sqlx::query_scalar("select count(*) from posts")
        .fetch_one(conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_select_is_explained_into_a_plan() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let sql = "select * from users where email = 'nobody@example.com'";
    let fetched = fetch::explain(&mut conn, sql, Analyze::Yes).await.unwrap();
    assert!(fetched.plan.analyzed);
    assert!(!fetched.rolled_back);
    assert!(
        fetched.plan.root().title().contains("users"),
        "{:?}",
        fetched.plan.root()
    );
    assert!(
        fetched.plan.root().buffers.is_some(),
        "BUFFERS was asked for"
    );

    let planned = fetch::explain(&mut conn, sql, Analyze::No).await.unwrap();
    assert!(!planned.plan.analyzed);
    assert!(!planned.rolled_back);
}

#[tokio::test]
async fn a_delete_is_explained_and_rolled_back() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let before = post_count(&mut conn).await;
    let id: i64 = sqlx::query_scalar("select min(id) from posts")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let delete = format!("delete from posts where id = {id}");
    let fetched = fetch::explain(&mut conn, &delete, Analyze::Yes)
        .await
        .unwrap();
    assert!(fetched.rolled_back);
    assert_eq!(fetched.plan.root().kind_label(), "Delete");
    assert_eq!(fetched.plan.root().metrics.rows.unwrap().value, 0.0);
    let still_there: bool = sqlx::query_scalar("select exists (select 1 from posts where id = $1)")
        .bind(id)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(still_there, "the explained delete removed the row");

    // A data-modifying CTE counts too.
    let cte = format!("with gone as ({delete} returning id) select count(*) from gone");
    assert!(
        fetch::explain(&mut conn, &cte, Analyze::Yes)
            .await
            .unwrap()
            .rolled_back
    );
    assert_eq!(post_count(&mut conn).await, before);

    // Inside the learner's own transaction only the EXPLAIN is undone, not their work.
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("delete from posts where id = (select max(id) from posts)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let fetched = fetch::explain(&mut tx, &delete, Analyze::Yes)
        .await
        .unwrap();
    assert!(fetched.rolled_back);
    assert_eq!(
        post_count(&mut tx).await,
        before - 1,
        "the learner's delete stays"
    );
    tx.rollback().await.unwrap();
    assert_eq!(post_count(&mut conn).await, before);
}

#[tokio::test]
async fn more_than_one_statement_is_refused_before_anything_runs() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let before = post_count(&mut conn).await;
    let two = "select 1; delete from posts";
    let err = fetch::explain(&mut conn, two, Analyze::Yes)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ExecuteError::NotOneStatement { found: 2 }),
        "{err:?}"
    );
    let err = fetch::compare_runs(&mut conn, two, 3, Planner::AsIs)
        .await
        .unwrap_err();
    assert!(matches!(err, ExecuteError::NotOneStatement { found: 2 }));
    assert_eq!(post_count(&mut conn).await, before);

    // A server error is the learner's to read, and the connection stays usable.
    let err = fetch::explain(&mut conn, "select * from nope", Analyze::Yes)
        .await
        .unwrap_err();
    let ExecuteError::Sql(failure) = err else {
        panic!("{err:?}")
    };
    assert_eq!(failure.sqlstate, "42P01");
    assert_eq!(post_count(&mut conn).await, before);
}

#[tokio::test]
async fn timed_runs_can_steer_the_planner_and_leave_no_setting_behind() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let by_id = "select title from posts where id = 1";
    let scans = |timings: &fetch::Timings| -> Vec<String> {
        let nodes = timings.plan.nodes.iter();
        nodes.map(|node| node.node_type.clone()).collect()
    };
    let forced = fetch::compare_runs(&mut conn, by_id, 1, Planner::NoSeqScan)
        .await
        .unwrap();
    assert!(
        scans(&forced).iter().any(|n| n.starts_with("Index")),
        "{:?}",
        scans(&forced)
    );
    let without = fetch::compare_runs(&mut conn, by_id, 1, Planner::NoIndexes)
        .await
        .unwrap();
    assert_eq!(scans(&without), ["Seq Scan"]);
    let (setting,): (String,) = sqlx::query_as("select current_setting('enable_indexscan')")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(setting, "on");
    // Inside the learner's own transaction the settings go with the savepoint, not later.
    sqlx::raw_sql("begin").execute(&mut conn).await.unwrap();
    fetch::compare_runs(&mut conn, by_id, 1, Planner::NoIndexes)
        .await
        .unwrap();
    let (setting,): (String,) = sqlx::query_as("select current_setting('enable_indexscan')")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(setting, "on");
    sqlx::raw_sql("rollback").execute(&mut conn).await.unwrap();
}

#[tokio::test]
async fn timed_runs_give_a_median_and_undo_their_changes() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let timings = fetch::compare_runs(&mut conn, "select count(*) from posts", 5, Planner::AsIs)
        .await
        .unwrap();
    assert_eq!(timings.runs_ms.len(), 5);
    assert!(!timings.rolled_back);
    let min = timings
        .runs_ms
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let max = timings.runs_ms.iter().copied().fold(0.0, f64::max);
    assert!(min > 0.0 && min <= timings.median_ms && timings.median_ms <= max);

    let before = post_count(&mut conn).await;
    let timings = fetch::compare_runs(&mut conn, "delete from posts", 3, Planner::AsIs)
        .await
        .unwrap();
    assert!(timings.rolled_back);
    assert_eq!(timings.runs_ms.len(), 3);
    assert_eq!(post_count(&mut conn).await, before);
}

#[tokio::test]
async fn the_catalog_gives_index_columns_and_foreign_keys() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let names = [
        "posts_organization_id_created_at_idx".to_string(),
        "users_pkey".to_string(),
        "no_such_index".to_string(),
    ];
    let columns = fetch::index_columns(&mut conn, &names).await.unwrap();
    assert_eq!(
        columns["posts_organization_id_created_at_idx"],
        ["organization_id", "created_at"]
    );
    assert_eq!(columns["users_pkey"], ["id"]);
    assert!(!columns.contains_key("no_such_index"));

    let keys = fetch::foreign_keys(&mut conn, &["posts_author_id_fkey".to_string()])
        .await
        .unwrap();
    let key = &keys["posts_author_id_fkey"];
    assert_eq!(
        (key.table.as_str(), key.columns.as_slice()),
        ("posts", &["author_id".to_string()][..])
    );
}

#[tokio::test]
async fn pglab_explain_prints_the_plan_its_insights_and_rollbacks() {
    let db = TestDb::create().await.unwrap();
    // A table large enough for a seq scan to be worth an index.
    let mut owner = db.owner_conn().await.unwrap();
    sqlx::raw_sql(
        "insert into users (organization_id, username, email)
             select 1, 'gen' || n, 'gen' || n || '@generated.test'
               from generate_series(1, 20000) n;
         analyze users;",
    )
    .execute(&mut owner)
    .await
    .unwrap();
    let url = db.owner.to_url_lossy().to_string();
    let lab = Scratch::new("explain");
    let run = |args: &[&str]| {
        lab.pglab()
            .env("DATABASE_URL", &url)
            .arg("explain")
            .args(args)
            .output()
            .unwrap()
    };

    let out = run(&["select * from users where username = 'gen777'"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("Seq Scan on users"), "{text}");
    assert!(text.contains("Why: Seq Scan on users read"), "{text}");
    assert!(
        text.contains("Fix: `create index on users (username);`"),
        "{text}"
    );
    assert!(!text.contains("rolled back"), "{text}");
    assert!(
        text.lines().all(|line| line.chars().count() <= 80),
        "{text}"
    );

    // Before and after an index: the second plan against the first, in 80 columns.
    let out = run(&[
        // the unique index on email is partial (live users only): only a query that says
        // so can use it
        "select * from users where email = 'gen777@generated.test' and deleted_at is null",
        "--before",
        "select * from users where username = 'gen777'",
    ]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(
        text.starts_with("before select * from users where username = 'gen777'\nafter  "),
        "{text}"
    );
    assert!(
        text.contains("Seq Scan on users → Index Scan using users_email_key on users"),
        "{text}"
    );
    assert!(
        text.contains("× faster") && text.contains(" │ after"),
        "{text}"
    );
    assert!(
        text.lines().all(|line| line.chars().count() <= 80),
        "{text}"
    );

    let out = run(&["delete from posts where id = (select min(id) from posts)"]);
    assert_success(&out);
    assert!(
        stdout(&out).contains("this statement changed data; it was rolled back"),
        "{}",
        stdout(&out)
    );

    let out = run(&["--no-analyze", "select * from users where id = 1"]);
    assert_success(&out);
    assert!(stdout(&out).contains("estimates only"), "{}", stdout(&out));

    let out = run(&["select * from nope"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("relation \"nope\" does not exist"),
        "{}",
        stderr(&out)
    );
    let out = run(&["select 1; select 2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("exactly one statement"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn a_before_triggers_time_is_counted_once() {
    // A BEFORE trigger runs inside the Insert node, whose time already includes it: the
    // triggers' total (what no node accounts for) must leave it out.
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    sqlx::raw_sql(
        "create function slow_title() returns trigger language plpgsql as
             $$ begin perform pg_sleep(0.02); return new; end $$;
         create trigger posts_slow_title before insert on posts
             for each row execute function slow_title();",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let insert = "insert into posts (organization_id, author_id, title)
        select organization_id, id, 'x' from users order by id limit 1";
    let plan = fetch::explain(&mut conn, insert, Analyze::Yes)
        .await
        .unwrap()
        .plan;
    let slow = plan
        .triggers
        .iter()
        .find(|t| t.name == "posts_slow_title")
        .unwrap();
    assert!(slow.before, "{:?}", plan.triggers);
    let after_ms: f64 = plan
        .triggers
        .iter()
        .filter(|t| t.name != "posts_slow_title")
        .filter_map(|t| t.time_ms)
        .sum();
    assert!((plan.trigger_ms() - after_ms).abs() < 1e-9);
    // The Insert node's time holds the sleep: nothing is left unattributed below zero.
    assert!(plan.unattributed_ms().unwrap() >= 0.0, "{plan:#?}");
}
