//! Reading a parsed DEF: keys of a section, a profile's parameters, commands, command data,
//! event handlers, responses and logs.

use super::{Command, CommandData, Def, EventHandler, EventLog, EventResponse, Section};

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
