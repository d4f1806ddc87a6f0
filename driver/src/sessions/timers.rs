//! Time-driven behaviour: requests that get no answer in time, the Hello repeated while no
//! connector answers, the time in the current state, and the work-item timer restarted for
//! wrap-up.

use std::time::Duration;

use crate::clock::Now;
use crate::link::Outbox;
use crate::messages::Msg;
use crate::protocol::{AgentState, Message};

use super::Sessions;

/// How often an unanswered Hello is repeated.
pub(super) const HELLO_RETRY: Duration = Duration::from_secs(5);
/// How long a request may wait for its answer before the agent is told it failed.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

impl Sessions {
    /// Fails the commands whose requests got no answer within [`REQUEST_TIMEOUT`].
    pub(super) fn expire_requests(&mut self, now: Now) {
        let expired: Vec<(u64, String)> = self
            .sessions
            .iter_mut()
            .flat_map(|(id, s)| {
                let old: Vec<String> = s
                    .pending
                    .iter()
                    .filter(|(_, p)| now.since(p.at) >= REQUEST_TIMEOUT)
                    .map(|(k, _)| k.clone())
                    .collect();
                old.into_iter()
                    .filter_map(|k| s.pending.remove(&k))
                    .map(|p| (*id, p.track))
                    .collect::<Vec<_>>()
            })
            .collect();
        for (id, track) in expired {
            self.fail(id, Some(&track), "Timeout", &Msg::NoAnswer);
            self.refresh_toolbar(id);
        }
    }

    /// Repeats the Hello every [`HELLO_RETRY`] while the link is up and no connector answered.
    pub(super) fn retry_hello(&mut self, now: Now, out: &mut Outbox) {
        if self.link_up
            && !self.in_service()
            && self.hello_at.is_none_or(|t| now.since(t) >= HELLO_RETRY)
        {
            self.say_hello(now, out);
        }
    }

    /// Announces this driver instance to the connectors and asks for their status.
    pub(super) fn say_hello(&mut self, now: Now, out: &mut Outbox) {
        let msg = Message::Hello {
            driver: self.cfg.client_id.clone(),
            reply_to: self.reply_queue.clone(),
            product: concat!("siebel-cti/", env!("CARGO_PKG_VERSION")).to_string(),
            host: crate::config::host_name()
                .or_else(|| std::env::var("COMPUTERNAME").ok())
                .unwrap_or_default(),
        };
        if self.request(now, out, msg).is_some() {
            self.hello_at = Some(now.mono);
        }
    }

    /// Shows the time in the current state on the status line once per whole minute (never
    /// more often), while no request of the session awaits its answer.
    pub(super) fn show_time_in_state(&mut self, now: Now) {
        let mut due = Vec::new();
        for (id, s) in &mut self.sessions {
            let (Some((since, shown)), Some(state)) = (s.state_since, s.state()) else {
                continue;
            };
            let minutes = now.since(since).as_secs() / 60;
            if minutes > shown && s.pending.is_empty() {
                s.state_since = Some((since, minutes));
                due.push((*id, state, minutes));
            }
        }
        for (id, state, minutes) in due {
            self.tell(id, &Msg::TimeInState(state, minutes));
        }
    }

    /// `Driver:ResetTimerOnWrapUp`: the last call's work item times the wrap-up too. While
    /// the agent is in WORK / WORK_READY with no call, that item's timer runs again
    /// (`WorkItemStarted` at the wrap-up's start); leaving wrap-up stops it
    /// (`WorkItemReleased`), exactly once. Siebel does not reset the timer itself. Works
    /// whichever of the agent and dialog notifications arrives first.
    pub(super) fn sync_wrap_timer(&mut self, now: Now, id: u64) {
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        let in_work = matches!(s.state(), Some(AgentState::Work | AgentState::WorkReady));
        let wanted = if in_work && s.calls.current().is_none() {
            s.calls.last_ended().map(str::to_string)
        } else {
            None
        };
        if wanted == s.wrap_timer {
            return;
        }
        let now = now.unix;
        let extension = s.extension();
        let slot = s.slot.clone();
        if let Some(old) = s.wrap_timer.take() {
            slot.call(|h| h.work_item_released(&old, now));
        }
        if let Some(t) = wanted {
            slot.call(|h| h.work_item_started(&t, "Wrap-up", &extension, now));
            s.wrap_timer = Some(t);
        }
    }
}
