//! The proxy's leg to a server with `ssl = on`: a private cluster of its own whose
//! certificate authority and certificate (for `localhost` only) are made here, so every
//! `sslmode` can be tried against a real PostgreSQL in both CI runs (with or without
//! `DATABASE_URL`). Round trips must count the same over TLS as in plain text, and each
//! refusal must say what to change.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use pglab::data::proxy::{ProxyEvent, SessionEnd, Shape};
use pglab::db::cluster::{Layout, ServiceUser, Supervision, state_of};
use pglab::db::{Lab, LabConfig};
use pglab::proxy::{EVENT_BUFFER, Latency, Proxy, ProxyConfig, UpstreamTls};
use pglab::testing::TestDb;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::{ConnectOptions, Connection, Row};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::support::{Scratch, stderr};

/// The TLS server shared by this file's tests.
struct TlsServer {
    /// The owner of the lab database, at 127.0.0.1 and without TLS settings.
    owner: PgConnectOptions,
    /// The same as a URL, password included, for the binary and psql.
    owner_url: url::Url,
    /// The authority that signed the server's certificate.
    ca: PathBuf,
    /// An authority that signed nothing the server has.
    stranger_ca: PathBuf,
}

fn server() -> &'static TlsServer {
    static SERVER: OnceLock<Result<TlsServer, String>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            std::thread::spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?
                    .block_on(boot())
            })
            .join()
            .unwrap_or_else(|_| Err("the TLS server's boot thread panicked".into()))
        })
        .as_ref()
        .expect("the TLS test server starts")
}

/// A private lab cluster, then a certificate for `localhost` and `ssl = on`, picked up by a
/// reload: the cluster code stays as the lab runs it.
async fn boot() -> Result<TlsServer, String> {
    // Inside the harness's folder for this process, which later runs remove once it ended.
    let root = std::env::temp_dir()
        .join(format!("pglab-test-{}", std::process::id()))
        .join("tls-server");
    let _ = std::fs::remove_dir_all(&root);
    let lab = Lab::open(&LabConfig {
        database_url: None,
        data_dir: root.clone(),
        supervision: Supervision::InProcess,
    })
    .await
    .map_err(|e| e.to_string())?;
    let layout = Layout::new(&root);
    let pgdata = layout.pgdata();

    let (ca_pem, issuer) = authority("pglab test CA");
    let (stranger_pem, _) = authority("someone else's CA");
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let params =
        CertificateParams::new(vec!["localhost".to_string()]).map_err(|e| e.to_string())?;
    let cert = params.signed_by(&key, &issuer).map_err(|e| e.to_string())?;
    let ca = root.join("ca.pem");
    let stranger_ca = root.join("stranger-ca.pem");
    std::fs::write(&ca, ca_pem).map_err(|e| e.to_string())?;
    std::fs::write(&stranger_ca, stranger_pem).map_err(|e| e.to_string())?;
    // PostgreSQL reads its key only when the server's user owns it and nobody else can.
    let user = ServiceUser::for_this_process().map_err(|e| e.to_string())?;
    for (name, text, mode) in [
        ("server.crt", cert.pem(), 0o644),
        ("server.key", key.serialize_pem(), 0o600),
    ] {
        let path = pgdata.join(name);
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        std::fs::set_permissions(
            &path,
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(mode),
        )
        .map_err(|e| e.to_string())?;
        user.take_ownership(&path).map_err(|e| e.to_string())?;
    }
    let conf = pgdata.join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf).map_err(|e| e.to_string())?;
    text.push_str("\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
    std::fs::write(&conf, text).map_err(|e| e.to_string())?;
    let pglab::db::cluster::State::Running(pid_file) = state_of(&layout) else {
        return Err("the TLS test cluster is not running".into());
    };
    kill(Pid::from_raw(pid_file.pid), Signal::SIGHUP).map_err(|e| e.to_string())?;

    let owner = lab.owner.clone();
    // The reload is asynchronous: wait until the server accepts TLS.
    let tls = owner.clone().ssl_mode(PgSslMode::Require);
    let mut last = String::new();
    for _ in 0..100 {
        match tls.connect().await {
            Ok(conn) => {
                let _ = conn.close().await;
                let owner_url = url::Url::parse(lab.url(true)).map_err(|e| e.to_string())?;
                return Ok(TlsServer {
                    owner,
                    owner_url,
                    ca,
                    stranger_ca,
                });
            }
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("the test cluster never accepted TLS: {last}"))
}

/// A self-signed certificate authority: its PEM, and what signs with it.
fn authority(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), Issuer::new(params, key))
}

/// The same statements each time: simple queries, a prepared statement run twice, a
/// transaction. Returns the round trips the proxy saw, as shape and statement texts, and
/// whether the server saw TLS on the proxy's connection.
async fn workload(upstream: PgConnectOptions) -> (Vec<(Shape, Vec<String>)>, bool) {
    let (tx, mut events) = mpsc::channel(EVENT_BUFFER);
    let (_proxy, routed) = Proxy::in_front_of(&upstream, Latency::default(), tx)
        .await
        .unwrap();
    let mut conn = routed.connect().await.unwrap();
    sqlx::raw_sql("select 1; select 2")
        .execute(&mut conn)
        .await
        .unwrap();
    for id in [1_i64, 2] {
        sqlx::query("select $1::bigint + 1")
            .bind(id)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    }
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("select count(*) from pg_class")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let encrypted: bool = sqlx::query("select ssl from pg_stat_ssl where pid = pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    conn.close().await.unwrap();
    let mut round_trips = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let ProxyEvent::RoundTrip(rt) = event {
            let sql = rt.statements.iter().map(|s| s.sql.to_string()).collect();
            round_trips.push((rt.shape, sql));
        }
    }
    (round_trips, encrypted)
}

/// Connects through a proxy in front of `upstream`; the error the client was given, if any,
/// and how the proxy's session ended.
async fn try_through(upstream: PgConnectOptions) -> Result<(), (String, SessionEnd)> {
    let (tx, mut events) = mpsc::channel(EVENT_BUFFER);
    let (_proxy, routed) = Proxy::in_front_of(&upstream, Latency::default(), tx)
        .await
        .unwrap();
    match routed.connect().await {
        Ok(conn) => {
            conn.close().await.unwrap();
            Ok(())
        }
        Err(e) => {
            let end = tokio::time::timeout(Duration::from_secs(10), async {
                loop {
                    if let Some(ProxyEvent::SessionEnded { end, .. }) = events.recv().await {
                        return end;
                    }
                }
            })
            .await
            .expect("the session ended");
            Err((e.to_string(), end))
        }
    }
}

#[tokio::test]
async fn round_trips_over_tls_count_exactly_as_in_plain_text() {
    let server = server();
    let (plain, plain_encrypted) =
        workload(server.owner.clone().ssl_mode(PgSslMode::Disable)).await;
    let (tls, tls_encrypted) = workload(server.owner.clone().ssl_mode(PgSslMode::Require)).await;
    assert!(!plain_encrypted, "sslmode=disable stays plain text");
    assert!(tls_encrypted, "sslmode=require reaches the server over TLS");
    assert!(plain.len() >= 6, "{plain:#?}");
    assert_eq!(tls, plain);
}

#[tokio::test]
async fn verify_full_with_the_authority_and_the_right_host_name_connects() {
    let server = server();
    let options = server
        .owner
        .clone()
        .host("localhost")
        .ssl_mode(PgSslMode::VerifyFull)
        .ssl_root_cert(&server.ca);
    let (round_trips, encrypted) = workload(options).await;
    assert!(encrypted);
    assert!(!round_trips.is_empty());
}

#[tokio::test]
async fn verify_full_refuses_a_certificate_for_another_host_and_says_what_to_change() {
    let server = server();
    // The certificate names localhost; the URL names 127.0.0.1.
    let options = server
        .owner
        .clone()
        .ssl_mode(PgSslMode::VerifyFull)
        .ssl_root_cert(&server.ca);
    let (client_error, end) = try_through(options).await.unwrap_err();
    let SessionEnd::Failed(why) = end else {
        panic!("the session failed, not {end:?}");
    };
    for words in [
        "presented a certificate for localhost, not 127.0.0.1",
        "verify-full checks the host name",
        "sslmode=verify-ca",
    ] {
        assert!(why.contains(words), "{why}");
        assert!(client_error.contains(words), "{client_error}");
    }
}

#[tokio::test]
async fn verify_ca_accepts_the_same_certificate_whatever_name_it_holds() {
    let server = server();
    let options = server
        .owner
        .clone()
        .ssl_mode(PgSslMode::VerifyCa)
        .ssl_root_cert(&server.ca);
    try_through(options).await.unwrap();
}

/// libpq's rule: with a root certificate, `require` checks the chain too.
#[tokio::test]
async fn an_unknown_authority_is_refused_under_verify_ca_and_require_with_a_root_certificate() {
    let server = server();
    for mode in [PgSslMode::VerifyCa, PgSslMode::Require] {
        let options = server
            .owner
            .clone()
            .ssl_mode(mode)
            .ssl_root_cert(&server.stranger_ca);
        let (_, end) = try_through(options).await.unwrap_err();
        let SessionEnd::Failed(why) = end else {
            panic!("{end:?}")
        };
        assert!(why.contains("stranger-ca.pem"), "{why}");
        assert!(why.contains("sslrootcert=PATH"), "{why}");
    }
}

/// The harness's own server runs without TLS; a `DATABASE_URL` server may not, and then
/// there is nothing to test here.
async fn plain_server() -> Option<TestDb> {
    let db = TestDb::create().await.unwrap();
    let mut conn = db.owner_conn().await.unwrap();
    let ssl: String = sqlx::query_scalar("show ssl")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    if ssl == "on" {
        eprintln!("skipped: the test server has ssl = on");
        return None;
    }
    Some(db)
}

#[tokio::test]
async fn require_against_a_server_without_tls_fails_and_prefer_falls_back_to_plain_text() {
    let Some(db) = plain_server().await else {
        return;
    };
    let (_, end) = try_through(db.owner.clone().ssl_mode(PgSslMode::Require))
        .await
        .unwrap_err();
    let SessionEnd::Failed(why) = end else {
        panic!("{end:?}")
    };
    assert!(why.contains("does not accept TLS"), "{why}");
    assert!(why.contains("sslmode=prefer"), "{why}");
    let (round_trips, encrypted) = workload(db.owner.clone().ssl_mode(PgSslMode::Prefer)).await;
    assert!(!encrypted);
    assert!(!round_trips.is_empty());
}

/// A server (or someone in between) that says yes to TLS and then sends plain text: the
/// bytes are refused, never read as the server's answer.
#[tokio::test]
async fn plain_text_after_the_servers_yes_is_refused() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 8];
        socket.read_exact(&mut request).await.unwrap();
        // 'S', then a forged AuthenticationOk in the clear.
        socket.write_all(b"SR\0\0\0\x08\0\0\0\0").await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let options = PgConnectOptions::new_without_pgpass()
        .host("127.0.0.1")
        .port(addr.port())
        .username("someone")
        .ssl_mode(PgSslMode::Require);
    let (_, end) = try_through(options).await.unwrap_err();
    let SessionEnd::Failed(why) = end else {
        panic!("{end:?}")
    };
    assert!(why.contains("CVE-2021-23222"), "{why}");
}

/// A server (or something in between) that accepts the connection and never says a word:
/// the session gives up after the proxy's time limit, and the client and the session's end
/// name the server and the step that went silent, with TLS asked for and without.
#[tokio::test]
async fn a_server_that_accepts_and_stays_silent_is_given_up_on_with_the_silent_step_named() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    for (mode, silent_step) in [
        (
            PgSslMode::Require,
            "accepted the connection but did not answer the SSL request within 300 ms",
        ),
        (
            PgSslMode::Disable,
            "did not answer the startup message with its authentication request within 300 ms",
        ),
    ] {
        let upstream = PgConnectOptions::new_without_pgpass()
            .host("127.0.0.1")
            .port(addr.port())
            .username("someone")
            .ssl_mode(mode);
        let (tx, mut events) = mpsc::channel(EVENT_BUFFER);
        let proxy = Proxy::start(
            ProxyConfig {
                listen: "127.0.0.1:0".parse().unwrap(),
                upstream: addr.to_string(),
                tls: UpstreamTls::from_options(&upstream).unwrap(),
                upstream_timeout: Duration::from_millis(300),
                latency: Latency::default(),
            },
            tx,
        )
        .await
        .unwrap();
        let client_error = upstream
            .clone()
            .port(proxy.local_addr().port())
            .ssl_mode(PgSslMode::Disable)
            .connect()
            .await
            .unwrap_err()
            .to_string();
        let end = loop {
            if let Some(ProxyEvent::SessionEnded { end, .. }) = events.recv().await {
                break end;
            }
        };
        let SessionEnd::Failed(why) = end else {
            panic!("{end:?}")
        };
        let server = format!("the server at {addr} {silent_step}");
        assert!(why.contains(&server), "{why}");
        assert!(client_error.contains(&server), "{client_error}");
    }
}

/// `pglab proxy --upstream '…?sslmode=verify-full&sslrootcert=…'` with psql in front (plain
/// text on loopback): the header says how the server is reached, psql's statement is a
/// round trip in the log; with the wrong host name psql is told why.
#[test]
fn the_binary_proxies_psql_to_a_tls_server_and_explains_a_wrong_host() {
    let server = server();
    let scratch = Scratch::new("proxy-tls-psql");
    let mut upstream = server.owner_url.clone();
    upstream.set_host(Some("localhost")).unwrap();
    upstream
        .query_pairs_mut()
        .append_pair("sslmode", "verify-full")
        .append_pair("sslrootcert", server.ca.to_str().unwrap());
    let (header, proxy) = start_proxy(&scratch, upstream.as_str());
    assert!(
        header
            .contains("to the server   TLS with sslmode=verify-full: chain and host name checked"),
        "{header}"
    );
    let client = client_url(&header, &server.owner_url);
    let psql = Command::new("psql")
        .args(["-X", "-q", "-At", "-d", &client, "-c"])
        .arg("select 'through TLS', ssl from pg_stat_ssl where pid = pg_backend_pid()")
        .output()
        .unwrap();
    assert!(psql.status.success(), "psql: {}", stderr(&psql));
    assert_eq!(
        String::from_utf8_lossy(&psql.stdout).trim(),
        "through TLS|t"
    );
    let log = proxy.stop();
    assert!(log.contains("pg_stat_ssl"), "{log}");

    let mut wrong = server.owner_url.clone();
    wrong
        .query_pairs_mut()
        .append_pair("sslmode", "verify-full")
        .append_pair("sslrootcert", server.ca.to_str().unwrap());
    let (header, proxy) = start_proxy(&scratch, wrong.as_str());
    // The proxy's own catalog connection meets the same certificate: the header says so,
    // not that credentials are missing.
    let lint = lint_line(&header);
    assert!(lint.contains("not 127.0.0.1"), "{header}");
    assert!(lint.contains("sslmode=verify-ca"), "{header}");
    assert!(!lint.contains("user and password"), "{header}");
    let client = client_url(&header, &server.owner_url);
    let psql = Command::new("psql")
        .args(["-X", "-q", "-d", &client, "-c", "select 1"])
        .output()
        .unwrap();
    assert!(!psql.status.success());
    let told = stderr(&psql);
    assert!(
        told.contains("presented a certificate for localhost, not 127.0.0.1"),
        "{told}"
    );
    let log = proxy.stop();
    assert!(log.contains("not 127.0.0.1"), "{log}");
}

/// The lint is off for three reasons, each named with what to change: a server that refuses
/// TLS under `sslmode=require`, a refused password, no user at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lint_that_is_off_says_why() {
    let scratch = Scratch::new("proxy-tls-lint");
    let server = server();

    let mut refused = server.owner_url.clone();
    refused.set_password(Some("not-the-password")).unwrap();
    let (header, proxy) = start_proxy(&scratch, refused.as_str());
    let lint = lint_line(&header);
    assert!(lint.contains("user and password"), "{header}");
    assert!(lint.contains("password authentication failed"), "{header}");
    proxy.stop();

    let mut nobody = server.owner_url.clone();
    nobody.set_username("").unwrap();
    nobody.set_password(None).unwrap();
    let (header, proxy) = start_proxy(&scratch, nobody.as_str());
    assert!(lint_line(&header).contains("user and password"), "{header}");
    proxy.stop();

    let Some(db) = plain_server().await else {
        return;
    };
    let mut plain = url::Url::parse("postgres://127.0.0.1/").unwrap();
    plain.set_host(Some(db.owner.get_host())).unwrap();
    plain.set_port(Some(db.owner.get_port())).unwrap();
    plain.set_username(db.owner.get_username()).unwrap();
    let password = db.owner_password().unwrap();
    if !password.is_empty() {
        plain.set_password(Some(password)).unwrap();
    }
    plain.set_path(&db.name);
    plain.set_query(Some("sslmode=require"));
    let (header, proxy) = start_proxy(&scratch, plain.as_str());
    let lint = lint_line(&header);
    assert!(lint.contains("does not accept TLS"), "{header}");
    assert!(lint.contains("sslmode=prefer"), "{header}");
    assert!(!lint.contains("user and password"), "{header}");
    proxy.stop();
}

/// The header's "lint off" line, which must be there.
fn lint_line(header: &str) -> &str {
    header
        .lines()
        .find(|line| line.starts_with("lint off"))
        .unwrap_or_else(|| panic!("no lint off line in:\n{header}"))
}

/// A running `pglab proxy` and its output. Killed when dropped unstopped (a failed
/// assertion), so a failing test leaves no proxy behind to hold its pipe open.
struct ProxyProcess {
    child: std::process::Child,
    out: BufReader<std::process::ChildStdout>,
}

impl ProxyProcess {
    /// Stops the proxy as Ctrl-C does and returns what it printed after its header.
    fn stop(mut self) -> String {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGINT).unwrap();
        let mut rest = String::new();
        self.out.read_to_string(&mut rest).unwrap();
        assert!(self.child.wait().unwrap().success(), "{rest}");
        rest
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn start_proxy(scratch: &Scratch, upstream: &str) -> (String, ProxyProcess) {
    let mut child = scratch
        .pglab()
        .args(["proxy", "--listen", "127.0.0.1:0", "--upstream", upstream])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let mut proxy = ProxyProcess { child, out };
    let mut header = String::new();
    while !header.contains("Ctrl-C") {
        let read = proxy.out.read_line(&mut header).unwrap();
        assert!(read > 0, "pglab proxy ended early:\n{header}");
    }
    (header, proxy)
}

/// The owner's URL pointed at the proxy, in plain text (psql's side of the proxy).
fn client_url(header: &str, owner: &url::Url) -> String {
    let addr: std::net::SocketAddr = header
        .split_whitespace()
        .skip_while(|w| *w != "on")
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut url = owner.clone();
    url.set_host(Some(&addr.ip().to_string())).unwrap();
    url.set_port(Some(addr.port())).unwrap();
    url.set_query(Some("sslmode=disable"));
    url.to_string()
}
