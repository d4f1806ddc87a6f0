//! One connection attempt of the link: the socket, its STOMP session, TLS when on, bytes in
//! and out; reading a slice at a time.

use std::io::{self, Read};
use std::time::Instant;

use mio::net::TcpStream;

use super::READ_SLICE;
use crate::stomp::{self, Decoder};

/// One connection attempt: the socket, its STOMP session, bytes in and out.
pub(super) struct Conn {
    pub(super) stream: TcpStream,
    /// The TCP connection is made (and CONNECT queued).
    pub(super) connected: bool,
    pub(super) session: stomp::Session,
    pub(super) decoder: Decoder,
    pub(super) out: Vec<u8>,
    /// The TLS session over `stream` (`None`: plain STOMP); `out` is its plaintext.
    pub(super) tls: Option<Box<rustls::ClientConnection>>,
}

impl Conn {
    /// Nothing waits to be written to the socket.
    pub(super) fn drained(&self) -> bool {
        self.out.is_empty() && self.tls.as_ref().is_none_or(|t| !t.wants_write())
    }

    /// Reads what the socket has (through TLS when on) into the decoder, up to
    /// [`READ_SLICE`] bytes: `Ok(true)` when more may be waiting. `first`: no failure since
    /// the link was last up (a certificate error is logged then).
    pub(super) fn read_slice(&mut self, first: bool) -> Result<bool, String> {
        let mut buf = [0u8; 32 * 1024];
        let mut got = 0;
        let Some(tls) = self.tls.as_mut() else {
            while got < READ_SLICE {
                match self.stream.read(&mut buf) {
                    Ok(0) => return Err("broker closed the connection".into()),
                    Ok(n) => {
                        got += n;
                        self.session.received(Instant::now());
                        self.decoder.push(&buf[..n]);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(format!("read failed: {e}")),
                }
            }
            return Ok(true);
        };
        let mut closed = false;
        let mut more = false;
        loop {
            if got >= READ_SLICE {
                more = true;
                break;
            }
            match tls.read_tls(&mut self.stream) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(_) => {
                    self.session.received(Instant::now());
                    if let Err(e) = tls.process_new_packets() {
                        let reason = stomp::describe_tls_error(&e);
                        if first {
                            tracing::error!("broker link: {reason}");
                        }
                        // Send the alert that tells the broker why, best effort.
                        let _ = tls.write_tls(&mut self.stream);
                        return Err(reason);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("read failed: {e}")),
            }
            loop {
                match tls.reader().read(&mut buf) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(n) => {
                        got += n;
                        self.decoder.push(&buf[..n]);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(format!("TLS read failed: {e}")),
                }
            }
        }
        if closed {
            return Err("broker closed the connection".into());
        }
        Ok(more)
    }
}
