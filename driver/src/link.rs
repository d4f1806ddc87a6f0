//! The broker link: ONE STOMP connection and ONE background thread per driver instance.
//!
//! The thread owns the socket (non-blocking, `mio`), connects and reconnects over the list of
//! broker addresses (which one and when is [`stomp::Failover`]'s decision), and multiplexes
//! two inputs without busy waiting: frames from the broker and commands from host threads (a
//! channel plus a `mio` waker). The STOMP handshake, heart-beat and timeout decisions are
//! [`stomp::Session`]'s; this file only carries them out. Host threads never touch the socket,
//! so they never wait on the network. `mio` is a thin wrapper over epoll/kqueue/IOCP with no
//! runtime, which is all we want inside Siebel's process.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::clock::Now;
use crate::stomp::{
    self, BrokerAddr, Decoder, Failover, Frame, Item, Received, SessionError, TlsSettings,
};

mod conn;

use conn::Conn;

const SOCKET: Token = Token(0);
const WAKER: Token = Token(1);
/// Bytes read from the socket before what they hold is handled.
const READ_SLICE: usize = 256 * 1024;

/// Settings of a link.
#[derive(Clone, Debug)]
pub struct LinkSettings {
    /// The brokers' STOMP addresses, in failover order (at least one).
    pub brokers: Vec<BrokerAddr>,
    /// Broker login (empty: none).
    pub login: String,
    /// Broker passcode.
    pub passcode: String,
    /// Heart-beat interval offered and expected (0: none).
    pub heartbeat: Duration,
    /// Time allowed for TCP connect plus the STOMP handshake.
    pub connect_timeout: Duration,
    /// The delay after the first round of failed attempts (doubles after each failed round).
    pub reconnect_min: Duration,
    /// The largest delay between rounds: how long a broker that is back may wait to be seen.
    pub reconnect_max: Duration,
    /// STOMP over TLS (the broker's certificate checked against a CA file); `None`: plain.
    pub tls: Option<TlsSettings>,
}

/// What the link's owner does with link events; all methods run on the link thread. Each one
/// gets the time of the event and queues what it wants sent in an [`Outbox`]; the link writes
/// the queued frames to the socket afterwards.
pub trait LinkHandler<C> {
    /// The STOMP session is up: subscribe and announce here.
    fn on_up(&mut self, now: Now, out: &mut Outbox);
    /// The connection was lost or could not be made (`first`: the first failure since up).
    fn on_down(&mut self, now: Now, reason: &str, first: bool);
    /// A frame from the broker (MESSAGE, RECEIPT, ERROR).
    fn on_frame(&mut self, now: Now, frame: Frame, out: &mut Outbox);
    /// A command from a host thread.
    fn on_command(&mut self, now: Now, cmd: C, out: &mut Outbox);
    /// Called about once a second, for the owner's timers.
    fn on_tick(&mut self, _now: Now, _out: &mut Outbox) {}
}

/// Frames a handler queued for the broker, and whether the STOMP session is up to take them.
#[derive(Debug, Default)]
pub struct Outbox {
    up: bool,
    backlog: bool,
    frames: Vec<Frame>,
}

impl Outbox {
    /// An empty outbox for a link that is (or is not) up.
    pub fn new(up: bool) -> Self {
        Outbox {
            up,
            backlog: false,
            frames: Vec::new(),
        }
    }

    /// The same, telling the handler whether bytes received from the broker still wait to
    /// be handled (a burst read a slice per turn).
    pub fn with_backlog(up: bool, backlog: bool) -> Self {
        Outbox {
            backlog,
            ..Outbox::new(up)
        }
    }

    /// Whether bytes received from the broker still wait to be handled: a silence measured
    /// now may be our own, not the sender's.
    pub fn backlog(&self) -> bool {
        self.backlog
    }

    /// Whether the STOMP session is up.
    pub fn up(&self) -> bool {
        self.up
    }

    /// Queues a frame; returns false (and drops it) when the link is down.
    pub fn send(&mut self, frame: Frame) -> bool {
        if self.up {
            self.frames.push(frame);
        }
        self.up
    }

    /// The frames queued so far, oldest first.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// Takes the queued frames out, oldest first.
    pub fn take(&mut self) -> Vec<Frame> {
        std::mem::take(&mut self.frames)
    }
}

/// A command for the link thread, or the order to stop.
pub enum Control<C> {
    /// Deliver to the handler.
    Command(C),
    /// Close the connection and end the thread.
    Stop,
}

/// The sending side of a link: host threads use it to reach the link thread.
pub struct LinkSender<C> {
    tx: Sender<Control<C>>,
    waker: std::sync::Arc<Waker>,
}

impl<C> Clone for LinkSender<C> {
    fn clone(&self) -> Self {
        LinkSender {
            tx: self.tx.clone(),
            waker: self.waker.clone(),
        }
    }
}

impl<C> LinkSender<C> {
    /// Hands a command to the link thread without blocking. False if the thread has ended.
    pub fn send(&self, cmd: C) -> bool {
        self.control(Control::Command(cmd))
    }

    /// Asks the link thread to stop.
    pub fn stop(&self) -> bool {
        self.control(Control::Stop)
    }

    fn control(&self, c: Control<C>) -> bool {
        if self.tx.send(c).is_err() {
            return false;
        }
        self.waker.wake().is_ok()
    }
}

/// The link: created on the owner's thread, then `run` on the link thread.
pub struct Link<C> {
    settings: LinkSettings,
    poll: Poll,
    rx: Receiver<Control<C>>,
    conn: Option<Conn>,
    failover: Failover,
    next_attempt: Instant,
    failures: u32,
    /// The socket may hold more than the slice read last turn.
    backlog: bool,
}

impl<C> Link<C> {
    /// Creates the link and the sender host threads use; `InvalidInput` without a broker.
    pub fn new(settings: LinkSettings) -> io::Result<(Self, LinkSender<C>)> {
        if settings.brokers.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no broker address",
            ));
        }
        let poll = Poll::new()?;
        let waker = std::sync::Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (tx, rx) = crossbeam_channel::unbounded();
        let failover = Failover::new(
            settings.brokers.len(),
            settings.reconnect_min,
            settings.reconnect_max,
        );
        Ok((
            Link {
                settings,
                poll,
                rx,
                conn: None,
                failover,
                next_attempt: Instant::now(),
                failures: 0,
                backlog: false,
            },
            LinkSender { tx, waker },
        ))
    }

    /// Runs until `stop` is called or every sender is gone.
    pub fn run(mut self, handler: &mut dyn LinkHandler<C>) {
        let mut events = Events::with_capacity(64);
        let mut last_tick = Instant::now();
        loop {
            let now = Instant::now();
            if self.conn.is_none() && now >= self.next_attempt {
                self.start_connect(handler);
            }
            // With a backlog on the socket, look for commands and timers and come back at once.
            let timeout = if self.backlog {
                Duration::ZERO
            } else {
                self.next_deadline(last_tick)
                    .saturating_duration_since(Instant::now())
            };
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    tracing::error!("broker link: poll failed: {e}");
                    std::thread::sleep(Duration::from_millis(50));
                }
                continue;
            }
            let mut socket_event = false;
            for ev in events.iter() {
                if ev.token() == SOCKET {
                    socket_event = true;
                }
            }
            if socket_event || self.backlog {
                self.on_socket(handler);
            }
            // Commands, whether or not the waker fired (it may coalesce).
            loop {
                match self.rx.try_recv() {
                    Ok(Control::Command(c)) => {
                        let mut out = self.outbox();
                        handler.on_command(Now::read(), c, &mut out);
                        self.queue(out);
                    }
                    Ok(Control::Stop) | Err(TryRecvError::Disconnected) => {
                        self.close_gracefully();
                        return;
                    }
                    Err(TryRecvError::Empty) => break,
                }
            }
            if last_tick.elapsed() >= Duration::from_secs(1) {
                last_tick = Instant::now();
                let mut out = self.outbox();
                handler.on_tick(Now::read(), &mut out);
                self.queue(out);
            }
            self.check_timers(handler);
            self.flush(handler);
        }
    }

    /// An outbox for a handler call, open while the STOMP session is up.
    fn outbox(&self) -> Outbox {
        let up = self.conn.as_ref().is_some_and(|c| c.session.established());
        Outbox::with_backlog(up, self.backlog)
    }

    /// Encodes what a handler queued; it goes out at the next flush.
    fn queue(&mut self, mut out: Outbox) {
        let Some(c) = self.conn.as_mut().filter(|c| c.session.established()) else {
            return;
        };
        for frame in out.take() {
            tracing::trace!(
                "frame out: {} {:?}",
                frame.command,
                frame.get("destination")
            );
            frame.encode(&mut c.out);
            c.session.sent(Instant::now());
        }
    }

    fn next_deadline(&self, last_tick: Instant) -> Instant {
        let mut d = last_tick + Duration::from_secs(1);
        match &self.conn {
            None => d = d.min(self.next_attempt),
            // A heart-beat is only queued when nothing waits to be written (a WRITABLE event
            // wakes the loop when the socket drains): no busy loop meanwhile.
            Some(c) => {
                if let Some(t) = c.session.next_deadline(c.drained()) {
                    d = d.min(t);
                }
            }
        }
        d
    }

    /// The broker address of the attempt in progress (or of the session).
    fn broker(&self) -> &BrokerAddr {
        // `new` refused an empty list; `Failover` keeps the index below its length.
        &self.settings.brokers[self.failover.current() % self.settings.brokers.len()]
    }

    fn start_connect(&mut self, handler: &mut dyn LinkHandler<C>) {
        let broker = self.broker();
        let addr: SocketAddr = match stomp::resolve(&broker.host, broker.port) {
            Ok(a) => a,
            Err(e) => {
                let m = format!("cannot resolve broker host {}: {e}", broker.host);
                return self.fail(handler, &m);
            }
        };
        let tls = match &self.settings.tls {
            None => None,
            Some(t) => match t.connect(&broker.host) {
                Ok(c) => Some(Box::new(c)),
                Err(e) => return self.fail(handler, &e.to_string()),
            },
        };
        match TcpStream::connect(addr) {
            Ok(mut stream) => {
                if let Err(e) = self.poll.registry().register(
                    &mut stream,
                    SOCKET,
                    Interest::READABLE | Interest::WRITABLE,
                ) {
                    return self.fail(handler, &format!("cannot register socket: {e}"));
                }
                let now = Instant::now();
                tracing::debug!(
                    "broker link: connecting to {addr}{}",
                    if tls.is_some() { " (TLS)" } else { "" }
                );
                let session = stomp::Session::new(
                    self.settings.heartbeat,
                    self.settings.connect_timeout,
                    now,
                );
                self.conn = Some(Conn {
                    stream,
                    connected: false,
                    session,
                    decoder: Decoder::new(),
                    out: Vec::new(),
                    tls,
                });
            }
            Err(e) => self.fail(handler, &format!("cannot connect to broker {addr}: {e}")),
        }
    }

    /// Drops the connection, tells the handler, and schedules the next attempt.
    fn fail(&mut self, handler: &mut dyn LinkHandler<C>, reason: &str) {
        self.backlog = false;
        if let Some(mut c) = self.conn.take() {
            let _ = self.poll.registry().deregister(&mut c.stream);
        }
        self.failures += 1;
        let first = self.failures == 1;
        if first {
            tracing::warn!("broker link down ({}): {reason}", self.broker());
        } else {
            tracing::debug!(
                "broker link still down ({} attempts, {}): {reason}",
                self.failures,
                self.broker()
            );
        }
        handler.on_down(Now::read(), reason, first);
        let next = self.failover.failed(Instant::now());
        tracing::debug!(
            "broker link: next attempt {} in {:?}",
            self.broker(),
            next.after
        );
        self.next_attempt = Instant::now() + next.after;
    }

    fn on_socket(&mut self, handler: &mut dyn LinkHandler<C>) {
        let Some(c) = self.conn.as_mut() else { return };
        if !c.connected {
            // A non-blocking connect finished: success or failure?
            match c.stream.take_error() {
                Ok(Some(e)) | Err(e) => return self.fail(handler, &format!("connect failed: {e}")),
                Ok(None) => {}
            }
            match c.stream.peer_addr() {
                Ok(_) => {
                    c.connected = true;
                    let _ = c.stream.set_nodelay(true);
                    c.session
                        .connect(&self.settings.login, &self.settings.passcode)
                        .encode(&mut c.out);
                }
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(e) => return self.fail(handler, &format!("connect failed: {e}")),
            }
        }
        // Read ONE slice, decoded and handled at once: a backlog on the broker never piles
        // up in memory here, and a burst of frames (thousands of requests) never holds up
        // what goes out (answers, heartbeats) nor the timers: the rest waits for the next
        // turn of the loop, which comes at once.
        self.backlog = false;
        let first = self.failures == 0;
        let Some(c) = self.conn.as_mut() else { return };
        let more = match c.read_slice(first) {
            Ok(more) => more,
            Err(reason) => return self.fail(handler, &reason),
        };
        if self.dispatch(handler) {
            self.backlog = more;
        }
    }

    /// Hands every complete frame to the session and the handler; false once the
    /// connection failed.
    fn dispatch(&mut self, handler: &mut dyn LinkHandler<C>) -> bool {
        loop {
            let Some(c) = self.conn.as_mut() else {
                return false;
            };
            let item = match c.decoder.next_item() {
                Ok(Some(i)) => i,
                Ok(None) => return true,
                Err(e) => {
                    self.fail(handler, &e.to_string());
                    return false;
                }
            };
            let frame = match item {
                Item::Frame(frame) => frame,
                Item::Heartbeat => continue,
                Item::Oversized {
                    command,
                    destination,
                    bytes,
                } => {
                    tracing::warn!(
                        "broker link: dropped an oversized frame ({command} to {}, {bytes} bytes, limit {} bytes); the link stays up",
                        destination.as_deref().unwrap_or("?"),
                        stomp::MAX_FRAME_BYTES
                    );
                    continue;
                }
            };
            match c.session.on_frame(frame) {
                Ok(Received::Connected { server }) => {
                    let (out_every, in_every) = c.session.heartbeats();
                    tracing::info!(
                        "broker link up: {} (server {}), heart-beat out {out_every:?} in {in_every:?}",
                        self.broker(),
                        server.as_deref().unwrap_or("?"),
                    );
                    self.failures = 0;
                    self.failover.up(Instant::now());
                    let mut out = Outbox::new(true);
                    handler.on_up(Now::read(), &mut out);
                    self.queue(out);
                }
                Ok(Received::Frame(frame)) => {
                    tracing::trace!("frame in: {} {:?}", frame.command, frame.get("destination"));
                    let mut out = Outbox::new(true);
                    handler.on_frame(Now::read(), frame, &mut out);
                    self.queue(out);
                }
                Err(e) => {
                    // The broker closes the connection after an ERROR frame.
                    if matches!(e, SessionError::Broker(_)) {
                        tracing::error!("{e}");
                    }
                    self.fail(handler, &e.to_string());
                    return false;
                }
            }
        }
    }

    /// Carries out the session's timers: the connect timeout, a silent broker, heart-beats.
    fn check_timers(&mut self, handler: &mut dyn LinkHandler<C>) {
        let Some(c) = self.conn.as_mut() else { return };
        let now = Instant::now();
        if let Err(e) = c.session.check(now, c.connected) {
            return self.fail(handler, &e.to_string());
        }
        if c.session.heartbeat_due(now, c.drained()) {
            c.out.push(b'\n');
            c.session.sent(now);
        }
    }

    fn flush(&mut self, handler: &mut dyn LinkHandler<C>) {
        let Some(c) = self.conn.as_mut() else { return };
        if !c.connected {
            return;
        }
        if let Some(tls) = c.tls.as_mut() {
            // Plaintext into the TLS session (buffered until the handshake is done, up to
            // its limit), records to the socket, until the socket is full or nothing is left
            // that can go now.
            loop {
                if !c.out.is_empty() {
                    match tls.writer().write(&c.out) {
                        Ok(n) => {
                            c.out.drain(..n);
                        }
                        Err(e) => return self.fail(handler, &format!("TLS write failed: {e}")),
                    }
                }
                if !tls.wants_write() {
                    return;
                }
                match tls.write_tls(&mut c.stream) {
                    Ok(0) => return self.fail(handler, "broker socket closed on write"),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return self.fail(handler, &format!("write failed: {e}")),
                }
            }
        }
        while !c.out.is_empty() {
            match c.stream.write(&c.out) {
                Ok(0) => return self.fail(handler, "broker socket closed on write"),
                Ok(n) => {
                    c.out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return self.fail(handler, &format!("write failed: {e}")),
            }
        }
    }

    /// Sends DISCONNECT and whatever is queued, briefly, then closes.
    fn close_gracefully(&mut self) {
        let Some(c) = self.conn.as_mut() else { return };
        if c.session.established() {
            Frame::new("DISCONNECT").encode(&mut c.out);
        }
        if let Some(tls) = c.tls.as_mut() {
            let _ = tls.writer().write_all(&c.out);
            tls.send_close_notify();
            c.out.clear();
            let deadline = Instant::now() + Duration::from_millis(500);
            while c.connected && tls.wants_write() && Instant::now() < deadline {
                match tls.write_tls(&mut c.stream) {
                    Ok(n) if n > 0 => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    _ => break,
                }
            }
        }
        let deadline = Instant::now() + Duration::from_millis(500);
        while c.connected && !c.out.is_empty() && Instant::now() < deadline {
            match c.stream.write(&c.out) {
                Ok(n) if n > 0 => {
                    c.out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                _ => break,
            }
        }
        let _ = c.stream.shutdown(std::net::Shutdown::Both);
        tracing::info!("broker link closed");
    }
}
