//! The splitter and the stanza builders, without a server.

use super::*;
use crate::xml;

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
    assert!(matches!(&items[0], StreamItem::Header(h) if h.attr("from") == Some("finesse.local")));
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
