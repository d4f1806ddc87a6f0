//! What the monitor console and `/metrics` show of the core: agents, calls, driver
//! instances, Finesse nodes, connector peers, recent events, and the gauges.

use std::collections::BTreeMap;

use driver::protocol::AgentState;

use super::core::{Core, Event, Notes};
use crate::metrics::Gauges;

/// A view of one agent for the console.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AgentView {
    pub id: String,
    /// First and last name, as Finesse gives them.
    pub name: String,
    pub state: String,
    /// The state that applies when the call ends (empty: none).
    pub pending_state: String,
    /// The reason label (from the user document or the reason codes seen); empty for none.
    pub reason: String,
    pub extension: String,
    /// The owning driver instance's queue (empty: no Siebel session owns the agent).
    pub driver: String,
    /// The owning driver instance's host and client id (the Siebel server).
    pub server: String,
    /// The notification session is up.
    pub notifications: bool,
    /// When the state began (Unix milliseconds), if Finesse said.
    pub since_ms: Option<i64>,
    /// Why the row may not show the truth (empty: current).
    pub stale: String,
}

/// A view of one call for the console.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CallView {
    pub agent: String,
    pub id: String,
    /// The agent's participant state (ALERTING, ACTIVE, HELD...).
    pub state: String,
    /// The dialog's state.
    pub dialog_state: String,
    pub from: String,
    pub to: String,
    pub call_type: String,
    /// Every party's address: the agent's extension first, then the others.
    pub participants: Vec<String>,
    /// When the agent's participation began (Unix milliseconds), if Finesse said.
    pub started_ms: Option<i64>,
}

/// A view of one driver instance (a Siebel server's driver) for the console.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DriverView {
    pub queue: String,
    pub client_id: String,
    pub host: String,
    pub product: String,
    /// The agents it owns.
    pub agents: Vec<String>,
    /// Its last message (Unix seconds).
    pub last_seen: u64,
    /// It stopped announcing itself: gone, or cut off from the broker.
    pub silent: bool,
}

/// A view of one Finesse node.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodeView {
    pub url: String,
    /// `primary` or `secondary`.
    pub role: &'static str,
    /// The connector uses this node.
    pub active: bool,
    /// The last check's answer (`None`: not checked yet).
    pub in_service: Option<bool>,
    pub detail: String,
    /// When it was checked (Unix seconds).
    pub checked: Option<u64>,
}

/// A connector of this cluster: this one, those that publish their status (serving) and
/// the standbys that probe this one.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PeerView {
    pub instance: String,
    /// `connector.name` (empty for a standby heard only by its probes).
    pub name: String,
    /// `active` (serves the request queue) or `standby`.
    pub role: &'static str,
    /// A serving connector's last status (`IN_SERVICE`, `OUT_OF_SERVICE`).
    pub status: String,
    /// This process.
    pub this: bool,
}

/// Everything the console shows of the core, read under its lock at once.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CoreView {
    pub agents: Vec<AgentView>,
    pub calls: Vec<CallView>,
    pub driver_instances: Vec<DriverView>,
    pub nodes: Vec<NodeView>,
    pub peers: Vec<PeerView>,
    /// Newest first.
    pub events: Vec<Event>,
}

/// Unix milliseconds of an ISO 8601 UTC time (`2026-11-27T17:00:05.123Z`, offset `+00:00`
/// or none); `None` for anything else.
pub(crate) fn iso_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = s.split_once('T')?;
    let time = time
        .strip_suffix('Z')
        .or_else(|| time.strip_suffix("+00:00"))
        .unwrap_or(time);
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    if d.next().is_some()
        || t.next().is_some()
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&day)
    {
        return None;
    }
    let ms = match frac.get(..3.min(frac.len())) {
        Some("") | None => 0,
        Some(f) => f.parse::<i64>().ok()? * 10_i64.pow(3 - f.len() as u32),
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000 + ms)
}

impl Core {
    /// The calls, by agent, for the console.
    pub(crate) fn call_views(&self) -> Vec<CallView> {
        let mut v: Vec<CallView> = self
            .agents
            .iter()
            .flat_map(|(agent, a)| {
                let own = a.info.as_ref().and_then(|i| i.extension.clone());
                a.calls.values().map(move |d| CallView {
                    agent: agent.clone(),
                    id: d.id.clone(),
                    state: d.agent_state.clone(),
                    dialog_state: d.state.clone(),
                    from: d.from_address.clone(),
                    to: d.to_address.clone(),
                    call_type: d.call_type.clone(),
                    participants: own
                        .iter()
                        .chain(d.participants.iter().filter(|p| Some(*p) != own.as_ref()))
                        .cloned()
                        .collect(),
                    started_ms: d.start_time.as_deref().and_then(iso_ms),
                })
            })
            .collect();
        v.sort_by(|a, b| (&a.agent, &a.id).cmp(&(&b.agent, &b.id)));
        v
    }

    /// The agents, sorted by id, for the console.
    pub(crate) fn agent_views(&self) -> Vec<AgentView> {
        let labels = &self.record().reason_labels;
        let finesse_up = self.finesse_status().in_service;
        let mut v: Vec<AgentView> = self
            .agents
            .iter()
            .map(|(id, a)| {
                let i = a.info.clone().unwrap_or_default();
                let state = i.state.unwrap_or(AgentState::Unknown);
                let code = i.reason_code.filter(|c| !c.is_empty() && c != "-1");
                let reason = i
                    .reason_label
                    .or_else(|| code.as_ref().and_then(|c| labels.get(c).cloned()))
                    .or_else(|| code.map(|c| format!("code {c}")))
                    .unwrap_or_default();
                let name = [i.first_name, i.last_name]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                let notifications = matches!(a.notes, Notes::Up(_));
                let logged_in = !matches!(state, AgentState::Logout | AgentState::Unknown);
                let owner = a.reply_to.as_ref().and_then(|q| self.drivers().get(q));
                let stale = if !finesse_up {
                    "Finesse out of service: last known state"
                } else if self.driver_silent(a.reply_to.as_deref().unwrap_or_default()) && logged_in
                {
                    "its driver instance is silent: Siebel server gone?"
                } else if a.reply_to.is_none() && logged_in {
                    "no Siebel session: its driver disconnected"
                } else if !notifications && logged_in {
                    "notifications down: last known state"
                } else {
                    ""
                };
                let driver = a.reply_to.clone().unwrap_or_default();
                let server = owner
                    .map(|d| match (d.host.as_str(), d.client_id.as_str()) {
                        ("", c) => c.to_string(),
                        (h, "") => h.to_string(),
                        (h, c) => format!("{h} ({c})"),
                    })
                    .unwrap_or_default();
                AgentView {
                    id: id.clone(),
                    name,
                    state: state.as_str().to_string(),
                    pending_state: i
                        .pending_state
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    reason,
                    extension: i.extension.unwrap_or_default(),
                    driver,
                    server,
                    notifications,
                    since_ms: i.state_change_time.as_deref().and_then(iso_ms),
                    stale: stale.to_string(),
                }
            })
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// Everything the console shows of the core.
    pub(crate) fn console_view(&self) -> CoreView {
        let mut owned: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (id, a) in &self.agents {
            if let Some(q) = &a.reply_to {
                owned.entry(q.as_str()).or_default().push(id.clone());
            }
        }
        let mut driver_instances: Vec<DriverView> = self
            .drivers()
            .iter()
            .map(|(q, d)| {
                let mut agents = owned.get(q.as_str()).cloned().unwrap_or_default();
                agents.sort();
                DriverView {
                    queue: q.clone(),
                    client_id: d.client_id.clone(),
                    host: d.host.clone(),
                    product: d.product.clone(),
                    agents,
                    last_seen: d.last_unix,
                    silent: self.driver_silent(q),
                }
            })
            .collect();
        driver_instances.sort_by(|a, b| a.queue.cmp(&b.queue));
        let (urls, active) = self.nodes();
        let record = self.record();
        let nodes = urls
            .iter()
            .enumerate()
            .map(|(i, url)| {
                let check = record.nodes.get(i).cloned().flatten();
                NodeView {
                    url: url.clone(),
                    role: if i == 0 { "primary" } else { "secondary" },
                    active: i == active,
                    in_service: check.as_ref().map(|c| c.in_service),
                    detail: check.as_ref().map(|c| c.detail.clone()).unwrap_or_default(),
                    checked: check.map(|c| c.unix),
                }
            })
            .collect();
        let status = self.finesse_status();
        let mut peers = vec![PeerView {
            instance: self.instance().to_string(),
            name: self.name().to_string(),
            role: if self.serving() { "active" } else { "standby" },
            status: if status.in_service {
                "IN_SERVICE"
            } else {
                "OUT_OF_SERVICE"
            }
            .into(),
            this: true,
        }];
        let mut others: Vec<PeerView> = record
            .peers
            .iter()
            .filter(|(i, _)| i.as_str() != self.instance())
            .map(|(i, p)| PeerView {
                instance: i.clone(),
                name: p.name.clone(),
                role: if p.serving { "active" } else { "standby" },
                status: p.status.clone(),
                this: false,
            })
            .collect();
        others.sort_by(|a, b| a.instance.cmp(&b.instance));
        peers.extend(others);
        CoreView {
            agents: self.agent_views(),
            calls: self.call_views(),
            driver_instances,
            nodes,
            peers,
            events: record.events.iter().rev().cloned().collect(),
        }
    }

    /// The gauges of `/metrics` (the broker's state is the shell's).
    pub(crate) fn gauges(&self, broker_up: bool) -> Gauges {
        let mut g = Gauges {
            broker_up,
            finesse_up: self.finesse_status().in_service,
            serving: self.serving(),
            drivers: self.drivers().len() as u64,
            ..Gauges::default()
        };
        for a in self.agents.values() {
            let state = a
                .info
                .as_ref()
                .and_then(|i| i.state)
                .unwrap_or(AgentState::Unknown);
            *g.agents_by_state.entry(state.as_str().into()).or_default() += 1;
            g.xmpp_sessions_up += u64::from(matches!(a.notes, Notes::Up(_)));
            g.calls += a.calls.len() as u64;
        }
        g
    }
}

#[cfg(test)]
mod tests {
    use super::iso_ms;

    #[test]
    fn iso_times_become_unix_milliseconds() {
        assert_eq!(iso_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(iso_ms("2000-03-01T00:00:00.5Z"), Some(951_868_800_500));
        assert_eq!(iso_ms("2026-11-27T17:00:05.123Z"), Some(1_795_798_805_123));
        assert_eq!(iso_ms("2026-11-27T17:00:05+00:00"), Some(1_795_798_805_000));
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-27",
            "2026-11-27T1:2",
        ] {
            assert_eq!(iso_ms(bad), None, "{bad}");
        }
    }
}
