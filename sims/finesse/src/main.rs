//! `finesse-sim --config FILE.toml`: runs the simulator until interrupted.

use std::time::Duration;

use finesse_sim::{FinesseSim, SimConfig};

const USAGE: &str =
    "usage: finesse-sim --config FILE.toml   (see sims/finesse/finesse-sim.example.toml)
       finesse-sim --check --config FILE.toml
           (the file is valid, its HTTP address is free and its XMPP server answers;
            exit 0, 1 when a check fails, 2 when the file is invalid)
       finesse-sim --help | --version
Log level: FINESSE_SIM_LOG (error, warn, info, debug, trace; info by default).";

/// `--check`: the configuration parsed; can the simulator listen and reach its XMPP server?
fn run_check(config: &SimConfig) -> i32 {
    let http = std::net::TcpListener::bind(config.http)
        .map(drop)
        .map_err(|e| format!("HTTP {}: cannot listen: {e}", config.http));
    let xmpp = std::net::TcpStream::connect_timeout(&config.xmpp, Duration::from_secs(5))
        .map(drop)
        .map_err(|e| format!("XMPP {}: {e}", config.xmpp));
    println!("configuration: ok ({} agents)", config.agents.len());
    let mut failed = 0;
    for (what, r) in [
        (format!("HTTP {}", config.http), http),
        (format!("XMPP {}", config.xmpp), xmpp),
    ] {
        match r {
            Ok(()) => println!("{what}: ok"),
            Err(e) => {
                failed += 1;
                println!("{e}: FAILED");
            }
        }
    }
    if failed == 0 {
        println!("check passed");
        0
    } else {
        println!("check FAILED");
        1
    }
}

fn main() {
    // Log level from FINESSE_SIM_LOG (error, warn, info, debug, trace); info by default.
    let level = std::env::var("FINESSE_SIM_LOG")
        .ok()
        .and_then(|l| l.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, check) = match args.as_slice() {
        [flag] if flag == "--help" || flag == "-h" => {
            println!("{USAGE}");
            return;
        }
        [flag] if flag == "--version" || flag == "-V" => {
            println!("finesse-sim {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        [flag, path] if flag == "--config" => (path.clone(), false),
        [a, b, path] if a == "--check" && b == "--config" => (path.clone(), true),
        [b, path, a] if a == "--check" && b == "--config" => (path.clone(), true),
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    let config = std::fs::read_to_string(&path)
        .map_err(|e| format!("reading {path}: {e}"))
        .and_then(|text| SimConfig::from_toml(&text));
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            eprintln!("finesse-sim: {e}");
            std::process::exit(2);
        }
    };
    if check {
        std::process::exit(run_check(&config));
    }
    let deployment = config.deployment.system_info_name();
    let agents = config.agents.len();
    match FinesseSim::start(config) {
        Ok(sim) => {
            println!(
                "finesse-sim ({deployment}, {agents} agents) listening on {}",
                sim.base_url()
            );
            loop {
                std::thread::park();
            }
        }
        Err(e) => {
            eprintln!("finesse-sim: {e}");
            std::process::exit(1);
        }
    }
}
