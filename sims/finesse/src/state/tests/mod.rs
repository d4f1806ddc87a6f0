//! The simulated contact center driven directly, without HTTP or XMPP.

use super::*;
use crate::config::SimConfig;

mod agent_state;
mod calls;
mod transfers;

pub(super) fn sim(deployment: &str) -> Sim {
    let text = include_str!("../../../finesse-sim.example.toml").replace(
        "deployment = \"UCCE\"",
        &format!("deployment = \"{deployment}\""),
    );
    Sim::new(SimConfig::from_toml(&text).unwrap())
}

pub(super) fn req(state: &str) -> StateRequest {
    StateRequest {
        state: state.into(),
        ..Default::default()
    }
}

fn login(s: &mut Sim) {
    let r = StateRequest {
        state: "LOGIN".into(),
        extension: Some("5001".into()),
        reason_code_id: None,
    };
    s.change_state("1001", &r, "").unwrap();
}

fn events(out: &[Publish]) -> Vec<String> {
    out.iter()
        .map(|p| {
            let event = ["POST", "PUT", "DELETE"]
                .into_iter()
                .find(|e| p.update.contains(&format!("<event>{e}</event>")))
                .unwrap_or("?");
            let kind = if p.node.ends_with("/Dialogs") {
                "dialog"
            } else {
                "user"
            };
            format!("{kind} {event}")
        })
        .collect()
}

pub(super) fn login_as(s: &mut Sim, agent: &str, extension: &str) {
    let r = StateRequest {
        state: "LOGIN".into(),
        extension: Some(extension.into()),
        reason_code_id: None,
    };
    s.change_state(agent, &r, "").unwrap();
}

pub(super) fn act(s: &mut Sim, agent: &str, dialog: &str, action: &str) -> Vec<Publish> {
    let r = DialogRequest {
        action: action.into(),
        ..Default::default()
    };
    s.dialog_action(agent, dialog, &r, "").unwrap()
}

/// A call from `ani` routed to agent 1001.
pub(super) fn call_to_1001(ani: &str) -> InboundCall {
    InboundCall {
        to_agent: Some("1001".into()),
        ani: ani.into(),
        ..Default::default()
    }
}

/// Offers a call from `ani` to agent 1001 and returns its dialog id.
pub(super) fn ring_1001(s: &mut Sim, ani: &str) -> String {
    s.inbound_call(&call_to_1001(ani)).unwrap().0
}

/// 1001 (5001) on an answered customer call with data, consulting 1002 (5002):
/// (customer dialog, 1001's consult dialog, 1002's dialog).
fn consult_to_agent(s: &mut Sim) -> (String, String, String) {
    login(s);
    login_as(s, "1002", "5002");
    let call = InboundCall {
        dnis: "8005551000".into(),
        call_variables: [("callVariable1".to_string(), "acct-42".to_string())].into(),
        ecc: [("user.case".to_string(), "C-7".to_string())].into(),
        ..call_to_1001("4085550100")
    };
    let (original, _) = s.inbound_call(&call).unwrap();
    act(s, "1001", &original, "ANSWER");
    let out = s.consult_call("1001", &original, "5002", "rq").unwrap();
    let consult = s.dialogs[&original].associated.clone().unwrap();
    let target = s.dialogs[&consult].peer.clone().unwrap();
    assert!(out.iter().any(|p| p.node == render::dialogs_uri("1002")
        && p.update.contains("<event>POST</event>")
        && p.update.contains("<callType>CONSULT</callType>")));
    (original, consult, target)
}
