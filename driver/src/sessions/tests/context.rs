//! `AttachContext`: the Siebel context of a consult or transfer travels in the call
//! variable `Driver:ContextVariable` and comes back as the `Context` field.

use super::*;

const CONTEXT_VAR: (&str, &str) = ("Driver:ContextVariable", "callVariable10");

/// Agent 1001 on the active call d1; records cleared.
fn on_call(params: &[(&str, &str)]) -> Rig {
    let mut r = Rig::logged_in(params);
    r.deliver(Message::Agent(agent("1001", AgentState::Ready)), None);
    r.deliver(
        Message::Dialog(Box::new(dialog("1001", "d1", "ACTIVE"))),
        None,
    );
    r.clear();
    r.take_sent();
    r
}

fn context_update(value: &str) -> Message {
    Message::UpdateCallData {
        agent: "1001".into(),
        dialog: "d1".into(),
        wrap_up_reason: None,
        variables: vec![("callVariable10".into(), value.into())],
    }
}

#[test]
fn consult_and_blind_transfer_write_the_context_to_the_call_first() {
    let mut r = on_call(&[CONTEXT_VAR]);
    let params = kv(&[("PhoneNumber", "1002"), ("Context", "1-CONTACT-7")]);
    r.invoke(1, "ct", "InitTransfer", "", params.clone());
    assert_eq!(
        r.sent(),
        [
            context_update("1-CONTACT-7"),
            Message::CallAction {
                agent: "1001".into(),
                dialog: "d1".into(),
                action: CallAction::ConsultCall,
                to: Some("1002".into())
            }
        ]
    );
    r.take_sent();
    r.invoke(1, "bt", "TransferMute", "", params);
    let sent = r.sent();
    assert_eq!(sent[0], context_update("1-CONTACT-7"));
    assert!(matches!(
        &sent[1],
        Message::CallAction {
            action: CallAction::TransferSst,
            ..
        }
    ));
}

#[test]
fn no_context_variable_or_no_context_sends_only_the_call_action() {
    for (params, cfg) in [
        (kv(&[("PhoneNumber", "1002"), ("Context", "1-C")]), vec![]),
        (kv(&[("PhoneNumber", "1002")]), vec![CONTEXT_VAR]),
        (
            kv(&[("PhoneNumber", "1002"), ("Context", "[Id]")]),
            vec![CONTEXT_VAR],
        ),
    ] {
        let mut r = on_call(&cfg);
        r.invoke(1, "ct", "InitTransfer", "", params);
        let sent = r.sent();
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert!(matches!(sent[0], Message::CallAction { .. }));
    }
}

#[test]
fn a_context_longer_than_the_variable_holds_is_refused_before_anything_is_sent() {
    let mut r = on_call(&[CONTEXT_VAR]);
    let long = "x".repeat(41);
    r.invoke(
        1,
        "ct",
        "InitTransfer",
        "",
        kv(&[("PhoneNumber", "1002"), ("Context", &long)]),
    );
    assert!(r.sent().is_empty());
    assert_eq!(r.error_code(1), "ContextTooLong");
}

#[test]
fn the_receiving_agent_gets_the_context_as_a_field() {
    let mut r = Rig::logged_in(&[CONTEXT_VAR]);
    r.deliver(Message::Agent(agent("1001", AgentState::Ready)), None);
    r.clear();
    let mut d = dialog("1001", "d9", "ALERTING");
    d.variables = vec![("callVariable10".into(), "1-CONTACT-7".into())];
    r.deliver(Message::Dialog(Box::new(d)), None);
    let f = r.event_fields(1, "EventRinging");
    assert_eq!(field(&f, "Context"), "1-CONTACT-7");
    assert_eq!(field(&f, "CallVariable10"), "1-CONTACT-7");
}
