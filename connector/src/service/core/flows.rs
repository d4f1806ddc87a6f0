//! The steps of request flows that need more than one REST call (Login, state changes,
//! snapshots): each REST answer advances the agent's current flow, then the agent's next
//! request runs.

use std::time::Instant;

use driver::clock::Now;
use driver::protocol::Message;

use super::reads::Read;
use super::{Core, Notes, RestAnswer, Waiter, LOGIN_WAIT};
use crate::rest::{Credentials, RestError};

/// The request a flow serves.
pub(super) struct Req {
    pub(super) agent: String,
    /// The request's id (`re` of the answers, `requestId` of REST calls).
    pub(super) re: String,
    /// The frame's `reply-to`, for agents with no `Connect` yet.
    pub(super) fallback: String,
}

/// A request flow that is waiting for something.
pub(super) struct Flow {
    pub(super) req: Req,
    pub(super) step: Step,
}

/// What a flow waits for.
pub(super) enum Step {
    /// `PUT` LOGIN with these credentials.
    LoginPut(Credentials),
    /// The agent's notification session, until the deadline; then the read.
    LoginWait(Instant),
    /// `PUT` of a state change (SetState, Logout); then the read.
    StatePut,
    /// Reading the agent (and its dialogs).
    Read(Read),
    /// A call request (answered `Accepted`).
    Call,
    /// Reason codes of a category.
    ReasonCodes(String),
}

impl Core {
    /// Starts reading the agent for a request; `None` when there is nothing to read with.
    pub(super) fn begin_read(&mut self, req: Req, with_dialogs: bool) -> Option<Flow> {
        let (read, call) =
            self.start_read(&req.agent, Some(&req.re), &req.fallback, with_dialogs)?;
        self.issue(call, Waiter::Request(req.agent.clone()));
        Some(Flow {
            req,
            step: Step::Read(read),
        })
    }

    /// The answer of the REST call the agent's current flow waits for.
    pub(super) fn advance(&mut self, now: Now, agent: &str, answer: Result<RestAnswer, RestError>) {
        let Some(flow) = self.queues.get_mut(agent).and_then(|q| q.flow.take()) else {
            tracing::warn!("agent {agent}: an answer for no flow ignored");
            return;
        };
        let next = self.step(now, flow, answer);
        if let Some(flow) = next {
            self.queues.entry(agent.to_string()).or_default().flow = Some(flow);
        }
        self.run_queue(now, agent);
    }

    fn step(
        &mut self,
        now: Now,
        flow: Flow,
        answer: Result<RestAnswer, RestError>,
    ) -> Option<Flow> {
        let Flow { req, step } = flow;
        // A Login's answer goes to its sender until Finesse accepted the password.
        let to = match step {
            Step::LoginPut(_) => req.fallback.clone(),
            _ => self.reply_to_of(&req.agent, &req.fallback),
        };
        let (agent, re) = (req.agent.clone(), req.re.clone());
        // Reads handle their own errors (a snapshot nobody asked for is only logged).
        match (step, answer) {
            (Step::Read(read), answer) => {
                let (read, call) = self.continue_read(read, answer)?;
                self.issue(call, Waiter::Request(agent));
                Some(Flow {
                    req,
                    step: Step::Read(read),
                })
            }
            (_, Err(e)) => {
                self.error(&to, Some(&agent), &e, Some(&re));
                None
            }
            (Step::LoginPut(creds), Ok(_)) => {
                // Finesse accepted the password: the agent's events go to the Login's sender.
                if self.agents.get(&agent).and_then(|e| e.reply_to.as_deref())
                    != Some(req.fallback.as_str())
                {
                    self.tell_taken_over(&agent, &req.fallback);
                }
                let e = self.agents.entry(agent.clone()).or_default();
                e.creds = Some(creds);
                e.verified = true;
                e.reply_to = Some(req.fallback.clone());
                e.force_logout = None;
                self.ensure_notifications(&agent);
                if self.notifications_up(&agent) {
                    return self.begin_read(req, false);
                }
                Some(Flow {
                    req,
                    step: Step::LoginWait(now.mono + LOGIN_WAIT),
                })
            }
            (Step::StatePut, Ok(_)) => self.begin_read(req, false),
            (Step::Call, Ok(_)) => {
                self.send(&to, Message::Accepted {}, Some(&re));
                None
            }
            (Step::ReasonCodes(category), Ok(RestAnswer::ReasonCodes(codes))) => {
                let msg = Message::ReasonCodes {
                    agent,
                    category,
                    codes,
                };
                self.send(&to, msg, Some(&re));
                None
            }
            (Step::ReasonCodes(_), Ok(other)) => {
                self.error(&to, Some(&agent), &super::failure(Ok(other)), Some(&re));
                None
            }
            (Step::LoginWait(_), Ok(_)) => {
                tracing::warn!("agent {agent}: an answer while waiting for notifications");
                None
            }
        }
    }

    fn notifications_up(&self, agent: &str) -> bool {
        self.agents
            .get(agent)
            .is_some_and(|a| matches!(a.notes, Notes::Up(_)))
    }

    /// A Login that waits for the agent's notification session goes on (the session is up,
    /// or will not come).
    pub(super) fn wake_login(&mut self, now: Now, agent: &str) {
        let waiting = self
            .queues
            .get(agent)
            .and_then(|q| q.flow.as_ref())
            .is_some_and(|f| matches!(f.step, Step::LoginWait(_)));
        if !waiting {
            return;
        }
        let flow = self.queues.get_mut(agent).and_then(|q| q.flow.take());
        if let Some(flow) = flow.and_then(|f| self.begin_read(f.req, false)) {
            self.queues.entry(agent.to_string()).or_default().flow = Some(flow);
        }
        self.run_queue(now, agent);
    }

    /// Logins whose wait for notifications is over go on without them.
    pub(super) fn login_wait_timeouts(&mut self, now: Now) {
        let late: Vec<String> = self
            .queues
            .iter()
            .filter(|(_, q)| {
                q.flow
                    .as_ref()
                    .is_some_and(|f| matches!(f.step, Step::LoginWait(until) if now.mono >= until))
            })
            .map(|(a, _)| a.clone())
            .collect();
        for agent in late {
            tracing::debug!("agent {agent}: notifications not up in time; reading the agent");
            self.wake_login(now, &agent);
        }
    }
}
