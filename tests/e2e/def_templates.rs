//! The DEF templates and the driver agree: every DeviceCommand and DeviceEvent of each
//! template is one the library reports in `RequestCommandEventList`, and the reverse.

use std::collections::BTreeSet;

use scs_sim::CommServer;

use crate::common::*;

#[test]
fn templates_use_exactly_the_commands_and_events_the_driver_supports() {
    let params = bare_params(
        "Driver:BrokerPort",
        broker().port().to_string(),
        "def-check",
    );
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
            if let Some(d) = c.cmd_data {
                assert!(def.command_data(&d).is_some(), "{name}: no CmdData {d}");
            }
        }
    }
}
