//! A smoke run of the whole-chain benchmark (`scripts/bench.sh`): a few agents and calls
//! through the real broker, connector, finesse-sim and Prosody. Every call must be answered
//! and released and every figure printed; no timing is asserted (figures come from full runs,
//! see the README's "Benchmarks").

use std::process::Command;

use crate::chain::{xmpp, xmpp_toml};
use crate::common::*;

/// The string value of `key` in TOML lines `key = "value"`.
fn toml_value<'a>(toml: &'a str, key: &str) -> Option<&'a str> {
    toml.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"'))
    })
}

#[test]
fn the_whole_chain_benchmark_takes_every_call_and_prints_its_figures() {
    let access = BrokerAccess::shared();
    let lib = scs_sim::library::default_library_path();
    let profile = lib
        .parent()
        .and_then(|d| d.file_name())
        .expect("the library lives in target/<profile>/");
    let run_dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("bench-smoke-{}", std::process::id()));
    // The connector's XMPP settings as the chain tests give them.
    let xmpp_keys = xmpp_toml();
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("scripts/bench.sh"))
        .arg("20")
        .env("BENCH_PROFILE", profile)
        .env("BENCH_BUILD", "0")
        .env("BENCH_DRIVERS", "2")
        .env("BENCH_RATE", "10")
        .env("BENCH_SECONDS", "2")
        .env("BENCH_BROKER", access.addr.to_string())
        .env("BENCH_QUEUE_PREFIX", &access.queue_prefix)
        .env("BENCH_XMPP", xmpp().to_string())
        .env(
            "BENCH_XMPP_TLS",
            toml_value(&xmpp_keys, "xmpp_tls").unwrap_or("plain"),
        )
        .env(
            "BENCH_XMPP_CA",
            toml_value(&xmpp_keys, "ca_file").unwrap_or(""),
        )
        .env("BENCH_RUN_DIR", &run_dir);
    if let Some(ca) = &access.ca_file {
        cmd.env("BENCH_BROKER_CA", ca);
    }
    if let Some(key) = &access.secure_key_file {
        cmd.env("BENCH_SECURE_KEY", key);
    }
    for (side, (login, password)) in [("CONNECTOR", &access.connector), ("DRIVER", &access.driver)]
    {
        if !login.is_empty() {
            cmd.env(format!("BENCH_{side}_LOGIN"), login)
                .env(format!("BENCH_{side}_PASSWORD"), password);
        }
    }
    let out = cmd.output().expect("bash runs scripts/bench.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = format!(
        "{stdout}\n--- stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the benchmark failed:\n{report}");
    for line in [
        "login: 20/20 agents",
        "ready: 20/20 agents",
        "finesse-sim: 0 notifications queued",
        "calls: 20 to place, 20 placed, 20 answered, 20 released",
        "event latency, finesse-sim publish -> EventRinging: 20 calls; p50 ",
        "event latency, finesse-sim publish -> EventReleased: 20 calls; p50 ",
        "connector: peak RSS ",
        "  connector: ",
        "  finesse-sim: ",
        "  bench (drivers + scs-sim): ",
    ] {
        assert!(
            stdout.contains(line),
            "no {line:?} in the output:\n{report}"
        );
    }
    assert!(
        stdout.contains("  broker: ") && stdout.contains("  prosody: "),
        "the broker's and Prosody's CPU are reported:\n{report}"
    );
    // The trace lines up each call's three callbacks with the capture (BENCH_CAPTURE).
    let trace = std::fs::read_to_string(run_dir.join("callbacks.log")).unwrap();
    let events: Vec<&str> = trace.lines().filter_map(|l| l.split('\t').nth(1)).collect();
    assert_eq!(events.len(), 60, "{trace}");
    for e in ["EventRinging", "EventEstablished", "EventReleased"] {
        assert_eq!(events.iter().filter(|x| **x == e).count(), 20, "{trace}");
    }
}
