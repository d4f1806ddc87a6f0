//! Connector liveness and driver identity. Serving connectors publish their status on the
//! status topic every second or so: a connector instance silent for
//! `Driver:ConnectorTimeoutMs` is gone. With another connector in service, the agents it
//! served are attached again (their message groups move to a surviving connector) and their
//! requests in flight are sent once more; with none, the agents are told at once, commands
//! that need a connector are disabled and requests in flight fail now, not after the request
//! timeout. Driver instances announce their client id on the drivers' topic, so two instances
//! configured with the same `Driver:ClientId` (which would split one event stream) see each
//! other and both stop and say why. The announces go to a topic of their own
//! ([`drivers_topic`]), so that a closed broker lets only connectors write the status.

use std::time::{Duration, Instant};

use crate::clock::Now;
use crate::link::Outbox;
use crate::messages::Msg;
use crate::protocol::{drivers_topic, Envelope, Message};
use crate::stomp::Frame;

use super::{Pending, Sessions};

/// How often a driver instance announces its client id.
pub(super) const ANNOUNCE_EVERY: Duration = Duration::from_secs(5);
/// How long after the last announce of another instance with our client id we stay stopped.
pub(super) const DUPLICATE_FORGET: Duration = Duration::from_secs(12);

/// A session whose agent moves to another connector: its id, the agent, and the requests
/// to send again.
type Move = (u64, String, Vec<(String, Pending)>);

/// A connector instance heard from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Instance {
    /// Its last status message.
    last: Instant,
    /// Its last status was IN_SERVICE.
    in_service: bool,
}

/// The header in which the broker stamps the sender's user (`populateJMSXUserID`).
pub(super) const USER_HEADER: &str = "JMSXUserID";

/// The subscription to the drivers' topic (client-id announces).
pub(super) const DRIVERS_SUB: &str = "drivers";

/// An announce counts only from our own broker login when the broker stamps one: another
/// login has another queue namespace, so it cannot share our event queue (and a driver
/// credential cannot stop other Siebel servers with fake duplicates).
pub(super) fn from_drivers_login(frame: &Frame, login: &str) -> bool {
    match frame.get(USER_HEADER) {
        Some(user) if !login.is_empty() && user != login => {
            tracing::warn!("ignored an announce from broker user {user:?}, not ours ({login:?})");
            false
        }
        _ => true,
    }
}

impl Sessions {
    /// A `System` status is believed: no `Driver:ConnectorUsers` configured, or the broker
    /// stamped one of those users on it. Anything else is logged and ignored.
    pub(super) fn system_trusted(&self, frame: &Frame) -> bool {
        let users = &self.cfg.connector_users;
        if users.is_empty() {
            return true;
        }
        let user = frame.get(USER_HEADER);
        if user.is_some_and(|u| users.iter().any(|c| c == u)) {
            return true;
        }
        tracing::warn!(
            "ignored a System status from broker user {:?}, not one of Driver:ConnectorUsers",
            user.unwrap_or("(none)")
        );
        false
    }

    /// Some connector instance is in service.
    pub(super) fn in_service(&self) -> bool {
        self.connectors.values().any(|i| i.in_service)
    }

    /// Why commands are refused while offline: the code and the text.
    pub(super) fn offline_reason(&self) -> (&'static str, Msg) {
        if self.duplicate.is_some() {
            (
                "DuplicateClientId",
                Msg::DuplicateClientId(self.cfg.client_id.clone()),
            )
        } else if self.lost {
            ("ConnectorDown", Msg::ConnectorLost)
        } else {
            ("Offline", Msg::Offline)
        }
    }

    /// A connector is IN_SERVICE (a Hello answer or its heartbeat). A connector instance not
    /// in service before (a restart, the standby taking the queue) holds none of our agents:
    /// they are attached again, at once.
    pub(super) fn on_in_service(&mut self, now: Now, out: &mut Outbox, connector: &str, id: &str) {
        let key = format!("{connector}/{id}");
        let was_online = self.online();
        let known = self.connectors.get(&key).is_some_and(|i| i.in_service);
        self.connectors.insert(
            key.clone(),
            Instance {
                last: now.mono,
                in_service: true,
            },
        );
        self.out_of_service = None;
        self.hello_at = None;
        self.lost = false;
        if !self.online() {
            return;
        }
        if !known {
            tracing::info!("connector {key} in service");
        }
        if !was_online || !known {
            self.attach_all(now, out);
        }
        if !was_online {
            self.broadcast_status();
        }
    }

    /// A connector is OUT_OF_SERVICE. Only an instance that was in service changes
    /// anything: its agents move to another instance in service, or, with none left, the
    /// agents are told why. A stale OUT_OF_SERVICE of a restarted connector's predecessor
    /// is ignored while another instance serves.
    pub(super) fn on_out_of_service(
        &mut self,
        now: Now,
        out: &mut Outbox,
        connector: &str,
        id: &str,
        detail: String,
    ) {
        let key = format!("{connector}/{id}");
        let was = self.connectors.get(&key).is_some_and(|i| i.in_service);
        self.connectors.insert(
            key.clone(),
            Instance {
                last: now.mono,
                in_service: false,
            },
        );
        let news = self.out_of_service.as_deref() != Some(detail.as_str());
        if self.in_service() {
            if was {
                self.failover(now, out, &[key]);
            }
        } else if was || news {
            // Tell the agents once per change, not at every repeated status.
            tracing::warn!("connector {connector} is out of service: {detail}");
            self.out_of_service = Some(detail.clone());
            self.broadcast(&Msg::ConnectorOutOfService(detail));
        }
    }

    /// Forgets the connector instances silent for longer than `Driver:ConnectorTimeoutMs`.
    /// Not while the link has received bytes it has not handled yet (a burst of messages
    /// read a slice per turn): the silence may be ours, and the heartbeat among them.
    pub(super) fn expire_connectors(&mut self, now: Now, out: &mut Outbox) {
        let timeout = Duration::from_millis(self.cfg.connector_timeout_ms);
        if timeout.is_zero() || !self.link_up || out.backlog() {
            return;
        }
        let silent: Vec<String> = self
            .connectors
            .iter()
            .filter(|(_, i)| now.since(i.last) >= timeout)
            .map(|(k, _)| k.clone())
            .collect();
        let mut gone = Vec::new();
        for k in silent {
            if self.connectors.remove(&k).is_some_and(|i| i.in_service) {
                tracing::warn!("connector {k}: no heartbeat for {timeout:?}; it is gone");
                gone.push(k);
            }
        }
        if gone.is_empty() {
            return;
        }
        if self.in_service() {
            return self.failover(now, out, &gone);
        }
        if self.lost {
            return;
        }
        self.lost = true;
        self.hello_at = None;
        let failed: Vec<(u64, Vec<String>)> = self
            .sessions
            .iter_mut()
            .map(|(id, s)| (*id, s.pending.drain().map(|(_, p)| p.track).collect()))
            .collect();
        for (id, tracks) in failed {
            for t in tracks {
                self.fail(id, Some(&t), "ConnectorDown", &Msg::ConnectorLost);
            }
        }
        self.broadcast(&Msg::ConnectorLost);
    }

    /// Connector instances went away while others serve: the agents they served are attached
    /// again (the broker moved their message groups) and their requests in flight are sent
    /// once more.
    fn failover(&mut self, now: Now, out: &mut Outbox, gone: &[String]) {
        let hit = |by: &Option<String>| by.as_ref().is_none_or(|b| gone.contains(b));
        let mut work: Vec<Move> = Vec::new();
        for (id, s) in self.sessions.iter_mut() {
            let Some(agent) = s.agent.clone() else {
                continue;
            };
            let keys: Vec<String> = s
                .pending
                .iter()
                .filter(|(_, p)| !p.retried && p.to.as_ref().is_some_and(|t| gone.contains(t)))
                .map(|(k, _)| k.clone())
                .collect();
            let again: Vec<(String, Pending)> = keys
                .into_iter()
                .filter_map(|k| s.pending.remove(&k).map(|p| (k, p)))
                .collect();
            if hit(&s.served_by) || !again.is_empty() {
                work.push((*id, agent, again));
            }
        }
        work.sort_by_key(|w| w.0);
        for (id, agent, again) in work {
            tracing::info!("agent {agent}: its connector is gone; attaching it again");
            self.attach(now, out, &agent);
            for (_, p) in again {
                self.send_again(now, out, id, p);
            }
        }
    }

    /// Sends a pending request once more, under a new id, for the same command.
    pub(super) fn send_again(&mut self, now: Now, out: &mut Outbox, id: u64, p: Pending) {
        match self.request(now, out, p.msg.clone()) {
            Some(req) => {
                if let Some(s) = self.sessions.get_mut(&id) {
                    let to = s.served_by.clone();
                    s.pending.insert(
                        req,
                        Pending {
                            at: now.mono,
                            to,
                            retried: true,
                            ..p
                        },
                    );
                }
            }
            None => self.fail(id, Some(&p.track), "Offline", &Msg::Offline),
        }
    }

    /// Connect + Snapshot for every agent.
    pub(super) fn attach_all(&mut self, now: Now, out: &mut Outbox) {
        let mut agents: Vec<String> = self.by_agent.keys().cloned().collect();
        agents.sort();
        for a in agents {
            self.attach(now, out, &a);
        }
    }

    /// Any message of a connector instance shows it alive (an instance may serve before
    /// its first heartbeat reached us); remembers which instance sent a message about an
    /// agent.
    pub(super) fn note_sender(&mut self, now: Now, msg: &Message, from: &str) {
        let serving = self.in_service();
        match self.connectors.get_mut(from) {
            Some(i) => i.last = now.mono,
            None if serving && !matches!(msg, Message::System { .. }) => {
                self.connectors.insert(
                    from.to_string(),
                    Instance {
                        last: now.mono,
                        in_service: true,
                    },
                );
            }
            None => {}
        }
        let agent = match msg {
            Message::Agent(i) => Some(i.agent.as_str()),
            Message::Dialog(d) => Some(d.agent.as_str()),
            Message::DialogList { agent, .. } | Message::ReasonCodes { agent, .. } => {
                Some(agent.as_str())
            }
            Message::Error { agent, .. } => agent.as_deref(),
            _ => None,
        };
        if let Some(s) = agent
            .and_then(|a| self.owner(a))
            .and_then(|id| self.sessions.get_mut(&id))
        {
            s.served_by = Some(from.to_string());
        }
    }

    /// Publishes this instance's client id on the status topic.
    pub(super) fn announce(&mut self, now: Now, out: &mut Outbox) {
        let env = Envelope::new(
            self.next_id(),
            Message::Announce {
                driver: self.cfg.client_id.clone(),
                nonce: self.nonce.clone(),
            },
        );
        let frame = Frame::new("SEND")
            .header("destination", &drivers_topic(&self.cfg.request_queue))
            .header("content-type", "application/json")
            .header(
                "expires",
                &crate::stomp::expires_at(now.unix, ANNOUNCE_EVERY * 2),
            )
            .body(env.to_json());
        if out.send(frame) {
            self.announced = Some(now.mono);
        }
    }

    /// Announces again when due; forgets a duplicate that stopped announcing.
    pub(super) fn announce_if_due(&mut self, now: Now, out: &mut Outbox) {
        if !self.link_up {
            return;
        }
        if self
            .announced
            .is_none_or(|t| now.since(t) >= ANNOUNCE_EVERY)
        {
            self.announce(now, out);
        }
        if self
            .duplicate
            .as_ref()
            .is_some_and(|(_, at)| now.since(*at) >= DUPLICATE_FORGET)
        {
            tracing::warn!("the other driver instance with our client id is gone");
            self.duplicate = None;
            if self.online() {
                self.attach_all(now, out);
            }
            self.broadcast_status();
        }
    }

    /// Another driver instance announced itself: with our client id it shares our event
    /// queue and steals half our events. Both instances stop, log it and tell their agents.
    pub(super) fn on_announce(&mut self, now: Now, out: &mut Outbox, driver: &str, nonce: &str) {
        if driver != self.cfg.client_id || nonce == self.nonce {
            return;
        }
        let first = self.duplicate.as_ref().map(|d| d.0.as_str()) != Some(nonce);
        self.duplicate = Some((nonce.to_string(), now.mono));
        if !first {
            return;
        }
        tracing::error!(
            "another driver instance uses client id {driver}: its events would be split \
             between the two; give each Siebel server its own Driver:ClientId"
        );
        // Make sure the other one hears of us now, not at our next announce.
        self.announce(now, out);
        let failed: Vec<(u64, Vec<String>)> = self
            .sessions
            .iter_mut()
            .map(|(id, s)| (*id, s.pending.drain().map(|(_, p)| p.track).collect()))
            .collect();
        let msg = Msg::DuplicateClientId(driver.to_string());
        for (id, tracks) in failed {
            for t in tracks {
                self.fail(id, Some(&t), "DuplicateClientId", &msg);
            }
        }
        self.broadcast(&msg);
    }
}
