//! Notifications through the XMPP server: account registration, node creation and agent
//! subscriptions at start, then one publisher thread that sends every `<Update>` in order and
//! reconnects when the connection drops (on its own, or on the admin API's `xmppDrop`); and
//! the presence of the `finesse` user ([`crate::presence`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crossbeam_channel::{Receiver, Sender};
use tracing::{debug, info, warn};

use crate::config::SimConfig;
use crate::presence::FinessePresence;
use crate::render;
use crate::state::Publish;
use crate::xmpp::{
    create_node_payload, notification_item, owner_subscription_payload, publish_payload, IqRequest,
    Registration, XmppClient, XmppError,
};

const TIMEOUT: Duration = Duration::from_secs(5);

enum Job {
    /// A notification, and when it was queued (the simulated Finesse event).
    Publish(Publish, SystemTime),
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

    /// Creates every agent's two nodes (those missing) and subscribes each agent's bare JID
    /// to its own, pipelined.
    fn prepare_agents(&self, client: &mut XmppClient) -> Result<(), String> {
        let mut requests = Vec::with_capacity(self.agents.len() * 4);
        for agent in &self.agents {
            let jid = format!("{agent}@{}", self.domain);
            for node in [render::user_uri(agent), render::dialogs_uri(agent)] {
                requests.push(IqRequest {
                    kind: "set",
                    to: Some(&self.pubsub),
                    payload: create_node_payload(&node),
                });
                requests.push(IqRequest {
                    kind: "set",
                    to: Some(&self.pubsub),
                    payload: owner_subscription_payload(&node, &jid, "subscribed"),
                });
            }
        }
        let answers = client
            .iq_batch(&requests)
            .map_err(|e| format!("preparing the agents' pubsub nodes: {e}"))?;
        for (i, answer) in answers.into_iter().enumerate() {
            match answer {
                Ok(_) => {}
                // Creating a node that exists (even-numbered requests are creations).
                Err(XmppError::Stanza(c)) if c == "conflict" && i.is_multiple_of(2) => {}
                Err(e) => {
                    return Err(format!(
                        "preparing the pubsub nodes of agent {}: {e}",
                        self.agents[i / 4]
                    ))
                }
            }
        }
        Ok(())
    }
}

/// How many logins check the passwords of existing accounts at once.
const CHECKERS: usize = 8;

/// Logs in as each agent of `agents` (accounts that existed already), a few at a time: an
/// account with another password is an error.
fn check_passwords(
    config: &SimConfig,
    agents: &[&crate::config::AgentConfig],
) -> Result<(), String> {
    let per_thread = agents.len().div_ceil(CHECKERS).max(1);
    std::thread::scope(|scope| {
        let checks: Vec<_> = agents
            .chunks(per_thread)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk.iter().try_for_each(|agent| {
                        XmppClient::login(
                            config.xmpp,
                            &config.xmpp_domain,
                            &agent.id,
                            &agent.password,
                            "check",
                            TIMEOUT,
                        )
                        .map(XmppClient::close)
                        .map_err(|e| {
                            format!(
                                "XMPP account {} exists with another password? {e}",
                                agent.id
                            )
                        })
                    })
                })
            })
            .collect();
        checks.into_iter().try_for_each(|c| {
            c.join()
                .unwrap_or_else(|_| Err("password check panicked".into()))
        })
    })
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
    /// the XMPP server cannot be reached or refuses the setup. The setup is pipelined (see
    /// [`crate::xmpp::BATCH`]), so thousands of agents take seconds, not minutes.
    pub fn start(config: &SimConfig, resource: String) -> Result<Notifier, String> {
        let log = crate::publish_log::PublishLog::from_env()?;
        let mut accounts = vec![(config.admin_user.as_str(), config.admin_password.as_str())];
        accounts.extend(
            config
                .agents
                .iter()
                .map(|a| (a.id.as_str(), a.password.as_str())),
        );
        let outcomes =
            XmppClient::register_all(config.xmpp, &config.xmpp_domain, &accounts, TIMEOUT)
                .map_err(|e| format!("registering the XMPP accounts: {e}"))?;
        // Accounts left by an earlier run: check that their passwords are the configured ones.
        let existing: Vec<_> = config
            .agents
            .iter()
            .zip(outcomes.iter().skip(1))
            .filter(|(_, r)| **r == Registration::AlreadyExists)
            .map(|(a, _)| a)
            .collect();
        check_passwords(config, &existing)?;
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
        link.prepare_agents(&mut client)?;
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
            .spawn(move || run(link, client, rx, &flag, log))
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
            let _ = self.tx.send(Job::Publish(p, SystemTime::now()));
        }
    }

    /// How many notifications wait for the publisher (not yet sent).
    pub fn queued(&self) -> usize {
        self.tx.len()
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

fn run(
    link: Link,
    client: XmppClient,
    rx: Receiver<Job>,
    stopping: &AtomicBool,
    mut log: Option<crate::publish_log::PublishLog>,
) {
    let mut client = Some(client);
    let mut next: Option<Job> = None;
    loop {
        let job = match next.take() {
            Some(j) => j,
            None => match rx.recv() {
                Ok(j) => j,
                Err(_) => break,
            },
        };
        match job {
            Job::Stop => break,
            Job::Drop => {
                if let Some(c) = client.take() {
                    info!("dropping the XMPP connection (admin request)");
                    c.close();
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            Job::Publish(p, queued) => {
                // What is queued behind it goes out in the same batch, up to the next
                // non-publish job.
                let mut batch = vec![p];
                let mut queued_at = vec![queued];
                while batch.len() < PUBLISH_BATCH {
                    match rx.try_recv() {
                        Ok(Job::Publish(p, queued)) => {
                            batch.push(p);
                            queued_at.push(queued);
                        }
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let published = publish_batch(&link, &mut client, stopping, &batch);
                if let Some(log) = log.as_mut() {
                    for ((p, at), queued) in batch.iter().zip(published).zip(queued_at) {
                        if let Some(at) = at {
                            log.record(at, queued, p);
                        }
                    }
                    log.flush_if(rx.is_empty());
                }
            }
        }
    }
    if let Some(c) = client.take() {
        c.close();
    }
}

/// How many queued notifications are published at once (pipelined, in order).
const PUBLISH_BATCH: usize = 64;

/// Publishes `batch` in order: pipelined when connected and there is more than one, else
/// (and for an item refused or a connection lost on the way, which are published again
/// on their own) one by one. Returns when each item was sent, for those published.
fn publish_batch(
    link: &Link,
    client: &mut Option<XmppClient>,
    stopping: &AtomicBool,
    batch: &[Publish],
) -> Vec<Option<SystemTime>> {
    let one_by_one = |client: &mut Option<XmppClient>, items: &[Publish]| -> Vec<_> {
        items
            .iter()
            .map(|p| {
                let at = SystemTime::now();
                publish(link, client, stopping, p).then_some(at)
            })
            .collect()
    };
    let Some(c) = client.as_mut().filter(|_| batch.len() > 1) else {
        return one_by_one(client, batch);
    };
    let requests: Vec<IqRequest<'_>> = batch
        .iter()
        .map(|p| IqRequest {
            kind: "set",
            to: Some(&link.pubsub),
            payload: publish_payload(&p.node, &notification_item(&p.update)),
        })
        .collect();
    let at = SystemTime::now();
    match c.iq_batch(&requests) {
        Ok(answers) => batch
            .iter()
            .zip(answers)
            .map(|(p, answer)| match answer {
                Ok(_) => Some(at),
                // Refused (e.g. the node vanished): the single path repairs and retries.
                Err(_) => one_by_one(client, std::slice::from_ref(p))[0],
            })
            .collect(),
        Err(e) => {
            // Some may have gone out: publishing them again is the lesser evil.
            warn!(error = %e, "XMPP connection lost during a batch; publishing it again");
            if let Some(c) = client.take() {
                c.close();
            }
            one_by_one(client, batch)
        }
    }
}

/// Publishes one item, reconnecting as often as needed (until the notifier stops); whether
/// it was published.
fn publish(
    link: &Link,
    client: &mut Option<XmppClient>,
    stopping: &AtomicBool,
    p: &Publish,
) -> bool {
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
                        return false;
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
                return true;
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
                return false;
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
