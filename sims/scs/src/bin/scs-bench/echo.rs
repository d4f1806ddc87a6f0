//! `scs-bench echo`: the driver's own cost, as the ratio of two round-trip distributions
//! measured in one run against the same peer on the same broker.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use driver::protocol::{driver_queue, Envelope, Message};
use driver::stomp::Connection;
use scs_sim::bench::{ms, Distribution};
use scs_sim::library::{default_library_path, Library};
use scs_sim::peer::{PeerAccess, PeerAgent, ScriptedPeer};
use scs_sim::server::AgentLogin;
use scs_sim::{Call, CommServer};

const WAIT: Duration = Duration::from_secs(10);
const WARM_UP: usize = 100;
const AGENT: &str = "100000";

/// One round trip through the driver: a state change and its event; the two alternate.
fn through_driver(agent: &mut scs_sim::Agent, i: usize) -> Result<Duration, String> {
    let (command, event) = if i.is_multiple_of(2) {
        ("ChangeReadyState", "EventAgentReady")
    } else {
        ("ChangeNotReadyState", "EventAgentNotReady")
    };
    let mark = agent.client.mark();
    let at = Instant::now();
    let (rc, _) = agent.invoke(command, "", &[]);
    if rc != 0 {
        return Err(format!("{command} returned {rc}"));
    }
    let (_, arrived) = agent
        .client
        .wait_for_timed(mark, WAIT, |c| c.event_name() == Some(event))
        .ok_or_else(|| format!("no {event} within {WAIT:?}"))?;
    Ok(arrived.saturating_duration_since(at))
}

/// One bare round trip: a Snapshot request to the peer's queue, its answer on our own.
fn bare(conn: &mut Connection, queue: &str, reply: &str, i: usize) -> Result<Duration, String> {
    let request = Envelope::new(
        format!("echo-{i}"),
        Message::Snapshot {
            agent: AGENT.into(),
        },
    );
    let at = Instant::now();
    conn.send(queue, &[("reply-to", reply)], &request.to_json())
        .map_err(|e| e.to_string())?;
    loop {
        match conn.recv(WAIT).map_err(|e| e.to_string())? {
            Some(f) if f.command == "MESSAGE" => return Ok(at.elapsed()),
            Some(_) => continue,
            None => return Err(format!("no answer to a bare request within {WAIT:?}")),
        }
    }
}

/// The value of driver parameter `key`, if given.
fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Runs `rounds` of each kind, alternating, after a warm-up; prints both and the ratio. The
/// peer reaches the broker as `peer` says, the driver with `params` (its request queue
/// `queue`), the bare client with the driver's credentials and a reply queue in its namespace.
pub fn run(
    broker: SocketAddr,
    peer: &PeerAccess,
    params: &[(String, String)],
    queue: &str,
    rounds: usize,
) -> Result<(), String> {
    let client_id = param(params, "Driver:ClientId").unwrap_or("bench-echo");
    let reply = driver_queue(&format!("{client_id}-bare"));
    let agents = HashMap::from([(
        AGENT.to_string(),
        PeerAgent {
            password: "pw".into(),
            first_name: "Echo".into(),
            last_name: "Bench".into(),
        },
    )]);
    let _peer = ScriptedPeer::start_with(broker, peer, queue, agents).map_err(|e| e.to_string())?;
    let lib = Arc::new(Library::load(&default_library_path()).map_err(|e| e.to_string())?);
    let server = CommServer::start(lib, "ENU", params).map_err(|e| e.to_string())?;
    let login = AgentLogin {
        user: "echo".into(),
        agent_id: AGENT.into(),
        pin: "pw".into(),
        dn: "50000".into(),
        selected_text: String::new(),
    };
    let service = [
        ("Service:AgentId", AGENT),
        ("Service:AgentPassword", "pw"),
        ("Service:Extension", "50000"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let mut agent = server
        .request_service(&login, &service, false)
        .map_err(|e| e.to_string())?;
    agent
        .client
        .wait_for(
            0,
            WAIT,
            |c| matches!(c, Call::ShowStatusText(t) if t.contains("CTI is available")),
        )
        .ok_or("the scripted peer did not answer")?;
    let mark = agent.client.mark();
    agent.invoke("LogIn", "", &[]);
    agent
        .client
        .wait_for(mark, WAIT, |c| c.event_name() == Some("EventAgentLogin"))
        .ok_or("no EventAgentLogin")?;
    let bare_access = PeerAccess {
        login: param(params, "Driver:BrokerLogin")
            .unwrap_or("")
            .to_string(),
        password: param(params, "Driver:BrokerPassword")
            .unwrap_or("")
            .to_string(),
        ca_file: param(params, "Driver:BrokerCaFile").map(Into::into),
        secure: None,
    };
    let mut conn: Connection = bare_access.connect(broker).map_err(|e| e.to_string())?;
    conn.subscribe("echo", &reply).map_err(|e| e.to_string())?;
    let (mut d, mut b) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for i in 0..WARM_UP + rounds {
        let through = through_driver(&mut agent, i)?;
        let direct = bare(&mut conn, queue, &reply, i)?;
        if i >= WARM_UP {
            d.push(through);
            b.push(direct);
        }
    }
    let (d, b) = (Distribution::new(d), Distribution::new(b));
    println!(
        "echo: {rounds} sequential round trips of each kind, alternating, one broker, one peer"
    );
    println!("  through the driver (command -> event): {}", d.summary());
    println!("  bare STOMP (request -> answer):        {}", b.summary());
    let ratio = |q: f64| {
        let (x, y) = (d.quantile(q), b.quantile(q));
        format!(
            "{:.2} (+{})",
            x.as_secs_f64() / y.as_secs_f64().max(1e-9),
            ms(x.saturating_sub(y))
        )
    };
    println!(
        "  ratio driver / bare: p50 {}, p90 {}, p99 {}, max {:.2}",
        ratio(0.5),
        ratio(0.9),
        ratio(0.99),
        d.max().as_secs_f64() / b.max().as_secs_f64().max(1e-9)
    );
    agent.release();
    Ok(())
}
