//! Memory and threads of the connector's XMPP sessions, and how long N sessions take to come
//! up (a connector start) and to come back after a restart of the event loop.
//!
//! ```text
//! cargo run --release -p siebel-cti-connector --example xmpp_sessions -- [N] [--server HOST:PORT]
//!     [--tls starttls|tls --ca CA.pem]
//! ```
//!
//! Without `--server`, a small XMPP acceptor runs in a child process (it accepts any login and
//! sends each session one notification), so the figures are the connector side's alone. With
//! `--server` (e.g. the project's Prosody, plain, domain `finesse.local`), accounts
//! `scale-bench-1..N` (password `pw`, left in place) are registered in-band first (over plain
//! XMPP: with `--tls tls` give the plain port with `--register-port`). `--tls` logs in over
//! STARTTLS or
//! direct TLS, the server's certificate checked against `--ca` for the host of `--server`.
//! Figures are printed, not asserted: RSS and threads of this process before and with N
//! sessions online.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use connector::xmpp::mux::{Mux, MuxEvent, MuxSettings, Sink, Target};
use connector::xmpp::{Login, XmppTls};

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='b' from='finesse.local' version='1.0'>";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--acceptor") {
        return acceptor();
    }
    let n: usize = args
        .iter()
        .find(|a| a.chars().all(|c| c.is_ascii_digit()))
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let server = args
        .iter()
        .position(|a| a == "--server")
        .and_then(|i| args.get(i + 1).cloned());
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let mut child = None;
    let (host, port, prefix) = match server {
        Some(hp) => {
            let (h, p) = hp.rsplit_once(':').expect("--server HOST:PORT");
            let port: u16 = p.parse().expect("a port");
            let reg = opt("--register-port").map_or(port, |p| p.parse().expect("a port"));
            register(h, reg, n);
            (h.to_string(), port, "scale-bench-")
        }
        None => {
            let mut c = Command::new(std::env::current_exe().unwrap())
                .arg("--acceptor")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("the acceptor process");
            let mut line = String::new();
            BufReader::new(c.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            child = Some(c);
            (
                "127.0.0.1".to_string(),
                line.trim().parse().unwrap(),
                "agent",
            )
        }
    };
    let tls = match opt("--tls").as_deref() {
        None | Some("plain") => XmppTls::Plain,
        Some(mode) => {
            let ca = opt("--ca").expect("--ca CA.pem with --tls");
            let cfg = driver::stomp::TlsSettings::from_ca_file(std::path::Path::new(&ca))
                .expect("the CA file")
                .config();
            if mode == "tls" {
                XmppTls::Direct(cfg, host.clone())
            } else {
                XmppTls::StartTls(cfg, host.clone())
            }
        }
    };
    println!("XMPP-SESSIONS transport: {tls:?}");
    let (rss0, threads0) = proc_status();
    println!(
        "XMPP-SESSIONS before: RSS {:.1} MB, {threads0} threads",
        mb(rss0)
    );
    let (mux, thread, rx) = start();
    let t0 = Instant::now();
    for i in 1..=n {
        mux.start_session(
            format!("{prefix}{i}"),
            1,
            target(&host, port, &tls, prefix, i),
        );
    }
    let (up, notes) = wait_up(&rx, n);
    println!(
        "XMPP-SESSIONS start: {up}/{n} sessions up in {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    std::thread::sleep(Duration::from_secs(1));
    let notes = notes
        + rx.try_iter()
            .filter(|e| matches!(e, MuxEvent::Notification(_)))
            .count();
    let (rss, threads) = proc_status();
    println!(
        "XMPP-SESSIONS online: {n} sessions, {notes} notifications; RSS {:.1} MB (+{:.1} KB per session), {threads} threads",
        mb(rss),
        (rss.saturating_sub(rss0)) as f64 / 1024.0 / n as f64,
    );
    // A restart: every session gone, then all started again at once.
    mux.shutdown();
    thread.join().unwrap();
    let (mux, thread, rx) = start();
    let t0 = Instant::now();
    for i in 1..=n {
        mux.start_session(
            format!("{prefix}{i}"),
            2,
            target(&host, port, &tls, prefix, i),
        );
    }
    let (up, _) = wait_up(&rx, n);
    println!(
        "XMPP-SESSIONS re-attach after a restart: {up}/{n} sessions up in {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    mux.shutdown();
    thread.join().unwrap();
    if let Some(mut c) = child {
        let _ = c.kill();
        let _ = c.wait();
    }
}

fn start() -> (
    Mux,
    std::thread::JoinHandle<()>,
    crossbeam_channel::Receiver<MuxEvent>,
) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let sink: Sink = Box::new(move |_, _, ev| {
        let _ = tx.send(ev);
    });
    let (mux, thread) = Mux::start(MuxSettings::default(), sink).unwrap();
    (mux, thread, rx)
}

fn target(host: &str, port: u16, tls: &XmppTls, prefix: &str, i: usize) -> Target {
    Target {
        host: host.into(),
        port,
        tls: tls.clone(),
        login: Login {
            domain: "finesse.local".into(),
            user: format!("{prefix}{i}"),
            password: "pw".into(),
            resource: format!("bench-{}", std::process::id()),
            pubsub: String::new(),
        },
    }
}

/// Waits (at most 120 s) for `n` sessions up; returns (up, notifications seen).
fn wait_up(rx: &crossbeam_channel::Receiver<MuxEvent>, n: usize) -> (usize, usize) {
    let (mut up, mut notes) = (0, 0);
    let end = Instant::now() + Duration::from_secs(120);
    while up < n {
        let Ok(ev) = rx.recv_timeout(end.saturating_duration_since(Instant::now())) else {
            break;
        };
        match ev {
            MuxEvent::Up => up += 1,
            MuxEvent::Notification(_) => notes += 1,
            MuxEvent::Refused(why) => eprintln!("refused: {why}"),
            MuxEvent::FinessePresence(_) => {}
            MuxEvent::Lost(why) => eprintln!("lost: {why}"),
        }
    }
    (up, notes)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1024.0 / 1024.0
}

/// (RSS bytes, threads) of this process.
fn proc_status() -> (u64, usize) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:") * 1024, field("Threads:") as usize)
}

/// Registers `scale-bench-1..n` in-band (an existing account is fine).
fn register(host: &str, port: u16, n: usize) {
    let t0 = Instant::now();
    for i in 1..=n {
        let mut s = TcpStream::connect((host, port)).expect("the XMPP server");
        let mut seen = String::new();
        let _ = s.write_all(b"<?xml version='1.0'?><stream:stream to='finesse.local' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>");
        until(&mut s, "</stream:features>", &mut seen);
        let _ = s.write_all(format!("<iq type='set' id='r'><query xmlns='jabber:iq:register'><username>scale-bench-{i}</username><password>pw</password></query></iq>").as_bytes());
        // An error is an account that exists already (from an earlier run).
        let answer = until(&mut s, "id='r'", &mut seen).expect("a registration answer");
        if !answer.contains("type='result'") && !answer.contains("type='error'") {
            eprintln!("registration of scale-bench-{i}: {answer}");
        }
        let _ = s.write_all(b"</stream:stream>");
    }
    println!(
        "XMPP-SESSIONS registered {n} accounts in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}

/// Reads until `what` arrived (or the peer closed); keeps what follows it in `seen`.
fn until(s: &mut TcpStream, what: &str, seen: &mut String) -> Option<String> {
    let mut buf = [0u8; 4096];
    while !seen.contains(what) {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    let end = seen.find(what).unwrap() + what.len();
    Some(seen.drain(..end).collect())
}

/// The child process: accepts any plain login, sends one notification per session, ends
/// when its parent closes stdin.
fn acceptor() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    println!("{}", l.local_addr().unwrap().port());
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
    for s in l.incoming().flatten() {
        let _ = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || serve(s));
    }
}

fn serve(mut s: TcpStream) -> Option<()> {
    let mut seen = String::new();
    until(&mut s, "version='1.0'>", &mut seen)?;
    s.write_all(format!("{HEADER}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>").as_bytes()).ok()?;
    until(&mut s, "</auth>", &mut seen)?;
    s.write_all(b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
        .ok()?;
    until(&mut s, "version='1.0'>", &mut seen)?;
    s.write_all(format!("{HEADER}<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>").as_bytes()).ok()?;
    until(&mut s, "</iq>", &mut seen)?;
    s.write_all(b"<iq type='result' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>a@finesse.local/b</jid></bind></iq>").ok()?;
    until(&mut s, "</iq>", &mut seen)?;
    s.write_all(b"<iq type='result' id='sess1'/>").ok()?;
    until(&mut s, "id='ping1'", &mut seen)?;
    s.write_all(b"<iq type='result' id='ping1'/><message><event xmlns='http://jabber.org/protocol/pubsub#event'><items><item><notification>&lt;Update/&gt;</notification></item></items></event></message>").ok()?;
    let mut buf = [0u8; 1024];
    while s.read(&mut buf).ok()? > 0 {}
    Some(())
}
