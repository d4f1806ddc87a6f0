//! The connector's configuration: a TOML file (every key in `docs/connector.md`), each key
//! overridable by an environment variable `CONNECTOR_<SECTION>_<KEY>` (e.g.
//! `CONNECTOR_BROKER_HOST`).

use std::fmt;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// Why a configuration is not usable. Each message names the key or variable at fault.
#[derive(Debug)]
pub enum ConfigError {
    /// The TOML text does not parse, or does not fit the keys and types (unknown keys).
    Syntax(toml::de::Error),
    /// An environment variable `CONNECTOR_…` names no key.
    UnknownVariable {
        /// The variable.
        variable: String,
        /// The key it would set (`section.key`).
        key: String,
    },
    /// An environment variable's value does not fit the key's type.
    BadVariable {
        /// The variable.
        variable: String,
        /// Its value.
        value: String,
        /// What the key takes.
        expected: &'static str,
    },
    /// An environment variable targets a key whose section is not a table.
    NotATable {
        /// The variable.
        variable: String,
    },
    /// A value out of its range.
    Value {
        /// The key.
        key: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The Triple-DES key or IV is not usable (the text names the key). Only the text of the
    /// driver's error is kept, so this compiles whichever error type `driver::secure` has.
    Security(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Syntax(e) => write!(f, "configuration: {e}"),
            ConfigError::UnknownVariable { variable, key } => {
                write!(f, "environment variable {variable}: no key {key}")
            }
            ConfigError::BadVariable {
                variable,
                value,
                expected,
            } => write!(
                f,
                "environment variable {variable}: not {expected}: {value:?}"
            ),
            ConfigError::NotATable { variable } => {
                write!(f, "configuration: {variable} targets a non-table")
            }
            ConfigError::Value { key, problem } => write!(f, "{key} {problem}"),
            ConfigError::Security(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Syntax(e) => Some(e),
            _ => None,
        }
    }
}

/// The whole configuration.
#[derive(Clone, Deserialize, Serialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectorConfig {
    /// `[connector]`.
    pub connector: General,
    /// `[broker]`.
    pub broker: Broker,
    /// `[finesse]`.
    pub finesse: Finesse,
    /// `[monitor]`.
    pub monitor: Monitor,
    /// `[log]`.
    pub log: Log,
    /// `[security]`.
    pub security: Security,
}

/// `[connector]`: identity.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct General {
    /// Name shown to drivers and in the console.
    pub name: String,
    /// Worker threads for Finesse requests.
    pub workers: usize,
    /// Heartbeat: how often a serving connector publishes its status on the status topic
    /// (ms); `0` only on changes (drivers then cannot tell a dead connector).
    pub heartbeat_ms: u64,
}

impl Default for General {
    fn default() -> Self {
        General {
            name: "connector".into(),
            workers: 4,
            heartbeat_ms: 1000,
        }
    }
}

/// `[broker]`: ActiveMQ.
#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Broker {
    /// Host, or a comma-separated failover list of `host[:port]` (see `docs/connector.md`).
    pub host: String,
    /// STOMP port (of the entries of `host` that name none).
    pub port: u16,
    /// STOMP login (empty: none).
    pub login: String,
    /// STOMP passcode (never logged).
    pub password: String,
    /// STOMP over TLS (`stomp+ssl`), the broker's certificate checked against `ca_file`.
    pub tls: bool,
    /// The CA file (PEM) that signed the broker's certificate (needed with `tls`).
    pub ca_file: String,
    /// The queue of driver requests.
    pub request_queue: String,
    /// STOMP heart-beat, ms (0: none).
    pub heartbeat_ms: u64,
    /// Active-passive: subscribe as ActiveMQ exclusive consumer (only one connector serves).
    pub exclusive: bool,
}

impl Default for Broker {
    fn default() -> Self {
        Broker {
            host: "127.0.0.1".into(),
            port: 61613,
            login: String::new(),
            password: String::new(),
            tls: false,
            ca_file: String::new(),
            request_queue: driver::protocol::DEFAULT_REQUEST_QUEUE.into(),
            heartbeat_ms: 10_000,
            exclusive: false,
        }
    }
}

impl Broker {
    /// The brokers in failover order, from `host` and `port`.
    pub fn addresses(&self) -> Result<Vec<driver::stomp::BrokerAddr>, ConfigError> {
        driver::stomp::parse_brokers(&self.host, self.port).map_err(|e| ConfigError::Value {
            key: "broker.host",
            problem: e.to_string(),
        })
    }

    /// The TLS settings (`None`: plain STOMP), the CA file read.
    pub fn tls_settings(&self) -> Result<Option<driver::stomp::TlsSettings>, ConfigError> {
        if !self.tls {
            return Ok(None);
        }
        if self.ca_file.is_empty() {
            return Err(ConfigError::Value {
                key: "broker.ca_file",
                problem: "broker.tls is true: give the CA file (PEM) that signed the broker's certificate".into(),
            });
        }
        driver::stomp::TlsSettings::from_ca_file(std::path::Path::new(&self.ca_file))
            .map(Some)
            .map_err(|e| ConfigError::Value {
                key: "broker.ca_file",
                problem: e.to_string(),
            })
    }

    /// The brokers as `host:port` joined by commas (as given when the list is unusable).
    pub fn address_list(&self) -> String {
        match self.addresses() {
            Ok(l) => l
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(","),
            Err(_) => format!("{}:{}", self.host, self.port),
        }
    }
}

impl fmt::Debug for Broker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Broker")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("login", &self.login)
            .field("password", &mask(&self.password))
            .field("tls", &self.tls)
            .field("ca_file", &self.ca_file)
            .field("request_queue", &self.request_queue)
            .field("heartbeat_ms", &self.heartbeat_ms)
            .field("exclusive", &self.exclusive)
            .finish()
    }
}

/// `[finesse]`: the Finesse nodes.
#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Finesse {
    /// Base URL of the primary node, e.g. `https://finesse-a.example.com:8445`.
    pub primary: String,
    /// Base URL of the secondary node (empty: none).
    pub secondary: String,
    /// XMPP port of the nodes (5222; the host is the node's).
    pub xmpp_port: u16,
    /// Optional administrator/supervisor account, used to read an agent's state when the
    /// connector has no session for it (e.g. just after a restart).
    pub admin_user: String,
    /// Its password (never logged).
    pub admin_password: String,
    /// SystemInfo polling interval, ms.
    pub poll_ms: u64,
    /// REST request timeout, ms.
    pub request_timeout_ms: u64,
    /// CA file (PEM) that signed the nodes' HTTPS and XMPP certificates; empty: the public
    /// web CAs built in (HTTPS).
    pub ca_file: String,
    /// XMPP transport: `starttls` (on `xmpp_port`, the default), `tls` (direct, e.g. 5223)
    /// or `plain` (only when asked for).
    pub xmpp_tls: String,
}

impl Default for Finesse {
    fn default() -> Self {
        Finesse {
            primary: "http://127.0.0.1:8082".into(),
            secondary: String::new(),
            xmpp_port: 5222,
            admin_user: String::new(),
            admin_password: String::new(),
            poll_ms: 5_000,
            request_timeout_ms: 5_000,
            ca_file: String::new(),
            xmpp_tls: "starttls".into(),
        }
    }
}

impl fmt::Debug for Finesse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finesse")
            .field("primary", &self.primary)
            .field("secondary", &self.secondary)
            .field("xmpp_port", &self.xmpp_port)
            .field("admin_user", &self.admin_user)
            .field("admin_password", &mask(&self.admin_password))
            .field("poll_ms", &self.poll_ms)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .finish()
    }
}

/// `[monitor]`: the web console (with its checks, in `console_auth.rs`).
pub use crate::console_auth::Monitor;

/// `[security]`: the Triple-DES key and IV of secure agent passwords (the drivers'
/// `Driver:SecureKey` / `Driver:SecureIV`), hex; empty: drivers must send clear passwords.
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Security {
    /// 48 hex digits.
    pub des_key: String,
    /// 16 hex digits.
    pub des_iv: String,
}

impl fmt::Debug for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Security")
            .field("des_key", &mask(&self.des_key))
            .field("des_iv", &mask(&self.des_iv))
            .finish()
    }
}

pub use crate::log_config::Log;

impl fmt::Debug for ConnectorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorConfig")
            .field("connector", &self.connector)
            .field("broker", &self.broker)
            .field("finesse", &self.finesse)
            .field("monitor", &self.monitor)
            .field("log", &self.log)
            .field("security", &self.security)
            .finish()
    }
}

fn mask(s: &str) -> &'static str {
    if s.is_empty() {
        ""
    } else {
        "***"
    }
}

impl ConnectorConfig {
    /// Parses TOML text, then applies environment overrides from `env` (name, value) pairs.
    pub fn from_toml(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut value: toml::Table = text.parse().map_err(ConfigError::Syntax)?;
        for (k, v) in env {
            let Some(rest) = k.strip_prefix("CONNECTOR_") else {
                continue;
            };
            let Some((section, key)) = rest.split_once('_') else {
                continue;
            };
            let section = section.to_ascii_lowercase();
            let key = key.to_ascii_lowercase();
            // The default configuration tells which keys exist and their types.
            let default = toml::Value::try_from(ConnectorConfig::default())
                .ok()
                .and_then(|d| d.get(&section).and_then(|s| s.get(&key)).cloned());
            let Some(default) = default else {
                return Err(ConfigError::UnknownVariable {
                    variable: k,
                    key: format!("{section}.{key}"),
                });
            };
            let bad = |expected| ConfigError::BadVariable {
                variable: k.clone(),
                value: v.clone(),
                expected,
            };
            let typed = match default {
                toml::Value::Integer(_) => {
                    toml::Value::Integer(v.parse().map_err(|_| bad("a number"))?)
                }
                toml::Value::Boolean(_) => {
                    toml::Value::Boolean(v.parse().map_err(|_| bad("true/false"))?)
                }
                _ => toml::Value::String(v),
            };
            value
                .entry(section)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .ok_or_else(|| ConfigError::NotATable {
                    variable: k.clone(),
                })?
                .insert(key, typed);
        }
        let cfg: ConnectorConfig = value.try_into().map_err(ConfigError::Syntax)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks values that TOML types cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let value = |key: &'static str, problem: String| ConfigError::Value { key, problem };
        for (key, url) in [
            ("finesse.primary", &self.finesse.primary),
            ("finesse.secondary", &self.finesse.secondary),
        ] {
            if key == "finesse.secondary" && url.is_empty() {
                continue;
            }
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(value(
                    key,
                    format!("must be an http:// or https:// URL, got {url:?}"),
                ));
            }
        }
        if self.connector.workers == 0 || self.connector.workers > 256 {
            return Err(value(
                "connector.workers",
                "must be between 1 and 256".into(),
            ));
        }
        if self.connector.heartbeat_ms != 0 && self.connector.heartbeat_ms < 100 {
            return Err(value(
                "connector.heartbeat_ms",
                "must be 0 (off) or at least 100".into(),
            ));
        }
        if !self.monitor.listen.is_empty() && self.monitor.listen.parse::<SocketAddr>().is_err() {
            return Err(value(
                "monitor.listen",
                format!("must be IP:PORT, got {:?}", self.monitor.listen),
            ));
        }
        if let Err(problem) = self.monitor.auth() {
            return Err(value("monitor", problem.to_string()));
        }
        if let Some((key, problem)) = self.log.problem() {
            return Err(value(key, problem));
        }
        self.triple_des()?;
        self.broker.addresses()?;
        self.broker.tls_settings()?;
        if self.finesse.poll_ms < 100 {
            return Err(value("finesse.poll_ms", "must be at least 100".into()));
        }
        Ok(())
    }

    /// The Finesse nodes in order (primary first).
    pub fn nodes(&self) -> Vec<String> {
        [&self.finesse.primary, &self.finesse.secondary]
            .into_iter()
            .filter(|u| !u.is_empty())
            .map(|u| u.trim_end_matches('/').to_string())
            .collect()
    }

    /// The Triple-DES key for secure passwords, if configured.
    pub fn triple_des(&self) -> Result<Option<driver::secure::TripleDes>, ConfigError> {
        let s = &self.security;
        if s.des_key.is_empty() && s.des_iv.is_empty() {
            return Ok(None);
        }
        driver::secure::TripleDes::from_hex(
            "security.des_key",
            &s.des_key,
            "security.des_iv",
            &s.des_iv,
        )
        .map(Some)
        // The driver's error names the key; only its text is kept (see `ConfigError`).
        .map_err(|e| ConfigError::Security(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_environment() {
        let cfg = ConnectorConfig::from_toml(
            "[broker]\nport = 61614\npassword = \"mq-secret\"\n[finesse]\nprimary = \"https://a:8445\"\n",
            [
                ("CONNECTOR_BROKER_HOST".to_string(), "mq".to_string()),
                ("CONNECTOR_FINESSE_POLL_MS".to_string(), "250".to_string()),
                ("CONNECTOR_BROKER_EXCLUSIVE".to_string(), "true".to_string()),
                ("PATH".to_string(), "/bin".to_string()),
            ],
        )
        .unwrap();
        assert_eq!(cfg.broker.port, 61614);
        assert_eq!(cfg.broker.host, "mq");
        assert!(cfg.broker.exclusive);
        assert_eq!(cfg.finesse.poll_ms, 250);
        assert_eq!(cfg.nodes(), vec!["https://a:8445".to_string()]);
        let pair = ConnectorConfig::from_toml(
            "",
            [(
                "CONNECTOR_BROKER_HOST".to_string(),
                "mq-a, mq-b:61614".to_string(),
            )],
        )
        .unwrap();
        let addrs: Vec<String> = pair
            .broker
            .addresses()
            .unwrap()
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(addrs, ["mq-a:61613", "mq-b:61614"]);
        assert_eq!(pair.broker.address_list(), "mq-a:61613,mq-b:61614");
        assert!(!format!("{cfg:?}").contains("mq-secret"));
    }

    #[test]
    fn errors_name_the_key() {
        for (text, env, needle) in [
            ("[broker]\nprot = 1\n", vec![], "prot"),
            (
                "[finesse]\nprimary = \"ftp://x\"\n",
                vec![],
                "finesse.primary",
            ),
            (
                "",
                vec![("CONNECTOR_BROKER_PORT", "x")],
                "CONNECTOR_BROKER_PORT",
            ),
            ("", vec![("CONNECTOR_BROKER_COLOUR", "x")], "broker.colour"),
            ("[log]\nlevel = \"loud\"\n", vec![], "log.level"),
            ("[log]\nformat = \"xml\"\n", vec![], "log.format"),
            ("[broker]\nhost = \"a,b:0\"\n", vec![], "broker.host"),
            ("[security]\ndes_key = \"00\"\n", vec![], "security.des_key"),
            (
                "[connector]\nheartbeat_ms = 50\n",
                vec![],
                "connector.heartbeat_ms",
            ),
        ] {
            let env = env.into_iter().map(|(k, v)| (k.to_string(), v.to_string()));
            let err = ConnectorConfig::from_toml(text, env)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn errors_are_typed_and_keep_their_cause() {
        let e = ConnectorConfig::from_toml("[broker\n", []).unwrap_err();
        assert!(matches!(e, ConfigError::Syntax(_)));
        assert!(std::error::Error::source(&e).is_some());
        let e = ConnectorConfig::from_toml("[connector]\nworkers = 0\n", []).unwrap_err();
        assert!(matches!(
            e,
            ConfigError::Value {
                key: "connector.workers",
                ..
            }
        ));
        assert_eq!(e.to_string(), "connector.workers must be between 1 and 256");
    }

    #[test]
    fn broker_tls_needs_a_readable_ca_file() {
        let e = ConnectorConfig::from_toml("[broker]\ntls = true\n", []).unwrap_err();
        assert!(e.to_string().contains("broker.ca_file"), "{e}");
        let env = [("CONNECTOR_BROKER_TLS".to_string(), "true".to_string())];
        let e = ConnectorConfig::from_toml("[broker]\nca_file = \"/nonexistent.pem\"\n", env)
            .unwrap_err();
        assert!(e.to_string().contains("/nonexistent.pem"), "{e}");
        let plain = ConnectorConfig::from_toml("", []).unwrap();
        assert!(plain.broker.tls_settings().unwrap().is_none());
    }
}
