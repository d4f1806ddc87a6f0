//! The connector service: driver requests from ActiveMQ in, Finesse REST calls out, Finesse
//! notifications (XMPP) back to the driver instance that owns each agent.
//!
//! Threads: the broker link (one STOMP connection, `driver::link`), worker threads for REST
//! calls (requests of one agent always go to the same worker, so they stay in order), one
//! Finesse watcher (SystemInfo polling and node failover), one XMPP thread per agent with a
//! Finesse session, and the monitor console.

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use driver::clock::Now;
use driver::link::{Link, LinkHandler, LinkSender, LinkSettings, Outbox};
use driver::protocol::{
    status_topic, AgentInfo, AgentState, CallAction, DecodeError, Envelope, Message, SystemStatus,
};
use driver::stomp::Frame;

use crate::config::ConnectorConfig;
use crate::rest::{Credentials, DialogAction, Rest, RestError, StateChange};
use crate::xml::{self, SystemInfo, Update};
use crate::xmpp::{self, XmppConn, XmppError};

/// How long stopping waits for each thread.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// Commands for the link thread.
pub(crate) enum Cmd {
    /// Send a message to a driver queue.
    Send { to: String, env: Envelope },
    /// Publish on the status topic.
    Broadcast(Envelope),
}

/// A request to serve.
struct Job {
    reply_to: String,
    env: Envelope,
}

/// What the connector knows of one agent.
#[derive(Default)]
pub(crate) struct AgentEntry {
    /// The driver queue the agent's events go to.
    pub reply_to: Option<String>,
    /// The agent's Finesse credentials (from Login or Connect).
    pub creds: Option<Credentials>,
    /// Finesse accepted these credentials (a login or a read succeeded with them); only
    /// then is a refused notification login worth telling the agent.
    pub verified: bool,
    /// Last known state.
    pub info: Option<AgentInfo>,
    /// The agent's notification session.
    xmpp: Option<XmppSession>,
    /// Whether the notification session is logged in now.
    pub notifications_up: Arc<AtomicBool>,
    /// The agent's calls, by dialog id.
    pub calls: std::collections::BTreeMap<String, driver::protocol::DialogInfo>,
}

struct XmppSession {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// State shared by the connector's threads.
pub(crate) struct State {
    /// Index of the Finesse node in use.
    pub active: usize,
    /// Whether that node is in service.
    pub finesse_up: bool,
    /// Human detail of the Finesse status.
    pub detail: String,
    /// Last SystemInfo of the node in use.
    pub system: SystemInfo,
    /// Agents by id.
    pub agents: HashMap<String, AgentEntry>,
    /// Driver instances that said Hello (reply queue -> when).
    pub drivers: HashMap<String, Instant>,
}

/// Everything the threads share.
pub(crate) struct Shared {
    pub cfg: ConnectorConfig,
    /// This process's instance id (see `Message::System`).
    instance: String,
    des: Option<driver::secure::TripleDes>,
    pub nodes: Vec<String>,
    rest: Rest,
    state: Mutex<State>,
    pub broker_up: AtomicBool,
    stopping: AtomicBool,
    seq: AtomicU64,
    link: OnceLock<LinkSender<Cmd>>,
    pub started: Instant,
}

impl Shared {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn next_id(&self) -> String {
        format!(
            "{}-{}",
            self.cfg.connector.name,
            self.seq.fetch_add(1, Ordering::Relaxed) + 1
        )
    }

    fn send(&self, to: &str, msg: Message, re: Option<&str>) {
        if to.is_empty() {
            tracing::warn!("no driver queue for {msg:?}; dropped");
            return;
        }
        let mut env = Envelope::new(self.next_id(), msg);
        env.re = re.map(str::to_string);
        if let Some(l) = self.link.get() {
            l.send(Cmd::Send {
                to: to.to_string(),
                env,
            });
        }
    }

    fn system_message(&self) -> Message {
        let st = self.state();
        Message::System {
            status: if st.finesse_up {
                SystemStatus::InService
            } else {
                SystemStatus::OutOfService
            },
            connector: self.cfg.connector.name.clone(),
            detail: st.detail.clone(),
            instance: self.instance.clone(),
        }
    }

    fn broadcast_status(&self) {
        let env = Envelope::new(self.next_id(), self.system_message());
        if let Some(l) = self.link.get() {
            l.send(Cmd::Broadcast(env));
        }
    }

    fn base(&self) -> String {
        let st = self.state();
        self.nodes[st.active].clone()
    }

    fn reply_to_of(&self, agent: &str, fallback: &str) -> String {
        self.state()
            .agents
            .get(agent)
            .and_then(|a| a.reply_to.clone())
            .unwrap_or_else(|| fallback.to_string())
    }

    /// Sends an agent's state to its driver and remembers it.
    fn publish_agent(&self, info: AgentInfo, re: Option<&str>, fallback_to: &str) {
        let to = {
            let mut st = self.state();
            let e = st.agents.entry(info.agent.clone()).or_default();
            e.info = Some(info.clone());
            e.reply_to
                .clone()
                .unwrap_or_else(|| fallback_to.to_string())
        };
        self.send(&to, Message::Agent(info), re);
    }

    fn error(&self, to: &str, agent: Option<&str>, e: &RestError, re: Option<&str>) {
        tracing::info!(
            "agent {}: {}: {}",
            agent.unwrap_or("-"),
            e.code(),
            e.message()
        );
        self.send(
            to,
            Message::Error {
                agent: agent.map(str::to_string),
                code: e.code().to_string(),
                message: e.message(),
            },
            re,
        );
    }
}

/// A running connector.
pub struct Connector {
    shared: Arc<Shared>,
    link: LinkSender<Cmd>,
    link_done: Receiver<()>,
    jobs: Vec<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
    watcher: Option<JoinHandle<()>>,
    monitor: Option<crate::monitor::Monitor>,
}

impl Connector {
    /// Starts the connector: broker link, workers, Finesse watcher and monitor console.
    pub fn start(cfg: ConnectorConfig) -> Result<Connector, String> {
        cfg.validate()?;
        let nodes = cfg.nodes();
        let des = cfg.triple_des()?;
        let started_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let shared = Arc::new(Shared {
            instance: format!("{}-{}-{started_ms}", cfg.connector.name, std::process::id()),
            des,
            rest: Rest::new(Duration::from_millis(cfg.finesse.request_timeout_ms)),
            nodes,
            state: Mutex::new(State {
                active: 0,
                finesse_up: false,
                detail: "checking Cisco Finesse".into(),
                system: SystemInfo::default(),
                agents: HashMap::new(),
                drivers: HashMap::new(),
            }),
            broker_up: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            seq: AtomicU64::new(0),
            link: OnceLock::new(),
            started: Instant::now(),
            cfg,
        });
        tracing::info!("connector starting: {:?}", shared.cfg);
        // Know Finesse's status before the first driver asks.
        poll_finesse(&shared);

        let mut jobs = Vec::new();
        let mut workers = Vec::new();
        for i in 0..shared.cfg.connector.workers {
            let (tx, rx) = crossbeam_channel::unbounded::<Job>();
            let s = shared.clone();
            jobs.push(tx);
            workers.push(
                std::thread::Builder::new()
                    .name(format!("connector-worker-{i}"))
                    .spawn(move || {
                        for job in rx {
                            serve(&s, job);
                        }
                    })
                    .map_err(|e| e.to_string())?,
            );
        }

        let b = &shared.cfg.broker;
        let (link, sender) = Link::new(LinkSettings {
            host: b.host.clone(),
            port: b.port,
            login: b.login.clone(),
            passcode: b.password.clone(),
            heartbeat: Duration::from_millis(b.heartbeat_ms),
            connect_timeout: Duration::from_secs(2),
            reconnect_min: Duration::from_millis(200),
            reconnect_max: Duration::from_secs(10),
        })
        .map_err(|e| format!("broker link: {e}"))?;
        let _ = shared.link.set(sender.clone());
        let (done_tx, link_done) = crossbeam_channel::bounded(1);
        let mut handler = Broker {
            shared: shared.clone(),
            jobs: jobs.clone(),
        };
        std::thread::Builder::new()
            .name("connector-link".into())
            .spawn(move || {
                link.run(&mut handler);
                let _ = done_tx.send(());
            })
            .map_err(|e| e.to_string())?;

        let s = shared.clone();
        let watcher = std::thread::Builder::new()
            .name("connector-finesse".into())
            .spawn(move || watch_finesse(&s))
            .map_err(|e| e.to_string())?;

        let monitor = if shared.cfg.monitor.listen.is_empty() {
            None
        } else {
            Some(crate::monitor::Monitor::start(shared.clone())?)
        };
        Ok(Connector {
            shared,
            link: sender,
            link_done,
            jobs,
            workers,
            watcher: Some(watcher),
            monitor,
        })
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
        if self.shared.stopping.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::info!("connector stopping");
        {
            let mut st = self.shared.state();
            st.finesse_up = false;
            st.detail = "the connector is stopping".into();
        }
        self.shared.broadcast_status();
        let sessions: Vec<XmppSession> = self
            .shared
            .state()
            .agents
            .values_mut()
            .filter_map(|a| a.xmpp.take())
            .collect();
        for s in &sessions {
            s.stop.store(true, Ordering::Release);
        }
        for s in sessions {
            let _ = s.thread.join();
        }
        // The link thread holds job senders too: stop it first (it flushes the status
        // broadcast), then the workers see their queues close.
        if self.link.stop() && self.link_done.recv_timeout(STOP_WAIT).is_err() {
            tracing::warn!("the broker link did not stop in time");
        }
        self.jobs.clear();
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

/// The broker link handler: requests in, messages out.
struct Broker {
    shared: Arc<Shared>,
    jobs: Vec<Sender<Job>>,
}

impl Broker {
    fn dispatch(&self, job: Job) {
        let key = match &job.env.msg {
            Message::Connect { agent, .. }
            | Message::Disconnect { agent }
            | Message::Login { agent, .. }
            | Message::Logout { agent, .. }
            | Message::SetState { agent, .. }
            | Message::Snapshot { agent }
            | Message::GetReasonCodes { agent, .. }
            | Message::CallAction { agent, .. }
            | Message::MakeCall { agent, .. }
            | Message::UpdateCallData { agent, .. } => agent
                .bytes()
                .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize)),
            _ => 0,
        };
        let _ = self.jobs[key % self.jobs.len()].send(job);
    }
}

impl LinkHandler<Cmd> for Broker {
    fn on_up(&mut self, _now: Now, out: &mut Outbox) {
        self.shared.broker_up.store(true, Ordering::Release);
        let mut sub = Frame::new("SUBSCRIBE")
            .header("id", "requests")
            .header("destination", &self.shared.cfg.broker.request_queue)
            .header("ack", "auto");
        if self.shared.cfg.broker.exclusive {
            sub = sub.header("activemq.exclusive", "true");
        }
        out.send(sub);
        let env = Envelope::new(self.shared.next_id(), self.shared.system_message());
        out.send(json_frame(
            &status_topic(&self.shared.cfg.broker.request_queue),
            &env,
        ));
    }

    fn on_down(&mut self, _now: Now, reason: &str, _first: bool) {
        self.shared.broker_up.store(false, Ordering::Release);
        tracing::debug!("broker link down: {reason}");
    }

    fn on_frame(&mut self, _now: Now, frame: Frame, out: &mut Outbox) {
        if frame.command != "MESSAGE" {
            return;
        }
        let reply_to = frame.get("reply-to").unwrap_or_default().to_string();
        match Envelope::from_json(&frame.body) {
            Ok(env) => {
                tracing::debug!("<- {}", env.redacted());
                self.dispatch(Job { reply_to, env });
            }
            Err(e) => {
                tracing::warn!("rejected a request: {e}");
                if !reply_to.is_empty() {
                    let code = match e {
                        DecodeError::Version(_) => "UnsupportedVersion",
                        DecodeError::Malformed(_) => "Malformed",
                    };
                    let env = Envelope::new(
                        self.shared.next_id(),
                        Message::Error {
                            agent: None,
                            code: code.into(),
                            message: e.to_string(),
                        },
                    );
                    out.send(json_frame(&reply_to, &env));
                }
            }
        }
    }

    fn on_command(&mut self, _now: Now, cmd: Cmd, out: &mut Outbox) {
        let (to, env) = match cmd {
            Cmd::Send { to, env } => (to, env),
            Cmd::Broadcast(env) => (status_topic(&self.shared.cfg.broker.request_queue), env),
        };
        tracing::debug!("-> {to}: {}", env.redacted());
        if !out.send(json_frame(&to, &env)) {
            tracing::warn!("broker down: message to {to} dropped");
        }
    }
}

/// How long an event may wait for its driver instance: a driver that comes back later
/// rebuilds its view with a snapshot, so older events are only clutter in the broker.
const EVENT_TTL: Duration = Duration::from_secs(60);

fn json_frame(to: &str, env: &Envelope) -> Frame {
    Frame::new("SEND")
        .header("destination", to)
        .header("content-type", "application/json")
        .header("correlation-id", &env.id)
        .header("expires", &driver::stomp::expires_in(EVENT_TTL))
        .body(env.to_json())
}

/// Serves one request (on a worker thread).
fn serve(s: &Arc<Shared>, job: Job) {
    let Job { reply_to, env } = job;
    let re = Some(env.id.as_str());
    match env.msg {
        Message::Hello {
            driver,
            reply_to: to,
            product,
        } => {
            tracing::info!("driver {driver} ({product}) says hello");
            s.state().drivers.insert(to.clone(), Instant::now());
            s.send(&to, s.system_message(), re);
        }
        Message::Connect {
            agent,
            reply_to: to,
            password,
            encrypted,
        } => {
            let password = match password
                .map(|p| clear_password(s, &p, encrypted))
                .transpose()
            {
                Ok(p) => p,
                Err(e) => return s.error(&to, Some(&agent), &e, re),
            };
            {
                let mut st = s.state();
                let e = st.agents.entry(agent.clone()).or_default();
                e.reply_to = Some(to);
                if let Some(p) = password {
                    let creds = Credentials {
                        user: agent.clone(),
                        password: p,
                    };
                    if e.creds.as_ref().map(|c| &c.password) != Some(&creds.password) {
                        e.creds = Some(creds);
                        e.verified = false;
                    }
                }
            }
            ensure_notifications(s, &agent);
        }
        Message::Disconnect { agent } => {
            // The Siebel session ended: stop routing and forget the password; the agent stays
            // listed (it may still be logged in to Finesse).
            let session = s.state().agents.get_mut(&agent).and_then(|a| {
                a.reply_to = None;
                a.creds = None;
                a.calls.clear();
                a.xmpp.take()
            });
            if let Some(x) = session {
                x.stop.store(true, Ordering::Release);
            }
        }
        Message::Login {
            agent,
            password,
            extension,
            encrypted,
        } => {
            let password = match clear_password(s, &password, encrypted) {
                Ok(p) => p,
                Err(e) => return s.error(&s.reply_to_of(&agent, &reply_to), Some(&agent), &e, re),
            };
            let creds = Credentials {
                user: agent.clone(),
                password,
            };
            let change = StateChange {
                state: "LOGIN".into(),
                extension: Some(extension),
                reason_code_id: None,
            };
            let to = s.reply_to_of(&agent, &reply_to);
            if let Err(e) = finesse_ready(s) {
                return s.error(&to, Some(&agent), &e, re);
            }
            match s
                .rest
                .set_state(&s.base(), &agent, &creds, &change, &env.id)
            {
                Ok(()) => {
                    {
                        let mut st = s.state();
                        let e = st.agents.entry(agent.clone()).or_default();
                        e.creds = Some(creds);
                        e.verified = true;
                    }
                    ensure_notifications(s, &agent);
                    wait_notifications(s, &agent);
                    refresh(s, &agent, re, &reply_to, false);
                }
                Err(e) => s.error(&to, Some(&agent), &e, re),
            }
        }
        Message::Logout { agent, reason } => {
            change_state(s, &agent, "LOGOUT", reason, &env.id, &reply_to)
        }
        Message::SetState {
            agent,
            state,
            reason,
        } => change_state(s, &agent, state.as_str(), reason, &env.id, &reply_to),
        Message::Snapshot { agent } => refresh(s, &agent, re, &reply_to, true),
        Message::CallAction {
            agent,
            dialog,
            action,
            to,
        } => with_session(s, &agent, &env.id, &reply_to, |creds, base, ext| {
            let body = DialogAction {
                action: action.as_str().to_string(),
                extension: ext.to_string(),
                dtmf: (action == CallAction::SendDtmf).then(|| to.clone().unwrap_or_default()),
                to: to.filter(|_| action != CallAction::SendDtmf),
                wrap_up_reason: None,
            };
            s.rest.dialog_action(base, &dialog, creds, &body, &env.id)
        }),
        Message::MakeCall { agent, to } => {
            with_session(s, &agent, &env.id, &reply_to, |creds, base, ext| {
                s.rest.make_call(base, &agent, creds, ext, &to, &env.id)
            })
        }
        Message::UpdateCallData {
            agent,
            dialog,
            wrap_up_reason,
        } => with_session(s, &agent, &env.id, &reply_to, |creds, base, ext| {
            let body = DialogAction {
                action: "UPDATE_CALL_DATA".into(),
                extension: ext.to_string(),
                to: None,
                dtmf: None,
                wrap_up_reason,
            };
            s.rest.dialog_action(base, &dialog, creds, &body, &env.id)
        }),
        Message::GetReasonCodes { agent, category } => {
            let to = s.reply_to_of(&agent, &reply_to);
            let Some(creds) = creds_of(s, &agent) else {
                return tracing::debug!("no session for agent {agent}: reason codes not read");
            };
            match s.rest.reason_codes(&s.base(), &agent, &creds, &category) {
                Ok(codes) => s.send(
                    &to,
                    Message::ReasonCodes {
                        agent,
                        category,
                        codes,
                    },
                    re,
                ),
                Err(e) => s.error(&to, Some(&agent), &e, re),
            }
        }
        other => tracing::warn!("not a request: {other:?}"),
    }
}

/// The clear password of a request (decrypted when the driver sent it encrypted).
fn clear_password(s: &Shared, password: &str, encrypted: bool) -> Result<String, RestError> {
    if !encrypted {
        return Ok(password.to_string());
    }
    let des = s.des.as_ref().ok_or_else(|| {
        RestError::Config(
            "the connector has no security.des_key to decrypt secure passwords".into(),
        )
    })?;
    des.decrypt(password).map_err(RestError::Config)
}

fn finesse_ready(s: &Shared) -> Result<(), RestError> {
    let st = s.state();
    if st.finesse_up {
        Ok(())
    } else {
        Err(RestError::Unavailable(st.detail.clone()))
    }
}

fn creds_of(s: &Shared, agent: &str) -> Option<Credentials> {
    s.state().agents.get(agent).and_then(|a| a.creds.clone())
}

fn change_state(
    s: &Arc<Shared>,
    agent: &str,
    state: &str,
    reason: Option<String>,
    id: &str,
    reply_to: &str,
) {
    let to = s.reply_to_of(agent, reply_to);
    let Some(creds) = creds_of(s, agent) else {
        return s.send(
            &to,
            Message::Error {
                agent: Some(agent.to_string()),
                code: "NoSession".into(),
                message: "The connector has no Finesse session for this agent; log in again".into(),
            },
            Some(id),
        );
    };
    if let Err(e) = finesse_ready(s) {
        return s.error(&to, Some(agent), &e, Some(id));
    }
    let change = StateChange {
        state: state.to_string(),
        extension: None,
        reason_code_id: reason,
    };
    match s.rest.set_state(&s.base(), agent, &creds, &change, id) {
        Ok(()) => refresh(s, agent, Some(id), reply_to, false),
        Err(e) => s.error(&to, Some(agent), &e, Some(id)),
    }
}

/// Reads the agent's state (and, for a snapshot, its dialogs) from Finesse and sends it to
/// the driver.
fn refresh(s: &Arc<Shared>, agent: &str, re: Option<&str>, reply_to: &str, with_dialogs: bool) {
    let creds = creds_of(s, agent).or_else(|| {
        let f = &s.cfg.finesse;
        (!f.admin_user.is_empty()).then(|| Credentials {
            user: f.admin_user.clone(),
            password: f.admin_password.clone(),
        })
    });
    let Some(creds) = creds else {
        tracing::debug!("no credentials to read agent {agent}; snapshot skipped");
        return;
    };
    let base = s.base();
    let info = match s.rest.user(&base, agent, &creds) {
        Ok(info) => info,
        // A snapshot the driver did not ask the agent for: log, do not alarm the agent.
        Err(e) if with_dialogs => {
            return tracing::info!("agent {agent}: snapshot not read: {}", e.message());
        }
        Err(e) => {
            let to = s.reply_to_of(agent, reply_to);
            return s.error(&to, Some(agent), &e, re);
        }
    };
    if let Some(e) = s.state().agents.get_mut(agent) {
        if e.creds.as_ref().is_some_and(|c| c.user == creds.user) {
            e.verified = true;
        }
    }
    let extension = info.extension.clone().unwrap_or_default();
    s.publish_agent(info, re, reply_to);
    if with_dialogs {
        match s.rest.dialogs(&base, agent, &creds) {
            Ok(list) => {
                let dialogs: Vec<_> = list
                    .iter()
                    .map(|d| xml::dialog_info(d, agent, &extension))
                    .filter(|d| !d.id.is_empty())
                    .collect();
                if let Some(e) = s.state().agents.get_mut(agent) {
                    e.calls = dialogs.iter().map(|d| (d.id.clone(), d.clone())).collect();
                }
                let to = s.reply_to_of(agent, reply_to);
                s.send(
                    &to,
                    Message::DialogList {
                        agent: agent.to_string(),
                        dialogs,
                    },
                    re,
                );
            }
            Err(e) => tracing::warn!("agent {agent}: dialogs not read: {}", e.message()),
        }
    }
}

/// The agent's extension, as Finesse last reported it.
fn extension_of(s: &Shared, agent: &str) -> String {
    s.state()
        .agents
        .get(agent)
        .and_then(|a| a.info.as_ref())
        .and_then(|i| i.extension.clone())
        .unwrap_or_default()
}

/// Runs a call request with the agent's session, reporting failures to the driver.
fn with_session(
    s: &Arc<Shared>,
    agent: &str,
    id: &str,
    reply_to: &str,
    call: impl FnOnce(&Credentials, &str, &str) -> Result<(), RestError>,
) {
    let to = s.reply_to_of(agent, reply_to);
    let Some(creds) = creds_of(s, agent) else {
        let e = RestError::Api {
            status: 0,
            error_type: "NoSession".into(),
            message: String::new(),
        };
        return s.error(&to, Some(agent), &e, Some(id));
    };
    if let Err(e) = finesse_ready(s) {
        return s.error(&to, Some(agent), &e, Some(id));
    }
    match call(&creds, &s.base(), &extension_of(s, agent)) {
        Ok(()) => s.send(&to, Message::Accepted {}, Some(id)),
        Err(e) => s.error(&to, Some(agent), &e, Some(id)),
    }
}

/// Waits (at most 3 s) until the agent's notification session is up, so that what the
/// agent does right after logging in is seen.
fn wait_notifications(s: &Shared, agent: &str) {
    let Some(up) = s
        .state()
        .agents
        .get(agent)
        .map(|a| a.notifications_up.clone())
    else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(3);
    while !up.load(Ordering::Acquire) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Starts the agent's notification session if it has credentials and none runs.
fn ensure_notifications(s: &Arc<Shared>, agent: &str) {
    if s.stopping.load(Ordering::Acquire) {
        return;
    }
    let mut st = s.state();
    let Some(entry) = st.agents.get_mut(agent) else {
        return;
    };
    let Some(creds) = entry.creds.clone() else {
        return;
    };
    if entry.xmpp.as_ref().is_some_and(|x| !x.thread.is_finished()) {
        return;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let up = entry.notifications_up.clone();
    let (s2, stop2, agent2) = (s.clone(), stop.clone(), agent.to_string());
    match std::thread::Builder::new()
        .name(format!("xmpp-{agent}"))
        .spawn(move || notifications(&s2, &agent2, &creds, &stop2, &up))
    {
        Ok(thread) => entry.xmpp = Some(XmppSession { stop, thread }),
        Err(e) => tracing::error!("cannot start the notification thread of {agent}: {e}"),
    }
}

fn xmpp_addr(base: &str, port: u16) -> Option<SocketAddr> {
    let rest = base.split("://").nth(1)?;
    let hostport = rest.split('/').next()?;
    let host = match hostport.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => hostport,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (host, port).to_socket_addrs().ok()?.next()
}

/// The notification loop of one agent: log in to the active node's XMPP service as the
/// agent, turn pubsub events into driver messages, reconnect on failure.
fn notifications(
    s: &Arc<Shared>,
    agent: &str,
    creds: &Credentials,
    stop: &AtomicBool,
    up: &AtomicBool,
) {
    let mut backoff = Duration::from_millis(500);
    while !stop.load(Ordering::Acquire) && !s.stopping.load(Ordering::Acquire) {
        let (base, domain, pubsub) = {
            let st = s.state();
            let host_domain = st.system.xmpp_domain.clone();
            (
                s.nodes[st.active].clone(),
                host_domain,
                st.system.pubsub_domain.clone(),
            )
        };
        let Some(addr) = xmpp_addr(&base, s.cfg.finesse.xmpp_port) else {
            tracing::error!("cannot resolve the XMPP address of {base}");
            sleep_unless(stop, Duration::from_secs(5));
            continue;
        };
        if domain.is_empty() {
            sleep_unless(stop, Duration::from_secs(1));
            continue;
        }
        // Unique per connector process start: a restarted connector never collides with its
        // predecessor's session in the XMPP server.
        let resource = s.instance.clone();
        match XmppConn::login(
            addr,
            &domain,
            agent,
            &creds.password,
            &resource,
            Duration::from_secs(5),
        ) {
            Ok(mut conn) => {
                backoff = Duration::from_millis(500);
                tracing::info!("agent {agent}: notifications connected ({})", conn.jid);
                if !pubsub.is_empty() {
                    subscribe(&mut conn, &pubsub, agent, &domain);
                }
                // Anything that changed while the session was down (or before it first came
                // up) is read again, so no notification is missed for good. This happens
                // before the session counts as up, so a login waiting for it is answered
                // after this snapshot, never before.
                refresh(s, agent, None, "", true);
                up.store(true, Ordering::Release);
                let result = read_notifications(s, &mut conn, agent, stop, &base);
                up.store(false, Ordering::Release);
                conn.close();
                if let Err(e) = result {
                    tracing::warn!("agent {agent}: notifications lost: {e}");
                }
            }
            Err(XmppError::Auth(why)) => {
                tracing::warn!("agent {agent}: Finesse refused the notification login ({why})");
                let verified = s.state().agents.get(agent).is_some_and(|a| a.verified);
                if !verified {
                    // Unchecked credentials from a session start: nothing the agent asked for.
                    return;
                }
                let to = s.reply_to_of(agent, "");
                s.send(
                    &to,
                    Message::Error {
                        agent: Some(agent.to_string()),
                        code: "Unauthorized".into(),
                        message: "Cisco Finesse refused the agent's notification login".into(),
                    },
                    None,
                );
                return;
            }
            Err(e) => tracing::warn!("agent {agent}: {e}; retrying in {backoff:?}"),
        }
        sleep_unless(stop, backoff);
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

/// Subscribes the agent to its own nodes. Finesse subscribes its users itself; asking again
/// is harmless, and a refusal is only logged.
fn subscribe(conn: &mut XmppConn, pubsub: &str, agent: &str, domain: &str) {
    for (i, node) in [
        format!("/finesse/api/User/{agent}"),
        format!("/finesse/api/User/{agent}/Dialogs"),
    ]
    .iter()
    .enumerate()
    {
        let id = format!("sub{i}");
        let iq = format!(
            "<iq type='set' to='{}' id='{id}'><pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='{}' jid='{}@{}'/></pubsub></iq>",
            xml::escape(pubsub),
            xml::escape(node),
            xml::escape(agent),
            xml::escape(domain)
        );
        let result = conn
            .send(&iq)
            .and_then(|_| conn.wait_iq(&id, Duration::from_secs(5)));
        if let Err(e) = result {
            tracing::debug!("agent {agent}: subscription to {node} not taken: {e}");
        }
    }
}

fn read_notifications(
    s: &Arc<Shared>,
    conn: &mut XmppConn,
    agent: &str,
    stop: &AtomicBool,
    base: &str,
) -> Result<(), XmppError> {
    while !stop.load(Ordering::Acquire) {
        if s.base() != base {
            return Err(XmppError::Link("Finesse node changed".into()));
        }
        let Some(stanza) = conn.read(Duration::from_millis(500))? else {
            continue;
        };
        if stanza.name != "message" {
            continue;
        }
        for text in xmpp::notifications(&stanza) {
            match xml::update(&text) {
                Ok(Update::User { info, request_id }) => {
                    s.publish_agent(info, request_id.as_deref(), "");
                }
                Ok(Update::Error { error, request_id }) => {
                    let to = s.reply_to_of(agent, "");
                    let e = RestError::Api {
                        status: 400,
                        error_type: error.error_type,
                        message: error.message,
                    };
                    s.error(&to, Some(agent), &e, request_id.as_deref());
                }
                Ok(Update::Dialogs {
                    event,
                    dialogs,
                    request_id,
                }) => {
                    let extension = extension_of(s, agent);
                    let to = s.reply_to_of(agent, "");
                    for d in &dialogs {
                        let mut info = xml::dialog_info(d, agent, &extension);
                        if info.id.is_empty() {
                            tracing::warn!("agent {agent}: a dialog update without an id ignored");
                            continue;
                        }
                        info.ended |= event == "DELETE";
                        s.remember_call(&info);
                        s.send(&to, Message::Dialog(Box::new(info)), request_id.as_deref());
                    }
                }
                Ok(Update::Other(source)) => {
                    tracing::debug!("agent {agent}: notification from {source} not used yet")
                }
                Err(e) => tracing::warn!("agent {agent}: unreadable notification: {e}"),
            }
        }
    }
    Ok(())
}

fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let end = Instant::now() + d;
    while !stop.load(Ordering::Acquire) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50).min(end - Instant::now()));
    }
}

/// One SystemInfo check, with failover to the other node.
fn poll_finesse(s: &Arc<Shared>) {
    let admin = {
        let f = &s.cfg.finesse;
        (!f.admin_user.is_empty()).then(|| Credentials {
            user: f.admin_user.clone(),
            password: f.admin_password.clone(),
        })
    };
    let active = s.state().active;
    let order: Vec<usize> = (0..s.nodes.len())
        .map(|i| (active + i) % s.nodes.len())
        .collect();
    let mut last_err = String::new();
    for idx in order {
        match s.rest.system_info(&s.nodes[idx], admin.as_ref()) {
            Ok(info) if info.status == "IN_SERVICE" => {
                let (changed, switched) = {
                    let mut st = s.state();
                    let switched = st.active != idx;
                    let changed = !st.finesse_up || switched;
                    st.active = idx;
                    st.finesse_up = true;
                    st.detail = format!("Finesse {} in service", s.nodes[idx]);
                    st.system = info;
                    (changed, switched)
                };
                if switched {
                    tracing::warn!("Finesse failover: now using {}", s.nodes[idx]);
                    resnapshot(s);
                }
                if changed {
                    tracing::info!("Finesse {} is in service", s.nodes[idx]);
                    s.broadcast_status();
                }
                return;
            }
            Ok(info) => last_err = format!("Finesse {} is {}", s.nodes[idx], info.status),
            Err(e) => last_err = format!("Finesse {}: {}", s.nodes[idx], e.message()),
        }
    }
    let was_up = {
        let mut st = s.state();
        let was = st.finesse_up;
        st.finesse_up = false;
        st.detail = last_err.clone();
        was
    };
    if was_up {
        tracing::warn!("Finesse unavailable: {last_err}");
        s.broadcast_status();
    }
}

/// After a failover: every agent's state is read again from the new node.
fn resnapshot(s: &Arc<Shared>) {
    // Only agents a driver still owns.
    let agents: Vec<String> = s
        .state()
        .agents
        .iter()
        .filter(|(_, e)| e.reply_to.is_some())
        .map(|(a, _)| a.clone())
        .collect();
    for a in agents {
        refresh(s, &a, None, "", true);
    }
}

fn watch_finesse(s: &Arc<Shared>) {
    let every = Duration::from_millis(s.cfg.finesse.poll_ms);
    let stop = &s.stopping;
    loop {
        sleep_unless(stop, every);
        if stop.load(Ordering::Acquire) {
            return;
        }
        poll_finesse(s);
    }
}

/// A view of one agent for the console.
#[derive(Clone, Debug, serde::Serialize)]
pub(crate) struct AgentView {
    pub id: String,
    pub state: String,
    pub reason: String,
    pub extension: String,
    pub driver: String,
    pub notifications: bool,
}

/// A view of one call for the console.
#[derive(Clone, Debug, serde::Serialize)]
pub(crate) struct CallView {
    pub agent: String,
    pub id: String,
    pub state: String,
    pub from: String,
    pub to: String,
    pub call_type: String,
}

impl Shared {
    /// Keeps the console's list of calls current.
    fn remember_call(&self, d: &driver::protocol::DialogInfo) {
        let mut st = self.state();
        let e = st.agents.entry(d.agent.clone()).or_default();
        if d.ended || matches!(d.agent_state.as_str(), "DROPPED" | "FAILED") {
            e.calls.remove(&d.id);
        } else {
            e.calls.insert(d.id.clone(), d.clone());
        }
    }

    /// The calls, by agent, for the console.
    pub(crate) fn call_views(&self) -> Vec<CallView> {
        let st = self.state();
        let mut v: Vec<CallView> = st
            .agents
            .iter()
            .flat_map(|(agent, a)| {
                a.calls.values().map(move |d| CallView {
                    agent: agent.clone(),
                    id: d.id.clone(),
                    state: d.agent_state.clone(),
                    from: d.from_address.clone(),
                    to: d.to_address.clone(),
                    call_type: d.call_type.clone(),
                })
            })
            .collect();
        v.sort_by(|a, b| (&a.agent, &a.id).cmp(&(&b.agent, &b.id)));
        v
    }

    /// The agents, sorted by id, for the console.
    pub(crate) fn agent_views(&self) -> Vec<AgentView> {
        let st = self.state();
        let mut v: Vec<AgentView> = st
            .agents
            .iter()
            .map(|(id, a)| {
                let i = a.info.clone().unwrap_or_default();
                AgentView {
                    id: id.clone(),
                    state: i.state.unwrap_or(AgentState::Unknown).as_str().to_string(),
                    reason: i.reason_label.or(i.reason_code).unwrap_or_default(),
                    extension: i.extension.unwrap_or_default(),
                    driver: a.reply_to.clone().unwrap_or_default(),
                    notifications: a.notifications_up.load(Ordering::Acquire),
                }
            })
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::xmpp_addr;

    #[test]
    fn xmpp_address_from_node_url() {
        assert_eq!(
            xmpp_addr("http://127.0.0.1:8082", 5222),
            Some("127.0.0.1:5222".parse().unwrap())
        );
        assert_eq!(
            xmpp_addr("https://127.0.0.1/finesse", 5223),
            Some("127.0.0.1:5223".parse().unwrap())
        );
        assert_eq!(xmpp_addr("nonsense", 1), None);
    }
}
