//! The broker `scripts/activemq.sh` configures deletes the destinations nobody uses any more:
//! each driver instance's event queue outlives it otherwise, and thousands of leftovers once
//! filled the broker's heap until it stalled in a burst of logins (docs/operations.md).

use std::path::PathBuf;
use std::time::Duration;

use crate::common::{activemq_script, repo, unique, wait_until, BrokerAccess};
use crate::security::free_ports;

/// A broker of its own (plain STOMP, open) with a short inactivity limit; stopped and
/// removed when dropped.
struct Broker {
    base: PathBuf,
    stomp: u16,
    openwire: u16,
}

impl Broker {
    fn script(&self, cmd: &str) {
        activemq_script(
            cmd,
            &[
                ("ACTIVEMQ_BASE", self.base.display().to_string()),
                ("STOMP_PORT", self.stomp.to_string()),
                ("STOMP_TLS_PORT", String::new()),
                ("OPENWIRE_PORT", self.openwire.to_string()),
                ("ACTIVEMQ_AUTH", "0".into()),
                ("ACTIVEMQ_INACTIVE_MS", "2000".into()),
                ("ACTIVEMQ_PURGE_MS", "500".into()),
            ],
        );
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.base.join("broker.log")).unwrap_or_default()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.script("stop");
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

#[test]
fn a_driver_queue_left_behind_is_deleted_and_a_used_one_is_kept() {
    let [stomp, openwire] = free_ports::<2>();
    let broker = Broker {
        base: repo()
            .join("target")
            .join(format!("activemq-gc-{}", std::process::id())),
        stomp,
        openwire,
    };
    broker.script("start");
    let access = BrokerAccess::plain(([127, 0, 0, 1], stomp).into());
    // A driver instance that stopped: its queue has no reader any more.
    let gone = unique("siebelcti.driver.gone");
    let mut old = access.client(("", "")).expect("the broker takes a client");
    old.subscribe("1", &format!("/queue/{gone}")).unwrap();
    drop(old);
    // A running one keeps its queue whatever the time without messages.
    let live = unique("siebelcti.driver.live");
    let mut running = access.client(("", "")).expect("the broker takes a client");
    running.subscribe("1", &format!("/queue/{live}")).unwrap();

    // The queue itself (its advisory topics, which have no reader, go as well).
    let removed = |name: &str| {
        let line = format!("| {name} Inactive for longer than");
        broker
            .log()
            .lines()
            .any(|l| l.contains(&line) && l.contains("region.Queue"))
    };
    wait_until(
        "the stopped driver's queue deleted",
        Duration::from_secs(30),
        || {
            removed(&gone)
                .then_some(())
                .ok_or("not in the broker's log yet")
        },
    );
    // Six more sweeps (every 500 ms): the queue with a reader stays.
    std::thread::sleep(Duration::from_secs(3));
    assert!(!removed(&live), "{}", broker.log());
    drop(running);
}
