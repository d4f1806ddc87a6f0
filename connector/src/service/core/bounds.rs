//! Bounds on what drivers can make the connector hold: agent entries without a session
//! expire (and their count is capped, oldest first), driver instances that said Hello are
//! capped, and numbers to dial are checked before Finesse sees them (`docs/security.md`).

use std::time::Duration;

use driver::clock::Now;
use driver::protocol::{CallAction, Envelope, Message};

use super::{Core, Notes};

/// Agent entries without a session kept at most; beyond, the oldest are forgotten.
pub(crate) const MAX_IDLE_AGENTS: usize = 2_000;
/// An agent entry without a session is forgotten this long after its last request.
pub(crate) const IDLE_AGENT_TTL: Duration = Duration::from_secs(600);
/// Driver instances remembered at most (those that said Hello last are kept).
pub(crate) const MAX_DRIVERS: usize = 1_000;

impl Core {
    /// Whether the agent's entry holds nothing a driver or Finesse still needs: no
    /// credentials, no notification session, no call, no request, no forced logout.
    fn idle(&self, agent: &str) -> bool {
        self.agents.get(agent).is_some_and(|e| {
            e.creds.is_none()
                && matches!(e.notes, Notes::Off)
                && e.calls.is_empty()
                && e.force_logout.is_none()
        }) && !self.queues.contains_key(agent)
    }

    /// Notes a request about `agent` (its entry's age starts again) and keeps the bounds.
    pub(super) fn touched(&mut self, now: Now, agent: Option<&str>) {
        if let Some(e) = agent.and_then(|a| self.agents.get_mut(a)) {
            e.touched = Some(now.mono);
        }
        // Amortised: trim once the idle entries may be a quarter over the cap.
        if self.agents.len() > MAX_IDLE_AGENTS + MAX_IDLE_AGENTS / 4 {
            self.trim_agents(now, MAX_IDLE_AGENTS);
        }
        if self.drivers.len() > MAX_DRIVERS + MAX_DRIVERS / 4 {
            let mut seen: Vec<_> = self
                .drivers
                .iter()
                .map(|(k, d)| (d.last, k.clone()))
                .collect();
            seen.sort();
            let drop = seen.len() - MAX_DRIVERS;
            for (_, k) in seen.into_iter().take(drop) {
                self.drivers.remove(&k);
            }
            tracing::warn!("{drop} silent driver instances forgotten (at most {MAX_DRIVERS})");
        }
    }

    /// Every ten seconds: forgets idle agent entries older than [`IDLE_AGENT_TTL`].
    pub(super) fn expire_agents(&mut self, now: Now) {
        if self
            .last_trim
            .is_some_and(|t| now.mono.duration_since(t) < Duration::from_secs(10))
        {
            return;
        }
        self.last_trim = Some(now.mono);
        self.trim_agents(now, MAX_IDLE_AGENTS);
        self.prune_drivers(now);
    }

    /// Forgets idle agent entries older than [`IDLE_AGENT_TTL`], then the oldest idle ones
    /// beyond `keep`.
    pub(super) fn trim_agents(&mut self, now: Now, keep: usize) {
        let mut idle: Vec<_> = self
            .agents
            .iter()
            .filter(|(a, _)| self.idle(a))
            .map(|(a, e)| (e.touched.unwrap_or(now.mono), a.clone()))
            .collect();
        idle.sort();
        let old = idle
            .iter()
            .take_while(|(t, _)| now.mono.duration_since(*t) >= IDLE_AGENT_TTL)
            .count();
        let drop = old.max(idle.len().saturating_sub(keep));
        for (_, a) in idle.into_iter().take(drop) {
            self.agents.remove(&a);
        }
        if drop > 0 {
            tracing::info!("{drop} agent entries without a session forgotten");
        }
    }

    /// A dial string or DTMF digits that break the limits: refused with an error to the
    /// driver (`true`), before any REST call.
    pub(super) fn refuse_bad_number(&mut self, reply_to: &str, env: &Envelope) -> bool {
        let (agent, check) = match &env.msg {
            Message::MakeCall { agent, to }
            | Message::SilentMonitor { agent, to }
            | Message::BargeCall { agent, to, .. } => (agent, driver::dial::check_number(to)),
            Message::CallAction {
                agent,
                action,
                to: Some(to),
                ..
            } => match action {
                CallAction::SendDtmf => (agent, driver::dial::check_dtmf(to)),
                _ => (agent, driver::dial::check_number(to)),
            },
            _ => return false,
        };
        let Err(e) = check else { return false };
        tracing::warn!("agent {agent}: number refused: {e}");
        let code = match &env.msg {
            Message::CallAction {
                action: CallAction::SendDtmf,
                ..
            } => "InvalidDigits",
            _ => "InvalidNumber",
        };
        let msg = Message::Error {
            agent: Some(agent.clone()),
            code: code.into(),
            message: format!("number refused: {e}"),
            dialog: None,
        };
        if !reply_to.is_empty() {
            self.send(reply_to, msg, Some(&env.id));
        }
        true
    }
}
