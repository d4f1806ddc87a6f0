//! Device commands and device events the driver supports, and the toolbar state (the flags
//! sent with `CacheCommandInformation`). The matrices are in `docs/toolbar.md`.

use crate::host::CommandStatus;
use crate::protocol::AgentState;

/// `SCCommandFlag` bits, as Oracle documents them.
pub mod flags {
    /// The driver does not support the command.
    pub const NOT_SUPPORTED: u32 = 1;
    /// Supported but not available now (greyed).
    pub const DISABLED: u32 = 2;
    /// Shown pressed.
    pub const CHECKED: u32 = 4;
    /// Shown blinking.
    pub const BLINKING: u32 = 8;
    /// May be invoked without parameters.
    pub const NO_PARAMS_OK: u32 = 16;
    /// May be invoked with a single string parameter.
    pub const STR_PARAMS_OK: u32 = 32;
}

macro_rules! commands {
    ($($(#[$doc:meta])* $name:ident: $desc:literal, str: $str:literal;)*) => {
        /// A device command (the `DeviceCommand` of a DEF command).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Command { $($(#[$doc])* $name,)* }

        impl Command {
            /// Every command, in toolbar order.
            pub const ALL: &'static [Command] = &[$(Command::$name,)*];

            /// The name Siebel uses.
            pub fn name(self) -> &'static str {
                match self { $(Command::$name => stringify!($name),)* }
            }

            /// Description for the toolbar.
            pub fn description(self) -> &'static str {
                match self { $(Command::$name => $desc,)* }
            }

            /// Whether the command takes the toolbar's text (a number, a reason) as its
            /// string parameter.
            pub fn takes_string(self) -> bool {
                match self { $(Command::$name => $str,)* }
            }
        }
    };
}

commands! {
    /// Log the agent in (agent id, password, extension).
    LogIn: "Log in to the contact center", str: false;
    /// Log the agent out (optional reason).
    LogOut: "Log out of the contact center", str: true;
    /// Become Ready (pending when on a call).
    ChangeReadyState: "Become ready for calls", str: false;
    /// Become Not Ready, with a reason code (pending when on a call).
    ChangeNotReadyState: "Become not ready", str: true;
    /// Ask for wrap-up after the current call (WORK_READY).
    ChangeWorkReadyState: "Wrap up after this call", str: false;
    /// Set the wrap-up reason of the last call.
    SetWrapUpReason: "Set the wrap-up reason of the last call", str: true;
    /// Answer the ringing call.
    AnswerCall: "Answer the call", str: false;
    /// Hang up the current call.
    ReleaseCall: "Hang up", str: false;
    /// Put the current call on hold.
    HoldCall: "Hold", str: false;
    /// Take the held call back.
    RetrieveCall: "Resume", str: false;
    /// Call a number or extension (Not Ready only).
    MakeCall: "Make a call", str: true;
    /// Consult another party before a transfer.
    InitTransfer: "Consult for a transfer", str: true;
    /// Complete the consult transfer.
    CompleteTransfer: "Complete the transfer", str: false;
    /// Consult another party before a conference.
    InitConference: "Consult for a conference", str: true;
    /// Join the consulted party into a conference.
    CompleteConference: "Complete the conference", str: false;
    /// Single-step (blind) transfer (UCCE only).
    TransferMute: "Blind transfer", str: true;
    /// Switch between the held and the active call.
    AlternateCall: "Switch calls", str: false;
    /// Send DTMF digits on the current call.
    SendDTMF: "Send digits", str: true;
    /// Change the driver's log level at run time (string parameter: the level).
    SetLogLevel: "Change the driver's log level", str: true;
    /// The work item picked in the toolbar's work-item list (`TrackingID`) becomes the
    /// current call: the other call is held and the picked one taken back.
    SetCurrentWorkItem: "Select a call", str: false;
    /// Read the agent's state and calls from the contact center again and rebuild the
    /// toolbar from them.
    ResetState: "Read the agent state again", str: false;
    /// Supervisors: silently monitor the call of a team agent (string parameter: the agent's
    /// extension); the supervisor must be Not Ready with no call.
    SilentMonitor: "Silently monitor an agent's call", str: true;
    /// Supervisors: barge into the monitored call (it becomes a conference).
    BargeIn: "Barge into the monitored call", str: false;
}

impl Command {
    /// Looks a command up by name (case-insensitive, as Siebel names are).
    pub fn from_name(name: &str) -> Option<Command> {
        Command::ALL
            .iter()
            .copied()
            .find(|c| c.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The Finesse dialog action a call command needs on the current call, if any.
    pub fn dialog_action(self) -> Option<&'static str> {
        Some(match self {
            Command::AnswerCall => "ANSWER",
            Command::ReleaseCall => "DROP",
            Command::HoldCall => "HOLD",
            Command::RetrieveCall => "RETRIEVE",
            Command::InitTransfer | Command::InitConference => "CONSULT_CALL",
            Command::CompleteTransfer => "TRANSFER",
            Command::CompleteConference => "CONFERENCE",
            Command::TransferMute => "TRANSFER_SST",
            Command::SendDTMF => "SEND_DTMF",
            Command::BargeIn => "BARGE_CALL",
            _ => return None,
        })
    }
}

/// Device events the driver raises with `HandleEvent`.
pub mod events {
    /// The agent logged in.
    pub const AGENT_LOGIN: &str = "EventAgentLogin";
    /// The agent logged out.
    pub const AGENT_LOGOUT: &str = "EventAgentLogout";
    /// The agent became Ready.
    pub const AGENT_READY: &str = "EventAgentReady";
    /// The agent became Not Ready.
    pub const AGENT_NOT_READY: &str = "EventAgentNotReady";
    /// The agent is in wrap-up (WORK / WORK_READY).
    pub const AGENT_WORK: &str = "EventAgentWork";
    /// A request failed or the CTI link reported an error.
    pub const ERROR: &str = "EventError";
    /// The agent's reason codes of a category (after login, when reason codes are on).
    pub const REASON_CODES: &str = "EventReasonCodes";
    /// A call rings at the agent (inbound, transfer, consult from another agent).
    pub const RINGING: &str = "EventRinging";
    /// The agent's outbound call is being dialed.
    pub const DIALING: &str = "EventDialing";
    /// A call is connected.
    pub const ESTABLISHED: &str = "EventEstablished";
    /// A call was put on hold.
    pub const HELD: &str = "EventHeld";
    /// A held call was taken back.
    pub const RETRIEVED: &str = "EventRetrieved";
    /// A call ended for the agent.
    pub const RELEASED: &str = "EventReleased";
    /// Every event, as returned by `RequestCommandEventList`.
    pub const ALL: [&str; 13] = [
        AGENT_LOGIN,
        AGENT_LOGOUT,
        AGENT_READY,
        AGENT_NOT_READY,
        AGENT_WORK,
        ERROR,
        REASON_CODES,
        RINGING,
        DIALING,
        ESTABLISHED,
        HELD,
        RETRIEVED,
        RELEASED,
    ];
}

/// The current call, as the toolbar needs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallView {
    /// The actions Finesse allows the agent on it now.
    pub actions: Vec<String>,
    /// It is ringing at the agent.
    pub alerting: bool,
    /// The agent's calls in all.
    pub calls: usize,
    /// Another call of the agent is on hold (switching is possible).
    pub other_held: bool,
}

/// What the toolbar depends on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ToolbarInput {
    /// Broker link up and a connector in service.
    pub online: bool,
    /// A request is under way (login, logout, state change): wait for its outcome.
    pub busy: bool,
    /// The agent's current state (None: not known, i.e. logged out).
    pub state: Option<AgentState>,
    /// The state that applies when the current call ends, if one was asked for.
    pub pending: Option<AgentState>,
    /// Not Ready reason codes are on: Not Ready stays available to change the reason.
    pub reasons: bool,
    /// The current call, if any.
    pub call: Option<CallView>,
    /// UCCX rules (no single-step transfer, no wrap-up asked during a call).
    pub uccx: bool,
    /// A call ended and its wrap-up reason can still be set.
    pub wrap_up: bool,
    /// Finesse places a call from READY (UCCE 12.5(1) and later, as the connector reports).
    pub make_call_from_ready: bool,
    /// The user is a supervisor (silent monitor and barge).
    pub supervisor: bool,
}

/// Whether a manual outbound call may be placed: no call, and Not Ready (any release) or Ready
/// where Finesse allows it (`from_ready`: UCCE 12.5(1) and later move the agent to Not Ready,
/// reason 50006; older UCCE releases and UCCX refuse with Invalid State).
pub fn make_call_allowed(state: AgentState, on_call: bool, from_ready: bool) -> bool {
    !on_call && (state == AgentState::NotReady || (state == AgentState::Ready && from_ready))
}

/// The status of every command for this situation (the matrices of `docs/toolbar.md`).
pub fn toolbar(input: &ToolbarInput) -> Vec<CommandStatus> {
    use flags::*;
    use AgentState::*;
    let state = input.state.unwrap_or(Logout);
    let on_call = matches!(state, Talking | Hold) || input.call.is_some();
    let can = |a: &str| {
        input
            .call
            .as_ref()
            .is_some_and(|c| c.actions.iter().any(|x| x == a))
    };
    Command::ALL
        .iter()
        .map(|&c| {
            let allowed = match c {
                Command::LogIn => state == Logout,
                Command::LogOut => state == NotReady && !on_call,
                Command::ChangeReadyState => {
                    matches!(state, NotReady | Work | WorkReady) || on_call
                }
                Command::ChangeNotReadyState => {
                    matches!(state, Ready | Work | WorkReady)
                        || on_call
                        || (state == NotReady && input.reasons)
                }
                // UCCX refuses WORK_READY during a call (wrap-up comes from the CSQ).
                Command::ChangeWorkReadyState => on_call && !input.uccx,
                Command::SetWrapUpReason => input.wrap_up || input.call.is_some(),
                Command::MakeCall => {
                    make_call_allowed(state, on_call, input.make_call_from_ready && !input.uccx)
                }
                Command::AlternateCall => input.call.as_ref().is_some_and(|v| v.other_held),
                Command::SetCurrentWorkItem => input.call.is_some(),
                Command::ResetState => state != Logout,
                Command::TransferMute if input.uccx => false,
                // Finesse: a supervisor starts silent monitoring from NOT_READY, with no call.
                Command::SilentMonitor => {
                    input.supervisor && state == NotReady && input.call.is_none()
                }
                Command::BargeIn => input.supervisor && can("BARGE_CALL"),
                Command::SetLogLevel => true,
                other => other.dialog_action().is_some_and(can),
            };
            // SetLogLevel acts on the driver itself: always available.
            let enabled = c == Command::SetLogLevel || (input.online && !input.busy && allowed);
            // HoldCall is checked while the current call is held (a Hold/Resume toggle).
            let checked = matches!(
                (c, state),
                (Command::ChangeReadyState, Ready) | (Command::ChangeNotReadyState, NotReady)
            ) || (c == Command::HoldCall && can("RETRIEVE"));
            let blinking = matches!(
                (c, input.pending),
                (Command::ChangeReadyState, Some(Ready))
                    | (Command::ChangeNotReadyState, Some(NotReady))
                    | (Command::ChangeWorkReadyState, Some(WorkReady))
                    | (Command::ChangeWorkReadyState, Some(Work))
            ) || (c == Command::AnswerCall
                && enabled
                && input.call.as_ref().is_some_and(|v| v.alerting));
            let mut f = NO_PARAMS_OK;
            if c.takes_string() {
                f |= STR_PARAMS_OK;
            }
            if c == Command::TransferMute && input.uccx {
                f |= NOT_SUPPORTED;
            }
            if !enabled {
                f |= DISABLED;
            }
            if checked {
                f |= CHECKED;
            }
            if blinking {
                f |= BLINKING;
            }
            CommandStatus {
                name: c.name(),
                description: c.description(),
                flags: f,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Command::ALL {
            assert_eq!(Command::from_name(&c.name().to_lowercase()), Some(*c));
        }
        assert_eq!(Command::from_name("Fly"), None);
    }

    fn state(s: &str) -> Option<AgentState> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }

    fn flag_letters(cell: &str) -> u32 {
        use flags::*;
        cell.split_whitespace()
            .map(|f| match f {
                "D" => DISABLED,
                "C" => CHECKED,
                "B" => BLINKING,
                "N" => NOT_SUPPORTED,
                _ => 0,
            })
            .fold(0, |a, b| a | b)
    }

    /// Checks every cell of the tables of `docs/toolbar.md` whose first header is `first`;
    /// `inputs` is the number of input columns, `make` builds the toolbar input of a row.
    fn check_tables(first: &str, inputs: usize, make: impl Fn(&[&str]) -> ToolbarInput) -> usize {
        use flags::*;
        let doc = include_str!("../../docs/toolbar.md");
        let mut header: Vec<&str> = Vec::new();
        let mut rows = 0;
        for line in doc.lines() {
            if !line.starts_with('|') {
                header.clear();
                continue;
            }
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            if cells[0].starts_with("---") {
                continue;
            }
            if header.is_empty() {
                header = cells;
                continue;
            }
            if header[0] != first {
                continue;
            }
            assert_eq!(cells.len(), header.len(), "{line}");
            let got = toolbar(&make(&cells));
            for (col, name) in header.iter().enumerate().skip(inputs) {
                let c = got
                    .iter()
                    .find(|c| c.name == *name)
                    .unwrap_or_else(|| panic!("no command {name}"));
                let cmd = Command::from_name(name).unwrap();
                let base = NO_PARAMS_OK | if cmd.takes_string() { STR_PARAMS_OK } else { 0 };
                assert_eq!(
                    c.flags,
                    base | flag_letters(cells[col]),
                    "{name} in row {line}"
                );
            }
            rows += 1;
        }
        rows
    }

    #[test]
    fn agent_state_matrix_of_the_docs() {
        let rows = check_tables("state", 6, |c| ToolbarInput {
            state: state(c[0]),
            online: c[1] == "yes",
            busy: c[2] == "yes",
            pending: state(c[3]),
            reasons: c[4] == "yes",
            uccx: c[5] == "UCCX",
            make_call_from_ready: c[5] == "UCCE",
            ..ToolbarInput::default()
        });
        assert!(rows >= 20, "{rows} rows");
    }

    #[test]
    fn call_matrix_of_the_docs() {
        let rows = check_tables("call actions", 4, |c| ToolbarInput {
            state: Some(AgentState::Talking),
            online: true,
            call: Some(CallView {
                actions: c[0]
                    .split_whitespace()
                    .filter(|a| *a != "–")
                    .map(str::to_string)
                    .collect(),
                alerting: c[1] == "yes",
                calls: if c[2] == "yes" { 2 } else { 1 },
                other_held: c[2] == "yes",
            }),
            uccx: c[3] == "UCCX",
            ..ToolbarInput::default()
        });
        assert!(rows >= 8, "{rows} rows");
    }

    #[test]
    fn supervisor_matrix_of_the_docs() {
        let rows = check_tables("supervisor", 3, |c| ToolbarInput {
            supervisor: c[0] == "yes",
            state: state(c[1]),
            online: true,
            call: (c[2] != "no call").then(|| CallView {
                actions: c[2]
                    .split_whitespace()
                    .filter(|a| *a != "–")
                    .map(str::to_string)
                    .collect(),
                calls: 1,
                ..CallView::default()
            }),
            ..ToolbarInput::default()
        });
        assert!(rows >= 6, "{rows} rows");
    }
}
