//! An HTTPS front for the simulator: terminates TLS with a certificate and key (PEM, e.g.
//! `target/certs/finesse.pem`/`.key` from `scripts/certs.sh`) and passes each request to
//! the plain HTTP server, one request per connection. For tests of Finesse over HTTPS with
//! an in-house or self-signed certificate.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Largest request head and body passed on.
const MAX_REQUEST: usize = 1 << 20;

/// A running HTTPS front.
pub struct HttpsFront {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HttpsFront {
    /// Listens on a free loopback port and forwards to `upstream` (the simulator's address).
    pub fn start(upstream: SocketAddr, cert: &Path, key: &Path) -> Result<HttpsFront, String> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .map_err(|e| format!("{}: {e:?}", cert.display()))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{}: {e:?}", cert.display()))?;
        let key =
            PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e:?}", key.display()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| e.to_string())?;
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Acquire) {
                match listener.accept() {
                    Ok((tcp, _)) => {
                        let config = config.clone();
                        std::thread::spawn(move || {
                            if let Err(e) = serve(tcp, config, upstream) {
                                tracing::debug!("https front: {e}");
                            }
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Ok(HttpsFront {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// `https://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.addr)
    }
}

impl Drop for HttpsFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One request: read it over TLS, pass it on with `Connection: close`, copy the answer back.
fn serve(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    upstream: SocketAddr,
) -> Result<(), String> {
    tcp.set_nonblocking(false).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let conn = rustls::ServerConnection::new(config).map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = tls.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 || buf.len() > MAX_REQUEST {
            return Err("request head incomplete".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    if length > MAX_REQUEST {
        return Err("request body too large".into());
    }
    while buf.len() < head_end + length {
        let n = tls.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("request body incomplete".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut forwarded: String = head
        .trim_end()
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    forwarded.push_str("Connection: close\r\n\r\n");
    let mut up = TcpStream::connect(upstream).map_err(|e| e.to_string())?;
    up.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    up.write_all(forwarded.as_bytes())
        .and_then(|()| up.write_all(&buf[head_end..head_end + length]))
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).map_err(|e| e.to_string())?;
    tls.write_all(&answer).map_err(|e| e.to_string())?;
    tls.conn.send_close_notify();
    tls.flush().map_err(|e| e.to_string())?;
    Ok(())
}
