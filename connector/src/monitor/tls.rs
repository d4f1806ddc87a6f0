//! HTTPS for the console (`monitor.tls_cert` and `monitor.tls_key`): a TLS front on
//! `monitor.listen` that terminates TLS (rustls) and passes each request, one per
//! connection, to the console's HTTP server listening on loopback; the answer streams back
//! as it comes (so the event stream works over HTTPS too).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Largest request head and body passed on.
const MAX_REQUEST: usize = 64 * 1024;
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once (each on a thread; event streams included); beyond, a new
/// connection is closed at once.
const MAX_CONNECTIONS: usize = 64;

/// The server configuration from `monitor.tls_cert`/`tls_key`; `None` when both are empty.
pub(super) fn server_config(
    m: &crate::config::Monitor,
) -> Result<Option<Arc<rustls::ServerConfig>>, String> {
    match (m.tls_cert.is_empty(), m.tls_key.is_empty()) {
        (true, true) => return Ok(None),
        (false, false) => {}
        _ => return Err("set both monitor.tls_cert and monitor.tls_key".into()),
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&m.tls_cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| format!("monitor.tls_cert {}: {e}", m.tls_cert))?;
    if certs.is_empty() {
        return Err(format!("monitor.tls_cert {}: no certificate", m.tls_cert));
    }
    let key = PrivateKeyDer::from_pem_file(&m.tls_key)
        .map_err(|e| format!("monitor.tls_key {}: {e}", m.tls_key))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("monitor.tls_cert/tls_key: {e}"))?;
    Ok(Some(Arc::new(config)))
}

/// The running TLS front.
pub(super) struct Front {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Front {
    /// Listens on `listen` and passes requests to `inner`.
    pub(super) fn start(
        listen: &str,
        inner: SocketAddr,
        config: Arc<rustls::ServerConfig>,
    ) -> std::io::Result<Front> {
        let listener = TcpListener::bind(listen)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::Builder::new()
            .name("connector-monitor-tls".into())
            .spawn(move || {
                let open = Arc::new(AtomicUsize::new(0));
                for tcp in listener.incoming() {
                    if stop2.load(Ordering::Acquire) {
                        return;
                    }
                    let Ok(tcp) = tcp else { continue };
                    if open.load(Ordering::Acquire) >= MAX_CONNECTIONS {
                        tracing::warn!(
                            "monitor https: {MAX_CONNECTIONS} connections open; one more closed"
                        );
                        continue;
                    }
                    open.fetch_add(1, Ordering::AcqRel);
                    let (config, open2) = (config.clone(), open.clone());
                    let spawned = std::thread::Builder::new()
                        .name("connector-monitor-tls-conn".into())
                        .spawn(move || {
                            if let Err(e) = pass(tcp, config, inner) {
                                tracing::debug!("monitor https: {e}");
                            }
                            open2.fetch_sub(1, Ordering::AcqRel);
                        });
                    if let Err(e) = spawned {
                        open.fetch_sub(1, Ordering::AcqRel);
                        tracing::warn!("monitor https: cannot start a thread: {e}");
                    }
                }
            })?;
        Ok(Front {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The listening address.
    pub(super) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting (a connection to itself wakes the accepting thread).
    pub(super) fn stop(mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Where the request head ends (after the blank line), if it has.
fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// The head to pass on: the same, with `Connection: close` (one request per connection).
fn forwarded_head(head: &str) -> (String, usize) {
    let mut length = 0;
    let mut out = String::new();
    for line in head.trim_end().lines() {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("connection:") {
            continue;
        }
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(usize::MAX);
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    (out, length)
}

/// One connection: the request over TLS in, passed on, the answer streamed back.
fn pass(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    inner: SocketAddr,
) -> Result<(), String> {
    tcp.set_read_timeout(Some(READ_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let conn = rustls::ServerConnection::new(config).map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(i) = head_end(&buf) {
            break i;
        }
        let n = tls.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 || buf.len() > MAX_REQUEST {
            return Err("request head incomplete or too large".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let (head, length) = forwarded_head(&String::from_utf8_lossy(&buf[..end]));
    if length > MAX_REQUEST {
        return Err("request body too large".into());
    }
    while buf.len() < end + length {
        let n = tls.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("request body incomplete".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut up = TcpStream::connect(inner).map_err(|e| e.to_string())?;
    up.write_all(head.as_bytes())
        .and_then(|()| up.write_all(&buf[end..end + length]))
        .map_err(|e| e.to_string())?;
    loop {
        let n = up.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        tls.write_all(&chunk[..n])
            .and_then(|()| tls.flush())
            .map_err(|e| e.to_string())?;
    }
    tls.conn.send_close_notify();
    tls.flush().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_passed_on_closes_the_connection_and_gives_the_body_length() {
        let head = "GET /events HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n";
        assert_eq!(head_end(head.as_bytes()), Some(head.len()));
        let (out, length) = forwarded_head(head);
        assert_eq!(length, 3);
        assert_eq!(
            out,
            "GET /events HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n"), None);
    }

    #[test]
    fn half_a_tls_configuration_or_a_missing_file_is_refused_by_name() {
        let mut m = crate::config::Monitor::default();
        assert!(server_config(&m).unwrap().is_none());
        m.tls_cert = "/nonexistent/console.pem".into();
        assert!(server_config(&m).unwrap_err().contains("tls_key"));
        m.tls_key = "/nonexistent/console.key".into();
        assert!(server_config(&m)
            .unwrap_err()
            .contains("/nonexistent/console.pem"));
    }
}
