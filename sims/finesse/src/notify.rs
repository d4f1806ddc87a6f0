//! Notifications through the XMPP server: account registration, node creation and agent
//! subscriptions at start, then one publisher thread that sends every `<Update>` in order and
//! reconnects when the connection drops (on its own, or on the admin API's `xmppDrop`); and
//! the presence of the `finesse` user ([`crate::presence`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use tracing::{debug, info, warn};

use crate::config::SimConfig;
use crate::presence::FinessePresence;
use crate::render;
use crate::state::Publish;
use crate::xmpp::{notification_item, Registration, XmppClient, XmppError};

const TIMEOUT: Duration = Duration::from_secs(5);

enum Job {
    Publish(Publish),
    Drop,
    Stop,
}

/// What the publisher needs to (re)connect: the admin account and the agents' nodes.
#[derive(Clone)]
struct Link {
    addr: SocketAddr,
    domain: String,
    pubsub: String,
    user: String,
    password: String,
    resource: String,
    agents: Vec<String>,
}

impl Link {
    fn connect(&self) -> Result<XmppClient, XmppError> {
        XmppClient::login(
            self.addr,
            &self.domain,
            &self.user,
            &self.password,
            &self.resource,
            TIMEOUT,
        )
    }

    /// Creates the agent's two nodes (if missing) and subscribes the agent's bare JID to them.
    fn prepare_agent(&self, client: &mut XmppClient, agent: &str) -> Result<(), XmppError> {
        let jid = format!("{agent}@{}", self.domain);
        for node in [render::user_uri(agent), render::dialogs_uri(agent)] {
            client.create_node(&self.pubsub, &node)?;
            client.subscribe_other(&self.pubsub, &node, &jid)?;
        }
        Ok(())
    }
}

/// The handle on the publisher thread.
pub struct Notifier {
    tx: Sender<Job>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    presence: Option<FinessePresence>,
}

impl Notifier {
    /// Registers the accounts, prepares every agent's nodes and starts the publisher. Fails when
    /// the XMPP server cannot be reached or refuses the setup.
    pub fn start(config: &SimConfig, resource: String) -> Result<Notifier, String> {
        let register = |user: &str, password: &str| {
            XmppClient::register(config.xmpp, &config.xmpp_domain, user, password, TIMEOUT)
                .map_err(|e| format!("registering XMPP account {user}: {e}"))
        };
        register(&config.admin_user, &config.admin_password)?;
        for agent in &config.agents {
            if register(&agent.id, &agent.password)? == Registration::AlreadyExists {
                // An account left by an earlier run: check that its password is the configured one.
                XmppClient::login(
                    config.xmpp,
                    &config.xmpp_domain,
                    &agent.id,
                    &agent.password,
                    "check",
                    TIMEOUT,
                )
                .map_err(|e| {
                    format!(
                        "XMPP account {} exists with another password? {e}",
                        agent.id
                    )
                })?
                .close();
            }
        }
        let link = Link {
            addr: config.xmpp,
            domain: config.xmpp_domain.clone(),
            pubsub: config.pubsub_domain.clone(),
            user: config.admin_user.clone(),
            password: config.admin_password.clone(),
            resource: resource.clone(),
            agents: config.agents.iter().map(|a| a.id.clone()).collect(),
        };
        let mut client = link
            .connect()
            .map_err(|e| format!("XMPP login as {}: {e}", link.user))?;
        for agent in &link.agents {
            link.prepare_agent(&mut client, agent)
                .map_err(|e| format!("preparing the pubsub nodes of agent {agent}: {e}"))?;
        }
        info!(
            jid = client.jid(),
            agents = link.agents.len(),
            "XMPP publisher ready"
        );
        let agents = link.agents.iter().cloned();
        let presence = FinessePresence::start(config.xmpp, &config.xmpp_domain, resource, agents)
            .map_err(|e| warn!(error = %e, "no presence of the finesse user"))
            .ok();
        let (tx, rx) = crossbeam_channel::unbounded();
        let stopping = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stopping);
        let thread = std::thread::Builder::new()
            .name("finesse-sim-xmpp".into())
            .spawn(move || run(link, client, rx, &flag))
            .map_err(|e| format!("starting the XMPP thread: {e}"))?;
        Ok(Notifier {
            tx,
            stopping,
            thread: Some(thread),
            presence,
        })
    }

    /// Queues notifications; they are published in order.
    pub fn publish(&self, items: Vec<Publish>) {
        for p in items {
            let _ = self.tx.send(Job::Publish(p));
        }
    }

    /// Drops the XMPP connection; the publisher reconnects and sends what was queued meanwhile.
    pub fn drop_connection(&self) {
        let _ = self.tx.send(Job::Drop);
    }

    /// The web application went down (`false`: the `finesse` user becomes unavailable) or
    /// came back.
    pub fn set_web_app(&self, up: bool) {
        if let Some(p) = &self.presence {
            p.set_web_app(up);
        }
    }

    /// Publishes what is queued, then closes the connection.
    pub fn stop(mut self) {
        if let Some(p) = self.presence.take() {
            p.stop();
        }
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.tx.send(Job::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(link: Link, client: XmppClient, rx: Receiver<Job>, stopping: &AtomicBool) {
    let mut client = Some(client);
    for job in rx.iter() {
        match job {
            Job::Stop => break,
            Job::Drop => {
                if let Some(c) = client.take() {
                    info!("dropping the XMPP connection (admin request)");
                    c.close();
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            Job::Publish(p) => publish(&link, &mut client, stopping, &p),
        }
    }
    if let Some(c) = client.take() {
        c.close();
    }
}

/// Publishes one item, reconnecting as often as needed (until the notifier stops).
fn publish(link: &Link, client: &mut Option<XmppClient>, stopping: &AtomicBool, p: &Publish) {
    let item = notification_item(&p.update);
    let mut backoff = Duration::from_millis(50);
    let mut repaired = false;
    loop {
        if client.is_none() {
            match link.connect() {
                Ok(c) => {
                    info!(jid = c.jid(), "XMPP publisher reconnected");
                    *client = Some(c);
                }
                Err(e) => {
                    warn!(error = %e, "XMPP reconnect failed; retrying");
                    if stopping.load(Ordering::SeqCst) {
                        return;
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            }
        }
        let c = client.as_mut().expect("connected above");
        match c.publish(&link.pubsub, &p.node, &item) {
            Ok(()) => {
                debug!(node = %p.node, "published");
                return;
            }
            Err(XmppError::Stanza(condition)) if !repaired => {
                // The node vanished (e.g. Prosody's data was cleaned): set it up again, once.
                warn!(node = %p.node, %condition, "publish refused; recreating the agent's nodes");
                repaired = true;
                let agent = p
                    .node
                    .trim_start_matches("/finesse/api/User/")
                    .trim_end_matches("/Dialogs")
                    .to_string();
                if link.agents.contains(&agent) {
                    if let Err(e) = link.prepare_agent(c, &agent) {
                        warn!(error = %e, "could not recreate the nodes");
                    }
                }
            }
            Err(XmppError::Stanza(condition)) => {
                warn!(node = %p.node, %condition, "publish refused; notification lost");
                return;
            }
            Err(e) => {
                warn!(error = %e, "XMPP connection lost; reconnecting");
                if let Some(c) = client.take() {
                    c.close();
                }
            }
        }
    }
}
