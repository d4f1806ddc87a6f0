//! One agent's requests are served in order; different agents do not wait for each other.

use driver::protocol::{AgentState, Message};

use super::super::{Notification, RestCall};
use super::*;

fn set_state(agent: &str, state: AgentState) -> Message {
    Message::SetState {
        agent: agent.into(),
        state,
        reason: None,
    }
}

#[test]
fn a_request_waits_while_the_agents_login_is_unfinished() {
    let mut h = Harness::new();
    h.auto = false;
    h.request("l1", login("1001", "pw1001"));
    h.request("s1", set_state("1001", AgentState::Ready));
    assert_eq!(h.calls.len(), 1, "only the Login's PUT: {:?}", h.calls);

    h.answer_held(); // PUT LOGIN accepted: the Login now waits for notifications
    assert_eq!(h.calls.len(), 1, "SetState still waits");
    h.notify("1001", Notification::Up);
    h.answer_all();

    let sent = h.take();
    let answers: Vec<_> = sent
        .iter()
        .filter_map(|(_, m, re)| re.clone().map(|re| (re, agent_state_of(m))))
        .collect();
    assert_eq!(
        answers,
        vec![
            ("l1".to_string(), Some(AgentState::NotReady)),
            ("s1".to_string(), Some(AgentState::Ready)),
        ]
    );
    // The SetState's PUT came after every call of the Login.
    let put_ready = h
        .calls
        .iter()
        .position(|c| matches!(c, RestCall::SetState { change, .. } if change.state == "READY"))
        .unwrap();
    assert_eq!(put_ready, h.calls.len() - 2, "{:?}", h.calls);
}

#[test]
fn other_agents_and_hellos_do_not_wait() {
    let mut h = Harness::new();
    h.auto = false;
    h.request("l1", login("1001", "pw1001"));
    h.request("l2", login("1002", "pw1002"));
    assert_eq!(h.calls.len(), 2, "both PUTs at once");
    h.request(
        "h1",
        Message::Hello {
            driver: "d".into(),
            reply_to: DRIVER.into(),
            product: "p".into(),
            host: "siebel1".into(),
        },
    );
    let sent = h.take();
    assert_eq!(sent.len(), 1);
    assert!(matches!(sent[0].1, Message::System { .. }));
}

#[test]
fn answers_of_different_agents_may_come_in_any_order() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.logged_in("1002");
    h.auto = false;
    h.request("s1", set_state("1001", AgentState::Ready));
    h.request("s2", set_state("1002", AgentState::Ready));
    assert_eq!(h.held.len(), 2);
    let first = h.held.remove(0);
    h.held.push(first); // 1002's PUT is answered first
    h.answer_all();
    let order: Vec<_> = h.take().into_iter().filter_map(|(_, _, re)| re).collect();
    assert_eq!(order, vec!["s2".to_string(), "s1".to_string()]);
}

#[test]
fn disconnect_waits_for_the_snapshot_before_it() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.auto = false;
    h.request(
        "n1",
        Message::Snapshot {
            agent: "1001".into(),
        },
    );
    h.request(
        "d1",
        Message::Disconnect {
            agent: "1001".into(),
        },
    );
    assert!(h.stopped.is_empty(), "Disconnect waits");
    h.answer_all();
    let sent = h.take();
    assert_eq!(
        sent.len(),
        2,
        "Agent and DialogList, still routed to the driver"
    );
    assert!(sent.iter().all(|(to, _, _)| to == DRIVER));
    assert_eq!(h.stopped.len(), 1);
}

#[test]
fn requests_behind_a_flow_are_all_served_when_it_ends() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.auto = false;
    h.request("s1", set_state("1001", AgentState::Ready));
    h.request("s2", set_state("1001", AgentState::NotReady));
    h.request(
        "r1",
        Message::GetReasonCodes {
            agent: "1001".into(),
            category: "NOT_READY".into(),
        },
    );
    assert_eq!(h.held.len(), 1);
    h.answer_all();
    let order: Vec<_> = h.take().into_iter().filter_map(|(_, _, re)| re).collect();
    assert_eq!(order, vec!["s1", "s2", "r1"]);
}

#[test]
fn an_answer_for_an_unknown_ticket_is_ignored() {
    let mut h = Harness::new();
    h.core.rest_answer(h.now, Ticket(999), Ok(RestAnswer::Done));
    h.run();
    assert!(h.take().is_empty());
}
