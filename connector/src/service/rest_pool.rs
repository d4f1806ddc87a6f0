//! The REST workers: a fixed pool of threads and one queue per agent, so that a Finesse that
//! is slow or hangs on one agent's request delays only that agent.
//!
//! A worker takes the oldest call of an agent that has no call in flight; an agent's calls
//! run one at a time, in the order the core issued them. A hung call therefore holds one
//! worker (until `finesse.request_timeout_ms` ends it) and its own agent's later calls, never
//! another agent's: K agents hung at once hold K workers (`connector.workers`), and the others
//! are served by the rest of the pool.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use super::core::RestCall;
use super::{lock, RestJob};

/// Which queue a call joins: the agent's, or (for a call of no agent) its own.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum QueueKey {
    Agent(String),
    Alone(u64),
}

fn queue_key((ticket, call): &RestJob) -> QueueKey {
    match call {
        RestCall::SetState { agent, .. }
        | RestCall::User { agent, .. }
        | RestCall::Dialogs { agent, .. }
        | RestCall::MakeCall { agent, .. }
        | RestCall::Supervise { agent, .. }
        | RestCall::ReasonCodes { agent, .. }
        | RestCall::WrapUpReasons { agent, .. } => QueueKey::Agent(agent.clone()),
        // A dialog action is made with the agent's own credentials.
        RestCall::DialogAction { creds, .. } => QueueKey::Agent(creds.user.clone()),
        // A call of no agent (SystemInfo, which the watcher makes) is ordered with nothing.
        RestCall::SystemInfo { .. } => QueueKey::Alone(ticket.0),
    }
}

/// The per-agent queues, without threads: which call a free worker takes next.
#[derive(Default)]
struct Queues {
    /// Calls not started, per queue.
    waiting: HashMap<QueueKey, VecDeque<RestJob>>,
    /// Queues with a call in flight.
    busy: HashSet<QueueKey>,
    /// Queues with calls waiting and none in flight, oldest first.
    ready: VecDeque<QueueKey>,
    closed: bool,
}

impl Queues {
    fn push(&mut self, job: RestJob) {
        let key = queue_key(&job);
        let q = self.waiting.entry(key.clone()).or_default();
        q.push_back(job);
        if q.len() == 1 && !self.busy.contains(&key) {
            self.ready.push_back(key);
        }
    }

    /// The next call to make, its queue marked busy until [`Queues::done`].
    fn take(&mut self) -> Option<(QueueKey, RestJob)> {
        let key = self.ready.pop_front()?;
        let q = self.waiting.get_mut(&key)?;
        let job = q.pop_front()?;
        if q.is_empty() {
            self.waiting.remove(&key);
        }
        self.busy.insert(key.clone());
        Some((key, job))
    }

    fn done(&mut self, key: QueueKey) {
        self.busy.remove(&key);
        if self.waiting.contains_key(&key) {
            self.ready.push_back(key);
        }
    }
}

struct Inner {
    queues: Mutex<Queues>,
    wake: Condvar,
}

/// The queues the workers serve; cloning gives another handle on the same queues.
#[derive(Clone)]
pub(super) struct RestPool {
    inner: Arc<Inner>,
}

impl RestPool {
    /// Empty queues, no worker yet.
    pub(super) fn new() -> RestPool {
        RestPool {
            inner: Arc::new(Inner {
                queues: Mutex::new(Queues::default()),
                wake: Condvar::new(),
            }),
        }
    }

    /// Starts `workers` threads; each call is made by `run` on one of them. On an error the
    /// threads already started are returned to be ended ([`RestPool::close`], then join).
    pub(super) fn spawn_workers(
        &self,
        workers: usize,
        run: Arc<dyn Fn(RestJob) + Send + Sync>,
        started: &mut Vec<JoinHandle<()>>,
    ) -> std::io::Result<()> {
        for i in 0..workers {
            let (inner, run) = (self.inner.clone(), run.clone());
            started.push(
                std::thread::Builder::new()
                    .name(format!("connector-worker-{i}"))
                    .spawn(move || work(&inner, &*run))?,
            );
        }
        Ok(())
    }

    /// Queues a call (ignored once closed).
    pub(super) fn submit(&self, job: RestJob) {
        let mut q = lock(&self.inner.queues);
        if q.closed {
            return;
        }
        q.push(job);
        drop(q);
        self.inner.wake.notify_one();
    }

    /// Takes no more calls and drops those not started (the connector is stopping: nobody
    /// waits for their answers); the workers end once their calls in flight are done.
    pub(super) fn close(&self) {
        let mut q = lock(&self.inner.queues);
        q.closed = true;
        q.waiting.clear();
        q.ready.clear();
        drop(q);
        self.inner.wake.notify_all();
    }
}

fn work(inner: &Inner, run: &dyn Fn(RestJob)) {
    let mut q = lock(&inner.queues);
    loop {
        if let Some((key, job)) = q.take() {
            drop(q);
            run(job);
            q = lock(&inner.queues);
            q.done(key);
            if !q.ready.is_empty() {
                inner.wake.notify_one();
            }
        } else if q.closed {
            return;
        } else {
            q = inner.wake.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }
}

#[cfg(test)]
#[path = "rest_pool_tests.rs"]
mod tests;
