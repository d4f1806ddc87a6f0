//! STOMP over TLS: the client configuration (the broker's certificate checked against a CA
//! file, host name verified) with rustls and its `ring` provider: pure Rust, no async runtime,
//! usable over the link's non-blocking socket (`read_tls` / `write_tls`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};

/// How a link reaches the broker over TLS.
#[derive(Clone)]
pub struct TlsSettings {
    /// The CA file the broker's certificate is checked against (PEM).
    pub ca_file: PathBuf,
    config: Arc<ClientConfig>,
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

/// Why TLS could not be set up.
#[derive(Debug)]
pub enum TlsError {
    /// The CA file could not be read or holds no PEM certificate.
    CaFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The broker host is not a valid DNS name or IP address for certificate checks.
    ServerName(String),
    /// rustls refused the configuration.
    Config(rustls::Error),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::CaFile { path, reason } => {
                write!(f, "broker CA file {}: {reason}", path.display())
            }
            TlsError::ServerName(h) => {
                write!(
                    f,
                    "broker host {h:?} cannot be checked against a certificate"
                )
            }
            TlsError::Config(e) => write!(f, "TLS configuration refused: {e}"),
        }
    }
}

impl std::error::Error for TlsError {}

impl TlsSettings {
    /// Reads the CA file (PEM, one or more certificates) and builds the client configuration.
    pub fn from_ca_file(path: &Path) -> Result<Self, TlsError> {
        let ca_err = |reason: String| TlsError::CaFile {
            path: path.to_path_buf(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| ca_err(e.to_string()))?;
        let mut roots = RootCertStore::empty();
        let mut n = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| ca_err(format!("bad PEM: {e:?}")))?;
            roots
                .add(cert)
                .map_err(|e| ca_err(format!("bad certificate: {e}")))?;
            n += 1;
        }
        if n == 0 {
            return Err(ca_err("no PEM certificate in it".into()));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(TlsSettings {
            ca_file: path.to_path_buf(),
            config: Arc::new(config),
        })
    }

    /// The rustls configuration.
    pub fn config(&self) -> Arc<ClientConfig> {
        self.config.clone()
    }

    /// A client connection to `host` (a DNS name or an IP address, checked against the
    /// certificate's names).
    pub fn connect(&self, host: &str) -> Result<ClientConnection, TlsError> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| TlsError::ServerName(host.to_string()))?;
        ClientConnection::new(self.config.clone(), name).map_err(TlsError::Config)
    }
}

/// How the reason of a link lost to an untrusted broker certificate starts.
pub const UNTRUSTED: &str = "the broker's TLS certificate is not trusted";

/// A readable reason for a failed TLS session, with a hint when the certificate is the cause.
pub fn describe(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(c) => format!(
            "{UNTRUSTED} ({c:?}): check that the CA file is the CA that signed it and that the certificate names this host"
        ),
        other => format!("TLS error: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_ca_file_is_a_clear_error() {
        let err = TlsSettings::from_ca_file(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
        let dir = std::env::temp_dir().join(format!("tls-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = TlsSettings::from_ca_file(&empty).unwrap_err();
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
    }

    #[test]
    fn untrusted_certificates_are_described() {
        let e = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert!(describe(&e).contains("not trusted"), "{}", describe(&e));
    }
}
