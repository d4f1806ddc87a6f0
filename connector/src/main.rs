//! `siebel-cti-connector --config FILE.toml`: runs the connector until interrupted.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use connector::{Connector, ConnectorConfig};
use driver::config::{DriverConfig, LogLevel};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = match args.as_slice() {
        [flag, path] if flag == "--config" => path.clone(),
        // The console password's hash for monitor.password_hash, from standard input.
        [flag] if flag == "--hash-password" => {
            let mut line = String::new();
            if std::io::stdin().read_line(&mut line).is_err() || line.trim().is_empty() {
                eprintln!("siebel-cti-connector: give the password on standard input");
                std::process::exit(2);
            }
            let password = line.trim_end_matches(['\r', '\n']);
            println!("{}", connector::console_auth::PasswordHash::make(password));
            return;
        }
        _ => {
            eprintln!("usage: siebel-cti-connector --config FILE.toml | --hash-password");
            std::process::exit(2);
        }
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("siebel-cti-connector: cannot read {path}: {e}");
            std::process::exit(2);
        }
    };
    let cfg = match ConnectorConfig::from_toml(&text, std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("siebel-cti-connector: {path}: {e}");
            std::process::exit(2);
        }
    };
    // The driver's logging module does the same job: reuse it with our level and file.
    let log = DriverConfig {
        log_file: cfg.log_file(),
        log_level: LogLevel::parse(&cfg.log.level).unwrap_or(LogLevel::Info),
        ..DriverConfig::default()
    };
    if let Err(e) = driver::logging::init(&log) {
        eprintln!("siebel-cti-connector: {e}");
    }
    let connector = match Connector::start(cfg) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("siebel-cti-connector: {e}");
            std::process::exit(1);
        }
    };
    if let Some(a) = connector.monitor_addr() {
        println!("monitor console: http://{a}/");
        let _ = std::io::stdout().flush();
    }
    // Runs until SIGINT/SIGTERM, then stops cleanly: drivers are told OUT_OF_SERVICE.
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
    while !STOP.load(Ordering::Acquire) {
        std::thread::sleep(Duration::from_millis(200));
    }
    connector.stop();
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Release);
}
