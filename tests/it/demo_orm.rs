//! The ORM demos on a real server: the positional reader really swapping username and email
//! after the migration while `FromRow` does not, the model's statements exactly as the proxy
//! saw them, the string-built search leaking every tenant's users and running a second
//! statement while the bound one finds nobody and leaves the table, the mapping's
//! SQLSTATEs, the lazy relationship's round trips, and the story unchanged after each.

use pglab::data::demo::DemoReport;
use pglab::data::warning::WarningRule;

use super::demo::{flat, lab, run, run_unchanged, said};

fn warned(report: &DemoReport, rule: WarningRule) -> bool {
    report.warnings.iter().any(|w| w.rule == rule)
}

#[tokio::test]
async fn reading_by_position_swaps_username_and_email_after_the_migration() {
    let report = run_unchanged("orm.positional", "").await;
    let text = said(&report);
    assert_eq!(report.title, "Read by position: the fields swapped");
    assert!(
        text.contains("before the migration: the columns are id, organization_id, username, email"),
        "{text}"
    );
    assert!(
        text.contains("after the migration: the columns are id, organization_id, email, username"),
        "{text}"
    );
    // Before: alice's row right; after: the email in the username column and back.
    let row = |id: &str, a: &str, b: &str| format!("  {id:<4}{a:<22}{b}");
    assert!(
        text.contains(&row("1", "alice", "alice@acme.test")),
        "{text}"
    );
    assert!(
        text.contains(&row("1", "alice@acme.test", "alice")),
        "{text}"
    );
    assert!(flat(&report).contains("4 users swapped of 4"), "{text}");
}

#[tokio::test]
async fn mapping_by_name_survives_the_same_migration() {
    let report = run_unchanged("orm.from_row", "").await;
    let text = said(&report);
    assert_eq!(
        report.title,
        "Mapped by name: the migration changes nothing"
    );
    let row = "  1   alice                 alice@acme.test";
    assert_eq!(text.matches(row).count(), 2, "{text}");
    assert!(!text.contains("alice@acme.test       alice"), "{text}");
    assert!(
        flat(&report).contains("The same 4 users before and after"),
        "{text}"
    );
}

#[tokio::test]
async fn the_models_statements_are_the_ones_the_proxy_saw() {
    let report = run_unchanged("orm.model", "").await;
    let text = flat(&report);
    for generated in [
        "insert into users (email, organization_id, username) values ($1, $2, $3) returning id",
        "select id, organization_id, username, email from users where organization_id = $1 \
         and username = $2 and deleted_at is null order by id",
        "update users set email = $1 where id = $2 and organization_id = $3",
    ] {
        assert!(text.contains(&format!("generated: {generated}")), "{text}");
        assert!(text.contains(&format!("proxy saw: {generated}")), "{text}");
    }
    assert_eq!(
        text.matches("same text: yes, values bound").count(),
        3,
        "{text}"
    );
    assert!(!text.contains("same text: no"), "{text}");
}

#[tokio::test]
async fn the_string_built_search_leaks_every_tenant_and_the_bound_one_nobody() {
    let report = run_unchanged("orm.injection", "").await;
    let text = said(&report);
    assert_eq!(report.title, "String-built SQL leaks 10 users; bound, 0");
    let line = |name: &str, answer: &str| format!("  GET /users?name={name:<28} → {answer}");
    let leak = format!(
        "{}\n      of Acme Corp 4, StartUp Inc 3, TechCo 3",
        line("x' or '1'='1", "10 users")
    );
    assert!(text.contains(&leak), "{text}");
    assert!(text.contains("invoices afterwards: gone"), "{text}");
    assert!(text.contains(&line("x' or '1'='1", "0 users")), "{text}");
    assert!(
        text.contains(&line(
            "x'; drop table invoices; --",
            "0 users; invoices intact"
        )),
        "{text}"
    );
    assert!(
        text.contains(&line("alice", "1 user: alice of Acme Corp")),
        "{text}"
    );
    assert!(
        warned(&report, WarningRule::Spliced),
        "{:?}",
        report.warnings
    );
    assert!(
        warned(&report, WarningRule::Constants),
        "{:?}",
        report.warnings
    );
}

#[tokio::test]
async fn the_mapping_shows_the_catalog_and_the_servers_refusals() {
    let report = run_unchanged("orm.mapping", "").await;
    let text = said(&report);
    assert!(
        text.contains("  id              bigint       no        pk       identity"),
        "{text}"
    );
    assert!(
        text.contains("✗ SQLSTATE 22001: value too long for type character varying(80)"),
        "{text}"
    );
    assert!(text.contains("✗ SQLSTATE 23502"), "{text}");
    assert!(text.contains("✗ SQLSTATE 23505"), "{text}");
    assert!(text.contains("✗ sqlx:"), "{text}");
}

#[tokio::test]
async fn a_lazy_relationship_costs_a_round_trip_per_post() {
    let report = run_unchanged("orm.tradeoffs", "").await;
    let text = said(&report);
    // Acme's 7 live posts: 1 + 7 statements, and a prepare for each of the two.
    assert!(
        text.contains("lazy: posts, then post.author each                10"),
        "{text}"
    );
    assert!(
        text.contains("eager: one join                                    2"),
        "{text}"
    );
    assert!(text.contains("same page both ways: yes"), "{text}");
    assert!(
        warned(&report, WarningRule::NPlusOne),
        "{:?}",
        report.warnings
    );
    assert!(
        !warned(&report, WarningRule::Tenancy),
        "{:?}",
        report.warnings
    );
}

#[tokio::test]
async fn the_handlers_serve_whoever_the_lab_acts_as() {
    let mut lab = lab().await;
    lab.ctx.acting_as = Some(pglab::data::acting::ActingAs {
        user_id: 3,
        username: "charlie".into(),
        organization_id: 2,
        organization: "TechCo".into(),
    });
    let (positional, _) = run(&lab.ctx, "orm.positional", "").await;
    assert!(
        flat(&positional).contains("3 users swapped of 3"),
        "{}",
        said(&positional)
    );
    let (injection, _) = run(&lab.ctx, "orm.injection", "").await;
    let text = said(&injection);
    assert!(
        text.contains("Signed in as charlie (user 3, org 2)"),
        "{text}"
    );
    assert!(
        text.contains("u.organization_id = 2 and u.username = 'x' or '1'='1'"),
        "{text}"
    );
    assert_eq!(injection.title, "String-built SQL leaks 10 users; bound, 0");
}
