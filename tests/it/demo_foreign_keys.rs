//! The relationships and foreign keys demos on a real server: both directions of one key,
//! tags through a join table, the orphan refused with 23503 and what the handlers answer,
//! each ON DELETE policy's counts and audit events, RESTRICT against a deferred NO ACTION,
//! the cascade's reads without and with an index, and the story as it was after each demo.

use pglab::data::acting::ActingAs;
use pglab::data::demo::DemoReport;

use super::demo::{flat, lab, run, run_unchanged, said};

/// The report's line that starts with `label`, split into its columns (two spaces or more
/// apart).
fn row(report: &DemoReport, label: &str) -> Vec<String> {
    let line = report
        .lines
        .iter()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no line starts with {label:?}:\n{}", said(report)));
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

#[tokio::test]
async fn both_directions_of_one_key_read_lazily_in_two_round_trips_and_joined_in_one() {
    let report = run_unchanged("foreign_keys.one_to_many", "").await;
    let text = said(&report);
    for key in [
        "users.organization_id  → organizations (id)  on delete cascade",
        "posts.author_id        → users (id)          on delete restrict",
        "posts.organization_id  → organizations (id)  on delete cascade",
    ] {
        assert!(text.contains(key), "{text}");
    }
    assert_eq!(
        text.matches("→ Acme Corp (organization 1)").count(),
        2,
        "{text}"
    );
    assert_eq!(
        text.matches("→ Acme Corp: alice, bob, erin, frank").count(),
        2,
        "{text}"
    );
    assert_eq!(
        report.title,
        "alice's organization and its users: lazily 2 round trips each, joined 1"
    );
}

#[tokio::test]
async fn the_relationships_serve_whoever_the_lab_acts_as() {
    let mut lab = lab().await;
    lab.ctx.acting_as = Some(ActingAs {
        user_id: 3,
        username: "charlie".into(),
        organization_id: 2,
        organization: "TechCo".into(),
    });
    let (report, _) = run(&lab.ctx, "foreign_keys.one_to_many", "").await;
    let text = said(&report);
    assert!(text.contains("→ TechCo: charlie, grace, heidi"), "{text}");
}

#[tokio::test]
async fn tags_go_through_a_join_table_that_refuses_duplicates_and_orphans() {
    let report = run_unchanged("foreign_keys.many_to_many", "").await;
    let text = said(&report);
    assert!(text.contains("→ #2   Our on-call rotation"), "{text}");
    assert!(
        text.contains("→ #8   Postmortem: the January outage"),
        "{text}"
    );
    assert!(text.contains("→ engineering, incidents"), "{text}");
    assert!(flat(&report).contains("✗ SQLSTATE 23505:"), "{text}");
    assert!(flat(&report).contains("✗ SQLSTATE 23503:"), "{text}");
    assert_eq!(
        report.title,
        "Tags through a join table: 3 posts tagged engineering, post 8 has 2 tags"
    );
}

#[tokio::test]
async fn a_user_in_organization_999_is_refused_with_23503_and_answered_500_or_422() {
    let report = run_unchanged("foreign_keys.orphan", "").await;
    let text = said(&report);
    let flat = flat(&report);
    assert!(flat.contains("✗ SQLSTATE 23503: insert or update on table \"users\" violates foreign key constraint \"users_organization_id_fkey\""), "{text}");
    assert!(
        flat.contains(
            "detail: Key (organization_id)=(999) is not present in table \"organizations\"."
        ),
        "{text}"
    );
    assert!(
        text.contains("→ 500 {\"error\":\"Internal Server Error\"}"),
        "{text}"
    );
    assert!(
        text.contains("→ 422 {\"error\":\"no such organization\",\"field\":\"organization_id\"}"),
        "{text}"
    );
    // Each request is one round trip: the statement was prepared by the bare insert.
    assert_eq!(text.matches(", 1 round trip:").count(), 3, "{text}");
    // The story's users end at 10, and three refused inserts drew 11 to 13.
    assert!(text.contains("→ 201 {\"id\":14}"), "{text}");
    assert_eq!(
        report.title,
        "A user in organization 999: refused, answered 500, 422, 201"
    );
}

#[tokio::test]
async fn each_on_delete_policy_leaves_its_own_counts_and_audit_events() {
    let report = run_unchanged("foreign_keys.on_delete", "").await;
    let text = said(&report);
    // Acme has 4 users and 8 posts (one of them soft-deleted) of the story's 10 and 18.
    assert_eq!(
        row(&report, "CASCADE "),
        ["CASCADE", "done", "3 → 2", "10 → 6", "18 → 10", "12"],
        "{text}"
    );
    assert_eq!(
        row(&report, "RESTRICT "),
        ["RESTRICT", "✗ 23503", "3 → 3", "10 → 10", "18 → 18", "0"],
        "{text}"
    );
    assert_eq!(
        row(&report, "NO ACTION "),
        ["NO ACTION", "✗ 23503", "3 → 3", "10 → 10", "18 → 18", "0"],
        "{text}"
    );
    assert_eq!(
        row(&report, "SET NULL "),
        ["SET NULL", "done", "3 → 2", "10 → 10", "18 → 18", "12"],
        "{text}"
    );
    assert!(
        flat(&report).contains(
            "SET NULL: every row stayed; 4 users and 8 posts now belong to no organization."
        ),
        "{text}"
    );
    for recorded in [
        "  CASCADE    copy_posts    8 × delete\n             copy_users    4 × delete",
        "  SET NULL   copy_posts    8 × update (organization_id)",
        "  RESTRICT   nothing: the refused delete wrote no row",
        "  every event's actor: tenant off-boarding",
    ] {
        assert!(text.contains(recorded), "{text}");
    }
    assert_eq!(
        report.title,
        "Deleting Acme: CASCADE took 12 rows with it, RESTRICT and NO ACTION refused"
    );
}

#[tokio::test]
async fn restrict_refuses_at_once_and_a_deferred_no_action_at_commit() {
    let report = run_unchanged("foreign_keys.deferred", "").await;
    assert_eq!(
        report.title,
        "Deferred: RESTRICT refused, NO ACTION committed, NO ACTION refused"
    );
    let text = said(&report);
    let line = |statement: &str, outcome: &str| format!("  {statement:<48}{outcome}\n");
    let restrict = text.split("NO ACTION, deferrable").next().unwrap();
    assert!(
        restrict.contains(&line(
            "delete from tmp_organizations where id = 1",
            "✗ 23503"
        )),
        "{text}"
    );
    assert!(text.contains(&line("commit", "ok")), "{text}");
    assert!(text.contains(&line("commit", "✗ 23503")), "{text}");
}

#[tokio::test]
async fn the_cascade_reads_the_whole_table_per_tenant_without_an_index() {
    let report = run_unchanged("foreign_keys.unindexed", "members = 20000").await;
    let text = said(&report);
    // 20 tenants deleted: without the index one full read of the 20,000 members each.
    let trigger = row(&report, "the cascade's trigger");
    assert!(trigger[1].ends_with(", 20 calls"), "{text}");
    assert!(trigger[2].ends_with(", 20 calls"), "{text}");
    // Each scan reads what the earlier cascades left: all 20,000 rows at first, 400 fewer
    // by the last.
    let seq = row(&report, "seq scans of fk_members");
    assert_eq!(seq[2], "0", "{text}");
    let rows: i64 = seq[1]
        .strip_prefix("20 (")
        .and_then(|rest| rest.strip_suffix(" rows)"))
        .map(|n| n.replace(',', "").parse().unwrap())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        (20 * (20_000 - 400)..=20 * 20_000).contains(&rows),
        "{text}"
    );
    assert_eq!(
        row(&report, "index scans of fk_members")[1..],
        ["0", "20"],
        "{text}"
    );
    assert_eq!(report.plans.len(), 2);
    for plan in &report.plans {
        assert!(
            plan.plan
                .triggers
                .iter()
                .any(|t| t.constraint.as_deref() == Some("fk_members_tenant_id_fkey")),
            "{:?}",
            plan.plan.triggers
        );
    }
    assert!(flat(&report).contains("400 of their members"), "{text}");
}
