//! The latency from finesse-sim's publish of a dialog event to the Siebel callback it causes:
//! finesse-sim's publish log (one line per notification: micros since the epoch, node, event,
//! dialog id) against the instants the callbacks reached scs-sim.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use scs_sim::bench::Distribution;

use crate::calls::CallOutcome;

/// Each dialog's publish times (micros since the epoch), in order.
fn read_log(path: &Path) -> Result<HashMap<String, Vec<u128>>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("reading the publish log {}: {e}", path.display()))?;
    let mut by_dialog: HashMap<String, Vec<u128>> = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if let [micros, node, _event, id] = f.as_slice() {
            if node.ends_with("/Dialogs") && *id != "-" {
                if let Ok(t) = micros.parse() {
                    by_dialog.entry(id.to_string()).or_default().push(t);
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

/// The time from the latest publish for the dialog at or before the callback `arrived` to it.
fn latency(times: Option<&Vec<u128>>, arrived: u128) -> Option<Duration> {
    let published = times?.iter().rev().find(|&&t| t <= arrived)?;
    u64::try_from(arrived - published)
        .ok()
        .map(Duration::from_micros)
}

/// Prints the latency of EventRinging, EventEstablished and EventReleased after the publish
/// that caused each (the dialog's latest publish before it).
pub fn report(path: &Path, outcomes: &[CallOutcome]) -> Result<(), String> {
    // finesse-sim flushes its log when its queue is empty: give it a moment.
    std::thread::sleep(Duration::from_millis(300));
    let log = read_log(path)?;
    let now = (Instant::now(), SystemTime::now());
    let mut all = Vec::new();
    for (name, pick) in [
        (
            "EventRinging",
            (|c: &CallOutcome| c.ringing) as fn(&CallOutcome) -> Option<Instant>,
        ),
        ("EventEstablished", |c: &CallOutcome| c.established),
        ("EventReleased", |c: &CallOutcome| c.released),
    ] {
        let arrived: Vec<(&CallOutcome, Instant)> = outcomes
            .iter()
            .filter_map(|c| Some((c, pick(c)?)))
            .collect();
        let lat: Vec<Duration> = arrived
            .iter()
            .filter_map(|(c, at)| latency(log.get(&c.dialog), epoch_micros(*at, now)))
            .collect();
        all.extend(lat.iter().copied());
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_publish_before_the_callback_counts() {
        let times = vec![1_000, 5_000, 9_000];
        assert_eq!(
            latency(Some(&times), 6_000),
            Some(Duration::from_micros(1_000))
        );
        assert_eq!(latency(Some(&times), 500), None);
        assert_eq!(latency(None, 6_000), None);
    }
}
