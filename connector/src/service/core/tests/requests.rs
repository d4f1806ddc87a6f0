//! One test (or a few) per request type.

use std::time::Duration;

use driver::protocol::{AgentState, Envelope, Message, SystemStatus};

use super::super::{Notification, RestCall, LOGIN_WAIT};
use super::*;

#[test]
fn hello_is_answered_with_the_status_to_the_queue_in_the_body() {
    let mut h = Harness::new();
    h.request(
        "h1",
        Message::Hello {
            driver: "siebel-a".into(),
            reply_to: "/queue/siebelcti.driver.a".into(),
            product: "test".into(),
            host: "siebel1".into(),
        },
    );
    let sent = h.take();
    assert_eq!(sent.len(), 1);
    let (to, msg, re) = &sent[0];
    assert_eq!(to, "/queue/siebelcti.driver.a");
    assert_eq!(re.as_deref(), Some("h1"));
    match msg {
        Message::System {
            status,
            connector,
            detail,
            instance,
        } => {
            assert_eq!(*status, SystemStatus::InService);
            assert_eq!(connector, "conn");
            assert_eq!(detail, &format!("Finesse {NODE_A} in service"));
            assert_eq!(instance, "conn-1");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        h.core.finesse_status().drivers,
        1,
        "one driver instance seen"
    );
    assert!(h.calls.is_empty(), "Hello needs no REST call");
}

#[test]
fn message_ids_are_the_connector_name_and_a_sequence() {
    let mut h = Harness::new();
    let hello = || Message::Hello {
        driver: "d".into(),
        reply_to: DRIVER.into(),
        product: "p".into(),
        host: "siebel1".into(),
    };
    h.request("h1", hello());
    h.request("h2", hello());
    let ids: Vec<_> = h.sent.iter().map(|(_, e)| e.id.clone()).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.iter().all(|i| i.starts_with("conn-")));
    assert_ne!(ids[0], ids[1]);
}

#[test]
fn connect_with_a_clear_password_routes_events_and_opens_notifications() {
    let mut h = Harness::new();
    h.request(
        "c1",
        Message::Connect {
            agent: "1001".into(),
            reply_to: "/queue/siebelcti.driver.b".into(),
            password: Some("pw1001".into()),
            encrypted: false,
        },
    );
    assert!(h.take().is_empty(), "Connect has no answer");
    assert!(h.calls.is_empty());
    assert_eq!(h.started.len(), 1);
    let (agent, _, creds, target) = &h.started[0];
    assert_eq!(agent, "1001");
    assert_eq!(creds.password, "pw1001");
    assert_eq!(target.node, NODE_A);
    assert_eq!(target.xmpp_domain, "finesse.test");
    assert_eq!(target.pubsub_domain, "pubsub.finesse.test");
    // Events of the agent now go to the Connect's queue.
    h.notify("1001", Notification::Up);
    let sent = h.take();
    assert!(!sent.is_empty());
    assert!(sent
        .iter()
        .all(|(to, _, _)| to == "/queue/siebelcti.driver.b"));
}

#[test]
fn connect_without_a_password_opens_no_session() {
    let mut h = Harness::new();
    h.request(
        "c1",
        Message::Connect {
            agent: "1001".into(),
            reply_to: DRIVER.into(),
            password: None,
            encrypted: false,
        },
    );
    assert!(h.started.is_empty());
    assert!(h.take().is_empty());
}

/// The harness's wall clock, in milliseconds.
const NOW_MS: u64 = 1_800_000_000_000;

fn secure_config() -> (CoreConfig, driver::secure::TripleDes) {
    let mut c = crate::config::ConnectorConfig::default();
    c.security.des_key = "0123456789abcdeffedcba987654321089abcdef01234567".into();
    c.security.des_iv = "1234567890abcdef".into();
    let des = c.triple_des().unwrap().unwrap();
    let mut cfg = config();
    cfg.des = Some(des.clone());
    (cfg, des)
}

#[test]
fn connect_with_an_encrypted_password_decrypts_it() {
    let (cfg, des) = secure_config();
    let mut h = Harness::with_config(cfg);
    h.request(
        "c1",
        Message::Connect {
            agent: "1001".into(),
            reply_to: DRIVER.into(),
            password: Some(des.seal("pw1001", NOW_MS, [3; 8])),
            encrypted: true,
        },
    );
    assert_eq!(h.started.len(), 1);
    assert_eq!(h.started[0].2.password, "pw1001");
}

#[test]
fn an_encrypted_password_without_a_key_or_that_does_not_decrypt_is_a_config_error() {
    let mut h = Harness::new();
    h.request(
        "c1",
        Message::Connect {
            agent: "1001".into(),
            reply_to: DRIVER.into(),
            password: Some("c2VjcmV0".into()),
            encrypted: true,
        },
    );
    let sent = h.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].2.as_deref(), Some("c1"));
    let (code, message) = error_of(&sent[0].1);
    assert_eq!(code, "ConnectorConfig");
    assert!(message.contains("security.des_key"), "{message}");
    assert!(h.started.is_empty());

    let (cfg, _) = secure_config();
    let mut h = Harness::with_config(cfg);
    h.request(
        "l1",
        Message::Login {
            agent: "1001".into(),
            password: "not base64!".into(),
            encrypted: true,
            extension: "5001".into(),
        },
    );
    let sent = h.take();
    assert_eq!(error_of(&sent[0].1).0, "ConnectorConfig");
    assert!(h.calls.is_empty(), "nothing reaches Finesse");
}

#[test]
fn login_with_an_encrypted_password_puts_the_clear_one() {
    let (cfg, des) = secure_config();
    let mut h = Harness::with_config(cfg);
    h.request(
        "l1",
        Message::Login {
            agent: "1001".into(),
            password: des.seal("pw1001", NOW_MS, [3; 8]),
            encrypted: true,
            extension: "5001".into(),
        },
    );
    match &h.calls[0] {
        RestCall::SetState { creds, .. } => assert_eq!(creds.password, "pw1001"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn disconnect_stops_routing_forgets_the_password_and_stops_notifications() {
    let mut h = Harness::new();
    h.logged_in("1001");
    let session = h.session_of("1001");
    h.request(
        "d1",
        Message::Disconnect {
            agent: "1001".into(),
        },
    );
    assert_eq!(h.stopped, vec![("1001".to_string(), session)]);
    assert!(h.take().is_empty());
    // The agent stays listed, with no driver.
    let views = h.core.agent_views();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].driver, "");
    assert!(!views[0].notifications);
    // No password any more: a state change has no session.
    h.request(
        "s1",
        Message::SetState {
            agent: "1001".into(),
            state: AgentState::Ready,
            reason: None,
        },
    );
    let sent = h.take();
    assert_eq!(sent[0].0, DRIVER, "falls back to the request's reply-to");
    assert_eq!(error_of(&sent[0].1).0, "NoSession");
}

#[test]
fn login_puts_login_waits_for_notifications_then_sends_the_agent() {
    let mut h = Harness::new();
    h.connect("1001");
    h.request("l1", login("1001", "pw1001"));
    match &h.calls[..] {
        [RestCall::SetState {
            node,
            agent,
            creds,
            change,
            request_id,
        }] => {
            assert_eq!((node.as_str(), agent.as_str()), (NODE_A, "1001"));
            assert_eq!(creds.password, "pw1001");
            assert_eq!(change.state, "LOGIN");
            assert_eq!(change.extension.as_deref(), Some("5001"));
            assert_eq!(request_id, "l1");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        h.started.len(),
        1,
        "notifications start once the login worked"
    );
    assert!(h.take().is_empty(), "no answer before the session is up");

    h.notify("1001", Notification::Up);
    let sent = h.take();
    // The session's own read first (no `re`), then the answer to the Login.
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(matches!(sent[0].1, Message::Agent(_)) && sent[0].2.is_none());
    assert!(matches!(sent[1].1, Message::DialogList { .. }) && sent[1].2.is_none());
    assert_eq!(agent_state_of(&sent[2].1), Some(AgentState::NotReady));
    assert_eq!(sent[2].2.as_deref(), Some("l1"));
    assert!(h.core.agent_views()[0].notifications);
}

#[test]
fn without_a_connect_a_login_finesse_accepts_binds_the_agent_to_its_sender() {
    let mut h = Harness::new();
    h.request("l1", login("1001", "pw1001"));
    h.notify("1001", Notification::Up);
    let sent = h.take();
    // The session's own read, then the answer to the Login, all to the Login's sender.
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(sent.iter().all(|m| m.0 == DRIVER), "{sent:?}");
    assert_eq!(sent[2].2.as_deref(), Some("l1"));
}

#[test]
fn login_answers_after_three_seconds_without_notifications() {
    let mut h = Harness::new();
    h.request("l1", login("1001", "pw1001"));
    h.advance(LOGIN_WAIT - Duration::from_millis(10));
    assert!(h.take().is_empty());
    h.advance(Duration::from_millis(10));
    let sent = h.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].2.as_deref(), Some("l1"));
    assert_eq!(agent_state_of(&sent[0].1), Some(AgentState::NotReady));
}

#[test]
fn login_with_a_session_already_up_does_not_wait() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.request("l2", login("1001", "pw1001"));
    assert!(h.started.is_empty(), "the running session is kept");
    let sent = h.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].2.as_deref(), Some("l2"));
}

#[test]
fn login_with_a_wrong_password_is_unauthorized() {
    let mut h = Harness::new();
    h.request("l1", login("1001", "wrong"));
    let sent = h.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].2.as_deref(), Some("l1"));
    assert_eq!(
        error_of(&sent[0].1),
        ("Unauthorized", "Invalid agent id or password")
    );
    assert!(h.started.is_empty(), "no session with refused credentials");
}

#[test]
fn login_when_finesse_answers_503_is_finesse_unavailable() {
    let mut h = Harness::new();
    h.fake.fail = Some(RestError::Unavailable(format!("HTTP 503 from {NODE_A}")));
    h.request("l1", login("1001", "pw1001"));
    let sent = h.take();
    let (code, message) = error_of(&sent[0].1);
    assert_eq!(code, "FinesseUnavailable");
    assert!(message.contains("503"), "{message}");
}

#[test]
fn login_while_finesse_is_out_of_service_reaches_no_node() {
    let mut h = Harness::new();
    h.fake.nodes.clear();
    h.advance(POLL);
    h.clear();
    h.request("l1", login("1001", "pw1001"));
    assert!(h.calls.is_empty());
    let sent = h.take();
    let (code, message) = error_of(&sent[0].1);
    assert_eq!(code, "FinesseUnavailable");
    assert!(
        message.starts_with("Cisco Finesse is unavailable (Finesse"),
        "{message}"
    );
}

#[test]
fn set_state_with_a_reason_puts_it_then_sends_the_agent() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.request(
        "s1",
        Message::SetState {
            agent: "1001".into(),
            state: AgentState::NotReady,
            reason: Some("3".into()),
        },
    );
    match &h.calls[0] {
        RestCall::SetState {
            change, request_id, ..
        } => {
            assert_eq!(change.state, "NOT_READY");
            assert_eq!(change.reason_code_id.as_deref(), Some("3"));
            assert_eq!(change.extension, None);
            assert_eq!(request_id, "s1");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(h.calls[1], RestCall::User { .. }));
    let sent = h.take();
    assert_eq!(sent.len(), 1);
    match &sent[0].1 {
        Message::Agent(info) => {
            assert_eq!(info.state, Some(AgentState::NotReady));
            assert_eq!(info.reason_code.as_deref(), Some("3"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sent[0].2.as_deref(), Some("s1"));
}

#[test]
fn set_state_refused_by_finesse_is_an_error_with_its_code() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.fake.fail = Some(RestError::Api {
        status: 400,
        error_type: "Invalid State".into(),
        message: "cannot go READY".into(),
    });
    h.request(
        "s1",
        Message::SetState {
            agent: "1001".into(),
            state: AgentState::Ready,
            reason: None,
        },
    );
    let sent = h.take();
    assert_eq!(
        error_of(&sent[0].1),
        ("InvalidState", "Invalid State: cannot go READY")
    );
}

#[test]
fn set_state_without_a_session_is_no_session() {
    let mut h = Harness::new();
    h.request(
        "s1",
        Message::SetState {
            agent: "1001".into(),
            state: AgentState::Ready,
            reason: None,
        },
    );
    let sent = h.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        error_of(&sent[0].1),
        ("NoSession", NO_SESSION),
        "a state change and a call request say it alike"
    );
    assert!(h.calls.is_empty());
}

#[test]
fn logout_puts_logout_with_the_reason() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.request(
        "o1",
        Message::Logout {
            agent: "1001".into(),
            reason: Some("9".into()),
            force: false,
        },
    );
    match &h.calls[0] {
        RestCall::SetState { change, .. } => {
            assert_eq!(change.state, "LOGOUT");
            assert_eq!(change.reason_code_id.as_deref(), Some("9"));
        }
        other => panic!("{other:?}"),
    }
    let sent = h.take();
    assert_eq!(agent_state_of(&sent[0].1), Some(AgentState::Logout));
    assert_eq!(sent[0].2.as_deref(), Some("o1"));
}

#[test]
fn snapshot_sends_the_agent_then_its_dialogs() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.fake.users.get_mut("1001").unwrap().dialogs = vec![
        dialog("7", "ALERTING", "5001"),
        dialog("", "ACTIVE", "5001"),
    ];
    h.request(
        "n1",
        Message::Snapshot {
            agent: "1001".into(),
        },
    );
    assert!(matches!(
        h.calls[..],
        [RestCall::User { .. }, RestCall::Dialogs { .. }]
    ));
    let sent = h.take();
    assert_eq!(sent.len(), 2);
    assert!(matches!(sent[0].1, Message::Agent(_)));
    match &sent[1].1 {
        Message::DialogList { agent, dialogs } => {
            assert_eq!(agent, "1001");
            assert_eq!(dialogs.len(), 1, "a dialog without an id is dropped");
            assert_eq!(dialogs[0].id, "7");
            assert_eq!(dialogs[0].agent_state, "ALERTING");
            assert_eq!(dialogs[0].actions, vec!["ANSWER".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    assert!(sent.iter().all(|(_, _, re)| re.as_deref() == Some("n1")));
    let calls = h.core.call_views();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0].id.as_str(), calls[0].state.as_str()),
        ("7", "ALERTING")
    );
}

#[test]
fn snapshot_of_an_unknown_agent_without_admin_reads_nothing() {
    let mut h = Harness::new();
    h.request(
        "n1",
        Message::Snapshot {
            agent: "1001".into(),
        },
    );
    assert!(h.calls.is_empty());
    assert!(h.take().is_empty());
}

#[test]
fn snapshot_of_an_agent_without_a_session_uses_the_admin_account() {
    let mut cfg = config();
    cfg.admin = Some(Credentials {
        user: "admin".into(),
        password: "admin-pw".into(),
    });
    let mut h = Harness::with_config(cfg);
    h.request(
        "n1",
        Message::Snapshot {
            agent: "1001".into(),
        },
    );
    match &h.calls[0] {
        RestCall::User { creds, .. } => assert_eq!(creds.user, "admin"),
        other => panic!("{other:?}"),
    }
    let sent = h.take();
    assert_eq!(sent[0].0, DRIVER);
    assert_eq!(agent_state_of(&sent[0].1), Some(AgentState::Logout));
}

#[test]
fn a_failed_snapshot_read_is_only_logged() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.fake.fail = Some(RestError::Unavailable("timeout".into()));
    h.request(
        "n1",
        Message::Snapshot {
            agent: "1001".into(),
        },
    );
    assert!(h.take().is_empty());
}

#[test]
fn an_event_is_not_a_request() {
    let mut h = Harness::new();
    h.request("x1", Message::Accepted {});
    assert!(h.take().is_empty());
    assert!(h.calls.is_empty());
}

#[test]
fn undecodable_requests_are_answered_when_they_name_a_queue() {
    let mut h = Harness::new();
    let e = Envelope::from_json(b"{\"v\":9,\"id\":\"x\"}").unwrap_err();
    h.core.undecodable(DRIVER, &e);
    let e2 = Envelope::from_json(b"not json").unwrap_err();
    h.core.undecodable(DRIVER, &e2);
    h.core.undecodable("", &e2);
    h.run();
    let sent = h.take();
    assert_eq!(sent.len(), 2);
    assert_eq!(error_of(&sent[0].1).0, "UnsupportedVersion");
    assert_eq!(error_of(&sent[1].1).0, "Malformed");
}

#[test]
fn a_replayed_or_stale_secure_password_is_refused() {
    let (cfg, des) = secure_config();
    let mut h = Harness::with_config(cfg);
    let sealed = des.seal("pw1001", NOW_MS, [3; 8]);
    // Each attempt for an agent of its own: one agent's requests wait for its login.
    let login = |agent: &str, password: String| Message::Login {
        agent: agent.into(),
        password,
        encrypted: true,
        extension: "5001".into(),
    };
    h.request("l1", login("1001", sealed.clone()));
    assert_eq!(h.calls.len(), 1, "the first one reaches Finesse");
    h.take();
    h.calls.clear();
    h.request("l2", login("1002", sealed));
    let sent = h.take();
    let (code, message) = error_of(&sent[0].1);
    assert_eq!(code, "ConnectorConfig");
    assert!(message.contains("replay"), "{message}");
    let old = des.seal("pw1001", NOW_MS - 6 * 60 * 1000, [4; 8]);
    h.request("l3", login("1003", old));
    let sent = h.take();
    assert!(error_of(&sent[0].1).1.contains("replay"));
    assert!(h.calls.is_empty(), "nothing more reaches Finesse");
}
