//! Parser for Siebel communications configuration DEF files.
//!
//! A DEF file is the text export of a Siebel communications configuration
//! (drivers, profiles, commands, command data, event handlers, event responses
//! and event logs). It is INI-like; an export indents nested parts (the driver
//! under its profile, command data under its command), which is cosmetic:
//!
//! ```text
//! [Configuration Parameters]
//!    AutoLogin = "FALSE"
//! [Profile:Cisco UCCE]
//!    Driver = "Cisco Finesse UCCE"
//!    [Driver:Cisco Finesse UCCE]
//!       Library Name = "siebel_cti"
//!       Inbound Flag = "Y"
//!       [Driver Parameters:Cisco Finesse UCCE]
//!          Driver:BrokerHost = "127.0.0.1"  ; a comment after a value
//! [Command:SignOnGroup]
//!    SubCommand_1 = "SignOn"
//! ```
//!
//! * `[Type:Name]` starts a section; `Type` is the text before the first `:`
//!   (`Driver Parameters`, with its space, is one type). Leading blanks and
//!   tabs are ignored.
//! * `Key = "Value"` lines follow; the key is the text before the first `=`
//!   (it may contain spaces: `Library Name`, `FindField.Last Name`). Keys are
//!   case-insensitive and may carry a sub-name after a dot (`Filter.ANI`,
//!   `LogField.'Contact Id'`) or a prefix with a colon (`Driver:BrokerHost`).
//!   A key may repeat (Siebel's multi-value parameters); [`Section::get`]
//!   returns the first occurrence.
//! * The value is the text between the first `"` and the closing `"`: the
//!   first `"` followed only by blanks and a `;` comment, or else the last `"`
//!   of the line. So a value may contain quotes (`"Make call to
//!   "{@SelectedText}""`) and a `;` comment may follow it. Unquoted values are
//!   taken up to a `;` comment or the end of the line.
//! * Lines whose first non-blank character is `;` or `#` are comments (an
//!   export writes `# ...` lines inside sections).
//! * The guessed format of our first templates is refused with the line and
//!   the key: `[Configuration]` (Siebel writes `[Configuration Parameters]`),
//!   `[DriverParameters:X]` (`[Driver Parameters:X]`), `[CommandData:X]`
//!   (`[CmdData:X]`), and `Inbound` / `Outbound` keys in a `[Driver:X]`
//!   section (`Inbound Flag` / `Outbound Flag`).
//!
//! See `docs/def-format.md` for what is confirmed from Oracle's documentation
//! and a Siebel export, and what is assumed.

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
    /// The key or section header at fault, as written (`Inbound`,
    /// `[Configuration]`), when the line is well formed but not Siebel's format.
    pub key: Option<String>,
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
    /// `ExecuteAll` is true (a group command running every enabled subcommand).
    pub execute_all: bool,
    /// `ExecUntilOK` is true (subcommands run until one succeeds).
    pub exec_until_ok: bool,
    /// `OnEditControl` is true: the command works on the text of the toolbar's
    /// edit box, so it is available only when the box is not empty.
    pub on_edit_control: bool,
    /// `MatchWorkType` is true: available only when the current work item is of
    /// the command's channel (here: when there is a current work item).
    pub match_work_type: bool,
    /// `LocalMenu` is true (shown in the applet-level menu).
    pub local_menu: bool,
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
    /// `SelectQuerySpec`, if any: which rows the picker lists.
    pub select_query_spec: Option<String>,
    /// `SelectApplet`: the pop-up picker the command opens before it runs (its picked
    /// row's fields fill `[Field]` in `Param.X`).
    pub select_applet: Option<String>,
    /// `SelectBusObj` of the picker.
    pub select_bus_obj: Option<String>,
    /// `SelectBusComp` of the picker: where its rows come from.
    pub select_bus_comp: Option<String>,
    /// `SelectParam`, as written.
    pub select_param: Option<String>,
    /// `SelectTitle`: the picker's title.
    pub select_title: Option<String>,
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
/// lines starting with `;` or `#`, indentation, and `Key = "Value"` lines with
/// an optional `;` comment after the value. Fails on a key before any section,
/// a line without `=`, an unterminated quote or section header, an empty key or
/// section type, and the keys and sections of the old guessed format (see the
/// module documentation).
pub fn parse(text: &str) -> Result<Def, DefError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections: Vec<Section> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with(';') || trimmed.starts_with('#') {
            continue;
        }
        let err = |message: String| DefError {
            line,
            key: None,
            message,
        };
        if let Some(rest) = trimmed.strip_prefix('[') {
            let close = rest
                .find(']')
                .ok_or_else(|| err("section header without closing ']'".to_string()))?;
            let after = rest[close + 1..].trim();
            if !after.is_empty() && !after.starts_with(';') {
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
            if let Some(instead) = old_section(kind, name) {
                return Err(DefError {
                    line,
                    key: Some(format!("[{header}]")),
                    message: format!(
                        "section [{header}] is not Siebel's export format: write {instead}"
                    ),
                });
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
        if section.kind.eq_ignore_ascii_case("Driver") {
            if let Some(instead) = OLD_DRIVER_KEYS
                .iter()
                .find(|(old, _)| key.eq_ignore_ascii_case(old))
                .map(|(_, new)| new)
            {
                return Err(DefError {
                    line,
                    key: Some(key.to_string()),
                    message: format!(
                        "key {key:?} of [Driver:{}] is not Siebel's export format: write {instead}",
                        section.name
                    ),
                });
            }
        }
        section.entries.push((key.to_string(), value));
    }
    Ok(Def { sections })
}

/// Driver keys of the old guessed format and what an export writes instead.
const OLD_DRIVER_KEYS: [(&str, &str); 2] = [
    ("Inbound", "`Inbound Flag = \"Y\"`"),
    ("Outbound", "`Outbound Flag = \"Y\"`"),
];

/// For a section type of the old guessed format, the header an export writes.
fn old_section(kind: &str, name: &str) -> Option<String> {
    let is = |k: &str| kind.eq_ignore_ascii_case(k);
    if is("Configuration") {
        Some("[Configuration Parameters]".to_string())
    } else if is("DriverParameters") {
        Some(format!("[Driver Parameters:{name}]"))
    } else if is("CommandData") {
        Some(format!("[CmdData:{name}]"))
    } else {
        None
    }
}

/// The value of a `Key = value` line (the text after `=`, trimmed): between the
/// first `"` and the closing `"` (the first one followed only by blanks and a
/// `;` comment, or else the last one of the line); unquoted, up to a `;`.
fn parse_value(value: &str) -> Result<String, String> {
    let Some(body) = value.strip_prefix('"') else {
        let end = value.find(';').unwrap_or(value.len());
        return Ok(value[..end].trim().to_string());
    };
    let quotes: Vec<usize> = body.match_indices('"').map(|(i, _)| i).collect();
    if let Some(&q) = quotes
        .iter()
        .find(|&&q| body[q + 1..].trim_start().starts_with(';'))
    {
        return Ok(body[..q].to_string());
    }
    let Some(&last) = quotes.last() else {
        return Err("unterminated quoted value (missing closing '\"')".to_string());
    };
    let after = body[last + 1..].trim();
    if !after.is_empty() {
        return Err(format!("unexpected text after closing quote: {after:?}"));
    }
    Ok(body[..last].to_string())
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
    /// `[Driver Parameters:<driver>]`, plus `Driver:`/`Service:` entries of
    /// `[Driver:<driver>]`), overridden and extended by the profile's own
    /// entries (except `Driver`; an export's profile has none, but we keep
    /// them as overrides). Keys keep their spelling and order of first
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
                .sections("Driver Parameters")
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

    /// The command data named `name` (`[CmdData:name]`).
    pub fn command_data(&self, name: &str) -> Option<CommandData> {
        let s = self.section("CmdData", name)?;
        Some(CommandData {
            name: s.name.clone(),
            params: s.with_prefix("Param."),
            required_fields: s.with_prefix("RequiredField."),
            select_query_spec: s.opt("SelectQuerySpec"),
            select_applet: s.opt("SelectApplet"),
            select_bus_obj: s.opt("SelectBusObj"),
            select_bus_comp: s.opt("SelectBusComp"),
            select_param: s.opt("SelectParam"),
            select_title: s.opt("SelectTitle"),
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
            // Oracle's table writes AfterWork.X; some exports write AfterCall.X.
            after_work: [s.with_prefix("AfterWork."), s.with_prefix("AfterCall.")].concat(),
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
        exec_until_ok: s.flag("ExecUntilOK"),
        on_edit_control: s.flag("OnEditControl"),
        match_work_type: s.flag("MatchWorkType"),
        local_menu: s.flag("LocalMenu"),
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
        // Sections and keys as an export writes them.
        let kinds: Vec<&str> = def.sections.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(
            kinds[..5],
            [
                "Siebel",
                "Configuration Parameters",
                "Profile",
                "Driver",
                "Driver Parameters"
            ],
            "{file}"
        );
        let conf = def.section("Configuration Parameters", "").unwrap();
        assert_eq!(conf.get("AutoLogin"), Some("FALSE"));
        assert_eq!(conf.get("AutoLoginCmd"), Some("SignOnGroup"));
        let d = def.section("Driver", &driver).expect("driver section");
        assert_eq!(d.get("Library Name"), Some("siebel_cti"));
        assert_eq!(d.get("Channel Type"), Some("Voice"));
        assert_eq!(d.get("Channel String"), Some("Voice"));
        for flag in ["Inbound Flag", "Outbound Flag", "Interactive"] {
            assert_eq!(d.get(flag), Some("Y"), "{file}: {flag}");
        }
        assert_eq!(
            def.section("Profile", &profile).unwrap().entries,
            [("Driver".to_string(), driver.clone())],
            "{file}: the profile only names its driver, as in an export"
        );
        assert!(def.section("Driver Parameters", &driver).is_some());
        // The standard toolbar's buttons and the commands they run, in order.
        for (group, subs) in [
            ("SignOnGroup", &["SignOn"][..]),
            ("SignOffGroup", &["SignOff"]),
            ("ChangeBusyStateGroup", &["NotReady", "Ready"]),
            ("NotReadyGroup", &["NotReady"]),
            ("AcceptWorkGroup", &["AnswerCall"]),
            ("ReleaseWorkGroup", &["ReleaseCall"]),
            ("SuspendWorkGroup", &["HoldCall"]),
            ("ResumeWorkGroup", &["RetrieveCall", "AlternateCall"]),
            ("RetrieveWorkGroup", &["RetrieveCall"]),
            ("InitiateWorkGroup", &["MakeCall", "MakeCallToContact"]),
            ("MakeCallGroupInMenu", &["MakeCall", "MakeCallToContact"]),
            ("MakeCallGroupInLocalMenu", &["MakeCallToContact"]),
            ("BlindTransferGroup", &["TransferMute"]),
            (
                "ConsultativeTransferGroup",
                &["CompleteTransfer", "InitTransfer"],
            ),
            (
                "ConferenceTransferGroup",
                &["CompleteConference", "InitConference"],
            ),
        ] {
            let g = def
                .command(group)
                .unwrap_or_else(|| panic!("{file}: {group}"));
            assert_eq!(g.sub_commands, subs, "{file}: {group}");
            assert!(g.device_command.is_none(), "{file}: {group}");
            for sub in subs {
                assert!(def.command(sub).is_some(), "{file}: {group} -> {sub}");
            }
        }
        // Commands that work on the typed text are available only with text typed.
        for name in [
            "MakeCall",
            "InitTransfer",
            "InitConference",
            "TransferMute",
            "SendDTMF",
        ] {
            let c = def.command(name).unwrap();
            assert!(c.on_edit_control && c.match_work_type == (name != "MakeCall"));
        }
        assert_eq!(def.profile_driver(&profile), Some(driver.as_str()));

        let mut dp = def.driver_params(&profile);
        // TLS and secure passwords are on: as shipped, the template names what the site
        // must set; with those set, every Driver: parameter is one the driver accepts.
        let e = driver::config::DriverConfig::from_params(&dp).unwrap_err();
        assert!(e.to_string().contains("SecureKeyFile"), "{file}: {e}");
        let key = std::env::temp_dir().join(format!("def-test-{}.key", std::process::id()));
        std::fs::write(&key, "0123456789abcdeffedcba987654321089abcdef01234567").unwrap();
        dp.push(("Driver:BrokerCaFile".into(), "/etc/site/ca.pem".into()));
        dp.push(("Driver:SecureKeyFile".into(), key.display().to_string()));
        dp.retain(|(k, v)| k != "Driver:SecureKey" && k != "Driver:BrokerCaFile" || !v.is_empty());
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
        assert_eq!(get("Driver:BrokerPort"), Some("61612"));
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
        CommServerVersion = unquoted value ; a comment\r\n";

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
            Some("unquoted value")
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
             A = \"Make call to \"{@SelectedText}\"\"\n\
             B = \"\"\n\
             C = \"x\" ; comment\n\
             D = \"a = b\"\n\
             E=\"tight\"\n\
             F = \n\
             G = \"1.2.3.4\"  ; a comment with \"quotes\" and ; more\n\
             H = \"a; b\" ;c\n\
             I = \"say \"hi\" now\"\n\
             \t\tJ = \"tabs\"\t; tab before the comment\n\
             K = \";\"\n",
        )
        .unwrap();
        let s = def.section("S", "N").unwrap();
        assert_eq!(s.get("A"), Some("Make call to \"{@SelectedText}\""));
        assert_eq!(s.get("B"), Some(""));
        assert_eq!(s.get("C"), Some("x"));
        assert_eq!(s.get("D"), Some("a = b"));
        assert_eq!(s.get("E"), Some("tight"));
        assert_eq!(s.get("F"), Some(""));
        assert_eq!(s.get("G"), Some("1.2.3.4"));
        assert_eq!(s.get("H"), Some("a; b"));
        assert_eq!(s.get("I"), Some("say \"hi\" now"));
        assert_eq!(s.get("J"), Some("tabs"));
        assert_eq!(s.get("K"), Some(";"));
    }

    #[test]
    fn profile_overrides_driver_defaults() {
        let text = "[Driver:D]\nLibrary Name = \"x\"\nDriver:Inline = \"i\"\n\
                    [Driver Parameters:D]\nDriver:Host = \"h\"\nDriver:Port = \"1\"\n\
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
    fn refuses_the_old_guessed_sections_and_keys_with_line_and_key() {
        let cases: [(&str, usize, &str, &str); 5] = [
            (
                "[Siebel]\n[Configuration]\nAutoLogin = \"FALSE\"\n",
                2,
                "[Configuration]",
                "[Configuration Parameters]",
            ),
            (
                "; c\n[Driver:D]\n   [DriverParameters:D]\n",
                3,
                "[DriverParameters:D]",
                "[Driver Parameters:D]",
            ),
            (
                "[Driver:D]\n   Library Name = \"x\"\n   Inbound = \"TRUE\"\n",
                3,
                "Inbound",
                "Inbound Flag",
            ),
            (
                "[Driver:D]\n\n\toutbound= \"TRUE\" ; old\n",
                3,
                "outbound",
                "Outbound Flag",
            ),
            (
                "[Command:C]\n[CommandData:C]\n",
                2,
                "[CommandData:C]",
                "[CmdData:C]",
            ),
        ];
        for (text, line, key, instead) in cases {
            let e = error_of(text);
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert_eq!(e.key.as_deref(), Some(key), "{text:?}: {e}");
            assert!(e.message.contains(key), "{e}");
            assert!(e.message.contains(instead), "{e}");
            assert!(e.to_string().starts_with(&format!("line {line}: ")), "{e}");
        }
        // Inbound / Outbound are refused as driver keys only; Interactive is valid.
        parse("[Driver:D]\nInteractive = \"Y\"\n[Command:C]\nInbound = \"x\"\n").unwrap();
        assert_eq!(error_of("[S:N]\nA = \"v\" junk\n").key, None);
    }

    /// The layout of a configuration exported by Siebel (our own text, same shapes):
    /// nesting by indentation with spaces and tabs, comments after values, quotes
    /// inside values, `#` lines inside sections, keys with spaces, `AfterCall.X`.
    const EXPORT_STYLE: &str = "[Siebel]\n\
        \x20  CommServerVersion = \"7.0\"\n\
        \n\
        [Configuration Parameters]\n\
        \x20  AutoLogin    = \"FALSE\"\n\
        \x20  AutoLoginCmd = \"SignOnGroup\"\n\
        \x20  DialingFilter.Rule001 = \"9->\"\n\
        \n\
        [Profile:P]\n\
        \x20  Driver = \"D\"\n\
        \n\
        \x20  [Driver:D]\n\
        \x20     Library Name   = \"d.dll\"\n\
        \x20     Inbound Flag   = \"Y\"\n\
        \x20     Outbound Flag  = \"Y\"\n\
        \x20     Interactive    = \"Y\"\n\
        \n\
        \t[Driver Parameters:D]\n\
        \t\tDriver:Server = \"10.0.0.5\"  ; the middleware's address\n\
        \t\tService:Agent = \"{@AgentId}\"  ; leave it as is\n\
        \n\
        [Command:MakeCallToTyped]\n\
        \x20  Description   = \"Make call to \"{@SelectedText}\"\"\n\
        \x20  DeviceCommand = \"MakeCall\"\n\
        \x20  OnEditControl = \"TRUE\"\n\
        \x20  MatchWorkType = \"TRUE\"\n\
        \x20  CmdData       = \"MakeCallToTyped\"\n\
        \n\
        \x20  [CmdData:MakeCallToTyped]\n\
        \x20     Param.PhoneNumber           = \"{@SelectedText:Lookup}\"\n\
        \x20     RequiredField.@SelectedText = \"?*\"\n\
        \n\
        [EventHandler:Inbound]\n\
        \x20  # USED FOR INBOUND = \"CALLS\"\n\
        \x20  Filter.ConnectType = \"INBOUND\"\n\
        \x20  DeviceEvent        = \"OnConnect\"\n\
        \x20  Response           = \"Inbound\"\n\
        \x20  Order              = \"3\"\n\
        \n\
        \x20  [EventResponse:Inbound]\n\
        \x20     FindField.Last Name = \"Ask the caller\"\n\
        \x20     Log                 = \"InboundLog\"\n\
        \n\
        \x20     [EventLog:InboundLog]\n\
        \x20        AfterCall.'ACD Call Duration' = \"{@WorkDuration}\"\n\
        \x20        LogField.Type                 = \"Call - Inbound\"\n";

    #[test]
    fn parses_the_export_layout() {
        let def = parse(EXPORT_STYLE).unwrap();
        let kinds: Vec<(&str, &str)> = def
            .sections
            .iter()
            .map(|s| (s.kind.as_str(), s.name.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("Siebel", ""),
                ("Configuration Parameters", ""),
                ("Profile", "P"),
                ("Driver", "D"),
                ("Driver Parameters", "D"),
                ("Command", "MakeCallToTyped"),
                ("CmdData", "MakeCallToTyped"),
                ("EventHandler", "Inbound"),
                ("EventResponse", "Inbound"),
                ("EventLog", "InboundLog"),
            ]
        );
        assert_eq!(
            def.section("Configuration Parameters", "")
                .unwrap()
                .get("DialingFilter.Rule001"),
            Some("9->")
        );
        assert_eq!(def.profile_driver("P"), Some("D"));
        assert_eq!(
            def.driver_params("P"),
            [("Driver:Server".to_string(), "10.0.0.5".to_string())]
        );
        assert_eq!(
            def.service_params("P"),
            [("Service:Agent".to_string(), "{@AgentId}".to_string())]
        );
        let d = def.section("Driver", "D").unwrap();
        assert_eq!(d.get("Inbound Flag"), Some("Y"));
        let c = def.command("MakeCallToTyped").unwrap();
        assert_eq!(
            c.description.as_deref(),
            Some("Make call to \"{@SelectedText}\"")
        );
        assert!(c.on_edit_control && c.match_work_type && !c.execute_all);
        let data = def.command_data("MakeCallToTyped").unwrap();
        assert_eq!(
            data.required_fields,
            [("@SelectedText".to_string(), "?*".to_string())]
        );
        let h = &def.event_handlers()[0];
        assert_eq!(h.filters.len(), 1, "the # line is a comment: {h:?}");
        assert_eq!(h.order, Some(3));
        let r = def.event_response("Inbound").unwrap();
        assert_eq!(
            r.find_fields,
            [("Last Name".to_string(), "Ask the caller".to_string())]
        );
        let l = def.event_log("InboundLog").unwrap();
        assert_eq!(
            l.after_work,
            [(
                "ACD Call Duration".to_string(),
                "{@WorkDuration}".to_string()
            )]
        );
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
