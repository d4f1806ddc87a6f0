//! The admin API (JSON under `/admin`): place inbound calls, make the far end answer or hang up,
//! change an agent's state as a supervisor would, inject failures, read the state and how many
//! notifications wait to be published.

use serde_json::{json, Value};

use crate::state::{InboundCall, StateRequest};
use crate::{Reply, Shared};

fn json_error(status: u16, message: impl Into<String>) -> Reply {
    Reply::json(status, json!({ "error": message.into() }))
}

fn string_map(v: Option<&Value>) -> Result<std::collections::BTreeMap<String, String>, String> {
    let Some(v) = v else {
        return Ok(Default::default());
    };
    let obj = v.as_object().ok_or("expected an object of strings")?;
    obj.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            other => Ok((k.clone(), other.to_string())),
        })
        .collect()
}

/// Answers one `/admin/...` request.
pub fn handle(shared: &Shared, method: &str, path: &str, body: &str) -> Reply {
    let segments: Vec<&str> = path.trim_start_matches("/admin/").split('/').collect();
    let parse = || serde_json::from_str::<Value>(if body.trim().is_empty() { "{}" } else { body });
    match (method, segments.as_slice()) {
        ("POST", ["calls"]) => {
            let v = match parse() {
                Ok(v) => v,
                Err(e) => return json_error(400, format!("bad JSON: {e}")),
            };
            let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
            let call = InboundCall {
                to_agent: text("to"),
                queue: text("queue"),
                ani: text("ani").unwrap_or_default(),
                dnis: text("dnis").unwrap_or_default(),
                call_variables: match string_map(v.get("callVariables")) {
                    Ok(m) => m,
                    Err(e) => return json_error(400, format!("callVariables: {e}")),
                },
                ecc: match string_map(v.get("ecc")) {
                    Ok(m) => m,
                    Err(e) => return json_error(400, format!("ecc: {e}")),
                },
                call_type: text("callType").unwrap_or_default(),
            };
            let mut sim = shared.lock();
            match sim.inbound_call(&call) {
                Ok((id, out)) => {
                    shared.notifier.publish(out);
                    Reply::json(200, json!({ "dialogId": id }))
                }
                Err((status, message)) => json_error(status, message),
            }
        }
        ("POST", ["calls", id, action @ ("hangup" | "answer" | "busy")]) => {
            let mut sim = shared.lock();
            let result = match *action {
                "hangup" => sim.far_end_hangup(id),
                "busy" => sim.far_end_busy(id),
                _ => sim.far_end_answer(id),
            };
            match result {
                Ok(out) => {
                    shared.notifier.publish(out);
                    Reply::json(200, json!({ "ok": true }))
                }
                Err((status, message)) => json_error(status, message),
            }
        }
        ("POST", ["agents", id, "supervisor"]) => {
            // `{"teams": ["1"]}`: the user supervises these teams (an empty list: an agent).
            let v = match parse() {
                Ok(v) => v,
                Err(e) => return json_error(400, format!("bad JSON: {e}")),
            };
            let Some(teams) = v.get("teams").and_then(Value::as_array) else {
                return json_error(400, "give teams: a list of team ids");
            };
            let teams = teams
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            let result = shared.lock().set_supervisor(id, teams);
            match result {
                Ok(out) => {
                    shared.notifier.publish(out);
                    Reply::json(200, json!({ "ok": true }))
                }
                Err((status, message)) => json_error(status, message),
            }
        }
        ("POST", ["agents", "state"]) => {
            // A state change made outside Siebel (a supervisor, the Finesse desktop).
            let v = match parse() {
                Ok(v) => v,
                Err(e) => return json_error(400, format!("bad JSON: {e}")),
            };
            let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
            let (Some(agent), Some(state)) = (text("agent"), text("state")) else {
                return json_error(400, "give agent and state");
            };
            let req = StateRequest {
                state,
                extension: text("extension"),
                reason_code_id: text("reasonCodeId"),
            };
            let result = shared.lock().change_state(&agent, &req, "");
            match result {
                Ok(out) => {
                    shared.notifier.publish(out);
                    Reply::json(200, json!({ "ok": true }))
                }
                Err(e) => json_error(e.status, format!("{}: {}", e.error_type, e.message)),
            }
        }
        ("POST", ["failures"]) => {
            let v = match parse() {
                Ok(v) => v,
                Err(e) => return json_error(400, format!("bad JSON: {e}")),
            };
            let mut done = Vec::new();
            if let Some(status) = v.get("restStatus").and_then(Value::as_u64) {
                if !(400..=599).contains(&status) {
                    return json_error(400, "restStatus must be 400..599");
                }
                let count = v
                    .get("count")
                    .and_then(Value::as_u64)
                    .unwrap_or(1)
                    .min(u64::from(u32::MAX)) as u32;
                shared.lock().rest_failure = (count > 0).then_some((status as u16, count));
                done.push("restStatus");
            }
            if let Some(oos) = v.get("outOfService").and_then(Value::as_bool) {
                shared.lock().out_of_service = oos;
                done.push("outOfService");
            }
            if let Some(partial) = v.get("partialService").and_then(Value::as_bool) {
                shared.lock().partial_service = partial;
                done.push("partialService");
            }
            if let Some(down) = v.get("webAppDown").and_then(Value::as_bool) {
                // Finesse's web app down: REST answers 503 (as out of service) and the
                // `finesse` XMPP user goes unavailable; `false` brings both back.
                shared.lock().out_of_service = down;
                shared.notifier.set_web_app(!down);
                done.push("webAppDown");
            }
            if v.get("xmppDrop").and_then(Value::as_bool) == Some(true) {
                shared.notifier.drop_connection();
                done.push("xmppDrop");
            }
            if done.is_empty() {
                return json_error(
                    400,
                    "give restStatus (+count), outOfService, partialService, webAppDown or xmppDrop",
                );
            }
            Reply::json(200, json!({ "applied": done }))
        }
        ("GET", ["publish-queue"]) => {
            Reply::json(200, json!({ "queued": shared.notifier.queued() }))
        }
        ("GET", ["state"]) => {
            let sim = shared.lock();
            let agents: Vec<Value> = sim
                .agents
                .values()
                .map(|a| {
                    json!({
                        "id": a.config.id,
                        "state": a.state.as_str(),
                        "pendingState": a.pending.map(|p| p.as_str()),
                        "reasonCodeId": a.reason_code_id,
                        "extension": a.extension,
                        "stateChangeTime": a.state_change_time,
                        "supervisedTeams": a.supervised_teams,
                    })
                })
                .collect();
            let dialogs: Vec<Value> = sim
                .dialogs
                .values()
                .map(|d| {
                    json!({
                        "id": d.id,
                        "agent": d.agent_id,
                        "state": d.state,
                        "agentLegState": d.participants[0].state,
                        "fromAddress": d.from,
                        "toAddress": d.to,
                        "callType": d.call_type,
                        "associatedDialogId": d.associated,
                        "peerDialogId": d.peer,
                        "callVariables": d.call_variables,
                        "ecc": d.ecc,
                        "wrapUpReason": d.wrap_up_reason,
                        "secondaryId": d.secondary_id,
                        "callKeyCallId": d.call_key,
                        "stateCause": d.participants[0].state_cause,
                        "participants": d
                            .participants
                            .iter()
                            .map(|p| p.media_address.as_str())
                            .collect::<Vec<_>>(),
                    })
                })
                .collect();
            Reply::json(
                200,
                json!({
                    "deploymentType": sim.config.deployment.system_info_name(),
                    "outOfService": sim.out_of_service,
                    "status": sim.status(),
                    "agents": agents,
                    "dialogs": dialogs,
                }),
            )
        }
        _ => json_error(404, format!("no admin resource {method} {path}")),
    }
}
