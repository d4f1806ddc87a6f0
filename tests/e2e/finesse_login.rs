//! An agent logs in to Finesse from the Siebel toolbar, end to end:
//! scs-sim -> driver -> ActiveMQ -> connector -> finesse-sim (REST) and Prosody (XMPP).

use finesse_sim::Deployment;
use serde_json::json;

use crate::chain::*;
use crate::common::*;

/// Waits until the console's health page lists agent `id` as `ok` says (`what` names the
/// wait); returns the agent's entry.
fn console_agent(
    chain: &Chain,
    what: &str,
    id: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let url = format!("{}/health", chain.monitor());
    wait_until(what, WAIT_HTTP, || {
        let health = get_json(&url);
        health["agents"]
            .as_array()
            .and_then(|v| v.iter().find(|a| a["id"] == id))
            .filter(|a| ok(a))
            .cloned()
            .ok_or(health)
    })
}

/// Waits until the console shows the agent in `state`.
fn agent_in_console(chain: &Chain, id: &str, state: &str) -> serde_json::Value {
    console_agent(
        chain,
        &format!("agent {id} {state} in the console"),
        id,
        |a| a["state"] == state,
    )
}

/// Waits until the console shows the agent in `state` with its notification session up
/// (which follows the session's first snapshot).
fn wait_notifications_up(chain: &Chain, id: &str, state: &str) -> serde_json::Value {
    console_agent(
        chain,
        &format!("agent {id} {state} with notifications up in the console"),
        id,
        |a| a["state"] == state && a["notifications"] == true,
    )
}

#[test]
fn login_ready_not_ready_logout_through_finesse() {
    let chain = Chain::start(Deployment::Ucce, 1);
    let a = chain.agents[0].clone();
    let mut agent = chain.session(0);
    let c = agent.client.clone();
    wait_toolbar(&c, 0, "LogIn", N);

    let m = c.mark();
    agent.run_command("SignOnGroup").unwrap();
    let ev = wait_event(&c, m, "EventAgentLogin");
    assert_eq!(ev.field("AgentId"), Some(a.id.as_str()));
    assert_eq!(ev.field("AgentState"), Some("NOT_READY"));
    assert_eq!(ev.field("Extension"), Some(a.extension.as_str()));
    assert_eq!(
        wait_status(&c, m, "Logged in"),
        format!("Logged in as Ann Lee on extension {}.", a.extension)
    );
    wait_toolbar(&c, m, "ChangeNotReadyState", N | S | D | C);
    let seen = wait_notifications_up(&chain, &a.id, "NOT_READY");
    assert_eq!(seen["extension"], a.extension.as_str());

    let m = c.mark();
    agent.run_command("Ready").unwrap();
    wait_event(&c, m, "EventAgentReady");
    wait_toolbar(&c, m, "ChangeReadyState", N | D | C);
    agent_in_console(&chain, &a.id, "READY");

    // Not Ready with a reason code id: Finesse reports the code and its label.
    let m = c.mark();
    agent.invoke("ChangeNotReadyState", "2", &[]);
    let ev = wait_event(&c, m, "EventAgentNotReady");
    assert_eq!(ev.field("ReasonCode"), Some("12"));
    assert_eq!(ev.field("ReasonLabel"), Some("Lunch"));
    wait_status(&c, m, "State: Not Ready (Lunch).");

    // A state change made outside Siebel (e.g. by a supervisor) reaches the toolbar through
    // the XMPP notification alone.
    let m = c.mark();
    admin(
        chain.sim(),
        "/admin/agents/state",
        json!({"agent": a.id, "state": "READY"}),
    );
    wait_event(&c, m, "EventAgentReady");
    wait_toolbar(&c, m, "LogOut", N | S | D);

    // Finesse logs out only from Not Ready.
    let m = c.mark();
    agent.run_command("NotReady").unwrap();
    wait_event(&c, m, "EventAgentNotReady");
    let m = c.mark();
    agent.run_command("SignOffGroup").unwrap();
    wait_event(&c, m, "EventAgentLogout");
    wait_toolbar(&c, m, "LogIn", N);
    agent_in_console(&chain, &a.id, "LOGOUT");
    agent.release();
}

#[test]
fn wrong_password_is_a_clear_error_on_the_toolbar_and_in_the_log() {
    let chain = Chain::start(Deployment::Uccx, 1);
    let a = chain.agents[0].clone();
    let mut agent = start_session(
        &chain.server,
        &login(&a.id, "not-the-password", &a.extension),
        "CTI is available",
    );
    let c = agent.client.clone();
    let m = c.mark();
    let (_, track) = agent.invoke("LogIn", "", &[]);
    assert_eq!(
        wait_error(&c, m),
        (
            Some(track),
            "Login failed: invalid agent id or password.".into()
        )
    );
    wait_status(&c, m, "invalid agent id or password");
    wait_toolbar(&c, m, "LogIn", N);
    let log = std::fs::read_to_string(log_file()).unwrap();
    assert!(
        log.contains("Unauthorized: Login failed: invalid agent id or password."),
        "{log}"
    );
    assert!(!log.contains("not-the-password"));
    agent.release();
}

#[test]
fn finesse_down_at_login_is_reported_then_recovers() {
    let chain = Chain::start(Deployment::Ucce, 1);
    let mut agent = chain.session(0);
    let c = agent.client.clone();
    // The session-start reads are done (the snapshot, and the notification session's own
    // snapshot before it counts as up), so the failure below hits the login itself.
    wait_notifications_up(&chain, &chain.agents[0].id, "LOGOUT");

    // Finesse answers 503 to the login request itself.
    admin(
        chain.sim(),
        "/admin/failures",
        json!({"restStatus": 503, "count": 1}),
    );
    let m = c.mark();
    let (_, track) = agent.invoke("LogIn", "", &[]);
    let (tracking_id, text) = wait_error(&c, m);
    assert_eq!(tracking_id, Some(track));
    assert_eq!(text, "Cisco Finesse is unavailable; try again shortly.");
    wait_toolbar(&c, m, "LogIn", N);

    // Finesse goes out of service: the connector says so, the toolbar is disabled.
    let m = c.mark();
    admin(
        chain.sim(),
        "/admin/failures",
        json!({"outOfService": true}),
    );
    let text = wait_status(&c, m, "out of service");
    // Plain words for the agent; the node's URL and status are in the connector's log.
    assert_eq!(
        text,
        "CTI is unavailable: the CTI connector is out of service."
    );
    let log = std::fs::read_to_string(connector_log()).unwrap();
    assert!(log.contains("OUT_OF_SERVICE") || log.contains("503"));
    wait_toolbar(&c, m, "LogIn", N | D);
    let m = c.mark();
    agent.invoke("LogIn", "", &[]);
    wait_status(&c, m, "CTI is unavailable right now");

    // Back in service: the same session logs in.
    let m = c.mark();
    admin(
        chain.sim(),
        "/admin/failures",
        json!({"outOfService": false}),
    );
    wait_status(&c, m, "CTI is available");
    wait_toolbar(&c, m, "LogIn", N);
    let m = c.mark();
    agent.invoke("LogIn", "", &[]);
    wait_event(&c, m, "EventAgentLogin");
    agent.release();
}

#[test]
fn connector_restart_keeps_the_agents_state_in_siebel() {
    let mut chain = Chain::start(Deployment::Ucce, 2);
    let mut first = chain.session(0);
    let mut second = chain.session(1);
    log_in(&mut first, true);
    log_in(&mut second, false);

    let (c1, c2) = (first.client.clone(), second.client.clone());
    let (m1, m2) = (c1.mark(), c2.mark());
    chain.stop_connector();
    wait_status(&c1, m1, "out of service");
    wait_toolbar(&c1, m1, "ChangeNotReadyState", N | S | D);
    chain.start_connector();
    wait_status(&c1, m1, "CTI is available");
    wait_status(&c2, m2, "CTI is available");
    // State rebuilt from Finesse via snapshot: Ready stays Ready, Not Ready stays Not Ready,
    // and nobody was logged out or in again.
    wait_toolbar(&c1, m1, "ChangeReadyState", N | D | C);
    wait_toolbar(&c2, m2, "ChangeNotReadyState", N | S | D | C);
    for (c, m) in [(&c1, m1), (&c2, m2)] {
        assert!(
            c.calls()[m..].iter().all(|x| !matches!(
                x.event_name(),
                Some("EventAgentLogin") | Some("EventAgentLogout")
            )),
            "{:#?}",
            &c.calls()[m..]
        );
    }
    // The new connector serves the agents' next requests (it has their sessions again).
    let m = c2.mark();
    second.run_command("Ready").unwrap();
    wait_event(&c2, m, "EventAgentReady");
    let m = c1.mark();
    chain.sim();
    admin(
        chain.sim(),
        "/admin/agents/state",
        json!({"agent": chain.agents[0].id, "state": "NOT_READY"}),
    );
    wait_event(&c1, m, "EventAgentNotReady");
}

#[test]
fn the_connector_fails_over_to_the_secondary_finesse_node() {
    // Real Finesse nodes share the contact center's state; two simulators do not, so the
    // agent is logged in on both, as it would be seen from either node.
    let chain = Chain::start_with_secondary(Deployment::Ucce, 1);
    let a = chain.agents[0].clone();
    let secondary = chain.secondary.as_ref().unwrap();
    let mut agent = logged_in(&chain, 0, false);
    let c = agent.client.clone();
    let login = ureq::put(&format!(
        "{}/finesse/api/User/{}",
        secondary.base_url(),
        a.id
    ))
    .set(
        "Authorization",
        &format!("Basic {}", basic(&a.id, &a.password)),
    )
    .set("Content-Type", "application/xml")
    .send_string(&format!(
        "<User><state>LOGIN</state><extension>{}</extension></User>",
        a.extension
    ));
    assert!(login.is_ok(), "{login:?}");

    // The primary goes out of service: the connector moves to the secondary by itself.
    let m = c.mark();
    admin(
        chain.sim(),
        "/admin/failures",
        json!({"outOfService": true}),
    );
    let url = format!("{}/health", chain.monitor());
    let health = wait_until("the connector on the secondary node", WAIT_HTTP, || {
        let health = get_json(&url);
        if health["finesse"]["node"] == secondary.base_url().as_str() {
            Ok(health)
        } else {
            Err(health)
        }
    });
    assert_eq!(health["status"], "IN_SERVICE", "{health}");
    // The agent noticed nothing but keeps working, now through the secondary.
    assert!(no_event_since(&c, m, "EventAgentLogout"));
    let m = c.mark();
    agent.run_command("Ready").unwrap();
    wait_event(&c, m, "EventAgentReady");
    let state = get_json(&format!("{}/admin/state", secondary.base_url()));
    assert_eq!(state["agents"][0]["state"], "READY", "{state}");
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}
