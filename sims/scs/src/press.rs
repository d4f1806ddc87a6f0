//! Which sub-commands a press of a group command runs, as Siebel decides it: in numeric
//! order of `SubCommand_N`, the first one that is available now (with `ExecuteAll` or
//! `ExecUntilOK`: every available one, in order). See [`crate::Agent::press`].

use crate::def::{Command, Def};

/// What availability depends on at the moment of a press.
pub struct Situation<'a> {
    /// The toolbar the driver last sent (`CacheCommandInformation`): (device command,
    /// description, `SCCommandFlag` bits); `None` before the first one.
    pub toolbar: Option<&'a [(String, String, i64)]>,
    /// The text of the toolbar's edit box.
    pub text: &'a str,
    /// The current work item, if any.
    pub work_item: Option<&'a str>,
    /// The value a `RequiredField.X` tests (`X` as written, quotes included).
    pub value: &'a dyn Fn(&str) -> String,
}

/// `SC_CF_NOTSUPPORTED`.
const NOT_SUPPORTED: i64 = 1;
/// `SC_CF_DISABLED`.
const DISABLED: i64 = 2;

/// The leaf commands (commands with a `DeviceCommand`) a press of `group` runs now, in
/// order; empty when nothing is available, `why` then says why each sub-command was
/// skipped. Fails on group commands nested more than 8 deep (a cycle).
pub fn plan(
    def: &Def,
    group: &Command,
    now: &Situation,
    why: &mut Vec<String>,
) -> Result<Vec<String>, String> {
    plan_at(def, group, now, why, 0)
}

fn plan_at(
    def: &Def,
    group: &Command,
    now: &Situation,
    why: &mut Vec<String>,
    depth: usize,
) -> Result<Vec<String>, String> {
    if depth > 8 {
        return Err(format!(
            "command {:?}: group commands nested more than 8 deep (a cycle?)",
            group.name
        ));
    }
    let several = group.execute_all || group.exec_until_ok;
    let mut out = Vec::new();
    for name in &group.sub_commands {
        let Some(sub) = def.command(name) else {
            why.push(format!("{name}: not defined"));
            continue;
        };
        let leaves = if sub.sub_commands.is_empty() {
            match unavailable(def, &sub, now) {
                Some(reason) => {
                    why.push(format!("{name}: {reason}"));
                    Vec::new()
                }
                None => vec![sub.name.clone()],
            }
        } else {
            plan_at(def, &sub, now, why, depth + 1)?
        };
        if !leaves.is_empty() {
            out.extend(leaves);
            if !several {
                break;
            }
        }
    }
    Ok(out)
}

/// Why a leaf command is not available now, or `None` when it is: its device command must
/// be on the toolbar, neither not supported nor disabled (Siebel's own `@` commands are not
/// simulated); with `OnEditControl` the edit box must hold text; with `MatchWorkType` there
/// must be a current work item (every work item of this driver is a call); every
/// `RequiredField.X` of its command data must match.
pub fn unavailable(def: &Def, cmd: &Command, now: &Situation) -> Option<String> {
    let Some(device) = cmd.device_command.as_deref() else {
        return Some("no DeviceCommand".into());
    };
    if device.starts_with('@') {
        return Some(format!("{device} is Siebel's own command (not simulated)"));
    }
    let flags = now
        .toolbar
        .and_then(|t| t.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(device)))
        .map(|(_, _, f)| *f);
    match flags {
        None => return Some(format!("{device} is not on the driver's toolbar")),
        Some(f) if f & NOT_SUPPORTED != 0 => return Some(format!("{device} is not supported")),
        Some(f) if f & DISABLED != 0 => return Some(format!("{device} is disabled")),
        Some(_) => {}
    }
    if cmd.on_edit_control && now.text.trim().is_empty() {
        return Some("OnEditControl and the toolbar's edit box is empty".into());
    }
    if cmd.match_work_type && now.work_item.is_none() {
        return Some("MatchWorkType and no current work item".into());
    }
    let data = cmd.cmd_data.as_deref().and_then(|d| def.command_data(d));
    for (f, pattern) in data.iter().flat_map(|d| d.required_fields.iter()) {
        if !crate::engine::wildcard(pattern, &(now.value)(f)) {
            return Some(format!("RequiredField.{f} {pattern:?} not met"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::def::parse;

    const BUTTONS: &str = r#"
[Command:BusyGroup]
   SubCommand_10 = "Ready"
   SubCommand_9  = "NotReady"
[Command:NotReady]
   DeviceCommand = "ChangeNotReadyState"
[Command:Ready]
   DeviceCommand = "ChangeReadyState"
[Command:CallGroup]
   SubCommand_2 = "CallContact"
   SubCommand_1 = "CallTyped"
   SubCommand_3 = "Nested"
[Command:CallTyped]
   DeviceCommand = "MakeCall"
   OnEditControl = "TRUE"
   CmdData       = "CallTyped"
   [CmdData:CallTyped]
      RequiredField.@SelectedText = "?*"
[Command:CallContact]
   DeviceCommand = "MakeCall"
   CmdData       = "CallContact"
   [CmdData:CallContact]
      RequiredField.'Work Phone #' = "?*"
[Command:Nested]
   SubCommand_1 = "Hold"
[Command:Hold]
   DeviceCommand = "HoldCall"
   MatchWorkType = "TRUE"
[Command:All]
   ExecuteAll   = "TRUE"
   SubCommand_1 = "Hold"
   SubCommand_2 = "Missing"
   SubCommand_3 = "Ready"
   SubCommand_4 = "SiebelOwn"
[Command:SiebelOwn]
   DeviceCommand = "@ViewCallObject"
[Command:Loop]
   SubCommand_1 = "Loop"
"#;

    fn toolbar(entries: &[(&str, i64)]) -> Vec<(String, String, i64)> {
        entries
            .iter()
            .map(|(n, f)| (n.to_string(), String::new(), *f))
            .collect()
    }

    fn run(
        group: &str,
        bar: &[(&str, i64)],
        text: &str,
        work_item: Option<&str>,
        fields: &[(&str, &str)],
    ) -> (Vec<String>, Vec<String>) {
        let def = parse(BUTTONS).unwrap();
        let bar = toolbar(bar);
        let value = |f: &str| {
            let f = f.trim_matches('\'');
            if f.eq_ignore_ascii_case("@SelectedText") {
                return text.to_string();
            }
            fields
                .iter()
                .find(|(k, _)| *k == f)
                .map(|(_, v)| v.to_string())
                .unwrap_or_default()
        };
        let now = Situation {
            toolbar: Some(&bar),
            text,
            work_item,
            value: &value,
        };
        let mut why = Vec::new();
        let plan = plan(&def, &def.command(group).unwrap(), &now, &mut why).unwrap();
        (plan, why)
    }

    #[test]
    fn first_enabled_sub_command_in_numeric_order() {
        // Ready: Not Ready (SubCommand_9 before _10) is enabled.
        let (plan, why) = run(
            "BusyGroup",
            &[
                ("ChangeNotReadyState", 16),
                ("ChangeReadyState", 16 | 2 | 4),
            ],
            "",
            None,
            &[],
        );
        assert_eq!(plan, ["NotReady"]);
        assert!(why.is_empty());
        // Not Ready: Not Ready disabled, Ready enabled.
        let (plan, why) = run(
            "BusyGroup",
            &[
                ("ChangeNotReadyState", 16 | 2 | 4),
                ("ChangeReadyState", 16),
            ],
            "",
            None,
            &[],
        );
        assert_eq!(plan, ["Ready"]);
        assert_eq!(why, ["NotReady: ChangeNotReadyState is disabled"]);
        // Neither: nothing, with the reasons.
        let (plan, why) = run("BusyGroup", &[("ChangeNotReadyState", 1)], "", None, &[]);
        assert!(plan.is_empty());
        assert_eq!(
            why,
            [
                "NotReady: ChangeNotReadyState is not supported",
                "Ready: ChangeReadyState is not on the driver's toolbar"
            ]
        );
    }

    #[test]
    fn edit_box_required_fields_and_work_type() {
        let bar = [("MakeCall", 16 | 32), ("HoldCall", 16)];
        // Text typed: the typed number wins (SubCommand_1).
        let (plan, _) = run("CallGroup", &bar, "5551234", None, &[]);
        assert_eq!(plan, ["CallTyped"]);
        // No text: the selected contact's phone.
        let (plan, why) = run("CallGroup", &bar, " ", None, &[("Work Phone #", "555")]);
        assert_eq!(plan, ["CallContact"]);
        assert_eq!(
            why,
            ["CallTyped: OnEditControl and the toolbar's edit box is empty"]
        );
        // Neither: the nested group's Hold, only with a current work item.
        let (plan, why) = run("CallGroup", &bar, "", None, &[("Work Phone #", "")]);
        assert!(plan.is_empty());
        assert_eq!(
            why[1..],
            [
                "CallContact: RequiredField.Work Phone # \"?*\" not met".to_string(),
                "Hold: MatchWorkType and no current work item".to_string()
            ]
        );
        let (plan, _) = run("CallGroup", &bar, "", Some("dlg-1"), &[]);
        assert_eq!(plan, ["Hold"]);
    }

    #[test]
    fn execute_all_runs_every_available_sub_command() {
        let bar = [("HoldCall", 16), ("ChangeReadyState", 16)];
        let (plan, why) = run("All", &bar, "", Some("dlg-1"), &[]);
        assert_eq!(plan, ["Hold", "Ready"]);
        assert_eq!(
            why,
            [
                "Missing: not defined",
                "SiebelOwn: @ViewCallObject is Siebel's own command (not simulated)"
            ]
        );
    }

    #[test]
    fn a_cycle_is_an_error() {
        let def = parse(BUTTONS).unwrap();
        let value = |_: &str| String::new();
        let now = Situation {
            toolbar: None,
            text: "",
            work_item: None,
            value: &value,
        };
        let e = plan(&def, &def.command("Loop").unwrap(), &now, &mut Vec::new()).unwrap_err();
        assert!(e.contains("nested more than 8 deep"), "{e}");
    }
}
