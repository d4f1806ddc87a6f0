//! Behaviour a real Finesse shows as Cisco documents it (issue 11), through the whole chain:
//! a failed (busy) call stays until the agent drops it and its asynchronous error reaches the
//! agent in plain words on its work item; Make Call from Ready on UCCE 12.5(1) (refused on
//! UCCE 12.0(1) and UCCX); a
//! single-step transfer to another agent's extension rings that agent; the record on the
//! transferring agent's screen travels with a consult or blind transfer (`AttachContext`,
//! call variables) and pops on the receiving agent's screen; a node whose `finesse` XMPP user
//! goes unavailable (its web app down) is out of service at once, and back with that user.

use finesse_sim::Deployment;
use scs_sim::engine::Pop;
use scs_sim::Call;
use serde_json::json;

use crate::chain::*;
use crate::common::*;
use crate::screen_pops::{chain_with_engine, wait_outcome};

/// The far end of `dialog` (still ringing) is busy.
fn far_end_busy(chain: &Chain, dialog: &str) {
    admin(
        chain.sim(),
        &format!("/admin/calls/{dialog}/busy"),
        json!({}),
    );
}

/// The dialog id of the next outbound work item after `from`.
fn new_outbound(c: &scs_sim::Client, from: usize) -> String {
    match c.wait_for(from, WAIT, |x| {
        matches!(x, Call::IndicateNewWorkItem { mode: 2, .. })
    }) {
        Some(Call::IndicateNewWorkItem { tracking_id, .. }) => tracking_id,
        _ => panic!("no outbound work item: {:#?}", &c.calls()[from..]),
    }
}

#[test]
fn a_busy_call_fails_shows_why_and_stays_until_the_agent_releases_it() {
    let chain = Chain::start(Deployment::Ucce, 1);
    let mut agent = logged_in(&chain, 0, false);
    let c = agent.client.clone();
    let m = c.mark();
    agent.invoke("MakeCall", "5551000", &[]);
    let dialog = new_outbound(&c, m);
    wait_event(&c, m, "EventDialing");

    let m = c.mark();
    far_end_busy(&chain, &dialog);
    // The asynchronous error (Generic Error on UCCE, CF_BUSY) in plain words, without the
    // internal code (it is in the driver's log), on the failed call's work item (Finesse names
    // the dialog in the error's source).
    let (on, text) = wait_error(&c, m);
    assert_eq!(text, "The call failed: the number is busy.");
    assert_eq!(on.as_deref(), Some(dialog.as_str()));
    // The FAILED call is not ended: its work item stays, and Release is offered.
    wait_toolbar(&c, m, "ReleaseCall", N);
    assert_eq!(flags(&c, "HoldCall"), N | D);
    assert!(
        release_of(&c, m, &dialog).is_none(),
        "a failed call stays until dropped"
    );
    let state = get_json(&format!("{}/admin/state", chain.sim().base_url()));
    let failed = state["dialogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == dialog.as_str())
        .cloned()
        .expect("the failed dialog is still in Finesse");
    assert_eq!(failed["state"], "FAILED");
    assert_eq!(failed["stateCause"], "BUSY");

    // The agent drops it: DROP, the work item is released.
    let m = c.mark();
    agent.invoke("ReleaseCall", "", &[]);
    wait_released(&c, m, &dialog);
    wait_until("the failed dialog is gone", WAIT, || {
        let s = get_json(&format!("{}/admin/state", chain.sim().base_url()));
        if s["dialogs"].as_array().is_some_and(|d| d.is_empty()) {
            Ok(())
        } else {
            Err(s)
        }
    });
}

#[test]
fn make_call_from_ready_on_ucce_12_5_moves_the_agent_to_not_ready() {
    let chain = Chain::start(Deployment::Ucce, 1);
    let mut agent = logged_in(&chain, 0, true);
    let c = agent.client.clone();
    wait_until("MakeCall offered in Ready", WAIT, || {
        let f = flags(&c, "MakeCall");
        if f == N | S {
            Ok(())
        } else {
            Err(f)
        }
    });
    let m = c.mark();
    agent.invoke("MakeCall", "5551000", &[]);
    let dialog = new_outbound(&c, m);
    wait_event(&c, m, "EventDialing");
    // Finesse moved the agent to Not Ready (system reason code 50006) for the call.
    wait_event(&c, m, "EventAgentNotReady");
    let state = get_json(&format!("{}/admin/state", chain.sim().base_url()));
    let me = &state["agents"][0];
    assert_eq!(me["reasonCodeId"], "50006");
    far_end_answers(chain.sim(), &dialog);
    wait_event(&c, m, "EventEstablished");
    let m = c.mark();
    hang_up(chain.sim(), &dialog);
    wait_released(&c, m, &dialog);
    wait_toolbar(&c, m, "ChangeNotReadyState", N | S | D | C);
}

/// A Ready agent: the toolbar offers no Make Call, and the driver refuses one with the
/// agent-facing reason.
fn assert_make_call_from_ready_refused(agent: &mut scs_sim::Agent) {
    let c = agent.client.clone();
    assert_eq!(flags(&c, "MakeCall"), N | S | D);
    let m = c.mark();
    let (_, track) = agent.invoke("MakeCall", "5551000", &[]);
    assert_eq!(
        wait_error(&c, m),
        (
            Some(track),
            "Outbound calls need Not Ready and no call in progress.".into()
        )
    );
}

#[test]
fn make_call_from_ready_is_off_on_ucce_before_12_5_and_refused_by_the_driver() {
    // UCCE 12.0(1): SystemInfo's ctiVersion is 22, so the connector reports no calls from
    // Ready; the toolbar offers Make Call in Not Ready only.
    let chain = Chain::start_release(Deployment::Ucce, 1, "12.0(1)");
    let mut agent = logged_in(&chain, 0, true);
    let c = agent.client.clone();
    assert_make_call_from_ready_refused(&mut agent);
    let state = get_json(&format!("{}/admin/state", chain.sim().base_url()));
    assert!(state["dialogs"].as_array().unwrap().is_empty(), "{state}");
    let m = c.mark();
    agent.run_command("NotReady").unwrap();
    wait_toolbar(&c, m, "MakeCall", N | S);
}

#[test]
fn make_call_from_ready_is_refused_on_uccx() {
    let chain = Chain::start(Deployment::Uccx, 1);
    let mut agent = logged_in(&chain, 0, true);
    assert_make_call_from_ready_refused(&mut agent);
}

#[test]
fn a_blind_transfer_to_another_agents_extension_rings_that_agent_with_the_call_data() {
    let chain = Chain::start(Deployment::Ucce, 2);
    let (a_id, b_ext) = (
        chain.agents[0].id.clone(),
        chain.agents[1].extension.clone(),
    );
    let mut first = logged_in(&chain, 0, true);
    let mut second = logged_in(&chain, 1, true);
    let (c1, c2) = (first.client.clone(), second.client.clone());
    let m = c1.mark();
    let call = place(
        chain.sim(),
        &a_id,
        "4085551234",
        json!({"callVariables": {"callVariable1": "acct-42"}}),
    );
    wait_event(&c1, m, "EventRinging");
    first.invoke("AnswerCall", "", &[]);
    wait_event(&c1, m, "EventEstablished");

    let (m, m2) = (c1.mark(), c2.mark());
    first.invoke("TransferMute", &b_ext, &[]);
    wait_released(&c1, m, &call);
    let ring = wait_event(&c2, m2, "EventRinging");
    assert_eq!(ring.field("CallType"), Some("TRANSFER"));
    assert_eq!(ring.field("ANI"), Some("4085551234"));
    assert_eq!(ring.field("CallVariable1"), Some("acct-42"));
    second.invoke("AnswerCall", "", &[]);
    wait_event(&c2, m2, "EventEstablished");
}

/// The pop of the record with row id `id`.
fn single(id: &str) -> Option<Pop> {
    Some(Pop::Single {
        view: "Contact Detail View".into(),
        id: id.into(),
    })
}

/// Agent A answers a call from a number two contacts share and picks one of them on screen
/// (so only the context can name it); returns the sessions and the call's dialog id.
fn a_with_a_contact_on_screen(chain: &Chain) -> (scs_sim::Agent, scs_sim::Agent, String) {
    let mut first = logged_in(chain, 0, true);
    let second = logged_in(chain, 1, true);
    let c1 = first.client.clone();
    let m = c1.mark();
    let call = place(chain.sim(), &chain.agents[0].id, "6505550000", json!({}));
    wait_event(&c1, m, "EventRinging");
    first.run_command("AnswerCall").unwrap();
    wait_event(&c1, m, "EventEstablished");
    first.select_record(&[("Id", "1-BEA"), ("Work Phone #", "6505550000")]);
    (first, second, call)
}

#[test]
fn a_consult_transfer_carries_the_contact_on_screen_to_the_other_agents_pop() {
    let (chain, engine) = chain_with_engine(Deployment::Ucce, 2);
    let b_ext = chain.agents[1].extension.clone();
    let (mut first, mut second, call) = a_with_a_contact_on_screen(&chain);
    let (c1, c2) = (first.client.clone(), second.client.clone());

    // The Consultative transfer button (InitTransfer, AttachContext): the contact's row id is
    // written to the call (Driver:ContextVariable = callVariable9) before the consult.
    let (m, m2) = (c1.mark(), c2.mark());
    first.set_text(&b_ext);
    let ran = first.press("ConsultativeTransferGroup").unwrap();
    assert_eq!(ran[0].command, "InitTransfer");
    let ring = wait_event(&c2, m2, "EventRinging");
    assert_eq!(ring.field("CallType"), Some("CONSULT"));
    assert_eq!(ring.field("Context"), Some("1-BEA"));
    assert_eq!(ring.field("CallVariable9"), Some("1-BEA"));
    let consult = ring.field("DialogId").unwrap().to_string();
    let o = wait_outcome(&engine, &consult, "InboundCallWithContext");
    assert_eq!(o.pop, single("1-BEA"), "B sees A's contact");
    let state = get_json(&format!("{}/admin/state", chain.sim().base_url()));
    let original = state["dialogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == call.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        original["callVariables"]["callVariable9"], "1-BEA",
        "{original}"
    );

    // B answers, A completes: the call's dialog posted to B (a new work item) pops it again.
    second.run_command("AnswerCall").unwrap();
    wait_event(&c2, m2, "EventEstablished");
    wait_toolbar(&c1, m, "CompleteTransfer", N);
    let m2 = c2.mark();
    first.press("ConsultativeTransferGroup").unwrap();
    wait_released(&c1, m, &call);
    let offered = c2
        .wait_for(m2, WAIT, |x| {
            x.event_name() == Some("EventRinging") && x.field("CallType") == Some("TRANSFER")
        })
        .expect("the transferred call is offered to B");
    assert_eq!(offered.field("Context"), Some("1-BEA"));
    let moved = offered.field("DialogId").unwrap().to_string();
    let o = wait_outcome(&engine, &moved, "InboundCallWithContext");
    assert_eq!(
        o.pop,
        single("1-BEA"),
        "B sees A's contact on the transferred call"
    );
}

#[test]
fn a_blind_transfer_carries_the_contact_on_screen_to_the_other_agents_pop() {
    let (chain, engine) = chain_with_engine(Deployment::Ucce, 2);
    let b_ext = chain.agents[1].extension.clone();
    let (mut first, second, call) = a_with_a_contact_on_screen(&chain);
    let (c1, c2) = (first.client.clone(), second.client.clone());
    let (m, m2) = (c1.mark(), c2.mark());
    first.set_text(&b_ext);
    first.press("BlindTransferGroup").unwrap();
    wait_released(&c1, m, &call);
    let ring = wait_event(&c2, m2, "EventRinging");
    assert_eq!(ring.field("CallType"), Some("TRANSFER"));
    assert_eq!(ring.field("Context"), Some("1-BEA"));
    let moved = ring.field("DialogId").unwrap().to_string();
    let o = wait_outcome(&engine, &moved, "InboundCallWithContext");
    assert_eq!(
        o.pop,
        single("1-BEA"),
        "B sees A's contact, not the list for the number"
    );
}

#[test]
fn the_finesse_users_presence_takes_the_node_out_of_service_at_once_and_back() {
    let mut chain = Chain::start(Deployment::Ucce, 1);
    // SystemInfo only once a minute: a change within the wait below is the presence's doing.
    chain.stop_connector();
    chain.connector_config.finesse.poll_ms = 60_000;
    chain.start_connector();
    let mut agent = logged_in(&chain, 0, false);
    let c = agent.client.clone();

    // Finesse's web app goes down: REST answers 503, the `finesse` user becomes unavailable.
    let m = c.mark();
    let t0 = std::time::Instant::now();
    admin(chain.sim(), "/admin/failures", json!({"webAppDown": true}));
    let text = wait_status(&c, m, "CTI is unavailable");
    println!("out of service shown after {:?}", t0.elapsed());
    assert_eq!(
        text,
        "CTI is unavailable: the CTI connector is out of service."
    );
    let log = std::fs::read_to_string(connector_log()).unwrap();
    assert!(
        log.contains("its finesse XMPP user is unavailable"),
        "{log}"
    );

    // Back: the presence returns, SystemInfo confirms, and the agent works again.
    let m = c.mark();
    let t0 = std::time::Instant::now();
    admin(chain.sim(), "/admin/failures", json!({"webAppDown": false}));
    wait_status(&c, m, "CTI is available");
    println!("in service shown after {:?}", t0.elapsed());
    let m = c.mark();
    agent.run_command("Ready").unwrap();
    wait_event(&c, m, "EventAgentReady");
    agent.release();
}
