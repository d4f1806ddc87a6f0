//! The I/O shell around the core: carrying out its outputs, the REST workers, the Finesse
//! watcher (clock ticks and SystemInfo calls) and the broker link handler.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use driver::clock::Now;
use driver::link::{LinkHandler, Outbox};
use driver::protocol::{status_topic, Envelope, CONNECTOR_HEADER};
use driver::stomp::Frame;

use super::core::{Output, RestAnswer, RestCall};
use super::{lock, sessions, RestJob, Shared};
use crate::rest::{Rest, RestError};

/// How often the watcher ticks the core (Login waits end on ticks, checks are due on ticks).
const TICK: Duration = Duration::from_millis(50);

/// How long an event may wait for its driver instance: a driver that comes back later
/// rebuilds its view with a snapshot, so older events are only clutter in the broker.
const EVENT_TTL: Duration = Duration::from_secs(60);

/// Commands for the link thread.
pub(crate) enum Cmd {
    /// Send a message to a driver queue.
    Send { to: String, env: Envelope },
    /// Publish on the status topic.
    Broadcast(Envelope),
}

/// Carries out one output of the core (called under the core's lock: nothing here blocks).
pub(super) fn execute(s: &Arc<Shared>, out: Output) {
    match out {
        Output::Rest { ticket, call } => {
            if matches!(call, RestCall::SystemInfo { .. }) {
                if let Some(tx) = lock(&s.probe_jobs).as_ref() {
                    let _ = tx.send((ticket, call));
                }
            } else {
                s.rest_pool.submit((ticket, call));
            }
        }
        Output::Send { to, env } => {
            if let Some(l) = s.link.get() {
                l.send(Cmd::Send { to, env });
            }
        }
        Output::Broadcast(env) => {
            if let Some(l) = s.link.get() {
                l.send(Cmd::Broadcast(env));
            }
        }
        Output::StartNotifications {
            agent,
            session,
            creds,
            target,
        } => sessions::start(s, agent, session, creds, target),
        Output::StopNotifications { agent, session } => sessions::stop(s, &agent, session),
    }
}

/// Makes a REST call.
pub(super) fn call_finesse(rest: &Rest, call: &RestCall) -> Result<RestAnswer, RestError> {
    match call {
        RestCall::SetState {
            node,
            agent,
            creds,
            change,
            request_id,
        } => rest
            .set_state(node, agent, creds, change, request_id)
            .map(|()| RestAnswer::Done),
        RestCall::User { node, agent, creds } => {
            rest.user(node, agent, creds).map(RestAnswer::User)
        }
        RestCall::Dialogs { node, agent, creds } => {
            rest.dialogs(node, agent, creds).map(RestAnswer::Dialogs)
        }
        RestCall::DialogAction {
            node,
            dialog,
            creds,
            action,
            request_id,
        } => rest
            .dialog_action(node, dialog, creds, action, request_id)
            .map(|()| RestAnswer::Done),
        RestCall::MakeCall {
            node,
            agent,
            creds,
            from,
            to,
            request_id,
        } => rest
            .make_call(node, agent, creds, from, to, request_id)
            .map(|()| RestAnswer::Done),
        RestCall::Supervise {
            node,
            agent,
            creds,
            body,
            request_id,
        } => rest
            .supervise(node, agent, creds, body, request_id)
            .map(|()| RestAnswer::Done),
        RestCall::ReasonCodes {
            node,
            agent,
            creds,
            category,
        } => rest
            .reason_codes(node, agent, creds, category)
            .map(RestAnswer::ReasonCodes),
        RestCall::WrapUpReasons { node, agent, creds } => rest
            .wrap_up_reasons(node, agent, creds)
            .map(RestAnswer::ReasonCodes),
        RestCall::SystemInfo { node, creds } => rest
            .system_info(node, creds.as_ref())
            .map(RestAnswer::SystemInfo),
    }
}

/// Makes a call (timed for `/metrics`) and hands its answer to the core.
pub(super) fn run_job(s: &Arc<Shared>, (ticket, call): RestJob) {
    let answer = s.latency.time(call.kind(), || call_finesse(&s.rest, &call));
    s.feed(|c, now| c.rest_answer(now, ticket, answer));
}

/// Runs the SystemInfo calls queued now, and those they lead to (the first check, at start).
pub(super) fn run_probes_now(s: &Arc<Shared>, probes: &Receiver<RestJob>) {
    while let Ok(job) = probes.try_recv() {
        run_job(s, job);
    }
}

/// The Finesse watcher: ticks the core and makes its SystemInfo calls, until stopped.
pub(super) fn watch(s: &Arc<Shared>, probes: &Receiver<RestJob>) {
    let mut last_tick = Instant::now();
    loop {
        match probes.recv_timeout(TICK) {
            Ok(job) => run_job(s, job),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if s.stopping.load(Ordering::Acquire) {
            return;
        }
        if last_tick.elapsed() >= TICK {
            last_tick = Instant::now();
            s.feed(|c, now| c.tick(now));
        }
    }
}

fn json_frame(to: &str, env: &Envelope, from: &str) -> Frame {
    Frame::new("SEND")
        .header("destination", to)
        .header(CONNECTOR_HEADER, from)
        .header("content-type", "application/json")
        .header("correlation-id", &env.id)
        .header("expires", &driver::stomp::expires_in(EVENT_TTL))
        .body(env.to_json())
}

/// The broker link handler: requests in, messages out.
pub(super) struct Broker {
    shared: Arc<Shared>,
}

impl Broker {
    pub(super) fn new(shared: Arc<Shared>) -> Broker {
        Broker { shared }
    }
}

impl LinkHandler<Cmd> for Broker {
    fn on_up(&mut self, _now: Now, out: &mut Outbox) {
        let s = &self.shared;
        s.broker_up.store(true, Ordering::Release);
        let mut sub = Frame::new("SUBSCRIBE")
            .header("id", "requests")
            .header("destination", &s.cfg.broker.request_queue)
            .header("ack", "auto");
        if s.cfg.broker.exclusive {
            sub = sub.header("activemq.exclusive", "true");
        }
        out.send(sub);
        out.send(crate::monitor::status_subscription(
            &s.cfg.broker.request_queue,
        ));
        // The core's status broadcast (if it serves) goes through the link's command queue,
        // after the SUBSCRIBE.
        s.feed(|c, now| c.link_up(now));
    }

    fn on_down(&mut self, _now: Now, reason: &str, _first: bool) {
        self.shared.broker_up.store(false, Ordering::Release);
        self.shared.feed(|c, _| c.link_down());
        tracing::debug!("broker link down: {reason}");
    }

    fn on_frame(&mut self, _now: Now, frame: Frame, _out: &mut Outbox) {
        if frame.command != "MESSAGE" {
            return;
        }
        let reply_to = frame.get("reply-to").unwrap_or_default().to_string();
        match Envelope::from_json(&frame.body) {
            Ok(env) => {
                tracing::debug!("<- {}", env.redacted());
                self.shared.feed(|c, now| c.request(now, reply_to, env));
            }
            Err(e) => self.shared.feed(|c, _| c.undecodable(&reply_to, &e)),
        }
    }

    fn on_command(&mut self, _now: Now, cmd: Cmd, out: &mut Outbox) {
        let (to, env) = match cmd {
            Cmd::Send { to, env } => (to, env),
            Cmd::Broadcast(env) => (status_topic(&self.shared.cfg.broker.request_queue), env),
        };
        tracing::debug!("-> {to}: {}", env.redacted());
        let from = format!(
            "{}/{}",
            self.shared.cfg.connector.name, self.shared.instance
        );
        if !out.send(json_frame(&to, &env, &from)) {
            tracing::warn!("broker down: message to {to} dropped");
        }
    }
}
