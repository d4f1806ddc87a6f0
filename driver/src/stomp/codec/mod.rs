//! The STOMP 1.2 frame codec: frames and an incremental decoder (the blocking client is in
//! `client.rs`).
//!
//! Why not the `stomp` crate (stomp-rs)? Its last release (0.11) is built on mio 0.3 from 2015
//! and no longer compiles with a current Rust toolchain (`M cannot be sent between threads
//! safely` inside the crate), it brings its own event loop into the host process, and it has
//! no STOMP 1.2 receipts. The subset we need (CONNECT, SEND, SUBSCRIBE, ACK-less delivery,
//! RECEIPT, heart-beats, header escaping, content-length bodies) is small, so we keep it here,
//! over plain std / mio sockets and without any async runtime in Siebel's process.

use std::fmt;
use std::time::Duration;

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
    /// A frame over [`MAX_FRAME_BYTES`], skipped up to its end: the stream goes on after it.
    Oversized {
        /// Its command (the first 40 characters of the first line).
        command: String,
        /// Its `destination` header, when the headers could be read.
        destination: Option<String>,
        /// Its size on the wire, NUL included.
        bytes: usize,
    },
}

/// How the decoder finds the end of an oversized frame it is skipping.
#[derive(Debug)]
enum Until {
    /// This many bytes are left (a `content-length` frame, its NUL included).
    Bytes(usize),
    /// The frame ends at the next NUL.
    Nul,
}

/// An oversized frame being skipped.
#[derive(Debug)]
struct Skip {
    command: String,
    destination: Option<String>,
    seen: usize,
    until: Until,
}

/// Incremental STOMP 1.2 decoder: push bytes as they arrive, pull complete frames. It never
/// holds much more than [`MAX_FRAME_BYTES`]: a larger frame is skipped and reported as
/// [`Item::Oversized`], without ending the stream.
#[derive(Default)]
pub struct Decoder {
    buf: Vec<u8>,
    skip: Option<Skip>,
    /// How much of `buf` is known to hold no end of the header block, and (from the body's
    /// start) no NUL: a frame arriving in many reads is scanned once, not once per read.
    head_scanned: usize,
    body_scanned: usize,
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
        if self.skip.is_some() {
            return Ok(self.skip_on());
        }
        // Heart-beats: EOLs between frames.
        if let Some(&b) = self.buf.first() {
            if b == b'\n' {
                self.consume(1);
                return Ok(Some(Item::Heartbeat));
            }
            if b == b'\r' && self.buf.get(1) == Some(&b'\n') {
                self.consume(2);
                return Ok(Some(Item::Heartbeat));
            }
        } else {
            return Ok(None);
        }
        // Find the end of the header block (an empty line).
        let Some(head_end) = find_blank_line(&self.buf, self.head_scanned) else {
            self.head_scanned = self.buf.len();
            if self.buf.len() > MAX_FRAME_BYTES {
                let end = self.buf.iter().position(|b| *b == b'\n').unwrap_or(0);
                let command = String::from_utf8_lossy(&self.buf[..end.min(40)]).into_owned();
                return Ok(self.start_skip(command, None, Until::Nul));
            }
            return Ok(None);
        };
        let (head, body_start) = head_end;
        if head > MAX_FRAME_BYTES {
            let end = self.buf.iter().position(|b| *b == b'\n').unwrap_or(0);
            let command = String::from_utf8_lossy(&self.buf[..end.min(40)]).into_owned();
            return Ok(self.start_skip(command, None, Until::Nul));
        }
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
        let destination = headers
            .iter()
            .find(|(k, _)| k == "destination")
            .map(|(_, v)| v.chars().take(200).collect::<String>());
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
                if body_start.saturating_add(n) > MAX_FRAME_BYTES {
                    let left = body_start.saturating_add(n).saturating_add(1);
                    return Ok(self.start_skip(command, destination, Until::Bytes(left)));
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
            None => match self.buf[self.body_scanned.max(body_start)..]
                .iter()
                .position(|b| *b == 0)
                .map(|p| p + self.body_scanned.max(body_start) - body_start)
            {
                Some(p) if body_start + p <= MAX_FRAME_BYTES => {
                    (body_start + p, body_start + p + 1)
                }
                Some(_) => return Ok(self.start_skip(command, destination, Until::Nul)),
                None => {
                    self.body_scanned = self.buf.len();
                    if self.buf.len() > MAX_FRAME_BYTES {
                        return Ok(self.start_skip(command, destination, Until::Nul));
                    }
                    return Ok(None);
                }
            },
        };
        let body = self.buf[body_start..body_end].to_vec();
        self.consume(frame_end);
        Ok(Some(Item::Frame(Frame {
            command,
            headers,
            body,
        })))
    }

    /// Drops `n` bytes from the front of the buffer; what follows is a new frame to scan.
    fn consume(&mut self, n: usize) {
        self.buf.drain(..n);
        self.head_scanned = 0;
        self.body_scanned = 0;
    }

    /// Starts skipping the frame at the start of the buffer.
    fn start_skip(
        &mut self,
        command: String,
        destination: Option<String>,
        until: Until,
    ) -> Option<Item> {
        self.skip = Some(Skip {
            command,
            destination,
            seen: 0,
            until,
        });
        self.skip_on()
    }

    /// Drops the skipped frame's bytes that have arrived; the report once its end is seen.
    fn skip_on(&mut self) -> Option<Item> {
        let skip = self.skip.as_mut()?;
        let (take, done) = match skip.until {
            Until::Bytes(left) => {
                let n = left.min(self.buf.len());
                skip.until = Until::Bytes(left - n);
                (n, n == left)
            }
            Until::Nul => match self.buf.iter().position(|b| *b == 0) {
                Some(p) => (p + 1, true),
                None => (self.buf.len(), false),
            },
        };
        self.buf.drain(..take);
        self.head_scanned = 0;
        self.body_scanned = 0;
        skip.seen += take;
        if !done {
            return None;
        }
        let skip = self.skip.take()?;
        Some(Item::Oversized {
            command: skip.command,
            destination: skip.destination,
            bytes: skip.seen,
        })
    }
}

/// Position of the end of the headers and start of the body, if the blank line has arrived.
fn find_blank_line(buf: &[u8], scanned: usize) -> Option<(usize, usize)> {
    // A blank line may straddle the end of what was scanned before (`\n\r\n`).
    let mut i = scanned.saturating_sub(2);
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

#[cfg(test)]
mod tests;
