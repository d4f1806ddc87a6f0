//! A small synchronous XMPP client over `std::net::TcpStream`: stream open, SASL PLAIN, stream
//! restart, resource bind, session, presence, iq request/response, in-band registration
//! (XEP-0077) and the pubsub operations (XEP-0060) finesse-sim needs. No TLS: it talks to a
//! Prosody on loopback. The stanza builders and the stream splitter are pure functions, tested
//! in `tests.rs` without a server.

use std::fmt;

use base64::Engine;

use crate::xml::{escape, Element};

mod batch;
mod client;
mod splitter;

pub use batch::{IqRequest, BATCH};
pub use client::{Registration, XmppClient};
pub use splitter::{StreamItem, StreamSplitter};

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
mod tests;
