//! The index lesson's demos on a real server, at sizes small enough for CI: the seeded table,
//! plans with and without an index, an index build watched from a second connection, a
//! tree's depth counted in pages, a foreign key with and without an index on its column,
//! and the write-cost table. Timings are never asserted against thresholds (performance is
//! measured by benchmarks): plans, pages and rows are.

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

/// The report's lines as one text, wrapped sentences joined again.
fn text(report: &DemoReport) -> String {
    report
        .lines
        .iter()
        .map(|line| line.trim())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The cells of the line starting with `label` followed by two spaces, split on runs of
/// two or more spaces (cells such as "1 (500 rows)" keep their single spaces).
fn row<'a>(report: &'a DemoReport, label: &str) -> Vec<&'a str> {
    let line = report
        .lines
        .iter()
        .find(|line| line.starts_with(&format!("{label}  ")))
        .unwrap_or_else(|| panic!("no line for {label} in {:#?}", report.lines));
    line.split("  ")
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .collect()
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
    // What EXPLAIN prints under the scan, in its own words, as the lesson's prose names it.
    let said = text(&report);
    assert!(
        said.contains("Filter: (email = 'user4242@example.com'::text)"),
        "{said}"
    );
    assert!(said.contains("Rows Removed by Filter: "), "{said}");
    assert!(said.contains("19,999"), "{said}");
    assert!(
        report
            .lines
            .iter()
            .any(|l| l.starts_with("  Buffers: shared ") && l.contains(" pages of 8 kB = ")),
        "{:?}",
        report.lines
    );
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
    let diff = pglab::explain::diff::compare(before, after);
    let pages = diff.pages;
    assert!(
        pages.after.unwrap() * 10.0 < pages.before.unwrap(),
        "{pages:?}"
    );
    // The diff compares running times only: no planning row beside the two the lesson
    // explains.
    assert_eq!((diff.planning.before, diff.planning.after), (None, None));
    assert!(
        compared.lines[0].contains("Index Scan using big_users_email_idx"),
        "{:?}",
        compared.lines
    );
    // Both speed-ups on the screen, side by side: one analyzed run, and the medians.
    assert!(
        compared
            .lines
            .iter()
            .any(|l| l.contains("one EXPLAIN ANALYZE") && l.contains("median of 3 runs")),
        "{:?}",
        compared.lines
    );
    let ran = row(&compared, "as planned ran");
    assert_eq!(ran.len(), 3, "{ran:?}");
    assert!(
        text(&compared).contains("By the medians"),
        "{}",
        text(&compared)
    );

    // The same lookup explained: the index's condition and its few pages, as EXPLAIN
    // prints them.
    let (looked_up, _) = run(
        &lab.ctx,
        "indexes.explain",
        "sql = \"select * from big_users where email = 'user123456@example.com'\"\nruns = 1",
    )
    .await;
    let said = text(&looked_up);
    assert!(
        said.contains("Index Cond: (email = 'user123456@example.com'::text)"),
        "{said}"
    );
    assert!(!said.contains("Rows Removed by Filter"), "{said}");

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
    // Why: the index the forced plan read, and how many rows match, in whole sentences.
    let why = text(&kept);
    assert!(
        why.contains(
            "Forced, the planner read big_users_is_active_idx (is_active). But \
                       285,000 of the 300,000 rows of big_users match the condition (95%)"
        ),
        "{why}"
    );
}

/// One page per level of the tree, then the row's page: 100 rows fit one leaf, 10,000 need a
/// root above the leaves, 300,000 a level more (a leaf of this key holds a few hundred).
#[tokio::test]
async fn a_lookup_reads_one_page_more_per_level_as_the_table_grows() {
    let lab = lab().await;
    run(&lab.ctx, "indexes.seed", "rows = 300000").await;
    let (report, progress) = run(&lab.ctx, "indexes.depth", "sizes = [100, 10000]").await;
    let cells = |table: &str| row(&report, table);
    assert_eq!(
        cells("pglab_depth_100"),
        ["pglab_depth_100", "100", "2", "2 pages", "1"]
    );
    let ten_thousand = cells("pglab_depth_10000");
    assert_eq!(ten_thousand[1], "10,000");
    assert_eq!(ten_thousand[3..], ["3 pages", "2"]);
    let big = cells("big_users");
    assert_eq!(big[1], "300,000");
    assert_eq!(big[3..], ["4 pages", "3"]);
    // The index grew far more than the pages a lookup reads.
    let index_pages: i64 = big[2].replace(',', "").parse().unwrap();
    assert!(index_pages > 100 * 2, "{big:?}");
    let said = text(&report);
    assert!(
        said.contains("100 → 10,000 rows (100× as many, arithmetic): one page more"),
        "{said}"
    );
    assert!(
        said.contains("big_users_pkey holds 300,000 entries in "),
        "{said}"
    );
    assert!(
        messages(&progress)
            .iter()
            .any(|m| m.starts_with("copying 10,000 rows into pglab_depth_10000")),
        "{:?}",
        messages(&progress)
    );
    // Rolled back: no scratch table is left.
    assert_eq!(
        scalar_i64(
            &lab.db,
            "select count(*) from pg_class where relname like 'pglab_depth%'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_foreign_key_without_an_index_reads_every_post_to_delete_one_user() {
    let lab = lab().await;
    run(&lab.ctx, "indexes.seed", "rows = 20000").await;
    let (report, _) = run(&lab.ctx, "indexes.foreign_key", "posts = 20000").await;
    // The delete's two plans have the same nodes; the check shows as a trigger in both.
    assert_eq!(report.plans.len(), 2);
    for measured in &report.plans {
        let plan = &measured.plan;
        assert_eq!(plan.planning_ms, None, "the diff shows running times only");
        let titles: Vec<String> = plan.nodes.iter().map(|n| n.title()).collect();
        assert_eq!(
            titles,
            [
                "Delete on big_users",
                "Index Scan using big_users_pkey on big_users"
            ]
        );
        assert!(
            plan.triggers
                .iter()
                .any(|t| t.constraint.as_deref() == Some("big_posts_author_id_fkey")),
            "{:?}",
            plan.triggers
        );
    }
    // How the check read big_posts: every row without the index, one index scan with it.
    assert_eq!(
        row(&report, "seq scans of big_posts")[1..],
        ["1 (20,000 rows)", "0"]
    );
    assert_eq!(row(&report, "index scans of big_posts")[1..], ["0", "1"]);
    // The delete's analyzed run beside its median, each way.
    assert_eq!(row(&report, "delete, the analyzed run").len(), 3);
    assert_eq!(row(&report, "delete, median of 5").len(), 3);
    // The join: a scan of the whole table, then the index.
    let scans = row(&report, "big_posts read by");
    assert!(scans[1].ends_with("Seq Scan"), "{scans:?}");
    // Two posts per author at this size: the planner may collect them with a bitmap.
    assert!(
        ["Index Scan", "Bitmap Heap Scan"].contains(&scans[2]),
        "{scans:?}"
    );
    let pages = row(&report, "pages, the whole join");
    let before: u64 = pages[1].replace(',', "").parse().unwrap();
    let after: u64 = pages[2].replace(',', "").parse().unwrap();
    assert!(after * 10 < before, "{pages:?}");
    // Rolled back: no big_posts, and the deleted user is still there.
    assert_eq!(
        scalar_i64(
            &lab.db,
            "select count(*) from pg_class where relname = 'big_posts'"
        )
        .await,
        0
    );
    assert_eq!(
        scalar_i64(&lab.db, "select count(*) from big_users").await,
        20_000
    );

    // A big_posts of the learner's is never touched: the demo refuses and says why.
    let mut conn = lab.db.learner_conn().await.unwrap();
    sqlx::raw_sql("create table big_posts (id int)")
        .execute(&mut conn)
        .await
        .unwrap();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let err = demo::run(&lab.ctx, "indexes.foreign_key", &params("posts = 1000"), tx)
        .await
        .unwrap_err();
    assert!(matches!(err, demo::Error::Refused { .. }), "{err}");
    assert!(
        err.to_string().contains("big_posts exists already"),
        "{err}"
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
