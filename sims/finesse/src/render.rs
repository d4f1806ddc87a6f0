//! Renders Finesse's XML documents: User, Dialog(s), ReasonCodes, WrapUpReasons, SystemInfo,
//! ApiErrors, and the `<Update>` notifications that carry them.

use crate::config::{ReasonCode, SimConfig, WrapUpReason};
use crate::state::{Agent, ApiError, Dialog, Sim};
use crate::xml::XmlWriter;

/// A supervisor's `<teams>` (each Team with id, name, uri); nothing for an agent.
fn supervised_teams(sim: &Sim, agent: &Agent, w: &mut XmlWriter) {
    if agent.supervised_teams.is_empty() {
        return;
    }
    w.open("teams");
    for id in &agent.supervised_teams {
        let name = sim
            .agents
            .values()
            .find(|a| a.config.team_id == *id && !a.config.team_name.is_empty())
            .map_or(id.as_str(), |a| a.config.team_name.as_str());
        w.open("Team")
            .leaf("id", id)
            .leaf("name", name)
            .leaf("uri", &format!("/finesse/api/Team/{id}"))
            .close("Team");
    }
    w.close("teams");
}

/// The REST path of a user.
pub fn user_uri(id: &str) -> String {
    format!("/finesse/api/User/{id}")
}

/// The REST path of a user's dialogs (also their dialog node).
pub fn dialogs_uri(id: &str) -> String {
    format!("/finesse/api/User/{id}/Dialogs")
}

/// The REST path of a dialog.
pub fn dialog_uri(id: &str) -> String {
    format!("/finesse/api/Dialog/{id}")
}

/// A `<User>` (REST) or `<user>` (notification) document for `agent`.
pub fn user(sim: &Sim, agent: &Agent, tag: &str) -> String {
    let c = &agent.config;
    let mut w = XmlWriter::new();
    w.open(tag)
        .leaf("dialogs", &dialogs_uri(&c.id))
        .leaf("extension", &agent.extension)
        .leaf("firstName", &c.first_name)
        .leaf("lastName", &c.last_name)
        .leaf("loginId", &c.id)
        .leaf("loginName", &c.id)
        .leaf("mediaType", "1")
        .leaf(
            "pendingState",
            agent.pending.map(|s| s.as_str()).unwrap_or(""),
        )
        .leaf(
            "reasonCodeId",
            agent.reason_code_id.as_deref().unwrap_or("-1"),
        );
    if let Some(reason) = agent
        .reason_code_id
        .as_deref()
        .and_then(|id| sim.reason(id))
    {
        w.raw(&reason_code(reason, true));
    }
    w.open("roles").leaf("role", "Agent");
    if !agent.supervised_teams.is_empty() {
        w.leaf("role", "Supervisor");
    }
    w.close("roles");
    supervised_teams(sim, agent, &mut w);
    w.open("settings")
        .leaf("wrapUpOnIncoming", "OPTIONAL")
        .leaf("wrapUpOnOutgoing", "OPTIONAL")
        .close("settings")
        .leaf("state", agent.state.as_str())
        .leaf("stateChangeTime", &agent.state_change_time)
        .leaf("teamId", &c.team_id)
        .leaf("teamName", &c.team_name)
        .leaf("uri", &user_uri(&c.id))
        .close(tag)
        .finish()
}

/// One reason code: `<reasonCode>` of a User (with `id`) or `<ReasonCode>` of the
/// ReasonCodes list (no `id`: Finesse gives it as the last segment of `uri`).
pub fn reason_code(r: &ReasonCode, in_user: bool) -> String {
    let tag = if in_user { "reasonCode" } else { "ReasonCode" };
    let mut w = XmlWriter::new();
    w.open(tag)
        .leaf("category", &r.category)
        .leaf("code", &r.code)
        .leaf("forAll", "true");
    if in_user {
        w.leaf("id", &r.id);
    }
    w.leaf("label", &r.label)
        .leaf("systemCode", "false")
        .leaf("uri", &format!("/finesse/api/ReasonCode/{}", r.id))
        .close(tag)
        .finish()
}

/// `<ReasonCodes category="…">` with the given codes.
pub fn reason_codes<'a>(category: &str, codes: impl Iterator<Item = &'a ReasonCode>) -> String {
    let mut w = XmlWriter::new();
    w.open_with("ReasonCodes", &[("category", category)]);
    for r in codes {
        w.raw(&reason_code(r, false));
    }
    w.close("ReasonCodes").finish()
}

/// `<WrapUpReasons>` of user `user` with the given reasons (uri, label, forAll; no `id`).
pub fn wrap_up_reasons(user: &str, reasons: &[WrapUpReason]) -> String {
    let mut w = XmlWriter::new();
    w.open("WrapUpReasons");
    for r in reasons {
        w.open("WrapUpReason")
            .leaf("forAll", "true")
            .leaf("label", &r.label)
            .leaf("uri", &format!("{}/WrapUpReason/{}", user_uri(user), r.id))
            .close("WrapUpReason");
    }
    w.close("WrapUpReasons").finish()
}

/// A `<Dialog>` (REST, notification lists) or `<dialog>` (notification PUT) document.
pub fn dialog(sim: &Sim, d: &Dialog, tag: &str) -> String {
    let mut w = XmlWriter::new();
    w.open(tag)
        .leaf(
            "associatedDialogUri",
            &d.associated.as_deref().map(dialog_uri).unwrap_or_default(),
        )
        .leaf("fromAddress", &d.from)
        .leaf("id", &d.id)
        .leaf("secondaryId", &d.secondary_id)
        .open("mediaProperties")
        .leaf("mediaId", "1")
        .leaf("DNIS", &d.dnis)
        .leaf("callType", &d.call_type)
        .leaf("callKeyCallId", &d.call_key.to_string())
        .leaf("callKeyPrefix", "150000")
        .leaf("callKeySequenceNum", "1")
        .leaf("dialedNumber", &d.dialed_number)
        .leaf("outboundClassification", "")
        .leaf("queueName", &d.queue_name)
        .leaf("queueNumber", &d.queue_number)
        .leaf("wrapUpReason", &d.wrap_up_reason)
        .open("callvariables");
    for (name, value) in d.call_variables.iter().chain(d.ecc.iter()) {
        w.open("CallVariable")
            .leaf("name", name)
            .leaf("value", value)
            .close("CallVariable");
    }
    w.close("callvariables")
        .close("mediaProperties")
        .leaf("mediaType", "Voice")
        .open("participants");
    for p in &d.participants {
        w.open("Participant").open("actions");
        for action in sim.participant_actions(d, p) {
            w.leaf("action", action);
        }
        w.close("actions")
            .leaf("mediaAddress", &p.media_address)
            .leaf(
                "mediaAddressType",
                if p.agent_id.is_some() {
                    "AGENT_DEVICE"
                } else {
                    ""
                },
            )
            .leaf("startTime", &p.start_time)
            .leaf("state", &p.state)
            .leaf("stateCause", &p.state_cause)
            .leaf("stateChangeTime", &p.state_change_time)
            .close("Participant");
    }
    w.close("participants")
        .leaf("state", &d.state)
        .leaf("toAddress", &d.to)
        .leaf("uri", &dialog_uri(&d.id))
        .close(tag)
        .finish()
}

/// `<Dialogs>` holding the given dialogs (the GET /User/{id}/Dialogs answer).
pub fn dialogs<'a>(sim: &Sim, list: impl Iterator<Item = &'a Dialog>) -> String {
    let mut w = XmlWriter::new();
    w.open("Dialogs");
    for d in list {
        w.raw(&dialog(sim, d, "Dialog"));
    }
    w.close("Dialogs").finish()
}

/// A node of SystemInfo: its host and ports (REST, XMPP, XMPP over TLS).
fn node(w: &mut XmlWriter, tag: &str, host: &str, config: &SimConfig) {
    let http = config.http.port().to_string();
    let xmpp = config.xmpp.port().to_string();
    w.open(tag)
        .leaf("host", host)
        .leaf("httpsPort", if host.is_empty() { "" } else { &http })
        .leaf("xmppPort", if host.is_empty() { "" } else { &xmpp })
        .leaf("xmppSecurePort", if host.is_empty() { "" } else { "5223" })
        .close(tag);
}

/// The `<SystemInfo>` document; `status` is IN_SERVICE, PARTIAL_SERVICE or OUT_OF_SERVICE.
pub fn system_info(config: &SimConfig, host: &str, status: &str, now: &str) -> String {
    let mut w = XmlWriter::new();
    w.open("SystemInfo")
        .leaf("ctiVersion", &config.cti_version())
        .leaf("currentTimestamp", now)
        .leaf("deploymentType", config.deployment.system_info_name())
        .leaf("lastCTIHeartbeatStatus", "true")
        .leaf("license", "")
        .leaf("peripheralId", "5000");
    node(&mut w, "primaryNode", host, config);
    node(&mut w, "secondaryNode", &config.secondary_host, config);
    w.leaf("status", status)
        .leaf(
            "statusReason",
            if status == "IN_SERVICE" {
                ""
            } else {
                "CTI_NOT_CONNECTED"
            },
        )
        .leaf("systemAuthMode", "NON_SSO")
        .leaf("timezoneOffset", "0")
        .leaf("uri", "/finesse/api/SystemInfo")
        .leaf("xmppDomain", &config.xmpp_domain)
        .leaf("xmppPubSubDomain", &config.pubsub_domain)
        .close("SystemInfo")
        .finish()
}

/// The body of an error answer: `<ApiErrors><ApiError>…`.
pub fn api_errors(e: &ApiError) -> String {
    XmlWriter::new()
        .open("ApiErrors")
        .open("ApiError")
        .leaf("ErrorData", &e.data)
        .leaf("ErrorMessage", &e.message)
        .leaf("ErrorType", &e.error_type)
        .close("ApiError")
        .close("ApiErrors")
        .finish()
}

/// The `<apiErrors>` data of an asynchronous failure notification.
pub fn async_api_errors(e: &ApiError) -> String {
    XmlWriter::new()
        .open("apiErrors")
        .open("apiError")
        .leaf("errorData", &e.data)
        .leaf("errorMessage", &e.message)
        .leaf("errorType", &e.error_type)
        .leaf("peripheralErrorCode", &e.peripheral_code)
        .leaf("peripheralErrorMsg", &e.message)
        .leaf("peripheralErrorText", &e.message)
        .close("apiError")
        .close("apiErrors")
        .finish()
}

/// An `<Update>` document: `data` (well-formed XML), `event` (PUT/POST/DELETE), the request id
/// that caused it (empty when unsolicited) and the `source` uri.
pub fn update(data: &str, event: &str, request_id: &str, source: &str) -> String {
    XmlWriter::new()
        .open("Update")
        .open("data")
        .raw(data)
        .close("data")
        .leaf("event", event)
        .leaf("requestId", request_id)
        .leaf("source", source)
        .close("Update")
        .finish()
}
