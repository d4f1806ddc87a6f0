//! The monitor console: an HTML page of the connector's links and agents, and a JSON health
//! endpoint for scripts (`GET /health`).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::service::Shared;

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
    Auth(String),
}

impl std::fmt::Display for MonitorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MonitorError::Listen { addr, source } => write!(f, "monitor.listen {addr}: {source}"),
            MonitorError::NotIp => f.write_str("monitor: not an IP listener"),
            MonitorError::Thread(e) => write!(f, "monitor: cannot start its thread: {e}"),
            MonitorError::Auth(e) => write!(f, "monitor: {e}"),
        }
    }
}

impl std::error::Error for MonitorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MonitorError::Listen { source, .. } => Some(source.as_ref()),
            MonitorError::NotIp | MonitorError::Auth(_) => None,
            MonitorError::Thread(e) => Some(e),
        }
    }
}

/// The running console.
pub struct Monitor {
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
    addr: SocketAddr,
}

impl Monitor {
    /// Listens on the configured address and serves until stopped.
    pub(crate) fn start(shared: Arc<Shared>) -> Result<Monitor, MonitorError> {
        let server = tiny_http::Server::http(&shared.cfg.monitor.listen).map_err(|source| {
            MonitorError::Listen {
                addr: shared.cfg.monitor.listen.clone(),
                source,
            }
        })?;
        let addr = server.server_addr().to_ip().ok_or(MonitorError::NotIp)?;
        let server = Arc::new(server);
        let s2 = server.clone();
        // Checked by the configuration already; an error here leaves the console closed.
        let auth = shared
            .cfg
            .monitor
            .auth()
            .map_err(|e| MonitorError::Auth(e.to_string()))?;
        let thread = std::thread::Builder::new()
            .name("connector-monitor".into())
            .spawn(move || {
                for req in s2.incoming_requests() {
                    let admitted = auth.as_ref().is_none_or(|a| {
                        let h = req
                            .headers()
                            .iter()
                            .find(|h| h.field.equiv("Authorization"));
                        a.admits(h.map(|h| h.value.as_str()))
                    });
                    let (body, ctype, code) = match req.url() {
                        "/health" if admitted => {
                            (health(&shared).to_string(), "application/json", 200)
                        }
                        "/health" => (summary(&shared).to_string(), "application/json", 200),
                        _ if !admitted => {
                            tracing::warn!(
                                "monitor: refused {} {} from {:?}: no valid credentials",
                                req.method(),
                                req.url(),
                                req.remote_addr()
                            );
                            ("authentication required".to_string(), "text/plain", 401)
                        }
                        "/" | "/index.html" => (page(&shared), "text/html; charset=utf-8", 200),
                        _ => ("not found".to_string(), "text/plain", 404),
                    };
                    let header = tiny_http::Header::from_bytes("Content-Type", ctype)
                        .expect("static header is valid");
                    let mut resp = tiny_http::Response::from_string(body)
                        .with_status_code(code)
                        .with_header(header);
                    if code == 401 {
                        resp.add_header(
                            tiny_http::Header::from_bytes(
                                "WWW-Authenticate",
                                "Basic realm=\"siebel-cti connector\"",
                            )
                            .expect("static header is valid"),
                        );
                    }
                    let _ = req.respond(resp);
                }
            })
            .map_err(MonitorError::Thread)?;
        tracing::info!("monitor console on http://{addr}/");
        Ok(Monitor {
            server,
            thread: Some(thread),
            addr,
        })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the console.
    pub fn stop(mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The health document without credentials: up or not, no agent data.
pub(crate) fn summary(s: &Shared) -> serde_json::Value {
    let full = health(s);
    serde_json::json!({
        "connector": full["connector"],
        "status": full["status"],
        "serving": full["serving"],
    })
}

/// The health document.
pub(crate) fn health(s: &Shared) -> serde_json::Value {
    let broker = s.broker_up.load(Ordering::Acquire);
    let (f, agents, calls, serving) = {
        let core = s.core();
        let serving = core.serving();
        (
            core.finesse_status(),
            core.agent_views(),
            core.call_views(),
            serving,
        )
    };
    let (finesse_up, node, detail, drivers) = (f.in_service, f.node, f.detail, f.drivers);
    serde_json::json!({
        "connector": s.cfg.connector.name,
        "status": if broker && finesse_up { "IN_SERVICE" } else { "OUT_OF_SERVICE" },
        "uptimeSeconds": s.started.elapsed().as_secs(),
        "instance": s.instance,
        // Active-passive: whether this connector holds the request queue (a standby: false).
        "serving": serving,
        "broker": {
            "address": s.cfg.broker.address_list(),
            "up": broker,
        },
        "finesse": { "node": node, "inService": finesse_up, "detail": detail },
        "drivers": drivers,
        "agents": agents,
        "calls": calls,
    })
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(s: &Shared) -> String {
    let h = health(s);
    let yes = |b: bool| if b { "up" } else { "DOWN" };
    let mut rows = String::new();
    let agents = s.core().agent_views();
    for a in agents {
        rows.push_str(&format!(
            "<tr><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&a.id),
            esc(&a.state),
            esc(&a.state),
            esc(&a.reason),
            esc(&a.extension),
            if a.notifications { "connected" } else { "down" },
            esc(&a.driver)
        ));
    }
    if rows.is_empty() {
        rows.push_str("<tr><td colspan=\"6\">no agents yet</td></tr>");
    }
    let mut calls = String::new();
    let call_views = s.core().call_views();
    for c in call_views {
        calls.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.agent),
            esc(&c.id),
            esc(&c.state),
            esc(&c.from),
            esc(&c.to),
            esc(&c.call_type)
        ));
    }
    if calls.is_empty() {
        calls.push_str("<tr><td colspan=\"6\">no calls</td></tr>");
    }
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"2\">\
<title>Siebel CTI connector {name}</title><style>body{{font-family:sans-serif;margin:2em}}\
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 10px;text-align:left}}\
.READY{{color:#080}}.NOT_READY{{color:#a60}}.LOGOUT{{color:#888}}.DOWN{{color:#c00}}</style></head><body>\
<h1>Connector {name}: {status}{standby}</h1>\
<p>Broker {broker}: <b class=\"{bk}\">{bk}</b> &middot; Finesse {node}: <b class=\"{fk}\">{fk}</b> ({detail}) &middot; \
{drivers} driver instance(s) seen &middot; up {uptime} s</p>\
<h2>Agents</h2><table><tr><th>agent</th><th>state</th><th>reason</th><th>extension</th><th>notifications</th><th>driver queue</th></tr>{rows}</table>\
<h2>Calls</h2><table><tr><th>agent</th><th>dialog</th><th>state</th><th>from</th><th>to</th><th>type</th></tr>{calls}</table></body></html>",
        name = esc(&s.cfg.connector.name),
        status = h["status"].as_str().unwrap_or_default(),
        standby = if h["serving"] == false {
            " (standby: another connector holds the request queue)"
        } else {
            ""
        },
        broker = esc(h["broker"]["address"].as_str().unwrap_or_default()),
        bk = yes(h["broker"]["up"].as_bool().unwrap_or(false)),
        node = esc(h["finesse"]["node"].as_str().unwrap_or_default()),
        fk = yes(h["finesse"]["inService"].as_bool().unwrap_or(false)),
        detail = esc(h["finesse"]["detail"].as_str().unwrap_or_default()),
        drivers = h["drivers"],
        uptime = h["uptimeSeconds"],
    )
}
