//! Bounded state: agent entries without a session, and numbers to dial.

use super::*;
use crate::service::core::bounds::{IDLE_AGENT_TTL, MAX_IDLE_AGENTS};
use driver::protocol::CallAction;

#[test]
fn bogus_agents_without_a_session_are_capped_and_expire() {
    let mut h = Harness::new();
    h.logged_in("1001");
    for i in 0..20_000 {
        h.connect(&format!("bogus{i}"));
    }
    let n = h.core.agents.len();
    assert!(
        n <= MAX_IDLE_AGENTS + MAX_IDLE_AGENTS / 4 + 1,
        "{n} agent entries held"
    );
    assert!(
        h.core.agents.contains_key("1001"),
        "the agent with a session stays"
    );
    // The entries asked about last are kept when the oldest go.
    h.advance(Duration::from_secs(1));
    for i in 0..600 {
        h.connect(&format!("late{i}"));
    }
    assert!((0..600).all(|i| h.core.agents.contains_key(&format!("late{i}"))));
    assert!(h.core.agents.len() <= MAX_IDLE_AGENTS + MAX_IDLE_AGENTS / 4 + 1);
    h.advance(IDLE_AGENT_TTL + Duration::from_secs(11));
    assert_eq!(
        h.core.agents.len(),
        1,
        "only the agent with a session is left"
    );
}

#[test]
fn numbers_over_the_limits_are_refused_before_finesse() {
    let mut h = Harness::new();
    h.logged_in("1001");
    h.request(
        "m1",
        Message::MakeCall {
            agent: "1001".into(),
            to: "5".repeat(25_000),
        },
    );
    assert!(h.calls.is_empty(), "no REST call: {:?}", h.calls);
    let sent = h.take();
    assert_eq!(error_of(&sent[0].1).0, "InvalidNumber");
    h.request(
        "d1",
        Message::CallAction {
            agent: "1001".into(),
            dialog: "x".into(),
            action: CallAction::SendDtmf,
            to: Some("1;2".into()),
        },
    );
    assert!(h.calls.is_empty());
    assert_eq!(error_of(&h.take()[0].1).0, "InvalidDigits");
}
