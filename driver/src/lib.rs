//! The Siebel CTI driver's logic, in safe Rust: configuration, agent sessions, commands,
//! events and the broker link. The C ABI (`ffi-shim/`) wraps [`Driver`].

pub mod calls;
pub mod clock;
pub mod commands;
pub mod config;
pub mod dial;
pub mod host;
pub mod link;
pub mod logging;
pub mod messages;
pub mod protocol;
pub mod secure;
mod sessions;
pub mod stomp;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use commands::Command;
use config::{ConfigError, DriverConfig, ServiceConfig};
use host::{Host, HostSlot};
use link::{Link, LinkSender, LinkSettings};
pub use sessions::WorkItemOp;
use sessions::{Cmd, Sessions};

/// How long releasing a driver waits for its link thread to finish.
const STOP_WAIT: Duration = Duration::from_secs(3);

/// One driver instance: one configuration, one broker connection, one link thread.
pub struct Driver {
    config: Arc<DriverConfig>,
    link: LinkSender<Cmd>,
    done: crossbeam_channel::Receiver<()>,
    next_session: AtomicU64,
    /// The instance's own log (dropped after the link thread stopped).
    log: logging::Log,
}

/// An agent session created by [`Driver::request_service`].
pub struct Service {
    id: u64,
    slot: Arc<HostSlot>,
    work_items: sessions::WorkItemIds,
}

/// Why a command was refused at once.
#[derive(Debug, PartialEq, Eq)]
pub enum InvokeError {
    /// The command is not one of the driver's device commands.
    UnknownCommand(String),
    /// The driver instance is shutting down.
    Stopped,
    /// No call has this tracking id.
    UnknownWorkItem(String),
}

impl std::fmt::Display for InvokeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InvokeError::UnknownCommand(c) => write!(f, "unknown command {c:?}"),
            InvokeError::Stopped => f.write_str("the driver instance is stopping"),
            InvokeError::UnknownWorkItem(t) => write!(f, "no work item with tracking id {t:?}"),
        }
    }
}

impl std::error::Error for InvokeError {}

/// Why a driver instance could not be created.
#[derive(Debug)]
pub enum CreateError {
    /// A `Driver:` parameter has a bad value.
    Config(ConfigError),
    /// The broker link (its poller or its thread) could not be started.
    Link(std::io::Error),
}

impl std::fmt::Display for CreateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CreateError::Config(e) => e.fmt(f),
            CreateError::Link(e) => write!(f, "cannot start the broker link: {e}"),
        }
    }
}

impl std::error::Error for CreateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CreateError::Config(e) => Some(e),
            CreateError::Link(e) => Some(e),
        }
    }
}

impl From<ConfigError> for CreateError {
    fn from(e: ConfigError) -> Self {
        CreateError::Config(e)
    }
}

impl Driver {
    /// Creates a driver instance from `Driver:` parameters and Siebel's language code, and
    /// starts its link thread. Returns at once: the broker connection is made (and remade) in
    /// the background.
    pub fn create(params: &[(String, String)], language: &str) -> Result<Driver, CreateError> {
        let parsed = match DriverConfig::from_params(params) {
            Ok(p) => p,
            Err(e) => {
                refused_in_log_file(params, &e);
                return Err(e.into());
            }
        };
        let config = Arc::new(parsed.config);
        let (log, problem) = logging::Log::open(&config.log_settings());
        let _in_log = log.enter();
        if let Some(e) = problem {
            tracing::error!("{e}; logging to standard error");
        }
        for k in &parsed.unknown {
            tracing::warn!("unknown driver parameter {k:?} ignored");
        }
        log_start(&config);
        let settings = LinkSettings {
            brokers: config.brokers.clone(),
            login: config.broker_login.clone(),
            passcode: config.broker_password.clone(),
            heartbeat: Duration::from_millis(config.heartbeat_ms),
            connect_timeout: Duration::from_millis(config.connect_timeout_ms),
            reconnect_min: Duration::from_millis(config.reconnect_min_ms),
            reconnect_max: Duration::from_millis(config.reconnect_max_ms),
            tls: match &config.broker_ca_file {
                None => None,
                Some(ca) => Some(
                    stomp::TlsSettings::from_ca_file(ca)
                        .map_err(|e| ConfigError::BrokerCaFile(e.to_string()))?,
                ),
            },
        };
        let (link, sender) = Link::new(settings).map_err(CreateError::Link)?;
        let (done_tx, done) = crossbeam_channel::bounded(1);
        let catalog = messages::Catalog::for_language(language);
        if !catalog.language().eq_ignore_ascii_case(language.trim()) {
            tracing::info!(
                "no texts for language {language:?}; using {} (available: {:?})",
                catalog.language(),
                messages::Catalog::languages()
            );
        }
        let mut handler = Sessions::new(config.clone(), catalog, instance_nonce());
        let thread_log = log.thread_binding();
        std::thread::Builder::new()
            .name(format!("siebel-cti-link-{}", config.client_id))
            .spawn(move || {
                thread_log.bind_thread();
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    link.run(&mut handler)
                }));
                if result.is_err() {
                    tracing::error!(
                        "the broker link thread panicked; the driver instance is stopped"
                    );
                }
                let _ = done_tx.send(());
            })
            .map_err(CreateError::Link)?;
        Ok(Driver {
            config,
            link: sender,
            done,
            next_session: AtomicU64::new(1),
            log,
        })
    }

    /// Routes the calling (host) thread's log records to this instance's log, until the
    /// thread runs an entry point of another instance.
    pub fn log_on_this_thread(&self) {
        self.log.thread_binding().bind_thread();
    }

    /// The instance's configuration.
    pub fn config(&self) -> &DriverConfig {
        &self.config
    }

    /// Creates an agent session with its host callbacks and `Service:` parameters.
    pub fn request_service(
        &self,
        host: Box<dyn Host>,
        params: &[(String, String)],
    ) -> Result<Service, InvokeError> {
        let _in_log = self.log.enter();
        let parsed = ServiceConfig::from_params(params);
        for k in &parsed.unknown {
            tracing::debug!("service parameter {k:?} not used");
        }
        let id = self.next_session.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(HostSlot::new(host));
        let work_items = sessions::WorkItemIds::default();
        let c = &parsed.config;
        tracing::info!(
            agent = c.agent_id.as_deref().unwrap_or("-"),
            extension = c.extension.as_deref().unwrap_or("-"),
            password = if c.password.is_some() { "given" } else { "-" },
            "session {id} requested"
        );
        if !self.link.send(Cmd::Add {
            id,
            slot: slot.clone(),
            service: parsed.config,
            work_items: work_items.clone(),
        }) {
            return Err(InvokeError::Stopped);
        }
        Ok(Service {
            id,
            slot,
            work_items,
        })
    }

    /// Queues a toolbar command; the outcome arrives through the session's host.
    pub fn invoke(
        &self,
        service: &Service,
        track: &str,
        name: &str,
        string_param: &str,
        params: Vec<(String, String)>,
    ) -> Result<(), InvokeError> {
        let _in_log = self.log.enter();
        let command = Command::from_name(name)
            .ok_or_else(|| InvokeError::UnknownCommand(name.to_string()))?;
        tracing::debug!(
            "session {}: command {} ({track})",
            service.id,
            command.name()
        );
        if self.link.send(Cmd::Invoke {
            id: service.id,
            track: track.to_string(),
            command,
            string_param: string_param.to_string(),
            params,
        }) {
            Ok(())
        } else {
            Err(InvokeError::Stopped)
        }
    }

    /// Acts on a work item (a call) as Siebel asks; an unknown tracking id is refused at once.
    pub fn work_item(
        &self,
        service: &Service,
        tracking: &str,
        op: WorkItemOp,
    ) -> Result<(), InvokeError> {
        let known = service
            .work_items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(tracking);
        if !known {
            return Err(InvokeError::UnknownWorkItem(tracking.to_string()));
        }
        if self.link.send(Cmd::WorkItem {
            id: service.id,
            tracking: tracking.to_string(),
            op,
        }) {
            Ok(())
        } else {
            Err(InvokeError::Stopped)
        }
    }

    /// Ends a session: no callback reaches its host after this returns.
    pub fn release_service(&self, service: &Service) {
        let _in_log = self.log.enter();
        service.slot.release();
        self.link.send(Cmd::Remove { id: service.id });
        tracing::info!("session {} released", service.id);
    }

    /// Stops the link thread (bounded wait) and closes the broker connection.
    pub fn shutdown(&self) {
        let _in_log = self.log.enter();
        if self.link.stop() && self.done.recv_timeout(STOP_WAIT).is_err() {
            tracing::warn!("the broker link thread did not stop within {STOP_WAIT:?}");
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Device command names, as `RequestCommandEventList` returns them.
pub fn command_names() -> Vec<&'static str> {
    Command::ALL.iter().map(|c| c.name()).collect()
}

/// Device event names, as `RequestCommandEventList` returns them.
pub fn event_names() -> Vec<&'static str> {
    commands::events::ALL.to_vec()
}

/// Writes a refused parameter to the file `Driver:LogFile` names (as well as the error
/// returned to Siebel, which only reaches the process's standard error).
fn refused_in_log_file(params: &[(String, String)], e: &ConfigError) {
    let file = params.iter().find_map(|(k, v)| {
        let k = k.strip_prefix("Driver:").unwrap_or(k);
        (k.eq_ignore_ascii_case("LogFile") && !v.trim().is_empty()).then(|| v.trim())
    });
    if let Some(file) = file {
        let message = format!("driver instance not created: {e}");
        if !logging::write_error_to(std::path::Path::new(file), &message) {
            eprintln!("siebel-cti: cannot write to Driver:LogFile {file}: {message}");
        }
    }
}

/// The instance's settings as one readable line (secrets never shown).
fn log_start(c: &DriverConfig) {
    let brokers: Vec<String> = c.brokers.iter().map(|b| b.to_string()).collect();
    tracing::info!(
        client_id = %c.client_id,
        brokers = %brokers.join(","),
        tls = c.broker_ca_file.is_some(),
        login = %if c.broker_login.is_empty() { "-" } else { &c.broker_login },
        deployment = ?c.deployment,
        log_level = ?c.log_level,
        max_log_kb = c.log_max_kb,
        log_keep_files = c.log_keep,
        secure_password = c.secure.is_some(),
        "driver instance created"
    );
}

/// A value unique to this driver instance: the process, the time, a counter.
fn instance_nonce() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}-{t:x}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_parameter_is_written_to_the_log_file_it_names() {
        let dir = logging::temp_dir("refused");
        let file = dir.join("driver.log");
        let params = vec![
            ("Driver:LogFile".to_string(), file.display().to_string()),
            ("Driver:LogLevel".to_string(), "loud".to_string()),
        ];
        let e = Driver::create(&params, "ENU").err().expect("refused");
        assert!(matches!(e, CreateError::Config(_)));
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("ERROR"), "{text}");
        assert!(text.contains("LogLevel") && text.contains("loud"), "{text}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
