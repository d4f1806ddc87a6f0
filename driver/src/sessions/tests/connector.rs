//! The link and the connector: status texts, Hello, in and out of service, re-attach,
//! requests lost with the link or never answered.

use super::*;

#[test]
fn status_line_follows_the_link_and_the_connector() {
    let mut r = Rig::new(&[]);
    r.add(1, &[]);
    assert_eq!(
        r.status(1),
        "CTI is starting: connecting to the message broker..."
    );
    assert!(!r.enabled(1, "LogIn"));
    r.link_up();
    assert_eq!(
        r.status(1),
        "CTI is unavailable: waiting for the CTI connector to answer."
    );
    assert!(!r.enabled(1, "LogIn"));
    r.in_service("c1", "i1");
    assert_eq!(r.status(1), "CTI is available.");
    assert!(r.enabled(1, "LogIn"));
    r.link_down();
    assert_eq!(
        r.status(1),
        "CTI is unavailable: cannot reach the message broker. Reconnecting..."
    );
    assert!(!r.enabled(1, "LogIn"));
    assert!(
        r.enabled(1, "SetLogLevel"),
        "SetLogLevel acts on the driver itself"
    );
}

#[test]
fn link_up_subscribes_to_the_own_queue_the_status_and_drivers_topics_then_says_hello() {
    let mut r = Rig::new(&[]);
    r.link_up();
    let subs: Vec<(String, String)> = r
        .frames
        .iter()
        .filter(|f| f.command == "SUBSCRIBE")
        .map(|f| {
            (
                f.get("destination").unwrap().to_string(),
                f.get("ack").unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        subs,
        [
            ("/queue/siebelcti.driver.t".to_string(), "auto".to_string()),
            (
                "/topic/siebelcti.requests.status".to_string(),
                "auto".to_string()
            ),
            (
                "/topic/siebelcti.requests.drivers".to_string(),
                "auto".to_string()
            )
        ]
    );
    let send = r.frames.iter().find(|f| f.command == "SEND").unwrap();
    assert_eq!(send.get("destination"), Some("/queue/siebelcti.requests"));
    assert_eq!(send.get("reply-to"), Some("/queue/siebelcti.driver.t"));
    assert_eq!(send.get("correlation-id"), Some("t-1"));
    assert!(send.get("expires").is_some());
    match &r.sent()[..] {
        [Message::Hello {
            driver, reply_to, ..
        }] => {
            assert_eq!(driver, "t");
            assert_eq!(reply_to, "/queue/siebelcti.driver.t");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn hello_is_repeated_every_5_s_until_a_connector_answers() {
    let mut r = Rig::new(&[]);
    r.link_up();
    r.take_sent();
    r.advance(Duration::from_millis(4_900));
    r.tick();
    assert!(r.sent().is_empty(), "not before 5 s");
    r.advance(Duration::from_millis(100));
    r.tick();
    assert!(matches!(r.sent()[..], [Message::Hello { .. }]));
    r.advance(Duration::from_secs(5));
    r.tick();
    assert!(matches!(r.sent()[..], [Message::Hello { .. }]));
    r.in_service("c1", "i1");
    r.take_sent();
    r.advance(Duration::from_secs(30));
    r.tick();
    assert!(r.sent().is_empty(), "a connector answered");
}

#[test]
fn no_hello_while_the_link_is_down() {
    let mut r = Rig::new(&[]);
    r.link_up();
    r.link_down();
    r.take_sent();
    r.advance(Duration::from_secs(10));
    r.tick();
    assert!(r.frames.is_empty());
}

#[test]
fn out_of_service_of_our_connector_disables_the_toolbar_with_the_detail() {
    let mut r = Rig::logged_in(&[]);
    r.system(SystemStatus::OutOfService, "c1", "i1", "Finesse is down");
    assert_eq!(
        r.status(1),
        "CTI is unavailable: the CTI connector is out of service (Finesse is down)."
    );
    assert!(!r.enabled(1, "ChangeReadyState"));
    assert!(!r.enabled(1, "LogOut"));
    r.clear();
    r.invoke(1, "ready", "ChangeReadyState", "", vec![]);
    assert!(r.sent().is_empty());
    assert_eq!(r.error_code(1), "Offline");
    assert_eq!(
        r.errors(1),
        [(
            Some("ready".to_string()),
            "CTI is unavailable right now; try again when it is back.".to_string()
        )]
    );
}

#[test]
fn out_of_service_from_another_connector_instance_is_ignored() {
    let mut r = Rig::logged_in(&[]);
    r.system(
        SystemStatus::OutOfService,
        "c1",
        "i0",
        "old instance says goodbye",
    );
    assert!(r.calls(1).is_empty(), "{:?}", r.calls(1));
    r.invoke(1, "ready", "ChangeReadyState", "", vec![]);
    assert!(matches!(
        r.sent()[..],
        [Message::SetState {
            state: AgentState::Ready,
            ..
        }]
    ));
}

#[test]
fn a_repeated_out_of_service_is_shown_once() {
    let mut r = Rig::new(&[]);
    r.add(1, &[]);
    r.link_up();
    r.system(SystemStatus::OutOfService, "c1", "i1", "no Finesse");
    r.system(SystemStatus::OutOfService, "c1", "i1", "no Finesse");
    let shown = r
        .statuses(1)
        .iter()
        .filter(|t| t.contains("no Finesse"))
        .count();
    assert_eq!(shown, 1);
}

#[test]
fn a_new_connector_instance_gets_connect_with_password_and_snapshot_for_each_agent() {
    let mut r = Rig::logged_in(&[]);
    r.add(2, &[]);
    r.login(2, "1002");
    r.take_sent();
    r.in_service("c1", "i1");
    assert!(r.sent().is_empty(), "same instance: nothing to do");
    r.in_service("c1", "i2");
    let mut sent = r.sent();
    sent.sort_by_key(|m| format!("{m:?}"));
    assert_eq!(sent.len(), 4, "{sent:?}");
    for a in ["1001", "1002"] {
        assert!(sent.contains(&Message::Connect {
            agent: a.into(),
            reply_to: "/queue/siebelcti.driver.t".into(),
            password: Some("pw".into()),
            encrypted: false,
        }));
        assert!(sent.contains(&Message::Snapshot { agent: a.into() }));
    }
}

#[test]
fn after_a_broker_outage_agents_are_attached_again() {
    let mut r = Rig::logged_in(&[]);
    r.link_down();
    r.link_up();
    r.take_sent();
    r.in_service("c1", "i1");
    let sent = r.sent();
    assert!(
        matches!(&sent[..], [Message::Connect { agent, password: Some(_), .. }, Message::Snapshot { .. }] if agent == "1001"),
        "{sent:?}"
    );
    assert_eq!(r.status(1), "CTI is available.");
}

#[test]
fn a_snapshot_that_changes_nothing_raises_no_event() {
    let mut r = Rig::logged_in(&[]);
    r.in_service("c1", "i2");
    let snap = r.request_id("Snapshot");
    r.clear();
    r.deliver(
        Message::Agent(agent("1001", AgentState::NotReady)),
        Some(&snap),
    );
    assert!(r.events(1).is_empty());
    assert!(r.statuses(1).is_empty());
    assert!(
        matches!(r.calls(1)[..], [Call::Toolbar(_)]),
        "{:?}",
        r.calls(1)
    );
}

#[test]
fn a_request_without_answer_fails_after_15_s_and_not_before() {
    let mut r = Rig::logged_in(&[]);
    r.invoke(1, "ready-1", "ChangeReadyState", "", vec![]);
    assert!(!r.enabled(1, "ChangeNotReadyState"), "busy while waiting");
    r.clear();
    r.advance(Duration::from_millis(14_999));
    r.tick();
    assert!(r.calls(1).is_empty());
    r.advance(Duration::from_millis(1));
    r.tick();
    assert_eq!(
        r.errors(1),
        [(
            Some("ready-1".to_string()),
            "No answer from the CTI connector; please try again.".to_string()
        )]
    );
    assert_eq!(r.error_code(1), "Timeout");
    assert_eq!(
        r.status(1),
        "No answer from the CTI connector; please try again."
    );
    assert!(r.enabled(1, "ChangeReadyState"), "no longer busy");
    r.clear();
    r.advance(Duration::from_secs(60));
    r.tick();
    assert!(r.errors(1).is_empty(), "failed once only");
}

#[test]
fn link_down_fails_the_requests_in_flight_at_once() {
    let mut r = Rig::logged_in(&[]);
    r.invoke(1, "ready-1", "ChangeReadyState", "", vec![]);
    r.clear();
    r.link_down();
    assert_eq!(
        r.errors(1),
        [(
            Some("ready-1".to_string()),
            "CTI is unavailable: cannot reach the message broker. Reconnecting...".to_string()
        )]
    );
    assert_eq!(r.error_code(1), "LinkDown");
    r.clear();
    r.advance(Duration::from_secs(20));
    r.tick();
    assert!(r.errors(1).is_empty(), "no timeout later");
}

#[test]
fn an_answered_request_does_not_time_out() {
    let mut r = Rig::logged_in(&[]);
    r.invoke(1, "ready-1", "ChangeReadyState", "", vec![]);
    let req = r.request_id("SetState");
    r.deliver(Message::Accepted {}, Some(&req));
    assert!(r.enabled(1, "ChangeReadyState"), "Accepted ends busy");
    r.clear();
    r.advance(Duration::from_secs(20));
    r.tick();
    assert!(r.errors(1).is_empty());
}

#[test]
fn a_connector_error_fails_the_command_it_answers() {
    let mut r = Rig::online();
    r.invoke(1, "login-7", "LogIn", "", login_params("1001"));
    let req = r.request_id("Login");
    r.clear();
    r.deliver(
        Message::Error {
            agent: Some("1001".into()),
            code: "Unauthorized".into(),
            message: "401".into(),
            dialog: None,
        },
        Some(&req),
    );
    let text = "Login failed: invalid agent id or password.";
    assert_eq!(
        r.errors(1),
        [(Some("login-7".to_string()), text.to_string())]
    );
    assert_eq!(r.error_code(1), "Unauthorized");
    assert_eq!(r.status(1), text);
    assert!(r.enabled(1, "LogIn"));
}

#[test]
fn messages_that_are_not_ours_are_ignored() {
    let mut r = Rig::logged_in(&[]);
    r.deliver_body(b"not json".to_vec());
    r.deliver_body(
        br#"{"v":2,"id":"x","type":"Agent","body":{"agent":"1001","state":"READY"}}"#.to_vec(),
    );
    r.deliver(Message::Agent(agent("1999", AgentState::Ready)), None);
    assert!(r.calls(1).is_empty(), "{:?}", r.calls(1));
}

#[test]
fn system_status_is_trusted_only_from_the_connector_users() {
    let status = |status: SystemStatus, user: Option<&str>| {
        let env = Envelope::new(
            "x-1",
            Message::System {
                status,
                connector: "c1".into(),
                detail: "fake".into(),
                instance: "i1".into(),
            },
        );
        let f = Frame::new("MESSAGE").header("destination", "/topic/siebelcti.requests.status");
        match user {
            Some(u) => f.header("JMSXUserID", u),
            None => f,
        }
        .body(env.to_json())
    };
    let mut r = Rig::new(&[("Driver:ConnectorUsers", "connector, connector2")]);
    r.link_up();
    r.add(1, &[]);
    r.deliver_frame(status(SystemStatus::InService, Some("siebel")));
    assert!(
        !r.enabled(1, "LogIn"),
        "a driver's IN_SERVICE is not believed"
    );
    r.deliver_frame(status(SystemStatus::InService, Some("connector")));
    assert!(r.enabled(1, "LogIn"));
    r.login(1, "1001");
    for user in [None, Some("siebel"), Some("connector3")] {
        r.deliver_frame(status(SystemStatus::OutOfService, user));
        assert!(r.enabled(1, "ChangeReadyState"), "{user:?} was believed");
    }
    r.deliver_frame(status(SystemStatus::OutOfService, Some("connector2")));
    assert!(
        !r.enabled(1, "ChangeReadyState"),
        "the connector's own status counts"
    );
}
