//! finesse-sim: a Cisco Finesse simulator for tests and demos.
//!
//! It serves Finesse's REST API (`/finesse/api/...`: User, Dialogs, Dialog, ReasonCodes,
//! WrapUpReasons, SystemInfo) with UCCE or UCCX rules, and publishes Finesse-style `<Update>`
//! notifications through a real XMPP server (Prosody, see `scripts/prosody.sh`) to the pubsub
//! nodes `/finesse/api/User/{id}` and `/finesse/api/User/{id}/Dialogs`, to which it subscribes
//! each agent itself. An admin API (`/admin/...`, JSON) places calls and injects failures.
//!
//! The simulator is an independent oracle for the connector, so it keeps its own XML tree and
//! writer (`xml`), its own XMPP client (`xmpp`) and its own model of agents and dialogs
//! (`state`), on purpose: code shared with the connector (`connector/src/xml.rs`,
//! `connector/src/xmpp.rs`) would let one misreading of Cisco's formats make both sides agree
//! and every test pass. It depends on no crate of the driver or the connector.

pub mod admin;
pub mod config;
pub mod https;
pub mod notify;
pub mod presence;
pub mod publish_log;
pub mod render;
pub mod rest;
pub mod state;
pub mod xml;
pub mod xmpp;

use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use tracing::{debug, info, warn};

pub use config::{AgentConfig, Deployment, ReasonCode, SimConfig, WrapUpReason};

use notify::Notifier;
use state::Sim;

const HTTP_THREADS: usize = 4;
const MAX_BODY: u64 = 1 << 20;

/// State shared by the HTTP threads.
pub struct Shared {
    sim: Mutex<Sim>,
    notifier: Notifier,
    host: String,
}

impl Shared {
    /// Locks the simulated state (a poisoned lock is still usable: the state stays consistent
    /// because every change is computed before it is stored).
    pub fn lock(&self) -> MutexGuard<'_, Sim> {
        self.sim.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// An HTTP answer.
pub struct Reply {
    status: u16,
    content_type: &'static str,
    body: String,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// An XML answer (`application/xml`).
    pub fn xml(status: u16, body: String) -> Reply {
        Reply {
            status,
            content_type: "application/xml",
            body,
            headers: Vec::new(),
        }
    }

    /// A JSON answer.
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: body.to_string(),
            headers: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }
}

/// A running simulator: HTTP server threads plus the XMPP publisher.
pub struct FinesseSim {
    addr: SocketAddr,
    server: Arc<tiny_http::Server>,
    threads: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl FinesseSim {
    /// Registers the XMPP accounts (agents with their passwords, and the admin), creates the
    /// agents' nodes and subscribes each agent to its own, then starts the HTTP server.
    pub fn start(config: SimConfig) -> Result<FinesseSim, String> {
        config.validate()?;
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let resource = format!(
            "finesse-sim-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let notifier = Notifier::start(&config, resource)?;
        let server = match tiny_http::Server::http(config.http) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                notifier.stop();
                return Err(format!("HTTP listen on {}: {e}", config.http));
            }
        };
        let addr = match server.server_addr().to_ip() {
            Some(a) => a,
            None => {
                notifier.stop();
                return Err("HTTP server has no IP address".into());
            }
        };
        let shared = Arc::new(Shared {
            host: addr.ip().to_string(),
            sim: Mutex::new(Sim::new(config)),
            notifier,
        });
        let threads = (0..HTTP_THREADS)
            .map(|i| {
                let server = Arc::clone(&server);
                let shared = Arc::clone(&shared);
                std::thread::Builder::new()
                    .name(format!("finesse-sim-http-{i}"))
                    .spawn(move || serve(&server, &shared))
                    .map_err(|e| format!("starting HTTP thread: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        info!(%addr, "finesse-sim listening");
        Ok(FinesseSim {
            addr,
            server,
            threads,
            shared,
        })
    }

    /// The HTTP address actually bound.
    pub fn http_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`, the base for `/finesse/api/...` and `/admin/...`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the HTTP server, publishes what is still queued, and closes the XMPP connection.
    pub fn stop(self) {
        for _ in &self.threads {
            self.server.unblock();
        }
        for t in self.threads {
            let _ = t.join();
        }
        drop(self.server);
        match Arc::try_unwrap(self.shared) {
            Ok(shared) => shared.notifier.stop(),
            Err(_) => warn!(
                "HTTP threads still hold the state; XMPP publisher left to exit with the process"
            ),
        }
    }
}

fn serve(server: &tiny_http::Server, shared: &Shared) {
    while let Ok(mut request) = server.recv() {
        let method = request.method().as_str().to_string();
        let url = request.url().to_string();
        let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
        let header = |name: &str| {
            request
                .headers()
                .iter()
                .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
                .map(|h| h.value.as_str().to_string())
        };
        let authorization = header("Authorization");
        let request_id = header("requestId").unwrap_or_default();
        let mut body = String::new();
        let read = request.as_reader().take(MAX_BODY).read_to_string(&mut body);
        let reply = if read.is_err() {
            Reply::xml(
                400,
                render::api_errors(&state::ApiError::new(
                    400,
                    "Bad Request",
                    "unreadable body",
                    "body",
                )),
            )
        } else if path.starts_with("/finesse/api/") {
            let req = rest::RestRequest {
                method: &method,
                path,
                query,
                authorization: authorization.as_deref(),
                request_id: &request_id,
                body: &body,
            };
            rest::handle(shared, &req)
        } else if path.starts_with("/admin/") {
            admin::handle(shared, &method, path, &body)
        } else {
            Reply::xml(
                404,
                render::api_errors(&state::ApiError::new(
                    404,
                    "Not Found",
                    "no such resource",
                    path,
                )),
            )
        };
        debug!(%method, %path, status = reply.status, "request");
        let mut response =
            tiny_http::Response::from_string(reply.body).with_status_code(reply.status);
        let headers =
            std::iter::once(("Content-Type", reply.content_type.to_string())).chain(reply.headers);
        for (name, value) in headers {
            if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                response.add_header(h);
            }
        }
        if let Err(e) = request.respond(response) {
            debug!(error = %e, "client went away before the answer");
        }
    }
}
