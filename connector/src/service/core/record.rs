//! What the core keeps for the console and the metrics, beside serving: the driver
//! instances it hears from (pruned when gone), the standby connectors that probe it, the
//! last check of each Finesse node, the last few hundred events and errors, and counters
//! (requests by type and outcome, events relayed, broker links).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use driver::clock::Now;
use driver::protocol::{AgentInfo, DialogInfo, Envelope, Message, SystemStatus};

use super::Core;
use crate::metrics::Counters;

/// Events and errors kept for the console (the oldest go first).
pub(crate) const MAX_EVENTS: usize = 300;
/// A driver instance that owns no agent is forgotten this long after its last message.
pub(crate) const DRIVER_TTL: Duration = Duration::from_secs(300);
/// A peer connector that stopped probing (a standby) or publishing its status (a serving
/// one) this long ago is no longer listed.
pub(crate) const PEER_TTL: Duration = Duration::from_secs(30);
/// A driver instance that announced itself on the status topic (every 5 s) and stopped this
/// long ago is silent: gone, or cut off from the broker.
pub(crate) const DRIVER_SILENT: Duration = Duration::from_secs(15);
/// Requests awaiting their first answer, counted at most (beyond, the oldest are dropped
/// uncounted: a request Finesse never answers must not grow the map).
const MAX_IN_FLIGHT: usize = 10_000;

/// One driver instance (by its reply queue).
#[derive(Clone, Debug)]
pub(crate) struct DriverSeen {
    /// `Driver:ClientId` (from Hello; empty until it says Hello).
    pub client_id: String,
    /// Product and version (from Hello).
    pub product: String,
    /// The Siebel server's host (from Hello).
    pub host: String,
    /// When its last message arrived.
    pub last: Instant,
    /// The same, wall clock (Unix seconds).
    pub last_unix: u64,
    /// When it last announced itself on the status topic (`None`: never heard there).
    pub announced: Option<Instant>,
    /// Its silence was noted as an event.
    silence_noted: bool,
}

impl DriverSeen {
    /// Whether an instance that announces itself stopped doing so.
    pub(crate) fn silent(&self, now: Instant) -> bool {
        self.announced
            .is_some_and(|t| now.duration_since(t) >= DRIVER_SILENT)
    }
}

/// Another connector of this cluster.
#[derive(Clone, Debug)]
pub(crate) struct Peer {
    /// Its name (`connector.name`; empty for a standby, known only by its probes).
    pub name: String,
    /// It publishes its status (it serves), or it probes (a standby).
    pub serving: bool,
    /// Its last status, when it serves (`IN_SERVICE` / `OUT_OF_SERVICE`).
    pub status: String,
    /// When it was last heard.
    pub last: Instant,
}

/// The last SystemInfo check of one Finesse node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NodeCheck {
    /// The node answered `IN_SERVICE`.
    pub in_service: bool,
    /// Its status or the failure.
    pub detail: String,
    /// When (Unix seconds).
    pub unix: u64,
}

/// How bad an event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Level {
    /// Something happened.
    Info,
    /// Something went wrong for one agent or one request.
    Warn,
    /// A link or a node failed.
    Error,
}

/// One event or error for the console.
#[derive(Clone, Debug, serde::Serialize)]
pub(crate) struct Event {
    /// When (Unix seconds).
    pub unix: u64,
    /// How bad.
    pub level: Level,
    /// What happened.
    pub text: String,
}

/// The console's and the metrics' records.
#[derive(Default)]
pub(crate) struct Record {
    /// The wall clock at the last input (Unix seconds).
    pub unix: u64,
    /// The monotonic clock at the last input.
    pub mono: Option<Instant>,
    /// The last events, oldest first.
    pub events: VecDeque<Event>,
    /// The last check of each node, in configuration order.
    pub nodes: Vec<Option<NodeCheck>>,
    /// Other connectors, by instance.
    pub peers: HashMap<String, Peer>,
    /// Counters for `/metrics`.
    pub counters: Counters,
    /// Reason code labels seen in ReasonCodes answers (by id and by code).
    pub reason_labels: HashMap<String, String>,
    /// Requests awaiting their first answer: id → type.
    in_flight: HashMap<String, &'static str>,
    in_flight_order: VecDeque<String>,
}

/// The wire name of a message's type.
pub(crate) fn kind_of(msg: &Message) -> &'static str {
    match msg {
        Message::Hello { .. } => "Hello",
        Message::Connect { .. } => "Connect",
        Message::Disconnect { .. } => "Disconnect",
        Message::Login { .. } => "Login",
        Message::Logout { .. } => "Logout",
        Message::SetState { .. } => "SetState",
        Message::Snapshot { .. } => "Snapshot",
        Message::GetReasonCodes { .. } => "GetReasonCodes",
        Message::ReasonCodes { .. } => "ReasonCodes",
        Message::System { .. } => "System",
        Message::CallAction { .. } => "CallAction",
        Message::MakeCall { .. } => "MakeCall",
        Message::UpdateCallData { .. } => "UpdateCallData",
        Message::SilentMonitor { .. } => "SilentMonitor",
        Message::BargeCall { .. } => "BargeCall",
        Message::Probe { .. } => "Probe",
        Message::Announce { .. } => "Announce",
        Message::Accepted {} => "Accepted",
        Message::Agent(_) => "Agent",
        Message::Dialog(_) => "Dialog",
        Message::DialogList { .. } => "DialogList",
        Message::Error { .. } => "Error",
    }
}

/// The Finesse link as the console shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinesseStatus {
    /// The node in use is in service.
    pub in_service: bool,
    /// Base URL of the node in use.
    pub node: String,
    /// Human detail (which node, or why out of service).
    pub detail: String,
    /// How many driver instances are known.
    pub drivers: usize,
}

impl Record {
    /// Records for `nodes` Finesse nodes, from `now`.
    pub(crate) fn new(nodes: usize, now: Now) -> Record {
        let mut r = Record {
            nodes: vec![None; nodes],
            ..Record::default()
        };
        r.at(now);
        r
    }

    /// The time of an input.
    pub(crate) fn at(&mut self, now: Now) {
        self.unix = u64::try_from(now.unix).unwrap_or(0);
        self.mono = Some(now.mono);
    }

    /// Notes an agent's new state or reason (not a report of the same).
    pub(crate) fn agent_changed(&mut self, old: Option<&AgentInfo>, new: &AgentInfo) {
        if old.is_some_and(|o| o.state == new.state && o.reason_label == new.reason_label) {
            return;
        }
        let state = new.state.map_or("UNKNOWN", |s| s.as_str());
        let reason = new
            .reason_label
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        self.note(Level::Info, format!("agent {} {state}{reason}", new.agent));
    }

    /// Notes a call's new state for its agent (`old`: what was known of it).
    pub(crate) fn call_changed(&mut self, old: Option<&DialogInfo>, new: &DialogInfo) {
        let ended = new.ended || new.agent_state == "DROPPED";
        let text = match old {
            None if ended => return,
            Some(_) if ended => "ended",
            Some(o) if o.agent_state == new.agent_state => return,
            _ => new.agent_state.as_str(),
        };
        let (from, to) = (&new.from_address, &new.to_address);
        let text = format!(
            "call {} of agent {} ({from} → {to}): {text}",
            new.id, new.agent
        );
        self.note(Level::Info, text);
    }

    /// Keeps an event (the oldest beyond [`MAX_EVENTS`] go).
    pub(crate) fn note(&mut self, level: Level, text: String) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(Event {
            unix: self.unix,
            level,
            text,
        });
    }

    /// A request is served: Connect and Disconnect have no answer (counted now), the others
    /// are counted at their first answer.
    pub(crate) fn served(&mut self, env: &Envelope) {
        let kind = kind_of(&env.msg);
        if matches!(
            env.msg,
            Message::Connect { .. } | Message::Disconnect { .. }
        ) {
            self.counters.request(kind, "ok");
            return;
        }
        if self.in_flight.len() >= MAX_IN_FLIGHT {
            if let Some(old) = self.in_flight_order.pop_front() {
                self.in_flight.remove(&old);
            }
        }
        if self.in_flight.insert(env.id.clone(), kind).is_none() {
            self.in_flight_order.push_back(env.id.clone());
        }
    }

    /// A message leaves for a driver: the first answer to a request counts its outcome, a
    /// message answering nothing counts as an event relayed.
    pub(crate) fn sent(&mut self, env: &Envelope) {
        if let Message::ReasonCodes { codes, .. } = &env.msg {
            for c in codes.iter().take(MAX_EVENTS) {
                self.reason_labels.insert(c.id.clone(), c.label.clone());
                self.reason_labels.insert(c.code.clone(), c.label.clone());
            }
            if self.reason_labels.len() > 4 * MAX_EVENTS {
                self.reason_labels.clear();
            }
        }
        let Some(re) = &env.re else {
            self.counters.relayed(kind_of(&env.msg));
            return;
        };
        if let Some(kind) = self.in_flight.remove(re) {
            self.in_flight_order.retain(|id| id != re);
            let outcome = match env.msg {
                Message::Error { .. } => "error",
                _ => "ok",
            };
            self.counters.request(kind, outcome);
        }
    }
}

impl Core {
    /// Notes a message from a driver instance's queue (`Hello` names it).
    pub(super) fn driver_seen(&mut self, now: Now, reply_to: &str, msg: &Message) {
        let reply_to = match msg {
            Message::Hello { reply_to, .. } => reply_to,
            _ => reply_to,
        };
        if reply_to.is_empty() || matches!(msg, Message::Probe { .. }) {
            return;
        }
        let unix = u64::try_from(now.unix).unwrap_or(0);
        let d = self
            .drivers
            .entry(reply_to.to_string())
            .or_insert_with(|| DriverSeen {
                client_id: String::new(),
                product: String::new(),
                host: String::new(),
                last: now.mono,
                last_unix: unix,
                announced: None,
                silence_noted: false,
            });
        d.last = now.mono;
        d.last_unix = unix;
        if let Message::Hello {
            driver,
            product,
            host,
            ..
        } = msg
        {
            d.client_id.clone_from(driver);
            d.product.clone_from(product);
            d.host.clone_from(host);
        }
    }

    /// Forgets driver instances that own no agent and were silent for [`DRIVER_TTL`], and
    /// standbys that stopped probing.
    pub(super) fn prune_drivers(&mut self, now: Now) {
        let owners: std::collections::HashSet<&str> = self
            .agents
            .values()
            .filter_map(|a| a.reply_to.as_deref())
            .collect();
        let gone: Vec<String> = self
            .drivers
            .iter()
            .filter(|(q, d)| {
                !owners.contains(q.as_str())
                    && (d.silent(now.mono) || now.since(d.last) >= DRIVER_TTL)
            })
            .map(|(q, _)| q.clone())
            .collect();
        for q in gone {
            self.drivers.remove(&q);
            self.record.note(
                Level::Info,
                format!("driver instance {q} gone (silent, no agents)"),
            );
        }
        for (q, d) in &mut self.drivers {
            if d.silent(now.mono) && !d.silence_noted {
                d.silence_noted = true;
                let text = format!("driver instance {q} silent: its agents are marked stale");
                self.record.note(Level::Error, text);
            }
        }
        self.record
            .peers
            .retain(|_, p| now.mono.duration_since(p.last) < PEER_TTL);
    }

    /// What the status topic carries (`true`: it was that, and is recorded): the status of
    /// serving connectors and the drivers' announces. Never a request, so it says nothing
    /// about who holds the request queue.
    pub(super) fn heard_on_status_topic(&mut self, now: Now, msg: &Message) -> bool {
        match msg {
            Message::System {
                status,
                connector,
                instance,
                ..
            } => {
                if *instance != self.cfg.instance {
                    let status = match status {
                        SystemStatus::InService => "IN_SERVICE",
                        SystemStatus::OutOfService => "OUT_OF_SERVICE",
                    };
                    self.peer_heard(now, instance, connector, true, status);
                }
                true
            }
            Message::Announce { driver, .. } => {
                let queue = driver::protocol::driver_queue(driver);
                self.driver_seen(now, &queue, msg);
                if let Some(d) = self.drivers.get_mut(&queue) {
                    d.client_id.clone_from(driver);
                    d.announced = Some(now.mono);
                    d.silence_noted = false;
                }
                true
            }
            _ => false,
        }
    }

    /// Notes another connector: a standby's probe or a serving one's status.
    pub(super) fn peer_heard(
        &mut self,
        now: Now,
        instance: &str,
        name: &str,
        serving: bool,
        status: &str,
    ) {
        let new = !self.record.peers.contains_key(instance);
        self.record.peers.insert(
            instance.to_string(),
            Peer {
                name: name.to_string(),
                serving,
                status: status.to_string(),
                last: now.mono,
            },
        );
        if new {
            let role = if serving { "serving" } else { "standby" };
            let text = format!("connector {name} {instance} heard ({role})");
            self.record.note(Level::Info, text);
        }
    }

    /// Keeps the console's list of calls current.
    pub(super) fn remember_call(&mut self, d: &DialogInfo) {
        let e = self.agents.entry(d.agent.clone()).or_default();
        let was = if d.ended || d.agent_state == "DROPPED" {
            e.calls.remove(&d.id)
        } else {
            e.calls.insert(d.id.clone(), d.clone())
        };
        self.record.call_changed(was.as_ref(), d);
    }

    /// The connector's view of Finesse, for the console.
    pub fn finesse_status(&self) -> FinesseStatus {
        FinesseStatus {
            in_service: self.finesse.up,
            node: self.node(),
            detail: self.finesse.detail.clone(),
            drivers: self.drivers.len(),
        }
    }

    /// Notes a SystemInfo check of node `idx`, and an event when its status changed.
    pub(super) fn node_checked(&mut self, idx: usize, in_service: bool, detail: String) {
        let unix = self.record.unix;
        let changed = self.record.nodes[idx]
            .as_ref()
            .is_none_or(|c| c.in_service != in_service);
        if changed {
            let level = if in_service {
                Level::Info
            } else {
                Level::Error
            };
            self.record.note(level, detail.clone());
        }
        self.record.nodes[idx] = Some(NodeCheck {
            in_service,
            detail,
            unix,
        });
    }

    /// The driver instances, by reply queue.
    pub(crate) fn drivers(&self) -> &HashMap<String, DriverSeen> {
        &self.drivers
    }

    /// The console's and the metrics' records.
    pub(crate) fn record(&self) -> &Record {
        &self.record
    }

    /// The configured Finesse nodes, primary first, and the index of the one in use.
    pub(crate) fn nodes(&self) -> (&[String], usize) {
        (&self.cfg.nodes, self.finesse.active)
    }

    /// This connector's instance id.
    pub(crate) fn instance(&self) -> &str {
        &self.cfg.instance
    }

    /// This connector's name.
    pub(crate) fn name(&self) -> &str {
        &self.cfg.name
    }

    /// Whether the driver instance of queue `q` is silent (as of the last input).
    pub(crate) fn driver_silent(&self, q: &str) -> bool {
        let (Some(d), Some(now)) = (self.drivers.get(q), self.record.mono) else {
            return false;
        };
        d.silent(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(id: &str, re: Option<&str>, msg: Message) -> Envelope {
        let mut e = Envelope::new(id, msg);
        e.re = re.map(str::to_string);
        e
    }

    #[test]
    fn outcomes_are_counted_at_the_first_answer_and_events_apart() {
        let mut r = Record::default();
        r.served(&env(
            "r1",
            None,
            Message::Snapshot {
                agent: "1001".into(),
            },
        ));
        r.served(&env(
            "r2",
            None,
            Message::Disconnect {
                agent: "1001".into(),
            },
        ));
        let err = Message::Error {
            agent: None,
            code: "x".into(),
            message: "y".into(),
            dialog: None,
        };
        r.sent(&env("c1", Some("r1"), err.clone()));
        r.sent(&env("c2", Some("r1"), Message::Accepted {}));
        r.sent(&env("c3", None, err));
        let c = &r.counters;
        assert_eq!(c.requests.get(&("Snapshot", "error")), Some(&1));
        assert_eq!(
            c.requests.get(&("Snapshot", "ok")),
            None,
            "one answer counted"
        );
        assert_eq!(c.requests.get(&("Disconnect", "ok")), Some(&1));
        assert_eq!(c.relayed.get("Error"), Some(&1));
    }

    #[test]
    fn events_are_capped_oldest_first() {
        let mut r = Record::default();
        for i in 0..MAX_EVENTS + 5 {
            r.note(Level::Info, format!("e{i}"));
        }
        assert_eq!(r.events.len(), MAX_EVENTS);
        assert_eq!(r.events.front().unwrap().text, "e5");
    }

    #[test]
    fn requests_never_answered_stay_bounded() {
        let mut r = Record::default();
        for i in 0..MAX_IN_FLIGHT + 10 {
            r.served(&env(
                &format!("r{i}"),
                None,
                Message::Snapshot { agent: "1".into() },
            ));
        }
        assert_eq!(r.in_flight.len(), MAX_IN_FLIGHT);
        assert_eq!(r.in_flight_order.len(), MAX_IN_FLIGHT);
    }
}
