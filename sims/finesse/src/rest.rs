//! The Finesse REST API under `/finesse/api`: Basic auth, XML bodies, 202 for changes whose
//! outcome arrives as a notification, `<ApiErrors>` for failures.

use base64::Engine;

use crate::render;
use crate::state::{ApiError, DialogRequest, StateRequest};
use crate::xml::{self, Element};
use crate::{Reply, Shared};

/// A parsed request, independent of the HTTP library.
pub struct RestRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path without the query.
    pub path: &'a str,
    /// The query string (without `?`).
    pub query: &'a str,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The `requestId` header.
    pub request_id: &'a str,
    /// The body.
    pub body: &'a str,
}

fn error(e: &ApiError) -> Reply {
    Reply::xml(e.status, render::api_errors(e))
}

/// Answers one `/finesse/api/...` request.
pub fn handle(shared: &Shared, req: &RestRequest<'_>) -> Reply {
    let segments: Vec<&str> = req
        .path
        .trim_start_matches("/finesse/api/")
        .split('/')
        .collect();
    if segments == ["SystemInfo"] && req.method == "GET" {
        let sim = shared.lock();
        let now = crate::state::timestamp();
        return Reply::xml(
            200,
            render::system_info(&sim.config, &shared.host, sim.status(), &now),
        );
    }
    {
        let mut sim = shared.lock();
        // Every request gets 503 while the node is PARTIAL_SERVICE or OUT_OF_SERVICE.
        let status = sim.status();
        if status != "IN_SERVICE" {
            return error(&ApiError::new(
                503,
                "Service Unavailable",
                format!("Finesse is {status}"),
                status,
            ));
        }
        if let Some((status, count)) = sim.rest_failure {
            sim.rest_failure = (count > 1).then(|| (status, count - 1));
            return error(&ApiError::new(
                status,
                "Service Unavailable",
                "injected failure",
                "restStatus",
            ));
        }
    }
    let user = match authenticate(shared, req.authorization) {
        Ok(u) => u,
        Err(e) => return error(&e).with_header("WWW-Authenticate", "Basic realm=\"Finesse\""),
    };
    let result = match (req.method, segments.as_slice()) {
        (_, ["User", id, ..]) if *id != user => Err(ApiError::new(
            401,
            "Invalid Authorization User Specified",
            "users can only act on their own User objects",
            *id,
        )),
        ("GET", ["User", id]) => {
            let sim = shared.lock();
            Ok(Reply::xml(
                200,
                render::user(&sim, &sim.agents[*id], "User"),
            ))
        }
        ("PUT", ["User", id]) => put_user(shared, id, req),
        ("GET", ["User", _, "ReasonCodes"]) => {
            let category = query_param(req.query, "category").unwrap_or_default();
            let sim = shared.lock();
            let list = match category.as_str() {
                "NOT_READY" => &sim.config.not_ready_reasons,
                "LOGOUT" => &sim.config.logout_reasons,
                _ => {
                    return error(&ApiError::new(
                        400,
                        "Invalid Input",
                        "category must be NOT_READY or LOGOUT",
                        "category",
                    ))
                }
            };
            Ok(Reply::xml(
                200,
                render::reason_codes(&category, list.iter()),
            ))
        }
        ("GET", ["User", id, "WrapUpReasons"]) => {
            let sim = shared.lock();
            Ok(Reply::xml(
                200,
                render::wrap_up_reasons(id, &sim.config.wrap_up_reasons),
            ))
        }
        ("GET", ["User", id, "Dialogs"]) => {
            let sim = shared.lock();
            Ok(Reply::xml(
                200,
                render::dialogs(&sim, sim.agent_dialogs(id)),
            ))
        }
        ("POST", ["User", id, "Dialogs"]) => post_dialogs(shared, id, req),
        ("GET", ["Dialog", dialog_id]) => {
            let sim = shared.lock();
            match sim.dialogs.get(*dialog_id).filter(|d| d.agent_id == user) {
                Some(d) => Ok(Reply::xml(200, render::dialog(&sim, d, "Dialog"))),
                None => Err(ApiError::new(
                    404,
                    "Not Found",
                    "no such dialog",
                    *dialog_id,
                )),
            }
        }
        ("PUT", ["Dialog", dialog_id]) => put_dialog(shared, &user, dialog_id, req),
        ("POST", ["Dialog", dialog_id]) => consult(shared, &user, dialog_id, req),
        _ => Err(ApiError::new(
            404,
            "Not Found",
            "no such resource",
            req.path,
        )),
    };
    match result {
        Ok(reply) => reply,
        Err(e) => error(&e),
    }
}

/// The agent id of valid Basic credentials.
fn authenticate(shared: &Shared, header: Option<&str>) -> Result<String, ApiError> {
    let unauthorized = || {
        ApiError::new(
            401,
            "Unauthorized",
            "invalid user id or password",
            "Authorization",
        )
    };
    let encoded = header
        .and_then(|h| h.strip_prefix("Basic "))
        .ok_or_else(unauthorized)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| unauthorized())?;
    let text = String::from_utf8(decoded).map_err(|_| unauthorized())?;
    let (id, password) = text.split_once(':').ok_or_else(unauthorized)?;
    let sim = shared.lock();
    match sim.agents.get(id) {
        Some(a) if a.config.password == password => Ok(id.to_string()),
        _ => Err(unauthorized()),
    }
}

fn body_element(body: &str, root: &str) -> Result<Element, ApiError> {
    let e = xml::parse(body)
        .map_err(|m| ApiError::new(400, "Bad Request", format!("malformed XML: {m}"), "body"))?;
    if e.local_name() != root {
        return Err(ApiError::new(
            400,
            "Bad Request",
            format!("expected a <{root}> document"),
            e.name.as_str(),
        ));
    }
    Ok(e)
}

fn accepted(request_id: &str) -> Reply {
    let reply = Reply::xml(202, String::new());
    if request_id.is_empty() {
        reply
    } else {
        reply.with_header("requestId", request_id)
    }
}

fn put_user(shared: &Shared, id: &str, req: &RestRequest<'_>) -> Result<Reply, ApiError> {
    let body = body_element(req.body, "User")?;
    let request = StateRequest {
        state: body.child_text("state").unwrap_or_default(),
        extension: body.child_text("extension"),
        reason_code_id: body.child_text("reasonCodeId"),
    };
    let mut sim = shared.lock();
    let out = sim.change_state(id, &request, req.request_id)?;
    shared.notifier.publish(out);
    Ok(accepted(req.request_id))
}

/// Checks that a Dialog body requests `action`; returns its (required) `toAddress`.
fn call_target(body: &Element, action: &str) -> Result<String, ApiError> {
    if body.child_text("requestedAction").as_deref() != Some(action) {
        return Err(ApiError::new(
            400,
            "Invalid Input",
            format!("requestedAction must be {action}"),
            "requestedAction",
        ));
    }
    body.child_text("toAddress")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                400,
                "Parameter Missing",
                "toAddress is required",
                "toAddress",
            )
        })
}

/// POST /User/{id}/Dialogs: MAKE_CALL, or a supervisor's SILENT_MONITOR or BARGE_CALL
/// (`fromAddress` the supervisor's extension, `toAddress` the agent's; BARGE_CALL also names
/// the monitoring dialog in `associatedDialogUri`).
fn post_dialogs(shared: &Shared, id: &str, req: &RestRequest<'_>) -> Result<Reply, ApiError> {
    let body = body_element(req.body, "Dialog")?;
    let action = body.child_text("requestedAction").unwrap_or_default();
    if !matches!(action.as_str(), "SILENT_MONITOR" | "BARGE_CALL") {
        return make_call(shared, id, req);
    }
    let to = call_target(&body, &action)?;
    let from = body.child_text("fromAddress").unwrap_or_default();
    let mut sim = shared.lock();
    let out = if action == "SILENT_MONITOR" {
        sim.silent_monitor(id, &from, &to, req.request_id)?
    } else {
        let uri = body.child_text("associatedDialogUri").unwrap_or_default();
        let monitoring = uri.rsplit('/').next().unwrap_or_default();
        if monitoring.is_empty() {
            return Err(ApiError::new(
                400,
                "Parameter Missing",
                "associatedDialogUri is required",
                "associatedDialogUri",
            ));
        }
        sim.barge_call(id, &from, &to, monitoring, req.request_id)?
    };
    shared.notifier.publish(out);
    Ok(accepted(req.request_id))
}

fn make_call(shared: &Shared, id: &str, req: &RestRequest<'_>) -> Result<Reply, ApiError> {
    let body = body_element(req.body, "Dialog")?;
    let to = call_target(&body, "MAKE_CALL")?;
    let mut sim = shared.lock();
    let extension = sim.agents[id].extension.clone();
    if let Some(from) = body.child_text("fromAddress").filter(|f| !f.is_empty()) {
        if !extension.is_empty() && from != extension {
            return Err(ApiError::new(
                400,
                "Invalid Input",
                "fromAddress is not the agent's extension",
                "fromAddress",
            ));
        }
    }
    let out = sim.make_call(id, &to, req.request_id)?;
    shared.notifier.publish(out);
    Ok(accepted(req.request_id))
}

/// Every PUT on a Dialog carries `targetMediaAddress`, the agent's extension (required).
fn check_target(shared: &Shared, user: &str, body: &Element) -> Result<(), ApiError> {
    let target = body
        .child_text("targetMediaAddress")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                400,
                "Parameter Missing",
                "targetMediaAddress is required",
                "targetMediaAddress",
            )
        })?;
    if shared.lock().agents[user].extension != target {
        return Err(ApiError::new(
            400,
            "Invalid Input",
            "targetMediaAddress is not the agent's extension",
            "targetMediaAddress",
        ));
    }
    Ok(())
}

fn put_dialog(
    shared: &Shared,
    user: &str,
    dialog_id: &str,
    req: &RestRequest<'_>,
) -> Result<Reply, ApiError> {
    let body = body_element(req.body, "Dialog")?;
    check_target(shared, user, &body)?;
    let mut request = DialogRequest {
        action: body.child_text("requestedAction").unwrap_or_default(),
        to_address: body.child_text("toAddress"),
        ..Default::default()
    };
    if let Some(params) = body.child("actionParams") {
        for p in params.elements() {
            if p.child_text("name").as_deref() == Some("dtmfString") {
                request.dtmf = p.child_text("value");
            }
        }
    }
    if let Some(props) = body.child("mediaProperties") {
        request.wrap_up_reason = props.child_text("wrapUpReason");
        if let Some(vars) = props.child("callvariables") {
            for v in vars.elements() {
                let name = v.child_text("name").unwrap_or_default();
                request.call_variables.push((
                    name,
                    v.child("value").map(Element::text).unwrap_or_default(),
                ));
            }
        }
    }
    let mut sim = shared.lock();
    let out = sim.dialog_action(user, dialog_id, &request, req.request_id)?;
    shared.notifier.publish(out);
    Ok(accepted(req.request_id))
}

fn consult(
    shared: &Shared,
    user: &str,
    dialog_id: &str,
    req: &RestRequest<'_>,
) -> Result<Reply, ApiError> {
    let body = body_element(req.body, "Dialog")?;
    check_target(shared, user, &body)?;
    let to = call_target(&body, "CONSULT_CALL")?;
    let mut sim = shared.lock();
    let out = sim.consult_call(user, dialog_id, &to, req.request_id)?;
    shared.notifier.publish(out);
    Ok(accepted(req.request_id))
}

/// The value of `name` in a query string (no percent-decoding beyond `+`; values are plain).
fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.replace('+', " "))
}
