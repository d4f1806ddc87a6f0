//! The `finesse` XMPP user: Finesse's own account on its notification service. Cisco's
//! "Failure Scenarios": its presence is available while the Finesse web application runs and
//! becomes unavailable when the web app (or Tomcat) goes down. One thread logs in as that user
//! and sends its presence to the agents of this simulator: to each agent's bare JID at start,
//! after a reconnect and on every change of the web app (admin API `webAppDown`), and to an
//! agent session's full JID when that session announces itself with directed presence.
//! Several simulators may share the account (each has its own resource and tells only its own
//! agents); when one stops, the XMPP server tells its agents that its resource is gone.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use tracing::{info, warn};

use crate::xml::escape;
use crate::xmpp::{Registration, XmppClient, XmppError};

/// The user whose presence stands for Finesse's web application.
pub const USER: &str = "finesse";
/// Its password (the account is shared by every simulator on the XMPP server).
const PASSWORD: &str = "finesse-sim-presence";
const TIMEOUT: Duration = Duration::from_secs(5);

enum Cmd {
    WebApp(bool),
    Stop,
}

/// Where the `finesse` user logs in and whom it tells.
struct Account {
    addr: SocketAddr,
    domain: String,
    resource: String,
    agents: BTreeSet<String>,
}

impl Account {
    fn login(&self) -> Result<XmppClient, XmppError> {
        XmppClient::login(
            self.addr,
            &self.domain,
            USER,
            PASSWORD,
            &self.resource,
            TIMEOUT,
        )
    }

    /// Whether `jid` (full or bare) is one of this simulator's agents.
    fn is_agent(&self, jid: &str) -> bool {
        let bare = jid.split('/').next().unwrap_or_default();
        bare.split_once('@').is_some_and(|(user, domain)| {
            domain.eq_ignore_ascii_case(&self.domain) && self.agents.contains(user)
        })
    }
}

/// The directed presence of the `finesse` user to `to`.
fn presence(to: &str, available: bool) -> String {
    let kind = if available { "" } else { " type='unavailable'" };
    format!("<presence to='{}'{kind}/>", escape(to))
}

/// The handle on the presence thread.
pub struct FinessePresence {
    tx: Sender<Cmd>,
    thread: Option<JoinHandle<()>>,
}

impl FinessePresence {
    /// Registers the `finesse` account if missing, logs in and tells every agent that the web
    /// app is up. Fails when the XMPP server refuses the account.
    pub fn start(
        addr: SocketAddr,
        domain: &str,
        resource: String,
        agents: impl IntoIterator<Item = String>,
    ) -> Result<FinessePresence, XmppError> {
        let registered = XmppClient::register(addr, domain, USER, PASSWORD, TIMEOUT)?;
        let account = Account {
            addr,
            domain: domain.to_string(),
            resource,
            agents: agents.into_iter().collect(),
        };
        let mut client = account.login()?;
        tell_all(&account, &mut client, true)?;
        info!(
            jid = client.jid(),
            new_account = registered == Registration::Created,
            "the finesse user is available"
        );
        let (tx, rx) = crossbeam_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("finesse-sim-presence".into())
            .spawn(move || run(&account, client, &rx))
            .map_err(|e| XmppError::Io(format!("starting the presence thread: {e}")))?;
        Ok(FinessePresence {
            tx,
            thread: Some(thread),
        })
    }

    /// The web application went down (`false`: the `finesse` user becomes unavailable) or
    /// came back.
    pub fn set_web_app(&self, up: bool) {
        let _ = self.tx.send(Cmd::WebApp(up));
    }

    /// Logs out (the agents see the `finesse` user unavailable) and ends the thread.
    pub fn stop(mut self) {
        let _ = self.tx.send(Cmd::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn tell_all(account: &Account, client: &mut XmppClient, up: bool) -> Result<(), XmppError> {
    for agent in &account.agents {
        client.send(&presence(&format!("{agent}@{}", account.domain), up))?;
    }
    Ok(())
}

fn run(account: &Account, client: XmppClient, rx: &Receiver<Cmd>) {
    let mut client = Some(client);
    let mut up = true;
    let mut backoff = Duration::from_millis(100);
    loop {
        match rx.try_recv() {
            Ok(Cmd::WebApp(now_up)) => {
                if now_up != up {
                    up = now_up;
                    info!(up, "the finesse user's presence changes with the web app");
                    if let Some(c) = client.as_mut() {
                        if let Err(e) = tell_all(account, c, up) {
                            warn!(error = %e, "presence of the finesse user not sent");
                            client = None;
                        }
                    }
                }
            }
            Ok(Cmd::Stop) | Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {}
        }
        let Some(c) = client.as_mut() else {
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(2));
            match account.login() {
                Ok(mut c) => match tell_all(account, &mut c, up) {
                    Ok(()) => {
                        info!("the finesse user logged in again");
                        backoff = Duration::from_millis(100);
                        client = Some(c);
                    }
                    Err(e) => warn!(error = %e, "the finesse user's presence not sent"),
                },
                Err(e) => warn!(error = %e, "the finesse user cannot log in; retrying"),
            }
            continue;
        };
        match c.next_stanza(Duration::from_millis(100)) {
            Ok(Some(s)) if s.local_name() == "presence" && s.attr("type").is_none() => {
                // An agent session announced itself: it learns the web app's state.
                let from = s.attr("from").unwrap_or_default().to_string();
                if account.is_agent(&from) {
                    if let Err(e) = c.send(&presence(&from, up)) {
                        warn!(error = %e, "presence of the finesse user not sent");
                        client = None;
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                warn!(error = %e, "the finesse user's XMPP connection broke; reconnecting");
                client = None;
            }
        }
    }
    if let Some(c) = client.take() {
        c.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_stanzas_and_agent_jids() {
        assert_eq!(
            presence("1001@finesse.local", true),
            "<presence to='1001@finesse.local'/>"
        );
        assert_eq!(
            presence("1001@finesse.local/r", false),
            "<presence to='1001@finesse.local/r' type='unavailable'/>"
        );
        let account = Account {
            addr: "127.0.0.1:5222".parse().unwrap(),
            domain: "finesse.local".into(),
            resource: "r".into(),
            agents: ["1001".to_string()].into_iter().collect(),
        };
        assert!(account.is_agent("1001@finesse.local/conn-1"));
        assert!(account.is_agent("1001@FINESSE.local"));
        assert!(!account.is_agent("1002@finesse.local/conn-1"));
        assert!(!account.is_agent("1001@other.local/conn-1"));
        assert!(!account.is_agent("finesse.local"));
    }
}
