//! scs-sim's DEF file parser (`scs_sim::def::parse`) and every reader on a parsed file:
//! profiles and their parameters, commands and command data, event handlers, responses and
//! logs, macro expansion. A DEF file an administrator wrote either loads or is refused with a
//! line number, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scs_sim::def;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(d) = def::parse(text) else {
        return;
    };
    let profiles: Vec<String> = d.sections("Profile").map(|s| s.name.clone()).collect();
    for p in &profiles {
        let _ = d.profile_driver(p);
        let _ = d.profile_params(p);
        let _ = d.driver_params(p);
        let _ = d.service_params(p);
    }
    for c in d.commands() {
        let _ = d.command(&c.name);
        let _ = d.command_data(&c.name);
    }
    for h in d.event_handlers() {
        let Some(r) = h.response.as_deref().and_then(|r| d.event_response(r)) else {
            continue;
        };
        for log in [&r.single_log, &r.multi_log, &r.log].into_iter().flatten() {
            let _ = d.event_log(log);
        }
        if let Some(q) = &r.query_spec {
            let _ = def::expand(q, |k| Some(k.to_string()));
        }
    }
    let _ = def::expand(text, |k| (k.len() % 2 == 0).then(|| k.to_string()));
});
