//! Driver requests: one function per request type (the steps of flows that need more than one
//! REST call are in `flows`). One agent's requests are served in order: a request waits in
//! the agent's queue while an earlier flow of the agent is unfinished.

use std::collections::VecDeque;

use driver::clock::Now;
use driver::protocol::{CallAction, Envelope, Message};

use super::flows::{Flow, Req, Step};
use super::{Core, RestCall, Waiter};
use crate::rest::{Credentials, DialogAction, RestError, StateChange, SupervisorDialog};

/// A request waiting for its turn.
pub(super) struct Queued {
    /// The frame's `reply-to`.
    reply_to: String,
    env: Envelope,
}

/// One agent's requests: the flow under way and those waiting behind it.
#[derive(Default)]
pub(super) struct AgentQueue {
    pub(super) flow: Option<Flow>,
    waiting: VecDeque<Queued>,
}

impl Core {
    /// Queues a request behind the agent's earlier ones and serves what can be served.
    pub(super) fn enqueue(&mut self, now: Now, reply_to: String, env: Envelope) {
        let Some(agent) = env.msg.agent().map(str::to_string) else {
            self.serve(now, Queued { reply_to, env });
            return;
        };
        self.queues
            .entry(agent.clone())
            .or_default()
            .waiting
            .push_back(Queued { reply_to, env });
        self.run_queue(now, &agent);
    }

    /// Serves the agent's waiting requests until one leaves a flow under way.
    pub(super) fn run_queue(&mut self, now: Now, agent: &str) {
        loop {
            let Some(q) = self.queues.get_mut(agent) else {
                return;
            };
            if q.flow.is_some() {
                return;
            }
            let Some(next) = q.waiting.pop_front() else {
                self.queues.remove(agent);
                return;
            };
            if let Some(flow) = self.serve(now, next) {
                self.queues.entry(agent.to_string()).or_default().flow = Some(flow);
            }
        }
    }

    /// The dispatch: one function per request type; `Some` when a flow remains under way.
    fn serve(&mut self, _now: Now, q: Queued) -> Option<Flow> {
        let Queued { reply_to, env } = q;
        // Checked when served, not when queued: a login in flight may hold the session by then.
        if !self.proven(&reply_to, &env) {
            let text = format!(
                "refused {} from {reply_to}: no proof",
                super::record::kind_of(&env.msg)
            );
            self.record.note(super::Level::Warn, text);
            self.record
                .counters
                .request(super::record::kind_of(&env.msg), "refused");
            return None;
        }
        self.record.served(&env);
        let re = env.id;
        match env.msg {
            Message::Hello {
                driver,
                reply_to,
                product,
                ..
            } => self.hello(&driver, &reply_to, &product, &re),
            Message::Connect {
                agent,
                reply_to,
                password,
                encrypted,
            } => self.connect(&agent, reply_to, password, encrypted, &re),
            Message::Disconnect { agent } => self.disconnect(&agent, &reply_to),
            Message::Login {
                agent,
                password,
                extension,
                encrypted,
            } => return self.login(agent, &password, encrypted, extension, re, reply_to),
            Message::Logout {
                agent, force: true, ..
            } if self.creds_of(&agent).is_some() => self.start_force_logout(&agent),
            Message::Logout { agent, reason, .. } => {
                return self.change_state(agent, "LOGOUT", reason, re, reply_to)
            }
            Message::SetState {
                agent,
                state,
                reason,
            } => return self.change_state(agent, state.as_str(), reason, re, reply_to),
            Message::Snapshot { agent } => return self.snapshot(agent, re, reply_to),
            Message::CallAction {
                agent,
                dialog,
                action,
                to,
            } => return self.call_action(agent, dialog, action, to, re, reply_to),
            Message::MakeCall { agent, to } => return self.make_call(agent, to, re, reply_to),
            Message::UpdateCallData {
                agent,
                dialog,
                wrap_up_reason,
                variables,
            } => {
                let data = (wrap_up_reason, variables);
                return self.update_call_data(agent, dialog, data, re, reply_to);
            }
            Message::SilentMonitor { agent, to } => {
                return self.supervise(agent, ("SILENT_MONITOR", to, None), re, reply_to)
            }
            Message::BargeCall { agent, dialog, to } => {
                return self.supervise(agent, ("BARGE_CALL", to, Some(dialog)), re, reply_to)
            }
            Message::GetReasonCodes { agent, category } => {
                return self.reason_codes(agent, category, re, reply_to)
            }
            other => tracing::warn!("not a request: {other:?}"),
        }
        None
    }

    fn hello(&mut self, driver: &str, to: &str, product: &str, re: &str) {
        tracing::info!("driver {driver} ({product}) says hello");
        let text = format!("driver {driver} ({product}) says hello from {to}");
        self.record.note(super::Level::Info, text);
        let msg = self.system_message();
        self.send(to, msg, Some(re));
    }

    fn connect(
        &mut self,
        agent: &str,
        to: String,
        password: Option<String>,
        encrypted: bool,
        re: &str,
    ) {
        let password = match password
            .map(|p| self.clear_password(&p, encrypted))
            .transpose()
        {
            Ok(p) => p,
            Err(e) => return self.error(&to, Some(agent), &e, Some(re)),
        };
        let held = self.agents.get(agent).and_then(|e| e.creds.as_ref());
        if let (Some(held), Some(p)) = (held, &password) {
            if held.password != *p {
                tracing::warn!(
                    "refused Connect for agent {agent} to {to} (request {re}): its password is \
                     not the one of the session held"
                );
                return;
            }
        }
        self.tell_taken_over(agent, &to);
        let e = self.agents.entry(agent.to_string()).or_default();
        e.reply_to = Some(to);
        // A Siebel session wants the agent again: a forced logout under way stops.
        e.force_logout = None;
        if let Some(password) = password {
            if e.creds.as_ref().map(|c| &c.password) != Some(&password) {
                e.creds = Some(Credentials {
                    user: agent.to_string(),
                    password,
                });
                e.verified = false;
            }
        }
        self.ensure_notifications(agent);
    }

    /// The Siebel session ended: stop routing and forget the password; the agent stays
    /// listed (it may still be logged in to Finesse). A driver instance that no longer owns
    /// the agent (another session took it over) changes nothing; a forced logout under way
    /// keeps the credentials and notifications until it is done.
    fn disconnect(&mut self, agent: &str, from: &str) {
        let Some(a) = self.agents.get_mut(agent) else {
            return;
        };
        if a.reply_to.as_deref().is_some_and(|r| r != from) && !from.is_empty() {
            tracing::info!("agent {agent}: Disconnect from {from}, which no longer owns it");
            return;
        }
        a.reply_to = None;
        let text = format!("agent {agent}: its Siebel session ended ({from})");
        self.record.note(super::Level::Info, text);
        if a.force_logout.is_some() {
            return;
        }
        a.creds = None;
        a.calls.clear();
        self.stop_session(agent);
    }

    fn login(
        &mut self,
        agent: String,
        password: &str,
        encrypted: bool,
        extension: String,
        re: String,
        fallback: String,
    ) -> Option<Flow> {
        let checked = self
            .clear_password(password, encrypted)
            .and_then(|p| self.finesse_ready().map(|()| p));
        // Until Finesse accepts it, a password other than the held session's answers only
        // its sender: a spoofed Login never reaches the agent's own Siebel session.
        let held = self.creds_of(&agent).map(|c| c.password);
        let proven = held.is_none() || held.as_ref() == checked.as_ref().ok();
        let to = if proven {
            self.reply_to_of(&agent, &fallback)
        } else {
            fallback.clone()
        };
        let password = match checked {
            Ok(p) => p,
            Err(e) => {
                self.error(&to, Some(&agent), &e, Some(&re));
                return None;
            }
        };
        if let Some(e) = self.agents.get_mut(&agent).filter(|_| proven) {
            e.force_logout = None;
        }
        let creds = Credentials {
            user: agent.clone(),
            password,
        };
        let change = StateChange {
            state: "LOGIN".into(),
            extension: Some(extension),
            reason_code_id: None,
        };
        let req = Req {
            agent,
            re,
            fallback,
        };
        Some(self.put_state(req, creds.clone(), change, Step::LoginPut(creds)))
    }

    /// `PUT` of the agent's state for a request; the flow then waits at `step`.
    fn put_state(&mut self, req: Req, creds: Credentials, change: StateChange, step: Step) -> Flow {
        let call = RestCall::SetState {
            node: self.node(),
            agent: req.agent.clone(),
            creds,
            change,
            request_id: req.re.clone(),
        };
        self.issue(call, Waiter::Request(req.agent.clone()));
        Flow { req, step }
    }

    fn change_state(
        &mut self,
        agent: String,
        state: &str,
        reason: Option<String>,
        re: String,
        fallback: String,
    ) -> Option<Flow> {
        let to = self.reply_to_of(&agent, &fallback);
        let Some(creds) = self.creds_of(&agent) else {
            self.no_session(&to, &agent, &re);
            return None;
        };
        if let Err(e) = self.finesse_ready() {
            self.error(&to, Some(&agent), &e, Some(&re));
            return None;
        }
        let change = StateChange {
            state: state.to_string(),
            extension: None,
            reason_code_id: reason,
        };
        let req = Req {
            agent,
            re,
            fallback,
        };
        Some(self.put_state(req, creds, change, Step::StatePut))
    }

    fn snapshot(&mut self, agent: String, re: String, fallback: String) -> Option<Flow> {
        self.begin_read(
            Req {
                agent,
                re,
                fallback,
            },
            true,
        )
    }

    fn call_action(
        &mut self,
        agent: String,
        dialog: String,
        action: CallAction,
        to: Option<String>,
        re: String,
        fallback: String,
    ) -> Option<Flow> {
        let ext = self.extension_of(&agent);
        let body = DialogAction {
            action: action.as_str().to_string(),
            extension: ext,
            dtmf: (action == CallAction::SendDtmf).then(|| to.clone().unwrap_or_default()),
            to: to.filter(|_| action != CallAction::SendDtmf),
            wrap_up_reason: None,
            call_variables: Vec::new(),
        };
        self.with_session(agent, re, fallback, |node, creds, request_id, _| {
            RestCall::DialogAction {
                node,
                dialog,
                creds,
                action: body,
                request_id,
            }
        })
    }

    fn make_call(
        &mut self,
        agent: String,
        to: String,
        re: String,
        fallback: String,
    ) -> Option<Flow> {
        let a = agent.clone();
        self.with_session(agent, re, fallback, |node, creds, request_id, ext| {
            RestCall::MakeCall {
                node,
                agent: a,
                creds,
                from: ext,
                to,
                request_id,
            }
        })
    }

    /// A supervisor's SILENT_MONITOR or BARGE_CALL (action, the agent's extension, the
    /// monitoring dialog), from the supervisor's extension.
    fn supervise(
        &mut self,
        agent: String,
        (action, to, monitoring): (&str, String, Option<String>),
        re: String,
        fallback: String,
    ) -> Option<Flow> {
        let a = agent.clone();
        let action = action.to_string();
        self.with_session(agent, re, fallback, |node, creds, request_id, ext| {
            RestCall::Supervise {
                node,
                agent: a,
                creds,
                body: SupervisorDialog {
                    action,
                    from: ext,
                    to,
                    monitoring,
                },
                request_id,
            }
        })
    }

    fn update_call_data(
        &mut self,
        agent: String,
        dialog: String,
        (wrap_up_reason, call_variables): (Option<String>, Vec<(String, String)>),
        re: String,
        fallback: String,
    ) -> Option<Flow> {
        let ext = self.extension_of(&agent);
        let body = DialogAction {
            action: "UPDATE_CALL_DATA".into(),
            extension: ext,
            to: None,
            dtmf: None,
            wrap_up_reason,
            call_variables,
        };
        self.with_session(agent, re, fallback, |node, creds, request_id, _| {
            RestCall::DialogAction {
                node,
                dialog,
                creds,
                action: body,
                request_id,
            }
        })
    }

    fn reason_codes(
        &mut self,
        agent: String,
        category: String,
        re: String,
        fallback: String,
    ) -> Option<Flow> {
        let Some(creds) = self.creds_of(&agent) else {
            tracing::debug!("no session for agent {agent}: reason codes not read");
            return None;
        };
        // Wrap-up reasons are a resource of their own in Finesse.
        let call = if category == "WRAP_UP" {
            RestCall::WrapUpReasons {
                node: self.node(),
                agent: agent.clone(),
                creds,
            }
        } else {
            RestCall::ReasonCodes {
                node: self.node(),
                agent: agent.clone(),
                creds,
                category: category.clone(),
            }
        };
        self.issue(call, Waiter::Request(agent.clone()));
        Some(Flow {
            req: Req {
                agent,
                re,
                fallback,
            },
            step: Step::ReasonCodes(category),
        })
    }

    /// `NoSession`: the connector holds no Finesse session for the agent. One wording for
    /// every request; the driver shows its own words for the code (`error.NoSession`).
    fn no_session(&mut self, to: &str, agent: &str, re: &str) {
        let e = RestError::Api {
            status: 0,
            error_type: "NoSession".into(),
            message: "the connector holds no Finesse session for the agent".into(),
        };
        self.error(to, Some(agent), &e, Some(re));
    }

    /// A call request with the agent's session (node, credentials, request id, extension);
    /// no session or no Finesse → `Error`.
    fn with_session(
        &mut self,
        agent: String,
        re: String,
        fallback: String,
        call: impl FnOnce(String, Credentials, String, String) -> RestCall,
    ) -> Option<Flow> {
        let to = self.reply_to_of(&agent, &fallback);
        let Some(creds) = self.creds_of(&agent) else {
            self.no_session(&to, &agent, &re);
            return None;
        };
        if let Err(e) = self.finesse_ready() {
            self.error(&to, Some(&agent), &e, Some(&re));
            return None;
        }
        let ext = self.extension_of(&agent);
        let call = call(self.node(), creds, re.clone(), ext);
        self.issue(call, Waiter::Request(agent.clone()));
        Some(Flow {
            req: Req {
                agent,
                re,
                fallback,
            },
            step: Step::Call,
        })
    }
}
