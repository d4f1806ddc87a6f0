//! The agents taking calls: each agent's step in the call cycle, the events that move it on,
//! and the finesse-sim admin API that places and ends the calls.

use std::collections::HashMap;
use std::ffi::c_void;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::driver::{Api, Wide};
use crate::stats::{CallRec, Totals, PHASES};
use crate::Args;
use serde_json::{json, Value};

/// How long an expected event may take before the call counts it as lost.
const EVENT_WAIT: Duration = Duration::from_secs(20);
/// How long a finished call's record is kept to catch a late duplicate.
const GRACE: Duration = Duration::from_secs(20);
/// Pause before an agent whose call went wrong is put back to work.
const RECOVER_AFTER: Duration = Duration::from_secs(3);

/// One HTTP/1.1 POST with a JSON body on a fresh connection; the status and body.
fn post(addr: SocketAddr, path: &str, body: &Value) -> Result<(u16, Value), String> {
    let body = body.to_string();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("connect {addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| format!("send: {e}"))?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)
        .map_err(|e| format!("read: {e}"))?;
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no HTTP status in {:?}", answer.lines().next()))?;
    let json = answer
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    Ok((status, json))
}

/// A small deterministic generator for think and talk times.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn between(&mut self, (lo, hi): (u64, u64)) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(lo + self.0 % (hi - lo + 1))
    }
}

/// Where an agent is in its loop.
#[derive(Clone, Debug)]
pub(crate) enum St {
    WaitCti,
    LoggingIn(Instant),
    MakingReady(Instant),
    Idle(Instant),
    Ringing(String, Instant),
    Answering(String, Instant),
    Talking(String, Instant),
    Releasing(String, Instant),
    Recover(Instant),
    Stopped,
}

impl St {
    fn label(&self) -> &'static str {
        match self {
            St::WaitCti => "wait_cti",
            St::LoggingIn(_) => "logging_in",
            St::MakingReady(_) => "making_ready",
            St::Idle(_) => "idle",
            St::Ringing(..) => "ringing",
            St::Answering(..) => "answering",
            St::Talking(..) => "talking",
            St::Releasing(..) => "releasing",
            St::Recover(_) => "recover",
            St::Stopped => "stopped",
        }
    }
}

pub(crate) struct Agent {
    pub(crate) id: String,
    pub(crate) handle: usize,
    pub(crate) st: St,
    pub(crate) cti_up: bool,
    pub(crate) logged_in: bool,
    pub(crate) ready: bool,
    pub(crate) track: u64,
}

pub(crate) struct Host {
    pub(crate) api: Api,
    pub(crate) a: Args,
    pub(crate) agents: Vec<Agent>,
    pub(crate) calls: HashMap<String, CallRec>,
    pub(crate) t: Totals,
    pub(crate) rng: Rng,
    pub(crate) disrupted: bool,
}

impl Host {
    fn invoke(&mut self, i: usize, command: &str) -> bool {
        let ag = &mut self.agents[i];
        ag.track += 1;
        let mut w = Wide::default();
        let track = w.s(&format!("soak-{}", ag.track));
        let name = w.s(command);
        let sp = w.s("");
        let list = w.kv(&[]);
        // SAFETY: our session handle; the buffers outlive the call.
        let rc = unsafe { (self.api.invoke)(ag.handle as *mut c_void, track, name, sp, &list) };
        if rc != 0 {
            self.t.invoke_errors += 1;
        }
        rc == 0
    }

    fn recover(&mut self, i: usize, now: Instant) {
        self.agents[i].st = St::Recover(now + RECOVER_AFTER);
    }

    /// Ends a call that went wrong: the far end hangs up (if the call still exists).
    fn abandon(&mut self, i: usize, dialog: &str, phase: usize, now: Instant) {
        self.t.timeouts[phase] += 1;
        let _ = post(
            self.a.finesse,
            &format!("/admin/calls/{dialog}/hangup"),
            &json!({}),
        );
        if let Some(c) = self.calls.get_mut(dialog) {
            c.done = Some(now);
        }
        self.recover(i, now);
    }

    fn think(&mut self, now: Instant) -> St {
        St::Idle(now + self.rng.between(self.a.think))
    }

    pub(crate) fn on_event(&mut self, i: usize, name: &str, dialog: Option<String>, now: Instant) {
        self.t.events += 1;
        if let (Some(d), Some(p)) = (&dialog, PHASES.iter().position(|p| *p == name)) {
            match self.calls.get_mut(d) {
                Some(c) => {
                    c.got[p] += 1;
                    if p == 0 && c.got[0] == 1 {
                        let waited = now.duration_since(c.placed);
                        self.t.ringing_after(waited);
                    }
                }
                None => self.t.unknown_events += 1,
            }
        }
        let ag = &mut self.agents[i];
        match name {
            "EventAgentLogin" => ag.logged_in = true,
            "EventAgentReady" => ag.ready = true,
            "EventAgentNotReady" => ag.ready = false,
            "EventAgentLogout" => {
                ag.logged_in = false;
                ag.ready = false;
            }
            _ => {}
        }
        let st = ag.st.clone();
        let same = |d: &str| dialog.as_deref() == Some(d);
        match (st, name) {
            (St::LoggingIn(_), "EventAgentLogin") => {
                if self.agents[i].ready {
                    self.agents[i].st = self.think(now);
                } else if self.invoke(i, "ChangeReadyState") {
                    self.agents[i].st = St::MakingReady(now + EVENT_WAIT);
                } else {
                    self.recover(i, now);
                }
            }
            (St::MakingReady(_), "EventAgentReady") => self.agents[i].st = self.think(now),
            (St::Ringing(d, _), "EventRinging") if same(&d) => {
                if let Some(c) = self.calls.get_mut(&d) {
                    c.expected[1] = true;
                }
                if self.invoke(i, "AnswerCall") {
                    self.agents[i].st = St::Answering(d, now + EVENT_WAIT);
                } else {
                    self.abandon(i, &d, 1, now);
                }
            }
            (St::Answering(d, _), "EventEstablished") if same(&d) => {
                let talk = self.rng.between(self.a.talk);
                self.agents[i].st = St::Talking(d, now + talk);
            }
            (St::Releasing(d, _), "EventReleased") if same(&d) => {
                if let Some(c) = self.calls.get_mut(&d) {
                    c.done = Some(now);
                }
                self.agents[i].st = self.think(now);
            }
            _ => {}
        }
    }

    pub(crate) fn tick(&mut self, i: usize, now: Instant, stopping: bool) {
        let st = self.agents[i].st.clone();
        match st {
            St::WaitCti if self.agents[i].cti_up && !stopping => {
                if self.invoke(i, "LogIn") {
                    self.agents[i].st = St::LoggingIn(now + EVENT_WAIT);
                } else {
                    self.recover(i, now);
                }
            }
            St::LoggingIn(t) | St::MakingReady(t) if now >= t => self.recover(i, now),
            St::Idle(_) if stopping => self.agents[i].st = St::Stopped,
            St::Idle(t) if now >= t => {
                let ag = &self.agents[i];
                let body = json!({"to": ag.id, "ani": format!("408555{:04}", i), "dnis": "8001"});
                match post(self.a.finesse, "/admin/calls", &body) {
                    Ok((200, v)) => {
                        let d = v["dialogId"].as_str().unwrap_or_default().to_string();
                        self.t.placed += 1;
                        if self.disrupted {
                            self.t.placed_disrupted += 1;
                        }
                        self.calls.insert(
                            d.clone(),
                            CallRec {
                                placed: now,
                                disrupted: self.disrupted,
                                expected: [true, false, false],
                                got: [0; 3],
                                done: None,
                            },
                        );
                        self.agents[i].st = St::Ringing(d, now + EVENT_WAIT);
                    }
                    _ => {
                        self.t.place_errors += 1;
                        self.recover(i, now);
                    }
                }
            }
            St::Ringing(d, t) if now >= t => self.abandon(i, &d, 0, now),
            St::Answering(d, t) if now >= t => self.abandon(i, &d, 1, now),
            St::Talking(d, t) if now >= t => {
                if let Some(c) = self.calls.get_mut(&d) {
                    c.expected[2] = true;
                }
                match post(
                    self.a.finesse,
                    &format!("/admin/calls/{d}/hangup"),
                    &json!({}),
                ) {
                    Ok((200, _)) => self.agents[i].st = St::Releasing(d, now + EVENT_WAIT),
                    _ => {
                        self.t.place_errors += 1;
                        if let Some(c) = self.calls.get_mut(&d) {
                            c.done = Some(now);
                        }
                        self.recover(i, now);
                    }
                }
            }
            St::Releasing(d, t) if now >= t => self.abandon(i, &d, 2, now),
            St::Recover(_) if stopping => self.agents[i].st = St::Stopped,
            St::Recover(t) if now >= t => {
                self.t.recoveries += 1;
                let ag = &self.agents[i];
                let (cti, li, ready) = (ag.cti_up, ag.logged_in, ag.ready);
                if !cti {
                    self.agents[i].st = St::WaitCti;
                } else if !li {
                    self.agents[i].st = if self.invoke(i, "LogIn") {
                        St::LoggingIn(now + EVENT_WAIT)
                    } else {
                        St::Recover(now + RECOVER_AFTER)
                    };
                } else if !ready {
                    self.agents[i].st = if self.invoke(i, "ChangeReadyState") {
                        St::MakingReady(now + EVENT_WAIT)
                    } else {
                        St::Recover(now + RECOVER_AFTER)
                    };
                } else {
                    self.agents[i].st = self.think(now);
                }
            }
            St::WaitCti if stopping => self.agents[i].st = St::Stopped,
            St::LoggingIn(_) | St::MakingReady(_) if stopping => self.agents[i].st = St::Stopped,
            _ => {}
        }
    }

    /// Folds calls finished more than GRACE ago into the totals (all of them at the end).
    pub(crate) fn fold(&mut self, now: Instant, all: bool) {
        let done: Vec<String> = self
            .calls
            .iter()
            .filter(|(_, c)| all || c.done.is_some_and(|d| now.duration_since(d) >= GRACE))
            .map(|(k, _)| k.clone())
            .collect();
        for k in done {
            if let Some(c) = self.calls.remove(&k) {
                self.t.fold(&c);
            }
        }
    }

    pub(crate) fn write_stats(&self, started: Instant, final_: bool) {
        let mut states: HashMap<&str, usize> = HashMap::new();
        for a in &self.agents {
            *states.entry(a.st.label()).or_default() += 1;
        }
        let mut v = self.t.json();
        v["uptime_s"] = json!(started.elapsed().as_secs());
        v["open_calls"] = json!(self.calls.len());
        v["states"] = json!(states);
        v["cti_up"] = json!(self.agents.iter().filter(|a| a.cti_up).count());
        v["final"] = json!(final_);
        v["pid"] = json!(std::process::id());
        let path = self.a.run.join("host-stats.json");
        let tmp = self.a.run.join("host-stats.json.tmp");
        if std::fs::write(&tmp, v.to_string()).is_ok() {
            let _ = std::fs::rename(tmp, path);
        }
    }
}
