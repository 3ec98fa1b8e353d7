//! The N+1 demos on a real server: their round trips counted exactly by their own proxy,
//! their warnings, the events passed on to the lab's log, and the scale table.

use std::collections::HashSet;
use std::time::Duration;

use pglab::data::demo::{DemoProgress, DemoReport};
use pglab::data::proxy::{Kind, ProxyEvent};
use pglab::data::warning::Raised;
use pglab::demo::{self, DemoContext};
use pglab::proxy::Latency;
use pglab::testing::TestDb;
use sqlx::Connection;
use tokio::sync::mpsc;

pub struct Lab {
    pub db: TestDb,
    pub log: mpsc::Receiver<ProxyEvent>,
    pub ctx: DemoContext,
}

pub async fn lab() -> Lab {
    let db = TestDb::create().await.unwrap();
    let (tx, log) = mpsc::channel(pglab::proxy::EVENT_BUFFER);
    let ctx = DemoContext {
        learner: db.learner.clone(),
        latency: Latency::default(),
        log: Some(tx),
        cluster: None,
        acting_as: None,
    };
    Lab { db, log, ctx }
}

pub fn params(toml_text: &str) -> toml::Table {
    toml::from_str(toml_text).unwrap()
}

pub async fn run(
    ctx: &DemoContext,
    name: &str,
    toml_text: &str,
) -> (DemoReport, Vec<DemoProgress>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let report = tokio::time::timeout(
        Duration::from_secs(120),
        demo::run(ctx, name, &params(toml_text), tx),
    )
    .await
    .expect("the demo finished within its hang guard")
    .unwrap();
    let progress = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    (report, progress)
}

fn n_plus_one_warnings(report: &DemoReport) -> Vec<&Raised> {
    report
        .warnings
        .iter()
        .filter(|w| w.starts_with("N+1"))
        .collect()
}

/// A report's lines as one text, spaces collapsed: its sentences are wrapped to the pane.
/// The report's lines as they are shown, one under the other.
pub fn said(report: &DemoReport) -> String {
    report.lines.join("\n")
}

/// The report as one line of words: its explaining sentences are wrapped to the pane.
pub fn flat(report: &DemoReport) -> String {
    said(report)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

async fn post_count(db: &TestDb) -> i64 {
    let mut conn = db.owner_conn().await.unwrap();
    sqlx::query_scalar("select count(*) from posts")
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_lazy_loop_costs_one_query_per_post_and_is_reported_as_n_plus_one() {
    let lab = lab().await;
    let (report, _) = run(&lab.ctx, "n_plus_one.lazy", "posts = 10").await;
    assert_eq!(report.of_kind(Kind::Query), 11, "{report:#?}");
    // Prepared before the loop: the measured round trips are the queries alone.
    assert_eq!(report.of_kind(Kind::Prepare), 0, "{report:#?}");
    assert_eq!(report.round_trips, 11);
    assert_eq!(report.statements, 11);
    assert_eq!(report.sessions, 1);
    let n_plus_one = n_plus_one_warnings(&report);
    assert_eq!(n_plus_one.len(), 1, "{:?}", report.warnings);
    assert!(n_plus_one[0].contains("10 ×"), "{}", n_plus_one[0]);
    // The newest post first, with its author's name.
    assert_eq!(report.lines[0], "Spring release notes — alice");
    assert!(flat(&report).contains("11 query round trips (1 + 10)"));
}

#[tokio::test]
async fn without_a_size_the_lazy_loop_lists_every_story_post() {
    let lab = lab().await;
    let (report, _) = run(&lab.ctx, "n_plus_one.lazy", "").await;
    // 18 posts in the story, one of them soft-deleted.
    assert_eq!(report.of_kind(Kind::Query), 18);
    assert!(
        report.lines.contains(&"… 7 more".to_string()),
        "{:?}",
        report.lines
    );
}

#[tokio::test]
async fn a_join_is_one_round_trip_and_no_n_plus_one() {
    let lab = lab().await;
    let (report, _) = run(&lab.ctx, "n_plus_one.join", "posts = 10").await;
    assert_eq!(report.of_kind(Kind::Query), 1);
    assert_eq!(report.round_trips, 1);
    assert!(
        n_plus_one_warnings(&report).is_empty(),
        "{:?}",
        report.warnings
    );
    assert_eq!(report.lines[0], "Spring release notes — alice");
}

#[tokio::test]
async fn batching_the_authors_is_two_round_trips() {
    let lab = lab().await;
    let (report, _) = run(&lab.ctx, "n_plus_one.batched", "posts = 10").await;
    assert_eq!(report.of_kind(Kind::Query), 2);
    assert!(
        n_plus_one_warnings(&report).is_empty(),
        "{:?}",
        report.warnings
    );
    assert_eq!(report.lines[0], "Spring release notes — alice");
}

#[tokio::test]
async fn a_default_pool_pings_on_every_acquire_of_an_idle_connection_and_every_release() {
    let lab = lab().await;
    let (report, _) = run(&lab.ctx, "n_plus_one.pool", "posts = 10").await;
    let fetches = 11;
    assert_eq!(report.of_kind(Kind::Query), fetches, "{report:#?}");
    // Every release pings; every acquire pings unless it opened a new connection.
    assert!(report.sessions >= 1);
    assert_eq!(
        report.of_kind(Kind::Ping),
        2 * fetches - report.sessions,
        "{report:#?}"
    );
    // Each connection prepares a statement the first time it runs it.
    let prepares = report.of_kind(Kind::Prepare);
    assert!((2..=2 * report.sessions).contains(&prepares), "{report:#?}");
}

#[tokio::test]
async fn every_event_of_a_demo_reaches_the_labs_log() {
    let mut lab = lab().await;
    let (report, _) = run(&lab.ctx, "n_plus_one.lazy", "posts = 5").await;
    let events: Vec<ProxyEvent> = std::iter::from_fn(|| lab.log.try_recv().ok()).collect();
    let mut sessions = HashSet::new();
    let mut round_trips = 0;
    let mut ended = HashSet::new();
    for event in &events {
        match event {
            ProxyEvent::SessionStarted { session, .. } => {
                assert_eq!(session.application_name, "pglab demo: lazy loop");
                sessions.insert(session.id);
            }
            ProxyEvent::RoundTrip(rt) => {
                assert!(sessions.contains(&rt.session));
                // Preparing the statements before the loop (and the type lookups that go
                // with it) reaches the log too; the report counts the loop.
                let catalog = rt.statements.iter().any(|s| {
                    pglab::sql::kind::statement_kind(&s.sql)
                        == pglab::sql::kind::StatementKind::CatalogLookup
                });
                if rt.shape != pglab::data::proxy::Shape::Prepare && !catalog {
                    round_trips += 1;
                }
            }
            ProxyEvent::SessionEnded { session, .. } => {
                ended.insert(*session);
            }
            _ => {}
        }
    }
    assert_eq!(sessions.len(), 1);
    assert_eq!(round_trips, report.round_trips);
    assert_eq!(ended, sessions, "the session's end is passed on too");
}

#[tokio::test]
async fn the_scale_table_is_measured_inside_a_transaction_that_leaves_nothing() {
    let lab = lab().await;
    let before = post_count(&lab.db).await;
    let (report, progress) = run(
        &lab.ctx,
        "n_plus_one.scale",
        "sizes = [5, 20]\nlatency = \"1ms\"",
    )
    .await;
    assert_eq!(post_count(&lab.db).await, before, "nothing persisted");

    let table = report.table.as_ref().unwrap();
    assert_eq!(
        table.columns,
        ["posts", "strategy", "round trips", "0 ms", "1 ms"]
    );
    let trips: Vec<(String, String, String)> = table
        .rows
        .iter()
        .map(|r| {
            let cell = |i: usize| r[i].clone().unwrap();
            (cell(0), cell(1), cell(2))
        })
        .collect();
    let expected = [
        ("5", "lazy", "6"),
        ("5", "join", "1"),
        ("5", "batched", "2"),
        ("20", "lazy", "21"),
        ("20", "join", "1"),
        ("20", "batched", "2"),
    ]
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
    assert_eq!(trips, expected);

    // Injected latency is a floor: 21 round trips at 1 ms cannot take less than 20 ms.
    let lazy_20_at_1ms = report
        .measurements
        .iter()
        .find(|m| m.posts == 20 && m.strategy == "lazy" && m.latency == Duration::from_millis(1))
        .unwrap();
    assert_eq!(lazy_20_at_1ms.round_trips, 21);
    assert!(
        lazy_20_at_1ms.wall >= Duration::from_millis(20),
        "{lazy_20_at_1ms:?}"
    );

    // Columns first, then each row as soon as it was measured.
    let rows: Vec<&DemoProgress> = progress
        .iter()
        .filter(|p| matches!(p, DemoProgress::TableColumns(_) | DemoProgress::TableRow(_)))
        .collect();
    assert_eq!(rows.len(), 7);
    assert!(matches!(rows[0], DemoProgress::TableColumns(_)));
    assert_eq!(rows[1], &DemoProgress::TableRow(table.rows[0].clone()));
    assert!(
        report.lines[..2].join(" ").contains("rolled back"),
        "{:?}",
        report.lines
    );
    assert_eq!(
        n_plus_one_warnings(&report).len(),
        2,
        "{:?}",
        report.warnings
    );
}

/// The wide JOIN sends each author's bio once per post; two queries send it once per author
/// and take one more round trip. The bytes are the proxy's, and nothing outlives the demo.
#[tokio::test]
async fn a_wide_join_is_measured_in_bytes_against_two_queries() {
    let lab = lab().await;
    let before = post_count(&lab.db).await;
    let (report, _) = run(
        &lab.ctx,
        "n_plus_one.wide",
        "posts = 40\nbio_kb = 4\nlatency = \"1ms\"",
    )
    .await;
    assert_eq!(post_count(&lab.db).await, before, "nothing persisted");
    let mut check = lab.db.learner_conn().await.unwrap();
    let bio: Option<String> = sqlx::query_scalar(
        "select column_name::text from information_schema.columns \
         where table_name = 'users' and column_name = 'bio'",
    )
    .fetch_optional(&mut check)
    .await
    .unwrap();
    assert_eq!(bio, None, "the bio column was rolled back");

    let table = report.table.as_ref().unwrap();
    assert_eq!(
        table.columns,
        ["fetch", "round trips", "rows", "received", "0 ms", "1 ms"]
    );
    let cell = |row: usize, column: usize| table.rows[row][column].clone().unwrap();
    assert_eq!(
        (cell(0, 0), cell(0, 1), cell(0, 2)),
        ("join".into(), "1".into(), "40".into())
    );
    assert_eq!(cell(1, 0), "two queries");
    assert_eq!(cell(1, 1), "2");
    // 40 posts by the story's 10 live authors, 4 each: the join repeats every bio 4 times.
    assert_eq!(cell(1, 2), "50");
    let received = |text: String| -> f64 {
        let (number, unit) = text.split_once(' ').unwrap();
        let scale = match unit {
            "B" => 1.0,
            "kB" => 1e3,
            "MB" => 1e6,
            other => panic!("unit {other}"),
        };
        number.parse::<f64>().unwrap() * scale
    };
    let (join, two) = (received(cell(0, 3)), received(cell(1, 3)));
    assert!(
        join >= 40.0 * 4000.0,
        "every row carries a 4 kB bio: {join}"
    );
    assert!(two < join / 3.0, "each bio once: {two} against {join}");
    let text = flat(&report);
    assert!(text.contains("by arithmetic"), "{text}");
    assert!(text.contains("medians of 5 runs"), "{text}");
    // One wall time per strategy and latency.
    assert_eq!(report.measurements.len(), 4);
}

/// Each request's round trips, read as `pglab proxy` reads them at a pause: the front page's
/// grow with its size, the author page's do not.
#[tokio::test]
async fn round_trips_are_counted_per_request() {
    let lab = lab().await;
    let (report, _) = run(&lab.ctx, "n_plus_one.endpoints", "").await;
    let table = report.table.as_ref().unwrap();
    assert_eq!(
        table.columns,
        [
            "request",
            "posts",
            "round trips",
            "rows",
            "received",
            "waited"
        ]
    );
    assert!(
        table
            .rows
            .iter()
            .all(|row| row.len() == table.columns.len())
    );
    let counts: Vec<(String, String)> = table
        .rows
        .iter()
        .map(|r| (r[0].clone().unwrap(), r[2].clone().unwrap()))
        .collect();
    let expected = [
        ("GET /posts?limit=5", "6"),
        ("GET /posts?limit=10", "11"),
        ("GET /users/1/posts?limit=5", "2"),
        ("GET /users/1/posts?limit=10", "2"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(counts, expected);
    let text = flat(&report);
    assert!(text.contains("an N+1"), "{text}");
    assert!(
        text.contains("── since the last pause: 6 round trips"),
        "{text}"
    );
    assert_eq!(
        n_plus_one_warnings(&report).len(),
        2,
        "{:?}",
        report.warnings
    );
}

#[test]
fn validation_names_the_demo_the_parameter_and_what_is_allowed() {
    let check = |name: &str, toml_text: &str| demo::validate(name, &params(toml_text));
    assert_eq!(check("n_plus_one.lazy", "posts = 10"), Ok(()));
    assert_eq!(check("n_plus_one.scale", ""), Ok(()));
    assert_eq!(
        check("n_plus_one.scale", "sizes = [1, 10000]\nlatency = \"20ms\""),
        Ok(())
    );

    let err = check("n_plus_one.eager", "").unwrap_err();
    assert!(
        err.contains("n_plus_one.eager") && err.contains("n_plus_one.join"),
        "{err}"
    );

    let err = check("n_plus_one.join", "limit = 3").unwrap_err();
    assert!(err.contains("`limit`") && err.contains("posts"), "{err}");

    let err = check("n_plus_one.lazy", "posts = \"ten\"").unwrap_err();
    assert!(
        err.contains("`posts`") && err.contains("from 1 to 10000"),
        "{err}"
    );

    let err = check("n_plus_one.lazy", "posts = 0").unwrap_err();
    assert!(err.contains("from 1 to 10000"), "{err}");

    let err = check("n_plus_one.scale", "sizes = [10, 20000]").unwrap_err();
    assert!(err.contains("`sizes`") && err.contains("10000"), "{err}");

    let err = check("n_plus_one.scale", "latency = \"50ms\"").unwrap_err();
    assert!(
        err.contains("`latency`") && err.contains("\"20ms\""),
        "{err}"
    );
}

/// The lab database as lines: its `lab` schema from the catalog (tables, columns,
/// constraints, indexes, policies, row-level-security switches, triggers, functions), the
/// story's rows, the sequences, the size of the audit log, the settings of the learner's
/// role and of the database, and leftover customer databases; relations named with a
/// prefix in `kept` are left out. What a demo must leave as it found it.
pub async fn lab_state(db: &TestDb, kept: &[&str]) -> Vec<String> {
    let mut conn = db.owner_conn().await.unwrap();
    let kept: Vec<String> = kept.iter().map(|k| k.to_string()).collect();
    let lines: Vec<String> = sqlx::query_scalar(
        "with rel as (
             select c.oid, c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity
             from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = 'lab' and c.relkind in ('r', 'v', 'm', 'S', 'p', 'f')
               and not (c.relname like any (select k || '%' from unnest($1::text[]) k))
         )
         select line from (
             select format('relation %s kind %s rls %s force %s', relname, relkind,
                           relrowsecurity, relforcerowsecurity) as line from rel
             union all
             select format('column %s.%s %s not null %s default %s', r.relname, a.attname,
                           format_type(a.atttypid, a.atttypmod), a.attnotnull,
                           pg_get_expr(d.adbin, d.adrelid))
             from rel r join pg_attribute a on a.attrelid = r.oid and a.attnum > 0
                                           and not a.attisdropped
             left join pg_attrdef d on d.adrelid = r.oid and d.adnum = a.attnum
             union all
             select format('constraint %s on %s: %s', co.conname, r.relname,
                           pg_get_constraintdef(co.oid))
             from rel r join pg_constraint co on co.conrelid = r.oid
             union all
             select format('index %s', pg_get_indexdef(i.indexrelid))
             from rel r join pg_index i on i.indrelid = r.oid
             union all
             select format('policy %s on %s: %s %s using %s check %s', p.policyname,
                           p.tablename, p.cmd, p.roles, p.qual, p.with_check)
             from pg_policies p where p.schemaname = 'lab'
             union all
             select format('trigger %s on %s enabled %s', t.tgname, r.relname, t.tgenabled)
             from rel r join pg_trigger t on t.tgrelid = r.oid and not t.tgisinternal
             union all
             select format('function %s', p.oid::regprocedure)
             from pg_proc p join pg_namespace n on n.oid = p.pronamespace
             where n.nspname = 'lab'
             union all
             select format('setting %s %s', coalesce(r.rolname, 'every role'), s.setconfig)
             from pg_db_role_setting s
             left join pg_roles r on r.oid = s.setrole
             where s.setdatabase in (0, (select oid from pg_database
                                         where datname = current_database()))
               and (s.setrole = 0 or r.rolname like 'pglab%')
             union all
             select format('database %s', datname) from pg_database
             where datname like 'pglab_customer_' || current_database() || '%'
             union all
             select format('audit events %s', count(*)) from audit.events
             union all
             select 'organization ' || o::text from lab.organizations o
             union all
             select 'user ' || u::text from lab.users u
             union all
             select 'post ' || p::text from lab.posts p
             union all
             select format('sequence %s last %s', s.sequencename, s.last_value)
             from pg_sequences s where s.schemaname = 'lab'
               and not (s.sequencename like any (select k || '%' from unnest($1::text[]) k))
         ) lines
         order by line",
    )
    .bind(&kept)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    lines
}

/// Runs `demo` with `params` as the lab acts when `acting_as` is unset (alice), and checks
/// that it left the lab database as it found it.
pub async fn run_unchanged(demo: &str, params: &str) -> DemoReport {
    let lab = lab().await;
    let before = lab_state(&lab.db, &[]).await;
    let (report, _) = run(&lab.ctx, demo, params).await;
    let after = lab_state(&lab.db, &[]).await;
    let changed: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
    let gone: Vec<&String> = before.iter().filter(|l| !after.contains(l)).collect();
    assert!(
        changed.is_empty() && gone.is_empty(),
        "{demo} changed the lab database: now {changed:#?}, gone {gone:#?}"
    );
    report
}
