//! The DEF templates and the driver agree: every DeviceCommand and DeviceEvent of each
//! template is one the library reports in `RequestCommandEventList`, and the reverse; the
//! standard toolbar's buttons (group commands) are defined and run commands that exist.

use std::collections::BTreeSet;

use scs_sim::CommServer;

use crate::common::*;

/// The standard communications toolbar's buttons the templates bind.
const BUTTONS: [&str; 16] = [
    "SignOnGroup",
    "SignOffGroup",
    "ChangeBusyStateGroup",
    "NotReadyGroup",
    "AcceptWorkGroup",
    "ReleaseWorkGroup",
    "SuspendWorkGroup",
    "ResumeWorkGroup",
    "RetrieveWorkGroup",
    "InitiateWorkGroup",
    "BlindTransferGroup",
    "ConsultativeTransferGroup",
    "ConferenceTransferGroup",
    "MakeCallGroupInMenu",
    "ForwardWorkGroup",
    "ResetStateGroup",
];

#[test]
fn templates_use_exactly_the_commands_and_events_the_driver_supports() {
    let access = BrokerAccess::shared();
    let params = access.driver_params(&access.queue());
    let server = CommServer::start(library(), "ENU", &params).unwrap();
    let commands: BTreeSet<String> = server.commands.iter().cloned().collect();
    let events: BTreeSet<String> = server.events.iter().cloned().collect();
    for name in ["ucce.def", "uccx.def"] {
        let def = template(name);
        let used_commands: BTreeSet<String> = def
            .commands()
            .into_iter()
            .filter_map(|c| c.device_command)
            .collect();
        let used_events: BTreeSet<String> = def
            .event_handlers()
            .into_iter()
            .map(|h| h.device_event)
            .collect();
        assert_eq!(
            used_commands, commands,
            "{name}: DeviceCommands vs the driver"
        );
        assert_eq!(used_events, events, "{name}: DeviceEvents vs the driver");
        // Every handler's response and every command's data exist.
        for h in def.event_handlers() {
            let r = h.response.unwrap_or_default();
            assert!(def.event_response(&r).is_some(), "{name}: no response {r}");
        }
        for c in def.commands() {
            if let Some(d) = &c.cmd_data {
                assert!(def.command_data(d).is_some(), "{name}: no CmdData {d}");
            }
            // A command either runs a device command or is a group of existing commands.
            assert!(
                c.device_command.is_some() == c.sub_commands.is_empty(),
                "{name}: {} has a DeviceCommand or SubCommand_N, not both",
                c.name
            );
            for sub in &c.sub_commands {
                let s = def
                    .command(sub)
                    .unwrap_or_else(|| panic!("{name}: {} runs undefined {sub}", c.name));
                assert!(
                    s.device_command.is_some(),
                    "{name}: {} -> {sub} runs a device command",
                    c.name
                );
            }
        }
        // Every standard button is bound, to sub-commands the driver offers.
        for button in BUTTONS {
            let b = def
                .command(button)
                .unwrap_or_else(|| panic!("{name}: no {button}"));
            assert!(
                !b.sub_commands.is_empty(),
                "{name}: {button} has sub-commands"
            );
            for sub in &b.sub_commands {
                let device = def.command(sub).unwrap().device_command.unwrap();
                assert!(commands.contains(&device), "{name}: {button} -> {device}");
            }
        }
        // The work-item list names the picked work item to SetCurrentWorkItem.
        let list = def.command("WorkItemList").expect("WorkItemList");
        assert_eq!(list.device_command.as_deref(), Some("SetCurrentWorkItem"));
        let data = def.command_data(&list.cmd_data.unwrap()).unwrap();
        assert!(
            data.params
                .iter()
                .any(|(k, v)| k == "TrackingID" && v == "{@SelectedWorkItem:DriverWorkTrackID}"),
            "{name}: {:?}",
            data.params
        );
    }
}

#[test]
fn the_old_guessed_format_is_refused_with_line_and_key() {
    // A template that slips back to the old keys fails to load, naming the line and key.
    let text = std::fs::read_to_string(repo().join("def-templates/ucce.def")).unwrap();
    for (from, to, key) in [
        (
            "[Configuration Parameters]",
            "[Configuration]",
            "[Configuration]",
        ),
        (
            "[Driver Parameters:Cisco Finesse UCCE]",
            "[DriverParameters:Cisco Finesse UCCE]",
            "[DriverParameters:Cisco Finesse UCCE]",
        ),
        ("Inbound Flag   = \"Y\"", "Inbound = \"TRUE\"", "Inbound"),
        ("Outbound Flag  = \"Y\"", "Outbound = \"TRUE\"", "Outbound"),
    ] {
        // The first line (not a comment) that starts with `from`, changed back.
        let mut line = 0;
        let old: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if line == 0 && l.trim_start().starts_with(from) {
                    line = i + 1;
                    l.replacen(from, to, 1)
                } else {
                    l.to_string()
                }
            })
            .collect();
        assert!(line > 0, "{from} in ucce.def");
        let old = old.join("\n");
        match scs_sim::def::parse(&old) {
            Ok(_) => panic!("{to} at line {line} was accepted"),
            Err(e) => assert_eq!((e.line, e.key.as_deref()), (line, Some(key)), "{e}"),
        }
        let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{}.def", unique("old-format")));
        std::fs::write(&path, &old).unwrap();
        let err = CommServer::read_def(&path).unwrap_err().to_string();
        assert!(
            err.contains(&format!("line {line}: ")) && err.contains(key),
            "{err}"
        );
    }
}

/// Every agent command (a menu item running a device command) has a hot key, none shared;
/// only SetLogLevel (the administrator's) may go without. The Hold/Resume toggle holds, then
/// retrieves.
#[test]
fn every_agent_command_has_its_own_hot_key_and_hold_resume_toggles() {
    for name in ["ucce.def", "uccx.def"] {
        let def = template(name);
        let mut seen = BTreeSet::new();
        for c in def.commands() {
            if let Some(k) = &c.hot_key {
                assert!(seen.insert(k.to_lowercase()), "{name}: {k} used twice");
            }
            let agent_command = c
                .device_command
                .as_deref()
                .is_some_and(|d| d != "SetLogLevel");
            if c.title.is_some() && agent_command {
                assert!(c.hot_key.is_some(), "{name}: {} has no HotKey", c.name);
            }
        }
        assert!(seen.len() >= 20, "{name}: {} hot keys", seen.len());
        let toggle = def.command("HoldResumeGroup").expect("HoldResumeGroup");
        assert_eq!(toggle.sub_commands, ["HoldCall", "RetrieveCall"], "{name}");
    }
}
