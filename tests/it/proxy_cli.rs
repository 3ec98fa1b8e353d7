//! `pglab proxy` end to end: the binary in front of its own private server, psql through it,
//! the live log and the summary on Ctrl-C, as text and as JSON lines.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::{Scratch, assert_success, stderr, stdout};

/// A running `pglab proxy`, its output read up to the header's last line.
pub(crate) struct RunningProxy {
    child: Child,
    out: BufReader<ChildStdout>,
    header: String,
    /// The learner URL, pointed at the proxy.
    pub(crate) url: String,
}

impl RunningProxy {
    pub(crate) fn start(scratch: &Scratch, extra: &[&str]) -> Self {
        let mut child = scratch
            .pglab()
            .args(["proxy", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("pglab runs");
        let mut out = BufReader::new(child.stdout.take().expect("piped"));
        let mut header = String::new();
        // The last header line (text) or the header object (JSON) names Ctrl-C.
        while !header.contains("Ctrl-C") {
            let read = out.read_line(&mut header).expect("pglab proxy writes");
            assert!(read > 0, "pglab proxy ended early:\n{header}");
        }
        let addr = header
            .split_whitespace()
            .skip_while(|w| *w != "on")
            .nth(1)
            .unwrap_or_else(|| panic!("no address in:\n{header}"))
            .trim_end_matches(',')
            .to_string();
        let url_out = scratch.run(&["db", "url"]);
        assert_success(&url_out);
        let direct = stdout(&url_out).trim().to_string();
        let (front, rest) = direct.split_once('@').unwrap();
        let (_, database) = rest.split_once('/').unwrap();
        Self {
            child,
            out,
            header,
            url: format!("{front}@{addr}/{database}"),
        }
    }

    fn psql(&self, sql: &str) {
        let out = Command::new("psql")
            .args(["-X", "-q", "-d", &self.url, "-c", sql])
            .output()
            .expect("psql runs");
        assert!(out.status.success(), "psql: {}", stderr(&out));
    }

    /// Ctrl-C, then everything the proxy wrote after its header.
    pub(crate) fn stop(mut self) -> String {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGINT).unwrap();
        let mut rest = String::new();
        self.out.read_to_string(&mut rest).unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}\n{rest}");
        rest
    }
}

/// Posts of a tenant, then each post's author one by one: the N+1 loop, one statement per
/// line.
fn lazy_loop() -> String {
    let mut script = String::from(
        "select id, author_id from posts where organization_id = 1 and deleted_at is null order by id limit 4;\n",
    );
    for author in 1..=4 {
        script.push_str(&format!(
            "select username from users where id = {author} and organization_id = 1 and deleted_at is null;\n"
        ));
    }
    script.push_str("select 1;\n");
    script
}

#[test]
fn the_proxy_command_logs_each_session_and_round_trip_and_sums_up() {
    let scratch = Scratch::new("proxy-text");
    let proxy = RunningProxy::start(&scratch, &[]);
    assert!(
        proxy.header.contains("(the lab database)"),
        "{}",
        proxy.header
    );
    assert!(
        proxy.header.contains("****"),
        "password masked: {}",
        proxy.header
    );
    // One psql -c per statement: each is a session of its own.
    for statement in lazy_loop().lines() {
        proxy.psql(statement);
    }
    let log = proxy.stop();
    let sessions = log.matches("connected").count();
    assert_eq!(sessions, 6, "{log}");
    // The last psql may still be hanging up when Ctrl-C arrives.
    let closed = log.matches("closed by the client").count();
    assert!((5..=6).contains(&closed), "{log}");
    // No burst spans sessions: the same statements as one session's loop, but no N+1.
    assert!(!log.contains("N+1"), "{log}");
    assert!(log.contains("summary: "), "{log}");
    assert!(
        log.contains("× SELECT username FROM users WHERE id = ?"),
        "{log}"
    );
}

#[test]
fn a_loop_on_one_connection_is_reported_as_n_plus_one() {
    let scratch = Scratch::new("proxy-loop");
    let proxy = RunningProxy::start(&scratch, &[]);
    let mut psql = Command::new("psql")
        .args(["-X", "-q", "-d", &proxy.url])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut psql.stdin.take().unwrap(), lazy_loop().as_bytes()).unwrap();
    assert!(psql.wait().unwrap().success());
    let log = proxy.stop();
    assert!(log.contains("N+1: 1 query then 4 ×"), "{log}");
    assert!(log.contains("values arrive inside the SQL text"), "{log}");
    let queries = log.lines().filter(|l| l.starts_with('#')).count();
    assert_eq!(queries, 6, "{log}");
}

/// One request at a time, the way a learner loads a page of their own application: each
/// pause in the traffic gets one line with that request's count.
#[test]
fn each_pause_in_the_traffic_counts_the_request_before_it() {
    let scratch = Scratch::new("proxy-pause");
    let mut proxy = RunningProxy::start(&scratch, &[]);
    let mut psql = Command::new("psql")
        .args(["-X", "-q", "-d", &proxy.url])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut psql.stdin.take().unwrap(), lazy_loop().as_bytes()).unwrap();
    assert!(psql.wait().unwrap().success());
    // The line comes once the traffic has paused for a second.
    let mut seen = String::new();
    while !seen.contains("── since the last pause") {
        let read = proxy.out.read_line(&mut seen).expect("pglab proxy writes");
        assert!(read > 0, "pglab proxy ended early:\n{seen}");
    }
    let line = seen.lines().last().unwrap_or_default().to_string();
    // `select 1` ends the burst: a ping, as a pool's check is.
    assert!(line.contains("6 round trips (5 query, 1 ping)"), "{line}");
    assert!(
        line.contains("received") && line.contains("warning"),
        "{line}"
    );
    proxy.psql("select count(*) from organizations");
    let log = proxy.stop();
    assert!(
        log.contains("── since the last pause: 1 round trip (1 query)"),
        "{log}"
    );
}

#[test]
fn json_lines_are_one_object_each() {
    let scratch = Scratch::new("proxy-json");
    let proxy = RunningProxy::start(&scratch, &["--json"]);
    proxy.psql("select * from organizations");
    let log = proxy.stop();
    let kinds: Vec<String> = log
        .lines()
        .map(|line| {
            let value: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            value["type"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(kinds.contains(&"session_started".into()), "{kinds:?}");
    assert!(kinds.contains(&"round_trip".into()), "{kinds:?}");
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("summary"),
        "{kinds:?}"
    );
    let rows = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["type"] == "round_trip" && v["kind"] == "query")
        .map(|v| v["rows"].as_u64());
    assert_eq!(rows, Some(Some(3)), "{log}");
}

/// `0.0.0.0:0` is checked before the lab database is opened or a socket bound, so the refusal
/// needs no database and listens nowhere: it must exit 4 (request refused), not 1.
#[test]
fn listening_beyond_loopback_needs_an_explicit_flag() {
    let scratch = Scratch::new("proxy-remote");
    let out = scratch.run(&["proxy", "--listen", "0.0.0.0:0"]);
    assert_eq!(
        out.status.code(),
        Some(i32::from(pglab::EXIT_REFUSED)),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--allow-remote"), "{}", stderr(&out));
    assert!(
        !scratch.dir.join("cluster").exists(),
        "refused before starting anything"
    );
}

/// An upstream that asks for a client certificate is refused (exit 4) before anything
/// starts: the proxy encrypts its leg to the server but presents no certificate of its own.
#[test]
fn an_upstream_asking_for_a_client_certificate_is_refused() {
    let scratch = Scratch::new("proxy-tls");
    let out = scratch.run(&[
        "proxy",
        "--upstream",
        "postgres://someone@127.0.0.1:5999/db?sslmode=require&sslcert=/tmp/client.crt",
    ]);
    assert_eq!(
        out.status.code(),
        Some(i32::from(pglab::EXIT_REFUSED)),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("sslcert"), "{}", stderr(&out));
    assert!(
        !scratch.dir.join("cluster").exists(),
        "refused before starting anything"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_ends_open_sessions_cleanly_and_the_proxy_serves_new_ones() {
    use pglab::data::proxy::{ProxyEvent, SessionEnd};
    use pglab::proxy::{EVENT_BUFFER, Latency, Proxy};
    use sqlx::ConnectOptions;
    use sqlx::postgres::PgConnectOptions;

    let scratch = Scratch::new("proxy-restart");
    let mut serve = scratch.serve();
    let url = stdout(&scratch.run(&["db", "url", "--owner"]));
    let options: PgConnectOptions = url.trim().parse().unwrap();
    let (tx, mut events) = tokio::sync::mpsc::channel(EVENT_BUFFER);
    let (_proxy, routed) = Proxy::in_front_of(&options, Latency::default(), tx)
        .await
        .unwrap();
    let mut before = routed.connect().await.unwrap();
    sqlx::raw_sql("select 1")
        .execute(&mut before)
        .await
        .unwrap();

    assert_success(&scratch.run(&["db", "stop"]));
    serve.wait().unwrap();
    let end = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            if let Some(ProxyEvent::SessionEnded { end, .. }) = events.recv().await {
                return end;
            }
        }
    })
    .await
    .unwrap();
    match end {
        SessionEnd::ServerClosed { error: Some(e) } => assert_eq!(e.sqlstate, "57P01", "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(
        sqlx::raw_sql("select 1")
            .execute(&mut before)
            .await
            .is_err()
    );

    // The server comes back on the same port; the same proxy serves the next session.
    let mut serve = scratch.serve();
    let mut after = routed.connect().await.unwrap();
    let one: i32 = sqlx::query_scalar("select 1")
        .fetch_one(&mut after)
        .await
        .unwrap();
    assert_eq!(one, 1);
    kill(Pid::from_raw(serve.id() as i32), Signal::SIGINT).unwrap();
    serve.wait().unwrap();
}
