//! The toolbar's extras: an agent already logged in, the time in the current state, the
//! Hold/Resume toggle, Wrap-Up under UCCX, the work-item list and ResetState.

use super::*;

#[test]
fn a_login_that_finds_the_agent_ready_says_it_was_already_logged_in() {
    let mut r = Rig::online();
    r.invoke(1, "login-1", "LogIn", "", login_params("1001"));
    let login = r.request_id("Login");
    assert_eq!(r.status(1), "Logging in agent 1001...");
    r.deliver(
        Message::Agent(agent("1001", AgentState::Ready)),
        Some(&login),
    );
    assert_eq!(
        r.status(1),
        "Agent 1001 was already logged in; state: Ready."
    );
    assert!(r.enabled(1, "ChangeNotReadyState"));
}

#[test]
fn a_login_answer_that_changes_nothing_known_replaces_logging_in() {
    // The agent is known to be Not Ready; a login (sent anyway) answers the same state.
    let mut r = Rig::logged_in(&[]);
    r.invoke(1, "login-2", "LogIn", "", login_params("1001"));
    let login = r.request_id("Login");
    assert_eq!(r.status(1), "Logging in agent 1001...");
    r.deliver(
        Message::Agent(agent("1001", AgentState::NotReady)),
        Some(&login),
    );
    assert_eq!(
        r.status(1),
        "Agent 1001 was already logged in; state: Not Ready."
    );
}

#[test]
fn a_fresh_login_announced_by_its_notification_first_is_not_called_a_repeat() {
    let mut r = Rig::online();
    r.invoke(1, "login-1", "LogIn", "", login_params("1001"));
    let login = r.request_id("Login");
    r.deliver(Message::Agent(agent("1001", AgentState::NotReady)), None);
    r.deliver(
        Message::Agent(agent("1001", AgentState::NotReady)),
        Some(&login),
    );
    assert_eq!(r.status(1), "Logged in as Ann Archer on extension 5001.");
}

#[test]
fn time_in_state_is_shown_once_a_minute_and_restarts_on_a_change() {
    let mut r = Rig::logged_in(&[]);
    r.advance(Duration::from_secs(59));
    r.tick();
    assert!(r.statuses(1).is_empty(), "{:?}", r.statuses(1));
    r.advance(Duration::from_secs(1));
    r.tick();
    r.tick();
    assert_eq!(r.statuses(1), ["State: Not Ready for 1 min."]);
    r.advance(Duration::from_secs(30));
    r.tick();
    assert_eq!(r.statuses(1).len(), 1, "nothing new within the minute");
    r.advance(Duration::from_secs(30));
    r.tick();
    assert_eq!(r.status(1), "State: Not Ready for 2 min.");
    // Ready: the count starts again.
    r.deliver(Message::Agent(agent("1001", AgentState::Ready)), None);
    r.clear();
    r.advance(Duration::from_secs(59));
    r.tick();
    assert!(r.statuses(1).is_empty());
    r.advance(Duration::from_secs(1));
    r.tick();
    assert_eq!(r.statuses(1), ["State: Ready for 1 min."]);
    // Logged out: no more.
    r.deliver(Message::Agent(agent("1001", AgentState::Logout)), None);
    r.clear();
    r.advance(Duration::from_secs(600));
    r.tick();
    assert!(r.statuses(1).is_empty());
}

#[test]
fn hold_is_checked_while_the_call_is_held_and_uccx_disables_wrap_up_during_a_call() {
    for (rules, wrap_up) in [("UCCE", true), ("UCCX", false)] {
        let mut r = Rig::logged_in(&[("Driver:DeploymentType", rules)]);
        r.deliver(Message::Agent(agent("1001", AgentState::Talking)), None);
        r.deliver(
            Message::Dialog(Box::new(dialog("1001", "d1", "ACTIVE"))),
            None,
        );
        assert_eq!(r.enabled(1, "ChangeWorkReadyState"), wrap_up, "{rules}");
        assert_eq!(r.flags(1, "HoldCall") & flags::CHECKED, 0, "{rules}");
        r.deliver(
            Message::Dialog(Box::new(dialog("1001", "d1", "HELD"))),
            None,
        );
        assert_ne!(r.flags(1, "HoldCall") & flags::CHECKED, 0, "{rules}");
        assert!(r.enabled(1, "RetrieveCall"));
        assert_eq!(r.enabled(1, "ChangeWorkReadyState"), wrap_up, "{rules}");
    }
}

#[test]
fn the_work_item_list_makes_the_picked_call_current() {
    let mut r = Rig::logged_in(&[]);
    r.deliver(Message::Agent(agent("1001", AgentState::Hold)), None);
    r.deliver(
        Message::Dialog(Box::new(dialog("1001", "d1", "HELD"))),
        None,
    );
    r.deliver(
        Message::Dialog(Box::new(dialog("1001", "d2", "ACTIVE"))),
        None,
    );
    assert!(r.enabled(1, "SetCurrentWorkItem"));
    r.take_sent();
    // Picking the held call: the active one is held, the picked one taken back.
    let pick = |t: &str| kv(&[("TrackingID", t)]);
    r.invoke(1, "wl", "SetCurrentWorkItem", "", pick("d1"));
    let actions: Vec<_> = r
        .sent()
        .into_iter()
        .map(|m| match m {
            Message::CallAction { dialog, action, .. } => (dialog, action),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("d2".to_string(), CallAction::Hold),
            ("d1".to_string(), CallAction::Retrieve)
        ]
    );
    // A work item the session does not have: refused, nothing sent.
    r.clear();
    r.invoke(1, "wl", "SetCurrentWorkItem", "", pick("d9"));
    assert!(r.sent().is_empty());
    assert_eq!(r.error_code(1), "UnknownWorkItem");
}

#[test]
fn reset_state_reads_the_agent_again_and_raises_its_state_anew() {
    let mut r = Rig::logged_in(&[]);
    r.deliver(Message::Agent(agent("1001", AgentState::Ready)), None);
    assert!(r.enabled(1, "ResetState"));
    r.take_sent();
    r.clear();
    r.invoke(1, "rs", "ResetState", "", vec![]);
    assert_eq!(
        r.status(1),
        "Reading your state and calls from the contact center again..."
    );
    let snapshot = r.request_id("Snapshot");
    // The same state read again: its event is raised again and the status line shows it.
    r.deliver(
        Message::Agent(agent("1001", AgentState::Ready)),
        Some(&snapshot),
    );
    assert_eq!(r.events(1), ["EventAgentReady"]);
    assert_eq!(r.status(1), "State: Ready.");
    // Logged out, there is no state to read.
    let r = Rig::online();
    assert!(!r.enabled(1, "ResetState"));
}
