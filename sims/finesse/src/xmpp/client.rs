//! The client session over a blocking socket: connect, register, log in, iq, pubsub.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::xml::Element;

use super::{
    bind_payload, create_node_payload, error_child, iq, iq_outcome, owner_subscription_payload,
    publish_payload, register_payload, sasl_plain, session_payload, stream_open, subscribe_payload,
    StreamItem, StreamSplitter, XmppError,
};

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
    pub(super) pending: VecDeque<Element>,
    jid: String,
    pub(super) next_id: u64,
    pub(super) timeout: Duration,
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

    pub(super) fn connect_raw(
        addr: SocketAddr,
        timeout: Duration,
    ) -> Result<XmppClient, XmppError> {
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
    pub(super) fn open_stream(&mut self, domain: &str) -> Result<Element, XmppError> {
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
                other => self.set_aside(other)?,
            }
        }
    }

    /// Deals with an item read while waiting for iq answers: another stanza is kept for
    /// [`Self::next_stanza`]; a stream error, the end of the stream or no item by the
    /// deadline fail the wait.
    pub(super) fn set_aside(&mut self, item: Option<StreamItem>) -> Result<(), XmppError> {
        match item {
            Some(StreamItem::Stanza(s)) if s.local_name() == "error" => Err(XmppError::Protocol(
                format!("stream error: {}", error_child(&s)),
            )),
            Some(StreamItem::Stanza(s)) => {
                self.pending.push_back(s);
                Ok(())
            }
            Some(StreamItem::End) => Err(XmppError::Io("server closed the stream".into())),
            Some(StreamItem::Header(_)) => Ok(()),
            None => Err(XmppError::Timeout),
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
    pub(super) fn read_item(&mut self, deadline: Instant) -> Result<Option<StreamItem>, XmppError> {
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
