//! Calls as work items: ringing, answer, hold, release with the clock's times, outbound
//! calls, wrap-up.

use super::*;

/// Agent 1001 logged in and Ready, with call d1 ringing; records cleared.
fn ringing(params: &[(&str, &str)]) -> Rig {
    let mut r = Rig::logged_in(params);
    r.deliver(Message::Agent(agent("1001", AgentState::Ready)), None);
    r.deliver(
        Message::Dialog(Box::new(dialog("1001", "d1", "ALERTING"))),
        None,
    );
    r.clear();
    r
}

fn update(r: &mut Rig, id: &str, state: &str) {
    r.deliver(Message::Dialog(Box::new(dialog("1001", id, state))), None);
}

#[test]
fn a_ringing_call_becomes_a_new_work_item_and_answer_is_offered() {
    let mut r = Rig::logged_in(&[]);
    r.deliver(Message::Agent(agent("1001", AgentState::Ready)), None);
    r.clear();
    update(&mut r, "d1", "ALERTING");
    let calls = r.calls(1);
    assert_eq!(
        calls[0],
        Call::NewWorkItem("d1".into(), "Call from 0611".into(), 1)
    );
    assert_eq!(r.events(1), ["EventRinging"]);
    let f = r.event_fields(1, "EventRinging");
    assert_eq!(field(&f, "ANI"), "0611");
    assert_eq!(field(&f, "DialogId"), "d1");
    assert!(r.enabled(1, "AnswerCall"));
    assert_ne!(r.flags(1, "AnswerCall") & flags::BLINKING, 0);
    assert_eq!(r.work_items(1), ["d1"]);
}

#[test]
fn answer_hold_retrieve_and_release_act_on_the_call_with_the_clock_times() {
    let mut r = ringing(&[]);
    r.invoke(1, "ans", "AnswerCall", "", vec![]);
    assert_eq!(
        r.sent(),
        [Message::CallAction {
            agent: "1001".into(),
            dialog: "d1".into(),
            action: CallAction::Answer,
            to: None
        }]
    );
    r.advance(Duration::from_secs(3));
    update(&mut r, "d1", "ACTIVE");
    assert!(r.calls(1).contains(&Call::Started(
        "d1".into(),
        "Call from 0611".into(),
        "5001".into(),
        T0 + 3
    )));
    assert_eq!(r.events(1), ["EventEstablished"]);
    r.clear();
    r.invoke(1, "hold", "HoldCall", "", vec![]);
    assert!(matches!(
        &r.sent()[..],
        [Message::CallAction {
            action: CallAction::Hold,
            ..
        }]
    ));
    update(&mut r, "d1", "HELD");
    assert!(r.calls(1).contains(&Call::Suspended("d1".into())));
    update(&mut r, "d1", "ACTIVE");
    assert!(r.calls(1).contains(&Call::Resumed("d1".into())));
    r.clear();
    r.advance(Duration::from_secs(42));
    update(&mut r, "d1", "DROPPED");
    assert_eq!(r.events(1), ["EventReleased"]);
    assert!(r
        .calls(1)
        .contains(&Call::Released("d1".into(), T0 + 3 + 42)));
    assert!(r.work_items(1).is_empty());
}

#[test]
fn work_item_operations_become_call_actions_tracked_by_the_work_item() {
    let mut r = ringing(&[]);
    r.command(Cmd::WorkItem {
        id: 1,
        tracking: "d1".into(),
        op: WorkItemOp::Accept,
    });
    assert!(matches!(
        &r.sent()[..],
        [Message::CallAction {
            action: CallAction::Answer,
            dialog,
            ..
        }] if dialog == "d1"
    ));
    r.advance(Duration::from_secs(15));
    r.tick();
    assert_eq!(
        r.errors(1),
        [(
            Some("workitem-d1".to_string()),
            "No answer from the CTI connector; please try again.".to_string()
        )]
    );
}

#[test]
fn a_call_command_on_an_unknown_work_item_is_refused() {
    let mut r = ringing(&[]);
    r.invoke(1, "rel", "ReleaseCall", "", kv(&[("TrackingID", "nope")]));
    assert!(r.sent().is_empty());
    assert_eq!(r.error_code(1), "UnknownWorkItem");
    assert_eq!(r.status(1), "There is no call to do this on.");
}

#[test]
fn make_call_needs_not_ready_and_a_number() {
    let mut r = Rig::logged_in(&[]);
    r.invoke(1, "mc", "MakeCall", "", vec![]);
    assert!(r.sent().is_empty());
    assert_eq!(r.error_code(1), "MissingNumber");
    assert_eq!(r.status(1), "Type a number in the toolbar first.");
    r.invoke(1, "mc", "MakeCall", "0612", vec![]);
    assert_eq!(
        r.sent(),
        [Message::MakeCall {
            agent: "1001".into(),
            to: "0612".into()
        }]
    );
    // An older UCCE release (the connector does not report calls from Ready): Not Ready only.
    let mut r = Rig::logged_in(&[]);
    r.deliver(Message::Agent(agent("1001", AgentState::Ready)), None);
    assert!(!r.enabled(1, "MakeCall"));
    r.clear();
    r.invoke(1, "mc", "MakeCall", "0612", vec![]);
    assert!(r.sent().is_empty());
    assert_eq!(r.error_code(1), "MakeCallNeedsNotReady");
    // UCCE 12.5(1)+ (the connector says so from SystemInfo): Make Call from Ready; Finesse
    // moves the agent to Not Ready.
    let mut r = Rig::logged_in(&[]);
    let ready = AgentInfo {
        make_call_from_ready: true,
        ..agent("1001", AgentState::Ready)
    };
    r.deliver(Message::Agent(ready), None);
    assert!(r.enabled(1, "MakeCall"));
    r.clear();
    r.invoke(1, "mc", "MakeCall", "0612", vec![]);
    assert_eq!(
        r.sent(),
        [Message::MakeCall {
            agent: "1001".into(),
            to: "0612".into()
        }]
    );
    let mut r = Rig::logged_in(&[]);
    r.deliver(Message::Agent(agent("1001", AgentState::Reserved)), None);
    assert!(!r.enabled(1, "MakeCall"));
    r.clear();
    r.invoke(1, "mc", "MakeCall", "0612", vec![]);
    assert!(r.sent().is_empty());
    assert_eq!(r.error_code(1), "MakeCallNeedsNotReady");
    assert_eq!(
        r.status(1),
        "Outbound calls need Not Ready and no call in progress."
    );
}

#[test]
fn uccx_make_call_needs_not_ready() {
    let mut r = Rig::logged_in(&[("Driver:DeploymentType", "UCCX")]);
    let ready = AgentInfo {
        make_call_from_ready: true,
        ..agent("1001", AgentState::Ready)
    };
    r.deliver(Message::Agent(ready), None);
    assert!(!r.enabled(1, "MakeCall"));
    r.clear();
    r.invoke(1, "mc", "MakeCall", "0612", vec![]);
    assert!(r.sent().is_empty());
    assert_eq!(r.error_code(1), "MakeCallNeedsNotReady");
    r.deliver(Message::Agent(agent("1001", AgentState::NotReady)), None);
    assert!(r.enabled(1, "MakeCall"));
}

#[test]
fn a_failed_call_stays_until_the_agent_releases_it() {
    let mut r = Rig::logged_in(&[]);
    let mut d = dialog("1001", "d9", "INITIATED");
    d.from_address = "5001".into();
    d.to_address = "5550000".into();
    r.deliver(Message::Dialog(Box::new(d.clone())), None);
    d.state = "FAILED".into();
    d.agent_state = "FAILED".into();
    d.state_cause = "BUSY".into();
    d.actions = vec!["DROP".into()];
    r.deliver(Message::Dialog(Box::new(d.clone())), None);
    // Not released: the work item stays and Release is offered.
    assert!(!r.calls(1).iter().any(|c| matches!(c, Call::Released(..))));
    assert!(r.enabled(1, "ReleaseCall"));
    assert!(!r.enabled(1, "HoldCall"));
    r.clear();
    r.invoke(1, "rel", "ReleaseCall", "", vec![]);
    assert!(matches!(
        &r.sent()[..],
        [Message::CallAction { dialog, .. }] if dialog == "d9"
    ));
    d.state = "DROPPED".into();
    d.agent_state = "DROPPED".into();
    r.deliver(Message::Dialog(Box::new(d)), None);
    assert!(r.calls(1).iter().any(|c| matches!(c, Call::Released(..))));
}

#[test]
fn an_outbound_call_is_dialing_with_an_outbound_work_item() {
    let mut r = Rig::logged_in(&[]);
    let mut d = dialog("1001", "d9", "INITIATED");
    d.from_address = "5001".into();
    d.to_address = "0612".into();
    r.deliver(Message::Dialog(Box::new(d)), None);
    assert_eq!(
        r.calls(1)[0],
        Call::NewWorkItem("d9".into(), "Call to 0612".into(), 2)
    );
    assert_eq!(r.events(1), ["EventDialing"]);
}

#[test]
fn a_snapshot_dialog_list_ends_a_call_the_connector_no_longer_has() {
    let mut r = ringing(&[]);
    r.advance(Duration::from_secs(1));
    r.in_service("c1", "i2");
    let snap = r.request_id("Snapshot");
    r.advance(Duration::from_secs(6));
    r.deliver(
        Message::DialogList {
            agent: "1001".into(),
            dialogs: vec![],
        },
        Some(&snap),
    );
    assert!(r.calls(1).contains(&Call::Released("d1".into(), T0 + 7)));
    assert!(r.work_items(1).is_empty());
}

#[test]
fn a_call_updated_after_the_snapshot_was_asked_survives_the_list() {
    let mut r = ringing(&[]);
    r.in_service("c1", "i2");
    let snap = r.request_id("Snapshot");
    r.advance(Duration::from_secs(1));
    update(&mut r, "d1", "ACTIVE");
    r.clear();
    r.deliver(
        Message::DialogList {
            agent: "1001".into(),
            dialogs: vec![],
        },
        Some(&snap),
    );
    assert!(r.events(1).is_empty(), "{:?}", r.calls(1));
    assert_eq!(r.work_items(1), ["d1"]);
}

#[test]
fn uccx_refuses_single_step_transfer() {
    let mut r = ringing(&[("Driver:DeploymentType", "UCCX")]);
    update(&mut r, "d1", "ACTIVE");
    assert_ne!(r.flags(1, "TransferMute") & flags::NOT_SUPPORTED, 0);
    r.clear();
    r.invoke(1, "sst", "TransferMute", "0613", vec![]);
    assert!(r.sent().is_empty());
    assert_eq!(r.error_code(1), "NotSupported");
}

#[test]
fn consult_call_needs_a_number_and_names_the_call() {
    let mut r = ringing(&[]);
    update(&mut r, "d1", "ACTIVE");
    r.invoke(1, "ct", "InitTransfer", "", vec![]);
    assert_eq!(r.error_code(1), "MissingNumber");
    r.invoke(1, "ct", "InitTransfer", "", kv(&[("PhoneNumber", "1002")]));
    assert_eq!(
        r.sent(),
        [Message::CallAction {
            agent: "1001".into(),
            dialog: "d1".into(),
            action: CallAction::ConsultCall,
            to: Some("1002".into())
        }]
    );
}

/// Call d1 answered at T0+2, ended at T0+30, agent in WORK.
fn into_wrap_up(params: &[(&str, &str)]) -> Rig {
    let mut r = ringing(params);
    r.advance(Duration::from_secs(2));
    update(&mut r, "d1", "ACTIVE");
    r.deliver(Message::Agent(agent("1001", AgentState::Talking)), None);
    r.advance(Duration::from_secs(28));
    update(&mut r, "d1", "WRAP_UP");
    r.deliver(Message::Agent(agent("1001", AgentState::Work)), None);
    r
}

#[test]
fn wrap_up_restarts_the_call_timer_when_reset_timer_on_wrap_up_is_on() {
    let mut r = into_wrap_up(&[("Driver:ResetTimerOnWrapUp", "TRUE")]);
    let calls = r.calls(1);
    let released = calls
        .iter()
        .position(|c| *c == Call::Released("d1".into(), T0 + 30))
        .expect("the call's timer stops");
    let restarted = calls
        .iter()
        .position(|c| *c == Call::Started("d1".into(), "Wrap-up".into(), "5001".into(), T0 + 30))
        .expect("the wrap-up timer starts");
    assert!(released < restarted);
    assert!(r.events(1).contains(&"EventAgentWork".to_string()));
    assert_eq!(r.status(1), "State: Wrap-up.");
    r.clear();
    update(&mut r, "d1", "WRAP_UP");
    assert!(
        !r.calls(1)
            .iter()
            .any(|c| matches!(c, Call::Started(..) | Call::Released(..))),
        "a repeated update leaves the running wrap-up timer alone"
    );
    r.advance(Duration::from_secs(20));
    r.deliver(Message::Agent(agent("1001", AgentState::Ready)), None);
    r.deliver(Message::Agent(agent("1001", AgentState::Ready)), None);
    let stops: Vec<Call> = r
        .calls(1)
        .into_iter()
        .filter(|c| matches!(c, Call::Released(..)))
        .collect();
    assert_eq!(
        stops,
        [Call::Released("d1".into(), T0 + 50)],
        "exactly once"
    );
}

#[test]
fn wrap_up_leaves_the_timer_alone_by_default() {
    let r = into_wrap_up(&[]);
    let starts = r
        .calls(1)
        .into_iter()
        .filter(|c| matches!(c, Call::Started(..)))
        .count();
    assert_eq!(starts, 1, "only the call's own start");
}

#[test]
fn wrap_up_reason_goes_to_the_call_that_ended() {
    let mut r = into_wrap_up(&[]);
    assert!(r.enabled(1, "SetWrapUpReason"));
    r.take_sent();
    r.invoke(1, "wu", "SetWrapUpReason", "Sale", vec![]);
    assert_eq!(
        r.sent(),
        [Message::UpdateCallData {
            agent: "1001".into(),
            dialog: "d1".into(),
            wrap_up_reason: Some("Sale".into()),
            variables: Vec::new(),
        }]
    );
}

#[test]
fn a_new_agent_in_the_session_ends_the_old_agents_calls() {
    let mut r = ringing(&[]);
    r.advance(Duration::from_secs(5));
    r.invoke(1, "login", "LogIn", "", login_params("1002"));
    assert!(r.calls(1).contains(&Call::Released("d1".into(), T0 + 5)));
}

#[test]
fn numbers_and_dtmf_digits_are_checked_before_anything_is_sent() {
    let mut r = Rig::logged_in(&[]);
    r.invoke(1, "mc", "MakeCall", &"5".repeat(25_000), vec![]);
    assert!(r.sent().is_empty());
    assert_eq!(r.error_code(1), "InvalidNumber");
    assert!(
        r.status(1).starts_with("Cannot dial this number"),
        "{}",
        r.status(1)
    );
    r.invoke(1, "mc", "MakeCall", "555;drop", vec![]);
    assert!(r.sent().is_empty());
    let mut r = ringing(&[]);
    update(&mut r, "d1", "ACTIVE");
    r.clear();
    r.invoke(1, "dtmf", "SendDTMF", "12 34", vec![]);
    assert!(r.sent().is_empty());
    assert_eq!(r.error_code(1), "InvalidDigits");
    r.invoke(1, "dtmf", "SendDTMF", "12*#", vec![]);
    assert_eq!(r.sent().len(), 1);
}

#[test]
fn complete_transfer_acts_on_the_held_original_that_lists_transfer() {
    // Cisco's table: TRANSFER and CONFERENCE are listed on the held original call.
    let mut r = Rig::logged_in(&[]);
    let mut original = dialog("1001", "d1", "HELD");
    original.actions = ["RETRIEVE", "DROP", "TRANSFER", "CONFERENCE"]
        .map(String::from)
        .to_vec();
    let mut consult = dialog("1001", "d2", "ACTIVE");
    consult.call_type = "CONSULT".into();
    consult.associated = Some("d1".into());
    consult.actions = ["HOLD", "DROP"].map(String::from).to_vec();
    r.deliver(Message::Dialog(Box::new(original)), None);
    r.deliver(Message::Dialog(Box::new(consult)), None);
    assert!(r.enabled(1, "CompleteTransfer"));
    assert!(r.enabled(1, "CompleteConference"));
    r.clear();
    r.invoke(1, "ct", "CompleteTransfer", "", kv(&[("TrackingID", "d2")]));
    assert!(matches!(
        &r.sent()[..],
        [Message::CallAction { dialog, action: CallAction::Transfer, .. }] if dialog == "d1"
    ));
}

/// Finesse's wrap-up reasons for agent 1001 (a wrap-up reason has no code).
fn wrap_up_reasons() -> Message {
    let reason = |id: &str, label: &str| ReasonCode {
        id: id.into(),
        code: String::new(),
        label: label.into(),
    };
    Message::ReasonCodes {
        agent: "1001".into(),
        category: "WRAP_UP".into(),
        codes: vec![reason("1", "Sale"), reason("2", "Complaint")],
    }
}

#[test]
fn wrap_up_reasons_are_read_only_when_the_switch_is_on() {
    for (on, asked) in [("TRUE", true), ("FALSE", false)] {
        let mut r = Rig::online_with(&[("Driver:WrapUpReasonCodes", on)]);
        r.login(1, "1001");
        let wanted = Message::GetReasonCodes {
            agent: "1001".into(),
            category: "WRAP_UP".into(),
        };
        assert_eq!(r.sent().contains(&wanted), asked, "{on}");
    }
}

#[test]
fn with_the_switch_on_a_wrap_up_reason_must_be_one_of_finesses() {
    let mut r = into_wrap_up(&[("Driver:WrapUpReasonCodes", "TRUE")]);
    r.deliver(wrap_up_reasons(), None);
    // Offered to Siebel (the wrap-up picker's rows).
    let f = r.event_fields(1, "EventReasonCodes");
    assert_eq!(field(&f, "Category"), "WRAP_UP");
    assert_eq!(field(&f, "ReasonLabels"), "Sale|Complaint");
    r.take_sent();
    r.clear();
    r.invoke(1, "wu", "SetWrapUpReason", "", vec![]);
    assert!(r.sent().is_empty());
    assert_eq!(r.error_code(1), "MissingReason");
    assert_eq!(r.status(1), "Choose a wrap-up reason: Sale, Complaint.");
    r.invoke(1, "wu", "SetWrapUpReason", "Refund", vec![]);
    assert!(r.sent().is_empty());
    assert_eq!(r.error_code(1), "UnknownReason");
    assert_eq!(
        r.status(1),
        "\"Refund\" is not one of your reasons: Sale, Complaint."
    );
    // By label in any case, or by Finesse id: Finesse stores the label.
    for (given, label) in [("sale", "Sale"), ("2", "Complaint")] {
        r.take_sent();
        r.invoke(1, "wu", "SetWrapUpReason", given, vec![]);
        assert_eq!(
            r.sent(),
            [Message::UpdateCallData {
                agent: "1001".into(),
                dialog: "d1".into(),
                wrap_up_reason: Some(label.into()),
                variables: Vec::new(),
            }],
            "{given}"
        );
    }
}

#[test]
fn with_the_switch_off_a_wrap_up_reason_is_free_text() {
    let mut r = into_wrap_up(&[]);
    r.deliver(wrap_up_reasons(), None);
    r.take_sent();
    r.invoke(1, "wu", "SetWrapUpReason", "Refund", vec![]);
    assert_eq!(
        r.sent(),
        [Message::UpdateCallData {
            agent: "1001".into(),
            dialog: "d1".into(),
            wrap_up_reason: Some("Refund".into()),
            variables: Vec::new(),
        }]
    );
    r.clear();
    r.invoke(1, "wu", "SetWrapUpReason", "", vec![]);
    assert_eq!(r.status(1), "Type a wrap-up reason in the toolbar first.");
}

#[test]
fn an_asynchronous_call_error_lands_on_the_call_it_names() {
    let mut r = ringing(&[]);
    update(&mut r, "d1", "ACTIVE");
    update(&mut r, "d2", "ACTIVE");
    r.clear();
    let error = |dialog: Option<&str>| Message::Error {
        agent: Some("1001".into()),
        code: "CallFailed".into(),
        message: "the number is not valid (CF_INVALID_DESTINATION)".into(),
        dialog: dialog.map(str::to_string),
    };
    r.deliver(error(Some("d2")), None);
    let errors = r.errors(1);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0.as_deref(), Some("d2"));
    // A dialog this session does not have: the agent is still told, on no work item.
    r.clear();
    r.deliver(error(Some("d9")), None);
    assert_eq!(r.errors(1)[0].0, None);
}
