//! A blocking STOMP client over one TCP connection (services, test peers), and host name
//! resolution for the links.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::codec::{Decoder, Frame, Item, StompError, MAX_FRAME_BYTES};
use super::session::{broker_message, connect_frame};
use super::tls::TlsSettings;

/// The connection's byte stream: plain TCP or TLS over it.
enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(t) => &t.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(t) => t.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(t) => t.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(t) => t.flush(),
        }
    }
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
    stream: Stream,
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
        Connection::handshake(Stream::Plain(stream), login, passcode, timeout)
    }

    /// Connects over TLS (the broker's certificate checked against `tls`'s CA for `host`, a
    /// DNS name or IP address) and completes the STOMP handshake within `timeout`; an
    /// untrusted certificate is a `StompError::Io` naming the reason.
    pub fn connect_tls(
        addr: SocketAddr,
        host: &str,
        tls: &TlsSettings,
        login: &str,
        passcode: &str,
        timeout: Duration,
    ) -> Result<Self, StompError> {
        let session = tls
            .connect(host)
            .map_err(|e| StompError::Protocol(e.to_string()))?;
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_nodelay(true)?;
        let tls = rustls::StreamOwned::new(session, stream);
        Connection::handshake(Stream::Tls(Box::new(tls)), login, passcode, timeout)
    }

    fn handshake(
        stream: Stream,
        login: &str,
        passcode: &str,
        timeout: Duration,
    ) -> Result<Self, StompError> {
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
        self.stream.flush()?;
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
                match item {
                    Item::Frame(f) => return Ok(Some(f)),
                    Item::Oversized {
                        command,
                        destination,
                        bytes,
                    } => tracing::warn!(
                        "dropped an oversized STOMP frame ({command} to {}, {bytes} bytes, limit {MAX_FRAME_BYTES})",
                        destination.as_deref().unwrap_or("?")
                    ),
                    Item::Heartbeat => {}
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.stream.tcp().set_read_timeout(Some(left))?;
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
