//! The wire protocol between driver instances and connectors (see `docs/protocol.md`).
//!
//! JSON bodies in STOMP frames: `{"v":1,"id":"...","type":"Login","body":{...}}`.
//! `v` is the major version; a receiver answers an unknown major version with an `Error`.
//! Unknown fields are ignored so that minor additions do not break older peers.

use serde::{Deserialize, Serialize};

/// The protocol's major version.
pub const PROTOCOL_VERSION: u32 = 1;
/// Default queue that connectors consume requests from.
pub const DEFAULT_REQUEST_QUEUE: &str = "/queue/siebelcti.requests";
/// The topic on which the connectors serving `request_queue` announce their status:
/// `/topic/<queue name>.status`, so that separate clusters sharing a broker do not hear each
/// other.
pub fn status_topic(request_queue: &str) -> String {
    let name = request_queue
        .strip_prefix("/queue/")
        .or_else(|| request_queue.strip_prefix("/topic/"))
        .unwrap_or(request_queue);
    format!("/topic/{name}.status")
}

/// The topic on which the driver instances of `request_queue` announce their client ids
/// (`/topic/<queue name>.drivers`): apart from the status topic, so that on a closed broker
/// only connectors may write the status (`scripts/activemq.sh`).
pub fn drivers_topic(request_queue: &str) -> String {
    let status = status_topic(request_queue);
    format!("{}.drivers", status.trim_end_matches(".status"))
}

/// The STOMP header in which a connector names itself (`name/instance`, as in `System`) on
/// every message it sends, so a driver knows which connector serves each agent.
pub const CONNECTOR_HEADER: &str = "siebelcti-connector";

/// The reply/event queue of one driver instance.
pub fn driver_queue(client_id: &str) -> String {
    format!("/queue/siebelcti.driver.{client_id}")
}

/// One protocol message with its envelope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Protocol major version.
    pub v: u32,
    /// Correlation id: unique per request; events answering a request carry it in `re`.
    pub id: String,
    /// The id of the request this message answers, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub re: Option<String>,
    /// A request's proof of the agent's credential ([`agent_proof`]); the connector acts on
    /// an agent it holds a session for only with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<String>,
    /// The message itself.
    #[serde(flatten)]
    pub msg: Message,
}

/// Every message type, requests (driver -> connector) and events (connector -> driver).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "body")]
pub enum Message {
    /// Request: a driver instance announces itself and asks for the connector's status.
    Hello {
        /// The driver instance's client id (its reply queue is derived from it).
        driver: String,
        /// Where to send replies and events.
        #[serde(rename = "replyTo")]
        reply_to: String,
        /// Product and version of the driver, for the connector's log and console.
        product: String,
        /// The host the driver instance runs on (the Siebel server), for the console.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        host: String,
    },
    /// Request: the driver instance owns this agent; send its events to `replyTo`.
    /// After a reconnect it carries the agent's password (when the driver has it) so that a
    /// restarted or failed-over connector can rebuild the agent's Finesse session.
    Connect {
        /// Agent id.
        agent: String,
        /// Where to send the agent's events.
        #[serde(rename = "replyTo")]
        reply_to: String,
        /// The agent's password, as in `Login`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<String>,
        /// Whether `password` is encrypted.
        #[serde(default)]
        encrypted: bool,
    },
    /// Request: stop sending this agent's events to this driver instance.
    Disconnect {
        /// Agent id.
        agent: String,
    },
    /// Request: log the agent in to the contact center.
    Login {
        /// Agent id.
        agent: String,
        /// Password: clear, or Triple-DES/base64 when `encrypted` is true.
        password: String,
        /// Whether `password` is encrypted.
        #[serde(default)]
        encrypted: bool,
        /// The agent's extension (teleset DN).
        extension: String,
    },
    /// Request: log the agent out.
    Logout {
        /// Agent id.
        agent: String,
        /// Optional logout reason code id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Log out from any state (the Siebel session ended): through Not Ready when the
        /// agent is Ready or in wrap-up, and when the call ends during a call.
        #[serde(default, skip_serializing_if = "is_false")]
        force: bool,
    },
    /// Request: change the agent state (READY, NOT_READY, WORK_READY...).
    SetState {
        /// Agent id.
        agent: String,
        /// The requested state.
        state: AgentState,
        /// Optional reason code id (NOT_READY).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Request: send the agent's full state (used after any reconnect or failover).
    Snapshot {
        /// Agent id.
        agent: String,
    },
    /// Request: the agent's reason codes of a category: `NOT_READY` or `LOGOUT` (Finesse's
    /// ReasonCodes), or `WRAP_UP` (Finesse's WrapUpReasons).
    GetReasonCodes {
        /// Agent id.
        agent: String,
        /// `NOT_READY`, `LOGOUT` or `WRAP_UP`.
        category: String,
    },
    /// Event: an agent's reason codes of a category.
    ReasonCodes {
        /// Agent id.
        agent: String,
        /// `NOT_READY`, `LOGOUT` or `WRAP_UP`.
        category: String,
        /// The codes, in Finesse's order.
        codes: Vec<ReasonCode>,
    },
    /// Event: a connector's status (reply to Hello, and broadcast on the status topic).
    System {
        /// IN_SERVICE or OUT_OF_SERVICE.
        status: SystemStatus,
        /// The connector's name.
        connector: String,
        /// Human detail (e.g. which Finesse node is in use, or why it is out of service).
        #[serde(default)]
        detail: String,
        /// Unique per connector process start: tells a restarted connector from its
        /// predecessor of the same name (whose last words may arrive late).
        #[serde(default)]
        instance: String,
    },
    /// Request: a call control action on one of the agent's dialogs.
    CallAction {
        /// Agent id.
        agent: String,
        /// Finesse dialog id.
        dialog: String,
        /// The action.
        action: CallAction,
        /// Target number for transfers, consult calls; digits for DTMF.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    /// Request: place a call from the agent's extension.
    MakeCall {
        /// Agent id.
        agent: String,
        /// Number or extension to call.
        to: String,
    },
    /// Request: set call data on a dialog (wrap-up reason, call variables).
    UpdateCallData {
        /// Agent id.
        agent: String,
        /// Dialog id.
        dialog: String,
        /// Wrap-up reason label.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wrap_up_reason: Option<String>,
        /// Call variables (`callVariable1`..`callVariable10`) and ECC variables (`user.*`)
        /// to set, as (name, value).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        variables: Vec<(String, String)>,
    },
    /// Request: a supervisor silently monitors the call of an agent of its team (Finesse
    /// SILENT_MONITOR; the supervisor must be Not Ready): a monitoring dialog for the
    /// supervisor.
    SilentMonitor {
        /// The supervisor's id.
        agent: String,
        /// The monitored agent's extension.
        to: String,
    },
    /// Request: a supervisor barges into the call it silently monitors (Finesse BARGE_CALL):
    /// the call becomes a conference with the supervisor.
    BargeCall {
        /// The supervisor's id.
        agent: String,
        /// The supervisor's monitoring dialog.
        dialog: String,
        /// The monitored agent's extension.
        to: String,
    },
    /// Request: a standby connector (exclusive consumer) sends this to the request queue;
    /// whichever connector receives it holds the queue. A standby that receives one has
    /// taken over and announces itself.
    Probe {
        /// The sending connector's instance.
        instance: String,
    },
    /// Status topic: a driver instance announces its client id, so two instances configured
    /// with the same `Driver:ClientId` see each other.
    Announce {
        /// The driver instance's client id.
        driver: String,
        /// Unique per driver instance (process and start).
        nonce: String,
    },
    /// Event: Finesse accepted the request `re`; its outcome follows as events (call
    /// requests, whose notifications need not name the request).
    Accepted {},
    /// Event: the agent's state.
    Agent(AgentInfo),
    /// Event: one of the agent's calls, as it is now.
    Dialog(Box<DialogInfo>),
    /// Event: all the agent's calls (the dialog part of a snapshot); a call the driver knows
    /// but this list lacks has ended.
    DialogList {
        /// Agent id.
        agent: String,
        /// The calls.
        dialogs: Vec<DialogInfo>,
    },
    /// Event: a request failed, or something went wrong for an agent.
    Error {
        /// Agent id, if the error concerns one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
        /// Machine-readable code (see `docs/protocol.md`).
        code: String,
        /// Human message (English; the driver shows its own localized text per code).
        message: String,
        /// The Finesse dialog the error concerns (an asynchronous call failure), so the
        /// agent's message lands on that call's work item.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dialog: Option<String>,
    },
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Message {
    /// The agent a request is about (`None` for Hello, Probe, Announce and events): the
    /// message group (`JMSXGroupID`) that keeps one agent's requests on one connector.
    pub fn agent(&self) -> Option<&str> {
        match self {
            Message::Connect { agent, .. }
            | Message::Disconnect { agent }
            | Message::Login { agent, .. }
            | Message::Logout { agent, .. }
            | Message::SetState { agent, .. }
            | Message::Snapshot { agent }
            | Message::GetReasonCodes { agent, .. }
            | Message::CallAction { agent, .. }
            | Message::MakeCall { agent, .. }
            | Message::UpdateCallData { agent, .. }
            | Message::SilentMonitor { agent, .. }
            | Message::BargeCall { agent, .. } => Some(agent),
            _ => None,
        }
    }
}

/// Connector status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SystemStatus {
    /// The connector and its Finesse link work.
    InService,
    /// The connector cannot serve requests now.
    OutOfService,
}

/// Agent states, as Cisco Finesse names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgentState {
    /// Logged out.
    Logout,
    /// Logged in, not ready for calls.
    NotReady,
    /// Ready for calls.
    Ready,
    /// A call is being offered.
    Reserved,
    /// On a call.
    Talking,
    /// A call is on hold.
    Hold,
    /// Wrap-up, not ready afterwards.
    Work,
    /// Wrap-up, ready afterwards.
    WorkReady,
    /// Unknown to the contact center.
    Unknown,
}

impl AgentState {
    /// The Finesse name (e.g. `NOT_READY`).
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
            AgentState::Unknown => "UNKNOWN",
        }
    }
}

/// Call control actions (Finesse `requestedAction`s).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CallAction {
    /// Answer an alerting call.
    Answer,
    /// Put the call on hold.
    Hold,
    /// Take the call off hold.
    Retrieve,
    /// Hang up.
    Drop,
    /// Single-step (blind) transfer to `to` (UCCE).
    TransferSst,
    /// Start a consult call to `to` from this (held) call.
    ConsultCall,
    /// Complete a consult transfer (on the consult dialog).
    Transfer,
    /// Complete a conference (on the consult dialog).
    Conference,
    /// Send DTMF digits (`to`).
    SendDtmf,
}

impl CallAction {
    /// The Finesse name.
    pub fn as_str(self) -> &'static str {
        match self {
            CallAction::Answer => "ANSWER",
            CallAction::Hold => "HOLD",
            CallAction::Retrieve => "RETRIEVE",
            CallAction::Drop => "DROP",
            CallAction::TransferSst => "TRANSFER_SST",
            CallAction::ConsultCall => "CONSULT_CALL",
            CallAction::Transfer => "TRANSFER",
            CallAction::Conference => "CONFERENCE",
            CallAction::SendDtmf => "SEND_DTMF",
        }
    }
}

/// A call of an agent, from Finesse's Dialog.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DialogInfo {
    /// Agent id.
    pub agent: String,
    /// Finesse dialog id (the work item's tracking id in Siebel).
    pub id: String,
    /// Dialog state: INITIATING, INITIATED, ALERTING, ACTIVE, HELD, FAILED, DROPPED.
    pub state: String,
    /// The agent's own participant state (e.g. ALERTING while the dialog is ACTIVE for a
    /// conference invitee, DROPPED when the agent left).
    pub agent_state: String,
    /// Calling number (ANI).
    pub from_address: String,
    /// Called number.
    pub to_address: String,
    /// DNIS.
    #[serde(default)]
    pub dnis: String,
    /// Dialed number.
    #[serde(default)]
    pub dialed_number: String,
    /// Call type (ACD_IN, PREROUTE_ACD_IN, OUT, AGENT_INSIDE, CONSULT, TRANSFER, CONFERENCE...).
    #[serde(default)]
    pub call_type: String,
    /// Queue name.
    #[serde(default)]
    pub queue_name: String,
    /// Queue number.
    #[serde(default)]
    pub queue_number: String,
    /// Wrap-up reason.
    #[serde(default)]
    pub wrap_up_reason: String,
    /// Call variables and ECC variables in Finesse order (`callVariable1`..`callVariable10`,
    /// `user.*`).
    #[serde(default)]
    pub variables: Vec<(String, String)>,
    /// The dialog this one consults from, if any (a consult call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated: Option<String>,
    /// The actions the agent may take now.
    #[serde(default)]
    pub actions: Vec<String>,
    /// Other parties' addresses.
    #[serde(default)]
    pub participants: Vec<String>,
    /// When the agent's participation started (ISO 8601), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// Whether the dialog ended (Finesse DELETE, or DROPPED). A FAILED dialog has not ended:
    /// it stays until the agent drops it.
    #[serde(default)]
    pub ended: bool,
    /// Why the agent's participant failed (BUSY, BAD_DESTINATION, OTHER), when FAILED.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub state_cause: String,
    /// After a transfer or conference, the id of the call merged away (`secondaryId`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub secondary_id: String,
}

/// A reason code as Finesse defines it (a wrap-up reason has an id and a label, no code).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCode {
    /// Finesse's id (what a state change request carries).
    pub id: String,
    /// The numeric code reported to the contact center (empty for a wrap-up reason).
    pub code: String,
    /// The label agents see.
    pub label: String,
}

/// The body of an `Agent` event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    /// Agent id.
    pub agent: String,
    /// Current state.
    pub state: Option<AgentState>,
    /// State that applies when the current call ends, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_state: Option<AgentState>,
    /// Reason code (numeric code as Finesse shows it), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// Reason code label, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_label: Option<String>,
    /// Extension the agent is logged in on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// When the state began, ISO 8601 (Finesse's `stateChangeTime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_change_time: Option<String>,
    /// Whether Finesse places a call from READY (UCCE 12.5(1) and later, which move the agent
    /// to NOT_READY first); otherwise a call is placed only from NOT_READY.
    #[serde(default, skip_serializing_if = "is_false")]
    pub make_call_from_ready: bool,
    /// The user is a supervisor (Finesse User `roles` holds `Supervisor`): silent monitor and
    /// barge are offered.
    #[serde(default, skip_serializing_if = "is_false")]
    pub supervisor: bool,
}

/// Why a body could not be read as a protocol message.
#[derive(Debug)]
pub enum DecodeError {
    /// Not JSON, or not one of our messages.
    Malformed(String),
    /// A major version this side does not speak.
    Version(u32),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Malformed(m) => write!(f, "malformed message: {m}"),
            DecodeError::Version(v) => write!(
                f,
                "unsupported protocol version {v} (this side speaks {PROTOCOL_VERSION})"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

impl Envelope {
    /// A new envelope with the current version.
    pub fn new(id: impl Into<String>, msg: Message) -> Self {
        Envelope {
            v: PROTOCOL_VERSION,
            id: id.into(),
            re: None,
            proof: None,
            msg,
        }
    }

    /// Marks this message as the answer to request `re`.
    pub fn answering(mut self, re: &str) -> Self {
        self.re = Some(re.to_string());
        self
    }

    /// JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing these plain structs cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses JSON bytes, checking the version first.
    pub fn from_json(body: &[u8]) -> Result<Self, DecodeError> {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        let v = value.get("v").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
        if v != PROTOCOL_VERSION {
            return Err(DecodeError::Version(v));
        }
        serde_json::from_value(value).map_err(|e| DecodeError::Malformed(e.to_string()))
    }

    /// A copy safe to log: passwords replaced by `***`.
    pub fn redacted(&self) -> String {
        let mut copy = self.clone();
        if let Some(p) = &mut copy.proof {
            *p = "***".into();
        }
        match &mut copy.msg {
            Message::Login { password, .. } => *password = "***".into(),
            Message::Connect {
                password: Some(p), ..
            } => *p = "***".into(),
            _ => {}
        }
        String::from_utf8_lossy(&copy.to_json()).into_owned()
    }
}

pub use crate::secure::{agent_proof, same_proof};

#[cfg(test)]
mod tests;
