//! Operations through a real connector process: SIGHUP (what logrotate sends) reopens its log
//! and it keeps serving; SIGTERM stops it after telling the drivers it is out of service;
//! `--check` gives a verdict and an exit code; `--help` and `--version` exit 0.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use finesse_sim::Deployment;

use crate::chain::*;
use crate::common::*;
use crate::ha::connector_exe;

/// The chain's connector configuration as a file, logging to `log`.
fn config_file(chain: &Chain, dir: &Path, log: &Path) -> PathBuf {
    let mut cfg = chain.connector_config.clone();
    cfg.log.file = log.display().to_string();
    cfg.log.level = "info".into();
    cfg.monitor.listen = "127.0.0.1:0".into();
    let path = dir.join("connector.toml");
    std::fs::write(&path, toml::to_string(&cfg).unwrap()).unwrap();
    path
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success(), "kill {sig} {pid}");
}

#[test]
fn sighup_reopens_the_log_and_the_connector_keeps_serving_until_sigterm() {
    let mut chain = Chain::start(Deployment::Ucce, 1);
    // The connector process takes the place of the chain's in-process one.
    chain.stop_connector();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(unique("sighup"));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("connector.log");
    let config = config_file(&chain, &dir, &log);
    let mut child = Command::new(connector_exe())
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let monitor = first
        .trim()
        .strip_prefix("monitor console: ")
        .expect("the console's address first")
        .to_string();
    let mut agent = chain.session(0);
    let c = agent.client.clone();
    let text = read(&log);
    assert!(text.contains("connector starting"), "{text}");
    assert!(
        text.lines().all(|l| l.len() < 400),
        "no long debug dumps:\n{text}"
    );

    let rotated = dir.join("connector.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    signal(child.id(), "-HUP");
    wait_until("the log reopened", WAIT, || {
        let now = read(&log);
        if now.contains("log file reopened") {
            Ok(())
        } else {
            Err(now)
        }
    });
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP did not kill it"
    );
    let health = ureq::get(&format!("{monitor}health"))
        .timeout(Duration::from_secs(2))
        .call();
    assert!(
        health.is_ok() || matches!(health, Err(ureq::Error::Status(..))),
        "the console still answers"
    );
    // Still serving drivers: the agent logs in through it.
    log_in(&mut agent, false);
    assert!(!read(&rotated).contains("log file reopened"));

    let m = c.mark();
    signal(child.id(), "-TERM");
    wait_status(&c, m, "out of service");
    let status = wait_until("the connector exits", WAIT, || match child.try_wait() {
        Ok(Some(s)) => Ok(s),
        other => Err(other),
    });
    assert!(status.success(), "{status:?}");
    assert!(read(&log).contains("connector stopping"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_wrong_finesse_url_is_logged_at_warn_from_the_first_check() {
    let chain = Chain::start(Deployment::Ucce, 1);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(unique("wrong-url"));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("connector.log");
    let mut cfg = chain.connector_config.clone();
    cfg.finesse.primary = format!("{}/wrong", chain.sim().base_url());
    cfg.finesse.secondary = String::new();
    cfg.monitor.listen = String::new();
    cfg.log.file = log.display().to_string();
    cfg.log.level = "warn".into();
    let config = dir.join("connector.toml");
    std::fs::write(&config, toml::to_string(&cfg).unwrap()).unwrap();
    let mut child = Command::new(connector_exe())
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let line = wait_until("the failed check in the log", WAIT, || {
        let text = read(&log);
        match text.lines().find(|l| l.contains("Finesse unavailable")) {
            Some(l) => Ok(l.to_string()),
            None => Err(text),
        }
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains(" WARN "), "{line}");
    assert!(
        line.contains("HTTP 404 for /finesse/api/SystemInfo (is finesse.url right?)"),
        "{line}"
    );
    assert!(!line.contains(": : "), "{line}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn check_gives_a_verdict_and_help_and_version_exit_zero() {
    let exe = connector_exe();
    let help = Command::new(&exe).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--check"));
    let version = Command::new(&exe).arg("--version").output().unwrap();
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("siebel-cti-connector 0."));

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(unique("check"));
    std::fs::create_dir_all(&dir).unwrap();
    let chain = Chain::start(Deployment::Ucce, 1);
    let good = config_file(&chain, &dir, &dir.join("c.log"));
    let out = Command::new(&exe)
        .args(["--check", "--config"])
        .arg(&good)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.ends_with("check passed\n"), "{text}");

    // A Finesse URL that answers 404: a failure named in words, exit 1.
    let mut cfg = chain.connector_config.clone();
    cfg.finesse.primary = format!("{}/wrong", chain.sim().base_url());
    cfg.finesse.secondary = String::new();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, toml::to_string(&cfg).unwrap()).unwrap();
    let out = Command::new(&exe)
        .args(["--check", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("HTTP 404"), "{text}");
    assert!(text.contains("check FAILED"), "{text}");

    std::fs::write(&bad, "[log]\nlevel = \"loud\"\n").unwrap();
    let out = Command::new(&exe)
        .args(["--check", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("log.level"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn two_driver_instances_in_one_process_each_have_their_own_log_and_level() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(unique("two-logs"));
    std::fs::create_dir_all(&dir).unwrap();
    let access = BrokerAccess::shared();
    let instance = |name: &str, level: &str, extra: &[(&str, &str)]| {
        let mut params = access.driver_params(&access.queue());
        let client = unique(name);
        let log = dir.join(format!("{name}.log"));
        params.push(("Driver:ClientId".into(), client.clone()));
        params.push(("Driver:LogFile".into(), log.display().to_string()));
        params.push(("Driver:LogLevel".into(), level.into()));
        params.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        (siebel_with("ucce.def", "ENU", &params), client, log)
    };
    let (a, a_client, a_log) = instance("quiet", "warn", &[("Driver:NoSuchKey", "1")]);
    let (b, b_client, b_log) = instance("chatty", "debug", &[]);
    wait_until("B's start in B's log", WAIT, || {
        let t = read(&b_log);
        if t.contains("driver instance created") && t.contains(&b_client) {
            Ok(())
        } else {
            Err(t)
        }
    });
    let (a_text, b_text) = (read(&a_log), read(&b_log));
    assert!(
        a_text.contains("NoSuchKey"),
        "A's warning in A's log:\n{a_text}"
    );
    assert!(
        !a_text.contains("driver instance created") && !a_text.contains(" DEBUG "),
        "A logs at WARN only:\n{a_text}"
    );
    assert!(
        !a_text.contains(&b_client),
        "nothing of B in A's log:\n{a_text}"
    );
    assert!(
        !b_text.contains(&a_client),
        "nothing of A in B's log:\n{b_text}"
    );
    assert!(!b_text.contains("NoSuchKey"), "{b_text}");
    drop((a, b));
    let _ = std::fs::remove_dir_all(dir);
}
