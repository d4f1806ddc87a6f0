//! The agents' notification sessions, all on one event-loop thread ([`crate::xmpp::mux`]):
//! log in to the node's XMPP service as the agent, subscribe, feed the core `Up`, every
//! update, and `Lost` or `Refused`; the loop reconnects with a backoff until stopped. The core
//! decides when a session starts, stops or moves to another node.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;

use super::core::{Notification, SessionId, SessionTarget};
use super::{lock, Shared};
use crate::rest::Credentials;
use crate::xml;
use crate::xmpp::mux::{Mux, MuxEvent, MuxSettings, Sink, Target};
use crate::xmpp::{Login, XmppTls};

/// The event loop of the sessions and the XMPP transport of each node.
pub(super) struct Sessions {
    mux: Mux,
    /// The transport per node host (TLS settings read once).
    tls: Mutex<HashMap<String, XmppTls>>,
}

impl Sessions {
    /// Starts the event loop; its events go to the core of `shared` while it lives.
    pub(super) fn start(shared: Weak<Shared>) -> std::io::Result<(Sessions, JoinHandle<()>)> {
        let sink: Sink = Box::new(move |agent, session, event| {
            let Some(s) = shared.upgrade() else {
                return;
            };
            let n = match event {
                MuxEvent::Up => Notification::Up,
                MuxEvent::Lost(why) => Notification::Lost(why),
                MuxEvent::Refused(why) => Notification::Refused(why),
                MuxEvent::FinessePresence(up) => Notification::FinessePresence(up),
                MuxEvent::Notification(text) => match xml::update(&text) {
                    Ok(u) => Notification::Update(u),
                    Err(e) => {
                        tracing::warn!("agent {agent}: unreadable notification: {e}");
                        return;
                    }
                },
            };
            s.feed(|c, now| c.notification(now, agent, SessionId(session), n));
        });
        let (mux, thread) = Mux::start(MuxSettings::default(), sink)?;
        let sessions = Sessions {
            mux,
            tls: Mutex::new(HashMap::new()),
        };
        Ok((sessions, thread))
    }

    /// Stops every session and ends the loop (join its thread to wait).
    pub(super) fn shutdown(&self) {
        self.mux.shutdown();
    }
}

/// Starts the agent's session, replacing (stopping) any it has.
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
    let Some(sessions) = s.sessions.get() else {
        return;
    };
    let host = node_host(&target.node);
    let tls = {
        let mut cache = lock(&sessions.tls);
        match cache.get(&host) {
            Some(t) => t.clone(),
            None => match s.cfg.finesse.xmpp_tls(&host) {
                Ok(t) => cache.entry(host.clone()).or_insert(t).clone(),
                Err(e) => {
                    tracing::error!("agent {agent}: {e}");
                    return;
                }
            },
        }
    };
    let login = Login {
        domain: target.xmpp_domain,
        user: agent.clone(),
        password: creds.password,
        // The resource is unique per connector process start: a restarted connector never
        // collides with its predecessor's session in the XMPP server.
        resource: s.instance.clone(),
        pubsub: target.pubsub_domain,
    };
    let target = Target {
        host,
        port: s.cfg.finesse.xmpp_port,
        tls,
        login,
    };
    sessions.mux.start_session(agent, session.0, target);
}

/// Stops the agent's session `session`, if it still runs.
pub(super) fn stop(s: &Arc<Shared>, agent: &str, session: SessionId) {
    if let Some(sessions) = s.sessions.get() {
        sessions.mux.stop_session(agent.to_string(), session.0);
    }
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

#[cfg(test)]
mod tests {
    use super::node_host;

    #[test]
    fn xmpp_host_from_node_url() {
        assert_eq!(node_host("http://127.0.0.1:8082"), "127.0.0.1");
        assert_eq!(
            node_host("https://finesse-a.example.com/finesse"),
            "finesse-a.example.com"
        );
        assert_eq!(node_host("https://[::1]:8445"), "::1");
    }
}
