//! `GET /metrics`: the connector's figures in the Prometheus text format (version 0.0.4).
//!
//! Counters the core keeps under its lock ([`Counters`]), the Finesse request latency kept
//! with atomics by the REST workers ([`Latency`]), and gauges read from the core's state
//! when scraped ([`Gauges`]); [`render`] writes them out.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds (`+Inf` follows).
pub const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Counters kept by the core.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    /// Driver requests by (type, outcome): `ok`, `error` (answered with an `Error`),
    /// `refused` (no proof of the agent's credential, or a number out of bounds).
    pub requests: BTreeMap<(&'static str, &'static str), u64>,
    /// Messages sent to drivers that answer no request (notifications relayed), by type.
    pub relayed: BTreeMap<&'static str, u64>,
    /// How often the broker link came up.
    pub broker_links: u64,
}

impl Counters {
    /// Counts one request's outcome.
    pub fn request(&mut self, kind: &'static str, outcome: &'static str) {
        *self.requests.entry((kind, outcome)).or_default() += 1;
    }

    /// Counts one event relayed to a driver.
    pub fn relayed(&mut self, kind: &'static str) {
        *self.relayed.entry(kind).or_default() += 1;
    }
}

/// A latency histogram, per Finesse call type, shared by the REST workers.
#[derive(Debug, Default)]
pub struct Latency {
    /// Per call type: counts per bucket (the last is `+Inf`), the sum in microseconds.
    calls: [CallLatency; CALL_TYPES.len()],
}

/// The Finesse call types measured.
pub const CALL_TYPES: [&str; 9] = [
    "SetState",
    "User",
    "Dialogs",
    "DialogAction",
    "MakeCall",
    "Supervise",
    "ReasonCodes",
    "WrapUpReasons",
    "SystemInfo",
];

#[derive(Debug, Default)]
struct CallLatency {
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_us: AtomicU64,
}

impl Latency {
    /// Records one call of `kind` (one of [`CALL_TYPES`]; others are ignored).
    pub fn observe(&self, kind: &str, took: Duration) {
        let Some(i) = CALL_TYPES.iter().position(|k| *k == kind) else {
            return;
        };
        let c = &self.calls[i];
        let secs = took.as_secs_f64();
        let b = BUCKETS
            .iter()
            .position(|le| secs <= *le)
            .unwrap_or(BUCKETS.len());
        c.buckets[b].fetch_add(1, Ordering::Relaxed);
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        c.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// Times `f` as one call of `kind`.
    pub fn time<T>(&self, kind: &str, f: impl FnOnce() -> T) -> T {
        let t = std::time::Instant::now();
        let out = f();
        self.observe(kind, t.elapsed());
        out
    }
}

/// Gauges read from the core's state when scraped.
#[derive(Clone, Debug, Default)]
pub struct Gauges {
    /// Agents by state (`READY`, `NOT_READY`, ...).
    pub agents_by_state: BTreeMap<String, u64>,
    /// Agents whose XMPP notification session is up.
    pub xmpp_sessions_up: u64,
    /// Driver instances known (not pruned).
    pub drivers: u64,
    /// The broker link is up.
    pub broker_up: bool,
    /// The Finesse node in use is in service.
    pub finesse_up: bool,
    /// This connector holds the request queue.
    pub serving: bool,
    /// Calls in progress.
    pub calls: u64,
}

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The Prometheus text exposition of everything.
pub fn render(counters: &Counters, latency: &Latency, gauges: &Gauges) -> String {
    let mut o = String::new();
    header(&mut o, "siebelcti_agents", "gauge", "Agents by state.");
    for (state, n) in &gauges.agents_by_state {
        let _ = writeln!(o, "siebelcti_agents{{state=\"{}\"}} {n}", label(state));
    }
    header(
        &mut o,
        "siebelcti_requests_total",
        "counter",
        "Driver requests by type and outcome.",
    );
    for ((kind, outcome), n) in &counters.requests {
        let _ = writeln!(
            o,
            "siebelcti_requests_total{{type=\"{kind}\",outcome=\"{outcome}\"}} {n}"
        );
    }
    header(
        &mut o,
        "siebelcti_events_relayed_total",
        "counter",
        "Messages relayed to drivers that answer no request, by type.",
    );
    for (kind, n) in &counters.relayed {
        let _ = writeln!(o, "siebelcti_events_relayed_total{{type=\"{kind}\"}} {n}");
    }
    header(
        &mut o,
        "siebelcti_finesse_request_seconds",
        "histogram",
        "Finesse REST request latency by call type.",
    );
    for (kind, c) in CALL_TYPES.iter().zip(&latency.calls) {
        let mut cumulative = 0;
        for (i, b) in c.buckets.iter().enumerate() {
            cumulative += b.load(Ordering::Relaxed);
            let le = BUCKETS
                .get(i)
                .map_or_else(|| "+Inf".to_string(), |v| v.to_string());
            let _ = writeln!(
                o,
                "siebelcti_finesse_request_seconds_bucket{{call=\"{kind}\",le=\"{le}\"}} {cumulative}"
            );
        }
        let sum = c.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(
            o,
            "siebelcti_finesse_request_seconds_sum{{call=\"{kind}\"}} {sum}"
        );
        let _ = writeln!(
            o,
            "siebelcti_finesse_request_seconds_count{{call=\"{kind}\"}} {cumulative}"
        );
    }
    let gauges_list: [(&str, &str, &str, u64); 7] = [
        (
            "siebelcti_xmpp_sessions_up",
            "gauge",
            "Agents whose Finesse notification (XMPP) session is up.",
            gauges.xmpp_sessions_up,
        ),
        (
            "siebelcti_drivers_connected",
            "gauge",
            "Driver instances (Siebel servers) heard from and not pruned.",
            gauges.drivers,
        ),
        (
            "siebelcti_calls",
            "gauge",
            "Calls in progress.",
            gauges.calls,
        ),
        (
            "siebelcti_broker_reconnects_total",
            "counter",
            "Times the broker link came up again after the first time.",
            counters.broker_links.saturating_sub(1),
        ),
        (
            "siebelcti_broker_up",
            "gauge",
            "1 when the broker link is up.",
            u64::from(gauges.broker_up),
        ),
        (
            "siebelcti_finesse_up",
            "gauge",
            "1 when the Finesse node in use is in service.",
            u64::from(gauges.finesse_up),
        ),
        (
            "siebelcti_serving",
            "gauge",
            "1 when this connector holds the request queue (0: standby).",
            u64::from(gauges.serving),
        ),
    ];
    for (name, kind, help, v) in gauges_list {
        header(&mut o, name, kind, help);
        let _ = writeln!(o, "{name} {v}");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of one sample line (`name{labels} value`).
    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn latency_buckets_are_cumulative_with_sum_and_count() {
        let l = Latency::default();
        l.observe("User", Duration::from_millis(3));
        l.observe("User", Duration::from_millis(40));
        l.observe("User", Duration::from_secs(9));
        l.observe("nonsense", Duration::from_secs(1));
        let t = render(&Counters::default(), &l, &Gauges::default());
        let b = |le: &str| {
            sample(
                &t,
                &format!("siebelcti_finesse_request_seconds_bucket{{call=\"User\",le=\"{le}\"}}"),
            )
        };
        assert_eq!(b("0.005"), Some(1.0));
        assert_eq!(b("0.01"), Some(1.0));
        assert_eq!(b("0.05"), Some(2.0));
        assert_eq!(b("5"), Some(2.0));
        assert_eq!(b("+Inf"), Some(3.0));
        let count = sample(&t, "siebelcti_finesse_request_seconds_count{call=\"User\"}");
        assert_eq!(count, Some(3.0));
        let sum = sample(&t, "siebelcti_finesse_request_seconds_sum{call=\"User\"}").unwrap();
        assert!((sum - 9.043).abs() < 1e-6, "{sum}");
        assert_eq!(
            sample(
                &t,
                "siebelcti_finesse_request_seconds_count{call=\"SetState\"}"
            ),
            Some(0.0)
        );
    }

    #[test]
    fn counters_and_gauges_have_help_type_and_labels() {
        let mut c = Counters::default();
        c.request("Login", "ok");
        c.request("Login", "ok");
        c.request("SetState", "error");
        c.relayed("Agent");
        c.broker_links = 3;
        let mut g = Gauges {
            xmpp_sessions_up: 2,
            drivers: 1,
            broker_up: true,
            ..Gauges::default()
        };
        g.agents_by_state.insert("READY".into(), 2);
        g.agents_by_state.insert("we\"ird".into(), 1);
        let t = render(&c, &Latency::default(), &g);
        for (series, v) in [
            (
                "siebelcti_requests_total{type=\"Login\",outcome=\"ok\"}",
                2.0,
            ),
            (
                "siebelcti_requests_total{type=\"SetState\",outcome=\"error\"}",
                1.0,
            ),
            ("siebelcti_events_relayed_total{type=\"Agent\"}", 1.0),
            ("siebelcti_agents{state=\"READY\"}", 2.0),
            ("siebelcti_agents{state=\"we\\\"ird\"}", 1.0),
            ("siebelcti_xmpp_sessions_up", 2.0),
            ("siebelcti_drivers_connected", 1.0),
            ("siebelcti_broker_reconnects_total", 2.0),
            ("siebelcti_broker_up", 1.0),
            ("siebelcti_serving", 0.0),
        ] {
            assert_eq!(sample(&t, series), Some(v), "{series} in\n{t}");
        }
        // Every sample's family is declared once, before its samples.
        let mut declared = Vec::new();
        for l in t.lines() {
            if let Some(rest) = l.strip_prefix("# TYPE ") {
                let name = rest.split(' ').next().unwrap();
                assert!(!declared.contains(&name.to_string()), "{name} twice");
                declared.push(name.to_string());
            } else if !l.starts_with('#') {
                let name = l.split(['{', ' ']).next().unwrap();
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s))
                    .filter(|f| declared.iter().any(|d| d == f))
                    .unwrap_or(name);
                assert!(declared.iter().any(|d| d == family), "{l} undeclared");
            }
        }
    }
}
