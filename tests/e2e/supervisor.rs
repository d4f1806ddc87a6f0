//! Supervisor basics through the whole chain (issue 11): a supervisor (Finesse role
//! Supervisor) silently monitors a team agent's call from the toolbar, the monitored call is a
//! work item on the supervisor's Siebel, then barges in and the call becomes a conference.

use finesse_sim::Deployment;
use scs_sim::Call;
use serde_json::json;

use crate::chain::*;
use crate::common::*;

/// The dialog `id` in finesse-sim's state.
fn sim_dialog(chain: &Chain, id: &str) -> serde_json::Value {
    let state = get_json(&format!("{}/admin/state", chain.sim().base_url()));
    state["dialogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no dialog {id} in {state}"))
}

/// The work item the next EventEstablished after `from` is about, with that event.
fn established(c: &scs_sim::Client, from: usize, call_type: &str) -> (String, Call) {
    let ev = c
        .wait_for(from, WAIT, |x| {
            x.event_name() == Some("EventEstablished") && x.field("CallType") == Some(call_type)
        })
        .unwrap_or_else(|| panic!("no {call_type} call: {:#?}", &c.calls()[from..]));
    (ev.field("DialogId").unwrap().to_string(), ev)
}

#[test]
fn a_supervisor_monitors_a_team_agents_call_then_barges_in() {
    let chain = Chain::start(Deployment::Ucce, 3);
    let (a_ext, sup_id) = (
        chain.agents[0].extension.clone(),
        chain.agents[1].id.clone(),
    );
    // Agent 2 supervises team 1 (every test agent's team); agent 3 stays an agent.
    admin(
        chain.sim(),
        &format!("/admin/agents/{sup_id}/supervisor"),
        json!({"teams": ["1"]}),
    );
    let mut agent = logged_in(&chain, 0, true);
    let mut sup = logged_in(&chain, 1, false);
    let mut other = logged_in(&chain, 2, false);
    let (ca, cs, co) = (
        agent.client.clone(),
        sup.client.clone(),
        other.client.clone(),
    );
    // A supervisor in Not Ready may monitor; an agent never.
    wait_toolbar(&cs, 0, "SilentMonitor", N | S);
    assert_eq!(flags(&co, "SilentMonitor"), N | S | D);
    let m = co.mark();
    other.set_text(&a_ext);
    other.press("SilentMonitor").unwrap();
    assert_eq!(
        wait_error(&co, m).1,
        "Only supervisors can monitor or barge into calls."
    );

    let (call, _) = ring_and_answer(chain.sim(), &mut agent, &chain.agents[0].id, "4085551234");
    // Silent monitor from the toolbar (the agent's extension typed in the box): a work item on
    // the supervisor's Siebel with the customer's call data; the agent's call is unchanged.
    let m = cs.mark();
    sup.set_text(&a_ext);
    sup.press("SilentMonitor").unwrap();
    let new = cs
        .wait_for(m, WAIT, |x| matches!(x, Call::IndicateNewWorkItem { .. }))
        .expect("a work item for the monitoring call");
    let (monitor, ev) = established(&cs, m, "SUPERVISOR_MONITOR");
    assert!(
        matches!(new, Call::IndicateNewWorkItem { ref tracking_id, .. } if *tracking_id == monitor)
    );
    assert_eq!(ev.field("ToAddress"), Some(a_ext.as_str()));
    let d = sim_dialog(&chain, &monitor);
    assert_eq!(
        d["participants"],
        json!([chain.agents[1].extension, a_ext, "4085551234"])
    );
    assert_eq!(sim_dialog(&chain, &call)["callType"], "ACD_IN");
    wait_toolbar(&cs, m, "BargeIn", N);
    assert_eq!(
        flags(&cs, "SilentMonitor"),
        N | S | D,
        "one monitoring at a time"
    );

    // Barge in: the monitoring work item ends, the call becomes a conference with the
    // supervisor on both sides.
    let m = cs.mark();
    sup.press("BargeIn").unwrap();
    wait_released(&cs, m, &monitor);
    let (conference, _) = established(&cs, m, "CONFERENCE");
    assert_ne!(conference, monitor);
    let d = sim_dialog(&chain, &call);
    assert_eq!(d["callType"], "CONFERENCE");
    assert_eq!(
        d["participants"],
        json!([a_ext, "4085551234", chain.agents[1].extension])
    );

    // The supervisor leaves; the agent keeps the customer.
    let (m, ma) = (cs.mark(), ca.mark());
    sup.run_command("ReleaseCall").unwrap();
    wait_released(&cs, m, &conference);
    wait_event(&cs, m, "EventAgentNotReady");
    assert!(
        ca.wait_for(ma, std::time::Duration::from_millis(300), |x| is_released(
            x, &call
        ))
        .is_none(),
        "the agent's call goes on"
    );
}

#[test]
fn a_supervisor_picks_the_agent_to_monitor_like_a_transfer_target() {
    let chain = Chain::start(Deployment::Ucce, 2);
    let sup_id = chain.agents[0].id.clone();
    admin(
        chain.sim(),
        &format!("/admin/agents/{sup_id}/supervisor"),
        json!({"teams": ["1"]}),
    );
    let mut sup = logged_in(&chain, 0, false);
    let mut agent = logged_in(&chain, 1, true);
    let cs = sup.client.clone();
    let (call, _) = ring_and_answer(chain.sim(), &mut agent, &chain.agents[1].id, "4085551234");
    // The employee picker lists colleagues by extension: Bo Kim is on 5002, agent 2.
    let picker = sup
        .picker("SilentMonitorEmployee")
        .unwrap()
        .expect("a picker");
    assert_eq!(picker.title, "Monitor");
    let m = cs.mark();
    sup.press_picked("SilentMonitorEmployee", 0).unwrap();
    let (monitor, ev) = established(&cs, m, "SUPERVISOR_MONITOR");
    assert_eq!(ev.field("ToAddress"), Some("5002"));
    // The customer hangs up: the monitoring ends with the call.
    let m = cs.mark();
    hang_up(chain.sim(), &call);
    wait_released(&cs, m, &monitor);
}
