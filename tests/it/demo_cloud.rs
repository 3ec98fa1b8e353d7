//! The cloud lesson's demos on a real server: the URL's parts and the server's answers agree
//! and the password never shows; the lost setting and prepared statement behind a
//! transaction pooler; what the lab can and cannot say of a server it did not create; the
//! same settings and tables on any server; the round trip's figures in order and the page's
//! round trips counted. Facts only, never timings.

use pglab::data::demo::DemoReport;

use super::demo::{flat, lab, run, said};

/// Every cell of the report's table, row by row.
fn cells(report: &DemoReport) -> Vec<Vec<String>> {
    let table = report.table.as_ref().expect("the demo reports a table");
    table
        .rows
        .iter()
        .map(|row| row.iter().map(|c| c.clone().unwrap_or_default()).collect())
        .collect()
}

fn row<'a>(rows: &'a [Vec<String>], first: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r[0] == first)
        .unwrap_or_else(|| panic!("no row {first} in {rows:?}"))
}

#[tokio::test]
async fn the_url_is_taken_apart_masked_and_confirmed_by_the_server() {
    let lab = lab().await;
    let url = sqlx::ConnectOptions::to_url_lossy(&lab.ctx.learner);
    let password = url
        .password()
        .expect("the learner has a password")
        .to_string();
    let (report, _) = run(&lab.ctx, "cloud.anatomy", "").await;
    let text = format!("{}\n{:?}", said(&report), report.table);
    assert!(!text.contains(&password), "the password leaked:\n{text}");
    assert!(
        text.contains(&format!("{}:****", lab.ctx.learner.get_username())),
        "{text}"
    );
    // Not the private cluster for this demo: it says where it runs.
    assert!(flat(&report).contains("The lab runs on the server DATABASE_URL names"));
    for part in [
        "scheme", "user", "password", "host", "port", "database", "sslmode",
    ] {
        assert!(
            report
                .lines
                .iter()
                .any(|l| l.starts_with(&format!("{part} "))),
            "no part {part}:\n{text}"
        );
    }
    let rows = cells(&report);
    let learner = &lab.ctx.learner;
    assert_eq!(row(&rows, "current_user")[1], learner.get_username());
    assert_eq!(
        row(&rows, "current_user")[2],
        format!("user {}", learner.get_username())
    );
    assert_eq!(row(&rows, "current_database()")[1], lab.db.name);
    assert_eq!(
        row(&rows, "inet_server_port()")[1],
        learner.get_port().to_string()
    );
    assert_eq!(
        report.round_trips,
        report.by_kind.iter().map(|(_, n)| n).sum::<u64>()
    );
}

#[tokio::test]
async fn a_transaction_pooler_loses_the_setting_and_the_prepared_statement() {
    let lab = lab().await;
    let (report, _) = run(&lab.ctx, "cloud.transaction_pooler", "").await;
    let text = said(&report);
    let (direct, pooled) = text
        .split_once("Transaction pooler, played by the lab")
        .expect("two runs");
    assert!(direct.contains("→ Asia/Tokyo"), "{direct}");
    assert!(!direct.contains("ERROR"), "{direct}");
    assert!(!pooled.contains("→ Asia/Tokyo"), "{pooled}");
    assert!(
        pooled.contains("✗ ERROR 26000: prepared statement \"newest_posts\" does not exist"),
        "{pooled}"
    );
    assert!(pooled.contains("  B  execute newest_posts"), "{pooled}");
    // Two server connections played the pooler's.
    assert_eq!(report.sessions, 2);
}

#[tokio::test]
async fn on_a_server_it_did_not_create_the_lab_says_which_figures_it_lacks() {
    let lab = lab().await;
    assert!(lab.ctx.cluster.is_none());
    let (report, _) = run(&lab.ctx, "cloud.local_vs_managed", "").await;
    let words = flat(&report);
    assert!(
        words.contains("the lab did not create this server"),
        "{words}"
    );
    assert!(
        words.contains("pg_database_size() of the lab's database says"),
        "{words}"
    );
    let rows = cells(&report);
    assert_eq!(row(&rows, "created")[1], "not available (see below)");
    assert!(row(&rows, "size")[1].starts_with("db "), "{rows:?}");
    assert_eq!(rows.len(), 6);
    if std::env::var("DATABASE_URL").is_err() {
        // The test server is a private cluster of the harness: loopback only.
        assert_eq!(row(&rows, "reachable")[1], "127.0.0.1: this machine only");
        assert!(words.contains("listen_addresses = '127.0.0.1', read from the server"));
    }
}

#[tokio::test]
async fn any_server_answers_version_settings_and_the_lesson_tables() {
    let lab = lab().await;
    let (report, _) = run(&lab.ctx, "cloud.server", "").await;
    let words = flat(&report);
    assert!(words.contains("select version() → PostgreSQL "), "{words}");
    let mut conn = lab.db.owner_conn().await.unwrap();
    let posts: i64 = sqlx::query_scalar("select count(*) from posts")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(words.contains(&format!("posts {posts} rows")), "{words}");
    let rows = cells(&report);
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        names[..3],
        ["server_version", "max_connections", "shared_buffers"]
    );
    let version: String = sqlx::query_scalar("show server_version")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(
        version.starts_with(&row(&rows, "server_version")[1]),
        "{version}"
    );
    assert!(!row(&rows, "statement_timeout")[1].is_empty());
}

/// The µs figure after `label` in `text` ("median 224 µs"), grouping commas removed.
fn micros_after(text: &str, label: &str) -> u64 {
    let rest = text
        .split(&format!("{label} "))
        .nth(1)
        .unwrap_or_else(|| panic!("no {label} in {text}"));
    let number = rest.split(" µs").next().unwrap().replace(',', "");
    number
        .parse()
        .unwrap_or_else(|_| panic!("{label}: {number}"))
}

#[tokio::test]
async fn the_round_trip_figures_are_in_order_and_the_page_counts_its_round_trips() {
    let lab = lab().await;
    let (report, progress) = run(
        &lab.ctx,
        "cloud.latency",
        "round_trips = 40\nsame_region = \"1ms\"\ncross_region = \"3ms\"\nbudget_ms = 50",
    )
    .await;
    let words = flat(&report);
    let min = micros_after(&words, "min");
    let median = micros_after(&words, "median");
    let p90 = micros_after(&words, "p90");
    let max = micros_after(&words, "max");
    assert!(min <= median && median <= p90 && p90 <= max, "{words}");
    assert!(
        words.contains("Measured: 40 round trips of `select 1`"),
        "{words}"
    );
    assert!(words.contains("Arithmetic on these figures"), "{words}");
    // Three distances, two pages each; the lazy page is 1 + 5 round trips at every one.
    assert_eq!(report.measurements.len(), 6);
    for m in &report.measurements {
        let expected = if m.strategy == "lazy" { 1 + m.posts } else { 1 };
        assert_eq!(m.round_trips, expected, "{m:?}");
    }
    let delays: Vec<u128> = report
        .measurements
        .iter()
        .map(|m| m.latency.as_millis())
        .collect();
    assert_eq!(delays, [0, 0, 1, 1, 3, 3]);
    // 40 timed queries, then the pages' queries: nothing else is counted.
    let pages: u64 = report.measurements.iter().map(|m| m.round_trips).sum();
    assert_eq!(report.round_trips, 40 + pages);
    assert_eq!(cells(&report).len(), 6);
    // The rows went out as they were measured.
    let rows_sent = progress
        .iter()
        .filter(|p| matches!(p, pglab::data::demo::DemoProgress::TableRow(_)))
        .count();
    assert_eq!(rows_sent, 6);
    // The lab's own knob is left as it was.
    assert!(lab.ctx.latency.round_trip().is_zero());
}
