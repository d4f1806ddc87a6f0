//! The security tests' connector process: a real `siebel-cti-connector` on the suite's broker
//! (its access from `BrokerAccess::shared()`), with a log file and console of its own, for
//! memory figures and log checks.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::chain::{get_json, xmpp_toml};
use crate::common::*;
use crate::security::free_ports;

/// A connector running as its own process (its log file of its own), for RSS figures.
pub(crate) struct ConnectorProc {
    pub(crate) child: Child,
    pub(crate) monitor: String,
    pub(crate) log: PathBuf,
}

impl ConnectorProc {
    pub(crate) fn start(queue: &str, sim: &finesse_sim::FinesseSim) -> ConnectorProc {
        ConnectorProc::start_with(queue, sim, "", "")
    }

    /// Like `start`, with extra `[monitor]` keys and extra TOML at the end.
    pub(crate) fn start_with(
        queue: &str,
        sim: &finesse_sim::FinesseSim,
        monitor: &str,
        tail: &str,
    ) -> ConnectorProc {
        let [port] = free_ports::<1>();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let name = unique("sec-connector");
        let log = dir.join(format!("{name}.log"));
        let access = BrokerAccess::shared();
        let toml = format!(
            "[connector]\nname = \"{name}\"\n[broker]\n{}\
             [finesse]\nprimary = \"{}\"\n{}poll_ms = 200\n\
             [monitor]\nlisten = \"127.0.0.1:{port}\"\n{monitor}\n[log]\nlevel = \"info\"\nfile = \"{}\"\n{}{tail}\n",
            access.connector_toml(queue),
            sim.base_url(),
            xmpp_toml(),
            log.display(),
            access.security_toml()
        );
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, toml).unwrap();
        let child = Command::new(crate::ha::connector_exe())
            .arg("--config")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the connector starts");
        let c = ConnectorProc {
            child,
            monitor: format!("http://127.0.0.1:{port}"),
            log,
        };
        wait_until("the connector in service", WAIT_HTTP, || {
            let h = ureq::get(&format!("{}/health", c.monitor))
                .call()
                .map_err(|e| e.to_string())?
                .into_json::<serde_json::Value>()
                .map_err(|e| e.to_string())?;
            if h["status"] == "IN_SERVICE" {
                Ok(())
            } else {
                Err(h.to_string())
            }
        });
        c
    }

    /// Resident memory, KiB (`VmRSS`).
    pub(crate) fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS in /proc/<pid>/status")
    }

    pub(crate) fn health(&self) -> serde_json::Value {
        get_json(&format!("{}/health", self.monitor))
    }

    pub(crate) fn log_count(&self, needle: &str) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .matches(needle)
            .count()
    }
}

impl Drop for ConnectorProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn sim_with_agent() -> (finesse_sim::FinesseSim, crate::chain::TestAgent) {
    let (sim, agents) = crate::ha::sim(1);
    (sim, agents[0].clone())
}

/// Waits (a minute at most) until the connector's health lists agent `id`.
pub(crate) fn wait_agent_listed(c: &ConnectorProc, id: &str) {
    wait_until(
        &format!("agent {id} listed by the connector"),
        Duration::from_secs(60),
        || {
            let h = c.health();
            let agents = h["agents"].as_array();
            if agents.is_some_and(|a| a.iter().any(|x| x["id"] == id)) {
                Ok(())
            } else {
                Err(agents.map(|a| a.len()))
            }
        },
    );
}
