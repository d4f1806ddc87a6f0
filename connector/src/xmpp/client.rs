//! The XMPP client without I/O: the bytes the server sent go in ([`XmppClient::receive`]),
//! the bytes to send come out ([`XmppClient::wire`], [`XmppClient::sent`]) and so do events
//! ([`XmppClient::next_event`]). TLS (STARTTLS or direct) is a rustls `ClientConnection`
//! driven the same way, so the whole login — stream, STARTTLS, SASL PLAIN, bind, session,
//! presence, pubsub subscriptions — runs without a socket or a clock; the owner supplies
//! both (timeouts, keepalive and reconnects are its job).

use std::collections::VecDeque;
use std::io::{Read, Write};

use base64::Engine;
use rustls::pki_types::ServerName;
use rustls::ClientConnection;

use super::{notifications, StanzaSplitter, XmppError, XmppTls};
use crate::xml::{escape, Element};

/// Who logs in, where, and what to subscribe to.
#[derive(Clone)]
pub struct Login {
    /// The XMPP domain (`finesse.local`, the Finesse node's domain).
    pub domain: String,
    /// The user (the agent id).
    pub user: String,
    /// The password (sent with SASL PLAIN: only inside TLS unless configured plain).
    pub password: String,
    /// The resource to bind (unique per connector process start).
    pub resource: String,
    /// The pubsub service of the agent's nodes (empty: subscribe to nothing).
    pub pubsub: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}/{}", self.user, self.domain, self.resource)
    }
}

/// What the session tells its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XmppEvent {
    /// Logged in, present and subscribed: notifications flow from now on. `jid`: our full JID.
    Online {
        /// The JID the server bound.
        jid: String,
    },
    /// The escaped `<Update>` document of one pubsub item.
    Notification(String),
    /// The presence of the node's `finesse` user changed: unavailable when Finesse's web
    /// application (or Tomcat) is down (Cisco's "Failure Scenarios"), available again after.
    FinessePresence {
        /// Whether any resource of `finesse@<domain>` is available.
        available: bool,
    },
}

/// Where the login stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Stream opened; waiting for its features (`0`: first stream, `1`: inside STARTTLS's
    /// TLS, `2`: after SASL).
    Features(u8),
    /// `<starttls/>` sent.
    Proceed,
    /// `<auth/>` sent.
    Auth,
    /// Bind iq sent.
    Bind,
    /// Session iq sent.
    Session,
    /// Presence, subscriptions and a ping sent; waiting for their answers.
    Joining,
    /// Logged in.
    Online,
}

/// One XMPP session, as a state machine.
pub struct XmppClient {
    login: Login,
    tls: XmppTls,
    phase: Phase,
    splitter: StanzaSplitter,
    /// The TLS session, once started.
    conn: Option<Box<ClientConnection>>,
    /// Bytes for the socket.
    wire: Vec<u8>,
    events: VecDeque<XmppEvent>,
    /// Iq ids still unanswered while joining.
    joining: Vec<String>,
    jid: String,
    pings: u64,
    /// The available resources of the `finesse` user.
    finesse: std::collections::HashSet<String>,
    /// The `finesse` presence last reported (`None`: none seen yet).
    finesse_reported: Option<bool>,
}

fn open_stream(domain: &str) -> String {
    format!(
        "<?xml version='1.0'?><stream:stream to='{}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
        escape(domain)
    )
}

fn tls_error(e: &rustls::Error) -> XmppError {
    match e {
        rustls::Error::InvalidCertificate(c) => XmppError::Link(format!(
            "TLS handshake: the server's certificate is not trusted ({c:?}): check finesse.ca_file and that the certificate names this host"
        )),
        other => XmppError::Link(format!("TLS: {other}")),
    }
}

/// Bytes kept for the socket between writes: a burst's buffer is given back afterwards.
const KEEP_CAPACITY: usize = 4 * 1024;

impl XmppClient {
    /// A session that logs in as `login` over `tls`; its first bytes (the stream header or
    /// the TLS hello) are ready in [`XmppClient::wire`].
    pub fn new(login: Login, tls: XmppTls) -> Result<XmppClient, XmppError> {
        let mut c = XmppClient {
            login,
            tls,
            phase: Phase::Features(0),
            splitter: StanzaSplitter::default(),
            conn: None,
            wire: Vec::new(),
            events: VecDeque::new(),
            joining: Vec::new(),
            jid: String::new(),
            pings: 0,
            finesse: std::collections::HashSet::new(),
            finesse_reported: None,
        };
        if matches!(c.tls, XmppTls::Direct(..)) {
            c.start_tls()?;
        }
        c.send(&open_stream(&c.login.domain));
        Ok(c)
    }

    /// Logged in (after [`XmppEvent::Online`]).
    pub fn online(&self) -> bool {
        self.phase == Phase::Online
    }

    /// Our full JID once bound (empty before).
    pub fn jid(&self) -> &str {
        &self.jid
    }

    /// The bytes waiting for the socket.
    pub fn wire(&self) -> &[u8] {
        &self.wire
    }

    /// `n` bytes of [`XmppClient::wire`] were written to the socket.
    pub fn sent(&mut self, n: usize) {
        self.wire.drain(..n.min(self.wire.len()));
        if self.wire.is_empty() && self.wire.capacity() > 4 * KEEP_CAPACITY {
            self.wire.shrink_to(KEEP_CAPACITY);
        }
    }

    /// The next event.
    pub fn next_event(&mut self) -> Option<XmppEvent> {
        self.events.pop_front()
    }

    /// Sends a ping to the server (keepalive; its answer is bytes received). Only when online.
    pub fn ping(&mut self) {
        if self.phase == Phase::Online {
            self.pings += 1;
            let id = format!("ka{}", self.pings);
            self.send(&format!(
                "<iq type='get' id='{id}'><ping xmlns='urn:xmpp:ping'/></iq>"
            ));
        }
    }

    /// Ends the stream politely (the owner closes the socket once the bytes are out).
    pub fn close(&mut self) {
        self.send("</stream:stream>");
        if let Some(c) = self.conn.as_mut() {
            c.send_close_notify();
        }
        self.pump_tls();
    }

    /// Handles bytes from the server. An error ends the session: [`XmppError::Auth`] when
    /// the server refused the credentials, anything else is worth a retry.
    pub fn receive(&mut self, data: &[u8]) -> Result<(), XmppError> {
        match self.conn.as_mut() {
            None => self.splitter.push(data),
            Some(conn) => {
                let mut rest = data;
                let mut buf = [0u8; 8 * 1024];
                while !rest.is_empty() {
                    conn.read_tls(&mut rest)
                        .map_err(|e| XmppError::Link(format!("TLS: {e}")))?;
                    if let Err(e) = conn.process_new_packets() {
                        // Queue the alert that tells the server why, then fail.
                        self.pump_tls();
                        return Err(tls_error(&e));
                    }
                    loop {
                        match conn.reader().read(&mut buf) {
                            Ok(0) => return Err(XmppError::Link("the server closed TLS".into())),
                            Ok(n) => self.splitter.push(&buf[..n]),
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                            Err(e) => return Err(XmppError::Link(format!("TLS: {e}"))),
                        }
                    }
                }
            }
        }
        while let Some(text) = self.splitter.next_stanza()? {
            let stanza = Element::parse(&text).map_err(XmppError::Xml)?;
            self.handle(&stanza)?;
        }
        self.pump_tls();
        Ok(())
    }

    fn handle(&mut self, s: &Element) -> Result<(), XmppError> {
        if s.name == "error" {
            let cond = s.children.first().map(|e| e.name.as_str()).unwrap_or("");
            return Err(XmppError::Link(format!("stream error: {cond}")));
        }
        match self.phase {
            Phase::Features(stage) => {
                if s.name != "features" {
                    return Err(XmppError::Link(format!(
                        "expected stream features, got {}",
                        s.name
                    )));
                }
                match stage {
                    0 if matches!(self.tls, XmppTls::StartTls(..)) => {
                        if s.child("starttls").is_none() {
                            return Err(XmppError::Link(
                                "the server offers no STARTTLS (finesse.xmpp_tls)".into(),
                            ));
                        }
                        self.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
                        self.phase = Phase::Proceed;
                    }
                    0 | 1 => self.auth(),
                    _ => {
                        self.send(&format!(
                            "<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>{}</resource></bind></iq>",
                            escape(&self.login.resource)
                        ));
                        self.phase = Phase::Bind;
                    }
                }
            }
            Phase::Proceed => {
                if s.name != "proceed" {
                    return Err(XmppError::Link(format!("STARTTLS refused: {}", s.name)));
                }
                self.start_tls()?;
                self.splitter.reset();
                self.send(&open_stream(&self.login.domain));
                self.phase = Phase::Features(1);
            }
            Phase::Auth => match s.name.as_str() {
                "success" => {
                    self.splitter.reset();
                    self.send(&open_stream(&self.login.domain));
                    self.phase = Phase::Features(2);
                }
                "failure" => {
                    let why = s
                        .children
                        .first()
                        .map(|e| e.name.clone())
                        .unwrap_or_else(|| "not-authorized".into());
                    return Err(XmppError::Auth(why));
                }
                other => return Err(XmppError::Link(format!("unexpected {other} after auth"))),
            },
            Phase::Bind => {
                if let Some(answer) = iq_answer(s, "bind1") {
                    let bound = answer?;
                    self.jid = bound
                        .path(&["bind", "jid"])
                        .map(|j| j.text.trim().to_string())
                        .unwrap_or_default();
                    self.send("<iq type='set' id='sess1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
                    self.phase = Phase::Session;
                }
            }
            // Servers that do not need a session answer with an error; either is fine.
            Phase::Session => {
                if iq_answer(s, "sess1").is_some() {
                    self.join();
                }
            }
            Phase::Joining => {
                self.answer_ping(s);
                self.finesse_presence(s);
                let id = s.attr("id").unwrap_or_default();
                if s.name == "iq" && self.joining.iter().any(|j| j == id) {
                    if let Some(Err(e)) = iq_answer(s, id) {
                        // Finesse subscribes its users itself: a refusal is only logged.
                        tracing::debug!("user {}: {e}", self.login.user);
                    }
                    self.joining.retain(|j| j != id);
                    if self.joining.is_empty() {
                        self.phase = Phase::Online;
                        self.events.push_back(XmppEvent::Online {
                            jid: self.jid.clone(),
                        });
                    }
                }
            }
            Phase::Online => {
                self.answer_ping(s);
                self.finesse_presence(s);
                if s.name == "message" {
                    for text in notifications(s) {
                        self.events.push_back(XmppEvent::Notification(text));
                    }
                }
            }
        }
        Ok(())
    }

    fn auth(&mut self) {
        let l = &self.login;
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("\0{}\0{}", l.user, l.password).as_bytes());
        self.send(&format!(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>"
        ));
        self.phase = Phase::Auth;
    }

    /// Presence, the subscriptions to the user's nodes, and a ping: the server handles
    /// stanzas in order, so once all are answered the presence is in effect and pubsub
    /// events reach this session.
    fn join(&mut self) {
        self.send("<presence/>");
        // Directed presence to the node's `finesse` user: Finesse watches its users' presence,
        // and a server that does not roster that user answers with the user's own presence.
        self.send(&format!(
            "<presence to='finesse@{}'/>",
            escape(&self.login.domain)
        ));
        let l = self.login.clone();
        if !l.pubsub.is_empty() {
            let nodes = [
                format!("/finesse/api/User/{}", l.user),
                format!("/finesse/api/User/{}/Dialogs", l.user),
            ];
            for (i, node) in nodes.iter().enumerate() {
                let id = format!("sub{i}");
                self.send(&format!(
                    "<iq type='set' to='{}' id='{id}'><pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='{}' jid='{}@{}'/></pubsub></iq>",
                    escape(&l.pubsub),
                    escape(node),
                    escape(&l.user),
                    escape(&l.domain)
                ));
                self.joining.push(id);
            }
        }
        self.send("<iq type='get' id='ping1'><ping xmlns='urn:xmpp:ping'/></iq>");
        self.joining.push("ping1".into());
        self.phase = Phase::Joining;
    }

    /// Follows the presence of `finesse@<our domain>` (any resource available: available)
    /// and reports each change.
    fn finesse_presence(&mut self, s: &Element) {
        if s.name != "presence" {
            return;
        }
        let from = s.attr("from").unwrap_or_default();
        let (bare, resource) = from.split_once('/').unwrap_or((from, ""));
        let Some((user, domain)) = bare.split_once('@') else {
            return;
        };
        if !user.eq_ignore_ascii_case("finesse") || !domain.eq_ignore_ascii_case(&self.login.domain)
        {
            return;
        }
        match s.attr("type") {
            None => {
                self.finesse.insert(resource.to_string());
            }
            Some("unavailable") => {
                self.finesse.remove(resource);
            }
            _ => return, // subscription requests, probes, errors: no news of the node
        }
        let available = !self.finesse.is_empty();
        if self.finesse_reported != Some(available) {
            self.finesse_reported = Some(available);
            self.events
                .push_back(XmppEvent::FinessePresence { available });
        }
    }

    /// Answers a server's ping (XEP-0199).
    fn answer_ping(&mut self, s: &Element) {
        if s.name == "iq" && s.attr("type") == Some("get") && s.child("ping").is_some() {
            let id = escape(s.attr("id").unwrap_or_default());
            let to = s
                .attr("from")
                .map(|f| format!(" to='{}'", escape(f)))
                .unwrap_or_default();
            self.send(&format!("<iq type='result' id='{id}'{to}/>"));
        }
    }

    fn start_tls(&mut self) -> Result<(), XmppError> {
        let (XmppTls::StartTls(cfg, name) | XmppTls::Direct(cfg, name)) = &self.tls else {
            return Err(XmppError::Link("TLS on a plain session".into()));
        };
        if self.conn.is_some() {
            return Err(XmppError::Link("STARTTLS inside TLS".into()));
        }
        let server = ServerName::try_from(name.clone())
            .map_err(|_| XmppError::Link(format!("{name} is no server name")))?;
        let conn = ClientConnection::new(cfg.clone(), server).map_err(|e| tls_error(&e))?;
        self.conn = Some(Box::new(conn));
        self.pump_tls();
        Ok(())
    }

    /// Queues `xml` for the server (inside TLS when on).
    fn send(&mut self, xml: &str) {
        match self.conn.as_mut() {
            None => self.wire.extend_from_slice(xml.as_bytes()),
            Some(c) => {
                // rustls buffers plaintext until the handshake is done.
                let _ = c.writer().write_all(xml.as_bytes());
                self.pump_tls();
            }
        }
    }

    /// Moves TLS records into the wire buffer.
    fn pump_tls(&mut self) {
        if let Some(c) = self.conn.as_mut() {
            while c.wants_write() {
                if c.write_tls(&mut self.wire).is_err() {
                    break;
                }
            }
        }
    }
}

/// The answer to iq `id`, if `s` is it: its element, or an error with its condition.
fn iq_answer<'a>(s: &'a Element, id: &str) -> Option<Result<&'a Element, XmppError>> {
    if s.name != "iq" || s.attr("id") != Some(id) {
        return None;
    }
    match s.attr("type") {
        Some("result") => Some(Ok(s)),
        Some("error") => {
            let cond = s
                .child("error")
                .and_then(|e| e.children.first())
                .map(|e| e.name.clone())
                .unwrap_or_default();
            Some(Err(XmppError::Link(format!("iq {id} failed: {cond}"))))
        }
        _ => None,
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
