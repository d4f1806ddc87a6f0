//! Call control on a dialog (PUT /Dialog): consult calls, the dialog actions, and which
//! actions each participant may take.

use super::{
    set_leg, supervise, valid_address, ApiError, Dialog, DialogRequest, Participant, Publish, Sim,
    FAILED, LIVE_STATES, SUPERVISOR_MONITOR, WRAP_UP,
};
use crate::config::Deployment;

impl Sim {
    /// Applies POST /Dialog/{id} (CONSULT_CALL).
    pub fn consult_call(
        &mut self,
        agent_id: &str,
        dialog_id: &str,
        to: &str,
        request_id: &str,
    ) -> Result<Vec<Publish>, ApiError> {
        let original = self.owned_dialog(agent_id, dialog_id)?;
        if original.agent_leg().state != "ACTIVE"
            || original.associated.is_some()
            || original.is_consult()
        {
            return Err(ApiError::invalid_state(
                "CONSULT_CALL needs an active call without a consult call",
                "CONSULT_CALL",
            ));
        }
        if self.live_dialogs(agent_id).count() > 1 {
            return Err(ApiError::invalid_state(
                "the agent already has another call",
                "CONSULT_CALL",
            ));
        }
        let mut out = Vec::new();
        let ext = self.agents[agent_id].extension.clone();
        {
            let d = self.dialogs.get_mut(dialog_id).expect("checked above");
            set_leg(d.agent_leg_mut(), "HELD");
        }
        let target = self.agent_at(agent_id, to);
        let mut consult = self.new_dialog(agent_id, &ext, to, "CONSULT", ("INITIATING", ""));
        consult.dialed_number = to.to_string();
        consult.participants[1].agent_id.clone_from(&target);
        consult.associated = Some(dialog_id.to_string());
        consult.routed = self.dialogs[dialog_id].routed;
        self.dialogs.get_mut(dialog_id).expect("checked").associated = Some(consult.id.clone());
        out.push(self.dialog_publish(&self.dialogs[dialog_id], "PUT", request_id));
        out.push(self.dialog_publish(&consult, "POST", request_id));
        if !valid_address(to) {
            out.extend(self.fail_dialog(consult, "BAD_DESTINATION", request_id));
            return Ok(out);
        }
        consult.state = "INITIATED".into();
        set_leg(consult.agent_leg_mut(), "INITIATED");
        set_leg(&mut consult.participants[1], "ALERTING");
        let consult_id = consult.id.clone();
        self.dialogs.insert(consult_id.clone(), consult);
        // The original first (it now offers TRANSFER), then the consult: a client that acts
        // on the consult's update finds the original's actions current.
        out.extend(self.original_publish(&consult_id, request_id));
        out.push(self.dialog_publish(&self.dialogs[&consult_id], "PUT", request_id));
        out.extend(self.refresh_agent(agent_id, request_id));
        if let Some(target) = target {
            out.extend(self.ring_agent(&target, &consult_id, Some(dialog_id)));
        }
        Ok(out)
    }

    fn owned_dialog(&self, agent_id: &str, dialog_id: &str) -> Result<&Dialog, ApiError> {
        self.dialogs
            .get(dialog_id)
            .filter(|d| d.agent_id == agent_id)
            .ok_or_else(|| {
                ApiError::new(
                    404,
                    "Not Found",
                    format!("dialog {dialog_id} not found"),
                    dialog_id,
                )
            })
    }

    /// Applies PUT /Dialog/{id}.
    pub fn dialog_action(
        &mut self,
        agent_id: &str,
        dialog_id: &str,
        req: &DialogRequest,
        request_id: &str,
    ) -> Result<Vec<Publish>, ApiError> {
        let d = self.owned_dialog(agent_id, dialog_id)?;
        let leg_state = d.agent_leg().state.clone();
        let action = req.action.as_str();
        let not_now = || {
            ApiError::invalid_state(
                format!("{action} is not allowed while the call is {leg_state}"),
                action,
            )
        };
        if leg_state == WRAP_UP && !matches!(action, "" | "UPDATE_CALL_DATA") {
            return Err(not_now());
        }
        if leg_state == FAILED && !matches!(action, "" | "DROP") {
            return Err(not_now());
        }
        // A silent monitoring call: the supervisor may only drop it (or barge, a POST).
        if d.call_type == SUPERVISOR_MONITOR && action != "DROP" {
            return Err(not_now());
        }
        let mut out = Vec::new();
        match action {
            "ANSWER" => {
                if leg_state != "ALERTING" {
                    return Err(not_now());
                }
                let d = self.dialogs.get_mut(dialog_id).expect("checked");
                d.state = "ACTIVE".into();
                set_leg(d.agent_leg_mut(), "ACTIVE");
                let peer = d.peer.clone();
                out.push(self.dialog_publish(&self.dialogs[dialog_id], "PUT", request_id));
                if let Some(peer) = peer {
                    out.extend(self.connect_peer(&peer, agent_id));
                }
            }
            "HOLD" | "RETRIEVE" => {
                let (from, to) = if action == "HOLD" {
                    ("ACTIVE", "HELD")
                } else {
                    ("HELD", "ACTIVE")
                };
                if leg_state != from {
                    return Err(not_now());
                }
                if action == "RETRIEVE"
                    && self
                        .agent_dialogs(agent_id)
                        .any(|o| o.id != dialog_id && o.agent_leg().state == "ACTIVE")
                {
                    return Err(ApiError::invalid_state("another call is active", action));
                }
                set_leg(
                    self.dialogs
                        .get_mut(dialog_id)
                        .expect("checked")
                        .agent_leg_mut(),
                    to,
                );
                out.push(self.dialog_publish(&self.dialogs[dialog_id], "PUT", request_id));
            }
            "DROP" => {
                let droppable = LIVE_STATES.contains(&leg_state.as_str()) || leg_state == FAILED;
                if !droppable || leg_state == "ALERTING" {
                    return Err(not_now());
                }
                out.extend(self.end_dialog(dialog_id, request_id));
            }
            "TRANSFER_SST" => {
                if self.config.deployment == Deployment::Uccx {
                    return Err(ApiError::new(
                        400,
                        "Invalid Action",
                        "single-step transfer is not supported in Unified CCX",
                        action,
                    ));
                }
                if leg_state != "ACTIVE" {
                    return Err(not_now());
                }
                let to = ApiError::required(req.to_address.as_deref(), "toAddress")?;
                if !valid_address(to) {
                    let cause = "BAD_DESTINATION";
                    return Ok(vec![
                        self.async_error(agent_id, dialog_id, cause, request_id)
                    ]);
                }
                if let Some(target) = self.agent_at(agent_id, to) {
                    // The call rings the agent at that extension (a dialog of its own, with
                    // the call data); the transferring agent's dialog ends.
                    let peer = self.dialogs[dialog_id].peer.clone();
                    let mut d = self.transferred_dialog(&target, dialog_id, "ALERTING");
                    d.peer.clone_from(&peer);
                    if let Some(p) = peer.as_deref().and_then(|p| self.dialogs.get_mut(p)) {
                        p.peer = Some(d.id.clone());
                    }
                    self.dialogs.get_mut(dialog_id).expect("checked").peer = None;
                    out.push(self.dialog_publish(&d, "POST", ""));
                    self.dialogs.insert(d.id.clone(), d);
                    out.extend(self.refresh_agent(&target, ""));
                }
                out.extend(self.end_dialog(dialog_id, request_id));
            }
            "TRANSFER" | "CONFERENCE" => {
                let (original, consult) = self.consult_pair(dialog_id).ok_or_else(|| {
                    ApiError::invalid_state(format!("{action} needs a consult call"), action)
                })?;
                let consult_state = self.dialogs[&consult].agent_leg().state.clone();
                let ok = match action {
                    "TRANSFER" => matches!(consult_state.as_str(), "ACTIVE" | "INITIATED"),
                    _ => consult_state == "ACTIVE",
                };
                if !ok {
                    return Err(ApiError::invalid_state(
                        format!(
                            "{action} is not allowed while the consult call is {consult_state}"
                        ),
                        action,
                    ));
                }
                if action == "TRANSFER" {
                    out.extend(self.bridge(&original, &consult));
                    out.extend(self.end_dialog(&consult, request_id));
                    out.extend(self.end_dialog(&original, request_id));
                } else {
                    out.extend(self.conference(&original, &consult, request_id)?);
                    out.extend(self.refresh_agent(agent_id, request_id));
                }
            }
            "SEND_DTMF" => {
                if leg_state != "ACTIVE" {
                    return Err(not_now());
                }
                let digits = ApiError::required(req.dtmf.as_deref(), "actionParams/dtmfString")?;
                // UCCE: 0-9 * # A-D; UCCX: 0-9 * #.
                let (extra, allowed) = match self.config.deployment {
                    Deployment::Ucce => ("*#ABCD", "0-9, *, #, A-D"),
                    Deployment::Uccx => ("*#", "0-9, *, #"),
                };
                if !digits
                    .chars()
                    .all(|c| c.is_ascii_digit() || extra.contains(c))
                {
                    return Err(ApiError::invalid_input(
                        format!("DTMF digits are {allowed}"),
                        "dtmfString",
                    ));
                }
                out.push(self.dialog_publish(&self.dialogs[dialog_id], "PUT", request_id));
            }
            "UPDATE_CALL_DATA" => {
                for (name, _) in &req.call_variables {
                    let is_var = name
                        .strip_prefix("callVariable")
                        .and_then(|n| n.parse::<u8>().ok())
                        .is_some_and(|n| (1..=10).contains(&n));
                    if !is_var && !name.starts_with("user.") {
                        return Err(ApiError::invalid_input(
                            format!("unknown call variable {name}"),
                            name,
                        ));
                    }
                }
                let d = self.dialogs.get_mut(dialog_id).expect("checked");
                for (name, value) in &req.call_variables {
                    let map = if name.starts_with("user.") {
                        &mut d.ecc
                    } else {
                        &mut d.call_variables
                    };
                    map.insert(name.clone(), value.clone());
                }
                if let Some(w) = &req.wrap_up_reason {
                    d.wrap_up_reason = w.clone();
                }
                let (key, agent) = (d.call_key, d.agent_id.clone());
                out.push(self.dialog_publish(&self.dialogs[dialog_id], "PUT", request_id));
                // Since Finesse 9.1(1) a wrap-up reason reaches every participant's dialog.
                if let Some(w) = &req.wrap_up_reason {
                    let others: Vec<String> = self
                        .dialogs
                        .values()
                        .filter(|o| o.call_key == key && o.agent_id != agent)
                        .map(|o| o.id.clone())
                        .collect();
                    for id in others {
                        let o = self.dialogs.get_mut(&id).expect("listed");
                        o.wrap_up_reason.clone_from(w);
                        out.push(self.dialog_publish(&self.dialogs[&id], "PUT", ""));
                    }
                }
            }
            "" => return Err(ApiError::missing("requestedAction")),
            other => {
                return Err(ApiError::invalid_input(
                    format!("unknown requestedAction {other}"),
                    "requestedAction",
                ))
            }
        }
        out.extend(self.refresh_agent(agent_id, request_id));
        Ok(out)
    }

    /// The actions `p` may take now (only the agent's own leg has any).
    pub fn participant_actions(&self, d: &Dialog, p: &Participant) -> Vec<&'static str> {
        if p.agent_id.as_deref() != Some(d.agent_id.as_str()) {
            return Vec::new();
        }
        if d.call_type == SUPERVISOR_MONITOR {
            return supervise::monitoring_actions(p);
        }
        // Cisco's table: ALERTING: ANSWER; INITIATING/INITIATED: DROP, UPDATE_CALL_DATA;
        // ACTIVE: HOLD, DROP, UPDATE_CALL_DATA, CONSULT_CALL (+ SEND_DTMF, TRANSFER_SST in
        // UCCE); HELD: RETRIEVE, DROP, UPDATE_CALL_DATA (+ TRANSFER/CONFERENCE with a consult
        // call up); FAILED: DROP; WRAP_UP: UPDATE_CALL_DATA.
        let ucce = self.config.deployment == Deployment::Ucce;
        let paired = d.associated.is_some();
        let consult_leg = (!d.is_consult())
            .then(|| d.associated.as_deref().and_then(|c| self.dialogs.get(c)))
            .flatten()
            .map(|c| c.agent_leg().state.as_str());
        let mut actions = Vec::new();
        match p.state.as_str() {
            "ALERTING" => actions.push("ANSWER"),
            "INITIATING" | "INITIATED" => actions.extend(["DROP", "UPDATE_CALL_DATA"]),
            "ACTIVE" => {
                actions.extend(["HOLD", "DROP", "UPDATE_CALL_DATA"]);
                if !paired && !d.is_consult() {
                    actions.push("CONSULT_CALL");
                }
                actions.push("SEND_DTMF");
                if ucce && !paired && !d.is_consult() {
                    actions.push("TRANSFER_SST");
                }
            }
            "HELD" => {
                actions.extend(["RETRIEVE", "DROP", "UPDATE_CALL_DATA"]);
                match consult_leg {
                    Some("ACTIVE") => actions.extend(["TRANSFER", "CONFERENCE"]),
                    Some("INITIATED") => actions.push("TRANSFER"),
                    _ => {}
                }
            }
            FAILED => actions.push("DROP"),
            WRAP_UP => actions.push("UPDATE_CALL_DATA"),
            _ => {}
        }
        actions
    }
}
