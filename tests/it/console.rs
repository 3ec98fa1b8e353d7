//! The console on a real server: learner SQL as typed, results as text, errors as data,
//! cancelling, and plan node types.

use std::time::Duration;

use pglab::data::ServerError;
use pglab::data::console::Outcome;
use pglab::db::console::{self, Console, ExecuteError};
use pglab::testing::TestDb;

async fn console() -> (TestDb, Console) {
    let db = TestDb::create().await.unwrap();
    let console = Console::connect(&db.learner).await.unwrap();
    (db, console)
}

fn failure(result: Result<Outcome, ExecuteError>) -> ServerError {
    match result {
        Err(ExecuteError::Sql(failure)) => failure,
        other => panic!("expected an SQL failure, got {other:?}"),
    }
}

#[tokio::test]
async fn values_of_every_type_arrive_as_postgres_text() {
    let (_db, mut console) = console().await;
    let outcome = console
        .execute(
            "select 42 as n, 'héllo' as t, null::text as nothing, \
             timestamptz '2026-01-05 09:00+00' at time zone 'UTC' as local, \
             '{\"a\": [1, 2]}'::jsonb as doc, 12.50::numeric as price, true as yes",
            100,
        )
        .await
        .unwrap();
    assert_eq!(outcome.statements.len(), 1);
    let result = &outcome.statements[0].result;
    assert_eq!(
        result.columns,
        ["n", "t", "nothing", "local", "doc", "price", "yes"]
    );
    assert_eq!(
        result.rows,
        [vec![
            Some("42".to_string()),
            Some("héllo".to_string()),
            None,
            Some("2026-01-05 09:00:00".to_string()),
            Some("{\"a\": [1, 2]}".to_string()),
            Some("12.50".to_string()),
            Some("t".to_string()),
        ]]
    );
    assert_eq!(outcome.statements[0].rows_affected, 1);
}

#[tokio::test]
async fn a_timestamptz_is_shown_in_the_session_time_zone() {
    let (_db, mut console) = console().await;
    let outcome = console
        .execute(
            "set time zone 'UTC'; select created_at from organizations where slug = 'acme'",
            10,
        )
        .await
        .unwrap();
    let rows = &outcome.statements[1].result.rows;
    assert_eq!(rows, &[vec![Some("2026-01-05 09:00:00+00".to_string())]]);
}

#[tokio::test]
async fn a_script_returns_one_result_per_statement() {
    let (_db, mut console) = console().await;
    let outcome = console
        .execute(
            "select username from users where id <= 2 order by id;\n\
             update posts set title = title where author_id = 1;\n\
             select count(*) as n from organizations;",
            10,
        )
        .await
        .unwrap();
    let counts: Vec<u64> = outcome.statements.iter().map(|s| s.rows_affected).collect();
    assert_eq!(counts, [2, 3, 1]);
    assert_eq!(outcome.statements[0].result.columns, ["username"]);
    assert_eq!(
        outcome.statements[0].result.rows,
        [
            vec![Some("alice".to_string())],
            vec![Some("bob".to_string())]
        ]
    );
    // The UPDATE returned no rows, so it has neither rows nor column names.
    assert!(outcome.statements[1].result.rows.is_empty());
    assert_eq!(
        outcome.statements[2].result.rows,
        [vec![Some("3".to_string())]]
    );
}

/// A script goes one statement per round trip, as psql sends it: what ran before a failing
/// statement stays done, and the error's caret is counted in the whole text.
#[tokio::test]
async fn a_script_runs_statement_by_statement_and_its_caret_counts_the_whole_text() {
    let (db, mut console) = console().await;
    let sql = "update posts set title = 'Renamed ☃' where id = 1;\n-- and then\nselect usernme from users;";
    let error = failure(console.execute(sql, 10).await);
    assert_eq!(error.sqlstate, "42703");
    let caret = error
        .caret_line(sql)
        .expect("the position falls in the text");
    assert_eq!((caret.line, caret.column), (3, 7), "{error:?}");
    let mut check = db.learner_conn().await.unwrap();
    let title: String = sqlx::query_scalar("select title from posts where id = 1")
        .fetch_one(&mut check)
        .await
        .unwrap();
    assert_eq!(title, "Renamed ☃");
}

#[tokio::test]
async fn dml_reports_the_rows_it_changed() {
    let (_db, mut console) = console().await;
    let outcome = console
        .execute(
            "insert into organizations (name, slug, plan) values ('A', 'a', 'free'), ('B', 'b', 'pro')",
            10,
        )
        .await
        .unwrap();
    assert_eq!(outcome.statements[0].rows_affected, 2);
    let outcome = console
        .execute("delete from organizations where slug in ('a', 'b')", 10)
        .await
        .unwrap();
    assert_eq!(outcome.statements[0].rows_affected, 2);
}

#[tokio::test]
async fn rows_past_the_limit_are_counted_not_kept() {
    let (_db, mut console) = console().await;
    let outcome = console
        .execute("select g from generate_series(1, 50) g", 5)
        .await
        .unwrap();
    let statement = &outcome.statements[0];
    assert_eq!(statement.result.rows.len(), 5);
    assert!(statement.truncated);
    assert_eq!(statement.rows_affected, 50);
    let outcome = console
        .execute("select g from generate_series(1, 5) g", 5)
        .await
        .unwrap();
    assert!(!outcome.statements[0].truncated);
}

#[tokio::test]
async fn a_syntax_error_points_at_its_line_and_column() {
    let (_db, mut console) = console().await;
    let sql = "select 'naïve ☃' as title,\n       usernme frm users";
    let failure = failure(console.execute(sql, 10).await);
    assert_eq!(failure.sqlstate, "42601");
    assert_eq!(failure.severity, "ERROR");
    assert!(failure.message.contains("syntax error"), "{failure:?}");
    let caret = failure.caret_line(sql).unwrap();
    assert_eq!(caret.line, 2);
    assert_eq!(caret.text, "       usernme frm users");
    // The server points at `users`, the token after `frm`: column counted in characters,
    // though line 1 holds multi-byte characters.
    assert_eq!(&caret.text[caret.column..], "users");
    // The console keeps working after an error.
    let outcome = console.execute("select 1", 10).await.unwrap();
    assert_eq!(outcome.statements.len(), 1);
}

#[tokio::test]
async fn a_foreign_key_violation_carries_its_detail() {
    let (_db, mut console) = console().await;
    let failure = failure(
        console
            .execute(
                "insert into posts (organization_id, author_id, title) values (1, 999, 'x')",
                10,
            )
            .await,
    );
    assert_eq!(failure.sqlstate, "23503");
    let detail = failure.detail.unwrap();
    assert!(detail.contains("999"), "{detail}");
    assert_eq!(failure.position, None);
}

#[tokio::test]
async fn an_undefined_column_may_come_with_a_hint() {
    let (_db, mut console) = console().await;
    let failure = failure(console.execute("select usernam from users", 10).await);
    assert_eq!(failure.sqlstate, "42703");
    let hint = failure.hint.unwrap();
    assert!(hint.contains("username"), "{hint}");
    assert_eq!(failure.position, Some(8));
}

#[tokio::test]
async fn a_running_statement_can_be_cancelled() {
    let (db, mut console) = console().await;
    let pid = console.backend_pid();
    let running = tokio::spawn(async move { console.execute("select pg_sleep(30)", 10).await });
    // The cancel may land before the sleep starts: ask again until the statement ends.
    let result = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            console::cancel(&db.learner, &[pid]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            if running.is_finished() {
                return running.await.unwrap();
            }
        }
    })
    .await
    .expect("the cancelled statement ended well before its 30 s");
    assert_eq!(failure(result).sqlstate, "57014");
}

#[tokio::test]
async fn plan_node_types_name_every_node_of_the_tree() {
    let (_db, mut console) = console().await;
    // The story's tables are tiny; steer the planner to the join a lesson would check for.
    console
        .execute("set enable_nestloop = off; set enable_mergejoin = off", 10)
        .await
        .unwrap();
    let types = console::plan_node_types(
        console.connection(),
        "select p.title, u.username from posts p join users u on u.id = p.author_id",
    )
    .await
    .unwrap();
    assert_eq!(types[0], "Hash Join", "{types:?}");
    assert!(types.iter().any(|t| t == "Hash"), "{types:?}");
    // Planned, never run: a DELETE's plan does not delete.
    let types = console::plan_node_types(console.connection(), "delete from audit_logs;")
        .await
        .unwrap();
    assert_eq!(types[0], "ModifyTable");
}

#[tokio::test]
async fn plan_node_types_refuse_anything_but_one_statement() {
    let (_db, mut console) = console().await;
    let err = console::plan_node_types(console.connection(), "select 1; select 2")
        .await
        .unwrap_err();
    assert!(
        matches!(err, ExecuteError::NotOneStatement { found: 2 }),
        "{err}"
    );
    assert!(err.to_string().contains("exactly one statement"));
    let err = console::plan_node_types(console.connection(), "  ")
        .await
        .unwrap_err();
    assert!(
        matches!(err, ExecuteError::NotOneStatement { found: 0 }),
        "{err}"
    );
    let err = console::plan_node_types(console.connection(), "select * from nowhere")
        .await
        .unwrap_err();
    assert!(
        matches!(err, ExecuteError::Sql(ref f) if f.sqlstate == "42P01"),
        "{err}"
    );
}

#[tokio::test]
async fn a_query_that_found_nothing_still_has_its_column_names() {
    let (db, mut console) = console().await;
    let empty = "select id, title from posts where false";
    let outcome = console.execute(empty, 100).await.unwrap();
    assert!(
        outcome.statements[0].result.columns.is_empty(),
        "the simple protocol sends no columns without a row"
    );
    assert_eq!(
        console::columns_of(&db.learner, empty).await.as_deref(),
        Some(&["id".to_string(), "title".to_string()][..])
    );
    // Only one read-only query is prepared; a write is never touched.
    assert_eq!(
        console::columns_of(&db.learner, "delete from posts").await,
        None
    );
    assert_eq!(
        console::columns_of(&db.learner, "select 1; select 2").await,
        None
    );
    // A table only the console's session knows cannot be described elsewhere.
    console
        .execute("create temporary table scratch (x int)", 10)
        .await
        .unwrap();
    assert_eq!(
        console::columns_of(&db.learner, "select x from scratch").await,
        None
    );
}
