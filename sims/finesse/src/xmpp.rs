//! A small synchronous XMPP client over `std::net::TcpStream`: stream open, SASL PLAIN, stream
//! restart, resource bind, session, presence, iq request/response, in-band registration
//! (XEP-0077) and the pubsub operations (XEP-0060) finesse-sim needs. No TLS: it talks to a
//! Prosody on loopback. The stanza builders and the stream splitter are pure functions, tested
//! below without a server.

use std::collections::VecDeque;
use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use base64::Engine;

use crate::xml::{self, escape, Element};

mod batch;
pub use batch::{IqRequest, BATCH};

/// XEP-0060 namespace of pubsub requests (and of Finesse's `<notification>` payload element).
pub const NS_PUBSUB: &str = "http://jabber.org/protocol/pubsub";
/// XEP-0060 namespace of pubsub event messages.
pub const NS_PUBSUB_EVENT: &str = "http://jabber.org/protocol/pubsub#event";
/// XEP-0060 namespace of owner requests (subscription management).
pub const NS_PUBSUB_OWNER: &str = "http://jabber.org/protocol/pubsub#owner";

/// Why an XMPP operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmppError {
    /// The TCP connection failed or closed.
    Io(String),
    /// The server sent something this client did not expect.
    Protocol(String),
    /// SASL authentication was refused (the condition, e.g. `not-authorized`).
    Auth(String),
    /// An iq was answered with an error (the defined condition, e.g. `conflict`, `forbidden`).
    Stanza(String),
    /// No answer within the time allowed.
    Timeout,
}

impl fmt::Display for XmppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XmppError::Io(e) => write!(f, "XMPP connection error: {e}"),
            XmppError::Protocol(e) => write!(f, "XMPP protocol error: {e}"),
            XmppError::Auth(c) => write!(f, "XMPP authentication failed: {c}"),
            XmppError::Stanza(c) => write!(f, "XMPP request refused: {c}"),
            XmppError::Timeout => write!(f, "XMPP server did not answer in time"),
        }
    }
}

impl std::error::Error for XmppError {}

// --- stanza builders ---------------------------------------------------------------------------

/// The opening tag of a client stream to `domain`.
pub fn stream_open(domain: &str) -> String {
    format!(
        "<?xml version='1.0'?><stream:stream to='{}' version='1.0' xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams'>",
        escape(domain)
    )
}

/// A SASL PLAIN `<auth>` element for `user` / `password` (RFC 4616, no authzid).
pub fn sasl_plain(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
    format!("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
}

/// An iq of `kind` (`get`/`set`) with `id`, optional `to`, wrapping `payload`.
pub fn iq(kind: &str, id: &str, to: Option<&str>, payload: &str) -> String {
    let to = to
        .map(|t| format!(" to='{}'", escape(t)))
        .unwrap_or_default();
    format!("<iq type='{kind}' id='{}'{to}>{payload}</iq>", escape(id))
}

/// The payload of a resource bind request.
pub fn bind_payload(resource: &str) -> String {
    format!(
        "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>{}</resource></bind>",
        escape(resource)
    )
}

/// The payload of a (legacy, harmless) session establishment request.
pub fn session_payload() -> &'static str {
    "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/>"
}

/// The payload of an in-band registration (XEP-0077) of `user` with `password`.
pub fn register_payload(user: &str, password: &str) -> String {
    format!(
        "<query xmlns='jabber:iq:register'><username>{}</username><password>{}</password></query>",
        escape(user),
        escape(password)
    )
}

/// The payload that creates pubsub `node`. Its items are not stored (Finesse's nodes carry
/// notifications, not data: storing each one would cost the XMPP server a disk write).
pub fn create_node_payload(node: &str) -> String {
    format!(
        "<pubsub xmlns='{NS_PUBSUB}'><create node='{}'/><configure><x xmlns='jabber:x:data' \
         type='submit'><field var='FORM_TYPE' type='hidden'><value>{NS_PUBSUB}#node_config\
         </value></field><field var='pubsub#persist_items'><value>0</value></field></x>\
         </configure></pubsub>",
        escape(node)
    )
}

/// The payload that publishes one item, whose content is `item_xml` (well-formed XML), to `node`.
pub fn publish_payload(node: &str, item_xml: &str) -> String {
    format!(
        "<pubsub xmlns='{NS_PUBSUB}'><publish node='{}'><item>{item_xml}</item></publish></pubsub>",
        escape(node)
    )
}

/// The owner payload that sets `jid`'s subscription to `node` (`subscribed` or `none`).
pub fn owner_subscription_payload(node: &str, jid: &str, subscription: &str) -> String {
    format!(
        "<pubsub xmlns='{NS_PUBSUB_OWNER}'><subscriptions node='{}'><subscription jid='{}' \
         subscription='{subscription}'/></subscriptions></pubsub>",
        escape(node),
        escape(jid)
    )
}

/// The payload by which `jid` subscribes itself to `node`.
pub fn subscribe_payload(node: &str, jid: &str) -> String {
    format!(
        "<pubsub xmlns='{NS_PUBSUB}'><subscribe node='{}' jid='{}'/></pubsub>",
        escape(node),
        escape(jid)
    )
}

/// Finesse's pubsub item content: a `<notification>` holding the escaped `<Update>` document.
pub fn notification_item(update_xml: &str) -> String {
    format!(
        "<notification xmlns='{NS_PUBSUB}'>{}</notification>",
        escape(update_xml)
    )
}

/// A pubsub event received in a message: the node and the text of each item's `<notification>`
/// (for Finesse, an `<Update>` document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PubsubEvent {
    /// The node the items were published to.
    pub node: String,
    /// The unescaped notification payloads, one per item.
    pub payloads: Vec<String>,
}

/// Reads a pubsub event out of a `<message>` stanza, if it carries one.
pub fn pubsub_event(stanza: &Element) -> Option<PubsubEvent> {
    if stanza.local_name() != "message" {
        return None;
    }
    let event = stanza.child("event")?;
    let items = event.child("items")?;
    let payloads = items
        .elements()
        .filter(|i| i.local_name() == "item")
        .filter_map(|i| i.child("notification").map(Element::text))
        .collect();
    Some(PubsubEvent {
        node: items.attr("node")?.to_string(),
        payloads,
    })
}

/// The defined condition of an error stanza (`<error><conflict/>…`), or `undefined-condition`.
pub fn error_condition(stanza: &Element) -> String {
    stanza
        .child("error")
        .and_then(|e| e.elements().find(|c| c.local_name() != "text"))
        .map(|c| c.local_name().to_string())
        .unwrap_or_else(|| "undefined-condition".into())
}

// --- stream splitting --------------------------------------------------------------------------

/// One unit read from an XMPP stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamItem {
    /// The peer's `<stream:stream>` header (as an element without children).
    Header(Element),
    /// A complete top-level stanza (or `stream:features`, SASL element…).
    Stanza(Element),
    /// The peer closed its stream.
    End,
}

/// Splits the bytes of an XMPP stream into headers and complete top-level elements.
#[derive(Debug, Default)]
pub struct StreamSplitter {
    buf: Vec<u8>,
}

impl StreamSplitter {
    /// Appends bytes read from the socket.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Takes the next complete item, if the buffer holds one.
    pub fn next_item(&mut self) -> Result<Option<StreamItem>, XmppError> {
        loop {
            let start = match self.buf.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(s) => s,
                None => {
                    self.buf.clear();
                    return Ok(None);
                }
            };
            if self.buf[start] != b'<' {
                return Err(XmppError::Protocol("text outside a stanza".into()));
            }
            let Some(first_end) = tag_end(&self.buf, start) else {
                return Ok(None);
            };
            let tag = &self.buf[start..=first_end];
            if tag.starts_with(b"<?") {
                self.buf.drain(..=first_end);
                continue;
            }
            if tag.starts_with(b"</stream:stream") {
                self.buf.drain(..=first_end);
                return Ok(Some(StreamItem::End));
            }
            if tag.starts_with(b"<stream:stream") {
                let mut text = String::from_utf8_lossy(&tag[..tag.len() - 1]).into_owned();
                text.push_str("/>");
                self.buf.drain(..=first_end);
                let header = xml::parse(&text).map_err(XmppError::Protocol)?;
                return Ok(Some(StreamItem::Header(header)));
            }
            // A stanza: walk tags until the depth returns to zero.
            let mut depth = 0usize;
            let mut pos = start;
            loop {
                let Some(lt) = self.buf[pos..].iter().position(|&b| b == b'<') else {
                    return Ok(None);
                };
                let open = pos + lt;
                let Some(end) = tag_end(&self.buf, open) else {
                    return Ok(None);
                };
                let tag = &self.buf[open..=end];
                if tag.starts_with(b"</") {
                    depth = depth.saturating_sub(1);
                } else if !tag.ends_with(b"/>") {
                    depth += 1;
                }
                pos = end + 1;
                if depth == 0 {
                    break;
                }
            }
            let text = String::from_utf8_lossy(&self.buf[start..pos]).into_owned();
            self.buf.drain(..pos);
            let stanza = xml::parse(&text).map_err(XmppError::Protocol)?;
            return Ok(Some(StreamItem::Stanza(stanza)));
        }
    }
}

/// The index of the `>` that ends the tag opened at `open`, skipping quoted attribute values.
fn tag_end(buf: &[u8], open: usize) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (i, &b) in buf.iter().enumerate().skip(open + 1) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(i),
            None => {}
        }
    }
    None
}

// --- the client --------------------------------------------------------------------------------

/// Outcome of an in-band registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// The account was created.
    Created,
    /// An account with that name already exists (its password was not changed).
    AlreadyExists,
}

/// An authenticated client session (`user@domain/resource`).
pub struct XmppClient {
    stream: TcpStream,
    splitter: StreamSplitter,
    pending: VecDeque<Element>,
    jid: String,
    next_id: u64,
    timeout: Duration,
}

impl XmppClient {
    /// Registers `user` with `password` on `domain` through in-band registration (XEP-0077).
    pub fn register(
        addr: SocketAddr,
        domain: &str,
        user: &str,
        password: &str,
        timeout: Duration,
    ) -> Result<Registration, XmppError> {
        let mut client = Self::connect_raw(addr, timeout)?;
        client.open_stream(domain)?;
        let reply = client.iq("set", None, &register_payload(user, password));
        client.close();
        match reply {
            Ok(_) => Ok(Registration::Created),
            Err(XmppError::Stanza(c)) if c == "conflict" => Ok(Registration::AlreadyExists),
            Err(e) => Err(e),
        }
    }

    /// Connects, authenticates with SASL PLAIN as `user@domain`, binds `resource`, establishes
    /// the session and sends initial presence (so that pubsub events are delivered); returns
    /// once the presence is in effect.
    pub fn login(
        addr: SocketAddr,
        domain: &str,
        user: &str,
        password: &str,
        resource: &str,
        timeout: Duration,
    ) -> Result<XmppClient, XmppError> {
        let mut client = Self::connect_raw(addr, timeout)?;
        let features = client.open_stream(domain)?;
        let plain = features
            .child("mechanisms")
            .map(|m| m.elements().any(|e| e.text().trim() == "PLAIN"))
            .unwrap_or(false);
        if !plain {
            return Err(XmppError::Protocol(
                "server does not offer SASL PLAIN".into(),
            ));
        }
        client.send(&sasl_plain(user, password))?;
        let answer = client.read_stanza(timeout)?;
        match answer.local_name() {
            "success" => {}
            "failure" => {
                let condition = answer.elements().next().map(|e| e.local_name().to_string());
                return Err(XmppError::Auth(
                    condition.unwrap_or_else(|| "failure".into()),
                ));
            }
            other => {
                return Err(XmppError::Protocol(format!(
                    "unexpected <{other}> after auth"
                )))
            }
        }
        client.splitter = StreamSplitter::default();
        client.open_stream(domain)?;
        let bound = client.iq("set", None, &bind_payload(resource))?;
        client.jid = bound
            .find("bind/jid")
            .map(|j| j.text().trim().to_string())
            .ok_or_else(|| XmppError::Protocol("bind result without a jid".into()))?;
        client.iq("set", None, session_payload())?;
        client.send("<presence/>")?;
        // The server handles a connection's stanzas in order: once this ping is answered, the
        // presence is in effect and events sent to the bare JID reach this session.
        client.iq("get", Some(domain), "<ping xmlns='urn:xmpp:ping'/>")?;
        Ok(client)
    }

    fn connect_raw(addr: SocketAddr, timeout: Duration) -> Result<XmppClient, XmppError> {
        let stream =
            TcpStream::connect_timeout(&addr, timeout).map_err(|e| XmppError::Io(e.to_string()))?;
        stream
            .set_nodelay(true)
            .map_err(|e| XmppError::Io(e.to_string()))?;
        Ok(XmppClient {
            stream,
            splitter: StreamSplitter::default(),
            pending: VecDeque::new(),
            jid: String::new(),
            next_id: 0,
            timeout,
        })
    }

    /// Sends the stream header and returns the server's `<stream:features>`.
    fn open_stream(&mut self, domain: &str) -> Result<Element, XmppError> {
        self.send(&stream_open(domain))?;
        let deadline = Instant::now() + self.timeout;
        match self.read_item(deadline)? {
            Some(StreamItem::Header(_)) => {}
            _ => return Err(XmppError::Protocol("no stream header from server".into())),
        }
        let features = self.read_stanza(self.timeout)?;
        if features.local_name() == "error" {
            return Err(XmppError::Protocol(format!(
                "stream error: {}",
                error_child(&features)
            )));
        }
        if features.local_name() != "features" {
            return Err(XmppError::Protocol(format!(
                "expected features, got <{}>",
                features.name
            )));
        }
        Ok(features)
    }

    /// The full JID the server bound (empty before login completes).
    pub fn jid(&self) -> &str {
        &self.jid
    }

    /// The bare JID (`user@domain`).
    pub fn bare_jid(&self) -> &str {
        self.jid.split('/').next().unwrap_or("")
    }

    /// Writes raw XML to the stream.
    pub fn send(&mut self, xml: &str) -> Result<(), XmppError> {
        self.stream
            .write_all(xml.as_bytes())
            .map_err(|e| XmppError::Io(e.to_string()))
    }

    /// Sends an iq of `kind` to `to` and waits for its answer; other stanzas that arrive meanwhile
    /// are kept for [`XmppClient::next_stanza`]. An error answer becomes [`XmppError::Stanza`].
    pub fn iq(
        &mut self,
        kind: &str,
        to: Option<&str>,
        payload: &str,
    ) -> Result<Element, XmppError> {
        self.next_id += 1;
        let id = format!("sim{}", self.next_id);
        self.send(&iq(kind, &id, to, payload))?;
        let deadline = Instant::now() + self.timeout;
        loop {
            match self.read_item(deadline)? {
                Some(StreamItem::Stanza(s))
                    if s.local_name() == "iq" && s.attr("id") == Some(&id) =>
                {
                    return iq_outcome(s);
                }
                Some(StreamItem::Stanza(s)) if s.local_name() == "error" => {
                    return Err(XmppError::Protocol(format!(
                        "stream error: {}",
                        error_child(&s)
                    )));
                }
                Some(StreamItem::Stanza(s)) => self.pending.push_back(s),
                Some(StreamItem::End) => {
                    return Err(XmppError::Io("server closed the stream".into()))
                }
                Some(StreamItem::Header(_)) => {}
                None => return Err(XmppError::Timeout),
            }
        }
    }

    /// The next stanza received (queued first), waiting at most `timeout`; `Ok(None)` on timeout.
    pub fn next_stanza(&mut self, timeout: Duration) -> Result<Option<Element>, XmppError> {
        if let Some(s) = self.pending.pop_front() {
            return Ok(Some(s));
        }
        let deadline = Instant::now() + timeout;
        loop {
            match self.read_item(deadline)? {
                Some(StreamItem::Stanza(s)) => return Ok(Some(s)),
                Some(StreamItem::End) => {
                    return Err(XmppError::Io("server closed the stream".into()))
                }
                Some(StreamItem::Header(_)) => {}
                None => return Ok(None),
            }
        }
    }

    fn read_stanza(&mut self, timeout: Duration) -> Result<Element, XmppError> {
        match self.next_stanza(timeout)? {
            Some(s) => Ok(s),
            None => Err(XmppError::Timeout),
        }
    }

    /// Reads until one item is complete or `deadline` passes (`Ok(None)`).
    fn read_item(&mut self, deadline: Instant) -> Result<Option<StreamItem>, XmppError> {
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(item) = self.splitter.next_item()? {
                return Ok(Some(item));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .map_err(|e| XmppError::Io(e.to_string()))?;
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(XmppError::Io("connection closed".into())),
                Ok(n) => self.splitter.feed(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(XmppError::Io(e.to_string())),
            }
        }
    }

    /// Creates `node` on pubsub `service`; `Ok(false)` when it already exists.
    pub fn create_node(&mut self, service: &str, node: &str) -> Result<bool, XmppError> {
        match self.iq("set", Some(service), &create_node_payload(node)) {
            Ok(_) => Ok(true),
            Err(XmppError::Stanza(c)) if c == "conflict" => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Publishes one item holding `item_xml` to `node` and waits for the server's ack.
    pub fn publish(&mut self, service: &str, node: &str, item_xml: &str) -> Result<(), XmppError> {
        self.iq("set", Some(service), &publish_payload(node, item_xml))
            .map(|_| ())
    }

    /// As the node's owner, subscribes `jid` to `node` (XEP-0060 §8.8.2).
    pub fn subscribe_other(
        &mut self,
        service: &str,
        node: &str,
        jid: &str,
    ) -> Result<(), XmppError> {
        self.iq(
            "set",
            Some(service),
            &owner_subscription_payload(node, jid, "subscribed"),
        )
        .map(|_| ())
    }

    /// Subscribes this session's bare JID to `node`.
    pub fn subscribe(&mut self, service: &str, node: &str) -> Result<(), XmppError> {
        let jid = self.bare_jid().to_string();
        self.iq("set", Some(service), &subscribe_payload(node, &jid))
            .map(|_| ())
    }

    /// Closes the stream and the connection (best effort).
    pub fn close(mut self) {
        let _ = self.send("<presence type='unavailable'/></stream:stream>");
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

/// An iq answer: the result, or its error condition as [`XmppError::Stanza`].
fn iq_outcome(answer: Element) -> Result<Element, XmppError> {
    if answer.attr("type") == Some("error") {
        Err(XmppError::Stanza(error_condition(&answer)))
    } else {
        Ok(answer)
    }
}

fn error_child(stanza: &Element) -> String {
    stanza
        .elements()
        .next()
        .map(|e| e.local_name().to_string())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(input: &str) -> Vec<StreamItem> {
        let mut s = StreamSplitter::default();
        let mut out = Vec::new();
        for b in input.as_bytes().chunks(7) {
            s.feed(b);
            while let Some(item) = s.next_item().unwrap() {
                out.push(item);
            }
        }
        out
    }

    #[test]
    fn splitter_separates_header_stanzas_and_end_across_chunks() {
        let items = split_all(
            "<?xml version='1.0'?><stream:stream from='finesse.local' id='x' \
             xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>\
             <stream:features><mechanisms><mechanism>PLAIN</mechanism></mechanisms></stream:features>\
             <iq type='result' id='a>b'/> <message><body>1 &gt; 0</body></message></stream:stream>",
        );
        assert_eq!(items.len(), 5);
        assert!(
            matches!(&items[0], StreamItem::Header(h) if h.attr("from") == Some("finesse.local"))
        );
        assert!(matches!(&items[1], StreamItem::Stanza(f) if f.local_name() == "features"));
        assert!(matches!(&items[2], StreamItem::Stanza(i) if i.attr("id") == Some("a>b")));
        assert!(
            matches!(&items[3], StreamItem::Stanza(m) if m.child_text("body").as_deref() == Some("1 > 0"))
        );
        assert_eq!(items[4], StreamItem::End);
    }

    #[test]
    fn splitter_waits_for_incomplete_stanzas() {
        let mut s = StreamSplitter::default();
        s.feed(b"<message><body>par");
        assert_eq!(s.next_item().unwrap(), None);
        s.feed(b"tial</body></message>");
        assert!(matches!(
            s.next_item().unwrap(),
            Some(StreamItem::Stanza(_))
        ));
    }

    #[test]
    fn sasl_plain_encodes_user_and_password() {
        let auth = sasl_plain("1001", "pw");
        let e = xml::parse(&auth).unwrap();
        assert_eq!(e.attr("mechanism"), Some("PLAIN"));
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(e.text())
            .unwrap();
        assert_eq!(decoded, b"\x001001\x00pw");
    }

    #[test]
    fn builders_escape_and_nest() {
        let stanza = iq(
            "set",
            "i1",
            Some("pubsub.finesse.local"),
            &publish_payload(
                "/finesse/api/User/1'1",
                &notification_item("<Update>&</Update>"),
            ),
        );
        let e = xml::parse(&stanza).unwrap();
        let publish = e.find("pubsub/publish").unwrap();
        assert_eq!(publish.attr("node"), Some("/finesse/api/User/1'1"));
        assert_eq!(
            publish.find("item/notification").unwrap().text(),
            "<Update>&</Update>"
        );
        let reg = xml::parse(&register_payload("a<b", "p&w")).unwrap();
        assert_eq!(reg.child_text("username").as_deref(), Some("a<b"));
        let sub = xml::parse(&owner_subscription_payload("n", "u@d", "subscribed")).unwrap();
        assert_eq!(
            sub.find("subscriptions/subscription").unwrap().attr("jid"),
            Some("u@d")
        );
    }

    #[test]
    fn reads_pubsub_events_and_error_conditions() {
        let msg = xml::parse(
            "<message from='pubsub.finesse.local' type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'>\
             <items node='/finesse/api/User/1001'><item id='x'><notification xmlns='http://jabber.org/protocol/pubsub'>\
             &lt;Update&gt;&lt;event&gt;PUT&lt;/event&gt;&lt;/Update&gt;</notification></item></items></event></message>",
        )
        .unwrap();
        let ev = pubsub_event(&msg).unwrap();
        assert_eq!(ev.node, "/finesse/api/User/1001");
        assert_eq!(
            ev.payloads,
            vec!["<Update><event>PUT</event></Update>".to_string()]
        );
        let err = xml::parse(
            "<iq type='error' id='1'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text>exists</text></error></iq>",
        )
        .unwrap();
        assert_eq!(error_condition(&err), "conflict");
    }
}
