//! Spoofed requests for an agent whose session the connector holds do nothing.

use super::*;

const ATTACKER: &str = "/queue/attacker";

fn spoof(h: &mut Harness, msg: Message, proof: Option<String>) {
    let mut env = Envelope::new("x1", msg);
    env.proof = proof;
    h.request_from(ATTACKER, env);
}

fn owner(h: &Harness) -> String {
    h.core.agent_views()[0].driver.clone()
}

#[test]
fn requests_without_the_proof_do_nothing() {
    let mut h = Harness::new();
    h.logged_in("1001");
    let wrong = driver::protocol::agent_proof("1001", "guess");
    for proof in [None, Some(wrong), Some("x".repeat(64))] {
        spoof(
            &mut h,
            set_state("1001", AgentState::NotReady),
            proof.clone(),
        );
        spoof(
            &mut h,
            Message::Connect {
                agent: "1001".into(),
                reply_to: ATTACKER.into(),
                password: None,
                encrypted: false,
            },
            proof.clone(),
        );
        spoof(
            &mut h,
            Message::Disconnect {
                agent: "1001".into(),
            },
            proof,
        );
    }
    assert!(h.calls.is_empty(), "nothing reached Finesse: {:?}", h.calls);
    assert!(h.take().is_empty(), "nothing answered");
    assert!(h.stopped.is_empty(), "the notification session stays");
    assert_eq!(owner(&h), DRIVER, "the agent's events stay with its driver");
    // The real driver's requests are served.
    h.request("s1", set_state("1001", AgentState::Ready));
    assert!(
        matches!(&h.calls[0], RestCall::SetState { change, .. } if change.state == "READY"),
        "{:?}",
        h.calls
    );
}

#[test]
fn a_connect_with_another_password_does_nothing() {
    let mut h = Harness::new();
    h.logged_in("1001");
    spoof(
        &mut h,
        Message::Connect {
            agent: "1001".into(),
            reply_to: ATTACKER.into(),
            password: Some("guess".into()),
            encrypted: false,
        },
        None,
    );
    assert!(h.take().is_empty(), "no TakenOver, nothing answered");
    assert_eq!(owner(&h), DRIVER);
    assert!(h.started.is_empty(), "no new notification session");
}

#[test]
fn a_spoofed_login_answers_only_its_sender() {
    let mut h = Harness::new();
    h.logged_in("1001");
    spoof(&mut h, login("1001", "guess"), None);
    let sent = h.take();
    assert!(
        sent.iter().all(|m| m.0 == ATTACKER),
        "the agent's driver saw nothing: {sent:?}"
    );
    assert_eq!(owner(&h), DRIVER);
}

#[test]
fn a_spoof_queued_behind_a_login_is_checked_when_served() {
    let mut h = Harness::new();
    h.auto = false;
    h.connect("1001");
    h.request("l1", login("1001", "pw1001"));
    // Queued while the Login waits for Finesse: no session is held yet.
    spoof(&mut h, set_state("1001", AgentState::Ready), None);
    h.auto = true;
    h.answer_all();
    h.notify("1001", Notification::Up);
    assert!(
        !h.calls
            .iter()
            .any(|c| matches!(c, RestCall::SetState { change, .. } if change.state == "READY")),
        "{:?}",
        h.calls
    );
}
