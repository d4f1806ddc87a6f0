//! Every agent-state feature through the whole chain (scs-sim -> driver -> ActiveMQ ->
//! connector -> finesse-sim).

use std::time::Duration;

use finesse_sim::{Deployment, FinesseSim};
use scs_sim::Call;
use serde_json::json;

use crate::chain::*;
use crate::common::*;

/// The simulator's view of an agent (state, pendingState, reasonCodeId...).
fn sim_agent(sim: &FinesseSim, id: &str) -> serde_json::Value {
    let state = get_json(&format!("{}/admin/state", sim.base_url()));
    state["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("agent {id} not in {state}"))
}

/// Waits until the simulator's agent field has a value.
fn wait_sim(sim: &FinesseSim, id: &str, field: &str, want: serde_json::Value) {
    wait_until(
        &format!("agent {id} with {field} {want}"),
        WAIT_HTTP,
        || {
            let agent = sim_agent(sim, id);
            if agent[field] == want {
                Ok(())
            } else {
                Err(agent)
            }
        },
    )
}

/// Waits until Finesse holds the wrap-up reason `reason` on the call `dialog`.
fn wait_wrap_up_reason(sim: &FinesseSim, dialog: &str, reason: &str) {
    let url = format!("{}/admin/state", sim.base_url());
    wait_until(
        &format!("wrap-up reason {reason:?} on {dialog}"),
        WAIT_HTTP,
        || {
            let state = get_json(&url);
            let on_call = state["dialogs"]
                .as_array()
                .and_then(|d| d.iter().find(|x| x["id"] == dialog))
                .map(|d| d["wrapUpReason"] == reason);
            if on_call == Some(true) {
                Ok(())
            } else {
                Err(state)
            }
        },
    )
}

#[test]
fn force_logout_when_the_siebel_session_ends_only_if_enabled() {
    let chain = Chain::start_with(
        Deployment::Ucce,
        2,
        &[("Driver:ForceLogoutOnRelease", "TRUE")],
        "",
    );
    let mut agent = logged_in(&chain, 0, false);
    wait_sim(
        chain.sim(),
        &chain.agents[0].id,
        "state",
        json!("NOT_READY"),
    );
    agent.release();
    wait_sim(chain.sim(), &chain.agents[0].id, "state", json!("LOGOUT"));

    let plain = Chain::start(Deployment::Ucce, 1);
    let mut agent = logged_in(&plain, 0, false);
    agent.release();
    // A deliberate pause, not a poll: nothing is to happen to the agent in that time.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        sim_agent(plain.sim(), &plain.agents[0].id)["state"],
        "NOT_READY",
        "without ForceLogoutOnRelease the agent stays logged in"
    );
}

#[test]
fn not_ready_reason_codes_required_offered_and_changeable() {
    let chain = Chain::start_with(
        Deployment::Ucce,
        1,
        &[
            ("Driver:NotReadyReasonCodes", "TRUE"),
            ("Driver:LogoutReasonCodes", "TRUE"),
        ],
        "",
    );
    let id = chain.agents[0].id.clone();
    let mut agent = chain.session(0);
    let c = agent.client.clone();
    let m = c.mark();
    agent.run_command("SignOnGroup").unwrap();
    // The toolbar is offered the agent's reasons from Finesse.
    let ev = c
        .wait_for(m, WAIT, |x| {
            x.event_name() == Some("EventReasonCodes") && x.field("Category") == Some("NOT_READY")
        })
        .unwrap_or_else(|| panic!("no reason codes: {:#?}", c.calls()));
    assert_eq!(ev.field("ReasonLabels"), Some("Break|Lunch"));
    assert_eq!(ev.field("ReasonCode2"), Some("12"));
    // In Not Ready, Not Ready stays enabled (pressed) to change the reason.
    wait_toolbar(&c, m, "ChangeNotReadyState", N | S | C);

    let m = c.mark();
    agent.run_command("Ready").unwrap();
    wait_event(&c, m, "EventAgentReady");

    // Not Ready without a reason is refused, naming the choices.
    let m = c.mark();
    let (_, track) = agent.invoke("ChangeNotReadyState", "", &[]);
    assert_eq!(
        wait_error(&c, m),
        (
            Some(track),
            "Choose a Not Ready reason: Break, Lunch.".into()
        )
    );
    // A reason that is not the agent's is refused too.
    let m = c.mark();
    agent.set_text("Nap");
    agent.run_command("NotReady").unwrap();
    wait_status(&c, m, "\"Nap\" is not one of your reasons: Break, Lunch.");

    // By label from the toolbar box.
    let m = c.mark();
    agent.set_text("lunch");
    agent.run_command("NotReady").unwrap();
    let ev = wait_event(&c, m, "EventAgentNotReady");
    assert_eq!(ev.field("ReasonCode"), Some("12"));
    wait_sim(chain.sim(), &id, "reasonCodeId", json!("2"));
    // NOT_READY -> NOT_READY with another reason (by code).
    let m = c.mark();
    agent.invoke("ChangeNotReadyState", "11", &[]);
    let ev = wait_event(&c, m, "EventAgentNotReady");
    assert_eq!(ev.field("ReasonLabel"), Some("Break"), "{ev:?}");
    wait_status(&c, m, "State: Not Ready (Break).");

    // Logout with a logout reason (optional, checked against the agent's list).
    let m = c.mark();
    agent.set_text("End of shift");
    agent.run_command("SignOff").unwrap();
    wait_event(&c, m, "EventAgentLogout");
    wait_sim(chain.sim(), &id, "state", json!("LOGOUT"));
    wait_sim(chain.sim(), &id, "reasonCodeId", json!("9"));
}

/// Rings agent `i` with a call from 4085551234 and answers it; returns the dialog id.
fn call_answered(chain: &Chain, agent: &mut scs_sim::Agent, i: usize) -> String {
    ring_and_answer(chain.sim(), agent, &chain.agents[i].id, "4085551234").0
}

#[test]
fn pending_not_ready_during_a_call_takes_effect_when_it_ends() {
    let chain = Chain::start(Deployment::Ucce, 1);
    let id = chain.agents[0].id.clone();
    let mut agent = logged_in(&chain, 0, true);
    let c = agent.client.clone();
    let dialog = call_answered(&chain, &mut agent, 0);

    let m = c.mark();
    agent.invoke("ChangeNotReadyState", "1", &[]);
    wait_status(&c, m, "State: Talking; Not Ready when the call ends.");
    wait_toolbar(&c, m, "ChangeNotReadyState", N | S | B);
    wait_sim(chain.sim(), &id, "pendingState", json!("NOT_READY"));

    let m = c.mark();
    hang_up(chain.sim(), &dialog);
    wait_event(&c, m, "EventReleased");
    let ev = wait_event(&c, m, "EventAgentNotReady");
    assert_eq!(ev.field("ReasonLabel"), Some("Break"), "{ev:?}");
    wait_toolbar(&c, m, "ChangeNotReadyState", N | S | D | C);
}

#[test]
fn optional_wrap_up_with_a_reason_then_ready() {
    let chain = Chain::start(Deployment::Ucce, 1);
    let id = chain.agents[0].id.clone();
    let mut agent = logged_in(&chain, 0, true);
    let c = agent.client.clone();

    // Without asking for wrap-up: straight back to Ready, no wrap-up shown.
    let dialog = call_answered(&chain, &mut agent, 0);
    let m = c.mark();
    hang_up(chain.sim(), &dialog);
    wait_event(&c, m, "EventAgentReady");
    assert!(no_event_since(&c, m, "EventAgentWork"));

    // Asking for wrap-up during the call, with a wrap-up reason stored on the call.
    let dialog = call_answered(&chain, &mut agent, 0);
    let m = c.mark();
    agent.invoke("ChangeWorkReadyState", "", &[]);
    wait_toolbar(&c, m, "ChangeWorkReadyState", N | B);
    wait_sim(chain.sim(), &id, "pendingState", json!("WORK_READY"));
    agent.invoke("SetWrapUpReason", "Sale", &[]);
    wait_wrap_up_reason(chain.sim(), &dialog, "Sale");

    let m = c.mark();
    hang_up(chain.sim(), &dialog);
    let ev = wait_event(&c, m, "EventAgentWork");
    assert_eq!(ev.field("AgentState"), Some("WORK_READY"));
    // During wrap-up, Ready and Not Ready are offered.
    wait_toolbar(&c, m, "ChangeReadyState", N);
    assert_eq!(flags(&c, "ChangeNotReadyState"), N | S);
    let m = c.mark();
    agent.run_command("Ready").unwrap();
    wait_event(&c, m, "EventAgentReady");
}

#[test]
fn secure_password_is_encrypted_on_the_wire_and_never_logged_in_clear() {
    // Secure passwords are the normal path: the suite's chains share a key
    // (`target/certs/secure.key`, `Driver:SecureKeyFile` and the connector's des_key).
    assert!(
        BrokerAccess::shared().secure_key_file.is_some(),
        "the suite runs with secure passwords"
    );
    let chain = Chain::start(Deployment::Ucce, 1);
    let password = chain.agents[0].password.clone();
    let agent = logged_in(&chain, 0, false);
    let c = agent.client.clone();
    wait_status(&c, 0, "Logged in as Ann Lee");
    for log in [log_file(), connector_log()] {
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(!text.is_empty(), "{} is empty", log.display());
        assert!(
            !text.contains(&password),
            "{} holds the clear password",
            log.display()
        );
    }
    // The driver log shows that the encrypted form was sent (masked as well).
    let text = std::fs::read_to_string(log_file()).unwrap();
    assert!(
        text.contains(r#""encrypted":true"#),
        "no encrypted login in the driver log"
    );
}

#[test]
fn update_object_information_and_state_timer_start() {
    let chain = Chain::start(Deployment::Uccx, 1);
    let mut agent = logged_in(&chain, 0, false);
    let c = agent.client.clone();
    let obj = c
        .wait_for(0, WAIT, |x| {
            matches!(x, Call::UpdateObjectInformation { info, .. } if info.contains(&("4".into(), "TRUE".into())))
        })
        .unwrap();
    match obj {
        Call::UpdateObjectInformation {
            info, media_target, ..
        } => {
            assert_eq!(media_target, chain.agents[0].extension);
            assert!(
                info.contains(&("13".into(), "TRUE".into())),
                "logged on: {info:?}"
            );
        }
        _ => unreachable!(),
    }
    let m = c.mark();
    agent.run_command("Ready").unwrap();
    let ev = wait_event(&c, m, "EventAgentReady");
    let t = ev.field("StateChangeTime").expect("state timer start time");
    assert!(t.contains('T') && t.len() >= 19, "ISO 8601: {t}");
    let busy = c
        .wait_for(m, WAIT, |x| {
            matches!(x, Call::UpdateObjectInformation { info, .. } if info.contains(&("4".into(), "FALSE".into())))
        });
    assert!(busy.is_some(), "not-ready flag cleared on Ready");
}

#[test]
fn log_level_changes_at_run_time() {
    let (_peer, server) = peer_server("ENU");
    let mut agent = start_session(
        &server,
        &login("1001", "secret", "5001"),
        "CTI is available",
    );
    let c = agent.client.clone();
    let m = c.mark();
    agent.set_text("trace");
    agent.run_command("SetLogLevel").unwrap();
    wait_status(&c, m, "Log level set to trace.");
    let m = c.mark();
    agent.run_command("SignOnGroup").unwrap();
    wait_event(&c, m, "EventAgentLogin");
    let log = std::fs::read_to_string(log_file()).unwrap();
    assert!(
        log.contains(" TRACE "),
        "trace lines after SetLogLevel trace"
    );
    // Back to debug: no more trace lines from now on.
    let m = c.mark();
    agent.set_text("debug");
    agent.run_command("SetLogLevel").unwrap();
    wait_status(&c, m, "Log level set to debug.");
    let before = std::fs::read_to_string(log_file()).unwrap().len();
    let m = c.mark();
    agent.run_command("SignOffGroup").unwrap();
    wait_event(&c, m, "EventAgentLogout");
    let after = std::fs::read_to_string(log_file()).unwrap();
    assert!(
        !after[before..].contains(" TRACE "),
        "trace lines after SetLogLevel debug"
    );
    // A wrong level is refused with the choices.
    let m = c.mark();
    agent.set_text("loud");
    agent.run_command("SetLogLevel").unwrap();
    wait_status(&c, m, "Unknown log level loud");
}

/// Agent 0 answers a call, asks for wrap-up during it, and the caller hangs up: returns
/// the call's dialog id and the mark taken before the hang-up (EventAgentWork seen).
fn call_into_wrap_up(chain: &Chain, agent: &mut scs_sim::Agent) -> (String, usize) {
    let c = agent.client.clone();
    let dialog = call_answered(chain, agent, 0);
    agent.invoke("ChangeWorkReadyState", "", &[]);
    wait_sim(
        chain.sim(),
        &chain.agents[0].id,
        "pendingState",
        json!("WORK_READY"),
    );
    let m = c.mark();
    hang_up(chain.sim(), &dialog);
    wait_event(&c, m, "EventAgentWork");
    (dialog, m)
}

#[test]
fn wrap_up_resets_the_phone_call_timer_when_the_advanced_option_is_on() {
    let chain = Chain::start_with(
        Deployment::Ucce,
        1,
        &[("Driver:ResetTimerOnWrapUp", "TRUE")],
        "",
    );
    let mut agent = logged_in(&chain, 0, true);
    let c = agent.client.clone();
    let (dialog, m) = call_into_wrap_up(&chain, &mut agent);
    // After the call's release, the same work item starts again: the wrap-up timer.
    let released = c
        .calls()
        .iter()
        .skip(m)
        .position(|x| is_released(x, &dialog))
        .expect("call released");
    let restarted = c
        .wait_for(m, WAIT, |x| {
            matches!(x, Call::WorkItemStarted { tracking_id, description, .. } if *tracking_id == dialog && description == "Wrap-up")
        })
        .expect("timer restarted on wrap-up");
    let pos = c
        .calls()
        .iter()
        .skip(m)
        .position(|x| *x == restarted)
        .unwrap();
    assert!(pos > released);
    let m = c.mark();
    agent.run_command("Ready").unwrap();
    wait_event(&c, m, "EventAgentReady");
    release_of(&c, m, &dialog).expect("wrap-up timer stopped");
}

#[test]
fn wrap_up_reason_set_during_wrap_up_after_the_call_ended() {
    let chain = Chain::start(Deployment::Ucce, 1);
    let mut agent = logged_in(&chain, 0, true);
    let c = agent.client.clone();
    let (dialog, m) = call_into_wrap_up(&chain, &mut agent);
    wait_released(&c, m, &dialog);
    // In wrap-up, the call's reason can still be set; Finesse keeps the dialog for it.
    wait_toolbar(&c, m, "SetWrapUpReason", N | S);
    let m = c.mark();
    agent.set_text("Sale");
    agent.run_command("SetWrapUpReason").unwrap();
    wait_wrap_up_reason(chain.sim(), &dialog, "Sale");
    assert!(c.calls()[m..]
        .iter()
        .all(|x| !matches!(x, Call::HandleError { .. })));
    let m = c.mark();
    agent.run_command("Ready").unwrap();
    wait_event(&c, m, "EventAgentReady");
}
