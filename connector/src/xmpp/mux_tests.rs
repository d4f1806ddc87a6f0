//! The event loop against a small scripted XMPP server on a real socket.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_channel::Receiver;

use super::*;

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='finesse.local' version='1.0'>";

/// What the scripted server does once a session is online.
#[derive(Clone, Copy, PartialEq)]
enum Then {
    /// Sends one notification and keeps the connection.
    Notify,
    /// Closes the connection (a server restart).
    Drop,
    /// Sends [`FLOOD`] notifications at once (over a megabyte) and keeps the connection.
    Flood,
}

const FLOOD: usize = 2000;

/// Accepts connections; each runs a plain login (password `pw`) on its own thread.
struct Server {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

fn server(then: Then, answer: bool) -> Server {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            if answer {
                std::thread::spawn(move || {
                    let _ = serve(s, then);
                });
            } else {
                std::mem::forget(s);
            }
        }
    });
    Server { port, accepted }
}

/// Reads until `what` arrived; returns what was read.
fn until(s: &mut TcpStream, what: &str, seen: &mut String) -> std::io::Result<String> {
    let mut buf = [0u8; 4096];
    while !seen.contains(what) {
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let end = seen.find(what).unwrap() + what.len();
    Ok(seen.drain(..end).collect())
}

fn serve(mut s: TcpStream, then: Then) -> std::io::Result<()> {
    let mut seen = String::new();
    until(&mut s, "<stream:stream", &mut seen)?;
    s.write_all(format!("{HEADER}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>").as_bytes())?;
    let auth = until(&mut s, "</auth>", &mut seen)?;
    let good = base64::engine::general_purpose::STANDARD.encode("\u{0}1001\u{0}pw");
    use base64::Engine;
    if !auth.contains(&good) {
        s.write_all(
            b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>",
        )?;
        return Ok(());
    }
    s.write_all(b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")?;
    // Like Prosody: anything but a new stream header after SASL is a stream error.
    if !until(&mut s, "version='1.0'>", &mut seen)?.starts_with("<?xml") {
        s.write_all(b"<stream:error><invalid-namespace/></stream:error>")?;
        return Ok(());
    }
    s.write_all(format!("{HEADER}<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>").as_bytes())?;
    until(&mut s, "</iq>", &mut seen)?;
    s.write_all(b"<iq type='result' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>1001@finesse.local/r</jid></bind></iq>")?;
    until(&mut s, "</iq>", &mut seen)?;
    s.write_all(b"<iq type='result' id='sess1'/>")?;
    until(&mut s, "id='ping1'", &mut seen)?;
    s.write_all(
        b"<iq type='result' id='sub0'/><iq type='result' id='sub1'/><iq type='result' id='ping1'/>",
    )?;
    if then == Then::Drop {
        return Ok(());
    }
    let note = format!("<message><event xmlns='http://jabber.org/protocol/pubsub#event'><items><item><notification>&lt;Update&gt;{}&lt;/Update&gt;</notification></item></items></event></message>", "x".repeat(if then == Then::Flood { 500 } else { 0 }));
    let count = if then == Then::Flood { FLOOD } else { 1 };
    s.write_all(note.repeat(count).as_bytes())?;
    // Keep the connection until the client closes it.
    let mut buf = [0u8; 1024];
    while s.read(&mut buf)? > 0 {}
    Ok(())
}

fn target(port: u16, password: &str) -> Target {
    Target {
        host: "127.0.0.1".into(),
        port,
        tls: XmppTls::Plain,
        login: Login {
            domain: "finesse.local".into(),
            user: "1001".into(),
            password: password.into(),
            resource: "r".into(),
            pubsub: "pubsub.finesse.local".into(),
        },
    }
}

fn mux(settings: MuxSettings) -> (Mux, JoinHandle<()>, Receiver<(String, u64, MuxEvent)>) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let sink: Sink = Box::new(move |agent, session, ev| {
        let _ = tx.send((agent.to_string(), session, ev));
    });
    let (m, t) = Mux::start(settings, sink).unwrap();
    (m, t, rx)
}

fn next(rx: &Receiver<(String, u64, MuxEvent)>) -> (String, u64, MuxEvent) {
    rx.recv_timeout(Duration::from_secs(10))
        .expect("an event from the loop")
}

fn fast() -> MuxSettings {
    MuxSettings {
        login_timeout: Duration::from_millis(300),
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        ..MuxSettings::default()
    }
}

#[test]
fn sessions_come_up_deliver_notifications_and_report_lost_when_stopped() {
    let srv = server(Then::Notify, true);
    let (m, thread, rx) = mux(MuxSettings::default());
    m.start_session("1001".into(), 7, target(srv.port, "pw"));
    assert_eq!(next(&rx), ("1001".into(), 7, MuxEvent::Up));
    assert_eq!(
        next(&rx),
        (
            "1001".into(),
            7,
            MuxEvent::Notification("<Update></Update>".into())
        )
    );
    // A stop for an older session of the agent is ignored; its own stops it.
    m.stop_session("1001".into(), 6);
    m.stop_session("1001".into(), 7);
    assert_eq!(
        next(&rx),
        ("1001".into(), 7, MuxEvent::Lost("stopped".into()))
    );
    m.shutdown();
    thread.join().unwrap();
    assert!(rx.try_recv().is_err());
}

#[test]
fn refused_credentials_end_the_session_without_retries() {
    let srv = server(Then::Notify, true);
    let (m, thread, rx) = mux(fast());
    m.start_session("1001".into(), 1, target(srv.port, "wrong"));
    assert_eq!(
        next(&rx),
        ("1001".into(), 1, MuxEvent::Refused("not-authorized".into()))
    );
    m.shutdown();
    thread.join().unwrap();
    assert_eq!(srv.accepted.load(Ordering::SeqCst), 1, "no retry");
}

#[test]
fn a_dropped_session_is_reported_lost_and_comes_back() {
    let srv = server(Then::Drop, true);
    let (m, thread, rx) = mux(fast());
    m.start_session("1001".into(), 3, target(srv.port, "pw"));
    assert_eq!(next(&rx).2, MuxEvent::Up);
    assert!(matches!(next(&rx).2, MuxEvent::Lost(why) if why.contains("closed")));
    // The server drops every session right after its login: each is still reported up
    // (the login completed), then lost, then retried.
    for _ in 0..3 {
        assert_eq!(next(&rx).2, MuxEvent::Up, "reconnected");
        assert!(matches!(next(&rx).2, MuxEvent::Lost(_)));
    }
    m.shutdown();
    thread.join().unwrap();
}

#[test]
fn a_server_that_never_answers_is_retried_after_the_login_timeout() {
    let srv = server(Then::Notify, false);
    let (m, thread, rx) = mux(fast());
    m.start_session("1001".into(), 1, target(srv.port, "pw"));
    let t0 = Instant::now();
    while srv.accepted.load(Ordering::SeqCst) < 3 {
        assert!(t0.elapsed() < Duration::from_secs(20), "retries");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(rx.try_recv().is_err(), "never up, so never lost");
    m.shutdown();
    thread.join().unwrap();
}

#[test]
fn many_sessions_share_the_loop_and_all_come_up() {
    let srv = server(Then::Notify, true);
    let (m, thread, rx) = mux(MuxSettings {
        max_logins: 8,
        ..MuxSettings::default()
    });
    let n = 100;
    for i in 0..n {
        m.start_session(format!("agent{i}"), i, target(srv.port, "pw"));
    }
    let mut up = std::collections::HashSet::new();
    while up.len() < n as usize {
        let (agent, session, ev) = next(&rx);
        if ev == MuxEvent::Up {
            assert_eq!(agent, format!("agent{session}"));
            up.insert(session);
        }
    }
    assert_eq!(
        srv.accepted.load(Ordering::SeqCst),
        n as usize,
        "one login each"
    );
    m.shutdown();
    thread.join().unwrap();
    let lost = rx
        .try_iter()
        .filter(|e| e.2 == MuxEvent::Lost("stopped".into()))
        .count();
    assert_eq!(lost, n as usize, "each online session reported stopped");
}

#[test]
fn a_burst_larger_than_a_read_slice_is_read_to_the_end() {
    let srv = server(Then::Flood, true);
    // A small slice: the burst is read over many turns, each resumed without a new
    // readiness event from the socket.
    let (m, thread, rx) = mux(MuxSettings {
        read_slice: 1024,
        ..MuxSettings::default()
    });
    m.start_session("1001".into(), 1, target(srv.port, "pw"));
    assert_eq!(next(&rx).2, MuxEvent::Up);
    for i in 0..FLOOD {
        let ev = next(&rx).2;
        assert!(matches!(ev, MuxEvent::Notification(_)), "{i}: {ev:?}");
    }
    m.shutdown();
    thread.join().unwrap();
}
