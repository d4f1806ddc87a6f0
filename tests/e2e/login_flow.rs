//! Login, agent state and logout against a scripted connector peer (no Finesse), through
//! scs-sim, the driver library and a real ActiveMQ: Hello -> System IN_SERVICE -> Connect ->
//! Login -> agent state -> HandleEvent, CacheCommandInformation and ShowStatusText in the host.

use std::time::Duration;

use scs_sim::Call;

use crate::common::*;

#[test]
fn agent_logs_in_changes_state_and_logs_out_from_the_def_commands() {
    let (peer, server) = peer_server("ENU");
    assert_eq!(
        server.commands[..4],
        ["LogIn", "LogOut", "ChangeReadyState", "ChangeNotReadyState"]
    );
    for c in ["AnswerCall", "MakeCall", "TransferMute", "SetLogLevel"] {
        assert!(server.commands.iter().any(|x| x == c), "{c}");
    }
    assert!(server.events.contains(&"EventAgentLogin".to_string()));

    // Online once the peer answered Hello: LogIn enabled, the rest disabled.
    let mut agent = start_session(
        &server,
        &login("1001", "secret", "5001"),
        "CTI is available",
    );
    let c = agent.client.clone();
    wait_toolbar(&c, 0, "LogIn", N);
    assert_eq!(
        c.toolbar().unwrap()[1],
        (
            "LogOut".into(),
            "Log out of the contact center".into(),
            N | S | D
        )
    );

    let m = c.mark();
    let results = agent.run_command("SignOnGroup").unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].0, 0, "InvokeCommand returns SC_EC_OK at once");
    let ev = wait_event(&c, m, "EventAgentLogin");
    assert_eq!(ev.field("AgentId"), Some("1001"));
    assert_eq!(ev.field("AgentState"), Some("NOT_READY"));
    assert_eq!(ev.field("Extension"), Some("5001"));
    assert_eq!(ev.field("FirstName"), Some("Ann"));
    wait_event(&c, m, "EventAgentNotReady");
    assert_eq!(
        wait_status(&c, m, "Logged in"),
        "Logged in as Ann Lee on extension 5001."
    );
    wait_toolbar(&c, m, "LogOut", N | S);
    let tb = c.toolbar().unwrap();
    assert_eq!(tb[0].2, N | D, "LogIn disabled once logged in");
    assert_eq!(tb[2].2, N, "Ready enabled");
    assert_eq!(tb[3].2, N | S | D | C, "Not Ready pressed");
    let obj = c
        .wait_for(m, WAIT, |c| {
            matches!(c, Call::UpdateObjectInformation { media_target, .. } if !media_target.is_empty())
        })
        .unwrap();
    match obj {
        Call::UpdateObjectInformation {
            media_target, info, ..
        } => {
            assert_eq!(media_target, "5001");
            assert!(
                info.contains(&("4".into(), "TRUE".into())),
                "SC_OP_ISNOTREADY: {info:?}"
            );
        }
        _ => unreachable!(),
    }
    // The peer saw the protocol's login sequence.
    let reqs = peer.requests();
    let pos = |t: &str| {
        reqs.iter()
            .position(|r| r == t)
            .unwrap_or_else(|| panic!("{t} in {reqs:?}"))
    };
    assert!(
        pos("Hello") < pos("Connect") && pos("Connect") < pos("Login"),
        "{reqs:?}"
    );

    let m = c.mark();
    agent.run_command("Ready").unwrap();
    let ev = wait_event(&c, m, "EventAgentReady");
    assert_eq!(ev.field("AgentState"), Some("READY"));
    wait_status(&c, m, "State: Ready.");
    wait_toolbar(&c, m, "ChangeReadyState", N | D | C);

    let m = c.mark();
    let (rc, _) = agent.invoke("ChangeNotReadyState", "12", &[]);
    assert_eq!(rc, 0);
    let ev = wait_event(&c, m, "EventAgentNotReady");
    assert_eq!(ev.field("ReasonCode"), Some("12"));

    let m = c.mark();
    agent.run_command("SignOffGroup").unwrap();
    let ev = wait_event(&c, m, "EventAgentLogout");
    assert_eq!(ev.field("AgentState"), Some("LOGOUT"));
    wait_status(&c, m, "Logged out.");
    wait_toolbar(&c, m, "LogIn", N);
    assert_eq!(agent.release(), 0);

    // The driver log shows the login request, with the password masked.
    let log = std::fs::read_to_string(log_file()).unwrap();
    assert!(
        log.contains(r#""type":"Login","body":{"agent":"1001","password":"***""#),
        "{log}"
    );
    assert!(
        !log.contains("secret"),
        "the clear password is in the driver log"
    );
}

#[test]
fn wrong_password_and_missing_login_data_are_clear_errors() {
    let (_peer, server) = peer_server("ENU");
    let mut agent = start_session(&server, &login("1001", "wrong", "5001"), "CTI is available");
    let c = agent.client.clone();

    let m = login_refused(&mut agent, "Login failed: invalid agent id or password.");
    let ev = wait_event(&c, m, "EventError");
    assert_eq!(ev.field("ErrorCode"), Some("Unauthorized"));
    wait_status(&c, m, "invalid agent id or password");
    wait_toolbar(&c, m, "LogIn", N);
    assert!(no_event_since(&c, m, "EventAgentLogin"));

    // No password anywhere: refused by the driver itself, naming the field.
    let mut nopw = start_session(&server, &login("1002", "", "5002"), "CTI is available");
    let c2 = nopw.client.clone();
    login_refused(&mut nopw, "Cannot log in: the password is missing.");
    // The command data of the DEF wins over the session's parameters.
    let m = c2.mark();
    let (rc, _) = nopw.invoke("LogIn", "", &[("AgentPin".into(), "pw2".into())]);
    assert_eq!(rc, 0);
    wait_event(&c2, m, "EventAgentLogin");

    // Commands the driver does not have are refused synchronously.
    let (rc, _) = agent.invoke("Teleport", "", &[]);
    assert_eq!(rc, 2, "SC_EC_CMD_NOT_SUPPORTED");
}

#[test]
fn an_agent_already_logged_in_is_restored_from_a_snapshot_at_session_start() {
    let (_peer, queue) = peer();
    let server = siebel("uccx.def", "ENU", &queue);
    let mut first = start_session(
        &server,
        &login("1001", "secret", "5001"),
        "CTI is available",
    );
    let c = first.client.clone();
    let m = c.mark();
    first.invoke("LogIn", "", &[]);
    wait_event(&c, m, "EventAgentLogin");
    let m = c.mark();
    first.invoke("ChangeReadyState", "", &[]);
    wait_event(&c, m, "EventAgentReady");
    first.release();
    let calls_at_release = c.mark();

    // A new Siebel session for the same agent learns the contact center's state.
    let second = server
        .request_service(&login("1001", "secret", "5001"), &[], false)
        .unwrap();
    let ev = wait_event(&second.client, 0, "EventAgentLogin");
    assert_eq!(ev.field("AgentState"), Some("READY"));
    wait_event(&second.client, 0, "EventAgentReady");
    wait_toolbar(&second.client, 0, "ChangeReadyState", N | D | C);
    let late = c.wait_for(calls_at_release, Duration::from_millis(200), |_| true);
    assert_eq!(late, None, "no callback after ReleaseISCServiceInstance");
}

#[test]
fn status_texts_follow_the_siebel_language_with_english_fallback() {
    let (_peer, queue) = peer();
    for (lang, available, logged_in) in [
        (
            "FRA",
            "CTI est disponible.",
            "Connecté en tant que Ann Lee sur le poste 5001.",
        ),
        (
            "DEU",
            "CTI ist verfügbar.",
            "Angemeldet als Ann Lee an Nebenstelle 5001.",
        ),
        (
            "PTB",
            "CTI is available.",
            "Logged in as Ann Lee on extension 5001.",
        ),
    ] {
        let server = siebel("ucce.def", lang, &queue);
        let mut agent = start_session(&server, &login("1001", "secret", "5001"), available);
        let c = agent.client.clone();
        let m = c.mark();
        agent.run_command("SignOnGroup").unwrap();
        wait_status(&c, m, logged_in);
        let m = c.mark();
        agent.run_command("SignOffGroup").unwrap();
        wait_event(&c, m, "EventAgentLogout");
    }
}
