//! The counters of a run: each call's events, lost and duplicated, ringing latency, as JSON.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The three events of a call, in order.
pub(crate) const PHASES: [&str; 3] = ["EventRinging", "EventEstablished", "EventReleased"];

/// One placed call.
pub(crate) struct CallRec {
    pub(crate) placed: Instant,
    pub(crate) disrupted: bool,
    pub(crate) expected: [bool; 3],
    pub(crate) got: [u32; 3],
    pub(crate) done: Option<Instant>,
}

/// Totals of finished calls: per phase, expected / received once / lost / duplicated, for
/// calls clear of restarts and for disrupted ones.
#[derive(Default)]
pub(crate) struct Totals {
    pub(crate) placed: u64,
    pub(crate) placed_disrupted: u64,
    pub(crate) place_errors: u64,
    finished: u64,
    pub(crate) expected: [[u64; 3]; 2],
    pub(crate) ok: [[u64; 3]; 2],
    lost: [[u64; 3]; 2],
    dup: [[u64; 3]; 2],
    pub(crate) timeouts: [u64; 3],
    pub(crate) unknown_events: u64,
    pub(crate) host_errors: u64,
    pub(crate) invoke_errors: u64,
    pub(crate) recoveries: u64,
    pub(crate) events: u64,
    /// Time from placing a call to its first EventRinging: 10 ms buckets up to 60 s.
    ring_latency: Vec<u64>,
    ring_latency_max_ms: u64,
}

/// Width of a latency bucket, ms, and their number.
const BUCKET_MS: u64 = 10;
const BUCKETS: usize = 6001;

impl Totals {
    pub(crate) fn ringing_after(&mut self, d: Duration) {
        if self.ring_latency.is_empty() {
            self.ring_latency = vec![0; BUCKETS];
        }
        let ms = d.as_millis() as u64;
        self.ring_latency[((ms / BUCKET_MS) as usize).min(BUCKETS - 1)] += 1;
        self.ring_latency_max_ms = self.ring_latency_max_ms.max(ms);
    }

    /// The latency percentile `p` (0..1), ms (the upper edge of its bucket).
    fn percentile(&self, p: f64) -> u64 {
        let n: u64 = self.ring_latency.iter().sum();
        if n == 0 {
            return 0;
        }
        let want = ((n as f64) * p).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in self.ring_latency.iter().enumerate() {
            seen += c;
            if seen >= want {
                return (i as u64 + 1) * BUCKET_MS;
            }
        }
        self.ring_latency_max_ms
    }

    pub(crate) fn fold(&mut self, c: &CallRec) {
        let k = usize::from(c.disrupted);
        self.finished += 1;
        for p in 0..3 {
            if !c.expected[p] {
                continue;
            }
            self.expected[k][p] += 1;
            match c.got[p] {
                0 => self.lost[k][p] += 1,
                1 => self.ok[k][p] += 1,
                _ => self.dup[k][p] += 1,
            }
        }
    }

    pub(crate) fn json(&self) -> Value {
        let phases = |a: &[u64; 3]| json!({"ringing": a[0], "established": a[1], "released": a[2], "all": a.iter().sum::<u64>()});
        let side = |k: usize| {
            json!({
                "expected": phases(&self.expected[k]),
                "ok": phases(&self.ok[k]),
                "lost": phases(&self.lost[k]),
                "duplicated": phases(&self.dup[k]),
            })
        };
        json!({
            "placed": self.placed,
            "placed_disrupted": self.placed_disrupted,
            "place_errors": self.place_errors,
            "finished": self.finished,
            "clean": side(0),
            "disrupted": side(1),
            "timeouts": phases(&self.timeouts),
            "unknown_events": self.unknown_events,
            "host_errors": self.host_errors,
            "invoke_errors": self.invoke_errors,
            "recoveries": self.recoveries,
            "events": self.events,
            "ringing_latency_ms": {
                "p50": self.percentile(0.5),
                "p99": self.percentile(0.99),
                "max": self.ring_latency_max_ms,
            },
        })
    }
}
