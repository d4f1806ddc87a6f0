//! Supervisors, after Cisco's "Dialog—Make a Silent Monitor Call" and "Dialog—Start a Barge
//! Call": a supervisor of the agent's team, NOT_READY with no call, silently monitors the
//! agent's active call (a SUPERVISOR_MONITOR dialog of its own: the monitored call's parties
//! and data with the supervisor added; the agent's own dialog does not change), then barges in
//! (the monitoring dialog is deleted, the call becomes a conference: the agent's dialog gets
//! the supervisor as a participant and callType CONFERENCE, the supervisor a dialog of the
//! conference). The monitoring ends when the supervisor drops it or the monitored call ends.
//! UCCE: the supervisor is TALKING while monitoring; UCCX: it stays NOT_READY (a call that was
//! not routed leaves a UCCX state alone) until it barges into a routed call.

use super::{set_leg, timestamp, AgentState, ApiError, Participant, Publish, Sim};

/// The callType of a supervisor's silent monitoring dialog.
pub const SUPERVISOR_MONITOR: &str = "SUPERVISOR_MONITOR";

/// The actions of the supervisor's leg of a monitoring dialog.
pub(super) fn monitoring_actions(p: &Participant) -> Vec<&'static str> {
    if p.state == "ACTIVE" {
        vec!["BARGE_CALL", "DROP"]
    } else {
        Vec::new()
    }
}

fn not_supervisor(id: &str) -> ApiError {
    ApiError::new(
        401,
        "Invalid Authorization User Specified",
        "the user is not a supervisor of the agent's team",
        id,
    )
}

impl Sim {
    /// Makes `agent_id` the supervisor of `teams` (empty: an agent again); a User PUT when
    /// it is signed in. Admin API.
    pub fn set_supervisor(
        &mut self,
        agent_id: &str,
        teams: Vec<String>,
    ) -> Result<Vec<Publish>, (u16, String)> {
        let agent = self
            .agents
            .get_mut(agent_id)
            .ok_or((404, format!("no agent {agent_id}")))?;
        agent.supervised_teams = teams;
        if agent.state == AgentState::Logout {
            return Ok(Vec::new());
        }
        Ok(vec![self.user_publish(agent_id, "")])
    }

    /// The supervisor `sup` signed in on `from`, and the agent signed in on `to` of one of its
    /// teams.
    fn supervisor_and_agent(&self, sup: &str, from: &str, to: &str) -> Result<String, ApiError> {
        let s = &self.agents[sup];
        if s.supervised_teams.is_empty() {
            return Err(not_supervisor(sup));
        }
        if from != s.extension {
            return Err(ApiError::invalid_input(
                "fromAddress is not the supervisor's extension",
                "fromAddress",
            ));
        }
        let agent = self.agent_at(sup, to).ok_or_else(|| {
            ApiError::new(
                400,
                "Invalid Destination",
                format!("no agent is signed in at {to}"),
                to,
            )
        })?;
        if !s
            .supervised_teams
            .contains(&self.agents[&agent].config.team_id)
        {
            return Err(not_supervisor(sup));
        }
        Ok(agent)
    }

    /// Applies POST /User/{sup}/Dialogs with SILENT_MONITOR.
    pub fn silent_monitor(
        &mut self,
        sup: &str,
        from: &str,
        to: &str,
        request_id: &str,
    ) -> Result<Vec<Publish>, ApiError> {
        let agent = self.supervisor_and_agent(sup, from, to)?;
        if self.agents[sup].state != AgentState::NotReady || self.live_dialogs(sup).next().is_some()
        {
            return Err(ApiError::invalid_state(
                "a supervisor starts silent monitoring from NOT_READY with no call",
                self.agents[sup].state.as_str(),
            ));
        }
        let call = self
            .live_dialogs(&agent)
            .find(|d| d.agent_leg().state == "ACTIVE" && d.call_type != SUPERVISOR_MONITOR)
            .cloned()
            .ok_or_else(|| {
                ApiError::invalid_state(
                    format!(
                        "the agent is not on an active call ({})",
                        self.agents[&agent].state.as_str()
                    ),
                    "SILENT_MONITOR",
                )
            })?;
        let mut m = self.new_dialog(sup, from, to, SUPERVISOR_MONITOR, ("ACTIVE", ""));
        m.participants.truncate(1);
        m.participants.extend(call.participants.iter().cloned());
        m.dnis = call.dnis;
        m.dialed_number = call.dialed_number;
        m.queue_name = call.queue_name;
        m.queue_number = call.queue_number;
        m.call_variables = call.call_variables;
        m.ecc = call.ecc;
        m.monitored = Some(call.id);
        let mut out = vec![self.dialog_publish(&m, "POST", request_id)];
        self.dialogs.insert(m.id.clone(), m);
        out.extend(self.refresh_agent(sup, request_id));
        Ok(out)
    }

    /// Applies POST /User/{sup}/Dialogs with BARGE_CALL on the monitoring dialog `monitoring`.
    pub fn barge_call(
        &mut self,
        sup: &str,
        from: &str,
        to: &str,
        monitoring: &str,
        request_id: &str,
    ) -> Result<Vec<Publish>, ApiError> {
        let agent = self.supervisor_and_agent(sup, from, to)?;
        let monitored = self
            .dialogs
            .get(monitoring)
            .filter(|m| m.agent_id == sup && m.call_type == SUPERVISOR_MONITOR)
            .and_then(|m| m.monitored.clone())
            .filter(|c| self.dialogs.get(c).is_some_and(|c| c.agent_id == agent))
            .ok_or_else(|| {
                ApiError::invalid_state(
                    "a supervisor barges only into a call it silently monitors",
                    "associatedDialogUri",
                )
            })?;
        if self.dialogs[&monitored].associated.is_some() {
            // CTI error 20999: the agent has an outstanding consult call.
            return Err(ApiError::invalid_state(
                "the agent has a consult call up (20999)",
                "BARGE_CALL",
            ));
        }
        let mut out = Vec::new();
        if let Some(m) = self.dialogs.remove(monitoring) {
            out.push(self.dialog_publish(&m, "DELETE", request_id));
        }
        let now = timestamp();
        let leg = Participant {
            media_address: from.to_string(),
            agent_id: Some(sup.to_string()),
            state: "ACTIVE".into(),
            start_time: now.clone(),
            state_change_time: now,
            state_cause: String::new(),
        };
        let call = self.dialogs.get_mut(&monitored).expect("checked");
        call.call_type = "CONFERENCE".into();
        call.participants.push(leg.clone());
        let call = call.clone();
        out.push(self.dialog_publish(&call, "PUT", request_id));
        let mut b = self.new_dialog(sup, &call.from, &call.to, "CONFERENCE", ("ACTIVE", ""));
        b.participants = std::iter::once(leg)
            .chain(
                call.participants
                    .iter()
                    .filter(|p| p.agent_id.as_deref() != Some(sup))
                    .cloned(),
            )
            .collect();
        set_leg(&mut b.participants[0], "ACTIVE");
        b.call_key = call.call_key;
        b.dnis = call.dnis;
        b.dialed_number = call.dialed_number;
        b.queue_name = call.queue_name;
        b.queue_number = call.queue_number;
        b.call_variables = call.call_variables;
        b.ecc = call.ecc;
        b.routed = call.routed;
        // Conference links: whoever leaves, the other goes on with the remaining parties.
        b.peer = Some(monitored.clone());
        if call.peer.is_none() {
            self.dialogs.get_mut(&monitored).expect("checked").peer = Some(b.id.clone());
        }
        out.push(self.dialog_publish(&b, "POST", request_id));
        self.dialogs.insert(b.id.clone(), b);
        out.extend(self.refresh_agent(sup, request_id));
        Ok(out)
    }

    /// The monitored call `dialog_id` ended: every silent monitoring of it ends too.
    pub(super) fn end_monitoring(&mut self, dialog_id: &str) -> Vec<Publish> {
        let watching: Vec<String> = self
            .dialogs
            .values()
            .filter(|m| m.monitored.as_deref() == Some(dialog_id))
            .map(|m| m.id.clone())
            .collect();
        watching
            .iter()
            .flat_map(|m| self.end_dialog(m, ""))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{DialogRequest, InboundCall, StateRequest};
    use super::*;
    use crate::config::SimConfig;

    /// 1001 (5001) on an answered customer call; 1002 (5002), supervisor of team 100, Not
    /// Ready. Returns the customer call's dialog id.
    fn on_call(deployment: &str) -> (Sim, String) {
        let text = include_str!("../../finesse-sim.example.toml").replace(
            "deployment = \"UCCE\"",
            &format!("deployment = \"{deployment}\""),
        );
        let mut s = Sim::new(SimConfig::from_toml(&text).unwrap());
        for (id, ext) in [("1001", "5001"), ("1002", "5002")] {
            let r = StateRequest {
                state: "LOGIN".into(),
                extension: Some(ext.into()),
                reason_code_id: None,
            };
            s.change_state(id, &r, "").unwrap();
        }
        s.set_supervisor("1002", vec!["100".into()]).unwrap();
        let call = InboundCall {
            to_agent: Some("1001".into()),
            ani: "4085550100".into(),
            dnis: "8005551000".into(),
            call_variables: [("callVariable1".to_string(), "acct-42".to_string())].into(),
            ..Default::default()
        };
        let (id, _) = s.inbound_call(&call).unwrap();
        let answer = DialogRequest {
            action: "ANSWER".into(),
            ..Default::default()
        };
        s.dialog_action("1001", &id, &answer, "").unwrap();
        (s, id)
    }

    fn monitoring(s: &Sim) -> String {
        s.agent_dialogs("1002")
            .find(|d| d.call_type == SUPERVISOR_MONITOR)
            .map(|d| d.id.clone())
            .expect("a monitoring dialog")
    }

    #[test]
    fn a_supervisor_monitors_then_barges_into_a_conference() {
        let (mut s, call) = on_call("UCCE");
        s.silent_monitor("1002", "5002", "5001", "").unwrap();
        let m = monitoring(&s);
        let d = &s.dialogs[&m];
        let parties: Vec<&str> = d
            .participants
            .iter()
            .map(|p| p.media_address.as_str())
            .collect();
        assert_eq!(parties, ["5002", "5001", "4085550100"]);
        assert_eq!(d.call_variables["callVariable1"], "acct-42");
        assert_eq!(
            s.participant_actions(d, &d.participants[0]),
            ["BARGE_CALL", "DROP"]
        );
        assert_eq!(s.agents["1002"].state, AgentState::Talking, "UCCE: TALKING");
        assert_eq!(
            s.dialogs[&call].call_type, "ACD_IN",
            "silent: the agent's call unchanged"
        );
        let hold = DialogRequest {
            action: "HOLD".into(),
            ..Default::default()
        };
        assert!(s.dialog_action("1002", &m, &hold, "").is_err());

        s.barge_call("1002", "5002", "5001", &m, "").unwrap();
        assert!(
            !s.dialogs.contains_key(&m),
            "the monitoring dialog is deleted"
        );
        let agent = &s.dialogs[&call];
        assert_eq!(agent.call_type, "CONFERENCE");
        assert_eq!(agent.participants.len(), 3);
        let barge = s
            .agent_dialogs("1002")
            .next()
            .expect("the supervisor's conference dialog");
        assert_eq!(barge.call_type, "CONFERENCE");
        assert_eq!(barge.call_key, agent.call_key);
        // The supervisor leaves: the agent goes on with the customer.
        let barge = barge.id.clone();
        let drop = DialogRequest {
            action: "DROP".into(),
            ..Default::default()
        };
        s.dialog_action("1002", &barge, &drop, "").unwrap();
        assert_eq!(s.dialogs[&call].participants.len(), 2);
        assert_eq!(s.agents["1002"].state, AgentState::NotReady);
    }

    #[test]
    fn ucce_rules_the_role_the_team_the_states_and_the_end_of_the_call() {
        let (mut s, call) = on_call("UCCE");
        // Not a supervisor, or not of the agent's team: 401.
        s.set_supervisor("1002", Vec::new()).unwrap();
        let e = s.silent_monitor("1002", "5002", "5001", "").unwrap_err();
        assert_eq!(e.status, 401);
        s.set_supervisor("1002", vec!["200".into()]).unwrap();
        assert_eq!(
            s.silent_monitor("1002", "5002", "5001", "")
                .unwrap_err()
                .status,
            401
        );
        s.set_supervisor("1002", vec!["100".into()]).unwrap();
        // From another extension, to no agent.
        let e = s.silent_monitor("1002", "5009", "5001", "").unwrap_err();
        assert_eq!(e.error_type, "Invalid Input");
        let e = s.silent_monitor("1002", "5002", "5999", "").unwrap_err();
        assert_eq!(e.error_type, "Invalid Destination");
        // The supervisor must be NOT_READY.
        let ready = StateRequest {
            state: "READY".into(),
            ..Default::default()
        };
        s.change_state("1002", &ready, "").unwrap();
        let e = s.silent_monitor("1002", "5002", "5001", "").unwrap_err();
        assert_eq!(e.error_type, "Invalid State");
        let not_ready = StateRequest {
            state: "NOT_READY".into(),
            ..Default::default()
        };
        s.change_state("1002", &not_ready, "").unwrap();
        // The agent on hold: refused.
        let hold = DialogRequest {
            action: "HOLD".into(),
            ..Default::default()
        };
        s.dialog_action("1001", &call, &hold, "").unwrap();
        let e = s.silent_monitor("1002", "5002", "5001", "").unwrap_err();
        assert_eq!(e.error_type, "Invalid State");
        let retrieve = DialogRequest {
            action: "RETRIEVE".into(),
            ..Default::default()
        };
        s.dialog_action("1001", &call, &retrieve, "").unwrap();
        // Monitoring ends with the monitored call.
        s.silent_monitor("1002", "5002", "5001", "").unwrap();
        monitoring(&s);
        s.far_end_hangup(&call).unwrap();
        assert_eq!(s.agent_dialogs("1002").count(), 0);
        assert_eq!(s.agents["1002"].state, AgentState::NotReady);
    }

    #[test]
    fn uccx_supervisor_stays_not_ready_while_monitoring() {
        let (mut s, _) = on_call("UCCX");
        s.silent_monitor("1002", "5002", "5001", "").unwrap();
        monitoring(&s);
        assert_eq!(s.agents["1002"].state, AgentState::NotReady);
    }
}
