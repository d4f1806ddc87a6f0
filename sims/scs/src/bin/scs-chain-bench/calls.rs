//! The call phase: inbound calls placed through finesse-sim's admin API at a steady rate, each
//! to an idle agent, answered (AnswerCall) and released (ReleaseCall) through the driver.

use std::collections::VecDeque;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use scs_sim::{Agent, Call};

/// How long one step of a call (ring, answer, release) may take.
const STEP: Duration = Duration::from_secs(30);

/// What became of one call.
pub struct CallOutcome {
    /// The dialog id finesse-sim gave.
    pub dialog: String,
    /// When EventRinging, EventEstablished and EventReleased reached "Siebel".
    pub ringing: Option<Instant>,
    /// See `ringing`.
    pub established: Option<Instant>,
    /// See `ringing`.
    pub released: Option<Instant>,
    /// Why the call did not complete.
    pub error: Option<String>,
}

/// The call phase's results.
pub struct CallRun {
    /// Every call placed.
    pub outcomes: Vec<CallOutcome>,
    /// Calls that could not be placed (no idle agent in time, admin API refused).
    pub not_placed: Vec<String>,
    /// From the first placement to the last release.
    pub wall: Duration,
}

/// The agents not on a call.
struct Idle {
    agents: Mutex<VecDeque<usize>>,
    cv: Condvar,
}

impl Idle {
    fn put(&self, a: usize) {
        self.agents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(a);
        self.cv.notify_one();
    }

    fn take(&self, timeout: Duration) -> Option<usize> {
        let deadline = Instant::now() + timeout;
        let mut q = self.agents.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(a) = q.pop_front() {
                return Some(a);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            q = self
                .cv
                .wait_timeout(q, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

struct Job {
    agent: usize,
    dialog: String,
    mark: usize,
}

/// Places `total` calls at `rate` per second to the agents `ready` (indexes into `agents`),
/// each held `hold` once answered; returns when every call is released or failed.
pub fn run(
    agents: &[Mutex<Agent>],
    ready: &[usize],
    finesse: &str,
    rate: f64,
    total: usize,
    hold: Duration,
) -> CallRun {
    let idle = Arc::new(Idle {
        agents: Mutex::new(ready.iter().copied().collect()),
        cv: Condvar::new(),
    });
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Mutex::new(rx);
    let outcomes = Mutex::new(Vec::with_capacity(total));
    // Enough workers for the calls that overlap: rate x (hold + a second of signalling).
    let workers = (8.0 + rate * (hold.as_secs_f64() + 1.0)).min(512.0) as usize;
    let mut not_placed = Vec::new();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let job = match rx.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                    Ok(j) => j,
                    Err(_) => return,
                };
                let outcome = serve(&agents[job.agent], &job, hold);
                outcomes
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(outcome);
                idle.put(job.agent);
            });
        }
        for k in 0..total {
            let due = start + Duration::from_secs_f64(k as f64 / rate);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            let Some(a) = idle.take(STEP) else {
                not_placed.push(format!("call {k}: no idle agent for {STEP:?}"));
                continue;
            };
            let agent = agents[a].lock().unwrap_or_else(|e| e.into_inner());
            let mark = agent.client.mark();
            let id = agent.login().agent_id.clone();
            drop(agent);
            match place(finesse, &id, k) {
                Ok(dialog) => {
                    let _ = tx.send(Job {
                        agent: a,
                        dialog,
                        mark,
                    });
                }
                Err(e) => {
                    not_placed.push(format!("call {k} to agent {id}: {e}"));
                    idle.put(a);
                }
            }
        }
        drop(tx);
    });
    CallRun {
        outcomes: outcomes.into_inner().unwrap_or_else(|e| e.into_inner()),
        not_placed,
        wall: start.elapsed(),
    }
}

/// Rings agent `id` through finesse-sim's admin API; returns the dialog id.
fn place(finesse: &str, id: &str, k: usize) -> Result<String, String> {
    let body = serde_json::json!({
        "to": id,
        "ani": format!("555{:07}", k % 10_000_000),
        "dnis": "8001",
    });
    let answer: serde_json::Value = ureq::post(&format!("{finesse}/admin/calls"))
        .timeout(STEP)
        .send_json(body)
        .map_err(|e| e.to_string())?
        .into_json()
        .map_err(|e| e.to_string())?;
    answer["dialogId"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("no dialogId in {answer}"))
}

/// Waits for the call to ring, answers it, holds it, releases it.
fn serve(agent: &Mutex<Agent>, job: &Job, hold: Duration) -> CallOutcome {
    let mut out = CallOutcome {
        dialog: job.dialog.clone(),
        ringing: None,
        established: None,
        released: None,
        error: None,
    };
    let client = agent
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .client
        .clone();
    let event = |name: &'static str| {
        client
            .wait_for_timed(job.mark, STEP, |c| c.event_name() == Some(name))
            .map(|(_, at)| at)
            .ok_or_else(|| format!("no {name} within {STEP:?}"))
    };
    let invoke = |command: &str| {
        let (rc, _) = agent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .invoke(command, "", &[]);
        if rc == 0 {
            Ok(())
        } else {
            Err(format!("{command} returned {rc}"))
        }
    };
    let mut steps = || -> Result<(), String> {
        out.ringing = Some(event("EventRinging")?);
        invoke("AnswerCall")?;
        out.established = Some(event("EventEstablished")?);
        std::thread::sleep(hold);
        invoke("ReleaseCall")?;
        out.released = Some(event("EventReleased")?);
        client
            .wait_for(job.mark, STEP, |c| {
                matches!(c, Call::WorkItemReleased { .. })
            })
            .ok_or("no WorkItemReleased")?;
        Ok(())
    };
    if let Err(e) = steps() {
        out.error = Some(format!("dialog {}: {e}", job.dialog));
    }
    out
}
