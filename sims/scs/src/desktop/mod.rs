//! The agent desktop: scs-sim's toolbar, work items, screen pops, dashboard, activities and
//! SCAPI log as a live web page, one per agent session (`/agent/{id}/`), updated by
//! server-sent events. A click presses the button through [`Agent::press`], exactly as the
//! command line does. Optionally a "phone network" panel places calls through finesse-sim's
//! admin API (see [`phone`]).
//!
//! Routes: `GET /` (the agents), `GET /agent/{id}/` (the page), `GET /api/agents`,
//! `GET /api/agent/{id}/view` (the view model, JSON), `GET /api/agent/{id}/events` (the view
//! model on every change, server-sent events), `POST /api/agent/{id}/press`
//! `{"command", "text"}` (with `"row"`: the row picked in the command's picker), `POST /api/agent/{id}/text` `{"text"}`, `POST
//! /api/agent/{id}/workitem` `{"tracking"}`, `POST /api/agent/{id}/phone` `{"action", ...}`.

pub mod phone;
pub mod view;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::client::Client;
use crate::server::{Agent, SimError};
use view::LogLine;

const PAGE: &str = include_str!("assets/desktop.html");
const STYLE: &str = include_str!("assets/desktop.css");
const SCRIPT: &str = include_str!("assets/desktop.js");

/// Worker threads answering ordinary requests.
const WORKERS: usize = 4;
/// Event streams open at once (more are refused with 503).
pub const MAX_STREAMS: usize = 16;
/// Largest request body accepted.
const MAX_BODY: u64 = 16 * 1024;
/// An event stream sends a comment this often when nothing changes (and so notices a
/// closed page).
const KEEPALIVE: Duration = Duration::from_secs(15);
/// How often an event stream looks for the desktop's own changes (the text box, the log
/// pane: no callback announces them) and whether the desktop stops.
const POLL: Duration = Duration::from_millis(100);
/// Callbacks come in bursts (a toolbar after each event): a stream waits this long after
/// the first one before sending the view.
const SETTLE: Duration = Duration::from_millis(40);
/// Lines of the desktop's own log kept per session.
const MAX_LOG: usize = 500;

/// One agent session on the desktop.
pub struct Session {
    id: String,
    agent: Mutex<Agent>,
    client: Arc<Client>,
    log: Mutex<Vec<LogLine>>,
    views: AtomicU64,
    /// Counts the desktop's own changes (text box, log lines), for the event streams.
    changes: AtomicU64,
}

impl Session {
    /// The agent id (the page is `/agent/{id}/`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The session's agent (locked: the desktop and the caller take turns).
    pub fn agent(&self) -> MutexGuard<'_, Agent> {
        self.agent.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a line to the log pane (what Siebel did: presses, selections).
    pub fn note(&self, text: String) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= MAX_LOG {
            log.remove(0);
        }
        log.push(LogLine {
            at: Instant::now(),
            text,
        });
        drop(log);
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    /// Puts text in the toolbar's text box (`{@SelectedText}`), as typing on the page does;
    /// every open page of the agent shows it.
    pub fn set_text(&self, text: &str) {
        self.agent().set_text(text);
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    /// Presses a button with this text in the toolbar's text box, as a click on the page
    /// does; the presses are logged.
    pub fn press(&self, command: &str, text: &str) -> Result<Vec<crate::Invoked>, SimError> {
        let mut agent = self.agent();
        agent.set_text(text);
        let result = agent.press(command);
        drop(agent);
        match &result {
            Ok(invoked) => {
                for i in invoked {
                    let via = if i.command == i.pressed {
                        String::new()
                    } else {
                        format!(" (button {}: sub-command {})", i.pressed, i.command)
                    };
                    self.note(format!(
                        "InvokeCommand {} [{}] -> {}{via}",
                        i.device_command, i.tracking, i.result
                    ));
                }
            }
            Err(e) => self.note(format!("press {command}: {e}")),
        }
        result
    }

    /// Presses a button whose command opens a picker and answers it with row `row`, as a
    /// click in the page's picker dialog does; logged like a press.
    pub fn press_picked(&self, command: &str, row: usize) -> Result<Vec<crate::Invoked>, SimError> {
        let result = self.agent().press_picked(command, row);
        match &result {
            Ok(invoked) => {
                for i in invoked {
                    self.note(format!(
                        "InvokeCommand {} [{}] -> {} (picker row {})",
                        i.device_command,
                        i.tracking,
                        i.result,
                        row + 1
                    ));
                }
            }
            Err(e) => self.note(format!("press {command}: {e}")),
        }
        result
    }

    /// The view model now, numbered (`seq`): views are computed one at a time, so a page that
    /// got a higher number (from the event stream) ignores a lower one (a slower POST answer).
    pub fn view(&self) -> Value {
        let agent = self.agent();
        // Read under the agent's lock: a higher number never carries an older log.
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let seq = self.views.fetch_add(1, Ordering::AcqRel) + 1;
        let mut v = view::view(&agent, &log, Instant::now());
        v["seq"] = json!(seq);
        v
    }
}

struct Shared {
    sessions: Mutex<Vec<Arc<Session>>>,
    phone: Option<phone::Phone>,
    streams: AtomicUsize,
    stopping: AtomicBool,
}

impl Shared {
    fn session(&self, id: &str) -> Option<Arc<Session>> {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|s| s.id == id)
            .cloned()
    }
}

/// The running desktop server.
pub struct Desktop {
    server: Arc<tiny_http::Server>,
    shared: Arc<Shared>,
    addr: SocketAddr,
    workers: Vec<JoinHandle<()>>,
}

impl Desktop {
    /// Listens on `listen` (e.g. `127.0.0.1:8091`, port 0 for any); `finesse_admin`, the base
    /// URL of finesse-sim (e.g. `http://127.0.0.1:8082`), enables the phone network panel.
    pub fn start(listen: &str, finesse_admin: Option<String>) -> Result<Desktop, SimError> {
        let server = tiny_http::Server::http(listen)
            .map_err(|e| SimError(format!("desktop: cannot listen on {listen}: {e}")))?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| SimError("desktop: not an IP listener".into()))?;
        let server = Arc::new(server);
        let shared = Arc::new(Shared {
            sessions: Mutex::new(Vec::new()),
            phone: finesse_admin.map(phone::Phone::new),
            streams: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
        });
        let mut workers = Vec::new();
        for n in 0..WORKERS {
            let (server, shared) = (server.clone(), shared.clone());
            let t = std::thread::Builder::new()
                .name(format!("desktop-{n}"))
                .spawn(move || {
                    while let Ok(req) = server.recv() {
                        serve(&shared, req);
                    }
                })
                .map_err(|e| SimError(format!("desktop: cannot start a thread: {e}")))?;
            workers.push(t);
        }
        Ok(Desktop {
            server,
            shared,
            addr,
            workers,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page of an agent.
    pub fn agent_url(&self, id: &str) -> String {
        format!("http://{}/agent/{id}/", self.addr)
    }

    /// Puts an agent session on the desktop (its page is `/agent/{agent id}/`).
    pub fn add(&self, agent: Agent) -> Arc<Session> {
        let id = agent.login().agent_id.clone();
        let session = Arc::new(Session {
            id,
            client: agent.client.clone(),
            agent: Mutex::new(agent),
            log: Mutex::new(Vec::new()),
            views: AtomicU64::new(0),
            changes: AtomicU64::new(0),
        });
        self.shared
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(session.clone());
        session
    }

    /// Stops serving (open event streams end within a second).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stopping.store(true, Ordering::Release);
        for _ in 0..self.workers.len() {
            self.server.unblock();
        }
        for t in self.workers.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
        .expect("static header names and values are valid")
}

fn respond(req: tiny_http::Request, status: u16, content_type: &str, body: String) {
    let resp = tiny_http::Response::from_string(body)
        .with_status_code(status)
        .with_header(header("Content-Type", content_type))
        .with_header(header("Cache-Control", "no-store"));
    let _ = req.respond(resp);
}

fn respond_json(req: tiny_http::Request, status: u16, body: Value) {
    respond(req, status, "application/json", body.to_string());
}

fn read_json(req: &mut tiny_http::Request) -> Result<Value, String> {
    let mut body = String::new();
    req.as_reader()
        .take(MAX_BODY + 1)
        .read_to_string(&mut body)
        .map_err(|e| format!("unreadable body: {e}"))?;
    if body.len() as u64 > MAX_BODY {
        return Err("body too large".into());
    }
    serde_json::from_str(&body).map_err(|e| format!("body is not JSON: {e}"))
}

fn text_of<'a>(body: &'a Value, key: &str) -> &'a str {
    body.get(key).and_then(Value::as_str).unwrap_or("")
}

fn serve(shared: &Arc<Shared>, mut req: tiny_http::Request) {
    let url = req.url().split('?').next().unwrap_or("").to_string();
    let get = *req.method() == tiny_http::Method::Get;
    let post = *req.method() == tiny_http::Method::Post;
    let parts: Vec<&str> = url.trim_matches('/').split('/').collect();
    match (get, post, parts.as_slice()) {
        (true, _, [""]) | (true, _, ["agent", _]) => {
            respond(req, 200, "text/html; charset=utf-8", PAGE.into())
        }
        (true, _, ["desktop.css"]) => respond(req, 200, "text/css", STYLE.into()),
        (true, _, ["desktop.js"]) => respond(req, 200, "text/javascript", SCRIPT.into()),
        (true, _, ["api", "agents"]) => {
            let ids: Vec<Value> = shared
                .sessions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|s| json!({"id": s.id, "url": format!("/agent/{}/", s.id)}))
                .collect();
            respond_json(req, 200, json!(ids))
        }
        (_, _, ["api", "agent", id, action]) => {
            let Some(session) = shared.session(id) else {
                return respond_json(req, 404, json!({"error": format!("no agent {id}")}));
            };
            match (get, post, *action) {
                (true, _, "view") => {
                    let mut v = session.view();
                    v["phone"] = json!(shared.phone.is_some());
                    respond_json(req, 200, v)
                }
                (true, _, "events") => stream(shared.clone(), session, req),
                (_, true, _) => {
                    let body = match read_json(&mut req) {
                        Ok(b) => b,
                        Err(e) => return respond_json(req, 400, json!({"error": e})),
                    };
                    let (status, mut answer) = act(shared, &session, action, &body);
                    let mut v = session.view();
                    v["phone"] = json!(shared.phone.is_some());
                    answer["view"] = v;
                    respond_json(req, status, answer)
                }
                _ => respond_json(req, 405, json!({"error": "method not allowed"})),
            }
        }
        _ => respond(req, 404, "text/plain", "not found\n".into()),
    }
}

/// A POST on an agent: a press, the text box, a work-item selection, the phone network.
fn act(shared: &Shared, session: &Session, action: &str, body: &Value) -> (u16, Value) {
    match action {
        "press" => match match body.get("row").and_then(Value::as_u64) {
            Some(row) => session.press_picked(text_of(body, "command"), row as usize),
            None => session.press(text_of(body, "command"), text_of(body, "text")),
        } {
            Ok(invoked) => (
                200,
                json!({"ok": invoked.iter().all(|i| i.result == 0),
                       "invoked": invoked.iter().map(|i| json!({"command": i.command,
                           "deviceCommand": i.device_command, "result": i.result,
                           "tracking": i.tracking})).collect::<Vec<_>>()}),
            ),
            Err(e) => (200, json!({"ok": false, "error": e.0})),
        },
        "text" => {
            session.set_text(text_of(body, "text"));
            (200, json!({"ok": true}))
        }
        "workitem" => {
            let tracking = text_of(body, "tracking");
            let rc = session.agent().resume_work_item(tracking);
            session.note(format!("ResumeWorkItem [{tracking}] -> {rc}"));
            (200, json!({"ok": rc == 0, "result": rc}))
        }
        "phone" => match &shared.phone {
            None => (404, json!({"error": "no finesse-sim admin API configured"})),
            Some(p) => match p.act(session.id(), body) {
                Ok(v) => {
                    session.note(format!("phone network: {v}"));
                    (200, json!({"ok": true, "answer": v}))
                }
                Err(e) => (200, json!({"ok": false, "error": e})),
            },
        },
        other => (404, json!({"error": format!("no action {other}")})),
    }
}

/// Streams the view of a session as server-sent events: once at once, then after every
/// burst of callbacks and every change made through the desktop (seen within [`POLL`]); a
/// comment every [`KEEPALIVE`] otherwise.
fn stream(shared: Arc<Shared>, session: Arc<Session>, req: tiny_http::Request) {
    if shared.streams.fetch_add(1, Ordering::AcqRel) >= MAX_STREAMS {
        shared.streams.fetch_sub(1, Ordering::AcqRel);
        return respond_json(req, 503, json!({"error": "too many event streams"}));
    }
    let spawned = std::thread::Builder::new()
        .name("desktop-stream".into())
        .spawn({
            let shared = shared.clone();
            move || {
                let mut w = req.into_writer();
                let _ = send_events(&shared, &session, &mut w);
                shared.streams.fetch_sub(1, Ordering::AcqRel);
            }
        });
    if spawned.is_err() {
        shared.streams.fetch_sub(1, Ordering::AcqRel);
    }
}

fn send_events(shared: &Shared, session: &Session, w: &mut dyn Write) -> std::io::Result<()> {
    w.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n\
          Connection: close\r\n\r\nretry: 1000\n\n",
    )?;
    loop {
        let mark = session.client.mark();
        let changes = session.changes.load(Ordering::Acquire);
        let mut v = session.view();
        v["phone"] = json!(shared.phone.is_some());
        write!(w, "data: {v}\n\n")?;
        w.flush()?;
        let mut quiet = Instant::now();
        loop {
            if shared.stopping.load(Ordering::Acquire) {
                return Ok(());
            }
            if session.client.wait_for(mark, POLL, |_| true).is_some() {
                std::thread::sleep(SETTLE);
                break;
            }
            if session.changes.load(Ordering::Acquire) != changes {
                break;
            }
            if quiet.elapsed() >= KEEPALIVE {
                w.write_all(b": keepalive\n\n")?;
                w.flush()?;
                quiet = Instant::now();
            }
        }
    }
}
