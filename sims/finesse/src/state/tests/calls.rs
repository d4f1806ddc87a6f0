//! Calls: what each deployment allows, action lists, DTMF, outbound calls and their failures.

use super::*;

#[test]
fn uccx_refuses_work_states_sst_and_second_calls() {
    let mut s = sim("UCCX");
    login(&mut s);
    let call = call_to_1001("1");
    let (id, _) = s.inbound_call(&call).unwrap();
    assert_eq!(s.inbound_call(&call).unwrap_err().0, 409);
    act(&mut s, "1001", &id, "ANSWER");
    assert!(s.change_state("1001", &req("WORK"), "").is_err());
    let sst = DialogRequest {
        action: "TRANSFER_SST".into(),
        to_address: Some("6000".into()),
        ..Default::default()
    };
    assert_eq!(
        s.dialog_action("1001", &id, &sst, "").unwrap_err().status,
        400
    );
}

#[test]
fn action_lists_follow_ciscos_table() {
    let mut s = sim("UCCE");
    login(&mut s);
    let call = call_to_1001("4085550100");
    let (id, _) = s.inbound_call(&call).unwrap();
    let acts = |s: &Sim| {
        let d = &s.dialogs[&id];
        s.participant_actions(d, d.agent_leg())
    };
    assert_eq!(acts(&s), ["ANSWER"]);
    act(&mut s, "1001", &id, "ANSWER");
    assert_eq!(
        acts(&s),
        [
            "HOLD",
            "DROP",
            "UPDATE_CALL_DATA",
            "CONSULT_CALL",
            "SEND_DTMF",
            "TRANSFER_SST"
        ]
    );
    act(&mut s, "1001", &id, "HOLD");
    assert_eq!(acts(&s), ["RETRIEVE", "DROP", "UPDATE_CALL_DATA"]);
    act(&mut s, "1001", &id, "RETRIEVE");
    s.consult_call("1001", &id, "5550000", "").unwrap();
    // A consult still ringing: the original may be transferred (not conferenced).
    assert_eq!(
        acts(&s),
        ["RETRIEVE", "DROP", "UPDATE_CALL_DATA", "TRANSFER"]
    );
    let consult = s.dialogs[&id].associated.clone().unwrap();
    let c = &s.dialogs[&consult];
    assert_eq!(
        s.participant_actions(c, c.agent_leg()),
        ["DROP", "UPDATE_CALL_DATA"]
    );
    // The far participants list no actions.
    assert!(s.participant_actions(c, &c.participants[1]).is_empty());
    // The far end answers: the original's PUT now offers TRANSFER and CONFERENCE.
    let out = s.far_end_answer(&consult).unwrap();
    let original_put = out
        .iter()
        .find(|p| p.update.contains(&format!("<id>{id}</id>")))
        .expect("a PUT of the original");
    assert!(original_put.update.contains("<action>CONFERENCE</action>"));
    assert_eq!(
        acts(&s),
        [
            "RETRIEVE",
            "DROP",
            "UPDATE_CALL_DATA",
            "TRANSFER",
            "CONFERENCE"
        ]
    );
    // UCCX: no TRANSFER_SST.
    let mut x = sim("UCCX");
    login(&mut x);
    let (id, _) = x.inbound_call(&call).unwrap();
    act(&mut x, "1001", &id, "ANSWER");
    let d = &x.dialogs[&id];
    assert!(!x
        .participant_actions(d, d.agent_leg())
        .contains(&"TRANSFER_SST"));
}

#[test]
fn dtmf_digits_follow_the_deployment() {
    for (dep, ok) in [("UCCE", true), ("UCCX", false)] {
        let mut s = sim(dep);
        login(&mut s);
        let id = ring_1001(&mut s, "4085550100");
        act(&mut s, "1001", &id, "ANSWER");
        let dtmf = |digits: &str| DialogRequest {
            action: "SEND_DTMF".into(),
            dtmf: Some(digits.into()),
            ..Default::default()
        };
        assert!(s.dialog_action("1001", &id, &dtmf("12*#"), "").is_ok());
        assert_eq!(
            s.dialog_action("1001", &id, &dtmf("1A"), "").is_ok(),
            ok,
            "{dep}"
        );
        act(&mut s, "1001", &id, "HOLD");
        assert_eq!(
            s.dialog_action("1001", &id, &dtmf("1"), "")
                .unwrap_err()
                .error_type,
            "Invalid State"
        );
    }
}

#[test]
fn make_call_from_ready_follows_the_release() {
    let mut s = sim("UCCE");
    login(&mut s);
    s.change_state("1001", &req("READY"), "").unwrap();
    let out = s.make_call("1001", "5550000", "rq").unwrap();
    assert!(
        out[0].node == render::user_uri("1001")
            && out[0].update.contains("<state>NOT_READY</state>")
            && out[0].update.contains("<reasonCodeId>50006</reasonCodeId>")
    );
    let d = s.agent_dialogs("1001").next().unwrap().id.clone();
    act(&mut s, "1001", &d, "DROP");
    assert_eq!(s.agents["1001"].state, AgentState::NotReady);
    assert_eq!(
        s.agents["1001"].reason_code_id.as_deref(),
        Some(MAKE_CALL_REASON)
    );

    let mut old = sim("UCCE");
    old.config.finesse_version = "12.0(1)".into();
    login(&mut old);
    old.change_state("1001", &req("READY"), "").unwrap();
    assert_eq!(
        old.make_call("1001", "5550000", "").unwrap_err().error_type,
        "Invalid State"
    );
    let mut x = sim("UCCX");
    login(&mut x);
    x.change_state("1001", &req("READY"), "").unwrap();
    assert_eq!(
        x.make_call("1001", "5550000", "").unwrap_err().error_type,
        "Invalid State"
    );
}

#[test]
fn make_call_to_an_agent_is_agent_inside() {
    for dep in ["UCCE", "UCCX"] {
        let mut s = sim(dep);
        login(&mut s);
        login_as(&mut s, "1002", "5002");
        s.make_call("1001", "5002", "").unwrap();
        let a = s.agent_dialogs("1001").next().unwrap().clone();
        let b = s.dialogs[a.peer.as_deref().unwrap()].clone();
        assert_eq!(
            (a.call_type.as_str(), b.call_type.as_str()),
            ("AGENT_INSIDE", "AGENT_INSIDE")
        );
        assert_eq!((b.from.as_str(), b.state.as_str()), ("5001", "ALERTING"));
        act(&mut s, "1002", &b.id, "ANSWER");
        assert_eq!(s.dialogs[&a.id].state, "ACTIVE", "{dep}");
        assert_eq!(s.agents["1002"].state, AgentState::Talking, "{dep}");
        act(&mut s, "1001", &a.id, "DROP");
        assert!(s.dialogs.is_empty(), "{dep}");
        assert_eq!(s.agents["1002"].state, AgentState::NotReady, "{dep}");
    }
    // A signed-out agent's extension is an outside number.
    let mut s = sim("UCCE");
    login(&mut s);
    s.make_call("1001", "5002", "").unwrap();
    assert_eq!(s.agent_dialogs("1001").next().unwrap().call_type, "OUT");
    assert!(s.agent_dialogs("1002").next().is_none());
}

#[test]
fn invalid_destinations_fail_asynchronously() {
    for (dep, error_type) in [
        ("UCCE", "Generic Error"),
        ("UCCX", "Call Operation Failure"),
    ] {
        let mut s = sim(dep);
        login(&mut s);
        let out = s.make_call("1001", "abc", "rq").unwrap();
        let d = s.agent_dialogs("1001").next().unwrap().clone();
        // POST, PUT FAILED (cause BAD_DESTINATION), then the error with the dialog as
        // source.
        assert!(out[0].update.contains("<event>POST</event>"));
        assert!(out[1].update.contains("<state>FAILED</state>"));
        assert!(out[1]
            .update
            .contains("<stateCause>BAD_DESTINATION</stateCause>"));
        let e = &out[2].update;
        assert!(e.contains("<apiErrors>") && e.contains("<requestId>rq</requestId>"));
        assert!(e.contains(&format!("<source>/finesse/api/Dialog/{}</source>", d.id)));
        assert!(
            e.contains(&format!("<errorType>{error_type}</errorType>")),
            "{e}"
        );
        assert_eq!(out[2].node, render::dialogs_uri("1001"));
        assert_eq!(s.participant_actions(&d, d.agent_leg()), ["DROP"]);
        // FAILED stays until DROP; it is no call for the agent's state.
        assert_eq!(s.agents["1001"].state, AgentState::NotReady);
        let hold = DialogRequest {
            action: "HOLD".into(),
            ..Default::default()
        };
        assert!(s.dialog_action("1001", &d.id, &hold, "").is_err());
        let out = act(&mut s, "1001", &d.id, "DROP");
        assert!(out
            .iter()
            .any(|p| p.update.contains("<event>DELETE</event>")));
        assert!(s.dialogs.is_empty());
    }
}

#[test]
fn a_busy_destination_fails_the_dialog_until_dropped() {
    let mut s = sim("UCCE");
    login(&mut s);
    s.make_call("1001", "5550000", "").unwrap();
    let id = s.agent_dialogs("1001").next().unwrap().id.clone();
    assert_eq!(s.agents["1001"].state, AgentState::Talking);
    let out = s.far_end_busy(&id).unwrap();
    assert!(out
        .iter()
        .any(|p| p.update.contains("<stateCause>BUSY</stateCause>")));
    assert!(out
        .iter()
        .any(|p| p.update.contains("<errorMessage>CF_BUSY</errorMessage>")));
    assert_eq!(s.dialogs[&id].state, "FAILED");
    assert_eq!(s.agents["1001"].state, AgentState::NotReady);
    assert_eq!(s.far_end_busy(&id).unwrap_err().0, 409);
    act(&mut s, "1001", &id, "DROP");
    assert!(s.dialogs.is_empty());

    // A failed consult: the original stays held and offers no TRANSFER.
    let original = ring_1001(&mut s, "4085550100");
    act(&mut s, "1001", &original, "ANSWER");
    s.consult_call("1001", &original, "5550001", "").unwrap();
    let consult = s.dialogs[&original].associated.clone().unwrap();
    s.far_end_busy(&consult).unwrap();
    let o = &s.dialogs[&original];
    assert_eq!(
        s.participant_actions(o, o.agent_leg()),
        ["RETRIEVE", "DROP", "UPDATE_CALL_DATA"]
    );
    act(&mut s, "1001", &consult, "DROP");
    act(&mut s, "1001", &original, "RETRIEVE");
    assert_eq!(s.dialogs[&original].agent_leg().state, "ACTIVE");
}
