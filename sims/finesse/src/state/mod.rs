//! The simulated contact center: agents, dialogs, and Finesse's rules (UCCE and UCCX) for agent
//! state changes and call control. Every accepted change yields the notifications to publish.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::{AgentConfig, ReasonCode, SimConfig};
use crate::render;

mod actions;
mod agents;
mod dialogs;
mod supervise;
mod transfer;
pub use supervise::SUPERVISOR_MONITOR;

/// An agent state as Finesse names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentState {
    /// Signed out.
    Logout,
    /// Signed in, not available for routed calls.
    NotReady,
    /// Available for routed calls.
    Ready,
    /// A routed call is alerting.
    Reserved,
    /// On a call.
    Talking,
    /// All calls held (UCCE).
    Hold,
    /// Wrap-up, then NOT_READY.
    Work,
    /// Wrap-up, then READY.
    WorkReady,
}

impl AgentState {
    /// The Finesse name.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::Logout => "LOGOUT",
            AgentState::NotReady => "NOT_READY",
            AgentState::Ready => "READY",
            AgentState::Reserved => "RESERVED",
            AgentState::Talking => "TALKING",
            AgentState::Hold => "HOLD",
            AgentState::Work => "WORK",
            AgentState::WorkReady => "WORK_READY",
        }
    }
}

/// A failure answered to a request (synchronously as an HTTP error, or asynchronously as an
/// `<apiErrors>` notification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Finesse's error type (`Invalid State`, `Invalid Input`, …).
    pub error_type: String,
    /// A human-readable message.
    pub message: String,
    /// What the error is about (a state, a parameter, an action).
    pub data: String,
    /// The peripheral (CTI) error code of an asynchronous failure.
    pub peripheral_code: String,
}

impl ApiError {
    /// An error with `status`, `error_type`, `message` and `data`.
    pub fn new(
        status: u16,
        error_type: &str,
        message: impl Into<String>,
        data: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            error_type: error_type.into(),
            message: message.into(),
            data: data.into(),
            peripheral_code: String::new(),
        }
    }

    fn invalid_state(message: impl Into<String>, data: &str) -> Self {
        Self::new(400, "Invalid State", message, data)
    }

    fn invalid_input(message: impl Into<String>, data: &str) -> Self {
        Self::new(400, "Invalid Input", message, data)
    }

    /// `value` when it is given and not empty; otherwise "`param` is required".
    fn required<'a>(value: Option<&'a str>, param: &str) -> Result<&'a str, Self> {
        value
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Self::missing(param))
    }

    fn missing(param: &str) -> Self {
        Self::new(
            400,
            "Parameter Missing",
            format!("{param} is required"),
            param,
        )
    }
}

/// An agent and its live state.
#[derive(Debug, Clone)]
pub struct Agent {
    /// The configured user.
    pub config: AgentConfig,
    /// The current state.
    pub state: AgentState,
    /// When the state last changed (ISO 8601, UTC).
    pub state_change_time: String,
    /// A state requested during a call, applied when the call ends.
    pub pending: Option<AgentState>,
    /// The reason code of the pending NOT_READY.
    pending_reason: Option<String>,
    /// The current reason code id (NOT_READY, LOGOUT).
    pub reason_code_id: Option<String>,
    /// The extension signed in with (empty when signed out).
    pub extension: String,
    /// The state before the current calls began (None when not on a call).
    pre_call: Option<AgentState>,
    /// When the agent last became READY (for longest-available routing).
    ready_since: u128,
    /// The teams this user supervises (role Supervisor); empty for an agent.
    pub supervised_teams: Vec<String>,
}

/// A participant (call leg) of a dialog.
#[derive(Debug, Clone)]
pub struct Participant {
    /// Extension or phone number.
    pub media_address: String,
    /// The agent behind this leg, when it is one of ours.
    pub agent_id: Option<String>,
    /// ALERTING, ACTIVE, HELD, INITIATING, INITIATED, DROPPED, FAILED, WRAP_UP.
    pub state: String,
    /// When the leg started.
    pub start_time: String,
    /// When the leg's state last changed.
    pub state_change_time: String,
    /// Why a FAILED leg failed (BUSY, BAD_DESTINATION, OTHER); empty otherwise.
    pub state_cause: String,
}

/// A call (Finesse Dialog) as one agent sees it.
#[derive(Debug, Clone)]
pub struct Dialog {
    /// The dialog id.
    pub id: String,
    /// The agent whose dialog this is.
    pub agent_id: String,
    /// Calling address.
    pub from: String,
    /// Called address.
    pub to: String,
    /// INITIATING, INITIATED, ALERTING, ACTIVE, DROPPED, FAILED.
    pub state: String,
    /// ACD_IN, PREROUTE_ACD_IN, OUT, CONSULT, …
    pub call_type: String,
    /// DNIS.
    pub dnis: String,
    /// The dialed number.
    pub dialed_number: String,
    /// The queue (skill group / CSQ) name.
    pub queue_name: String,
    /// The queue number.
    pub queue_number: String,
    /// The wrap-up reason set with UPDATE_CALL_DATA.
    pub wrap_up_reason: String,
    /// callVariable1…callVariable10.
    pub call_variables: BTreeMap<String, String>,
    /// ECC variables (`user.*`).
    pub ecc: BTreeMap<String, String>,
    /// The legs: the agent's first, then the far end(s).
    pub participants: Vec<Participant>,
    /// The linked dialog (consult call and its original).
    pub associated: Option<String>,
    /// Routed by the contact center (ACD) rather than dialed directly.
    pub routed: bool,
    /// The other agent's dialog of the same call, when the far end is another agent of the
    /// simulator (each side names the other's; a conference names the other agent's).
    pub peer: Option<String>,
    /// This agent was called by another agent of the simulator (consult or make call): its state
    /// follows the call (also in UCCX), RESERVED while alerting only when it was READY.
    pub called_by_agent: bool,
    /// After a transfer or conference: the id of the call merged away.
    pub secondary_id: String,
    /// callKeyCallId: the call's id at the peripheral.
    pub call_key: u64,
    /// A supervisor's silent monitoring call: the agent's dialog it monitors.
    pub monitored: Option<String>,
}

impl Dialog {
    /// Takes over the call data of `call`, another dialog of the same call: DNIS, dialed
    /// number, queue, call variables and ECC variables.
    fn copy_call_data(&mut self, call: &Dialog) {
        self.dnis.clone_from(&call.dnis);
        self.dialed_number.clone_from(&call.dialed_number);
        self.queue_name.clone_from(&call.queue_name);
        self.queue_number.clone_from(&call.queue_number);
        self.call_variables.clone_from(&call.call_variables);
        self.ecc.clone_from(&call.ecc);
    }

    fn agent_leg(&self) -> &Participant {
        &self.participants[0]
    }

    fn agent_leg_mut(&mut self) -> &mut Participant {
        &mut self.participants[0]
    }

    fn is_consult(&self) -> bool {
        self.call_type == "CONSULT"
    }

    /// The call has ended and its agent is wrapping up (agent leg WRAP_UP): the dialog stays in
    /// the agent's list, only UPDATE_CALL_DATA is allowed, and it is deleted when the agent
    /// leaves WORK/WORK_READY.
    pub fn in_wrap_up(&self) -> bool {
        self.agent_leg().state == WRAP_UP
    }

    /// The call failed (busy, bad destination, other): the dialog stays until the agent drops
    /// it, and it is no call for the agent's state rules.
    pub fn failed(&self) -> bool {
        self.state == FAILED
    }
}

/// One notification to publish: the node and the `<Update>` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// The pubsub node (`/finesse/api/User/{id}` or `…/Dialogs`).
    pub node: String,
    /// The `<Update>` XML.
    pub update: String,
}

/// A PUT /User/{id} request.
#[derive(Debug, Clone, Default)]
pub struct StateRequest {
    /// The requested state name.
    pub state: String,
    /// The extension (LOGIN).
    pub extension: Option<String>,
    /// The reason code id (NOT_READY, LOGOUT).
    pub reason_code_id: Option<String>,
}

/// A PUT /Dialog/{id} request.
#[derive(Debug, Clone, Default)]
pub struct DialogRequest {
    /// The requested action.
    pub action: String,
    /// The destination (TRANSFER_SST, CONSULT_CALL).
    pub to_address: Option<String>,
    /// DTMF digits (SEND_DTMF).
    pub dtmf: Option<String>,
    /// Call variables and ECC variables to set (UPDATE_CALL_DATA).
    pub call_variables: Vec<(String, String)>,
    /// The wrap-up reason to set (UPDATE_CALL_DATA).
    pub wrap_up_reason: Option<String>,
}

/// An inbound call placed through the admin API.
#[derive(Debug, Clone, Default)]
pub struct InboundCall {
    /// Deliver to this agent…
    pub to_agent: Option<String>,
    /// …or route to a READY agent of this queue.
    pub queue: Option<String>,
    /// Caller's number.
    pub ani: String,
    /// Dialed number.
    pub dnis: String,
    /// callVariable1..10.
    pub call_variables: BTreeMap<String, String>,
    /// user.* ECC variables.
    pub ecc: BTreeMap<String, String>,
    /// The call type (default ACD_IN).
    pub call_type: String,
}

/// All simulated state, guarded by one lock in the server.
#[derive(Debug)]
pub struct Sim {
    /// The configuration.
    pub config: SimConfig,
    /// Agents by id.
    pub agents: BTreeMap<String, Agent>,
    /// Live dialogs by id.
    pub dialogs: BTreeMap<String, Dialog>,
    next_dialog: u64,
    next_call_key: u64,
    /// Whether Finesse is OUT_OF_SERVICE.
    pub out_of_service: bool,
    /// Whether Finesse is PARTIAL_SERVICE (a dependent service is down; REST answers 503).
    pub partial_service: bool,
    /// The next `count` REST requests fail with `status`.
    pub rest_failure: Option<(u16, u32)>,
}

const LIVE_STATES: [&str; 5] = ["INITIATING", "INITIATED", "ALERTING", "ACTIVE", "HELD"];

/// The agent leg of a dialog whose call ended while its agent went to wrap-up.
const WRAP_UP: &str = "WRAP_UP";

/// A dialog (and its agent leg) whose call failed.
const FAILED: &str = "FAILED";

/// The system reason code of an agent moved from READY to NOT_READY by a MAKE_CALL (UCCE
/// 12.5(1) and later).
pub const MAKE_CALL_REASON: &str = "50006";

impl Sim {
    /// A simulator with every agent signed out.
    pub fn new(config: SimConfig) -> Sim {
        let now = timestamp();
        let agents = config
            .agents
            .iter()
            .map(|c| {
                let agent = Agent {
                    config: c.clone(),
                    state: AgentState::Logout,
                    state_change_time: now.clone(),
                    pending: None,
                    pending_reason: None,
                    reason_code_id: None,
                    extension: String::new(),
                    pre_call: None,
                    ready_since: 0,
                    supervised_teams: Vec::new(),
                };
                (c.id.clone(), agent)
            })
            .collect();
        // Dialog ids look like Finesse's numeric call ids; distinct sims start apart.
        let seed = (now_millis() % 1_000_000) as u64 * 100;
        Sim {
            config,
            agents,
            dialogs: BTreeMap::new(),
            next_dialog: 16_000_000 + seed,
            next_call_key: 0,
            out_of_service: false,
            partial_service: false,
            rest_failure: None,
        }
    }

    /// The status SystemInfo reports: OUT_OF_SERVICE, PARTIAL_SERVICE or IN_SERVICE.
    pub fn status(&self) -> &'static str {
        if self.out_of_service {
            "OUT_OF_SERVICE"
        } else if self.partial_service {
            "PARTIAL_SERVICE"
        } else {
            "IN_SERVICE"
        }
    }

    /// The reason code with database id `id`, in either category.
    pub fn reason(&self, id: &str) -> Option<&ReasonCode> {
        self.config
            .not_ready_reasons
            .iter()
            .chain(&self.config.logout_reasons)
            .find(|r| r.id == id)
    }

    /// The agent's dialogs, oldest first: its calls, and the dialogs of ended calls it is
    /// wrapping up (agent leg WRAP_UP).
    pub fn agent_dialogs<'a>(&'a self, agent_id: &'a str) -> impl Iterator<Item = &'a Dialog> + 'a {
        self.dialogs
            .values()
            .filter(move |d| d.agent_id == agent_id)
    }

    /// The agent's calls (its dialogs but those in wrap-up), oldest first.
    fn live_dialogs<'a>(&'a self, agent_id: &'a str) -> impl Iterator<Item = &'a Dialog> + 'a {
        self.agent_dialogs(agent_id)
            .filter(|d| !d.in_wrap_up() && !d.failed())
    }

    /// Deletes the agent's wrap-up dialogs (a DELETE each) unless it is still in WORK or
    /// WORK_READY.
    fn close_wrap_up(&mut self, agent_id: &str, request_id: &str) -> Vec<Publish> {
        let wrapping = self
            .agents
            .get(agent_id)
            .is_some_and(|a| matches!(a.state, AgentState::Work | AgentState::WorkReady));
        if wrapping {
            return Vec::new();
        }
        let ids: Vec<String> = self
            .agent_dialogs(agent_id)
            .filter(|d| d.in_wrap_up())
            .map(|d| d.id.clone())
            .collect();
        let mut out = Vec::new();
        for id in ids {
            if let Some(d) = self.dialogs.remove(&id) {
                out.push(self.dialog_publish(&d, "DELETE", request_id));
            }
        }
        out
    }

    fn user_publish(&self, agent_id: &str, request_id: &str) -> Publish {
        let agent = &self.agents[agent_id];
        let data = render::user(self, agent, "user");
        Publish {
            node: render::user_uri(agent_id),
            update: render::update(&data, "PUT", request_id, &render::user_uri(agent_id)),
        }
    }

    fn dialog_publish(&self, d: &Dialog, event: &str, request_id: &str) -> Publish {
        let node = render::dialogs_uri(&d.agent_id);
        let update = if event == "PUT" {
            render::update(
                &render::dialog(self, d, "dialog"),
                "PUT",
                request_id,
                &render::dialog_uri(&d.id),
            )
        } else {
            let data = format!("<dialogs>{}</dialogs>", render::dialog(self, d, "Dialog"));
            render::update(&data, event, request_id, &node)
        };
        Publish { node, update }
    }

    /// A PUT of the original call of consult dialog `consult_id` (its TRANSFER/CONFERENCE
    /// actions follow the consult call's state); nothing for another dialog.
    fn original_publish(&self, consult_id: &str, request_id: &str) -> Vec<Publish> {
        self.dialogs
            .get(consult_id)
            .filter(|c| c.is_consult())
            .and_then(|c| self.dialogs.get(c.associated.as_deref()?))
            .map(|o| self.dialog_publish(o, "PUT", request_id))
            .into_iter()
            .collect()
    }

    /// The notification of an asynchronous failure of an action on dialog `dialog_id`: on the
    /// agent's Dialogs node, with the dialog's uri as `source` (as Finesse sends it).
    pub fn error_publish(
        &self,
        agent_id: &str,
        dialog_id: &str,
        error: &ApiError,
        request_id: &str,
    ) -> Publish {
        let node = render::dialogs_uri(agent_id);
        let source = render::dialog_uri(dialog_id);
        Publish {
            update: render::update(&render::async_api_errors(error), "PUT", request_id, &source),
            node,
        }
    }
}

fn set_state(agent: &mut Agent, state: AgentState, reason: Option<String>) {
    if state == AgentState::Ready && agent.state != AgentState::Ready {
        agent.ready_since = now_millis();
    }
    agent.state = state;
    agent.reason_code_id = reason;
    agent.state_change_time = timestamp();
    if matches!(
        state,
        AgentState::Logout | AgentState::Ready | AgentState::NotReady
    ) && agent.pre_call.is_none()
    {
        agent.pending = None;
        agent.pending_reason = None;
    }
}

fn set_leg(p: &mut Participant, state: &str) {
    p.state = state.to_string();
    p.state_change_time = timestamp();
}

/// A dialable address: digits, optionally with a leading `+`, `*` and `#`.
fn valid_address(to: &str) -> bool {
    let digits = to.strip_prefix('+').unwrap_or(to);
    !digits.is_empty()
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
}

fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// The current time as Finesse writes it: `2024-05-01T12:34:56.789Z`.
pub fn timestamp() -> String {
    format_millis(now_millis())
}

fn format_millis(ms: u128) -> String {
    let secs = (ms / 1000) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests;
