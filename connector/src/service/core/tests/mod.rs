//! The core driven with no broker, no Finesse and no clock: a fake Finesse answers its REST
//! calls from an in-memory table of agents, dialogs and node statuses (or a test holds the
//! calls and answers them itself), and the tests read the outputs.

mod bounds;
mod calls;
mod console;
mod failover;
mod ha;
mod notifications;
mod ordering;
mod proof;
mod requests;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use driver::clock::Now;
use driver::protocol::{AgentInfo, AgentState, Envelope, Message, ReasonCode, SystemStatus};

use super::{
    Core, CoreConfig, Notification, Output, RestAnswer, RestCall, SessionId, SessionTarget, Ticket,
};
use crate::rest::{Credentials, RestError};
use crate::xml::{Element, SystemInfo, Update};

pub(super) const NODE_A: &str = "http://finesse-a:8082";
pub(super) const NODE_B: &str = "http://finesse-b:8082";
/// The driver queue of the tests' driver instance.
pub(super) const DRIVER: &str = "/queue/siebelcti.driver.test";
pub(super) const POLL: Duration = Duration::from_secs(5);

/// An agent as the fake Finesse knows it.
#[derive(Clone)]
pub(super) struct FakeUser {
    pub password: String,
    pub state: AgentState,
    pub extension: Option<String>,
    pub reason: Option<String>,
    pub dialogs: Vec<Element>,
    /// A state asked for during a call (UCCE: it applies when the call ends).
    pub pending: Option<AgentState>,
}

/// Finesse in memory.
pub(super) struct FakeFinesse {
    pub users: HashMap<String, FakeUser>,
    /// SystemInfo status by node; a node absent here does not answer.
    pub nodes: HashMap<String, String>,
    pub reason_codes: Vec<ReasonCode>,
    /// SystemInfo's `ctiVersion` (23: UCCE 12.5(1)).
    pub cti_version: Option<u32>,
    /// Answers every call with this error while set.
    pub fail: Option<RestError>,
}

impl FakeFinesse {
    fn new() -> FakeFinesse {
        let mut users = HashMap::new();
        for (id, ext) in [("1001", "5001"), ("1002", "5002")] {
            users.insert(
                id.to_string(),
                FakeUser {
                    password: format!("pw{id}"),
                    state: AgentState::Logout,
                    extension: Some(ext.to_string()),
                    reason: None,
                    dialogs: Vec::new(),
                    pending: None,
                },
            );
        }
        FakeFinesse {
            users,
            nodes: [NODE_A, NODE_B]
                .into_iter()
                .map(|n| (n.to_string(), "IN_SERVICE".to_string()))
                .collect(),
            reason_codes: vec![ReasonCode {
                id: "3".into(),
                code: "12".into(),
                label: "Lunch".into(),
            }],
            cti_version: Some(23),
            fail: None,
        }
    }

    fn node_up(&self, node: &str) -> Result<(), RestError> {
        if self.nodes.contains_key(node) {
            Ok(())
        } else {
            Err(RestError::Unavailable(format!(
                "connection refused ({node})"
            )))
        }
    }

    fn user(&mut self, agent: &str, creds: &Credentials) -> Result<&mut FakeUser, RestError> {
        let admin = creds.user == "admin" && creds.password == "admin-pw";
        match self.users.get_mut(agent) {
            Some(u) if admin || (creds.user == agent && creds.password == u.password) => Ok(u),
            _ => Err(RestError::Unauthorized),
        }
    }

    /// Answers a call as Finesse would.
    pub fn answer(&mut self, call: &RestCall) -> Result<RestAnswer, RestError> {
        if let RestCall::SystemInfo { node, .. } = call {
            self.node_up(node)?;
            return Ok(RestAnswer::SystemInfo(SystemInfo {
                status: self.nodes[node].clone(),
                deployment: "UCCE".into(),
                xmpp_domain: "finesse.test".into(),
                pubsub_domain: "pubsub.finesse.test".into(),
                cti_version: self.cti_version,
            }));
        }
        if let Some(e) = &self.fail {
            return Err(e.clone());
        }
        match call {
            RestCall::SetState {
                node,
                agent,
                creds,
                change,
                ..
            } => {
                self.node_up(node)?;
                let u = self.user(agent, creds)?;
                let on_call = !u.dialogs.is_empty();
                let from = format!("cannot change from {:?}", u.state);
                let invalid = || RestError::Api {
                    status: 400,
                    error_type: "Invalid State".into(),
                    message: from.clone(),
                };
                u.state = match change.state.as_str() {
                    "NOT_READY" | "READY" if on_call => {
                        u.pending = Some(if change.state == "READY" {
                            AgentState::Ready
                        } else {
                            AgentState::NotReady
                        });
                        u.state
                    }
                    "LOGIN" | "NOT_READY" => AgentState::NotReady,
                    "READY" => AgentState::Ready,
                    // UCCE: Logout from Not Ready only, never during a call.
                    "LOGOUT" if on_call || u.state != AgentState::NotReady => return Err(invalid()),
                    "LOGOUT" => AgentState::Logout,
                    _ => {
                        return Err(RestError::Api {
                            status: 400,
                            error_type: "Invalid Input".into(),
                            message: format!("state {}", change.state),
                        })
                    }
                };
                if let Some(e) = &change.extension {
                    u.extension = Some(e.clone());
                }
                u.reason = change.reason_code_id.clone();
                Ok(RestAnswer::Done)
            }
            RestCall::User { node, agent, creds } => {
                self.node_up(node)?;
                let u = self.user(agent, creds)?;
                Ok(RestAnswer::User(AgentInfo {
                    agent: agent.clone(),
                    state: Some(u.state),
                    pending_state: u.pending,
                    reason_code: u.reason.clone(),
                    extension: u.extension.clone(),
                    ..AgentInfo::default()
                }))
            }
            RestCall::Dialogs { node, agent, creds } => {
                self.node_up(node)?;
                Ok(RestAnswer::Dialogs(
                    self.user(agent, creds)?.dialogs.clone(),
                ))
            }
            RestCall::DialogAction {
                node,
                creds,
                action,
                ..
            } => {
                self.node_up(node)?;
                self.user(&creds.user.clone(), creds)?;
                // Every PUT on a Dialog needs targetMediaAddress (Cisco: required).
                if action.extension.is_empty() {
                    return Err(RestError::Api {
                        status: 400,
                        error_type: "Parameter Missing".into(),
                        message: "targetMediaAddress is required".into(),
                    });
                }
                Ok(RestAnswer::Done)
            }
            RestCall::MakeCall {
                node, agent, creds, ..
            }
            | RestCall::Supervise {
                node, agent, creds, ..
            } => {
                self.node_up(node)?;
                self.user(agent, creds)?;
                Ok(RestAnswer::Done)
            }
            RestCall::ReasonCodes {
                node, agent, creds, ..
            } => {
                self.node_up(node)?;
                self.user(agent, creds)?;
                Ok(RestAnswer::ReasonCodes(self.reason_codes.clone()))
            }
            RestCall::WrapUpReasons { node, agent, creds } => {
                self.node_up(node)?;
                self.user(agent, creds)?;
                let list = Element::parse(include_str!(
                    "../../../../../tests/fixtures/finesse/wrap_up_reasons.xml"
                ))
                .unwrap();
                Ok(RestAnswer::ReasonCodes(crate::xml::wrap_up_reasons(&list)))
            }
            RestCall::SystemInfo { .. } => unreachable!("answered above"),
        }
    }
}

/// A dialog as Finesse sends it, with the agent's participant on `ext`.
pub(super) fn dialog(id: &str, state: &str, ext: &str) -> Element {
    Element::parse(&format!(
        "<Dialog><id>{id}</id><fromAddress>4085551234</fromAddress><toAddress>{ext}</toAddress>\
<mediaProperties><callType>ACD_IN</callType></mediaProperties><participants>\
<Participant><actions><action>ANSWER</action></actions><mediaAddress>{ext}</mediaAddress><state>{state}</state></Participant>\
<Participant><mediaAddress>4085551234</mediaAddress><state>ACTIVE</state></Participant></participants>\
<state>{state}</state></Dialog>"
    ))
    .unwrap()
}

/// The core, the fake Finesse and a virtual clock; REST calls are answered by the fake
/// (`auto`) or held for the test to answer.
pub(super) struct Harness {
    pub core: Core,
    pub fake: FakeFinesse,
    pub now: Now,
    pub auto: bool,
    /// Every REST call the core asked for, in order.
    pub calls: Vec<RestCall>,
    /// Calls held for the test (when not `auto`).
    pub held: Vec<(Ticket, RestCall)>,
    pub sent: Vec<(String, Envelope)>,
    pub broadcasts: Vec<Envelope>,
    pub started: Vec<(String, SessionId, Credentials, SessionTarget)>,
    pub stopped: Vec<(String, SessionId)>,
    /// The sessions running now, by agent (kept by `clear`).
    pub sessions: HashMap<String, SessionId>,
}

pub(super) fn config() -> CoreConfig {
    CoreConfig {
        name: "conn".into(),
        instance: "conn-1".into(),
        nodes: vec![NODE_A.into(), NODE_B.into()],
        admin: None,
        des: None,
        poll_every: POLL,
        exclusive: false,
        heartbeat_every: Duration::ZERO,
        request_queue: "/queue/siebelcti.requests".into(),
    }
}

impl Harness {
    /// A core that found node A in service (its first broadcast is cleared).
    pub fn new() -> Harness {
        Harness::with_config(config())
    }

    pub fn with_config(cfg: CoreConfig) -> Harness {
        let now = Now {
            mono: Instant::now(),
            unix: 1_800_000_000,
        };
        let mut h = Harness {
            core: Core::new(cfg, now),
            fake: FakeFinesse::new(),
            now,
            auto: true,
            calls: Vec::new(),
            held: Vec::new(),
            sent: Vec::new(),
            broadcasts: Vec::new(),
            started: Vec::new(),
            stopped: Vec::new(),
            sessions: HashMap::new(),
        };
        h.core.link_up(now);
        h.core.tick(now);
        h.run();
        h.clear();
        h
    }

    /// Carries out the core's outputs until there are none.
    pub fn run(&mut self) {
        while let Some(out) = self.core.poll_output() {
            match out {
                Output::Rest { ticket, call } => {
                    self.calls.push(call.clone());
                    if self.auto {
                        let answer = self.fake.answer(&call);
                        self.core.rest_answer(self.now, ticket, answer);
                    } else {
                        self.held.push((ticket, call));
                    }
                }
                Output::Send { to, env } => self.sent.push((to, env)),
                Output::Broadcast(env) => self.broadcasts.push(env),
                Output::StartNotifications {
                    agent,
                    session,
                    creds,
                    target,
                } => {
                    self.sessions.insert(agent.clone(), session);
                    self.started.push((agent, session, creds, target))
                }
                Output::StopNotifications { agent, session } => {
                    if self.sessions.get(&agent) == Some(&session) {
                        self.sessions.remove(&agent);
                    }
                    self.stopped.push((agent, session))
                }
            }
        }
    }

    /// Forgets what was recorded so far.
    pub fn clear(&mut self) {
        self.calls.clear();
        self.sent.clear();
        self.broadcasts.clear();
        self.started.clear();
        self.stopped.clear();
    }

    /// A request from the test driver (`reply-to` [`DRIVER`]).
    /// A request from the honest driver: with the proof of `pw{agent}`.
    pub fn request(&mut self, id: &str, msg: Message) {
        let mut env = Envelope::new(id, msg);
        env.proof = env
            .msg
            .agent()
            .map(|a| driver::protocol::agent_proof(a, &format!("pw{a}")));
        self.core.request(self.now, DRIVER.into(), env);
        self.run();
    }

    /// A request as sent by anyone on the broker: `from`, with `proof`.
    pub fn request_from(&mut self, from: &str, env: Envelope) {
        self.core.request(self.now, from.into(), env);
        self.run();
    }

    /// Answers the oldest held call with the fake.
    pub fn answer_held(&mut self) {
        assert!(!self.held.is_empty(), "no call held");
        let (ticket, call) = self.held.remove(0);
        let answer = self.fake.answer(&call);
        self.core.rest_answer(self.now, ticket, answer);
        self.run();
    }

    /// Answers every held call (and those they lead to) with the fake.
    pub fn answer_all(&mut self) {
        self.auto = true;
        while !self.held.is_empty() {
            self.answer_held();
        }
    }

    /// Lets time pass and ticks.
    pub fn advance(&mut self, d: Duration) {
        self.now = self.now.after(d);
        self.core.tick(self.now);
        self.run();
    }

    /// The agent's running session.
    pub fn session_of(&self, agent: &str) -> SessionId {
        *self.sessions.get(agent).expect("a session runs")
    }

    pub fn notify(&mut self, agent: &str, n: Notification) {
        let session = self.session_of(agent);
        self.core.notification(self.now, agent, session, n);
        self.run();
    }

    /// Messages sent so far (destination, message, `re`), and forgets them.
    pub fn take(&mut self) -> Vec<(String, Message, Option<String>)> {
        self.sent
            .drain(..)
            .map(|(to, env)| (to, env.msg, env.re))
            .collect()
    }

    /// Connect without a password: the agent's events go to [`DRIVER`].
    pub fn connect(&mut self, agent: &str) {
        self.request(
            &format!("c-{agent}"),
            Message::Connect {
                agent: agent.into(),
                reply_to: DRIVER.into(),
                password: None,
                encrypted: false,
            },
        );
    }

    /// Connect + Login of an agent with its right password, session up: a logged-in agent
    /// with verified credentials. Clears the record.
    pub fn logged_in(&mut self, agent: &str) {
        self.connect(agent);
        self.request(&format!("l-{agent}"), login(agent, &format!("pw{agent}")));
        self.notify(agent, Notification::Up);
        self.clear();
    }
}

pub(super) fn login(agent: &str, password: &str) -> Message {
    Message::Login {
        agent: agent.into(),
        password: password.into(),
        encrypted: false,
        extension: "5001".into(),
    }
}

pub(super) fn user_update(agent: &str, state: &str, request_id: Option<&str>) -> Update {
    Update::User {
        info: AgentInfo {
            agent: agent.into(),
            state: Some(crate::xml::agent_state(state)),
            extension: Some("5001".into()),
            ..AgentInfo::default()
        },
        request_id: request_id.map(str::to_string),
    }
}

/// The one wording of `NoSession` (the driver shows its own words for the code).
pub(super) const NO_SESSION: &str =
    "NoSession: the connector holds no Finesse session for the agent";

pub(super) fn status_of(env: &Envelope) -> (SystemStatus, String) {
    match &env.msg {
        Message::System { status, detail, .. } => (*status, detail.clone()),
        other => panic!("not a System message: {other:?}"),
    }
}

pub(super) fn agent_state_of(m: &Message) -> Option<AgentState> {
    match m {
        Message::Agent(info) => info.state,
        other => panic!("not an Agent message: {other:?}"),
    }
}

pub(super) fn error_of(m: &Message) -> (&str, &str) {
    match m {
        Message::Error { code, message, .. } => (code, message),
        other => panic!("not an Error message: {other:?}"),
    }
}
