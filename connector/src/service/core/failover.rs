//! Finesse nodes: SystemInfo checks every `poll_every`, and failover. A check asks the node in
//! use first, then the others in order; the first one `IN_SERVICE` is used. Switching to
//! another node moves every notification session there and reads every owned agent again;
//! with no node in service the connector is out of service, with the reason as detail. A
//! change of status is broadcast once on the status topic.
//!
//! Cisco's "Failure Scenarios": a node whose `finesse` XMPP user goes unavailable (its web
//! application or Tomcat down) is out of service at once, without waiting for a check; it is
//! skipped by checks until an agent's session there sees that user available again, which
//! starts a check at once (SystemInfo must confirm IN_SERVICE).

use std::time::Instant;

use driver::clock::Now;

use super::{Core, RestAnswer, RestCall, Waiter};
use crate::rest::RestError;
use crate::xml::SystemInfo;

/// What the core knows of the Finesse nodes.
pub(super) struct Finesse {
    /// Index of the node in use.
    pub(super) active: usize,
    /// Whether that node is in service.
    pub(super) up: bool,
    /// Human detail of the status.
    pub(super) detail: String,
    /// Last SystemInfo of the node in use.
    pub(super) system: SystemInfo,
    /// When the next check is due (`None` while one runs).
    due: Option<Instant>,
    /// The check under way.
    probe: Option<Probe>,
    /// The node whose `finesse` XMPP user is unavailable, as the sessions there last saw it.
    presence_down: Option<usize>,
}

/// A check under way: the nodes to ask in order, which one is asked now, the last failure.
struct Probe {
    order: Vec<usize>,
    pos: usize,
    last_err: String,
    /// Check again as soon as this one ends (news came in meanwhile).
    again: bool,
}

impl Finesse {
    pub(super) fn new(now: Instant) -> Finesse {
        Finesse {
            active: 0,
            up: false,
            detail: "checking Cisco Finesse".into(),
            system: SystemInfo::default(),
            due: Some(now),
            probe: None,
            presence_down: None,
        }
    }
}

impl Core {
    /// Starts a check if one is due.
    pub(super) fn poll_if_due(&mut self, now: Now) {
        if self.stopping || self.finesse.probe.is_some() {
            return;
        }
        if self.finesse.due.is_some_and(|d| now.mono >= d) {
            self.finesse.due = None;
            let n = self.cfg.nodes.len();
            let active = self.finesse.active;
            self.finesse.probe = Some(Probe {
                order: (0..n).map(|i| (active + i) % n).collect(),
                pos: 0,
                last_err: String::new(),
                again: false,
            });
            self.ask_next_node(now);
        }
    }

    /// Asks the next node of the check; a node whose `finesse` user is unavailable is not
    /// asked (Cisco: wait for its presence first) and counts as failed.
    fn ask_next_node(&mut self, now: Now) {
        loop {
            let Some(p) = self.finesse.probe.as_mut() else {
                return;
            };
            let idx = p.order[p.pos];
            let node = self.cfg.nodes[idx].clone();
            if self.finesse.presence_down != Some(idx) {
                let creds = self.cfg.admin.clone();
                self.issue(RestCall::SystemInfo { node, creds }, Waiter::Probe);
                return;
            }
            p.last_err = presence_reason(&node);
            p.pos += 1;
            if p.pos == p.order.len() {
                let Some(p) = self.finesse.probe.take() else {
                    return;
                };
                self.no_node(now, p.last_err);
                return;
            }
        }
    }

    /// Input (from an agent's session on the node in use): the node's `finesse` XMPP user
    /// became available or unavailable.
    pub(super) fn finesse_presence(&mut self, now: Now, available: bool) {
        let idx = self.finesse.active;
        let node = self.cfg.nodes[idx].clone();
        if available {
            if self.finesse.presence_down.take().is_some() {
                tracing::info!("Finesse {node}: the finesse user is available again; checking");
                self.check_now(now);
            }
            return;
        }
        if self.finesse.presence_down == Some(idx) {
            return;
        }
        self.finesse.presence_down = Some(idx);
        let reason = presence_reason(&node);
        tracing::warn!("{reason}");
        self.record.note(super::Level::Warn, reason.clone());
        self.node_checked(idx, false, reason.clone());
        let was_up = self.finesse.up;
        self.finesse.up = false;
        self.finesse.detail = reason;
        if was_up {
            self.broadcast_status();
        }
        // Another node may serve: look now rather than at the next check.
        self.check_now(now);
    }

    /// Starts a check now (after the one under way, if any).
    fn check_now(&mut self, now: Now) {
        match self.finesse.probe.as_mut() {
            Some(p) => p.again = true,
            None => self.finesse.due = Some(now.mono),
        }
        self.poll_if_due(now);
    }

    /// The answer of the node asked last.
    pub(super) fn probe_answer(&mut self, now: Now, answer: Result<RestAnswer, RestError>) {
        let Some(mut probe) = self.finesse.probe.take() else {
            return;
        };
        if self.stopping {
            return;
        }
        let idx = probe.order[probe.pos];
        let node = self.cfg.nodes[idx].clone();
        match answer {
            // Its `finesse` user went unavailable while the check ran.
            _ if self.finesse.presence_down == Some(idx) => probe.last_err = presence_reason(&node),
            Ok(RestAnswer::SystemInfo(info)) if info.status == "IN_SERVICE" => {
                self.node_checked(idx, true, format!("Finesse {node} in service"));
                self.in_service(idx, info);
                self.finesse.due = Some(self.next_check(now, probe.again));
                return;
            }
            Ok(RestAnswer::SystemInfo(info)) => {
                probe.last_err = format!("Finesse {node} is {}", info.status)
            }
            other => probe.last_err = crate::check::finesse_failure(&node, super::failure(other)),
        }
        self.node_checked(idx, false, probe.last_err.clone());
        probe.pos += 1;
        if probe.pos < probe.order.len() {
            self.finesse.probe = Some(probe);
            self.ask_next_node(now);
            return;
        }
        let again = probe.again;
        self.no_node(now, probe.last_err);
        if again {
            self.finesse.due = Some(now.mono);
        }
    }

    /// When the next check is due: now when news came in during the last one.
    fn next_check(&self, now: Now, again: bool) -> Instant {
        if again {
            now.mono
        } else {
            now.mono + self.cfg.poll_every
        }
    }

    /// No node is in service: out of service with the last reason.
    fn no_node(&mut self, now: Now, last_err: String) {
        self.finesse.due = Some(now.mono + self.cfg.poll_every);
        let was_up = self.finesse.up;
        self.finesse.up = false;
        // Logged from the first attempt, and again whenever the reason changes.
        if was_up || self.finesse.detail != last_err {
            tracing::warn!("Finesse unavailable: {last_err}");
        }
        self.finesse.detail = last_err;
        if was_up {
            self.broadcast_status();
        }
    }

    fn in_service(&mut self, idx: usize, info: SystemInfo) {
        let node = self.cfg.nodes[idx].clone();
        let switched = self.finesse.active != idx;
        let changed = !self.finesse.up || switched;
        self.finesse.active = idx;
        self.finesse.up = true;
        self.finesse.detail = format!("Finesse {node} in service");
        self.finesse.system = info;
        if switched {
            // The sessions leave the old node: its `finesse` user is no longer seen.
            self.finesse.presence_down = None;
            tracing::warn!("Finesse failover: now using {node}");
            let text = format!("Finesse failover: now using {node}");
            self.record.note(super::Level::Warn, text);
            self.resnapshot();
        }
        self.start_sessions(switched);
        if changed {
            tracing::info!("Finesse {node} is in service");
            self.broadcast_status();
        }
    }
}

/// Why a node whose `finesse` XMPP user is unavailable is out of service.
fn presence_reason(node: &str) -> String {
    format!("Finesse {node} is down (its finesse XMPP user is unavailable)")
}
