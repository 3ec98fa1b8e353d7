//! The observing PostgreSQL proxy: clients connect to it instead of the server, it opens
//! one server connection per client and forwards every byte unchanged in both directions,
//! while a decoded copy tells it where each round trip begins and ends. It is the lab's one
//! source of truth for round trips, whoever the client is (the lab itself, psql, a
//! student's web app), and the place where network latency is simulated.
//!
//! - [`frame`]: cutting streams into messages, with every length checked
//! - [`round_trip`]: one session's conversation → round trips and their statements
//! - [`latency`]: the delay line
//! - [`session`]: the I/O of one client session
//! - [`tls`]: the server connection's encryption (`sslmode`, certificates)
//!
//! What the proxy reports (sessions, round trips, the server's errors) is data the core
//! reads, so it lives in [`crate::data::proxy`].

pub mod frame;
pub mod latency;
pub mod round_trip;
mod session;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgSslMode};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::data::proxy::ProxyEvent;

pub use latency::Latency;
pub use tls::UpstreamTls;

/// Sessions served at once; more are refused with PostgreSQL's "too many connections".
pub const MAX_SESSIONS: usize = 256;
/// Events buffered for a slow reader before sessions wait for it (nothing is dropped).
pub const EVENT_BUFFER: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the proxy cannot listen on {addr}: {cause}. Choose another address with --listen.")]
    Listen {
        addr: SocketAddr,
        cause: std::io::Error,
    },
    #[error("the proxy forwards over TCP, but the server is reached through the socket {0}")]
    SocketUpstream(String),
    #[error(transparent)]
    Tls(#[from] tls::ConfigError),
}

/// Where the proxy listens and what it forwards to.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub listen: SocketAddr,
    /// `host:port` of the real server.
    pub upstream: String,
    /// Whether and how the connection to the server is encrypted.
    pub tls: UpstreamTls,
    /// How long a server connection's setup may take before the session (or cancel
    /// request) gives up and says which step went silent; [`tls::UPSTREAM_TIMEOUT`] unless a
    /// test wants it short.
    pub upstream_timeout: Duration,
    pub latency: Latency,
}

/// A running proxy; dropping it stops it and ends every session through it.
#[derive(Debug)]
pub struct Proxy {
    local_addr: SocketAddr,
    latency: Latency,
    accepting: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Listens on `config.listen` (port 0 picks a free port) and serves clients in the
    /// background; events go to `events`, which must be read while clients run: when
    /// [`EVENT_BUFFER`] events wait unread, sessions wait too (nothing is dropped).
    pub async fn start(
        config: ProxyConfig,
        events: mpsc::Sender<ProxyEvent>,
    ) -> Result<Self, Error> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|cause| Error::Listen {
                addr: config.listen,
                cause,
            })?;
        let local_addr = listener.local_addr().map_err(|cause| Error::Listen {
            addr: config.listen,
            cause,
        })?;
        let cx = session::Context {
            upstream: config.upstream,
            tls: config.tls,
            upstream_timeout: config.upstream_timeout,
            latency: config.latency.clone(),
            events,
        };
        let accepting = tokio::spawn(accept_loop(listener, cx));
        Ok(Self {
            local_addr,
            latency: config.latency,
            accepting,
        })
    }

    /// A proxy on a free loopback port in front of the server `options` point at, and those
    /// options pointed at the proxy instead: how the lab routes its own connections through.
    /// The proxy encrypts its leg to the server as `options` ask (`sslmode`, `sslrootcert`);
    /// the routed options reach the proxy in plain text on loopback.
    pub async fn in_front_of(
        options: &PgConnectOptions,
        latency: Latency,
        events: mpsc::Sender<ProxyEvent>,
    ) -> Result<(Self, PgConnectOptions), Error> {
        let config = ProxyConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            upstream: upstream_address(options)?,
            tls: UpstreamTls::from_options(options)?,
            upstream_timeout: tls::UPSTREAM_TIMEOUT,
            latency,
        };
        let proxy = Self::start(config, events).await?;
        let mut routed = options
            .clone()
            .host(&proxy.local_addr.ip().to_string())
            .port(proxy.local_addr.port());
        // The proxy answers "no TLS": a client that insists would not get in. `prefer` keeps
        // the SSL request, so the session starts with the same round trips as before.
        if matches!(
            options.get_ssl_mode(),
            PgSslMode::Require | PgSslMode::VerifyCa | PgSslMode::VerifyFull
        ) {
            routed = routed.ssl_mode(PgSslMode::Prefer);
        }
        Ok((proxy, routed))
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The simulated network delay; changes apply to sessions already open.
    pub fn latency(&self) -> &Latency {
        &self.latency
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Aborting the loop drops its JoinSet, which aborts every session.
        self.accepting.abort();
    }
}

/// The `host:port` the proxy forwards to for a server reached with `options`.
pub fn upstream_address(options: &PgConnectOptions) -> Result<String, Error> {
    let host = options.get_host();
    if host.starts_with('/') {
        return Err(Error::SocketUpstream(host.to_string()));
    }
    Ok(format!("{host}:{}", options.get_port()))
}

/// Session ids are unique across every proxy in the process: the lab's demos run proxies of
/// their own and pass their events on to the lab's query log, which keys sessions by id.
static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

async fn accept_loop(listener: TcpListener, cx: session::Context) {
    let slots = Arc::new(Semaphore::new(MAX_SESSIONS));
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (mut client, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(_) => {
                        // Out of file descriptors or similar: wait instead of spinning.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    let refusal = session::fatal_error(
                        "53300",
                        &format!("pglab proxy serves at most {MAX_SESSIONS} sessions at once"),
                    );
                    let _ = client.write_all(&refusal).await;
                    continue;
                };
                let id = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
                let cx = cx.clone();
                sessions.spawn(async move {
                    session::serve(client, peer, id, cx).await;
                    drop(slot);
                });
            }
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_are_reached_over_tcp_and_sockets_are_refused_with_their_path() {
        let tcp = PgConnectOptions::new_without_pgpass()
            .host("127.0.0.1")
            .port(5433);
        assert_eq!(upstream_address(&tcp).unwrap(), "127.0.0.1:5433");
        let socket = PgConnectOptions::new_without_pgpass().host("/var/run/postgresql");
        let err = upstream_address(&socket).unwrap_err().to_string();
        assert!(err.contains("/var/run/postgresql"), "{err}");
    }
}
