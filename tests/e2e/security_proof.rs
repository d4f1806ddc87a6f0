//! Attacks on agents through the suite's closed broker (issue 10, items 3, 4 and 7): spoofed
//! requests with a Siebel server's credentials, fake status broadcasts, sniffing and replaying
//! secure passwords, the console without credentials. Figures: `SECURITY-FIGURE` lines.

use std::time::{Duration, Instant};

use driver::protocol::{Envelope, Message, SystemStatus};
use driver::stomp::{Connection, StompError};
use scs_sim::Call;

use crate::chain::log_in;
use crate::common::*;
use crate::security::refused;
use crate::security_rig::*;

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
    let agent = start_session(
        &server,
        &login("1001", "secret", "5001"),
        "CTI is available",
    );
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
        log.contains(&format!(
            "ignored a System status from broker user \"{user}\""
        ))
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
