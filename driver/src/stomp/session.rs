//! One STOMP connection's session logic, without sockets or clocks: the CONNECT frame, what
//! the broker's first frames mean, heart-beat negotiation (STOMP 1.2), when a heart-beat is
//! due, when the broker has been silent too long, and the connect timeout. The caller (the
//! link) owns the socket and hands in frames and the time (`now`).

use std::fmt;
use std::time::{Duration, Instant};

use super::codec::Frame;

/// The CONNECT frame the driver and the connector send (STOMP 1.2 only).
pub fn connect_frame(login: &str, passcode: &str, heartbeat_ms: u64) -> Frame {
    let mut f = Frame::new("CONNECT")
        .header("accept-version", "1.2")
        .header("host", "localhost")
        .header("heart-beat", &format!("{heartbeat_ms},{heartbeat_ms}"));
    if !login.is_empty() {
        f = f.header("login", login).header("passcode", passcode);
    }
    f
}

/// The human text of a broker ERROR frame.
pub fn broker_message(f: &Frame) -> String {
    let mut m = f.get("message").unwrap_or("ERROR").to_string();
    let body = f.text();
    let body = body.trim();
    if !body.is_empty() {
        m.push_str(": ");
        m.push_str(&body.chars().take(300).collect::<String>());
    }
    m
}

/// The two numbers of a `heart-beat` header (`cx,cy` in ms); missing or bad parts are 0.
pub fn parse_heartbeat(h: Option<&str>) -> (u64, u64) {
    let Some(h) = h else { return (0, 0) };
    let mut it = h.split(',').map(|p| p.trim().parse::<u64>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

/// STOMP 1.2 heart-beat negotiation: with `ours` offered both ways and the broker's
/// CONNECTED header `(sx, sy)`, how often we must send and how often the broker will.
/// 0 on either side means none; otherwise the larger of the two.
pub fn negotiate(ours: Duration, (sx, sy): (u64, u64)) -> (Duration, Duration) {
    let pick = |theirs: u64| {
        if ours.is_zero() || theirs == 0 {
            Duration::ZERO
        } else {
            ours.max(Duration::from_millis(theirs))
        }
    };
    (pick(sy), pick(sx))
}

/// Why a session ended (or never started).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionError {
    /// The broker answered CONNECT with ERROR (its message).
    Refused(String),
    /// The broker's first frame was neither CONNECTED nor ERROR (its command).
    Unexpected(String),
    /// The broker sent ERROR on an established session (it closes the connection next).
    Broker(String),
    /// No TCP connection, or no CONNECTED frame, within the connect timeout.
    ConnectTimeout {
        /// Whether the TCP connection was made (the CONNECTED frame is what was missing).
        tcp_connected: bool,
        /// The connect timeout.
        after: Duration,
    },
    /// Neither data nor heart-beat from the broker for twice its heart-beat interval.
    Silent(Duration),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Refused(m) => write!(f, "broker refused the session: {m}"),
            SessionError::Unexpected(c) => write!(f, "expected CONNECTED, got {c}"),
            SessionError::Broker(m) => write!(f, "broker error: {m}"),
            SessionError::ConnectTimeout {
                tcp_connected,
                after,
            } => {
                let what = if *tcp_connected {
                    "no STOMP CONNECTED frame"
                } else {
                    "TCP connect"
                };
                write!(f, "{what} within {after:?}")
            }
            SessionError::Silent(t) => write!(f, "no data nor heart-beat from broker for {t:?}"),
        }
    }
}

impl std::error::Error for SessionError {}

/// What a frame from the broker meant.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// CONNECTED: the session is up (the broker's `server` header, if any).
    Connected {
        /// The broker's product and version.
        server: Option<String>,
    },
    /// A frame of the established session (MESSAGE, RECEIPT), for the owner.
    Frame(Frame),
}

/// The state of one STOMP session over one connection attempt.
#[derive(Debug)]
pub struct Session {
    heartbeat: Duration,
    connect_timeout: Duration,
    started: Instant,
    established: bool,
    last_rx: Instant,
    last_tx: Instant,
    send_every: Duration,
    expect_every: Duration,
}

impl Session {
    /// A session whose connection attempt starts `now`, offering `heartbeat` both ways (0:
    /// none) and allowing `connect_timeout` for TCP connect plus the handshake.
    pub fn new(heartbeat: Duration, connect_timeout: Duration, now: Instant) -> Session {
        Session {
            heartbeat,
            connect_timeout,
            started: now,
            established: false,
            last_rx: now,
            last_tx: now,
            send_every: Duration::ZERO,
            expect_every: Duration::ZERO,
        }
    }

    /// The CONNECT frame to send once the TCP connection is made.
    pub fn connect(&self, login: &str, passcode: &str) -> Frame {
        connect_frame(login, passcode, self.heartbeat.as_millis() as u64)
    }

    /// Whether CONNECTED arrived.
    pub fn established(&self) -> bool {
        self.established
    }

    /// The negotiated heart-beats: how often we send, how often the broker does (0: none).
    pub fn heartbeats(&self) -> (Duration, Duration) {
        (self.send_every, self.expect_every)
    }

    /// Bytes arrived from the broker (data or heart-beat).
    pub fn received(&mut self, now: Instant) {
        self.last_rx = now;
    }

    /// Bytes were queued for the broker (a frame or a heart-beat).
    pub fn sent(&mut self, now: Instant) {
        self.last_tx = now;
    }

    /// What a frame from the broker means; an error ends the session.
    pub fn on_frame(&mut self, frame: Frame) -> Result<Received, SessionError> {
        if !self.established {
            return match frame.command.as_str() {
                "CONNECTED" => {
                    let (send, expect) =
                        negotiate(self.heartbeat, parse_heartbeat(frame.get("heart-beat")));
                    self.send_every = send;
                    self.expect_every = expect;
                    self.established = true;
                    Ok(Received::Connected {
                        server: frame.get("server").map(String::from),
                    })
                }
                "ERROR" => Err(SessionError::Refused(broker_message(&frame))),
                other => Err(SessionError::Unexpected(other.to_string())),
            };
        }
        if frame.command == "ERROR" {
            return Err(SessionError::Broker(broker_message(&frame)));
        }
        Ok(Received::Frame(frame))
    }

    /// Whether a heart-beat must be sent now. Only when nothing waits to be written
    /// (`queue_empty`): queued bytes will show the broker we are alive.
    pub fn heartbeat_due(&self, now: Instant, queue_empty: bool) -> bool {
        self.established
            && !self.send_every.is_zero()
            && queue_empty
            && now >= self.last_tx + self.send_every
    }

    /// The session's time limits at `now`: the connect timeout before CONNECTED
    /// (`tcp_connected` tells which step is missing), the broker's silence after.
    pub fn check(&self, now: Instant, tcp_connected: bool) -> Result<(), SessionError> {
        if !self.established {
            if now >= self.started + self.connect_timeout {
                return Err(SessionError::ConnectTimeout {
                    tcp_connected,
                    after: self.connect_timeout,
                });
            }
            return Ok(());
        }
        if !self.expect_every.is_zero() && now >= self.last_rx + self.expect_every * 2 {
            return Err(SessionError::Silent(self.expect_every * 2));
        }
        Ok(())
    }

    /// The next moment [`Session::check`] or [`Session::heartbeat_due`] may change their
    /// answer, if any.
    pub fn next_deadline(&self, queue_empty: bool) -> Option<Instant> {
        if !self.established {
            return Some(self.started + self.connect_timeout);
        }
        let beat =
            (!self.send_every.is_zero() && queue_empty).then(|| self.last_tx + self.send_every);
        let silence = (!self.expect_every.is_zero()).then(|| self.last_rx + self.expect_every * 2);
        match (beat, silence) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn connected(hb: &str) -> Frame {
        Frame::new("CONNECTED")
            .header("version", "1.2")
            .header("heart-beat", hb)
            .header("server", "ActiveMQ/6")
    }

    /// A session offering 10 s heart-beats, established at `t0` with the broker's header.
    fn up(t0: Instant, hb: &str) -> Session {
        let mut s = Session::new(10 * S, 2 * S, t0);
        assert_eq!(
            s.on_frame(connected(hb)),
            Ok(Received::Connected {
                server: Some("ActiveMQ/6".into())
            })
        );
        s
    }

    #[test]
    fn heartbeat_header() {
        assert_eq!(parse_heartbeat(Some("1000,2000")), (1000, 2000));
        assert_eq!(parse_heartbeat(Some(" 5 , 7 ")), (5, 7));
        assert_eq!(parse_heartbeat(Some("x")), (0, 0));
        assert_eq!(parse_heartbeat(None), (0, 0));
    }

    #[test]
    fn negotiation_takes_the_larger_interval_and_zero_means_none() {
        let ms = Duration::from_millis;
        assert_eq!(
            negotiate(ms(10_000), (5_000, 20_000)),
            (ms(20_000), ms(10_000))
        );
        assert_eq!(
            negotiate(ms(10_000), (0, 4_000)),
            (ms(10_000), Duration::ZERO)
        );
        assert_eq!(
            negotiate(ms(10_000), (4_000, 0)),
            (Duration::ZERO, ms(10_000))
        );
        assert_eq!(
            negotiate(Duration::ZERO, (4_000, 4_000)),
            (Duration::ZERO, Duration::ZERO)
        );
    }

    #[test]
    fn connect_frame_offers_the_heartbeat_and_credentials_only_when_given() {
        let s = Session::new(Duration::from_millis(2500), S, Instant::now());
        let f = s.connect("", "");
        assert_eq!(f.command, "CONNECT");
        assert_eq!(f.get("accept-version"), Some("1.2"));
        assert_eq!(f.get("heart-beat"), Some("2500,2500"));
        assert_eq!(f.get("login"), None);
        let f = s.connect("siebel", "secret");
        assert_eq!(f.get("login"), Some("siebel"));
        assert_eq!(f.get("passcode"), Some("secret"));
    }

    #[test]
    fn error_before_connected_is_a_refusal_with_the_brokers_message() {
        let mut s = Session::new(10 * S, 2 * S, Instant::now());
        let e = s
            .on_frame(
                Frame::new("ERROR")
                    .header("message", "Authentication failed")
                    .body("User name [x] or password is invalid."),
            )
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "broker refused the session: Authentication failed: User name [x] or password is invalid."
        );
        assert!(!s.established());
    }

    #[test]
    fn another_frame_before_connected_is_unexpected() {
        let mut s = Session::new(10 * S, 2 * S, Instant::now());
        let e = s.on_frame(Frame::new("MESSAGE")).unwrap_err();
        assert_eq!(e, SessionError::Unexpected("MESSAGE".into()));
        assert_eq!(e.to_string(), "expected CONNECTED, got MESSAGE");
    }

    #[test]
    fn frames_after_connected_go_to_the_owner_and_error_ends_the_session() {
        let mut s = up(Instant::now(), "0,0");
        let m = Frame::new("MESSAGE").body("x");
        assert_eq!(s.on_frame(m.clone()), Ok(Received::Frame(m)));
        let e = s
            .on_frame(Frame::new("ERROR").header("message", "queue full"))
            .unwrap_err();
        assert_eq!(e.to_string(), "broker error: queue full");
    }

    #[test]
    fn connect_timeout_names_the_missing_step() {
        let t0 = Instant::now();
        let s = Session::new(10 * S, 2 * S, t0);
        assert_eq!(s.next_deadline(true), Some(t0 + 2 * S));
        assert_eq!(s.check(t0 + S, false), Ok(()));
        let e = s.check(t0 + 2 * S, false).unwrap_err();
        assert_eq!(e.to_string(), "TCP connect within 2s");
        let e = s.check(t0 + 2 * S, true).unwrap_err();
        assert_eq!(e.to_string(), "no STOMP CONNECTED frame within 2s");
        let up = up(t0, "0,0");
        assert_eq!(up.check(t0 + 60 * S, true), Ok(()), "no timeout once up");
    }

    #[test]
    fn a_heartbeat_is_due_after_the_interval_only_with_an_empty_queue() {
        let t0 = Instant::now();
        let mut s = up(t0, "0,10000");
        assert_eq!(s.heartbeats(), (10 * S, Duration::ZERO));
        assert!(!s.heartbeat_due(t0 + 9 * S, true));
        assert!(s.heartbeat_due(t0 + 10 * S, true));
        assert!(!s.heartbeat_due(t0 + 10 * S, false), "bytes are waiting");
        assert_eq!(s.next_deadline(true), Some(t0 + 10 * S));
        assert_eq!(s.next_deadline(false), None);
        s.sent(t0 + 10 * S);
        assert!(!s.heartbeat_due(t0 + 15 * S, true));
        assert!(s.heartbeat_due(t0 + 20 * S, true));
    }

    #[test]
    fn no_heartbeats_before_connected_or_when_either_side_says_zero() {
        let t0 = Instant::now();
        let s = Session::new(10 * S, 2 * S, t0);
        assert!(!s.heartbeat_due(t0 + 60 * S, true));
        let s = up(t0, "0,0");
        assert!(!s.heartbeat_due(t0 + 60 * S, true));
        assert_eq!(s.check(t0 + 3600 * S, true), Ok(()));
        assert_eq!(s.next_deadline(true), None);
    }

    #[test]
    fn a_broker_silent_for_twice_its_interval_is_gone() {
        let t0 = Instant::now();
        let mut s = up(t0, "15000,0");
        assert_eq!(s.heartbeats(), (Duration::ZERO, 15 * S));
        assert_eq!(s.next_deadline(true), Some(t0 + 30 * S));
        s.received(t0 + 20 * S);
        assert_eq!(s.check(t0 + 49 * S, true), Ok(()));
        let e = s.check(t0 + 50 * S, true).unwrap_err();
        assert_eq!(e, SessionError::Silent(30 * S));
        assert_eq!(e.to_string(), "no data nor heart-beat from broker for 30s");
    }
}
