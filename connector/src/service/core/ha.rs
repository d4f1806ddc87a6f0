//! High availability: whether this connector serves (a standby of an active-passive pair
//! serves only once the broker gives it the request queue), its heartbeat on the status
//! topic, the takeover of an agent by another driver instance, and forced logouts that go
//! through Not Ready and wait for the end of a call.

use driver::clock::Now;
use driver::protocol::{AgentState, Envelope, Message};
use std::time::Duration;

use super::Core;

/// How often a standby probes the request queue when no heartbeat interval is set.
const PROBE_EVERY: Duration = Duration::from_secs(1);

impl Core {
    /// Input: the broker link is up (subscribed). An exclusive consumer starts as standby
    /// (the broker decides who holds the queue); a serving connector announces itself.
    pub fn link_up(&mut self, now: Now) {
        self.linked = true;
        self.record.counters.broker_links += 1;
        self.record
            .note(super::Level::Info, "broker link up".into());
        if self.cfg.exclusive {
            self.serving = false;
            self.last_probe = None;
        }
        self.broadcast_status();
        self.last_beat = Some(now.mono);
    }

    /// Input: the broker link is down.
    pub fn link_down(&mut self) {
        self.linked = false;
        self.record
            .note(super::Level::Error, "broker link down".into());
        if self.cfg.exclusive {
            self.serving = false;
        }
    }

    /// Whether this connector serves the request queue (for the console).
    pub fn serving(&self) -> bool {
        self.serving
    }

    /// A message came from the request queue: the broker gave us the queue. A standby that
    /// takes it over announces itself at once, so drivers re-attach their agents.
    pub(super) fn took_queue(&mut self, now: Now) {
        if self.serving {
            return;
        }
        tracing::info!("took over the request queue: serving");
        let text = "took over the request queue: serving".into();
        self.record.note(super::Level::Warn, text);
        self.serving = true;
        self.broadcast_status();
        self.last_beat = Some(now.mono);
    }

    /// The heartbeat of a serving connector; the probe of a standby.
    pub(super) fn beat(&mut self, now: Now) {
        if !self.linked || self.stopping {
            return;
        }
        let every = self.cfg.heartbeat_every;
        let due = |last: Option<std::time::Instant>, every: Duration| {
            last.is_none_or(|t| now.since(t) >= every)
        };
        if self.serving {
            if !every.is_zero() && due(self.last_beat, every) {
                self.broadcast_status();
                self.last_beat = Some(now.mono);
            }
        } else {
            let every = if every.is_zero() { PROBE_EVERY } else { every };
            if due(self.last_probe, every) {
                self.last_probe = Some(now.mono);
                let msg = Message::Probe {
                    instance: self.cfg.instance.clone(),
                };
                let env = Envelope::new(self.next_id(), msg);
                let to = self.cfg.request_queue.clone();
                self.out.push_back(super::Output::Send { to, env });
            }
        }
    }

    /// Another driver instance connects an agent routed elsewhere: the newer session takes
    /// the agent over and the older instance is told so.
    pub(super) fn tell_taken_over(&mut self, agent: &str, new_owner: &str) {
        let old = self.agents.get(agent).and_then(|e| e.reply_to.clone());
        if let Some(old) = old.filter(|o| o != new_owner) {
            tracing::info!("agent {agent}: taken over by {new_owner} from {old}");
            let text = format!("agent {agent}: taken over by {new_owner} from {old}");
            self.record.note(super::Level::Warn, text);
            let msg = Message::Error {
                agent: Some(agent.to_string()),
                code: "TakenOver".into(),
                message: format!("another Siebel session ({new_owner}) took agent {agent} over"),
                dialog: None,
            };
            self.send(&old, msg, None);
        }
    }

    /// `Logout` with `force`: remembered; [`Core::force_logouts`] drives it.
    pub(super) fn start_force_logout(&mut self, agent: &str) {
        if let Some(e) = self.agents.get_mut(agent) {
            tracing::info!("agent {agent}: forced logout");
            e.force_logout = Some(String::new());
        }
    }

    /// Moves every forced logout on by one step when the agent's state allows: Not Ready
    /// first (from Ready or wrap-up, or pending during a call), then Logout. Runs on ticks,
    /// between the agent's requests.
    pub(super) fn force_logouts(&mut self, now: Now) {
        let mut agents: Vec<String> = self
            .agents
            .iter()
            .filter(|(a, e)| e.force_logout.is_some() && !self.queues.contains_key(*a))
            .map(|(a, _)| a.clone())
            .collect();
        agents.sort();
        for agent in agents {
            let Some(e) = self.agents.get_mut(&agent) else {
                continue;
            };
            let state = e.info.as_ref().and_then(|i| i.state);
            let pending = e.info.as_ref().and_then(|i| i.pending_state);
            let on_call = !e.calls.is_empty()
                || matches!(
                    state,
                    Some(AgentState::Reserved | AgentState::Talking | AgentState::Hold)
                );
            let key = format!("{state:?}/{pending:?}/{on_call}");
            if e.force_logout.as_deref() == Some(key.as_str()) {
                continue;
            }
            let wanted = match state {
                Some(AgentState::Logout) => None,
                Some(AgentState::NotReady) if !on_call => Some("LOGOUT"),
                _ if on_call && pending == Some(AgentState::NotReady) => Some(""),
                _ if on_call => Some("NOT_READY"),
                Some(AgentState::Ready | AgentState::Work | AgentState::WorkReady) => {
                    Some("NOT_READY")
                }
                _ => Some("LOGOUT"),
            };
            let Some(wanted) = wanted else {
                tracing::info!("agent {agent}: forced logout done");
                e.force_logout = None;
                if e.reply_to.is_none() {
                    e.creds = None;
                    e.calls.clear();
                    self.stop_session(&agent);
                }
                continue;
            };
            e.force_logout = Some(key);
            if wanted.is_empty() {
                continue; // Not Ready is pending: wait for the call to end.
            }
            let msg = if wanted == "LOGOUT" {
                Message::Logout {
                    agent: agent.clone(),
                    reason: None,
                    force: false,
                }
            } else {
                Message::SetState {
                    agent: agent.clone(),
                    state: AgentState::NotReady,
                    reason: None,
                }
            };
            let mut env = Envelope::new(self.next_id(), msg);
            // The connector's own step, proved with the session it holds.
            env.proof = self
                .creds_of(&agent)
                .map(|c| driver::protocol::agent_proof(&agent, &c.password));
            let to = self.reply_to_of(&agent, "");
            self.enqueue(now, to, env);
        }
    }
}
