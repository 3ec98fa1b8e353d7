//! The multi-tenant security demos on a real server: the naive handler's breach, the
//! checked handler's 403 and 404, IDOR by id, the composite key's 23503, row-level security
//! and its owner bypass, the pooled session setting's leak, every attack of the suite
//! leaking without RLS and blocked with it, and the story as it was after each demo.

use pglab::data::acting::ActingAs;
use pglab::data::demo::DemoReport;
use pglab::demo::tenant_security::attacks::ATTACKS;

use super::demo::{flat, lab, lab_state, run, run_unchanged, said};

fn charlie() -> ActingAs {
    ActingAs {
        user_id: 3,
        username: "charlie".into(),
        organization_id: 2,
        organization: "TechCo".into(),
    }
}

#[tokio::test]
async fn the_naive_handler_writes_alices_post_into_techcos_list() {
    let report = run_unchanged("tenant_security.naive", "").await;
    let text = said(&report);
    assert_eq!(report.title, "The naive handler writes into TechCo");
    assert!(
        text.contains("POST /posts {\"organization_id\":2,\"title\":\"Hacked!\",\"user_id\":1}"),
        "{text}"
    );
    assert!(
        text.contains("→ 201 {\"id\":19,\"organization_id\":2}"),
        "{text}"
    );
    assert!(
        text.contains("TechCo's list, read back (6 posts):"),
        "{text}"
    );
    assert!(text.contains("#19  Hacked!   ← written by alice"), "{text}");
    assert!(report.round_trips > 0);
}

#[tokio::test]
async fn the_naive_handler_serves_whoever_the_lab_acts_as() {
    let mut lab = lab().await;
    lab.ctx.acting_as = Some(charlie());
    let (report, _) = run(&lab.ctx, "tenant_security.naive", "").await;
    assert_eq!(report.title, "The naive handler writes into Acme Corp");
    assert!(
        said(&report).contains("← written by charlie"),
        "{}",
        said(&report)
    );
}

#[tokio::test]
async fn the_checked_handler_answers_403_for_another_tenant_and_404_for_no_tenant() {
    let report = run_unchanged("tenant_security.checked", "").await;
    let text = said(&report);
    assert_eq!(report.title, "The checked handler answers 403, 404, 201");
    assert!(
        text.contains("→ 403 {\"message\":\"User does not belong to this organization\"}"),
        "{text}"
    );
    assert!(
        text.contains("→ 404 {\"message\":\"Organization not found\"}"),
        "{text}"
    );
    assert!(
        text.contains("→ 201 {\"id\":19,\"organization_id\":1}"),
        "{text}"
    );
}

#[tokio::test]
async fn another_tenants_post_is_served_by_id_alone_and_not_found_with_the_tenant() {
    let report = run_unchanged("tenant_security.idor", "").await;
    let text = said(&report);
    assert!(
        text.contains("→ 200 {\"id\":3,\"title\":\"TechCo is live\"}"),
        "{text}"
    );
    assert!(
        text.contains("→ 200 {\"id\":3,\"title\":\"Hacked!\"}"),
        "{text}"
    );
    assert_eq!(
        text.matches("→ 404 {\"message\":\"Post not found\"}")
            .count(),
        2,
        "{text}"
    );
}

#[tokio::test]
async fn the_composite_key_refuses_an_author_of_another_tenant_with_23503() {
    let report = run_unchanged("tenant_security.composite_fk", "").await;
    let text = said(&report);
    let flat = flat(&report);
    assert!(
        text.contains("→ 201: accepted, a post in one tenant by an author of another"),
        "{text}"
    );
    assert!(flat.contains("✗ SQLSTATE 23503:"), "{text}");
    assert!(
        flat.contains("violates foreign key constraint \"posts_author_same_tenant\""),
        "{text}"
    );
    assert!(
        text.contains("a post in the user's own org 1: accepted"),
        "{text}"
    );
}

#[tokio::test]
async fn row_level_security_is_bypassed_by_the_owner_until_forced() {
    let report = run_unchanged("tenant_security.rls", "").await;
    let text = said(&report);
    let everyone = "org 1: 7  org 2: 5  org 3: 5";
    assert!(
        text.contains(&format!("  no policy                {everyone}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("  enabled (you own posts)  {everyone}")),
        "{text}"
    );
    assert!(
        text.contains("  forced, tenant 1         org 1: 7\n"),
        "{text}"
    );
    assert!(
        text.contains("  forced, tenant ''        no rows"),
        "{text}"
    );
    assert!(
        text.contains("  forced, tenant 2         org 2: 5\n"),
        "{text}"
    );
    assert!(
        flat(&report).contains("its plan compares organization_id with the setting"),
        "{text}"
    );
}

/// The pooled demo's row for the signed-out request: (session SET, set_config local).
fn second_request(report: &DemoReport) -> (String, String) {
    let line = report
        .lines
        .iter()
        .find(|line| line.starts_with("2: signed out, no tenant"))
        .unwrap_or_else(|| panic!("no second request in {}", said(report)));
    let cells = line["2: signed out, no tenant".len()..].trim();
    let (session, local) = cells.split_at(17.min(cells.len()));
    (session.trim().to_string(), local.trim().to_string())
}

#[tokio::test]
async fn a_session_setting_leaks_through_the_pool_and_a_local_one_does_not() {
    let report = run_unchanged("tenant_security.pooled", "").await;
    let (session, local) = second_request(&report);
    assert_eq!(
        session, "org 2: 5",
        "the session SET leaks TechCo's posts to the signed-out request"
    );
    assert_eq!(
        local, "no rows",
        "set_config(…, true) ends with the transaction"
    );
    let text = said(&report);
    assert!(text.contains("✗ SQLSTATE 42704"), "{text}");
    assert!(text.contains("✗ SQLSTATE 22P02"), "{text}");
}

/// The suite's row for `attack`: (rows of other tenants without RLS, with RLS).
fn leaks(report: &DemoReport, attack: &str) -> (u64, u64) {
    let line = report
        .lines
        .iter()
        .find(|line| line.trim_start().starts_with(attack))
        .unwrap_or_else(|| panic!("no row for {attack} in {}", said(report)));
    let numbers: Vec<u64> = line[2 + attack.len()..]
        .split_whitespace()
        .take(2)
        .map(|n| n.parse().unwrap())
        .collect();
    (numbers[0], numbers[1])
}

fn every_attack_leaks_without_rls_and_none_with(report: &DemoReport) {
    for attack in ATTACKS {
        let (without, with) = leaks(report, attack.name);
        assert!(
            without > 0,
            "{}: reached no other tenant's rows without RLS",
            attack.name
        );
        assert_eq!(with, 0, "{}: leaked through RLS", attack.name);
    }
}

#[tokio::test]
async fn every_attack_leaks_without_rls_and_is_blocked_with_it() {
    let report = run_unchanged("tenant_security.attacks", "").await;
    every_attack_leaks_without_rls_and_none_with(&report);
    assert_eq!(
        report.title,
        format!("Attacks: {} leak without RLS, 0 with", ATTACKS.len())
    );
    // The writes into another tenant are refused by the policy's check, not just empty.
    let text = said(&report);
    for attack in [
        "insert into the other tenant",
        "move an own post to the other",
    ] {
        let line = text.lines().find(|l| l.contains(attack)).unwrap();
        assert!(line.ends_with("refused 42501"), "{line}");
    }
}

#[tokio::test]
async fn the_attack_suite_holds_for_another_tenant_too() {
    let mut lab = lab().await;
    lab.ctx.acting_as = Some(charlie());
    let before = lab_state(&lab.db, &[]).await;
    let (report, _) = run(&lab.ctx, "tenant_security.attacks", "").await;
    every_attack_leaks_without_rls_and_none_with(&report);
    assert_eq!(lab_state(&lab.db, &[]).await, before);
}
