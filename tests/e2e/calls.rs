//! Call control, work items and the Siebel side of a call (screen pops, activities in
//! SQLite) through the whole chain.

use std::sync::Arc;
use std::time::Duration;

use finesse_sim::Deployment;
use scs_sim::engine::{Contact, Engine, Pop};
use scs_sim::Call;
use serde_json::json;

use crate::chain::*;
use crate::common::*;

/// The contact store: one contact on 4085551234, two sharing 6505550000, none elsewhere.
fn contacts() -> Vec<Contact> {
    let c = |id: &str, first: &str, last: &str, phone: &str| Contact {
        id: id.into(),
        first_name: first.into(),
        last_name: last.into(),
        work_phone: phone.into(),
        account_id: format!("ACC-{id}"),
    };
    vec![
        c("1-ANN", "Ann", "Archer", "4085551234"),
        c("1-BOB", "Bob", "Baker", "6505550000"),
        c("1-BEA", "Bea", "Baker", "6505550000"),
        c("1-CAL", "Cal", "Cole", "5551000"),
    ]
}

/// A chain whose Siebel side runs the DEF's event responses into a SQLite file.
pub(crate) fn chain_with_engine(deployment: Deployment, n: usize) -> (Chain, Arc<Engine>) {
    let mut chain = Chain::start_with(
        deployment,
        n,
        &[("Driver:CedVariable", "callVariable2")],
        "",
    );
    let db = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{}.sqlite", unique("activities")));
    let engine =
        Arc::new(Engine::new(template(def_name(deployment)), contacts(), Some(&db)).unwrap());
    chain.server.set_engine(engine.clone());
    (chain, engine)
}

/// Waits until the engine ran `handler` for the work item `tracking`.
pub(crate) fn wait_outcome(
    engine: &Engine,
    tracking: &str,
    handler: &str,
) -> scs_sim::engine::Outcome {
    wait_until(&format!("the {handler} run for {tracking}"), WAIT, || {
        let all = engine.outcomes();
        all.iter()
            .find(|o| o.tracking == tracking && o.handler == handler)
            .cloned()
            .ok_or(all)
    })
}

/// Waits until the engine logged exactly `n` activities, each closed with its after-call
/// fields.
fn wait_activities(engine: &Engine, n: usize) -> Vec<scs_sim::engine::Activity> {
    wait_until(&format!("{n} closed activities"), WAIT, || {
        let acts = engine.activities().unwrap();
        if acts.len() == n && acts.iter().all(|a| !a.after_work.is_empty()) {
            Ok(acts)
        } else {
            Err(acts)
        }
    })
}

#[test]
fn inbound_call_data_answer_hold_resume_release_with_pops_and_activities() {
    let (chain, engine) = chain_with_engine(Deployment::Ucce, 1);
    let mut agent = logged_in(&chain, 0, true);
    let c = agent.client.clone();

    // Single match: ring with the call data, pop the contact, log the activity.
    let m = c.mark();
    let dialog = place(
        chain.sim(),
        &chain.agents[0].id,
        "4085551234",
        json!({"callVariables": {"callVariable1": "42", "callVariable2": "1-ANN"}, "ecc": {"user.account": "A-9"}}),
    );
    let new = c
        .wait_for(m, WAIT, |x| matches!(x, Call::IndicateNewWorkItem { .. }))
        .unwrap();
    assert_eq!(
        new,
        Call::IndicateNewWorkItem {
            tracking_id: dialog.clone(),
            old_tracking_id: String::new(),
            description: "Call from 4085551234".into(),
            mode: 1
        }
    );
    let ring = wait_event(&c, m, "EventRinging");
    for (k, v) in [
        ("ANI", "4085551234"),
        ("DNIS", "8001"),
        ("CallVariable1", "42"),
        ("user.account", "A-9"),
        ("CED", "1-ANN"),
        ("Direction", "Inbound"),
    ] {
        assert_eq!(ring.field(k), Some(v), "{k} in {ring:?}");
    }
    assert!(matches!(ring, Call::HandleEvent { ref tracking_id, .. } if *tracking_id == dialog));
    wait_toolbar(&c, m, "AnswerCall", N | B);
    // The communication dashboard is filled from the call data.
    let dashboard = engine.dashboard();
    for (k, v) in [
        ("Calling Number", "4085551234"),
        ("Dialed Number", "8001"),
        ("Entered Digits", "1-ANN"),
        ("Call Variable 1", "42"),
    ] {
        assert!(
            dashboard.contains(&(k.to_string(), v.to_string())),
            "{k}={v} in {dashboard:?}"
        );
    }
    // The caller-entered digits (CED) name the contact: the CED handler wins.
    let o = wait_outcome(&engine, &dialog, "InboundCallWithCED");
    assert_eq!(
        o.pop,
        Some(Pop::Single {
            view: "Contact Detail View".into(),
            id: "1-ANN".into()
        })
    );

    let m = c.mark();
    agent.run_command("AnswerCall").unwrap();
    let started = c
        .wait_for(m, WAIT, |x| matches!(x, Call::WorkItemStarted { .. }))
        .unwrap();
    wait_event(&c, m, "EventEstablished");
    let start_time = match started {
        Call::WorkItemStarted {
            start_time,
            tracking_id,
            ..
        } => {
            assert_eq!(tracking_id, dialog);
            start_time
        }
        _ => unreachable!(),
    };
    wait_toolbar(&c, m, "HoldCall", N);
    assert_eq!(
        flags(&c, "TransferMute"),
        N | 32,
        "blind transfer offered under UCCE"
    );
    let health = get_json(&format!("{}/health", chain.monitor()));
    assert!(
        health["calls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == dialog.as_str() && x["state"] == "ACTIVE"),
        "the console lists the call: {health}"
    );

    let m = c.mark();
    agent.run_command("HoldCall").unwrap();
    wait_event(&c, m, "EventHeld");
    assert!(c.calls()[m..].contains(&Call::WorkItemSuspended(dialog.clone())));
    wait_toolbar(&c, m, "RetrieveCall", N);
    let m = c.mark();
    agent.run_command("RetrieveCall").unwrap();
    wait_event(&c, m, "EventRetrieved");
    assert!(c.calls()[m..].contains(&Call::WorkItemResumed(dialog.clone())));

    // A deliberate pause, not a poll: the call lasts over a second, which the timer and the
    // activity's duration (whole seconds) must show.
    std::thread::sleep(Duration::from_millis(1100));
    let m = c.mark();
    agent.run_command("ReleaseCall").unwrap();
    wait_event(&c, m, "EventReleased");
    let stop = c
        .wait_for(m, WAIT, |x| matches!(x, Call::WorkItemReleased { .. }))
        .unwrap();
    match stop {
        Call::WorkItemReleased {
            stop_time,
            tracking_id,
        } => {
            assert_eq!(tracking_id, dialog);
            assert!(
                stop_time > start_time,
                "the phone call timer ran: {start_time}..{stop_time}"
            );
        }
        _ => unreachable!(),
    }
    wait_toolbar(&c, m, "AnswerCall", N | D);

    // Several matches, then none: the list view and the find dialog.
    // The second call is routed by a queue to the (only) Ready agent.
    wait_event(&c, m, "EventAgentReady");
    let m = c.mark();
    let d2 = new_call(
        chain.sim(),
        json!({"queue": "Sales", "ani": "6505550000", "dnis": "8002"}),
    );
    let ring = wait_event(&c, m, "EventRinging");
    assert_eq!(ring.field("QueueName"), Some("Sales"), "{ring:?}");
    let o = wait_outcome(&engine, &d2, "InboundCall");
    assert_eq!(
        o.pop,
        Some(Pop::Multi {
            view: "Contact List View".into(),
            ids: vec!["1-BOB".into(), "1-BEA".into()]
        })
    );
    hang_up(chain.sim(), &d2);
    let d3 = place(chain.sim(), &chain.agents[0].id, "2125550000", json!({}));
    let o = wait_outcome(&engine, &d3, "InboundCall");
    assert_eq!(
        o.pop,
        Some(Pop::Find {
            dialog: "Contact".into(),
            fields: vec![("Work Phone #".into(), "2125550000".into())]
        })
    );
    hang_up(chain.sim(), &d3);

    // The activities, with the after-call fields once each call ended.
    let acts = wait_activities(&engine, 3);
    assert_eq!(acts.len(), 3, "{acts:#?}");
    assert_eq!(acts[0].tracking, dialog);
    assert_eq!(acts[0].contact_id, "1-ANN");
    assert_eq!(acts[0].activity_type, "Call - Inbound");
    assert_eq!(acts[0].fields["Call Id"], dialog);
    assert_eq!(acts[0].after_work["Status"], "Done");
    let secs: u64 = acts[0].after_work["ACD Call Duration"].parse().unwrap();
    assert!(secs >= 1, "duration {secs}");
    assert_eq!(acts[1].contact_id, "", "several contacts: not linked");
    assert_eq!(acts[1].event_log, "LogInboundCallMultipleContacts");
    assert_eq!(acts[2].event_log, "LogInboundCallContactNotFound");
    assert_eq!(acts[2].description, "Inbound call from 2125550000");
}

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
/// without the ones every step has (SetLogLevel always, ResetState while logged in) or every
/// call has (SetCurrentWorkItem), which `toolbar.md`'s matrices and their own tests cover.
fn enabled(c: &scs_sim::Client) -> Vec<String> {
    let steady = ["SetLogLevel", "ResetState", "SetCurrentWorkItem"];
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

#[test]
fn a_consult_call_pops_the_customer_on_the_consulted_agents_screen() {
    let (chain, engine) = chain_with_engine(Deployment::Ucce, 2);
    let (a_id, b_ext) = (
        chain.agents[0].id.clone(),
        chain.agents[1].extension.clone(),
    );
    let mut first = logged_in(&chain, 0, true);
    let mut second = logged_in(&chain, 1, false);
    let (c1, c2) = (first.client.clone(), second.client.clone());
    // The routing script put the caller's number in call variable 10.
    let m = c1.mark();
    place(
        chain.sim(),
        &a_id,
        "4085551234",
        json!({"callVariables": {"callVariable10": "4085551234"}}),
    );
    wait_event(&c1, m, "EventRinging");
    first.run_command("AnswerCall").unwrap();
    wait_event(&c1, m, "EventEstablished");

    // Agent A consults agent B: B's phone rings with the customer's call data.
    let m2 = c2.mark();
    first.invoke("InitTransfer", &b_ext, &[]);
    let ring = wait_event(&c2, m2, "EventRinging");
    assert_eq!(ring.field("CallType"), Some("CONSULT"));
    assert_eq!(ring.field("CallVariable10"), Some("4085551234"));
    let consult = ring.field("DialogId").unwrap().to_string();
    let o = wait_outcome(&engine, &consult, "InboundConsultCall");
    assert_eq!(
        o.pop,
        Some(Pop::Single {
            view: "Contact Detail View".into(),
            id: "1-ANN".into()
        }),
        "the consulted agent sees the customer"
    );
    // B answers, A completes the transfer: B keeps the customer.
    let m2 = c2.mark();
    let m = c1.mark();
    second.invoke("AnswerCall", "", &[]);
    wait_event(&c2, m2, "EventEstablished");
    wait_toolbar(&c1, m, "CompleteTransfer", N);
    first.run_command("CompleteTransfer").unwrap();
    wait_event(&c1, m, "EventReleased");
    wait_event(&c1, m, "EventAgentReady");
    // Cisco: B's consult dialog is deleted and the original call's dialog is posted to B: a
    // new work item with the customer's call data, and the customer pops again.
    wait_released(&c2, m2, &consult);
    let offered = c2
        .wait_for(m2, WAIT, |x| {
            x.event_name() == Some("EventRinging") && x.field("CallType") == Some("TRANSFER")
        })
        .expect("the transferred call is offered to B");
    assert_eq!(offered.field("CallVariable10"), Some("4085551234"));
    assert_eq!(offered.field("ANI"), Some("4085551234"));
    let moved = offered.field("DialogId").unwrap().to_string();
    assert_ne!(moved, consult);
    let o = wait_outcome(&engine, &moved, "InboundCall");
    assert_eq!(
        o.pop,
        Some(Pop::Single {
            view: "Contact Detail View".into(),
            id: "1-ANN".into()
        }),
        "B sees the customer of the transferred call"
    );
    c2.wait_for(m2, WAIT, |x| {
        x.event_name() == Some("EventEstablished") && x.field("DialogId") == Some(moved.as_str())
    })
    .expect("the transferred call is connected on B");
    let released = c2.wait_for(m2, Duration::from_millis(300), |x| is_released(x, &moved));
    assert_eq!(released, None, "the consulted agent keeps the call");
}

#[test]
fn a_campaign_call_is_logged_as_an_outbound_call() {
    let (chain, engine) = chain_with_engine(Deployment::Ucce, 1);
    let id = chain.agents[0].id.clone();
    let mut agent = logged_in(&chain, 0, true);
    let c = agent.client.clone();
    let m = c.mark();
    let d = place(
        chain.sim(),
        &id,
        "4085551234",
        json!({"callType": "OUTBOUND_PREVIEW"}),
    );
    let ev = wait_event(&c, m, "EventRinging");
    assert_eq!(ev.field("CallType"), Some("OUTBOUND_PREVIEW"));
    wait_outcome(&engine, &d, "CampaignCall");
    agent.run_command("AnswerCall").unwrap();
    wait_event(&c, m, "EventEstablished");
    let m = c.mark();
    agent.run_command("ReleaseCall").unwrap();
    wait_released(&c, m, &d);
    let acts = wait_activities(&engine, 1);
    assert_eq!(acts[0].activity_type, "Call - Outbound", "{acts:#?}");
    assert_eq!(acts[0].contact_id, "1-ANN");
    assert_eq!(acts[0].description, "Campaign call to 4085551234");
    assert!(acts[0].fields["Comment"].contains("OUTBOUND_PREVIEW"));
}
