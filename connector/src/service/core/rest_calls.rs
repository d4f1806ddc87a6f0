//! The Finesse REST calls the core asks the shell to make, and their answers.

use driver::protocol::{AgentInfo, ReasonCode};

use crate::rest::{Credentials, DialogAction, StateChange, SupervisorDialog};
use crate::xml::{Element, SystemInfo};

/// A Finesse REST call for the shell to make, on the node given in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestCall {
    /// `PUT /User/{agent}` with a state change (answer: [`RestAnswer::Done`]).
    SetState {
        /// Base URL of the node.
        node: String,
        /// Agent id.
        agent: String,
        /// The agent's credentials.
        creds: Credentials,
        /// The body.
        change: StateChange,
        /// The `requestId` header (the driver request's id).
        request_id: String,
    },
    /// `GET /User/{agent}` (answer: [`RestAnswer::User`]).
    User {
        /// Base URL of the node.
        node: String,
        /// Agent id.
        agent: String,
        /// The agent's (or the admin's) credentials.
        creds: Credentials,
    },
    /// `GET /User/{agent}/Dialogs` (answer: [`RestAnswer::Dialogs`]).
    Dialogs {
        /// Base URL of the node.
        node: String,
        /// Agent id.
        agent: String,
        /// The agent's (or the admin's) credentials.
        creds: Credentials,
    },
    /// `PUT` (or `POST` for `CONSULT_CALL`) `/Dialog/{dialog}` (answer: [`RestAnswer::Done`]).
    DialogAction {
        /// Base URL of the node.
        node: String,
        /// Dialog id.
        dialog: String,
        /// The agent's credentials.
        creds: Credentials,
        /// The body.
        action: DialogAction,
        /// The `requestId` header.
        request_id: String,
    },
    /// `POST /User/{agent}/Dialogs` with `MAKE_CALL` (answer: [`RestAnswer::Done`]).
    MakeCall {
        /// Base URL of the node.
        node: String,
        /// Agent id.
        agent: String,
        /// The agent's credentials.
        creds: Credentials,
        /// The agent's extension.
        from: String,
        /// The number to call.
        to: String,
        /// The `requestId` header.
        request_id: String,
    },
    /// `POST /User/{agent}/Dialogs` with `SILENT_MONITOR` or `BARGE_CALL` by a supervisor
    /// (answer: [`RestAnswer::Done`]).
    Supervise {
        /// Base URL of the node.
        node: String,
        /// The supervisor's id.
        agent: String,
        /// The supervisor's credentials.
        creds: Credentials,
        /// The body.
        body: SupervisorDialog,
        /// The `requestId` header.
        request_id: String,
    },
    /// `GET /User/{agent}/ReasonCodes?category=…` (answer: [`RestAnswer::ReasonCodes`]).
    ReasonCodes {
        /// Base URL of the node.
        node: String,
        /// Agent id.
        agent: String,
        /// The agent's credentials.
        creds: Credentials,
        /// `NOT_READY` or `LOGOUT`.
        category: String,
    },
    /// `GET /User/{agent}/WrapUpReasons` (answer: [`RestAnswer::ReasonCodes`], without codes).
    WrapUpReasons {
        /// Base URL of the node.
        node: String,
        /// Agent id.
        agent: String,
        /// The agent's credentials.
        creds: Credentials,
    },
    /// `GET /SystemInfo` (answer: [`RestAnswer::SystemInfo`]).
    SystemInfo {
        /// Base URL of the node.
        node: String,
        /// The admin account, if configured.
        creds: Option<Credentials>,
    },
}

impl RestCall {
    /// The call's type, for the latency histogram (`crate::metrics::CALL_TYPES`).
    pub fn kind(&self) -> &'static str {
        use RestCall as C;
        match self {
            C::SetState { .. } => "SetState",
            C::User { .. } => "User",
            C::Dialogs { .. } => "Dialogs",
            C::DialogAction { .. } => "DialogAction",
            C::MakeCall { .. } => "MakeCall",
            C::Supervise { .. } => "Supervise",
            C::ReasonCodes { .. } => "ReasonCodes",
            C::WrapUpReasons { .. } => "WrapUpReasons",
            C::SystemInfo { .. } => "SystemInfo",
        }
    }
}

/// A successful answer to a [`RestCall`].
#[derive(Clone, Debug, PartialEq)]
pub enum RestAnswer {
    /// Accepted (202), no body used.
    Done,
    /// A user.
    User(AgentInfo),
    /// The agent's dialogs (XML, read with the agent's extension).
    Dialogs(Vec<Element>),
    /// Reason codes (or wrap-up reasons).
    ReasonCodes(Vec<ReasonCode>),
    /// SystemInfo.
    SystemInfo(SystemInfo),
}
