//! Calls: offered, answered, dropped, consulted and transferred, wrapped up, failed.

use crate::fixture::{
    actions, call_variables, fixture, fixture_with, participants, text, user_state,
};
use finesse_sim::{xml, Deployment};

/// The admin API's call of a customer with call data: ANI, DNIS, a call variable and an ECC one.
const CUSTOMER_CALL: &str = r#""ani":"4085550100","dnis":"8005551000","callVariables":{"callVariable1":"acct-42"},"ecc":{"user.case":"C-7"}"#;

/// Asserts that the dialog at `path` of `update` carries [`CUSTOMER_CALL`]'s call variable
/// and ECC variable.
fn assert_customer_data(update: &xml::Element, path: &str) {
    let vars = call_variables(update, path);
    assert!(
        vars.contains(&("callVariable1".into(), "acct-42".into())),
        "{vars:?}"
    );
    assert!(
        vars.contains(&("user.case".into(), "C-7".into())),
        "{vars:?}"
    );
}

#[test]
fn inbound_call_is_offered_answered_and_dropped() {
    let mut f = fixture(Deployment::Ucce);
    f.log_in_ready("5001");

    let dialog_id = f.offer_call(CUSTOMER_CALL);

    let u = f.update("/Dialogs", |u| text(u, "event") == "POST");
    assert_eq!(text(&u, "data/dialogs/Dialog/id"), dialog_id);
    assert_eq!(text(&u, "data/dialogs/Dialog/state"), "ALERTING");
    assert_eq!(text(&u, "data/dialogs/Dialog/fromAddress"), "4085550100");
    assert_eq!(
        text(&u, "data/dialogs/Dialog/mediaProperties/callType"),
        "ACD_IN"
    );
    assert!(
        text(
            &u,
            "data/dialogs/Dialog/participants/Participant/actions/action"
        ) == "ANSWER"
    );
    assert_customer_data(&u, "data/dialogs/Dialog");
    f.update("", |u| user_state(u) == "RESERVED");

    f.answer(&dialog_id, "5001", "ans");
    let u = f.update("/Dialogs", |u| {
        text(u, "event") == "PUT" && text(u, "requestId") == "ans"
    });
    assert_eq!(text(&u, "data/dialog/state"), "ACTIVE");
    assert_eq!(
        text(&u, "source"),
        format!("/finesse/api/Dialog/{dialog_id}")
    );
    f.update("", |u| user_state(u) == "TALKING");

    let list = f.rest("GET", &format!("/User/{}/Dialogs", f.agent.id), "", "");
    assert_eq!(
        text(&xml::parse(&list.body).unwrap(), "Dialog/id"),
        dialog_id
    );

    let drop = "<Dialog><requestedAction>DROP</requestedAction><targetMediaAddress>5001</targetMediaAddress></Dialog>";
    f.put_dialog(&dialog_id, drop, "drop");
    let u = f.update("/Dialogs", |u| text(u, "event") == "DELETE");
    assert_eq!(text(&u, "requestId"), "drop");
    assert_eq!(text(&u, "data/dialogs/Dialog/id"), dialog_id);
    f.update("", |u| user_state(u) == "READY");
    f.sim.stop();
}

#[test]
fn uccx_refuses_single_step_transfer() {
    let mut f = fixture(Deployment::Uccx);
    f.put_state("<state>LOGIN</state><extension>5001</extension>", "");
    let dialog_id = f.offer_call(r#""ani":"100""#);
    f.update("/Dialogs", |u| text(u, "event") == "POST");
    let answer = "<Dialog><requestedAction>ANSWER</requestedAction></Dialog>";
    let r = f.rest("PUT", &format!("/Dialog/{dialog_id}"), answer, "");
    assert_eq!(r.status, 400, "targetMediaAddress is required");
    assert!(r.body.contains("Parameter Missing"), "{}", r.body);
    f.answer(&dialog_id, "5001", "");
    let u = f.update("/Dialogs", |u| text(u, "data/dialog/state") == "ACTIVE");
    let actions: Vec<String> = u
        .find("data/dialog/participants/Participant/actions")
        .unwrap()
        .elements()
        .map(|a| a.text())
        .collect();
    assert!(
        !actions.contains(&"TRANSFER_SST".to_string()),
        "{actions:?}"
    );
    let sst = "<Dialog><requestedAction>TRANSFER_SST</requestedAction><toAddress>6000</toAddress><targetMediaAddress>5001</targetMediaAddress></Dialog>";
    let r = f.rest("PUT", &format!("/Dialog/{dialog_id}"), sst, "");
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("<ApiErrors>"));
    f.sim.stop();
}

#[test]
fn consult_to_another_agent_then_transfer_hands_the_customer_over() {
    let mut f = fixture_with(Deployment::Ucce, 2);
    let mut b = f.others.pop().unwrap();
    f.put_state("<state>LOGIN</state><extension>5001</extension>", "");
    b.put_state("<state>LOGIN</state><extension>5002</extension>", "");
    assert_eq!(b.put_state("<state>READY</state>", "").status, 202);
    b.update("", |u| user_state(u) == "READY");

    let original = f.offer_call(CUSTOMER_CALL);
    f.update("/Dialogs", |u| text(u, "event") == "POST");
    f.answer(&original, "5001", "");
    f.update("/Dialogs", |u| text(u, "data/dialog/state") == "ACTIVE");

    // A consults B's extension.
    let consult_body = "<Dialog><requestedAction>CONSULT_CALL</requestedAction><toAddress>5002</toAddress><targetMediaAddress>5001</targetMediaAddress></Dialog>";
    let r = f.rest("POST", &format!("/Dialog/{original}"), consult_body, "cons");
    assert_eq!(r.status, 202, "{}", r.body);
    let u = f.update("/Dialogs", |u| {
        text(u, "event") == "POST"
            && text(u, "data/dialogs/Dialog/mediaProperties/callType") == "CONSULT"
    });
    assert_eq!(text(&u, "requestId"), "cons");
    let consult = text(&u, "data/dialogs/Dialog/id");
    let u = f.update("/Dialogs", |u| {
        text(u, "data/dialog/id") == consult && text(u, "data/dialog/state") == "INITIATED"
    });
    assert!(participants(&u, "data/dialog").contains(&("5002".into(), "ALERTING".into())));

    // B is offered a CONSULT dialog carrying the customer's call data.
    let u = b.update("/Dialogs", |u| text(u, "event") == "POST");
    let d = "data/dialogs/Dialog";
    let target = text(&u, &format!("{d}/id"));
    assert_eq!(text(&u, &format!("{d}/state")), "ALERTING");
    assert_eq!(text(&u, &format!("{d}/fromAddress")), "5001");
    assert_eq!(text(&u, &format!("{d}/toAddress")), "5002");
    assert_eq!(
        text(&u, &format!("{d}/mediaProperties/callType")),
        "CONSULT"
    );
    assert_eq!(text(&u, &format!("{d}/mediaProperties/DNIS")), "8005551000");
    assert_customer_data(&u, d);
    assert_eq!(actions(&u, d)[0], "ANSWER");
    b.update("", |u| user_state(u) == "RESERVED");

    // B answers: both legs ACTIVE.
    b.answer(&target, "5002", "b-ans");
    let u = b.update("/Dialogs", |u| text(u, "requestId") == "b-ans");
    assert_eq!(text(&u, "data/dialog/state"), "ACTIVE");
    b.update("", |u| user_state(u) == "TALKING");
    // Cisco's table: the held original now offers TRANSFER and CONFERENCE (its update comes
    // first), then the consult is ACTIVE.
    let u = f.update("/Dialogs", |u| {
        text(u, "data/dialog/id") == original
            && actions(u, "data/dialog").contains(&"CONFERENCE".to_string())
    });
    let a_actions = actions(&u, "data/dialog");
    assert!(a_actions.contains(&"TRANSFER".to_string()), "{a_actions:?}");
    f.update("/Dialogs", |u| {
        text(u, "data/dialog/id") == consult && text(u, "data/dialog/state") == "ACTIVE"
    });

    // A completes the transfer.
    let transfer = "<Dialog><requestedAction>TRANSFER</requestedAction><targetMediaAddress>5001</targetMediaAddress></Dialog>";
    f.put_dialog(&consult, transfer, "xfer");
    let u = f.update("/Dialogs", |u| text(u, "event") == "DELETE");
    assert_eq!(text(&u, "data/dialogs/Dialog/id"), consult);
    let u = f.update("/Dialogs", |u| text(u, "event") == "DELETE");
    assert_eq!(text(&u, "data/dialogs/Dialog/id"), original);
    f.update("", |u| {
        user_state(u) == "NOT_READY" && text(u, "requestId") == "xfer"
    });
    // B: a DELETE of its consult dialog, then a POST of the original call's dialog.
    let u = b.update("/Dialogs", |u| text(u, "event") == "DELETE");
    assert_eq!(text(&u, "data/dialogs/Dialog/id"), target);
    let u = b.update("/Dialogs", |u| text(u, "event") == "POST");
    let d = "data/dialogs/Dialog";
    let moved = text(&u, &format!("{d}/id"));
    assert_ne!(moved, target);
    assert_eq!(text(&u, &format!("{d}/secondaryId")), target);
    assert_eq!(text(&u, &format!("{d}/state")), "ACTIVE");
    assert_eq!(text(&u, &format!("{d}/fromAddress")), "4085550100");
    assert_eq!(
        text(&u, &format!("{d}/mediaProperties/callType")),
        "TRANSFER"
    );
    assert!(!text(&u, &format!("{d}/mediaProperties/callKeyCallId")).is_empty());
    assert!(call_variables(&u, d).contains(&("callVariable1".into(), "acct-42".into())));
    assert_eq!(
        participants(&u, d),
        vec![
            ("5002".to_string(), "ACTIVE".to_string()),
            ("4085550100".to_string(), "ACTIVE".to_string())
        ]
    );
    let target = moved;

    let list = f.rest("GET", &format!("/User/{}/Dialogs", f.agent.id), "", "");
    assert!(
        xml::parse(&list.body).unwrap().elements().next().is_none(),
        "{}",
        list.body
    );
    let list = b.rest("GET", &format!("/User/{}/Dialogs", b.agent.id), "", "");
    let dialogs = xml::parse(&list.body).unwrap();
    assert_eq!(text(&dialogs, "Dialog/id"), target);
    assert_eq!(text(&dialogs, "Dialog/state"), "ACTIVE");
    assert_eq!(
        participants(&dialogs, "Dialog")[1].0,
        "4085550100",
        "{}",
        list.body
    );
    let state: serde_json::Value =
        serde_json::from_str(&f.admin("GET", "/state", "").body).unwrap();
    let agent_state = |id: &str| {
        state["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .map(|a| a["state"].clone())
    };
    assert_eq!(agent_state(&f.agent.id), Some("NOT_READY".into()));
    assert_eq!(agent_state(&b.agent.id), Some("TALKING".into()));
    f.sim.stop();
}

#[test]
fn a_call_ending_in_wrap_up_keeps_its_dialog_until_the_agent_is_ready() {
    let mut f = fixture(Deployment::Ucce);
    f.log_in_ready("5001");
    let dialog_id = f.offer_call(r#""ani":"4085550100""#);
    f.update("/Dialogs", |u| text(u, "event") == "POST");
    f.answer(&dialog_id, "5001", "");
    f.update("", |u| user_state(u) == "TALKING");
    assert_eq!(f.put_state("<state>WORK_READY</state>", "wr").status, 202);
    let u = f.update("", |u| text(u, "requestId") == "wr");
    assert_eq!(text(&u, "data/user/pendingState"), "WORK_READY");

    // The far end hangs up: a PUT with the agent's leg in WRAP_UP, no DELETE.
    let r = f.admin("POST", &format!("/calls/{dialog_id}/hangup"), "");
    assert_eq!(r.status, 200, "{}", r.body);
    let u = f.update("/Dialogs", |_| true); // the first dialog update after the hang-up
    assert_eq!(text(&u, "event"), "PUT");
    assert_eq!(text(&u, "data/dialog/id"), dialog_id);
    assert_eq!(text(&u, "data/dialog/state"), "DROPPED");
    let legs: Vec<(String, String, String)> = u
        .find("data/dialog/participants")
        .unwrap()
        .elements()
        .map(|p| {
            (
                text(p, "mediaAddress"),
                text(p, "state"),
                text(p, "actions/action"),
            )
        })
        .collect();
    assert_eq!(
        legs,
        [
            ("5001".into(), "WRAP_UP".into(), "UPDATE_CALL_DATA".into()),
            ("4085550100".into(), "DROPPED".into(), String::new()),
        ]
    );
    let u = f.update("", |u| user_state(u) == "WORK_READY");
    assert_eq!(text(&u, "data/user/pendingState"), "");
    let list = f.rest("GET", &format!("/User/{}/Dialogs", f.agent.id), "", "");
    let list = xml::parse(&list.body).unwrap();
    assert_eq!(text(&list, "Dialog/id"), dialog_id);
    assert_eq!(
        text(&list, "Dialog/participants/Participant/state"),
        "WRAP_UP"
    );

    // Only UPDATE_CALL_DATA is allowed; the wrap-up reason is stored and echoed.
    let drop = "<Dialog><requestedAction>DROP</requestedAction><targetMediaAddress>5001</targetMediaAddress></Dialog>";
    let r = f.rest("PUT", &format!("/Dialog/{dialog_id}"), drop, "");
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("<ErrorType>Invalid State</ErrorType>"),
        "{}",
        r.body
    );
    let update = "<Dialog><requestedAction>UPDATE_CALL_DATA</requestedAction><targetMediaAddress>5001</targetMediaAddress><mediaProperties><wrapUpReason>Sale</wrapUpReason></mediaProperties></Dialog>";
    f.put_dialog(&dialog_id, update, "wu");
    let u = f.update("/Dialogs", |u| text(u, "requestId") == "wu");
    assert_eq!(text(&u, "event"), "PUT");
    assert_eq!(text(&u, "data/dialog/mediaProperties/wrapUpReason"), "Sale");
    let d = f.rest("GET", &format!("/Dialog/{dialog_id}"), "", "");
    assert_eq!(
        text(
            &xml::parse(&d.body).unwrap(),
            "mediaProperties/wrapUpReason"
        ),
        "Sale"
    );
    let state: serde_json::Value =
        serde_json::from_str(&f.admin("GET", "/state", "").body).unwrap();
    let listed = state["dialogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == dialog_id.as_str())
        .expect("the wrap-up dialog is listed");
    assert_eq!(listed["agentLegState"], "WRAP_UP");
    assert_eq!(listed["wrapUpReason"], "Sale");

    // READY ends wrap-up: the dialog is deleted.
    assert_eq!(f.put_state("<state>READY</state>", "rd").status, 202);
    let u = f.update("/Dialogs", |u| text(u, "event") == "DELETE");
    assert_eq!(text(&u, "requestId"), "rd");
    assert_eq!(text(&u, "data/dialogs/Dialog/id"), dialog_id);
    f.update("", |u| {
        user_state(u) == "READY" && text(u, "requestId") == "rd"
    });
    let list = f.rest("GET", &format!("/User/{}/Dialogs", f.agent.id), "", "");
    assert!(xml::parse(&list.body).unwrap().find("Dialog").is_none());
    f.sim.stop();
}

#[test]
fn a_busy_make_call_from_ready_fails_with_an_async_error_naming_the_dialog() {
    let mut f = fixture(Deployment::Ucce);
    f.log_in_ready("5001");
    // UCCE 12.5(1): MAKE_CALL from READY moves the agent to NOT_READY (reason 50006) first.
    let body = "<Dialog><requestedAction>MAKE_CALL</requestedAction><fromAddress>5001</fromAddress><toAddress>5551000</toAddress></Dialog>";
    let r = f.rest("POST", &format!("/User/{}/Dialogs", f.agent.id), body, "mc");
    assert_eq!(r.status, 202, "{}", r.body);
    let u = f.update("", |u| user_state(u) == "NOT_READY");
    assert_eq!(text(&u, "data/user/reasonCodeId"), "50006");
    let u = f.update("/Dialogs", |u| text(u, "event") == "POST");
    let dialog = text(&u, "data/dialogs/Dialog/id");
    f.update("/Dialogs", |u| text(u, "data/dialog/state") == "INITIATED");

    // The far end is busy: FAILED (cause BUSY), then the asynchronous error.
    assert_eq!(
        f.admin("POST", &format!("/calls/{dialog}/busy"), "{}")
            .status,
        200
    );
    let u = f.update("/Dialogs", |u| text(u, "data/dialog/state") == "FAILED");
    assert_eq!(
        text(&u, "data/dialog/participants/Participant/stateCause"),
        "BUSY"
    );
    assert_eq!(actions(&u, "data/dialog"), vec!["DROP".to_string()]);
    let e = f.update("/Dialogs", |u| u.find("data/apiErrors").is_some());
    assert_eq!(text(&e, "source"), format!("/finesse/api/Dialog/{dialog}"));
    assert_eq!(
        text(&e, "data/apiErrors/apiError/errorType"),
        "Generic Error"
    );
    assert_eq!(text(&e, "data/apiErrors/apiError/errorMessage"), "CF_BUSY");

    // It stays until the agent drops it.
    let list = f.rest("GET", &format!("/User/{}/Dialogs", f.agent.id), "", "");
    assert_eq!(
        text(&xml::parse(&list.body).unwrap(), "Dialog/state"),
        "FAILED"
    );
    let drop = "<Dialog><requestedAction>DROP</requestedAction><targetMediaAddress>5001</targetMediaAddress></Dialog>";
    f.put_dialog(&dialog, drop, "dr");
    let u = f.update("/Dialogs", |u| text(u, "event") == "DELETE");
    assert_eq!(text(&u, "requestId"), "dr");
    f.sim.stop();
}
