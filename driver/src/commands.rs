//! Device commands and device events the driver supports, and the toolbar state per agent
//! state (the flags sent with `CacheCommandInformation`). The matrix is in `docs/toolbar.md`.

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

/// A device command (the `DeviceCommand` of a DEF command).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Log the agent in (agent id, password, extension).
    LogIn,
    /// Log the agent out.
    LogOut,
    /// Become Ready.
    ChangeReadyState,
    /// Become Not Ready (optionally with a reason code).
    ChangeNotReadyState,
    /// Change the driver's log level at run time (string parameter: the level).
    SetLogLevel,
}

impl Command {
    /// Every command, in toolbar order.
    pub const ALL: [Command; 5] = [
        Command::LogIn,
        Command::LogOut,
        Command::ChangeReadyState,
        Command::ChangeNotReadyState,
        Command::SetLogLevel,
    ];

    /// The name Siebel uses.
    pub fn name(self) -> &'static str {
        match self {
            Command::LogIn => "LogIn",
            Command::LogOut => "LogOut",
            Command::ChangeReadyState => "ChangeReadyState",
            Command::ChangeNotReadyState => "ChangeNotReadyState",
            Command::SetLogLevel => "SetLogLevel",
        }
    }

    /// Description for the toolbar.
    pub fn description(self) -> &'static str {
        match self {
            Command::LogIn => "Log in to the contact center",
            Command::LogOut => "Log out of the contact center",
            Command::ChangeReadyState => "Become ready for calls",
            Command::ChangeNotReadyState => "Become not ready",
            Command::SetLogLevel => "Change the driver's log level",
        }
    }

    /// Looks a command up by name (case-insensitive, as Siebel names are).
    pub fn from_name(name: &str) -> Option<Command> {
        Command::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name.trim()))
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
    /// A request failed or the CTI link reported an error.
    pub const ERROR: &str = "EventError";
    /// The agent's reason codes of a category (after login, when reason codes are on).
    pub const REASON_CODES: &str = "EventReasonCodes";
    /// Every event, as returned by `RequestCommandEventList`.
    pub const ALL: [&str; 6] = [
        AGENT_LOGIN,
        AGENT_LOGOUT,
        AGENT_READY,
        AGENT_NOT_READY,
        ERROR,
        REASON_CODES,
    ];
}

/// What the toolbar depends on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
}

/// The status of every command for this situation (the matrix of `docs/toolbar.md`).
pub fn toolbar(input: ToolbarInput) -> Vec<CommandStatus> {
    use flags::*;
    use AgentState::*;
    let state = input.state.unwrap_or(Logout);
    let on_call = matches!(state, Talking | Hold);
    Command::ALL
        .into_iter()
        .map(|c| {
            let allowed = match c {
                Command::LogIn => state == Logout,
                Command::LogOut => state == NotReady,
                Command::ChangeReadyState => {
                    matches!(state, NotReady | Work | WorkReady) || on_call
                }
                Command::ChangeNotReadyState => {
                    matches!(state, Ready | Work | WorkReady)
                        || on_call
                        || (state == NotReady && input.reasons)
                }
                Command::SetLogLevel => true,
            };
            // SetLogLevel acts on the driver itself: always available.
            let enabled = c == Command::SetLogLevel || (input.online && !input.busy && allowed);
            let checked = matches!(
                (c, state),
                (Command::ChangeReadyState, Ready) | (Command::ChangeNotReadyState, NotReady)
            );
            let blinking = matches!(
                (c, input.pending),
                (Command::ChangeReadyState, Some(Ready))
                    | (Command::ChangeNotReadyState, Some(NotReady))
            );
            let mut f = NO_PARAMS_OK;
            if matches!(c, Command::ChangeNotReadyState | Command::SetLogLevel) {
                f |= STR_PARAMS_OK; // the reason code / level may come as the string parameter
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
            assert_eq!(Command::from_name(&c.name().to_lowercase()), Some(c));
        }
        assert_eq!(Command::from_name("Fly"), None);
    }

    fn state(s: &str) -> Option<AgentState> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }

    #[test]
    fn matrix_of_the_docs() {
        use flags::*;
        let doc = include_str!("../../docs/toolbar.md");
        let mut rows = 0;
        for line in doc
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| state"))
        {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 10, "{line}");
            let input = ToolbarInput {
                state: state(cells[0]),
                online: cells[1] == "yes",
                busy: cells[2] == "yes",
                pending: state(cells[3]),
                reasons: cells[4] == "yes",
            };
            assert!(input.state.is_some(), "{line}");
            let got = toolbar(input);
            for (i, c) in got.iter().enumerate() {
                let want = cells[5 + i]
                    .split_whitespace()
                    .map(|f| match f {
                        "D" => DISABLED,
                        "C" => CHECKED,
                        "B" => BLINKING,
                        _ => 0,
                    })
                    .fold(0, |a, b| a | b);
                let base = if matches!(c.name, "ChangeNotReadyState" | "SetLogLevel") {
                    NO_PARAMS_OK | STR_PARAMS_OK
                } else {
                    NO_PARAMS_OK
                };
                assert_eq!(c.flags, base | want, "{} in row {line}", c.name);
            }
            rows += 1;
        }
        assert!(rows >= 18, "the table has {rows} rows");
    }
}
