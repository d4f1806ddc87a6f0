//! The texts shown to the agent (status line and errors), from one resource file per
//! language (`driver/locales/<LANG>.txt`, Siebel's three-letter language codes), chosen by the
//! language code Siebel passes to `CreateISCDriverInstance`; English (`ENU`) is the fallback
//! for a missing language and for a key a translation lacks.

use std::collections::HashMap;

use crate::protocol::AgentState;

/// The resource files built into the library: (language code, text).
const BUILT_IN: [(&str, &str); 3] = [
    ("ENU", include_str!("../locales/ENU.txt")),
    ("FRA", include_str!("../locales/FRA.txt")),
    ("DEU", include_str!("../locales/DEU.txt")),
];

/// The texts of one language, with English behind them.
#[derive(Clone, Debug)]
pub struct Catalog {
    language: String,
    texts: HashMap<String, String>,
    english: HashMap<String, String>,
}

/// A resource file line that is not `key = text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceError {
    /// The line number, from 1.
    pub line: usize,
}

impl std::fmt::Display for ResourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: expected key = text", self.line)
    }
}

impl std::error::Error for ResourceError {}

/// Parses a resource file: `key = text` lines, `#` comments.
pub fn parse_resource(text: &str) -> Result<HashMap<String, String>, ResourceError> {
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (k, v) = l.split_once('=').ok_or(ResourceError { line: i + 1 })?;
        out.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(out)
}

fn built_in(language: &str) -> Option<HashMap<String, String>> {
    BUILT_IN
        .iter()
        .find(|(l, _)| l.eq_ignore_ascii_case(language))
        .and_then(|(_, t)| parse_resource(t).ok())
}

impl Catalog {
    /// The catalog for a Siebel language code (`ENU`, `FRA`, `DEU`...); English when the
    /// language has no resource file.
    pub fn for_language(language: &str) -> Catalog {
        let english = built_in("ENU").unwrap_or_default();
        let (language, texts) = match built_in(language.trim()) {
            Some(t) => (language.trim().to_ascii_uppercase(), t),
            None => ("ENU".to_string(), english.clone()),
        };
        Catalog {
            language,
            texts,
            english,
        }
    }

    /// The language in use.
    pub fn language(&self) -> &str {
        &self.language
    }

    /// The languages with a built-in resource file.
    pub fn languages() -> Vec<&'static str> {
        BUILT_IN.iter().map(|(l, _)| *l).collect()
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.texts
            .get(key)
            .or_else(|| self.english.get(key))
            .map(String::as_str)
    }

    /// The text of `key` with `{name}` placeholders filled.
    pub fn text(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut t = self.get(key).unwrap_or(key).to_string();
        for (name, value) in args {
            t = t.replace(&format!("{{{name}}}"), value);
        }
        t
    }

    /// The label of an agent state.
    pub fn state(&self, s: AgentState) -> String {
        self.text(&format!("state.{}", s.as_str()), &[])
    }
}

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
    /// No connector's heartbeat came in time: none serves.
    ConnectorLost,
    /// Another driver instance uses this client id.
    DuplicateClientId(String),
    /// Another Siebel session took this agent over.
    TakenOver(String),
    /// A login request was sent.
    LoggingIn(String),
    /// The agent is logged in.
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
    /// The agent's state, with a state pending until the call ends.
    Pending(AgentState, AgentState),
    /// The agent is logged out.
    LoggedOut,
    /// A login field is missing (`agent_id`, `password` or `extension`).
    Missing(&'static str),
    /// A command needs a logged-in agent.
    NotLoggedIn,
    /// The CTI service is not available for commands now.
    Offline,
    /// The agent id is already in use by another session of this driver.
    AgentInUse(String),
    /// A request got no answer in time.
    NoAnswer,
    /// A request failed: the error code (for a friendly text) and the connector's message.
    Failed {
        /// Protocol error code.
        code: String,
        /// The connector's (English) message.
        message: String,
    },
    /// Not Ready needs a reason code (the agent's reasons, comma-separated).
    ReasonRequired(String),
    /// The reason given is not one of the agent's (given, the agent's reasons).
    UnknownReason(String, String),
    /// A wrap-up reason is needed (the agent's wrap-up reasons, comma-separated; empty when
    /// they are free text).
    WrapUpReasonRequired(String),
    /// The agent's state and calls are read from the contact center again (ResetState).
    ResetState,
    /// A call command with no call to act on.
    NoCall,
    /// The broker's TLS certificate is not trusted (`Driver:BrokerCaFile`).
    BrokerUntrusted,
    /// A call command that needs a number, without one.
    MissingNumber,
    /// A number to dial that is too long or holds characters a number cannot have.
    BadNumber,
    /// DTMF digits that are too long or not `0-9 * #`.
    BadDigits,
    /// The Siebel context of a transfer or consult is longer than its call variable holds.
    ContextTooLong(usize),
    /// A supervisor command from a user without the supervisor role.
    NotSupervisor,
    /// Silent monitoring outside Not Ready (or during a call).
    MonitorNeedsNotReady,
    /// Make call outside Not Ready (or during a call).
    MakeCallNeedsNotReady,
    /// Single-step transfer under UCCX.
    SingleStepUccx,
    /// The log level was changed.
    LogLevel(String),
    /// An unknown log level was asked for.
    BadLogLevel(String),
    /// SetLogLevel by an agent not in `Driver:AdminAgents`.
    NotAdmin,
    /// A login found the agent already logged in (agent, current state).
    AlreadyLoggedIn(String, AgentState),
    /// Time in the current state (state, minutes).
    TimeInState(AgentState, u64),
}

impl Msg {
    /// The text in the catalog's language.
    pub fn render(&self, c: &Catalog) -> String {
        match self {
            Msg::Connecting => c.text("connecting", &[]),
            Msg::BrokerDown => c.text("broker_down", &[]),
            Msg::BrokerUntrusted => c.text("broker_untrusted", &[]),
            Msg::WaitingForConnector => c.text("waiting_connector", &[]),
            Msg::ConnectorInService => c.text("available", &[]),
            Msg::ConnectorOutOfService(d) => match plain_words(d) {
                Some(d) => c.text("out_of_service_detail", &[("detail", &d)]),
                None => c.text("out_of_service", &[]),
            },
            Msg::ConnectorLost => c.text("connector_lost", &[]),
            Msg::DuplicateClientId(id) => c.text("duplicate_client_id", &[("id", id)]),
            Msg::TakenOver(a) => c.text("taken_over", &[("agent", a)]),
            Msg::LoggingIn(a) => c.text("logging_in", &[("agent", a)]),
            Msg::LoggedIn {
                agent,
                name,
                extension,
            } => {
                let who = name
                    .clone()
                    .unwrap_or_else(|| c.text("agent_name", &[("agent", agent)]));
                match extension {
                    Some(e) => c.text("logged_in_extension", &[("name", &who), ("extension", e)]),
                    None => c.text("logged_in", &[("name", &who)]),
                }
            }
            Msg::State(s, Some(r)) => {
                c.text("state_reason", &[("state", &c.state(*s)), ("reason", r)])
            }
            Msg::State(s, None) => c.text("state", &[("state", &c.state(*s))]),
            Msg::Pending(s, p) => c.text(
                "state_pending",
                &[("state", &c.state(*s)), ("pending", &c.state(*p))],
            ),
            Msg::LoggedOut => c.text("logged_out", &[]),
            Msg::Missing(f) => c.text("missing", &[("field", &c.text(&format!("field.{f}"), &[]))]),
            Msg::NotLoggedIn => c.text("not_logged_in", &[]),
            Msg::Offline => c.text("offline", &[]),
            Msg::AgentInUse(a) => c.text("agent_in_use", &[("agent", a)]),
            Msg::NoAnswer => c.text("no_answer", &[]),
            Msg::Failed { code, message } => {
                let key = format!("error.{code}");
                let key = if c.get(&key).is_some() {
                    key
                } else {
                    "failed".into()
                };
                match plain_words(message) {
                    Some(m) => c.text(&key, &[("message", &m)]),
                    // The bare text, when the key has one (the message was internal).
                    None => match c.get(&format!("{key}.bare")) {
                        Some(_) => c.text(&format!("{key}.bare"), &[]),
                        None => c.text(&key, &[("message", "")]),
                    },
                }
            }
            Msg::ReasonRequired(list) => c.text("reason_required", &[("reasons", list)]),
            Msg::UnknownReason(given, list) => {
                c.text("unknown_reason", &[("reason", given), ("reasons", list)])
            }
            Msg::WrapUpReasonRequired(list) if list.is_empty() => {
                c.text("wrap_up_reason_missing", &[])
            }
            Msg::WrapUpReasonRequired(list) => {
                c.text("wrap_up_reason_required", &[("reasons", list)])
            }
            Msg::ResetState => c.text("reset_state", &[]),
            Msg::NoCall => c.text("no_call", &[]),
            Msg::MissingNumber => c.text("missing_number", &[]),
            Msg::BadNumber => c.text("bad_number", &[]),
            Msg::BadDigits => c.text("bad_digits", &[]),
            Msg::NotSupervisor => c.text("not_supervisor", &[]),
            Msg::MonitorNeedsNotReady => c.text("monitor_not_ready", &[]),
            Msg::ContextTooLong(max) => c.text("context_too_long", &[("max", &max.to_string())]),
            Msg::MakeCallNeedsNotReady => c.text("make_call_not_ready", &[]),
            Msg::SingleStepUccx => c.text("single_step_uccx", &[]),
            Msg::LogLevel(l) => c.text("log_level", &[("level", l)]),
            Msg::BadLogLevel(l) => c.text("bad_log_level", &[("level", l)]),
            Msg::NotAdmin => c.text("not_admin", &[]),
            Msg::AlreadyLoggedIn(a, s) => c.text(
                "already_logged_in",
                &[("agent", a), ("state", &c.state(*s))],
            ),
            Msg::TimeInState(s, m) => c.text(
                "time_in_state",
                &[("state", &c.state(*s)), ("minutes", &m.to_string())],
            ),
        }
    }
}

/// A connector's message as it may be shown to an agent: `None` when it holds what an agent
/// must not see (URLs, host names and ports, OS errors, internal codes and names, long
/// dumps); the details are in the logs. A trailing internal code in parentheses
/// (`the number is busy (CF_BUSY)`) is dropped and the words kept.
pub fn plain_words(message: &str) -> Option<String> {
    let mut m = message.trim();
    if let Some(open) = m.rfind(" (").filter(|_| m.ends_with(')')) {
        let inner = &m[open + 2..m.len() - 1];
        if inner
            .chars()
            .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_')
        {
            m = m[..open].trim_end();
        }
    }
    let lower = m.to_ascii_lowercase();
    let internal_phrase = [
        "os error",
        "error:",
        "errno",
        "panicked",
        "exception",
        "http",
        "stomp",
    ]
    .iter()
    .any(|p| lower.contains(p));
    let internal_token = m.split_whitespace().any(|t| {
        let inner = t.trim_end_matches(['.', ',', ';', ':', ')', '!', '?']);
        inner.contains(['/', '\\', '_', '=', '<', '>', '{', '}', '[', ']', '@', '#'])
            || inner.contains(['.', ':'])
            // CamelCase names of code (`UnknownIssuer`, `NoSession`).
            || inner
                .as_bytes()
                .windows(2)
                .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
            || (inner.len() >= 4
                && inner.chars().any(|ch| ch.is_ascii_alphabetic())
                && inner.chars().all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit()))
    });
    (!m.is_empty() && m.len() <= 120 && !internal_phrase && !internal_token).then(|| m.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_english_key() {
        let english = built_in("ENU").unwrap();
        for (lang, text) in BUILT_IN {
            let t = parse_resource(text).unwrap();
            let mut missing: Vec<&String> =
                english.keys().filter(|k| !t.contains_key(*k)).collect();
            missing.sort();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
            assert_eq!(t.len(), english.len(), "{lang} has keys English lacks");
        }
    }

    #[test]
    fn language_choice_and_fallback() {
        let fr = Catalog::for_language("fra");
        assert_eq!(fr.language(), "FRA");
        assert_eq!(Msg::ConnectorInService.render(&fr), "CTI est disponible.");
        let de = Catalog::for_language("DEU");
        assert_eq!(
            Msg::State(AgentState::NotReady, Some("Pause".into())).render(&de),
            "Status: Nicht bereit (Pause)."
        );
        let xx = Catalog::for_language("XYZ");
        assert_eq!(xx.language(), "ENU");
        assert_eq!(Msg::LoggedOut.render(&xx), "Logged out.");
        let en = Catalog::for_language("ENU");
        assert_eq!(
            Msg::LoggedIn {
                agent: "1001".into(),
                name: Some("Ann Lee".into()),
                extension: Some("5001".into())
            }
            .render(&en),
            "Logged in as Ann Lee on extension 5001."
        );
        assert_eq!(
            Msg::Missing("password").render(&fr),
            "Connexion impossible : mot de passe manquant."
        );
    }

    #[test]
    fn friendly_errors_per_code_and_generic_fallback() {
        let en = Catalog::for_language("ENU");
        let f = |code: &str| {
            Msg::Failed {
                code: code.into(),
                message: "raw".into(),
            }
            .render(&en)
        };
        assert_eq!(
            f("Unauthorized"),
            "Login failed: invalid agent id or password."
        );
        assert_eq!(
            f("InvalidState"),
            "Not possible in the current state (raw)."
        );
        assert_eq!(f("SomethingNew"), "Request failed: raw");
        let g = |code: &str, message: &str| {
            Msg::Failed {
                code: code.into(),
                message: message.into(),
            }
            .render(&en)
        };
        assert_eq!(
            g("CallFailed", "the number is busy (CF_BUSY)"),
            "The call failed: the number is busy."
        );
        assert_eq!(
            g(
                "FinesseError",
                "Finesse http://10.0.0.5:8082: Connection refused (os error 111)"
            ),
            "The request failed; please try again."
        );
        assert_eq!(
            g("InvalidState", "IN_SERVICE check failed"),
            "Not possible in the current state."
        );
        assert_eq!(
            g("InvalidInput", "Invalid destination"),
            "The contact center refused the request (Invalid destination)."
        );
        assert!(parse_resource("no equals sign").is_err());
    }

    #[test]
    fn agents_never_see_urls_os_errors_or_internal_names() {
        let en = Catalog::for_language("ENU");
        // The status line agents saw while Finesse was down.
        let detail = "Finesse http://127.0.0.1:8082: Cisco Finesse is unavailable \
                      (http://127.0.0.1:8082/finesse/api/SystemInfo: Connection Failed: \
                      Connect error: Connection refused (os error 111))";
        let shown = Msg::ConnectorOutOfService(detail.into()).render(&en);
        assert_eq!(
            shown,
            "CTI is unavailable: the CTI connector is out of service."
        );
        assert_eq!(
            Msg::ConnectorOutOfService("the connector is stopping".into()).render(&en),
            "CTI is unavailable: the CTI connector is out of service (the connector is stopping)."
        );
        for internal in [
            "Finesse fa.example.com is OUT_OF_SERVICE",
            "Finesse 10.1.2.3:8445: HTTP 404",
            "cannot connect to broker mq:61613: timed out",
            "tls handshake: UnknownIssuer",
            "connection reset (os error 104)",
            "thread 'connector-worker-0' panicked",
        ] {
            assert_eq!(plain_words(internal), None, "{internal}");
        }
        assert_eq!(
            plain_words("Agent is not in a state to do that"),
            Some("Agent is not in a state to do that".into())
        );
        let every_text: Vec<String> = BUILT_IN
            .iter()
            .flat_map(|(_, t)| parse_resource(t).unwrap().into_values())
            .collect();
        for t in every_text {
            assert!(!t.contains("Driver:") && !t.contains("://"), "{t}");
        }
    }
}
