//! The simulated contact center: agents, dialogs, and Finesse's rules (UCCE and UCCX) for agent
//! state changes and call control. Every accepted change yields the notifications to publish.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::{AgentConfig, Deployment, ReasonCode, SimConfig};
use crate::render;

mod supervise;
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

    /// Applies PUT /User/{id}.
    pub fn change_state(
        &mut self,
        agent_id: &str,
        req: &StateRequest,
        request_id: &str,
    ) -> Result<Vec<Publish>, ApiError> {
        let deployment = self.config.deployment;
        let on_call = self.live_dialogs(agent_id).next().is_some();
        let reason = match req.reason_code_id.as_deref().filter(|r| !r.is_empty()) {
            Some(id) => {
                let category = if req.state == "LOGOUT" {
                    "LOGOUT"
                } else {
                    "NOT_READY"
                };
                match self.reason(id) {
                    Some(r)
                        if r.category == category
                            && matches!(req.state.as_str(), "NOT_READY" | "LOGOUT") =>
                    {
                        Some(id.to_string())
                    }
                    _ => {
                        return Err(ApiError::invalid_input(
                            format!("reason code {id} is not a {category} reason code"),
                            "reasonCodeId",
                        ))
                    }
                }
            }
            None => None,
        };
        let agent = self
            .agents
            .get_mut(agent_id)
            .ok_or_else(|| ApiError::new(404, "Not Found", "no such user", agent_id))?;
        let current = agent.state;
        let signed_in = current != AgentState::Logout;
        let invalid = || {
            ApiError::invalid_state(
                format!("cannot change from {} to {}", current.as_str(), req.state),
                &req.state,
            )
        };
        match req.state.as_str() {
            "LOGIN" => {
                let ext = req
                    .extension
                    .as_deref()
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .ok_or_else(|| ApiError::missing("extension"))?;
                if !ext.chars().all(|c| c.is_ascii_digit()) {
                    return Err(ApiError::new(
                        400,
                        "Bad Request",
                        "the extension is invalid",
                        ext,
                    ));
                }
                if !signed_in {
                    agent.extension = ext.to_string();
                    set_state(agent, AgentState::NotReady, None);
                }
                // Signing in again keeps the current state (Finesse forces a sign-in).
            }
            "LOGOUT" => {
                let allowed = match deployment {
                    Deployment::Ucce => current == AgentState::NotReady,
                    Deployment::Uccx => matches!(current, AgentState::NotReady | AgentState::Ready),
                };
                if !allowed || on_call {
                    return Err(invalid());
                }
                agent.extension.clear();
                set_state(agent, AgentState::Logout, reason);
            }
            "READY" | "NOT_READY" => {
                let target = if req.state == "READY" {
                    AgentState::Ready
                } else {
                    AgentState::NotReady
                };
                if !signed_in {
                    return Err(invalid());
                }
                if on_call {
                    agent.pending = Some(target);
                    agent.pending_reason = reason;
                } else {
                    let allowed = match current {
                        AgentState::NotReady => true, // NOT_READY -> NOT_READY changes the reason code
                        AgentState::Ready => target == AgentState::NotReady,
                        AgentState::Work | AgentState::WorkReady => true,
                        _ => false,
                    };
                    if !allowed {
                        return Err(invalid());
                    }
                    set_state(
                        agent,
                        target,
                        if target == AgentState::NotReady {
                            reason
                        } else {
                            None
                        },
                    );
                }
            }
            "WORK" | "WORK_READY" => {
                // UCCE agents may choose wrap-up during a call; UCCX agents set READY,
                // NOT_READY and LOGOUT only.
                if deployment == Deployment::Uccx || !on_call {
                    return Err(invalid());
                }
                agent.pending = Some(if req.state == "WORK" {
                    AgentState::Work
                } else {
                    AgentState::WorkReady
                });
                agent.pending_reason = None;
            }
            "" => return Err(ApiError::missing("state")),
            other => {
                return Err(ApiError::invalid_input(
                    format!("unknown state {other}"),
                    "state",
                ))
            }
        }
        let mut out = self.close_wrap_up(agent_id, request_id);
        out.push(self.user_publish(agent_id, request_id));
        Ok(out)
    }

    fn new_dialog_id(&mut self) -> String {
        self.next_dialog += 1;
        self.next_dialog.to_string()
    }

    /// A dialog with the agent's leg and the far end's; `legs` = (agent leg state, far leg
    /// state). The far end is the caller of an alerting (inbound) call, else the called number.
    fn new_dialog(
        &mut self,
        agent_id: &str,
        from: &str,
        to: &str,
        call_type: &str,
        legs: (&str, &str),
    ) -> Dialog {
        let (agent_leg_state, far_state) = legs;
        let far_address = if agent_leg_state == "ALERTING" {
            from
        } else {
            to
        };
        let now = timestamp();
        let extension = self.agents[agent_id].extension.clone();
        let leg = |addr: &str, agent: Option<String>, state: &str| Participant {
            media_address: addr.to_string(),
            agent_id: agent,
            state: state.to_string(),
            start_time: now.clone(),
            state_change_time: now.clone(),
            state_cause: String::new(),
        };
        self.next_call_key += 1;
        Dialog {
            id: self.new_dialog_id(),
            agent_id: agent_id.to_string(),
            from: from.to_string(),
            to: to.to_string(),
            state: agent_leg_state.to_string(),
            call_type: call_type.to_string(),
            dnis: String::new(),
            dialed_number: String::new(),
            queue_name: String::new(),
            queue_number: String::new(),
            wrap_up_reason: String::new(),
            call_variables: BTreeMap::new(),
            ecc: BTreeMap::new(),
            participants: vec![
                leg(&extension, Some(agent_id.to_string()), agent_leg_state),
                leg(far_address, None, far_state),
            ],
            associated: None,
            routed: false,
            peer: None,
            called_by_agent: false,
            secondary_id: String::new(),
            call_key: self.next_call_key,
            monitored: None,
        }
    }

    /// Applies POST /User/{id}/Dialogs (MAKE_CALL).
    pub fn make_call(
        &mut self,
        agent_id: &str,
        to: &str,
        request_id: &str,
    ) -> Result<Vec<Publish>, ApiError> {
        let agent = &self.agents[agent_id];
        if agent.state == AgentState::Logout {
            return Err(ApiError::invalid_state("the agent is signed out", "LOGOUT"));
        }
        let live: Vec<&Dialog> = self.live_dialogs(agent_id).collect();
        let from_ready = live.is_empty()
            && agent.state == AgentState::Ready
            && self.config.make_call_from_ready();
        let allowed = match self.config.deployment {
            Deployment::Uccx => live.is_empty() && agent.state == AgentState::NotReady,
            Deployment::Ucce if live.is_empty() => {
                agent.state == AgentState::NotReady || from_ready
            }
            Deployment::Ucce => live.iter().all(|d| d.agent_leg().state == "HELD"),
        };
        if !allowed {
            return Err(ApiError::invalid_state(
                format!("cannot make a call in state {}", agent.state.as_str()),
                agent.state.as_str(),
            ));
        }
        let ext = agent.extension.clone();
        let mut out = Vec::new();
        if from_ready {
            // UCCE 12.5(1)+: the agent leaves READY (NOT_READY, system reason 50006) first.
            let agent = self.agents.get_mut(agent_id).expect("known agent");
            set_state(
                agent,
                AgentState::NotReady,
                Some(MAKE_CALL_REASON.to_string()),
            );
            out.push(self.user_publish(agent_id, request_id));
        }
        if !valid_address(to) {
            let mut d = self.new_dialog(agent_id, &ext, to, "OUT", ("INITIATING", ""));
            d.dialed_number = to.to_string();
            out.push(self.dialog_publish(&d, "POST", request_id));
            out.extend(self.fail_dialog(d, "BAD_DESTINATION", request_id));
            return Ok(out);
        }
        let target = self.agent_at(agent_id, to);
        let call_type = if target.is_some() {
            "AGENT_INSIDE"
        } else {
            "OUT"
        };
        let mut d = self.new_dialog(agent_id, &ext, to, call_type, ("INITIATING", ""));
        d.dialed_number = to.to_string();
        d.participants[1].agent_id.clone_from(&target);
        out.push(self.dialog_publish(&d, "POST", request_id));
        d.state = "INITIATED".into();
        set_leg(d.agent_leg_mut(), "INITIATED");
        set_leg(&mut d.participants[1], "ALERTING");
        out.push(self.dialog_publish(&d, "PUT", request_id));
        let id = d.id.clone();
        self.dialogs.insert(id.clone(), d);
        out.extend(self.refresh_agent(agent_id, request_id));
        if let Some(target) = target {
            out.extend(self.ring_agent(&target, &id, None));
        }
        Ok(out)
    }

    /// The signed-in agent, other than `caller`, whose extension is `address`.
    fn agent_at(&self, caller: &str, address: &str) -> Option<String> {
        self.agents
            .values()
            .find(|a| {
                a.config.id != caller && a.state != AgentState::Logout && a.extension == address
            })
            .map(|a| a.config.id.clone())
    }

    /// Rings agent `target` for the caller's INITIATED dialog `caller_dialog`: the target gets
    /// an ALERTING dialog of its own (POST), linked to the caller's both ways. `media` is the
    /// dialog whose media properties (call and ECC variables, DNIS, dialed number, queue) the
    /// target's dialog carries: the original call of a consult.
    fn ring_agent(
        &mut self,
        target: &str,
        caller_dialog: &str,
        media: Option<&str>,
    ) -> Vec<Publish> {
        let Some(c) = self.dialogs.get(caller_dialog) else {
            return Vec::new();
        };
        let (caller, from, call_type) = (c.agent_id.clone(), c.from.clone(), c.call_type.clone());
        let Some(to) = self.agents.get(target).map(|a| a.extension.clone()) else {
            return Vec::new();
        };
        let call_key = c.call_key;
        let mut d = self.new_dialog(target, &from, &to, &call_type, ("ALERTING", "ACTIVE"));
        d.call_key = call_key;
        d.participants[1].agent_id = Some(caller);
        d.called_by_agent = true;
        d.peer = Some(caller_dialog.to_string());
        d.dnis.clone_from(&to);
        d.dialed_number = to;
        if let Some(m) = media.and_then(|m| self.dialogs.get(m)) {
            d.dnis.clone_from(&m.dnis);
            d.dialed_number.clone_from(&m.dialed_number);
            d.queue_name.clone_from(&m.queue_name);
            d.queue_number.clone_from(&m.queue_number);
            d.call_variables.clone_from(&m.call_variables);
            d.ecc.clone_from(&m.ecc);
        }
        if let Some(c) = self.dialogs.get_mut(caller_dialog) {
            c.peer = Some(d.id.clone());
        }
        let mut out = vec![self.dialog_publish(&d, "POST", "")];
        self.dialogs.insert(d.id.clone(), d);
        out.extend(self.refresh_agent(target, ""));
        out
    }

    /// Agent `agent_id` answered its side of an agent-to-agent call: its leg becomes ACTIVE in
    /// the peer dialog, and a caller's leg waiting in INITIATED becomes ACTIVE too.
    fn connect_peer(&mut self, peer_id: &str, agent_id: &str) -> Vec<Publish> {
        let Some(p) = self.dialogs.get_mut(peer_id) else {
            return Vec::new();
        };
        for leg in p.participants.iter_mut().skip(1) {
            if leg.agent_id.as_deref() == Some(agent_id) {
                set_leg(leg, "ACTIVE");
            }
        }
        if p.agent_leg().state == "INITIATED" {
            p.state = "ACTIVE".into();
            set_leg(p.agent_leg_mut(), "ACTIVE");
            for leg in p.participants.iter_mut().skip(1) {
                if leg.state == "ALERTING" {
                    set_leg(leg, "ACTIVE");
                }
            }
        }
        let owner = p.agent_id.clone();
        // The original first (it now offers CONFERENCE), then the consult.
        let mut out = self.original_publish(peer_id, "");
        out.push(self.dialog_publish(&self.dialogs[peer_id], "PUT", ""));
        out.extend(self.refresh_agent(&owner, ""));
        out
    }

    /// The asynchronous error of an action on dialog `dialog_id`, as Finesse words it: errorType
    /// "Generic Error" (UCCE) or "Call Operation Failure" (UCCX), the CTI failure in
    /// errorMessage, the CTI error code in errorData.
    fn async_error(
        &self,
        agent_id: &str,
        dialog_id: &str,
        cause: &str,
        request_id: &str,
    ) -> Publish {
        let error_type = match self.config.deployment {
            Deployment::Ucce => "Generic Error",
            Deployment::Uccx => "Call Operation Failure",
        };
        let (message, code) = match cause {
            "BUSY" => ("CF_BUSY", "12"),
            "BAD_DESTINATION" => ("CF_INVALID_DESTINATION", "13121"),
            _ => ("CF_GENERIC_UNSPECIFIED", "1"),
        };
        let mut e = ApiError::new(400, error_type, message, code);
        e.peripheral_code = code.into();
        self.error_publish(agent_id, dialog_id, &e, request_id)
    }

    /// The call of dialog `d` (not yet stored) failed with `cause`: the dialog, its agent leg
    /// and far leg become FAILED (a PUT), an asynchronous error names the dialog, and the
    /// dialog is kept until the agent drops it.
    fn fail_dialog(&mut self, mut d: Dialog, cause: &str, request_id: &str) -> Vec<Publish> {
        d.state = FAILED.into();
        for p in &mut d.participants {
            set_leg(p, FAILED);
            p.state_cause = cause.to_string();
        }
        let agent_id = d.agent_id.clone();
        let mut out = vec![self.dialog_publish(&d, "PUT", request_id)];
        out.push(self.async_error(&agent_id, &d.id, cause, request_id));
        let id = d.id.clone();
        self.dialogs.insert(id.clone(), d);
        out.extend(self.original_publish(&id, request_id));
        out.extend(self.refresh_agent(&agent_id, request_id));
        out
    }

    /// The far end of an outbound or consult call that still rings is busy (admin API): the
    /// dialog fails with cause BUSY and stays until the agent drops it.
    pub fn far_end_busy(&mut self, dialog_id: &str) -> Result<Vec<Publish>, (u16, String)> {
        let d = self
            .dialogs
            .get(dialog_id)
            .ok_or((404, format!("no dialog {dialog_id}")))?;
        let ringing_outside = d.agent_leg().state == "INITIATED"
            && d.participants
                .iter()
                .skip(1)
                .all(|p| p.agent_id.is_none() && p.state == "ALERTING");
        if !ringing_outside {
            return Err((
                409,
                format!("dialog {dialog_id} is not ringing an outside number"),
            ));
        }
        let d = self.dialogs.remove(dialog_id).expect("checked");
        Ok(self.fail_dialog(d, "BUSY", ""))
    }

    /// Applies POST /Dialog/{id} (CONSULT_CALL).
    pub fn consult_call(
        &mut self,
        agent_id: &str,
        dialog_id: &str,
        to: &str,
        request_id: &str,
    ) -> Result<Vec<Publish>, ApiError> {
        let original = self.owned_dialog(agent_id, dialog_id)?;
        if original.agent_leg().state != "ACTIVE"
            || original.associated.is_some()
            || original.is_consult()
        {
            return Err(ApiError::invalid_state(
                "CONSULT_CALL needs an active call without a consult call",
                "CONSULT_CALL",
            ));
        }
        if self.live_dialogs(agent_id).count() > 1 {
            return Err(ApiError::invalid_state(
                "the agent already has another call",
                "CONSULT_CALL",
            ));
        }
        let mut out = Vec::new();
        let ext = self.agents[agent_id].extension.clone();
        {
            let d = self.dialogs.get_mut(dialog_id).expect("checked above");
            set_leg(d.agent_leg_mut(), "HELD");
        }
        let target = self.agent_at(agent_id, to);
        let mut consult = self.new_dialog(agent_id, &ext, to, "CONSULT", ("INITIATING", ""));
        consult.dialed_number = to.to_string();
        consult.participants[1].agent_id.clone_from(&target);
        consult.associated = Some(dialog_id.to_string());
        consult.routed = self.dialogs[dialog_id].routed;
        self.dialogs.get_mut(dialog_id).expect("checked").associated = Some(consult.id.clone());
        out.push(self.dialog_publish(&self.dialogs[dialog_id], "PUT", request_id));
        out.push(self.dialog_publish(&consult, "POST", request_id));
        if !valid_address(to) {
            out.extend(self.fail_dialog(consult, "BAD_DESTINATION", request_id));
            return Ok(out);
        }
        consult.state = "INITIATED".into();
        set_leg(consult.agent_leg_mut(), "INITIATED");
        set_leg(&mut consult.participants[1], "ALERTING");
        let consult_id = consult.id.clone();
        self.dialogs.insert(consult_id.clone(), consult);
        // The original first (it now offers TRANSFER), then the consult: a client that acts
        // on the consult's update finds the original's actions current.
        out.extend(self.original_publish(&consult_id, request_id));
        out.push(self.dialog_publish(&self.dialogs[&consult_id], "PUT", request_id));
        out.extend(self.refresh_agent(agent_id, request_id));
        if let Some(target) = target {
            out.extend(self.ring_agent(&target, &consult_id, Some(dialog_id)));
        }
        Ok(out)
    }

    fn owned_dialog(&self, agent_id: &str, dialog_id: &str) -> Result<&Dialog, ApiError> {
        self.dialogs
            .get(dialog_id)
            .filter(|d| d.agent_id == agent_id)
            .ok_or_else(|| {
                ApiError::new(
                    404,
                    "Not Found",
                    format!("dialog {dialog_id} not found"),
                    dialog_id,
                )
            })
    }

    /// Applies PUT /Dialog/{id}.
    pub fn dialog_action(
        &mut self,
        agent_id: &str,
        dialog_id: &str,
        req: &DialogRequest,
        request_id: &str,
    ) -> Result<Vec<Publish>, ApiError> {
        let d = self.owned_dialog(agent_id, dialog_id)?;
        let leg_state = d.agent_leg().state.clone();
        let action = req.action.as_str();
        let not_now = || {
            ApiError::invalid_state(
                format!("{action} is not allowed while the call is {leg_state}"),
                action,
            )
        };
        if leg_state == WRAP_UP && !matches!(action, "" | "UPDATE_CALL_DATA") {
            return Err(not_now());
        }
        if leg_state == FAILED && !matches!(action, "" | "DROP") {
            return Err(not_now());
        }
        // A silent monitoring call: the supervisor may only drop it (or barge, a POST).
        if d.call_type == SUPERVISOR_MONITOR && action != "DROP" {
            return Err(not_now());
        }
        let mut out = Vec::new();
        match action {
            "ANSWER" => {
                if leg_state != "ALERTING" {
                    return Err(not_now());
                }
                let d = self.dialogs.get_mut(dialog_id).expect("checked");
                d.state = "ACTIVE".into();
                set_leg(d.agent_leg_mut(), "ACTIVE");
                let peer = d.peer.clone();
                out.push(self.dialog_publish(&self.dialogs[dialog_id], "PUT", request_id));
                if let Some(peer) = peer {
                    out.extend(self.connect_peer(&peer, agent_id));
                }
            }
            "HOLD" | "RETRIEVE" => {
                let (from, to) = if action == "HOLD" {
                    ("ACTIVE", "HELD")
                } else {
                    ("HELD", "ACTIVE")
                };
                if leg_state != from {
                    return Err(not_now());
                }
                if action == "RETRIEVE"
                    && self
                        .agent_dialogs(agent_id)
                        .any(|o| o.id != dialog_id && o.agent_leg().state == "ACTIVE")
                {
                    return Err(ApiError::invalid_state("another call is active", action));
                }
                set_leg(
                    self.dialogs
                        .get_mut(dialog_id)
                        .expect("checked")
                        .agent_leg_mut(),
                    to,
                );
                out.push(self.dialog_publish(&self.dialogs[dialog_id], "PUT", request_id));
            }
            "DROP" => {
                let droppable = LIVE_STATES.contains(&leg_state.as_str()) || leg_state == FAILED;
                if !droppable || leg_state == "ALERTING" {
                    return Err(not_now());
                }
                out.extend(self.end_dialog(dialog_id, request_id));
            }
            "TRANSFER_SST" => {
                if self.config.deployment == Deployment::Uccx {
                    return Err(ApiError::new(
                        400,
                        "Invalid Action",
                        "single-step transfer is not supported in Unified CCX",
                        action,
                    ));
                }
                if leg_state != "ACTIVE" {
                    return Err(not_now());
                }
                let to = req
                    .to_address
                    .as_deref()
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| ApiError::missing("toAddress"))?;
                if !valid_address(to) {
                    let cause = "BAD_DESTINATION";
                    return Ok(vec![
                        self.async_error(agent_id, dialog_id, cause, request_id)
                    ]);
                }
                if let Some(target) = self.agent_at(agent_id, to) {
                    // The call rings the agent at that extension (a dialog of its own, with
                    // the call data); the transferring agent's dialog ends.
                    let peer = self.dialogs[dialog_id].peer.clone();
                    let mut d = self.transferred_dialog(&target, dialog_id, "ALERTING");
                    d.peer.clone_from(&peer);
                    if let Some(p) = peer.as_deref().and_then(|p| self.dialogs.get_mut(p)) {
                        p.peer = Some(d.id.clone());
                    }
                    self.dialogs.get_mut(dialog_id).expect("checked").peer = None;
                    out.push(self.dialog_publish(&d, "POST", ""));
                    self.dialogs.insert(d.id.clone(), d);
                    out.extend(self.refresh_agent(&target, ""));
                }
                out.extend(self.end_dialog(dialog_id, request_id));
            }
            "TRANSFER" | "CONFERENCE" => {
                let (original, consult) = self.consult_pair(dialog_id).ok_or_else(|| {
                    ApiError::invalid_state(format!("{action} needs a consult call"), action)
                })?;
                let consult_state = self.dialogs[&consult].agent_leg().state.clone();
                let ok = match action {
                    "TRANSFER" => matches!(consult_state.as_str(), "ACTIVE" | "INITIATED"),
                    _ => consult_state == "ACTIVE",
                };
                if !ok {
                    return Err(ApiError::invalid_state(
                        format!(
                            "{action} is not allowed while the consult call is {consult_state}"
                        ),
                        action,
                    ));
                }
                if action == "TRANSFER" {
                    out.extend(self.bridge(&original, &consult));
                    out.extend(self.end_dialog(&consult, request_id));
                    out.extend(self.end_dialog(&original, request_id));
                } else {
                    out.extend(self.conference(&original, &consult, request_id)?);
                    out.extend(self.refresh_agent(agent_id, request_id));
                }
            }
            "SEND_DTMF" => {
                if leg_state != "ACTIVE" {
                    return Err(not_now());
                }
                let digits = req
                    .dtmf
                    .as_deref()
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| ApiError::missing("actionParams/dtmfString"))?;
                // UCCE: 0-9 * # A-D; UCCX: 0-9 * #.
                let (extra, allowed) = match self.config.deployment {
                    Deployment::Ucce => ("*#ABCD", "0-9, *, #, A-D"),
                    Deployment::Uccx => ("*#", "0-9, *, #"),
                };
                if !digits
                    .chars()
                    .all(|c| c.is_ascii_digit() || extra.contains(c))
                {
                    return Err(ApiError::invalid_input(
                        format!("DTMF digits are {allowed}"),
                        "dtmfString",
                    ));
                }
                out.push(self.dialog_publish(&self.dialogs[dialog_id], "PUT", request_id));
            }
            "UPDATE_CALL_DATA" => {
                for (name, _) in &req.call_variables {
                    let is_var = name
                        .strip_prefix("callVariable")
                        .and_then(|n| n.parse::<u8>().ok())
                        .is_some_and(|n| (1..=10).contains(&n));
                    if !is_var && !name.starts_with("user.") {
                        return Err(ApiError::invalid_input(
                            format!("unknown call variable {name}"),
                            name,
                        ));
                    }
                }
                let d = self.dialogs.get_mut(dialog_id).expect("checked");
                for (name, value) in &req.call_variables {
                    let map = if name.starts_with("user.") {
                        &mut d.ecc
                    } else {
                        &mut d.call_variables
                    };
                    map.insert(name.clone(), value.clone());
                }
                if let Some(w) = &req.wrap_up_reason {
                    d.wrap_up_reason = w.clone();
                }
                let (key, agent) = (d.call_key, d.agent_id.clone());
                out.push(self.dialog_publish(&self.dialogs[dialog_id], "PUT", request_id));
                // Since Finesse 9.1(1) a wrap-up reason reaches every participant's dialog.
                if let Some(w) = &req.wrap_up_reason {
                    let others: Vec<String> = self
                        .dialogs
                        .values()
                        .filter(|o| o.call_key == key && o.agent_id != agent)
                        .map(|o| o.id.clone())
                        .collect();
                    for id in others {
                        let o = self.dialogs.get_mut(&id).expect("listed");
                        o.wrap_up_reason.clone_from(w);
                        out.push(self.dialog_publish(&self.dialogs[&id], "PUT", ""));
                    }
                }
            }
            "" => return Err(ApiError::missing("requestedAction")),
            other => {
                return Err(ApiError::invalid_input(
                    format!("unknown requestedAction {other}"),
                    "requestedAction",
                ))
            }
        }
        out.extend(self.refresh_agent(agent_id, request_id));
        Ok(out)
    }

    /// TRANSFER, before the transferring agent's two dialogs end: connects the original call's
    /// far end(s) with the consult call's. A consulted agent's dialog carries on with the
    /// original far end as its other party (callType TRANSFER); an agent on the original call
    /// sees the consulted party instead of the transferring agent. Nothing to do when neither
    /// far end is an agent of the simulator.
    fn bridge(&mut self, original: &str, consult: &str) -> Vec<Publish> {
        let (Some(o), Some(c)) = (self.dialogs.get(original), self.dialogs.get(consult)) else {
            return Vec::new();
        };
        let transferring = o.agent_id.clone();
        let (po, pc) = (o.peer.clone(), c.peer.clone());
        let far_o: Vec<Participant> = o.participants.iter().skip(1).cloned().collect();
        let far_c: Vec<Participant> = c.participants.iter().skip(1).cloned().collect();
        for id in [original, consult] {
            if let Some(d) = self.dialogs.get_mut(id) {
                d.peer = None;
            }
        }
        let mut out = Vec::new();
        // The consulted agent: its consult dialog is deleted and the original call's dialog is
        // posted to it (a new dialog, so a new work item), ACTIVE with the original far end.
        let mut replaced = None;
        if let Some(consulted) = pc.as_deref().and_then(|id| self.dialogs.remove(id)) {
            out.push(self.dialog_publish(&consulted, "DELETE", ""));
            let target = consulted.agent_id.clone();
            let mut d = self.transferred_dialog(&target, original, "ACTIVE");
            d.participants.truncate(1);
            d.participants.extend(far_o);
            d.peer.clone_from(&po);
            d.secondary_id.clone_from(&consulted.id);
            out.push(self.dialog_publish(&d, "POST", ""));
            replaced = Some(d.id.clone());
            self.dialogs.insert(d.id.clone(), d);
        }
        if let Some(id) = po.as_deref() {
            if let Some(p) = self.dialogs.get_mut(id) {
                p.participants
                    .retain(|l| l.agent_id.as_deref() != Some(transferring.as_str()));
                p.participants.extend(far_c);
                p.peer.clone_from(&replaced);
                out.push(self.dialog_publish(&self.dialogs[id], "PUT", ""));
            }
        }
        out
    }

    /// A dialog for agent `target` carrying the call of dialog `original` after a transfer:
    /// the original's addresses, call key and call data, callType TRANSFER, the target's leg
    /// in `leg_state` and the original's far legs.
    fn transferred_dialog(&mut self, target: &str, original: &str, leg_state: &str) -> Dialog {
        let o = self.dialogs[original].clone();
        let mut d = self.new_dialog(target, &o.from, &o.to, "TRANSFER", (leg_state, ""));
        d.participants.truncate(1);
        d.participants
            .extend(o.participants.iter().skip(1).cloned());
        d.call_key = o.call_key;
        d.dnis = o.dnis;
        d.dialed_number = o.dialed_number;
        d.queue_name = o.queue_name;
        d.queue_number = o.queue_number;
        d.call_variables = o.call_variables;
        d.ecc = o.ecc;
        d.routed = o.routed;
        d.called_by_agent = true;
        d
    }

    /// CONFERENCE: the consult call's far end joins the original dialog (callType CONFERENCE)
    /// and the consult dialog is deleted. When one of the two calls is with another agent of
    /// the simulator, that agent's dialog stays ACTIVE, lists every party too and becomes a
    /// CONFERENCE; a conference of two calls that both reach other agents is refused.
    fn conference(
        &mut self,
        original: &str,
        consult: &str,
        request_id: &str,
    ) -> Result<Vec<Publish>, ApiError> {
        let (Some(o), Some(c)) = (self.dialogs.get(original), self.dialogs.get(consult)) else {
            return Err(ApiError::invalid_state(
                "CONFERENCE needs a consult call",
                "CONFERENCE",
            ));
        };
        let (po, pc) = (o.peer.clone(), c.peer.clone());
        if po.is_some() && pc.is_some() {
            return Err(ApiError::new(
                400,
                "Invalid Action",
                "a conference of two calls with other agents is not simulated",
                "CONFERENCE",
            ));
        }
        let existing: Vec<Participant> = o.participants.iter().skip(1).cloned().collect();
        let Some(c) = self.dialogs.remove(consult) else {
            return Ok(Vec::new());
        };
        let added: Vec<Participant> = c.participants.iter().skip(1).cloned().collect();
        let mut out = vec![self.dialog_publish(&c, "DELETE", request_id)];
        if let Some(d) = self.dialogs.get_mut(original) {
            d.associated = None;
            d.call_type = "CONFERENCE".into();
            set_leg(d.agent_leg_mut(), "ACTIVE");
            d.participants.extend(added.iter().cloned());
            if pc.is_some() {
                d.peer.clone_from(&pc);
            }
            out.push(self.dialog_publish(&self.dialogs[original], "PUT", request_id));
        }
        let (other, joining) = match (&pc, &po) {
            (Some(p), _) => (p.as_str(), existing),
            (None, Some(p)) => (p.as_str(), added),
            (None, None) => return Ok(out),
        };
        if let Some(p) = self.dialogs.get_mut(other) {
            p.participants.extend(joining);
            p.call_type = "CONFERENCE".into();
            p.associated = None;
            p.peer = Some(original.to_string());
            out.push(self.dialog_publish(&self.dialogs[other], "PUT", ""));
        }
        Ok(out)
    }

    /// (original, consult) when `dialog_id` is either half of a consult pair.
    fn consult_pair(&self, dialog_id: &str) -> Option<(String, String)> {
        let d = self.dialogs.get(dialog_id)?;
        let other = self.dialogs.get(d.associated.as_deref()?)?;
        if d.is_consult() {
            Some((other.id.clone(), d.id.clone()))
        } else {
            Some((d.id.clone(), other.id.clone()))
        }
    }

    /// Ends a dialog for its agent: a PUT with DROPPED legs, then the DELETE. When the agent
    /// goes to wrap-up (WORK or WORK_READY once its last call has ended), the dialog stays
    /// instead (unless the agent's leg was still ALERTING): one PUT (dialog DROPPED, far legs
    /// DROPPED, agent leg WRAP_UP) and no DELETE until the agent leaves wrap-up. A dialog
    /// already in wrap-up is left alone.
    fn end_dialog(&mut self, dialog_id: &str, request_id: &str) -> Vec<Publish> {
        if self.dialogs.get(dialog_id).is_some_and(Dialog::in_wrap_up) {
            return Vec::new();
        }
        let Some(mut d) = self.dialogs.remove(dialog_id) else {
            return Vec::new();
        };
        if let Some(other) = d
            .associated
            .as_deref()
            .and_then(|a| self.dialogs.get_mut(a))
        {
            other.associated = None;
        }
        // A call that only rang (never answered) leaves nothing to wrap up.
        let answered = !matches!(d.agent_leg().state.as_str(), "ALERTING" | FAILED);
        d.state = "DROPPED".into();
        for p in &mut d.participants {
            set_leg(p, "DROPPED");
        }
        let agent_out = self.refresh_agent(&d.agent_id, request_id);
        let wrap_up = answered
            && self.live_dialogs(&d.agent_id).next().is_none()
            && self
                .agents
                .get(&d.agent_id)
                .is_some_and(|a| matches!(a.state, AgentState::Work | AgentState::WorkReady));
        let mut out = Vec::new();
        if wrap_up {
            set_leg(d.agent_leg_mut(), WRAP_UP);
            let mut kept = d.clone();
            kept.associated = None;
            kept.peer = None;
            out.push(self.dialog_publish(&kept, "PUT", request_id));
            self.dialogs.insert(kept.id.clone(), kept);
        } else {
            out.push(self.dialog_publish(&d, "PUT", request_id));
            out.push(self.dialog_publish(&d, "DELETE", request_id));
        }
        if let Some(other) = d.associated.as_deref().and_then(|a| self.dialogs.get(a)) {
            out.push(self.dialog_publish(other, "PUT", request_id));
        }
        out.extend(agent_out);
        // The other agent of a call between two agents: a two-party call ends for both; a
        // conference goes on without this agent.
        if let Some(peer) = d.peer.as_deref() {
            match self.dialogs.get_mut(peer) {
                Some(p) if p.in_wrap_up() => {}
                Some(p) if p.participants.len() > 2 => {
                    p.participants
                        .retain(|l| l.agent_id.as_deref() != Some(d.agent_id.as_str()));
                    p.peer = None;
                    out.push(self.dialog_publish(&self.dialogs[peer], "PUT", ""));
                }
                Some(_) => out.extend(self.end_dialog(peer, "")),
                None => {}
            }
        }
        out.extend(self.end_monitoring(dialog_id));
        out
    }

    /// Recomputes the agent's state from its calls; a user notification when it changed.
    fn refresh_agent(&mut self, agent_id: &str, request_id: &str) -> Vec<Publish> {
        let deployment = self.config.deployment;
        let legs: Vec<(String, bool, bool)> = self
            .live_dialogs(agent_id)
            .map(|d| (d.agent_leg().state.clone(), d.routed, d.called_by_agent))
            .collect();
        let agent = self.agents.get_mut(agent_id).expect("known agent");
        let before = (agent.state, agent.pending);
        if legs.is_empty() {
            if let Some(pre) = agent.pre_call.take() {
                let (next, reason) = match agent.pending.take() {
                    Some(p) => (p, agent.pending_reason.take()),
                    None if matches!(
                        pre,
                        AgentState::Ready
                            | AgentState::NotReady
                            | AgentState::Work
                            | AgentState::WorkReady
                    ) =>
                    {
                        (pre, agent.reason_code_id.clone())
                    }
                    None => (AgentState::NotReady, None),
                };
                set_state(
                    agent,
                    next,
                    if next == AgentState::NotReady {
                        reason
                    } else {
                        None
                    },
                );
            }
        } else {
            if agent.pre_call.is_none() {
                agent.pre_call = Some(agent.state);
            }
            let any = |s: &str| legs.iter().any(|(l, _, _)| l == s);
            let counted = legs.iter().any(|(_, r, c)| *r || *c);
            // A call from another agent reserves a READY agent only (NOT_READY stays).
            let reserving = legs.iter().any(|(l, r, c)| {
                l == "ALERTING" && (*r || (*c && agent.state == AgentState::Ready))
            });
            let derived = if deployment == Deployment::Uccx && !counted {
                None // UCCX: non-routed calls leave the agent state alone
            } else if any("ACTIVE") || any("INITIATING") || any("INITIATED") {
                Some(AgentState::Talking)
            } else if any("HELD") {
                Some(if deployment == Deployment::Uccx {
                    AgentState::Talking
                } else {
                    AgentState::Hold
                })
            } else if reserving {
                Some(AgentState::Reserved)
            } else {
                None
            };
            if let Some(s) = derived {
                if s != agent.state {
                    set_state(agent, s, agent.reason_code_id.clone());
                }
            }
        }
        let changed = (agent.state, agent.pending) != before;
        let mut out = self.close_wrap_up(agent_id, request_id);
        if changed {
            out.push(self.user_publish(agent_id, request_id));
        }
        out
    }

    /// Places an inbound call (admin API): the dialog id and the notifications, or an HTTP
    /// status and message.
    pub fn inbound_call(
        &mut self,
        call: &InboundCall,
    ) -> Result<(String, Vec<Publish>), (u16, String)> {
        let agent_id = match (&call.to_agent, &call.queue) {
            (Some(a), _) => {
                let agent = self.agents.get(a).ok_or((404, format!("no agent {a}")))?;
                if agent.state == AgentState::Logout {
                    return Err((409, format!("agent {a} is signed out")));
                }
                if self.config.deployment == Deployment::Uccx
                    && self.live_dialogs(a).next().is_some()
                {
                    return Err((
                        409,
                        format!("agent {a} already has a call (UCCX: one regular call)"),
                    ));
                }
                a.clone()
            }
            (None, Some(_)) => self
                .agents
                .values()
                .filter(|a| {
                    a.state == AgentState::Ready && self.live_dialogs(&a.config.id).next().is_none()
                })
                .min_by_key(|a| a.ready_since)
                .map(|a| a.config.id.clone())
                .ok_or((409, "no READY agent for the queue".to_string()))?,
            (None, None) => return Err((400, "give \"to\" (an agent id) or \"queue\"".into())),
        };
        let call_type = if call.call_type.is_empty() {
            "ACD_IN"
        } else {
            call.call_type.as_str()
        };
        let ext = self.agents[&agent_id].extension.clone();
        let dnis = if call.dnis.is_empty() {
            ext.clone()
        } else {
            call.dnis.clone()
        };
        let mut d = self.new_dialog(
            &agent_id,
            &call.ani,
            &dnis,
            call_type,
            ("ALERTING", "ACTIVE"),
        );
        d.dnis = dnis.clone();
        d.dialed_number = dnis;
        d.routed =
            call.queue.is_some() || call_type.contains("ACD") || call_type.starts_with("PREROUTE");
        if let Some(q) = &call.queue {
            d.queue_name = q.clone();
            d.queue_number = q
                .bytes()
                .fold(5000u32, |a, b| (a * 31 + u32::from(b)) % 10_000)
                .to_string();
        }
        d.call_variables = call.call_variables.clone();
        d.ecc = call.ecc.clone();
        let id = d.id.clone();
        let mut out = vec![self.dialog_publish(&d, "POST", "")];
        self.dialogs.insert(id.clone(), d);
        out.extend(self.refresh_agent(&agent_id, ""));
        Ok((id, out))
    }

    /// The far end hangs up (admin API).
    pub fn far_end_hangup(&mut self, dialog_id: &str) -> Result<Vec<Publish>, (u16, String)> {
        let Some(d) = self.dialogs.get(dialog_id) else {
            return Err((404, format!("no dialog {dialog_id}")));
        };
        if d.in_wrap_up() {
            return Err((
                409,
                format!("the call of dialog {dialog_id} has ended (its agent is wrapping up)"),
            ));
        }
        // The whole call ends, also for another agent on it (even in a conference).
        let peer = d.peer.clone();
        let mut out = self.end_dialog(dialog_id, "");
        if let Some(peer) = peer {
            out.extend(self.end_dialog(&peer, ""));
        }
        Ok(out)
    }

    /// The far end of an outbound or consult call answers (admin API).
    pub fn far_end_answer(&mut self, dialog_id: &str) -> Result<Vec<Publish>, (u16, String)> {
        let d = self
            .dialogs
            .get_mut(dialog_id)
            .ok_or((404, format!("no dialog {dialog_id}")))?;
        let ringing = |p: &Participant| p.agent_id.is_none() && p.state == "ALERTING";
        if d.agent_leg().state == "INITIATED" {
            if let Some(agent) = d
                .participants
                .iter()
                .skip(1)
                .find_map(|p| p.agent_id.clone())
            {
                return Err((
                    409,
                    format!("the far end of dialog {dialog_id} is agent {agent}: it answers with ANSWER"),
                ));
            }
            d.state = "ACTIVE".into();
            set_leg(d.agent_leg_mut(), "ACTIVE");
        } else if !d.participants.iter().skip(1).any(ringing) {
            return Err((
                409,
                format!("dialog {dialog_id} is not ringing at the far end"),
            ));
        }
        for p in d.participants.iter_mut().skip(1) {
            if p.agent_id.is_none() {
                set_leg(p, "ACTIVE");
            }
        }
        let agent_id = d.agent_id.clone();
        // The original first (it now offers CONFERENCE), then the consult.
        let mut out = self.original_publish(dialog_id, "");
        out.push(self.dialog_publish(&self.dialogs[dialog_id], "PUT", ""));
        out.extend(self.refresh_agent(&agent_id, ""));
        Ok(out)
    }

    /// The actions `p` may take now (only the agent's own leg has any).
    pub fn participant_actions(&self, d: &Dialog, p: &Participant) -> Vec<&'static str> {
        if p.agent_id.as_deref() != Some(d.agent_id.as_str()) {
            return Vec::new();
        }
        if d.call_type == SUPERVISOR_MONITOR {
            return supervise::monitoring_actions(p);
        }
        // Cisco's table: ALERTING: ANSWER; INITIATING/INITIATED: DROP, UPDATE_CALL_DATA;
        // ACTIVE: HOLD, DROP, UPDATE_CALL_DATA, CONSULT_CALL (+ SEND_DTMF, TRANSFER_SST in
        // UCCE); HELD: RETRIEVE, DROP, UPDATE_CALL_DATA (+ TRANSFER/CONFERENCE with a consult
        // call up); FAILED: DROP; WRAP_UP: UPDATE_CALL_DATA.
        let ucce = self.config.deployment == Deployment::Ucce;
        let paired = d.associated.is_some();
        let consult_leg = (!d.is_consult())
            .then(|| d.associated.as_deref().and_then(|c| self.dialogs.get(c)))
            .flatten()
            .map(|c| c.agent_leg().state.as_str());
        let mut actions = Vec::new();
        match p.state.as_str() {
            "ALERTING" => actions.push("ANSWER"),
            "INITIATING" | "INITIATED" => actions.extend(["DROP", "UPDATE_CALL_DATA"]),
            "ACTIVE" => {
                actions.extend(["HOLD", "DROP", "UPDATE_CALL_DATA"]);
                if !paired && !d.is_consult() {
                    actions.push("CONSULT_CALL");
                }
                actions.push("SEND_DTMF");
                if ucce && !paired && !d.is_consult() {
                    actions.push("TRANSFER_SST");
                }
            }
            "HELD" => {
                actions.extend(["RETRIEVE", "DROP", "UPDATE_CALL_DATA"]);
                match consult_leg {
                    Some("ACTIVE") => actions.extend(["TRANSFER", "CONFERENCE"]),
                    Some("INITIATED") => actions.push("TRANSFER"),
                    _ => {}
                }
            }
            FAILED => actions.push("DROP"),
            WRAP_UP => actions.push("UPDATE_CALL_DATA"),
            _ => {}
        }
        actions
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
mod tests {
    use super::*;
    use crate::config::SimConfig;

    fn sim(deployment: &str) -> Sim {
        let text = include_str!("../finesse-sim.example.toml").replace(
            "deployment = \"UCCE\"",
            &format!("deployment = \"{deployment}\""),
        );
        Sim::new(SimConfig::from_toml(&text).unwrap())
    }

    fn req(state: &str) -> StateRequest {
        StateRequest {
            state: state.into(),
            ..Default::default()
        }
    }

    fn login(s: &mut Sim) {
        let r = StateRequest {
            state: "LOGIN".into(),
            extension: Some("5001".into()),
            reason_code_id: None,
        };
        s.change_state("1001", &r, "").unwrap();
    }

    #[test]
    fn timestamps_are_iso8601() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_millis(1_709_251_199_123), "2024-02-29T23:59:59.123Z");
    }

    #[test]
    fn login_needs_an_extension_and_lands_in_not_ready() {
        let mut s = sim("UCCE");
        assert_eq!(
            s.change_state("1001", &req("LOGIN"), "")
                .unwrap_err()
                .error_type,
            "Parameter Missing"
        );
        assert_eq!(
            s.change_state("1001", &req("READY"), "")
                .unwrap_err()
                .error_type,
            "Invalid State"
        );
        login(&mut s);
        assert_eq!(s.agents["1001"].state, AgentState::NotReady);
    }

    #[test]
    fn ucce_logout_only_from_not_ready_uccx_also_from_ready() {
        for (dep, ok) in [("UCCE", false), ("UCCX", true)] {
            let mut s = sim(dep);
            login(&mut s);
            s.change_state("1001", &req("READY"), "").unwrap();
            assert_eq!(
                s.change_state("1001", &req("LOGOUT"), "").is_ok(),
                ok,
                "{dep}"
            );
        }
    }

    #[test]
    fn reason_codes_are_checked_by_category() {
        let mut s = sim("UCCE");
        login(&mut s);
        let mut r = req("NOT_READY");
        r.reason_code_id = Some("21".into()); // a LOGOUT code
        assert_eq!(
            s.change_state("1001", &r, "").unwrap_err().error_type,
            "Invalid Input"
        );
        r.reason_code_id = Some("11".into());
        s.change_state("1001", &r, "").unwrap();
        assert_eq!(s.agents["1001"].reason_code_id.as_deref(), Some("11"));
    }

    #[test]
    fn state_requests_during_a_call_become_pending() {
        let mut s = sim("UCCE");
        login(&mut s);
        s.change_state("1001", &req("READY"), "").unwrap();
        let call = InboundCall {
            to_agent: Some("1001".into()),
            ani: "4085551234".into(),
            ..Default::default()
        };
        let (id, _) = s.inbound_call(&call).unwrap();
        assert_eq!(s.agents["1001"].state, AgentState::Reserved);
        let answer = DialogRequest {
            action: "ANSWER".into(),
            ..Default::default()
        };
        s.dialog_action("1001", &id, &answer, "").unwrap();
        assert_eq!(s.agents["1001"].state, AgentState::Talking);
        s.change_state("1001", &req("WORK_READY"), "").unwrap();
        assert_eq!(s.agents["1001"].pending, Some(AgentState::WorkReady));
        s.far_end_hangup(&id).unwrap();
        assert_eq!(s.agents["1001"].state, AgentState::WorkReady);
        assert_eq!(s.agents["1001"].pending, None);
        s.change_state("1001", &req("READY"), "").unwrap();
        assert_eq!(s.agents["1001"].state, AgentState::Ready);
    }

    fn events(out: &[Publish]) -> Vec<String> {
        out.iter()
            .map(|p| {
                let event = ["POST", "PUT", "DELETE"]
                    .into_iter()
                    .find(|e| p.update.contains(&format!("<event>{e}</event>")))
                    .unwrap_or("?");
                let kind = if p.node.ends_with("/Dialogs") {
                    "dialog"
                } else {
                    "user"
                };
                format!("{kind} {event}")
            })
            .collect()
    }

    #[test]
    fn a_call_ending_into_wrap_up_keeps_its_dialog_until_the_agent_leaves_work() {
        let mut s = sim("UCCE");
        login(&mut s);
        s.change_state("1001", &req("READY"), "").unwrap();
        let call = InboundCall {
            to_agent: Some("1001".into()),
            ani: "4085551234".into(),
            ..Default::default()
        };
        let (id, _) = s.inbound_call(&call).unwrap();
        act(&mut s, "1001", &id, "ANSWER");
        s.change_state("1001", &req("WORK_READY"), "").unwrap();
        let out = s.far_end_hangup(&id).unwrap();
        assert_eq!(events(&out), ["dialog PUT", "user PUT"]);
        assert!(out[0].update.contains("<state>WRAP_UP</state>"));
        assert!(out[1].update.contains("<state>WORK_READY</state>"));
        assert_eq!(s.agents["1001"].state, AgentState::WorkReady);
        let d = &s.dialogs[&id];
        assert!(d.in_wrap_up());
        assert_eq!(d.state, "DROPPED");
        assert_eq!(d.participants[1].state, "DROPPED");
        assert_eq!(
            s.participant_actions(d, d.agent_leg()),
            ["UPDATE_CALL_DATA"]
        );
        assert_eq!(s.agent_dialogs("1001").count(), 1);

        // Only UPDATE_CALL_DATA; the far end is gone.
        for action in [
            "DROP",
            "ANSWER",
            "HOLD",
            "SEND_DTMF",
            "TRANSFER",
            "CONFERENCE",
        ] {
            let r = DialogRequest {
                action: action.into(),
                ..Default::default()
            };
            let e = s.dialog_action("1001", &id, &r, "").unwrap_err();
            assert_eq!((e.status, e.error_type.as_str()), (400, "Invalid State"));
        }
        assert_eq!(
            s.consult_call("1001", &id, "6000", "")
                .unwrap_err()
                .error_type,
            "Invalid State"
        );
        assert_eq!(s.far_end_hangup(&id).unwrap_err().0, 409);
        let update = DialogRequest {
            action: "UPDATE_CALL_DATA".into(),
            wrap_up_reason: Some("Sale".into()),
            ..Default::default()
        };
        let out = s.dialog_action("1001", &id, &update, "w").unwrap();
        assert_eq!(events(&out), ["dialog PUT"]);
        assert!(out[0].update.contains("<wrapUpReason>Sale</wrapUpReason>"));
        assert_eq!(s.dialogs[&id].wrap_up_reason, "Sale");

        // A wrap-up dialog is no call: WORK_READY again is refused, READY applies at once.
        assert!(s.change_state("1001", &req("WORK"), "").is_err());
        let out = s.change_state("1001", &req("READY"), "r").unwrap();
        assert_eq!(events(&out), ["dialog DELETE", "user PUT"]);
        assert!(out[0].update.contains(&format!("<id>{id}</id>")));
        assert!(s.dialogs.is_empty());
        assert_eq!(s.agents["1001"].state, AgentState::Ready);

        // Without wrap-up: PUT DROPPED then DELETE, as before.
        let (id, _) = s.inbound_call(&call).unwrap();
        act(&mut s, "1001", &id, "ANSWER");
        let out = act(&mut s, "1001", &id, "DROP");
        assert_eq!(events(&out), ["dialog PUT", "dialog DELETE", "user PUT"]);
        assert!(s.dialogs.is_empty());
    }

    #[test]
    fn a_transfer_wraps_up_the_surviving_dialog_and_a_new_call_ends_wrap_up() {
        let mut s = sim("UCCE");
        login(&mut s);
        let call = InboundCall {
            to_agent: Some("1001".into()),
            ani: "1".into(),
            ..Default::default()
        };
        let (id, _) = s.inbound_call(&call).unwrap();
        act(&mut s, "1001", &id, "ANSWER");
        s.change_state("1001", &req("WORK"), "").unwrap();
        s.consult_call("1001", &id, "6000", "").unwrap();
        let consult = s.dialogs[&id].associated.clone().unwrap();
        s.far_end_answer(&consult).unwrap();
        act(&mut s, "1001", &consult, "TRANSFER");
        assert!(!s.dialogs.contains_key(&consult));
        assert!(s.dialogs[&id].in_wrap_up());
        assert_eq!(s.dialogs[&id].associated, None);
        assert_eq!(s.agents["1001"].state, AgentState::Work);

        // A routed call reserves the agent: wrap-up is over, the old dialog goes.
        let (next, out) = s.inbound_call(&call).unwrap();
        assert_eq!(events(&out), ["dialog POST", "dialog DELETE", "user PUT"]);
        assert!(!s.dialogs.contains_key(&id));
        assert_eq!(s.agents["1001"].state, AgentState::Reserved);
        // Answered and ended: back to WORK (the state before the call), wrapping up again.
        act(&mut s, "1001", &next, "ANSWER");
        act(&mut s, "1001", &next, "DROP");
        assert!(s.dialogs[&next].in_wrap_up());
        assert_eq!(s.agents["1001"].state, AgentState::Work);
    }

    #[test]
    fn a_consulted_agent_wraps_up_whichever_side_drops() {
        for dropper in ["1001", "1002"] {
            let mut s = sim("UCCE");
            let (original, consult, target) = consult_to_agent(&mut s);
            act(&mut s, "1002", &target, "ANSWER");
            s.change_state("1002", &req("WORK_READY"), "").unwrap();
            let dropped = if dropper == "1001" { &consult } else { &target };
            act(&mut s, dropper, dropped, "DROP");
            assert!(!s.dialogs.contains_key(&consult), "{dropper}");
            let b = &s.dialogs[&target];
            assert!(b.in_wrap_up() && b.peer.is_none(), "{dropper}");
            assert_eq!(s.agents["1002"].state, AgentState::WorkReady);
            assert_eq!(s.dialogs[&original].associated, None);
            s.change_state("1002", &req("NOT_READY"), "").unwrap();
            assert!(!s.dialogs.contains_key(&target));
        }
    }

    #[test]
    fn uccx_refuses_work_states_sst_and_second_calls() {
        let mut s = sim("UCCX");
        login(&mut s);
        let call = InboundCall {
            to_agent: Some("1001".into()),
            ani: "1".into(),
            ..Default::default()
        };
        let (id, _) = s.inbound_call(&call).unwrap();
        assert_eq!(s.inbound_call(&call).unwrap_err().0, 409);
        s.dialog_action(
            "1001",
            &id,
            &DialogRequest {
                action: "ANSWER".into(),
                ..Default::default()
            },
            "",
        )
        .unwrap();
        assert!(s.change_state("1001", &req("WORK"), "").is_err());
        let sst = DialogRequest {
            action: "TRANSFER_SST".into(),
            to_address: Some("6000".into()),
            ..Default::default()
        };
        assert_eq!(
            s.dialog_action("1001", &id, &sst, "").unwrap_err().status,
            400
        );
    }

    #[test]
    fn consult_then_transfer_ends_both_dialogs() {
        let mut s = sim("UCCE");
        login(&mut s);
        let call = InboundCall {
            to_agent: Some("1001".into()),
            ani: "1".into(),
            ..Default::default()
        };
        let (id, _) = s.inbound_call(&call).unwrap();
        s.dialog_action(
            "1001",
            &id,
            &DialogRequest {
                action: "ANSWER".into(),
                ..Default::default()
            },
            "",
        )
        .unwrap();
        s.consult_call("1001", &id, "6000", "r1").unwrap();
        let consult = s.dialogs[&id].associated.clone().unwrap();
        assert_eq!(s.dialogs[&id].agent_leg().state, "HELD");
        s.far_end_answer(&consult).unwrap();
        let transfer = DialogRequest {
            action: "TRANSFER".into(),
            ..Default::default()
        };
        let out = s.dialog_action("1001", &consult, &transfer, "r2").unwrap();
        assert!(s.dialogs.is_empty());
        assert_eq!(
            out.iter()
                .filter(|p| p.update.contains("<event>DELETE</event>"))
                .count(),
            2
        );
        assert_eq!(s.agents["1001"].state, AgentState::NotReady);
    }

    fn login_as(s: &mut Sim, agent: &str, extension: &str) {
        let r = StateRequest {
            state: "LOGIN".into(),
            extension: Some(extension.into()),
            reason_code_id: None,
        };
        s.change_state(agent, &r, "").unwrap();
    }

    fn act(s: &mut Sim, agent: &str, dialog: &str, action: &str) -> Vec<Publish> {
        let r = DialogRequest {
            action: action.into(),
            ..Default::default()
        };
        s.dialog_action(agent, dialog, &r, "").unwrap()
    }

    /// 1001 (5001) on an answered customer call with data, consulting 1002 (5002):
    /// (customer dialog, 1001's consult dialog, 1002's dialog).
    fn consult_to_agent(s: &mut Sim) -> (String, String, String) {
        login(s);
        login_as(s, "1002", "5002");
        let call = InboundCall {
            to_agent: Some("1001".into()),
            ani: "4085550100".into(),
            dnis: "8005551000".into(),
            call_variables: [("callVariable1".to_string(), "acct-42".to_string())].into(),
            ecc: [("user.case".to_string(), "C-7".to_string())].into(),
            ..Default::default()
        };
        let (original, _) = s.inbound_call(&call).unwrap();
        act(s, "1001", &original, "ANSWER");
        let out = s.consult_call("1001", &original, "5002", "rq").unwrap();
        let consult = s.dialogs[&original].associated.clone().unwrap();
        let target = s.dialogs[&consult].peer.clone().unwrap();
        assert!(out.iter().any(|p| p.node == render::dialogs_uri("1002")
            && p.update.contains("<event>POST</event>")
            && p.update.contains("<callType>CONSULT</callType>")));
        (original, consult, target)
    }

    #[test]
    fn consult_to_an_agent_rings_it_with_the_call_data_and_transfers_the_customer() {
        let mut s = sim("UCCE");
        login_as(&mut s, "1002", "5002");
        s.change_state("1002", &req("READY"), "").unwrap();
        let (original, consult, target) = consult_to_agent(&mut s);
        let b = &s.dialogs[&target];
        assert_eq!(
            (b.agent_id.as_str(), b.state.as_str()),
            ("1002", "ALERTING")
        );
        assert_eq!((b.from.as_str(), b.to.as_str()), ("5001", "5002"));
        assert_eq!(b.call_type, "CONSULT");
        assert_eq!(b.dnis, "8005551000");
        assert_eq!(b.call_variables["callVariable1"], "acct-42");
        assert_eq!(b.ecc["user.case"], "C-7");
        assert_eq!(b.participants[1].agent_id.as_deref(), Some("1001"));
        assert_eq!(s.dialogs[&consult].agent_leg().state, "INITIATED");
        assert_eq!(s.agents["1002"].state, AgentState::Reserved);
        assert_eq!(s.far_end_answer(&consult).unwrap_err().0, 409);

        act(&mut s, "1002", &target, "ANSWER");
        assert_eq!(s.dialogs[&consult].state, "ACTIVE");
        assert_eq!(s.dialogs[&consult].participants[1].state, "ACTIVE");
        assert_eq!(s.dialogs[&target].state, "ACTIVE");
        assert_eq!(s.agents["1002"].state, AgentState::Talking);
        // Cisco's table: the held original offers TRANSFER and CONFERENCE once the consult is
        // up; the consult's active leg does not.
        let o = &s.dialogs[&original];
        let actions = s.participant_actions(o, o.agent_leg());
        assert_eq!(
            actions,
            [
                "RETRIEVE",
                "DROP",
                "UPDATE_CALL_DATA",
                "TRANSFER",
                "CONFERENCE"
            ]
        );
        let c = &s.dialogs[&consult];
        assert_eq!(
            s.participant_actions(c, c.agent_leg()),
            ["HOLD", "DROP", "UPDATE_CALL_DATA", "SEND_DTMF"]
        );

        let out = act(&mut s, "1001", &consult, "TRANSFER");
        assert!(!s.dialogs.contains_key(&original) && !s.dialogs.contains_key(&consult));
        assert_eq!(s.agents["1001"].state, AgentState::NotReady);
        // B's consult dialog is deleted and the original call's dialog is posted to B.
        assert!(!s.dialogs.contains_key(&target));
        let b_events: Vec<String> = out
            .iter()
            .filter(|p| p.node == render::dialogs_uri("1002"))
            .map(|p| {
                let e = &p.update[p.update.find("<event>").unwrap() + 7..];
                e[..e.find('<').unwrap()].to_string()
            })
            .collect();
        assert_eq!(b_events, ["DELETE", "POST"]);
        let b = s.agent_dialogs("1002").next().unwrap().clone();
        assert_ne!(b.id, target);
        assert_eq!(b.secondary_id, target);
        assert_eq!(b.state, "ACTIVE");
        assert_eq!(b.call_type, "TRANSFER");
        assert_eq!(
            (b.from.as_str(), b.to.as_str()),
            ("4085550100", "8005551000")
        );
        assert_eq!(b.call_variables["callVariable1"], "acct-42");
        assert_eq!(b.ecc["user.case"], "C-7");
        assert_eq!(b.participants.len(), 2);
        assert_eq!(b.participants[1].media_address, "4085550100");
        assert_eq!(b.participants[1].agent_id, None);
        assert_eq!(b.peer, None);
        assert!(s
            .participant_actions(&b, b.agent_leg())
            .contains(&"CONSULT_CALL"));
        s.far_end_hangup(&b.id).unwrap();
        assert!(s.dialogs.is_empty());
        assert_eq!(s.agents["1002"].state, AgentState::Ready);
    }

    #[test]
    fn action_lists_follow_ciscos_table() {
        let mut s = sim("UCCE");
        login(&mut s);
        let call = InboundCall {
            to_agent: Some("1001".into()),
            ani: "4085550100".into(),
            ..Default::default()
        };
        let (id, _) = s.inbound_call(&call).unwrap();
        let acts = |s: &Sim| {
            let d = &s.dialogs[&id];
            s.participant_actions(d, d.agent_leg())
        };
        assert_eq!(acts(&s), ["ANSWER"]);
        act(&mut s, "1001", &id, "ANSWER");
        assert_eq!(
            acts(&s),
            [
                "HOLD",
                "DROP",
                "UPDATE_CALL_DATA",
                "CONSULT_CALL",
                "SEND_DTMF",
                "TRANSFER_SST"
            ]
        );
        act(&mut s, "1001", &id, "HOLD");
        assert_eq!(acts(&s), ["RETRIEVE", "DROP", "UPDATE_CALL_DATA"]);
        act(&mut s, "1001", &id, "RETRIEVE");
        s.consult_call("1001", &id, "5550000", "").unwrap();
        // A consult still ringing: the original may be transferred (not conferenced).
        assert_eq!(
            acts(&s),
            ["RETRIEVE", "DROP", "UPDATE_CALL_DATA", "TRANSFER"]
        );
        let consult = s.dialogs[&id].associated.clone().unwrap();
        let c = &s.dialogs[&consult];
        assert_eq!(
            s.participant_actions(c, c.agent_leg()),
            ["DROP", "UPDATE_CALL_DATA"]
        );
        // The far participants list no actions.
        assert!(s.participant_actions(c, &c.participants[1]).is_empty());
        // The far end answers: the original's PUT now offers TRANSFER and CONFERENCE.
        let out = s.far_end_answer(&consult).unwrap();
        let original_put = out
            .iter()
            .find(|p| p.update.contains(&format!("<id>{id}</id>")))
            .expect("a PUT of the original");
        assert!(original_put.update.contains("<action>CONFERENCE</action>"));
        assert_eq!(
            acts(&s),
            [
                "RETRIEVE",
                "DROP",
                "UPDATE_CALL_DATA",
                "TRANSFER",
                "CONFERENCE"
            ]
        );
        // UCCX: no TRANSFER_SST.
        let mut x = sim("UCCX");
        login(&mut x);
        let (id, _) = x.inbound_call(&call).unwrap();
        act(&mut x, "1001", &id, "ANSWER");
        let d = &x.dialogs[&id];
        assert!(!x
            .participant_actions(d, d.agent_leg())
            .contains(&"TRANSFER_SST"));
    }

    #[test]
    fn dtmf_digits_follow_the_deployment() {
        for (dep, ok) in [("UCCE", true), ("UCCX", false)] {
            let mut s = sim(dep);
            login(&mut s);
            let call = InboundCall {
                to_agent: Some("1001".into()),
                ani: "4085550100".into(),
                ..Default::default()
            };
            let (id, _) = s.inbound_call(&call).unwrap();
            act(&mut s, "1001", &id, "ANSWER");
            let dtmf = |digits: &str| DialogRequest {
                action: "SEND_DTMF".into(),
                dtmf: Some(digits.into()),
                ..Default::default()
            };
            assert!(s.dialog_action("1001", &id, &dtmf("12*#"), "").is_ok());
            assert_eq!(
                s.dialog_action("1001", &id, &dtmf("1A"), "").is_ok(),
                ok,
                "{dep}"
            );
            act(&mut s, "1001", &id, "HOLD");
            assert_eq!(
                s.dialog_action("1001", &id, &dtmf("1"), "")
                    .unwrap_err()
                    .error_type,
                "Invalid State"
            );
        }
    }

    #[test]
    fn wrap_up_reason_reaches_every_participant() {
        let mut s = sim("UCCE");
        login(&mut s);
        login_as(&mut s, "1002", "5002");
        s.make_call("1001", "5002", "").unwrap();
        let a = s.agent_dialogs("1001").next().unwrap().id.clone();
        let b = s.agent_dialogs("1002").next().unwrap().id.clone();
        act(&mut s, "1002", &b, "ANSWER");
        let r = DialogRequest {
            action: "UPDATE_CALL_DATA".into(),
            wrap_up_reason: Some("Sale".into()),
            ..Default::default()
        };
        let out = s.dialog_action("1001", &a, &r, "rq").unwrap();
        assert_eq!(s.dialogs[&b].wrap_up_reason, "Sale");
        assert!(out.iter().any(|p| p.node == render::dialogs_uri("1002")
            && p.update.contains("<wrapUpReason>Sale</wrapUpReason>")));
    }

    #[test]
    fn single_step_transfer_to_an_agent_rings_it_with_the_call_data() {
        let mut s = sim("UCCE");
        login(&mut s);
        login_as(&mut s, "1002", "5002");
        s.change_state("1002", &req("READY"), "").unwrap();
        let call = InboundCall {
            to_agent: Some("1001".into()),
            ani: "4085550100".into(),
            call_variables: [("callVariable1".to_string(), "acct-42".to_string())].into(),
            ..Default::default()
        };
        let (id, _) = s.inbound_call(&call).unwrap();
        act(&mut s, "1001", &id, "ANSWER");
        let sst = DialogRequest {
            action: "TRANSFER_SST".into(),
            to_address: Some("5002".into()),
            ..Default::default()
        };
        let out = s.dialog_action("1001", &id, &sst, "rq").unwrap();
        assert!(s.agent_dialogs("1001").next().is_none());
        let b = s.agent_dialogs("1002").next().unwrap().clone();
        assert_eq!(
            (b.state.as_str(), b.call_type.as_str()),
            ("ALERTING", "TRANSFER")
        );
        assert_eq!(b.participants[1].media_address, "4085550100");
        assert_eq!(b.call_variables["callVariable1"], "acct-42");
        assert_eq!(s.agents["1002"].state, AgentState::Reserved);
        assert!(out
            .iter()
            .any(|p| p.node == render::dialogs_uri("1002")
                && p.update.contains("<event>POST</event>")));
        act(&mut s, "1002", &b.id, "ANSWER");
        assert_eq!(s.agents["1002"].state, AgentState::Talking);
    }

    #[test]
    fn make_call_from_ready_follows_the_release() {
        let mut s = sim("UCCE");
        login(&mut s);
        s.change_state("1001", &req("READY"), "").unwrap();
        let out = s.make_call("1001", "5550000", "rq").unwrap();
        assert!(
            out[0].node == render::user_uri("1001")
                && out[0].update.contains("<state>NOT_READY</state>")
                && out[0].update.contains("<reasonCodeId>50006</reasonCodeId>")
        );
        let d = s.agent_dialogs("1001").next().unwrap().id.clone();
        act(&mut s, "1001", &d, "DROP");
        assert_eq!(s.agents["1001"].state, AgentState::NotReady);
        assert_eq!(
            s.agents["1001"].reason_code_id.as_deref(),
            Some(MAKE_CALL_REASON)
        );

        let mut old = sim("UCCE");
        old.config.finesse_version = "12.0(1)".into();
        login(&mut old);
        old.change_state("1001", &req("READY"), "").unwrap();
        assert_eq!(
            old.make_call("1001", "5550000", "").unwrap_err().error_type,
            "Invalid State"
        );
        let mut x = sim("UCCX");
        login(&mut x);
        x.change_state("1001", &req("READY"), "").unwrap();
        assert_eq!(
            x.make_call("1001", "5550000", "").unwrap_err().error_type,
            "Invalid State"
        );
    }

    #[test]
    fn a_not_ready_agent_is_consulted_and_a_drop_ends_both_legs() {
        let mut s = sim("UCCE");
        let (original, consult, target) = consult_to_agent(&mut s);
        assert_eq!(s.agents["1002"].state, AgentState::NotReady);
        act(&mut s, "1001", &consult, "DROP");
        assert!(!s.dialogs.contains_key(&target));
        assert_eq!(s.agents["1002"].state, AgentState::NotReady);
        assert_eq!(s.dialogs[&original].associated, None);

        // Again, answered, and dropped by the consulted agent.
        act(&mut s, "1001", &original, "RETRIEVE");
        s.consult_call("1001", &original, "5002", "").unwrap();
        let consult = s.dialogs[&original].associated.clone().unwrap();
        let target = s.dialogs[&consult].peer.clone().unwrap();
        act(&mut s, "1002", &target, "ANSWER");
        assert_eq!(s.agents["1002"].state, AgentState::Talking);
        act(&mut s, "1002", &target, "DROP");
        assert!(!s.dialogs.contains_key(&consult) && !s.dialogs.contains_key(&target));
        assert_eq!(s.agents["1002"].state, AgentState::NotReady);
        assert!(s.dialogs.contains_key(&original));
    }

    #[test]
    fn conference_with_an_agent_lists_every_party_and_survives_a_drop() {
        let mut s = sim("UCCE");
        let (original, consult, target) = consult_to_agent(&mut s);
        act(&mut s, "1002", &target, "ANSWER");
        act(&mut s, "1001", &consult, "CONFERENCE");
        assert!(!s.dialogs.contains_key(&consult));
        let a = &s.dialogs[&original];
        let b = &s.dialogs[&target];
        assert_eq!((a.participants.len(), b.participants.len()), (3, 3));
        assert_eq!(
            (a.call_type.as_str(), b.call_type.as_str()),
            ("CONFERENCE", "CONFERENCE")
        );
        assert_eq!(b.state, "ACTIVE");
        act(&mut s, "1001", &original, "DROP");
        let b = &s.dialogs[&target];
        assert_eq!(b.participants.len(), 2);
        assert_eq!(b.participants[1].media_address, "4085550100");
        assert_eq!(s.agents["1001"].state, AgentState::NotReady);
        assert_eq!(s.agents["1002"].state, AgentState::Talking);
    }

    #[test]
    fn make_call_to_an_agent_is_agent_inside() {
        for dep in ["UCCE", "UCCX"] {
            let mut s = sim(dep);
            login(&mut s);
            login_as(&mut s, "1002", "5002");
            s.make_call("1001", "5002", "").unwrap();
            let a = s.agent_dialogs("1001").next().unwrap().clone();
            let b = s.dialogs[a.peer.as_deref().unwrap()].clone();
            assert_eq!(
                (a.call_type.as_str(), b.call_type.as_str()),
                ("AGENT_INSIDE", "AGENT_INSIDE")
            );
            assert_eq!((b.from.as_str(), b.state.as_str()), ("5001", "ALERTING"));
            act(&mut s, "1002", &b.id, "ANSWER");
            assert_eq!(s.dialogs[&a.id].state, "ACTIVE", "{dep}");
            assert_eq!(s.agents["1002"].state, AgentState::Talking, "{dep}");
            act(&mut s, "1001", &a.id, "DROP");
            assert!(s.dialogs.is_empty(), "{dep}");
            assert_eq!(s.agents["1002"].state, AgentState::NotReady, "{dep}");
        }
        // A signed-out agent's extension is an outside number.
        let mut s = sim("UCCE");
        login(&mut s);
        s.make_call("1001", "5002", "").unwrap();
        assert_eq!(s.agent_dialogs("1001").next().unwrap().call_type, "OUT");
        assert!(s.agent_dialogs("1002").next().is_none());
    }

    #[test]
    fn invalid_destinations_fail_asynchronously() {
        for (dep, error_type) in [
            ("UCCE", "Generic Error"),
            ("UCCX", "Call Operation Failure"),
        ] {
            let mut s = sim(dep);
            login(&mut s);
            let out = s.make_call("1001", "abc", "rq").unwrap();
            let d = s.agent_dialogs("1001").next().unwrap().clone();
            // POST, PUT FAILED (cause BAD_DESTINATION), then the error with the dialog as
            // source.
            assert!(out[0].update.contains("<event>POST</event>"));
            assert!(out[1].update.contains("<state>FAILED</state>"));
            assert!(out[1]
                .update
                .contains("<stateCause>BAD_DESTINATION</stateCause>"));
            let e = &out[2].update;
            assert!(e.contains("<apiErrors>") && e.contains("<requestId>rq</requestId>"));
            assert!(e.contains(&format!("<source>/finesse/api/Dialog/{}</source>", d.id)));
            assert!(
                e.contains(&format!("<errorType>{error_type}</errorType>")),
                "{e}"
            );
            assert_eq!(out[2].node, render::dialogs_uri("1001"));
            assert_eq!(s.participant_actions(&d, d.agent_leg()), ["DROP"]);
            // FAILED stays until DROP; it is no call for the agent's state.
            assert_eq!(s.agents["1001"].state, AgentState::NotReady);
            let hold = DialogRequest {
                action: "HOLD".into(),
                ..Default::default()
            };
            assert!(s.dialog_action("1001", &d.id, &hold, "").is_err());
            let out = act(&mut s, "1001", &d.id, "DROP");
            assert!(out
                .iter()
                .any(|p| p.update.contains("<event>DELETE</event>")));
            assert!(s.dialogs.is_empty());
        }
    }

    #[test]
    fn a_busy_destination_fails_the_dialog_until_dropped() {
        let mut s = sim("UCCE");
        login(&mut s);
        s.make_call("1001", "5550000", "").unwrap();
        let id = s.agent_dialogs("1001").next().unwrap().id.clone();
        assert_eq!(s.agents["1001"].state, AgentState::Talking);
        let out = s.far_end_busy(&id).unwrap();
        assert!(out
            .iter()
            .any(|p| p.update.contains("<stateCause>BUSY</stateCause>")));
        assert!(out
            .iter()
            .any(|p| p.update.contains("<errorMessage>CF_BUSY</errorMessage>")));
        assert_eq!(s.dialogs[&id].state, "FAILED");
        assert_eq!(s.agents["1001"].state, AgentState::NotReady);
        assert_eq!(s.far_end_busy(&id).unwrap_err().0, 409);
        act(&mut s, "1001", &id, "DROP");
        assert!(s.dialogs.is_empty());

        // A failed consult: the original stays held and offers no TRANSFER.
        let call = InboundCall {
            to_agent: Some("1001".into()),
            ani: "4085550100".into(),
            ..Default::default()
        };
        let (original, _) = s.inbound_call(&call).unwrap();
        act(&mut s, "1001", &original, "ANSWER");
        s.consult_call("1001", &original, "5550001", "").unwrap();
        let consult = s.dialogs[&original].associated.clone().unwrap();
        s.far_end_busy(&consult).unwrap();
        let o = &s.dialogs[&original];
        assert_eq!(
            s.participant_actions(o, o.agent_leg()),
            ["RETRIEVE", "DROP", "UPDATE_CALL_DATA"]
        );
        act(&mut s, "1001", &consult, "DROP");
        act(&mut s, "1001", &original, "RETRIEVE");
        assert_eq!(s.dialogs[&original].agent_leg().state, "ACTIVE");
    }
}
