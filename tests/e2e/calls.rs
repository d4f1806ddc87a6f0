//! Call control and work items through the whole chain: outbound calls, consults, transfers
//! and conferences (UCCE and UCCX), several calls, and the toolbar through an agent's day.

use finesse_sim::Deployment;
use scs_sim::engine::Pop;
use scs_sim::Call;
use serde_json::json;

use crate::chain::*;
use crate::common::*;
use crate::screen_pops::{chain_with_engine, wait_activities, wait_outcome};

#[test]
fn outbound_calls_need_not_ready_and_can_use_the_selected_contact() {
    let (chain, engine) = chain_with_engine(Deployment::Ucce, 1);
    let mut agent = logged_in(&chain, 0, true);
    let c = agent.client.clone();

    // Ready under UCCE (Finesse 12.5(1)+): MakeCall is offered (see finesse_fit.rs); the
    // refusal from Ready is UCCX's.
    wait_until("MakeCall offered in Ready", WAIT, || {
        let f = flags(&c, "MakeCall");
        if f == N | 32 {
            Ok(())
        } else {
            Err(f)
        }
    });

    let m = c.mark();
    agent.run_command("NotReady").unwrap();
    wait_event(&c, m, "EventAgentNotReady");
    // Make call to the selected contact: the number comes from the record.
    agent.select_record(&[("Id", "1-CAL"), ("Work Phone #", "5551000")]);
    let m = c.mark();
    agent.run_command("MakeCallToContact").unwrap();
    let new = c
        .wait_for(m, WAIT, |x| matches!(x, Call::IndicateNewWorkItem { .. }))
        .unwrap();
    let dialog = match new {
        Call::IndicateNewWorkItem {
            tracking_id,
            mode,
            description,
            ..
        } => {
            assert_eq!(mode, 2, "outbound work item");
            assert_eq!(description, "Call to 5551000");
            tracking_id
        }
        _ => unreachable!(),
    };
    wait_event(&c, m, "EventDialing");
    let o = wait_outcome(&engine, &dialog, "OutboundCall");
    assert_eq!(
        o.pop,
        Some(Pop::Single {
            view: "Contact Detail View".into(),
            id: "1-CAL".into()
        })
    );
    let m = c.mark();
    far_end_answers(chain.sim(), &dialog);
    wait_event(&c, m, "EventEstablished");
    let m = c.mark();
    agent.run_command("ReleaseCall").unwrap();
    wait_event(&c, m, "EventReleased");
    wait_event(&c, m, "EventAgentNotReady");
    let acts = engine.activities().unwrap();
    assert_eq!(acts.len(), 1);
    assert_eq!(acts[0].activity_type, "Call - Outbound");
    assert_eq!(acts[0].contact_id, "1-CAL");

    // A typed number, with no contact selected: refused when the record lacks a phone.
    agent.select_record(&[("Id", "1-X")]);
    assert!(agent.run_command("MakeCallToContact").is_err());
    let m = c.mark();
    agent.set_text("2125550000");
    agent.run_command("MakeCall").unwrap();
    wait_event(&c, m, "EventDialing");
}

#[test]
fn consult_transfer_conference_and_blind_transfer_under_ucce() {
    let (chain, _engine) = chain_with_engine(Deployment::Ucce, 1);
    let id = chain.agents[0].id.clone();
    let mut agent = logged_in(&chain, 0, true);
    let c = agent.client.clone();

    // Consult transfer.
    let (original, _) = ring_and_answer(chain.sim(), &mut agent, &id, "4085551234");
    let m = c.mark();
    agent.set_text("5552000");
    agent.run_command("InitTransfer").unwrap();
    wait_event(&c, m, "EventHeld");
    let dialing = wait_event(&c, m, "EventDialing");
    let consult = dialing.field("DialogId").unwrap().to_string();
    assert_eq!(dialing.field("AssociatedDialogId"), Some(original.as_str()));
    far_end_answers(chain.sim(), &consult);
    wait_event(&c, m, "EventEstablished");
    wait_toolbar(&c, m, "CompleteTransfer", N);
    let m = c.mark();
    agent.run_command("CompleteTransfer").unwrap();
    for d in [&original, &consult] {
        wait_released(&c, m, d);
    }

    // Conference.
    let (original, _) = ring_and_answer(chain.sim(), &mut agent, &id, "6505550000");
    let m = c.mark();
    let consult = start_consult(&mut agent, chain.sim(), m, "InitConference", "5553000");
    let m = c.mark();
    agent.run_command("CompleteConference").unwrap();
    wait_released(&c, m, &consult);
    let conf = c.wait_for(m, WAIT, |x| {
        x.event_name() == Some("EventRetrieved") || x.field("CallType") == Some("CONFERENCE")
    });
    assert!(
        conf.is_some(),
        "the original call is back as a conference: {:#?}",
        &c.calls()[m..]
    );
    let m = c.mark();
    agent.run_command("ReleaseCall").unwrap();
    wait_released(&c, m, &original);

    // Single-step (blind) transfer.
    let (call, _) = ring_and_answer(chain.sim(), &mut agent, &id, "2125550000");
    let m = c.mark();
    agent.invoke("TransferMute", "5554000", &[]);
    wait_released(&c, m, &call);
}

#[test]
fn uccx_refuses_blind_transfer_and_allows_one_call_plus_consults() {
    let (chain, _engine) = chain_with_engine(Deployment::Uccx, 1);
    let id = chain.agents[0].id.clone();
    let mut agent = logged_in(&chain, 0, true);
    let c = agent.client.clone();
    let (dialog, m) = ring_and_answer(chain.sim(), &mut agent, &id, "4085551234");
    wait_toolbar(&c, m, "HoldCall", N);
    assert_eq!(flags(&c, "TransferMute"), N | 32 | D | NS);
    // UCCX refuses WORK_READY during a call: Wrap-Up is disabled, not offered to fail.
    assert_eq!(flags(&c, "ChangeWorkReadyState"), N | D);
    let m = c.mark();
    let (_, track) = agent.invoke("TransferMute", "5554000", &[]);
    assert_eq!(
        wait_error(&c, m),
        (
            Some(track),
            "Single-step transfer is not available with Cisco UCCX: use a consult transfer.".into()
        )
    );
    // A second regular call is not offered to a UCCX agent on a call.
    let refused = ureq::post(&format!("{}/admin/calls", chain.sim().base_url()))
        .send_json(json!({"to": id, "ani": "6505550000"}));
    assert!(
        matches!(refused, Err(ureq::Error::Status(409, _))),
        "{refused:?}"
    );
    // But a consult call is.
    let m = c.mark();
    agent.invoke("InitTransfer", "5552000", &[]);
    let consult = wait_event(&c, m, "EventDialing");
    assert_eq!(consult.field("AssociatedDialogId"), Some(dialog.as_str()));
}

#[test]
fn several_calls_are_work_items_and_selecting_one_switches_calls() {
    let (chain, _engine) = chain_with_engine(Deployment::Ucce, 1);
    let id = chain.agents[0].id.clone();
    let mut agent = logged_in(&chain, 0, true);
    let c = agent.client.clone();
    let (first, _) = ring_and_answer(chain.sim(), &mut agent, &id, "4085551234");
    let m = c.mark();
    agent.invoke("HoldCall", "", &[]);
    wait_event(&c, m, "EventHeld");

    let (second, m) = ring_and_answer(chain.sim(), &mut agent, &id, "6505550000");
    wait_toolbar(&c, m, "AlternateCall", N);

    // The agent selects the held work item in Siebel: the calls switch.
    let m = c.mark();
    assert_eq!(agent.resume_work_item(&first), 0);
    c.wait_for(m, WAIT, |x| *x == Call::WorkItemSuspended(second.clone()))
        .unwrap_or_else(|| panic!("{:#?}", &c.calls()[m..]));
    c.wait_for(m, WAIT, |x| *x == Call::WorkItemResumed(first.clone()))
        .unwrap();
    // And back with the toolbar's switch button.
    let m = c.mark();
    agent.run_command("AlternateCall").unwrap();
    c.wait_for(m, WAIT, |x| *x == Call::WorkItemResumed(second.clone()))
        .unwrap();
    // And back through the toolbar's work-item list (WorkItemList: SetCurrentWorkItem with
    // {@SelectedWorkItem:DriverWorkTrackID}).
    let m = c.mark();
    let ran = agent.select_work_item(&first).unwrap();
    assert_eq!(
        (ran[0].device_command.as_str(), ran[0].result),
        ("SetCurrentWorkItem", 0)
    );
    c.wait_for(m, WAIT, |x| *x == Call::WorkItemSuspended(second.clone()))
        .unwrap_or_else(|| panic!("{:#?}", &c.calls()[m..]));
    c.wait_for(m, WAIT, |x| *x == Call::WorkItemResumed(first.clone()))
        .unwrap();
    // An unknown work item is refused at once.
    assert_eq!(agent.resume_work_item("no-such-call"), 13);
}

/// The toolbar's enabled commands (neither disabled nor unsupported), for step checks;
/// without the ones every step has (ResetState while logged in) or every call has
/// (SetCurrentWorkItem), which `toolbar.md`'s matrices and their own tests cover.
/// SetLogLevel stays greyed: these agents are no administrators.
fn enabled(c: &scs_sim::Client) -> Vec<String> {
    let steady = ["ResetState", "SetCurrentWorkItem"];
    c.toolbar()
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.2 & (D | NS) == 0 && !steady.contains(&t.0.as_str()))
        .map(|t| t.0)
        .collect()
}

/// Waits until exactly these commands are enabled.
fn step(c: &scs_sim::Client, want: &[&str]) {
    wait_until(
        &format!("a toolbar enabling exactly {want:?}"),
        WAIT,
        || {
            let now = enabled(c);
            if now == want {
                Ok(())
            } else {
                Err(now)
            }
        },
    )
}

const ON_CALL: [&str; 10] = [
    "ChangeReadyState",
    "ChangeNotReadyState",
    "ChangeWorkReadyState",
    "SetWrapUpReason",
    "ReleaseCall",
    "HoldCall",
    "InitTransfer",
    "InitConference",
    "TransferMute",
    "SendDTMF",
];

#[test]
fn a_day_in_the_life_of_an_agent() {
    let (chain, engine) = chain_with_engine(Deployment::Ucce, 1);
    let id = chain.agents[0].id.clone();
    let mut agent = chain.session(0);
    let c = agent.client.clone();
    step(&c, &["LogIn"]);

    // Login, Ready.
    let m = c.mark();
    agent.run_command("SignOnGroup").unwrap();
    wait_event(&c, m, "EventAgentLogin");
    step(&c, &["LogOut", "ChangeReadyState", "MakeCall"]);
    agent.run_command("Ready").unwrap();
    wait_event(&c, m, "EventAgentReady");
    step(&c, &["ChangeNotReadyState", "MakeCall"]);

    // Three inbound calls with screen pops: single, multiple and no match; the third one is
    // consult-transferred.
    for (ani, pop) in [
        ("4085551234", "single"),
        ("6505550000", "multi"),
        ("2125550000", "none"),
    ] {
        let m = c.mark();
        let d = place(chain.sim(), &id, ani, json!({}));
        wait_event(&c, m, "EventRinging");
        step(
            &c,
            &[
                "ChangeReadyState",
                "ChangeNotReadyState",
                "ChangeWorkReadyState",
                "SetWrapUpReason",
                "AnswerCall",
            ],
        );
        let o = wait_outcome(&engine, &d, "InboundCall");
        match (pop, &o.pop) {
            ("single", Some(Pop::Single { .. }))
            | ("multi", Some(Pop::Multi { .. }))
            | ("none", Some(Pop::Find { .. })) => {}
            (want, got) => panic!("{want} pop expected, got {got:?}"),
        }
        agent.run_command("AnswerCall").unwrap();
        wait_event(&c, m, "EventEstablished");
        step(&c, &ON_CALL);
        let m = c.mark();
        if pop != "none" {
            agent.run_command("ReleaseCall").unwrap();
            wait_event(&c, m, "EventReleased");
            wait_event(&c, m, "EventAgentReady");
            step(&c, &["ChangeNotReadyState", "MakeCall"]);
            continue;
        }
        start_consult(&mut agent, chain.sim(), m, "InitTransfer", "5552000");
        agent.run_command("CompleteTransfer").unwrap();
        wait_released(&c, m, &d);
        wait_event(&c, m, "EventAgentReady");
        step(&c, &["ChangeNotReadyState", "MakeCall"]);
    }

    // A conference, then wrap-up with a reason.
    let m = c.mark();
    let d = place(chain.sim(), &id, "4085551234", json!({}));
    wait_event(&c, m, "EventRinging");
    agent.run_command("AnswerCall").unwrap();
    wait_event(&c, m, "EventEstablished");
    let m = c.mark();
    let consult = start_consult(&mut agent, chain.sim(), m, "InitConference", "5553000");
    agent.run_command("CompleteConference").unwrap();
    wait_released(&c, m, &consult);
    let m = c.mark();
    agent.invoke("ChangeWorkReadyState", "", &[]);
    wait_toolbar(&c, m, "ChangeWorkReadyState", N | B);
    agent.invoke("SetWrapUpReason", "Sale", &[]);
    let m = c.mark();
    agent.run_command("ReleaseCall").unwrap();
    wait_released(&c, m, &d);
    wait_event(&c, m, "EventAgentWork");
    step(
        &c,
        &["ChangeReadyState", "ChangeNotReadyState", "SetWrapUpReason"],
    );

    // Not Ready with a reason, an outbound call to the selected contact, logout.
    let m = c.mark();
    agent.invoke("ChangeNotReadyState", "2", &[]);
    let ev = wait_event(&c, m, "EventAgentNotReady");
    assert_eq!(ev.field("ReasonLabel"), Some("Lunch"));
    step(&c, &["LogOut", "ChangeReadyState", "MakeCall"]);
    let m = c.mark();
    agent.select_record(&[("Id", "1-CAL"), ("Work Phone #", "5551000")]);
    agent.run_command("MakeCallToContact").unwrap();
    let out = wait_event(&c, m, "EventDialing")
        .field("DialogId")
        .unwrap()
        .to_string();
    far_end_answers(chain.sim(), &out);
    wait_event(&c, m, "EventEstablished");
    agent.run_command("ReleaseCall").unwrap();
    wait_event(&c, m, "EventReleased");
    wait_event(&c, m, "EventAgentNotReady");
    step(&c, &["LogOut", "ChangeReadyState", "MakeCall"]);
    let m = c.mark();
    agent.run_command("SignOff").unwrap();
    wait_event(&c, m, "EventAgentLogout");
    step(&c, &["LogIn"]);

    // The activities of the day: 4 inbound calls, the agent's 2 consultation calls (outbound
    // consult, linked to no contact) and 1 outbound call, all closed.
    let acts = wait_activities(&engine, 7);
    let kinds: Vec<(&str, &str)> = acts
        .iter()
        .map(|a| (a.activity_type.as_str(), a.contact_id.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Call - Inbound", "1-ANN"),
            ("Call - Inbound", ""),
            ("Call - Inbound", ""),
            ("Call - Outbound", ""),
            ("Call - Inbound", "1-ANN"),
            ("Call - Outbound", ""),
            ("Call - Outbound", "1-CAL"),
        ],
        "{acts:#?}"
    );
    assert_eq!(acts[3].description, "Consultation call to 5552000");
    assert_eq!(acts[5].description, "Consultation call to 5553000");
    assert!(acts
        .iter()
        .all(|a| a.after_work.get("Status").map(String::as_str) == Some("Done")));
}
