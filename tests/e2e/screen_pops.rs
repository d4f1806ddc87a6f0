//! The Siebel side of a call through the whole chain: screen pops and activities in SQLite,
//! and the chain with an event engine that the call tests share.

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
pub(crate) fn wait_activities(engine: &Engine, n: usize) -> Vec<scs_sim::engine::Activity> {
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
