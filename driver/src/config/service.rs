//! An agent session's configuration: the login fields of `Service:` parameters, and of the
//! command data that can override them.

use std::fmt;

use super::{strip_prefix, Parsed};

/// An agent session's configuration (`Service:` and unprefixed parameters).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ServiceConfig {
    /// Agent id, when Siebel passes it at session start.
    pub agent_id: Option<String>,
    /// Agent password (never logged).
    pub password: Option<String>,
    /// Extension (teleset DN).
    pub extension: Option<String>,
}

impl fmt::Debug for ServiceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceConfig")
            .field("agent_id", &self.agent_id)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("extension", &self.extension)
            .finish()
    }
}

/// Recognised names for the login fields, in Service: parameters and in command parameters.
pub(crate) fn login_field(key: &str) -> Option<LoginField> {
    let k = strip_prefix(strip_prefix(key, "Service:"), "Param.");
    Some(match k.to_ascii_lowercase().as_str() {
        "agentid" | "agent" | "agentlogin" => LoginField::AgentId,
        "agentpassword" | "password" | "agentpin" => LoginField::Password,
        "extension" | "agentdn" | "dn" | "teleset" => LoginField::Extension,
        _ => return None,
    })
}

/// One of the three login fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LoginField {
    AgentId,
    Password,
    Extension,
}

/// A value Siebel left as an unexpanded macro (e.g. `{@AgentId}` with no login data) counts
/// as absent.
pub(crate) fn present(value: &str) -> Option<String> {
    let v = value.trim();
    let unexpanded = v.starts_with("{@") && v.ends_with('}');
    (!v.is_empty() && !unexpanded).then(|| v.to_string())
}

impl ServiceConfig {
    /// Builds the session configuration from `Service:` parameters (name, value).
    pub fn from_params(params: &[(String, String)]) -> Parsed<Self> {
        let mut c = ServiceConfig::default();
        let mut unknown = Vec::new();
        for (key, value) in params {
            match login_field(key) {
                Some(LoginField::AgentId) => c.agent_id = present(value),
                Some(LoginField::Password) => c.password = present(value),
                Some(LoginField::Extension) => c.extension = present(value),
                None => unknown.push(key.clone()),
            }
        }
        Parsed { config: c, unknown }
    }

    /// Overlays login fields given with a command (command data wins over the session's).
    pub fn overlay(&self, params: &[(String, String)]) -> ServiceConfig {
        let mut c = self.clone();
        for (key, value) in params {
            let Some(v) = present(value) else { continue };
            match login_field(key) {
                Some(LoginField::AgentId) => c.agent_id = Some(v),
                Some(LoginField::Password) => c.password = Some(v),
                Some(LoginField::Extension) => c.extension = Some(v),
                None => {}
            }
        }
        c
    }
}
