//! `pglab proxy`: the observing proxy in front of the lab database (or any server), with a
//! live log on stdout — one line per round trip, N+1 and lint warnings inline, a count of
//! round trips each time the traffic pauses (one request's worth, when a page is loaded at a
//! time), a summary on Ctrl-C — as text or as JSON lines for tools.

use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::proxy_log::LogWriter;
use super::{ProxyArgs, Refused};
use crate::data::proxy::ProxyEvent;
use crate::db::{self, Lab, LabConfig};
use crate::proxy::tls::UPSTREAM_TIMEOUT;
use crate::proxy::{Latency, Proxy, ProxyConfig, UpstreamTls};
use crate::query_log::{DEFAULT_CAPACITY, QueryLog};
use crate::sql::lint::TableFacts;

/// After this long without traffic (or twice the simulated round trip, if longer), a burst
/// of repeats is over: report its N+1.
const IDLE: Duration = Duration::from_secs(1);
/// How often the log is written out.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

pub async fn run(config: &LabConfig, args: &ProxyArgs) -> anyhow::Result<()> {
    if !args.listen.ip().is_loopback() && !args.allow_remote {
        return Err(Refused(format!(
            "{} is reachable from other machines, and the proxy passes anyone who reaches it on \
             to the database. Add --allow-remote if that is what you want.",
            args.listen
        ))
        .into());
    }
    // The lab stays open (and its private server up) for as long as the proxy runs.
    let (lab, upstream) = match &args.upstream {
        Some(url) => (None, Upstream::from_url(url)?),
        None => {
            let lab = Lab::open(config).await?;
            let upstream = Upstream::from_lab(&lab)?;
            (Some(lab), upstream)
        }
    };
    let (tx, mut events) = mpsc::channel(crate::proxy::EVENT_BUFFER);
    let proxy = Proxy::start(
        ProxyConfig {
            listen: args.listen,
            upstream: upstream.address.clone(),
            tls: upstream.tls.clone(),
            upstream_timeout: UPSTREAM_TIMEOUT,
            latency: Latency::new(args.latency, args.jitter),
        },
        tx,
    )
    .await?;
    // Without the catalog the lint is off, and the header says why.
    let (mut catalog, facts, lint_off) = match open_catalog(&upstream).await {
        Ok((conn, facts)) => (Some(conn), facts, None),
        Err(why) => (None, TableFacts::default(), Some(why)),
    };
    let mut log = QueryLog::new(DEFAULT_CAPACITY, facts);
    log.set_threshold(args.n_plus_one);
    // Listening before the header goes out: whoever read the address may press Ctrl-C at
    // once, and must get the summary rather than the default end of the process.
    let mut interrupted = signal(SignalKind::interrupt())?;
    let mut out = LogWriter::new(super::stdout(), args.json);
    out.header(&header(&proxy, &upstream, args, lint_off.as_deref()))?;
    if !args.listen.ip().is_loopback() {
        out.notice(&format!(
            "warning: listening on {}, reachable from other machines",
            args.listen
        ))?;
    }
    for warning in lab.iter().flat_map(|lab| &lab.warnings) {
        out.notice(&format!("warning: {warning}"))?;
    }
    // Lines are written in batches: a write per round trip would cost more than the relay.
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut last_event = Instant::now();
    // With a simulated distance, statements of one loop arrive further apart.
    let idle = IDLE.max(2 * args.latency + args.jitter);
    loop {
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break };
                last_event = Instant::now();
                let schema_changed = changes_schema(&event);
                write_event(&mut out, &mut log, event)?;
                if schema_changed && let Some(conn) = &mut catalog
                    && let Ok(facts) = db::catalog::table_facts(conn).await
                {
                    log.set_facts(facts);
                }
            }
            _ = tick.tick() => {
                // A burst of repeats is over once the traffic pauses: report its N+1, then
                // what the traffic since the last pause added up to (a request's worth, when
                // one request at a time is made).
                if last_event.elapsed() >= idle {
                    let warnings = log.finish_bursts(None);
                    out.warnings(None, &warnings)?;
                    if let Some(since) = log.pause() {
                        out.pause(&since)?;
                    }
                }
                out.flush()?;
            }
            _ = interrupted.recv() => break,
        }
    }
    // What the sessions reported before Ctrl-C still belongs in the log and the summary.
    while let Ok(event) = events.try_recv() {
        write_event(&mut out, &mut log, event)?;
    }
    let warnings = log.finish_bursts(None);
    out.warnings(None, &warnings)?;
    if let Some(since) = log.pause() {
        out.pause(&since)?;
    }
    out.summary(&log)?;
    out.flush()?;
    drop(proxy);
    drop(lab);
    Ok(())
}

/// Records `event` and writes it with the warnings it raised.
fn write_event<W: Write>(
    out: &mut LogWriter<W>,
    log: &mut QueryLog,
    event: ProxyEvent,
) -> std::io::Result<()> {
    let session = match &event {
        ProxyEvent::RoundTrip(rt) => Some(rt.session),
        ProxyEvent::SessionEnded { session, .. } => Some(*session),
        _ => None,
    };
    // Round trips are written from their log entry, which knows their kind; a session's
    // last warnings go before its end.
    let ended = matches!(event, ProxyEvent::SessionEnded { .. }).then(|| event.clone());
    if ended.is_none() && !matches!(event, ProxyEvent::RoundTrip(_)) {
        out.event(&event)?;
    }
    let (entry, warnings) = log.record(event);
    match entry {
        Some(entry) => {
            // A burst's warnings go after the burst, before the round trip that ended it.
            out.warnings(session, &entry.earlier)?;
            out.round_trip(&entry)?;
            out.warnings(session, &entry.warnings)?;
        }
        None => out.warnings(session, &warnings)?,
    }
    match ended {
        Some(event) => out.event(&event),
        None => Ok(()),
    }
}

/// Where the proxy forwards to, and how the proxy itself may read that server's catalog.
struct Upstream {
    /// `host:port`.
    address: String,
    /// Whether and how the proxy encrypts its connection to the server.
    tls: UpstreamTls,
    /// What to tell the user: the server, and the URL to connect to the proxy with.
    description: String,
    /// A URL for clients, pointing at the proxy (password masked), once the port is known.
    client_url: Option<url::Url>,
    catalog: Option<PgConnectOptions>,
}

impl Upstream {
    fn from_lab(lab: &Lab) -> anyhow::Result<Self> {
        Ok(Self {
            address: crate::proxy::upstream_address(&lab.learner)?,
            tls: UpstreamTls::from_options(&lab.learner)?,
            description: "the lab database".into(),
            client_url: url::Url::parse(lab.url(false)).ok(),
            catalog: Some(lab.owner.clone()),
        })
    }

    fn from_url(url: &str) -> anyhow::Result<Self> {
        crate::conninfo::check_scheme(url)
            .map_err(|why| super::Refused(format!("--upstream {why}")))?;
        let parsed = url::Url::parse(url).context("--upstream is not a URL")?;
        let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
            bail!(
                "--upstream needs a host and port (postgres://host:5432/db); unix sockets are \
                 not supported"
            );
        };
        // The proxy's own leg to the server follows the URL's sslmode; clients still reach
        // the proxy in plain text on loopback.
        let tls = UpstreamTls::from_url(&parsed)?;
        let port = parsed.port().unwrap_or(5432);
        // Credentials in the URL let the proxy read the catalog for the lint.
        let catalog = if parsed.username().is_empty() {
            None
        } else {
            PgConnectOptions::from_url(&parsed).ok()
        };
        Ok(Self {
            address: format!("{host}:{port}"),
            tls,
            description: db::mask_password(url),
            client_url: Some(parsed),
            catalog,
        })
    }
}

/// The proxy's own connection to the server, which reads the tables the lint needs to know
/// (tenant and soft-delete columns); or why there is none, in the failure's own words and
/// with what to change.
async fn open_catalog(upstream: &Upstream) -> Result<(PgConnection, TableFacts), String> {
    let Some(options) = &upstream.catalog else {
        return Err(
            "the proxy reads the server's tables with the credentials in --upstream, which \
             has none; give it a user and password"
                .into(),
        );
    };
    let mut conn = match db::connect(options).await {
        Ok(conn) => conn,
        Err(db::Error::Connect { cause, .. }) => return Err(connect_failure(upstream, cause).await),
        Err(other) => return Err(one_line(&other.to_string())),
    };
    match db::catalog::table_facts(&mut conn).await {
        Ok(facts) => Ok((conn, facts)),
        Err(e) => Err(format!(
            "the proxy could not read the server's tables: {}",
            one_line(&e.to_string())
        )),
    }
}

/// Why the catalog connection failed. A refused login is the credentials' fault; anything
/// else, when TLS is asked for, is tried again the way the proxy reaches the server for its
/// sessions, whose refusal names the setting to change (and is what clients will meet too).
async fn connect_failure(upstream: &Upstream, cause: sqlx::Error) -> String {
    if let sqlx::Error::Database(e) = &cause
        && matches!(e.code().as_deref(), Some("28P01" | "28000"))
    {
        return format!(
            "the server refused the proxy's login ({}); check the user and password in \
             --upstream",
            e.message()
        );
    }
    if upstream.tls.asks_for_tls()
        && let Err(refused) = upstream
            .tls
            .connect(&upstream.address, Duration::ZERO, UPSTREAM_TIMEOUT)
            .await
    {
        return one_line(&refused.to_string());
    }
    format!(
        "the proxy could not connect to read the server's tables: {}",
        one_line(&cause.to_string())
    )
}

/// A header line holds one line of text.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn header(
    proxy: &Proxy,
    upstream: &Upstream,
    args: &ProxyArgs,
    lint_off: Option<&str>,
) -> Vec<String> {
    let addr: SocketAddr = proxy.local_addr();
    let mut lines = vec![format!(
        "pglab proxy on {addr} → {} ({}); round-trip latency {} ms, jitter {} ms",
        upstream.address,
        upstream.description,
        args.latency.as_millis(),
        args.jitter.as_millis()
    )];
    // Only when TLS is asked for: the lab's own server is reached in plain text.
    if upstream.tls.asks_for_tls() {
        lines.push(format!("to the server   {}", upstream.tls.describe()));
    }
    if let Some(mut url) = upstream.client_url.clone() {
        let _ = url.set_host(Some(&addr.ip().to_string()));
        let _ = url.set_port(Some(addr.port()));
        // The server's TLS settings are the proxy's business: clients reach the proxy in
        // plain text on loopback, and would be refused if they insisted on TLS.
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !k.starts_with("ssl"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
        if url.password().is_some() {
            let _ = url.set_password(Some("****"));
        }
        lines.push(format!(
            "connect with    {url}   (password: `pglab db url`)"
        ));
    }
    if let Some(why) = lint_off {
        lines.push(format!("lint off        {why}"));
    }
    lines.push("Ctrl-C stops the proxy and prints a summary.".into());
    lines
}

/// DDL may add or drop tenant and soft-delete tables: the lint's facts must follow.
fn changes_schema(event: &ProxyEvent) -> bool {
    let ProxyEvent::RoundTrip(rt) = event else {
        return false;
    };
    // Any mention will do: a needless re-read costs one catalog query.
    rt.error.is_none()
        && rt.statements.iter().any(|s| {
            s.sql.split(|c: char| !c.is_ascii_alphabetic()).any(|word| {
                ["create", "alter", "drop"]
                    .iter()
                    .any(|ddl| word.eq_ignore_ascii_case(ddl))
            })
        })
}

/// At least 2: one repeat is not a pattern.
pub fn parse_threshold(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (2..=1000).contains(&n) => Ok(n),
        _ => Err(format!(
            "{text:?} is not a number of repeats from 2 to 1000"
        )),
    }
}

/// `40ms`, `1.5s`, `250us`, or a bare number of milliseconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 40ms or 1s"))?;
    let seconds = match unit.trim() {
        "" | "ms" => value / 1e3,
        "s" => value,
        "us" | "µs" => value / 1e6,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}: use ms, s or us"
            ));
        }
    };
    if !(0.0..=60.0).contains(&seconds) {
        return Err(format!("{text:?} is out of range (0 to 60 s)"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("40ms"), Ok(Duration::from_millis(40)));
        assert_eq!(parse_duration("40"), Ok(Duration::from_millis(40)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("-5ms").is_err());
        assert!(parse_duration("2h").is_err());
    }

    #[test]
    fn upstream_urls_with_client_certificates_or_a_socket_are_refused() {
        let tls = Upstream::from_url("postgres://u:p@db.example.com/x?sslmode=require").unwrap();
        assert!(tls.tls.asks_for_tls());
        let cert = Upstream::from_url("postgres://u:p@db.example.com/x?sslcert=/c.pem");
        assert!(cert.err().unwrap().to_string().contains("sslcert"));
        let socket = Upstream::from_url("postgres:///x?host=/tmp");
        assert!(socket.err().unwrap().to_string().contains("host and port"));
        let plain = Upstream::from_url("postgres://u:p@127.0.0.1:6000/x").unwrap();
        assert_eq!(plain.address, "127.0.0.1:6000");
        assert!(!plain.description.contains(":p@"));
    }
}
