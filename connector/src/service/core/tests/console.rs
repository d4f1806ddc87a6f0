//! What the console reads of the core: driver instances (named by Hello, pruned when gone),
//! the Finesse nodes' checks, standby peers, stale agent rows, events and counters.

use std::time::Duration;

use driver::protocol::Message;

use super::super::record::{DRIVER_TTL, PEER_TTL};
use super::*;

fn hello(h: &mut Harness) {
    h.request(
        "h1",
        Message::Hello {
            driver: "siebel-a".into(),
            reply_to: DRIVER.into(),
            product: "siebel-cti/1".into(),
            host: "siebel1".into(),
        },
    );
}

#[test]
fn driver_instances_show_host_client_id_and_agents_and_go_when_silent_without_agents() {
    let mut h = Harness::new();
    hello(&mut h);
    h.logged_in("1001");
    let view = h.core.console_view();
    let [d] = &view.driver_instances[..] else {
        panic!("{view:?}")
    };
    assert_eq!(
        (d.host.as_str(), d.client_id.as_str()),
        ("siebel1", "siebel-a")
    );
    assert_eq!(d.agents, ["1001"]);
    assert_eq!(d.last_seen, 1_800_000_000);
    let a = &view.agents[0];
    assert_eq!(a.server, "siebel1 (siebel-a)");
    assert_eq!(a.stale, "", "{a:?}");

    // Owning an agent keeps it however silent; once the agent's session ended, silence
    // beyond the TTL removes it and the agent's row says why it may be stale.
    h.advance(DRIVER_TTL + Duration::from_secs(11));
    assert_eq!(h.core.console_view().driver_instances.len(), 1);
    h.request(
        "d1",
        Message::Disconnect {
            agent: "1001".into(),
        },
    );
    h.advance(DRIVER_TTL + Duration::from_secs(11));
    let view = h.core.console_view();
    assert!(view.driver_instances.is_empty(), "{view:?}");
    let a = &view.agents[0];
    assert_eq!(a.server, "");
    assert!(a.stale.contains("no Siebel session"), "{a:?}");
    assert!(view
        .events
        .iter()
        .any(|e| e.text.contains("driver instance") && e.text.contains("gone")));
}

#[test]
fn both_finesse_nodes_are_shown_with_their_last_check() {
    let mut h = Harness::new();
    let nodes = h.core.console_view().nodes;
    assert_eq!(nodes[0].in_service, Some(true));
    assert!(nodes[0].active);
    assert_eq!(
        nodes[1].in_service, None,
        "not asked while the primary serves"
    );
    h.fake.nodes.remove(NODE_A);
    h.advance(POLL);
    let nodes = h.core.console_view().nodes;
    assert_eq!((nodes[0].role, nodes[1].role), ("primary", "secondary"));
    assert_eq!(nodes[0].in_service, Some(false));
    assert!(!nodes[0].active && nodes[1].active);
    assert_eq!(nodes[1].in_service, Some(true));
    assert!(nodes[0].detail.contains(NODE_A), "{:?}", nodes[0]);
}

#[test]
fn a_standby_that_probes_is_listed_until_it_stops() {
    let mut h = Harness::new();
    h.request(
        "p1",
        Message::Probe {
            instance: "conn-2".into(),
        },
    );
    let peers = h.core.console_view().peers;
    assert_eq!(
        peers
            .iter()
            .map(|p| (p.instance.as_str(), p.role, p.this))
            .collect::<Vec<_>>(),
        [("conn-1", "active", true), ("conn-2", "standby", false)]
    );
    h.advance(PEER_TTL + Duration::from_secs(11));
    assert_eq!(h.core.console_view().peers.len(), 1);
}

#[test]
fn agents_by_state_sessions_and_request_outcomes_are_counted() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.request(
        "s1",
        Message::SetState {
            agent: "1001".into(),
            state: AgentState::Ready,
            reason: None,
        },
    );
    h.fake.fail = Some(RestError::Unavailable("down".into()));
    h.request(
        "s2",
        Message::SetState {
            agent: "1001".into(),
            state: AgentState::NotReady,
            reason: None,
        },
    );
    let g = h.core.gauges(true);
    assert_eq!(g.agents_by_state.get("READY"), Some(&1));
    assert_eq!(g.xmpp_sessions_up, 1);
    let c = &h.core.record().counters;
    assert_eq!(c.requests.get(&("Login", "ok")), Some(&1));
    assert_eq!(c.requests.get(&("SetState", "ok")), Some(&1));
    assert_eq!(c.requests.get(&("SetState", "error")), Some(&1));
    assert_eq!(c.broker_links, 1);
    let events = h.core.console_view().events;
    assert!(events[0].text.contains("down"), "newest first: {events:?}");
}

#[test]
fn the_status_topic_names_serving_peers_and_silent_drivers_without_taking_the_queue() {
    let mut cfg = config();
    cfg.exclusive = true;
    let mut h = Harness::with_config(cfg);
    assert!(!h.core.serving());
    let system = |instance: &str| Message::System {
        status: SystemStatus::InService,
        connector: "conn".into(),
        detail: String::new(),
        instance: instance.into(),
    };
    h.request_from("", Envelope::new("s1", system("conn-9")));
    h.request_from("", Envelope::new("s2", system("conn-1")));
    let announce = Message::Announce {
        driver: "siebel-b".into(),
        nonce: "n1".into(),
    };
    h.request_from("", Envelope::new("a1", announce.clone()));
    assert!(!h.core.serving(), "the topic is not the request queue");
    let view = h.core.console_view();
    let peers: Vec<_> = view
        .peers
        .iter()
        .map(|p| (p.instance.as_str(), p.role, p.this))
        .collect();
    assert_eq!(
        peers,
        [("conn-1", "standby", true), ("conn-9", "active", false)]
    );
    let [d] = &view.driver_instances[..] else {
        panic!("{view:?}")
    };
    assert_eq!(d.queue, "/queue/siebelcti.driver.siebel-b");
    assert!(!d.silent);

    // Silent for longer than its announces allow: dropped at the next look (it owns no
    // agent; one that owns agents stays, marked: below).
    h.advance(super::super::record::DRIVER_SILENT - Duration::from_secs(1));
    assert!(!h.core.console_view().driver_instances[0].silent);
    h.advance(Duration::from_secs(10));
    assert!(h.core.console_view().driver_instances.is_empty());
}

#[test]
fn an_agent_of_a_silent_driver_is_marked_stale() {
    let mut h = Harness::new();
    let announce = Message::Announce {
        driver: "test".into(),
        nonce: "n1".into(),
    };
    h.request_from("", Envelope::new("a1", announce.clone()));
    h.logged_in("1001");
    assert_eq!(h.core.console_view().agents[0].stale, "");
    h.advance(super::super::record::DRIVER_SILENT + Duration::from_secs(10));
    let view = h.core.console_view();
    assert!(view.agents[0].stale.contains("silent"), "{view:?}");
    assert!(
        view.driver_instances[0].silent,
        "kept, marked: it owns an agent"
    );
    assert!(view.events.iter().any(|e| e.text.contains("silent")));
    h.request_from("", Envelope::new("a2", announce));
    assert_eq!(h.core.console_view().agents[0].stale, "");
}
