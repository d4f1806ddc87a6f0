//! `finesse-sim --config FILE.toml`: runs the simulator until interrupted.

use finesse_sim::{FinesseSim, SimConfig};

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
    let path = match args.as_slice() {
        [flag, path] if flag == "--config" => path.clone(),
        _ => {
            eprintln!("usage: finesse-sim --config FILE.toml   (see sims/finesse/finesse-sim.example.toml)");
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
            std::process::exit(1);
        }
    };
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
