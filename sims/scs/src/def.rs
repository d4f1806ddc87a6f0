//! Parser for Siebel communications configuration DEF files.
//!
//! A DEF file is the text export of a Siebel communications configuration
//! (drivers, profiles, commands, command data, event handlers, event responses
//! and event logs). It is INI-like:
//!
//! ```text
//! ; a comment
//! [Command:LoginToPBX]
//!     DeviceCommand = "LogIn"
//!     CmdData       = "LoginToPBX"
//! ```
//!
//! * `[Type:Name]` starts a section; `Type` is the text before the first `:`.
//! * `Key = "Value"` lines follow; keys are case-insensitive and may carry a
//!   sub-name after a dot (`Filter.ANI`, `LogField.'Contact Id'`) or a prefix
//!   with a colon (`Driver:BrokerHost`). A key may repeat (Siebel's
//!   multi-value parameters); [`Section::get`] returns the first occurrence.
//! * Lines whose first non-blank character is `;` (the documented comment
//!   syntax) or `#` are comments. A `;` or `#` comment may also follow the
//!   closing quote of a quoted value. Unquoted values are taken verbatim up to
//!   the end of the line.
//! * Inside a quoted value, `""` stands for one `"` (an extension of ours;
//!   Siebel's own files write inner quotes as single quotes).
//!
//! See `docs/def-format.md` for what is confirmed from Oracle's documentation
//! and what is assumed.

use std::fmt;

/// A parsed DEF file: its sections in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Def {
    /// All sections, in the order they appear in the file.
    pub sections: Vec<Section>,
}

/// One `[Kind:Name]` section and its entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// Text before the first `:` of the header, e.g. `EventHandler`.
    pub kind: String,
    /// Text after the first `:` of the header; empty for a header without `:`.
    pub name: String,
    /// 1-based line number of the header.
    pub line: usize,
    /// `(key, value)` pairs in file order, keys as written, values unquoted.
    pub entries: Vec<(String, String)>,
}

/// A syntax error, with the 1-based line where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefError {
    /// 1-based line number of the offending line.
    pub line: usize,
    /// What is wrong with the line.
    pub message: String,
}

impl fmt::Display for DefError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for DefError {}

/// A communications command (`[Command:Name]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Command {
    /// Command name (the section name).
    pub name: String,
    /// Driver command it runs (`DeviceCommand`), absent for group commands.
    pub device_command: Option<String>,
    /// Name of its command data (`CmdData`).
    pub cmd_data: Option<String>,
    /// Menu title (`Title`).
    pub title: Option<String>,
    /// Tooltip / description (`Description`).
    pub description: Option<String>,
    /// Keyboard shortcut (`HotKey`), as written.
    pub hot_key: Option<String>,
    /// Position in the Communications menu (`MenuPosition`).
    pub menu_position: Option<String>,
    /// `Hidden` is true (hidden from the menu).
    pub hidden: bool,
    /// `ExecuteAll` is true (a group command running every subcommand).
    pub execute_all: bool,
    /// Subcommands (`SubCommand_N`), ordered by N.
    pub sub_commands: Vec<String>,
    /// 1-based line number of the section header.
    pub line: usize,
}

/// Parameters sent with a command (`[CmdData:Name]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandData {
    /// Command data name (the section name).
    pub name: String,
    /// `Param.X` entries as `(X, value)`, values not yet macro-expanded.
    pub params: Vec<(String, String)>,
    /// `RequiredField.X` entries as `(X, value)`.
    pub required_fields: Vec<(String, String)>,
    /// `SelectQuerySpec`, if any.
    pub select_query_spec: Option<String>,
    /// 1-based line number of the section header.
    pub line: usize,
}

/// An event handler (`[EventHandler:Name]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventHandler {
    /// Handler name (the section name).
    pub name: String,
    /// Driver event it matches (`DeviceEvent`).
    pub device_event: String,
    /// `Filter.X` entries as `(X, pattern)`; all must match (`*`, `?` wildcards).
    pub filters: Vec<(String, String)>,
    /// `Order`; the matching handler with the lowest order wins. `None` when
    /// absent or not an integer.
    pub order: Option<i64>,
    /// Name of the event response to run (`Response`).
    pub response: Option<String>,
    /// 1-based line number of the section header.
    pub line: usize,
}

/// An event response (`[EventResponse:Name]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventResponse {
    /// Response name (the section name).
    pub name: String,
    /// Business object to query (`QueryBusObj`).
    pub query_bus_obj: Option<String>,
    /// Business component to query (`QueryBusComp`).
    pub query_bus_comp: Option<String>,
    /// Query, with `{Field}` references to event fields (`QuerySpec`).
    pub query_spec: Option<String>,
    /// View shown when one record matches (`SingleView`).
    pub single_view: Option<String>,
    /// View shown when several records match (`MultiView`).
    pub multi_view: Option<String>,
    /// Find dialog shown when no record matches (`FindDialog`).
    pub find_dialog: Option<String>,
    /// `FindField.X` entries as `(X, value)`.
    pub find_fields: Vec<(String, String)>,
    /// Event log run when one record matches (`SingleLog`).
    pub single_log: Option<String>,
    /// Event log run when several records match (`MultiLog`).
    pub multi_log: Option<String>,
    /// Event log run when no record matches (`Log`).
    pub log: Option<String>,
    /// 1-based line number of the section header.
    pub line: usize,
}

/// An event log (`[EventLog:Name]`): the record written for an event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventLog {
    /// Log name (the section name).
    pub name: String,
    /// Business object of the record (`BusObj`).
    pub bus_obj: Option<String>,
    /// Business component of the record (`BusComp`), e.g. `Action`.
    pub bus_comp: Option<String>,
    /// `LogField.X` entries as `(X, value)`, written when the log runs.
    pub log_fields: Vec<(String, String)>,
    /// `AfterWork.X` entries as `(X, value)`, written when the work item ends.
    pub after_work: Vec<(String, String)>,
    /// `Display`: whether the new record is shown to the agent.
    pub display: bool,
    /// 1-based line number of the section header.
    pub line: usize,
}

/// Parses the text of a DEF file.
///
/// Accepts a leading UTF-8 BOM, LF or CRLF line ends, blank lines, comment
/// lines starting with `;` or `#`, and `Key = "Value"` or `Key = value`
/// lines. Fails on a key before any section, a line without `=`, an
/// unterminated quote or section header, and an empty key or section type.
pub fn parse(text: &str) -> Result<Def, DefError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections: Vec<Section> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with(';') || trimmed.starts_with('#') {
            continue;
        }
        let err = |message: String| DefError { line, message };
        if let Some(rest) = trimmed.strip_prefix('[') {
            let close = rest
                .find(']')
                .ok_or_else(|| err("section header without closing ']'".to_string()))?;
            let after = rest[close + 1..].trim();
            if !after.is_empty() && !is_comment(after) {
                return Err(err(format!(
                    "unexpected text after section header: {after:?}"
                )));
            }
            let header = rest[..close].trim();
            let (kind, name) = match header.split_once(':') {
                Some((k, n)) => (k.trim(), n.trim()),
                None => (header, ""),
            };
            if kind.is_empty() {
                return Err(err(format!("section header without a type: [{header}]")));
            }
            sections.push(Section {
                kind: kind.to_string(),
                name: name.to_string(),
                line,
                entries: Vec::new(),
            });
            continue;
        }
        let (key, value) = trimmed.split_once('=').ok_or_else(|| {
            err(format!(
                "expected `Key = \"Value\"` or a [Section] header, found {trimmed:?}"
            ))
        })?;
        let key = key.trim();
        if key.is_empty() {
            return Err(err("empty key before '='".to_string()));
        }
        let value = parse_value(value.trim()).map_err(err)?;
        let section = sections.last_mut().ok_or_else(|| {
            err(format!(
                "key {key:?} outside any section (add a [Type:Name] header first)"
            ))
        })?;
        section.entries.push((key.to_string(), value));
    }
    Ok(Def { sections })
}

fn is_comment(s: &str) -> bool {
    s.starts_with(';') || s.starts_with('#')
}

/// Unquotes a value: `"a ""b"""` gives `a "b"`; an unquoted value is kept.
fn parse_value(value: &str) -> Result<String, String> {
    let Some(body) = value.strip_prefix('"') else {
        return Ok(value.to_string());
    };
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '"' {
            out.push(c);
            continue;
        }
        if let Some(&(_, '"')) = chars.peek() {
            chars.next();
            out.push('"');
            continue;
        }
        let after = body[i + 1..].trim();
        if after.is_empty() || is_comment(after) {
            return Ok(out);
        }
        return Err(format!("unexpected text after closing quote: {after:?}"));
    }
    Err("unterminated quoted value (missing closing '\"')".to_string())
}

/// Removes one pair of surrounding single quotes from a sub-name, as in
/// `LogField.'Contact Id'`; a lone leading or trailing quote is removed too.
fn unquote_sub_name(s: &str) -> String {
    let s = s.trim();
    let s = s.strip_prefix('\'').unwrap_or(s);
    let s = s.strip_suffix('\'').unwrap_or(s);
    s.to_string()
}

fn parse_bool(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "true" | "t" | "yes" | "y" | "1"
    )
}

fn has_prefix_ci(key: &str, prefix: &str) -> bool {
    key.len() >= prefix.len()
        && key.is_char_boundary(prefix.len())
        && key[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Section kinds that hold command data: `CmdData` (used in Oracle's examples)
/// and `CommandData` (accepted as an alias).
const CMD_DATA_KINDS: [&str; 2] = ["CmdData", "CommandData"];

impl Section {
    /// First value of `key`, matched case-insensitively.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// All values of `key` (multi-value parameters), matched case-insensitively.
    pub fn get_all(&self, key: &str) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Entries whose key starts with `prefix` (case-insensitive), as
    /// `(suffix, value)`; surrounding single quotes of the suffix are removed,
    /// so `LogField.'Contact Id'` with prefix `LogField.` gives `Contact Id`.
    pub fn with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        self.entries
            .iter()
            .filter(|(k, _)| has_prefix_ci(k, prefix))
            .map(|(k, v)| (unquote_sub_name(&k[prefix.len()..]), v.clone()))
            .collect()
    }

    fn opt(&self, key: &str) -> Option<String> {
        self.get(key).map(str::to_string)
    }

    fn flag(&self, key: &str) -> bool {
        self.get(key).is_some_and(parse_bool)
    }
}

impl Def {
    /// All sections of `kind` (case-insensitive), in file order.
    pub fn sections<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Section> + 'a {
        self.sections
            .iter()
            .filter(move |s| s.kind.eq_ignore_ascii_case(kind))
    }

    /// The first section of `kind` (case-insensitive) named exactly `name`.
    pub fn section(&self, kind: &str, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| s.kind.eq_ignore_ascii_case(kind) && s.name == name)
    }

    /// Name of the driver a profile uses (its `Driver` entry).
    pub fn profile_driver(&self, profile: &str) -> Option<&str> {
        self.section("Profile", profile)?.get("Driver")
    }

    /// All parameters of a profile: the defaults of its driver (entries of
    /// `[DriverParameters:<driver>]`, plus `Driver:`/`Service:` entries of
    /// `[Driver:<driver>]`), overridden and extended by the profile's own
    /// entries (except `Driver`). Keys keep their spelling and order of first
    /// appearance; matching is case-insensitive. Empty for an unknown profile.
    pub fn profile_params(&self, profile: &str) -> Vec<(String, String)> {
        let Some(prof) = self.section("Profile", profile) else {
            return Vec::new();
        };
        let mut merged: Vec<(String, String)> = Vec::new();
        let mut put =
            |k: &str, v: &str| match merged.iter_mut().find(|(mk, _)| mk.eq_ignore_ascii_case(k)) {
                Some(slot) => slot.1 = v.to_string(),
                None => merged.push((k.to_string(), v.to_string())),
            };
        if let Some(driver) = prof.get("Driver") {
            if let Some(d) = self.section("Driver", driver) {
                for (k, v) in &d.entries {
                    if has_prefix_ci(k, "Driver:") || has_prefix_ci(k, "Service:") {
                        put(k, v);
                    }
                }
            }
            for s in self
                .sections("DriverParameters")
                .filter(|s| s.name == driver)
            {
                for (k, v) in &s.entries {
                    put(k, v);
                }
            }
        }
        for (k, v) in &prof.entries {
            if !k.eq_ignore_ascii_case("Driver") {
                put(k, v);
            }
        }
        merged
    }

    /// The `Driver:`-prefixed parameters of a profile (see
    /// [`Def::profile_params`]), keys as written including the prefix; these
    /// go to `CreateISCDriverInstance`.
    pub fn driver_params(&self, profile: &str) -> Vec<(String, String)> {
        self.profile_params(profile)
            .into_iter()
            .filter(|(k, _)| has_prefix_ci(k, "Driver:"))
            .collect()
    }

    /// The other parameters of a profile (`Service:`-prefixed and unprefixed),
    /// keys as written; these go to `RequestService` (unprefixed ones also go
    /// to `CreateISCDriverInstance` in Siebel).
    pub fn service_params(&self, profile: &str) -> Vec<(String, String)> {
        self.profile_params(profile)
            .into_iter()
            .filter(|(k, _)| !has_prefix_ci(k, "Driver:"))
            .collect()
    }

    /// All commands, in file order.
    pub fn commands(&self) -> Vec<Command> {
        self.sections("Command").map(command_from).collect()
    }

    /// The command named `name`.
    pub fn command(&self, name: &str) -> Option<Command> {
        self.section("Command", name).map(command_from)
    }

    /// The command data named `name` (`[CmdData:name]`, or `[CommandData:name]`).
    pub fn command_data(&self, name: &str) -> Option<CommandData> {
        let s = CMD_DATA_KINDS
            .iter()
            .find_map(|kind| self.section(kind, name))?;
        Some(CommandData {
            name: s.name.clone(),
            params: s.with_prefix("Param."),
            required_fields: s.with_prefix("RequiredField."),
            select_query_spec: s.opt("SelectQuerySpec"),
            line: s.line,
        })
    }

    /// All event handlers, in file order.
    pub fn event_handlers(&self) -> Vec<EventHandler> {
        self.sections("EventHandler")
            .map(|s| EventHandler {
                name: s.name.clone(),
                device_event: s.get("DeviceEvent").unwrap_or_default().to_string(),
                filters: s.with_prefix("Filter."),
                order: s.get("Order").and_then(|o| o.trim().parse().ok()),
                response: s.opt("Response"),
                line: s.line,
            })
            .collect()
    }

    /// The event response named `name`.
    pub fn event_response(&self, name: &str) -> Option<EventResponse> {
        let s = self.section("EventResponse", name)?;
        Some(EventResponse {
            name: s.name.clone(),
            query_bus_obj: s.opt("QueryBusObj"),
            query_bus_comp: s.opt("QueryBusComp"),
            query_spec: s.opt("QuerySpec"),
            single_view: s.opt("SingleView"),
            multi_view: s.opt("MultiView"),
            find_dialog: s.opt("FindDialog"),
            find_fields: s.with_prefix("FindField."),
            single_log: s.opt("SingleLog"),
            multi_log: s.opt("MultiLog"),
            log: s.opt("Log"),
            line: s.line,
        })
    }

    /// The event log named `name`.
    pub fn event_log(&self, name: &str) -> Option<EventLog> {
        let s = self.section("EventLog", name)?;
        Some(EventLog {
            name: s.name.clone(),
            bus_obj: s.opt("BusObj"),
            bus_comp: s.opt("BusComp"),
            log_fields: s.with_prefix("LogField."),
            after_work: s.with_prefix("AfterWork."),
            display: s.flag("Display"),
            line: s.line,
        })
    }
}

fn command_from(s: &Section) -> Command {
    let mut subs: Vec<(u32, String)> = s
        .with_prefix("SubCommand_")
        .into_iter()
        .filter_map(|(n, v)| n.trim().parse().ok().map(|n| (n, v)))
        .collect();
    subs.sort_by_key(|(n, _)| *n);
    Command {
        name: s.name.clone(),
        device_command: s.opt("DeviceCommand"),
        cmd_data: s.opt("CmdData"),
        title: s.opt("Title"),
        description: s.opt("Description"),
        hot_key: s.opt("HotKey"),
        menu_position: s.opt("MenuPosition"),
        hidden: s.flag("Hidden"),
        execute_all: s.flag("ExecuteAll"),
        sub_commands: subs.into_iter().map(|(_, v)| v).collect(),
        line: s.line,
    }
}

/// Substitutes `{name}` references in `template`: for each `{...}` the text
/// between the braces (e.g. `@AgentId`, `ANI`, `Contact.Id`) is passed to
/// `lookup`; `Some(value)` replaces the whole reference, `None` leaves it
/// as written. `\{` and `\}` give literal braces; an unclosed `{` is kept.
/// Square-bracket references (fields of the selected record) are not touched.
pub fn expand(template: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(pos) = rest.find(['{', '}', '\\']) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if let Some(escaped) = tail.strip_prefix('\\') {
            match escaped.chars().next() {
                Some(c @ ('{' | '}')) => {
                    out.push(c);
                    rest = &escaped[1..];
                }
                _ => {
                    out.push('\\');
                    rest = escaped;
                }
            }
            continue;
        }
        if let Some(inner_and_more) = tail.strip_prefix('{') {
            if let Some(end) = inner_and_more.find('}') {
                let inner = &inner_and_more[..end];
                match lookup(inner) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&tail[..end + 2]),
                }
                rest = &inner_and_more[end + 1..];
            } else {
                out.push_str(tail);
                rest = "";
            }
            continue;
        }
        // A lone '}'.
        out.push('}');
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(file: &str) -> String {
        let path = format!("{}/../../def-templates/{file}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn check_template(file: &str, deployment: &str) {
        let def = parse(&template(file)).unwrap();
        let profile = format!("Cisco {deployment}");
        let driver = format!("Cisco Finesse {deployment}");

        assert_eq!(
            def.section("Siebel", "")
                .and_then(|s| s.get("CommServerVersion")),
            Some("7.0")
        );
        let d = def.section("Driver", &driver).expect("driver section");
        assert_eq!(d.get("Library Name"), Some("siebel_cti"));
        assert_eq!(d.get("Channel Type"), Some("Voice"));
        assert_eq!(def.profile_driver(&profile), Some(driver.as_str()));

        let dp = def.driver_params(&profile);
        // Every Driver: parameter of the template is one the driver knows and accepts.
        let parsed = driver::config::DriverConfig::from_params(&dp)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(
            parsed.unknown.is_empty(),
            "{file}: unknown {:?}",
            parsed.unknown
        );
        assert!(dp.len() >= 13, "{file}: {dp:?}");
        let get = |k: &str| dp.iter().find(|(dk, _)| dk == k).map(|(_, v)| v.as_str());
        assert_eq!(get("Driver:BrokerHost"), Some("127.0.0.1"));
        assert_eq!(get("Driver:BrokerPort"), Some("61613"));
        assert_eq!(get("Driver:BrokerLogin"), Some(""));
        assert_eq!(
            get("Driver:RequestQueue"),
            Some("/queue/siebelcti.requests")
        );
        assert_eq!(get("Driver:LogLevel"), Some("info"));
        assert_eq!(get("Driver:DeploymentType"), Some(deployment));

        assert_eq!(
            def.service_params(&profile),
            [
                ("Service:AgentId".to_string(), "{@AgentId}".to_string()),
                (
                    "Service:AgentPassword".to_string(),
                    "{@AgentPin}".to_string()
                ),
                ("Service:Extension".to_string(), "{@SelectedDN}".to_string()),
            ]
        );

        let device: Vec<(String, String)> = def
            .commands()
            .into_iter()
            .filter_map(|c| c.device_command.map(|d| (c.name, d)))
            .collect();
        let pairs: Vec<(&str, &str)> = device
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        // The full command/event sets are checked against the driver in tests/e2e.
        for pair in [
            ("SignOn", "LogIn"),
            ("SignOff", "LogOut"),
            ("Ready", "ChangeReadyState"),
            ("NotReady", "ChangeNotReadyState"),
        ] {
            assert!(pairs.contains(&pair), "{file}: {pair:?} in {pairs:?}");
        }
        let group = def.command("SignOnGroup").unwrap();
        assert!(group.hidden && group.execute_all);
        assert_eq!(group.sub_commands, ["SignOn"]);
        let sign_on = def.command("SignOn").unwrap();
        assert_eq!(sign_on.title.as_deref(), Some("Log In (Phone)"));
        assert!(sign_on.hot_key.is_some() && sign_on.description.is_some());
        let data = def
            .command_data(sign_on.cmd_data.as_deref().unwrap())
            .unwrap();
        assert_eq!(
            data.params,
            [
                ("AgentId".to_string(), "{@AgentId}".to_string()),
                ("Password".to_string(), "{@AgentPin}".to_string()),
                ("Extension".to_string(), "{@SelectedDN}".to_string()),
            ]
        );

        let handlers = def.event_handlers();
        let events: Vec<&str> = handlers.iter().map(|h| h.device_event.as_str()).collect();
        for e in [
            "EventAgentLogin",
            "EventAgentLogout",
            "EventAgentReady",
            "EventAgentNotReady",
            "EventError",
        ] {
            assert!(events.contains(&e), "{file}: {e} in {events:?}");
        }
        for h in &handlers {
            assert!(h.order.is_some(), "{file}: {} has an Order", h.name);
            let r = def
                .event_response(h.response.as_deref().unwrap())
                .expect("response exists");
            for log in [&r.single_log, &r.multi_log, &r.log].into_iter().flatten() {
                assert!(def.event_log(log).is_some(), "{file}: no event log {log}");
            }
        }
    }

    #[test]
    fn parses_ucce_template() {
        check_template("ucce.def", "UCCE");
    }

    #[test]
    fn parses_uccx_template() {
        check_template("uccx.def", "UCCX");
    }

    const ORACLE_STYLE: &str = "\u{feff}; --- Handle inbound customer call ---\r\n\
        \r\n\
        [EventHandler:InboundConsumerCall]\r\n\
        \x20   DeviceEvent            = \"TpAnswered\"\r\n\
        \x20   Response               = \"InboundConsumerCall\"\r\n\
        \x20   Filter.CollectedDigits = \"?*\"\r\n\
        \x20   filter.ANI             = \"*\"\r\n\
        \x20   Order                  = \"3\"\r\n\
        # hash comment\r\n\
        [EventResponse:InboundConsumerCall]\r\n\
        \x20   QueryBusObj   = \"Consumer\"\r\n\
        \x20   QueryBusComp  = \"Consumer\"\r\n\
        \x20   QuerySpec     = \"[CSN]='{dtmfDigits}'\"\r\n\
        \x20   SingleView    = \"Consumer Detail View\"\r\n\
        \x20   FindDialog    = \"Consumer\"\r\n\
        \x20   FindField.CSN = \"{dtmfDigits}\"\r\n\
        \x20   SingleLog     = \"LogFound\"\r\n\
        \x20   Log           = \"LogNotFound\"\r\n\
        [EventLog:LogFound]\r\n\
        \x20   Display                       = \"TRUE\"\r\n\
        \x20   BusObj                        = \"Consumer\"\r\n\
        \x20   BusComp                       = \"Action\"\r\n\
        \x20   LogField.Type                 = \"Call - Inbound\"\r\n\
        \x20   LogField.'Contact Id'         = \"{Consumer.Id}\"\r\n\
        \x20   AfterWork.'ACD Call Duration' = \"{@WorkDuration}\"\r\n\
        [Command:SignOnGroup]\r\n\
        \x20   Hidden       = \"True\"\r\n\
        \x20   SubCommand_3 = \"LoginToUQ\"\r\n\
        \x20   SubCommand_1 = \"LoginToPBX\"\r\n\
        \x20   [CmdData:LoginToPBX]\r\n\
        \x20   Param.AgentId  = \"{@AgentId}\"\r\n\
        \x20   RequiredField.'Work Phone #' = \"?*\"\r\n\
        [Siebel]\r\n\
        CommServerVersion = unquoted value ; kept\r\n";

    #[test]
    fn parses_oracle_style_text() {
        let def = parse(ORACLE_STYLE).unwrap();
        let kinds: Vec<(&str, &str, usize)> = def
            .sections
            .iter()
            .map(|s| (s.kind.as_str(), s.name.as_str(), s.line))
            .collect();
        assert_eq!(
            kinds,
            [
                ("EventHandler", "InboundConsumerCall", 3),
                ("EventResponse", "InboundConsumerCall", 10),
                ("EventLog", "LogFound", 19),
                ("Command", "SignOnGroup", 26),
                ("CmdData", "LoginToPBX", 30),
                ("Siebel", "", 33),
            ]
        );
        let h = &def.event_handlers()[0];
        assert_eq!(h.device_event, "TpAnswered");
        assert_eq!(h.order, Some(3));
        assert_eq!(
            h.filters,
            [
                ("CollectedDigits".to_string(), "?*".to_string()),
                ("ANI".to_string(), "*".to_string()),
            ]
        );
        let r = def.event_response("InboundConsumerCall").unwrap();
        assert_eq!(r.query_spec.as_deref(), Some("[CSN]='{dtmfDigits}'"));
        assert_eq!(
            r.find_fields,
            [("CSN".to_string(), "{dtmfDigits}".to_string())]
        );
        assert_eq!(r.single_log.as_deref(), Some("LogFound"));
        assert_eq!(r.log.as_deref(), Some("LogNotFound"));
        assert!(r.multi_view.is_none());
        let l = def.event_log("LogFound").unwrap();
        assert!(l.display);
        assert_eq!(l.bus_comp.as_deref(), Some("Action"));
        assert_eq!(
            l.log_fields,
            [
                ("Type".to_string(), "Call - Inbound".to_string()),
                ("Contact Id".to_string(), "{Consumer.Id}".to_string()),
            ]
        );
        assert_eq!(
            l.after_work,
            [(
                "ACD Call Duration".to_string(),
                "{@WorkDuration}".to_string()
            )]
        );
        let c = def.command("SignOnGroup").unwrap();
        assert!(c.hidden && !c.execute_all);
        assert_eq!(c.sub_commands, ["LoginToPBX", "LoginToUQ"]);
        let d = def.command_data("LoginToPBX").unwrap();
        assert_eq!(
            d.params,
            [("AgentId".to_string(), "{@AgentId}".to_string())]
        );
        assert_eq!(d.required_fields[0].0, "Work Phone #");
        assert_eq!(
            def.section("siebel", "").unwrap().get("commserverversion"),
            Some("unquoted value ; kept")
        );
    }

    #[test]
    fn lookups_are_case_insensitive_and_keep_duplicates() {
        let def =
            parse("[command:X]\nDEVICECOMMAND = \"LogIn\"\nParam.A = \"1\"\nparam.a = \"2\"\n")
                .unwrap();
        assert_eq!(def.sections("Command").count(), 1);
        let s = def.section("COMMAND", "X").unwrap();
        assert_eq!(s.get("DeviceCommand"), Some("LogIn"));
        assert_eq!(s.get("param.A"), Some("1"));
        assert_eq!(s.get_all("PARAM.A"), ["1", "2"]);
        assert_eq!(s.get("Missing"), None);
        assert!(def.section("Command", "x").is_none(), "names are exact");
        assert_eq!(
            def.command("X").unwrap().device_command.as_deref(),
            Some("LogIn")
        );
    }

    #[test]
    fn with_prefix_gives_sub_names() {
        let def = parse(
            "[EventHandler:H]\nFilter.ANI = \"1*\"\nFILTER.'Call Type' = \"ACD?\"\nFilterSpec = \"x\"\n",
        )
        .unwrap();
        let s = def.section("EventHandler", "H").unwrap();
        assert_eq!(
            s.with_prefix("Filter."),
            [
                ("ANI".to_string(), "1*".to_string()),
                ("Call Type".to_string(), "ACD?".to_string()),
            ]
        );
        assert!(s.with_prefix("Nothing.").is_empty());
    }

    #[test]
    fn quoting_and_comments() {
        let def = parse(
            "[S:N] ; trailing comment\n\
             A = \"say \"\"hi\"\"\"\n\
             B = \"\"\n\
             C = \"x\" ; comment\n\
             D = \"a = b\"\n\
             E=\"tight\"\n\
             F = \n",
        )
        .unwrap();
        let s = def.section("S", "N").unwrap();
        assert_eq!(s.get("A"), Some("say \"hi\""));
        assert_eq!(s.get("B"), Some(""));
        assert_eq!(s.get("C"), Some("x"));
        assert_eq!(s.get("D"), Some("a = b"));
        assert_eq!(s.get("E"), Some("tight"));
        assert_eq!(s.get("F"), Some(""));
    }

    #[test]
    fn profile_overrides_driver_defaults() {
        let text = "[Driver:D]\nLibrary Name = \"x\"\nDriver:Inline = \"i\"\n\
                    [DriverParameters:D]\nDriver:Host = \"h\"\nDriver:Port = \"1\"\n\
                    Service:Agent = \"{@AgentId}\"\nShared = \"s\"\n\
                    [Profile:P]\nDriver = \"D\"\ndriver:port = \"2\"\nService:Extra = \"e\"\n";
        let def = parse(text).unwrap();
        assert_eq!(
            def.driver_params("P"),
            [
                ("Driver:Inline".to_string(), "i".to_string()),
                ("Driver:Host".to_string(), "h".to_string()),
                ("Driver:Port".to_string(), "2".to_string()),
            ]
        );
        assert_eq!(
            def.service_params("P"),
            [
                ("Service:Agent".to_string(), "{@AgentId}".to_string()),
                ("Shared".to_string(), "s".to_string()),
                ("Service:Extra".to_string(), "e".to_string()),
            ]
        );
        assert!(def.driver_params("Nope").is_empty());
        assert!(def.service_params("Nope").is_empty());
    }

    fn error_of(text: &str) -> DefError {
        parse(text).expect_err("should fail")
    }

    #[test]
    fn rejects_key_outside_section() {
        let e = error_of("; c\n\nKey = \"v\"\n");
        assert_eq!(e.line, 3);
        assert!(e.message.contains("outside any section"), "{e}");
    }

    #[test]
    fn rejects_unterminated_quote() {
        let e = error_of("[S:N]\nA = \"ok\"\nB = \"not closed\n");
        assert_eq!(e.line, 3);
        assert!(e.message.contains("unterminated"), "{e}");
        assert_eq!(e.to_string(), format!("line 3: {}", e.message));
    }

    #[test]
    fn rejects_line_without_equals() {
        let e = error_of("[S:N]\r\njust words\r\n");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("expected"), "{e}");
    }

    #[test]
    fn rejects_other_malformed_lines() {
        assert_eq!(error_of("[S:N\n").line, 1);
        assert_eq!(error_of("[:N]\n").line, 1);
        assert_eq!(error_of("[S:N] junk\n").line, 1);
        assert_eq!(error_of("[S:N]\n = \"v\"\n").line, 2);
        assert_eq!(error_of("[S:N]\nA = \"v\" junk\n").line, 2);
        let boxed: Box<dyn std::error::Error> = Box::new(error_of("x\n"));
        assert!(boxed.to_string().starts_with("line 1: "));
    }

    #[test]
    fn header_without_colon_and_empty_file() {
        let def = parse("[Siebel]\nCommServerVersion = \"7.0\"\n[A:B:C]\n").unwrap();
        assert_eq!(def.sections[0].kind, "Siebel");
        assert_eq!(def.sections[0].name, "");
        assert_eq!(def.sections[1].kind, "A");
        assert_eq!(def.sections[1].name, "B:C");
        assert!(parse("").unwrap().sections.is_empty());
        assert!(parse("\u{feff}").unwrap().sections.is_empty());
    }

    #[test]
    fn expand_substitutes_macros_and_fields() {
        let lookup = |name: &str| match name {
            "@AgentId" => Some("1001".to_string()),
            "@UserName" => Some("SADMIN".to_string()),
            "ANI" => Some("5551234".to_string()),
            "@WorkObject:Id" => Some("42".to_string()),
            _ => None,
        };
        assert_eq!(expand("{@AgentId}", lookup), "1001");
        assert_eq!(
            expand("Call from {@UserName} to {ANI}", lookup),
            "Call from SADMIN to 5551234"
        );
        assert_eq!(
            expand("[Work Phone #] = '{ANI}'", lookup),
            "[Work Phone #] = '5551234'"
        );
        assert_eq!(expand("{@WorkObject:Id}", lookup), "42");
        assert_eq!(
            expand("{@Unknown} and {DNIS}", lookup),
            "{@Unknown} and {DNIS}"
        );
        assert_eq!(expand(r"\{ANI\} {ANI}", lookup), "{ANI} 5551234");
        assert_eq!(expand(r"C:\logs {ANI}", lookup), r"C:\logs 5551234");
        assert_eq!(expand("open {ANI", lookup), "open {ANI");
        assert_eq!(expand("a } b", lookup), "a } b");
        assert_eq!(expand("", lookup), "");
        assert_eq!(expand("no refs é", lookup), "no refs é");
    }
}
