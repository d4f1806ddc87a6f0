//! Consults, transfers and conferences between agents.

use super::*;

#[test]
fn consult_then_transfer_ends_both_dialogs() {
    let mut s = sim("UCCE");
    login(&mut s);
    let id = ring_1001(&mut s, "1");
    act(&mut s, "1001", &id, "ANSWER");
    s.consult_call("1001", &id, "6000", "r1").unwrap();
    let consult = s.dialogs[&id].associated.clone().unwrap();
    assert_eq!(s.dialogs[&id].agent_leg().state, "HELD");
    s.far_end_answer(&consult).unwrap();
    let transfer = DialogRequest {
        action: "TRANSFER".into(),
        ..Default::default()
    };
    let out = s.dialog_action("1001", &consult, &transfer, "r2").unwrap();
    assert!(s.dialogs.is_empty());
    assert_eq!(
        out.iter()
            .filter(|p| p.update.contains("<event>DELETE</event>"))
            .count(),
        2
    );
    assert_eq!(s.agents["1001"].state, AgentState::NotReady);
}

#[test]
fn consult_to_an_agent_rings_it_with_the_call_data_and_transfers_the_customer() {
    let mut s = sim("UCCE");
    login_as(&mut s, "1002", "5002");
    s.change_state("1002", &req("READY"), "").unwrap();
    let (original, consult, target) = consult_to_agent(&mut s);
    let b = &s.dialogs[&target];
    assert_eq!(
        (b.agent_id.as_str(), b.state.as_str()),
        ("1002", "ALERTING")
    );
    assert_eq!((b.from.as_str(), b.to.as_str()), ("5001", "5002"));
    assert_eq!(b.call_type, "CONSULT");
    assert_eq!(b.dnis, "8005551000");
    assert_eq!(b.call_variables["callVariable1"], "acct-42");
    assert_eq!(b.ecc["user.case"], "C-7");
    assert_eq!(b.participants[1].agent_id.as_deref(), Some("1001"));
    assert_eq!(s.dialogs[&consult].agent_leg().state, "INITIATED");
    assert_eq!(s.agents["1002"].state, AgentState::Reserved);
    assert_eq!(s.far_end_answer(&consult).unwrap_err().0, 409);

    act(&mut s, "1002", &target, "ANSWER");
    assert_eq!(s.dialogs[&consult].state, "ACTIVE");
    assert_eq!(s.dialogs[&consult].participants[1].state, "ACTIVE");
    assert_eq!(s.dialogs[&target].state, "ACTIVE");
    assert_eq!(s.agents["1002"].state, AgentState::Talking);
    // Cisco's table: the held original offers TRANSFER and CONFERENCE once the consult is
    // up; the consult's active leg does not.
    let o = &s.dialogs[&original];
    let actions = s.participant_actions(o, o.agent_leg());
    assert_eq!(
        actions,
        [
            "RETRIEVE",
            "DROP",
            "UPDATE_CALL_DATA",
            "TRANSFER",
            "CONFERENCE"
        ]
    );
    let c = &s.dialogs[&consult];
    assert_eq!(
        s.participant_actions(c, c.agent_leg()),
        ["HOLD", "DROP", "UPDATE_CALL_DATA", "SEND_DTMF"]
    );

    let out = act(&mut s, "1001", &consult, "TRANSFER");
    assert!(!s.dialogs.contains_key(&original) && !s.dialogs.contains_key(&consult));
    assert_eq!(s.agents["1001"].state, AgentState::NotReady);
    // B's consult dialog is deleted and the original call's dialog is posted to B.
    assert!(!s.dialogs.contains_key(&target));
    let b_events: Vec<String> = out
        .iter()
        .filter(|p| p.node == render::dialogs_uri("1002"))
        .map(|p| {
            let e = &p.update[p.update.find("<event>").unwrap() + 7..];
            e[..e.find('<').unwrap()].to_string()
        })
        .collect();
    assert_eq!(b_events, ["DELETE", "POST"]);
    let b = s.agent_dialogs("1002").next().unwrap().clone();
    assert_ne!(b.id, target);
    assert_eq!(b.secondary_id, target);
    assert_eq!(b.state, "ACTIVE");
    assert_eq!(b.call_type, "TRANSFER");
    assert_eq!(
        (b.from.as_str(), b.to.as_str()),
        ("4085550100", "8005551000")
    );
    assert_eq!(b.call_variables["callVariable1"], "acct-42");
    assert_eq!(b.ecc["user.case"], "C-7");
    assert_eq!(b.participants.len(), 2);
    assert_eq!(b.participants[1].media_address, "4085550100");
    assert_eq!(b.participants[1].agent_id, None);
    assert_eq!(b.peer, None);
    assert!(s
        .participant_actions(&b, b.agent_leg())
        .contains(&"CONSULT_CALL"));
    s.far_end_hangup(&b.id).unwrap();
    assert!(s.dialogs.is_empty());
    assert_eq!(s.agents["1002"].state, AgentState::Ready);
}

#[test]
fn single_step_transfer_to_an_agent_rings_it_with_the_call_data() {
    let mut s = sim("UCCE");
    login(&mut s);
    login_as(&mut s, "1002", "5002");
    s.change_state("1002", &req("READY"), "").unwrap();
    let call = InboundCall {
        call_variables: [("callVariable1".to_string(), "acct-42".to_string())].into(),
        ..call_to_1001("4085550100")
    };
    let (id, _) = s.inbound_call(&call).unwrap();
    act(&mut s, "1001", &id, "ANSWER");
    let sst = DialogRequest {
        action: "TRANSFER_SST".into(),
        to_address: Some("5002".into()),
        ..Default::default()
    };
    let out = s.dialog_action("1001", &id, &sst, "rq").unwrap();
    assert!(s.agent_dialogs("1001").next().is_none());
    let b = s.agent_dialogs("1002").next().unwrap().clone();
    assert_eq!(
        (b.state.as_str(), b.call_type.as_str()),
        ("ALERTING", "TRANSFER")
    );
    assert_eq!(b.participants[1].media_address, "4085550100");
    assert_eq!(b.call_variables["callVariable1"], "acct-42");
    assert_eq!(s.agents["1002"].state, AgentState::Reserved);
    assert!(
        out.iter()
            .any(|p| p.node == render::dialogs_uri("1002")
                && p.update.contains("<event>POST</event>"))
    );
    act(&mut s, "1002", &b.id, "ANSWER");
    assert_eq!(s.agents["1002"].state, AgentState::Talking);
}

#[test]
fn a_not_ready_agent_is_consulted_and_a_drop_ends_both_legs() {
    let mut s = sim("UCCE");
    let (original, consult, target) = consult_to_agent(&mut s);
    assert_eq!(s.agents["1002"].state, AgentState::NotReady);
    act(&mut s, "1001", &consult, "DROP");
    assert!(!s.dialogs.contains_key(&target));
    assert_eq!(s.agents["1002"].state, AgentState::NotReady);
    assert_eq!(s.dialogs[&original].associated, None);

    // Again, answered, and dropped by the consulted agent.
    act(&mut s, "1001", &original, "RETRIEVE");
    s.consult_call("1001", &original, "5002", "").unwrap();
    let consult = s.dialogs[&original].associated.clone().unwrap();
    let target = s.dialogs[&consult].peer.clone().unwrap();
    act(&mut s, "1002", &target, "ANSWER");
    assert_eq!(s.agents["1002"].state, AgentState::Talking);
    act(&mut s, "1002", &target, "DROP");
    assert!(!s.dialogs.contains_key(&consult) && !s.dialogs.contains_key(&target));
    assert_eq!(s.agents["1002"].state, AgentState::NotReady);
    assert!(s.dialogs.contains_key(&original));
}

#[test]
fn conference_with_an_agent_lists_every_party_and_survives_a_drop() {
    let mut s = sim("UCCE");
    let (original, consult, target) = consult_to_agent(&mut s);
    act(&mut s, "1002", &target, "ANSWER");
    act(&mut s, "1001", &consult, "CONFERENCE");
    assert!(!s.dialogs.contains_key(&consult));
    let a = &s.dialogs[&original];
    let b = &s.dialogs[&target];
    assert_eq!((a.participants.len(), b.participants.len()), (3, 3));
    assert_eq!(
        (a.call_type.as_str(), b.call_type.as_str()),
        ("CONFERENCE", "CONFERENCE")
    );
    assert_eq!(b.state, "ACTIVE");
    act(&mut s, "1001", &original, "DROP");
    let b = &s.dialogs[&target];
    assert_eq!(b.participants.len(), 2);
    assert_eq!(b.participants[1].media_address, "4085550100");
    assert_eq!(s.agents["1001"].state, AgentState::NotReady);
    assert_eq!(s.agents["1002"].state, AgentState::Talking);
}
