//! The command line of `scs-chain-bench`.

use std::net::SocketAddr;
use std::path::PathBuf;

/// What to run, and against what.
pub struct Options {
    /// How many agents.
    pub agents: usize,
    /// Over how many driver instances.
    pub drivers: usize,
    /// Inbound calls placed per second.
    pub rate: f64,
    /// For how long calls are placed.
    pub seconds: f64,
    /// How long an answered call lasts before the agent releases it.
    pub hold_ms: u64,
    /// finesse-sim's base URL (`http://IP:PORT`).
    pub finesse: String,
    /// finesse-sim's publish log (`FINESSE_SIM_PUBLISH_LOG`).
    pub publish_log: Option<PathBuf>,
    /// Where to write each dialog callback's arrival (`DIALOG<TAB>EVENT<TAB>MICROS`), to
    /// line up with a packet capture or the publish log.
    pub trace: Option<PathBuf>,
    /// The DEF file and its profile.
    pub def: PathBuf,
    /// The DEF profile.
    pub profile: String,
    /// The broker (STOMP or STOMP over TLS).
    pub broker: SocketAddr,
    /// The drivers' broker login (empty: none) and password (from `BENCH_DRIVER_PASSWORD`,
    /// never the command line).
    pub login: (String, String),
    /// The CA file of the broker's certificate: TLS when given.
    pub ca_file: Option<PathBuf>,
    /// The secure-password key file (`Driver:SecureKeyFile`); `None`: passwords in clear.
    pub secure_key_file: Option<PathBuf>,
    /// The connector's request queue.
    pub queue: String,
    /// The first agent id (the others follow); passwords are `pw-<id>`.
    pub first_agent: u64,
    /// The XMPP server's client port: the bench waits for the connector's notification
    /// sessions there before it places calls.
    pub xmpp_port: Option<u16>,
    /// Logins and Ready go this many agents at a time, each wave after the previous one's
    /// events (0: all at once).
    pub wave: usize,
    /// The drivers' log file.
    pub log_file: Option<PathBuf>,
    /// Processes whose CPU is reported: (name, pid); the one named `connector` also gets its
    /// peak memory and threads.
    pub watch: Vec<(String, u32)>,
}

/// The usage text.
pub const USAGE: &str = "usage: scs-chain-bench --finesse URL --queue QUEUE [--agents N] \
[--drivers K] [--rate CALLS_PER_S] [--seconds S] [--hold-ms MS] [--publish-log FILE] [--trace FILE] \
[--def FILE] [--profile NAME] [--broker IP:PORT] [--broker-login USER (password in BENCH_DRIVER_PASSWORD)] \
[--ca-file PEM] [--secure-key-file FILE] [--first-agent ID] [--log-file FILE] [--xmpp-port PORT] [--wave AGENTS] [--watch NAME=PID]...";

impl Options {
    /// Parses `args` (without the program name).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
        let mut o = Options {
            agents: 2000,
            drivers: 4,
            rate: 50.0,
            seconds: 20.0,
            hold_ms: 0,
            finesse: String::new(),
            publish_log: None,
            trace: None,
            def: PathBuf::from("def-templates/ucce.def"),
            profile: "Cisco UCCE".into(),
            broker: "127.0.0.1:61613".parse().expect("a valid address"),
            login: (String::new(), String::new()),
            ca_file: None,
            secure_key_file: None,
            queue: String::new(),
            first_agent: 3_000_000,
            log_file: None,
            wave: 0,
            xmpp_port: None,
            watch: Vec::new(),
        };
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or(format!("{flag} needs a value"));
            let number = |v: String| {
                v.parse::<f64>()
                    .map_err(|_| format!("{flag}: {v:?} is not a number"))
            };
            match flag.as_str() {
                "--agents" => o.agents = number(value()?)? as usize,
                "--drivers" => o.drivers = number(value()?)? as usize,
                "--rate" => o.rate = number(value()?)?,
                "--seconds" => o.seconds = number(value()?)?,
                "--hold-ms" => o.hold_ms = number(value()?)? as u64,
                "--first-agent" => o.first_agent = number(value()?)? as u64,
                "--finesse" => o.finesse = value()?.trim_end_matches('/').to_string(),
                "--publish-log" => o.publish_log = Some(value()?.into()),
                "--trace" => o.trace = Some(value()?.into()),
                "--def" => o.def = value()?.into(),
                "--profile" => o.profile = value()?,
                "--broker" => {
                    let v = value()?;
                    o.broker = v
                        .parse()
                        .map_err(|_| format!("--broker: {v:?} is not IP:PORT"))?;
                }
                "--broker-login" => o.login.0 = value()?,
                "--ca-file" => {
                    o.ca_file =
                        Some(value()?.into()).filter(|p: &PathBuf| !p.as_os_str().is_empty())
                }
                "--secure-key-file" => o.secure_key_file = Some(value()?.into()),
                "--queue" => o.queue = value()?,
                "--log-file" => o.log_file = Some(value()?.into()),
                "--wave" => o.wave = number(value()?)? as usize,
                "--xmpp-port" => o.xmpp_port = Some(number(value()?)? as u16),
                "--watch" => {
                    let v = value()?;
                    let (name, pid) = v
                        .split_once('=')
                        .ok_or(format!("--watch {v:?}: NAME=PID"))?;
                    let pid = pid
                        .parse()
                        .map_err(|_| format!("--watch {v:?}: PID is not a number"))?;
                    o.watch.push((name.to_string(), pid));
                }
                "-h" | "--help" => return Err(USAGE.into()),
                other => return Err(format!("unknown option {other}\n{USAGE}")),
            }
        }
        if !o.login.0.is_empty() {
            o.login.1 = std::env::var("BENCH_DRIVER_PASSWORD").unwrap_or_default();
        }
        if o.finesse.is_empty() || o.queue.is_empty() {
            return Err(format!("--finesse and --queue are required\n{USAGE}"));
        }
        if o.agents == 0 || o.drivers == 0 || o.rate <= 0.0 {
            return Err("--agents, --drivers and --rate must be above zero".into());
        }
        o.drivers = o.drivers.min(o.agents);
        Ok(o)
    }

    /// Agent `i`'s id.
    pub fn agent_id(&self, i: usize) -> String {
        (self.first_agent + i as u64).to_string()
    }

    /// The driver parameters of driver instance `d`.
    pub fn driver_params(&self, d: usize) -> Vec<(String, String)> {
        let mut p = vec![
            (
                "Driver:BrokerHost".to_string(),
                self.broker.ip().to_string(),
            ),
            (
                "Driver:BrokerPort".to_string(),
                self.broker.port().to_string(),
            ),
            ("Driver:RequestQueue".to_string(), self.queue.clone()),
            ("Driver:LogLevel".to_string(), "warn".to_string()),
        ];
        let (login, password) = &self.login;
        let client = format!("bench-{}-{d}", std::process::id());
        if login.is_empty() {
            p.push(("Driver:ClientId".into(), client));
        } else {
            // A closed broker grants each driver login the client ids "<login>.*".
            p.push(("Driver:BrokerLogin".into(), login.clone()));
            p.push(("Driver:BrokerPassword".into(), password.clone()));
            p.push(("Driver:ClientId".into(), format!("{login}.{client}")));
        }
        // TLS and secure passwords said explicitly either way (the DEF templates may ask
        // for both).
        match &self.ca_file {
            Some(ca) => {
                p.push(("Driver:BrokerTls".into(), "TRUE".into()));
                p.push(("Driver:BrokerCaFile".into(), ca.display().to_string()));
            }
            None => p.push(("Driver:BrokerTls".into(), "FALSE".into())),
        }
        match &self.secure_key_file {
            Some(key) => {
                p.push(("Driver:UseSecurePassword".into(), "TRUE".into()));
                p.push(("Driver:SecureKeyFile".into(), key.display().to_string()));
            }
            None => p.push(("Driver:UseSecurePassword".into(), "FALSE".into())),
        }
        if let Some(f) = &self.log_file {
            p.push(("Driver:LogFile".into(), f.display().to_string()));
        }
        p
    }
}
