//! `scs-chain-bench`: the whole chain under load. N agents over K driver instances (the real
//! library, loaded as Siebel would through scs-sim) log in through the broker, the connector,
//! finesse-sim and Prosody, go Ready, then take inbound calls placed at a steady rate through
//! finesse-sim's admin API, each answered and released through the driver. Prints the login
//! throughput, the latency from finesse-sim's publish of each dialog event (its publish log,
//! `FINESSE_SIM_PUBLISH_LOG`) to the matching Siebel callback, the calls per second
//! sustained, the connector's peak memory and threads, and the CPU of every watched process.
//! `scripts/bench.sh` starts what it needs and runs it; see the README's "Benchmarks".

mod calls;
mod latency;
mod options;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scs_sim::bench::{established_to, ms, Distribution, PeakWatch, Phase};
use scs_sim::library::{default_library_path, Library};
use scs_sim::server::AgentLogin;
use scs_sim::{Agent, Call, CommServer};

use options::Options;

/// How long one agent may take to log in or go Ready, at most (thousands queue up).
const ROUND_WAIT: Duration = Duration::from_secs(300);

/// Invokes `command` for each agent of `who` at once, then waits for each one's `event`;
/// returns the agents that got it with their latencies, and the wall time.
fn round(
    agents: &[Mutex<Agent>],
    who: &[usize],
    command: &str,
    event: &str,
) -> (Vec<usize>, Vec<Duration>, Duration, Vec<String>) {
    let t0 = Instant::now();
    let mut sent = Vec::with_capacity(who.len());
    let mut errors = Vec::new();
    for &i in who {
        let mut a = agents[i].lock().unwrap_or_else(|e| e.into_inner());
        let mark = a.client.mark();
        let at = Instant::now();
        let (rc, _) = a.invoke(command, "", &[]);
        if rc == 0 {
            sent.push((i, mark, at, a.client.clone()));
        } else {
            errors.push(format!(
                "agent {}: {command} returned {rc}",
                a.login().agent_id
            ));
        }
    }
    let deadline = t0 + ROUND_WAIT;
    let (mut done, mut lat) = (Vec::new(), Vec::new());
    let mut last = t0;
    for (i, mark, at, client) in sent {
        let left = deadline.saturating_duration_since(Instant::now());
        let got = client.wait_for_timed(mark, left, |c| {
            c.event_name() == Some(event) || matches!(c, Call::HandleError { .. })
        });
        match got {
            Some((Call::HandleError { text, .. }, _)) => {
                errors.push(format!("{}: {command}: {text}", client.label()))
            }
            Some((_, arrived)) => {
                done.push(i);
                lat.push(arrived.saturating_duration_since(at));
                last = last.max(arrived);
            }
            None => errors.push(format!("{}: no {event}", client.label())),
        }
    }
    (done, lat, last.saturating_duration_since(t0), errors)
}

/// [`round`] over `who`, `wave` agents at a time (0: all at once).
fn waves(
    agents: &[Mutex<Agent>],
    who: &[usize],
    wave: usize,
    command: &str,
    event: &str,
) -> (Vec<usize>, Vec<Duration>, Duration, Vec<String>) {
    let (mut done, mut lat, mut wall, mut errors) =
        (Vec::new(), Vec::new(), Duration::ZERO, Vec::new());
    for chunk in who.chunks(if wave == 0 { who.len().max(1) } else { wave }) {
        let (d, l, w, e) = round(agents, chunk, command, event);
        done.extend(d);
        lat.extend(l);
        wall += w;
        errors.extend(e);
    }
    (done, lat, wall, errors)
}

fn print_round(what: &str, n: usize, lat: Vec<Duration>, wall: Duration, errors: &[String]) {
    let d = Distribution::new(lat);
    println!(
        "{what}: {}/{n} agents in {:.2} s ({:.0}/s); latency {}",
        d.len(),
        wall.as_secs_f64(),
        d.len() as f64 / wall.as_secs_f64().max(1e-9),
        d.summary()
    );
    for e in errors.iter().take(5) {
        println!("  {what} failure: {e}");
    }
}

fn cpu_line(names: &[String], phases: &[(&str, Vec<Option<f64>>)]) {
    println!(
        "cpu (% of one core; 2 cores = 200%): {}",
        phases
            .iter()
            .map(|(p, _)| *p)
            .collect::<Vec<_>>()
            .join(" / ")
    );
    for (k, name) in names.iter().enumerate() {
        let cells: Vec<String> = phases
            .iter()
            .map(|(_, v)| match v[k] {
                Some(c) => format!("{c:.0}%"),
                None => "?".into(),
            })
            .collect();
        println!("  {name}: {}", cells.join(" / "));
    }
}

/// Waits (up to a minute) until the XMPP server holds a connection per Ready agent (the
/// connector's notification sessions) plus finesse-sim's, and says how long that took.
fn wait_for_sessions(port: u16, agents: usize) {
    let t = Instant::now();
    let mut n = established_to(port);
    while n < agents + 1 && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
        n = established_to(port);
    }
    println!(
        "xmpp: {n} client connections to port {port} ({agents} agents' notification sessions \
         and finesse-sim's wanted) {:.2} s after the last Ready",
        t.elapsed().as_secs_f64()
    );
}

/// Waits (up to a minute) until finesse-sim has published what logins and Ready queued, so
/// that calls do not wait behind that backlog, and says how long that took.
fn wait_for_publish_queue(finesse: &str) {
    let t = Instant::now();
    let queued = || -> Result<u64, String> {
        let v: serde_json::Value = ureq::get(&format!("{finesse}/admin/publish-queue"))
            .timeout(Duration::from_secs(5))
            .call()
            .map_err(|e| e.to_string())?
            .into_json()
            .map_err(|e| e.to_string())?;
        v["queued"].as_u64().ok_or(format!("no queued in {v}"))
    };
    let mut n = queued();
    while matches!(n, Ok(q) if q > 0) && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
        n = queued();
    }
    match n {
        Ok(q) => println!(
            "finesse-sim: {q} notifications queued {:.2} s later",
            t.elapsed().as_secs_f64()
        ),
        Err(e) => println!("finesse-sim: publish queue unknown ({e})"),
    }
}

fn run(o: &Options) -> Result<bool, String> {
    let mut names: Vec<String> = o.watch.iter().map(|(n, _)| n.clone()).collect();
    let mut pids: Vec<u32> = o.watch.iter().map(|(_, p)| *p).collect();
    names.push("bench (drivers + scs-sim)".into());
    pids.push(std::process::id());
    let connector = o
        .watch
        .iter()
        .find(|(n, _)| n == "connector")
        .map(|(_, p)| *p);
    let peak = connector.map(PeakWatch::start);
    println!(
        "chain bench: {} agents over {} driver instances, {} calls/s for {} s (hold {} ms){}",
        o.agents,
        o.drivers,
        o.rate,
        o.seconds,
        o.hold_ms,
        if o.wave > 0 {
            format!(", logins and Ready {} agents at a time", o.wave)
        } else {
            String::new()
        }
    );
    let lib = Arc::new(Library::load(&default_library_path()).map_err(|e| e.to_string())?);
    let def = CommServer::read_def(&o.def).map_err(|e| e.to_string())?;
    let servers = (0..o.drivers)
        .map(|d| {
            CommServer::from_def(
                lib.clone(),
                def.clone(),
                &o.profile,
                "ENU",
                &o.driver_params(d),
            )
            .map_err(|e| format!("driver instance {d}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let t0 = Instant::now();
    let mut agents = Vec::with_capacity(o.agents);
    for i in 0..o.agents {
        let id = o.agent_id(i);
        let login = AgentLogin {
            user: format!("bench{id}"),
            pin: format!("pw-{id}"),
            dn: format!("{}", 100_000 + i),
            agent_id: id,
            selected_text: String::new(),
        };
        let agent = servers[i % o.drivers]
            .request_service(&login, &[], false)
            .map_err(|e| e.to_string())?;
        agents.push(Mutex::new(agent));
    }
    for a in &agents {
        let client = a.lock().unwrap_or_else(|e| e.into_inner()).client.clone();
        client
            .wait_for(
                0,
                Duration::from_secs(60),
                |c| matches!(c, Call::ShowStatusText(t) if t.contains("CTI is available")),
            )
            .ok_or("no \"CTI is available\" within 60 s: is the connector running on the queue?")?;
    }
    println!(
        "sessions: {} on {} driver instances, CTI available in {:.2} s",
        o.agents,
        o.drivers,
        t0.elapsed().as_secs_f64()
    );
    let all: Vec<usize> = (0..o.agents).collect();
    let phase = Phase::start(&pids);
    let (logged, lat, wall, errors) = waves(&agents, &all, o.wave, "LogIn", "EventAgentLogin");
    let login_cpu = phase.end(&pids).1;
    print_round("login", o.agents, lat, wall, &errors);
    let phase = Phase::start(&pids);
    let (ready, lat, wall, errors) = waves(
        &agents,
        &logged,
        o.wave,
        "ChangeReadyState",
        "EventAgentReady",
    );
    let ready_cpu = phase.end(&pids).1;
    print_round("ready", logged.len(), lat, wall, &errors);
    if ready.is_empty() {
        return Err("no agent is Ready: no calls to place".into());
    }
    if let Some(port) = o.xmpp_port {
        wait_for_sessions(port, ready.len());
    }
    wait_for_publish_queue(&o.finesse);
    let total = (o.rate * o.seconds).round().max(1.0) as usize;
    let phase = Phase::start(&pids);
    let run = calls::run(
        &agents,
        &ready,
        &o.finesse,
        o.rate,
        total,
        Duration::from_millis(o.hold_ms),
    );
    let calls_cpu = phase.end(&pids).1;
    let answered = run
        .outcomes
        .iter()
        .filter(|c| c.established.is_some())
        .count();
    let released = run
        .outcomes
        .iter()
        .filter(|c| c.released.is_some() && c.error.is_none())
        .count();
    println!(
        "calls: {total} to place, {} placed, {answered} answered, {released} released in {:.2} s: {:.1} calls/s sustained",
        run.outcomes.len(),
        run.wall.as_secs_f64(),
        released as f64 / run.wall.as_secs_f64().max(1e-9)
    );
    for e in run
        .not_placed
        .iter()
        .chain(run.outcomes.iter().filter_map(|c| c.error.as_ref()))
        .take(5)
    {
        println!("  call failure: {e}");
    }
    if let Some(path) = &o.trace {
        latency::write_trace(path, &run.outcomes)?;
    }
    match &o.publish_log {
        Some(path) => latency::report(path, &run.outcomes)?,
        None => println!("event latency: not measured (no --publish-log)"),
    }
    if let Some(p) = &peak {
        let s = p.peak();
        println!(
            "connector: peak RSS {:.1} MiB, peak threads {}",
            s.rss_kib as f64 / 1024.0,
            s.threads
        );
    }
    cpu_line(
        &names,
        &[
            ("login", login_cpu),
            ("ready", ready_cpu),
            ("calls", calls_cpu),
        ],
    );
    let t = Instant::now();
    drop(agents);
    drop(servers);
    println!(
        "release: sessions and driver instances in {}",
        ms(t.elapsed())
    );
    Ok(released == total && ready.len() == o.agents)
}

fn main() {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("scs-chain-bench: {e}");
            std::process::exit(2);
        }
    };
    match run(&options) {
        Ok(true) => {}
        Ok(false) => {
            println!("result: INCOMPLETE (see the failures above)");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("scs-chain-bench: {e}");
            std::process::exit(1);
        }
    }
}
