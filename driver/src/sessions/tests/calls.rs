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
    // UCCE (Finesse 12.5(1)+): Make Call from Ready; Finesse moves the agent to Not Ready.
    let mut r = Rig::logged_in(&[]);
    r.deliver(Message::Agent(agent("1001", AgentState::Ready)), None);
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
    r.deliver(Message::Agent(agent("1001", AgentState::Ready)), None);
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
            wrap_up_reason: Some("Sale".into())
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
