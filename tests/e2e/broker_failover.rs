//! A redundant broker: a shared-store master/slave pair of ActiveMQ started by
//! `scripts/activemq.sh` (its own folders and ports, so the suite's broker is untouched;
//! closed, STOMP over TLS only, like the suite's), the
//! driver and the connector configured with both addresses, the master killed with SIGKILL.
//! The test measures the switch and prints the figures.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use driver::stomp::Connection;
use finesse_sim::Deployment;
use scs_sim::Call;

use crate::chain::{logged_in, Chain};
use crate::common::*;

/// How long a command may take to succeed or fail (the driver's request timeout is 15 s).
const COMMAND_WAIT: Duration = Duration::from_secs(20);
/// How long a slave may take to serve once the master is gone (generous: a loaded machine).
const TAKEOVER_WAIT: Duration = Duration::from_secs(30);

/// A master and a slave broker sharing one KahaDB store, started by `scripts/activemq.sh`
/// in `target/activemq-ha-<pid>` on free ports; both are stopped and their folders removed
/// when dropped.
pub struct BrokerPair {
    base: PathBuf,
    /// The master's STOMP address.
    pub master: SocketAddr,
    /// The slave's STOMP address.
    pub slave: SocketAddr,
    openwire: [u16; 2],
}

/// `n` ports free at the time of asking.
fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().unwrap().port())
}

/// The pair's users (`scripts/activemq.sh` test defaults), its TLS (the test CA) and the
/// suite's secure-password key; the address is the master's.
fn pair_access(master: SocketAddr) -> BrokerAccess {
    BrokerAccess {
        addr: master,
        ca_file: Some(repo().join("target/certs/ca.pem")),
        connector: ("connector".into(), "connector-secret".into()),
        driver: ("siebel".into(), "siebel-secret".into()),
        queue_prefix: "siebelcti.requests.ha".into(),
        secure_key_file: BrokerAccess::shared().secure_key_file,
    }
}

/// Whether a broker completes a STOMP handshake (over TLS, as the connector) at `addr`.
pub fn stomp_answers(addr: SocketAddr) -> bool {
    let a = pair_access(addr);
    let Ok(tls) = driver::stomp::TlsSettings::from_ca_file(a.ca_file.as_deref().unwrap()) else {
        return false;
    };
    let (login, password) = &a.connector;
    let host = addr.ip().to_string();
    let timeout = Duration::from_millis(500);
    Connection::connect_tls(addr, &host, &tls, login, password, timeout).is_ok()
}

impl BrokerPair {
    /// Starts the master, then the slave (which waits for the store lock).
    pub fn start() -> BrokerPair {
        let [m, s, mo, so] = free_ports::<4>();
        let ip = [127, 0, 0, 1];
        let pair = BrokerPair {
            base: repo()
                .join("target")
                .join(format!("activemq-ha-{}", std::process::id())),
            master: SocketAddr::from((ip, m)),
            slave: SocketAddr::from((ip, s)),
            openwire: [mo, so],
        };
        pair.script("start");
        pair.script("start-slave");
        assert!(stomp_answers(pair.master), "the master serves");
        assert!(!stomp_answers(pair.slave), "the slave waits for the lock");
        pair
    }

    /// How the chain's parts reach the pair (the master's address).
    pub fn access(&self) -> BrokerAccess {
        pair_access(self.master)
    }

    /// Runs `scripts/activemq.sh <cmd>` for this pair; panics with its output on failure.
    pub fn script(&self, cmd: &str) {
        let a = self.access();
        activemq_script(
            cmd,
            &[
                ("ACTIVEMQ_BASE", self.base.display().to_string()),
                ("STOMP_PORT", "off".into()),
                ("STOMP_TLS_PORT", self.master.port().to_string()),
                ("OPENWIRE_PORT", self.openwire[0].to_string()),
                ("SLAVE_STOMP_TLS_PORT", self.slave.port().to_string()),
                ("SLAVE_OPENWIRE_PORT", self.openwire[1].to_string()),
                ("ACTIVEMQ_AUTH", "1".into()),
                ("ACTIVEMQ_CONNECTOR_LOGIN", a.connector.0.clone()),
                ("ACTIVEMQ_CONNECTOR_PASSWORD", a.connector.1.clone()),
                ("ACTIVEMQ_DRIVERS", format!("{}:{}", a.driver.0, a.driver.1)),
            ],
        );
    }

    /// The driver's `Driver:BrokerHost` (and the connector's `broker.host`): both, master first.
    pub fn list(&self) -> String {
        format!("{},{}", self.master, self.slave)
    }

    /// Kills the broker recorded in `dir` (the master's folder or the slave's) with SIGKILL;
    /// returns when it is gone.
    fn kill(&self, dir: &Path) -> Instant {
        let pid = std::fs::read_to_string(dir.join("broker.pid")).expect("the broker's pid file");
        let pid = pid.trim();
        let t = Instant::now();
        let ok = Command::new("kill").args(["-9", pid]).status().unwrap();
        assert!(ok.success(), "kill -9 {pid}");
        let proc = PathBuf::from(format!("/proc/{pid}"));
        wait_until("the killed broker to be gone", WAIT, || {
            // A zombie until its parent reaps it: gone once it no longer runs.
            let state = std::fs::read_to_string(proc.join("stat")).unwrap_or_default();
            match state.split(") ").nth(1).and_then(|s| s.chars().next()) {
                None | Some('Z') | Some('X') => Ok(()),
                Some(s) => Err(s),
            }
        });
        t
    }

    /// Kills the master with SIGKILL; returns the instant of the kill.
    pub fn kill_master(&self) -> Instant {
        self.kill(&self.base)
    }

    /// Kills the slave with SIGKILL; returns the instant of the kill.
    pub fn kill_slave(&self) -> Instant {
        self.kill(&self.slave_dir())
    }

    fn slave_dir(&self) -> PathBuf {
        PathBuf::from(format!("{}-slave", self.base.display()))
    }
}

impl Drop for BrokerPair {
    fn drop(&mut self) {
        for cmd in ["stop-slave", "stop"] {
            let _ = Command::new("bash")
                .arg(repo().join("scripts/activemq.sh"))
                .arg(cmd)
                .env("ACTIVEMQ_BASE", &self.base)
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.base);
        let _ = std::fs::remove_dir_all(self.slave_dir());
    }
}

/// Waits until `addr` completes a STOMP handshake, from `from`; returns how long it took.
fn takeover(addr: SocketAddr, from: Instant) -> Duration {
    wait_until("the other broker to serve", TAKEOVER_WAIT, || {
        stomp_answers(addr).then_some(()).ok_or("no STOMP session")
    });
    from.elapsed()
}

/// What the agent saw during a broker switch.
#[derive(Debug)]
struct Switch {
    /// Kill to the other broker serving STOMP.
    broker: Duration,
    /// Kill to "CTI is available" on the agent's status line.
    available: Duration,
    /// Kill to the first command that succeeded.
    first_success: Duration,
    /// Commands refused or failed before it.
    failed: usize,
    /// Commands tried in all.
    tried: usize,
}

impl Switch {
    fn print(&self, what: &str) {
        let ms = |d: Duration| d.as_millis();
        eprintln!(
            "{what}: the other broker served after {} ms; \"CTI is available\" after {} ms \
             ({} ms after the broker); first command succeeded after {} ms; {} of {} commands \
             failed during the switch",
            ms(self.broker),
            ms(self.available),
            ms(self.available.saturating_sub(self.broker)),
            ms(self.first_success),
            self.failed,
            self.tried
        );
    }
}

/// Kills a broker with `kill` while the agent (Ready) keeps pressing Not Ready / Ready every
/// 250 ms until a command succeeds; measures the switch to the broker at `next`.
fn switch(agent: &mut scs_sim::Agent, next: SocketAddr, kill: impl FnOnce() -> Instant) -> Switch {
    let c = agent.client.clone();
    let m = c.mark();
    let t0 = kill();
    let watcher = std::thread::spawn(move || takeover(next, t0));
    let seen = c.clone();
    let status = std::thread::spawn(move || {
        let available =
            |x: &Call| matches!(x, Call::ShowStatusText(t) if t.contains("CTI is available"));
        seen.wait_for(m, TAKEOVER_WAIT + COMMAND_WAIT, available)
            .map(|_| t0.elapsed())
    });
    let (mut failed, mut tried, mut ready) = (0, 0, true);
    let first_success = loop {
        assert!(
            t0.elapsed() < TAKEOVER_WAIT + COMMAND_WAIT,
            "no command succeeded after the switch; {failed} failed"
        );
        let (command, event) = if ready {
            ("ChangeNotReadyState", "EventAgentNotReady")
        } else {
            ("ChangeReadyState", "EventAgentReady")
        };
        let from = c.mark();
        let (rc, track) = agent.invoke(command, "", &[]);
        tried += 1;
        let outcome = if rc != 0 {
            None
        } else {
            c.wait_for(from, COMMAND_WAIT, |x| {
                x.event_name() == Some(event)
                    || matches!(x, Call::HandleError { tracking_id: Some(t), .. } if *t == track)
            })
        };
        if outcome.as_ref().and_then(Call::event_name) == Some(event) {
            break t0.elapsed();
        }
        assert!(
            rc != 0 || outcome.is_some(),
            "{command} got neither {event} nor an error within {COMMAND_WAIT:?}"
        );
        failed += 1;
        std::thread::sleep(Duration::from_millis(250));
    };
    ready = !ready;
    if !ready {
        // Leave the agent Ready, as found.
        let from = c.mark();
        agent.invoke("ChangeReadyState", "", &[]);
        wait_event(&c, from, "EventAgentReady");
    }
    Switch {
        broker: watcher.join().expect("the takeover watcher"),
        available: status
            .join()
            .expect("the status watcher")
            .expect("\"CTI is available\" after the switch"),
        first_success,
        failed,
        tried,
    }
}

#[test]
fn master_broker_killed_the_slave_takes_over_and_the_agent_keeps_working() {
    let pair = BrokerPair::start();
    let list = pair.list();
    // The driver's default reconnect delays, not the fast ones of `isolated`.
    let mut chain = Chain::start_on(
        Deployment::Ucce,
        1,
        &[
            ("Driver:BrokerHost", list.as_str()),
            ("Driver:ReconnectMinMs", "500"),
            ("Driver:ReconnectMaxMs", "1000"),
        ],
        &pair.access(),
    );
    // The connector of the chain on the pair too.
    chain.stop_connector();
    chain.connector_config.broker.host = list.clone();
    chain.start_connector();
    let mut agent = logged_in(&chain, 0, true);

    let to_slave = switch(&mut agent, pair.slave, || pair.kill_master());
    to_slave.print("master killed with SIGKILL, the slave takes over");

    // The old master comes back as the slave (it waits for the lock); the slave dies: the
    // clients go back to the first address.
    pair.script("start");
    assert!(
        !stomp_answers(pair.master),
        "the old master waits for the lock"
    );
    let back = switch(&mut agent, pair.master, || pair.kill_slave());
    back.print("slave killed with SIGKILL, the restarted master takes over");

    for s in [&to_slave, &back] {
        // Agents are told within 2 s of the broker serving (5 s: a loaded machine), and the
        // first command after that succeeds.
        assert!(
            s.available.saturating_sub(s.broker) < Duration::from_secs(5),
            "{s:?}"
        );
        assert!(
            s.first_success.saturating_sub(s.available) < Duration::from_secs(5),
            "{s:?}"
        );
    }
    // The agent's session survived both switches: still logged in, no new login needed.
    let c = agent.client.clone();
    let m = c.mark();
    agent.invoke("ChangeNotReadyState", "", &[]);
    wait_event(&c, m, "EventAgentNotReady");
}
