//! Which broker to connect to next, and when: the list of broker addresses and the failover
//! and backoff decisions over it, without sockets or clocks (the caller hands in the time).
//!
//! A *round* tries every address once, one after the other without waiting. The first round
//! starts at the first address; a round after a lost session starts at the address after the
//! lost one (in a shared-store master/slave pair the lost broker is the dead master, and the
//! next one is the slave taking over). When a whole round fails, the same round is tried again
//! after a delay that doubles from the minimum up to the maximum: the maximum bounds how long
//! a broker that is back waits to be noticed. A session that stayed up for [`STABLE`] resets
//! the delay and is retried at once when lost; one lost sooner counts as a failed attempt, so
//! a broker that accepts sessions and drops them is not hammered.

use std::fmt;
use std::time::{Duration, Instant};

/// How long a session must have been up for its loss to be retried at once.
pub const STABLE: Duration = Duration::from_secs(2);

/// The most addresses a list may hold.
pub const MAX_BROKERS: usize = 16;

/// One broker's STOMP address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerAddr {
    /// Host name or IP address (an IPv6 address without brackets).
    pub host: String,
    /// STOMP port.
    pub port: u16,
}

impl BrokerAddr {
    /// An address from a host and a port.
    pub fn new(host: &str, port: u16) -> BrokerAddr {
        BrokerAddr {
            host: host.to_string(),
            port,
        }
    }
}

impl fmt::Display for BrokerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Why a broker list was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddressError {
    /// The list holds no address.
    Empty,
    /// An entry between two commas is empty (its position, from 1).
    EmptyEntry(usize),
    /// An entry's port is not a number from 1 to 65535.
    BadPort(String),
    /// An entry's host is malformed (spaces, unclosed bracket, ...).
    BadHost(String),
    /// More than [`MAX_BROKERS`] addresses.
    TooMany(usize),
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressError::Empty => f.write_str("holds no broker address"),
            AddressError::EmptyEntry(n) => write!(f, "has an empty entry (number {n})"),
            AddressError::BadPort(e) => write!(f, "entry {e:?}: the port must be 1 to 65535"),
            AddressError::BadHost(e) => write!(f, "entry {e:?}: not a host[:port]"),
            AddressError::TooMany(n) => {
                write!(f, "holds {n} addresses, at most {MAX_BROKERS} are allowed")
            }
        }
    }
}

impl std::error::Error for AddressError {}

/// Parses a comma-separated list of `host[:port]` (`[v6addr]:port` for IPv6); an entry
/// without a port gets `default_port`. A single host (the old form) is a list of one.
pub fn parse_brokers(list: &str, default_port: u16) -> Result<Vec<BrokerAddr>, AddressError> {
    if list.trim().is_empty() {
        return Err(AddressError::Empty);
    }
    let entries: Vec<&str> = list.split(',').map(str::trim).collect();
    if entries.len() > MAX_BROKERS {
        return Err(AddressError::TooMany(entries.len()));
    }
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| parse_entry(e, default_port).ok_or_else(|| entry_error(i, e)))
        .collect()
}

/// The error of an entry that [`parse_entry`] refused.
fn entry_error(i: usize, e: &str) -> AddressError {
    if e.is_empty() {
        AddressError::EmptyEntry(i + 1)
    } else if e.contains('/') {
        AddressError::BadHost(e.to_string())
    } else if split_port(e)
        .is_some_and(|(h, p)| good_host(h) && p.is_some_and(|p| port(p).is_none()))
    {
        AddressError::BadPort(e.to_string())
    } else {
        AddressError::BadHost(e.to_string())
    }
}

/// Splits an entry into host and port text: `[v6]:port`, `[v6]`, `host:port`, `host`, or a
/// bare IPv6 address (more than one colon: no port).
fn split_port(e: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = e.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?))),
        };
    }
    match e.matches(':').count() {
        0 => Some((e, None)),
        1 => e.split_once(':').map(|(h, p)| (h, Some(p))),
        _ => Some((e, None)),
    }
}

/// A host name or address without spaces, brackets, slashes or user part.
fn good_host(h: &str) -> bool {
    let bad = |c: char| c.is_whitespace() || matches!(c, '[' | ']' | '/' | '@');
    !h.is_empty() && !h.chars().any(bad)
}

fn port(p: &str) -> Option<u16> {
    p.parse::<u16>().ok().filter(|p| *p != 0)
}

fn parse_entry(e: &str, default_port: u16) -> Option<BrokerAddr> {
    let (host, p) = split_port(e)?;
    if !good_host(host) {
        return None;
    }
    let port = match p {
        Some(p) => port(p)?,
        None => default_port,
    };
    Some(BrokerAddr::new(host, port))
}

/// The next connection attempt: which address (an index into the list), after what delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// Index of the address to try.
    pub index: usize,
    /// How long to wait before trying.
    pub after: Duration,
}

/// The failover and backoff state of a link over `count` addresses.
#[derive(Clone, Debug)]
pub struct Failover {
    count: usize,
    min: Duration,
    max: Duration,
    /// The wait after the next failed round.
    delay: Duration,
    /// The address of the attempt in progress (or of the session).
    current: usize,
    /// Where the current round started.
    round_start: usize,
    /// Attempts made in this round, the current one included.
    tried: usize,
    /// When the session on `current` came up, while it is up.
    up_since: Option<Instant>,
}

impl Failover {
    /// A link over `count` addresses (at least one) whose rounds wait from `min` to `max`;
    /// the first attempt is the first address, at once.
    pub fn new(count: usize, min: Duration, max: Duration) -> Failover {
        Failover {
            count: count.max(1),
            min,
            max: max.max(min),
            delay: min,
            current: 0,
            round_start: 0,
            tried: 1,
            up_since: None,
        }
    }

    /// The address of the attempt in progress (or of the session that is up).
    pub fn current(&self) -> usize {
        self.current
    }

    /// The STOMP session on the current address came up at `now`.
    pub fn up(&mut self, now: Instant) {
        self.up_since = Some(now);
    }

    /// The attempt on the current address failed, or its session was lost, at `now`: what
    /// to try next, and when.
    pub fn failed(&mut self, now: Instant) -> Attempt {
        if let Some(since) = self.up_since.take() {
            let stable = now.saturating_duration_since(since) >= STABLE;
            if stable {
                self.delay = self.min;
            }
            self.round_start = self.next(self.current);
            self.current = self.round_start;
            self.tried = 1;
            let after = if stable { Duration::ZERO } else { self.grow() };
            return self.attempt(after);
        }
        if self.tried < self.count {
            self.current = self.next(self.current);
            self.tried += 1;
            return self.attempt(Duration::ZERO);
        }
        self.current = self.round_start;
        self.tried = 1;
        let after = self.grow();
        self.attempt(after)
    }

    fn next(&self, i: usize) -> usize {
        (i + 1) % self.count
    }

    /// The delay to wait now; the next one doubles, up to the maximum.
    fn grow(&mut self) -> Duration {
        let d = self.delay;
        self.delay = (self.delay * 2).min(self.max);
        d
    }

    fn attempt(&self, after: Duration) -> Attempt {
        Attempt {
            index: self.current,
            after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn a(index: usize, after_ms: u64) -> Attempt {
        Attempt {
            index,
            after: MS * after_ms as u32,
        }
    }

    #[test]
    fn a_single_host_is_the_old_form_and_gets_the_default_port() {
        assert_eq!(
            parse_brokers("mq.example", 61613),
            Ok(vec![BrokerAddr::new("mq.example", 61613)])
        );
        assert_eq!(
            parse_brokers(" 10.0.0.1 ", 61620),
            Ok(vec![BrokerAddr::new("10.0.0.1", 61620)])
        );
    }

    #[test]
    fn a_list_keeps_its_order_and_each_entry_may_name_its_port() {
        let l = parse_brokers("mq-a:61613, mq-b ,[::1]:61614,[fe80::1],::1", 61700).unwrap();
        assert_eq!(
            l,
            vec![
                BrokerAddr::new("mq-a", 61613),
                BrokerAddr::new("mq-b", 61700),
                BrokerAddr::new("::1", 61614),
                BrokerAddr::new("fe80::1", 61700),
                BrokerAddr::new("::1", 61700),
            ]
        );
        assert_eq!(l[0].to_string(), "mq-a:61613");
        assert_eq!(l[2].to_string(), "[::1]:61614");
    }

    #[test]
    fn bad_lists_say_what_is_wrong() {
        assert_eq!(parse_brokers("  ", 1), Err(AddressError::Empty));
        assert_eq!(parse_brokers("a,,b", 1), Err(AddressError::EmptyEntry(2)));
        assert_eq!(parse_brokers("a,", 1), Err(AddressError::EmptyEntry(2)));
        assert_eq!(
            parse_brokers("a:0", 1),
            Err(AddressError::BadPort("a:0".into()))
        );
        assert_eq!(
            parse_brokers("a,b:http", 1),
            Err(AddressError::BadPort("b:http".into()))
        );
        assert_eq!(
            parse_brokers("[::1]:99999", 1),
            Err(AddressError::BadPort("[::1]:99999".into()))
        );
        for bad in ["mq a", "[::1", "[::1]x", ":61613", "user@mq", "tcp://mq"] {
            assert_eq!(
                parse_brokers(bad, 1),
                Err(AddressError::BadHost(bad.into())),
                "{bad}"
            );
        }
        let many = vec!["h"; MAX_BROKERS + 1].join(",");
        assert_eq!(
            parse_brokers(&many, 1),
            Err(AddressError::TooMany(MAX_BROKERS + 1))
        );
        assert_eq!(
            AddressError::BadPort("b:x".into()).to_string(),
            "entry \"b:x\": the port must be 1 to 65535"
        );
    }

    #[test]
    fn a_round_tries_each_address_at_once_then_waits_a_doubling_capped_delay() {
        let t = Instant::now();
        let mut f = Failover::new(3, 500 * MS, 1000 * MS);
        assert_eq!(f.current(), 0);
        assert_eq!(f.failed(t), a(1, 0));
        assert_eq!(f.failed(t), a(2, 0));
        assert_eq!(f.failed(t), a(0, 500), "round over: wait the minimum");
        assert_eq!(f.failed(t), a(1, 0));
        assert_eq!(f.failed(t), a(2, 0));
        assert_eq!(f.failed(t), a(0, 1000), "doubled");
        f.failed(t);
        f.failed(t);
        assert_eq!(f.failed(t), a(0, 1000), "capped at the maximum");
    }

    #[test]
    fn one_address_waits_between_attempts_and_never_longer_than_the_maximum() {
        let t = Instant::now();
        let mut f = Failover::new(1, 100 * MS, 1000 * MS);
        let waits: Vec<u128> = (0..8).map(|_| f.failed(t).after.as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000, 1000, 1000]);
        assert!((0..100).all(|_| f.failed(t) == a(0, 1000)));
    }

    #[test]
    fn a_lost_session_fails_over_at_once_to_the_next_address() {
        let t = Instant::now();
        let mut f = Failover::new(2, 500 * MS, 1000 * MS);
        f.up(t);
        // The master (0) dies: the slave (1) first, at once.
        assert_eq!(f.failed(t + 60 * STABLE), a(1, 0));
        // The slave is not serving yet: the master, then wait, then the slave again.
        assert_eq!(f.failed(t + 60 * STABLE), a(0, 0));
        assert_eq!(f.failed(t + 60 * STABLE), a(1, 500));
        assert_eq!(f.failed(t + 60 * STABLE), a(0, 0));
        assert_eq!(f.failed(t + 60 * STABLE), a(1, 1000));
        // The slave serves; later it dies too and the master is back: the master first.
        f.up(t + 61 * STABLE);
        assert_eq!(f.failed(t + 90 * STABLE), a(0, 0));
        assert_eq!(f.current(), 0);
    }

    #[test]
    fn a_stable_session_resets_the_delay() {
        let t = Instant::now();
        let mut f = Failover::new(1, 100 * MS, 1000 * MS);
        for _ in 0..10 {
            f.failed(t);
        }
        f.up(t);
        assert_eq!(f.failed(t + STABLE), a(0, 0), "retried at once");
        assert_eq!(f.failed(t + STABLE), a(0, 100), "from the minimum again");
    }

    #[test]
    fn a_session_lost_at_once_counts_as_a_failed_attempt() {
        let t = Instant::now();
        let mut f = Failover::new(1, 100 * MS, 1000 * MS);
        let mut waits = Vec::new();
        for i in 0..6u32 {
            let now = t + i * 10 * MS;
            f.up(now);
            waits.push(f.failed(now + MS).after.as_millis());
        }
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000], "no busy loop");
    }

    #[test]
    fn a_count_of_zero_is_one_address() {
        let mut f = Failover::new(0, MS, MS);
        assert_eq!(f.failed(Instant::now()), a(0, 1));
    }
}
