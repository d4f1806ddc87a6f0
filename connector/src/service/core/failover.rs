//! Finesse nodes: SystemInfo checks every `poll_every`, and failover. A check asks the node in
//! use first, then the others in order; the first one `IN_SERVICE` is used. Switching to
//! another node moves every notification session there and reads every owned agent again;
//! with no node in service the connector is out of service, with the reason as detail. A
//! change of status is broadcast once on the status topic.

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
}

/// A check under way: the nodes to ask in order, which one is asked now, the last failure.
struct Probe {
    order: Vec<usize>,
    pos: usize,
    last_err: String,
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
            });
            self.ask_next_node();
        }
    }

    fn ask_next_node(&mut self) {
        let Some(p) = &self.finesse.probe else {
            return;
        };
        let call = RestCall::SystemInfo {
            node: self.cfg.nodes[p.order[p.pos]].clone(),
            creds: self.cfg.admin.clone(),
        };
        self.issue(call, Waiter::Probe);
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
            Ok(RestAnswer::SystemInfo(info)) if info.status == "IN_SERVICE" => {
                self.node_checked(idx, true, format!("Finesse {node} in service"));
                self.in_service(idx, info);
                self.finesse.due = Some(now.mono + self.cfg.poll_every);
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
            self.ask_next_node();
            return;
        }
        self.finesse.due = Some(now.mono + self.cfg.poll_every);
        let was_up = self.finesse.up;
        self.finesse.up = false;
        // Logged from the first attempt, and again whenever the reason changes.
        if was_up || self.finesse.detail != probe.last_err {
            tracing::warn!("Finesse unavailable: {}", probe.last_err);
        }
        self.finesse.detail = probe.last_err.clone();
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
