//! The connector's logic without I/O: driver requests, Finesse REST answers, notification
//! events, SystemInfo answers and clock ticks go in; REST calls to make, messages for driver
//! queues and the status topic, and notification sessions to start or stop come out.
//!
//! The core never touches a socket, a thread or a clock: `now` is handed in with every input
//! and outputs are queued for the shell to take ([`Core::poll_output`]). A REST call carries a
//! [`Ticket`]; the shell runs it wherever it likes and hands the answer back with that ticket.
//! Multi-step flows (Login: PUT → notification session up → GET user) are explicit states
//! keyed by ticket, and one agent's requests are served in order by the core itself: a
//! request waits while an earlier flow of the same agent is unfinished. That is what lets the
//! shell run REST calls on any worker today, or from an event loop later, with no change here.
//!
//! Finesse's formats are read by `crate::xml` and `crate::xmpp`; finesse-sim (`sims/finesse/`)
//! keeps its own XML, XMPP and agent/dialog state model on purpose (see `crate::xml`).
//!
//! Jobs by file: `requests` (one function per request type and the flow steps), `reads`
//! (reading an agent's state and dialogs), `notifications` (sessions and updates),
//! `failover` (SystemInfo checks and node switching), `crate::service::views` (console views).

mod bounds;
mod failover;
mod flows;
mod ha;
mod notifications;
mod proof;
mod reads;
mod record;
mod requests;
mod rest_calls;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use driver::clock::Now;
use driver::protocol::{AgentInfo, DecodeError, DialogInfo, Envelope, Message, SystemStatus};

use crate::rest::{Credentials, RestError};
use crate::xml::Update;

use self::failover::Finesse;
pub(crate) use self::notifications::Notes;
use self::reads::Read;
pub use self::record::FinesseStatus;
pub(crate) use self::record::{DriverSeen, Event};
use self::record::{Level, Record};
use self::requests::AgentQueue;
pub use self::rest_calls::{RestAnswer, RestCall};

/// How long a Login waits for the agent's notification session before reading the agent, so
/// that what the agent does right after logging in is seen.
pub const LOGIN_WAIT: Duration = Duration::from_secs(3);

/// Routes the answer of a REST call back to the flow that asked for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// One notification session of an agent; a restarted session gets a new id, so events of a
/// session the core already replaced are recognised and ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

/// What an agent's notification session reports.
#[derive(Clone, Debug, PartialEq)]
pub enum Notification {
    /// Logged in and subscribed: notifications flow from now on.
    Up,
    /// The session broke; the shell retries by itself.
    Lost(String),
    /// Finesse refused the agent's credentials; the shell gave up the session.
    Refused(String),
    /// A notification.
    Update(Update),
    /// The node's `finesse` XMPP user became available (`true`) or unavailable: the node
    /// is out of service while it is unavailable (Cisco's "Failure Scenarios").
    FinessePresence(bool),
}

/// Where a notification session logs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionTarget {
    /// Base URL of the Finesse node (its host serves XMPP).
    pub node: String,
    /// The XMPP domain (from SystemInfo).
    pub xmpp_domain: String,
    /// The pubsub service domain (from SystemInfo; empty: do not subscribe).
    pub pubsub_domain: String,
}

/// What the core asks the shell to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// Make a REST call; hand the answer back with [`Core::rest_answer`] and this ticket.
    Rest {
        /// Routes the answer.
        ticket: Ticket,
        /// The call.
        call: RestCall,
    },
    /// Send a message to a driver queue.
    Send {
        /// The destination.
        to: String,
        /// The message.
        env: Envelope,
    },
    /// Publish a message on the status topic.
    Broadcast(Envelope),
    /// Start (or, if one runs for the agent, replace) the agent's notification session.
    StartNotifications {
        /// Agent id.
        agent: String,
        /// The new session's id (its events carry it).
        session: SessionId,
        /// The agent's credentials.
        creds: Credentials,
        /// Where to log in.
        target: SessionTarget,
    },
    /// Stop the agent's notification session.
    StopNotifications {
        /// Agent id.
        agent: String,
        /// The session to stop.
        session: SessionId,
    },
}

/// The error of an answer that failed, or that is not the kind asked for (a broken shell,
/// reported as Finesse trouble).
fn failure(answer: Result<RestAnswer, RestError>) -> RestError {
    match answer {
        Err(e) => e,
        Ok(a) => RestError::Unavailable(format!("unexpected answer {a:?}")),
    }
}

/// What the core needs to know of the configuration.
#[derive(Clone, Debug)]
pub struct CoreConfig {
    /// The connector's name (message ids, `System.connector`).
    pub name: String,
    /// This process's instance id (`System.instance`).
    pub instance: String,
    /// The Finesse nodes' base URLs, primary first (at least one).
    pub nodes: Vec<String>,
    /// The admin account used to read agents without a session, and for SystemInfo.
    pub admin: Option<Credentials>,
    /// The key of secure passwords.
    pub des: Option<driver::secure::TripleDes>,
    /// SystemInfo check interval.
    pub poll_every: Duration,
    /// Active-passive: the connector is an exclusive consumer and serves (and announces
    /// itself) only once it holds the request queue.
    pub exclusive: bool,
    /// How often a serving connector publishes its status on the status topic (its
    /// heartbeat); zero: only on changes.
    pub heartbeat_every: Duration,
    /// The request queue (a standby's probes go there).
    pub request_queue: String,
}

/// What the connector knows of one agent.
#[derive(Default)]
pub(crate) struct AgentEntry {
    /// The driver queue the agent's events go to.
    pub reply_to: Option<String>,
    /// The agent's Finesse credentials (from Login or Connect).
    pub creds: Option<Credentials>,
    /// Finesse accepted these credentials (a login or a read succeeded with them); only then
    /// is a refused notification login worth telling the agent.
    pub verified: bool,
    /// Last known state.
    pub info: Option<AgentInfo>,
    /// The agent's calls, by dialog id.
    pub calls: BTreeMap<String, DialogInfo>,
    /// The notification session.
    pub notes: Notes,
    /// Updates that arrived while the session's first read was under way.
    held: Vec<Update>,
    /// A forced logout is under way: the (state, pending state) it last acted on.
    pub force_logout: Option<String>,
    /// The last request about the agent (an entry without a session expires after it).
    pub touched: Option<Instant>,
    /// The Finesse node and `stateChangeTime` of the last state sent to the driver.
    shown: Option<(usize, String)>,
}

/// Who waits for the answer of a ticket.
enum Waiter {
    /// The current flow of this agent's request queue.
    Request(String),
    /// A read that no request asked for: after a notification session came up (`session`),
    /// or after a failover (`None`).
    Sync {
        read: Read,
        session: Option<SessionId>,
    },
    /// A SystemInfo check.
    Probe,
}

/// The connector's state and logic.
pub struct Core {
    cfg: CoreConfig,
    seq: u64,
    next_ticket: u64,
    next_session: u64,
    stopping: bool,
    finesse: Finesse,
    pub(crate) agents: HashMap<String, AgentEntry>,
    /// Driver instances heard from, by reply queue.
    drivers: HashMap<String, DriverSeen>,
    queues: HashMap<String, AgentQueue>,
    tickets: HashMap<Ticket, Waiter>,
    out: VecDeque<Output>,
    /// This connector serves the request queue (always when not exclusive; once it took
    /// the queue when exclusive).
    serving: bool,
    /// The broker link is up.
    linked: bool,
    /// When the status was last published, and when a standby last probed.
    last_beat: Option<Instant>,
    last_probe: Option<Instant>,
    /// When idle agent entries were last looked at.
    last_trim: Option<Instant>,
    /// Secure passwords opened inside the window (each opens once).
    replay: driver::secure::ReplayGuard,
    /// Wall-clock milliseconds of the request being served (the secure-password window).
    clock_ms: u64,
    /// What the console and the metrics read.
    record: Record,
}

impl Core {
    /// A core that checks Finesse at the first tick.
    pub fn new(cfg: CoreConfig, now: Now) -> Core {
        assert!(!cfg.nodes.is_empty(), "at least one Finesse node");
        Core {
            seq: 0,
            next_ticket: 0,
            next_session: 0,
            stopping: false,
            finesse: Finesse::new(now.mono),
            agents: HashMap::new(),
            drivers: HashMap::new(),
            queues: HashMap::new(),
            tickets: HashMap::new(),
            out: VecDeque::new(),
            serving: !cfg.exclusive,
            linked: false,
            last_beat: None,
            last_probe: None,
            last_trim: None,
            replay: driver::secure::ReplayGuard::default(),
            clock_ms: u64::try_from(now.unix).unwrap_or(0) * 1000,
            record: Record::new(cfg.nodes.len(), now),
            cfg,
        }
    }

    /// The next output, in the order the core produced them.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Every queued output.
    pub fn drain(&mut self) -> Vec<Output> {
        self.out.drain(..).collect()
    }

    /// Input: a request from a driver (`reply_to` is the frame's `reply-to`).
    pub fn request(&mut self, now: Now, reply_to: String, env: Envelope) {
        self.clock_ms = u64::try_from(now.unix).unwrap_or(0) * 1000;
        self.record.at(now);
        if self.heard_on_status_topic(now, &env.msg) {
            return;
        }
        self.took_queue(now);
        self.driver_seen(now, &reply_to, &env.msg);
        if let Message::Probe { instance } = &env.msg {
            tracing::trace!("probe of {instance} received");
            self.peer_heard(now, instance, "", false, "");
            return;
        }
        if self.refuse_bad_number(&reply_to, &env) {
            self.record
                .counters
                .request(record::kind_of(&env.msg), "refused");
            return;
        }
        let agent = env.msg.agent().map(str::to_string);
        self.enqueue(now, reply_to, env);
        self.touched(now, agent.as_deref());
    }

    /// Input: a frame whose body is not a request this connector can read.
    pub fn undecodable(&mut self, reply_to: &str, e: &DecodeError) {
        tracing::warn!("rejected a request: {e}");
        self.record
            .note(Level::Warn, format!("rejected a request: {e}"));
        if reply_to.is_empty() {
            return;
        }
        let code = match e {
            DecodeError::Version(_) => "UnsupportedVersion",
            DecodeError::Malformed(_) => "Malformed",
        };
        let msg = Message::Error {
            agent: None,
            code: code.into(),
            message: e.to_string(),
            dialog: None,
        };
        self.send(reply_to, msg, None);
    }

    /// Input: the answer of the REST call `ticket`.
    pub fn rest_answer(&mut self, now: Now, ticket: Ticket, answer: Result<RestAnswer, RestError>) {
        match self.tickets.remove(&ticket) {
            Some(Waiter::Request(agent)) => self.advance(now, &agent, answer),
            Some(Waiter::Sync { read, session }) => self.sync_answer(now, read, session, answer),
            Some(Waiter::Probe) => self.probe_answer(now, answer),
            None => tracing::warn!("an answer for unknown ticket {ticket:?} ignored"),
        }
    }

    /// Input: the time; checks Finesse when due and ends Login waits that timed out.
    pub fn tick(&mut self, now: Now) {
        self.record.at(now);
        self.poll_if_due(now);
        self.login_wait_timeouts(now);
        self.beat(now);
        self.force_logouts(now);
        self.expire_agents(now);
    }

    /// Input: the connector is stopping. Drivers are told it goes out of service, every
    /// notification session is stopped and no new one starts.
    pub fn stop(&mut self) {
        if self.stopping {
            return;
        }
        self.stopping = true;
        self.finesse.up = false;
        self.finesse.detail = "the connector is stopping".into();
        self.broadcast_status();
        let agents: Vec<String> = self.agents.keys().cloned().collect();
        for a in agents {
            self.stop_session(&a);
        }
    }

    /// The `System` message as it stands, in an envelope.
    pub fn system_envelope(&mut self) -> Envelope {
        let msg = self.system_message();
        Envelope::new(self.next_id(), msg)
    }

    // --- helpers shared by the jobs ---

    fn next_id(&mut self) -> String {
        self.seq += 1;
        format!("{}-{}", self.cfg.name, self.seq)
    }

    fn issue(&mut self, call: RestCall, waiter: Waiter) -> Ticket {
        self.next_ticket += 1;
        let ticket = Ticket(self.next_ticket);
        self.tickets.insert(ticket, waiter);
        self.out.push_back(Output::Rest { ticket, call });
        ticket
    }

    fn send(&mut self, to: &str, msg: Message, re: Option<&str>) {
        if to.is_empty() {
            tracing::warn!("no driver queue for {msg:?}; dropped");
            return;
        }
        let mut env = Envelope::new(self.next_id(), msg);
        env.re = re.map(str::to_string);
        self.record.sent(&env);
        self.out.push_back(Output::Send {
            to: to.to_string(),
            env,
        });
    }

    fn error(&mut self, to: &str, agent: Option<&str>, e: &RestError, re: Option<&str>) {
        tracing::info!(
            "agent {}: {}: {}",
            agent.unwrap_or("-"),
            e.code(),
            e.message()
        );
        let text = format!(
            "agent {}: {}: {}",
            agent.unwrap_or("-"),
            e.code(),
            e.message()
        );
        self.record.note(Level::Warn, text);
        let msg = Message::Error {
            agent: agent.map(str::to_string),
            code: e.code().to_string(),
            message: e.message(),
            dialog: None,
        };
        self.send(to, msg, re);
    }

    fn system_message(&self) -> Message {
        Message::System {
            status: if self.finesse.up {
                SystemStatus::InService
            } else {
                SystemStatus::OutOfService
            },
            connector: self.cfg.name.clone(),
            detail: self.finesse.detail.clone(),
            instance: self.cfg.instance.clone(),
        }
    }

    /// Publishes the status on the status topic; a standby stays silent.
    fn broadcast_status(&mut self) {
        if !self.serving || !self.linked {
            return;
        }
        let msg = self.system_message();
        let env = Envelope::new(self.next_id(), msg);
        self.out.push_back(Output::Broadcast(env));
    }

    /// Base URL of the node in use.
    fn node(&self) -> String {
        self.cfg.nodes[self.finesse.active].clone()
    }

    fn reply_to_of(&self, agent: &str, fallback: &str) -> String {
        self.agents
            .get(agent)
            .and_then(|a| a.reply_to.clone())
            .unwrap_or_else(|| fallback.to_string())
    }

    fn creds_of(&self, agent: &str) -> Option<Credentials> {
        self.agents.get(agent).and_then(|a| a.creds.clone())
    }

    /// The agent's extension, as Finesse last reported it.
    fn extension_of(&self, agent: &str) -> String {
        self.agents
            .get(agent)
            .and_then(|a| a.info.as_ref())
            .and_then(|i| i.extension.clone())
            .unwrap_or_default()
    }

    fn finesse_ready(&self) -> Result<(), RestError> {
        if self.finesse.up {
            Ok(())
        } else {
            Err(RestError::Unavailable(self.finesse.detail.clone()))
        }
    }

    /// Sends an agent's state to its driver and remembers it.
    ///
    /// A report from the same Finesse node that is older than the state already sent (by
    /// that node's `stateChangeTime`: a REST read and a notification of one change racing,
    /// or updates held during a session's first read) is not sent: it would turn the agent's
    /// state back in Siebel. Only `Accepted` goes, to settle the request it answers. Reports
    /// from another node (after a failover) are never compared: two nodes' clocks are no
    /// order.
    /// Each report says whether this Finesse places a call from READY (SystemInfo).
    fn publish_agent(&mut self, info: AgentInfo, re: Option<&str>, fallback_to: &str) {
        let node = self.finesse.active;
        let info = AgentInfo {
            make_call_from_ready: self.finesse.system.make_call_from_ready(),
            ..info
        };
        let e = self.agents.entry(info.agent.clone()).or_default();
        let to = e
            .reply_to
            .clone()
            .unwrap_or_else(|| fallback_to.to_string());
        let stale = match (&e.shown, info.state_change_time.as_deref()) {
            (Some((n, shown)), Some(new)) => *n == node && new < shown.as_str(),
            _ => false,
        };
        if stale {
            tracing::debug!("agent {}: an older state report not sent", info.agent);
            if re.is_some() {
                self.send(&to, Message::Accepted {}, re);
            }
            return;
        }
        if let Some(t) = &info.state_change_time {
            e.shown = Some((node, t.clone()));
        }
        self.record.agent_changed(e.info.as_ref(), &info);
        e.info = Some(info.clone());
        self.send(&to, Message::Agent(info), re);
    }
}
