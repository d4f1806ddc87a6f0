//! What the monitor console shows of the core: agents and calls.

use driver::protocol::AgentState;

use super::core::{Core, Notes};

/// A view of one agent for the console.
#[derive(Clone, Debug, serde::Serialize)]
pub(crate) struct AgentView {
    pub id: String,
    pub state: String,
    pub reason: String,
    pub extension: String,
    pub driver: String,
    pub notifications: bool,
}

/// A view of one call for the console.
#[derive(Clone, Debug, serde::Serialize)]
pub(crate) struct CallView {
    pub agent: String,
    pub id: String,
    pub state: String,
    pub from: String,
    pub to: String,
    pub call_type: String,
}

impl Core {
    /// The calls, by agent, for the console.
    pub(crate) fn call_views(&self) -> Vec<CallView> {
        let mut v: Vec<CallView> = self
            .agents
            .iter()
            .flat_map(|(agent, a)| {
                a.calls.values().map(move |d| CallView {
                    agent: agent.clone(),
                    id: d.id.clone(),
                    state: d.agent_state.clone(),
                    from: d.from_address.clone(),
                    to: d.to_address.clone(),
                    call_type: d.call_type.clone(),
                })
            })
            .collect();
        v.sort_by(|a, b| (&a.agent, &a.id).cmp(&(&b.agent, &b.id)));
        v
    }

    /// The agents, sorted by id, for the console.
    pub(crate) fn agent_views(&self) -> Vec<AgentView> {
        let mut v: Vec<AgentView> = self
            .agents
            .iter()
            .map(|(id, a)| {
                let i = a.info.clone().unwrap_or_default();
                AgentView {
                    id: id.clone(),
                    state: i.state.unwrap_or(AgentState::Unknown).as_str().to_string(),
                    reason: i.reason_label.or(i.reason_code).unwrap_or_default(),
                    extension: i.extension.unwrap_or_default(),
                    driver: a.reply_to.clone().unwrap_or_default(),
                    notifications: matches!(a.notes, Notes::Up(_)),
                }
            })
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }
}
