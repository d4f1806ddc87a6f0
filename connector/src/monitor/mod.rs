//! The monitor console: a live page of the connector (agents, calls, driver instances,
//! Finesse nodes, connector peers, recent events) fed by server-sent events, `/health` for
//! load balancers and scripts, `/metrics` for Prometheus; over HTTP, or HTTPS when
//! `monitor.tls_cert`/`monitor.tls_key` are set.
//!
//! Jobs by file: `routes` (who may read what, and the answers), `document` (the JSON
//! document of the connector's state), `events` (the server-sent event streams), `tls` (the
//! HTTPS front), `page.html`/`console.js`/`console.css` (the page).

mod document;
mod events;
mod routes;
mod tls;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::service::Shared;

/// The subscription to the status topic of `request_queue`: what the console lists of the
/// other connectors (their status) and of the driver instances (their announces).
pub(crate) fn status_subscription(request_queue: &str) -> driver::stomp::Frame {
    driver::stomp::Frame::new("SUBSCRIBE")
        .header("id", "status")
        .header(
            "destination",
            &driver::protocol::status_topic(request_queue),
        )
        .header("ack", "auto")
}

/// Why the console did not start.
#[derive(Debug)]
pub enum MonitorError {
    /// The address cannot be listened on.
    Listen {
        /// `monitor.listen`.
        addr: String,
        /// The server's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The listener is not an IP socket.
    NotIp,
    /// The console thread could not be started.
    Thread(std::io::Error),
    /// `monitor.user` / `monitor.password_hash` are unusable.
    Auth(crate::console_auth::MonitorAuthError),
    /// `monitor.tls_cert` / `monitor.tls_key` are unusable.
    Tls(String),
}

impl std::fmt::Display for MonitorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MonitorError::Listen { addr, source } => write!(f, "monitor.listen {addr}: {source}"),
            MonitorError::NotIp => f.write_str("monitor: not an IP listener"),
            MonitorError::Thread(e) => write!(f, "monitor: cannot start its thread: {e}"),
            MonitorError::Auth(e) => write!(f, "monitor: {e}"),
            MonitorError::Tls(e) => write!(f, "monitor TLS: {e}"),
        }
    }
}

impl std::error::Error for MonitorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MonitorError::Listen { source, .. } => Some(source.as_ref()),
            MonitorError::Auth(e) => Some(e),
            MonitorError::NotIp | MonitorError::Tls(_) => None,
            MonitorError::Thread(e) => Some(e),
        }
    }
}

/// The running console.
pub struct Monitor {
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    tls: Option<tls::Front>,
}

impl Monitor {
    /// Listens on the configured address and serves until stopped.
    pub(crate) fn start(shared: Arc<Shared>) -> Result<Monitor, MonitorError> {
        let m = &shared.cfg.monitor;
        // Checked by the configuration already; an error here leaves the console closed.
        let auth = m.auth().map_err(MonitorError::Auth)?;
        let tls_config = tls::server_config(m).map_err(MonitorError::Tls)?;
        // With HTTPS the HTTP server listens on loopback only, behind the TLS front.
        let http_addr = if tls_config.is_some() {
            "127.0.0.1:0"
        } else {
            m.listen.as_str()
        };
        let server = tiny_http::Server::http(http_addr).map_err(|source| MonitorError::Listen {
            addr: m.listen.clone(),
            source,
        })?;
        let inner = server.server_addr().to_ip().ok_or(MonitorError::NotIp)?;
        let tls = match tls_config {
            Some(config) => Some(tls::Front::start(&m.listen, inner, config).map_err(
                |source| MonitorError::Listen {
                    addr: m.listen.clone(),
                    source: Box::new(source),
                },
            )?),
            None => None,
        };
        let addr = tls.as_ref().map_or(inner, tls::Front::addr);
        let server = Arc::new(server);
        let stopping = Arc::new(AtomicBool::new(false));
        let router = routes::Router {
            shared: shared.clone(),
            auth,
            streams: events::Streams::new(stopping.clone()),
        };
        let s2 = server.clone();
        let thread = std::thread::Builder::new()
            .name("connector-monitor".into())
            .spawn(move || {
                for req in s2.incoming_requests() {
                    router.serve(req);
                }
            })
            .map_err(MonitorError::Thread)?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!("monitor console on {scheme}://{addr}/");
        Ok(Monitor {
            server,
            thread: Some(thread),
            addr,
            stopping,
            tls,
        })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the console (and ends its event streams).
    pub fn stop(mut self) {
        self.stopping.store(true, Ordering::Release);
        if let Some(t) = self.tls.take() {
            t.stop();
        }
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
