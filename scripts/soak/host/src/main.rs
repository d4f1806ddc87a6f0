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
use std::ffi::c_void;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::calls::{Agent, Host, Rng, St};
use crate::driver::{client, Api, Ctx, Ev, Wide};
use crate::stats::Totals;
use scapi_types::*;

mod calls;
mod driver;
mod stats;

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
