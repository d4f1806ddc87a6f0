//! No action without proof: a request about an agent the connector holds a Finesse session
//! for is served only with the proof of that agent's credential
//! ([`driver::protocol::agent_proof`]); anything else is logged and does nothing. `Login`
//! proves itself at Finesse (its password is checked by the `PUT`), `Connect` with a
//! password by comparison with the one held (`requests.rs`).

use driver::protocol::{agent_proof, same_proof, Envelope, Message};

use super::Core;
use crate::rest::RestError;

impl Core {
    /// Whether the request may be served; a refused one is logged (never answered).
    pub(super) fn proven(&self, from: &str, env: &Envelope) -> bool {
        let Some(agent) = env.msg.agent() else {
            return true;
        };
        // Without a held session there is nothing to act with: requests answer NoSession.
        let Some(creds) = self.agents.get(agent).and_then(|e| e.creds.as_ref()) else {
            return true;
        };
        if matches!(
            env.msg,
            Message::Login { .. }
                | Message::Connect {
                    password: Some(_),
                    ..
                }
        ) {
            return true;
        }
        let expected = agent_proof(agent, &creds.password);
        if env
            .proof
            .as_deref()
            .is_some_and(|p| same_proof(p, &expected))
        {
            return true;
        }
        tracing::warn!(
            "refused {} for agent {agent} from {from} (request {}): no proof of the agent's \
             credential",
            kind(&env.msg),
            env.id
        );
        false
    }

    /// The clear password of a request (opened when the driver sent it encrypted: fresh,
    /// inside the time window, never seen before).
    pub(super) fn clear_password(
        &mut self,
        password: &str,
        encrypted: bool,
    ) -> Result<String, RestError> {
        if !encrypted {
            return Ok(password.to_string());
        }
        let des = self.cfg.des.as_ref().ok_or_else(|| {
            RestError::Config(
                "the connector has no security.des_key to decrypt secure passwords".into(),
            )
        })?;
        des.open(password, self.clock_ms, &mut self.replay)
            .map_err(|e| RestError::Config(e.to_string()))
    }
}

/// The message's type name, as on the wire.
pub(super) fn kind(msg: &Message) -> String {
    serde_json::to_value(msg)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
        .unwrap_or_else(|| "?".into())
}
