//! A scripted connector peer on the broker, for tests and the first demo: it answers the
//! driver protocol (Hello, Connect, Login, SetState, Logout, Snapshot) from a table of agents,
//! the way the Generic Connector does, without Finesse behind it. Like the connector it
//! publishes its status on the status topic every second (its heartbeat).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use driver::protocol::{status_topic, AgentInfo, AgentState, Envelope, Message, SystemStatus};
use driver::secure::{unix_ms, ReplayGuard, TripleDes};
use driver::stomp::{Connection, StompError, TlsSettings};

/// How the peer reaches a closed broker, as a connector does: its broker credentials, STOMP
/// over TLS with a CA file, and the secure-password key to open agent passwords with.
#[derive(Clone, Debug, Default)]
pub struct PeerAccess {
    /// Broker login (empty: none).
    pub login: String,
    /// Broker password.
    pub password: String,
    /// TLS, the broker's certificate checked against this CA file (PEM); `None`: plain.
    pub ca_file: Option<PathBuf>,
    /// The drivers' `Driver:SecureKey`: passwords sent encrypted are opened with it.
    pub secure: Option<TripleDes>,
}

impl PeerAccess {
    /// Connects to `broker` with these credentials (over TLS with a CA file).
    pub fn connect(&self, broker: SocketAddr) -> Result<Connection, StompError> {
        let timeout = Duration::from_secs(5);
        match &self.ca_file {
            None => Connection::connect(broker, &self.login, &self.password, timeout),
            Some(ca) => {
                let tls = TlsSettings::from_ca_file(ca)
                    .map_err(|e| StompError::Protocol(e.to_string()))?;
                let host = broker.ip().to_string();
                Connection::connect_tls(broker, &host, &tls, &self.login, &self.password, timeout)
            }
        }
    }
}

/// One agent the peer knows.
#[derive(Clone, Debug)]
pub struct PeerAgent {
    /// Password the agent must give.
    pub password: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
}

/// The peer's state, shared with the test that runs it.
#[derive(Default)]
pub struct PeerState {
    /// Agents and their current info.
    pub agents: HashMap<String, AgentInfo>,
    /// Every request received (type names), in order.
    pub requests: Vec<String>,
}

/// How often the peer publishes its status.
const HEARTBEAT: Duration = Duration::from_secs(1);

/// A running peer.
pub struct ScriptedPeer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// What it has seen and holds.
    pub state: Arc<Mutex<PeerState>>,
}

impl ScriptedPeer {
    /// Connects to the broker, subscribes to `request_queue` (waiting for the broker's
    /// receipt) and serves until stopped.
    pub fn start(
        broker: SocketAddr,
        request_queue: &str,
        agents: HashMap<String, PeerAgent>,
    ) -> Result<ScriptedPeer, StompError> {
        ScriptedPeer::start_with(broker, &PeerAccess::default(), request_queue, agents)
    }

    /// Like [`ScriptedPeer::start`], on a broker reached as `access` says.
    pub fn start_with(
        broker: SocketAddr,
        access: &PeerAccess,
        request_queue: &str,
        agents: HashMap<String, PeerAgent>,
    ) -> Result<ScriptedPeer, StompError> {
        let mut conn = access.connect(broker)?;
        conn.subscribe("requests", request_queue)?;
        let secure = access.secure.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let state = Arc::new(Mutex::new(PeerState::default()));
        let (s, st) = (stop.clone(), state.clone());
        let topic = status_topic(request_queue);
        let thread = std::thread::Builder::new()
            .name("scripted-peer".into())
            .spawn(move || serve(conn, &topic, agents, secure, s, st))
            .map_err(StompError::Io)?;
        Ok(ScriptedPeer {
            stop,
            thread: Some(thread),
            state,
        })
    }

    /// The requests received so far (type names).
    pub fn requests(&self) -> Vec<String> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .requests
            .clone()
    }

    /// Stops serving and closes the connection.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ScriptedPeer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The peer's status message.
fn system(instance: &str) -> Message {
    Message::System {
        status: SystemStatus::InService,
        connector: "scripted-peer".into(),
        detail: String::new(),
        instance: instance.to_string(),
    }
}

/// The agent's password as given: opened with the key when the driver encrypted it (`None`
/// when it cannot be opened: a wrong key, a replay).
fn clear_password(
    password: String,
    encrypted: bool,
    secure: Option<&TripleDes>,
    guard: &mut ReplayGuard,
) -> Option<String> {
    match (encrypted, secure) {
        (false, _) => Some(password),
        (true, Some(key)) => key
            .open(&password, unix_ms(), guard)
            .map_err(|e| eprintln!("scripted peer: cannot open an encrypted password: {e}"))
            .ok(),
        (true, None) => None,
    }
}

fn serve(
    mut conn: Connection,
    topic: &str,
    agents: HashMap<String, PeerAgent>,
    secure: Option<TripleDes>,
    stop: Arc<AtomicBool>,
    state: Arc<Mutex<PeerState>>,
) {
    let mut guard = ReplayGuard::default();
    static STARTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let instance = format!(
        "peer-{}-{}",
        std::process::id(),
        STARTS.fetch_add(1, Ordering::Relaxed)
    );
    let mut routes: HashMap<String, String> = HashMap::new();
    let mut seq = 0u64;
    let mut beat: Option<Instant> = None;
    while !stop.load(Ordering::Acquire) {
        if beat.is_none_or(|t| t.elapsed() >= HEARTBEAT) {
            beat = Some(Instant::now());
            seq += 1;
            let env = Envelope::new(format!("peer-{seq}"), system(&instance));
            if let Err(e) = conn.send(topic, &[], &env.to_json()) {
                eprintln!("scripted peer: heartbeat failed: {e}");
                return;
            }
        }
        let frame = match conn.recv(Duration::from_millis(100)) {
            Ok(Some(f)) => f,
            Ok(None) => continue,
            Err(e) => {
                eprintln!("scripted peer: broker link lost: {e}");
                return;
            }
        };
        if frame.command != "MESSAGE" {
            continue;
        }
        let reply_to = frame.get("reply-to").unwrap_or_default().to_string();
        let env = match Envelope::from_json(&frame.body) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("scripted peer: ignored a bad request: {e}");
                continue;
            }
        };
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        let kind = format!("{:?}", env.msg);
        st.requests.push(
            kind.split([' ', '{', '('])
                .next()
                .unwrap_or_default()
                .to_string(),
        );
        let mut replies: Vec<(String, Message)> = Vec::new();
        let agent_reply = |st: &PeerState, a: &str| {
            Message::Agent(st.agents.get(a).cloned().unwrap_or(AgentInfo {
                agent: a.to_string(),
                state: Some(AgentState::Logout),
                ..AgentInfo::default()
            }))
        };
        match env.msg {
            Message::Hello { reply_to: to, .. } => replies.push((to, system(&instance))),
            Message::Connect {
                agent,
                reply_to: to,
                ..
            } => {
                routes.insert(agent, to);
            }
            Message::Disconnect { agent } => {
                routes.remove(&agent);
            }
            Message::Snapshot { agent } => {
                replies.push((reply_to.clone(), agent_reply(&st, &agent)));
            }
            Message::Login {
                agent,
                password,
                encrypted,
                extension,
            } => match agents.get(&agent) {
                Some(a)
                    if clear_password(password, encrypted, secure.as_ref(), &mut guard)
                        .is_some_and(|p| p == a.password) =>
                {
                    let info = AgentInfo {
                        agent: agent.clone(),
                        state: Some(AgentState::NotReady),
                        extension: Some(extension),
                        first_name: Some(a.first_name.clone()),
                        last_name: Some(a.last_name.clone()),
                        ..AgentInfo::default()
                    };
                    st.agents.insert(agent.clone(), info.clone());
                    replies.push((reply_to.clone(), Message::Agent(info)));
                }
                _ => replies.push((
                    reply_to.clone(),
                    Message::Error {
                        agent: Some(agent),
                        code: "Unauthorized".into(),
                        message: "Invalid agent id or password".into(),
                        dialog: None,
                    },
                )),
            },
            Message::SetState {
                agent,
                state: new,
                reason,
            } => {
                if let Some(info) = st.agents.get_mut(&agent) {
                    info.state = Some(new);
                    info.reason_code = reason;
                }
                replies.push((reply_to.clone(), agent_reply(&st, &agent)));
            }
            Message::Logout { agent, .. } => {
                if let Some(info) = st.agents.get_mut(&agent) {
                    info.state = Some(AgentState::Logout);
                    info.reason_code = None;
                }
                replies.push((reply_to.clone(), agent_reply(&st, &agent)));
            }
            other => eprintln!("scripted peer: unexpected {other:?}"),
        }
        drop(st);
        for (to, msg) in replies {
            seq += 1;
            let to = if to.is_empty() {
                routes.values().next().cloned().unwrap_or_default()
            } else {
                to
            };
            let reply = Envelope::new(format!("peer-{seq}"), msg).answering(&env.id);
            if let Err(e) = conn.send(&to, &[], &reply.to_json()) {
                eprintln!("scripted peer: send failed: {e}");
                return;
            }
        }
    }
}
