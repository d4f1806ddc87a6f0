//! What the benchmarks (`scs-bench`, `scs-chain-bench`) measure with: latency distributions,
//! and what `/proc` says about a process (memory, threads, CPU time).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A set of latencies, sorted.
#[derive(Clone, Debug, Default)]
pub struct Distribution {
    sorted: Vec<Duration>,
}

impl Distribution {
    /// The distribution of `samples`.
    pub fn new(mut samples: Vec<Duration>) -> Distribution {
        samples.sort();
        Distribution { sorted: samples }
    }

    /// How many samples.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The `p` quantile (0.0 to 1.0), nearest rank; zero when empty.
    pub fn quantile(&self, p: f64) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.sorted.len() as f64 - 1.0) * p.clamp(0.0, 1.0)).round() as usize;
        self.sorted[i.min(self.sorted.len() - 1)]
    }

    /// The largest sample.
    pub fn max(&self) -> Duration {
        self.sorted.last().copied().unwrap_or_default()
    }

    /// `p50 A ms, p90 B ms, p99 C ms, max D ms`.
    pub fn summary(&self) -> String {
        format!(
            "p50 {}, p90 {}, p99 {}, max {}",
            ms(self.quantile(0.5)),
            ms(self.quantile(0.9)),
            ms(self.quantile(0.99)),
            ms(self.max())
        )
    }
}

/// A duration in milliseconds with two decimals and its unit.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// One reading of a process in `/proc`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcSample {
    /// Resident memory (KiB).
    pub rss_kib: u64,
    /// Threads.
    pub threads: u64,
    /// User plus system CPU time (clock ticks).
    pub cpu_ticks: u64,
}

/// Reads process `pid` (`None` when it is gone or `/proc` is unreadable).
pub fn sample(pid: u32) -> Option<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some(ProcSample {
        rss_kib: field("VmRSS:")?,
        threads: field("Threads:")?,
        cpu_ticks: cpu_ticks(&stat)?,
    })
}

/// utime + stime of a `/proc/PID/stat` line (fields 14 and 15; the command name in
/// parentheses may hold spaces).
pub fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`).
pub fn ticks_per_second() -> f64 {
    extern "C" {
        fn sysconf(name: std::ffi::c_int) -> std::ffi::c_long;
    }
    const SC_CLK_TCK: std::ffi::c_int = 2;
    // SAFETY: sysconf only reads a system setting.
    let t = unsafe { sysconf(SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// CPU use between two readings `wall` apart, in percent of one core.
pub fn cpu_percent(before: ProcSample, after: ProcSample, wall: Duration) -> f64 {
    let secs = wall.as_secs_f64();
    if secs <= 0.0 {
        return 0.0;
    }
    after.cpu_ticks.saturating_sub(before.cpu_ticks) as f64 / ticks_per_second() / secs * 100.0
}

/// The peak memory and threads of a process, read every few hundred milliseconds on a thread
/// of its own until dropped.
pub struct PeakWatch {
    peak: Arc<Mutex<ProcSample>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PeakWatch {
    /// Starts watching `pid`.
    pub fn start(pid: u32) -> PeakWatch {
        let peak = Arc::new(Mutex::new(sample(pid).unwrap_or_default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Acquire) {
                if let Some(now) = sample(pid) {
                    let mut m = p.lock().unwrap_or_else(|e| e.into_inner());
                    m.rss_kib = m.rss_kib.max(now.rss_kib);
                    m.threads = m.threads.max(now.threads);
                    m.cpu_ticks = now.cpu_ticks;
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        });
        PeakWatch {
            peak,
            stop,
            thread: Some(thread),
        }
    }

    /// The highest memory and thread count seen so far.
    pub fn peak(&self) -> ProcSample {
        *self.peak.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for PeakWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A phase's start: when, and how much CPU each watched process had used.
pub struct Phase {
    at: Instant,
    cpu: Vec<Option<ProcSample>>,
}

impl Phase {
    /// Starts a phase over the processes `pids`.
    pub fn start(pids: &[u32]) -> Phase {
        Phase {
            at: Instant::now(),
            cpu: pids.iter().map(|&p| sample(p)).collect(),
        }
    }

    /// The wall time so far and each process's CPU use (percent of one core) since the start;
    /// `None` for a process that could not be read.
    pub fn end(&self, pids: &[u32]) -> (Duration, Vec<Option<f64>>) {
        let wall = self.at.elapsed();
        let cpu = pids
            .iter()
            .zip(&self.cpu)
            .map(|(&p, before)| Some(cpu_percent((*before)?, sample(p)?, wall)))
            .collect();
        (wall, cpu)
    }
}

/// How many TCP connections this host's `/proc/net/tcp` shows established to local `port`
/// (the server side of each: e.g. the XMPP server's client connections).
pub fn established_to(port: u16) -> usize {
    let want = format!(":{port:04X}");
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3 && f[1].ends_with(&want) && f[3] == "01"
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_take_the_nearest_rank() {
        let d = Distribution::new((1..=100).rev().map(Duration::from_millis).collect());
        assert_eq!(d.quantile(0.5), Duration::from_millis(51));
        assert_eq!(d.quantile(0.99), Duration::from_millis(99));
        assert_eq!(d.max(), Duration::from_millis(100));
        assert_eq!(Distribution::default().quantile(0.5), Duration::ZERO);
    }

    #[test]
    fn cpu_time_is_read_after_the_command_name() {
        let stat = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1 2 3";
        assert_eq!(cpu_ticks(stat), Some(300));
        assert_eq!(cpu_ticks("garbage"), None);
    }

    #[test]
    fn this_process_can_be_read() {
        let s = sample(std::process::id()).unwrap();
        assert!(s.rss_kib > 0 && s.threads >= 1);
    }
}
