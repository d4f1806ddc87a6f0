//! The agents' notification sessions, one thread each: log in to the node's XMPP service as
//! the agent, subscribe, feed the core `Up`, every update, and `Lost` or `Refused`;
//! reconnect with a backoff until stopped. The core decides when a session starts, stops or
//! moves to another node.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::core::{Notification, SessionId, SessionTarget};
use super::{lock, Shared};
use crate::rest::Credentials;
use crate::xml;
use crate::xmpp::{self, XmppConn, XmppError};

/// A running session thread.
pub(super) struct XmppSession {
    session: SessionId,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl XmppSession {
    /// Asks the thread to end (it does within about half a second).
    pub(super) fn signal_stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    /// Waits for the thread.
    pub(super) fn join(self) {
        let _ = self.thread.join();
    }
}

/// Starts the agent's session thread, replacing (stopping) any it has.
pub(super) fn start(
    s: &Arc<Shared>,
    agent: String,
    session: SessionId,
    creds: Credentials,
    target: SessionTarget,
) {
    if s.stopping.load(Ordering::Acquire) {
        return;
    }
    let mut map = lock(&s.sessions);
    if let Some(old) = map.remove(&agent) {
        old.signal_stop();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (s2, stop2, agent2) = (s.clone(), stop.clone(), agent.clone());
    match std::thread::Builder::new()
        .name(format!("xmpp-{agent}"))
        .spawn(move || run(&s2, &agent2, session, &creds, &target, &stop2))
    {
        Ok(thread) => {
            map.insert(
                agent,
                XmppSession {
                    session,
                    stop,
                    thread,
                },
            );
        }
        Err(e) => tracing::error!("cannot start the notification thread of {agent}: {e}"),
    }
}

/// Stops the agent's session `session`, if it still runs.
pub(super) fn stop(s: &Arc<Shared>, agent: &str, session: SessionId) {
    let mut map = lock(&s.sessions);
    if map.get(agent).is_some_and(|x| x.session == session) {
        if let Some(x) = map.remove(agent) {
            x.signal_stop();
        }
    }
}

pub(super) fn xmpp_addr(base: &str, port: u16) -> Option<SocketAddr> {
    base.split_once("://")?;
    (node_host(base), port).to_socket_addrs().ok()?.next()
}

/// The host of a node's base URL (`https://host:port/…`).
fn node_host(base: &str) -> String {
    let rest = base.split("://").nth(1).unwrap_or(base);
    let hostport = rest.split('/').next().unwrap_or_default();
    let host = match hostport.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => hostport,
    };
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}

/// The notification loop of one session.
fn run(
    s: &Arc<Shared>,
    agent: &str,
    session: SessionId,
    creds: &Credentials,
    target: &SessionTarget,
    stop: &AtomicBool,
) {
    let stopped = || stop.load(Ordering::Acquire) || s.stopping.load(Ordering::Acquire);
    let report = |n: Notification| s.feed(|c, now| c.notification(now, agent, session, n));
    let mut backoff = Duration::from_millis(500);
    while !stopped() {
        let Some(addr) = xmpp_addr(&target.node, s.cfg.finesse.xmpp_port) else {
            tracing::error!("cannot resolve the XMPP address of {}", target.node);
            sleep_unless(stop, Duration::from_secs(5));
            continue;
        };
        let tls = match s.cfg.finesse.xmpp_tls(&node_host(&target.node)) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("agent {agent}: {e}");
                sleep_unless(stop, Duration::from_secs(5));
                continue;
            }
        };
        // The resource is unique per connector process start: a restarted connector never
        // collides with its predecessor's session in the XMPP server.
        match XmppConn::login(
            addr,
            &tls,
            &target.xmpp_domain,
            agent,
            &creds.password,
            &s.instance,
            Duration::from_secs(5),
        ) {
            Ok(mut conn) => {
                backoff = Duration::from_millis(500);
                tracing::debug!("agent {agent}: XMPP session {}", conn.jid);
                if !target.pubsub_domain.is_empty() {
                    subscribe(&mut conn, &target.pubsub_domain, agent, &target.xmpp_domain);
                }
                report(Notification::Up);
                let result = read(&mut conn, agent, &stopped, &report);
                conn.close();
                let why = match result {
                    Ok(()) => "stopped".to_string(),
                    Err(e) => e.to_string(),
                };
                report(Notification::Lost(why));
            }
            Err(XmppError::Auth(why)) => {
                report(Notification::Refused(why));
                return;
            }
            Err(e) => tracing::warn!("agent {agent}: {e}; retrying in {backoff:?}"),
        }
        sleep_unless(stop, backoff);
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

/// Subscribes the agent to its own nodes. Finesse subscribes its users itself; asking again
/// is harmless, and a refusal is only logged.
fn subscribe(conn: &mut XmppConn, pubsub: &str, agent: &str, domain: &str) {
    for (i, node) in [
        format!("/finesse/api/User/{agent}"),
        format!("/finesse/api/User/{agent}/Dialogs"),
    ]
    .iter()
    .enumerate()
    {
        let id = format!("sub{i}");
        let iq = format!(
            "<iq type='set' to='{}' id='{id}'><pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='{}' jid='{}@{}'/></pubsub></iq>",
            xml::escape(pubsub),
            xml::escape(node),
            xml::escape(agent),
            xml::escape(domain)
        );
        let result = conn
            .send(&iq)
            .and_then(|_| conn.wait_iq(&id, Duration::from_secs(5)));
        if let Err(e) = result {
            tracing::debug!("agent {agent}: subscription to {node} not taken: {e}");
        }
    }
}

/// Reads notifications until stopped or the link fails.
fn read(
    conn: &mut XmppConn,
    agent: &str,
    stopped: &dyn Fn() -> bool,
    report: &dyn Fn(Notification),
) -> Result<(), XmppError> {
    while !stopped() {
        let Some(stanza) = conn.read(Duration::from_millis(500))? else {
            continue;
        };
        if stanza.name != "message" {
            continue;
        }
        for text in xmpp::notifications(&stanza) {
            match xml::update(&text) {
                Ok(u) => report(Notification::Update(u)),
                Err(e) => tracing::warn!("agent {agent}: unreadable notification: {e}"),
            }
        }
    }
    Ok(())
}

fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let end = Instant::now() + d;
    while !stop.load(Ordering::Acquire) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50).min(end - Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::xmpp_addr;

    #[test]
    fn xmpp_address_from_node_url() {
        assert_eq!(
            xmpp_addr("http://127.0.0.1:8082", 5222),
            Some("127.0.0.1:5222".parse().unwrap())
        );
        assert_eq!(
            xmpp_addr("https://127.0.0.1/finesse", 5223),
            Some("127.0.0.1:5223".parse().unwrap())
        );
        assert_eq!(xmpp_addr("nonsense", 1), None);
    }
}
