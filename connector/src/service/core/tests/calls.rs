//! Call requests (CallAction, MakeCall, UpdateCallData) and reason codes.

use driver::protocol::{CallAction, Message};

use super::super::RestCall;
use super::*;
use crate::rest::SupervisorDialog;

fn call_action(action: CallAction, to: Option<&str>) -> Message {
    Message::CallAction {
        agent: "1001".into(),
        dialog: "7".into(),
        action,
        to: to.map(str::to_string),
    }
}

#[test]
fn call_actions_put_the_dialog_with_the_extension_and_are_accepted() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.request("a1", call_action(CallAction::Answer, None));
    h.request("a2", call_action(CallAction::TransferSst, Some("5002")));
    h.request("a3", call_action(CallAction::SendDtmf, Some("12#")));
    let bodies: Vec<_> = h
        .calls
        .iter()
        .map(|c| match c {
            RestCall::DialogAction {
                node,
                dialog,
                action,
                request_id,
                ..
            } => {
                assert_eq!((node.as_str(), dialog.as_str()), (NODE_A, "7"));
                assert_eq!(action.extension, "5001");
                (
                    action.action.clone(),
                    action.to.clone(),
                    action.dtmf.clone(),
                    request_id.clone(),
                )
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        bodies,
        vec![
            ("ANSWER".into(), None, None, "a1".into()),
            (
                "TRANSFER_SST".into(),
                Some("5002".into()),
                None,
                "a2".into()
            ),
            ("SEND_DTMF".into(), None, Some("12#".into()), "a3".into()),
        ]
    );
    let sent = h.take();
    assert_eq!(sent.len(), 3);
    for ((_, m, re), id) in sent.iter().zip(["a1", "a2", "a3"]) {
        assert_eq!(m, &Message::Accepted {});
        assert_eq!(re.as_deref(), Some(id));
    }
}

#[test]
fn a_call_action_refused_by_finesse_is_an_error() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.fake.fail = Some(RestError::Api {
        status: 400,
        error_type: "Invalid Input".into(),
        message: "no such dialog".into(),
    });
    h.request("a1", call_action(CallAction::Hold, None));
    let sent = h.take();
    assert_eq!(error_of(&sent[0].1).0, "InvalidInput");
    assert_eq!(sent[0].2.as_deref(), Some("a1"));
}

#[test]
fn a_call_request_without_a_session_is_no_session() {
    let mut h = Harness::new();
    h.request("a1", call_action(CallAction::Answer, None));
    h.request(
        "m1",
        Message::MakeCall {
            agent: "1001".into(),
            to: "5002".into(),
        },
    );
    let sent = h.take();
    assert_eq!(sent.len(), 2);
    for (_, m, _) in &sent {
        assert_eq!(error_of(m), ("NoSession", NO_SESSION));
    }
    assert!(h.calls.is_empty());
}

#[test]
fn make_call_posts_from_the_agents_extension() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.request(
        "m1",
        Message::MakeCall {
            agent: "1001".into(),
            to: "4085550000".into(),
        },
    );
    match &h.calls[0] {
        RestCall::MakeCall {
            agent,
            from,
            to,
            request_id,
            ..
        } => {
            assert_eq!(
                (
                    agent.as_str(),
                    from.as_str(),
                    to.as_str(),
                    request_id.as_str()
                ),
                ("1001", "5001", "4085550000", "m1")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.take()[0].1, Message::Accepted {});
}

#[test]
fn update_call_data_sends_the_wrap_up_reason_and_call_variables() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.request(
        "u1",
        Message::UpdateCallData {
            agent: "1001".into(),
            dialog: "7".into(),
            wrap_up_reason: Some("Sale".into()),
            variables: vec![("callVariable10".into(), "1-ABC".into())],
        },
    );
    match &h.calls[0] {
        RestCall::DialogAction { action, .. } => {
            assert_eq!(action.action, "UPDATE_CALL_DATA");
            assert_eq!(action.wrap_up_reason.as_deref(), Some("Sale"));
            assert_eq!(
                action.call_variables,
                [("callVariable10".to_string(), "1-ABC".to_string())]
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.take()[0].1, Message::Accepted {});
}

#[test]
fn get_reason_codes_sends_them() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.request(
        "r1",
        Message::GetReasonCodes {
            agent: "1001".into(),
            category: "NOT_READY".into(),
        },
    );
    match &h.calls[0] {
        RestCall::ReasonCodes { category, .. } => assert_eq!(category, "NOT_READY"),
        other => panic!("{other:?}"),
    }
    let sent = h.take();
    match &sent[0].1 {
        Message::ReasonCodes {
            agent,
            category,
            codes,
        } => {
            assert_eq!((agent.as_str(), category.as_str()), ("1001", "NOT_READY"));
            assert_eq!(codes.len(), 1);
            assert_eq!(codes[0].label, "Lunch");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sent[0].2.as_deref(), Some("r1"));
}

#[test]
fn wrap_up_reasons_are_read_from_finesse_wrap_up_reasons() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.request(
        "r1",
        Message::GetReasonCodes {
            agent: "1001".into(),
            category: "WRAP_UP".into(),
        },
    );
    assert!(
        matches!(&h.calls[0], RestCall::WrapUpReasons { agent, .. } if agent == "1001"),
        "{:?}",
        h.calls
    );
    match &h.take()[0].1 {
        Message::ReasonCodes {
            category, codes, ..
        } => {
            assert_eq!(category, "WRAP_UP");
            let labels: Vec<_> = codes.iter().map(|c| c.label.as_str()).collect();
            assert_eq!(labels, ["Sale", "Complaint"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn get_reason_codes_without_a_session_sends_nothing() {
    let mut h = Harness::new();
    h.request(
        "r1",
        Message::GetReasonCodes {
            agent: "1001".into(),
            category: "LOGOUT".into(),
        },
    );
    assert!(h.calls.is_empty());
    assert!(h.take().is_empty());
}

#[test]
fn silent_monitor_and_barge_post_supervisor_dialogs_from_the_supervisors_extension() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.request(
        "s1",
        Message::SilentMonitor {
            agent: "1001".into(),
            to: "5002".into(),
        },
    );
    h.request(
        "s2",
        Message::BargeCall {
            agent: "1001".into(),
            dialog: "77".into(),
            to: "5002".into(),
        },
    );
    let bodies: Vec<_> = h
        .calls
        .iter()
        .map(|c| match c {
            RestCall::Supervise { agent, body, .. } => (agent.clone(), body.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    let body = |action: &str, monitoring: Option<&str>| SupervisorDialog {
        action: action.into(),
        from: "5001".into(),
        to: "5002".into(),
        monitoring: monitoring.map(str::to_string),
    };
    assert_eq!(
        bodies,
        [
            ("1001".to_string(), body("SILENT_MONITOR", None)),
            ("1001".to_string(), body("BARGE_CALL", Some("77"))),
        ]
    );
}
