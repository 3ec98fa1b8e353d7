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
async fn every_audit_demo_report_fits_the_narrowest_pane_and_raises_no_false_warning() {
    let lab = lab().await;
    for _ in 0..2 {
        for demo in pglab::demo::audit::DEMOS {
            let (report, _) = run(&lab.ctx, demo.name, "").await;
            for line in &report.lines {
                assert!(line.chars().count() <= 76, "{}: {line}", demo.name);
            }
            // Only the attempts to rewrite the logs, which ignore tenants on purpose, are
            // flagged by the lab's lint.
            if demo.name != "audit.immutability" {
                assert!(
                    report.warnings.is_empty(),
                    "{}: {:?}",
                    demo.name,
                    report.warnings
                );
            }
        }
    }
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
    // Its lines are printed as plain text too: they name no key.
    assert!(!said.contains("F7") && !said.contains("Press"), "{said}");
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
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

/// Whether a table of that name exists in the lesson schema (or anywhere on the path).
async fn table_exists(db: &TestDb, name: &str) -> bool {
    let mut conn = db.learner_conn().await.unwrap();
    sqlx::query_scalar("select to_regclass($1) is not null")
        .bind(name)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_timelines_questions_use_the_logs_indexes_and_the_copy_is_gone() {
    let lab = lab().await;
    run(&lab.ctx, "audit.replay", "").await;
    let before = newest(&lab.db).await;
    let (report, _) = run(&lab.ctx, "audit.indexes", "").await;
    let said = text(&report.lines);
    // The catalog's four indexes, by name and columns.
    for index in [
        "events_pkey              (id)",
        "events_record_idx        (table_name, record_id, id)",
        "events_actor_idx         (actor_id, id)",
        "events_occurred_at_idx   (occurred_at)",
    ] {
        assert!(said.contains(index), "{index}:\n{said}");
    }
    // On the copy, bob's row has 7 generated events and actor 2 has 200 (the generator's
    // arithmetic), each found through the log's own index; without indexes, a Seq Scan.
    assert!(said.contains("record_id = 2 (7 rows)"), "{said}");
    assert!(said.contains("actor_id = 2 (200 rows)"), "{said}");
    let with: Vec<&str> = report
        .lines
        .iter()
        .filter(|l| l.starts_with("  indexes "))
        .map(String::as_str)
        .collect();
    assert_eq!(with.len(), 3, "{said}");
    assert!(with[0].contains("using events_record_idx"), "{said}");
    assert!(with[1].contains("using events_actor_idx"), "{said}");
    assert!(with[2].contains("using events_"), "{said}");
    let without: Vec<&str> = report
        .lines
        .iter()
        .filter(|l| l.starts_with("  no index "))
        .map(String::as_str)
        .collect();
    assert_eq!(without.len(), 3, "{said}");
    assert!(
        without
            .iter()
            .all(|l| l.contains("Seq Scan") && !l.contains("using"))
    );
    assert!(
        report.lines.iter().all(|l| l.chars().count() <= 76),
        "{said}"
    );
    // Only read: no event written, and the copy rolled back with its transaction.
    assert_eq!(newest(&lab.db).await, before);
    assert!(!table_exists(&lab.db, "pglab_events_copy").await);
}

/// Post 4's title, the application's log rows and the trigger's events, as committed.
async fn roadmap(db: &TestDb) -> (String, i64, i64) {
    let mut conn = db.owner_conn().await.unwrap();
    sqlx::query_as(
        "select (select title from posts where id = 4),
                (select count(*) from audit_logs),
                (select count(*) from audit.events)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_failed_audit_write_takes_the_change_with_it_unless_it_is_best_effort() {
    let lab = lab().await;
    let before = roadmap(&lab.db).await;
    let (report, _) = run(&lab.ctx, "audit.failed_write", "").await;
    let said = text(&report.lines);
    // 1. The trigger cannot write its event: the change is refused with it.
    assert!(said.contains("refused: SQLSTATE 22P02"), "{said}");
    // 2 and 3. The application's log row waits for the job's lock and gives up, twice.
    assert_eq!(said.matches("SQLSTATE 55P03").count(), 2, "{said}");
    assert!(!said.contains("NOT"), "{said}");
    let states: Vec<&str> = report
        .lines
        .iter()
        .filter(|l| l.starts_with("   post 4's title") || l.starts_with("   its records"))
        .map(|l| l.trim())
        .collect();
    assert_eq!(states.len(), 6, "{said}");
    for same_transaction in [&states[0..2], &states[2..4]] {
        assert!(same_transaction[0].ends_with("(unchanged)"), "{said}");
        assert!(same_transaction[1].ends_with("app log rows 0 · trigger events 0"));
    }
    // Best effort: the change stayed, the app's record is lost, the trigger's event is there.
    assert!(
        states[4].ends_with("\"Q1 roadmap, revised\" (changed)"),
        "{said}"
    );
    assert!(
        states[5].ends_with("app log rows 0 · trigger events 1"),
        "{said}"
    );
    assert!(
        report.lines.iter().all(|l| l.chars().count() <= 76),
        "{said}"
    );
    // Everything was rolled back: the post, both logs.
    assert_eq!(roadmap(&lab.db).await, before);
}

#[tokio::test]
async fn logging_reads_writes_a_row_per_post_shown_where_writes_only_write_none() {
    let lab = lab().await;
    let before = roadmap(&lab.db).await;
    let (report, _) = run(&lab.ctx, "audit.read_logging", "").await;
    let said = text(&report.lines);
    let mut conn = lab.db.owner_conn().await.unwrap();
    let shown: i64 = sqlx::query_scalar(
        "select count(*) from posts where organization_id = 1 and deleted_at is null",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    // (log rows, row bytes) of a run's line in the table.
    let counts = |label: &str| -> (i64, i64) {
        let line = report
            .lines
            .iter()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no line for {label}:\n{said}"));
        let numbers: Vec<i64> = line[label.len()..]
            .split_whitespace()
            .take(2)
            .map(|n| n.replace(',', "").parse().unwrap())
            .collect();
        (numbers[0], numbers[1])
    };
    let (writes, write_bytes) = counts("writes only");
    let (reads, read_bytes) = counts("reads logged too");
    // Writes only: the edit's one event. Reads too: the edit, and a row per post per view.
    assert_eq!(writes, 1, "{said}");
    assert_eq!(reads, 1 + 20 * shown, "{said}");
    assert!(read_bytes > write_bytes, "{said}");
    assert!(
        said.contains(&format!("wrote {shown} log rows per page view")),
        "{said}"
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(
        report.lines.iter().all(|l| l.chars().count() <= 76),
        "{said}"
    );
    // All rolled back: the post, both logs, and the access log table.
    assert_eq!(roadmap(&lab.db).await, before);
    assert!(!table_exists(&lab.db, "pglab_access_log").await);
}

#[tokio::test]
async fn retention_moves_old_events_by_delete_or_detaches_a_month_and_leaves_nothing() {
    let lab = lab().await;
    let before = roadmap(&lab.db).await;
    let (report, _) = run(&lab.ctx, "audit.retention", "").await;
    let said = text(&report.lines);
    // The whole number that ends the first line containing `needle` before `suffix`.
    let number = |needle: &str, suffix: &str| -> i64 {
        let line = report
            .lines
            .iter()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle}:\n{said}"));
        let head = &line[..line.find(suffix).unwrap()];
        head.split_whitespace()
            .last()
            .unwrap()
            .replace(',', "")
            .parse()
            .unwrap()
    };
    let moved = number("rows moved in", " rows moved");
    let partitions: Vec<i64> = report
        .lines
        .iter()
        .filter(|l| l.starts_with("   pglab_events_") && l.contains(" rows "))
        .map(|l| {
            l.split_whitespace()
                .nth(1)
                .unwrap()
                .replace(',', "")
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(partitions.len(), 4, "{said}");
    assert_eq!(partitions.iter().sum::<i64>(), 40_000, "{said}");
    // The same old events leave either way: moved row by row, or the oldest month detached.
    assert!(moved > 0);
    assert_eq!(moved, partitions[0], "{said}");
    assert_eq!(number("the log now holds", " events;"), 40_000 - moved);
    assert_eq!(number(" rows, ", " rows, "), moved, "{said}");
    assert!(said.contains("still takes"), "{said}");
    assert!(
        report.lines.iter().all(|l| l.chars().count() <= 76),
        "{said}"
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // All rolled back.
    assert_eq!(roadmap(&lab.db).await, before);
    for table in [
        "pglab_events_flat",
        "pglab_events_archive",
        "pglab_events_by_month",
    ] {
        assert!(!table_exists(&lab.db, table).await, "{table}");
    }
}
