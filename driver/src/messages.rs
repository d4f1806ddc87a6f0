//! The texts shown to the agent (status line and errors). Kept in one place so that the
//! locale resource files of a later release replace this module's table, not scattered strings.

use crate::protocol::AgentState;

/// Something to tell the agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    /// The first connection to the broker is being made.
    Connecting,
    /// The broker cannot be reached; the driver keeps trying.
    BrokerDown,
    /// The broker is reachable but no connector has answered yet.
    WaitingForConnector,
    /// A connector is in service.
    ConnectorInService,
    /// The connector reported it cannot serve (with its detail).
    ConnectorOutOfService(String),
    /// A login request was sent.
    LoggingIn(String),
    /// The agent is logged in (agent id, first name, last name, extension).
    LoggedIn {
        /// Agent id.
        agent: String,
        /// Display name, if known.
        name: Option<String>,
        /// Extension.
        extension: Option<String>,
    },
    /// The agent's state changed (state, reason label).
    State(AgentState, Option<String>),
    /// The agent is logged out.
    LoggedOut,
    /// A login field is missing (the field's name).
    Missing(&'static str),
    /// A command needs a logged-in agent.
    NotLoggedIn,
    /// The CTI service is not available for commands now.
    Offline,
    /// The agent id is already in use by another session of this driver.
    AgentInUse(String),
    /// A request got no answer in time.
    NoAnswer,
    /// A request failed (the connector's or driver's message).
    Failed(String),
}

fn state_label(s: AgentState) -> &'static str {
    match s {
        AgentState::Logout => "Logged out",
        AgentState::NotReady => "Not Ready",
        AgentState::Ready => "Ready",
        AgentState::Reserved => "Reserved",
        AgentState::Talking => "Talking",
        AgentState::Hold => "On hold",
        AgentState::Work => "Wrap-up",
        AgentState::WorkReady => "Wrap-up (Ready next)",
        AgentState::Unknown => "Unknown",
    }
}

impl Msg {
    /// The English text.
    pub fn text(&self) -> String {
        match self {
            Msg::Connecting => "CTI is starting: connecting to the message broker...".into(),
            Msg::BrokerDown => {
                "CTI is unavailable: cannot reach the message broker. Reconnecting...".into()
            }
            Msg::WaitingForConnector => {
                "CTI is unavailable: waiting for the CTI connector to answer.".into()
            }
            Msg::ConnectorInService => "CTI is available.".into(),
            Msg::ConnectorOutOfService(d) if d.is_empty() => {
                "CTI is unavailable: the CTI connector is out of service.".into()
            }
            Msg::ConnectorOutOfService(d) => {
                format!("CTI is unavailable: the CTI connector is out of service ({d}).")
            }
            Msg::LoggingIn(a) => format!("Logging in agent {a}..."),
            Msg::LoggedIn {
                agent,
                name,
                extension,
            } => {
                let who = name.clone().unwrap_or_else(|| format!("agent {agent}"));
                match extension {
                    Some(e) => format!("Logged in as {who} on extension {e}."),
                    None => format!("Logged in as {who}."),
                }
            }
            Msg::State(s, Some(r)) => format!("State: {} ({r}).", state_label(*s)),
            Msg::State(s, None) => format!("State: {}.", state_label(*s)),
            Msg::LoggedOut => "Logged out.".into(),
            Msg::Missing(f) => format!("Cannot log in: the {f} is missing."),
            Msg::NotLoggedIn => "This needs a logged-in agent.".into(),
            Msg::Offline => "CTI is unavailable right now; try again when it is back.".into(),
            Msg::AgentInUse(a) => format!("Agent {a} is already in use in another session."),
            Msg::NoAnswer => "No answer from the CTI connector; please try again.".into(),
            Msg::Failed(m) => format!("Request failed: {m}"),
        }
    }
}
