//! The index lesson's demos on a real server, at sizes small enough for CI: the seeded table,
//! plans with and without an index, an index build watched from a second connection, and
//! the write-cost table. Timings are never asserted against thresholds (performance is
//! measured by benchmarks); only which way a comparison goes where the gap is orders of
//! magnitude wide.

use pglab::data::demo::{DemoProgress, DemoReport};
use pglab::demo;
use pglab::testing::TestDb;

use super::demo::{lab, params, run};

fn messages(progress: &[DemoProgress]) -> Vec<&str> {
    progress
        .iter()
        .filter_map(|p| match p {
            DemoProgress::Message(m) => Some(m.as_str()),
            _ => None,
        })
        .collect()
}

async fn scalar_i64(db: &TestDb, sql: &'static str) -> i64 {
    let mut conn = db.learner_conn().await.unwrap();
    sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
}

fn scan_types(report: &DemoReport, plan: usize) -> Vec<String> {
    report.plans[plan]
        .plan
        .nodes
        .iter()
        .filter(|n| n.node_type.ends_with("Scan"))
        .map(|n| n.node_type.clone())
        .collect()
}

#[tokio::test]
async fn seeding_fills_big_users_in_chunks_with_progress_and_only_a_primary_key() {
    let lab = lab().await;
    let (report, progress) = run(&lab.ctx, "indexes.seed", "rows = 60000").await;
    assert_eq!(
        scalar_i64(&lab.db, "select count(*) from big_users").await,
        60_000
    );
    let said = messages(&progress);
    assert!(
        said.iter()
            .any(|m| m.starts_with("50,000 of 60,000 rows, ")),
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|m| m.starts_with("60,000 of 60,000 rows, ")),
        "{said:?}"
    );
    assert_eq!(report.title, "big_users: 60,000 rows");
    assert!(
        report.lines.iter().any(|l| l.contains("rows per second")),
        "{:?}",
        report.lines
    );
    assert!(
        report
            .lines
            .iter()
            .any(|l| l.contains("pages of 8 kB") && l.contains("big_users takes")),
        "{:?}",
        report.lines
    );
    // Two chunks, then the vacuum: the statements went through the demo's proxy.
    assert!(report.statements >= 3, "{report:#?}");
    // No index but the primary key; the columns spread as the lesson says.
    assert_eq!(
        scalar_i64(
            &lab.db,
            "select count(*) from pg_indexes where tablename = 'big_users'"
        )
        .await,
        1
    );
    let mut conn = lab.db.learner_conn().await.unwrap();
    let (emails, countries, orgs_min, orgs_max, active, deleted): (i64, i64, i64, i64, i64, i64) =
        sqlx::query_as(
            "select count(distinct email), count(distinct country), min(organization_id),
                    max(organization_id), count(*) filter (where is_active),
                    count(*) filter (where deleted_at is not null)
               from big_users",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(emails, 60_000);
    assert_eq!(countries, 20);
    assert_eq!((orgs_min, orgs_max), (1, 1000));
    assert_eq!(active, 57_000);
    assert_eq!(deleted, 3_000);
    // Analyzed: the planner has statistics.
    let analyzed: i64 = sqlx::query_scalar(
        "select count(*) from pg_stats where tablename = 'big_users' and attname = 'email'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(analyzed, 1);

    // A second seed says it replaced the first.
    let (again, _) = run(&lab.ctx, "indexes.seed", "rows = 1000").await;
    assert!(
        again.lines[0].starts_with("dropped the big_users"),
        "{again:?}"
    );
    assert_eq!(
        scalar_i64(&lab.db, "select count(*) from big_users").await,
        1_000
    );
}

#[tokio::test]
async fn explaining_an_email_lookup_shows_a_seq_scan_and_suggests_an_index_on_email() {
    let lab = lab().await;
    run(&lab.ctx, "indexes.seed", "rows = 20000").await;
    let (report, _) = run(
        &lab.ctx,
        "indexes.explain",
        "sql = \"select * from big_users where email = 'user4242@example.com'\"\nruns = 3",
    )
    .await;
    assert!(
        scan_types(&report, 0).iter().any(|t| t == "Seq Scan"),
        "{:?}",
        report.lines
    );
    assert!(report.title.contains("Seq Scan"), "{}", report.title);
    let fix = report
        .lines
        .iter()
        .find(|l| l.trim_start().starts_with("fix:"))
        .unwrap_or_else(|| panic!("no insight in {:#?}", report.lines));
    let fix = fix.to_lowercase();
    assert!(
        fix.contains("create index") && fix.contains("big_users") && fix.contains("(email)"),
        "{fix}"
    );
    assert!(
        report
            .lines
            .iter()
            .any(|l| l.starts_with("median of 3 runs without per-node timing")),
        "{:?}",
        report.lines
    );
    assert!(report.plans[0].median_ms > 0.0);
}

#[tokio::test]
async fn explaining_a_write_rolls_it_back_and_says_so() {
    let lab = lab().await;
    run(&lab.ctx, "indexes.seed", "rows = 1000").await;
    let (report, _) = run(
        &lab.ctx,
        "indexes.explain",
        "sql = \"delete from big_users where id <= 10\"\nruns = 1",
    )
    .await;
    assert!(
        report.lines.iter().any(|l| l.contains("rolled back")),
        "{:?}",
        report.lines
    );
    assert_eq!(
        scalar_i64(&lab.db, "select count(*) from big_users").await,
        1_000
    );
}

/// One table of 300,000 rows for the build and both comparisons: large enough that an index
/// build takes a few hundred milliseconds, which 50 ms polls see, and that an index lookup
/// beats reading every page by far more than timing noise.
#[tokio::test]
async fn an_index_is_built_with_its_phases_rebuilt_on_rerun_and_pays_off_only_when_selective() {
    let lab = lab().await;
    run(&lab.ctx, "indexes.seed", "rows = 300000").await;

    let create = "sql = \"create index big_users_email_idx on big_users (email)\"";
    let (report, progress) = run(&lab.ctx, "indexes.create", create).await;
    // Phases, as the second connection saw them: at least one sample arrived while the
    // build ran ("building big_users_email_idx: scanning table, 61% of blocks").
    let phases: Vec<&str> = messages(&progress)
        .into_iter()
        .filter(|m| m.starts_with("building big_users_email_idx: "))
        .collect();
    assert!(!phases.is_empty(), "{:?}", messages(&progress));
    assert!(
        report
            .lines
            .iter()
            .any(|l| l.starts_with("phases seen by a second connection")),
        "{:?}",
        report.lines
    );
    assert!(
        report.lines[0].starts_with("built big_users_email_idx on big_users in "),
        "{:?}",
        report.lines
    );
    assert!(
        report
            .lines
            .iter()
            .any(|l| l.starts_with("the index takes ") && l.contains("the table big_users")),
        "{:?}",
        report.lines
    );
    // Builder and watcher, both through the demo's proxy.
    assert_eq!(report.sessions, 2);
    assert_eq!(
        scalar_i64(
            &lab.db,
            "select count(*) from pg_indexes where indexname = 'big_users_email_idx'"
        )
        .await,
        1
    );

    let (again, _) = run(&lab.ctx, "indexes.create", create).await;
    assert!(
        again.lines[0].starts_with("rebuilt: big_users_email_idx existed"),
        "{:?}",
        again.lines
    );

    // A lookup by email: the index against reading every page, ~1000× apart.
    let (compared, _) = run(
        &lab.ctx,
        "indexes.compare",
        "sql = \"select * from big_users where email = 'user123456@example.com'\"\nruns = 3",
    )
    .await;
    // Before: index use switched off; after: as planned.
    let without = scan_types(&compared, 0);
    let with = scan_types(&compared, 1);
    assert!(
        with.iter()
            .any(|t| t.contains("Index") || t.starts_with("Bitmap")),
        "{with:?}"
    );
    assert!(
        without.iter().all(|t| t.contains("Seq Scan")),
        "{without:?}"
    );
    // Pages, not milliseconds: a tree walk against the whole table, whatever the machine.
    let (before, after) = (&compared.plans[0].plan, &compared.plans[1].plan);
    let pages = pglab::explain::diff::compare(before, after).pages;
    assert!(
        pages.after.unwrap() * 10.0 < pages.before.unwrap(),
        "{pages:?}"
    );
    assert!(
        compared.lines[0].contains("Index Scan using big_users_email_idx"),
        "{:?}",
        compared.lines
    );

    // 95 % of rows match: with an index on is_active, the planner still reads the table.
    run(
        &lab.ctx,
        "indexes.create",
        "sql = \"create index big_users_is_active_idx on big_users (is_active)\"",
    )
    .await;
    let (kept, _) = run(
        &lab.ctx,
        "indexes.compare",
        "sql = \"select * from big_users where is_active = true\"\nruns = 1",
    )
    .await;
    assert!(
        scan_types(&kept, 1).iter().all(|t| t.contains("Seq Scan")),
        "{:?}",
        kept.lines
    );
    assert_eq!(kept.title, "The planner kept the Seq Scan");
    // The other way, measured: sequential scans off, so the index it passed over is forced.
    assert_eq!(kept.plans[0].label, "sequential scans switched off");
    assert!(
        scan_types(&kept, 0).iter().any(|t| t.contains("Index")),
        "{:?}",
        kept.lines
    );
    assert!(
        kept.lines
            .iter()
            // Which sentence follows depends on timings (right, about the same, or off).
            .any(|l| l.starts_with("The planner kept the Seq Scan")),
        "{:?}",
        kept.lines
    );
    // Why: the index it passed over, and how many rows match.
    assert!(
        kept.lines
            .iter()
            .any(|l| l.contains("big_users_is_active_idx (is_active)")
                && l.contains("285,000 of its 300,000 rows match (95%)")),
        "{:?}",
        kept.lines
    );
}

#[tokio::test]
async fn the_write_cost_table_compares_two_scratch_tables_and_leaves_neither() {
    let lab = lab().await;
    let (report, progress) = run(&lab.ctx, "indexes.write_cost", "rows = 2000").await;
    let table = report.table.as_ref().unwrap();
    assert_eq!(
        table.columns,
        [
            "table",
            "indexes",
            "insert",
            "rows/s",
            "table size",
            "index size"
        ]
    );
    let names: Vec<&str> = table
        .rows
        .iter()
        .map(|r| r[1].as_deref().unwrap())
        .collect();
    assert_eq!(names, ["primary key", "primary key + 4"]);
    // The timing ratio is not asserted (one run of a small insert is noise-prone); the
    // report states it.
    assert!(report.title.starts_with("Write cost: "), "{}", report.title);
    assert!(
        report
            .lines
            .iter()
            .any(|l| l.starts_with("only the primary key: ") && l.contains(" the time)")),
        "{:?}",
        report.lines
    );
    assert_eq!(
        messages(&progress)
            .iter()
            .filter(|m| m.starts_with("inserting 2,000 rows"))
            .count(),
        2
    );
    assert_eq!(
        scalar_i64(
            &lab.db,
            "select count(*) from pg_class where relname like 'pglab_write_cost%'"
        )
        .await,
        0
    );
}

/// The learner is told which step to run, by its number and title, never the demo's name.
#[tokio::test]
async fn a_plan_demo_before_the_seed_says_to_run_the_seed_step() {
    let lab = lab().await;
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let failure = demo::run(&lab.ctx, "indexes.explain", &params(""), tx)
        .await
        .unwrap_err()
        .failure();
    assert!(
        failure.message.contains("big_users") && !failure.message.contains("indexes."),
        "{failure:?}"
    );
    assert_eq!(
        failure.run_first.as_ref().map(|r| r.demo),
        Some("indexes.seed")
    );
    let catalog = pglab::lesson::Catalog::load_from(
        pglab::lesson::Source::built_in(),
        &pglab::demo::validate,
    )
    .unwrap();
    let lesson = catalog.find("indexes").unwrap();
    let seed = lesson
        .steps
        .iter()
        .position(|step| matches!(&step.kind, pglab::lesson::StepKind::Demo { name, .. } if name == "indexes.seed"))
        .unwrap();
    let said = pglab::app::player::failure_text(&failure, lesson);
    let named = format!(
        "step {}, \u{201c}{}\u{201d}, builds big_users; run that step first",
        seed + 1,
        lesson.steps[seed].title
    );
    assert!(said.contains(&named), "{said}");
    assert!(!said.contains("indexes."), "{said}");
}

#[tokio::test]
async fn bad_sql_parameters_are_refused_naming_the_parameter() {
    let check = |name: &str, toml_text: &str| demo::validate(name, &params(toml_text));
    assert_eq!(
        check(
            "indexes.create",
            "sql = \"create index big_users_email_idx on big_users (email)\""
        ),
        Ok(())
    );
    let err = check("indexes.create", "sql = \"select * from big_users\"").unwrap_err();
    assert!(
        err.contains("indexes.create") && err.contains("`sql`") && err.contains("CREATE INDEX"),
        "{err}"
    );
    let err = check(
        "indexes.create",
        "sql = \"create index on big_users (email)\"",
    )
    .unwrap_err();
    assert!(
        err.contains("`sql`") && err.contains("without a name"),
        "{err}"
    );
    let err = check(
        "indexes.compare",
        "sql = \"select 1; select * from big_users\"",
    )
    .unwrap_err();
    assert!(
        err.contains("indexes.compare") && err.contains("`sql` holds 2 statements"),
        "{err}"
    );
    let err = check("indexes.seed", "rows = 10").unwrap_err();
    assert!(
        err.contains("`rows`") && err.contains("1000 to 5000000"),
        "{err}"
    );

    // Refused when run, too, before anything touches the database.
    let lab = lab().await;
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let err = demo::run(
        &lab.ctx,
        "indexes.create",
        &params("sql = \"drop table big_users\""),
        tx,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, demo::Error::BadParams(_)), "{err}");
}
