//! Joining and ending calls: transfers, conferences, consult pairs and ending a dialog.

use super::{set_leg, AgentState, ApiError, Dialog, Participant, Publish, Sim, FAILED, WRAP_UP};

impl Sim {
    /// TRANSFER, before the transferring agent's two dialogs end: connects the original call's
    /// far end(s) with the consult call's. A consulted agent's dialog carries on with the
    /// original far end as its other party (callType TRANSFER); an agent on the original call
    /// sees the consulted party instead of the transferring agent. Nothing to do when neither
    /// far end is an agent of the simulator.
    pub(super) fn bridge(&mut self, original: &str, consult: &str) -> Vec<Publish> {
        let (Some(o), Some(c)) = (self.dialogs.get(original), self.dialogs.get(consult)) else {
            return Vec::new();
        };
        let transferring = o.agent_id.clone();
        let (po, pc) = (o.peer.clone(), c.peer.clone());
        let far_o: Vec<Participant> = o.participants.iter().skip(1).cloned().collect();
        let far_c: Vec<Participant> = c.participants.iter().skip(1).cloned().collect();
        for id in [original, consult] {
            if let Some(d) = self.dialogs.get_mut(id) {
                d.peer = None;
            }
        }
        let mut out = Vec::new();
        // The consulted agent: its consult dialog is deleted and the original call's dialog is
        // posted to it (a new dialog, so a new work item), ACTIVE with the original far end.
        let mut replaced = None;
        if let Some(consulted) = pc.as_deref().and_then(|id| self.dialogs.remove(id)) {
            out.push(self.dialog_publish(&consulted, "DELETE", ""));
            let target = consulted.agent_id.clone();
            let mut d = self.transferred_dialog(&target, original, "ACTIVE");
            d.participants.truncate(1);
            d.participants.extend(far_o);
            d.peer.clone_from(&po);
            d.secondary_id.clone_from(&consulted.id);
            out.push(self.dialog_publish(&d, "POST", ""));
            replaced = Some(d.id.clone());
            self.dialogs.insert(d.id.clone(), d);
        }
        if let Some(id) = po.as_deref() {
            if let Some(p) = self.dialogs.get_mut(id) {
                p.participants
                    .retain(|l| l.agent_id.as_deref() != Some(transferring.as_str()));
                p.participants.extend(far_c);
                p.peer.clone_from(&replaced);
                out.push(self.dialog_publish(&self.dialogs[id], "PUT", ""));
            }
        }
        out
    }

    /// A dialog for agent `target` carrying the call of dialog `original` after a transfer:
    /// the original's addresses, call key and call data, callType TRANSFER, the target's leg
    /// in `leg_state` and the original's far legs.
    pub(super) fn transferred_dialog(
        &mut self,
        target: &str,
        original: &str,
        leg_state: &str,
    ) -> Dialog {
        let o = self.dialogs[original].clone();
        let mut d = self.new_dialog(target, &o.from, &o.to, "TRANSFER", (leg_state, ""));
        d.participants.truncate(1);
        d.participants
            .extend(o.participants.iter().skip(1).cloned());
        d.copy_call_data(&o);
        d.call_key = o.call_key;
        d.routed = o.routed;
        d.called_by_agent = true;
        d
    }

    /// CONFERENCE: the consult call's far end joins the original dialog (callType CONFERENCE)
    /// and the consult dialog is deleted. When one of the two calls is with another agent of
    /// the simulator, that agent's dialog stays ACTIVE, lists every party too and becomes a
    /// CONFERENCE; a conference of two calls that both reach other agents is refused.
    pub(super) fn conference(
        &mut self,
        original: &str,
        consult: &str,
        request_id: &str,
    ) -> Result<Vec<Publish>, ApiError> {
        let (Some(o), Some(c)) = (self.dialogs.get(original), self.dialogs.get(consult)) else {
            return Err(ApiError::invalid_state(
                "CONFERENCE needs a consult call",
                "CONFERENCE",
            ));
        };
        let (po, pc) = (o.peer.clone(), c.peer.clone());
        if po.is_some() && pc.is_some() {
            return Err(ApiError::new(
                400,
                "Invalid Action",
                "a conference of two calls with other agents is not simulated",
                "CONFERENCE",
            ));
        }
        let existing: Vec<Participant> = o.participants.iter().skip(1).cloned().collect();
        let Some(c) = self.dialogs.remove(consult) else {
            return Ok(Vec::new());
        };
        let added: Vec<Participant> = c.participants.iter().skip(1).cloned().collect();
        let mut out = vec![self.dialog_publish(&c, "DELETE", request_id)];
        if let Some(d) = self.dialogs.get_mut(original) {
            d.associated = None;
            d.call_type = "CONFERENCE".into();
            set_leg(d.agent_leg_mut(), "ACTIVE");
            d.participants.extend(added.iter().cloned());
            if pc.is_some() {
                d.peer.clone_from(&pc);
            }
            out.push(self.dialog_publish(&self.dialogs[original], "PUT", request_id));
        }
        let (other, joining) = match (&pc, &po) {
            (Some(p), _) => (p.as_str(), existing),
            (None, Some(p)) => (p.as_str(), added),
            (None, None) => return Ok(out),
        };
        if let Some(p) = self.dialogs.get_mut(other) {
            p.participants.extend(joining);
            p.call_type = "CONFERENCE".into();
            p.associated = None;
            p.peer = Some(original.to_string());
            out.push(self.dialog_publish(&self.dialogs[other], "PUT", ""));
        }
        Ok(out)
    }

    /// (original, consult) when `dialog_id` is either half of a consult pair.
    pub(super) fn consult_pair(&self, dialog_id: &str) -> Option<(String, String)> {
        let d = self.dialogs.get(dialog_id)?;
        let other = self.dialogs.get(d.associated.as_deref()?)?;
        if d.is_consult() {
            Some((other.id.clone(), d.id.clone()))
        } else {
            Some((d.id.clone(), other.id.clone()))
        }
    }

    /// Ends a dialog for its agent: a PUT with DROPPED legs, then the DELETE. When the agent
    /// goes to wrap-up (WORK or WORK_READY once its last call has ended), the dialog stays
    /// instead (unless the agent's leg was still ALERTING): one PUT (dialog DROPPED, far legs
    /// DROPPED, agent leg WRAP_UP) and no DELETE until the agent leaves wrap-up. A dialog
    /// already in wrap-up is left alone.
    pub(super) fn end_dialog(&mut self, dialog_id: &str, request_id: &str) -> Vec<Publish> {
        if self.dialogs.get(dialog_id).is_some_and(Dialog::in_wrap_up) {
            return Vec::new();
        }
        let Some(mut d) = self.dialogs.remove(dialog_id) else {
            return Vec::new();
        };
        if let Some(other) = d
            .associated
            .as_deref()
            .and_then(|a| self.dialogs.get_mut(a))
        {
            other.associated = None;
        }
        // A call that only rang (never answered) leaves nothing to wrap up.
        let answered = !matches!(d.agent_leg().state.as_str(), "ALERTING" | FAILED);
        d.state = "DROPPED".into();
        for p in &mut d.participants {
            set_leg(p, "DROPPED");
        }
        let agent_out = self.refresh_agent(&d.agent_id, request_id);
        let wrap_up = answered
            && self.live_dialogs(&d.agent_id).next().is_none()
            && self
                .agents
                .get(&d.agent_id)
                .is_some_and(|a| matches!(a.state, AgentState::Work | AgentState::WorkReady));
        let mut out = Vec::new();
        if wrap_up {
            set_leg(d.agent_leg_mut(), WRAP_UP);
            let mut kept = d.clone();
            kept.associated = None;
            kept.peer = None;
            out.push(self.dialog_publish(&kept, "PUT", request_id));
            self.dialogs.insert(kept.id.clone(), kept);
        } else {
            out.push(self.dialog_publish(&d, "PUT", request_id));
            out.push(self.dialog_publish(&d, "DELETE", request_id));
        }
        if let Some(other) = d.associated.as_deref().and_then(|a| self.dialogs.get(a)) {
            out.push(self.dialog_publish(other, "PUT", request_id));
        }
        out.extend(agent_out);
        // The other agent of a call between two agents: a two-party call ends for both; a
        // conference goes on without this agent.
        if let Some(peer) = d.peer.as_deref() {
            match self.dialogs.get_mut(peer) {
                Some(p) if p.in_wrap_up() => {}
                Some(p) if p.participants.len() > 2 => {
                    p.participants
                        .retain(|l| l.agent_id.as_deref() != Some(d.agent_id.as_str()));
                    p.peer = None;
                    out.push(self.dialog_publish(&self.dialogs[peer], "PUT", ""));
                }
                Some(_) => out.extend(self.end_dialog(peer, "")),
                None => {}
            }
        }
        out.extend(self.end_monitoring(dialog_id));
        out
    }
}
