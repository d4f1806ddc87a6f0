//! Attacks through the real broker (issue 10, the broker layer): a closed broker
//! (authentication and per-destination authorization) with STOMP over TLS, started by
//! `scripts/activemq.sh` in its own folder and ports; oversized frames (refused by the broker,
//! and skipped by a driver that gets one from a stand-in broker); a 25,000-character number;
//! 20,000 made-up agents against a connector process. Each test prints its figures
//! (`SECURITY-FIGURE`).

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use driver::protocol::{Envelope, Message, SystemStatus};
use driver::stomp::{Connection, StompError};
use finesse_sim::Deployment;
use scs_sim::Call;

use crate::chain::{get_json, log_in, logged_in, xmpp_toml, Chain};
use crate::common::*;

const DRIVER: (&str, &str) = ("siebel", "siebel-secret");
const OTHER_DRIVER: (&str, &str) = ("other", "other-secret");
const CONNECTOR: (&str, &str) = ("connector", "connector-secret");
/// Over the brokers' and the decoders' 4 MiB.
const FIVE_MB: usize = 5 * 1024 * 1024;

/// `N` ports free at the time of asking.
fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().unwrap().port())
}

/// A closed broker: auth on, plain STOMP (asked for explicitly, for the attack clients) and
/// STOMP over TLS, in `target/activemq-sec-<pid>`; stopped and removed when dropped.
struct ClosedBroker {
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
        let out = Command::new("bash")
            .arg(repo().join("scripts/activemq.sh"))
            .arg(cmd)
            .env("ACTIVEMQ_BASE", &self.base)
            .env("STOMP_PORT", self.plain.port().to_string())
            .env("STOMP_TLS_PORT", self.tls.port().to_string())
            .env("OPENWIRE_PORT", self.openwire.to_string())
            .env("ACTIVEMQ_AUTH", "1")
            .env(
                "ACTIVEMQ_DRIVERS",
                format!(
                    "{}:{} {}:{}",
                    DRIVER.0, DRIVER.1, OTHER_DRIVER.0, OTHER_DRIVER.1
                ),
            )
            .env("ACTIVEMQ_CONNECTOR_LOGIN", CONNECTOR.0)
            .env("ACTIVEMQ_CONNECTOR_PASSWORD", CONNECTOR.1)
            .env("ACTIVEMQ_JAVA_OPTS", "-Xms32M -Xmx160M")
            .output()
            .expect("bash runs scripts/activemq.sh");
        assert!(
            out.status.success(),
            "scripts/activemq.sh {cmd}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
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
fn ca_file() -> PathBuf {
    repo().join("target/certs/ca.pem")
}

/// A CA that did not sign the broker's certificate: `scripts/certs.sh` in another folder.
fn unknown_ca() -> PathBuf {
    let dir = repo().join("target/certs-unknown-ca");
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
    dir.join("ca.pem")
}

fn connect(addr: SocketAddr, who: (&str, &str)) -> Result<Connection, StompError> {
    Connection::connect(addr, who.0, who.1, Duration::from_secs(3))
}

/// The broker's refusal, as text (panics when it let the client in).
fn refused<T>(what: &str, r: Result<T, StompError>) -> String {
    match r {
        Ok(_) => panic!("{what}: the broker let it through"),
        Err(e) => {
            println!("SECURITY-FIGURE {what}: refused: {e}");
            e.to_string()
        }
    }
}

/// Sends a 5 MB body to `dest` on `c`; returns what the broker did about it.
fn send_five_mb(mut c: Connection, dest: &str) -> String {
    let sent = c.send(dest, &[], &vec![b'x'; FIVE_MB]);
    let answer = c.recv(Duration::from_secs(2));
    format!("send: {sent:?}, then: {answer:?}")
        .chars()
        .take(200)
        .collect()
}

/// No "CTI is unavailable" status since `from`: the driver's link stayed up.
fn no_link_loss(client: &scs_sim::Client, from: usize) {
    let lost: Vec<Call> = client.calls()[from..]
        .iter()
        .filter(|c| matches!(c, Call::ShowStatusText(t) if t.contains("unavailable")))
        .cloned()
        .collect();
    assert!(lost.is_empty(), "the driver's link dropped: {lost:?}");
}

/// Not Ready then Ready: a round trip through driver, broker, connector and Finesse.
fn round_trip(agent: &mut scs_sim::Agent) {
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

/// A connector running as its own process (its log file of its own), for RSS figures.
struct ConnectorProc {
    child: Child,
    monitor: String,
    log: PathBuf,
}

impl ConnectorProc {
    fn start(queue: &str, sim: &finesse_sim::FinesseSim) -> ConnectorProc {
        ConnectorProc::start_with(queue, sim, "", "")
    }

    /// Like `start`, with extra `[monitor]` keys and extra TOML at the end.
    fn start_with(
        queue: &str,
        sim: &finesse_sim::FinesseSim,
        monitor: &str,
        tail: &str,
    ) -> ConnectorProc {
        let [port] = free_ports::<1>();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let name = unique("sec-connector");
        let log = dir.join(format!("{name}.log"));
        let access = BrokerAccess::shared();
        let toml = format!(
            "[connector]\nname = \"{name}\"\n[broker]\n{}\
             [finesse]\nprimary = \"{}\"\n{}poll_ms = 200\n\
             [monitor]\nlisten = \"127.0.0.1:{port}\"\n{monitor}\n[log]\nlevel = \"info\"\nfile = \"{}\"\n{}{tail}\n",
            access.connector_toml(queue),
            sim.base_url(),
            xmpp_toml(),
            log.display(),
            access.security_toml()
        );
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, toml).unwrap();
        let child = Command::new(crate::ha::connector_exe())
            .arg("--config")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the connector starts");
        let c = ConnectorProc {
            child,
            monitor: format!("http://127.0.0.1:{port}"),
            log,
        };
        wait_until("the connector in service", WAIT_HTTP, || {
            let h = ureq::get(&format!("{}/health", c.monitor))
                .call()
                .map_err(|e| e.to_string())?
                .into_json::<serde_json::Value>()
                .map_err(|e| e.to_string())?;
            if h["status"] == "IN_SERVICE" {
                Ok(())
            } else {
                Err(h.to_string())
            }
        });
        c
    }

    /// Resident memory, KiB (`VmRSS`).
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS in /proc/<pid>/status")
    }

    fn health(&self) -> serde_json::Value {
        get_json(&format!("{}/health", self.monitor))
    }

    fn log_count(&self, needle: &str) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .matches(needle)
            .count()
    }
}

impl Drop for ConnectorProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sim_with_agent() -> (finesse_sim::FinesseSim, crate::chain::TestAgent) {
    let (sim, agents) = crate::ha::sim(1);
    (sim, agents[0].clone())
}

/// Waits (a minute at most) until the connector's health lists agent `id`.
fn wait_agent_listed(c: &ConnectorProc, id: &str) {
    wait_until(
        &format!("agent {id} listed by the connector"),
        Duration::from_secs(60),
        || {
            let h = c.health();
            let agents = h["agents"].as_array();
            if agents.is_some_and(|a| a.iter().any(|x| x["id"] == id)) {
                Ok(())
            } else {
                Err(agents.map(|a| a.len()))
            }
        },
    );
}

/// Sends `Connect` requests for `n` made-up agents, as an attacker with a Siebel server's
/// broker credentials would.
fn bogus_connects(queue: &str, n: usize, prefix: &str) {
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
    let queue = BrokerAccess::shared().queue();
    let c = ConnectorProc::start(&queue, &sim);
    let server = siebel("ucce.def", "ENU", &queue);
    let mut agent = start_session(
        &server,
        &login(&a.id, &a.password, &a.extension),
        "CTI is available",
    );
    log_in(&mut agent, true);
    let driver_queue = c.health()["agents"]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["id"] == a.id.as_str()))
        .and_then(|x| x["driver"].as_str())
        .expect("the console names the agent's driver queue")
        .to_string();
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
    let server = siebel_with("ucce.def", "ENU", &BrokerAccess::plain(addr).driver_params(&queue));
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

// ---- Agent proof, secure passwords, console (issue 10, items 3, 4, 7) ----

/// Sends `msg` to `queue` as a client with a Siebel server's broker credentials (a stolen
/// login, a rogue driver) would: no proof, replies to `reply`.
fn spoof(queue: &str, reply: &str, msg: Message) {
    let mut c = BrokerAccess::shared().driver_client();
    let env = Envelope::new(unique("spoof"), msg);
    c.send(queue, &[("reply-to", reply)], &env.to_json())
        .unwrap();
}

#[test]
fn spoofed_set_state_connect_and_disconnect_do_nothing_and_are_logged() {
    let (sim, a) = sim_with_agent();
    let queue = BrokerAccess::shared().queue();
    let c = ConnectorProc::start(&queue, &sim);
    let server = siebel("ucce.def", "ENU", &queue);
    let mut agent = start_session(
        &server,
        &login(&a.id, &a.password, &a.extension),
        "CTI is available",
    );
    log_in(&mut agent, true);
    let owner = |c: &ConnectorProc| {
        c.health()["agents"]
            .as_array()
            .and_then(|l| l.iter().find(|x| x["id"] == a.id.as_str()))
            .and_then(|x| x["driver"].as_str())
            .map(str::to_string)
    };
    let driver_queue = owner(&c).expect("the agent's driver queue");
    let attacker = format!("/queue/{}", unique("attacker"));
    let m = agent.client.mark();
    spoof(
        &queue,
        &attacker,
        Message::SetState {
            agent: a.id.clone(),
            state: driver::protocol::AgentState::NotReady,
            reason: None,
        },
    );
    spoof(
        &queue,
        &attacker,
        Message::Connect {
            agent: a.id.clone(),
            reply_to: attacker.clone(),
            password: None,
            encrypted: false,
        },
    );
    spoof(
        &queue,
        &attacker,
        Message::Connect {
            agent: a.id.clone(),
            reply_to: attacker.clone(),
            password: Some("guess".into()),
            encrypted: false,
        },
    );
    spoof(
        &queue,
        &attacker,
        Message::Disconnect {
            agent: a.id.clone(),
        },
    );
    wait_until("the spoofs refused in the connector log", WAIT, || {
        let n = c.log_count(&format!("for agent {} from {attacker}", a.id));
        if n >= 3 {
            Ok(n)
        } else {
            Err(n)
        }
    });
    for line in std::fs::read_to_string(&c.log)
        .unwrap()
        .lines()
        .filter(|l| l.contains(&attacker))
    {
        println!("SECURITY-FIGURE spoof refused: {}", line.trim());
    }
    assert_eq!(owner(&c).as_deref(), Some(driver_queue.as_str()));
    assert!(
        no_event_since(&agent.client, m, "EventAgentNotReady"),
        "the spoofed SetState reached Finesse"
    );
    // The agent's own commands and events still work through its own queue.
    let m = agent.client.mark();
    agent.run_command("NotReady").unwrap();
    wait_event(&agent.client, m, "EventAgentNotReady");
}

/// A fake `System` on `topic`; the broker's refusal as an error.
fn fake_system(c: &mut Connection, topic: &str, status: SystemStatus) -> Result<(), StompError> {
    let env = Envelope::new(
        unique("fake"),
        Message::System {
            status,
            connector: "evil".into(),
            detail: String::new(),
            instance: unique("evil"),
        },
    );
    c.send(topic, &[("receipt", "fake")], &env.to_json())?;
    match c.recv(Duration::from_secs(3))? {
        Some(f) if f.command == "ERROR" => Err(StompError::Broker(
            f.get("message").unwrap_or_default().to_string(),
        )),
        _ => Ok(()),
    }
}

#[test]
fn a_fake_system_status_from_a_driver_login_is_refused_by_the_broker_and_ignored_by_drivers() {
    let access = BrokerAccess::shared();
    let (_peer, queue) = peer();
    let server = siebel("ucce.def", "ENU", &queue);
    let agent = start_session(&server, &login("1001", "secret", "5001"), "CTI is available");
    let m = agent.client.mark();
    // A Siebel server's credentials cannot write the status topic (only connectors may).
    let status = driver::protocol::status_topic(&queue);
    let mut c = access.driver_client();
    let r = fake_system(&mut c, &status, SystemStatus::OutOfService);
    if !open_services() {
        let e = refused("fake OUT_OF_SERVICE on the status topic, driver login", r);
        assert!(e.contains("not authorized to write"), "{e}");
    }
    // They may write the drivers' topic (client-id announces): a status there is ignored.
    let drivers = driver::protocol::drivers_topic(&queue);
    let mut c = access.driver_client();
    fake_system(&mut c, &drivers, SystemStatus::OutOfService).expect("drivers write it");
    wait_until("the misplaced status logged", WAIT, || {
        let log = std::fs::read_to_string(log_file()).unwrap_or_default();
        log.contains("not expected on \"drivers\"")
            .then_some(())
            .ok_or("not yet")
    });
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        !agent.client.calls()[m..]
            .iter()
            .any(|x| matches!(x, Call::ShowStatusText(t) if t.contains("unavailable"))),
        "a fake OUT_OF_SERVICE took the Siebel server offline"
    );
    println!("SECURITY-FIGURE fake OUT_OF_SERVICE with a driver login: refused by the broker on the status topic, ignored by the driver on the drivers' topic; the agent stays available");

    // Driver:ConnectorUsers: the broker stamps the sender's user (JMSXUserID); a status not
    // from one of those users (here the real connector's, not in the list) is ignored.
    if open_services() {
        return;
    }
    let mut params = access.driver_params(&queue);
    params.push(("Driver:ConnectorUsers".into(), "another-connector".into()));
    let strict = siebel_with("ucce.def", "ENU", &params);
    let strict_agent = strict
        .request_service(&login("1002", "pw2", "5002"), &[], false)
        .unwrap();
    let user = access.connector.0.clone();
    wait_until("the unlisted connector's status logged", WAIT, || {
        let log = std::fs::read_to_string(log_file()).unwrap_or_default();
        log.contains(&format!("ignored a System status from broker user \"{user}\""))
            .then_some(())
            .ok_or("not yet")
    });
    assert!(
        !strict_agent
            .client
            .calls()
            .iter()
            .any(|x| matches!(x, Call::ShowStatusText(t) if t.contains("CTI is available"))),
        "a status from a user not in Driver:ConnectorUsers made the driver available"
    );
    println!("SECURITY-FIGURE Driver:ConnectorUsers without the connector's user: its status ignored (JMSXUserID {user:?})");
}

/// Answers a driver's Hello on `queue` as a connector would; returns the requests seen.
fn fake_connector(queue: &str, until: Duration) -> Vec<Envelope> {
    let mut c = BrokerAccess::shared().connector_client();
    c.subscribe("s", queue).unwrap();
    let deadline = Instant::now() + until;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let Some(f) = c.recv(Duration::from_millis(200)).unwrap() else {
            continue;
        };
        let env = Envelope::from_json(&f.body).unwrap();
        if let Message::Hello { reply_to, .. } = &env.msg {
            let up = Envelope::new(
                "fake-up",
                Message::System {
                    status: driver::protocol::SystemStatus::InService,
                    connector: "spy".into(),
                    detail: String::new(),
                    instance: "spy-1".into(),
                },
            )
            .answering(&env.id);
            c.send(reply_to, &[], &up.to_json()).unwrap();
        }
        let login = matches!(env.msg, Message::Login { .. });
        seen.push(env);
        if login {
            break;
        }
    }
    seen
}

#[test]
fn the_request_queue_carries_no_clear_password_and_a_replayed_one_is_refused() {
    let (sim, a) = sim_with_agent();
    let access = BrokerAccess::shared();
    assert!(
        access.secure_key_file.is_some(),
        "the suite runs with secure passwords (target/certs/secure.key)"
    );
    // A spy in the connector's place (its credentials) reads what a driver sends.
    let spy_queue = access.queue();
    let server = siebel("ucce.def", "ENU", &spy_queue);
    let q = spy_queue.clone();
    let spy = std::thread::spawn(move || fake_connector(&q, WAIT_HTTP));
    let mut agent = start_session(
        &server,
        &login(&a.id, &a.password, &a.extension),
        "CTI is available",
    );
    let m = agent.client.mark();
    agent.run_command("SignOnGroup").unwrap();
    let seen = spy.join().unwrap();
    let _ = m;
    let bodies: Vec<String> = seen
        .iter()
        .map(|e| String::from_utf8_lossy(&e.to_json()).into_owned())
        .collect();
    assert!(
        bodies.iter().all(|b| !b.contains(&a.password)),
        "a clear password on the request queue: {bodies:?}"
    );
    let sniffed = seen
        .iter()
        .find_map(|e| match &e.msg {
            Message::Login { password, .. } => Some((e.clone(), password.clone())),
            _ => None,
        })
        .expect("the spy saw the Login");
    println!("SECURITY-FIGURE sniffed Login password: {}", sniffed.1);
    assert!(sniffed.1.starts_with("v2:"), "{}", sniffed.1);

    // The sniffed Login, sent twice to a real connector: the second is refused.
    let queue = access.queue();
    let c = ConnectorProc::start(&queue, &sim);
    let mut spy = access.driver_client();
    let reply = access.reply_queue("sec-reply");
    spy.subscribe("r", &reply).unwrap();
    let answer = |spy: &mut Connection, id: &str| -> Message {
        let mut env = sniffed.0.clone();
        env.id = id.into();
        spy.send(&queue, &[("reply-to", &reply)], &env.to_json())
            .unwrap();
        loop {
            let f = spy.recv(WAIT).unwrap().expect("an answer");
            let e = Envelope::from_json(&f.body).unwrap();
            if e.re.as_deref() == Some(id) {
                return e.msg;
            }
        }
    };
    let first = answer(&mut spy, "replay-1");
    assert!(
        !matches!(&first, Message::Error { message, .. } if message.contains("replay")),
        "{first:?}"
    );
    match answer(&mut spy, "replay-2") {
        Message::Error { code, message, .. } => {
            println!("SECURITY-FIGURE replayed secure password: {code}: {message}");
            assert!(message.contains("replay"), "{message}");
        }
        other => panic!("the replay was served: {other:?}"),
    }
    assert!(c.log_count("refused as a replay") >= 1);
    drop(agent);
}

#[test]
fn the_console_needs_its_credentials() {
    let (sim, _a) = sim_with_agent();
    let queue = BrokerAccess::shared().queue();
    let hash = connector::console_auth::PasswordHash::make("console-pw");
    let c = ConnectorProc::start_with(
        &queue,
        &sim,
        &format!("user = \"admin\"\npassword_hash = \"{hash}\""),
        "",
    );
    let page = format!("{}/", c.monitor);
    match ureq::get(&page).call() {
        Err(ureq::Error::Status(401, r)) => {
            assert!(r
                .header("WWW-Authenticate")
                .is_some_and(|h| h.starts_with("Basic")));
        }
        other => panic!("the console without credentials: {other:?}"),
    }
    let basic = |u: &str, p: &str| {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
    };
    assert!(matches!(
        ureq::get(&page)
            .set("Authorization", &basic("admin", "wrong"))
            .call(),
        Err(ureq::Error::Status(401, _))
    ));
    let ok = ureq::get(&page)
        .set("Authorization", &basic("admin", "console-pw"))
        .call()
        .unwrap();
    assert_eq!(ok.status(), 200);
    // /health stays open for load balancers, without agent data.
    let open = c.health();
    assert_eq!(open["status"], "IN_SERVICE");
    assert!(open.get("agents").is_none(), "{open}");
    println!("SECURITY-FIGURE console: 401 without or with wrong credentials, 200 with them; open /health: {open}");
    assert!(c.log_count("monitor: refused GET /") >= 2);
}

#[test]
fn finesse_over_https_with_a_test_ca_works_with_its_ca_file_and_fails_without() {
    let (sim, _a) = sim_with_agent();
    // The test CA and finesse.pem/.key (made only when missing).
    let out = Command::new("bash")
        .arg(repo().join("scripts/certs.sh"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let certs = repo().join("target/certs");
    let upstream = sim
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let front = finesse_sim::https::HttpsFront::start(
        upstream,
        &certs.join("finesse.pem"),
        &certs.join("finesse.key"),
    )
    .unwrap();
    let timeout = Duration::from_secs(5);
    let with_ca = connector::rest::Rest::new(
        timeout,
        Some(&driver::stomp::TlsSettings::from_ca_file(&ca_file()).unwrap()),
    );
    let info = with_ca.system_info(&front.base_url(), None).unwrap();
    println!("SECURITY-FIGURE Finesse over HTTPS with its CA file: {info:?}");
    let without = connector::rest::Rest::new(timeout, None);
    let e = without.system_info(&front.base_url(), None).unwrap_err();
    println!("SECURITY-FIGURE Finesse over HTTPS without its CA file: {e}");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
    let other = connector::rest::Rest::new(
        timeout,
        Some(&driver::stomp::TlsSettings::from_ca_file(&unknown_ca()).unwrap()),
    );
    assert!(other.system_info(&front.base_url(), None).is_err());
}

/// A Prosody of its own offering STARTTLS (and direct TLS) with `prosody.pem` from the test
/// CA (`scripts/prosody.sh` with `XMPP_TLS=1`); stopped when dropped.
struct TlsProsody {
    env: Vec<(&'static str, String)>,
    port: u16,
    tls_port: u16,
}

impl TlsProsody {
    fn start() -> TlsProsody {
        let [port, tls_port] = free_ports::<2>();
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(unique("prosody-tls"));
        let p = TlsProsody {
            env: vec![
                ("PROSODY_BASE", base.display().to_string()),
                ("XMPP_PORT", port.to_string()),
                ("XMPP_TLS", "1".into()),
                ("XMPP_TLS_PORT", tls_port.to_string()),
            ],
            port,
            tls_port,
        };
        let out = p.script("start");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        p
    }

    fn script(&self, what: &str) -> std::process::Output {
        Command::new("bash")
            .arg(repo().join("scripts/prosody.sh"))
            .arg(what)
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .unwrap()
    }
}

impl Drop for TlsProsody {
    fn drop(&mut self) {
        let _ = self.script("stop");
    }
}

#[test]
fn xmpp_to_finesse_over_starttls_and_direct_tls_with_the_certificate_checked() {
    let out = Command::new("bash")
        .arg(repo().join("scripts/certs.sh"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prosody = TlsProsody::start();
    // finesse-sim creates the agent's account (over the plain port, which stays open to it).
    let id = crate::chain::agent_id();
    let config = finesse_sim::SimConfig {
        http: "127.0.0.1:0".parse().unwrap(),
        deployment: Deployment::Ucce,
        xmpp: format!("127.0.0.1:{}", prosody.port).parse().unwrap(),
        xmpp_domain: "finesse.local".into(),
        pubsub_domain: "pubsub.finesse.local".into(),
        admin_user: "finesse-admin".into(),
        admin_password: "finesse-admin-pw".into(),
        finesse_version: "12.5(1)".into(),
        secondary_host: String::new(),
        agents: vec![finesse_sim::AgentConfig {
            id: id.clone(),
            password: "pw-tls".into(),
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            extension: "5001".into(),
            team_id: "1".into(),
            team_name: "Sales".into(),
        }],
        not_ready_reasons: Vec::new(),
        logout_reasons: Vec::new(),
        wrap_up_reasons: Vec::new(),
    };
    let sim = finesse_sim::FinesseSim::start(config).expect("finesse-sim on the TLS Prosody");
    let ca = driver::stomp::TlsSettings::from_ca_file(&ca_file())
        .unwrap()
        .config();
    let other = driver::stomp::TlsSettings::from_ca_file(&unknown_ca())
        .unwrap()
        .config();
    use connector::xmpp::{XmppConn, XmppTls};
    let login = |port: u16, tls: XmppTls| {
        XmppConn::login(
            format!("127.0.0.1:{port}").parse().unwrap(),
            &tls,
            "finesse.local",
            &id,
            "pw-tls",
            "sec-test",
            Duration::from_secs(5),
        )
    };
    let name = || "127.0.0.1".to_string();
    let c = login(prosody.port, XmppTls::StartTls(ca.clone(), name())).expect("STARTTLS");
    println!(
        "SECURITY-FIGURE XMPP STARTTLS with the test CA: bound as {}",
        c.jid
    );
    c.close();
    let c = login(prosody.tls_port, XmppTls::Direct(ca.clone(), name())).expect("direct TLS");
    println!(
        "SECURITY-FIGURE XMPP direct TLS with the test CA: bound as {}",
        c.jid
    );
    c.close();
    let e = login(prosody.port, XmppTls::StartTls(other.clone(), name()))
        .err()
        .expect("another CA is refused");
    println!("SECURITY-FIGURE XMPP STARTTLS with another CA: {e}");
    assert!(e.to_string().contains("certificate"), "{e}");
    assert!(login(prosody.tls_port, XmppTls::Direct(other, name())).is_err());
    // A server without TLS: STARTTLS required, so no login (no password sent in clear).
    let (plain_port, heard) = xmpp_server_without_tls();
    let e = login(plain_port, XmppTls::StartTls(ca, name()))
        .err()
        .expect("a plain server is refused");
    assert!(e.to_string().contains("STARTTLS"), "{e}");
    let heard = heard.join().unwrap();
    assert!(!heard.contains("<auth"), "the client authenticated in clear: {heard}");
    println!("SECURITY-FIGURE XMPP server without STARTTLS: refused ({e}); no <auth> sent");
    sim.stop();
}

/// An XMPP server that offers SASL PLAIN and no STARTTLS, for one client; returns its port
/// and what the client sent until it left.
fn xmpp_server_without_tls() -> (u16, std::thread::JoinHandle<String>) {
    use std::io::{Read, Write};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let heard = std::thread::spawn(move || {
        let (mut c, _) = l.accept().unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut heard = String::new();
        let mut buf = [0u8; 4096];
        let mut answered = false;
        while let Ok(n) = c.read(&mut buf) {
            if n == 0 {
                break;
            }
            heard.push_str(&String::from_utf8_lossy(&buf[..n]));
            if !answered && heard.contains("<stream:stream") {
                answered = true;
                let _ = c.write_all(
                    b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
                      xmlns:stream='http://etherx.jabber.org/streams' id='s1' \
                      from='finesse.local' version='1.0'><stream:features>\
                      <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
                      <mechanism>PLAIN</mechanism></mechanisms></stream:features>",
                );
            }
        }
        heard
    });
    (port, heard)
}
