//! Pickers (`SelectApplet` command data) through the real library, ActiveMQ, the connector
//! and finesse-sim: reason codes from the driver's `EventReasonCodes`, colleagues from
//! scs-sim's employee list, the DTMF pad; the picked row's fields fill `[Field]`.

use finesse_sim::Deployment;
use scs_sim::picker::{field, EMPLOYEES};

use crate::chain::*;
use crate::common::*;

/// The picker's rows once it lists at least one (the reason codes come after the login).
fn rows(agent: &scs_sim::Agent, command: &str) -> Vec<scs_sim::picker::Row> {
    wait_until(&format!("{command}'s picker rows"), WAIT, || {
        match agent.picker(command) {
            Ok(Some(p)) if !p.rows.is_empty() => Ok(p.rows),
            other => Err(format!("{other:?}")),
        }
    })
}

#[test]
fn pickers_give_reasons_colleagues_and_dial_pad_keys() {
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
    let mut agent = logged_in(&chain, 0, true);
    let c = agent.client.clone();

    // Not Ready with a picked reason: the row's Code is the request's reason code.
    let reasons = rows(&agent, "NotReadyWithReason");
    assert!(reasons
        .iter()
        .all(|r| field(r, "Type") == Some("NOT_READY")));
    let code = field(&reasons[0], "Code").unwrap().to_string();
    let m = c.mark();
    let ran = agent.press_picked("NotReadyWithReason", 0).unwrap();
    assert_eq!(ran[0].device_command, "ChangeNotReadyState");
    assert_eq!(ran[0].result, 0);
    let ev = wait_event(&c, m, "EventAgentNotReady");
    assert_eq!(ev.field("ReasonCode"), Some(code.as_str()));
    // Unanswered, a picker command does not run.
    let e = agent.press("NotReadyWithReason").unwrap_err().to_string();
    assert!(e.contains("opens the picker"), "{e}");

    // Ready again, a call: consult a colleague picked from the employee list.
    let m = c.mark();
    agent.run_command("Ready").unwrap();
    wait_event(&c, m, "EventAgentReady");
    let (_original, _) = ring_and_answer(chain.sim(), &mut agent, &id, "4085551234");
    let colleagues = rows(&agent, "ConsultTransferToEmployee");
    assert_eq!(colleagues.len(), EMPLOYEES.len());
    let help = colleagues
        .iter()
        .position(|r| field(r, "Work Phone #") == Some("5550000"))
        .unwrap();
    let m = c.mark();
    agent
        .press_picked("ConsultTransferToEmployee", help)
        .unwrap();
    let dialing = wait_event(&c, m, "EventDialing");
    assert_eq!(dialing.field("ToAddress"), Some("5550000"));
    let consult = dialing.field("DialogId").unwrap().to_string();
    far_end_answers(chain.sim(), &consult);
    wait_event(&c, m, "EventEstablished");

    // The dial pad: 12 keys; the picked key is sent as DTMF on the current call.
    let keys = rows(&agent, "SendDTMFPad");
    assert_eq!(keys.len(), 12);
    let five = keys
        .iter()
        .position(|r| field(r, "Digit") == Some("5"))
        .unwrap();
    let m = c.mark();
    let ran = agent.press_picked("SendDTMFPad", five).unwrap();
    assert_eq!(
        (ran[0].device_command.as_str(), ran[0].result),
        ("SendDTMF", 0)
    );
    // The connector serves an agent's requests in order: once the transfer that follows is
    // done, the digit's answer came in, and it was no error.
    let done = c.mark();
    let ran = agent.press("ConsultativeTransferGroup").unwrap();
    assert_eq!(ran[0].command, "CompleteTransfer");
    wait_released(&c, done, &consult);
    assert!(
        no_event_since(&c, m, "EventError"),
        "{:#?}",
        &c.calls()[m..]
    );
}

#[test]
fn wrap_up_reasons_come_from_finesse_and_a_reason_outside_them_is_refused() {
    let chain = Chain::start_with(
        Deployment::Ucce,
        1,
        &[("Driver:WrapUpReasonCodes", "TRUE")],
        "",
    );
    let id = chain.agents[0].id.clone();
    let mut agent = logged_in(&chain, 0, true);
    let c = agent.client.clone();
    let (dialog, _) = ring_and_answer(chain.sim(), &mut agent, &id, "4085551234");
    // On a call, the picker lists Finesse's WrapUpReasons (the chain's finesse-sim has one).
    let reasons = rows(&agent, "WrapUpWithReason");
    let names: Vec<_> = reasons.iter().map(|r| field(r, "Name")).collect();
    assert_eq!(names, [Some("Sale")]);
    assert_eq!(field(&reasons[0], "Type"), Some("WRAP_UP"));
    let m = c.mark();
    agent.invoke("ChangeWorkReadyState", "", &[]);
    // Wrap-up asked for: pending, the button blinks.
    wait_toolbar(&c, m, "ChangeWorkReadyState", N | B);
    // A typed reason that is not one of Finesse's: refused with the list, nothing sent.
    let m = c.mark();
    let (_, track) = agent.invoke("SetWrapUpReason", "Refund", &[]);
    assert_eq!(
        wait_error(&c, m),
        (
            Some(track),
            "\"Refund\" is not one of your reasons: Sale.".into()
        )
    );
    // The refusal's last callback: nothing of it comes after the next mark.
    wait_status(&c, m, "\"Refund\" is not one of your reasons: Sale.");
    // The picked reason is stored on the call in Finesse.
    let m = c.mark();
    let ran = agent.press_picked("WrapUpWithReason", 0).unwrap();
    assert_eq!(
        (ran[0].device_command.as_str(), ran[0].result),
        ("SetWrapUpReason", 0)
    );
    let url = format!("{}/admin/state", chain.sim().base_url());
    wait_until("the picked wrap-up reason on the call", WAIT, || {
        let state = get_json(&url);
        let reason = state["dialogs"]
            .as_array()
            .and_then(|d| d.iter().find(|x| x["id"] == dialog.as_str()))
            .map(|d| d["wrapUpReason"].clone());
        if reason == Some(serde_json::json!("Sale")) {
            Ok(())
        } else {
            Err(state)
        }
    });
    assert!(
        no_event_since(&c, m, "EventError"),
        "{:#?}",
        &c.calls()[m..]
    );
}
