use std::sync::Arc;

use super::*;

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='finesse.local' version='1.0'>";

fn login(pubsub: &str) -> Login {
    Login {
        domain: "finesse.local".into(),
        user: "1001".into(),
        password: "secret".into(),
        resource: "conn-1".into(),
        pubsub: pubsub.into(),
    }
}

/// What the client wrote since the last call, as text.
fn written(c: &mut XmppClient) -> String {
    let text = String::from_utf8(c.wire().to_vec()).unwrap();
    c.sent(text.len());
    text
}

/// Feeds `text` in small pieces, as a socket might deliver it.
fn feed(c: &mut XmppClient, text: &str) -> Result<(), XmppError> {
    for piece in text.as_bytes().chunks(5) {
        c.receive(piece)?;
    }
    Ok(())
}

/// Runs a plain login up to the join step; returns the client and what it sent last.
fn logged_in(pubsub: &str) -> (XmppClient, String) {
    let mut c = XmppClient::new(login(pubsub), XmppTls::Plain).unwrap();
    assert!(written(&mut c).contains("<stream:stream to='finesse.local'"));
    feed(&mut c, &format!("{HEADER}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>")).unwrap();
    let auth = written(&mut c);
    let token = base64::engine::general_purpose::STANDARD.encode("\u{0}1001\u{0}secret");
    assert!(
        auth.contains(&format!("mechanism='PLAIN'>{token}</auth>")),
        "{auth}"
    );
    feed(
        &mut c,
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    )
    .unwrap();
    assert!(
        written(&mut c).starts_with("<?xml"),
        "a new stream after SASL"
    );
    feed(&mut c, &format!("{HEADER}<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>")).unwrap();
    assert!(written(&mut c).contains("<resource>conn-1</resource>"));
    feed(&mut c, "<iq type='result' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>1001@finesse.local/conn-1</jid></bind></iq>").unwrap();
    assert!(written(&mut c).contains("id='sess1'"));
    feed(
        &mut c,
        "<iq type='error' id='sess1'><error><feature-not-implemented/></error></iq>",
    )
    .unwrap();
    let join = written(&mut c);
    assert!(!c.online());
    (c, join)
}

#[test]
fn logs_in_subscribes_and_reports_notifications() {
    let (mut c, join) = logged_in("pubsub.finesse.local");
    assert!(
        join.starts_with("<presence/><presence to='finesse@finesse.local'/>"),
        "{join}"
    );
    assert!(join.contains("<subscribe node='/finesse/api/User/1001' jid='1001@finesse.local'/>"));
    assert!(join.contains("node='/finesse/api/User/1001/Dialogs'"));
    assert!(
        join.ends_with("<ping xmlns='urn:xmpp:ping'/></iq>"),
        "{join}"
    );
    feed(
        &mut c,
        "<iq type='result' id='ping1'/><iq type='result' id='sub0'/>",
    )
    .unwrap();
    assert_eq!(
        c.next_event(),
        None,
        "online only once every subscription is answered"
    );
    // A refused subscription is no failure (Finesse subscribes its users itself).
    feed(
        &mut c,
        "<iq type='error' id='sub1'><error><forbidden/></error></iq>",
    )
    .unwrap();
    assert_eq!(
        c.next_event(),
        Some(XmppEvent::Online {
            jid: "1001@finesse.local/conn-1".into()
        })
    );
    assert!(c.online());
    feed(&mut c, "<message from='pubsub.finesse.local'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='/finesse/api/User/1001'><item><notification xmlns='http://jabber.org/protocol/pubsub'>&lt;Update&gt;&lt;data/&gt;&lt;/Update&gt;</notification></item></items></event></message>").unwrap();
    assert_eq!(
        c.next_event(),
        Some(XmppEvent::Notification("<Update><data/></Update>".into()))
    );
    // The server's ping is answered; our keepalive goes out.
    feed(
        &mut c,
        "<iq type='get' id='p9' from='finesse.local'><ping xmlns='urn:xmpp:ping'/></iq>",
    )
    .unwrap();
    assert_eq!(
        written(&mut c),
        "<iq type='result' id='p9' to='finesse.local'/>"
    );
    c.ping();
    assert!(written(&mut c).contains("id='ka1'"));
    let e = feed(&mut c, "</stream:stream>").unwrap_err();
    assert!(e.to_string().contains("closed the stream"), "{e}");
}

#[test]
fn without_a_pubsub_service_only_the_ping_is_awaited() {
    let (mut c, join) = logged_in("");
    assert!(!join.contains("subscribe"), "{join}");
    feed(&mut c, "<iq type='result' id='ping1'/>").unwrap();
    assert!(matches!(c.next_event(), Some(XmppEvent::Online { .. })));
}

#[test]
fn refused_credentials_are_an_auth_error() {
    let mut c = XmppClient::new(login(""), XmppTls::Plain).unwrap();
    feed(
        &mut c,
        &format!("{HEADER}<stream:features><mechanisms/></stream:features>"),
    )
    .unwrap();
    let e = feed(
        &mut c,
        "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>",
    )
    .unwrap_err();
    assert!(
        matches!(&e, XmppError::Auth(why) if why == "not-authorized"),
        "{e}"
    );
}

#[test]
fn starttls_required_never_sends_the_password_in_clear() {
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    let tls = XmppTls::StartTls(Arc::new(cfg), "finesse.local".into());
    let mut c = XmppClient::new(login(""), tls.clone()).unwrap();
    let e = feed(
        &mut c,
        &format!("{HEADER}<stream:features><mechanisms/></stream:features>"),
    )
    .unwrap_err();
    assert!(e.to_string().contains("STARTTLS"), "{e}");
    assert!(!written(&mut c).contains("<auth"));
    // Offered: the client asks, and after `proceed` speaks TLS only (a ClientHello).
    let mut c = XmppClient::new(login(""), tls).unwrap();
    written(&mut c);
    feed(&mut c, &format!("{HEADER}<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>")).unwrap();
    assert_eq!(
        written(&mut c),
        "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    );
    feed(&mut c, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>").unwrap();
    let hello = c.wire().to_vec();
    assert_eq!(hello.first(), Some(&0x16), "a TLS handshake record");
    assert!(!String::from_utf8_lossy(&hello).contains("stream:stream"));
}

#[test]
fn a_stream_error_or_garbage_ends_the_session() {
    let mut c = XmppClient::new(login(""), XmppTls::Plain).unwrap();
    let e = feed(&mut c, &format!("{HEADER}<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>")).unwrap_err();
    assert!(e.to_string().contains("conflict"), "{e}");
    let mut c = XmppClient::new(login(""), XmppTls::Plain).unwrap();
    assert!(feed(&mut c, "HTTP/1.1 400 Bad Request\r\n\r\n<html>").is_err());
}

#[test]
fn the_finesse_users_presence_is_reported_on_each_change() {
    let (mut c, _) = logged_in("");
    // Finesse's presence may come before the login is complete; it is reported in order.
    feed(
        &mut c,
        "<presence from='finesse@finesse.local/a'/><iq type='result' id='ping1'/>",
    )
    .unwrap();
    let available = |a: bool| Some(XmppEvent::FinessePresence { available: a });
    assert_eq!(c.next_event(), available(true));
    assert!(matches!(c.next_event(), Some(XmppEvent::Online { .. })));
    // Another resource, other users, other domains and subscription requests change nothing.
    feed(
        &mut c,
        "<presence from='finesse@finesse.local/b'/><presence from='1002@finesse.local/x' type='unavailable'/>\
         <presence from='finesse@other.local/a' type='unavailable'/>\
         <presence from='finesse@finesse.local' type='subscribe'/>",
    )
    .unwrap();
    assert_eq!(c.next_event(), None);
    // Unavailable once no resource of the user is left.
    feed(
        &mut c,
        "<presence from='finesse@finesse.local/a' type='unavailable'/>",
    )
    .unwrap();
    assert_eq!(c.next_event(), None, "resource b is still available");
    feed(
        &mut c,
        "<presence from='finesse@finesse.local/b' type='unavailable'/>",
    )
    .unwrap();
    assert_eq!(c.next_event(), available(false));
    feed(
        &mut c,
        "<presence from='FINESSE@finesse.local/b' type='unavailable'/>",
    )
    .unwrap();
    assert_eq!(c.next_event(), None, "no news: nothing reported");
    feed(&mut c, "<presence from='finesse@FINESSE.local/c'/>").unwrap();
    assert_eq!(c.next_event(), available(true));
}
