//! soak-host: the Siebel side of `scripts/soak.sh`, the process hosting the driver.
//!
//! Loads the driver library (dlopen), creates one driver instance and one session per agent
//! with a client interface of its own (it keeps counters, not a record of every callback, so
//! its memory stays flat), logs every agent in, makes it Ready and keeps it taking calls:
//! place a call to the agent through finesse-sim's admin API, wait for `EventRinging`,
//! `AnswerCall`, wait for `EventEstablished`, let the far end hang up through the admin API,
//! wait for `EventReleased`, think, again. Each call's events are counted by its `DialogId`:
//! an expected event that never came is lost, one that came twice is duplicated. A call that
//! was in progress while `RUN/disrupted` existed (scripts/soak.sh creates it around a restart)
//! is counted apart. Every few seconds the counters go to `RUN/host-stats.json`; `RUN/stop`
//! ends the run (in-flight calls finish, sessions and the instance are released).
//!
//! ```text
//! soak-host --lib PATH --broker IP:PORT --queue QUEUE --finesse IP:PORT --run DIR
//!           --agents FIRST_ID:COUNT [--ext-base N] [--think-ms MIN:MAX] [--talk-ms MIN:MAX]
//! ```
//! Think time (between a call's end and the next) 30-60 s and talk time 1-3 s by default: 200
//! agents make about 4 calls a second, 12 events, which the whole chain on a 2-core machine
//! keeps up with (4000-12000 ms think time made ringing arrive later than 20 s under load).

use std::collections::HashMap;
use std::ffi::{c_long, c_void};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use scapi_types::*;
use serde_json::{json, Value};

/// How long an expected event may take before the call counts it as lost.
const EVENT_WAIT: Duration = Duration::from_secs(20);
/// How long a finished call's record is kept to catch a late duplicate.
const GRACE: Duration = Duration::from_secs(20);
/// Pause before an agent whose call went wrong is put back to work.
const RECOVER_AFTER: Duration = Duration::from_secs(3);

type CreateFn = unsafe extern "C" fn(
    ISC_STRING,
    ISC_STRING,
    ISC_STRING,
    *const ISC_KVParamList,
    *mut ISC_DRIVER_HANDLE,
) -> ISC_RESULT;
type RequestServiceFn = unsafe extern "C" fn(
    ISC_DRIVER_HANDLE,
    ISC_CLIENT_INTERFACE,
    ISC_STRING,
    *const ISC_KVParamList,
    *mut ISC_SERVICE_HANDLE,
) -> ISC_RESULT;
type InvokeFn = unsafe extern "C" fn(
    ISC_SERVICE_HANDLE,
    ISC_STRING,
    ISC_STRING,
    ISC_STRING,
    *const ISC_KVParamList,
) -> ISC_RESULT;
type ReleaseFn = unsafe extern "C" fn(*mut c_void) -> ISC_RESULT;

/// The entry points the host uses.
struct Api {
    create: CreateFn,
    request_service: RequestServiceFn,
    invoke: InvokeFn,
    release_service: ReleaseFn,
    release_driver: ReleaseFn,
    _lib: libloading::Library,
}

impl Api {
    fn load(path: &str) -> Result<Api, String> {
        // SAFETY: the driver library's initialisers are Rust's own; the symbols have the
        // types include/scapi.h declares.
        unsafe {
            let lib = libloading::Library::new(path).map_err(|e| format!("load {path}: {e}"))?;
            let create = *lib
                .get::<CreateFn>(b"CreateISCDriverInstance\0")
                .map_err(|e| e.to_string())?;
            let request_service = *lib
                .get::<RequestServiceFn>(b"RequestService\0")
                .map_err(|e| e.to_string())?;
            let invoke = *lib
                .get::<InvokeFn>(b"InvokeCommand\0")
                .map_err(|e| e.to_string())?;
            let release_service = *lib
                .get::<ReleaseFn>(b"ReleaseISCServiceInstance\0")
                .map_err(|e| e.to_string())?;
            let release_driver = *lib
                .get::<ReleaseFn>(b"ReleaseISCDriverInstance\0")
                .map_err(|e| e.to_string())?;
            Ok(Api {
                create,
                request_service,
                invoke,
                release_service,
                release_driver,
                _lib: lib,
            })
        }
    }
}

/// UTF-16 buffers for one call into the library.
#[derive(Default)]
struct Wide {
    strings: Vec<Vec<u16>>,
    items: Vec<ISC_KeyValue>,
}

impl Wide {
    fn s(&mut self, text: &str) -> ISC_STRING {
        let mut v: Vec<u16> = text.encode_utf16().chain([0]).collect();
        let p = v.as_mut_ptr();
        self.strings.push(v);
        p
    }

    fn kv(&mut self, pairs: &[(&str, String)]) -> ISC_KVParamList {
        self.items = pairs
            .iter()
            .map(|(k, v)| ISC_KeyValue {
                paramName: self.s(k),
                paramValue: self.s(v),
            })
            .collect();
        ISC_KVParamList {
            len: self.items.len() as c_long,
            dataItems: self.items.as_mut_ptr(),
        }
    }
}

/// What a callback tells the main loop.
enum Ev {
    Status(usize, String),
    Event(usize, String, Option<String>),
    Error,
}

/// The client handle of one session: its agent index and the main loop's channel.
struct Ctx {
    agent: usize,
    tx: Mutex<Sender<Ev>>,
}

unsafe fn read(s: ISC_STRING) -> String {
    if s.is_null() {
        return String::new();
    }
    let mut n = 0;
    while *s.add(n) != 0 {
        n += 1;
    }
    String::from_utf16_lossy(std::slice::from_raw_parts(s, n))
}

unsafe fn ctx<'a>(h: ISC_CLIENT_HANDLE) -> &'a Ctx {
    &*(h as *const Ctx)
}

unsafe fn send(h: ISC_CLIENT_HANDLE, ev: impl FnOnce(usize) -> Ev) {
    let c = ctx(h);
    let _ =
        c.tx.lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(ev(c.agent));
}

unsafe extern "C" fn cb_plain(_: ISC_CLIENT_HANDLE) -> ISC_RESULT {
    0
}
unsafe extern "C" fn cb_cache(
    _: ISC_CLIENT_HANDLE,
    _: *const ISC_StrParamList,
    _: *const ISC_StrParamList,
    _: *const ISC_LongParamList,
) -> ISC_RESULT {
    0
}
unsafe extern "C" fn cb_error(h: ISC_CLIENT_HANDLE, _: ISC_STRING, _: ISC_STRING) -> ISC_RESULT {
    send(h, |_| Ev::Error);
    0
}
unsafe extern "C" fn cb_event(
    h: ISC_CLIENT_HANDLE,
    name: ISC_STRING,
    fields: *const ISC_KVParamList,
    _: ISC_BOOLEAN,
    _: ISC_STRING,
) -> ISC_RESULT {
    let name = read(name);
    let mut dialog = None;
    if !fields.is_null() && (*fields).len > 0 && !(*fields).dataItems.is_null() {
        for kv in std::slice::from_raw_parts((*fields).dataItems, (*fields).len as usize) {
            if read(kv.paramName) == "DialogId" {
                dialog = Some(read(kv.paramValue));
            }
        }
    }
    send(h, |a| Ev::Event(a, name, dialog));
    0
}
unsafe extern "C" fn cb_new_item(
    _: ISC_CLIENT_HANDLE,
    _: ISC_STRING,
    _: ISC_STRING,
    _: ISC_STRING,
    _: SCWorkItemMode,
) -> ISC_RESULT {
    0
}
unsafe extern "C" fn cb_status(h: ISC_CLIENT_HANDLE, text: ISC_STRING) -> ISC_RESULT {
    let text = read(text);
    send(h, |a| Ev::Status(a, text));
    0
}
unsafe extern "C" fn cb_str(_: ISC_CLIENT_HANDLE, _: ISC_STRING) -> ISC_RESULT {
    0
}
unsafe extern "C" fn cb_update(
    _: ISC_CLIENT_HANDLE,
    _: ISC_STRING,
    _: ISC_STRING,
    _: *const ISC_KVParamList,
) -> ISC_RESULT {
    0
}
unsafe extern "C" fn cb_released(_: ISC_CLIENT_HANDLE, _: ISC_STRING, _: TimeT) -> ISC_RESULT {
    0
}
unsafe extern "C" fn cb_started(
    _: ISC_CLIENT_HANDLE,
    _: ISC_STRING,
    _: ISC_STRING,
    _: ISC_STRING,
    _: ISC_STRING,
    _: TimeT,
) -> ISC_RESULT {
    0
}

fn client(ctx: *const Ctx) -> ISC_CLIENT_INTERFACE {
    ISC_CLIENT_INTERFACE {
        clientHandle: ctx as ISC_CLIENT_HANDLE,
        BeginBatch: Some(cb_plain),
        CacheCommandInformation: Some(cb_cache),
        CleanAllWorkItem: Some(cb_plain),
        EndBatch: Some(cb_plain),
        HandleError: Some(cb_error),
        HandleEvent: Some(cb_event),
        IndicateNewWorkItem: Some(cb_new_item),
        ShowStatusText: Some(cb_status),
        UpdateObjectInformation: Some(cb_update),
        WorkItemReleased: Some(cb_released),
        WorkItemResumed: Some(cb_str),
        WorkItemStarted: Some(cb_started),
        WorkItemSuspended: Some(cb_str),
    }
}

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
struct Rng(u64);

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
enum St {
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

struct Agent {
    id: String,
    handle: usize,
    st: St,
    cti_up: bool,
    logged_in: bool,
    ready: bool,
    track: u64,
}

/// The three events of a call, in order.
const PHASES: [&str; 3] = ["EventRinging", "EventEstablished", "EventReleased"];

/// One placed call.
struct CallRec {
    placed: Instant,
    disrupted: bool,
    expected: [bool; 3],
    got: [u32; 3],
    done: Option<Instant>,
}

/// Totals of finished calls: per phase, expected / received once / lost / duplicated, for
/// calls clear of restarts and for disrupted ones.
#[derive(Default)]
struct Totals {
    placed: u64,
    placed_disrupted: u64,
    place_errors: u64,
    finished: u64,
    expected: [[u64; 3]; 2],
    ok: [[u64; 3]; 2],
    lost: [[u64; 3]; 2],
    dup: [[u64; 3]; 2],
    timeouts: [u64; 3],
    unknown_events: u64,
    host_errors: u64,
    invoke_errors: u64,
    recoveries: u64,
    events: u64,
    /// Time from placing a call to its first EventRinging: 10 ms buckets up to 60 s.
    ring_latency: Vec<u64>,
    ring_latency_max_ms: u64,
}

/// Width of a latency bucket, ms, and their number.
const BUCKET_MS: u64 = 10;
const BUCKETS: usize = 6001;

impl Totals {
    fn ringing_after(&mut self, d: Duration) {
        if self.ring_latency.is_empty() {
            self.ring_latency = vec![0; BUCKETS];
        }
        let ms = d.as_millis() as u64;
        self.ring_latency[((ms / BUCKET_MS) as usize).min(BUCKETS - 1)] += 1;
        self.ring_latency_max_ms = self.ring_latency_max_ms.max(ms);
    }

    /// The latency percentile `p` (0..1), ms (the upper edge of its bucket).
    fn percentile(&self, p: f64) -> u64 {
        let n: u64 = self.ring_latency.iter().sum();
        if n == 0 {
            return 0;
        }
        let want = ((n as f64) * p).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in self.ring_latency.iter().enumerate() {
            seen += c;
            if seen >= want {
                return (i as u64 + 1) * BUCKET_MS;
            }
        }
        self.ring_latency_max_ms
    }

    fn fold(&mut self, c: &CallRec) {
        let k = usize::from(c.disrupted);
        self.finished += 1;
        for p in 0..3 {
            if !c.expected[p] {
                continue;
            }
            self.expected[k][p] += 1;
            match c.got[p] {
                0 => self.lost[k][p] += 1,
                1 => self.ok[k][p] += 1,
                _ => self.dup[k][p] += 1,
            }
        }
    }

    fn json(&self) -> Value {
        let phases = |a: &[u64; 3]| json!({"ringing": a[0], "established": a[1], "released": a[2], "all": a.iter().sum::<u64>()});
        let side = |k: usize| {
            json!({
                "expected": phases(&self.expected[k]),
                "ok": phases(&self.ok[k]),
                "lost": phases(&self.lost[k]),
                "duplicated": phases(&self.dup[k]),
            })
        };
        json!({
            "placed": self.placed,
            "placed_disrupted": self.placed_disrupted,
            "place_errors": self.place_errors,
            "finished": self.finished,
            "clean": side(0),
            "disrupted": side(1),
            "timeouts": phases(&self.timeouts),
            "unknown_events": self.unknown_events,
            "host_errors": self.host_errors,
            "invoke_errors": self.invoke_errors,
            "recoveries": self.recoveries,
            "events": self.events,
            "ringing_latency_ms": {
                "p50": self.percentile(0.5),
                "p99": self.percentile(0.99),
                "max": self.ring_latency_max_ms,
            },
        })
    }
}

struct Args {
    lib: String,
    broker: SocketAddr,
    queue: String,
    finesse: SocketAddr,
    run: PathBuf,
    first: u64,
    count: usize,
    ext_base: u64,
    think: (u64, u64),
    talk: (u64, u64),
}

fn range(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s.split_once(':').ok_or(format!("{s}: expected MIN:MAX"))?;
    let (a, b): (u64, u64) = (
        a.parse().map_err(|_| format!("{s}: not a number"))?,
        b.parse().map_err(|_| format!("{s}: not a number"))?,
    );
    if a > b {
        return Err(format!("{s}: MIN above MAX"));
    }
    Ok((a, b))
}

fn args() -> Result<Args, String> {
    let mut m: HashMap<String, String> = HashMap::new();
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().ok_or(format!("{k} needs a value"))?;
        m.insert(k.trim_start_matches('-').to_string(), v);
    }
    let get = |k: &str| m.get(k).cloned().ok_or(format!("--{k} is required"));
    let (first, count) = get("agents")?
        .split_once(':')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .ok_or("--agents FIRST_ID:COUNT")?;
    Ok(Args {
        lib: get("lib")?,
        broker: get("broker")?.parse().map_err(|_| "--broker IP:PORT")?,
        queue: get("queue")?,
        finesse: get("finesse")?.parse().map_err(|_| "--finesse IP:PORT")?,
        run: PathBuf::from(get("run")?),
        first,
        count,
        ext_base: m
            .get("ext-base")
            .map(|s| s.parse().map_err(|_| "--ext-base N"))
            .transpose()?
            .unwrap_or(60000),
        think: range(m.get("think-ms").map_or("30000:60000", String::as_str))?,
        talk: range(m.get("talk-ms").map_or("1000:3000", String::as_str))?,
    })
}

struct Host {
    api: Api,
    a: Args,
    agents: Vec<Agent>,
    calls: HashMap<String, CallRec>,
    t: Totals,
    rng: Rng,
    disrupted: bool,
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

    fn on_event(&mut self, i: usize, name: &str, dialog: Option<String>, now: Instant) {
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

    fn tick(&mut self, i: usize, now: Instant, stopping: bool) {
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
    fn fold(&mut self, now: Instant, all: bool) {
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

    fn write_stats(&self, started: Instant, final_: bool) {
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

fn run() -> Result<(), String> {
    let a = args()?;
    let api = Api::load(&a.lib)?;
    let (tx, rx): (Sender<Ev>, Receiver<Ev>) = channel();
    let mut w = Wide::default();
    let params = w.kv(&[
        ("Driver:BrokerHost", a.broker.ip().to_string()),
        ("Driver:BrokerPort", a.broker.port().to_string()),
        ("Driver:RequestQueue", a.queue.clone()),
        ("Driver:ClientId", format!("soak-{}", std::process::id())),
        ("Driver:LogLevel", "warn".into()),
        (
            "Driver:LogFile",
            a.run.join("driver.log").display().to_string(),
        ),
    ]);
    let mut driver: ISC_DRIVER_HANDLE = std::ptr::null_mut();
    let (media, lang, conn) = (w.s("Voice"), w.s("ENU"), w.s(""));
    // SAFETY: buffers outlive the call.
    let rc = unsafe { (api.create)(media, lang, conn, &params, &mut driver) };
    if rc != 0 {
        return Err(format!("CreateISCDriverInstance returned {rc}"));
    }
    let mut agents = Vec::with_capacity(a.count);
    for i in 0..a.count {
        let id = (a.first + i as u64).to_string();
        let password = format!("pw-{id}");
        let extension = (a.ext_base + i as u64).to_string();
        // Leaked on purpose: the driver may call back until the session is released, and the
        // process ends right after.
        let ctx: &'static Ctx = Box::leak(Box::new(Ctx {
            agent: i,
            tx: Mutex::new(tx.clone()),
        }));
        let mut w = Wide::default();
        let list = w.kv(&[
            ("Service:AgentId", id.clone()),
            ("Service:AgentPassword", password),
            ("Service:Extension", extension),
        ]);
        let conn = w.s("");
        let mut sh: ISC_SERVICE_HANDLE = std::ptr::null_mut();
        // SAFETY: our driver handle; buffers outlive the call; ctx lives forever.
        let rc = unsafe { (api.request_service)(driver, client(ctx), conn, &list, &mut sh) };
        if rc != 0 {
            return Err(format!("RequestService for agent {id} returned {rc}"));
        }
        agents.push(Agent {
            id,
            handle: sh as usize,
            st: St::WaitCti,
            cti_up: false,
            logged_in: false,
            ready: false,
            track: 0,
        });
    }
    eprintln!(
        "soak-host: {} sessions on one driver instance (pid {})",
        agents.len(),
        std::process::id()
    );
    let mut h = Host {
        api,
        rng: Rng(0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id())),
        a,
        agents,
        calls: HashMap::new(),
        t: Totals::default(),
        disrupted: false,
    };
    let started = Instant::now();
    let mut last_stats = Instant::now();
    let mut stop_at: Option<Instant> = None;
    loop {
        // Callbacks first (they may arrive from the link thread at any time).
        while let Ok(ev) = rx.recv_timeout(Duration::from_millis(20)) {
            let now = Instant::now();
            match ev {
                // "CTI is available." / "CTI is unavailable: ..."; other texts (the agent's
                // state) leave it as it was.
                Ev::Status(i, text) => {
                    if text.starts_with("CTI is available") {
                        h.agents[i].cti_up = true;
                    } else if text.starts_with("CTI is unavailable") {
                        h.agents[i].cti_up = false;
                    }
                }
                Ev::Event(i, name, dialog) => h.on_event(i, &name, dialog, now),
                Ev::Error => h.t.host_errors += 1,
            }
        }
        let now = Instant::now();
        h.disrupted = h.a.run.join("disrupted").exists();
        if h.disrupted {
            for c in h.calls.values_mut().filter(|c| c.done.is_none()) {
                c.disrupted = true;
            }
        }
        let stopping = stop_at.is_some();
        if !stopping && h.a.run.join("stop").exists() {
            stop_at = Some(now);
        }
        for i in 0..h.agents.len() {
            h.tick(i, now, stopping);
        }
        h.fold(now, false);
        if now.duration_since(last_stats) >= Duration::from_secs(5) {
            h.write_stats(started, false);
            last_stats = now;
        }
        if let Some(t) = stop_at {
            let busy = h.agents.iter().any(|a| !matches!(a.st, St::Stopped));
            if (!busy && now.duration_since(t) >= Duration::from_secs(5))
                || now.duration_since(t) >= Duration::from_secs(60)
            {
                break;
            }
        }
    }
    h.fold(Instant::now(), true);
    h.write_stats(started, true);
    for ag in &h.agents {
        // SAFETY: our session handles, released once.
        unsafe { (h.api.release_service)(ag.handle as *mut c_void) };
    }
    // SAFETY: our driver handle, released once.
    unsafe { (h.api.release_driver)(driver) };
    eprintln!("soak-host: stopped");
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("soak-host: {e}");
        std::process::exit(1);
    }
}
