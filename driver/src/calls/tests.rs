//! Tests of the work items built from dialogs.
use super::*;

/// The test's clock: the work-item times are not what these tests check.
fn t() -> Now {
    Now::read()
}

fn dialog(id: &str, state: &str, from: &str, to: &str) -> DialogInfo {
    DialogInfo {
        agent: "1001".into(),
        id: id.into(),
        state: state.into(),
        agent_state: state.into(),
        from_address: from.into(),
        to_address: to.into(),
        variables: vec![
            ("callVariable1".into(), "42".into()),
            ("user.account".into(), "A-9".into()),
        ],
        ..DialogInfo::default()
    }
}

/// `dialog` reaches the calls of the agent on extension 5001, with no agent names.
fn step(c: &mut Calls, dialog: DialogInfo) -> Vec<Effect> {
    c.apply(dialog, "5001", Named::default(), t())
}

fn names(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .map(|e| match e {
            Effect::NewWorkItem { mode, .. } => format!("New{mode}"),
            Effect::Started { .. } => "Started".into(),
            Effect::Suspended(_) => "Suspended".into(),
            Effect::Resumed(_) => "Resumed".into(),
            Effect::Released { .. } => "Released".into(),
            Effect::Event { name, .. } => name.to_string(),
        })
        .collect()
}

#[test]
fn inbound_call_life() {
    let mut c = Calls::default();
    let e = c.apply(
        dialog("7", "ALERTING", "4085551234", "5001"),
        "5001",
        Named {
            ced: Some("callVariable1"),
            context: None,
        },
        t(),
    );
    assert_eq!(names(&e), ["New1", "EventRinging"]);
    match &e[1] {
        Effect::Event { fields, .. } => {
            let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            assert_eq!(get("ANI"), Some("4085551234"));
            assert_eq!(get("CallVariable1"), Some("42"));
            assert_eq!(get("user.account"), Some("A-9"));
            assert_eq!(get("CED"), Some("42"));
            assert_eq!(get("Direction"), Some("Inbound"));
        }
        other => panic!("{other:?}"),
    }
    let e = step(&mut c, dialog("7", "ACTIVE", "4085551234", "5001"));
    assert_eq!(names(&e), ["Started", "EventEstablished"]);
    assert!(c
        .apply(
            dialog("7", "ACTIVE", "4085551234", "5001"),
            "5001",
            Named::default(),
            t()
        )
        .is_empty());
    let e = step(&mut c, dialog("7", "HELD", "4085551234", "5001"));
    assert_eq!(names(&e), ["Suspended", "EventHeld"]);
    let e = step(&mut c, dialog("7", "ACTIVE", "4085551234", "5001"));
    assert_eq!(names(&e), ["Resumed", "EventRetrieved"]);
    let e = step(&mut c, dialog("7", "DROPPED", "4085551234", "5001"));
    assert_eq!(names(&e), ["EventReleased", "Released"]);
    assert!(c.current().is_none());
    assert_eq!(c.last_ended(), Some("7"));
}

#[test]
fn a_call_first_seen_held_starts_then_holds_and_resumes() {
    let mut c = Calls::default();
    let e = c.reconcile(
        vec![dialog("7", "HELD", "4085551234", "5001")],
        None,
        "5001",
        Named::default(),
        t(),
    );
    assert_eq!(
        names(&e),
        [
            "New1",
            "Started",
            "EventEstablished",
            "Suspended",
            "EventHeld"
        ]
    );
    let e = step(&mut c, dialog("7", "ACTIVE", "4085551234", "5001"));
    assert_eq!(names(&e), ["Resumed", "EventRetrieved"]);
    let e = step(&mut c, dialog("7", "HELD", "4085551234", "5001"));
    assert_eq!(names(&e), ["Suspended", "EventHeld"]);
    // A stale list does not end a call updated since it was asked for.
    let asked = t().mono - std::time::Duration::from_secs(1);
    assert!(c
        .reconcile(Vec::new(), Some(asked), "5001", Named::default(), t())
        .is_empty());
    // The newest call is the current one, whatever its id's spelling.
    step(&mut c, dialog("10", "ALERTING", "4085550000", "5001"));
    assert_eq!(c.current().unwrap().info.id, "10");
    let e = c.end_all("5001", t());
    assert_eq!(
        names(&e),
        ["EventReleased", "Released", "EventReleased", "Released"]
    );
    assert!(c.current().is_none());
    // An update without an id is not a call.
    assert!(c
        .apply(
            dialog("", "ALERTING", "1", "5001"),
            "5001",
            Named::default(),
            t()
        )
        .is_empty());
}

#[test]
fn outbound_and_reconcile() {
    let mut c = Calls::default();
    let e = step(&mut c, dialog("8", "INITIATING", "5001", "5551000"));
    assert_eq!(names(&e), ["New2", "EventDialing"]);
    let e = step(&mut c, dialog("8", "ACTIVE", "5001", "5551000"));
    assert_eq!(names(&e), ["Started", "EventEstablished"]);
    step(&mut c, dialog("9", "ALERTING", "4085550000", "5001"));
    assert_eq!(c.view().unwrap().calls, 2);
    // A call the agent leaves for wrap-up ends as a work item; later updates of the
    // wrap-up dialog (its reason) are not new calls.
    step(&mut c, dialog("11", "ALERTING", "4085550001", "5001"));
    step(&mut c, dialog("11", "ACTIVE", "4085550001", "5001"));
    let e = step(&mut c, dialog("11", "WRAP_UP", "4085550001", "5001"));
    assert_eq!(names(&e), ["EventReleased", "Released"]);
    assert_eq!(c.last_ended(), Some("11"));
    assert!(c
        .apply(
            dialog("11", "WRAP_UP", "4085550001", "5001"),
            "5001",
            Named::default(),
            t()
        )
        .is_empty());
    // A call that never connects is released too (its work item was announced).
    step(&mut c, dialog("10", "INITIATING", "5001", "5559999"));
    // A FAILED call is not ended: it stays until the agent drops it.
    let mut failed = dialog("10", "FAILED", "5001", "5559999");
    failed.state_cause = "BUSY".into();
    assert!(c.apply(failed, "5001", Named::default(), t()).is_empty());
    assert!(c.get("10").is_some());
    let fields = call_fields(c.get("10").unwrap(), "5001", Named::default());
    assert!(fields.contains(&("FailureCause".to_string(), "BUSY".to_string())));
    let e = step(&mut c, dialog("10", "DROPPED", "5001", "5559999"));
    assert_eq!(names(&e), ["EventReleased", "Released"]);
    // A snapshot with only call 9: call 8 ended meanwhile.
    let e = c.reconcile(
        vec![dialog("9", "ALERTING", "4085550000", "5001")],
        None,
        "5001",
        Named::default(),
        t(),
    );
    assert_eq!(names(&e), ["EventReleased", "Released"]);
    assert_eq!(c.ids(), ["9"]);
}

#[test]
fn the_consult_call_offers_the_transfer_its_held_original_lists() {
    let mut c = Calls::default();
    let mut original = dialog("1", "HELD", "4085550001", "5001");
    original.actions = ["RETRIEVE", "DROP", "TRANSFER", "CONFERENCE"]
        .map(String::from)
        .to_vec();
    let mut consult = dialog("2", "ACTIVE", "5001", "5002");
    consult.associated = Some("1".into());
    consult.actions = ["HOLD", "DROP"].map(String::from).to_vec();
    c.apply(original, "5001", Named::default(), t());
    c.apply(consult, "5001", Named::default(), t());
    let v = c.view().unwrap();
    assert_eq!(v.actions, ["HOLD", "DROP", "TRANSFER", "CONFERENCE"]);
    // An unrelated held call lends nothing.
    let mut c = Calls::default();
    let mut other = dialog("3", "HELD", "4085550002", "5001");
    other.actions = vec!["TRANSFER".into()];
    c.apply(other, "5001", Named::default(), t());
    step(&mut c, dialog("4", "ACTIVE", "5001", "5003"));
    assert!(!c.view().unwrap().actions.iter().any(|a| a == "TRANSFER"));
}

#[test]
fn a_call_handed_over_by_a_transfer_is_offered_then_established() {
    let mut c = Calls::default();
    let mut d = dialog("20", "ACTIVE", "4085550001", "8005551000");
    d.call_type = "TRANSFER".into();
    d.secondary_id = "19".into();
    d.variables = vec![("callVariable1".into(), "acct-42".into())];
    let e = c.apply(d, "5002", Named::default(), t());
    assert_eq!(
        names(&e),
        ["New1", "EventRinging", "Started", "EventEstablished"]
    );
    let ring = e
        .iter()
        .find_map(|x| match x {
            Effect::Event { name, fields, .. } if *name == events::RINGING => Some(fields),
            _ => None,
        })
        .unwrap();
    assert!(ring.contains(&("CallVariable1".to_string(), "acct-42".to_string())));
    assert!(ring.contains(&("ANI".to_string(), "4085550001".to_string())));
    // A call first seen connected without secondaryId (a snapshot) is not offered again.
    let e = c.apply(
        dialog("21", "ACTIVE", "4085550002", "5002"),
        "5002",
        Named::default(),
        t(),
    );
    assert_eq!(names(&e), ["New1", "Started", "EventEstablished"]);
}
