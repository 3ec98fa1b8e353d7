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
//!
//! This file reads the settings ([`SslMode`], [`UpstreamTls`], [`ConfigError`]);
//! - [`negotiate`]: each server connection's SSLRequest, handshake and their errors
//! - [`verify`]: the root certificates and the verifiers behind each mode's checks

mod negotiate;
mod verify;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::ClientConfig;

use crate::exit::{EXIT_FAILURE, EXIT_REFUSED, ExitStatus};
use verify::Trust;

pub use negotiate::{
    NegotiationError, Phase, Progress, UPSTREAM_TIMEOUT, Upstream, UpstreamStream,
    without_channel_binding,
};

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
        let (trust, verifier) = verify::verifier(mode, root, &provider)?;
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
}
