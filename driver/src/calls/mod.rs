//! The calls of one agent session as Siebel work items: Finesse dialogs in, work-item calls
//! and device events out. Pure logic (no I/O): [`Calls::apply`] returns the effects the
//! session then plays on its host, in order.

use std::collections::BTreeMap;

use crate::clock::Now;
use crate::commands::{events, CallView};
use crate::protocol::DialogInfo;

/// `SCWorkItemMode`: inbound.
pub const MODE_INBOUND: i32 = 1;
/// `SCWorkItemMode`: outbound (started by the agent).
pub const MODE_OUTBOUND: i32 = 2;

/// What the host must be told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// `IndicateNewWorkItem`.
    NewWorkItem {
        /// Tracking id (the dialog id).
        tracking: String,
        /// The work item's description.
        description: String,
        /// `SCWorkItemMode`.
        mode: i32,
    },
    /// `WorkItemStarted` (the call connected: the phone call timer starts).
    Started {
        /// Tracking id.
        tracking: String,
        /// Description.
        description: String,
        /// The agent's extension.
        target: String,
        /// Start time, seconds since the epoch.
        start: i64,
    },
    /// `WorkItemSuspended`.
    Suspended(String),
    /// `WorkItemResumed`.
    Resumed(String),
    /// `WorkItemReleased` (the phone call timer stops).
    Released {
        /// Tracking id.
        tracking: String,
        /// Stop time, seconds since the epoch.
        stop: i64,
    },
    /// `HandleEvent`.
    Event {
        /// Device event name.
        name: &'static str,
        /// Fields.
        fields: Vec<(String, String)>,
        /// Work item tracking id.
        tracking: String,
    },
}

/// One call.
#[derive(Clone, Debug)]
pub struct WorkItem {
    /// The last dialog information.
    pub info: DialogInfo,
    /// Started by the agent (outbound, consult).
    pub outbound: bool,
    /// `WorkItemStarted` was sent.
    pub started: bool,
    /// On hold now.
    pub held: bool,
    /// Order of arrival (the newest call has the highest).
    pub seq: u64,
    /// When the last update for this call arrived.
    pub updated: std::time::Instant,
}

impl WorkItem {
    fn description(&self) -> String {
        if self.outbound {
            format!("Call to {}", self.info.to_address)
        } else {
            format!("Call from {}", self.info.from_address)
        }
    }
}

/// The agent's calls.
#[derive(Default, Debug)]
pub struct Calls {
    items: BTreeMap<String, WorkItem>,
    current: Option<String>,
    last_ended: Option<String>,
    seq: u64,
}

/// The call variables the configuration names, whose values become fields of their own.
#[derive(Clone, Copy, Debug, Default)]
pub struct Named<'a> {
    /// `Driver:CedVariable`: its value is the `CED` field.
    pub ced: Option<&'a str>,
    /// `Driver:ContextVariable`: its value (the Siebel context a transfer or consult
    /// carried) is the `Context` field.
    pub context: Option<&'a str>,
}

/// The fields of a call event.
pub fn call_fields(item: &WorkItem, extension: &str, named: Named) -> Vec<(String, String)> {
    let d = &item.info;
    let mut f = vec![
        ("AgentId".to_string(), d.agent.clone()),
        ("Extension".to_string(), extension.to_string()),
        ("DialogId".to_string(), d.id.clone()),
        ("ANI".to_string(), d.from_address.clone()),
        ("DNIS".to_string(), d.dnis.clone()),
        ("DialedNumber".to_string(), d.dialed_number.clone()),
        ("ToAddress".to_string(), d.to_address.clone()),
        ("CallType".to_string(), d.call_type.clone()),
        ("QueueName".to_string(), d.queue_name.clone()),
        ("QueueNumber".to_string(), d.queue_number.clone()),
        (
            "Direction".to_string(),
            if item.outbound { "Outbound" } else { "Inbound" }.to_string(),
        ),
        ("CallState".to_string(), d.agent_state.clone()),
        (
            "OtherParty".to_string(),
            if item.outbound {
                d.to_address.clone()
            } else {
                d.from_address.clone()
            },
        ),
    ];
    if let Some(a) = &d.associated {
        f.push(("AssociatedDialogId".to_string(), a.clone()));
    }
    if !d.wrap_up_reason.is_empty() {
        f.push(("WrapUpReason".to_string(), d.wrap_up_reason.clone()));
    }
    if !d.state_cause.is_empty() {
        f.push(("FailureCause".to_string(), d.state_cause.clone()));
    }
    for (name, value) in &d.variables {
        // callVariable1 -> CallVariable1; ECC variables keep Finesse's name (user.*).
        let key = match name.strip_prefix("callVariable") {
            Some(n) => format!("CallVariable{n}"),
            None => name.clone(),
        };
        f.push((key, value.clone()));
    }
    for (field, var) in [("CED", named.ced), ("Context", named.context)] {
        let value = var.and_then(|var| {
            d.variables
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(var))
        });
        if let Some((_, v)) = value.filter(|(_, v)| !v.is_empty()) {
            f.push((field.to_string(), v.clone()));
        }
    }
    f
}

impl Calls {
    /// The call the toolbar works on: the selected one, else the newest.
    pub fn current(&self) -> Option<&WorkItem> {
        self.current
            .as_ref()
            .and_then(|c| self.items.get(c))
            .or_else(|| self.newest())
    }

    /// The call that arrived last.
    fn newest(&self) -> Option<&WorkItem> {
        self.items.values().max_by_key(|w| w.seq)
    }

    /// A call by tracking id.
    pub fn get(&self, tracking: &str) -> Option<&WorkItem> {
        self.items.get(tracking)
    }

    /// Every call.
    pub fn all(&self) -> impl Iterator<Item = &WorkItem> {
        self.items.values()
    }

    /// The tracking ids of the calls.
    pub fn ids(&self) -> Vec<String> {
        self.items.keys().cloned().collect()
    }

    /// The last call that ended (for its wrap-up reason).
    pub fn last_ended(&self) -> Option<&str> {
        self.last_ended.as_deref()
    }

    /// Makes a call the current one.
    pub fn select(&mut self, tracking: &str) -> bool {
        if self.items.contains_key(tracking) {
            self.current = Some(tracking.to_string());
            true
        } else {
            false
        }
    }

    /// The view the toolbar needs.
    pub fn view(&self) -> Option<CallView> {
        let cur = self.current()?;
        // Cisco lists TRANSFER and CONFERENCE on the held original call: the consult call's
        // toolbar offers them too.
        let mut actions = cur.info.actions.clone();
        for other in self.items.values().filter(|w| w.info.id != cur.info.id) {
            let linked = other.info.associated.as_deref() == Some(cur.info.id.as_str())
                || cur.info.associated.as_deref() == Some(other.info.id.as_str());
            for a in ["TRANSFER", "CONFERENCE"] {
                if linked
                    && other.info.actions.iter().any(|x| x == a)
                    && !actions.iter().any(|x| x == a)
                {
                    actions.push(a.to_string());
                }
            }
        }
        Some(CallView {
            actions,
            alerting: cur.info.agent_state == "ALERTING",
            calls: self.items.len(),
            other_held: self
                .items
                .values()
                .any(|w| w.info.id != cur.info.id && w.held),
        })
    }

    /// Applies a dialog update; returns what to tell the host.
    pub fn apply(&mut self, d: DialogInfo, extension: &str, named: Named, now: Now) -> Vec<Effect> {
        let mut out = Vec::new();
        let id = d.id.clone();
        // WRAP_UP: the agent left the call and wraps up; the dialog stays in Finesse (for
        // its wrap-up reason) but the work item ends here.
        // A FAILED call (busy, bad destination) has not ended: it stays until the agent
        // drops it (Finesse offers DROP).
        let ended = d.ended || matches!(d.agent_state.as_str(), "DROPPED" | "WRAP_UP");
        let is_new = !self.items.contains_key(&id);
        if is_new {
            if ended || id.is_empty() {
                return out;
            }
            let outbound = d.from_address == extension
                || matches!(d.agent_state.as_str(), "INITIATING" | "INITIATED");
            self.seq += 1;
            let item = WorkItem {
                info: d.clone(),
                outbound,
                started: false,
                held: false,
                seq: self.seq,
                updated: now.mono,
            };
            out.push(Effect::NewWorkItem {
                tracking: id.clone(),
                description: item.description(),
                mode: if outbound {
                    MODE_OUTBOUND
                } else {
                    MODE_INBOUND
                },
            });
            self.items.insert(id.clone(), item);
            self.current = Some(id.clone());
        }
        let Some(item) = self.items.get_mut(&id) else {
            return out;
        };
        let before = item.info.agent_state.clone();
        item.info = d;
        item.updated = now.mono;
        let state = item.info.agent_state.clone();
        let fields = call_fields(item, extension, named);
        let event = |name| Effect::Event {
            name,
            fields: fields.clone(),
            tracking: id.clone(),
        };
        if ended {
            // Every item was announced with IndicateNewWorkItem: always release it, even a
            // call that never connected (busy, wrong number, abandoned). The event comes
            // first, while Siebel still has the work item.
            self.items.remove(&id);
            out.push(event(events::RELEASED));
            out.push(Effect::Released {
                tracking: id.clone(),
                stop: now.unix,
            });
            self.last_ended = Some(id.clone());
            if self.current.as_deref() == Some(id.as_str()) {
                self.current = self.newest().map(|w| w.info.id.clone());
            }
            return out;
        }
        if !is_new && before == state {
            return out;
        }
        match state.as_str() {
            "ALERTING" => out.push(event(events::RINGING)),
            "INITIATING" | "INITIATED" if is_new => out.push(event(events::DIALING)),
            "ACTIVE" | "HELD" => {
                // A call handed over by a transfer arrives connected, as a new dialog with
                // `secondaryId` (Cisco): it is offered like a ringing call first, so Siebel
                // pops the customer on this agent's screen.
                if is_new && !item.info.secondary_id.is_empty() {
                    out.push(event(events::RINGING));
                }
                // A call first seen connected (a snapshot) starts here too.
                if !item.started {
                    item.started = true;
                    out.push(Effect::Started {
                        tracking: id.clone(),
                        description: item.description(),
                        target: extension.to_string(),
                        start: now.unix,
                    });
                    out.push(event(events::ESTABLISHED));
                }
                if state == "HELD" && !item.held {
                    item.held = true;
                    out.push(Effect::Suspended(id.clone()));
                    out.push(event(events::HELD));
                } else if state == "ACTIVE" && item.held {
                    item.held = false;
                    out.push(Effect::Resumed(id.clone()));
                    out.push(event(events::RETRIEVED));
                }
                if state == "ACTIVE" {
                    self.current = Some(id.clone());
                }
            }
            _ => {}
        }
        out
    }

    /// Applies a full list (snapshot): updates each call and releases the calls the list
    /// lacks, except those updated after `since` (when the snapshot was asked for): their
    /// news is newer than the list.
    pub fn reconcile(
        &mut self,
        list: Vec<DialogInfo>,
        since: Option<std::time::Instant>,
        extension: &str,
        named: Named,
        now: Now,
    ) -> Vec<Effect> {
        let present: Vec<String> = list.iter().map(|d| d.id.clone()).collect();
        let gone: Vec<DialogInfo> = self
            .items
            .values()
            .filter(|w| !present.contains(&w.info.id))
            .filter(|w| since.is_none_or(|t| w.updated < t))
            .map(|w| DialogInfo {
                ended: true,
                ..w.info.clone()
            })
            .collect();
        let mut out = Vec::new();
        for d in gone.into_iter().chain(list) {
            out.extend(self.apply(d, extension, named, now));
        }
        out
    }

    /// Ends every call (the session changed agent): what to tell the host.
    pub fn end_all(&mut self, extension: &str, now: Now) -> Vec<Effect> {
        self.reconcile(Vec::new(), None, extension, Named::default(), now)
    }
}

#[cfg(test)]
mod tests;
