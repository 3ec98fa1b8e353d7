//! The multi-tenancy lesson's demos on a real server: customer databases created, measured
//! and all dropped (leftovers of a stopped run too), the refusal where the role may not
//! create databases, two tenants' lists and the unfiltered list's tenancy warning, and the
//! tenant index used by the plan; none of them changes what other lessons see.

use pglab::data::acting::ActingAs;
use pglab::data::warning::WarningRule;
use pglab::db::customer_databases;
use pglab::demo::DemoContext;
use pglab::exit::ExitStatus;
use pglab::testing::TestDb;

use super::demo::{flat, lab, params, run, said};

/// The customer databases of `db`'s family, counted as the owner sees the server.
async fn customers_left(db: &TestDb) -> i64 {
    let mut conn = db.owner_conn().await.unwrap();
    customer_databases::count_family(&mut conn, &customer_databases::family(&db.name).unwrap())
        .await
        .unwrap()
}

/// Whether `posts` has a column named `name`.
async fn posts_has_column(db: &TestDb, name: &str) -> bool {
    let mut conn = db.owner_conn().await.unwrap();
    sqlx::query_scalar(
        "select exists (select 1 from information_schema.columns
                         where table_name = 'posts' and column_name = $1)",
    )
    .bind(name)
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn customer_databases_are_created_measured_and_all_dropped() {
    let mut lab = lab().await;
    // The lab's own cluster where the tests run on one; under DATABASE_URL its role
    // creates the databases.
    lab.ctx.cluster = pglab::testing::cluster().unwrap();
    // A database a stopped run left behind, which this run must drop first.
    let leftover = format!("{}99", customer_databases::family(&lab.db.name).unwrap());
    let mut owner = lab.db.owner_conn().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "create database \"{leftover}\""
    )))
    .execute(&mut owner)
    .await
    .unwrap();
    assert_eq!(customers_left(&lab.db).await, 1);

    let (report, progress) = run(&lab.ctx, "tenancy.databases", "customers = 3").await;
    let text = said(&report);
    assert!(
        report.title.starts_with("3 databases: "),
        "{}",
        report.title
    );
    for n in ["01", "02", "03"] {
        let row = text
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("customer {n} ")))
            .unwrap_or_else(|| panic!("no row for customer {n}: {text}"));
        // create, size, add column: each a measured figure with its unit.
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells.len(), 8, "{row}");
        for number in [cells[2], cells[4], cells[6]] {
            assert!(number.parse::<f64>().unwrap() > 0.0, "{row}");
        }
        assert!(["kB", "MB"].contains(&cells[5]), "{row}");
    }
    assert!(text.contains("all 3 "), "{text}");
    assert!(text.contains("(rolled back)"), "{text}");
    let flat = flat(&report);
    assert!(flat.contains("Arithmetic on these figures, not measured: 1,000 customers"));
    assert!(flat.contains("Dropped again: all 3; 0 left now."), "{flat}");
    assert!(flat.contains("(1 left by an earlier run"), "{flat}");
    assert!(!progress.is_empty());
    // Three CREATE DATABASE, three changes, and the drops went through the demo's proxy.
    assert!(report.statements >= 9, "{}", report.statements);
    assert_eq!(customers_left(&lab.db).await, 0);
    // The change on the shared database was rolled back.
    assert!(!posts_has_column(&lab.db, "pinned").await);
}

#[tokio::test]
async fn the_owner_never_calls_the_learners_functions_while_making_customer_databases() {
    let Some(cluster) = pglab::testing::cluster().unwrap() else {
        eprintln!("skipped: under DATABASE_URL the learner's own role creates the databases");
        return;
    };
    let mut lab = lab().await;
    lab.ctx.cluster = Some(cluster);
    // Better matches for the owner's calls than the built-in functions, planted by the
    // learner in the schema it owns (the lab's search path): any call of them fails the demo.
    let mut learner = lab.db.learner_conn().await.unwrap();
    sqlx::raw_sql(
        "create function format(text, text, text) returns text language plpgsql as
             $$ begin raise exception 'the owner ran the learner''s format'; end $$;
         create function starts_with(name, text) returns boolean language plpgsql as
             $$ begin raise exception 'the owner ran the learner''s starts_with'; end $$;
         create function length(name) returns integer language plpgsql as
             $$ begin raise exception 'the owner ran the learner''s length'; end $$;",
    )
    .execute(&mut learner)
    .await
    .unwrap();
    let (report, _) = run(&lab.ctx, "tenancy.databases", "customers = 2").await;
    assert!(
        flat(&report).contains("Dropped again: all 2; 0 left now."),
        "{}",
        flat(&report)
    );
    assert_eq!(customers_left(&lab.db).await, 0);
}

#[tokio::test]
async fn a_family_never_takes_a_longer_named_labs_databases() {
    let lab = lab().await;
    let mut owner = lab.db.owner_conn().await.unwrap();
    // `<lab>_x_01` is a customer of the lab database `<lab>_x`, not of `<lab>`.
    let other = format!(
        "{}01",
        customer_databases::family(&format!("{}_x", lab.db.name)).unwrap()
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database \"{other}\"")))
        .execute(&mut owner)
        .await
        .unwrap();
    assert_eq!(customers_left(&lab.db).await, 0);
    let family = customer_databases::family(&lab.db.name).unwrap();
    assert_eq!(
        customer_databases::drop_family(&mut owner, &family)
            .await
            .unwrap(),
        0
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("drop database \"{other}\"")))
        .execute(&mut owner)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_reset_drops_the_customer_databases_a_stopped_run_left() {
    let db = TestDb::create().await.unwrap();
    let mut owner = db.owner_conn().await.unwrap();
    let family = customer_databases::family(&db.name).unwrap();
    let mine = format!("{family}07");
    let theirs = format!(
        "{}07",
        customer_databases::family(&format!("{}_x", db.name)).unwrap()
    );
    for name in [&mine, &theirs] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database \"{name}\"")))
            .execute(&mut owner)
            .await
            .unwrap();
    }
    assert_eq!(customers_left(&db).await, 1);
    let config = super::audit_db::external_config(&db);
    let lab = pglab::db::Lab::open_for(&config, pglab::db::Purpose::Reset)
        .await
        .unwrap();
    pglab::db::reset(&lab).await.unwrap();
    assert_eq!(customers_left(&db).await, 0);
    // Another lab's customer database is not this reset's to drop.
    let kept: bool =
        sqlx::query_scalar("select exists (select from pg_database where datname = $1)")
            .bind(&theirs)
            .fetch_one(&mut owner)
            .await
            .unwrap();
    assert!(kept);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("drop database \"{theirs}\"")))
        .execute(&mut owner)
        .await
        .unwrap();
}

#[tokio::test]
async fn customer_databases_are_refused_where_the_role_may_not_create_any() {
    if pglab::testing::cluster().unwrap().is_none() {
        eprintln!("skipped: under DATABASE_URL the tests' role may create databases");
        return;
    }
    // No cluster of the lab's own: the learner's role is all the demo has, and it lacks
    // CREATEDB.
    let lab = lab().await;
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let error = pglab::demo::run(&lab.ctx, "tenancy.databases", &params(""), tx)
        .await
        .expect_err("refused without CREATEDB");
    assert!(
        matches!(error, pglab::demo::Error::Refused { .. }),
        "{error}"
    );
    assert_eq!(error.exit_code(), pglab::exit::EXIT_REFUSED);
    let message = error.to_string();
    assert!(
        message.contains("CREATEDB") && message.contains("DATABASE_URL"),
        "{message}"
    );
    assert_eq!(customers_left(&lab.db).await, 0);
}

#[tokio::test]
async fn two_tenants_see_their_own_posts_and_the_unfiltered_list_is_linted() {
    let lab = lab().await;
    let (report, _) = run(&lab.ctx, "tenancy.queries", "").await;
    let text = said(&report);
    // Outside the lab the demo serves alice; the other tenant's first user is charlie.
    assert!(
        text.contains("as alice · Acme Corp (org 1), $1 = 1 → 7 posts"),
        "{text}"
    );
    assert!(
        text.contains("as charlie · TechCo (org 2), $1 = 2 → 5 posts"),
        "{text}"
    );
    assert!(text.contains("Posts in both lists: 0."), "{text}");
    assert!(text.contains("→ 17 posts, of 3 tenants:"), "{text}");
    let rules: Vec<WarningRule> = report.warnings.iter().map(|w| w.rule).collect();
    assert_eq!(rules, [WarningRule::Tenancy], "{:?}", report.warnings);
    assert_eq!(report.warnings[0].subject, "posts");
    assert_eq!(report.statements, 3);
}

#[tokio::test]
async fn the_lists_start_with_the_user_the_lab_acts_as() {
    let lab = lab().await;
    let ctx = DemoContext {
        acting_as: Some(ActingAs {
            user_id: 4,
            username: "diana".into(),
            organization_id: 3,
            organization: "StartUp Inc".into(),
        }),
        ..lab.ctx.clone()
    };
    let (report, _) = run(&ctx, "tenancy.queries", "").await;
    let text = said(&report);
    assert!(
        text.contains("as diana · StartUp Inc (org 3), $1 = 3 → 5 posts"),
        "{text}"
    );
    // The first user of another tenant, by id.
    assert!(
        text.contains("as alice · Acme Corp (org 1), $1 = 1 → 7 posts"),
        "{text}"
    );
    assert!(
        report.title.starts_with("diana: 5 posts"),
        "{}",
        report.title
    );
}

#[tokio::test]
async fn the_tenant_index_is_used_and_nothing_outlives_the_demo() {
    let lab = lab().await;
    let (report, _) = run(&lab.ctx, "tenancy.index", "rows = 100000\ntenants = 1000").await;
    assert_eq!(report.plans.len(), 2);
    let (without, with) = (&report.plans[0].plan, &report.plans[1].plan);
    let index = "tenant_posts_organization_id_idx";
    assert!(without.nodes.iter().all(|n| n.index_name.is_none()));
    assert!(
        with.nodes
            .iter()
            .any(|n| n.index_name.as_deref() == Some(index)),
        "{:?}",
        with.nodes
            .iter()
            .map(|n| n.kind_label())
            .collect::<Vec<_>>()
    );
    let pages = |plan: &pglab::explain::Plan| plan.root().buffers.unwrap().pages_touched();
    assert!(
        pages(with) < pages(without),
        "{} vs {}",
        pages(with),
        pages(without)
    );
    let text = said(&report);
    assert!(text.contains("100,000 posts of 1,000 tenants"), "{text}");
    assert!(report.plans.iter().all(|p| p.median_ms > 0.0));
    let mut conn = lab.db.learner_conn().await.unwrap();
    let gone: bool = sqlx::query_scalar("select to_regclass('tenant_posts') is null")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(gone);
}
