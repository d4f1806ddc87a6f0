//! Agent state changes (PUT /User): login, logout, Ready/Not Ready/work states, and the
//! agent state recomputed from its calls.

use super::{set_state, AgentState, ApiError, Publish, Sim, StateRequest};
use crate::config::Deployment;

impl Sim {
    /// Applies PUT /User/{id}.
    pub fn change_state(
        &mut self,
        agent_id: &str,
        req: &StateRequest,
        request_id: &str,
    ) -> Result<Vec<Publish>, ApiError> {
        let deployment = self.config.deployment;
        let on_call = self.live_dialogs(agent_id).next().is_some();
        let reason = match req.reason_code_id.as_deref().filter(|r| !r.is_empty()) {
            Some(id) => {
                let category = if req.state == "LOGOUT" {
                    "LOGOUT"
                } else {
                    "NOT_READY"
                };
                match self.reason(id) {
                    Some(r)
                        if r.category == category
                            && matches!(req.state.as_str(), "NOT_READY" | "LOGOUT") =>
                    {
                        Some(id.to_string())
                    }
                    _ => {
                        return Err(ApiError::invalid_input(
                            format!("reason code {id} is not a {category} reason code"),
                            "reasonCodeId",
                        ))
                    }
                }
            }
            None => None,
        };
        let agent = self
            .agents
            .get_mut(agent_id)
            .ok_or_else(|| ApiError::new(404, "Not Found", "no such user", agent_id))?;
        let current = agent.state;
        let signed_in = current != AgentState::Logout;
        let invalid = || {
            ApiError::invalid_state(
                format!("cannot change from {} to {}", current.as_str(), req.state),
                &req.state,
            )
        };
        match req.state.as_str() {
            "LOGIN" => {
                let ext = ApiError::required(req.extension.as_deref().map(str::trim), "extension")?;
                if !ext.chars().all(|c| c.is_ascii_digit()) {
                    return Err(ApiError::new(
                        400,
                        "Bad Request",
                        "the extension is invalid",
                        ext,
                    ));
                }
                if !signed_in {
                    agent.extension = ext.to_string();
                    set_state(agent, AgentState::NotReady, None);
                }
                // Signing in again keeps the current state (Finesse forces a sign-in).
            }
            "LOGOUT" => {
                let allowed = match deployment {
                    Deployment::Ucce => current == AgentState::NotReady,
                    Deployment::Uccx => matches!(current, AgentState::NotReady | AgentState::Ready),
                };
                if !allowed || on_call {
                    return Err(invalid());
                }
                agent.extension.clear();
                set_state(agent, AgentState::Logout, reason);
            }
            "READY" | "NOT_READY" => {
                let target = if req.state == "READY" {
                    AgentState::Ready
                } else {
                    AgentState::NotReady
                };
                if !signed_in {
                    return Err(invalid());
                }
                if on_call {
                    agent.pending = Some(target);
                    agent.pending_reason = reason;
                } else {
                    let allowed = match current {
                        AgentState::NotReady => true, // NOT_READY -> NOT_READY changes the reason code
                        AgentState::Ready => target == AgentState::NotReady,
                        AgentState::Work | AgentState::WorkReady => true,
                        _ => false,
                    };
                    if !allowed {
                        return Err(invalid());
                    }
                    set_state(
                        agent,
                        target,
                        if target == AgentState::NotReady {
                            reason
                        } else {
                            None
                        },
                    );
                }
            }
            "WORK" | "WORK_READY" => {
                // UCCE agents may choose wrap-up during a call; UCCX agents set READY,
                // NOT_READY and LOGOUT only.
                if deployment == Deployment::Uccx || !on_call {
                    return Err(invalid());
                }
                agent.pending = Some(if req.state == "WORK" {
                    AgentState::Work
                } else {
                    AgentState::WorkReady
                });
                agent.pending_reason = None;
            }
            "" => return Err(ApiError::missing("state")),
            other => {
                return Err(ApiError::invalid_input(
                    format!("unknown state {other}"),
                    "state",
                ))
            }
        }
        let mut out = self.close_wrap_up(agent_id, request_id);
        out.push(self.user_publish(agent_id, request_id));
        Ok(out)
    }

    /// Recomputes the agent's state from its calls; a user notification when it changed.
    pub(super) fn refresh_agent(&mut self, agent_id: &str, request_id: &str) -> Vec<Publish> {
        let deployment = self.config.deployment;
        let legs: Vec<(String, bool, bool)> = self
            .live_dialogs(agent_id)
            .map(|d| (d.agent_leg().state.clone(), d.routed, d.called_by_agent))
            .collect();
        let agent = self.agents.get_mut(agent_id).expect("known agent");
        let before = (agent.state, agent.pending);
        if legs.is_empty() {
            if let Some(pre) = agent.pre_call.take() {
                let (next, reason) = match agent.pending.take() {
                    Some(p) => (p, agent.pending_reason.take()),
                    None if matches!(
                        pre,
                        AgentState::Ready
                            | AgentState::NotReady
                            | AgentState::Work
                            | AgentState::WorkReady
                    ) =>
                    {
                        (pre, agent.reason_code_id.clone())
                    }
                    None => (AgentState::NotReady, None),
                };
                set_state(
                    agent,
                    next,
                    if next == AgentState::NotReady {
                        reason
                    } else {
                        None
                    },
                );
            }
        } else {
            if agent.pre_call.is_none() {
                agent.pre_call = Some(agent.state);
            }
            let any = |s: &str| legs.iter().any(|(l, _, _)| l == s);
            let counted = legs.iter().any(|(_, r, c)| *r || *c);
            // A call from another agent reserves a READY agent only (NOT_READY stays).
            let reserving = legs.iter().any(|(l, r, c)| {
                l == "ALERTING" && (*r || (*c && agent.state == AgentState::Ready))
            });
            let derived = if deployment == Deployment::Uccx && !counted {
                None // UCCX: non-routed calls leave the agent state alone
            } else if any("ACTIVE") || any("INITIATING") || any("INITIATED") {
                Some(AgentState::Talking)
            } else if any("HELD") {
                Some(if deployment == Deployment::Uccx {
                    AgentState::Talking
                } else {
                    AgentState::Hold
                })
            } else if reserving {
                Some(AgentState::Reserved)
            } else {
                None
            };
            if let Some(s) = derived {
                if s != agent.state {
                    set_state(agent, s, agent.reason_code_id.clone());
                }
            }
        }
        let changed = (agent.state, agent.pending) != before;
        let mut out = self.close_wrap_up(agent_id, request_id);
        if changed {
            out.push(self.user_publish(agent_id, request_id));
        }
        out
    }
}
