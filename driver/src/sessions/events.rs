//! What arrives from the link: the link going up or down, and connector messages (one
//! function per message type) turned into host calls.

use crate::calls::{Calls, Effect, Named};
use crate::clock::Now;
use crate::commands::events;
use crate::link::Outbox;
use crate::messages::Msg;
use crate::protocol::{
    drivers_topic, status_topic, AgentInfo, AgentState, DialogInfo, Envelope, Message, ReasonCode,
    SystemStatus, CONNECTOR_HEADER,
};
use crate::stomp::Frame;

use super::liveness::{from_drivers_login, DRIVERS_SUB};
use super::report::play;
use super::Sessions;

impl Sessions {
    /// The STOMP session is up: subscribe to our queue and the status topic, say Hello.
    pub(super) fn link_up(&mut self, now: Now, out: &mut Outbox) {
        self.link_up = true;
        self.link_failed = false;
        self.connectors.clear();
        for (sub, dest) in [
            ("events", self.reply_queue.clone()),
            ("status", status_topic(&self.cfg.request_queue)),
            (DRIVERS_SUB, drivers_topic(&self.cfg.request_queue)),
        ] {
            out.send(
                Frame::new("SUBSCRIBE")
                    .header("id", sub)
                    .header("destination", &dest)
                    .header("ack", "auto"),
            );
        }
        self.say_hello(now, out);
        self.announce(now, out);
        self.broadcast_status();
    }

    /// The link is down: requests in flight are lost with it, so their commands fail now.
    pub(super) fn link_down(&mut self, first: bool) {
        let was = self.link_up;
        self.link_up = false;
        self.link_failed = true;
        self.connectors.clear();
        self.hello_at = None;
        self.announced = None;
        let lost: Vec<(u64, Vec<String>)> = self
            .sessions
            .iter_mut()
            .map(|(id, s)| (*id, s.pending.drain().map(|(_, p)| p.track).collect()))
            .collect();
        for (id, tracks) in lost {
            for t in tracks {
                self.fail(id, Some(&t), "LinkDown", &Msg::BrokerDown);
            }
        }
        if was || first {
            self.broadcast_status();
        }
    }

    /// A MESSAGE from the broker: decodes the envelope and hands it to its handler.
    pub(super) fn on_message(&mut self, now: Now, frame: &Frame, out: &mut Outbox) {
        let env = match Envelope::from_json(&frame.body) {
            Ok(e) => e,
            Err(e) => {
                let preview: String = frame.text().chars().take(200).collect();
                tracing::warn!(
                    "ignored a message from {}: {e}: {preview}",
                    frame.get("destination").unwrap_or("?")
                );
                return;
            }
        };
        let env_text = env.redacted();
        tracing::debug!("<- {env_text}");
        if let Some(from) = frame.get(CONNECTOR_HEADER) {
            self.note_sender(now, &env.msg, from);
        }
        if matches!(env.msg, Message::System { .. }) && !self.system_trusted(frame) {
            return;
        }
        // The drivers' topic carries announces only (every driver may write it).
        let from_drivers = frame.get("subscription") == Some(DRIVERS_SUB);
        if from_drivers != matches!(env.msg, Message::Announce { .. }) {
            tracing::warn!("ignored {env_text}: not expected on {DRIVERS_SUB:?}");
            return;
        }
        if from_drivers && !from_drivers_login(frame, &self.cfg.broker_login) {
            return;
        }
        let re = env.re.as_deref();
        match env.msg {
            Message::System {
                status: SystemStatus::InService,
                connector,
                instance,
                ..
            } => self.on_in_service(now, out, &connector, &instance),
            Message::System {
                status: SystemStatus::OutOfService,
                connector,
                detail,
                instance,
            } => self.on_out_of_service(now, out, &connector, &instance, detail),
            Message::Announce { driver, nonce } => self.on_announce(now, out, &driver, &nonce),
            Message::Agent(info) => self.on_agent(now, out, info, re),
            Message::ReasonCodes {
                agent,
                category,
                codes,
            } => self.on_reason_codes(&agent, category, codes),
            Message::Dialog(d) => self.on_dialog(now, *d, re),
            Message::DialogList { agent, dialogs } => self.on_dialog_list(now, &agent, dialogs, re),
            Message::Error {
                agent,
                code,
                message,
                dialog,
            } => self.on_error(now, out, agent, (code, message), dialog, re),
            Message::Accepted {} => self.on_accepted(re),
            _ => tracing::warn!("ignored a request sent to a driver queue: {}", env_text),
        }
    }

    /// An agent's state (an answer or a notification): raises the events of a change.
    fn on_agent(&mut self, now: Now, out: &mut Outbox, info: AgentInfo, re: Option<&str>) {
        let Some(id) = self.owner(&info.agent) else {
            tracing::debug!("event for agent {} that no session owns", info.agent);
            return;
        };
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        let answers_login = re
            .and_then(|re| s.pending.remove(re))
            .is_some_and(|p| matches!(p.msg, Message::Login { .. }));
        // Reports apply in the order they arrive (one connector sends an agent's messages in
        // order); a snapshot's report that another report overtook is older and must not
        // turn the state back. Finesse's stateChangeTime is not compared: after a node
        // switch it comes from another clock.
        let answers_snapshot = re.is_some() && s.snapshot.as_ref().map(|x| x.0.as_str()) == re;
        let stale = answers_snapshot && s.overtaken && s.info.is_some();
        let reset = answers_snapshot && std::mem::take(&mut s.resetting);
        if !answers_snapshot {
            s.overtaken = true;
        }
        if stale {
            tracing::debug!("agent {}: stale state report ignored", info.agent);
            // ResetState: rebuilt from the newer report already applied.
            if let Some(current) = s.info.clone().filter(|_| reset) {
                self.announce_agent(id, &current, true);
            }
            return self.refresh_toolbar(id);
        }
        let old = s.info.as_ref().and_then(|i| i.state);
        let old_reason = s.info.as_ref().and_then(|i| i.reason_code.clone());
        let old_pending = s.info.as_ref().and_then(|i| i.pending_state);
        let new = info.state;
        let was_in = !matches!(old, None | Some(AgentState::Logout));
        let is_in = !matches!(new, None | Some(AgentState::Logout));
        // A snapshot of a logged-out agent at session start changes nothing the agent sees.
        let changed =
            (old != new || old_reason != info.reason_code || old_pending != info.pending_state)
                && (was_in || is_in);
        s.info = Some(info.clone());
        // Still "Logging in..." at the login's answer: the state was known before the login.
        let stuck = answers_login && std::mem::take(&mut s.logging_in) && !changed;
        if changed {
            s.state_since = is_in.then_some((now.mono, 0));
            s.logging_in = false;
        }
        if changed {
            tracing::info!(
                "agent {}: {} -> {}",
                info.agent,
                old.map_or("-", AgentState::as_str),
                new.map_or("-", AgentState::as_str)
            );
            self.announce_agent(id, &info, was_in);
            if is_in && !was_in {
                self.fetch_reasons(now, out, &info.agent);
            }
            if self.cfg.reset_timer_on_wrap_up {
                self.sync_wrap_timer(now, id);
            }
        } else if reset && is_in {
            // ResetState: Siebel's toolbar and status line rebuilt from the state read.
            self.announce_agent(id, &info, true);
        }
        // A login that finds the agent in already (Finesse keeps the state of an agent who
        // signs in again) says so, instead of leaving "Logging in..." on the status line.
        let fresh_busy = answers_login && !was_in && new != Some(AgentState::NotReady);
        if let Some(state) = new.filter(|_| is_in && (stuck || fresh_busy)) {
            self.tell(id, &Msg::AlreadyLoggedIn(info.agent.clone(), state));
        }
        self.refresh_toolbar(id);
    }

    /// An agent's reason codes: kept for validation and passed to Siebel as an event.
    fn on_reason_codes(&mut self, agent: &str, category: String, codes: Vec<ReasonCode>) {
        let Some(id) = self.owner(agent) else {
            return;
        };
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        let mut fields = vec![
            ("AgentId".to_string(), agent.to_string()),
            ("Category".to_string(), category.clone()),
            ("Count".to_string(), codes.len().to_string()),
            (
                "ReasonLabels".to_string(),
                codes
                    .iter()
                    .map(|r| r.label.as_str())
                    .collect::<Vec<_>>()
                    .join("|"),
            ),
        ];
        for (i, r) in codes.iter().enumerate() {
            let n = i + 1;
            fields.push((format!("ReasonId{n}"), r.id.clone()));
            fields.push((format!("ReasonCode{n}"), r.code.clone()));
            fields.push((format!("ReasonLabel{n}"), r.label.clone()));
        }
        s.reasons.insert(category, codes);
        s.slot
            .call(|h| h.handle_event(events::REASON_CODES, &fields, ""));
    }

    /// One call changed.
    fn on_dialog(&mut self, now: Now, dialog: DialogInfo, re: Option<&str>) {
        let agent = dialog.agent.clone();
        self.on_dialogs(now, &agent, re, |calls, ext, named| {
            calls.apply(dialog, ext, named, now)
        })
    }

    /// Every call of an agent (a snapshot): a known call missing here has ended, unless it
    /// was updated after the snapshot was asked for.
    fn on_dialog_list(
        &mut self,
        now: Now,
        agent: &str,
        dialogs: Vec<DialogInfo>,
        re: Option<&str>,
    ) {
        let since = self
            .owner(agent)
            .and_then(|id| self.sessions.get(&id))
            .and_then(|s| s.snapshot.clone())
            .filter(|(req, _)| re == Some(req.as_str()))
            .map(|(_, at)| at);
        self.on_dialogs(now, agent, re, |calls, ext, named| {
            calls.reconcile(dialogs, since, ext, named, now)
        })
    }

    /// Applies dialog updates to the agent's calls and plays the effects on the host.
    fn on_dialogs(
        &mut self,
        now: Now,
        agent: &str,
        re: Option<&str>,
        update: impl FnOnce(&mut Calls, &str, Named) -> Vec<Effect>,
    ) {
        let Some(id) = self.owner(agent) else {
            tracing::debug!("dialog for agent {agent} that no session owns");
            return;
        };
        let (ced, context) = (
            self.cfg.ced_variable.clone(),
            self.cfg.context_variable.clone(),
        );
        let named = Named {
            ced: ced.as_deref(),
            context: context.as_deref(),
        };
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        if let Some(re) = re {
            s.pending.remove(re);
        }
        let extension = s.extension();
        let effects = update(&mut s.calls, &extension, named);
        *s.work_items.lock().unwrap_or_else(|e| e.into_inner()) =
            s.calls.ids().into_iter().collect();
        let slot = s.slot.clone();
        play(&slot, &effects);
        if self.cfg.reset_timer_on_wrap_up {
            self.sync_wrap_timer(now, id);
        }
        self.refresh_toolbar(id);
    }

    /// A connector error: fails the command it answers, else tells the agent's session. A
    /// connector without the agent's session gets it back and the request once more; an
    /// agent another session took over is released here.
    fn on_error(
        &mut self,
        now: Now,
        out: &mut Outbox,
        agent: Option<String>,
        (code, message): (String, String),
        dialog: Option<String>,
        re: Option<&str>,
    ) {
        if code == "TakenOver" {
            if let Some(a) = &agent {
                return self.taken_over(now, a);
            }
        }
        if code == "NoSession" && self.retry_without_session(now, out, re) {
            return;
        }
        // Find the session: by the request it answers, else by agent. The work item: the call
        // the error names (an asynchronous call failure) when the session has it, else the
        // request's.
        let by_re = re.and_then(|re| {
            self.sessions
                .iter_mut()
                .find_map(|(id, s)| s.pending.remove(re).map(|p| (*id, Some(p.track))))
        });
        let target = by_re
            .or_else(|| {
                agent
                    .as_ref()
                    .and_then(|a| self.owner(a))
                    .map(|id| (id, None))
            })
            .map(|(id, track)| {
                let known = |d: &String| {
                    self.sessions
                        .get(&id)
                        .is_some_and(|s| s.calls.get(d).is_some())
                };
                let named = dialog.filter(known);
                (id, named.or(track))
            });
        match target {
            Some((id, track)) => {
                let msg = Msg::Failed {
                    code: code.clone(),
                    message,
                };
                self.fail(id, track.as_deref(), &code, &msg);
                self.refresh_toolbar(id);
            }
            None => tracing::warn!("connector error not tied to a session: {code}: {message}"),
        }
    }

    /// Finesse took the request `re`; its outcome follows as events.
    fn on_accepted(&mut self, re: Option<&str>) {
        let Some(re) = re else { return };
        let owner = self
            .sessions
            .iter_mut()
            .find_map(|(id, s)| s.pending.remove(re).map(|_| *id));
        if let Some(id) = owner {
            self.refresh_toolbar(id);
        }
    }
}
