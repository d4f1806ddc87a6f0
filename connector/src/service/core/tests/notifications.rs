//! Notification sessions and updates.

use driver::protocol::{AgentState, Message};

use super::super::{Notification, RestCall, SessionId};
use super::*;
use crate::xml::ApiError;

#[test]
fn a_user_update_is_an_agent_event_to_the_owning_driver_queue() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.notify(
        "1001",
        Notification::Update(user_update("1001", "READY", Some("s9"))),
    );
    let sent = h.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, DRIVER);
    assert_eq!(agent_state_of(&sent[0].1), Some(AgentState::Ready));
    assert_eq!(
        sent[0].2.as_deref(),
        Some("s9"),
        "answers the request it echoes"
    );
    assert_eq!(h.core.agent_views()[0].state, "READY");
}

#[test]
fn dialog_updates_are_dialog_events_and_delete_ends_the_call() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.notify(
        "1001",
        Notification::Update(Update::Dialogs {
            event: "POST".into(),
            dialogs: vec![dialog("7", "ALERTING", "5001")],
            request_id: None,
        }),
    );
    assert_eq!(h.core.call_views().len(), 1);
    h.notify(
        "1001",
        Notification::Update(Update::Dialogs {
            event: "DELETE".into(),
            dialogs: vec![dialog("7", "ACTIVE", "5001")],
            request_id: None,
        }),
    );
    let sent = h.take();
    assert_eq!(sent.len(), 2);
    let infos: Vec<_> = sent
        .iter()
        .map(|(_, m, _)| match m {
            Message::Dialog(d) => (d.id.clone(), d.agent_state.clone(), d.ended),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        infos,
        vec![
            ("7".to_string(), "ALERTING".to_string(), false),
            ("7".to_string(), "ACTIVE".to_string(), true),
        ]
    );
    assert!(
        h.core.call_views().is_empty(),
        "the ended call left the console"
    );
}

#[test]
fn a_dialog_update_without_an_id_is_ignored() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.notify(
        "1001",
        Notification::Update(Update::Dialogs {
            event: "PUT".into(),
            dialogs: vec![dialog("", "ACTIVE", "5001")],
            request_id: None,
        }),
    );
    assert!(h.take().is_empty());
}

#[test]
fn an_api_errors_update_is_an_error_event() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.notify(
        "1001",
        Notification::Update(Update::Error {
            error: ApiError {
                error_type: "Invalid State".into(),
                message: "not now".into(),
            },
            request_id: Some("a1".into()),
            dialog: None,
        }),
    );
    let sent = h.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        error_of(&sent[0].1),
        ("InvalidState", "Invalid State: not now")
    );
    assert_eq!(sent[0].2.as_deref(), Some("a1"));
    match &sent[0].1 {
        Message::Error { agent, .. } => assert_eq!(agent.as_deref(), Some("1001")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failed_dialog_is_not_ended_and_stays_until_dropped() {
    let mut h = Harness::new();
    h.logged_in("1001");
    let failed = Element::parse(
        "<Dialog><id>8</id><fromAddress>5001</fromAddress><toAddress>5550000</toAddress>\
<participants><Participant><actions><action>DROP</action></actions><mediaAddress>5001</mediaAddress>\
<state>FAILED</state><stateCause>BUSY</stateCause></Participant></participants><state>FAILED</state></Dialog>",
    )
    .unwrap();
    h.notify(
        "1001",
        Notification::Update(Update::Dialogs {
            event: "PUT".into(),
            dialogs: vec![failed],
            request_id: None,
        }),
    );
    let sent = h.take();
    match &sent[0].1 {
        Message::Dialog(d) => {
            assert_eq!((d.state.as_str(), d.ended), ("FAILED", false));
            assert_eq!(d.state_cause, "BUSY");
            assert_eq!(d.actions, vec!["DROP".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.core.call_views().len(), 1, "a failed call stays listed");
}

#[test]
fn an_async_call_failure_is_a_call_failed_error_in_plain_words() {
    let mut h = Harness::new();
    h.logged_in("1001");
    for error_type in ["Generic Error", "Call Operation Failure"] {
        h.notify(
            "1001",
            Notification::Update(Update::Error {
                error: ApiError {
                    error_type: error_type.into(),
                    message: "CF_INVALID_DESTINATION".into(),
                },
                request_id: Some("m1".into()),
                dialog: Some("16777302".into()),
            }),
        );
        let sent = h.take();
        assert_eq!(
            error_of(&sent[0].1),
            (
                "CallFailed",
                "the number is not valid (CF_INVALID_DESTINATION)"
            )
        );
        assert_eq!(sent[0].2.as_deref(), Some("m1"));
        // The error names the call it is about.
        match &sent[0].1 {
            Message::Error { dialog, .. } => assert_eq!(dialog.as_deref(), Some("16777302")),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn other_updates_are_not_used() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.notify(
        "1001",
        Notification::Update(Update::Other("/finesse/api/SystemInfo".into())),
    );
    assert!(h.take().is_empty());
}

#[test]
fn a_session_that_comes_up_reads_the_agent_again() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.notify("1001", Notification::Lost("connection reset".into()));
    assert!(!h.core.agent_views()[0].notifications);
    h.notify("1001", Notification::Up);
    assert!(matches!(
        h.calls[..],
        [RestCall::User { .. }, RestCall::Dialogs { .. }]
    ));
    let sent = h.take();
    assert!(matches!(sent[0].1, Message::Agent(_)));
    assert!(matches!(sent[1].1, Message::DialogList { .. }));
    assert!(sent.iter().all(|(_, _, re)| re.is_none()));
    assert!(h.core.agent_views()[0].notifications);
}

#[test]
fn updates_during_the_first_read_are_held_and_sent_after_it() {
    let mut h = Harness::new();
    h.connect("1001");
    h.auto = false;
    h.request("l1", login("1001", "pw1001"));
    h.answer_held(); // PUT LOGIN
    h.notify("1001", Notification::Up); // the session's read is held
    h.notify(
        "1001",
        Notification::Update(user_update("1001", "READY", None)),
    );
    assert!(h.take().is_empty(), "held while the agent is read");
    h.answer_all();
    let sent = h.take();
    let summary: Vec<_> = sent
        .iter()
        .map(|(_, m, re)| match m {
            Message::Agent(i) => (format!("Agent {:?}", i.state.unwrap()), re.clone()),
            Message::DialogList { .. } => ("DialogList".to_string(), re.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("Agent NotReady".to_string(), None),
            ("DialogList".to_string(), None),
            ("Agent Ready".to_string(), None),
            // The Login's own read (the fake Finesse still says NOT_READY).
            ("Agent NotReady".to_string(), Some("l1".to_string())),
        ]
    );
}

#[test]
fn a_refused_notification_login_with_unchecked_credentials_is_silent() {
    let mut h = Harness::new();
    h.request(
        "c1",
        Message::Connect {
            agent: "1001".into(),
            reply_to: DRIVER.into(),
            password: Some("stale".into()),
            encrypted: false,
        },
    );
    h.notify("1001", Notification::Refused("not-authorized".into()));
    assert!(h.take().is_empty());
    // A later Connect with another password starts a new session.
    h.request(
        "c2",
        Message::Connect {
            agent: "1001".into(),
            reply_to: DRIVER.into(),
            password: Some("pw1001".into()),
            encrypted: false,
        },
    );
    assert_eq!(h.started.len(), 2);
    assert_eq!(h.started[1].2.password, "pw1001");
}

#[test]
fn a_refused_notification_login_after_a_login_is_unauthorized_once() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.notify("1001", Notification::Lost("stream closed".into()));
    h.notify("1001", Notification::Refused("not-authorized".into()));
    h.notify("1001", Notification::Refused("not-authorized".into()));
    let sent = h.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, DRIVER);
    assert_eq!(
        error_of(&sent[0].1),
        (
            "Unauthorized",
            "Cisco Finesse refused the agent's notification login"
        )
    );
    assert!(sent[0].2.is_none());
}

#[test]
fn a_refused_session_ends_a_logins_wait() {
    let mut h = Harness::new();
    h.connect("1001");
    h.request("l1", login("1001", "pw1001"));
    h.notify("1001", Notification::Refused("not-authorized".into()));
    let sent = h.take();
    assert_eq!(sent.len(), 2);
    assert_eq!(error_of(&sent[0].1).0, "Unauthorized");
    assert_eq!(sent[1].2.as_deref(), Some("l1"));
}

#[test]
fn connect_while_a_session_runs_keeps_it() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.request(
        "c2",
        Message::Connect {
            agent: "1001".into(),
            reply_to: "/queue/siebelcti.driver.other".into(),
            password: Some("pw1001".into()),
            encrypted: false,
        },
    );
    assert!(h.started.is_empty());
    // The newer driver instance takes the agent over; the older one is told.
    let told = h.take();
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].0, DRIVER);
    assert_eq!(error_of(&told[0].1).0, "TakenOver");
    h.notify(
        "1001",
        Notification::Update(user_update("1001", "READY", None)),
    );
    assert_eq!(h.take()[0].0, "/queue/siebelcti.driver.other");
}

#[test]
fn events_of_a_replaced_session_are_ignored() {
    let mut h = Harness::new();
    h.logged_in("1001");
    let old = h.session_of("1001");
    h.request(
        "d1",
        Message::Disconnect {
            agent: "1001".into(),
        },
    );
    h.request(
        "c1",
        Message::Connect {
            agent: "1001".into(),
            reply_to: DRIVER.into(),
            password: Some("pw1001".into()),
            encrypted: false,
        },
    );
    let new = h.session_of("1001");
    assert_ne!(old, new);
    h.clear();
    h.core.notification(
        h.now,
        "1001",
        old,
        Notification::Update(user_update("1001", "READY", None)),
    );
    h.core
        .notification(h.now, "1001", SessionId(9999), Notification::Up);
    h.run();
    assert!(h.take().is_empty());
    assert!(h.calls.is_empty());
}

#[test]
fn sessions_wait_for_the_xmpp_domain_of_the_first_system_info() {
    let now = driver::clock::Now::read();
    let mut core = Core::new(config(), now);
    core.request(
        now,
        DRIVER.into(),
        driver::protocol::Envelope::new(
            "c1",
            Message::Connect {
                agent: "1001".into(),
                reply_to: DRIVER.into(),
                password: Some("pw1001".into()),
                encrypted: false,
            },
        ),
    );
    assert!(core.drain().is_empty(), "no domain yet: no session");
    core.tick(now);
    let outs = core.drain();
    let Some(Output::Rest { ticket, call }) = outs.first() else {
        panic!("{outs:?}")
    };
    assert!(matches!(call, RestCall::SystemInfo { .. }));
    let answer = FakeFinesse::new().answer(call);
    core.rest_answer(now, *ticket, answer);
    let outs = core.drain();
    assert!(
        outs.iter()
            .any(|o| matches!(o, Output::StartNotifications { agent, .. } if agent == "1001")),
        "{outs:?}"
    );
}

/// A User update stamped by its node at `at` (Finesse's `stateChangeTime`).
fn user_update_at(state: &str, at: &str, request_id: &str) -> Update {
    match user_update("1001", state, Some(request_id)) {
        Update::User {
            mut info,
            request_id,
        } => {
            info.state_change_time = Some(at.into());
            Update::User { info, request_id }
        }
        other => other,
    }
}

#[test]
fn an_older_state_report_of_the_same_node_never_turns_the_agent_back() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.take();
    h.notify(
        "1001",
        Notification::Update(user_update_at("READY", "2026-11-27T16:06:38.520Z", "r2")),
    );
    // The notification of the login (older) arrives late, e.g. held during a first read.
    h.notify(
        "1001",
        Notification::Update(user_update_at(
            "NOT_READY",
            "2026-11-27T16:06:38.466Z",
            "r1",
        )),
    );
    let sent = h.take();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(agent_state_of(&sent[0].1), Some(AgentState::Ready));
    assert!(
        matches!(sent[1].1, Message::Accepted {}),
        "the late report only settles its request: {:?}",
        sent[1].1
    );
    assert_eq!(sent[1].2.as_deref(), Some("r1"));
    assert_eq!(h.core.agent_views()[0].state, "READY");
    // A newer report goes as usual.
    h.notify(
        "1001",
        Notification::Update(user_update_at(
            "NOT_READY",
            "2026-11-27T16:06:39.000Z",
            "r3",
        )),
    );
    let sent = h.take();
    assert_eq!(agent_state_of(&sent[0].1), Some(AgentState::NotReady));
}

#[test]
fn agent_reports_say_whether_finesse_places_calls_from_ready() {
    // ctiVersion 23 is UCCE 12.5(1): calls from Ready; 22 (12.0(1)) only from Not Ready.
    for (cti, allowed) in [(Some(23), true), (Some(22), false), (None, false)] {
        let mut h = Harness::new();
        h.fake.cti_version = cti;
        // The next SystemInfo check reads it.
        h.advance(config().poll_every);
        h.logged_in("1001");
        h.notify(
            "1001",
            Notification::Update(user_update("1001", "READY", None)),
        );
        match &h.take()[0].1 {
            Message::Agent(info) => assert_eq!(info.make_call_from_ready, allowed, "{cti:?}"),
            other => panic!("{other:?}"),
        }
    }
}
