//! The "what PostgreSQL is" lesson's demos on a real server: facts, never timings — the
//! failed transfer leaves nothing behind, the second session saw none of the first's
//! uncommitted rows, each constraint refuses with its SQLSTATE, the GIN index serves the
//! containment query when the plan says so, the search ranks and marks its matches; and
//! every demo leaves the story as it found it.

use pglab::testing::TestDb;

use super::demo::{flat, lab, run, said};

/// Every row of the blog's tables, the audit log's size and the next ids: the story a demo
/// must leave unchanged.
async fn story(db: &TestDb) -> String {
    let mut conn = db.owner_conn().await.unwrap();
    sqlx::query_scalar(
        "select concat_ws(' | ',
            (select string_agg(o::text, ';' order by id) from organizations o),
            (select string_agg(u::text, ';' order by id) from users u),
            (select string_agg(p::text, ';' order by id) from posts p),
            (select count(*) from audit.events),
            (select count(*) from pg_class where relname in ('accounts', 'post_events')),
            pg_get_serial_sequence('posts', 'id'),
            (select last_value from posts_id_seq),
            (select last_value from organizations_id_seq))",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_transfer_refused_halfway_leaves_nothing_behind_inside_a_transaction() {
    let lab = lab().await;
    let before = story(&lab.db).await;
    let (report, _) = run(&lab.ctx, "postgres.atomicity", "").await;
    let text = said(&report);
    // Without a transaction the credit stays; inside one the rollback takes it back.
    let afters: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("after:"))
        .collect();
    assert_eq!(
        afters,
        [
            "   after:  alice 100 · bob 180 · total 280",
            "   after:  alice 100 · bob 50 · total 150"
        ],
        "{text}"
    );
    assert!(text.contains("SQLSTATE 23514"), "{text}");
    assert!(text.contains("SQLSTATE 25P02"), "{text}");
    assert_eq!(story(&lab.db).await, before, "the story changed");
}

#[tokio::test]
async fn the_second_session_sees_none_of_the_first_sessions_uncommitted_insert() {
    let mut lab = lab().await;
    let before = story(&lab.db).await;
    let (report, _) = run(&lab.ctx, "postgres.isolation", "").await;
    let text = flat(&report);
    assert!(text.contains("→ 1 row (its own insert)"), "{text}");
    assert!(
        text.contains("session B: select … where id = 1001 → 0 rows"),
        "{text}"
    );
    assert!(
        text.contains(
            "Session B saw 0 rows of session A's uncommitted insert and counted 7 Acme posts"
        ),
        "{text}"
    );
    assert_eq!(report.sessions, 2, "two sessions, both through the meter");
    assert_eq!(story(&lab.db).await, before, "the story changed");
    // Both sessions reached the lab's log.
    let mut names = std::collections::BTreeSet::new();
    while let Ok(event) = lab.log.try_recv() {
        match event {
            pglab::data::proxy::ProxyEvent::SessionStarted { session, .. } => {
                names.insert(session.application_name.clone());
            }
            pglab::data::proxy::ProxyEvent::ApplicationName { name, .. } => {
                names.insert(name);
            }
            _ => {}
        }
    }
    assert!(names.contains("pglab demo: session A"), "{names:?}");
    assert!(names.contains("pglab demo: session B"), "{names:?}");
}

#[tokio::test]
async fn the_blogs_constraints_refuse_bad_rows_with_their_sqlstate() {
    let lab = lab().await;
    let before = story(&lab.db).await;
    let (report, _) = run(&lab.ctx, "postgres.consistency", "").await;
    let text = said(&report);
    for sqlstate in ["SQLSTATE 23503", "SQLSTATE 23514", "SQLSTATE 23502"] {
        assert!(text.contains(sqlstate), "{sqlstate} missing in {text}");
    }
    assert!(!text.contains("accepted (!)"), "{text}");
    assert_eq!(story(&lab.db).await, before, "the story changed");
}

#[tokio::test]
async fn a_row_accepted_after_the_learner_drops_a_rule_is_rolled_back() {
    let lab = lab().await;
    let mut learner = lab.db.learner_conn().await.unwrap();
    sqlx::raw_sql("alter table organizations drop constraint organizations_plan_check")
        .execute(&mut learner)
        .await
        .unwrap();
    let before = story(&lab.db).await;
    // Twice: an accepted row kept (or written to the append-only audit log) would make
    // the second run fail on its id.
    for _ in 0..2 {
        let (report, _) = run(&lab.ctx, "postgres.consistency", "").await;
        let text = said(&report);
        assert!(
            text.contains("→ accepted (!): rolled back, not kept"),
            "{text}"
        );
        assert!(!text.contains("SQLSTATE 23514"), "{text}");
        // The other two are still refused: one refusal does not abort the rest.
        for sqlstate in ["SQLSTATE 23503", "SQLSTATE 23502"] {
            assert!(text.contains(sqlstate), "{sqlstate} missing in {text}");
        }
        assert!(
            flat(&report).contains("The database accepted 1 of the bad rows"),
            "{text}"
        );
        assert_eq!(story(&lab.db).await, before, "the story changed");
    }
}

#[tokio::test]
async fn the_gin_index_serves_containment_when_the_plan_says_so_and_is_rolled_back() {
    let lab = lab().await;
    let before = story(&lab.db).await;
    let (report, _) = run(&lab.ctx, "postgres.jsonb", "").await;
    let text = flat(&report);
    assert_eq!(report.plans.len(), 2);
    let uses_gin = |plan: &pglab::explain::Plan| {
        plan.nodes
            .iter()
            .any(|n| n.index_name.as_deref() == Some("post_events_payload_idx"))
    };
    // ->> equality: no GIN index can serve it, whatever the planner thinks of the size.
    assert!(!uses_gin(&report.plans[0].plan));
    // @>: what the report says follows what the plan shows.
    if uses_gin(&report.plans[1].plan) {
        assert!(
            text.contains("served the containment query (@>) from the GIN index"),
            "{text}"
        );
    } else {
        assert!(
            text.contains("read the whole table for both queries"),
            "{text}"
        );
    }
    assert!(text.contains("laptop 67"), "{text}");
    assert_eq!(story(&lab.db).await, before, "the story changed");
}

#[tokio::test]
async fn search_ranks_and_marks_the_matching_live_posts() {
    let lab = lab().await;
    let (report, _) = run(&lab.ctx, "postgres.search", "").await;
    let text = said(&report);
    assert!(text.contains("'postgresql' | 'databas'"), "{text}");
    assert!(text.contains("Why we chose «PostgreSQL»"), "{text}");
    assert!(text.contains("Scaling our «database»"), "{text}");
    assert!(
        flat(&report).contains("3 of the live posts match"),
        "{text}"
    );
}
