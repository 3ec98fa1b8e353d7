//! The negotiation on each new server connection: the TCP connection, the SSLRequest, the
//! server's one-byte answer, the rustls handshake, and what a failure says (which server,
//! what the settings asked for, what to change, which step went silent); and the one message
//! the session rewrites once the server is reached over TLS ([`without_channel_binding`]).

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use futures::FutureExt;
use rustls::CertificateError;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::{SslMode, UpstreamTls};

/// The SSLRequest: length 8, then the code 80877103 (1234 in the high 16 bits, 5679 low).
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// How long a server connection's setup may take, from the TCP connection to the server's
/// first authentication message. A server, or something in between, that accepts the
/// connection and then says nothing would otherwise hold a session, a cancel request or
/// `pglab proxy`'s start-up for ever.
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(5);

/// The steps of a server connection's setup, each of which waits for the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Connect,
    SslAnswer,
    Handshake,
    AuthenticationRequest,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Connect => "did not accept the TCP connection",
            Phase::SslAnswer => "accepted the connection but did not answer the SSL request",
            Phase::Handshake => "did not finish the TLS handshake",
            Phase::AuthenticationRequest => {
                "did not answer the startup message with its authentication request"
            }
        })
    }
}

/// Where a connection's setup has got to. The timeout around the setup drops it unfinished,
/// so the step it stopped at is kept here, outside it, for the error to name.
#[derive(Debug)]
pub struct Progress(Mutex<Phase>);

impl Default for Progress {
    fn default() -> Self {
        Self(Mutex::new(Phase::Connect))
    }
}

impl Progress {
    pub fn at(&self, phase: Phase) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = phase;
    }

    pub fn phase(&self) -> Phase {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A connection to the server, in plain text or inside TLS: the relay reads and writes
/// either the same way.
pub trait UpstreamStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> UpstreamStream for T {}

/// A new server connection, ready for the client's startup message.
pub struct Upstream {
    pub stream: Box<dyn UpstreamStream>,
    /// Whether TLS protects it (and the server may offer channel binding).
    pub encrypted: bool,
}

impl Upstream {
    fn plain(tcp: TcpStream) -> Self {
        Self {
            stream: Box::new(tcp),
            encrypted: false,
        }
    }
}

/// A server that speaks TLS offers `SCRAM-SHA-256-PLUS`: SCRAM bound to its TLS connection.
/// The client's connection to the proxy is plain text, and libpq refuses a server that offers
/// channel binding over plain text ("server offered SCRAM-SHA-256-PLUS authentication over a
/// non-SSL connection") — rightly: the client cannot bind to a TLS session it is not part
/// of. So the proxy takes the offer out of the server's `AuthenticationSASL` message: the
/// client answers with plain SCRAM-SHA-256 and says it saw no TLS ("n"), which the server
/// accepts. Given a whole backend message, returns it rewritten, or `None` when it is not a
/// SASL offer with a `-PLUS` mechanism (or nothing would be left).
pub fn without_channel_binding(message: &[u8]) -> Option<Vec<u8>> {
    const SASL: [u8; 4] = [0, 0, 0, 10];
    let body = message.strip_prefix(b"R")?.get(4..)?;
    let list = body.strip_prefix(&SASL)?;
    let mut mechanisms: Vec<&[u8]> = list
        .split(|b| *b == 0)
        .take_while(|m| !m.is_empty())
        .collect();
    let offered = mechanisms.len();
    mechanisms.retain(|m| !m.ends_with(b"-PLUS"));
    if mechanisms.len() == offered || mechanisms.is_empty() {
        return None;
    }
    let mut rewritten = SASL.to_vec();
    for mechanism in mechanisms {
        rewritten.extend_from_slice(mechanism);
        rewritten.push(0);
    }
    rewritten.push(0);
    let mut out = vec![b'R'];
    out.extend_from_slice(&(rewritten.len() as u32 + 4).to_be_bytes());
    out.extend_from_slice(&rewritten);
    Some(out)
}

/// Why a connection to the server could not be set up; the message names the server, what
/// the settings asked for and what to change.
#[derive(Debug, thiserror::Error)]
pub enum NegotiationError {
    #[error(
        "the server at {server} does not accept TLS (it answered the SSL request with N), and \
         sslmode={mode} allows no plain text; use sslmode=prefer to fall back to plain text, \
         or turn on ssl on the server"
    )]
    NotAccepted { server: String, mode: SslMode },
    #[error(
        "the server at {server} answered the SSL request with {answer}, neither S nor N: is it \
         a PostgreSQL server?"
    )]
    StrangeAnswer { server: String, answer: String },
    #[error(
        "the server at {server} agreed to TLS, then sent {bytes} bytes of plain text before \
         the handshake; refused, as anyone between here and the server could have put them \
         there (CVE-2021-23222)"
    )]
    PlainTextAfterYes { server: String, bytes: usize },
    #[error(
        "the server at {server} presented a certificate for {presented}, not {host} \
         (sslmode=verify-full checks the host name); use the host name on the certificate, \
         or sslmode=verify-ca"
    )]
    WrongName {
        server: String,
        host: String,
        presented: String,
    },
    #[error(
        "the server at {server} presented a certificate that {trust} vouches for \
         (sslmode={mode} checks who signed it); give the certificate of the authority that \
         signed it with sslrootcert=PATH, or use sslmode=require to encrypt without checking"
    )]
    UnknownIssuer {
        server: String,
        mode: SslMode,
        trust: String,
    },
    #[error("the server at {server} presented a certificate that sslmode={mode} refuses: {cause}")]
    Certificate {
        server: String,
        mode: SslMode,
        cause: CertificateError,
    },
    #[error("the TLS handshake with the server at {server} failed: {cause}")]
    Handshake {
        server: String,
        cause: std::io::Error,
    },
    #[error("cannot connect to the server at {server}: {cause}")]
    Unreachable {
        server: String,
        cause: std::io::Error,
    },
    #[error(
        "the server at {server} {phase} within {}; is a PostgreSQL server listening there, \
         and is nothing in between holding the connection?",
        in_words(*.limit)
    )]
    Silent {
        server: String,
        phase: Phase,
        limit: Duration,
    },
    #[error("cannot ask the server at {server} for TLS: {cause}")]
    Io {
        server: String,
        cause: std::io::Error,
    },
}

impl NegotiationError {
    /// The server said nothing at the step `progress` had reached within `limit`.
    pub fn silent(server: &str, progress: &Progress, limit: Duration) -> Self {
        Self::Silent {
            server: server.to_string(),
            phase: progress.phase(),
            limit,
        }
    }
}

/// `5 s`, or `300 ms` below a second.
fn in_words(limit: Duration) -> String {
    if limit >= Duration::from_secs(1) {
        format!("{} s", limit.as_secs())
    } else {
        format!("{} ms", limit.as_millis())
    }
}

impl UpstreamTls {
    /// A new connection to `server` (`host:port`), negotiated as [`Self::negotiate`] does,
    /// given up after `limit` (plus the simulated network's own delays, which are not the
    /// server's silence) with an error naming the step that went silent.
    pub async fn connect(
        &self,
        server: &str,
        round_trip: Duration,
        limit: Duration,
    ) -> Result<Upstream, NegotiationError> {
        let progress = Progress::default();
        tokio::time::timeout(
            limit + 2 * round_trip,
            self.connect_and_negotiate(server, round_trip, &progress),
        )
        .await
        .unwrap_or_else(|_| Err(NegotiationError::silent(server, &progress, limit)))
    }

    /// The TCP connection, then [`Self::negotiate`]; no time limit of its own: the caller's
    /// limit covers this and whatever it does next, and reads `progress` when it runs out.
    pub async fn connect_and_negotiate(
        &self,
        server: &str,
        round_trip: Duration,
        progress: &Progress,
    ) -> Result<Upstream, NegotiationError> {
        progress.at(Phase::Connect);
        let tcp =
            TcpStream::connect(server)
                .await
                .map_err(|cause| NegotiationError::Unreachable {
                    server: server.to_string(),
                    cause,
                })?;
        let _ = tcp.set_nodelay(true);
        self.negotiate(tcp, server, round_trip, progress).await
    }

    /// Turns a fresh connection to `server` (`host:port`) into the one the session uses:
    /// the same socket in plain text, or a TLS stream over it. `round_trip` is the simulated
    /// network's, paid once for the SSL request and once for the handshake.
    pub async fn negotiate(
        &self,
        mut tcp: TcpStream,
        server: &str,
        round_trip: Duration,
        progress: &Progress,
    ) -> Result<Upstream, NegotiationError> {
        let Some(config) = &self.config else {
            return Ok(Upstream::plain(tcp));
        };
        let io = |cause| NegotiationError::Io {
            server: server.to_string(),
            cause,
        };
        progress.at(Phase::SslAnswer);
        tcp.write_all(&SSL_REQUEST).await.map_err(io)?;
        // Exactly one byte, read straight from the socket: nothing after it may be taken
        // into a buffer that is later read as plain text (libpq's CVE-2021-23222).
        let mut answer = [0u8; 1];
        tcp.read_exact(&mut answer).await.map_err(io)?;
        sleep(round_trip).await;
        match answer[0] {
            b'S' => {}
            b'N' if !self.mode.requires_tls() => return Ok(Upstream::plain(tcp)),
            b'N' => {
                return Err(NegotiationError::NotAccepted {
                    server: server.to_string(),
                    mode: self.mode,
                });
            }
            other => {
                return Err(NegotiationError::StrangeAnswer {
                    server: server.to_string(),
                    answer: describe_byte(other),
                });
            }
        }
        // A server that said yes speaks next only after our ClientHello: bytes already
        // waiting did not come from the TLS server.
        let mut early = [0u8; 256];
        if let Some(Ok(bytes)) = tcp.peek(&mut early).now_or_never()
            && bytes > 0
        {
            return Err(NegotiationError::PlainTextAfterYes {
                server: server.to_string(),
                bytes,
            });
        }
        let host = host_of(server);
        let name = ServerName::try_from(host.to_string()).map_err(|e| {
            io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{host:?} is not a host name TLS can check: {e}"),
            ))
        })?;
        progress.at(Phase::Handshake);
        let tls = TlsConnector::from(config.clone())
            .connect(name, tcp)
            .await
            .map_err(|cause| self.handshake_error(server, host, cause))?;
        sleep(round_trip).await;
        Ok(Upstream {
            stream: Box::new(tls),
            encrypted: true,
        })
    }

    fn handshake_error(&self, server: &str, host: &str, cause: std::io::Error) -> NegotiationError {
        let server = server.to_string();
        let rustls_error = cause
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        let Some(rustls::Error::InvalidCertificate(certificate)) = rustls_error else {
            return NegotiationError::Handshake { server, cause };
        };
        match certificate {
            CertificateError::NotValidForNameContext { presented, .. } => {
                NegotiationError::WrongName {
                    server,
                    host: host.to_string(),
                    presented: presented_names(presented),
                }
            }
            CertificateError::NotValidForName => NegotiationError::WrongName {
                server,
                host: host.to_string(),
                presented: "other names".into(),
            },
            CertificateError::UnknownIssuer => NegotiationError::UnknownIssuer {
                server,
                mode: self.mode,
                trust: self.trust.to_string(),
            },
            other => NegotiationError::Certificate {
                server,
                mode: self.mode,
                cause: other.clone(),
            },
        }
    }
}

/// webpki names what a certificate is for as `DnsName("db.example.com")` or
/// `IpAddress(127.0.0.1)`; people read the name alone.
fn presented_names(presented: &[String]) -> String {
    if presented.is_empty() {
        return "no host name at all".into();
    }
    presented
        .iter()
        .map(|name| {
            let inner = name
                .split_once('(')
                .and_then(|(_, rest)| rest.strip_suffix(')'))
                .unwrap_or(name);
            inner.trim_matches('"').to_string()
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

fn describe_byte(byte: u8) -> String {
    if byte.is_ascii_graphic() {
        format!("{:?}", byte as char)
    } else {
        format!("byte 0x{byte:02x}")
    }
}

/// The host of `host:port` (`[::1]:5432` included), as the certificate should name it.
fn host_of(server: &str) -> &str {
    let host = server.rsplit_once(':').map_or(server, |(host, _)| host);
    host.trim_start_matches('[').trim_end_matches(']')
}

async fn sleep(duration: Duration) {
    if !duration.is_zero() {
        tokio::time::sleep(duration).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_channel_binding_offer_is_taken_out_and_everything_else_kept() {
        let offer = |list: &[u8]| {
            let mut body = vec![0, 0, 0, 10];
            body.extend_from_slice(list);
            let mut message = vec![b'R'];
            message.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
            message.extend_from_slice(&body);
            message
        };
        assert_eq!(
            without_channel_binding(&offer(b"SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0")),
            Some(offer(b"SCRAM-SHA-256\0\0"))
        );
        assert_eq!(without_channel_binding(&offer(b"SCRAM-SHA-256\0\0")), None);
        assert_eq!(
            without_channel_binding(&offer(b"SCRAM-SHA-256-PLUS\0\0")),
            None
        );
        // AuthenticationOk, and a message that is not an authentication request.
        assert_eq!(without_channel_binding(b"R\0\0\0\x08\0\0\0\0"), None);
        assert_eq!(without_channel_binding(b"Z\0\0\0\x05I"), None);
    }

    #[test]
    fn a_silent_server_is_named_with_the_step_it_stopped_at() {
        let progress = Progress::default();
        progress.at(Phase::Handshake);
        let error =
            NegotiationError::silent("db:5432", &progress, Duration::from_millis(300)).to_string();
        assert!(
            error.starts_with(
                "the server at db:5432 did not finish the TLS handshake within 300 ms;"
            ),
            "{error}"
        );
        assert_eq!(in_words(UPSTREAM_TIMEOUT), "5 s");
    }

    #[test]
    fn hosts_and_names_read_as_people_write_them() {
        assert_eq!(host_of("db.example.com:5432"), "db.example.com");
        assert_eq!(host_of("[::1]:5432"), "::1");
        assert_eq!(
            presented_names(&[
                "DnsName(\"localhost\")".into(),
                "IpAddress(127.0.0.1)".into()
            ]),
            "localhost or 127.0.0.1"
        );
    }
}
