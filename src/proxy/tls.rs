//! The proxy's leg to the server, when that server wants (or may offer) TLS: what the
//! upstream URL's `sslmode` and `sslrootcert` ask for, read once when the proxy starts, and
//! the negotiation on each new server connection — the SSLRequest, the server's one-byte
//! answer, the rustls handshake and the check of the server's certificate. Clients still
//! talk to the proxy in plain text on loopback; the proxy observes the same plain-text
//! messages whichever way the server is reached, so round trips count the same.
//!
//! One message changes on the way: over TLS the server offers `SCRAM-SHA-256-PLUS`
//! (channel binding), which a plain-text client must not be offered; the session takes it
//! out of the server's authentication request ([`without_channel_binding`]).
//!
//! `sslmode` keeps libpq's meanings:
//!
//! | sslmode | asks for TLS | if the server says no | checks the certificate |
//! |---|---|---|---|
//! | `disable`, `allow` | no | — | — |
//! | `prefer` (default) | yes | plain text | only the chain, and only with a root certificate (below) |
//! | `require` | yes | refused | only the chain, and only with a root certificate (below) |
//! | `verify-ca` | yes | refused | the chain, not the host name |
//! | `verify-full` | yes | refused | the chain and the host name |
//!
//! libpq's rule kept on purpose: `require` (and `prefer`) check the chain when a root
//! certificate is given with `sslrootcert`, or `~/.postgresql/root.crt` exists — then they
//! behave like `verify-ca`. Where pglab differs from libpq: `allow` never retries with TLS
//! (the server's refusal of plain text reaches the client); `prefer` does not retry in plain
//! text after a failed handshake; `verify-*` without any root certificate trusts the public
//! authorities compiled into pglab (Mozilla's list, the one sqlx uses) where libpq would
//! refuse to connect; `sslrootcert=system` means that same list, and like libpq it needs
//! `verify-full`. Client certificates (`sslcert`, `sslkey`) are refused as not supported.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::exit::{EXIT_FAILURE, EXIT_REFUSED, ExitStatus};

/// The SSLRequest: length 8, then the code 80877103 (1234 in the high 16 bits, 5679 low).
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
/// libpq's default root certificate, relative to the home folder.
const DEFAULT_ROOT_CERT: &str = ".postgresql/root.crt";

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

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "disable" => Self::Disable,
            "allow" => Self::Allow,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            _ => return None,
        })
    }

    fn asks_for_tls(self) -> bool {
        !matches!(self, Self::Disable | Self::Allow)
    }

    /// Whether a server that answers "no TLS" is refused.
    fn requires_tls(self) -> bool {
        matches!(self, Self::Require | Self::VerifyCa | Self::VerifyFull)
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Disable => "disable",
            Self::Allow => "allow",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        })
    }
}

/// What vouches for the server's certificate, as messages name it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Trust {
    /// Nothing is checked: the connection is encrypted, the server not authenticated.
    Nobody,
    /// The certificates in this PEM file, and only those (libpq's `sslrootcert`).
    File(PathBuf),
    /// The public authorities compiled into pglab.
    Public,
}

impl fmt::Display for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nobody => f.write_str("nothing"),
            Self::File(path) => write!(f, "no authority in {}", path.display()),
            Self::Public => f.write_str("no public authority pglab knows"),
        }
    }
}

/// A problem with the TLS settings themselves, found before any connection is made.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "the upstream URL asks for sslmode={0}, which PostgreSQL does not know; use disable, \
         allow, prefer, require, verify-ca or verify-full"
    )]
    UnknownMode(String),
    #[error(
        "the upstream URL gives {0}, but the proxy does not present client certificates; \
         remove it and let the server check a password instead"
    )]
    ClientCertificate(&'static str),
    #[error(
        "the upstream URL gives sslrootcert=system with sslmode={0}; the public authorities \
         vouch for a host name, so use sslmode=verify-full"
    )]
    SystemNeedsVerifyFull(SslMode),
    #[error("cannot read the root certificate {path} (sslrootcert): {cause}")]
    RootCertUnreadable {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "{path} (sslrootcert) holds no certificate pglab can use: {why}; give a PEM file \
         with the server's certificate authority"
    )]
    RootCertUnusable { path: PathBuf, why: String },
    #[error("cannot set up TLS: {0}")]
    Tls(#[from] rustls::Error),
}

impl ExitStatus for ConfigError {
    fn exit_code(&self) -> u8 {
        match self {
            // The proxy could run, but not the way this asks.
            Self::UnknownMode(_) | Self::ClientCertificate(_) | Self::SystemNeedsVerifyFull(_) => {
                EXIT_REFUSED
            }
            Self::RootCertUnreadable { .. } | Self::RootCertUnusable { .. } | Self::Tls(_) => {
                EXIT_FAILURE
            }
        }
    }
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
    #[error("cannot ask the server at {server} for TLS: {cause}")]
    Io {
        server: String,
        cause: std::io::Error,
    },
}

/// The upstream leg's TLS settings, ready to use for every server connection.
#[derive(Debug, Clone)]
pub struct UpstreamTls {
    mode: SslMode,
    trust: Trust,
    /// Present when the mode asks for TLS.
    config: Option<Arc<ClientConfig>>,
}

impl UpstreamTls {
    /// Plain text only, as `sslmode=disable`.
    pub fn disabled() -> Self {
        Self {
            mode: SslMode::Disable,
            trust: Trust::Nobody,
            config: None,
        }
    }

    /// The settings in a `postgres://` URL's query (`sslmode`, `sslrootcert`, and sqlx's
    /// spellings of them), else in `PGSSLMODE` and `PGSSLROOTCERT` as libpq reads them.
    pub fn from_url(url: &url::Url) -> Result<Self, ConfigError> {
        let param = |names: &[&str], env: &str| {
            url.query_pairs()
                .find(|(k, _)| names.contains(&k.as_ref()))
                .map(|(_, v)| v.into_owned())
                .or_else(|| std::env::var(env).ok())
                .filter(|v| !v.is_empty())
        };
        if param(&["sslcert", "ssl-cert"], "PGSSLCERT").is_some() {
            return Err(ConfigError::ClientCertificate("sslcert"));
        }
        if param(&["sslkey", "ssl-key"], "PGSSLKEY").is_some() {
            return Err(ConfigError::ClientCertificate("sslkey"));
        }
        let mode = match param(&["sslmode", "ssl-mode"], "PGSSLMODE") {
            None => SslMode::Prefer,
            Some(text) => {
                SslMode::parse(&text.to_ascii_lowercase()).ok_or(ConfigError::UnknownMode(text))?
            }
        };
        let root = param(&["sslrootcert", "ssl-root-cert", "ssl-ca"], "PGSSLROOTCERT");
        Self::new(mode, root.as_deref())
    }

    /// The settings sqlx connects with, for a proxy put in front of those options.
    pub fn from_options(options: &sqlx::postgres::PgConnectOptions) -> Result<Self, ConfigError> {
        use sqlx::ConnectOptions;
        // sqlx keeps the root certificate private; its URL form names it.
        let mut url = options.to_url_lossy();
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                // sqlx writes a file as "file: PATH".
                let v = v
                    .strip_prefix("file: ")
                    .map(str::to_string)
                    .unwrap_or_else(|| v.into_owned());
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        Self::from_url(&url)
    }

    /// `root` is `sslrootcert`: a PEM file, or `system`.
    pub fn new(mode: SslMode, root: Option<&str>) -> Result<Self, ConfigError> {
        if !mode.asks_for_tls() {
            return Ok(Self {
                mode,
                ..Self::disabled()
            });
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (trust, roots) = match root {
            Some("system") if mode != SslMode::VerifyFull => {
                return Err(ConfigError::SystemNeedsVerifyFull(mode));
            }
            Some("system") => (Trust::Public, public_roots()),
            Some(path) => {
                let path = PathBuf::from(path);
                let roots = roots_in(&path)?;
                (Trust::File(path), roots)
            }
            None => match default_root_cert() {
                Some(path) => {
                    let roots = roots_in(&path)?;
                    (Trust::File(path), roots)
                }
                None if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) => {
                    (Trust::Public, public_roots())
                }
                None => (Trust::Nobody, RootCertStore::empty()),
            },
        };
        let verifier: Arc<dyn ServerCertVerifier> = match trust {
            Trust::Nobody => Arc::new(AnyCertificate(provider.clone())),
            _ => {
                let webpki =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|e| ConfigError::Tls(rustls::Error::General(e.to_string())))?;
                if mode == SslMode::VerifyFull {
                    webpki
                } else {
                    Arc::new(ChainOnly(webpki))
                }
            }
        };
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        // What libpq 17 sends; older servers ignore it.
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Ok(Self {
            mode,
            trust,
            config: Some(Arc::new(config)),
        })
    }

    pub fn mode(&self) -> SslMode {
        self.mode
    }

    /// Whether each server connection starts with an SSL request.
    pub fn asks_for_tls(&self) -> bool {
        self.mode.asks_for_tls()
    }

    /// How the header describes the leg: "plain text", "TLS (sslmode=require, …)".
    pub fn describe(&self) -> String {
        let checks = match (&self.trust, self.mode) {
            (_, SslMode::Disable | SslMode::Allow) => return "plain text".into(),
            (Trust::Nobody, _) => "certificate not checked".to_string(),
            (Trust::File(path), SslMode::VerifyFull) => {
                format!("chain and host name checked against {}", path.display())
            }
            (Trust::File(path), _) => format!("chain checked against {}", path.display()),
            (Trust::Public, SslMode::VerifyFull) => {
                "chain and host name checked against the public authorities".into()
            }
            (Trust::Public, _) => "chain checked against the public authorities".into(),
        };
        let fallback = if self.mode.requires_tls() {
            ""
        } else {
            ", plain text if the server has no TLS"
        };
        format!("TLS with sslmode={}: {checks}{fallback}", self.mode)
    }

    /// Turns a fresh connection to `server` (`host:port`) into the one the session uses:
    /// the same socket in plain text, or a TLS stream over it. `round_trip` is the simulated
    /// network's, paid once for the SSL request and once for the handshake.
    pub async fn negotiate(
        &self,
        mut tcp: TcpStream,
        server: &str,
        round_trip: Duration,
    ) -> Result<Upstream, NegotiationError> {
        let Some(config) = &self.config else {
            return Ok(Upstream::plain(tcp));
        };
        let io = |cause| NegotiationError::Io {
            server: server.to_string(),
            cause,
        };
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

fn default_root_cert() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let path = Path::new(&home).join(DEFAULT_ROOT_CERT);
    path.is_file().then_some(path)
}

fn public_roots() -> RootCertStore {
    RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned())
}

fn roots_in(path: &Path) -> Result<RootCertStore, ConfigError> {
    let pem = std::fs::read(path).map_err(|cause| ConfigError::RootCertUnreadable {
        path: path.to_path_buf(),
        cause,
    })?;
    let unusable = |why: String| ConfigError::RootCertUnusable {
        path: path.to_path_buf(),
        why,
    };
    let mut roots = RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(&pem) {
        let certificate = certificate.map_err(|e| unusable(e.to_string()))?;
        roots
            .add(certificate)
            .map_err(|e| unusable(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(unusable("no PEM certificate in it".into()));
    }
    Ok(roots)
}

async fn sleep(duration: Duration) {
    if !duration.is_zero() {
        tokio::time::sleep(duration).await;
    }
}

/// `prefer` and `require` without a root certificate: encrypted, not authenticated. The
/// handshake's signatures are still checked, so the server must hold the key it presents.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca` (and `require` with a root certificate): the chain must lead to a trusted
/// authority, whatever host name the certificate names. webpki checks the chain before the
/// name, so a name error means the chain passed.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> url::Url {
        url::Url::parse(text).unwrap()
    }

    #[test]
    fn modes_keep_libpq_names_and_client_certificates_are_refused() {
        let tls = UpstreamTls::from_url(&url("postgres://h/db?sslmode=require")).unwrap();
        assert_eq!(tls.mode(), SslMode::Require);
        assert!(tls.describe().contains("not checked"), "{}", tls.describe());
        let off = UpstreamTls::from_url(&url("postgres://h/db?sslmode=disable")).unwrap();
        assert_eq!(off.describe(), "plain text");
        let err = UpstreamTls::from_url(&url("postgres://h/db?sslmode=required")).unwrap_err();
        assert!(err.to_string().contains("verify-full"), "{err}");
        assert_eq!(err.exit_code(), EXIT_REFUSED);
        let err = UpstreamTls::from_url(&url("postgres://h/db?sslcert=/x.crt")).unwrap_err();
        assert!(err.to_string().contains("sslcert"), "{err}");
        let err = UpstreamTls::from_url(&url("postgres://h/db?sslmode=require&sslrootcert=system"))
            .unwrap_err();
        assert!(err.to_string().contains("verify-full"), "{err}");
    }

    #[test]
    fn a_missing_root_certificate_is_named() {
        let err = UpstreamTls::from_url(&url(
            "postgres://h/db?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
        assert_eq!(err.exit_code(), EXIT_FAILURE);
    }

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
