//! Agents: login, state changes, reason codes, sessions sharing or releasing an agent.

use super::*;

#[test]
fn login_connects_then_logs_in_and_the_answer_shows_the_agent_not_ready() {
    let mut r = Rig::online();
    r.clear();
    r.invoke(1, "login-1", "LogIn", "", login_params("1001"));
    let login = r.request_id("Login");
    assert_eq!(
        r.sent(),
        [
            Message::Connect {
                agent: "1001".into(),
                reply_to: "/queue/siebelcti.driver.t".into(),
                password: None,
                encrypted: false,
            },
            Message::Login {
                agent: "1001".into(),
                password: "pw".into(),
                encrypted: false,
                extension: "5001".into(),
            }
        ]
    );
    assert_eq!(r.status(1), "Logging in agent 1001...");
    assert!(!r.enabled(1, "LogIn"), "busy until the answer");
    r.clear();
    r.deliver(
        Message::Agent(agent("1001", AgentState::NotReady)),
        Some(&login),
    );
    assert_eq!(r.events(1), ["EventAgentLogin", "EventAgentNotReady"]);
    let f = r.event_fields(1, "EventAgentLogin");
    assert_eq!(field(&f, "AgentId"), "1001");
    assert_eq!(field(&f, "AgentState"), "NOT_READY");
    assert_eq!(field(&f, "Extension"), "5001");
    assert!(r.calls(1).contains(&Call::Object(
        "5001".into(),
        kv(&[("2", "1001"), ("4", "TRUE"), ("5", "FALSE"), ("13", "TRUE")])
    )));
    assert_eq!(r.status(1), "Logged in as Ann Archer on extension 5001.");
    assert!(!r.enabled(1, "LogIn"));
    assert!(r.enabled(1, "LogOut"));
    assert!(r.enabled(1, "ChangeReadyState"));
    assert!(r.enabled(1, "MakeCall"));
    assert_ne!(r.flags(1, "ChangeNotReadyState") & flags::CHECKED, 0);
}

#[test]
fn login_data_missing_is_refused_before_anything_is_sent() {
    let mut r = Rig::online();
    for (params, code, text) in [
        (
            kv(&[("Password", "pw"), ("Extension", "5001")]),
            "MissingAgentId",
            "Cannot log in: the agent id is missing.",
        ),
        (
            kv(&[("AgentId", "1001"), ("Extension", "5001")]),
            "MissingPassword",
            "Cannot log in: the password is missing.",
        ),
        (
            kv(&[
                ("AgentId", "1001"),
                ("Password", "pw"),
                ("Extension", "{@Dn}"),
            ]),
            "MissingExtension",
            "Cannot log in: the extension is missing.",
        ),
    ] {
        r.clear();
        r.invoke(1, "login", "LogIn", "", params);
        assert!(r.sent().is_empty());
        assert_eq!(r.error_code(1), code);
        assert_eq!(r.errors(1), [(Some("login".to_string()), text.to_string())]);
    }
}

#[test]
fn login_uses_the_session_parameters_when_the_command_has_none() {
    let mut r = Rig::new(&[]);
    r.link_up();
    r.in_service("c1", "i1");
    r.add(
        1,
        &[
            ("Service:AgentId", "1001"),
            ("Service:AgentPassword", "pw"),
            ("Service:Extension", "5001"),
        ],
    );
    let sent = r.sent();
    assert!(
        sent.contains(&Message::Snapshot {
            agent: "1001".into()
        }),
        "a session started with an agent asks for its state: {sent:?}"
    );
    r.invoke(1, "login", "LogIn", "", vec![]);
    assert!(r.sent().contains(&Message::Login {
        agent: "1001".into(),
        password: "pw".into(),
        encrypted: false,
        extension: "5001".into()
    }));
}

#[test]
fn a_logged_out_agent_at_session_start_raises_nothing() {
    let mut r = Rig::new(&[]);
    r.link_up();
    r.in_service("c1", "i1");
    r.add(1, &[("Service:AgentId", "1001")]);
    let snap = r.request_id("Snapshot");
    r.clear();
    r.deliver(
        Message::Agent(agent("1001", AgentState::Logout)),
        Some(&snap),
    );
    assert!(r.events(1).is_empty());
    assert!(r.enabled(1, "LogIn"));
}

#[test]
fn an_agent_already_logged_in_is_restored_from_the_snapshot() {
    let mut r = Rig::new(&[]);
    r.link_up();
    r.in_service("c1", "i1");
    r.add(1, &[("Service:AgentId", "1001")]);
    let snap = r.request_id("Snapshot");
    r.clear();
    r.deliver(
        Message::Agent(agent("1001", AgentState::Ready)),
        Some(&snap),
    );
    assert_eq!(r.events(1), ["EventAgentLogin", "EventAgentReady"]);
    assert_eq!(r.status(1), "State: Ready.");
    assert_ne!(r.flags(1, "ChangeReadyState") & flags::CHECKED, 0);
}

#[test]
fn ready_not_ready_and_logout_requests_and_events() {
    let mut r = Rig::logged_in(&[]);
    r.invoke(1, "ready", "ChangeReadyState", "", vec![]);
    let req = r.request_id("SetState");
    assert_eq!(
        r.sent(),
        [Message::SetState {
            agent: "1001".into(),
            state: AgentState::Ready,
            reason: None
        }]
    );
    r.deliver(Message::Agent(agent("1001", AgentState::Ready)), Some(&req));
    assert_eq!(r.events(1), ["EventAgentReady"]);
    assert_eq!(r.status(1), "State: Ready.");
    r.clear();
    r.invoke(1, "nr", "ChangeNotReadyState", "", vec![]);
    let req = r.request_id("SetState");
    assert!(matches!(
        &r.sent()[..],
        [Message::SetState {
            state: AgentState::NotReady,
            reason: None,
            ..
        }]
    ));
    r.deliver(
        Message::Agent(agent("1001", AgentState::NotReady)),
        Some(&req),
    );
    r.invoke(1, "out", "LogOut", "", vec![]);
    let req = r.request_id("Logout");
    assert_eq!(
        r.sent(),
        [Message::Logout {
            agent: "1001".into(),
            reason: None,
            force: false
        }]
    );
    r.clear();
    r.deliver(
        Message::Agent(agent("1001", AgentState::Logout)),
        Some(&req),
    );
    assert_eq!(r.events(1), ["EventAgentLogout"]);
    assert_eq!(r.status(1), "Logged out.");
    assert!(r.enabled(1, "LogIn"));
}

#[test]
fn state_commands_need_a_logged_in_agent() {
    let mut r = Rig::online();
    for cmd in ["ChangeReadyState", "LogOut", "AnswerCall", "MakeCall"] {
        r.clear();
        r.invoke(1, "t", cmd, "", vec![]);
        assert!(r.sent().is_empty(), "{cmd}");
        assert_eq!(r.error_code(1), "NotLoggedIn", "{cmd}");
        assert_eq!(r.status(1), "This needs a logged-in agent.");
    }
}

#[test]
fn reports_apply_in_arrival_order_whatever_their_clocks_say() {
    // After a Finesse node switch, stateChangeTime comes from another clock: an "older"
    // stamp is no reason to drop a report.
    let mut r = Rig::logged_in(&[]);
    let mut ready = agent("1001", AgentState::Ready);
    ready.state_change_time = Some("2026-01-01T10:00:05Z".into());
    r.deliver(Message::Agent(ready), None);
    let mut not_ready = agent("1001", AgentState::NotReady);
    not_ready.state_change_time = Some("2026-01-01T10:00:01Z".into());
    r.clear();
    r.deliver(Message::Agent(not_ready), None);
    assert_eq!(r.events(1), ["EventAgentNotReady"]);
    assert!(r.enabled(1, "ChangeReadyState"));
}

#[test]
fn a_snapshot_overtaken_by_a_report_does_not_turn_the_state_back() {
    let mut r = Rig::logged_in(&[]);
    r.in_service("c1", "i2"); // a new connector instance: Connect + Snapshot
    let snap = r.request_id("Snapshot");
    r.deliver(Message::Agent(agent("1001", AgentState::Ready)), None);
    r.clear();
    // Read before the change, answered after it.
    r.deliver(
        Message::Agent(agent("1001", AgentState::NotReady)),
        Some(&snap),
    );
    assert!(r.events(1).is_empty(), "{:?}", r.events(1));
    assert_ne!(r.flags(1, "ChangeReadyState") & flags::CHECKED, 0);
    // A snapshot nothing overtook applies, whatever its stamp.
    r.in_service("c1", "i3");
    let snap = r.request_id("Snapshot");
    let mut old = agent("1001", AgentState::NotReady);
    old.state_change_time = Some("2000-01-01T00:00:00Z".into());
    r.deliver(Message::Agent(old), Some(&snap));
    assert_eq!(r.events(1), ["EventAgentNotReady"]);
}

#[test]
fn an_agent_in_use_by_another_session_is_refused() {
    let mut r = Rig::logged_in(&[]);
    r.add(2, &[]);
    r.clear();
    r.invoke(2, "login-2", "LogIn", "", login_params("1001"));
    assert!(r.sent().is_empty());
    assert_eq!(r.error_code(2), "AgentInUse");
    assert_eq!(
        r.errors(2),
        [(
            Some("login-2".to_string()),
            "Agent 1001 is already in use in another session.".to_string()
        )]
    );
    r.deliver(Message::Agent(agent("1001", AgentState::Ready)), None);
    assert_eq!(r.events(1), ["EventAgentReady"]);
    assert!(
        r.events(2).iter().all(|e| e == "EventError"),
        "the other session hears nothing of agent 1001"
    );
}

#[test]
fn another_agent_in_the_same_session_disconnects_the_first() {
    let mut r = Rig::logged_in(&[]);
    r.invoke(1, "login", "LogIn", "", login_params("1002"));
    let sent = r.sent();
    assert_eq!(
        sent[0],
        Message::Disconnect {
            agent: "1001".into()
        }
    );
    assert!(matches!(&sent[2], Message::Login { agent, .. } if agent == "1002"));
}

#[test]
fn removing_a_session_disconnects_its_agent_without_logging_it_out_by_default() {
    let mut r = Rig::logged_in(&[]);
    r.command(Cmd::Remove { id: 1 });
    assert_eq!(
        r.sent(),
        [Message::Disconnect {
            agent: "1001".into()
        }]
    );
    r.deliver(Message::Agent(agent("1001", AgentState::Ready)), None);
    assert!(r.calls(1).is_empty(), "no callback after release");
}

#[test]
fn force_logout_on_release_logs_a_logged_in_agent_out() {
    let mut r = Rig::logged_in(&[("Driver:ForceLogoutOnRelease", "TRUE")]);
    r.command(Cmd::Remove { id: 1 });
    assert_eq!(
        r.sent(),
        [
            Message::Logout {
                agent: "1001".into(),
                reason: None,
                force: true
            },
            Message::Disconnect {
                agent: "1001".into()
            }
        ]
    );
}

#[test]
fn force_logout_on_release_leaves_a_logged_out_agent_alone() {
    let mut r = Rig::logged_in(&[("Driver:ForceLogoutOnRelease", "TRUE")]);
    r.deliver(Message::Agent(agent("1001", AgentState::Logout)), None);
    r.command(Cmd::Remove { id: 1 });
    assert_eq!(
        r.sent(),
        [Message::Disconnect {
            agent: "1001".into()
        }]
    );
}

#[test]
fn secure_password_leaves_the_driver_encrypted_only() {
    let key = "0123456789abcdeffedcba987654321089abcdef01234567";
    let iv = "1234567890abcdef";
    let mut r = Rig::online_with(&[
        ("Driver:UseSecurePassword", "TRUE"),
        ("Driver:SecureKey", key),
        ("Driver:SecureIV", iv),
    ]);
    r.invoke(1, "login", "LogIn", "", login_params("1001"));
    let sent = r.sent();
    let Message::Login {
        password,
        encrypted,
        ..
    } = &sent[1]
    else {
        panic!("{sent:?}")
    };
    assert!(*encrypted);
    assert_ne!(password, "pw");
    let des = crate::secure::TripleDes::from_hex("k", key, "i", iv).unwrap();
    let mut guard = crate::secure::ReplayGuard::default();
    // Stamped with the session's clock (a manual one here), not the wall clock.
    let wall = crate::secure::unix_ms();
    assert!(matches!(
        des.open(password, wall, &mut guard),
        Err(crate::secure::DecryptError::Stale { .. })
    ));
    let made = T0 as u64 * 1000;
    assert_eq!(des.open(password, made, &mut guard).unwrap(), "pw");
    r.in_service("c1", "i2");
    // The Connect after a new connector carries a fresh encryption, not the Login's copy.
    let again = r
        .sent()
        .into_iter()
        .find_map(|m| match m {
            Message::Connect {
                password: Some(p),
                encrypted: true,
                ..
            } => Some(p),
            _ => None,
        })
        .expect("Connect with the encrypted password");
    assert_ne!(&again, password);
    assert_eq!(des.open(&again, made, &mut guard).unwrap(), "pw");
}

#[test]
fn log_level_command_checks_the_level() {
    let mut r = Rig::online();
    r.clear();
    r.invoke(1, "lvl", "SetLogLevel", "loud", vec![]);
    assert_eq!(r.error_code(1), "BadLogLevel");
    r.clear();
    r.invoke(1, "lvl", "SetLogLevel", "", kv(&[("LogLevel", "info")]));
    assert!(r.errors(1).is_empty());
    assert_eq!(r.status(1), "Log level set to info.");
    assert!(r.sent().is_empty());
}

#[test]
fn not_ready_reason_is_required_when_reason_codes_are_on() {
    let mut r = Rig::online_with(&[("Driver:NotReadyReasonCodes", "TRUE")]);
    r.login(1, "1001");
    assert!(r.sent().contains(&Message::GetReasonCodes {
        agent: "1001".into(),
        category: "NOT_READY".into()
    }));
    r.deliver(
        Message::ReasonCodes {
            agent: "1001".into(),
            category: "NOT_READY".into(),
            codes: codes(),
        },
        None,
    );
    let f = r.event_fields(1, "EventReasonCodes");
    assert_eq!(field(&f, "Count"), "2");
    assert_eq!(field(&f, "ReasonLabels"), "Lunch|Meeting");
    assert_eq!(field(&f, "ReasonId2"), "12");
    assert!(
        r.enabled(1, "ChangeNotReadyState"),
        "Not Ready stays available to change the reason"
    );
    r.clear();
    r.invoke(1, "nr", "ChangeNotReadyState", "", vec![]);
    assert!(r.sent().is_empty());
    assert_eq!(r.error_code(1), "ReasonRequired");
    assert_eq!(r.status(1), "Choose a Not Ready reason: Lunch, Meeting.");
}

#[test]
fn an_unknown_reason_is_refused_with_the_list() {
    let mut r = Rig::online_with(&[("Driver:NotReadyReasonCodes", "TRUE")]);
    r.login(1, "1001");
    r.deliver(
        Message::ReasonCodes {
            agent: "1001".into(),
            category: "NOT_READY".into(),
            codes: codes(),
        },
        None,
    );
    r.clear();
    r.invoke(1, "nr", "ChangeNotReadyState", "Coffee", vec![]);
    assert!(r.sent().is_empty());
    assert_eq!(r.error_code(1), "UnknownReason");
    assert_eq!(
        r.status(1),
        "\"Coffee\" is not one of your reasons: Lunch, Meeting."
    );
}

#[test]
fn a_reason_is_accepted_by_label_code_or_id_and_sent_as_its_id() {
    let mut r = Rig::online_with(&[("Driver:NotReadyReasonCodes", "TRUE")]);
    r.login(1, "1001");
    r.deliver(
        Message::ReasonCodes {
            agent: "1001".into(),
            category: "NOT_READY".into(),
            codes: codes(),
        },
        None,
    );
    for given in ["meeting", "2", "12"] {
        r.take_sent();
        r.invoke(1, "nr", "ChangeNotReadyState", given, vec![]);
        let req = r.request_id("SetState");
        assert_eq!(
            r.sent(),
            [Message::SetState {
                agent: "1001".into(),
                state: AgentState::NotReady,
                reason: Some("12".into())
            }],
            "{given}"
        );
        r.deliver(Message::Accepted {}, Some(&req));
    }
}

#[test]
fn logout_reasons_are_fetched_and_optional() {
    let mut r = Rig::online_with(&[("Driver:LogoutReasonCodes", "TRUE")]);
    r.login(1, "1001");
    assert!(r.sent().contains(&Message::GetReasonCodes {
        agent: "1001".into(),
        category: "LOGOUT".into()
    }));
    r.invoke(1, "out", "LogOut", "", vec![]);
    assert_eq!(
        r.sent(),
        [Message::Logout {
            agent: "1001".into(),
            reason: None,
            force: false
        }]
    );
}

#[test]
fn pending_not_ready_during_a_call_is_shown_and_blinks() {
    let mut r = Rig::logged_in(&[]);
    r.deliver(Message::Agent(agent("1001", AgentState::Ready)), None);
    r.deliver(
        Message::Dialog(Box::new(dialog("1001", "d1", "ACTIVE"))),
        None,
    );
    r.deliver(Message::Agent(agent("1001", AgentState::Talking)), None);
    r.clear();
    r.invoke(1, "nr", "ChangeNotReadyState", "", vec![]);
    assert!(matches!(
        &r.sent()[..],
        [Message::SetState {
            state: AgentState::NotReady,
            ..
        }]
    ));
    let mut talking = agent("1001", AgentState::Talking);
    talking.pending_state = Some(AgentState::NotReady);
    r.deliver(Message::Agent(talking), None);
    assert_eq!(r.status(1), "State: Talking; Not Ready when the call ends.");
    assert_ne!(r.flags(1, "ChangeNotReadyState") & flags::BLINKING, 0);
    r.deliver(
        Message::Dialog(Box::new(dialog("1001", "d1", "DROPPED"))),
        None,
    );
    r.clear();
    r.deliver(Message::Agent(agent("1001", AgentState::NotReady)), None);
    assert_eq!(r.events(1), ["EventAgentNotReady"]);
    assert_eq!(r.flags(1, "ChangeNotReadyState") & flags::BLINKING, 0);
}

#[test]
fn log_level_command_is_for_admin_agents_when_they_are_listed() {
    let mut r = Rig::online_with(&[("Driver:AdminAgents", "9001, 9002")]);
    r.login(1, "1001");
    r.clear();
    r.invoke(1, "lvl", "SetLogLevel", "", kv(&[("LogLevel", "trace")]));
    assert_eq!(r.error_code(1), "NotAdmin");
    assert_eq!(
        r.errors(1)[0].1,
        "Only CTI administrators may change the log level."
    );
    r.add(2, &[]);
    r.login(2, "9002");
    r.clear();
    r.invoke(2, "lvl", "SetLogLevel", "", kv(&[("LogLevel", "info")]));
    assert!(r.errors(2).is_empty());
    assert_eq!(r.status(2), "Log level set to info.");
}
