//! The STOMP 1.2 frame codec (frames, an incremental decoder) and a blocking client.
//!
//! Why not the `stomp` crate (stomp-rs)? Its last release (0.11) is built on mio 0.3 from 2015
//! and no longer compiles with a current Rust toolchain (`M cannot be sent between threads
//! safely` inside the crate), it brings its own event loop into the host process, and it has
//! no STOMP 1.2 receipts. The subset we need (CONNECT, SEND, SUBSCRIBE, ACK-less delivery,
//! RECEIPT, heart-beats, header escaping, content-length bodies) is small, so we keep it here,
//! over plain std / mio sockets and without any async runtime in Siebel's process.

use std::fmt;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::session::{broker_message, connect_frame};

/// Largest frame the decoder accepts (headers and body); a larger one is a protocol error.
pub const MAX_FRAME_BYTES: usize = 4 * 1024 * 1024;

/// One STOMP frame: a command, ordered headers and a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The command, e.g. `SEND`, `MESSAGE`, `CONNECTED`.
    pub command: String,
    /// Headers in wire order; the first of repeated headers wins (STOMP 1.2).
    pub headers: Vec<(String, String)>,
    /// The body bytes (no trailing NUL).
    pub body: Vec<u8>,
}

/// Errors of the codec and of the blocking client.
#[derive(Debug)]
pub enum StompError {
    /// The socket failed.
    Io(std::io::Error),
    /// The peer sent bytes that are not STOMP 1.2.
    Protocol(String),
    /// The broker answered with an ERROR frame (its `message` header and body).
    Broker(String),
    /// No answer in time.
    Timeout,
}

impl fmt::Display for StompError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StompError::Io(e) => write!(f, "broker socket error: {e}"),
            StompError::Protocol(m) => write!(f, "STOMP protocol error: {m}"),
            StompError::Broker(m) => write!(f, "broker error: {m}"),
            StompError::Timeout => write!(f, "broker did not answer in time"),
        }
    }
}

impl std::error::Error for StompError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StompError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for StompError {
    fn from(e: std::io::Error) -> Self {
        StompError::Io(e)
    }
}

impl Frame {
    /// A frame with the given command, no headers and an empty body.
    pub fn new(command: &str) -> Self {
        Frame {
            command: command.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header (builder style).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body (builder style).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The value of the first header with this name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Appends the wire form of the frame (with `content-length`) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        // STOMP 1.2: CONNECT and CONNECTED headers are not escaped.
        let escape = self.command != "CONNECT" && self.command != "CONNECTED";
        out.extend_from_slice(self.command.as_bytes());
        out.push(b'\n');
        for (k, v) in &self.headers {
            if k == "content-length" {
                continue;
            }
            push_header_text(out, k, escape);
            out.push(b':');
            push_header_text(out, v, escape);
            out.push(b'\n');
        }
        if !self.body.is_empty() || self.command == "SEND" || self.command == "MESSAGE" {
            out.extend_from_slice(format!("content-length:{}\n", self.body.len()).as_bytes());
        }
        out.push(b'\n');
        out.extend_from_slice(&self.body);
        out.push(0);
    }

    /// The wire form of the frame.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.body.len());
        self.encode(&mut out);
        out
    }
}

fn push_header_text(out: &mut Vec<u8>, s: &str, escape: bool) {
    if !escape {
        // Even unescaped, a raw newline or colon would break the frame: drop them.
        out.extend(s.bytes().filter(|b| *b != b'\n' && *b != b'\r'));
        return;
    }
    for b in s.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b':' => out.extend_from_slice(b"\\c"),
            _ => out.push(b),
        }
    }
}

fn unescape(raw: &[u8], escape: bool) -> Result<String, StompError> {
    let text =
        std::str::from_utf8(raw).map_err(|_| StompError::Protocol("header is not UTF-8".into()))?;
    if !escape {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('c') => out.push(':'),
            other => {
                return Err(StompError::Protocol(format!(
                    "undefined header escape \\{}",
                    other.map(String::from).unwrap_or_default()
                )))
            }
        }
    }
    Ok(out)
}

/// What the decoder found next in the byte stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Item {
    /// A complete frame.
    Frame(Frame),
    /// A heart-beat (a bare end-of-line between frames).
    Heartbeat,
}

/// Incremental STOMP 1.2 decoder: push bytes as they arrive, pull complete frames.
#[derive(Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Decoder::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete item, `Ok(None)` if more bytes are needed.
    pub fn next_item(&mut self) -> Result<Option<Item>, StompError> {
        // Heart-beats: EOLs between frames.
        if let Some(&b) = self.buf.first() {
            if b == b'\n' {
                self.buf.drain(..1);
                return Ok(Some(Item::Heartbeat));
            }
            if b == b'\r' && self.buf.get(1) == Some(&b'\n') {
                self.buf.drain(..2);
                return Ok(Some(Item::Heartbeat));
            }
        } else {
            return Ok(None);
        }
        // Find the end of the header block (an empty line).
        let Some(head_end) = find_blank_line(&self.buf) else {
            if self.buf.len() > MAX_FRAME_BYTES {
                return Err(StompError::Protocol("frame header too large".into()));
            }
            return Ok(None);
        };
        let (head, body_start) = head_end;
        let head_bytes = self.buf[..head].to_vec();
        let mut lines = head_bytes
            .split(|b| *b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        let command = std::str::from_utf8(lines.next().unwrap_or_default())
            .map_err(|_| StompError::Protocol("command is not UTF-8".into()))?
            .to_string();
        if command.is_empty() || !command.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(StompError::Protocol(format!(
                "bad command line {:?}",
                command.chars().take(40).collect::<String>()
            )));
        }
        let escape = command != "CONNECT" && command != "CONNECTED";
        let mut headers = Vec::new();
        for line in lines {
            let Some(colon) = line.iter().position(|b| *b == b':') else {
                return Err(StompError::Protocol("header line without ':'".into()));
            };
            headers.push((
                unescape(&line[..colon], escape)?,
                unescape(&line[colon + 1..], escape)?,
            ));
        }
        let content_length = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .map(|(_, v)| {
                v.trim()
                    .parse::<usize>()
                    .map_err(|_| StompError::Protocol(format!("bad content-length {v:?}")))
            })
            .transpose()?;
        let (body_end, frame_end) = match content_length {
            Some(n) => {
                if n > MAX_FRAME_BYTES {
                    return Err(StompError::Protocol(format!(
                        "body of {n} bytes is too large"
                    )));
                }
                if self.buf.len() < body_start + n + 1 {
                    return Ok(None);
                }
                if self.buf[body_start + n] != 0 {
                    return Err(StompError::Protocol(
                        "frame body not followed by NUL".into(),
                    ));
                }
                (body_start + n, body_start + n + 1)
            }
            None => match self.buf[body_start..].iter().position(|b| *b == 0) {
                Some(p) => (body_start + p, body_start + p + 1),
                None => {
                    if self.buf.len() > MAX_FRAME_BYTES {
                        return Err(StompError::Protocol("frame too large".into()));
                    }
                    return Ok(None);
                }
            },
        };
        let body = self.buf[body_start..body_end].to_vec();
        self.buf.drain(..frame_end);
        Ok(Some(Item::Frame(Frame {
            command,
            headers,
            body,
        })))
    }
}

/// Position of the end of the headers and start of the body, if the blank line has arrived.
fn find_blank_line(buf: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == b'\n' {
            if buf.get(i + 1) == Some(&b'\n') {
                return Some((i, i + 2));
            }
            if buf.get(i + 1) == Some(&b'\r') && buf.get(i + 2) == Some(&b'\n') {
                return Some((i, i + 3));
            }
        }
        i += 1;
    }
    None
}

/// The value of an `expires` header (ActiveMQ: absolute time in ms since the epoch) that
/// lets the broker drop a message nobody consumed within `ttl`.
pub fn expires_in(ttl: Duration) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (now + ttl).as_millis().to_string()
}

/// The value of an `expires` header for a message sent at `unix` (seconds since the epoch)
/// that the broker may drop once `ttl` has passed; for callers that are handed the time.
pub fn expires_at(unix: i64, ttl: Duration) -> String {
    let sent = Duration::from_secs(u64::try_from(unix).unwrap_or(0));
    (sent + ttl).as_millis().to_string()
}

/// Resolves `host:port` to the first socket address.
pub fn resolve(host: &str, port: u16) -> Result<SocketAddr, StompError> {
    (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| StompError::Protocol(format!("cannot resolve {host}")))
}

/// A blocking STOMP client over one TCP connection, without heart-beats (`0,0`).
///
/// Used by services and test peers that run their own threads; the driver inside Siebel uses
/// the non-blocking link in `link.rs` instead.
pub struct Connection {
    stream: TcpStream,
    decoder: Decoder,
    receipt_seq: u64,
}

impl Connection {
    /// Connects and completes the STOMP handshake within `timeout`.
    pub fn connect(
        addr: SocketAddr,
        login: &str,
        passcode: &str,
        timeout: Duration,
    ) -> Result<Self, StompError> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_nodelay(true)?;
        let mut conn = Connection {
            stream,
            decoder: Decoder::new(),
            receipt_seq: 0,
        };
        conn.write(&connect_frame(login, passcode, 0))?;
        match conn.recv(timeout)? {
            Some(f) if f.command == "CONNECTED" => Ok(conn),
            Some(f) if f.command == "ERROR" => Err(StompError::Broker(broker_message(&f))),
            Some(f) => Err(StompError::Protocol(format!(
                "expected CONNECTED, got {}",
                f.command
            ))),
            None => Err(StompError::Timeout),
        }
    }

    /// Writes one frame.
    pub fn write(&mut self, frame: &Frame) -> Result<(), StompError> {
        self.stream.write_all(&frame.to_bytes())?;
        Ok(())
    }

    /// Sends a body to a destination with extra headers.
    pub fn send(
        &mut self,
        destination: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), StompError> {
        let mut f = Frame::new("SEND")
            .header("destination", destination)
            .header("content-type", "application/json");
        for (k, v) in headers {
            f = f.header(k, v);
        }
        self.write(&f.body(body.to_vec()))
    }

    /// Subscribes (auto ack) and waits for the broker's receipt, so that nothing sent after
    /// this returns can be missed.
    pub fn subscribe(&mut self, id: &str, destination: &str) -> Result<(), StompError> {
        self.receipt_seq += 1;
        let receipt = format!("sub-{}", self.receipt_seq);
        self.write(
            &Frame::new("SUBSCRIBE")
                .header("id", id)
                .header("destination", destination)
                .header("ack", "auto")
                .header("receipt", &receipt),
        )?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left)? {
                Some(f) if f.command == "RECEIPT" && f.get("receipt-id") == Some(&receipt) => {
                    return Ok(())
                }
                Some(f) if f.command == "ERROR" => {
                    return Err(StompError::Broker(broker_message(&f)))
                }
                Some(_) => continue,
                None => return Err(StompError::Timeout),
            }
        }
    }

    /// The next frame, waiting at most `timeout`; `Ok(None)` on timeout.
    pub fn recv(&mut self, timeout: Duration) -> Result<Option<Frame>, StompError> {
        let deadline = Instant::now() + timeout;
        let mut chunk = [0u8; 16 * 1024];
        loop {
            while let Some(item) = self.decoder.next_item()? {
                if let Item::Frame(f) = item {
                    return Ok(Some(f));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.stream.set_read_timeout(Some(left))?;
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(StompError::Io(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "broker closed the connection",
                    )))
                }
                Ok(n) => self.decoder.push(&chunk[..n]),
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8]) -> Vec<Item> {
        let mut d = Decoder::new();
        d.push(bytes);
        let mut out = Vec::new();
        while let Some(i) = d.next_item().unwrap() {
            out.push(i);
        }
        out
    }

    #[test]
    fn round_trip_with_escapes_and_binary_body() {
        let f = Frame::new("SEND")
            .header("destination", "/queue/a:b")
            .header("x", "line1\nline2\\")
            .body(vec![1u8, 0, 2]);
        let items = decode_all(&f.to_bytes());
        let expected = f.header("content-length", "3");
        assert_eq!(items, vec![Item::Frame(expected)]);
    }

    #[test]
    fn frames_split_across_reads_and_heartbeats() {
        let a = Frame::new("MESSAGE")
            .header("k", "v")
            .body("hello")
            .to_bytes();
        let mut stream = b"\n\r\n".to_vec();
        stream.extend_from_slice(&a);
        stream.extend_from_slice(b"\nCONNECTED\nversion:1.2\n\n\0");
        let mut d = Decoder::new();
        let mut got = Vec::new();
        for b in &stream {
            d.push(std::slice::from_ref(b));
            while let Some(i) = d.next_item().unwrap() {
                got.push(i);
            }
        }
        assert_eq!(got.len(), 5);
        assert_eq!(got[0], Item::Heartbeat);
        assert_eq!(got[1], Item::Heartbeat);
        match &got[2] {
            Item::Frame(f) => assert_eq!(f.text(), "hello"),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(got[3], Item::Heartbeat);
        match &got[4] {
            Item::Frame(f) => assert_eq!(f.get("version"), Some("1.2")),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn body_without_content_length_ends_at_nul() {
        let items = decode_all(b"MESSAGE\r\nfoo:bar\r\n\r\nabc\0");
        match &items[0] {
            Item::Frame(f) => {
                assert_eq!(f.get("foo"), Some("bar"));
                assert_eq!(f.body, b"abc");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        for bad in [
            &b"message\n\n\0"[..],
            b"MESSAGE\nnocolon\n\n\0",
            b"MESSAGE\ncontent-length:zz\n\n\0",
            b"MESSAGE\ncontent-length:1\n\nab\0",
            b"MESSAGE\nk:\\x\n\n\0",
            b"MESSAGE\ncontent-length:99999999999\n\n",
        ] {
            let mut d = Decoder::new();
            d.push(bad);
            assert!(d.next_item().is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn expires_is_an_absolute_time_in_milliseconds() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        let at: u128 = expires_in(Duration::from_secs(15)).parse().unwrap();
        assert!(at >= now + 15_000 && at < now + 16_000, "{at} vs {now}");
    }

    #[test]
    fn first_repeated_header_wins() {
        let items = decode_all(b"MESSAGE\nk:1\nk:2\n\n\0");
        match &items[0] {
            Item::Frame(f) => assert_eq!(f.get("k"), Some("1")),
            other => panic!("unexpected {other:?}"),
        }
    }
}
