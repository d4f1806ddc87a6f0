//! One XMPP login over a blocking socket: [`XmppClient`] driven by a plain `TcpStream`, for
//! checks and tests that want a single session (the connector's sessions run in [`super::mux`]).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::{Login, XmppClient, XmppError, XmppEvent, XmppTls};

/// A logged-in XMPP connection.
pub struct XmppConn {
    tcp: TcpStream,
    client: XmppClient,
    /// Our full JID after bind.
    pub jid: String,
}

impl XmppConn {
    /// Connects (with `tls`), authenticates as `user@domain` with SASL PLAIN, binds
    /// `resource` and sends presence, all within `timeout`.
    pub fn login(
        addr: SocketAddr,
        tls: &XmppTls,
        domain: &str,
        user: &str,
        password: &str,
        resource: &str,
        timeout: Duration,
    ) -> Result<XmppConn, XmppError> {
        let deadline = Instant::now() + timeout;
        let tcp = TcpStream::connect_timeout(&addr, timeout).map_err(XmppError::Io)?;
        tcp.set_nodelay(true).map_err(XmppError::Io)?;
        let login = Login {
            domain: domain.into(),
            user: user.into(),
            password: password.into(),
            resource: resource.into(),
            pubsub: String::new(),
        };
        let mut c = XmppConn {
            tcp,
            client: XmppClient::new(login, tls.clone())?,
            jid: String::new(),
        };
        let mut buf = [0u8; 16 * 1024];
        loop {
            c.flush()?;
            if let Some(XmppEvent::Online { jid }) = c.client.next_event() {
                c.jid = jid;
                return Ok(c);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(XmppError::Link("no login within the time allowed".into()));
            }
            c.tcp.set_read_timeout(Some(left)).map_err(XmppError::Io)?;
            match c.tcp.read(&mut buf) {
                Ok(0) => return Err(XmppError::Link("connection closed".into())),
                Ok(n) => {
                    let r = c.client.receive(&buf[..n]);
                    // A TLS alert explaining a failure still goes out.
                    let _ = c.flush();
                    r?;
                }
                Err(e) => return Err(XmppError::Io(e)),
            }
        }
    }

    fn flush(&mut self) -> Result<(), XmppError> {
        let n = self.client.wire().len();
        if n > 0 {
            self.tcp
                .write_all(self.client.wire())
                .map_err(XmppError::Io)?;
            self.client.sent(n);
        }
        Ok(())
    }

    /// Closes the stream politely.
    pub fn close(mut self) {
        self.client.close();
        let _ = self.flush();
        let _ = self.tcp.shutdown(std::net::Shutdown::Both);
    }
}
