//! Supervisors: silent monitor and barge, offered only to a user with the supervisor role.

use super::*;

/// User 1001 logged in, Not Ready, with or without the supervisor role; requests cleared.
fn supervisor(role: bool) -> Rig {
    let mut r = Rig::logged_in(&[]);
    let info = AgentInfo {
        supervisor: role,
        ..agent("1001", AgentState::NotReady)
    };
    r.deliver(Message::Agent(info), None);
    r.take_sent();
    r
}

#[test]
fn a_not_ready_supervisor_monitors_the_agent_typed_in() {
    let mut r = supervisor(true);
    assert!(r.enabled(1, "SilentMonitor"));
    assert!(!r.enabled(1, "BargeIn"));
    r.invoke(1, "sm", "SilentMonitor", "5002", vec![]);
    assert_eq!(
        r.sent(),
        [Message::SilentMonitor {
            agent: "1001".into(),
            to: "5002".into()
        }]
    );
}

#[test]
fn an_agent_without_the_role_is_refused_and_sees_both_disabled() {
    let mut r = supervisor(false);
    assert!(!r.enabled(1, "SilentMonitor"));
    r.invoke(1, "sm", "SilentMonitor", "5002", vec![]);
    assert!(r.sent().is_empty());
    assert_eq!(r.error_code(1), "NotSupervisor");
}

#[test]
fn barge_acts_on_the_monitoring_call_toward_the_monitored_agent() {
    let mut r = supervisor(true);
    let mut d = dialog("1001", "m1", "ACTIVE");
    d.call_type = "SUPERVISOR_MONITOR".into();
    d.to_address = "5002".into();
    d.actions = vec!["BARGE_CALL".into(), "DROP".into()];
    r.deliver(Message::Dialog(Box::new(d)), None);
    assert!(r.enabled(1, "BargeIn"));
    assert!(
        !r.enabled(1, "SilentMonitor"),
        "one monitoring call at a time"
    );
    r.take_sent();
    r.invoke(1, "bi", "BargeIn", "", vec![]);
    assert_eq!(
        r.sent(),
        [Message::BargeCall {
            agent: "1001".into(),
            dialog: "m1".into(),
            to: "5002".into()
        }]
    );
}
