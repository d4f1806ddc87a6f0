//! What the agent sees: the status line, failed commands, the toolbar's command states,
//! agent events and object fields, and call effects played on the host.

use crate::calls::Effect;
use crate::commands::{events, toolbar, ToolbarInput};
use crate::config::Deployment;
use crate::host::HostSlot;
use crate::messages::Msg;
use crate::protocol::{AgentInfo, AgentState};

use super::Sessions;

impl Sessions {
    /// The status line that describes the link and the connector.
    pub(super) fn status_msg(&self) -> Msg {
        if !self.link_up && self.link_failed && self.link_untrusted {
            Msg::BrokerUntrusted
        } else if !self.link_up && self.link_failed {
            Msg::BrokerDown
        } else if !self.link_up {
            Msg::Connecting
        } else if let Some(reason) = self.duplicate.as_ref().map(|_| self.offline_reason().1) {
            reason
        } else if self.lost {
            Msg::ConnectorLost
        } else if !self.in_service() {
            Msg::WaitingForConnector
        } else {
            Msg::ConnectorInService
        }
    }

    /// Sends a session's command states (`CacheCommandInformation`).
    pub(super) fn refresh_toolbar(&self, id: u64) {
        let Some(s) = self.sessions.get(&id) else {
            return;
        };
        let items = toolbar(&ToolbarInput {
            online: self.online(),
            busy: !s.pending.is_empty(),
            state: s.state(),
            pending: s.info.as_ref().and_then(|i| i.pending_state),
            reasons: self.cfg.not_ready_reasons,
            call: s.calls.view(),
            uccx: self.cfg.deployment == Deployment::Uccx,
            make_call_from_ready: s.info.as_ref().is_some_and(|i| i.make_call_from_ready),
            supervisor: s.info.as_ref().is_some_and(|i| i.supervisor),
            wrap_up: s.calls.last_ended().is_some()
                && matches!(s.state(), Some(AgentState::Work | AgentState::WorkReady)),
        });
        s.slot.call(|h| h.cache_command_information(&items));
    }

    /// Shows a text on a session's status line.
    pub(super) fn tell(&self, id: u64, msg: &Msg) {
        if let Some(s) = self.sessions.get(&id) {
            let text = msg.render(&self.catalog);
            s.slot.call(|h| h.show_status_text(&text));
        }
    }

    /// Reports a failed command to the host: HandleError, EventError and the status line.
    pub(super) fn fail(&self, id: u64, track: Option<&str>, code: &str, msg: &Msg) {
        let Some(s) = self.sessions.get(&id) else {
            return;
        };
        let text = msg.render(&self.catalog);
        // The agent sees plain words; the log keeps the connector's own message.
        let detail = match msg {
            Msg::Failed { message, .. } => message.as_str(),
            _ => "",
        };
        tracing::info!(
            "agent {}: {code}: {text} {detail}",
            s.agent.as_deref().unwrap_or("-")
        );
        let fields = vec![
            ("AgentId".to_string(), s.agent.clone().unwrap_or_default()),
            ("ErrorCode".to_string(), code.to_string()),
            ("ErrorMessage".to_string(), text.clone()),
        ];
        // One call each, so a release from inside a callback stops the rest.
        s.slot.call(|h| h.handle_error(track, &text));
        s.slot.call(|h| h.handle_event(events::ERROR, &fields, ""));
        s.slot.call(|h| h.show_status_text(&text));
    }

    /// Tells every session how the link stands and refreshes their toolbars.
    pub(super) fn broadcast_status(&self) {
        self.broadcast(&self.status_msg());
    }

    /// Shows a text to every session and refreshes their toolbars.
    pub(super) fn broadcast(&self, msg: &Msg) {
        for id in self.sessions.keys() {
            self.tell(*id, msg);
            self.refresh_toolbar(*id);
        }
    }

    /// Raises the events of an agent state change (login, the new state, object fields) and
    /// shows the new state on the status line.
    pub(super) fn announce_agent(&self, id: u64, info: &AgentInfo, was_in: bool) {
        let Some(s) = self.sessions.get(&id) else {
            return;
        };
        let new = info.state;
        let is_in = !matches!(new, None | Some(AgentState::Logout));
        let fields = agent_fields(info);
        s.slot.call(|h| {
            if is_in && !was_in {
                h.handle_event(events::AGENT_LOGIN, &fields, "");
            }
            match new {
                Some(AgentState::Logout) if was_in => {
                    h.handle_event(events::AGENT_LOGOUT, &fields, "")
                }
                Some(AgentState::Ready) => h.handle_event(events::AGENT_READY, &fields, ""),
                Some(AgentState::NotReady) => h.handle_event(events::AGENT_NOT_READY, &fields, ""),
                Some(AgentState::Work | AgentState::WorkReady) => {
                    h.handle_event(events::AGENT_WORK, &fields, "")
                }
                _ => {}
            }
            let extension = info.extension.clone().unwrap_or_default();
            h.update_object_information("", &extension, &object_info(info));
        });
        let msg = match new {
            Some(AgentState::Logout) | None => Msg::LoggedOut,
            Some(state) if !was_in && state == AgentState::NotReady => Msg::LoggedIn {
                agent: info.agent.clone(),
                name: display_name(info),
                extension: info.extension.clone(),
            },
            Some(state) => match info.pending_state {
                Some(p) if p != state => Msg::Pending(state, p),
                _ => Msg::State(state, info.reason_label.clone()),
            },
        };
        self.tell(id, &msg);
    }
}

/// Plays call effects on a session's host, one callback at a time, stopping as soon as the
/// session is released.
pub(super) fn play(slot: &HostSlot, effects: &[Effect]) {
    for e in effects {
        slot.call(|h| match e {
            Effect::NewWorkItem {
                tracking,
                description,
                mode,
            } => h.indicate_new_work_item(tracking, description, *mode),
            Effect::Started {
                tracking,
                description,
                target,
                start,
            } => h.work_item_started(tracking, description, target, *start),
            Effect::Suspended(t) => h.work_item_suspended(t),
            Effect::Resumed(t) => h.work_item_resumed(t),
            Effect::Released { tracking, stop } => h.work_item_released(tracking, *stop),
            Effect::Event {
                name,
                fields,
                tracking,
            } => h.handle_event(name, fields, tracking),
        });
    }
}

/// "First Last" of an agent, if Finesse gave either.
fn display_name(info: &AgentInfo) -> Option<String> {
    let name = [info.first_name.as_deref(), info.last_name.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!name.is_empty()).then_some(name)
}

/// The fields of agent events.
fn agent_fields(info: &AgentInfo) -> Vec<(String, String)> {
    let mut f = vec![
        ("AgentId".to_string(), info.agent.clone()),
        (
            "AgentState".to_string(),
            info.state.map_or("UNKNOWN", AgentState::as_str).to_string(),
        ),
    ];
    let opt = [
        ("Extension", &info.extension),
        ("ReasonCode", &info.reason_code),
        ("ReasonLabel", &info.reason_label),
        ("FirstName", &info.first_name),
        ("LastName", &info.last_name),
        ("StateChangeTime", &info.state_change_time),
    ];
    for (k, v) in opt {
        if let Some(v) = v {
            f.push((k.to_string(), v.clone()));
        }
    }
    if let Some(p) = info.pending_state {
        f.push(("PendingState".to_string(), p.as_str().to_string()));
    }
    f
}

/// `UpdateObjectInformation` properties: SC_OP numbers as text, booleans as TRUE/FALSE.
fn object_info(info: &AgentInfo) -> Vec<(String, String)> {
    let b = |v: bool| if v { "TRUE" } else { "FALSE" }.to_string();
    let s = info.state.unwrap_or(AgentState::Unknown);
    vec![
        ("2".to_string(), info.agent.clone()),
        ("4".to_string(), b(s == AgentState::NotReady)),
        (
            "5".to_string(),
            b(matches!(
                s,
                AgentState::Reserved | AgentState::Talking | AgentState::Hold
            )),
        ),
        ("13".to_string(), b(!matches!(s, AgentState::Logout))),
    ]
}
