//! `siebel-cti-connector`: runs the connector until interrupted (or as a Windows service),
//! checks a configuration (`--check`), or hashes a console password. See `--help`.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use connector::{Connector, ConnectorConfig};
use driver::logging::Log;

#[cfg(windows)]
mod windows_service;

const NAME: &str = "siebel-cti-connector";

const USAGE: &str = "\
usage: siebel-cti-connector --config FILE.toml [--check]
       siebel-cti-connector --hash-password < password
       siebel-cti-connector --service --config FILE.toml   (Windows service; docs/operations.md)
       siebel-cti-connector --help | --version

  --config FILE   run the connector with this configuration (connector/connector.example.toml)
  --check         validate the configuration, log in to each broker and ask each Finesse
                  node's SystemInfo; prints one line each and a verdict.
                  Exit 0: all fine; 1: something unreachable; 2: the configuration is invalid
  --hash-password read a console password on standard input, print its monitor.password_hash
  --service       run under the Windows service manager (Windows only)
  --help          this text        --version   the version

Signals (Linux): SIGTERM/SIGINT stop cleanly (drivers are told out of service);
SIGHUP reopens the log file (for logrotate).";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Mode {
    Run(String),
    Check(String),
    Service(String),
    HashPassword,
    Help,
    Version,
}

fn parse(args: &[String]) -> Result<Mode, String> {
    let (mut config, mut check, mut service) = (None, false, false);
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--help" | "-h" => return Ok(Mode::Help),
            "--version" | "-V" => return Ok(Mode::Version),
            "--hash-password" if args.len() == 1 => return Ok(Mode::HashPassword),
            "--check" => check = true,
            "--service" => service = true,
            "--config" => {
                i += 1;
                config = Some(args.get(i).ok_or("--config needs a file")?.clone());
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
        i += 1;
    }
    let config = config.ok_or("give --config FILE.toml")?;
    Ok(match (check, service) {
        (true, true) => return Err("--check and --service do not go together".into()),
        (true, false) => Mode::Check(config),
        (false, true) => Mode::Service(config),
        (false, false) => Mode::Run(config),
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = parse(&args).unwrap_or_else(|e| {
        eprintln!("{NAME}: {e}\n{USAGE}");
        std::process::exit(2);
    });
    match mode {
        Mode::Help => println!("{USAGE}"),
        Mode::Version => println!("{NAME} {}", env!("CARGO_PKG_VERSION")),
        Mode::HashPassword => hash_password(),
        Mode::Check(path) => {
            let cfg = load(&path);
            let found = connector::check::run(&cfg, Duration::from_secs(5));
            let (text, ok) = connector::check::report(&found);
            print!("{text}");
            std::process::exit(if ok { 0 } else { 1 });
        }
        Mode::Run(path) => std::process::exit(serve(&path, true)),
        #[cfg(windows)]
        Mode::Service(path) => windows_service::run(path),
        #[cfg(not(windows))]
        Mode::Service(_) => {
            eprintln!("{NAME}: --service is for Windows; on Linux use the systemd unit");
            std::process::exit(2);
        }
    }
}

fn hash_password() {
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).is_err() || line.trim().is_empty() {
        eprintln!("{NAME}: give the password on standard input");
        std::process::exit(2);
    }
    let password = line.trim_end_matches(['\r', '\n']);
    println!("{}", connector::console_auth::PasswordHash::make(password));
}

/// The configuration, or exit 2 with the reason.
fn load(path: &str) -> ConnectorConfig {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("{NAME}: cannot read {path}: {e}");
        std::process::exit(2);
    });
    ConnectorConfig::from_toml(&text, std::env::vars()).unwrap_or_else(|e| {
        eprintln!("{NAME}: {path}: {e}");
        std::process::exit(2);
    })
}

/// Set by SIGINT/SIGTERM (or the Windows service manager): stop.
static STOP: AtomicBool = AtomicBool::new(false);
/// Set by SIGHUP: reopen the log file.
static REOPEN: AtomicBool = AtomicBool::new(false);

/// Runs the connector until told to stop; returns the exit code.
fn serve(path: &str, console: bool) -> i32 {
    let cfg = load(path);
    let (log, problem) = Log::open(&cfg.log.settings());
    if let Some(e) = problem {
        eprintln!("{NAME}: {e}");
        tracing::error!("{e}; logging to standard error");
    }
    let connector = match Connector::start(cfg) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("cannot start: {e}");
            eprintln!("{NAME}: {e}");
            return 1;
        }
    };
    if let Some(a) = connector.monitor_addr() {
        if console {
            println!("monitor console: http://{a}/");
            let _ = std::io::stdout().flush();
        }
    }
    install_signals();
    while !STOP.load(Ordering::Acquire) {
        std::thread::sleep(Duration::from_millis(200));
        if REOPEN.swap(false, Ordering::AcqRel) {
            match log.reopen() {
                Ok(()) => tracing::info!("log file reopened (SIGHUP)"),
                Err(e) => eprintln!("{NAME}: {e}"),
            }
        }
    }
    // Drivers are told OUT_OF_SERVICE before the link closes.
    connector.stop();
    0
}

fn install_signals() {
    // SAFETY: the handlers only store to atomics, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_stop as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_stop as *const () as libc::sighandler_t);
        #[cfg(unix)]
        libc::signal(libc::SIGHUP, on_hangup as *const () as libc::sighandler_t);
    }
}

extern "C" fn on_stop(_: libc::c_int) {
    STOP.store(true, Ordering::Release);
}

#[cfg(unix)]
extern "C" fn on_hangup(_: libc::c_int) {
    REOPEN.store(true, Ordering::Release);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn command_lines() {
        assert_eq!(parse(&args("--help")), Ok(Mode::Help));
        assert_eq!(parse(&args("--config c.toml --version")), Ok(Mode::Version));
        assert_eq!(
            parse(&args("--config c.toml")),
            Ok(Mode::Run("c.toml".into()))
        );
        assert_eq!(
            parse(&args("--check --config c.toml")),
            Ok(Mode::Check("c.toml".into()))
        );
        assert_eq!(
            parse(&args("--config c.toml --service")),
            Ok(Mode::Service("c.toml".into()))
        );
        assert_eq!(parse(&args("--hash-password")), Ok(Mode::HashPassword));
        assert!(parse(&args("")).is_err());
        assert!(parse(&args("--config")).is_err());
        assert!(parse(&args("--bogus")).unwrap_err().contains("--bogus"));
        assert!(parse(&args("--check --service --config c")).is_err());
    }
}
