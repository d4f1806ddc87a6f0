//! Who may read the monitor console: HTTP Basic with the configured user and a salted
//! SHA-256 of the password (`sha256:<salt hex>:<digest hex>`, made by
//! `siebel-cti-connector --hash-password`). `/health` stays open with a summary only. Also
//! the `[monitor]` settings themselves.

use base64::Engine;

/// A stored password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    salt: Vec<u8>,
    digest: Vec<u8>,
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn digest(salt: &[u8], password: &str) -> Vec<u8> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(salt);
    ctx.update(password.as_bytes());
    ctx.finish().as_ref().to_vec()
}

impl PasswordHash {
    /// Reads `sha256:<salt hex>:<digest hex>`; `None` if it is not that.
    pub fn parse(s: &str) -> Option<PasswordHash> {
        let mut parts = s.trim().split(':');
        let (Some("sha256"), Some(salt), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let (salt, digest) = (unhex(salt)?, unhex(d)?);
        (salt.len() >= 8 && digest.len() == 32).then_some(PasswordHash { salt, digest })
    }

    /// The hash of `password` with a fresh random salt, as stored.
    pub fn make(password: &str) -> String {
        let mut salt = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
            .expect("the OS random source is unavailable");
        format!("sha256:{}:{}", hex(&salt), hex(&digest(&salt, password)))
    }

    /// Whether `password` matches (constant time).
    pub fn matches(&self, password: &str) -> bool {
        driver::protocol::same_proof(&hex(&digest(&self.salt, password)), &hex(&self.digest))
    }
}

/// The console's credentials.
#[derive(Clone, Debug)]
pub struct ConsoleAuth {
    /// The user name.
    pub user: String,
    /// Its password's hash.
    pub hash: PasswordHash,
}

impl ConsoleAuth {
    /// Whether an `Authorization` header value admits the request.
    pub fn admits(&self, authorization: Option<&str>) -> bool {
        let Some(b64) = authorization.and_then(|a| a.trim().strip_prefix("Basic ")) else {
            return false;
        };
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
            return false;
        };
        let Ok(text) = String::from_utf8(raw) else {
            return false;
        };
        match text.split_once(':') {
            Some((user, password)) => {
                // Both checked, so a wrong user takes as long as a wrong password.
                let ok = self.hash.matches(password);
                user == self.user && ok
            }
            None => false,
        }
    }
}

/// `[monitor]`: the web console (its `Debug` masks the hash).
#[derive(Clone, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Monitor {
    /// Listen address (empty: no console).
    pub listen: String,
    /// The console's user (HTTP Basic); required unless `listen` is a loopback address.
    pub user: String,
    /// `sha256:<salt>:<digest>` of its password (`siebel-cti-connector --hash-password`).
    pub password_hash: String,
    /// HTTPS: the console's certificate chain (PEM); empty: plain HTTP.
    pub tls_cert: String,
    /// HTTPS: the certificate's private key (PEM).
    pub tls_key: String,
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor {
            listen: "127.0.0.1:8090".into(),
            user: String::new(),
            password_hash: String::new(),
            tls_cert: String::new(),
            tls_key: String::new(),
        }
    }
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hash = if self.password_hash.is_empty() {
            ""
        } else {
            "***"
        };
        f.debug_struct("Monitor")
            .field("listen", &self.listen)
            .field("user", &self.user)
            .field("password_hash", &hash)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .finish()
    }
}

/// Why the `[monitor]` credentials cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MonitorAuthError {
    /// The console listens beyond this host and has no credentials.
    Unprotected,
    /// `password_hash` is not `sha256:<salt hex>:<digest hex>`.
    BadHash,
    /// A password hash without a user.
    NoUser,
}

impl std::fmt::Display for MonitorAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MonitorAuthError::Unprotected => {
                "set monitor.user and monitor.password_hash: the console listens beyond this host"
            }
            MonitorAuthError::BadHash => {
                "monitor.password_hash must be sha256:<salt hex>:<digest hex>"
            }
            MonitorAuthError::NoUser => "monitor.user is empty",
        })
    }
}

impl std::error::Error for MonitorAuthError {}

impl Monitor {
    /// The console's credentials, if configured; an error for half a configuration, a bad
    /// hash, or an address off this host without them.
    pub fn auth(&self) -> Result<Option<ConsoleAuth>, MonitorAuthError> {
        if self.user.is_empty() && self.password_hash.is_empty() {
            let local = self
                .listen
                .parse::<std::net::SocketAddr>()
                .map(|a| a.ip().is_loopback());
            if self.listen.is_empty() || local.unwrap_or(true) {
                return Ok(None);
            }
            return Err(MonitorAuthError::Unprotected);
        }
        let hash = PasswordHash::parse(&self.password_hash).ok_or(MonitorAuthError::BadHash)?;
        if self.user.is_empty() {
            return Err(MonitorAuthError::NoUser);
        }
        Ok(Some(ConsoleAuth {
            user: self.user.clone(),
            hash,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_salted_and_checked() {
        let a = PasswordHash::make("s3cret");
        let b = PasswordHash::make("s3cret");
        assert_ne!(a, b, "a fresh salt each time");
        let h = PasswordHash::parse(&a).unwrap();
        assert!(h.matches("s3cret"));
        assert!(!h.matches("s3cret "));
        assert!(!format!("{h:?}").contains(&a[7..15]));
        for bad in [
            "",
            "s3cret",
            "sha256:zz:00",
            "md5:0011223344556677:00",
            "sha256:00:11",
        ] {
            assert!(PasswordHash::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_configuration_needs_credentials_beyond_loopback_and_hides_the_hash() {
        let hash = PasswordHash::make("pw");
        let mut m = Monitor {
            listen: "0.0.0.0:8090".into(),
            ..Default::default()
        };
        assert!(m.auth().unwrap_err().to_string().contains("monitor.user"));
        m.listen = "127.0.0.1:8090".into();
        assert!(m.auth().unwrap().is_none(), "loopback may stay open");
        m.listen = "0.0.0.0:8090".into();
        m.user = "admin".into();
        m.password_hash = "sha256:bad".into();
        assert!(m.auth().unwrap_err().to_string().contains("password_hash"));
        m.password_hash = hash.clone();
        assert!(m.auth().unwrap().is_some());
        assert!(!format!("{m:?}").contains(&hash[7..]), "{m:?}");
    }

    #[test]
    fn basic_authorization() {
        let auth = ConsoleAuth {
            user: "admin".into(),
            hash: PasswordHash::parse(&PasswordHash::make("pw")).unwrap(),
        };
        let basic = |s: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(s)
            )
        };
        assert!(auth.admits(Some(&basic("admin:pw"))));
        for bad in ["admin:px", "root:pw", "adminpw", ""] {
            assert!(!auth.admits(Some(&basic(bad))), "{bad}");
        }
        assert!(!auth.admits(None));
        assert!(!auth.admits(Some("Bearer pw")));
        assert!(!auth.admits(Some("Basic !!!")));
    }
}
