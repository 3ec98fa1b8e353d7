//! The audit lesson's demos on a real server: the replay's events carry the right actors,
//! addresses and flags (and a second replay adds events rather than failing), the app's log
//! misses the direct change, the learner's edits of the log are refused, a password change
//! is named but not copied, and a transaction-local actor does not outlive its transaction.

use pglab::testing::TestDb;
use sqlx::postgres::PgConnection;

use super::demo::{lab, run};

type Row = (
    Option<i64>,
    Option<String>,
    Vec<String>,
    Option<String>,
    Option<String>,
);

/// (actor, address, changed columns, new is_admin, system actor) of events after `after`,
/// oldest first.
async fn events_after(conn: &mut PgConnection, after: i64) -> Vec<Row> {
    sqlx::query_as(
        "select actor_id, host(client_addr), changed_fields, new_values ->> 'is_admin',
                system_actor
           from audit.events where id > $1 order by id",
    )
    .bind(after)
    .fetch_all(conn)
    .await
    .unwrap()
}

async fn newest(db: &TestDb) -> i64 {
    let mut conn = db.owner_conn().await.unwrap();
    sqlx::query_scalar("select coalesce(max(id), 0) from audit.events")
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

fn text(lines: &[String]) -> String {
    lines.join("\n")
}

#[tokio::test]
async fn the_replay_logs_each_actor_and_address_and_flags_the_admin_grant_twice_over() {
    let lab = lab().await;
    let (report, _) = run(&lab.ctx, "audit.replay", "").await;
    let mut conn = lab.db.owner_conn().await.unwrap();
    let events = events_after(&mut conn, 0).await;
    let who: Vec<(Option<i64>, Option<String>)> =
        events.iter().map(|e| (e.0, e.1.clone())).collect();
    assert_eq!(
        who,
        [
            (Some(1), Some("203.0.113.7".to_string())),
            (Some(2), Some("198.51.100.23".to_string())),
            (Some(2), Some("192.0.2.146".to_string())),
            (None, who[3].1.clone()),
        ]
    );
    assert!(events[2].2.contains(&"is_admin".to_string()));
    assert_eq!(events[2].3.as_deref(), Some("true"));
    let said = text(&report.lines);
    assert!(
        said.contains("⚠ privilege change: user 2 was made an administrator"),
        "{said}"
    );
    assert!(said.contains("⚠ outside the application"), "{said}");
    assert!(said.contains("Press F7"), "{said}");
    assert!(!said.contains("updated_at"), "{said}");
    assert!(!said.contains("An earlier replay"), "{said}");

    // Again: the rows are put back first (logged too, as the lab), and the story's four
    // changes logged anew.
    let before = newest(&lab.db).await;
    let (again, _) = run(&lab.ctx, "audit.replay", "").await;
    let events = events_after(&mut conn, before).await;
    assert_eq!(events.len(), 3 + 4, "{events:?}");
    assert!(
        events[..3]
            .iter()
            .all(|e| e.0.is_none() && e.4.as_deref() == Some("pglab (reset)")),
        "{events:?}"
    );
    assert_eq!(events[5].0, Some(2));
    assert_eq!(events[5].3.as_deref(), Some("true"));
    let said = text(&again.lines);
    assert!(
        said.contains("An earlier replay") && said.contains("recorded as pglab (reset)"),
        "{said}"
    );
    assert!(said.contains("4 event(s) written"), "{said}");
}

#[tokio::test]
async fn replaying_again_never_puts_a_reset_on_a_person_of_the_story() {
    use pglab::audit::{Filter, rules, text};
    use pglab::db::audit;

    let lab = lab().await;
    for _ in 0..3 {
        run(&lab.ctx, "audit.replay", "").await;
    }
    let mut conn = lab.db.owner_conn().await.unwrap();
    let events = events_after(&mut conn, 0).await;
    assert_eq!(events.len(), 4 + 2 * (3 + 4), "{events:?}");
    // Every event a user of the story is named on is one of the story's own changes: alice
    // only retitled her post, and no user ever took bob's admin rights away.
    let by_alice: Vec<&Row> = events.iter().filter(|e| e.0 == Some(1)).collect();
    assert_eq!(by_alice.len(), 3, "one retitle per replay: {by_alice:?}");
    assert!(by_alice.iter().all(|e| e.2 == ["title", "updated_at"]));
    assert!(
        !events.iter().any(|e| e.0.is_some()
            && e.2.contains(&"is_admin".to_string())
            && e.3.as_deref() == Some("false")),
        "{events:?}"
    );
    let resets: Vec<&Row> = events.iter().filter(|e| e.4.is_some()).collect();
    assert_eq!(resets.len(), 2 * 3);
    assert!(
        resets
            .iter()
            .all(|e| e.0.is_none() && e.4.as_deref() == Some("pglab (reset)"))
    );

    // The timeline and `pglab audit` read the same: bob's history names the lab for the
    // reset, with no flag on it, and user 1 nowhere.
    let bob = Filter {
        record: Some(("users".into(), 2)),
        ..Filter::default()
    };
    let history = audit::events(&mut conn, &bob, 100).await.unwrap();
    let actors = audit::actor_organizations(&mut conn).await.unwrap();
    let flags = rules::flags(&history, &actors);
    let mut resets_seen = 0;
    for (event, flags) in history.iter().zip(&flags) {
        let who = text::who(event);
        assert!(!who.contains("user 1"), "{who}");
        if event.system_actor.is_some() {
            resets_seen += 1;
            assert!(who.starts_with("by pglab (reset)"), "{who}");
            assert!(flags.is_empty(), "{flags:?}");
        }
    }
    assert_eq!(resets_seen, 2);
    let alice = Filter {
        actor: Some(1),
        ..Filter::default()
    };
    let hers = audit::events(&mut conn, &alice, 100).await.unwrap();
    assert!(hers.iter().all(|e| e.table == "posts"), "{hers:?}");

    let out = pglab_audit(&lab.db, &["--record", "users:2"]);
    assert_eq!(out.matches("by pglab (reset)").count(), 2, "{out}");
    assert!(!out.contains("by user 1"), "{out}");
    assert_eq!(out.matches("⚠ privilege change").count(), 3, "{out}");
}

/// `pglab audit ARGS` on the test database, its standard output.
fn pglab_audit(db: &TestDb, args: &[&str]) -> String {
    use super::support::{Scratch, assert_success, stdout};
    use sqlx::ConnectOptions;

    let url = db.owner.to_url_lossy().to_string();
    let out = Scratch::new("audit-replay")
        .pglab()
        .env("DATABASE_URL", &url)
        .arg("audit")
        .args(args)
        .output()
        .unwrap();
    assert_success(&out);
    stdout(&out)
}

#[tokio::test]
async fn the_apps_log_misses_the_direct_change() {
    let lab = lab().await;
    for _ in 0..2 {
        let (report, _) = run(&lab.ctx, "audit.compare_capture", "").await;
        let said = text(&report.lines);
        assert!(
            said.contains("audit.events (the trigger)              2"),
            "{said}"
        );
        assert!(
            said.contains("lab.audit_logs (the application)        1"),
            "{said}"
        );
        assert!(said.contains("missed 1 change(s)"), "{said}");
    }
}

#[tokio::test]
async fn the_learner_cannot_edit_the_log_but_can_edit_the_apps_own() {
    let lab = lab().await;
    run(&lab.ctx, "audit.replay", "").await;
    let before = newest(&lab.db).await;
    let (report, _) = run(&lab.ctx, "audit.immutability", "").await;
    let said = text(&report.lines);
    assert_eq!(said.matches("refused: SQLSTATE 42501").count(), 2, "{said}");
    assert!(!said.contains("NOT refused"), "{said}");
    assert!(said.contains("allowed: 1 row(s): bob's entry"), "{said}");
    assert_eq!(newest(&lab.db).await, before);
    let mut conn = lab.db.owner_conn().await.unwrap();
    let app_rows: i64 = sqlx::query_scalar("select count(*) from audit_logs")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(app_rows, 0, "the rolled-back rows are gone");
}

#[tokio::test]
async fn a_password_change_is_named_and_its_values_redacted() {
    let lab = lab().await;
    for _ in 0..2 {
        let before = newest(&lab.db).await;
        let (report, _) = run(&lab.ctx, "audit.redaction", "").await;
        let mut conn = lab.db.owner_conn().await.unwrap();
        let (changed, old, new): (Vec<String>, String, String) = sqlx::query_as(
            "select changed_fields, old_values ->> 'password_hash',
                    new_values ->> 'password_hash'
               from audit.events where id > $1",
        )
        .bind(before)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert!(changed.contains(&"password_hash".to_string()));
        assert_eq!((old.as_str(), new.as_str()), ("[redacted]", "[redacted]"));
        let said = text(&report.lines);
        assert!(said.contains("changed (value redacted)"), "{said}");
        assert!(!said.contains("argon2"), "{said}");
    }
}

#[tokio::test]
async fn a_transaction_local_actor_ends_with_its_transaction() {
    let lab = lab().await;
    let (report, _) = run(&lab.ctx, "audit.pooled_actor", "").await;
    let said = text(&report.lines);
    assert!(
        said.contains("during it:") && said.contains("pglab.actor_id = 1"),
        "{said}"
    );
    assert!(said.contains("pglab.actor_id = (not set)"), "{said}");
    assert!(said.contains("blamed on alice"), "{said}");
}
