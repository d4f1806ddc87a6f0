//! Reading an agent from Finesse: `GET /User/{id}` → `Agent`, and for a snapshot
//! `GET /User/{id}/Dialogs` → `DialogList`. Used by requests (Snapshot, and after Login,
//! SetState and Logout), when a notification session comes up, and after a failover.

use driver::clock::Now;
use driver::protocol::Message;

use super::{Core, RestAnswer, RestCall, SessionId, Waiter};
use crate::rest::{Credentials, RestError};
use crate::xml;

/// A read under way.
pub(crate) struct Read {
    agent: String,
    /// The request answered, if any.
    re: Option<String>,
    /// Where to send when the agent has no driver queue.
    fallback: String,
    /// A snapshot: dialogs too, and failures only logged.
    with_dialogs: bool,
    node: String,
    creds: Credentials,
    stage: Stage,
}

enum Stage {
    User,
    /// The dialogs, read with the agent's extension.
    Dialogs(String),
}

impl Core {
    /// The first call of a read of `agent`, with its credentials or the admin's; `None`
    /// when there are neither.
    pub(super) fn start_read(
        &mut self,
        agent: &str,
        re: Option<&str>,
        fallback: &str,
        with_dialogs: bool,
    ) -> Option<(Read, RestCall)> {
        let Some(creds) = self.creds_of(agent).or_else(|| self.cfg.admin.clone()) else {
            tracing::debug!("no credentials to read agent {agent}; snapshot skipped");
            return None;
        };
        let read = Read {
            agent: agent.to_string(),
            re: re.map(str::to_string),
            fallback: fallback.to_string(),
            with_dialogs,
            node: self.node(),
            creds,
            stage: Stage::User,
        };
        let call = read.call();
        Some((read, call))
    }

    /// Takes the answer of the read's last call; returns the next call, or `None` when the
    /// read is over.
    pub(super) fn continue_read(
        &mut self,
        mut read: Read,
        answer: Result<RestAnswer, RestError>,
    ) -> Option<(Read, RestCall)> {
        let agent = read.agent.clone();
        let re = read.re.clone();
        match (&read.stage, answer) {
            (Stage::User, Ok(RestAnswer::User(info))) => {
                if let Some(e) = self.agents.get_mut(&agent) {
                    if e.creds.as_ref().is_some_and(|c| c.user == read.creds.user) {
                        e.verified = true;
                    }
                }
                let extension = info.extension.clone().unwrap_or_default();
                self.publish_agent(info, re.as_deref(), &read.fallback);
                if !read.with_dialogs {
                    return None;
                }
                read.stage = Stage::Dialogs(extension);
                let call = read.call();
                Some((read, call))
            }
            (Stage::User, answer) => {
                let e = super::failure(answer);
                if read.with_dialogs {
                    // A snapshot the driver did not ask the agent for: logged, the agent not told.
                    tracing::warn!("agent {agent}: snapshot not read: {}", e.message());
                } else {
                    let to = self.reply_to_of(&agent, &read.fallback);
                    self.error(&to, Some(&agent), &e, re.as_deref());
                }
                None
            }
            (Stage::Dialogs(extension), Ok(RestAnswer::Dialogs(list))) => {
                let dialogs: Vec<_> = list
                    .iter()
                    .map(|d| xml::dialog_info(d, &agent, extension))
                    .filter(|d| !d.id.is_empty())
                    .collect();
                if let Some(e) = self.agents.get_mut(&agent) {
                    e.calls = dialogs.iter().map(|d| (d.id.clone(), d.clone())).collect();
                }
                let to = self.reply_to_of(&agent, &read.fallback);
                let msg = Message::DialogList {
                    agent: agent.clone(),
                    dialogs,
                };
                self.send(&to, msg, re.as_deref());
                None
            }
            (Stage::Dialogs(_), answer) => {
                let e = super::failure(answer);
                tracing::warn!("agent {agent}: dialogs not read: {}", e.message());
                None
            }
        }
    }

    /// Reads every agent a driver still owns again (after a failover).
    pub(super) fn resnapshot(&mut self) {
        let mut agents: Vec<String> = self
            .agents
            .iter()
            .filter(|(_, e)| e.reply_to.is_some())
            .map(|(a, _)| a.clone())
            .collect();
        agents.sort();
        for a in agents {
            if let Some((read, call)) = self.start_read(&a, None, "", true) {
                self.issue(
                    call,
                    Waiter::Sync {
                        read,
                        session: None,
                    },
                );
            }
        }
    }

    /// The answer of a read that no request asked for.
    pub(super) fn sync_answer(
        &mut self,
        now: Now,
        read: Read,
        session: Option<SessionId>,
        answer: Result<RestAnswer, RestError>,
    ) {
        let agent = read.agent.clone();
        match self.continue_read(read, answer) {
            Some((read, call)) => {
                self.issue(call, Waiter::Sync { read, session });
            }
            None => {
                if let Some(session) = session {
                    self.synced(now, &agent, session);
                }
            }
        }
    }
}

impl Read {
    fn call(&self) -> RestCall {
        let (node, agent, creds) = (self.node.clone(), self.agent.clone(), self.creds.clone());
        match self.stage {
            Stage::User => RestCall::User { node, agent, creds },
            Stage::Dialogs(_) => RestCall::Dialogs { node, agent, creds },
        }
    }
}
