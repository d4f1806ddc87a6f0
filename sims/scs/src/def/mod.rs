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

mod lookup;
mod parse;

pub use parse::parse;

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
mod tests;
