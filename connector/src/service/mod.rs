//! The connector service: driver requests from ActiveMQ in, Finesse REST calls out, Finesse
//! notifications (XMPP) back to the driver instance that owns each agent.
//!
//! The logic lives in [`core`], without I/O. This module and the shell around it own the
//! threads, a fixed set whatever the number of agents: the broker link (one STOMP connection,
//! `driver::link`), the REST workers (one queue per agent, `rest_pool`), one Finesse watcher
//! (clock ticks and SystemInfo calls), one XMPP event loop carrying every agent's notification
//! session (`sessions`, `crate::xmpp::mux`), and the monitor console. Each thread feeds its
//! input to the core and carries out the core's outputs ([`Shared::feed`]).

pub mod core;
mod rest_pool;
mod sessions;
mod shell;
mod views;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use driver::clock::Now;
use driver::link::{Link, LinkSender, LinkSettings};

use self::core::{Core, CoreConfig, RestCall, Ticket};
use self::rest_pool::RestPool;
use self::sessions::Sessions;
use self::shell::{Broker, Cmd};
use crate::config::{ConfigError, ConnectorConfig};
use crate::monitor::MonitorError;
use crate::rest::{Credentials, Rest};

/// How long stopping waits for the broker link.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// A REST call for a worker (or, for SystemInfo, the watcher).
type RestJob = (Ticket, RestCall);

/// Why the connector did not start.
#[derive(Debug)]
pub enum StartError {
    /// The configuration is not usable.
    Config(ConfigError),
    /// A thread could not be started.
    Thread(std::io::Error),
    /// The broker link could not be set up.
    Broker(std::io::Error),
    /// The monitor console could not be started.
    Monitor(MonitorError),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Config(e) => e.fmt(f),
            StartError::Thread(e) => write!(f, "cannot start a thread: {e}"),
            StartError::Broker(e) => write!(f, "broker link: {e}"),
            StartError::Monitor(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Config(e) => Some(e),
            StartError::Thread(e) | StartError::Broker(e) => Some(e),
            StartError::Monitor(e) => Some(e),
        }
    }
}

impl From<ConfigError> for StartError {
    fn from(e: ConfigError) -> Self {
        StartError::Config(e)
    }
}

/// Everything the threads share.
pub(crate) struct Shared {
    pub cfg: ConnectorConfig,
    /// This process's instance id (see `Message::System`; also the XMPP resource).
    pub(crate) instance: String,
    rest: Rest,
    core: Mutex<Core>,
    pub broker_up: AtomicBool,
    stopping: AtomicBool,
    link: OnceLock<LinkSender<Cmd>>,
    /// REST calls for the workers, one queue per agent.
    rest_pool: RestPool,
    /// SystemInfo calls for the watcher (`None` once stopping).
    probe_jobs: Mutex<Option<Sender<RestJob>>>,
    /// The agents' notification sessions (their event loop).
    sessions: OnceLock<Sessions>,
    pub started: Instant,
    /// Finesse request latency, for `/metrics`.
    pub latency: crate::metrics::Latency,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// The core, for reading (the console).
    pub(crate) fn core(&self) -> MutexGuard<'_, Core> {
        lock(&self.core)
    }

    /// Feeds one input to the core and carries out its outputs. The outputs are carried out
    /// under the core's lock (each only queues work: a channel send or a thread start), so
    /// messages leave in the order the core produced them, whichever thread fed it.
    pub(crate) fn feed(self: &Arc<Self>, input: impl FnOnce(&mut Core, Now)) {
        let mut core = self.core();
        input(&mut core, Now::read());
        while let Some(out) = core.poll_output() {
            shell::execute(self, out);
        }
    }
}

/// A running connector.
pub struct Connector {
    shared: Arc<Shared>,
    link: LinkSender<Cmd>,
    link_done: Receiver<()>,
    workers: Vec<JoinHandle<()>>,
    /// The notification sessions' event loop.
    xmpp: Option<JoinHandle<()>>,
    watcher: Option<JoinHandle<()>>,
    monitor: Option<crate::monitor::Monitor>,
}

impl Connector {
    /// Starts the connector: broker link, workers, Finesse watcher and monitor console.
    pub fn start(cfg: ConnectorConfig) -> Result<Connector, StartError> {
        cfg.validate()?;
        let des = cfg.triple_des()?;
        // A bad XMPP transport setting is a start error, not a retry per agent.
        cfg.finesse.xmpp_tls("localhost")?;
        let started_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let instance = format!("{}-{}-{started_ms}", cfg.connector.name, std::process::id());
        let f = &cfg.finesse;
        let core = Core::new(
            CoreConfig {
                name: cfg.connector.name.clone(),
                instance: instance.clone(),
                nodes: cfg.nodes(),
                admin: (!f.admin_user.is_empty()).then(|| Credentials {
                    user: f.admin_user.clone(),
                    password: f.admin_password.clone(),
                }),
                des,
                poll_every: Duration::from_millis(f.poll_ms),
                exclusive: cfg.broker.exclusive,
                heartbeat_every: Duration::from_millis(cfg.connector.heartbeat_ms),
                request_queue: cfg.broker.request_queue.clone(),
            },
            Now::read(),
        );
        let (probe_tx, probe_rx) = crossbeam_channel::unbounded::<RestJob>();
        let shared = Arc::new(Shared {
            instance,
            rest: Rest::new(
                Duration::from_millis(cfg.finesse.request_timeout_ms),
                cfg.finesse.tls_settings()?.as_ref(),
            ),
            core: Mutex::new(core),
            broker_up: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            link: OnceLock::new(),
            rest_pool: RestPool::new(),
            probe_jobs: Mutex::new(Some(probe_tx)),
            sessions: OnceLock::new(),
            started: Instant::now(),
            latency: crate::metrics::Latency::default(),
            cfg,
        });
        crate::log_config::log_start(&shared.cfg);
        let (sessions, xmpp) =
            Sessions::start(Arc::downgrade(&shared)).map_err(StartError::Thread)?;
        let _ = shared.sessions.set(sessions);
        // Know Finesse's status before the first driver asks.
        shared.feed(|c, now| c.tick(now));
        shell::run_probes_now(&shared, &probe_rx);

        let mut workers = Vec::new();
        let s = shared.clone();
        let run: Arc<dyn Fn(RestJob) + Send + Sync> = Arc::new(move |job| shell::run_job(&s, job));
        if let Err(e) =
            shared
                .rest_pool
                .spawn_workers(shared.cfg.connector.workers, run, &mut workers)
        {
            shared.rest_pool.close();
            for w in workers {
                let _ = w.join();
            }
            return Err(StartError::Thread(e));
        }

        let b = &shared.cfg.broker;
        let (link, sender) = Link::new(LinkSettings {
            brokers: b.addresses()?,
            login: b.login.clone(),
            passcode: b.password.clone(),
            heartbeat: Duration::from_millis(b.heartbeat_ms),
            connect_timeout: Duration::from_secs(2),
            reconnect_min: Duration::from_millis(200),
            // A broker that is back is seen within a second (docs/connector.md).
            reconnect_max: Duration::from_secs(1),
            tls: b.tls_settings()?,
        })
        .map_err(StartError::Broker)?;
        let _ = shared.link.set(sender.clone());
        let (done_tx, link_done) = crossbeam_channel::bounded(1);
        let mut handler = Broker::new(shared.clone());
        std::thread::Builder::new()
            .name("connector-link".into())
            .spawn(move || {
                link.run(&mut handler);
                let _ = done_tx.send(());
            })
            .map_err(StartError::Thread)?;

        let s = shared.clone();
        let watcher = std::thread::Builder::new()
            .name("connector-finesse".into())
            .spawn(move || shell::watch(&s, &probe_rx))
            .map_err(StartError::Thread)?;

        let mut connector = Connector {
            shared,
            link: sender,
            link_done,
            workers,
            xmpp: Some(xmpp),
            watcher: Some(watcher),
            monitor: None,
        };
        // From here a failure stops what started (`Drop`).
        if !connector.shared.cfg.monitor.listen.is_empty() {
            let m = crate::monitor::Monitor::start(connector.shared.clone())
                .map_err(StartError::Monitor)?;
            connector.monitor = Some(m);
        }
        Ok(connector)
    }

    /// Where the monitor console listens.
    pub fn monitor_addr(&self) -> Option<SocketAddr> {
        self.monitor.as_ref().map(|m| m.addr())
    }

    /// Stops: tells the drivers it is going out of service, then ends every thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let s = &self.shared;
        if s.stopping.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::info!("connector stopping");
        if let Some(x) = s.sessions.get() {
            x.shutdown();
        }
        s.feed(|c, _| c.stop());
        if let Some(x) = self.xmpp.take() {
            let _ = x.join();
        }
        // Stop the link first (it flushes the status broadcast), then the workers and the
        // watcher see their queues close.
        if self.link.stop() && self.link_done.recv_timeout(STOP_WAIT).is_err() {
            tracing::warn!("the broker link did not stop in time");
        }
        s.rest_pool.close();
        lock(&s.probe_jobs).take();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        if let Some(w) = self.watcher.take() {
            let _ = w.join();
        }
        if let Some(m) = self.monitor.take() {
            m.stop();
        }
    }
}

impl Drop for Connector {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_configuration_is_a_start_error_with_its_cause() {
        let mut cfg = ConnectorConfig::default();
        cfg.finesse.primary = "ftp://x".into();
        let e = Connector::start(cfg).err().expect("refused");
        assert!(matches!(e, StartError::Config(ConfigError::Value { .. })));
        assert!(e.to_string().contains("finesse.primary"), "{e}");
        assert!(std::error::Error::source(&e).is_some());
    }
}
