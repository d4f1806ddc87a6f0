//! A minimal XMPP client for Finesse notifications: one connection per agent, logged in as
//! the agent (SASL PLAIN), subscribed to the agent's pubsub nodes, receiving pubsub event
//! messages. Stream setup, SASL PLAIN, bind, presence and message reading, not a full XMPP
//! stack.
//!
//! Jobs by file: [`client`] is the protocol without I/O (bytes in, bytes out, events);
//! [`mux`] runs many sessions on one `mio` event-loop thread (sockets, timeouts, keepalive,
//! reconnects); [`conn`] logs in one session over a blocking socket (checks and tests);
//! `splitter` cuts the byte stream into stanzas.
//!
//! TLS ([`XmppTls`]): STARTTLS on the client port (5222) or direct TLS (5223), the server's
//! certificate and name checked (rustls); plain only when asked for.
//!
//! finesse-sim publishes through Prosody with its own XMPP code, on purpose: see `crate::xml`
//! for why the connector and the simulator share no Finesse format code.

pub mod client;
pub mod conn;
pub mod mux;
mod splitter;

use std::sync::Arc;

use rustls::ClientConfig;

use crate::xml::{Element, XmlError};

pub use client::{Login, XmppClient, XmppEvent};
pub use conn::XmppConn;
pub use splitter::StanzaSplitter;

/// Why an XMPP session failed.
#[derive(Debug)]
pub enum XmppError {
    /// The server refused the credentials (the SASL failure condition).
    Auth(String),
    /// The socket failed; worth a retry.
    Io(std::io::Error),
    /// A stanza is not well-formed XML; worth a retry.
    Xml(XmlError),
    /// Anything else in the protocol (unexpected or missing answers), worth a retry.
    Link(String),
}

impl std::fmt::Display for XmppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            XmppError::Auth(m) => write!(f, "XMPP login refused: {m}"),
            XmppError::Io(e) => write!(f, "XMPP link: {e}"),
            XmppError::Xml(e) => write!(f, "XMPP link: bad stanza: {e}"),
            XmppError::Link(m) => write!(f, "XMPP link: {m}"),
        }
    }
}

impl std::error::Error for XmppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            XmppError::Io(e) => Some(e),
            XmppError::Xml(e) => Some(e),
            XmppError::Auth(_) | XmppError::Link(_) => None,
        }
    }
}

/// How the XMPP connection is protected.
#[derive(Clone)]
pub enum XmppTls {
    /// No TLS: SASL PLAIN sends the password in clear (trusted networks only).
    Plain,
    /// STARTTLS on the client port, required; the server's name as in its certificate.
    StartTls(Arc<ClientConfig>, String),
    /// TLS from the first byte (port 5223).
    Direct(Arc<ClientConfig>, String),
}

impl std::fmt::Debug for XmppTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            XmppTls::Plain => f.write_str("plain"),
            XmppTls::StartTls(_, name) => write!(f, "starttls({name})"),
            XmppTls::Direct(_, name) => write!(f, "tls({name})"),
        }
    }
}

impl crate::config::Finesse {
    /// The XMPP transport to the node at `host` (`finesse.xmpp_tls`, `starttls` by default):
    /// the node's certificate checked against `finesse.ca_file`, or the public web CAs built
    /// in when it is empty (as for HTTPS).
    pub fn xmpp_tls(&self, host: &str) -> Result<XmppTls, crate::config::ConfigError> {
        let bad = |problem: String| crate::config::ConfigError::Value {
            key: "finesse.xmpp_tls",
            problem,
        };
        let mode = self.xmpp_tls.to_ascii_lowercase();
        if mode == "plain" {
            return Ok(XmppTls::Plain);
        }
        if mode != "starttls" && mode != "tls" {
            return Err(bad(format!(
                "must be plain, starttls or tls, got {:?}",
                self.xmpp_tls
            )));
        }
        let config = match self.tls_settings()? {
            Some(t) => t.config(),
            None => web_roots().map_err(|e| bad(format!("TLS with the public web CAs: {e}")))?,
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Ok(if mode == "tls" {
            XmppTls::Direct(config, host)
        } else {
            XmppTls::StartTls(config, host)
        })
    }
}

/// A TLS client configuration trusting the public web CAs built in (`webpki-roots`, as the
/// HTTPS client does when `finesse.ca_file` is empty).
fn web_roots() -> Result<Arc<ClientConfig>, rustls::Error> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The escaped `<Update>` documents in a pubsub event message.
pub fn notifications(message: &Element) -> Vec<String> {
    let Some(items) = message.path(&["event", "items"]) else {
        return Vec::new();
    };
    items
        .children
        .iter()
        .filter(|i| i.name == "item")
        .filter_map(|i| i.child("notification"))
        .map(|n| n.text.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

#[cfg(test)]
mod tls_tests {
    use super::XmppTls;
    use crate::config::Finesse;

    #[test]
    fn starttls_is_the_default_and_plain_only_when_asked_for() {
        let f = Finesse::default();
        assert_eq!(f.xmpp_tls, "starttls");
        // No CA file: the node's certificate is checked against the public web CAs.
        let tls = f.xmpp_tls("[::1]").unwrap();
        assert_eq!(format!("{tls:?}"), "starttls(::1)");
        let plain = Finesse {
            xmpp_tls: "Plain".into(),
            ..Finesse::default()
        };
        assert!(matches!(plain.xmpp_tls("h").unwrap(), XmppTls::Plain));
        let bad = Finesse {
            xmpp_tls: "ssl".into(),
            ..Finesse::default()
        };
        let e = bad.xmpp_tls("h").unwrap_err().to_string();
        assert!(e.contains("finesse.xmpp_tls"), "{e}");
    }
}
