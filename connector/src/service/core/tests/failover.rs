//! SystemInfo checks and node failover.

use std::time::Duration;

use driver::protocol::{Message, SystemStatus};

use super::super::{Notification, RestCall};
use super::*;

fn system_info_nodes(calls: &[RestCall]) -> Vec<&str> {
    calls
        .iter()
        .filter_map(|c| match c {
            RestCall::SystemInfo { node, .. } => Some(node.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_first_check_finds_the_primary_and_broadcasts_in_service() {
    let now = driver::clock::Now::read();
    let mut core = Core::new(config(), now);
    assert_eq!(
        status_of(&core.system_envelope()).0,
        SystemStatus::OutOfService
    );
    core.link_up(now);
    core.drain();
    core.tick(now);
    let outs = core.drain();
    let [Output::Rest { ticket, call }] = &outs[..] else {
        panic!("{outs:?}")
    };
    assert_eq!(
        call,
        &RestCall::SystemInfo {
            node: NODE_A.into(),
            creds: None
        }
    );
    let answer = FakeFinesse::new().answer(call);
    core.rest_answer(now, *ticket, answer);
    let outs = core.drain();
    let [Output::Broadcast(env)] = &outs[..] else {
        panic!("{outs:?}")
    };
    assert_eq!(
        status_of(env),
        (
            SystemStatus::InService,
            format!("Finesse {NODE_A} in service")
        )
    );
    assert_eq!(
        status_of(&core.system_envelope()).0,
        SystemStatus::InService
    );
}

#[test]
fn checks_run_every_poll_interval_without_broadcasts_while_nothing_changes() {
    let mut h = Harness::new();
    h.advance(POLL - Duration::from_millis(1));
    assert!(h.calls.is_empty());
    h.advance(Duration::from_millis(1));
    assert_eq!(system_info_nodes(&h.calls), vec![NODE_A]);
    h.advance(POLL);
    assert_eq!(system_info_nodes(&h.calls), vec![NODE_A, NODE_A]);
    assert!(h.broadcasts.is_empty());
}

#[test]
fn primary_down_switches_to_the_secondary_once_and_rereads_owned_agents() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.logged_in("1002");
    h.request(
        "d2",
        Message::Disconnect {
            agent: "1002".into(),
        },
    );
    h.clear();
    h.fake.nodes.remove(NODE_A);
    h.advance(POLL);
    assert_eq!(system_info_nodes(&h.calls), vec![NODE_A, NODE_B]);
    assert_eq!(h.broadcasts.len(), 1);
    assert_eq!(
        status_of(&h.broadcasts[0]),
        (
            SystemStatus::InService,
            format!("Finesse {NODE_B} in service")
        )
    );
    // Only the agent a driver owns is read again, from the new node.
    let reads: Vec<_> = h
        .calls
        .iter()
        .filter_map(|c| match c {
            RestCall::User { node, agent, .. } => Some((node.as_str(), agent.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(reads, vec![(NODE_B, "1001")]);
    let sent = h.take();
    assert!(matches!(sent[0].1, Message::Agent(_)));
    assert!(matches!(sent[1].1, Message::DialogList { .. }));
    // Its notification session moves to the new node.
    assert_eq!(h.started.len(), 1);
    assert_eq!(h.started[0].0, "1001");
    assert_eq!(h.started[0].3.node, NODE_B);
    // Requests now go to the secondary.
    h.clear();
    h.request(
        "s1",
        Message::SetState {
            agent: "1001".into(),
            state: driver::protocol::AgentState::Ready,
            reason: None,
        },
    );
    assert!(matches!(&h.calls[0], RestCall::SetState { node, .. } if node == NODE_B));
    // The next check asks the secondary first; nothing changes, nothing is broadcast.
    h.clear();
    h.advance(POLL);
    assert_eq!(system_info_nodes(&h.calls), vec![NODE_B]);
    assert!(h.broadcasts.is_empty());
}

#[test]
fn both_nodes_down_is_out_of_service_once_with_the_reason_then_back() {
    let mut h = Harness::new();
    h.fake.nodes.clear();
    h.advance(POLL);
    assert_eq!(system_info_nodes(&h.calls), vec![NODE_A, NODE_B]);
    assert_eq!(h.broadcasts.len(), 1);
    let (status, detail) = status_of(&h.broadcasts[0]);
    assert_eq!(status, SystemStatus::OutOfService);
    assert_eq!(
        detail,
        format!("Finesse {NODE_B}: Cisco Finesse is unavailable (connection refused ({NODE_B}))")
    );
    h.clear();
    h.advance(POLL);
    assert!(h.broadcasts.is_empty(), "still down: no second broadcast");
    h.fake.nodes.insert(NODE_A.into(), "IN_SERVICE".into());
    h.advance(POLL);
    assert_eq!(h.broadcasts.len(), 1);
    assert_eq!(
        status_of(&h.broadcasts[0]),
        (
            SystemStatus::InService,
            format!("Finesse {NODE_A} in service")
        )
    );
}

#[test]
fn a_node_not_in_service_is_skipped_and_named() {
    let mut h = Harness::new();
    h.fake.nodes.insert(NODE_A.into(), "OUT_OF_SERVICE".into());
    h.fake.nodes.insert(NODE_B.into(), "OUT_OF_SERVICE".into());
    h.advance(POLL);
    let (status, detail) = status_of(&h.broadcasts[0]);
    assert_eq!(status, SystemStatus::OutOfService);
    assert_eq!(detail, format!("Finesse {NODE_B} is OUT_OF_SERVICE"));
}

#[test]
fn a_node_in_partial_service_is_not_used() {
    // Cisco: a node in PARTIAL_SERVICE answers 503 to every request; only IN_SERVICE serves.
    let mut h = Harness::new();
    h.fake.nodes.insert(NODE_A.into(), "PARTIAL_SERVICE".into());
    h.advance(POLL);
    let (status, _) = status_of(&h.broadcasts[0]);
    assert_eq!(status, SystemStatus::InService);
    let nodes = system_info_nodes(&h.calls);
    assert_eq!(nodes, vec![NODE_A, NODE_B], "the secondary serves");
    h.fake.nodes.insert(NODE_B.into(), "PARTIAL_SERVICE".into());
    h.advance(POLL);
    h.advance(POLL);
    let (status, detail) = status_of(h.broadcasts.last().unwrap());
    assert_eq!(status, SystemStatus::OutOfService);
    assert!(detail.contains("PARTIAL_SERVICE"), "{detail}");
}

#[test]
fn the_primary_is_used_again_when_the_secondary_fails() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.fake.nodes.remove(NODE_A);
    h.advance(POLL);
    h.fake.nodes.insert(NODE_A.into(), "IN_SERVICE".into());
    h.fake.nodes.remove(NODE_B);
    h.clear();
    h.advance(POLL);
    assert_eq!(system_info_nodes(&h.calls), vec![NODE_B, NODE_A]);
    assert_eq!(h.broadcasts.len(), 1);
    assert_eq!(h.started.len(), 1);
    assert_eq!(h.started[0].3.node, NODE_A);
    assert!(h
        .calls
        .iter()
        .any(|c| matches!(c, RestCall::User { node, .. } if node == NODE_A)));
}

#[test]
fn the_admin_account_is_used_for_system_info() {
    let mut cfg = config();
    cfg.admin = Some(Credentials {
        user: "admin".into(),
        password: "admin-pw".into(),
    });
    let mut h = Harness::with_config(cfg);
    h.advance(POLL);
    match &h.calls[0] {
        RestCall::SystemInfo { creds, .. } => {
            assert_eq!(creds.as_ref().map(|c| c.user.as_str()), Some("admin"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn stopping_broadcasts_out_of_service_stops_sessions_and_checks() {
    let mut h = Harness::new();
    h.logged_in("1001");
    let session = h.session_of("1001");
    h.auto = false;
    h.advance(POLL); // a check is under way when the connector stops
    h.core.stop();
    h.run();
    assert_eq!(h.broadcasts.len(), 1);
    assert_eq!(
        status_of(&h.broadcasts[0]),
        (
            SystemStatus::OutOfService,
            "the connector is stopping".to_string()
        )
    );
    assert_eq!(h.stopped, vec![("1001".to_string(), session)]);
    h.answer_all();
    h.advance(POLL * 3);
    assert_eq!(h.broadcasts.len(), 1, "a late answer changes nothing");
    assert_eq!(
        system_info_nodes(&h.calls).len(),
        1,
        "no check after stopping"
    );
    // No session starts any more.
    h.request(
        "c1",
        Message::Connect {
            agent: "1002".into(),
            reply_to: DRIVER.into(),
            password: Some("pw1002".into()),
            encrypted: false,
        },
    );
    assert!(h.started.is_empty());
}

#[test]
fn the_finesse_user_unavailable_takes_the_node_out_at_once_until_it_is_back_and_checked() {
    let mut cfg = config();
    cfg.nodes.truncate(1);
    let mut h = Harness::with_config(cfg);
    h.logged_in("1001");
    h.advance(POLL / 2);
    h.notify("1001", Notification::FinessePresence(false));
    // Out of service at once, without a check: Cisco's "finesse user UNAVAILABLE".
    assert_eq!(h.broadcasts.len(), 1);
    let reason = format!("Finesse {NODE_A} is down (its finesse XMPP user is unavailable)");
    assert_eq!(
        status_of(&h.broadcasts[0]),
        (SystemStatus::OutOfService, reason.clone())
    );
    assert!(system_info_nodes(&h.calls).is_empty());
    // The node is not asked while its finesse user stays unavailable, whatever it answers.
    h.clear();
    h.advance(POLL * 2);
    assert!(system_info_nodes(&h.calls).is_empty());
    assert!(h.broadcasts.is_empty());
    h.notify("1001", Notification::FinessePresence(false));
    assert!(h.broadcasts.is_empty(), "no news: nothing broadcast");
    // Back: SystemInfo is asked at once and confirms it.
    h.notify("1001", Notification::FinessePresence(true));
    assert_eq!(system_info_nodes(&h.calls), vec![NODE_A]);
    assert_eq!(
        status_of(&h.broadcasts[0]),
        (
            SystemStatus::InService,
            format!("Finesse {NODE_A} in service")
        )
    );
}

#[test]
fn the_finesse_user_unavailable_on_the_primary_fails_over_to_the_secondary_at_once() {
    let mut h = Harness::new();
    h.logged_in("1001");
    let old = h.session_of("1001");
    h.notify("1001", Notification::FinessePresence(false));
    // Only the secondary is asked: the primary waits for its finesse user.
    assert_eq!(system_info_nodes(&h.calls), vec![NODE_B]);
    assert_eq!(h.broadcasts.len(), 2);
    assert_eq!(status_of(&h.broadcasts[0]).0, SystemStatus::OutOfService);
    assert_eq!(
        status_of(&h.broadcasts[1]),
        (
            SystemStatus::InService,
            format!("Finesse {NODE_B} in service")
        )
    );
    assert_eq!(h.started.len(), 1);
    assert_eq!(h.started[0].3.node, NODE_B);
    // A late report of the old session changes nothing (its session was replaced).
    h.clear();
    h.core
        .notification(h.now, "1001", old, Notification::FinessePresence(true));
    h.run();
    assert!(h.calls.is_empty() && h.broadcasts.is_empty());
}
