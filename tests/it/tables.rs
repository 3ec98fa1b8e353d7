//! The tables view read from a real database as the learner: the columns chosen from the
//! catalog, each row's tenant and deleted mark, the foreign keys between the chosen
//! tables, the row cap, names refused or not found, a table the learner made with an
//! awkward name and multi-line text; and `pglab tables` end to end (a golden text of the
//! story, an unknown table refused with the tables there are).

use pglab::data::tables::{MAX_ROWS, text};
use pglab::db::LESSON_SCHEMA;
use pglab::testing::TestDb;
use sqlx::ConnectOptions;

use super::support::{Scratch, assert_success, stderr, stdout};

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn the_story_reads_with_tenants_deleted_marks_and_foreign_keys() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let wanted = names(&["organizations", "users", "posts"]);
    let snapshot = pglab::db::tables::read(&mut conn, LESSON_SCHEMA, &wanted)
        .await
        .unwrap();
    let order: Vec<&str> = snapshot.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(order, ["organizations", "users", "posts"]);
    let [orgs, users, posts] = &snapshot.tables[..] else {
        unreachable!()
    };
    assert_eq!(orgs.columns, ["id", "name"]);
    assert_eq!(users.columns, ["id", "organization_id", "username"]);
    assert_eq!(
        posts.columns,
        ["id", "organization_id", "author_id", "title"]
    );
    // Organizations are their own tenants; the others carry organization_id.
    assert_eq!(orgs.tenant_column, Some(0));
    assert_eq!(posts.tenant_column, Some(1));
    assert!(
        orgs.rows
            .iter()
            .all(|r| r.tenant == r.cells[0].as_ref().and_then(|c| c.parse().ok()))
    );
    assert!(!orgs.soft_deletes && users.soft_deletes && posts.soft_deletes);
    // The story's one withdrawn post is marked; nobody else is.
    let deleted: Vec<_> = posts.rows.iter().filter(|r| r.deleted).collect();
    assert_eq!(deleted.len(), 1);
    assert!(users.rows.iter().all(|r| !r.deleted));
    assert_eq!((posts.rows.len(), posts.more), (18, 0));
    let links: Vec<String> = snapshot.links.iter().map(|l| l.label()).collect();
    for expected in [
        "users.organization_id → organizations.id",
        "posts.organization_id → organizations.id",
        "posts.author_id → users.id",
    ] {
        assert!(links.iter().any(|l| l == expected), "{links:?}");
    }
    // A change is there on the next read: a soft delete made in another session.
    let mut other = db.learner_conn().await.unwrap();
    sqlx::query("update users set deleted_at = now() where username = 'bob'")
        .execute(&mut other)
        .await
        .unwrap();
    let again = pglab::db::tables::read(&mut conn, LESSON_SCHEMA, &names(&["users"]))
        .await
        .unwrap();
    let bob = again.tables[0]
        .rows
        .iter()
        .find(|r| r.cells[2].as_deref() == Some("bob"))
        .unwrap();
    assert!(bob.deleted);
    assert!(
        again.links.is_empty(),
        "organizations is not among the tables"
    );
}

#[tokio::test]
async fn names_are_checked_and_a_missing_table_is_named_with_those_there_are() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let error = pglab::db::tables::read(&mut conn, LESSON_SCHEMA, &names(&["users", "comments"]))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("no table comments in schema lab"), "{error}");
    assert!(error.contains("organizations, posts"), "{error}");
    let error = pglab::db::tables::read(&mut conn, LESSON_SCHEMA, &names(&["users; drop"]))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("is not a table name"), "{error}");
}

#[tokio::test]
async fn a_long_table_is_cut_and_odd_values_stay_on_one_line() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    sqlx::raw_sql(
        "create table notes (
             \"id\" bigint generated always as identity primary key,
             post_id bigint references posts (id),
             body text
         );
         insert into notes (post_id, body)
         select 1, case when i = 1 then E'two\\nlines' end from generate_series(1, 50) i;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let snapshot = pglab::db::tables::read(&mut conn, LESSON_SCHEMA, &names(&["notes", "posts"]))
        .await
        .unwrap();
    let notes = &snapshot.tables[0];
    // No naming column: id and the foreign key; no tenant, no deleted mark.
    assert_eq!(notes.columns, ["id", "post_id"]);
    assert_eq!(notes.tenant_column, None);
    assert_eq!((notes.rows.len(), notes.more), (MAX_ROWS, 50 - MAX_ROWS));
    let out: Vec<String> = text::lines(&snapshot, 120, None)
        .iter()
        .map(|l| l.text())
        .collect();
    let out = out.join("\n");
    assert!(
        out.contains(&format!("+{} more rows", 50 - MAX_ROWS)),
        "{out}"
    );
    assert!(out.contains("notes.post_id → posts.id"), "{out}");
    // A table of only a text column shows it, a line break flattened.
    sqlx::raw_sql(
        "create table scribbles (body text); insert into scribbles values (E'a\\nb'), (null);",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let snapshot = pglab::db::tables::read(&mut conn, LESSON_SCHEMA, &names(&["scribbles"]))
        .await
        .unwrap();
    let cells: Vec<Option<String>> = snapshot.tables[0]
        .rows
        .iter()
        .map(|r| r.cells[0].clone())
        .collect();
    assert!(cells.contains(&Some("a b".into())), "{cells:?}");
    assert!(cells.contains(&None), "{cells:?}");
}

#[tokio::test]
async fn pglab_tables_prints_the_story_and_refuses_an_unknown_table() {
    let db = TestDb::create().await.unwrap();
    let url = db.owner.to_url_lossy().to_string();
    let lab = Scratch::new("tables-view");
    let run = |args: &[&str]| {
        lab.pglab()
            .env("DATABASE_URL", &url)
            .env("NO_COLOR", "1")
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["tables"]);
    assert_success(&out);
    let text = stdout(&out);
    // Plain text: the marks carry the meaning, no escape codes.
    assert!(!text.contains('\u{1b}'), "{text}");
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("pglab_tables_story", text);
    });
    let one = run(&["tables", "users"]);
    assert_success(&one);
    assert!(
        stdout(&one).contains("┌─ users (10 rows)"),
        "{}",
        stdout(&one)
    );
    let unknown = run(&["tables", "comments"]);
    assert_eq!(unknown.status.code(), Some(4));
    let message = stderr(&unknown);
    assert!(message.contains("no table comments"), "{message}");
    assert!(message.contains("organizations, posts"), "{message}");
    let too_many = run(&["tables", "a", "b", "c", "d", "e"]);
    assert_eq!(too_many.status.code(), Some(4));
    assert!(
        stderr(&too_many).contains("1 to 4 tables"),
        "{}",
        stderr(&too_many)
    );
}

/// A lesson step with `opens = "tables"` prints the view in the plain-text runner.
#[tokio::test]
async fn a_step_that_opens_the_tables_prints_them_in_the_lesson_runner() {
    let db = TestDb::create().await.unwrap();
    let url = db.owner.to_url_lossy().to_string();
    let lab = Scratch::new("tables-lesson");
    let lessons = lab.dir.join("lessons");
    std::fs::create_dir_all(lessons.join("tenants")).unwrap();
    std::fs::write(
        lessons.join("index.toml"),
        "format_version = 1\n\n[[lesson]]\nid = \"tenants\"\ndir = \"tenants\"\n",
    )
    .unwrap();
    std::fs::write(
        lessons.join("tenants/lesson.toml"),
        "title = \"Tenants\"\ndiagram = 4\nsummary = \"Whose rows are whose.\"\nminutes = 5\n\
         [[step]]\nkind = \"read\"\ntitle = \"The rows\"\ntext = \"01.md\"\n\
         opens = \"tables\"\ntables = [\"users\", \"posts\"]\n",
    )
    .unwrap();
    std::fs::write(
        lessons.join("tenants/01.md"),
        "Each row names its tenant.\n",
    )
    .unwrap();
    let out = lab
        .pglab()
        .env("DATABASE_URL", &url)
        .env("PGLAB_LESSONS", &lessons)
        .env("NO_COLOR", "1")
        .args(["lessons", "run", "tenants"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("┌─ users (10 rows)"), "{text}");
    assert!(text.contains("✗ 18"), "{text}");
    assert!(text.contains("posts.author_id → users.id"), "{text}");
    assert!(!text.contains("┌─ organizations"), "{text}");
}
