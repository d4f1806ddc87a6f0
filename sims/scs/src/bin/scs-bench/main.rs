//! `scs-bench [AGENTS]`: how one driver instance copes with many agents on one broker
//! connection. Starts a scripted connector peer on the broker, creates one driver instance
//! with AGENTS sessions (default 1000) through the real library, logs every agent in and makes
//! it Ready, and prints the latency from `InvokeCommand` to the matching event (p50, p99,
//! max), the throughput, the process's threads and memory, and the driver's own heap per
//! agent (the library's allocations only, without scs-sim's record of the callbacks).
//!
//! `scs-bench echo [ROUNDS]`: the driver's own cost over a bare broker round trip, in one run.
//! One agent's sequential round trips through the driver (ChangeReadyState /
//! ChangeNotReadyState -> EventAgentReady / EventAgentNotReady, answered by the scripted peer)
//! alternate with the same peer's bare STOMP round trips (a Snapshot request and its answer,
//! with the same codec, `driver::stomp`, the drivers' credentials) on the same broker; prints
//! both distributions and their ratio (default 2000 rounds of each, after 100 of warm-up).
//!
//! Needs the suite's ActiveMQ as `scripts/test.sh` starts it: `SIEBEL_CTI_TEST_BROKER`
//! (default 127.0.0.1:61612, STOMP over TLS), `SIEBEL_CTI_TEST_CA` (default
//! target/certs/ca.pem; `none`: plain STOMP), `SIEBEL_CTI_TEST_CONNECTOR` and
//! `SIEBEL_CTI_TEST_DRIVER` (`login:password`, defaults the test users; empty: none),
//! `SIEBEL_CTI_TEST_SECURE_KEY` (default target/certs/secure.key; `none`: clear passwords).
//! Build with `--release` for figures.

mod alloc;
mod echo;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use scs_sim::library::{default_library_path, Library};
use scs_sim::peer::{PeerAccess, PeerAgent, ScriptedPeer};
use scs_sim::server::AgentLogin;
use scs_sim::{Call, CommServer};

fn status_field(name: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(name))
        .map(|l| l[name.len()..].trim().to_string())
        .unwrap_or_else(|| "?".into())
}

/// `var`, else `default`.
fn env_or(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_string())
}

/// A file setting: `var`, else `target/certs/<name>`; `none`: no file.
fn env_file(var: &str, name: &str) -> Option<String> {
    Some(env_or(var, &format!("target/certs/{name}"))).filter(|v| v != "none")
}

/// How the peer and the driver reach the suite's broker: the peer's access and the driver's
/// `Driver:` parameters (credentials, TLS, secure-password key, client id in its namespace).
fn access(queue: &str) -> Result<(PeerAccess, Vec<(String, String)>), String> {
    let pair = |v: String| {
        let (l, p) = v.split_once(':').unwrap_or((&v, ""));
        (l.to_string(), p.to_string())
    };
    let (login, password) = pair(env_or(
        "SIEBEL_CTI_TEST_CONNECTOR",
        "connector:connector-secret",
    ));
    let (dlogin, dpassword) = pair(env_or("SIEBEL_CTI_TEST_DRIVER", "siebel:siebel-secret"));
    let ca = env_file("SIEBEL_CTI_TEST_CA", "ca.pem");
    let key = env_file("SIEBEL_CTI_TEST_SECURE_KEY", "secure.key");
    let secure = match &key {
        Some(k) => {
            let hex = std::fs::read_to_string(k).map_err(|e| format!("{k}: {e}"))?;
            Some(
                driver::secure::TripleDes::from_hex(k, hex.trim(), "", "")
                    .map_err(|e| e.to_string())?,
            )
        }
        None => None,
    };
    let peer = PeerAccess {
        login,
        password,
        ca_file: ca.clone().map(Into::into),
        secure,
    };
    let client = format!("bench-{}", std::process::id());
    let mut params = vec![
        ("Driver:RequestQueue".to_string(), queue.to_string()),
        ("Driver:LogLevel".to_string(), "warn".to_string()),
        (
            "Driver:BrokerTls".to_string(),
            (if ca.is_some() { "TRUE" } else { "FALSE" }).to_string(),
        ),
    ];
    match dlogin.as_str() {
        "" => params.push(("Driver:ClientId".into(), client)),
        l => params.extend([
            ("Driver:ClientId".to_string(), format!("{l}.{client}")),
            ("Driver:BrokerLogin".to_string(), l.to_string()),
            ("Driver:BrokerPassword".to_string(), dpassword),
        ]),
    }
    params.extend(ca.map(|c| ("Driver:BrokerCaFile".to_string(), c)));
    params.extend(key.map(|k| ("Driver:SecureKeyFile".to_string(), k)));
    Ok((peer, params))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(what: &str, mut lat: Vec<Duration>, wall: Duration) {
    lat.sort();
    println!(
        "{what}: {} agents in {:.2} s ({:.0}/s); latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        wall.as_secs_f64(),
        lat.len() as f64 / wall.as_secs_f64(),
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

/// Invokes `command` for every agent at once, then waits for each one's `event`.
fn round(
    agents: &mut [scs_sim::Agent],
    command: &str,
    event: &str,
) -> Result<(Vec<Duration>, Duration), String> {
    let t0 = Instant::now();
    let mut sent = Vec::with_capacity(agents.len());
    for a in agents.iter_mut() {
        let mark = a.client.mark();
        let at = Instant::now();
        let (rc, _) = a.invoke(command, "", &[]);
        if rc != 0 {
            return Err(format!("InvokeCommand {command} returned {rc}"));
        }
        sent.push((mark, at));
    }
    let mut lat = Vec::with_capacity(agents.len());
    for (a, (mark, at)) in agents.iter().zip(sent) {
        let (_, arrived) = a
            .client
            .wait_for_timed(mark, Duration::from_secs(60), |c| {
                c.event_name() == Some(event)
            })
            .ok_or_else(|| format!("no {event} within 60 s"))?;
        lat.push(arrived.saturating_duration_since(at));
    }
    Ok((lat, t0.elapsed()))
}

/// The argument at `i` as a number, or `default` when absent.
fn number(args: &[String], i: usize, default: usize) -> Result<usize, String> {
    args.get(i)
        .map(|a| a.parse().map_err(|_| format!("expected a number, got {a}")))
        .transpose()
        .map(|n| n.unwrap_or(default))
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = broker()?;
    let queue = format!("/queue/siebelcti.requests.bench-{}", std::process::id());
    let (peer_access, mut params) = access(&queue)?;
    params.push(("Driver:BrokerHost".to_string(), addr.ip().to_string()));
    if args.first().map(String::as_str) == Some("echo") {
        params.push(("Driver:BrokerPort".to_string(), addr.port().to_string()));
        let rounds = number(&args, 1, 2000)?;
        return echo::run(addr, &peer_access, &params, &queue, rounds);
    }
    let n = number(&args, 0, 1000)?;
    let ids: Vec<String> = (0..n).map(|i| format!("{}", 100_000 + i)).collect();
    let agents: HashMap<String, PeerAgent> = ids
        .iter()
        .map(|id| {
            (
                id.clone(),
                PeerAgent {
                    password: format!("pw{id}"),
                    first_name: "Bench".into(),
                    last_name: id.clone(),
                },
            )
        })
        .collect();
    let _peer =
        ScriptedPeer::start_with(addr, &peer_access, &queue, agents).map_err(|e| e.to_string())?;
    let lib = Arc::new(Library::load(&default_library_path()).map_err(|e| e.to_string())?);
    params.push(("Driver:BrokerPort".to_string(), addr.port().to_string()));
    let server = CommServer::start(lib, "ENU", &params).map_err(|e| e.to_string())?;
    let threads_before = status_field("Threads:");
    let heap_before = alloc::driver_heap();
    let t0 = Instant::now();
    let mut sessions = Vec::with_capacity(n);
    for (i, id) in ids.iter().enumerate() {
        let login = AgentLogin {
            user: format!("user{i}"),
            agent_id: id.clone(),
            pin: format!("pw{id}"),
            dn: format!("{}", 50_000 + i),
            selected_text: String::new(),
        };
        let params = [
            ("Service:AgentId".to_string(), login.agent_id.clone()),
            ("Service:AgentPassword".to_string(), login.pin.clone()),
            ("Service:Extension".to_string(), login.dn.clone()),
        ];
        sessions.push(
            server
                .request_service(&login, &params, false)
                .map_err(|e| e.to_string())?,
        );
    }
    let created = t0.elapsed();
    for s in &sessions {
        s.client
            .wait_for(
                0,
                Duration::from_secs(30),
                |c| matches!(c, Call::ShowStatusText(t) if t == "CTI is available."),
            )
            .ok_or("the connector peer did not answer")?;
    }
    println!(
        "sessions: {n} created in {:.1} ms ({:.1} us each); driver threads: {} before, {} after",
        created.as_secs_f64() * 1e3,
        created.as_secs_f64() * 1e6 / n as f64,
        threads_before,
        status_field("Threads:")
    );
    let (lat, wall) = round(&mut sessions, "LogIn", "EventAgentLogin")?;
    report("login", lat, wall);
    let (lat, wall) = round(&mut sessions, "ChangeReadyState", "EventAgentReady")?;
    report("ready", lat, wall);
    println!(
        "memory: VmRSS {}, VmHWM {}",
        status_field("VmRSS:"),
        status_field("VmHWM:")
    );
    match (heap_before, alloc::driver_heap()) {
        (Some(before), Some(after)) => println!(
            "driver heap: {:.1} KiB per agent logged in and Ready ({} agents, {:.1} MiB; the \
             library's allocations only, scs-sim's record of the callbacks excluded)",
            after.saturating_sub(before) as f64 / n as f64 / 1024.0,
            n,
            after.saturating_sub(before) as f64 / 1048576.0
        ),
        _ => println!("driver heap: not measured (needs glibc's mallinfo2)"),
    }
    let t = Instant::now();
    for s in &mut sessions {
        s.release();
    }
    println!(
        "release: {n} sessions in {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}

const USAGE: &str = "usage: scs-bench [AGENTS]   (default 1000; the broker: SIEBEL_CTI_TEST_BROKER)
       scs-bench --check      (the broker takes a STOMP connection: exit 0, or 1 with the reason)
       scs-bench --help | --version";

fn broker() -> Result<std::net::SocketAddr, String> {
    let broker =
        std::env::var("SIEBEL_CTI_TEST_BROKER").unwrap_or_else(|_| "127.0.0.1:61612".into());
    broker
        .parse()
        .map_err(|_| format!("bad broker address {broker}"))
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("--help" | "-h") => return println!("{USAGE}"),
        Some("--version" | "-V") => return println!("scs-bench {}", env!("CARGO_PKG_VERSION")),
        Some("--check") => {
            let result = broker().and_then(|addr| {
                driver::stomp::Connection::connect(addr, "", "", Duration::from_secs(5))
                    .map(|_| addr)
                    .map_err(|e| format!("broker {addr}: {e}"))
            });
            match result {
                Ok(addr) => println!("broker {addr}: ok\ncheck passed"),
                Err(e) => {
                    println!("{e}\ncheck FAILED");
                    std::process::exit(1);
                }
            }
            return;
        }
        Some(a) if a.starts_with('-') => {
            eprintln!("scs-bench: unknown argument {a}\n{USAGE}");
            std::process::exit(2);
        }
        _ => {}
    }
    if let Err(e) = run() {
        eprintln!("scs-bench: {e}");
        std::process::exit(1);
    }
}
