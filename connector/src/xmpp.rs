//! A minimal XMPP client for Finesse notifications: one connection per agent, logged in as
//! the agent (SASL PLAIN), receiving pubsub event messages. Written over std sockets: we need
//! stream setup, SASL PLAIN, bind, presence and message reading, not a full XMPP stack.
//!
//! TLS ([`XmppTls`]): STARTTLS on the client port (5222) or direct TLS (5223), the server's
//! certificate and name checked (rustls); plain only when asked for.
//!
//! finesse-sim publishes through Prosody with its own XMPP code, on purpose: see `crate::xml`
//! for why the connector and the simulator share no Finesse format code.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use base64::Engine;

use crate::xml::{escape, Element, XmlError};

/// Largest stanza accepted.
const MAX_STANZA: usize = 1 << 20;

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

/// Splits a byte stream into top-level stanzas (children of `<stream:stream>`).
#[derive(Default)]
pub struct StanzaSplitter {
    buf: Vec<u8>,
    /// Scan position and depth of the stanza being read (depth 0 = between stanzas).
    pos: usize,
    depth: usize,
    start: Option<usize>,
    opened: bool,
}

impl StanzaSplitter {
    /// Adds received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete stanza; the stream header is consumed silently.
    pub fn next_stanza(&mut self) -> Result<Option<String>, XmppError> {
        loop {
            let Some(lt) = self.buf[self.pos..].iter().position(|b| *b == b'<') else {
                self.pos = self.buf.len();
                return self.check_size();
            };
            let tag_start = self.pos + lt;
            // Find the end of the tag, honouring quotes.
            let mut quote = None;
            let mut end = None;
            for (i, &b) in self.buf[tag_start..].iter().enumerate() {
                match (quote, b) {
                    (None, b'"') | (None, b'\'') => quote = Some(b),
                    (Some(q), c) if c == q => quote = None,
                    (None, b'>') => {
                        end = Some(tag_start + i);
                        break;
                    }
                    _ => {}
                }
            }
            let Some(end) = end else {
                return self.check_size();
            };
            let tag = &self.buf[tag_start..=end];
            self.pos = end + 1;
            if tag.starts_with(b"<?") || tag.starts_with(b"<!") {
                continue;
            }
            if !self.opened {
                if tag.starts_with(b"<stream:stream") || tag.starts_with(b"<stream ") {
                    self.opened = true;
                    self.buf.drain(..self.pos);
                    self.pos = 0;
                    continue;
                }
                return Err(XmppError::Link("expected a stream header".into()));
            }
            if tag.starts_with(b"</stream:stream") {
                return Err(XmppError::Link("the server closed the stream".into()));
            }
            if tag.starts_with(b"</") {
                self.depth = self.depth.saturating_sub(1);
            } else {
                if self.depth == 0 {
                    self.start = Some(tag_start);
                }
                if !tag.ends_with(b"/>") {
                    self.depth += 1;
                }
            }
            if self.depth == 0 {
                if let Some(s) = self.start.take() {
                    let stanza = String::from_utf8_lossy(&self.buf[s..self.pos]).into_owned();
                    self.buf.drain(..self.pos);
                    self.pos = 0;
                    return Ok(Some(stanza));
                }
            }
        }
    }

    fn check_size(&self) -> Result<Option<String>, XmppError> {
        if self.buf.len() > MAX_STANZA {
            return Err(XmppError::Link("stanza too large".into()));
        }
        Ok(None)
    }

    /// Forgets the stream (after a stream restart).
    pub fn reset(&mut self) {
        *self = StanzaSplitter::default();
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

impl crate::config::Finesse {
    /// The XMPP transport to the node at `host` (`finesse.xmpp_tls`; TLS needs
    /// `finesse.ca_file`, whose CA must have signed the node's certificate).
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
        let Some(t) = self.tls_settings()? else {
            return Err(bad(format!(
                "{mode} needs finesse.ca_file (the CA of the nodes' certificates)"
            )));
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Ok(if mode == "tls" {
            XmppTls::Direct(t.config(), host)
        } else {
            XmppTls::StartTls(t.config(), host)
        })
    }
}

/// The socket, plain or inside TLS.
enum Transport {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Transport {
    fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(t) => t,
            Transport::Tls(s) => &s.sock,
        }
    }

    /// Wraps a plain socket in TLS to `name` and completes the handshake.
    fn secure(tcp: TcpStream, cfg: &Arc<ClientConfig>, name: &str) -> Result<Self, XmppError> {
        let name = ServerName::try_from(name.to_string())
            .map_err(|_| XmppError::Link(format!("{name} is no server name")))?;
        let conn = ClientConnection::new(cfg.clone(), name)
            .map_err(|e| XmppError::Link(format!("TLS: {e}")))?;
        let mut s = StreamOwned::new(conn, tcp);
        while s.conn.is_handshaking() {
            s.conn
                .complete_io(&mut s.sock)
                .map_err(|e| XmppError::Link(format!("TLS handshake: {e}")))?;
        }
        Ok(Transport::Tls(Box::new(s)))
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Transport::Plain(t) => t.read(buf),
            Transport::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Transport::Plain(t) => t.write(buf),
            Transport::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Transport::Plain(t) => t.flush(),
            Transport::Tls(s) => s.flush(),
        }
    }
}

/// A logged-in XMPP connection.
pub struct XmppConn {
    stream: Transport,
    splitter: StanzaSplitter,
    /// Our full JID after bind.
    pub jid: String,
}

fn open_stream(domain: &str) -> String {
    format!(
        "<?xml version='1.0'?><stream:stream to='{}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
        escape(domain)
    )
}

impl XmppConn {
    /// Connects (with `tls`), authenticates as `user@domain` with SASL PLAIN, binds a
    /// resource and sends presence. `timeout` bounds each step.
    pub fn login(
        addr: SocketAddr,
        tls: &XmppTls,
        domain: &str,
        user: &str,
        password: &str,
        resource: &str,
        timeout: Duration,
    ) -> Result<XmppConn, XmppError> {
        let link = XmppError::Io;
        let tcp = TcpStream::connect_timeout(&addr, timeout).map_err(link)?;
        tcp.set_nodelay(true).map_err(link)?;
        tcp.set_read_timeout(Some(timeout)).map_err(link)?;
        let stream = match tls {
            XmppTls::Direct(cfg, name) => Transport::secure(tcp, cfg, name)?,
            _ => Transport::Plain(tcp),
        };
        let mut c = XmppConn {
            stream,
            splitter: StanzaSplitter::default(),
            jid: String::new(),
        };
        c.send(&open_stream(domain))?;
        let features = c.expect_features(timeout)?;
        if let XmppTls::StartTls(cfg, name) = tls {
            if features.child("starttls").is_none() {
                return Err(XmppError::Link(
                    "the server offers no STARTTLS (finesse.xmpp_tls)".into(),
                ));
            }
            c.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")?;
            match c.read(timeout)? {
                Some(p) if p.name == "proceed" => {}
                other => {
                    return Err(XmppError::Link(format!(
                        "STARTTLS refused: {:?}",
                        other.map(|e| e.name)
                    )))
                }
            }
            let Transport::Plain(tcp) = c.stream else {
                return Err(XmppError::Link("STARTTLS inside TLS".into()));
            };
            c.stream = Transport::secure(tcp, cfg, name)?;
            c.splitter.reset();
            c.send(&open_stream(domain))?;
            c.expect_features(timeout)?;
        }
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("\0{user}\0{password}").as_bytes());
        c.send(&format!(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>"
        ))?;
        let answer = c
            .read(timeout)?
            .ok_or_else(|| XmppError::Link("no SASL answer".into()))?;
        match answer.name.as_str() {
            "success" => {}
            "failure" => {
                let why = answer
                    .children
                    .first()
                    .map(|e| e.name.clone())
                    .unwrap_or_else(|| "not-authorized".into());
                return Err(XmppError::Auth(why));
            }
            other => return Err(XmppError::Link(format!("unexpected {other} after auth"))),
        }
        c.splitter.reset();
        c.send(&open_stream(domain))?;
        c.expect_features(timeout)?;
        c.send(&format!(
            "<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>{}</resource></bind></iq>",
            escape(resource)
        ))?;
        let bound = c.wait_iq("bind1", timeout)?;
        c.jid = bound
            .path(&["bind", "jid"])
            .map(|j| j.text.trim().to_string())
            .unwrap_or_default();
        c.send(
            "<iq type='set' id='sess1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>",
        )?;
        // Servers that do not need a session answer with an error; either is fine.
        c.wait_iq("sess1", timeout).ok();
        c.send("<presence/>")?;
        // The server handles stanzas in order: once a ping is answered, the presence is in
        // effect and pubsub events reach this session.
        c.send("<iq type='get' id='ping1'><ping xmlns='urn:xmpp:ping'/></iq>")?;
        c.wait_iq("ping1", timeout).ok();
        Ok(c)
    }

    fn expect_features(&mut self, timeout: Duration) -> Result<Element, XmppError> {
        match self.read(timeout)? {
            Some(f) if f.name == "features" => Ok(f),
            Some(f) => Err(XmppError::Link(format!(
                "expected stream features, got {}",
                f.name
            ))),
            None => Err(XmppError::Link("no stream features".into())),
        }
    }

    /// Waits for the result of iq `id` (skipping other stanzas); an error result is an error.
    pub fn wait_iq(&mut self, id: &str, timeout: Duration) -> Result<Element, XmppError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(s) = self.read(left)? else {
                return Err(XmppError::Link(format!("no answer to iq {id}")));
            };
            if s.name == "iq" && s.attr("id") == Some(id) {
                if s.attr("type") == Some("error") {
                    let cond = s
                        .child("error")
                        .and_then(|e| e.children.first())
                        .map(|e| e.name.clone())
                        .unwrap_or_default();
                    return Err(XmppError::Link(format!("iq {id} failed: {cond}")));
                }
                return Ok(s);
            }
        }
    }

    /// Sends raw XML.
    pub fn send(&mut self, xml: &str) -> Result<(), XmppError> {
        self.stream.write_all(xml.as_bytes()).map_err(XmppError::Io)
    }

    /// The next stanza, waiting at most `timeout` (`None` on timeout).
    pub fn read(&mut self, timeout: Duration) -> Result<Option<Element>, XmppError> {
        let deadline = Instant::now() + timeout;
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(s) = self.splitter.next_stanza()? {
                return Element::parse(&s).map(Some).map_err(XmppError::Xml);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.stream
                .tcp()
                .set_read_timeout(Some(left))
                .map_err(XmppError::Io)?;
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(XmppError::Link("connection closed".into())),
                Ok(n) => self.splitter.push(&chunk[..n]),
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(XmppError::Io(e)),
            }
        }
    }

    /// Closes the stream politely.
    pub fn close(mut self) {
        let _ = self.send("</stream:stream>");
        let _ = self.stream.tcp().shutdown(std::net::Shutdown::Both);
    }
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
mod tests {
    use super::*;

    #[test]
    fn splits_stanzas_across_reads() {
        let stream = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' id='x'><stream:features><mechanisms><mechanism>PLAIN</mechanism></mechanisms></stream:features><presence a='x>y'/><message><event><items><item><notification>&lt;Update/&gt;</notification></item></items></event></message>";
        let mut s = StanzaSplitter::default();
        let mut got = Vec::new();
        for chunk in stream.as_bytes().chunks(7) {
            s.push(chunk);
            while let Some(st) = s.next_stanza().unwrap() {
                got.push(st);
            }
        }
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[0].starts_with("<stream:features>"));
        assert_eq!(got[1], "<presence a='x>y'/>");
        let msg = Element::parse(&got[2]).unwrap();
        assert_eq!(notifications(&msg), vec!["<Update/>".to_string()]);
    }

    #[test]
    fn garbage_is_an_error() {
        let mut s = StanzaSplitter::default();
        s.push(b"<html>");
        assert!(s.next_stanza().is_err());
        let mut s = StanzaSplitter::default();
        s.push(b"<stream:stream></stream:stream>");
        assert!(s.next_stanza().is_err());
    }
}
