//! The schema map read from a real catalog as the learner: the blog's tables, columns and
//! foreign keys, what the role may not see, a table the learner creates, and
//! `pglab schema` end to end (a golden text of the blog's tables, an unknown table refused).

use pglab::data::schema::text;
use pglab::db::LESSON_SCHEMA;
use pglab::testing::TestDb;
use sqlx::ConnectOptions;

use super::support::{Scratch, assert_success, stderr, stdout};

fn plain(lines: &[text::MapLine]) -> String {
    let lines: Vec<&str> = lines.iter().map(|l| l.text.trim_end()).collect();
    lines.join("\n")
}

#[tokio::test]
async fn the_learner_sees_the_blog_and_its_foreign_keys_but_not_the_data_directory() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let map = pglab::db::schema::read(&mut conn, LESSON_SCHEMA, &[])
        .await
        .unwrap();
    assert_eq!(map.server.data_directory, None, "a superuser-only setting");
    let current = map.databases.iter().find(|d| d.current).unwrap();
    assert!(current.size_bytes.is_some_and(|b| b > 0));
    for table in ["organizations", "users", "posts"] {
        assert!(map.table(table).is_some(), "{table}");
    }
    let posts = map.table("posts").unwrap();
    let author = posts.foreign_key_of("author_id").unwrap();
    assert_eq!(
        (author.references.as_str(), author.on_delete.as_str()),
        ("users", "restrict")
    );
    let id = &posts.columns[0];
    assert!(id.primary_key && id.not_null);
    assert_eq!(id.default.as_deref(), Some("identity"));
    let out = plain(&text::lines(&map, &[]));
    assert!(
        out.contains("data directory  not visible to this role"),
        "{out}"
    );
    assert!(
        out.contains("users.organization_id  →  organizations.id"),
        "{out}"
    );
}

#[tokio::test]
async fn a_table_the_learner_creates_is_on_the_map_with_its_arrow() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    sqlx::raw_sql(
        "create table comments (
             id bigint generated always as identity primary key,
             post_id bigint not null references posts (id) on delete cascade,
             body text not null default ''
         )",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let map = pglab::db::schema::read(&mut conn, LESSON_SCHEMA, &[])
        .await
        .unwrap();
    let out = plain(&text::lines(&map, &["comments".into()]));
    assert!(out.contains("┌─ comments"), "{out}");
    assert!(out.contains("→ posts.id"), "{out}");
    assert!(
        out.contains("comments.post_id  →  posts.id  on delete cascade"),
        "{out}"
    );
}

#[tokio::test]
async fn pglab_schema_prints_the_blogs_tables_and_refuses_an_unknown_one() {
    let db = TestDb::create().await.unwrap();
    let url = db.owner.to_url_lossy().to_string();
    let lab = Scratch::new("schema-map");
    let run = |args: &[&str]| {
        lab.pglab()
            .env("DATABASE_URL", &url)
            .env("NO_COLOR", "1")
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["schema", "organizations", "users", "posts"]);
    assert_success(&out);
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("pglab_schema_blog", stdout(&out));
    });
    let whole = run(&["schema"]);
    assert_success(&whole);
    let text = stdout(&whole);
    for needle in [
        "server (what this role can read)",
        "schemas in",
        "┌─ audit_logs",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    let unknown = run(&["schema", "comments"]);
    assert_eq!(unknown.status.code(), Some(4));
    let message = stderr(&unknown);
    assert!(message.contains("no table comments"), "{message}");
    assert!(message.contains("organizations, posts"), "{message}");
}

#[tokio::test]
async fn the_map_is_bounded_and_says_what_it_left_out() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let extra = pglab::data::schema::MAX_DRAWN_TABLES + 10;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "do $$ begin for i in 1..{extra} loop
             execute format('create table zz_%s (id int)', lpad(i::text, 3, '0'));
         end loop; end $$"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    let map = pglab::db::schema::read(&mut conn, LESSON_SCHEMA, &[])
        .await
        .unwrap();
    assert_eq!(map.tables.len(), pglab::data::schema::MAX_DRAWN_TABLES);
    let lab = map
        .schemas
        .iter()
        .find(|s| s.name == LESSON_SCHEMA)
        .unwrap();
    assert_eq!(map.tables_left_out, lab.table_count - map.tables.len());
    let out = plain(&text::lines(&map, &[]));
    assert!(
        out.contains(&format!(
            "… and {} more tables, not drawn",
            map.tables_left_out
        )),
        "{out}"
    );
    // A table past the bound is still drawn when asked for by name.
    let last = format!("zz_{extra:03}");
    let asked = std::slice::from_ref(&last);
    let map = pglab::db::schema::read(&mut conn, LESSON_SCHEMA, asked)
        .await
        .unwrap();
    let out = plain(&text::lines(&map, asked));
    assert!(out.contains(&format!("┌─ {last}")), "{out}");
}
