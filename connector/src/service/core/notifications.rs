//! Notification sessions and the updates they carry. The shell runs one session per agent
//! (today a thread that logs in to the node's XMPP service as the agent and reconnects by
//! itself); the core decides when a session starts, stops or moves to another node, and turns
//! updates into driver messages.
//!
//! When a session comes up, the agent is read again (anything may have changed while it was
//! down) before the session counts as up: a Login waiting for it is answered after that read,
//! and updates that arrive meanwhile are held and applied after it, in order.

use driver::clock::Now;
use driver::protocol::Message;

use super::{Core, Notification, Output, SessionId, SessionTarget, Waiter};
use crate::rest::RestError;
use crate::xml::{self, Update};

/// The state of an agent's notification session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Notes {
    /// None.
    #[default]
    Off,
    /// Wanted, but the XMPP domain is not known yet (no SystemInfo answer so far).
    Wanted,
    /// Started, not logged in (or lost, the shell retrying).
    Connecting(SessionId),
    /// Logged in; the agent is being read again.
    Syncing(SessionId),
    /// Up: updates flow.
    Up(SessionId),
}

impl Notes {
    fn session(self) -> Option<SessionId> {
        match self {
            Notes::Connecting(s) | Notes::Syncing(s) | Notes::Up(s) => Some(s),
            Notes::Off | Notes::Wanted => None,
        }
    }
}

impl Core {
    /// Input: an event of the agent's notification session `session`.
    pub fn notification(&mut self, now: Now, agent: &str, session: SessionId, n: Notification) {
        let current = self.agents.get(agent).and_then(|e| e.notes.session());
        if current != Some(session) {
            tracing::debug!("agent {agent}: an event of a replaced notification session ignored");
            return;
        }
        match n {
            Notification::Up => {
                tracing::info!("agent {agent}: notifications connected");
                self.set_notes(agent, Notes::Syncing(session));
                match self.start_read(agent, None, "", true) {
                    Some((read, call)) => {
                        self.issue(
                            call,
                            Waiter::Sync {
                                read,
                                session: Some(session),
                            },
                        );
                    }
                    None => self.synced(now, agent, session),
                }
            }
            Notification::Lost(why) => {
                tracing::warn!("agent {agent}: notifications lost: {why}");
                self.set_notes(agent, Notes::Connecting(session));
                self.release_held(agent);
            }
            Notification::Refused(why) => {
                tracing::warn!("agent {agent}: Finesse refused the notification login ({why})");
                self.set_notes(agent, Notes::Off);
                self.release_held(agent);
                // Unchecked credentials from a session start: nothing the agent asked for.
                if self.agents.get(agent).is_some_and(|a| a.verified) {
                    let to = self.reply_to_of(agent, "");
                    let msg = Message::Error {
                        agent: Some(agent.to_string()),
                        code: "Unauthorized".into(),
                        message: "Cisco Finesse refused the agent's notification login".into(),
                        dialog: None,
                    };
                    self.send(&to, msg, None);
                } else if let Some(e) = self.agents.get_mut(agent) {
                    // Unchecked and refused: they prove nothing, nor stand in the way of
                    // the agent's real credential (`proof.rs`), nor keep its events.
                    e.creds = None;
                    e.reply_to = None;
                }
                self.wake_login(now, agent);
            }
            Notification::Update(u) => {
                let e = self.agents.entry(agent.to_string()).or_default();
                if matches!(e.notes, Notes::Syncing(_)) {
                    e.held.push(u);
                } else {
                    self.apply_update(agent, u);
                }
            }
            Notification::FinessePresence(available) => self.finesse_presence(now, available),
        }
    }

    fn set_notes(&mut self, agent: &str, notes: Notes) {
        if let Some(e) = self.agents.get_mut(agent) {
            e.notes = notes;
        }
    }

    /// The session's first read is over: it counts as up.
    pub(super) fn synced(&mut self, now: Now, agent: &str, session: SessionId) {
        let syncing = self
            .agents
            .get(agent)
            .is_some_and(|e| e.notes == Notes::Syncing(session));
        if !syncing {
            return;
        }
        self.set_notes(agent, Notes::Up(session));
        self.release_held(agent);
        self.wake_login(now, agent);
    }

    fn release_held(&mut self, agent: &str) {
        let held = self
            .agents
            .get_mut(agent)
            .map(|e| std::mem::take(&mut e.held))
            .unwrap_or_default();
        for u in held {
            self.apply_update(agent, u);
        }
    }

    /// Starts the agent's notification session if it has credentials and none runs.
    pub(super) fn ensure_notifications(&mut self, agent: &str) {
        if self.stopping {
            return;
        }
        let Some(e) = self.agents.get(agent) else {
            return;
        };
        if e.creds.is_some() && e.notes == Notes::Off {
            self.start_session(agent);
        }
    }

    /// Starts a session (a new one, replacing any) on the node in use; waits for the XMPP
    /// domain if SystemInfo has not told it yet.
    fn start_session(&mut self, agent: &str) {
        let target = self.session_target();
        let Some(e) = self.agents.get_mut(agent) else {
            return;
        };
        let Some(creds) = e.creds.clone() else {
            return;
        };
        e.held.clear();
        let Some(target) = target else {
            e.notes = Notes::Wanted;
            return;
        };
        self.next_session += 1;
        let session = SessionId(self.next_session);
        e.notes = Notes::Connecting(session);
        self.out.push_back(Output::StartNotifications {
            agent: agent.to_string(),
            session,
            creds,
            target,
        });
    }

    fn session_target(&self) -> Option<SessionTarget> {
        let s = &self.finesse.system;
        (!s.xmpp_domain.is_empty()).then(|| SessionTarget {
            node: self.node(),
            xmpp_domain: s.xmpp_domain.clone(),
            pubsub_domain: s.pubsub_domain.clone(),
        })
    }

    /// Stops the agent's session, if any.
    pub(super) fn stop_session(&mut self, agent: &str) {
        let Some(e) = self.agents.get_mut(agent) else {
            return;
        };
        let session = e.notes.session();
        e.notes = Notes::Off;
        e.held.clear();
        if let Some(session) = session {
            self.out.push_back(Output::StopNotifications {
                agent: agent.to_string(),
                session,
            });
        }
    }

    /// Starts the sessions that waited for the XMPP domain; with `moved`, also restarts every
    /// running session on the node now in use.
    pub(super) fn start_sessions(&mut self, moved: bool) {
        if self.stopping {
            return;
        }
        let mut agents: Vec<String> = self
            .agents
            .iter()
            .filter(|(_, e)| match e.notes {
                Notes::Wanted => true,
                Notes::Off => false,
                _ => moved,
            })
            .map(|(a, _)| a.clone())
            .collect();
        agents.sort();
        for a in agents {
            self.start_session(&a);
        }
    }

    /// Turns an update into driver messages.
    fn apply_update(&mut self, agent: &str, u: Update) {
        match u {
            Update::User { info, request_id } => {
                self.publish_agent(info, request_id.as_deref(), "");
            }
            Update::Error {
                error,
                request_id,
                dialog,
            } => {
                // Tied to its call when Finesse names the dialog (`source`).
                let to = self.reply_to_of(agent, "");
                let e = RestError::Api {
                    status: 400,
                    error_type: error.error_type,
                    message: error.message,
                };
                let call = dialog.as_deref().unwrap_or("-");
                tracing::info!("agent {agent}: call {call}: {}: {}", e.code(), e.message());
                let msg = Message::Error {
                    agent: Some(agent.to_string()),
                    code: e.code().to_string(),
                    message: e.message(),
                    dialog,
                };
                self.send(&to, msg, request_id.as_deref());
            }
            Update::Dialogs {
                event,
                dialogs,
                request_id,
            } => {
                let extension = self.extension_of(agent);
                let to = self.reply_to_of(agent, "");
                for d in &dialogs {
                    let mut info = xml::dialog_info(d, agent, &extension);
                    if info.id.is_empty() {
                        tracing::warn!("agent {agent}: a dialog update without an id ignored");
                        continue;
                    }
                    info.ended |= event == "DELETE";
                    self.remember_call(&info);
                    self.send(&to, Message::Dialog(Box::new(info)), request_id.as_deref());
                }
            }
            Update::Other(source) => {
                tracing::debug!("agent {agent}: notification from {source} not used yet")
            }
        }
    }
}
