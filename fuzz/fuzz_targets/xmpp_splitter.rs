//! The connector's XMPP stanza splitter (`connector::xmpp::StanzaSplitter`) on a server's byte
//! stream, in reads split where the first byte says; every stanza it returns is then read as
//! XML and searched for pubsub notifications, as the connector does. Reading the same stream in
//! one piece gives the same stanzas.
#![no_main]

use connector::xml::{self, Element};
use connector::xmpp::{notifications, StanzaSplitter};
use libfuzzer_sys::fuzz_target;

fn drain(s: &mut StanzaSplitter, out: &mut Vec<String>) -> bool {
    loop {
        match s.next_stanza() {
            Ok(Some(st)) => out.push(st),
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, stream)) = data.split_first() else {
        return;
    };
    let mut whole = Vec::new();
    let mut s = StanzaSplitter::default();
    s.push(stream);
    let whole_ok = drain(&mut s, &mut whole);

    let mut parts = Vec::new();
    let mut parts_ok = true;
    let mut s = StanzaSplitter::default();
    let mut rest = stream;
    let mut i = 0u32;
    while !rest.is_empty() && parts_ok {
        let n = (((u32::from(split) >> (i % 4 * 2)) & 0x3) as usize * 7 + 1).min(rest.len());
        s.push(&rest[..n]);
        rest = &rest[n..];
        parts_ok = drain(&mut s, &mut parts);
        i += 1;
    }
    assert_eq!(whole, parts, "split reads give other stanzas");
    assert_eq!(whole_ok, parts_ok, "split reads fail differently");

    for st in &whole {
        if let Ok(e) = Element::parse(st) {
            for n in notifications(&e) {
                let _ = xml::update(&n);
            }
        }
    }
});
