//! The observing proxy on a real server: what real clients (sqlx, psql) send through it,
//! and the round trips it reports for them.

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use pglab::data::proxy::{Kind, ProxyEvent, RoundTrip, SessionEnd, Shape};
use pglab::proxy::{Latency, Proxy};
use pglab::query_log::{QueryLog, Warning};
use pglab::sql::n_plus_one::Finding;
use pglab::testing::TestDb;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgSslMode};
use sqlx::{ConnectOptions, Connection, Row};
use tokio::sync::mpsc;

/// A fresh database behind a proxy of its own on a free port.
pub struct Proxied {
    pub db: TestDb,
    pub proxy: Proxy,
    routed: PgConnectOptions,
    pub events: mpsc::Receiver<ProxyEvent>,
}

impl Proxied {
    pub async fn start() -> Self {
        let db = TestDb::create().await.unwrap();
        let (tx, events) = mpsc::channel(pglab::proxy::EVENT_BUFFER);
        let (proxy, routed) = Proxy::in_front_of(&db.owner, Latency::default(), tx)
            .await
            .unwrap();
        Self {
            db,
            proxy,
            routed,
            events,
        }
    }

    /// The owner's connection options, pointed at the proxy.
    pub fn options(&self) -> PgConnectOptions {
        self.routed.clone()
    }

    /// A connection through the proxy, its startup events already consumed.
    pub async fn connect(&mut self) -> PgConnection {
        let conn = self.options().connect().await.unwrap();
        self.take();
        conn
    }

    /// Every event reported so far. The proxy reports a round trip before passing its
    /// answer on, so once a client call returned, its events are here.
    pub fn take(&mut self) -> Vec<ProxyEvent> {
        std::iter::from_fn(|| self.events.try_recv().ok()).collect()
    }

    pub fn round_trips(&mut self) -> Vec<RoundTrip> {
        self.take()
            .into_iter()
            .filter_map(|e| match e {
                ProxyEvent::RoundTrip(rt) => Some(rt),
                _ => None,
            })
            .collect()
    }

    /// Waits (up to 10 s) for the next event that `pick` accepts.
    pub async fn wait_for<T>(&mut self, mut pick: impl FnMut(ProxyEvent) -> Option<T>) -> T {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let event = self.events.recv().await.expect("the proxy is running");
                if let Some(found) = pick(event) {
                    return found;
                }
            }
        })
        .await
        .expect("the event arrived within 10 s")
    }
}

fn shapes(rts: &[RoundTrip]) -> Vec<Shape> {
    rts.iter().map(|rt| rt.shape).collect()
}

#[tokio::test]
async fn a_simple_query_is_one_round_trip_with_its_rows() {
    let mut p = Proxied::start().await;
    let mut conn = p.connect().await;
    sqlx::raw_sql("select id from users order by id limit 3")
        .execute(&mut conn)
        .await
        .unwrap();
    let rts = p.round_trips();
    assert_eq!(shapes(&rts), [Shape::Execute]);
    let statement = &rts[0].statements[0];
    assert_eq!(&*statement.sql, "select id from users order by id limit 3");
    assert_eq!((statement.completed, statement.rows), (1, 3));
    assert_eq!(rts[0].error, None);
}

#[tokio::test]
async fn a_prepared_statement_costs_two_round_trips_first_and_one_after() {
    let mut p = Proxied::start().await;
    let mut conn = p.connect().await;
    for _ in 0..2 {
        sqlx::query("select username from users where id = $1")
            .bind(1_i64)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    }
    let rts = p.round_trips();
    assert_eq!(
        shapes(&rts),
        [Shape::Prepare, Shape::Execute, Shape::Execute]
    );
    assert_eq!(rts[1].statements[0].params, rts[2].statements[0].params);
}

#[tokio::test]
async fn a_lazy_loop_costs_one_round_trip_per_row_and_a_join_costs_one() {
    let mut p = Proxied::start().await;
    let mut conn = p.connect().await;
    let posts: Vec<(i64, i64)> =
        sqlx::query_as("select id, author_id from posts order by id limit 10")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    for (_, author) in &posts {
        sqlx::query("select username from users where id = $1")
            .bind(author)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    }
    let rts = p.round_trips();
    let executed = rts.iter().filter(|rt| rt.shape == Shape::Execute).count();
    assert_eq!(executed, 11);
    assert_eq!(
        rts.iter().filter(|rt| rt.shape == Shape::Prepare).count(),
        2
    );

    sqlx::query("select p.id, u.username from posts p join users u on u.id = p.author_id order by p.id limit 10")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let rts = p.round_trips();
    assert_eq!(shapes(&rts), [Shape::Prepare, Shape::Execute]);
    assert_eq!(rts[1].statements[0].rows, 10);
}

#[tokio::test]
async fn a_transaction_shows_begin_statements_and_commit() {
    let mut p = Proxied::start().await;
    let mut conn = p.connect().await;
    let mut tx = conn.begin().await.unwrap();
    sqlx::raw_sql("update posts set title = title || '!' where id <= 2")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let rts = p.round_trips();
    let sql: Vec<_> = rts
        .iter()
        .map(|rt| rt.statements[0].sql.to_ascii_lowercase())
        .collect();
    assert_eq!(sql.len(), 3, "{sql:?}");
    assert!(sql[0].starts_with("begin"), "{sql:?}");
    assert_eq!(rts[1].statements[0].rows, 2);
    assert_eq!(rts[1].transaction, b'T');
    assert_eq!(sql[2], "commit");
    assert_eq!(rts[2].transaction, b'I');
}

#[tokio::test]
async fn a_multi_statement_query_is_one_round_trip_of_several_statements() {
    let mut p = Proxied::start().await;
    let mut conn = p.connect().await;
    sqlx::raw_sql("select 1; select 2; select * from organizations")
        .execute(&mut conn)
        .await
        .unwrap();
    let rts = p.round_trips();
    assert_eq!(rts.len(), 1);
    assert_eq!(rts[0].statements[0].completed, 3);
    assert_eq!(rts[0].statements[0].rows, 1 + 1 + 3);
}

#[tokio::test]
async fn an_error_is_reported_with_its_sqlstate_and_the_session_goes_on() {
    let mut p = Proxied::start().await;
    let mut conn = p.connect().await;
    let err = sqlx::raw_sql("select * from no_such_table")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no_such_table"));
    sqlx::raw_sql("select 1").execute(&mut conn).await.unwrap();
    let rts = p.round_trips();
    assert_eq!(rts.len(), 2);
    let error = rts[0].error.as_ref().unwrap();
    assert_eq!(error.sqlstate, "42P01");
    assert_eq!(error.position, Some(15));
    assert!(rts[0].statements[0].failed);
    assert_eq!(rts[1].error, None);
}

#[tokio::test]
async fn copy_in_and_out_pass_through_with_their_row_counts() {
    let mut p = Proxied::start().await;
    let mut conn = p.connect().await;
    sqlx::raw_sql("create temporary table numbers (n int)")
        .execute(&mut conn)
        .await
        .unwrap();
    let mut sink = conn.copy_in_raw("copy numbers from stdin").await.unwrap();
    sink.send(&b"1\n2\n3\n"[..]).await.unwrap();
    assert_eq!(sink.finish().await.unwrap(), 3);
    let out: Vec<_> = conn
        .copy_out_raw("copy numbers to stdout")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(out.concat(), b"1\n2\n3\n");
    let rows: Vec<u64> = p
        .round_trips()
        .iter()
        .filter(|rt| rt.statements.iter().any(|s| s.sql.contains("copy")))
        .map(|rt| rt.statements[0].rows)
        .collect();
    assert_eq!(rows, [3, 3]);
}

#[tokio::test]
async fn listen_and_notify_pass_through() {
    let mut p = Proxied::start().await;
    let mut listener = PgListener::connect_with(&p.proxy_pool_options())
        .await
        .unwrap();
    listener.listen("lab_events").await.unwrap();
    let mut conn = p.connect().await;
    sqlx::raw_sql("notify lab_events, 'hello'")
        .execute(&mut conn)
        .await
        .unwrap();
    let note = tokio::time::timeout(Duration::from_secs(10), listener.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((note.channel(), note.payload()), ("lab_events", "hello"));
}

impl Proxied {
    /// A pool of one connection through the proxy (what `PgListener` wants).
    fn proxy_pool_options(&self) -> sqlx::PgPool {
        sqlx::pool::PoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(self.options())
    }
}

#[tokio::test]
async fn psql_works_through_the_proxy_and_names_itself() {
    let mut p = Proxied::start().await;
    let options = p.options();
    let output = tokio::process::Command::new("psql")
        .args(["-X", "-A", "-t", "-c", "select count(*) from users"])
        .env("PGHOST", options.get_host())
        .env("PGPORT", options.get_port().to_string())
        .env("PGUSER", options.get_username())
        .env("PGDATABASE", options.get_database().unwrap())
        .env("PGPASSWORD", p.db.owner_password().unwrap())
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "10");
    let events = p.take();
    let started = events.iter().find_map(|e| match e {
        ProxyEvent::SessionStarted { session, .. } => Some(session.clone()),
        _ => None,
    });
    assert_eq!(started.unwrap().application_name, "psql");
    let counted = events.iter().any(|e| {
        matches!(e, ProxyEvent::RoundTrip(rt)
        if rt.statements.iter().any(|s| s.sql.contains("count(*)") && s.rows == 1))
    });
    assert!(counted, "{events:?}");
    let ended = match events.iter().find_map(|e| match e {
        ProxyEvent::SessionEnded { end, .. } => Some(end.clone()),
        _ => None,
    }) {
        Some(end) => end,
        None => {
            p.wait_for(|e| match e {
                ProxyEvent::SessionEnded { end, .. } => Some(end),
                _ => None,
            })
            .await
        }
    };
    assert_eq!(ended, SessionEnd::ClientClosed);
}

#[tokio::test]
async fn a_server_that_ends_the_session_is_reported_and_new_sessions_still_work() {
    let mut p = Proxied::start().await;
    let mut victim = p.connect().await;
    let pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&mut victim)
        .await
        .unwrap();
    let mut admin = p.db.owner_conn().await.unwrap();
    sqlx::query("select pg_terminate_backend($1)")
        .bind(pid)
        .execute(&mut admin)
        .await
        .unwrap();
    let end = p
        .wait_for(|e| match e {
            ProxyEvent::SessionEnded { end, .. } => Some(end),
            _ => None,
        })
        .await;
    match end {
        SessionEnd::ServerClosed { error: Some(error) } => assert_eq!(error.sqlstate, "57P01"),
        other => panic!("{other:?}"),
    }
    assert!(
        sqlx::raw_sql("select 1")
            .execute(&mut victim)
            .await
            .is_err()
    );
    let mut fresh = p.connect().await;
    let one: i32 = sqlx::query_scalar("select 1")
        .fetch_one(&mut fresh)
        .await
        .unwrap();
    assert_eq!(one, 1);
}

#[tokio::test]
async fn latency_is_paid_once_per_round_trip_and_at_startup() {
    let mut p = Proxied::start().await;
    let delay = Duration::from_millis(30);
    p.proxy.latency().set(delay, Duration::ZERO);
    let started = Instant::now();
    let mut conn = p.options().connect().await.unwrap();
    // The simulated handshake, the startup message, two SCRAM steps: four round trips.
    assert!(started.elapsed() >= delay * 4, "{:?}", started.elapsed());
    let startup = p
        .wait_for(|e| match e {
            ProxyEvent::SessionStarted {
                startup_round_trips,
                startup,
                ..
            } => Some((startup_round_trips, startup)),
            _ => None,
        })
        .await;
    // The startup message and two SCRAM messages, and the SSL request if one was sent.
    let ssl_request = u32::from(!matches!(p.options().get_ssl_mode(), PgSslMode::Disable));
    assert_eq!(startup.0, 3 + ssl_request);
    assert!(startup.1 >= delay * 4, "{startup:?}");

    let started = Instant::now();
    for _ in 0..5 {
        sqlx::raw_sql("select 1").execute(&mut conn).await.unwrap();
    }
    assert!(started.elapsed() >= delay * 5, "{:?}", started.elapsed());
    let rts = p.round_trips();
    assert_eq!(rts.len(), 5);
    assert!(rts.iter().all(|rt| rt.duration >= delay), "{rts:?}");

    // Turned off again mid-session, and the bytes still arrive unchanged.
    p.proxy.latency().set(Duration::ZERO, Duration::ZERO);
    let row = sqlx::query("select 'still here' as s")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("s"), "still here");
}

/// Feeds everything the proxy reported so far to a query log that lints with the live
/// catalog's facts.
async fn recorded(p: &mut Proxied, log: &mut QueryLog) -> Vec<Warning> {
    let mut warnings = Vec::new();
    for event in p.take() {
        warnings.extend(log.record(event).1);
    }
    warnings
}

fn n_plus_one(warnings: &[Warning]) -> Vec<usize> {
    warnings
        .iter()
        .filter_map(|w| match w {
            Warning::Pattern(Finding::NPlusOne { count, .. }) => Some(*count),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn the_recorder_finds_the_lazy_loop_and_not_the_join() {
    let mut p = Proxied::start().await;
    let mut owner = p.db.owner_conn().await.unwrap();
    let facts = pglab::db::catalog::table_facts(&mut owner).await.unwrap();
    assert!(facts.is_tenant("posts") && facts.is_soft_delete("users"));
    assert!(!facts.is_tenant("organizations"));
    let mut log = QueryLog::new(1000, facts);
    let mut conn = p.connect().await;
    let session = log.open_scope("lazy loop", None);

    let authors: Vec<i64> = sqlx::query_scalar(
        "select author_id from posts where organization_id = $1 and deleted_at is null order by id limit 10",
    )
    .bind(1_i64)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for author in &authors {
        sqlx::query("select username from users where id = $1 and organization_id = $2 and deleted_at is null")
            .bind(author)
            .bind(1_i64)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    }
    recorded(&mut p, &mut log).await;
    let report = log.close_scope(session).unwrap();
    assert_eq!(report.totals.of_kind(Kind::Query), 1 + authors.len() as u64);
    assert_eq!(n_plus_one(&report.warnings), [authors.len()]);
    assert!(
        report
            .warnings
            .iter()
            .all(|w| !matches!(w, Warning::Lint { .. })),
        "tenant-checked queries: {:?}",
        report.warnings
    );

    let join = log.open_scope("join", None);
    sqlx::query(
        "select p.title, u.username from posts p join users u on u.id = p.author_id
          where p.organization_id = $1 and u.organization_id = $1
            and p.deleted_at is null and u.deleted_at is null",
    )
    .bind(1_i64)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    recorded(&mut p, &mut log).await;
    let report = log.close_scope(join).unwrap();
    assert_eq!(report.totals.of_kind(Kind::Query), 1);
    assert_eq!(report.warnings, []);
}

#[tokio::test]
async fn the_recorder_lints_live_traffic_against_the_live_catalog() {
    let mut p = Proxied::start().await;
    let mut owner = p.db.owner_conn().await.unwrap();
    let facts = pglab::db::catalog::table_facts(&mut owner).await.unwrap();
    // pglab's own audit log has an organization_id, but it is no application table: written
    // by a trigger, never through the proxy, and it refuses every update and delete.
    assert!(facts.is_tenant("posts") && !facts.is_tenant("audit.events"));
    let mut log = QueryLog::new(1000, facts);
    let mut conn = p.connect().await;
    sqlx::raw_sql(
        "select * from posts where id = 1;
         select * from organizations where id = 1;
         select * from users where email = '' or '1' = '1';",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let messages: Vec<String> = recorded(&mut p, &mut log)
        .await
        .iter()
        .map(Warning::message)
        .collect();
    let about = |needle: &str| messages.iter().filter(|m| m.contains(needle)).count();
    assert!(
        about("organization_id") >= 2,
        "posts and users: {messages:?}"
    );
    assert!(about("deleted_at") >= 2, "{messages:?}");
    assert_eq!(
        about("organizations "),
        0,
        "not a tenant table: {messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("'1' = '1'") || m.contains("constant")),
        "{messages:?}"
    );

    // A table created now is linted from the catalog as it is now.
    sqlx::raw_sql("create table lab.invoices (id bigint, organization_id bigint)")
        .execute(&mut owner)
        .await
        .unwrap();
    log.set_facts(pglab::db::catalog::table_facts(&mut owner).await.unwrap());
    sqlx::raw_sql("select * from lab.invoices")
        .execute(&mut conn)
        .await
        .unwrap();
    let messages: Vec<String> = recorded(&mut p, &mut log)
        .await
        .iter()
        .map(Warning::message)
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("invoices")),
        "{messages:?}"
    );
}
