//! High availability: connector heartbeats and their loss, failover to a surviving
//! connector, recovery from `NoSession`, message groups, duplicate client ids and an agent
//! taken over by another Siebel session.

use super::*;

/// A rig with liveness on (3 s), agent 1001 logged in through connector `c1/i1`.
fn live() -> Rig {
    let mut r = Rig::new(&[("Driver:ConnectorTimeoutMs", "3000")]);
    r.link_up();
    r.in_service("c1", "i1");
    r.add(1, &[]);
    r.invoke(1, "login", "LogIn", "", login_params("1001"));
    let req = r.request_id("Login");
    r.deliver_from(
        "c1/i1",
        Message::Agent(agent("1001", AgentState::NotReady)),
        Some(&req),
    );
    r.clear();
    r
}

fn error(code: &str) -> Message {
    Message::Error {
        agent: Some("1001".into()),
        code: code.into(),
        message: "m".into(),
        dialog: None,
    }
}

#[test]
fn a_silent_connector_is_noticed_at_the_timeout_and_the_agent_told_at_once() {
    let mut r = live();
    r.invoke(1, "ready", "ChangeReadyState", "", vec![]);
    r.advance(Duration::from_millis(2_900));
    r.tick();
    assert!(r.errors(1).is_empty(), "not before the timeout");
    assert!(r.s.online());
    r.advance(Duration::from_millis(100));
    r.tick();
    // The pending command fails now, not after the 15 s request timeout.
    assert_eq!(
        r.errors(1),
        [(
            Some("ready".to_string()),
            "CTI is unavailable: the CTI connector stopped answering. Waiting for it to come back..."
                .to_string()
        )]
    );
    assert!(!r.enabled(1, "ChangeReadyState"));
    assert!(!r.enabled(1, "LogOut"));
    r.clear();
    r.invoke(1, "nr", "ChangeNotReadyState", "", vec![]);
    assert_eq!(r.error_code(1), "ConnectorDown");
    assert!(r.sent().is_empty());
    // A connector is back (restarted: a new instance): agents attached, toolbar back.
    r.clear();
    r.in_service("c1", "i2");
    assert!(matches!(
        &r.sent()[..],
        [Message::Connect { password: Some(p), .. }, Message::Snapshot { .. }] if p == "pw"
    ));
    assert_eq!(r.status(1), "CTI is available.");
    assert!(r.enabled(1, "LogOut"));
}

#[test]
fn heartbeats_keep_the_connector_alive_and_liveness_can_be_off() {
    let mut r = live();
    for _ in 0..10 {
        r.advance(Duration::from_secs(1));
        r.in_service("c1", "i1");
        r.tick();
    }
    assert!(r.s.online());
    assert!(
        r.sent().is_empty(),
        "a known instance is not attached again"
    );
    let mut off = Rig::online();
    off.advance(Duration::from_secs(60));
    off.tick();
    assert!(
        off.s.online(),
        "Driver:ConnectorTimeoutMs=0: no liveness check"
    );
}

#[test]
fn when_one_of_two_connectors_dies_its_agents_move_and_requests_in_flight_are_sent_again() {
    let mut r = live();
    r.in_service("c2", "j1");
    r.take_sent();
    r.invoke(1, "ready", "ChangeReadyState", "", vec![]);
    let before = r.sent();
    assert!(matches!(before[..], [Message::SetState { .. }]));
    // c2 keeps beating, c1 falls silent.
    for _ in 0..3 {
        r.advance(Duration::from_secs(1));
        r.in_service("c2", "j1");
        r.tick();
    }
    let req = r.request_id("SetState");
    let sent = r.sent();
    assert!(
        matches!(
            &sent[..],
            [Message::Connect { password: Some(_), .. }, Message::Snapshot { .. }, again]
                if *again == before[0]
        ),
        "{sent:?}"
    );
    assert!(r.errors(1).is_empty(), "the agent is not bothered");
    assert!(r.s.online());
    // Its answer settles the command as usual.
    r.deliver_from(
        "c2/j1",
        Message::Agent(agent("1001", AgentState::Ready)),
        Some(&req),
    );
    assert_eq!(r.events(1), ["EventAgentReady"]);
}

#[test]
fn an_agent_served_by_the_surviving_connector_is_left_alone() {
    let mut r = live();
    r.in_service("c2", "j1");
    r.deliver_from(
        "c2/j1",
        Message::Agent(agent("1001", AgentState::NotReady)),
        None,
    );
    r.take_sent();
    for _ in 0..4 {
        r.advance(Duration::from_secs(1));
        r.in_service("c2", "j1");
        r.tick();
    }
    assert!(r.sent().is_empty());
}

#[test]
fn no_session_at_the_connector_attaches_the_agent_and_retries_once() {
    let mut r = live();
    r.invoke(1, "ready", "ChangeReadyState", "", vec![]);
    let req = r.request_id("SetState");
    r.take_sent();
    r.deliver(error("NoSession"), Some(&req));
    let again = r.request_id("SetState");
    let sent = r.sent();
    assert!(
        matches!(
            &sent[..],
            [
                Message::Connect { password: Some(p), .. },
                Message::Snapshot { .. },
                Message::SetState { state: AgentState::Ready, .. }
            ] if p == "pw"
        ),
        "{sent:?}"
    );
    assert!(r.errors(1).is_empty());
    // The retry fails too: now the agent hears of it.
    r.deliver(error("NoSession"), Some(&again));
    assert!(r.sent().is_empty());
    assert_eq!(r.errors(1).len(), 1);
    assert_eq!(r.error_code(1), "NoSession");
}

#[test]
fn agent_requests_carry_the_agent_as_message_group() {
    let mut r = live();
    r.invoke(1, "ready", "ChangeReadyState", "", vec![]);
    let f = r.frames.iter().rfind(|f| f.command == "SEND").unwrap();
    assert_eq!(f.get("JMSXGroupID"), Some("1001"));
    let mut fresh = Rig::new(&[]);
    fresh.link_up();
    let hello = fresh
        .frames
        .iter()
        .find(|f| f.command == "SEND" && !is_status(f))
        .unwrap();
    assert_eq!(hello.get("JMSXGroupID"), None);
}

fn announces(r: &Rig) -> Vec<(String, String)> {
    r.frames
        .iter()
        .filter(|f| f.command == "SEND" && is_status(f))
        .map(|f| match Envelope::from_json(&f.body).unwrap().msg {
            Message::Announce { driver, nonce } => (driver, nonce),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn a_driver_announces_its_client_id_at_link_up_and_every_5_s() {
    let mut r = Rig::new(&[]);
    r.link_up();
    let nonce = r.s.nonce.clone();
    assert_eq!(announces(&r), [("t".to_string(), nonce.clone())]);
    r.frames.clear();
    r.advance(Duration::from_millis(4_900));
    r.tick();
    assert!(announces(&r).is_empty());
    r.advance(Duration::from_millis(100));
    r.tick();
    assert_eq!(announces(&r), [("t".to_string(), nonce)]);
}

#[test]
fn another_instance_with_our_client_id_stops_both_and_says_why() {
    let mut r = live();
    let own = r.s.nonce.clone();
    r.deliver(
        Message::Announce {
            driver: "t".into(),
            nonce: own,
        },
        None,
    );
    r.deliver(
        Message::Announce {
            driver: "other".into(),
            nonce: "x".into(),
        },
        None,
    );
    assert!(
        r.s.online(),
        "our own announce and other ids change nothing"
    );
    r.deliver(
        Message::Announce {
            driver: "t".into(),
            nonce: "x".into(),
        },
        None,
    );
    let text = "CTI is unavailable: another Siebel server uses the same CTI client id (t). \
                Ask your administrator to give each server its own client id.";
    assert_eq!(r.status(1), text);
    assert!(!r.enabled(1, "LogOut"));
    assert_eq!(announces(&r).len(), 1, "the other one hears of us at once");
    r.clear();
    r.invoke(1, "ready", "ChangeReadyState", "", vec![]);
    assert_eq!(r.error_code(1), "DuplicateClientId");
    assert!(r.sent().is_empty());
    // The other one keeps announcing: still stopped; then it is gone.
    r.advance(Duration::from_secs(5));
    r.deliver(
        Message::Announce {
            driver: "t".into(),
            nonce: "x".into(),
        },
        None,
    );
    r.in_service("c1", "i1");
    r.tick();
    assert!(!r.s.online());
    r.clear();
    for _ in 0..12 {
        r.advance(Duration::from_secs(1));
        r.in_service("c1", "i1");
        r.tick();
    }
    assert!(r.s.online());
    assert_eq!(r.status(1), "CTI is available.");
    assert!(
        r.sent()
            .iter()
            .any(|m| matches!(m, Message::Snapshot { .. })),
        "events may have gone to the other one: the agent is read again"
    );
}

#[test]
fn the_drivers_topic_carries_announces_only_and_from_our_own_login_only() {
    let mut r = Rig::new(&[("Driver:BrokerLogin", "siebel")]);
    r.link_up();
    r.add(1, &[]);
    // The connector's status (stamped with its own user) on the status topic counts.
    r.deliver_frame(
        Frame::new("MESSAGE")
            .header("destination", "/topic/siebelcti.requests.status")
            .header("subscription", "status")
            .header("JMSXUserID", "connector")
            .body(
                Envelope::new(
                    "c-1",
                    Message::System {
                        status: SystemStatus::InService,
                        connector: "c1".into(),
                        detail: String::new(),
                        instance: "i1".into(),
                    },
                )
                .to_json(),
            ),
    );
    assert!(r.s.online(), "the connector's status was not believed");
    let on_drivers_topic = |msg: Message, user: &str| {
        Frame::new("MESSAGE")
            .header("destination", "/topic/siebelcti.requests.drivers")
            .header("subscription", "drivers")
            .header("JMSXUserID", user)
            .body(Envelope::new("x-1", msg).to_json())
    };
    // Any driver may write the drivers' topic: a status there is not a connector's.
    r.deliver_frame(on_drivers_topic(
        Message::System {
            status: SystemStatus::OutOfService,
            connector: "c1".into(),
            detail: "fake".into(),
            instance: "i1".into(),
        },
        "siebel",
    ));
    assert!(r.s.online(), "a System on the drivers' topic was believed");
    // Another login cannot share our queue: its "duplicate" announce is not believed.
    let dup = || Message::Announce {
        driver: "t".into(),
        nonce: "x".into(),
    };
    r.deliver_frame(on_drivers_topic(dup(), "other"));
    assert!(r.s.online(), "another login's announce stopped us");
    r.deliver_frame(on_drivers_topic(dup(), "siebel"));
    assert!(!r.s.online(), "our own login's duplicate counts");
}

#[test]
fn an_agent_taken_over_by_another_session_is_let_go_without_disturbing_it() {
    let mut r = Rig::logged_in(&[("Driver:ForceLogoutOnRelease", "TRUE")]);
    r.deliver(
        Message::Dialog(Box::new(dialog("1001", "d1", "ACTIVE"))),
        None,
    );
    assert_eq!(r.work_items(1), ["d1"]);
    r.clear();
    r.deliver(error("TakenOver"), None);
    assert!(r.calls(1).contains(&Call::Released("d1".into(), T0)));
    assert!(r.work_items(1).is_empty());
    assert_eq!(
        r.status(1),
        "Agent 1001 is now used in another Siebel session; this one has let it go. \
         Log in again here to take it back."
    );
    assert!(r.enabled(1, "LogIn"));
    // Its events no longer reach this session, and ending it sends nothing for the agent.
    r.clear();
    r.deliver(Message::Agent(agent("1001", AgentState::Ready)), None);
    assert!(r.events(1).is_empty());
    r.command(Cmd::Remove { id: 1 });
    assert!(r.sent().is_empty(), "no Logout, no Disconnect");
}

#[test]
fn out_of_service_of_one_of_two_connectors_moves_its_agents() {
    let mut r = live();
    r.in_service("c2", "j1");
    r.take_sent();
    r.system(SystemStatus::OutOfService, "c1", "i1", "stopping");
    assert!(r.s.online());
    assert!(matches!(
        &r.sent()[..],
        [Message::Connect { .. }, Message::Snapshot { .. }]
    ));
    assert!(!r.statuses(1).iter().any(|s| s.contains("out of service")));
}

#[test]
fn a_connector_heard_only_through_its_messages_is_watched_too() {
    // In active-active the connector serving an agent may die before its first heartbeat
    // reached this driver: its messages count as signs of life.
    let mut r = live();
    r.deliver_from(
        "c2/j1",
        Message::Agent(agent("1001", AgentState::Ready)),
        None,
    );
    r.take_sent();
    for _ in 0..3 {
        r.advance(Duration::from_secs(1));
        r.in_service("c1", "i1");
        r.tick();
    }
    assert!(matches!(
        &r.sent()[..],
        [Message::Connect { .. }, Message::Snapshot { .. }]
    ));
    assert!(r.s.online());
}

#[test]
fn a_standby_taking_over_gets_the_agents_at_once_and_later_the_requests_lost_with_the_active() {
    let mut r = live();
    r.invoke(1, "ready", "ChangeReadyState", "", vec![]);
    let lost = r.sent();
    // The active dies; ~1 s later the standby announces itself: agents attached at once.
    r.advance(Duration::from_secs(1));
    r.in_service("c2", "j1");
    assert!(matches!(
        &r.sent()[..],
        [Message::Connect { .. }, Message::Snapshot { .. }]
    ));
    r.deliver_from(
        "c2/j1",
        Message::Agent(agent("1001", AgentState::NotReady)),
        None,
    );
    // The active's heartbeat is missing: the request it took is sent again.
    for _ in 0..2 {
        r.advance(Duration::from_secs(1));
        r.in_service("c2", "j1");
        r.tick();
    }
    let sent = r.sent();
    assert_eq!(sent.last(), lost.last(), "{sent:?}");
    assert!(r.errors(1).is_empty());
}

#[test]
fn a_connector_is_not_judged_silent_while_received_messages_wait_to_be_handled() {
    let mut r = live();
    r.advance(Duration::from_secs(5));
    // A burst: the link still holds bytes it has not handled; the heartbeat may be in them.
    let mut out = Outbox::with_backlog(true, true);
    r.s.on_tick(r.now, &mut out);
    r.collect(out);
    assert!(r.s.online(), "not gone while its messages wait unread");
    assert!(r.errors(1).is_empty());
    // The backlog held its heartbeat: alive.
    r.in_service("c1", "i1");
    r.tick();
    assert!(r.s.online());
    // Everything handled, then silent for the timeout: gone.
    r.advance(Duration::from_secs(3));
    r.tick();
    assert!(!r.s.online());
    assert!(!r.enabled(1, "LogOut"));
}
