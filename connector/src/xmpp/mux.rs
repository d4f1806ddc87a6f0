//! Many XMPP sessions on one event-loop thread (`mio`): the thread owns every socket, drives
//! each session's [`XmppClient`], and carries out what a socket cannot decide alone — connect
//! and login timeouts, keepalive pings, reconnects with a jittered backoff, and a cap on the
//! logins in progress so that thousands of sessions starting at once (a connector restart)
//! do not stampede the server. Sessions are started and stopped through a channel and a
//! `mio` waker ([`Mux`]); what happens to them goes to a sink ([`MuxEvent`]).
//!
//! Per session the thread keeps the socket, the client's buffers (a few KB when idle) and its
//! TLS state; there is no thread per session.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

use super::{Login, XmppClient, XmppError, XmppEvent, XmppTls};

const WAKER: Token = Token(0);

/// How the event loop treats its sessions.
#[derive(Clone, Debug)]
pub struct MuxSettings {
    /// Time allowed from connect to logged in and subscribed.
    pub login_timeout: Duration,
    /// Silence after which a ping is sent to an online session.
    pub keepalive: Duration,
    /// Time a keepalive ping may wait for bytes before the session counts as lost.
    pub ping_timeout: Duration,
    /// The first delay before a reconnect (doubled after each failure, jittered).
    pub backoff_min: Duration,
    /// The largest delay before a reconnect.
    pub backoff_max: Duration,
    /// Logins in progress at once; further sessions wait their turn.
    pub max_logins: usize,
    /// Bytes read from one session before the others get their turn.
    pub read_slice: usize,
}

impl Default for MuxSettings {
    fn default() -> Self {
        MuxSettings {
            login_timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(60),
            ping_timeout: Duration::from_secs(20),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(10),
            max_logins: 64,
            read_slice: 256 * 1024,
        }
    }
}

/// Where and how a session logs in.
#[derive(Clone, Debug)]
pub struct Target {
    /// The XMPP server's host (name or address).
    pub host: String,
    /// Its port.
    pub port: u16,
    /// The transport.
    pub tls: XmppTls,
    /// Who logs in.
    pub login: Login,
}

/// What happened to a session (`agent`, `session` given with it to the sink).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MuxEvent {
    /// Logged in and subscribed.
    Up,
    /// The escaped `<Update>` document of a notification.
    Notification(String),
    /// The node's `finesse` user became available (`true`) or unavailable.
    FinessePresence(bool),
    /// An online session broke (or was stopped); the loop retries unless stopped.
    Lost(String),
    /// The server refused the credentials; the session is given up.
    Refused(String),
}

/// Receives session events on the loop thread: (agent, session, event).
pub type Sink = Box<dyn FnMut(&str, u64, MuxEvent) + Send>;

enum Cmd {
    Start {
        agent: String,
        session: u64,
        target: Box<Target>,
    },
    Stop {
        agent: String,
        session: u64,
    },
    Shutdown,
}

/// A handle on the event loop (cheap to clone); its thread ends on [`Mux::shutdown`] or when
/// every handle is dropped.
#[derive(Clone)]
pub struct Mux {
    tx: Sender<Cmd>,
    waker: Arc<Waker>,
}

impl Mux {
    /// Starts the event-loop thread.
    pub fn start(settings: MuxSettings, sink: Sink) -> io::Result<(Mux, JoinHandle<()>)> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut lp = Loop::new(poll, rx, settings, sink);
        let thread = std::thread::Builder::new()
            .name("connector-xmpp".into())
            .spawn(move || lp.run())?;
        Ok((Mux { tx, waker }, thread))
    }

    fn send(&self, cmd: Cmd) {
        if self.tx.send(cmd).is_ok() {
            let _ = self.waker.wake();
        }
    }

    /// Starts `agent`'s session `session`, replacing (stopping) any session it has.
    pub fn start_session(&self, agent: String, session: u64, target: Target) {
        self.send(Cmd::Start {
            agent,
            session,
            target: Box::new(target),
        });
    }

    /// Stops `agent`'s session `session`, if it is still the agent's.
    pub fn stop_session(&self, agent: String, session: u64) {
        self.send(Cmd::Stop { agent, session });
    }

    /// Stops every session and ends the thread (join its handle to wait).
    pub fn shutdown(&self) {
        self.send(Cmd::Shutdown);
    }
}

/// A session's connection attempt.
struct Live {
    sock: TcpStream,
    token: Token,
    client: XmppClient,
    connected: bool,
    last_rx: Instant,
    ping_out: bool,
}

struct Session {
    agent: String,
    id: u64,
    target: Box<Target>,
    live: Option<Live>,
    up: bool,
    backoff: Duration,
    /// When the session's timer fires (retry, login timeout or keepalive).
    deadline: Option<Instant>,
}

struct Loop {
    poll: Poll,
    rx: Receiver<Cmd>,
    settings: MuxSettings,
    sink: Sink,
    /// Sessions by slot (a number per start command).
    sessions: HashMap<u64, Session>,
    agents: HashMap<String, u64>,
    tokens: HashMap<Token, u64>,
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    /// Slots waiting for a login slot, oldest first.
    queued: VecDeque<u64>,
    logging_in: usize,
    next_slot: u64,
    next_token: usize,
    resolved: HashMap<(String, u16), (SocketAddr, Instant)>,
    rng: u64,
    buf: Box<[u8]>,
    /// Sessions that stopped reading at `read_slice` bytes with more waiting.
    again: Vec<u64>,
    done: bool,
}

/// How long a resolved address is reused.
const RESOLVE_TTL: Duration = Duration::from_secs(60);
/// The wait before retrying a session whose server address does not resolve.
const UNRESOLVED_RETRY: Duration = Duration::from_secs(5);

impl Loop {
    fn new(poll: Poll, rx: Receiver<Cmd>, settings: MuxSettings, sink: Sink) -> Loop {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Loop {
            poll,
            rx,
            settings,
            sink,
            sessions: HashMap::new(),
            agents: HashMap::new(),
            tokens: HashMap::new(),
            timers: BinaryHeap::new(),
            queued: VecDeque::new(),
            logging_in: 0,
            next_slot: 0,
            next_token: 1,
            resolved: HashMap::new(),
            rng: seed | 1,
            buf: vec![0u8; 32 * 1024].into_boxed_slice(),
            again: Vec::new(),
            done: false,
        }
    }

    fn run(&mut self) {
        let mut events = Events::with_capacity(1024);
        while !self.done {
            let now = Instant::now();
            let wait = self
                .timers
                .peek()
                .map(|Reverse((t, _))| t.saturating_duration_since(now))
                .unwrap_or(Duration::from_secs(1))
                .min(Duration::from_secs(1));
            // Sessions with more to read are served again without waiting.
            let wait = if self.again.is_empty() {
                wait
            } else {
                Duration::ZERO
            };
            if let Err(e) = self.poll.poll(&mut events, Some(wait)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    tracing::error!("XMPP event loop: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                }
                continue;
            }
            for ev in events.iter() {
                if ev.token() == WAKER {
                    continue;
                }
                if let Some(&slot) = self.tokens.get(&ev.token()) {
                    self.on_ready(slot);
                }
            }
            for slot in std::mem::take(&mut self.again) {
                self.on_ready(slot);
            }
            self.commands();
            self.fire_timers();
            self.start_queued();
        }
        let slots: Vec<u64> = self.sessions.keys().copied().collect();
        for slot in slots {
            self.remove(slot);
        }
    }

    fn commands(&mut self) {
        loop {
            match self.rx.try_recv() {
                Ok(Cmd::Start {
                    agent,
                    session,
                    target,
                }) => {
                    if let Some(old) = self.agents.get(&agent).copied() {
                        self.remove(old);
                    }
                    self.next_slot += 1;
                    let slot = self.next_slot;
                    self.agents.insert(agent.clone(), slot);
                    self.sessions.insert(
                        slot,
                        Session {
                            agent,
                            id: session,
                            target,
                            live: None,
                            up: false,
                            backoff: self.settings.backoff_min,
                            deadline: None,
                        },
                    );
                    self.queued.push_back(slot);
                }
                Ok(Cmd::Stop { agent, session }) => {
                    if let Some(&slot) = self.agents.get(&agent) {
                        if self.sessions.get(&slot).is_some_and(|s| s.id == session) {
                            self.remove(slot);
                        }
                    }
                }
                Ok(Cmd::Shutdown) | Err(TryRecvError::Disconnected) => {
                    self.done = true;
                    return;
                }
                Err(TryRecvError::Empty) => return,
            }
        }
    }

    /// Ends a session for good: closes its stream, and reports it lost if it was up.
    fn remove(&mut self, slot: u64) {
        let Some(mut s) = self.sessions.remove(&slot) else {
            return;
        };
        if self.agents.get(&s.agent) == Some(&slot) {
            self.agents.remove(&s.agent);
        }
        if let Some(mut live) = s.live.take() {
            live.client.close();
            let _ = live.sock.write(live.client.wire());
            self.drop_live(&s, live);
        }
        if s.up {
            (self.sink)(&s.agent, s.id, MuxEvent::Lost("stopped".into()));
        }
    }

    fn drop_live(&mut self, s: &Session, mut live: Live) {
        self.tokens.remove(&live.token);
        let _ = self.poll.registry().deregister(&mut live.sock);
        if !s.up {
            self.logging_in = self.logging_in.saturating_sub(1);
        }
    }

    fn set_timer(&mut self, slot: u64, at: Instant) {
        if let Some(s) = self.sessions.get_mut(&slot) {
            s.deadline = Some(at);
            self.timers.push(Reverse((at, slot)));
        }
    }

    fn start_queued(&mut self) {
        while self.logging_in < self.settings.max_logins {
            let Some(slot) = self.queued.pop_front() else {
                return;
            };
            if self.sessions.get(&slot).is_some_and(|s| s.live.is_none()) {
                self.connect(slot);
            }
        }
    }

    fn resolve(&mut self, host: &str, port: u16) -> Option<SocketAddr> {
        let key = (host.to_string(), port);
        if let Some((addr, at)) = self.resolved.get(&key) {
            if at.elapsed() < RESOLVE_TTL {
                return Some(*addr);
            }
        }
        let addr = (host, port).to_socket_addrs().ok()?.next()?;
        self.resolved.insert(key, (addr, Instant::now()));
        Some(addr)
    }

    fn connect(&mut self, slot: u64) {
        let Some(s) = self.sessions.get(&slot) else {
            return;
        };
        let (host, port) = (s.target.host.clone(), s.target.port);
        let Some(addr) = self.resolve(&host, port) else {
            tracing::error!("cannot resolve the XMPP address {host}:{port}");
            self.set_timer(slot, Instant::now() + UNRESOLVED_RETRY);
            return;
        };
        let s = &self.sessions[&slot];
        let attempt = XmppClient::new(s.target.login.clone(), s.target.tls.clone())
            .and_then(|client| Ok((client, TcpStream::connect(addr).map_err(XmppError::Io)?)));
        let (client, mut sock) = match attempt {
            Ok(x) => x,
            Err(e) => return self.retry(slot, &e),
        };
        let token = Token(self.next_token);
        self.next_token = self.next_token.wrapping_add(1).max(1);
        if let Err(e) =
            self.poll
                .registry()
                .register(&mut sock, token, Interest::READABLE | Interest::WRITABLE)
        {
            return self.retry(slot, &XmppError::Io(e));
        }
        self.tokens.insert(token, slot);
        self.logging_in += 1;
        let now = Instant::now();
        if let Some(s) = self.sessions.get_mut(&slot) {
            s.live = Some(Live {
                sock,
                token,
                client,
                connected: false,
                last_rx: now,
                ping_out: false,
            });
        }
        self.set_timer(slot, now + self.settings.login_timeout);
    }

    /// A delay in [d/2, d]: sessions that failed together do not retry together.
    fn jitter(&mut self, d: Duration) -> Duration {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let half = d / 2;
        half + Duration::from_nanos(self.rng % (half.as_nanos().max(1) as u64))
    }

    /// The attempt failed: refused credentials end the session, anything else is retried.
    fn retry(&mut self, slot: u64, e: &XmppError) {
        let Some(mut s) = self.sessions.remove(&slot) else {
            return;
        };
        if let Some(live) = s.live.take() {
            self.drop_live(&s, live);
        }
        if let XmppError::Auth(why) = e {
            if self.agents.get(&s.agent) == Some(&slot) {
                self.agents.remove(&s.agent);
            }
            (self.sink)(&s.agent, s.id, MuxEvent::Refused(why.clone()));
            return;
        }
        let delay = self.jitter(s.backoff);
        if s.up {
            s.up = false;
            (self.sink)(&s.agent, s.id, MuxEvent::Lost(e.to_string()));
        } else {
            tracing::warn!("agent {}: {e}; retrying in {delay:?}", s.agent);
        }
        s.backoff = (s.backoff * 2).min(self.settings.backoff_max);
        self.sessions.insert(slot, s);
        self.set_timer(slot, Instant::now() + delay);
    }

    fn on_ready(&mut self, slot: u64) {
        match self.service(slot) {
            Ok(true) => self.again.push(slot),
            Ok(false) => {}
            Err(e) => self.retry(slot, &e),
        }
    }

    /// Completes the connect, reads what arrived (up to `read_slice` bytes), hands on the
    /// events, writes what is due. `Ok(true)`: more may be waiting to be read.
    fn service(&mut self, slot: u64) -> Result<bool, XmppError> {
        let Some(s) = self.sessions.get_mut(&slot) else {
            return Ok(false);
        };
        let Some(live) = s.live.as_mut() else {
            return Ok(false);
        };
        if !live.connected {
            if let Some(e) = live.sock.take_error().map_err(XmppError::Io)? {
                return Err(XmppError::Io(e));
            }
            match live.sock.peer_addr() {
                Ok(_) => {
                    live.connected = true;
                    let _ = live.sock.set_nodelay(true);
                }
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(false),
                Err(e) => return Err(XmppError::Io(e)),
            }
        }
        // What arrived before a failure (an update, or the end of the login) still counts.
        let (mut failed, mut got, mut more) = (None, 0, false);
        while failed.is_none() {
            if got >= self.settings.read_slice {
                more = true;
                break;
            }
            match live.sock.read(&mut self.buf) {
                Ok(0) => failed = Some(XmppError::Link("connection closed".into())),
                Ok(n) => {
                    got += n;
                    live.last_rx = Instant::now();
                    live.ping_out = false;
                    if let Err(e) = live.client.receive(&self.buf[..n]) {
                        // A TLS alert explaining the failure still goes out, best effort.
                        let _ = flush(live);
                        failed = Some(e);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => failed = Some(XmppError::Io(e)),
            }
        }
        while let Some(ev) = live.client.next_event() {
            let ev = match ev {
                XmppEvent::Online { jid } => {
                    tracing::debug!("agent {}: XMPP session {jid}", s.agent);
                    s.up = true;
                    s.backoff = self.settings.backoff_min;
                    self.logging_in = self.logging_in.saturating_sub(1);
                    let at = Instant::now() + self.settings.keepalive;
                    s.deadline = Some(at);
                    self.timers.push(Reverse((at, slot)));
                    MuxEvent::Up
                }
                XmppEvent::Notification(text) => MuxEvent::Notification(text),
                XmppEvent::FinessePresence { available } => MuxEvent::FinessePresence(available),
            };
            (self.sink)(&s.agent, s.id, ev);
        }
        match failed {
            Some(e) => Err(e),
            None => flush(live).map(|()| more),
        }
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(&Reverse((at, slot))) = self.timers.peek() {
            if at > now {
                return;
            }
            self.timers.pop();
            let Some(s) = self.sessions.get_mut(&slot) else {
                continue;
            };
            if s.deadline != Some(at) {
                continue;
            }
            s.deadline = None;
            let up = s.up;
            let Some(live) = s.live.as_mut() else {
                self.queued.push_back(slot);
                continue;
            };
            if !up {
                let e =
                    XmppError::Link(format!("no login within {:?}", self.settings.login_timeout));
                self.retry(slot, &e);
            } else if live.ping_out {
                let e = XmppError::Link("no answer to a keepalive ping".into());
                self.retry(slot, &e);
            } else if now.duration_since(live.last_rx) >= self.settings.keepalive {
                live.client.ping();
                live.ping_out = true;
                let r = flush(live);
                self.set_timer(slot, now + self.settings.ping_timeout);
                if let Err(e) = r {
                    self.retry(slot, &e);
                }
            } else {
                let at = live.last_rx + self.settings.keepalive;
                self.set_timer(slot, at);
            }
        }
    }
}

/// Writes what the client has for the socket, as far as the socket takes it.
fn flush(live: &mut Live) -> Result<(), XmppError> {
    while !live.client.wire().is_empty() {
        match live.sock.write(live.client.wire()) {
            Ok(0) => return Err(XmppError::Link("connection closed".into())),
            Ok(n) => live.client.sent(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(XmppError::Io(e)),
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "mux_tests.rs"]
mod tests;
