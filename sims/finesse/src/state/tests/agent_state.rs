//! Agent states: login, logout, reason codes, pending changes and wrap-up.

use super::*;

#[test]
fn timestamps_are_iso8601() {
    assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(format_millis(1_709_251_199_123), "2024-02-29T23:59:59.123Z");
}

#[test]
fn login_needs_an_extension_and_lands_in_not_ready() {
    let mut s = sim("UCCE");
    assert_eq!(
        s.change_state("1001", &req("LOGIN"), "")
            .unwrap_err()
            .error_type,
        "Parameter Missing"
    );
    assert_eq!(
        s.change_state("1001", &req("READY"), "")
            .unwrap_err()
            .error_type,
        "Invalid State"
    );
    login(&mut s);
    assert_eq!(s.agents["1001"].state, AgentState::NotReady);
}

#[test]
fn ucce_logout_only_from_not_ready_uccx_also_from_ready() {
    for (dep, ok) in [("UCCE", false), ("UCCX", true)] {
        let mut s = sim(dep);
        login(&mut s);
        s.change_state("1001", &req("READY"), "").unwrap();
        assert_eq!(
            s.change_state("1001", &req("LOGOUT"), "").is_ok(),
            ok,
            "{dep}"
        );
    }
}

#[test]
fn reason_codes_are_checked_by_category() {
    let mut s = sim("UCCE");
    login(&mut s);
    let mut r = req("NOT_READY");
    r.reason_code_id = Some("21".into()); // a LOGOUT code
    assert_eq!(
        s.change_state("1001", &r, "").unwrap_err().error_type,
        "Invalid Input"
    );
    r.reason_code_id = Some("11".into());
    s.change_state("1001", &r, "").unwrap();
    assert_eq!(s.agents["1001"].reason_code_id.as_deref(), Some("11"));
}

#[test]
fn state_requests_during_a_call_become_pending() {
    let mut s = sim("UCCE");
    login(&mut s);
    s.change_state("1001", &req("READY"), "").unwrap();
    let id = ring_1001(&mut s, "4085551234");
    assert_eq!(s.agents["1001"].state, AgentState::Reserved);
    act(&mut s, "1001", &id, "ANSWER");
    assert_eq!(s.agents["1001"].state, AgentState::Talking);
    s.change_state("1001", &req("WORK_READY"), "").unwrap();
    assert_eq!(s.agents["1001"].pending, Some(AgentState::WorkReady));
    s.far_end_hangup(&id).unwrap();
    assert_eq!(s.agents["1001"].state, AgentState::WorkReady);
    assert_eq!(s.agents["1001"].pending, None);
    s.change_state("1001", &req("READY"), "").unwrap();
    assert_eq!(s.agents["1001"].state, AgentState::Ready);
}

#[test]
fn a_call_ending_into_wrap_up_keeps_its_dialog_until_the_agent_leaves_work() {
    let mut s = sim("UCCE");
    login(&mut s);
    s.change_state("1001", &req("READY"), "").unwrap();
    let call = call_to_1001("4085551234");
    let (id, _) = s.inbound_call(&call).unwrap();
    act(&mut s, "1001", &id, "ANSWER");
    s.change_state("1001", &req("WORK_READY"), "").unwrap();
    let out = s.far_end_hangup(&id).unwrap();
    assert_eq!(events(&out), ["dialog PUT", "user PUT"]);
    assert!(out[0].update.contains("<state>WRAP_UP</state>"));
    assert!(out[1].update.contains("<state>WORK_READY</state>"));
    assert_eq!(s.agents["1001"].state, AgentState::WorkReady);
    let d = &s.dialogs[&id];
    assert!(d.in_wrap_up());
    assert_eq!(d.state, "DROPPED");
    assert_eq!(d.participants[1].state, "DROPPED");
    assert_eq!(
        s.participant_actions(d, d.agent_leg()),
        ["UPDATE_CALL_DATA"]
    );
    assert_eq!(s.agent_dialogs("1001").count(), 1);

    // Only UPDATE_CALL_DATA; the far end is gone.
    for action in [
        "DROP",
        "ANSWER",
        "HOLD",
        "SEND_DTMF",
        "TRANSFER",
        "CONFERENCE",
    ] {
        let r = DialogRequest {
            action: action.into(),
            ..Default::default()
        };
        let e = s.dialog_action("1001", &id, &r, "").unwrap_err();
        assert_eq!((e.status, e.error_type.as_str()), (400, "Invalid State"));
    }
    assert_eq!(
        s.consult_call("1001", &id, "6000", "")
            .unwrap_err()
            .error_type,
        "Invalid State"
    );
    assert_eq!(s.far_end_hangup(&id).unwrap_err().0, 409);
    let update = DialogRequest {
        action: "UPDATE_CALL_DATA".into(),
        wrap_up_reason: Some("Sale".into()),
        ..Default::default()
    };
    let out = s.dialog_action("1001", &id, &update, "w").unwrap();
    assert_eq!(events(&out), ["dialog PUT"]);
    assert!(out[0].update.contains("<wrapUpReason>Sale</wrapUpReason>"));
    assert_eq!(s.dialogs[&id].wrap_up_reason, "Sale");

    // A wrap-up dialog is no call: WORK_READY again is refused, READY applies at once.
    assert!(s.change_state("1001", &req("WORK"), "").is_err());
    let out = s.change_state("1001", &req("READY"), "r").unwrap();
    assert_eq!(events(&out), ["dialog DELETE", "user PUT"]);
    assert!(out[0].update.contains(&format!("<id>{id}</id>")));
    assert!(s.dialogs.is_empty());
    assert_eq!(s.agents["1001"].state, AgentState::Ready);

    // Without wrap-up: PUT DROPPED then DELETE, as before.
    let (id, _) = s.inbound_call(&call).unwrap();
    act(&mut s, "1001", &id, "ANSWER");
    let out = act(&mut s, "1001", &id, "DROP");
    assert_eq!(events(&out), ["dialog PUT", "dialog DELETE", "user PUT"]);
    assert!(s.dialogs.is_empty());
}

#[test]
fn a_transfer_wraps_up_the_surviving_dialog_and_a_new_call_ends_wrap_up() {
    let mut s = sim("UCCE");
    login(&mut s);
    let call = call_to_1001("1");
    let (id, _) = s.inbound_call(&call).unwrap();
    act(&mut s, "1001", &id, "ANSWER");
    s.change_state("1001", &req("WORK"), "").unwrap();
    s.consult_call("1001", &id, "6000", "").unwrap();
    let consult = s.dialogs[&id].associated.clone().unwrap();
    s.far_end_answer(&consult).unwrap();
    act(&mut s, "1001", &consult, "TRANSFER");
    assert!(!s.dialogs.contains_key(&consult));
    assert!(s.dialogs[&id].in_wrap_up());
    assert_eq!(s.dialogs[&id].associated, None);
    assert_eq!(s.agents["1001"].state, AgentState::Work);

    // A routed call reserves the agent: wrap-up is over, the old dialog goes.
    let (next, out) = s.inbound_call(&call).unwrap();
    assert_eq!(events(&out), ["dialog POST", "dialog DELETE", "user PUT"]);
    assert!(!s.dialogs.contains_key(&id));
    assert_eq!(s.agents["1001"].state, AgentState::Reserved);
    // Answered and ended: back to WORK (the state before the call), wrapping up again.
    act(&mut s, "1001", &next, "ANSWER");
    act(&mut s, "1001", &next, "DROP");
    assert!(s.dialogs[&next].in_wrap_up());
    assert_eq!(s.agents["1001"].state, AgentState::Work);
}

#[test]
fn a_consulted_agent_wraps_up_whichever_side_drops() {
    for dropper in ["1001", "1002"] {
        let mut s = sim("UCCE");
        let (original, consult, target) = consult_to_agent(&mut s);
        act(&mut s, "1002", &target, "ANSWER");
        s.change_state("1002", &req("WORK_READY"), "").unwrap();
        let dropped = if dropper == "1001" { &consult } else { &target };
        act(&mut s, dropper, dropped, "DROP");
        assert!(!s.dialogs.contains_key(&consult), "{dropper}");
        let b = &s.dialogs[&target];
        assert!(b.in_wrap_up() && b.peer.is_none(), "{dropper}");
        assert_eq!(s.agents["1002"].state, AgentState::WorkReady);
        assert_eq!(s.dialogs[&original].associated, None);
        s.change_state("1002", &req("NOT_READY"), "").unwrap();
        assert!(!s.dialogs.contains_key(&target));
    }
}

#[test]
fn wrap_up_reason_reaches_every_participant() {
    let mut s = sim("UCCE");
    login(&mut s);
    login_as(&mut s, "1002", "5002");
    s.make_call("1001", "5002", "").unwrap();
    let a = s.agent_dialogs("1001").next().unwrap().id.clone();
    let b = s.agent_dialogs("1002").next().unwrap().id.clone();
    act(&mut s, "1002", &b, "ANSWER");
    let r = DialogRequest {
        action: "UPDATE_CALL_DATA".into(),
        wrap_up_reason: Some("Sale".into()),
        ..Default::default()
    };
    let out = s.dialog_action("1001", &a, &r, "rq").unwrap();
    assert_eq!(s.dialogs[&b].wrap_up_reason, "Sale");
    assert!(out.iter().any(|p| p.node == render::dialogs_uri("1002")
        && p.update.contains("<wrapUpReason>Sale</wrapUpReason>")));
}
