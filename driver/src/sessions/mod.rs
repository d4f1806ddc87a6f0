//! Agent sessions on the link thread: toolbar commands become requests, connector events
//! become host calls. Everything here runs on the driver instance's one link thread, so the
//! session table needs no lock and callbacks for a session never overlap.
//!
//! No I/O and no clock: each entry point gets the time of its event (`now`) and queues the
//! frames it wants sent in an [`Outbox`]. The jobs are split by file:
//! - `commands`: toolbar commands and work-item operations become requests;
//! - `events`: connector messages and link changes become host calls;
//! - `timers`: request timeouts, the Hello retry, the wrap-up timer;
//! - `report`: what the agent sees (status text, errors, toolbar, work-item effects).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::calls::Calls;
use crate::clock::Now;
use crate::commands::Command;
use crate::config::{DriverConfig, ServiceConfig};
use crate::host::HostSlot;
use crate::link::{LinkHandler, Outbox};
use crate::messages::Catalog;
use crate::protocol::{driver_queue, AgentInfo, AgentState, Envelope, Message, ReasonCode};

pub(crate) use self::liveness::Instance;
use crate::stomp::Frame;

mod call_commands;
mod commands;
mod events;
mod liveness;
mod recovery;
mod report;
#[cfg(test)]
mod tests;
mod timers;

/// Commands from host threads to the link thread.
pub(crate) enum Cmd {
    /// A new agent session.
    Add {
        id: u64,
        slot: Arc<HostSlot>,
        service: ServiceConfig,
        work_items: WorkItemIds,
    },
    /// Siebel acted on a work item (`AcceptWorkItem`, `ReleaseWorkItem`...).
    WorkItem {
        id: u64,
        tracking: String,
        op: WorkItemOp,
    },
    /// The session ended (its slot is already released).
    Remove { id: u64 },
    /// A toolbar command.
    Invoke {
        id: u64,
        track: String,
        command: Command,
        string_param: String,
        params: Vec<(String, String)>,
    },
}

/// The tracking ids of a session's work items, shared with host threads so that work-item
/// entry points can refuse unknown ids at once.
pub(crate) type WorkItemIds = Arc<Mutex<HashSet<String>>>;

/// What Siebel asked of a work item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkItemOp {
    /// `AcceptWorkItem`: answer.
    Accept,
    /// `ReleaseWorkItem`: hang up.
    Release,
    /// `SuspendWorkItem`: hold.
    Suspend,
    /// `ResumeWorkItem`: make it the active call (the other one is held).
    Resume,
}

/// One agent session: its host, its calls and what it knows of its agent.
struct Session {
    slot: Arc<HostSlot>,
    calls: Calls,
    work_items: WorkItemIds,
    service: ServiceConfig,
    agent: Option<String>,
    info: Option<AgentInfo>,
    /// The password of the agent's last login (or of the session's parameters), resent with
    /// `Connect` after a reconnect so a restarted connector can rebuild the Finesse session.
    password: Option<String>,
    /// The last snapshot asked for (request id, when): a dialog list answering it does not
    /// end calls updated since.
    snapshot: Option<(String, Instant)>,
    /// An agent report arrived after the last snapshot was asked for: the snapshot's own
    /// report is older and is not applied (arrival order, not Finesse's clocks).
    overtaken: bool,
    /// The connector instance that last sent something about the agent (`name/instance`).
    served_by: Option<String>,
    /// The work item whose timer runs for wrap-up (`Driver:ResetTimerOnWrapUp`).
    wrap_timer: Option<String>,
    /// The agent's reason codes by category (`NOT_READY`, `LOGOUT`), once fetched.
    reasons: HashMap<String, Vec<ReasonCode>>,
    /// Request id -> the command's request awaiting its outcome.
    pending: HashMap<String, Pending>,
    /// When the agent's current state began (as seen here) and the whole minutes in it
    /// last shown on the status line.
    state_since: Option<(Instant, u64)>,
    /// "Logging in..." is on the status line, no agent state shown since.
    logging_in: bool,
    /// `ResetState` asked for a snapshot: its report raises the state's events again.
    resetting: bool,
}

/// A command's request awaiting its outcome.
#[derive(Clone, Debug)]
struct Pending {
    /// The command's tracking id.
    track: String,
    /// When it was sent.
    at: Instant,
    /// The request, to send again once after a connector failover.
    msg: Message,
    /// The connector instance serving the agent when it was sent.
    to: Option<String>,
    /// Already sent again once.
    retried: bool,
}

impl Session {
    /// The agent's state as last reported.
    fn state(&self) -> Option<AgentState> {
        self.info.as_ref().and_then(|i| i.state)
    }

    /// The agent's extension as last reported (empty if unknown).
    fn extension(&self) -> String {
        self.info
            .as_ref()
            .and_then(|i| i.extension.clone())
            .unwrap_or_default()
    }
}

/// The link handler of a driver instance.
pub(crate) struct Sessions {
    cfg: Arc<DriverConfig>,
    catalog: Catalog,
    reply_queue: String,
    sessions: HashMap<u64, Session>,
    by_agent: HashMap<String, u64>,
    link_up: bool,
    /// The broker could not be reached since the link was last up (or ever).
    link_failed: bool,
    /// The last attempt failed on the broker's TLS certificate.
    link_untrusted: bool,
    /// The connector instances heard from (`name/instance`), with their last heartbeat.
    connectors: HashMap<String, Instance>,
    /// Every connector stopped answering (heartbeats missing).
    lost: bool,
    /// Unique to this driver instance: tells it from another with the same client id.
    nonce: String,
    /// When this instance last announced its client id.
    announced: Option<Instant>,
    /// Another driver instance uses our client id: its nonce and when it was last heard.
    duplicate: Option<(String, Instant)>,
    /// The detail of the last OUT_OF_SERVICE shown to the agents.
    out_of_service: Option<String>,
    /// When the last unanswered Hello went out.
    hello_at: Option<Instant>,
    seq: u64,
}

impl Sessions {
    /// The sessions of a driver instance with this configuration and these texts; `nonce` is
    /// unique to the instance (it tells our own announces from another instance's).
    pub(crate) fn new(cfg: Arc<DriverConfig>, catalog: Catalog, nonce: String) -> Self {
        Sessions {
            catalog,
            reply_queue: driver_queue(&cfg.client_id),
            cfg,
            sessions: HashMap::new(),
            by_agent: HashMap::new(),
            link_up: false,
            link_failed: false,
            link_untrusted: false,
            connectors: HashMap::new(),
            lost: false,
            nonce,
            announced: None,
            duplicate: None,
            out_of_service: None,
            hello_at: None,
            seq: 0,
        }
    }

    /// Whether requests can reach a connector: the link is up, a connector instance is in
    /// service and no other driver instance shares our client id.
    fn online(&self) -> bool {
        self.link_up && self.in_service() && self.duplicate.is_none()
    }

    /// The id of the next request: `<ClientId>-<n>`.
    fn next_id(&mut self) -> String {
        self.seq += 1;
        format!("{}-{}", self.cfg.client_id, self.seq)
    }

    /// Sends a request to the connectors; its id, or none if the link is down.
    fn request(&mut self, now: Now, out: &mut Outbox, msg: Message) -> Option<String> {
        // Proof of the agent's credential: the connector acts for the agent only with it.
        let proof = msg.agent().and_then(|a| {
            let s = self.sessions.get(&self.owner(a)?)?;
            Some(crate::protocol::agent_proof(a, s.password.as_deref()?))
        });
        self.request_with(now, out, msg, proof)
    }

    /// Sends a request with the given proof of the agent's credential.
    fn request_with(
        &mut self,
        now: Now,
        out: &mut Outbox,
        msg: Message,
        proof: Option<String>,
    ) -> Option<String> {
        let id = self.next_id();
        // One agent's requests form a message group: the broker keeps them in order on one
        // connector and moves the group to another when that connector goes away.
        let group = msg.agent().map(str::to_string);
        let mut env = Envelope::new(id.clone(), msg);
        env.proof = proof;
        tracing::debug!("-> {}", env.redacted());
        let mut frame = Frame::new("SEND")
            .header("destination", &self.cfg.request_queue)
            .header("content-type", "application/json")
            .header("reply-to", &self.reply_queue)
            .header("correlation-id", &id)
            // A request nobody served in time is stale: the broker drops it rather than let
            // a connector started later act on it.
            .header(
                "expires",
                &crate::stomp::expires_at(now.unix, timers::REQUEST_TIMEOUT),
            )
            .body(env.to_json());
        if let Some(g) = group {
            frame = frame.header("JMSXGroupID", &g);
        }
        out.send(frame).then_some(id)
    }

    /// The session that owns an agent.
    fn owner(&self, agent: &str) -> Option<u64> {
        self.by_agent.get(agent).copied()
    }
}

impl LinkHandler<Cmd> for Sessions {
    fn on_up(&mut self, now: Now, out: &mut Outbox) {
        self.link_up(now, out);
    }

    fn on_down(&mut self, _now: Now, reason: &str, first: bool) {
        self.link_untrusted = reason.starts_with(crate::stomp::UNTRUSTED);
        self.link_down(first);
    }

    fn on_frame(&mut self, now: Now, frame: Frame, out: &mut Outbox) {
        if frame.command == "MESSAGE" {
            self.on_message(now, &frame, out);
        }
    }

    fn on_command(&mut self, now: Now, cmd: Cmd, out: &mut Outbox) {
        match cmd {
            Cmd::Add {
                id,
                slot,
                service,
                work_items,
            } => self.add_session(now, out, id, slot, service, work_items),
            Cmd::Remove { id } => self.remove_session(now, out, id),
            Cmd::Invoke {
                id,
                track,
                command,
                string_param,
                params,
            } => {
                let args = commands::Args {
                    string_param: &string_param,
                    params: &params,
                };
                self.invoke(now, out, id, &track, command, &args)
            }
            Cmd::WorkItem { id, tracking, op } => self.work_item(now, out, id, &tracking, op),
        }
    }

    fn on_tick(&mut self, now: Now, out: &mut Outbox) {
        self.expire_requests(now);
        self.expire_connectors(now, out);
        self.announce_if_due(now, out);
        self.retry_hello(now, out);
        self.show_time_in_state(now);
    }
}
