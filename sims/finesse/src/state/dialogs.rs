//! Dialogs coming and going: outbound and inbound calls, ringing and connecting agents,
//! asynchronous failures, and the far end (answer, busy, hang-up) driven by the test API.

use std::collections::BTreeMap;

use super::{
    set_leg, set_state, timestamp, valid_address, AgentState, ApiError, Dialog, InboundCall,
    Participant, Publish, Sim, FAILED, MAKE_CALL_REASON,
};
use crate::config::Deployment;

impl Sim {
    fn new_dialog_id(&mut self) -> String {
        self.next_dialog += 1;
        self.next_dialog.to_string()
    }

    /// A dialog with the agent's leg and the far end's; `legs` = (agent leg state, far leg
    /// state). The far end is the caller of an alerting (inbound) call, else the called number.
    pub(super) fn new_dialog(
        &mut self,
        agent_id: &str,
        from: &str,
        to: &str,
        call_type: &str,
        legs: (&str, &str),
    ) -> Dialog {
        let (agent_leg_state, far_state) = legs;
        let far_address = if agent_leg_state == "ALERTING" {
            from
        } else {
            to
        };
        let now = timestamp();
        let extension = self.agents[agent_id].extension.clone();
        let leg = |addr: &str, agent: Option<String>, state: &str| Participant {
            media_address: addr.to_string(),
            agent_id: agent,
            state: state.to_string(),
            start_time: now.clone(),
            state_change_time: now.clone(),
            state_cause: String::new(),
        };
        self.next_call_key += 1;
        Dialog {
            id: self.new_dialog_id(),
            agent_id: agent_id.to_string(),
            from: from.to_string(),
            to: to.to_string(),
            state: agent_leg_state.to_string(),
            call_type: call_type.to_string(),
            dnis: String::new(),
            dialed_number: String::new(),
            queue_name: String::new(),
            queue_number: String::new(),
            wrap_up_reason: String::new(),
            call_variables: BTreeMap::new(),
            ecc: BTreeMap::new(),
            participants: vec![
                leg(&extension, Some(agent_id.to_string()), agent_leg_state),
                leg(far_address, None, far_state),
            ],
            associated: None,
            routed: false,
            peer: None,
            called_by_agent: false,
            secondary_id: String::new(),
            call_key: self.next_call_key,
            monitored: None,
        }
    }

    /// Applies POST /User/{id}/Dialogs (MAKE_CALL).
    pub fn make_call(
        &mut self,
        agent_id: &str,
        to: &str,
        request_id: &str,
    ) -> Result<Vec<Publish>, ApiError> {
        let agent = &self.agents[agent_id];
        if agent.state == AgentState::Logout {
            return Err(ApiError::invalid_state("the agent is signed out", "LOGOUT"));
        }
        let live: Vec<&Dialog> = self.live_dialogs(agent_id).collect();
        let from_ready = live.is_empty()
            && agent.state == AgentState::Ready
            && self.config.make_call_from_ready();
        let allowed = match self.config.deployment {
            Deployment::Uccx => live.is_empty() && agent.state == AgentState::NotReady,
            Deployment::Ucce if live.is_empty() => {
                agent.state == AgentState::NotReady || from_ready
            }
            Deployment::Ucce => live.iter().all(|d| d.agent_leg().state == "HELD"),
        };
        if !allowed {
            return Err(ApiError::invalid_state(
                format!("cannot make a call in state {}", agent.state.as_str()),
                agent.state.as_str(),
            ));
        }
        let ext = agent.extension.clone();
        let mut out = Vec::new();
        if from_ready {
            // UCCE 12.5(1)+: the agent leaves READY (NOT_READY, system reason 50006) first.
            let agent = self.agents.get_mut(agent_id).expect("known agent");
            set_state(
                agent,
                AgentState::NotReady,
                Some(MAKE_CALL_REASON.to_string()),
            );
            out.push(self.user_publish(agent_id, request_id));
        }
        if !valid_address(to) {
            let mut d = self.new_dialog(agent_id, &ext, to, "OUT", ("INITIATING", ""));
            d.dialed_number = to.to_string();
            out.push(self.dialog_publish(&d, "POST", request_id));
            out.extend(self.fail_dialog(d, "BAD_DESTINATION", request_id));
            return Ok(out);
        }
        let target = self.agent_at(agent_id, to);
        let call_type = if target.is_some() {
            "AGENT_INSIDE"
        } else {
            "OUT"
        };
        let mut d = self.new_dialog(agent_id, &ext, to, call_type, ("INITIATING", ""));
        d.dialed_number = to.to_string();
        d.participants[1].agent_id.clone_from(&target);
        out.push(self.dialog_publish(&d, "POST", request_id));
        d.state = "INITIATED".into();
        set_leg(d.agent_leg_mut(), "INITIATED");
        set_leg(&mut d.participants[1], "ALERTING");
        out.push(self.dialog_publish(&d, "PUT", request_id));
        let id = d.id.clone();
        self.dialogs.insert(id.clone(), d);
        out.extend(self.refresh_agent(agent_id, request_id));
        if let Some(target) = target {
            out.extend(self.ring_agent(&target, &id, None));
        }
        Ok(out)
    }

    /// The signed-in agent, other than `caller`, whose extension is `address`.
    pub(super) fn agent_at(&self, caller: &str, address: &str) -> Option<String> {
        self.agents
            .values()
            .find(|a| {
                a.config.id != caller && a.state != AgentState::Logout && a.extension == address
            })
            .map(|a| a.config.id.clone())
    }

    /// Rings agent `target` for the caller's INITIATED dialog `caller_dialog`: the target gets
    /// an ALERTING dialog of its own (POST), linked to the caller's both ways. `media` is the
    /// dialog whose media properties (call and ECC variables, DNIS, dialed number, queue) the
    /// target's dialog carries: the original call of a consult.
    pub(super) fn ring_agent(
        &mut self,
        target: &str,
        caller_dialog: &str,
        media: Option<&str>,
    ) -> Vec<Publish> {
        let Some(c) = self.dialogs.get(caller_dialog) else {
            return Vec::new();
        };
        let (caller, from, call_type) = (c.agent_id.clone(), c.from.clone(), c.call_type.clone());
        let Some(to) = self.agents.get(target).map(|a| a.extension.clone()) else {
            return Vec::new();
        };
        let call_key = c.call_key;
        let mut d = self.new_dialog(target, &from, &to, &call_type, ("ALERTING", "ACTIVE"));
        d.call_key = call_key;
        d.participants[1].agent_id = Some(caller);
        d.called_by_agent = true;
        d.peer = Some(caller_dialog.to_string());
        d.dnis.clone_from(&to);
        d.dialed_number = to;
        if let Some(m) = media.and_then(|m| self.dialogs.get(m)) {
            d.copy_call_data(m);
        }
        if let Some(c) = self.dialogs.get_mut(caller_dialog) {
            c.peer = Some(d.id.clone());
        }
        let mut out = vec![self.dialog_publish(&d, "POST", "")];
        self.dialogs.insert(d.id.clone(), d);
        out.extend(self.refresh_agent(target, ""));
        out
    }

    /// Agent `agent_id` answered its side of an agent-to-agent call: its leg becomes ACTIVE in
    /// the peer dialog, and a caller's leg waiting in INITIATED becomes ACTIVE too.
    pub(super) fn connect_peer(&mut self, peer_id: &str, agent_id: &str) -> Vec<Publish> {
        let Some(p) = self.dialogs.get_mut(peer_id) else {
            return Vec::new();
        };
        for leg in p.participants.iter_mut().skip(1) {
            if leg.agent_id.as_deref() == Some(agent_id) {
                set_leg(leg, "ACTIVE");
            }
        }
        if p.agent_leg().state == "INITIATED" {
            p.state = "ACTIVE".into();
            set_leg(p.agent_leg_mut(), "ACTIVE");
            for leg in p.participants.iter_mut().skip(1) {
                if leg.state == "ALERTING" {
                    set_leg(leg, "ACTIVE");
                }
            }
        }
        let owner = p.agent_id.clone();
        // The original first (it now offers CONFERENCE), then the consult.
        let mut out = self.original_publish(peer_id, "");
        out.push(self.dialog_publish(&self.dialogs[peer_id], "PUT", ""));
        out.extend(self.refresh_agent(&owner, ""));
        out
    }

    /// The asynchronous error of an action on dialog `dialog_id`, as Finesse words it: errorType
    /// "Generic Error" (UCCE) or "Call Operation Failure" (UCCX), the CTI failure in
    /// errorMessage, the CTI error code in errorData.
    pub(super) fn async_error(
        &self,
        agent_id: &str,
        dialog_id: &str,
        cause: &str,
        request_id: &str,
    ) -> Publish {
        let error_type = match self.config.deployment {
            Deployment::Ucce => "Generic Error",
            Deployment::Uccx => "Call Operation Failure",
        };
        let (message, code) = match cause {
            "BUSY" => ("CF_BUSY", "12"),
            "BAD_DESTINATION" => ("CF_INVALID_DESTINATION", "13121"),
            _ => ("CF_GENERIC_UNSPECIFIED", "1"),
        };
        let mut e = ApiError::new(400, error_type, message, code);
        e.peripheral_code = code.into();
        self.error_publish(agent_id, dialog_id, &e, request_id)
    }

    /// The call of dialog `d` (not yet stored) failed with `cause`: the dialog, its agent leg
    /// and far leg become FAILED (a PUT), an asynchronous error names the dialog, and the
    /// dialog is kept until the agent drops it.
    pub(super) fn fail_dialog(
        &mut self,
        mut d: Dialog,
        cause: &str,
        request_id: &str,
    ) -> Vec<Publish> {
        d.state = FAILED.into();
        for p in &mut d.participants {
            set_leg(p, FAILED);
            p.state_cause = cause.to_string();
        }
        let agent_id = d.agent_id.clone();
        let mut out = vec![self.dialog_publish(&d, "PUT", request_id)];
        out.push(self.async_error(&agent_id, &d.id, cause, request_id));
        let id = d.id.clone();
        self.dialogs.insert(id.clone(), d);
        out.extend(self.original_publish(&id, request_id));
        out.extend(self.refresh_agent(&agent_id, request_id));
        out
    }

    /// The far end of an outbound or consult call that still rings is busy (admin API): the
    /// dialog fails with cause BUSY and stays until the agent drops it.
    pub fn far_end_busy(&mut self, dialog_id: &str) -> Result<Vec<Publish>, (u16, String)> {
        let d = self
            .dialogs
            .get(dialog_id)
            .ok_or((404, format!("no dialog {dialog_id}")))?;
        let ringing_outside = d.agent_leg().state == "INITIATED"
            && d.participants
                .iter()
                .skip(1)
                .all(|p| p.agent_id.is_none() && p.state == "ALERTING");
        if !ringing_outside {
            return Err((
                409,
                format!("dialog {dialog_id} is not ringing an outside number"),
            ));
        }
        let d = self.dialogs.remove(dialog_id).expect("checked");
        Ok(self.fail_dialog(d, "BUSY", ""))
    }

    /// Places an inbound call (admin API): the dialog id and the notifications, or an HTTP
    /// status and message.
    pub fn inbound_call(
        &mut self,
        call: &InboundCall,
    ) -> Result<(String, Vec<Publish>), (u16, String)> {
        let agent_id = match (&call.to_agent, &call.queue) {
            (Some(a), _) => {
                let agent = self.agents.get(a).ok_or((404, format!("no agent {a}")))?;
                if agent.state == AgentState::Logout {
                    return Err((409, format!("agent {a} is signed out")));
                }
                if self.config.deployment == Deployment::Uccx
                    && self.live_dialogs(a).next().is_some()
                {
                    return Err((
                        409,
                        format!("agent {a} already has a call (UCCX: one regular call)"),
                    ));
                }
                a.clone()
            }
            (None, Some(_)) => self
                .agents
                .values()
                .filter(|a| {
                    a.state == AgentState::Ready && self.live_dialogs(&a.config.id).next().is_none()
                })
                .min_by_key(|a| a.ready_since)
                .map(|a| a.config.id.clone())
                .ok_or((409, "no READY agent for the queue".to_string()))?,
            (None, None) => return Err((400, "give \"to\" (an agent id) or \"queue\"".into())),
        };
        let call_type = if call.call_type.is_empty() {
            "ACD_IN"
        } else {
            call.call_type.as_str()
        };
        let ext = self.agents[&agent_id].extension.clone();
        let dnis = if call.dnis.is_empty() {
            ext.clone()
        } else {
            call.dnis.clone()
        };
        let mut d = self.new_dialog(
            &agent_id,
            &call.ani,
            &dnis,
            call_type,
            ("ALERTING", "ACTIVE"),
        );
        d.dnis = dnis.clone();
        d.dialed_number = dnis;
        d.routed =
            call.queue.is_some() || call_type.contains("ACD") || call_type.starts_with("PREROUTE");
        if let Some(q) = &call.queue {
            d.queue_name = q.clone();
            d.queue_number = q
                .bytes()
                .fold(5000u32, |a, b| (a * 31 + u32::from(b)) % 10_000)
                .to_string();
        }
        d.call_variables = call.call_variables.clone();
        d.ecc = call.ecc.clone();
        let id = d.id.clone();
        let mut out = vec![self.dialog_publish(&d, "POST", "")];
        self.dialogs.insert(id.clone(), d);
        out.extend(self.refresh_agent(&agent_id, ""));
        Ok((id, out))
    }

    /// The far end hangs up (admin API).
    pub fn far_end_hangup(&mut self, dialog_id: &str) -> Result<Vec<Publish>, (u16, String)> {
        let Some(d) = self.dialogs.get(dialog_id) else {
            return Err((404, format!("no dialog {dialog_id}")));
        };
        if d.in_wrap_up() {
            return Err((
                409,
                format!("the call of dialog {dialog_id} has ended (its agent is wrapping up)"),
            ));
        }
        // The whole call ends, also for another agent on it (even in a conference).
        let peer = d.peer.clone();
        let mut out = self.end_dialog(dialog_id, "");
        if let Some(peer) = peer {
            out.extend(self.end_dialog(&peer, ""));
        }
        Ok(out)
    }

    /// The far end of an outbound or consult call answers (admin API).
    pub fn far_end_answer(&mut self, dialog_id: &str) -> Result<Vec<Publish>, (u16, String)> {
        let d = self
            .dialogs
            .get_mut(dialog_id)
            .ok_or((404, format!("no dialog {dialog_id}")))?;
        let ringing = |p: &Participant| p.agent_id.is_none() && p.state == "ALERTING";
        if d.agent_leg().state == "INITIATED" {
            if let Some(agent) = d
                .participants
                .iter()
                .skip(1)
                .find_map(|p| p.agent_id.clone())
            {
                return Err((
                    409,
                    format!("the far end of dialog {dialog_id} is agent {agent}: it answers with ANSWER"),
                ));
            }
            d.state = "ACTIVE".into();
            set_leg(d.agent_leg_mut(), "ACTIVE");
        } else if !d.participants.iter().skip(1).any(ringing) {
            return Err((
                409,
                format!("dialog {dialog_id} is not ringing at the far end"),
            ));
        }
        for p in d.participants.iter_mut().skip(1) {
            if p.agent_id.is_none() {
                set_leg(p, "ACTIVE");
            }
        }
        let agent_id = d.agent_id.clone();
        // The original first (it now offers CONFERENCE), then the consult.
        let mut out = self.original_publish(dialog_id, "");
        out.push(self.dialog_publish(&self.dialogs[dialog_id], "PUT", ""));
        out.extend(self.refresh_agent(&agent_id, ""));
        Ok(out)
    }
}
