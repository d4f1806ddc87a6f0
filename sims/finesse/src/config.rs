//! The simulator's configuration: deployment type, addresses, agents, reason codes and wrap-up
//! reasons, built in code or read from a TOML file (see `finesse-sim.example.toml`).

use std::net::SocketAddr;

use serde::Deserialize;

/// Which contact-center product the simulated Finesse fronts; the rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Deployment {
    /// Unified Contact Center Enterprise.
    Ucce,
    /// Unified Contact Center Express.
    Uccx,
}

impl Deployment {
    /// The `deploymentType` SystemInfo reports.
    pub fn system_info_name(self) -> &'static str {
        match self {
            Deployment::Ucce => "UCCE",
            Deployment::Uccx => "UCCX",
        }
    }
}

/// The whole simulator configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SimConfig {
    /// Where the HTTP API listens (`127.0.0.1:0` picks a free port).
    pub http: SocketAddr,
    /// UCCE or UCCX rules.
    pub deployment: Deployment,
    /// The XMPP server's client port (Prosody, `127.0.0.1:5222`).
    pub xmpp: SocketAddr,
    /// The XMPP domain of the accounts (`finesse.local`).
    pub xmpp_domain: String,
    /// The pubsub service's domain (`pubsub.finesse.local`).
    pub pubsub_domain: String,
    /// The XMPP account the simulator publishes with (created if missing, may be shared).
    pub admin_user: String,
    /// That account's password.
    pub admin_password: String,
    /// The agents Finesse knows.
    #[serde(default)]
    pub agents: Vec<AgentConfig>,
    /// Reason codes of category NOT_READY.
    #[serde(default)]
    pub not_ready_reasons: Vec<ReasonCode>,
    /// Reason codes of category LOGOUT.
    #[serde(default)]
    pub logout_reasons: Vec<ReasonCode>,
    /// Wrap-up reasons.
    #[serde(default)]
    pub wrap_up_reasons: Vec<WrapUpReason>,
    /// The Finesse release simulated, e.g. `12.5(1)`: UCCE 12.5(1) and later allow MAKE_CALL
    /// from READY.
    #[serde(default = "default_version")]
    pub finesse_version: String,
    /// The host SystemInfo reports as `secondaryNode` (empty: a single node).
    #[serde(default)]
    pub secondary_host: String,
}

/// The release simulated when the configuration names none.
pub fn default_version() -> String {
    "12.5(1)".into()
}

/// One agent (a Finesse User with the Agent role).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AgentConfig {
    /// The agent id (login id, REST user id and XMPP user name).
    pub id: String,
    /// The password for REST Basic auth and XMPP.
    pub password: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// The usual extension (informational; LOGIN names the extension to use).
    #[serde(default)]
    pub extension: String,
    /// The team's id.
    #[serde(default)]
    pub team_id: String,
    /// The team's name.
    #[serde(default)]
    pub team_name: String,
}

/// A reason code (NOT_READY or LOGOUT).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReasonCode {
    /// The database id used in `reasonCodeId`.
    pub id: String,
    /// The numeric code reported to the contact center.
    pub code: String,
    /// The label shown to agents.
    pub label: String,
    /// `NOT_READY` or `LOGOUT` (filled from the list it is in when empty).
    #[serde(default)]
    pub category: String,
}

/// A wrap-up reason.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WrapUpReason {
    /// The database id.
    pub id: String,
    /// The label (what `wrapUpReason` carries).
    pub label: String,
}

impl SimConfig {
    /// Whether MAKE_CALL is allowed from READY (UCCE 12.5(1) and later; the agent is moved to
    /// NOT_READY with reason code 50006 first).
    pub fn make_call_from_ready(&self) -> bool {
        self.deployment == Deployment::Ucce && version_at_least(&self.finesse_version, (12, 5))
    }

    /// SystemInfo's `ctiVersion`: on UCCE the CTI protocol version of the release (Cisco's CTI
    /// Server Message Reference Guides: 11.5(1) 20, 11.6(1) 21, 12.0(1) 22, 12.5(1) 23,
    /// 12.6(1) 24, 15.0(1) 25); empty on UCCX (its own CTI protocol is not simulated).
    pub fn cti_version(&self) -> String {
        if self.deployment != Deployment::Ucce {
            return String::new();
        }
        let table = [
            ((15, 0), 25),
            ((12, 6), 24),
            ((12, 5), 23),
            ((12, 0), 22),
            ((11, 6), 21),
            ((11, 5), 20),
        ];
        let v = table
            .iter()
            .find(|(release, _)| version_at_least(&self.finesse_version, *release))
            .map_or(19, |(_, v)| *v);
        v.to_string()
    }

    /// Parses and checks a TOML configuration (keys as in `finesse-sim.example.toml`).
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let mut config: SimConfig = toml::from_str(text).map_err(|e| format!("config: {e}"))?;
        for (list, category) in [
            (&mut config.not_ready_reasons, "NOT_READY"),
            (&mut config.logout_reasons, "LOGOUT"),
        ] {
            for reason in list.iter_mut() {
                if reason.category.is_empty() {
                    reason.category = category.to_string();
                }
            }
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks the configuration for mistakes a run would trip over.
    pub fn validate(&self) -> Result<(), String> {
        if self.xmpp_domain.is_empty() || self.pubsub_domain.is_empty() {
            return Err("config: xmpp_domain and pubsub_domain must not be empty".into());
        }
        if self.admin_user.is_empty() || self.admin_password.is_empty() {
            return Err("config: admin_user and admin_password must not be empty".into());
        }
        let mut seen = std::collections::HashSet::new();
        for agent in &self.agents {
            if !valid_user_id(&agent.id) {
                return Err(format!(
                    "config: agent id {:?} must be letters, digits, '.', '_' or '-'",
                    agent.id
                ));
            }
            if agent.password.is_empty() {
                return Err(format!("config: agent {} has an empty password", agent.id));
            }
            if !seen.insert(agent.id.as_str()) {
                return Err(format!("config: agent {} is listed twice", agent.id));
            }
        }
        Ok(())
    }
}

/// Whether a release such as `12.5(1)` or `11.6` is at least `major.minor`.
pub fn version_at_least(version: &str, (major, minor): (u32, u32)) -> bool {
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let have = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    have >= (major, minor)
}

/// An id usable as an XMPP local part and a REST path segment.
pub fn valid_user_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses() {
        let text = include_str!("../finesse-sim.example.toml");
        let config = SimConfig::from_toml(text).unwrap();
        assert_eq!(config.agents.len(), 2);
        assert!(config
            .not_ready_reasons
            .iter()
            .all(|r| r.category == "NOT_READY"));
        assert!(config.logout_reasons.iter().all(|r| r.category == "LOGOUT"));
    }

    #[test]
    fn releases_compare_by_major_and_minor() {
        assert!(version_at_least("12.5(1)", (12, 5)));
        assert!(version_at_least("12.6(2)", (12, 5)));
        assert!(version_at_least("14.0", (12, 5)));
        assert!(!version_at_least("12.0(1)", (12, 5)));
        assert!(!version_at_least("11.6(1)", (12, 5)));
        assert!(!version_at_least("", (12, 5)));
        let mut c = SimConfig::from_toml(include_str!("../finesse-sim.example.toml")).unwrap();
        c.deployment = Deployment::Ucce;
        for (release, cti) in [("12.5(1)", "23"), ("12.0(1)", "22"), ("12.6(2)", "24")] {
            c.finesse_version = release.into();
            assert_eq!(c.cti_version(), cti, "{release}");
        }
        c.finesse_version = "12.5(1)".into();
        assert!(c.make_call_from_ready());
        c.finesse_version = "12.0(1)".into();
        assert!(!c.make_call_from_ready());
        c.finesse_version = "12.5(1)".into();
        c.deployment = Deployment::Uccx;
        assert!(!c.make_call_from_ready());
        assert_eq!(c.cti_version(), "");
    }

    #[test]
    fn bad_configs_are_refused() {
        assert!(SimConfig::from_toml("http = 1").is_err());
        let dup =
            include_str!("../finesse-sim.example.toml").replace("id = \"1002\"", "id = \"1001\"");
        assert!(SimConfig::from_toml(&dup).unwrap_err().contains("twice"));
    }
}
