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
    /// Every event, as returned by `RequestCommandEventList`.
    pub const ALL: [&str; 5] = [
        AGENT_LOGIN,
        AGENT_LOGOUT,
        AGENT_READY,
        AGENT_NOT_READY,
        ERROR,
    ];
}

/// What the toolbar depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ToolbarInput {
    /// Broker link up and a connector in service.
    pub online: bool,
    /// A request is under way (login, logout, state change): wait for its outcome.
    pub busy: bool,
    /// The agent's current state (None: not known, i.e. logged out).
    pub state: Option<AgentState>,
}

/// The status of every command for this situation.
pub fn toolbar(input: ToolbarInput) -> Vec<CommandStatus> {
    use flags::*;
    Command::ALL
        .into_iter()
        .map(|c| {
            // SetLogLevel acts on the driver itself: always available.
            let enabled = c == Command::SetLogLevel
                || input.online
                    && !input.busy
                    && match (c, input.state.unwrap_or(AgentState::Logout)) {
                        (Command::LogIn, s) => s == AgentState::Logout,
                        (Command::LogOut, s) => matches!(s, AgentState::NotReady),
                        (Command::ChangeReadyState, s) => {
                            matches!(
                                s,
                                AgentState::NotReady | AgentState::WorkReady | AgentState::Work
                            )
                        }
                        (Command::ChangeNotReadyState, s) => {
                            matches!(
                                s,
                                AgentState::Ready | AgentState::WorkReady | AgentState::Work
                            )
                        }
                        (Command::SetLogLevel, _) => true,
                    };
            let checked = matches!(
                (c, input.state),
                (Command::ChangeReadyState, Some(AgentState::Ready))
                    | (Command::ChangeNotReadyState, Some(AgentState::NotReady))
            );
            let mut f = NO_PARAMS_OK;
            if matches!(c, Command::ChangeNotReadyState | Command::SetLogLevel) {
                f |= STR_PARAMS_OK; // the reason code may come as the string parameter
            }
            if !enabled {
                f |= DISABLED;
            }
            if checked {
                f |= CHECKED;
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

    fn flags_of(input: ToolbarInput) -> Vec<(&'static str, u32)> {
        toolbar(input)
            .into_iter()
            .map(|c| (c.name, c.flags))
            .collect()
    }

    #[test]
    fn names_round_trip() {
        for c in Command::ALL {
            assert_eq!(Command::from_name(&c.name().to_lowercase()), Some(c));
        }
        assert_eq!(Command::from_name("Fly"), None);
    }

    #[test]
    fn matrix() {
        use flags::*;
        let d = DISABLED;
        let n = NO_PARAMS_OK;
        let s = STR_PARAMS_OK;
        let row = |online, busy, state| {
            flags_of(ToolbarInput {
                online,
                busy,
                state,
            })
        };
        assert_eq!(
            row(false, false, None),
            vec![
                ("LogIn", n | d),
                ("LogOut", n | d),
                ("ChangeReadyState", n | d),
                ("ChangeNotReadyState", n | s | d),
                ("SetLogLevel", n | s)
            ]
        );
        assert_eq!(
            row(true, false, None),
            vec![
                ("LogIn", n),
                ("LogOut", n | d),
                ("ChangeReadyState", n | d),
                ("ChangeNotReadyState", n | s | d),
                ("SetLogLevel", n | s)
            ]
        );
        assert_eq!(
            row(true, true, None),
            vec![
                ("LogIn", n | d),
                ("LogOut", n | d),
                ("ChangeReadyState", n | d),
                ("ChangeNotReadyState", n | s | d),
                ("SetLogLevel", n | s)
            ]
        );
        assert_eq!(
            row(true, false, Some(AgentState::NotReady)),
            vec![
                ("LogIn", n | d),
                ("LogOut", n),
                ("ChangeReadyState", n),
                ("ChangeNotReadyState", n | s | d | CHECKED),
                ("SetLogLevel", n | s)
            ]
        );
        assert_eq!(
            row(true, false, Some(AgentState::Ready)),
            vec![
                ("LogIn", n | d),
                ("LogOut", n | d),
                ("ChangeReadyState", n | d | CHECKED),
                ("ChangeNotReadyState", n | s),
                ("SetLogLevel", n | s)
            ]
        );
        for work in [AgentState::Work, AgentState::WorkReady] {
            assert_eq!(
                row(true, false, Some(work)),
                vec![
                    ("LogIn", n | d),
                    ("LogOut", n | d),
                    ("ChangeReadyState", n),
                    ("ChangeNotReadyState", n | s),
                    ("SetLogLevel", n | s)
                ]
            );
        }
        for call in [AgentState::Reserved, AgentState::Talking, AgentState::Hold] {
            assert_eq!(
                row(true, false, Some(call)),
                vec![
                    ("LogIn", n | d),
                    ("LogOut", n | d),
                    ("ChangeReadyState", n | d),
                    ("ChangeNotReadyState", n | s | d),
                    ("SetLogLevel", n | s)
                ]
            );
        }
        assert_eq!(
            row(true, true, Some(AgentState::NotReady)),
            vec![
                ("LogIn", n | d),
                ("LogOut", n | d),
                ("ChangeReadyState", n | d),
                ("ChangeNotReadyState", n | s | d | CHECKED),
                ("SetLogLevel", n | s)
            ]
        );
        assert_eq!(
            row(false, false, Some(AgentState::Ready)),
            vec![
                ("LogIn", n | d),
                ("LogOut", n | d),
                ("ChangeReadyState", n | d | CHECKED),
                ("ChangeNotReadyState", n | s | d),
                ("SetLogLevel", n | s)
            ]
        );
    }
}
