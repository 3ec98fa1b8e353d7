//! The audit trail and soft deletes on a real server: what the trigger captures (old, new,
//! changed columns, actor and address per transaction, redaction), the append-only log, the
//! partial unique email index, purge into the archive, reading and filtering events,
//! LISTEN, and the application's own log beside the trigger's.

use std::net::IpAddr;
use std::time::Duration;

use chrono::TimeDelta;
use pglab::audit::filter::Window;
use pglab::audit::{Capture, Filter, Operation, REDACTED};
use pglab::db::audit::{
    self, Actor, AppAction, AppChange, SoftTable, begin_as, within_actor, within_system,
};
use pglab::testing::TestDb;
use serde_json::{Value, json};
use sqlx::postgres::PgConnection;

use super::schema::sqlstate;

fn on_private_cluster() -> bool {
    std::env::var_os("DATABASE_URL").is_none()
}

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap())
}

/// Every event of one row, oldest first.
async fn history(conn: &mut PgConnection, table: &str, id: i64) -> Vec<pglab::audit::AuditEvent> {
    let filter = Filter {
        record: Some((table.into(), id)),
        ..Filter::default()
    };
    let mut events = audit::events(conn, &filter, 50).await.unwrap();
    events.reverse();
    events
}

async fn count_events(conn: &mut PgConnection) -> i64 {
    let (n,): (i64,) = sqlx::query_as("select count(*) from audit.events")
        .fetch_one(conn)
        .await
        .unwrap();
    n
}

#[tokio::test]
async fn the_log_starts_empty_and_captures_insert_update_delete() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    assert_eq!(
        count_events(&mut conn).await,
        0,
        "the story seed is not audited"
    );

    let actor = Actor {
        id: 1,
        client_addr: ip("203.0.113.7"),
    };
    let id = within_actor(&mut conn, actor, async |tx| {
        let (id,): (i64,) = sqlx::query_as(
            "insert into posts (organization_id, author_id, title) values (1, 1, 'Draft') \
             returning id",
        )
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        sqlx::query("update posts set title = 'Final' where id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("delete from posts where id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .unwrap();
        Ok(id)
    })
    .await
    .unwrap();

    let events = history(&mut conn, "posts", id).await;
    let actions: Vec<Operation> = events.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [Operation::Insert, Operation::Update, Operation::Delete]
    );
    for event in &events {
        assert_eq!(event.capture, Capture::Trigger);
        assert_eq!(event.actor_id, Some(1));
        assert_eq!(event.client_addr.as_deref(), Some("203.0.113.7"));
        assert_eq!(event.organization_id, Some(1));
        assert!(event.db_user.is_some());
    }
    let [insert, update, delete] = &events[..] else {
        unreachable!()
    };
    assert!(insert.old.is_none());
    assert_eq!(insert.new.as_ref().unwrap()["title"], json!("Draft"));
    assert!(insert.changed.is_empty());
    assert_eq!(update.old.as_ref().unwrap()["title"], json!("Draft"));
    assert_eq!(update.new.as_ref().unwrap()["title"], json!("Final"));
    // updated_at is now(), the transaction's start: the same instant as the insert's
    assert_eq!(update.changed, ["title"]);
    assert_eq!(delete.old.as_ref().unwrap()["title"], json!("Final"));
    assert!(delete.new.is_none());
}

#[tokio::test]
async fn an_update_that_changes_nothing_writes_nothing() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    sqlx::query("update posts set title = title where organization_id = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(count_events(&mut conn).await, 0);
    let (moved,): (i64,) = sqlx::query_as(
        "select count(*) from posts where updated_at > '2026-04-01' and organization_id = 1",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(moved, 0, "updated_at stays when nothing changed");
}

#[tokio::test]
async fn actor_and_address_end_with_their_transaction() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let actor = Actor {
        id: 2,
        client_addr: ip("198.51.100.4"),
    };
    let mut tx = begin_as(&mut conn, actor).await.unwrap();
    sqlx::query("update users set username = 'bobby' where id = 2")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // the next transaction on the same connection: nothing declared, like psql
    sqlx::query("update users set username = 'robert' where id = 2")
        .execute(&mut conn)
        .await
        .unwrap();

    let events = history(&mut conn, "users", 2).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].actor_id, Some(2));
    assert_eq!(events[0].client_addr.as_deref(), Some("198.51.100.4"));
    assert_eq!(
        events[1].actor_id, None,
        "the actor leaked: {:?}",
        events[1]
    );
    assert_ne!(events[1].client_addr.as_deref(), Some("198.51.100.4"));
    let (me,): (String,) = sqlx::query_as("select session_user::text")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(events[1].db_user.as_deref(), Some(me.as_str()));
}

#[tokio::test]
async fn a_rolled_back_change_leaves_no_event_and_a_bad_actor_is_refused() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let failed = within_actor(
        &mut conn,
        Actor {
            id: 1,
            client_addr: None,
        },
        async |tx| {
            sqlx::query("update users set username = 'x' where id = 1")
                .execute(&mut *tx)
                .await
                .unwrap();
            Err::<(), _>(pglab::db::Error::Refused("changed my mind".into()))
        },
    )
    .await;
    assert!(failed.is_err());
    assert_eq!(count_events(&mut conn).await, 0);

    let error = sqlx::raw_sql(
        "begin; select set_config('pglab.actor_id', 'alice', true);
         update users set username = 'x' where id = 1;",
    )
    .execute(&mut conn)
    .await
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("pglab.actor_id must be a user id"),
        "{error}"
    );
}

#[tokio::test]
async fn a_system_actor_is_recorded_by_name_never_beside_a_user() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    within_system(&mut conn, audit::LAB_RESET, async |tx| {
        sqlx::query("update users set username = 'chuck' where id = 3")
            .execute(&mut *tx)
            .await
            .unwrap();
        Ok(())
    })
    .await
    .unwrap();
    // The name ends with its transaction, like a user's id.
    sqlx::query("update users set username = 'charlie' where id = 3")
        .execute(&mut conn)
        .await
        .unwrap();
    let events = history(&mut conn, "users", 3).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].system_actor.as_deref(), Some("pglab (reset)"));
    assert_eq!(events[0].actor_id, None);
    assert_eq!(events[1].system_actor, None, "{:?}", events[1]);

    for (settings, needle) in [
        (
            "select set_config('pglab.actor_id', '1', true),
                    set_config('pglab.system_actor', 'nightly job', true)",
            "a change has one actor",
        ),
        (
            "select set_config('pglab.system_actor', E'job\\nforged line', true)",
            "a short name on one line",
        ),
    ] {
        let error = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "begin; {settings}; update users set username = 'x' where id = 1;"
        )))
        .execute(&mut conn)
        .await
        .unwrap_err();
        assert_eq!(sqlstate(&error), "22023", "{error}");
        assert!(error.to_string().contains(needle), "{error}");
        sqlx::raw_sql("rollback").execute(&mut conn).await.unwrap();
    }
    assert_eq!(count_events(&mut conn).await, 2);
}

#[tokio::test]
async fn password_hashes_are_redacted_but_their_change_is_named() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    sqlx::query("update users set password_hash = '$argon2id$new-fake' where id = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    let events = history(&mut conn, "users", 1).await;
    let update = &events[0];
    // password_hash was added after updated_at, and changed lists columns in table order
    assert_eq!(update.changed, ["updated_at", "password_hash"]);
    assert_eq!(
        update.old.as_ref().unwrap()["password_hash"],
        json!(REDACTED)
    );
    assert_eq!(
        update.new.as_ref().unwrap()["password_hash"],
        json!(REDACTED)
    );
    let (raw,): (String,) =
        sqlx::query_as("select old_values::text || new_values::text from audit.events")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(!raw.contains("argon2"), "a hash reached the log: {raw}");
}

#[tokio::test]
async fn nobody_may_change_or_remove_an_audit_event() {
    let db = TestDb::create().await.unwrap();
    let mut learner = db.learner_conn().await.unwrap();
    sqlx::query("update posts set title = 'changed' where id = 1")
        .execute(&mut learner)
        .await
        .unwrap();
    // With DATABASE_URL the learner is the URL's role, which owns the log and may add to
    // it; only the log's triggers stand between it and a rewrite.
    let mut attempts = vec![
        "update audit.events set actor_id = 99",
        "delete from audit.events",
        "truncate audit.events",
    ];
    if on_private_cluster() {
        attempts.push("insert into audit.events (table_name, action) values ('users', 'insert')");
    }
    for attempt in attempts {
        let error = sqlx::query(attempt)
            .execute(&mut learner)
            .await
            .unwrap_err();
        assert_eq!(sqlstate(&error), "42501", "{attempt}: {error}");
        if on_private_cluster() {
            assert!(
                error
                    .to_string()
                    .contains("permission denied for table events"),
                "{attempt}: {error}"
            );
        }
    }
    // the owner holds every privilege, and is refused by the log's own triggers
    let mut owner = db.owner_conn().await.unwrap();
    for (attempt, verb) in [
        ("update audit.events set actor_id = 99", "UPDATE"),
        ("delete from audit.events", "DELETE"),
        ("truncate audit.events", "TRUNCATE"),
    ] {
        let error = sqlx::query(attempt).execute(&mut owner).await.unwrap_err();
        assert_eq!(sqlstate(&error), "42501", "{attempt}: {error}");
        let message = error.to_string();
        assert!(
            message.contains("the audit log is append-only")
                && message.contains(&format!("{verb} on audit.events is refused")),
            "{attempt}: {message}"
        );
    }
    assert_eq!(count_events(&mut owner).await, 1);
}

#[tokio::test]
async fn the_learner_owns_nothing_in_the_audit_schema_and_can_track_its_tables() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    if on_private_cluster() {
        let (owned,): (i64,) = sqlx::query_as(
            "select (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
                      where n.nspname = 'audit' and c.relowner = current_user::regrole)
                  + (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                      where n.nspname = 'audit' and p.proowner = current_user::regrole)
                  + (select count(*) from pg_namespace
                      where nspname = 'audit' and nspowner = current_user::regrole)",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(owned, 0);
    }
    sqlx::raw_sql(
        "create table notes (id bigint generated always as identity primary key,
                             organization_id bigint, body text);
         select audit.track('notes');
         select audit.track('notes');
         insert into notes (organization_id, body) values (2, 'hello');",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let events = history(&mut conn, "notes", 1).await;
    assert_eq!(events.len(), 1, "tracked once, however often asked");
    assert_eq!(events[0].organization_id, Some(2));
    sqlx::raw_sql("select audit.untrack('notes'); insert into notes (body) values ('quiet');")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(history(&mut conn, "notes", 2).await.len(), 0);
}

#[tokio::test]
async fn a_deleted_users_email_can_be_taken_again_and_restore_says_why_not() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let insert_bob = "insert into users (organization_id, username, email)
                      values (1, 'bob2', 'bob@acme.test')";
    let error = sqlx::query(insert_bob)
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&error), "23505", "{error}");

    assert!(
        audit::soft_delete(&mut conn, SoftTable::Users, 2)
            .await
            .unwrap()
    );
    assert!(
        !audit::soft_delete(&mut conn, SoftTable::Users, 2)
            .await
            .unwrap()
    );
    let (new_bob,): (i64,) = sqlx::query_as(
        "insert into users (organization_id, username, email)
         values (1, 'bob2', 'bob@acme.test') returning id",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();

    // upsert on a partial unique index must repeat its predicate
    let done = sqlx::query(
        "insert into users (organization_id, username, email)
         values (1, 'bob3', 'bob@acme.test') on conflict (email) where deleted_at is null do nothing",
    )
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 0);
    let error = sqlx::query(
        "insert into users (organization_id, username, email)
         values (1, 'bob3', 'bob@acme.test') on conflict (email) do nothing",
    )
    .execute(&mut conn)
    .await
    .unwrap_err();
    assert_eq!(sqlstate(&error), "42P10");
    assert!(
        error
            .to_string()
            .contains("there is no unique or exclusion constraint matching the ON CONFLICT"),
        "{error}"
    );

    let refused = audit::restore(&mut conn, SoftTable::Users, 2)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("bob@acme.test") && refused.contains(&format!("live user {new_bob};")),
        "{refused}"
    );
    sqlx::query("update users set email = 'bob.new@acme.test' where id = $1")
        .bind(new_bob)
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(
        audit::restore(&mut conn, SoftTable::Users, 2)
            .await
            .unwrap()
    );
    assert!(
        !audit::restore(&mut conn, SoftTable::Users, 2)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn purge_archives_old_deletions_posts_first_and_keeps_referenced_users() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    // erin (5) wrote the withdrawn post 18 and a live one; frank (6) one live post;
    // heidi (8) wrote post 15. Deleted long ago: post 18, posts 15 and 11... and users.
    sqlx::raw_sql(
        "update posts set deleted_at = now() - interval '40 days' where id in (15, 18);
         update posts set deleted_at = now() - interval '1 day' where id = 11;
         update users set deleted_at = now() - interval '40 days' where id in (5, 6, 8);",
    )
    .execute(&mut conn)
    .await
    .unwrap();

    let purged = audit::purge(&mut conn, Duration::from_secs(30 * 86_400))
        .await
        .unwrap();
    assert_eq!(purged.posts, 2);
    assert_eq!(purged.users, 1, "{purged:?}");
    // erin still has a live post (5); frank's post 11 was deleted only yesterday
    assert_eq!(purged.users_kept, [5, 6]);

    let (archived_posts, archived_users, left): (Vec<i64>, Vec<i64>, i64) = sqlx::query_as(
        "select array(select id from posts_archive order by id),
                array(select id from users_archive order by id),
                (select count(*) from posts where id in (15, 18)) + (select count(*) from users where id = 8)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(archived_posts, [15, 18]);
    assert_eq!(archived_users, [8]);
    assert_eq!(left, 0);
    // the purge itself is on the record
    let deletes = audit::events(&mut conn, &Filter::default(), 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == Operation::Delete)
        .count();
    assert_eq!(deletes, 3);

    let nothing = audit::purge(&mut conn, Duration::from_secs(30 * 86_400))
        .await
        .unwrap();
    assert_eq!((nothing.posts, nothing.users), (0, 0));
}

#[tokio::test]
async fn events_filter_by_record_actor_table_and_time() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    for (actor, sql) in [
        (1, "update posts set title = 'a' where id = 1"),
        (2, "update posts set title = 'b' where id = 2"),
        (1, "update users set username = 'al' where id = 1"),
        (1, "update posts set title = 'c' where id = 1"),
    ] {
        within_actor(
            &mut conn,
            Actor {
                id: actor,
                client_addr: None,
            },
            async |tx| {
                sqlx::query(sql).execute(&mut *tx).await.unwrap();
                Ok(())
            },
        )
        .await
        .unwrap();
    }
    let ids = |events: Vec<pglab::audit::AuditEvent>| {
        events
            .iter()
            .map(|e| (e.table.clone(), e.record_id))
            .collect::<Vec<_>>()
    };
    let read = async |conn: &mut PgConnection, filter: Filter, limit: i64| {
        audit::events(conn, &filter, limit).await.unwrap()
    };
    let posts1 = read(
        &mut conn,
        Filter {
            record: Some(("posts".into(), 1)),
            ..Filter::default()
        },
        50,
    )
    .await;
    assert_eq!(posts1.len(), 2);
    assert_eq!(
        posts1[0].new.as_ref().unwrap()["title"],
        json!("c"),
        "newest first"
    );
    let by_two = read(
        &mut conn,
        Filter {
            actor: Some(2),
            ..Filter::default()
        },
        50,
    )
    .await;
    assert_eq!(ids(by_two), [("posts".to_string(), 2)]);
    let users = read(
        &mut conn,
        Filter {
            table: Some("users".into()),
            ..Filter::default()
        },
        50,
    )
    .await;
    assert_eq!(ids(users), [("users".to_string(), 1)]);
    let latest = read(
        &mut conn,
        Filter {
            window: Some(Window(TimeDelta::hours(1))),
            ..Filter::default()
        },
        1,
    )
    .await;
    assert_eq!(ids(latest), [("posts".to_string(), 1)]);
    // events written in this test are seconds old, not older than an hour ago
    let (aged,): (i64,) = sqlx::query_as(
        "select count(*) from audit.events where occurred_at < now() - interval '1 hour'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(aged, 0);
    let within_a_second = read(
        &mut conn,
        Filter {
            since: Some(chrono::Utc::now()),
            ..Filter::default()
        },
        50,
    )
    .await;
    assert!(within_a_second.is_empty(), "the time bound filters");
}

#[tokio::test]
async fn a_listener_hears_the_id_of_each_committed_event() {
    let db = TestDb::create().await.unwrap();
    let mut listener = audit::listen(&db.learner).await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    // rolled back: announced never
    sqlx::raw_sql("begin; update posts set title = 'gone' where id = 3; rollback;")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("notify pglab_audit, 'not an id'")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("update posts set title = 'heard' where id = 3")
        .execute(&mut conn)
        .await
        .unwrap();
    let id = tokio::time::timeout(Duration::from_secs(5), listener.next_id())
        .await
        .expect("an event id within 5 s")
        .unwrap();
    let newest = audit::events(&mut conn, &Filter::default(), 50)
        .await
        .unwrap();
    assert_eq!(newest.len(), 1);
    assert_eq!(id, newest[0].id);
}

#[tokio::test]
async fn the_apps_log_misses_what_the_trigger_catches() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    // the application's way: change the row and log it itself
    let actor = Actor {
        id: 1,
        client_addr: ip("203.0.113.7"),
    };
    within_actor(&mut conn, actor, async |tx| {
        sqlx::query("update posts set title = 'Welcome!' where id = 1")
            .execute(&mut *tx)
            .await
            .unwrap();
        let old =
            json!({"title": "Welcome to the Acme blog", "body": "Who we are and what we ship."});
        let new = json!({"title": "Welcome!", "body": "Who we are and what we ship."});
        audit::log_app_change(
            tx,
            &AppChange {
                action: AppAction::Update,
                table: "posts",
                record_id: 1,
                organization_id: Some(1),
                actor_id: Some(1),
                ip: actor.client_addr,
                old: Some(&old),
                new: Some(&new),
            },
        )
        .await
    })
    .await
    .unwrap();
    // someone in psql, past the application
    sqlx::query("update posts set body = 'edited by hand' where id = 1")
        .execute(&mut conn)
        .await
        .unwrap();

    let app = audit::app_events(&mut conn, &Filter::default(), 50)
        .await
        .unwrap();
    assert_eq!(
        app.len(),
        1,
        "the direct change is missing from the app's log"
    );
    let logged = &app[0];
    assert_eq!(logged.capture, Capture::App);
    assert_eq!(logged.action, Operation::Update);
    assert_eq!(logged.changed, ["title"]);
    assert_eq!(logged.client_addr.as_deref(), Some("203.0.113.7"));
    assert_eq!(logged.db_user, None);

    let trigger = history(&mut conn, "posts", 1).await;
    assert_eq!(trigger.len(), 2, "the trigger saw both");
    assert_eq!(trigger[1].actor_id, None);
    assert_eq!(trigger[1].changed, ["body", "updated_at"]);
    assert_eq!(
        trigger[1].new.as_ref().unwrap()["body"],
        Value::from("edited by hand")
    );
}

#[tokio::test]
async fn pglab_audit_prints_a_rows_history_and_explains_bad_flags() {
    use super::support::{Scratch, assert_success, stderr, stdout};
    use sqlx::ConnectOptions;

    let db = TestDb::create().await.unwrap();
    let mut conn = db.learner_conn().await.unwrap();
    let actor = Actor {
        id: 3,
        client_addr: ip("203.0.113.9"),
    };
    within_actor(&mut conn, actor, async |tx| {
        sqlx::query("update users set username = 'chuck', password_hash = 'x' where id = 3")
            .execute(&mut *tx)
            .await
            .unwrap();
        Ok(())
    })
    .await
    .unwrap();
    let url = db.owner.to_url_lossy().to_string();
    let lab = Scratch::new("audit");
    let run = |args: &[&str]| {
        lab.pglab()
            .env("DATABASE_URL", &url)
            .arg("audit")
            .args(args)
            .output()
            .unwrap()
    };

    let out = run(&["--record", "users:3", "--since", "1h"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("update users:3"), "{text}");
    assert!(
        text.contains("by user 3 from 203.0.113.9 · role "),
        "{text}"
    );
    assert!(text.contains("\"charlie\" → \"chuck\""), "{text}");
    assert!(
        text.contains("password_hash  changed (value redacted)"),
        "{text}"
    );
    assert!(!text.contains("argon2"), "{text}");

    let none = run(&["--actor", "99"]);
    assert_success(&none);
    assert_eq!(stdout(&none).trim(), "no audit events match");

    for (args, needle) in [
        (&["--record", "users"][..], "names a table but no row"),
        (&["--since", "5x"][..], "unknown unit `x`"),
        (&["--limit", "0"][..], "--limit"),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
}

/// A lab configured on `db` as if `DATABASE_URL` named it (as its owner).
pub fn external_config(db: &TestDb) -> pglab::db::LabConfig {
    use sqlx::ConnectOptions;
    pglab::db::LabConfig {
        database_url: Some(db.owner.to_url_lossy().to_string()),
        data_dir: std::env::temp_dir().join(format!("pglab-it-audit-{}", db.name)),
        supervision: pglab::db::cluster::Supervision::InProcess,
    }
}

#[tokio::test]
async fn a_reset_on_a_database_url_rebuilds_the_audit_log_empty() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.owner_conn().await.unwrap();
    sqlx::query("update posts set title = 'before the reset' where id = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(count_events(&mut conn).await, 1);
    drop(conn);

    let config = external_config(&db);
    let lab = pglab::db::Lab::open_for(&config, pglab::db::Purpose::Reset)
        .await
        .unwrap();
    pglab::db::reset(&lab).await.unwrap();

    let mut conn = db.owner_conn().await.unwrap();
    assert_eq!(count_events(&mut conn).await, 0);
    sqlx::query("update posts set title = 'after the reset' where id = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(history(&mut conn, "posts", 1).await.len(), 1);
    let error = sqlx::query("delete from audit.events")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("append-only"), "{error}");
}

#[tokio::test]
async fn an_audit_schema_pglab_did_not_create_is_never_taken_over() {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.owner_conn().await.unwrap();
    sqlx::raw_sql(
        "drop schema audit cascade;
         create schema audit;
         create table audit.record_version (id int);",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let config = external_config(&db);
    for purpose in [pglab::db::Purpose::Use, pglab::db::Purpose::Reset] {
        let error = pglab::db::Lab::open_for(&config, purpose)
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("schema named `audit`"), "{error}");
    }
    let (kept,): (bool,) = sqlx::query_as("select to_regclass('audit.record_version') is not null")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(kept);
}
