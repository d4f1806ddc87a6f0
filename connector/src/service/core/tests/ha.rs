//! High availability in the core: the standby that serves only once it holds the queue,
//! heartbeats, an agent taken over by a newer driver instance, forced logouts.

use std::time::Duration;

use driver::protocol::{AgentState, Message, SystemStatus};

use super::super::RestCall;
use super::*;

fn exclusive() -> Harness {
    let mut cfg = config();
    cfg.exclusive = true;
    cfg.heartbeat_every = Duration::from_secs(1);
    Harness::with_config(cfg)
}

fn probes(h: &mut Harness) -> usize {
    h.take()
        .into_iter()
        .filter(|(to, m, _)| {
            to == "/queue/siebelcti.requests"
                && matches!(m, Message::Probe { instance } if instance == "conn-1")
        })
        .count()
}

#[test]
fn a_standby_is_silent_and_probes_until_it_holds_the_queue_then_announces_itself() {
    let mut h = exclusive();
    assert!(!h.core.serving());
    for _ in 0..3 {
        h.advance(Duration::from_secs(1));
    }
    assert!(
        h.broadcasts.is_empty(),
        "a standby does not announce itself"
    );
    assert_eq!(probes(&mut h), 3, "one probe a second");
    // The broker hands it the queue: its own probe (or any request) arrives.
    h.core.request(
        h.now,
        String::new(),
        Envelope::new(
            "p",
            Message::Probe {
                instance: "conn-1".into(),
            },
        ),
    );
    h.run();
    assert!(h.core.serving());
    assert_eq!(h.broadcasts.len(), 1);
    assert_eq!(status_of(&h.broadcasts[0]).0, SystemStatus::InService);
    assert!(h.take().is_empty(), "a probe is not answered");
    // From now on: heartbeats, no probes.
    h.clear();
    for _ in 0..3 {
        h.advance(Duration::from_secs(1));
    }
    assert_eq!(h.broadcasts.len(), 3);
    assert_eq!(probes(&mut h), 0);
    // A new broker session: standby again until the broker says otherwise.
    h.core.link_down();
    h.core.link_up(h.now);
    h.clear();
    h.advance(Duration::from_secs(1));
    assert!(!h.core.serving());
    assert!(h.broadcasts.is_empty());
}

#[test]
fn a_shared_consumer_serves_at_once_and_beats_every_interval() {
    let mut cfg = config();
    cfg.heartbeat_every = Duration::from_millis(1000);
    let mut h = Harness::with_config(cfg);
    assert!(h.core.serving());
    h.advance(Duration::from_millis(999));
    assert!(h.broadcasts.is_empty());
    h.advance(Duration::from_millis(1));
    assert_eq!(h.broadcasts.len(), 1);
    assert_eq!(status_of(&h.broadcasts[0]).0, SystemStatus::InService);
    // Stopping: the last word is OUT_OF_SERVICE, then silence.
    h.core.stop();
    h.run();
    assert_eq!(
        status_of(h.broadcasts.last().unwrap()).0,
        SystemStatus::OutOfService
    );
    let n = h.broadcasts.len();
    h.advance(Duration::from_secs(3));
    assert_eq!(h.broadcasts.len(), n);
}

fn connect_from(h: &mut Harness, id: &str, queue: &str) {
    h.core.request(
        h.now,
        queue.into(),
        Envelope::new(
            id,
            Message::Connect {
                agent: "1001".into(),
                reply_to: queue.into(),
                password: Some("pw1001".into()),
                encrypted: false,
            },
        ),
    );
    h.run();
}

#[test]
fn a_newer_driver_instance_takes_the_agent_over_and_the_older_cannot_disturb_it() {
    const OTHER: &str = "/queue/siebelcti.driver.other";
    let mut h = Harness::new();
    h.logged_in("1001");
    connect_from(&mut h, "c2", OTHER);
    let told = h.take();
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].0, DRIVER);
    assert_eq!(error_of(&told[0].1).0, "TakenOver");
    // The older instance's session ends: its Disconnect changes nothing.
    h.request(
        "d1",
        Message::Disconnect {
            agent: "1001".into(),
        },
    );
    assert!(h.stopped.is_empty(), "the notification session stays");
    h.notify(
        "1001",
        Notification::Update(user_update("1001", "READY", None)),
    );
    assert_eq!(h.take()[0].0, OTHER);
    // The same instance connecting again is no takeover.
    connect_from(&mut h, "c3", OTHER);
    assert!(h.take().is_empty());
    // The owner's Disconnect stops it.
    let mut env = Envelope::new(
        "d2",
        Message::Disconnect {
            agent: "1001".into(),
        },
    );
    env.proof = Some(driver::protocol::agent_proof("1001", "pw1001"));
    h.request_from(OTHER, env);
    assert_eq!(h.stopped.len(), 1);
}

fn force_logout(h: &mut Harness) {
    h.request(
        "fo",
        Message::Logout {
            agent: "1001".into(),
            reason: None,
            force: true,
        },
    );
    h.request(
        "dc",
        Message::Disconnect {
            agent: "1001".into(),
        },
    );
}

fn states_put(h: &Harness) -> Vec<String> {
    h.calls
        .iter()
        .filter_map(|c| match c {
            RestCall::SetState { change, .. } => Some(change.state.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_forced_logout_from_ready_goes_through_not_ready() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.request("r", set_state("1001", AgentState::Ready));
    h.clear();
    force_logout(&mut h);
    for _ in 0..3 {
        h.advance(Duration::from_millis(50));
    }
    assert_eq!(states_put(&h), ["NOT_READY", "LOGOUT"]);
    assert_eq!(h.fake.users["1001"].state, AgentState::Logout);
    // Done: the session the Disconnect left running for it stops now.
    assert_eq!(h.stopped.len(), 1);
    h.clear();
    h.advance(Duration::from_secs(1));
    assert!(h.calls.is_empty(), "nothing more");
}

#[test]
fn a_forced_logout_during_a_call_waits_for_its_end() {
    let mut h = Harness::new();
    h.logged_in("1001");
    let u = h.fake.users.get_mut("1001").unwrap();
    u.dialogs = vec![dialog("7", "ACTIVE", "5001")];
    u.state = AgentState::Talking;
    let call = |event: &str| {
        Notification::Update(Update::Dialogs {
            event: event.into(),
            dialogs: vec![dialog("7", "ACTIVE", "5001")],
            request_id: None,
        })
    };
    h.notify("1001", call("POST"));
    h.notify(
        "1001",
        Notification::Update(user_update("1001", "TALKING", None)),
    );
    h.clear();
    force_logout(&mut h);
    for _ in 0..5 {
        h.advance(Duration::from_millis(50));
    }
    assert_eq!(
        states_put(&h),
        ["NOT_READY"],
        "Not Ready pending, no Logout yet"
    );
    assert_eq!(h.fake.users["1001"].pending, Some(AgentState::NotReady));
    assert!(
        h.stopped.is_empty(),
        "notifications kept to see the call end"
    );
    // The customer hangs up: Finesse applies the pending Not Ready.
    let u = h.fake.users.get_mut("1001").unwrap();
    u.dialogs.clear();
    u.state = AgentState::NotReady;
    u.pending = None;
    h.notify("1001", call("DELETE"));
    h.notify(
        "1001",
        Notification::Update(user_update("1001", "NOT_READY", None)),
    );
    for _ in 0..3 {
        h.advance(Duration::from_millis(50));
    }
    assert_eq!(states_put(&h), ["NOT_READY", "LOGOUT"]);
    assert_eq!(h.fake.users["1001"].state, AgentState::Logout);
    assert_eq!(h.stopped.len(), 1);
}

#[test]
fn a_forced_logout_without_a_session_is_refused_like_any_logout() {
    let mut h = Harness::new();
    h.request(
        "fo",
        Message::Logout {
            agent: "1009".into(),
            reason: None,
            force: true,
        },
    );
    let sent = h.take();
    assert_eq!(error_of(&sent[0].1).0, "NoSession");
}

#[test]
fn a_new_session_for_the_agent_stops_a_forced_logout_under_way() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.fake.users.get_mut("1001").unwrap().dialogs = vec![dialog("7", "ACTIVE", "5001")];
    h.notify(
        "1001",
        Notification::Update(user_update("1001", "TALKING", None)),
    );
    force_logout(&mut h);
    h.advance(Duration::from_millis(50));
    // The agent signs on again in Siebel before the call ends.
    h.connect("1001");
    h.fake.users.get_mut("1001").unwrap().dialogs.clear();
    h.notify(
        "1001",
        Notification::Update(user_update("1001", "NOT_READY", None)),
    );
    h.clear();
    for _ in 0..5 {
        h.advance(Duration::from_millis(50));
    }
    assert!(states_put(&h).is_empty(), "{:?}", states_put(&h));
}
