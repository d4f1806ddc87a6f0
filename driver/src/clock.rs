//! Time as the driver's logic sees it: the I/O shell reads the clocks once per event and hands
//! the reading in, so sessions and calls never read a clock themselves and tests can set the
//! time.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// One reading of the clocks: monotonic for timers, wall-clock seconds for what Siebel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// For timeouts and ordering.
    pub mono: Instant,
    /// Seconds since the Unix epoch, for work-item start and stop times.
    pub unix: i64,
}

impl Now {
    /// Reads the system clocks (for I/O shells only).
    pub fn read() -> Now {
        Now {
            mono: Instant::now(),
            unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        }
    }

    /// The same reading `d` later.
    pub fn after(self, d: Duration) -> Now {
        Now {
            mono: self.mono + d,
            unix: self.unix + d.as_secs() as i64,
        }
    }

    /// How long it has been since `earlier` (zero if `earlier` is later).
    pub fn since(self, earlier: Instant) -> Duration {
        self.mono.saturating_duration_since(earlier)
    }
}
