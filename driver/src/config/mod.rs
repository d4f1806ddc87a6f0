//! Typed configuration from Siebel's `Driver:` and `Service:` parameters.
//!
//! Siebel parameter names are case-insensitive; the prefix (`Driver:` / `Service:`) is optional
//! here because Siebel versions differ in whether they pass it. Every key is documented in
//! `docs/configuration.md`.

use std::fmt;
use std::path::PathBuf;

use crate::protocol::DEFAULT_REQUEST_QUEUE;
use crate::secure::TripleDes;
use crate::stomp::{parse_brokers, BrokerAddr};

mod error;
mod service;
/// A list parameter: names separated by commas, semicolons or spaces.
fn list(v: &str) -> Vec<String> {
    v.split([',', ' ', ';'])
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests_brokers;

/// The key held in `Driver:SecureKeyFile` (48 hex digits, surrounding blanks ignored); a
/// `Driver:SecureKey` given as well is refused (which one would count?).
fn secure_key_file(path: &str, inline: &str) -> Result<String, ConfigError> {
    if !inline.trim().is_empty() {
        return Err(ConfigError::SecureKeyFile(
            "give either Driver:SecureKeyFile or Driver:SecureKey, not both".into(),
        ));
    }
    std::fs::read_to_string(path)
        .map(|k| k.trim().to_string())
        .map_err(|e| {
            ConfigError::SecureKeyFile(format!(
                "cannot read {path}: {e} (make the site's key once with \
                 `openssl rand -hex 24 > {path}`, readable by the Siebel server only)"
            ))
        })
}

use error::invalid;
pub use error::ConfigError;
pub(crate) use service::present;
pub use service::ServiceConfig;

/// The contact center behind Finesse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deployment {
    /// Unified Contact Center Enterprise.
    Ucce,
    /// Unified Contact Center Express.
    Uccx,
}

/// Log verbosity of the driver's log file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// Nothing.
    Off,
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warn,
    /// Normal operation.
    Info,
    /// Every message and state change.
    Debug,
    /// Everything, including wire frames (passwords redacted).
    Trace,
}

impl LogLevel {
    /// Parses `off|error|warn|info|debug|trace` (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "off" | "none" => LogLevel::Off,
            "error" => LogLevel::Error,
            "warn" | "warning" => LogLevel::Warn,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            "trace" => LogLevel::Trace,
            _ => return None,
        })
    }

    /// The `tracing` filter directive for this level.
    pub fn directive(self) -> &'static str {
        match self {
            LogLevel::Off => "off",
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// The driver instance's configuration (`Driver:` parameters).
#[derive(Clone, PartialEq)]
pub struct DriverConfig {
    /// `Driver:BrokerHost` as given: one host or a comma-separated list of `host[:port]`.
    pub broker_host: String,
    /// ActiveMQ STOMP port (of the entries that name none).
    pub broker_port: u16,
    /// The brokers in failover order, from `broker_host` and `broker_port`.
    pub brokers: Vec<BrokerAddr>,
    /// Broker login (empty: none).
    pub broker_login: String,
    /// Broker passcode (never logged).
    pub broker_password: String,
    /// STOMP over TLS with the broker's certificate checked against this CA file (PEM);
    /// `None`: plain STOMP (`Driver:BrokerTls` FALSE).
    pub broker_ca_file: Option<PathBuf>,
    /// This driver instance's id; its event queue is `/queue/siebelcti.driver.<id>`.
    pub client_id: String,
    /// The queue connectors consume requests from.
    pub request_queue: String,
    /// STOMP heart-beat interval in ms (0: none).
    pub heartbeat_ms: u64,
    /// How long without a connector's status heartbeat before it counts as gone, in ms
    /// (`Driver:ConnectorTimeoutMs`; 0: never).
    pub connector_timeout_ms: u64,
    /// TCP connect timeout in ms.
    pub connect_timeout_ms: u64,
    /// First reconnect delay in ms (doubles up to the maximum).
    pub reconnect_min_ms: u64,
    /// Largest reconnect delay in ms.
    pub reconnect_max_ms: u64,
    /// Log file (none: standard error).
    pub log_file: Option<PathBuf>,
    /// Log level.
    pub log_level: LogLevel,
    /// Log size cap in KiB (`MaxLogKB`, 0: none).
    pub log_max_kb: u64,
    /// Older log files kept on rotation (`LogKeepFiles`, 0: the file is emptied).
    pub log_keep: u32,
    /// Text or JSON log lines (`LogFormat`).
    pub log_format: crate::logging::LogFormat,
    /// UCCE or UCCX rules.
    pub deployment: Deployment,
    /// Triple-DES key for agent passwords (`Driver:UseSecurePassword`), if enabled.
    pub secure: Option<TripleDes>,
    /// Log the agent out of Finesse when the Siebel session ends.
    pub force_logout: bool,
    /// Not Ready needs one of the agent's Not Ready reason codes.
    pub not_ready_reasons: bool,
    /// Logout reason codes are offered (optional at logout).
    pub logout_reasons: bool,
    /// Wrap-up reasons come from Finesse's WrapUpReasons and a reason must be one of them;
    /// off, a wrap-up reason is free text.
    pub wrap_up_reasons: bool,
    /// The call variable that carries the caller-entered digits (field `CED`), if any.
    pub ced_variable: Option<String>,
    /// The call variable that carries the Siebel context of a transfer or consult
    /// (`AttachContext`; field `Context` of the receiving agent's call events), if any.
    pub context_variable: Option<String>,
    /// Restart the last call's work-item timer on wrap-up (advanced setup).
    pub reset_timer_on_wrap_up: bool,
    /// Broker users of the connectors (`Driver:ConnectorUsers`): when set, a `System`
    /// status is trusted only with one of them in the broker's `JMSXUserID` stamp.
    pub connector_users: Vec<String>,
    /// Agents allowed to run `SetLogLevel` (`Driver:AdminAgents`); empty: every agent.
    pub admin_agents: Vec<String>,
}

impl fmt::Debug for DriverConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DriverConfig")
            .field(
                "brokers",
                &self
                    .brokers
                    .iter()
                    .map(|b| b.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .field("broker_login", &self.broker_login)
            .field("connector_users", &self.connector_users)
            .field("admin_agents", &self.admin_agents)
            .field(
                "broker_password",
                &if self.broker_password.is_empty() {
                    ""
                } else {
                    "***"
                },
            )
            .field("broker_ca_file", &self.broker_ca_file)
            .field("client_id", &self.client_id)
            .field("request_queue", &self.request_queue)
            .field("heartbeat_ms", &self.heartbeat_ms)
            .field("connector_timeout_ms", &self.connector_timeout_ms)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field(
                "reconnect_ms",
                &format!("{}..{}", self.reconnect_min_ms, self.reconnect_max_ms),
            )
            .field("log_file", &self.log_file)
            .field("log_level", &self.log_level)
            .field("log_max_kb", &self.log_max_kb)
            .field("log_keep", &self.log_keep)
            .field("log_format", &self.log_format)
            .field("deployment", &self.deployment)
            .field("secure_password", &self.secure.is_some())
            .field("force_logout", &self.force_logout)
            .field("not_ready_reasons", &self.not_ready_reasons)
            .field("logout_reasons", &self.logout_reasons)
            .field("wrap_up_reasons", &self.wrap_up_reasons)
            .field("ced_variable", &self.ced_variable)
            .field("context_variable", &self.context_variable)
            .field("reset_timer_on_wrap_up", &self.reset_timer_on_wrap_up)
            .finish()
    }
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig {
            broker_host: "127.0.0.1".into(),
            broker_port: 61613,
            brokers: vec![BrokerAddr::new("127.0.0.1", 61613)],
            broker_login: String::new(),
            connector_users: Vec::new(),
            admin_agents: Vec::new(),
            broker_password: String::new(),
            broker_ca_file: None,
            client_id: default_client_id(),
            request_queue: DEFAULT_REQUEST_QUEUE.into(),
            heartbeat_ms: 10_000,
            connector_timeout_ms: 3_000,
            connect_timeout_ms: 1_000,
            reconnect_min_ms: 500,
            reconnect_max_ms: 1_000,
            log_file: None,
            log_level: LogLevel::Info,
            log_max_kb: 10_240,
            log_keep: 5,
            log_format: crate::logging::LogFormat::Text,
            deployment: Deployment::Ucce,
            secure: None,
            force_logout: false,
            not_ready_reasons: false,
            logout_reasons: false,
            wrap_up_reasons: false,
            ced_variable: None,
            context_variable: None,
            reset_timer_on_wrap_up: false,
        }
    }
}

/// The default client id: the machine's host name and the process id.
fn default_client_id() -> String {
    let host = host_name()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "siebel".into());
    let host: String = host.chars().filter(|c| valid_id_char(*c)).collect();
    format!(
        "{}-{}",
        if host.is_empty() { "siebel" } else { &host },
        std::process::id()
    )
}

/// The host name from the system (`gethostname`), not from the environment: `HOSTNAME` is
/// a shell variable that is usually not exported to services.
#[cfg(unix)]
pub(crate) fn host_name() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).trim().to_string();
    (!name.is_empty()).then_some(name)
}

/// On Windows `COMPUTERNAME` is always set for services.
#[cfg(not(unix))]
pub(crate) fn host_name() -> Option<String> {
    None
}

fn valid_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Strips an optional `prefix` (case-insensitive) from a parameter name.
pub(crate) fn strip_prefix<'a>(key: &'a str, prefix: &str) -> &'a str {
    let k = key.trim();
    // `get` (not slicing): a prefix-length cut inside a multi-byte character is no match.
    match (k.get(..prefix.len()), k.get(prefix.len()..)) {
        (Some(head), Some(rest)) if head.eq_ignore_ascii_case(prefix) => rest,
        _ => k,
    }
}

/// `Driver:ContextVariable`: empty (off), `callVariable1`..`callVariable10` or an ECC
/// variable (`user.*`), the variables Finesse's UPDATE_CALL_DATA sets.
fn context_variable(v: &str) -> Result<Option<String>, ConfigError> {
    let v = v.trim();
    let call_variable = v
        .strip_prefix("callVariable")
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(|n| (1..=10).contains(&n));
    let ecc = v.len() > 5 && v.starts_with("user.");
    match v {
        "" => Ok(None),
        _ if call_variable || ecc => Ok(Some(v.to_string())),
        _ => Err(invalid(
            "ContextVariable",
            v,
            "must be callVariable1..callVariable10 or an ECC variable (user.name)",
        )),
    }
}

fn flag(key: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_uppercase().as_str() {
        "TRUE" | "Y" | "YES" | "1" => Ok(true),
        "FALSE" | "N" | "NO" | "0" | "" => Ok(false),
        _ => Err(ConfigError::NotAFlag {
            key,
            value: value.to_string(),
        }),
    }
}

fn number(key: &'static str, value: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
    let n: u64 = value.trim().parse().map_err(|_| ConfigError::NotANumber {
        key,
        value: value.to_string(),
    })?;
    if n < min || n > max {
        return Err(ConfigError::OutOfRange {
            key,
            value: n,
            min,
            max,
        });
    }
    Ok(n)
}

/// What parsing the parameters produced: the config and the keys it did not know.
#[derive(Debug)]
pub struct Parsed<T> {
    /// The typed configuration.
    pub config: T,
    /// Parameter names that were ignored (to be logged).
    pub unknown: Vec<String>,
}

impl DriverConfig {
    /// The instance's log: `LogFile`, `LogLevel`, `MaxLogKB`, `LogKeepFiles`, `LogFormat`.
    pub fn log_settings(&self) -> crate::logging::LogSettings {
        crate::logging::LogSettings {
            file: self.log_file.clone(),
            level: self.log_level,
            max_kb: self.log_max_kb,
            keep: self.log_keep,
            format: self.log_format,
        }
    }

    /// Builds the configuration from `Driver:` parameters (name, value).
    pub fn from_params(params: &[(String, String)]) -> Result<Parsed<Self>, ConfigError> {
        let mut c = DriverConfig::default();
        let mut unknown = Vec::new();
        let (mut use_secure, mut des_key, mut des_iv) = (false, String::new(), String::new());
        let mut key_file = String::new();
        let (mut tls, mut ca_file) = (None, String::new());
        let mut client_id_given = false;
        // Without `ReconnectMaxMs`, a larger `ReconnectMinMs` is also the maximum.
        let mut max_given = false;
        for (raw_key, value) in params {
            let key = strip_prefix(raw_key, "Driver:");
            let v = value.trim();
            match key.to_ascii_lowercase().as_str() {
                "brokerhost" => {
                    if v.is_empty() {
                        return Err(ConfigError::Empty { key: "BrokerHost" });
                    }
                    c.broker_host = v.to_string();
                }
                "brokerport" => c.broker_port = number("BrokerPort", v, 1, 65535)? as u16,
                "brokerlogin" => c.broker_login = v.to_string(),
                "connectorusers" => c.connector_users = list(v),
                "adminagents" => c.admin_agents = list(v),
                "brokerpassword" => c.broker_password = value.to_string(),
                "brokertls" if v.is_empty() => tls = None,
                "brokertls" => tls = Some(flag("BrokerTls", v)?),
                "brokercafile" => ca_file = v.to_string(),
                "clientid" => {
                    if !v.is_empty() {
                        if v.len() > 64 || !v.chars().all(valid_id_char) {
                            return Err(invalid(
                                "ClientId",
                                v,
                                "may hold only letters, digits, '-', '_' and '.' (64 at most)",
                            ));
                        }
                        c.client_id = v.to_string();
                        client_id_given = true;
                    }
                }
                "requestqueue" => {
                    if !(v.starts_with("/queue/") || v.starts_with("/topic/")) || v.len() < 8 {
                        return Err(invalid(
                            "RequestQueue",
                            v,
                            "must start with /queue/ or /topic/",
                        ));
                    }
                    c.request_queue = v.to_string();
                }
                "heartbeatms" => {
                    c.heartbeat_ms = number("HeartbeatMs", v, 0, 3_600_000)?;
                    if c.heartbeat_ms != 0 && c.heartbeat_ms < 100 {
                        return Err(invalid("HeartbeatMs", v, "must be 0 (off) or at least 100"));
                    }
                }
                "connectortimeoutms" => {
                    c.connector_timeout_ms = number("ConnectorTimeoutMs", v, 0, 600_000)?;
                    if c.connector_timeout_ms != 0 && c.connector_timeout_ms < 500 {
                        return Err(invalid(
                            "ConnectorTimeoutMs",
                            v,
                            "must be 0 (off) or at least 500",
                        ));
                    }
                }
                "connecttimeoutms" => {
                    c.connect_timeout_ms = number("ConnectTimeoutMs", v, 50, 60_000)?
                }
                "reconnectminms" => c.reconnect_min_ms = number("ReconnectMinMs", v, 10, 600_000)?,
                "reconnectmaxms" => {
                    c.reconnect_max_ms = number("ReconnectMaxMs", v, 10, 600_000)?;
                    max_given = true;
                }
                "logfile" => c.log_file = (!v.is_empty()).then(|| PathBuf::from(v)),
                "loglevel" => {
                    c.log_level = LogLevel::parse(v).ok_or_else(|| {
                        invalid(
                            "LogLevel",
                            v,
                            "must be off, error, warn, info, debug or trace",
                        )
                    })?
                }
                "maxlogkb" => c.log_max_kb = number("MaxLogKB", v, 0, 4 << 20)?,
                "logkeepfiles" => c.log_keep = number("LogKeepFiles", v, 0, 100)? as u32,
                "logformat" => {
                    c.log_format = crate::logging::LogFormat::parse(v)
                        .ok_or_else(|| invalid("LogFormat", v, "must be text or json"))?
                }
                "deploymenttype" => {
                    c.deployment = match v.to_ascii_uppercase().as_str() {
                        "UCCE" => Deployment::Ucce,
                        "UCCX" => Deployment::Uccx,
                        _ => return Err(invalid("DeploymentType", v, "must be UCCE or UCCX")),
                    }
                }
                "usesecurepassword" => use_secure = flag("UseSecurePassword", v)?,
                "forcelogoutonrelease" => c.force_logout = flag("ForceLogoutOnRelease", v)?,
                "notreadyreasoncodes" => c.not_ready_reasons = flag("NotReadyReasonCodes", v)?,
                "logoutreasoncodes" => c.logout_reasons = flag("LogoutReasonCodes", v)?,
                "wrapupreasoncodes" => c.wrap_up_reasons = flag("WrapUpReasonCodes", v)?,
                "cedvariable" => c.ced_variable = (!v.is_empty()).then(|| v.to_string()),
                "contextvariable" => c.context_variable = context_variable(v)?,
                "resettimeronwrapup" => c.reset_timer_on_wrap_up = flag("ResetTimerOnWrapUp", v)?,
                "securekey" => des_key = v.to_string(),
                "securekeyfile" => key_file = v.to_string(),
                "secureiv" => des_iv = v.to_string(),
                _ => unknown.push(raw_key.clone()),
            }
        }
        // A key turns secure passwords on: with a key they never leave in clear.
        let key_name = if key_file.is_empty() {
            "Driver:SecureKey".to_string()
        } else {
            des_key = secure_key_file(&key_file, &des_key)?;
            format!("the key in Driver:SecureKeyFile ({key_file})")
        };
        if use_secure && des_key.trim().is_empty() {
            return Err(ConfigError::SecureKeyFile(
                "Driver:UseSecurePassword is TRUE: name a file holding the site's key \
                 (make it once with `openssl rand -hex 24`, the connector's security.des_key)"
                    .into(),
            ));
        }
        if use_secure || !des_key.trim().is_empty() {
            c.secure = Some(TripleDes::from_hex(
                &key_name,
                &des_key,
                "Driver:SecureIV",
                &des_iv,
            )?);
        }
        // A closed broker gives each driver login its own queue namespace
        // (`siebelcti.driver.<login>.>`): the default id lives there.
        if !client_id_given && !c.broker_login.is_empty() {
            let id = format!("{}.{}", c.broker_login, c.client_id);
            if id.len() <= 64 && id.chars().all(valid_id_char) {
                c.client_id = id;
            }
        }
        // TLS is on when asked for, or when a CA file is given and plain is not asked for.
        if tls.unwrap_or(!ca_file.is_empty()) {
            if ca_file.is_empty() {
                return Err(ConfigError::BrokerCaFile(
                    "Driver:BrokerTls is TRUE: give the CA file (PEM) that signed the broker's certificate".into(),
                ));
            }
            c.broker_ca_file = Some(PathBuf::from(ca_file));
        } else if !ca_file.is_empty() {
            tracing::warn!("Driver:BrokerTls is FALSE: plain STOMP, Driver:BrokerCaFile unused");
        }
        c.brokers = parse_brokers(&c.broker_host, c.broker_port).map_err(ConfigError::Brokers)?;
        if !max_given {
            c.reconnect_max_ms = c.reconnect_max_ms.max(c.reconnect_min_ms);
        }
        if c.reconnect_min_ms > c.reconnect_max_ms {
            return Err(ConfigError::ReconnectRange {
                min: c.reconnect_min_ms,
                max: c.reconnect_max_ms,
            });
        }
        Ok(Parsed { config: c, unknown })
    }
}

#[cfg(test)]
mod tests;
