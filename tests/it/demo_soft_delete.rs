//! The soft-delete lesson's demos on a real server: what each shows (the foreign key's
//! refusal, the row in each state, the lint on the forgotten filter, 42P10 without the
//! partial index's predicate, the purge counts), and that every one leaves the story as it
//! found it.

use pglab::testing::TestDb;

use super::demo::{flat, lab, run, said};

/// Every row of users and posts, as text, with the archives' sizes and the next ids: the
/// story a demo must leave unchanged.
async fn story(db: &TestDb) -> String {
    let mut conn = db.owner_conn().await.unwrap();
    sqlx::query_scalar(
        "select concat_ws(' | ',
            (select string_agg(u::text, ';' order by id) from users u),
            (select string_agg(p::text, ';' order by id) from posts p),
            (select count(*) from posts_archive),
            (select count(*) from users_archive),
            (select count(*) from audit.events))",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_hard_delete_loses_the_post_and_the_foreign_key_refuses_a_user_with_posts() {
    let lab = lab().await;
    let before = story(&lab.db).await;
    let (report, _) = run(&lab.ctx, "soft_delete.hard_delete", "").await;
    let text = said(&report);
    assert!(text.contains("1 row deleted"), "{text}");
    assert!(text.contains("no row at all, deleted or not"), "{text}");
    assert!(text.contains("SQLSTATE 23503"), "{text}");
    assert!(text.contains("violates foreign key constraint"), "{text}");
    assert!(
        flat(&report)
            .contains("rolled it back; the post is back: #4 \"Q1 roadmap\" · deleted_at NULL"),
        "{text}"
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(story(&lab.db).await, before);
}

#[tokio::test]
async fn the_lifecycle_shows_the_row_live_deleted_and_restored() {
    let lab = lab().await;
    let before = story(&lab.db).await;
    let (report, _) = run(&lab.ctx, "soft_delete.lifecycle", "").await;
    let text = said(&report);
    // Acme has 8 posts, one of them the story's withdrawn draft.
    assert!(
        text.contains("live:     #4 \"Q1 roadmap\" · deleted_at NULL  (Acme's list shows 7 posts)"),
        "{text}"
    );
    assert!(
        text.contains("(Acme's list shows 6 posts)") && text.contains("deleted:  #4"),
        "{text}"
    );
    assert!(
        text.contains("restored: #4 \"Q1 roadmap\" · deleted_at NULL  (Acme's list shows 7"),
        "{text}"
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(story(&lab.db).await, before);
}

#[tokio::test]
async fn the_forgotten_filter_shows_the_deleted_draft_and_the_lint_says_so() {
    let lab = lab().await;
    let (report, _) = run(&lab.ctx, "soft_delete.forgotten_filter", "").await;
    let text = said(&report);
    assert_eq!(report.title, "The forgotten filter shows 1 deleted post");
    assert!(text.contains("→ 8 posts, 1 of them deleted"), "{text}");
    assert!(
        text.contains("#18 \"Draft: pricing ideas\" ← deleted"),
        "{text}"
    );
    assert!(text.contains("→ 7 posts, none deleted"), "{text}");
    let messages: Vec<&str> = report.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "posts is read without a deleted_at condition: add `posts.deleted_at IS NULL`, or \
          rows the user deleted come back"
        ],
    );
}

#[tokio::test]
async fn a_deleted_users_email_is_free_and_on_conflict_must_repeat_the_predicate() {
    let lab = lab().await;
    let before = story(&lab.db).await;
    let (report, _) = run(&lab.ctx, "soft_delete.unique_email", "").await;
    let text = said(&report);
    assert!(
        text.contains("a new account bob.again with bob@acme.test → created"),
        "{text}"
    );
    assert!(
        text.contains(
            "SQLSTATE 23505: duplicate key value violates unique constraint \"users_email_key\""
        ),
        "{text}"
    );
    assert!(text.contains("0 rows inserted"), "{text}");
    assert!(
        text.contains(
            "SQLSTATE 42P10: there is no unique or exclusion constraint matching the ON \
             CONFLICT specification"
        ),
        "{text}"
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // Explicit ids: the identity sequence did not move either.
    assert_eq!(story(&lab.db).await, before);
    let mut conn = lab.db.owner_conn().await.unwrap();
    let next: i64 = sqlx::query_scalar(
        "insert into users (organization_id, username, email) values (1, 'z', 'z@acme.test') \
         returning id",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(next, 11);
}

#[tokio::test]
async fn the_purge_archives_what_is_past_retention_and_keeps_referenced_users() {
    let lab = lab().await;
    let before = story(&lab.db).await;
    let (report, _) = run(&lab.ctx, "soft_delete.purge", "days = 90").await;
    let text = said(&report);
    // heidi's post is 120 days old inside the demo; bob's, deleted just now, is not. The
    // story's draft was deleted on 2026-02-26: past 90 days on any clock after late May 2026.
    let mut conn = lab.db.owner_conn().await.unwrap();
    let draft_due: bool =
        sqlx::query_scalar("select timestamptz '2026-02-26 09:00+00' < now() - interval '90 days'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let posts = if draft_due { 2 } else { 1 };
    assert_eq!(
        report.title,
        format!(
            "Purged after 90 days: {posts} post{} and 1 user archived",
            if posts == 1 { "" } else { "s" }
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "soft-deleted now: 3 posts ({posts} older than 90 days), 2 users (2 older)"
        )),
        "{text}"
    );
    assert!(
        text.contains("1 user archived; users kept: frank (6)"),
        "{text}"
    );
    assert!(
        text.contains("archived: \"Hello from the new hire\""),
        "{text}"
    );
    assert_eq!(
        text.contains("archived: \"Draft: pricing ideas\""),
        draft_due,
        "{text}"
    );
    assert!(
        text.contains(&format!("still soft-deleted in posts: {}", 3 - posts)),
        "{text}"
    );
    assert_eq!(story(&lab.db).await, before);
}

/// What is wrong with `sql` as an answer to `exercise`, graded as `lessons check` (and the
/// lab) grade it.
async fn findings(
    lab: &super::demo::Lab,
    exercise: &pglab::lesson::Exercise,
    sql: &str,
) -> Vec<String> {
    let graded = pglab::cli::lessons::grade_answer(&lab.ctx.learner, exercise, sql)
        .await
        .unwrap();
    let verdict = graded.verdict.unwrap();
    verdict.findings.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn the_exercise_is_graded_by_its_rows_and_by_the_lint() {
    use pglab::lesson::StepKind;
    let lab = lab().await;
    let catalog = super::support::app::catalog();
    let lesson = catalog.find("soft-deletes").unwrap();
    let exercise = lesson
        .steps
        .iter()
        .find_map(|step| match &step.kind {
            StepKind::Exercise(exercise) => Some(exercise),
            _ => None,
        })
        .unwrap();
    assert!(exercise.check.lint_free);
    assert!(
        findings(&lab, exercise, &exercise.solution)
            .await
            .is_empty()
    );

    let starter = findings(&lab, exercise, &exercise.starter).await;
    assert_eq!(starter.len(), 2, "{starter:?}");
    assert!(starter[0].contains("Draft: pricing ideas"), "{starter:?}");
    assert!(starter[1].contains("posts is read without a deleted_at condition"));

    // The right rows by another route still leave the filter out: only the lint notices.
    let sneaky = "select title from posts where organization_id = 1 \
                  and title <> 'Draft: pricing ideas' order by created_at desc";
    assert_eq!(
        findings(&lab, exercise, sneaky).await,
        [
            "the lab's query log flagged your SQL: posts is read without a deleted_at condition: \
          add `posts.deleted_at IS NULL`, or rows the user deleted come back"
        ]
    );
}
