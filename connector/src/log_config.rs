//! `[log]` of the connector's configuration: file, level, size cap, kept files, format.

use std::path::PathBuf;

use driver::config::LogLevel;
use driver::logging::{LogFormat, LogSettings};
use serde::{Deserialize, Serialize};

/// `[log]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    /// off, error, warn, info, debug, trace.
    pub level: String,
    /// Log file (empty: standard error).
    pub file: String,
    /// Size cap of the file in KiB (0: none); past it the file is rotated.
    pub max_kb: u64,
    /// Older files kept on rotation (`FILE.1` …; 0: the file is emptied).
    pub keep: u32,
    /// `text` or `json` (one object a line).
    pub format: String,
}

impl Default for Log {
    fn default() -> Self {
        Log {
            level: "info".into(),
            file: String::new(),
            max_kb: 10_240,
            keep: 5,
            format: "text".into(),
        }
    }
}

impl Log {
    /// The key with a bad value and what is wrong with it, if any.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        if LogLevel::parse(&self.level).is_none() {
            return Some((
                "log.level",
                format!(
                    "must be off, error, warn, info, debug or trace, got {:?}",
                    self.level
                ),
            ));
        }
        if LogFormat::parse(&self.format).is_none() {
            return Some((
                "log.format",
                format!("must be text or json, got {:?}", self.format),
            ));
        }
        if self.keep > 100 {
            return Some(("log.keep", "must be at most 100".into()));
        }
        None
    }

    /// The log's settings (of a validated configuration).
    pub fn settings(&self) -> LogSettings {
        LogSettings {
            file: (!self.file.is_empty()).then(|| PathBuf::from(&self.file)),
            level: LogLevel::parse(&self.level).unwrap_or(LogLevel::Info),
            max_kb: self.max_kb,
            keep: self.keep,
            format: LogFormat::parse(&self.format).unwrap_or_default(),
        }
    }
}

/// Logs the configuration as short `key=value` lines, one per section (secrets never shown).
pub fn log_start(cfg: &crate::config::ConnectorConfig) {
    let (c, b, f, m, l) = (
        &cfg.connector,
        &cfg.broker,
        &cfg.finesse,
        &cfg.monitor,
        &cfg.log,
    );
    let or_dash = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    tracing::info!(
        name = %c.name,
        workers = c.workers,
        heartbeat_ms = c.heartbeat_ms,
        version = env!("CARGO_PKG_VERSION"),
        "connector starting"
    );
    tracing::info!(
        brokers = %b.address_list(),
        tls = b.tls,
        login = %or_dash(&b.login),
        request_queue = %b.request_queue,
        exclusive = b.exclusive,
        "broker"
    );
    tracing::info!(
        primary = %f.primary,
        secondary = %or_dash(&f.secondary),
        admin_user = %or_dash(&f.admin_user),
        xmpp_port = f.xmpp_port,
        xmpp_tls = %f.xmpp_tls,
        poll_ms = f.poll_ms,
        "finesse"
    );
    tracing::info!(
        monitor = %or_dash(&m.listen),
        log_file = %or_dash(&l.file),
        log_level = %l.level,
        max_kb = l.max_kb,
        keep = l.keep,
        format = %l.format,
        "console and log"
    );
}
