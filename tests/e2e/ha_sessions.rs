//! Identity and session ownership through the real chain: two driver instances with the
//! same client id, a second Siebel session for an agent already logged in, and the forced
//! logout when a Siebel session ends (from Ready, and during a call).

use std::time::Duration;

use finesse_sim::{Deployment, FinesseSim};
use scs_sim::Call;

use crate::chain::*;
use crate::common::*;
use crate::ha::errors_since;

/// The simulator's state and pending state of agent `id`.
fn sim_state(sim: &FinesseSim, id: &str) -> (String, String) {
    let state = get_json(&format!("{}/admin/state", sim.base_url()));
    let a = state["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("agent {id} not in {state}"));
    (
        a["state"].as_str().unwrap_or_default().to_string(),
        a["pendingState"].as_str().unwrap_or_default().to_string(),
    )
}

fn wait_sim_state(sim: &FinesseSim, id: &str, want: &str) {
    wait_until(&format!("agent {id} {want} in Finesse"), WAIT_HTTP, || {
        let s = sim_state(sim, id);
        if s.0 == want {
            Ok(())
        } else {
            Err(s)
        }
    });
}

#[test]
fn two_driver_instances_with_one_client_id_are_both_told_and_recover_when_one_goes() {
    let (_peer, queue) = peer();
    let access = BrokerAccess::shared();
    let id = access.client_id("dup");
    let mut params = access.driver_params(&queue);
    params.retain(|(k, _)| k != "Driver:ClientId");
    params.push(("Driver:ClientId".into(), id.clone()));
    let first = siebel_with("ucce.def", "ENU", &params);
    let a = start_session(&first, &login("1001", "secret", "5001"), "CTI is available");
    let m = a.client.mark();
    let second = siebel_with("ucce.def", "ENU", &params);
    let b = second
        .request_service(&login("1002", "pw2", "5002"), &[], false)
        .unwrap();
    let text = format!("another Siebel server uses the same CTI client id ({id})");
    wait_status(&a.client, m, &text);
    wait_status(&b.client, 0, &text);
    wait_until("commands disabled", WAIT, || {
        match flags(&a.client, "LogIn") & D {
            0 => Err("Log In still enabled"),
            _ => Ok(()),
        }
    });
    // The misconfigured one goes away: the first recovers by itself.
    drop(b);
    drop(second);
    let n = a.client.mark();
    a.client
        .wait_for(
            n,
            Duration::from_secs(25),
            |c| matches!(c, Call::ShowStatusText(t) if t.contains("CTI is available")),
        )
        .unwrap_or_else(|| panic!("no recovery: {:#?}", &a.client.calls()[n..]));
    // The toolbar follows the status text in its own callback.
    wait_until("Log In enabled again", WAIT, || {
        match flags(&a.client, "LogIn") & D {
            0 => Ok(()),
            f => Err(f),
        }
    });
}

#[test]
fn a_second_session_for_the_same_agent_takes_it_over_and_the_first_is_told() {
    let chain = Chain::start(Deployment::Ucce, 1);
    let sim = chain.sim();
    let a = &chain.agents[0];
    let mut first = logged_in(&chain, 0, true);
    let c1 = first.client.clone();
    let m1 = c1.mark();
    // Another Siebel server (its own driver instance) opens a session for the same agent.
    let mut params =
        BrokerAccess::shared().driver_params(&chain.connector_config.broker.request_queue);
    params.push(("Driver:ForceLogoutOnRelease".into(), "TRUE".into()));
    let other = siebel_with("ucce.def", "ENU", &params);
    let mut second = start_session(
        &other,
        &login(&a.id, &a.password, &a.extension),
        "CTI is available",
    );
    let c2 = second.client.clone();
    wait_event(&c2, 0, "EventAgentReady");
    wait_status(&c1, m1, "is now used in another Siebel session");
    wait_until("the first may log in again", WAIT, || {
        match flags(&c1, "LogIn") & D {
            0 => Ok(()),
            f => Err(f),
        }
    });
    // Calls go to the newer session only.
    let n2 = c2.mark();
    let dialog = place(sim, &a.id, "4085550102", serde_json::json!({}));
    wait_event(&c2, n2, "EventRinging");
    hang_up(sim, &dialog);
    wait_released(&c2, n2, &dialog);
    assert!(no_event_since(&c1, m1, "EventRinging"));
    // The newer session ends (with ForceLogoutOnRelease): Finesse logs the agent out, the
    // way the newer session's configuration asks; the first session was told before and is
    // never sent an error.
    assert_eq!(second.release(), 0);
    wait_sim_state(sim, &a.id, "LOGOUT");
    assert!(
        errors_since(&c1, m1).is_empty(),
        "{:?}",
        errors_since(&c1, m1)
    );
    // The first session takes the agent back with a login.
    let n1 = c1.mark();
    first.run_command("SignOnGroup").unwrap();
    wait_event(&c1, n1, "EventAgentLogin");
    first.invoke("ChangeReadyState", "", &[]);
    wait_event(&c1, n1, "EventAgentReady");
    let dialog = place(sim, &a.id, "4085550103", serde_json::json!({}));
    wait_event(&c1, n1, "EventRinging");
    hang_up(sim, &dialog);
}

#[test]
fn force_logout_on_release_works_from_ready_and_after_a_call() {
    let chain = Chain::start_with(
        Deployment::Ucce,
        2,
        &[("Driver:ForceLogoutOnRelease", "TRUE")],
        "",
    );
    let sim = chain.sim();
    // From Ready: Finesse refuses LOGOUT there; the connector goes through Not Ready.
    let mut ready = logged_in(&chain, 0, true);
    assert_eq!(sim_state(sim, &chain.agents[0].id).0, "READY");
    assert_eq!(ready.release(), 0);
    wait_sim_state(sim, &chain.agents[0].id, "LOGOUT");
    // During a call: Not Ready is pending, the logout follows the end of the call.
    let b = &chain.agents[1];
    let mut talking = logged_in(&chain, 1, true);
    let (dialog, _) = ring_and_answer(sim, &mut talking, &b.id, "4085550104");
    assert_eq!(talking.release(), 0);
    wait_until("Not Ready pending in Finesse", WAIT_HTTP, || {
        let s = sim_state(sim, &b.id);
        if s == ("TALKING".to_string(), "NOT_READY".to_string()) {
            Ok(())
        } else {
            Err(s)
        }
    });
    hang_up(sim, &dialog);
    wait_sim_state(sim, &b.id, "LOGOUT");
}
