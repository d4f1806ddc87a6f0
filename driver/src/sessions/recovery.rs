//! Recovering an agent's connector session without bothering the agent, and giving an agent
//! up when a newer Siebel session takes it over.

use crate::clock::Now;
use crate::link::Outbox;
use crate::messages::Msg;

use super::report::play;
use super::Sessions;

impl Sessions {
    /// A connector answered `NoSession` (it never saw the agent: a surviving or restarted
    /// connector took the agent's requests over): the agent is attached again with its
    /// password and the request is sent once more. False if that is not possible (already
    /// retried, no password, not our request): the error then reaches the agent.
    pub(super) fn retry_without_session(
        &mut self,
        now: Now,
        out: &mut Outbox,
        re: Option<&str>,
    ) -> bool {
        let Some(re) = re else { return false };
        let found = self.sessions.iter().find_map(|(id, s)| {
            let p = s.pending.get(re)?;
            let agent = s.agent.clone()?;
            (!p.retried && s.password.is_some()).then_some((*id, agent))
        });
        let Some((id, agent)) = found else {
            return false;
        };
        let Some(p) = self
            .sessions
            .get_mut(&id)
            .and_then(|s| s.pending.remove(re))
        else {
            return false;
        };
        tracing::info!("agent {agent}: the connector had no session; attaching and retrying");
        self.attach(now, out, &agent);
        self.send_again(now, out, id, p);
        true
    }

    /// Another Siebel session (another driver instance) connected this agent: the newer
    /// session has it now. This session lets the agent go (its calls end here, its commands
    /// need a new login) and tells the agent why; it never sends Disconnect or a forced
    /// logout for it later, so the newer session is not disturbed.
    pub(super) fn taken_over(&mut self, now: Now, agent: &str) {
        let Some(id) = self.owner(agent) else {
            return;
        };
        self.by_agent.remove(agent);
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        tracing::warn!("agent {agent}: taken over by another Siebel session");
        let extension = s.extension();
        let effects = s.calls.end_all(&extension, now);
        let tracks: Vec<String> = s.pending.drain().map(|(_, p)| p.track).collect();
        s.agent = None;
        s.info = None;
        s.password = None;
        s.snapshot = None;
        s.served_by = None;
        *s.work_items.lock().unwrap_or_else(|e| e.into_inner()) = Default::default();
        let slot = s.slot.clone();
        play(&slot, &effects);
        let msg = Msg::TakenOver(agent.to_string());
        for t in tracks {
            self.fail(id, Some(&t), "TakenOver", &msg);
        }
        self.tell(id, &msg);
        self.refresh_toolbar(id);
    }
}
