//! Attacks through the real broker (issue 10, the broker layer): a closed broker
//! (authentication and per-destination authorization) with STOMP over TLS, started by
//! `scripts/activemq.sh` in its own folder and ports; oversized frames (refused by the broker,
//! and skipped by a driver that gets one from a stand-in broker); a 25,000-character number;
//! 20,000 made-up agents against a connector process. Each test prints its figures
//! (`SECURITY-FIGURE`). The agent-level attacks are in `security_proof.rs`, TLS to Finesse in
//! `security_tls.rs`; both use this file's helpers and `security_rig.rs`'s connector process.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use driver::protocol::{Envelope, Message};
use driver::stomp::{Connection, StompError};
use finesse_sim::Deployment;
use scs_sim::Call;

use crate::chain::{get_json, logged_in, Chain};
use crate::common::*;
use crate::security_rig::*;

pub(crate) const DRIVER: (&str, &str) = ("siebel", "siebel-secret");
pub(crate) const OTHER_DRIVER: (&str, &str) = ("other", "other-secret");
pub(crate) const CONNECTOR: (&str, &str) = ("connector", "connector-secret");
/// Over the brokers' and the decoders' 4 MiB.
pub(crate) const FIVE_MB: usize = 5 * 1024 * 1024;

/// `N` ports free at the time of asking.
pub(crate) fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().unwrap().port())
}

/// A closed broker: auth on, plain STOMP (asked for explicitly, for the attack clients) and
/// STOMP over TLS, in `target/activemq-sec-<pid>`; stopped and removed when dropped.
pub(crate) struct ClosedBroker {
    base: PathBuf,
    plain: SocketAddr,
    tls: SocketAddr,
    openwire: u16,
}

impl ClosedBroker {
    fn start() -> ClosedBroker {
        let [p, t, o] = free_ports::<3>();
        let b = ClosedBroker {
            base: repo()
                .join("target")
                .join(format!("activemq-sec-{}", std::process::id())),
            plain: SocketAddr::from(([127, 0, 0, 1], p)),
            tls: SocketAddr::from(([127, 0, 0, 1], t)),
            openwire: o,
        };
        b.script("start");
        b
    }

    fn script(&self, cmd: &str) {
        activemq_script(
            cmd,
            &[
                ("ACTIVEMQ_BASE", self.base.display().to_string()),
                ("STOMP_PORT", self.plain.port().to_string()),
                ("STOMP_TLS_PORT", self.tls.port().to_string()),
                ("OPENWIRE_PORT", self.openwire.to_string()),
                ("ACTIVEMQ_AUTH", "1".into()),
                (
                    "ACTIVEMQ_DRIVERS",
                    format!(
                        "{}:{} {}:{}",
                        DRIVER.0, DRIVER.1, OTHER_DRIVER.0, OTHER_DRIVER.1
                    ),
                ),
                ("ACTIVEMQ_CONNECTOR_LOGIN", CONNECTOR.0.into()),
                ("ACTIVEMQ_CONNECTOR_PASSWORD", CONNECTOR.1.into()),
            ],
        );
    }

    /// Drivers and connector over TLS with their credentials.
    fn access(&self) -> BrokerAccess {
        BrokerAccess {
            addr: self.tls,
            ca_file: Some(ca_file()),
            connector: (CONNECTOR.0.into(), CONNECTOR.1.into()),
            driver: (DRIVER.0.into(), DRIVER.1.into()),
            queue_prefix: "siebelcti.requests.e2e".into(),
            secure_key_file: BrokerAccess::shared().secure_key_file,
        }
    }
}

impl Drop for ClosedBroker {
    fn drop(&mut self) {
        self.script("stop");
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// The test CA of `scripts/certs.sh` (the closed broker's start made it).
pub(crate) fn ca_file() -> PathBuf {
    repo().join("target/certs/ca.pem")
}

/// The folder `dir` (below `target/`) with a test CA and the servers' certificates signed by
/// it: `scripts/certs.sh` run there, which makes only what is missing or no longer valid.
pub(crate) fn certs_in(dir: &str) -> PathBuf {
    let dir = repo().join("target").join(dir);
    let out = Command::new("bash")
        .arg(repo().join("scripts/certs.sh"))
        .env("CERTS_DIR", &dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// A CA that did not sign the broker's certificate: `scripts/certs.sh` in another folder.
pub(crate) fn unknown_ca() -> PathBuf {
    certs_in("certs-unknown-ca").join("ca.pem")
}

pub(crate) fn connect(addr: SocketAddr, who: (&str, &str)) -> Result<Connection, StompError> {
    Connection::connect(addr, who.0, who.1, Duration::from_secs(3))
}

/// The broker's refusal, as text (panics when it let the client in).
pub(crate) fn refused<T>(what: &str, r: Result<T, StompError>) -> String {
    match r {
        Ok(_) => panic!("{what}: the broker let it through"),
        Err(e) => {
            println!("SECURITY-FIGURE {what}: refused: {e}");
            e.to_string()
        }
    }
}

/// Sends a 5 MB body to `dest` on `c`; returns what the broker did about it.
pub(crate) fn send_five_mb(mut c: Connection, dest: &str) -> String {
    let sent = c.send(dest, &[], &vec![b'x'; FIVE_MB]);
    let answer = c.recv(Duration::from_secs(2));
    format!("send: {sent:?}, then: {answer:?}")
        .chars()
        .take(200)
        .collect()
}

/// No "CTI is unavailable" status since `from`: the driver's link stayed up.
pub(crate) fn no_link_loss(client: &scs_sim::Client, from: usize) {
    let lost: Vec<Call> = client.calls()[from..]
        .iter()
        .filter(|c| matches!(c, Call::ShowStatusText(t) if t.contains("unavailable")))
        .cloned()
        .collect();
    assert!(lost.is_empty(), "the driver's link dropped: {lost:?}");
}

/// Not Ready then Ready: a round trip through driver, broker, connector and Finesse.
pub(crate) fn round_trip(agent: &mut scs_sim::Agent) {
    let c = agent.client.clone();
    let m = c.mark();
    agent.run_command("NotReady").unwrap();
    wait_event(&c, m, "EventAgentNotReady");
    let m = c.mark();
    agent.run_command("Ready").unwrap();
    wait_event(&c, m, "EventAgentReady");
}

#[test]
fn a_closed_broker_refuses_strangers_and_serves_its_users_over_tls() {
    let b = ClosedBroker::start();

    // Authentication: nobody without a valid login.
    let e = refused("anonymous CONNECT", connect(b.plain, ("", "")));
    assert!(e.contains("invalid"), "{e}");
    refused("wrong password", connect(b.plain, (DRIVER.0, "guess")));

    // Authorization: a driver's credentials read neither the requests nor another driver's
    // queue; its own namespace it may.
    let mut d = connect(b.plain, DRIVER).unwrap();
    let e = refused(
        "driver subscribes to the request queue",
        d.subscribe("1", "/queue/siebelcti.requests"),
    );
    assert!(e.contains("not authorized"), "{e}");
    let mut d = connect(b.plain, DRIVER).unwrap();
    refused(
        "driver subscribes to another driver's queue",
        d.subscribe("1", "/queue/siebelcti.driver.other.srv1"),
    );
    let mut d = connect(b.plain, OTHER_DRIVER).unwrap();
    refused(
        "driver subscribes to a queue outside the namespaces",
        d.subscribe("1", "/queue/anything.else"),
    );
    let mut d = connect(b.plain, DRIVER).unwrap();
    d.subscribe("1", "/queue/siebelcti.driver.siebel.srv1")
        .expect("a driver reads its own namespace");
    d.subscribe("2", "/topic/siebelcti.requests.status")
        .expect("a driver reads the status topic");

    // TLS: a plain client gets nothing from the TLS port; a TLS client must trust the CA.
    refused("plain STOMP on the TLS port", connect(b.tls, CONNECTOR));
    let tls_to = |ca: &std::path::Path| {
        let settings = driver::stomp::TlsSettings::from_ca_file(ca).unwrap();
        Connection::connect_tls(
            b.tls,
            "127.0.0.1",
            &settings,
            CONNECTOR.0,
            CONNECTOR.1,
            Duration::from_secs(3),
        )
    };
    let e = refused("TLS client with an unknown CA", tls_to(&unknown_ca()));
    assert!(e.contains("invalid peer certificate"), "{e}");
    tls_to(&ca_file()).expect("a TLS client trusting the test CA gets in");

    // A driver that does not trust the broker's CA refuses it, says so in the log and to
    // the agent.
    let queue = b.access().queue();
    let mut params = b.access().driver_params(&queue);
    params.push((
        "Driver:BrokerCaFile".into(),
        unknown_ca().display().to_string(),
    ));
    let untrusting = siebel_with("ucce.def", "ENU", &params);
    let agent = untrusting
        .request_service(&login("1001", "secret", "5001"), &[], false)
        .unwrap();
    let t = wait_status(&agent.client, 0, "certificate is not trusted");
    println!("SECURITY-FIGURE unknown CA: agent reads {t:?}");
    let log = std::fs::read_to_string(log_file()).unwrap();
    assert!(
        log.contains("the broker's TLS certificate is not trusted"),
        "the driver log says why"
    );
    drop(agent);
    drop(untrusting);

    // The whole chain over TLS with credentials: log in, Ready, Not Ready.
    let chain = Chain::start_on(Deployment::Ucce, 1, &[], &b.access());
    let t0 = Instant::now();
    let mut agent = logged_in(&chain, 0, true);
    println!(
        "SECURITY-FIGURE login + Ready over TLS and auth: {:?}",
        t0.elapsed()
    );
    round_trip(&mut agent);

    // 5 MB frames to the request queue (driver credentials) and to the driver's queue
    // (connector credentials): the broker refuses them (maxFrameSize), the links stay up.
    let health: serde_json::Value = get_json(&format!("{}/health", chain.monitor()));
    let driver_queue = health["agents"][0]["driver"]
        .as_str()
        .expect("the console names the agent's driver queue")
        .to_string();
    let m = agent.client.mark();
    let r = send_five_mb(connect(b.plain, DRIVER).unwrap(), &queue);
    println!("SECURITY-FIGURE 5 MB to the request queue: {r}");
    let r = send_five_mb(connect(b.plain, CONNECTOR).unwrap(), &driver_queue);
    println!("SECURITY-FIGURE 5 MB to the driver queue: {r}");
    round_trip(&mut agent);
    no_link_loss(&agent.client, m);
    assert_eq!(
        get_json(&format!("{}/health", chain.monitor()))["broker"]["up"],
        true
    );
}

/// Sends `Connect` requests for `n` made-up agents, as an attacker with a Siebel server's
/// broker credentials would.
pub(crate) fn bogus_connects(queue: &str, n: usize, prefix: &str) {
    let mut c = BrokerAccess::shared().driver_client();
    for i in 0..n {
        let env = Envelope::new(
            format!("x{i}"),
            Message::Connect {
                agent: format!("{prefix}{i}"),
                reply_to: "/queue/attacker".into(),
                password: None,
                encrypted: false,
            },
        );
        c.send(queue, &[("reply-to", "/queue/attacker")], &env.to_json())
            .unwrap();
    }
}

#[test]
fn twenty_thousand_bogus_agents_leave_the_connectors_memory_flat() {
    let (sim, _) = sim_with_agent();
    let queue = BrokerAccess::shared().queue();
    let c = ConnectorProc::start(&queue, &sim);
    // Warm up (allocator, broker session), then measure.
    bogus_connects(&queue, 200, "warm");
    wait_until("the warm-up served", WAIT_HTTP, || {
        let h = c.health();
        if h["agents"].as_array().is_some_and(|a| a.len() >= 200) {
            Ok(())
        } else {
            Err(h["agents"].as_array().map(|a| a.len()))
        }
    });
    let before = c.rss_kib();
    let t0 = Instant::now();
    bogus_connects(&queue, 20_000, "bogus");
    wait_agent_listed(&c, "bogus19999");
    let mid = c.rss_kib();
    let first = t0.elapsed();
    // As many again: once the bound is reached, memory stays where it is.
    bogus_connects(&queue, 20_000, "more");
    wait_agent_listed(&c, "more19999");
    let after = c.rss_kib();
    let held = c.health()["agents"].as_array().map_or(0, |a| a.len());
    let page = ureq::get(&c.monitor).call().unwrap().into_string().unwrap();
    println!(
        "SECURITY-FIGURE bogus agents: connector RSS {before} KiB, after 20000 ({first:?}) {mid} KiB (+{} KiB), after 40000 {after} KiB (+{} KiB more); {held} agent entries held; console page {} bytes",
        mid.saturating_sub(before),
        after.saturating_sub(mid),
        page.len()
    );
    assert!(held <= 2_501, "{held} agent entries held");
    assert!(
        mid.saturating_sub(before) < 16 * 1024,
        "RSS grew from {before} KiB to {mid} KiB"
    );
    assert!(
        after.saturating_sub(mid) < 4 * 1024,
        "RSS kept growing: {mid} KiB to {after} KiB"
    );
    assert!(
        page.len() < 1024 * 1024,
        "console page of {} bytes",
        page.len()
    );
}

#[test]
fn oversized_frames_and_a_huge_number_leave_every_link_up() {
    let (sim, a) = sim_with_agent();
    let (queue, c, _server, mut agent) = ready_session_via_connector(&sim, &a);
    let driver_queue = c
        .driver_queue(&a.id)
        .expect("the console names the agent's driver queue");
    let ups = c.log_count("broker link up");
    let m = agent.client.mark();
    let access = BrokerAccess::shared();
    let r = send_five_mb(access.driver_client(), &queue);
    println!("SECURITY-FIGURE 5 MB to the request queue (suite broker, driver credentials): {r}");
    let r = send_five_mb(access.connector_client(), &driver_queue);
    println!("SECURITY-FIGURE 5 MB to the driver queue (suite broker, connector credentials): {r}");
    round_trip(&mut agent);
    no_link_loss(&agent.client, m);
    assert_eq!(
        c.log_count("broker link up"),
        ups,
        "the connector reconnected"
    );
    let dropped = c.log_count("dropped an oversized frame");
    println!("SECURITY-FIGURE the connector dropped {dropped} oversized frame(s) and kept its link (a broker with maxFrameSize refuses them first)");

    // A 25,000-character number: the driver refuses it with a clear message...
    let c2 = agent.client.clone();
    let m = c2.mark();
    agent.run_command("NotReady").unwrap();
    wait_event(&c2, m, "EventAgentNotReady");
    let m = c2.mark();
    let (_, _) = agent.invoke("MakeCall", &"5".repeat(25_000), &[]);
    let t = wait_status(&c2, m, "Cannot dial this number");
    println!("SECURITY-FIGURE 25000-character number, driver: {t:?}");
    // ...and so does the connector, when the request comes from elsewhere (a client with a
    // Siebel server's credentials, answers in that login's queue namespace).
    let mut spy = access.driver_client();
    let reply = access.reply_queue("sec-reply");
    spy.subscribe("r", &reply).unwrap();
    let env = Envelope::new(
        "huge",
        Message::MakeCall {
            agent: a.id.clone(),
            to: "5".repeat(25_000),
        },
    );
    spy.send(&queue, &[("reply-to", &reply)], &env.to_json())
        .unwrap();
    let f = spy
        .recv(WAIT)
        .unwrap()
        .expect("the connector answers the huge number");
    let answer = Envelope::from_json(&f.body).unwrap();
    match &answer.msg {
        Message::Error { code, message, .. } => {
            println!("SECURITY-FIGURE 25000-character number, connector: {code}: {message}");
            assert_eq!(code, "InvalidNumber");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    let state = get_json(&format!("{}/admin/state", sim.base_url()));
    assert!(
        !state.to_string().contains(&"5".repeat(33)),
        "finesse-sim never saw the number"
    );
}

/// A frame over the decoder's limit reaching a driver (from a stand-in broker: a real one
/// refuses such frames first) is skipped and logged, and the driver keeps its connection.
#[test]
fn a_driver_skips_an_oversized_frame_and_keeps_its_connection() {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let queue = BrokerAccess::shared().queue();
    let server = siebel_with(
        "ucce.def",
        "ENU",
        &BrokerAccess::plain(addr).driver_params(&queue),
    );
    let agent = server
        .request_service(&login("1001", "secret", "5001"), &[], false)
        .unwrap();
    let (mut conn, _) = listener.accept().unwrap();
    conn.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut seen = Vec::new();
    while !seen.contains(&0) {
        let n = conn.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "the driver closed the connection before CONNECT ended"
        );
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(
        seen.starts_with(b"CONNECT"),
        "{:?}",
        String::from_utf8_lossy(&seen)
    );
    conn.write_all(b"CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0")
        .unwrap();
    // Whatever the driver sends from now on is read and ignored.
    let mut reader = conn.try_clone().unwrap();
    std::thread::spawn(move || while matches!(reader.read(&mut buf), Ok(n) if n > 0) {});
    let dest = format!("/queue/{}", unique("oversized"));
    let big = driver::stomp::Frame::new("MESSAGE")
        .header("destination", &dest)
        .header("subscription", "0")
        .header("message-id", "big")
        .body(vec![b'x'; FIVE_MB]);
    let t0 = Instant::now();
    conn.write_all(&big.to_bytes()).unwrap();
    let log = wait_until("the driver's log line", WAIT, || {
        let text = std::fs::read_to_string(log_file()).unwrap_or_default();
        text.lines()
            .find(|l| l.contains("dropped an oversized frame") && l.contains(&dest))
            .map(str::to_string)
            .ok_or("no line yet")
    });
    println!(
        "SECURITY-FIGURE driver skipped 5 MB in {:?}: {log}",
        t0.elapsed()
    );
    // The same connection still works: nothing reconnects within two seconds.
    listener.set_nonblocking(true).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        listener.accept().is_err(),
        "the driver reconnected: it dropped the connection"
    );
    assert!(
        !agent
            .client
            .calls()
            .iter()
            .any(|c| matches!(c, Call::ShowStatusText(t) if t.contains("cannot reach"))),
        "the agent was told the broker is gone"
    );
}
