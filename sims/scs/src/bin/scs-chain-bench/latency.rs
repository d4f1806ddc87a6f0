//! The latency from finesse-sim's publish of a dialog event to the Siebel callback it causes:
//! finesse-sim's publish log (one line per notification: when it was sent, node, event,
//! dialog id, when the simulated event queued it; micros since the epoch) against the
//! instants the callbacks reached scs-sim.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use scs_sim::bench::Distribution;

use crate::calls::CallOutcome;

/// When a notification was sent and when it was queued (micros since the epoch).
type Times = (u128, u128);

/// Each dialog's publish times, in the order sent.
fn read_log(path: &Path) -> Result<HashMap<String, Vec<Times>>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("reading the publish log {}: {e}", path.display()))?;
    let mut by_dialog: HashMap<String, Vec<Times>> = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if let [sent, node, _event, id, queued] = f.as_slice() {
            if node.ends_with("/Dialogs") && *id != "-" {
                if let (Ok(s), Ok(q)) = (sent.parse(), queued.parse()) {
                    by_dialog.entry(id.to_string()).or_default().push((s, q));
                }
            }
        }
    }
    for times in by_dialog.values_mut() {
        times.sort_unstable();
    }
    Ok(by_dialog)
}

/// `at` as micros since the epoch (an `Instant` of this process, placed on the system clock).
fn epoch_micros(at: Instant, now: (Instant, SystemTime)) -> u128 {
    let since = now.0.saturating_duration_since(at);
    (now.1 - since)
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros()
}

/// The time from the latest publish for the dialog at or before the callback `arrived` to
/// it, and from when that publish was queued.
fn latency(times: Option<&Vec<Times>>, arrived: u128) -> Option<(Duration, Duration)> {
    let (sent, queued) = times?.iter().rev().find(|(s, _)| *s <= arrived)?;
    let since = |t: u128| {
        Duration::from_micros(u64::try_from(arrived.saturating_sub(t)).unwrap_or(u64::MAX))
    };
    Some((since(*sent), since(*queued)))
}

/// When one callback of a call arrived.
type Arrival = fn(&CallOutcome) -> Option<Instant>;

/// The three dialog callbacks a call makes, and when each arrived.
const CALLBACKS: [(&str, Arrival); 3] = [
    ("EventRinging", |c| c.ringing),
    ("EventEstablished", |c| c.established),
    ("EventReleased", |c| c.released),
];

/// Writes each dialog callback's arrival, `DIALOG<TAB>EVENT<TAB>MICROS` (since the epoch).
pub fn write_trace(path: &Path, outcomes: &[CallOutcome]) -> Result<(), String> {
    let now = (Instant::now(), SystemTime::now());
    let mut text = String::new();
    for c in outcomes {
        for (name, pick) in CALLBACKS {
            if let Some(at) = pick(c) {
                text.push_str(&format!(
                    "{}\t{name}\t{}\n",
                    c.dialog,
                    epoch_micros(at, now)
                ));
            }
        }
    }
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Prints the latency of EventRinging, EventEstablished and EventReleased after the publish
/// that caused each (the dialog's latest publish before it).
pub fn report(path: &Path, outcomes: &[CallOutcome]) -> Result<(), String> {
    // finesse-sim flushes its log when its queue is empty: give it a moment.
    std::thread::sleep(Duration::from_millis(300));
    let log = read_log(path)?;
    let now = (Instant::now(), SystemTime::now());
    let (mut all, mut all_queued) = (Vec::new(), Vec::new());
    for (name, pick) in CALLBACKS {
        let arrived: Vec<(&CallOutcome, Instant)> = outcomes
            .iter()
            .filter_map(|c| Some((c, pick(c)?)))
            .collect();
        let (lat, queued): (Vec<Duration>, Vec<Duration>) = arrived
            .iter()
            .filter_map(|(c, at)| latency(log.get(&c.dialog), epoch_micros(*at, now)))
            .unzip();
        all.extend(lat.iter().copied());
        all_queued.extend(queued);
        // A callback before any publish of its dialog came another way (a REST read).
        let unmatched = arrived.len() - lat.len();
        println!(
            "event latency, finesse-sim publish -> {name}: {} calls; {}{}",
            lat.len(),
            Distribution::new(lat).summary(),
            if unmatched > 0 {
                format!(" ({unmatched} more arrived before any publish of their dialog)")
            } else {
                String::new()
            }
        );
    }
    println!(
        "event latency, all dialog events: {} events; {}",
        all.len(),
        Distribution::new(all).summary()
    );
    println!(
        "event latency, all dialog events from the simulated event (finesse-sim's publish queue \
         included): {}",
        Distribution::new(all_queued).summary()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_publish_before_the_callback_counts() {
        let times = vec![(1_000, 900), (5_000, 4_000), (9_000, 8_000)];
        assert_eq!(
            latency(Some(&times), 6_000),
            Some((Duration::from_micros(1_000), Duration::from_micros(2_000)))
        );
        assert_eq!(latency(Some(&times), 500), None);
        assert_eq!(latency(None, 6_000), None);
    }
}
