//! Who vouches for the upstream server's certificate: the root certificates `sslrootcert`
//! names (or libpq's `~/.postgresql/root.crt`, or the public authorities compiled into
//! pglab), and the rustls verifiers that apply each `sslmode`'s checks with them — nothing
//! checked, the chain only, or the chain and the host name.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::{ConfigError, SslMode};

/// libpq's default root certificate, relative to the home folder.
const DEFAULT_ROOT_CERT: &str = ".postgresql/root.crt";

/// What vouches for the server's certificate, as messages name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Trust {
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

/// What vouches for the server under `mode` with `root` (`sslrootcert`: a PEM file, or
/// `system`), and the verifier that applies the mode's checks; `mode` asks for TLS.
pub(super) fn verifier(
    mode: SslMode,
    root: Option<&str>,
    provider: &Arc<CryptoProvider>,
) -> Result<(Trust, Arc<dyn ServerCertVerifier>), ConfigError> {
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
    Ok((trust, verifier))
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
