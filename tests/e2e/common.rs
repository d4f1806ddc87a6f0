//! Shared test fixtures: the broker and how to reach it (closed, TLS), the loaded library, unique names, the scripted
//! peer, `wait_until` for states that are polled, and a TCP proxy that plays "broker down /
//! broker back".

use std::collections::HashMap;
use std::fmt::Debug;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use driver::stomp::{Connection, StompError};
use scs_sim::library::{default_library_path, Library};
use scs_sim::peer::{PeerAccess, PeerAgent, ScriptedPeer};
use scs_sim::server::AgentLogin;
use scs_sim::{Call, CommServer};

/// SC_CF_NOTSUPPORTED.
pub const NS: i64 = 1;
/// SC_CF_DISABLED.
pub const D: i64 = 2;
/// SC_CF_CHECKED.
pub const C: i64 = 4;
/// SC_CF_BLINK.
pub const B: i64 = 8;
/// SC_CF_NOPARAMSOK.
pub const N: i64 = 16;
/// SC_CF_STRPARAMSOK.
pub const S: i64 = 32;

/// How long a test waits for an expected callback.
pub const WAIT: Duration = Duration::from_secs(10);

/// How long a test waits for a state it polls over HTTP (the monitor console, finesse-sim's
/// admin API): each try is a request, so twice [`WAIT`].
pub const WAIT_HTTP: Duration = Duration::from_secs(20);

/// How often [`wait_until`] tries again.
const POLL: Duration = Duration::from_millis(20);

/// Tries `f` every few milliseconds until it returns `Ok`, and returns that value. Once
/// `timeout` has passed (and one last try failed) it panics, naming `what`, the timeout and
/// the last `Err`: what was seen instead.
pub fn wait_until<T, E: Debug>(
    what: &str,
    timeout: Duration,
    mut f: impl FnMut() -> Result<T, E>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let seen = match f() {
            Ok(v) => return v,
            Err(seen) => seen,
        };
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}; last seen: {seen:#?}");
        }
        std::thread::sleep(POLL);
    }
}

/// The suite's broker: `SIEBEL_CTI_TEST_BROKER` (default 127.0.0.1:61612, the STOMP over TLS
/// port of the closed broker `scripts/test.sh` starts).
pub fn broker() -> SocketAddr {
    std::env::var("SIEBEL_CTI_TEST_BROKER")
        .unwrap_or_else(|_| "127.0.0.1:61612".into())
        .parse()
        .expect("SIEBEL_CTI_TEST_BROKER is HOST:PORT with an IP address")
}

/// `SIEBEL_CTI_TEST_OPEN=1`: the suite's broker and Prosody are open and plain (a broker
/// started without `ACTIVEMQ_AUTH`, for a quick run by hand); otherwise closed, over TLS.
pub fn open_services() -> bool {
    std::env::var("SIEBEL_CTI_TEST_OPEN").is_ok_and(|v| v == "1")
}

/// A file of the test CA folder (`scripts/certs.sh`): `target/certs/<name>`, or the variable
/// `var` when set; `None` when the variable says `none` (or, for a TLS file, with the open
/// services).
fn test_file(var: &str, name: &str, tls: bool) -> Option<PathBuf> {
    match std::env::var(var) {
        Ok(v) if v == "none" => None,
        Ok(v) => Some(PathBuf::from(v)),
        Err(_) if tls && open_services() => None,
        Err(_) => Some(repo().join("target/certs").join(name)),
    }
}

/// The CA file the suite's broker and Prosody certificates are checked against
/// (`SIEBEL_CTI_TEST_CA`, default `target/certs/ca.pem`; `none`: plain STOMP).
pub fn test_ca() -> Option<PathBuf> {
    test_file("SIEBEL_CTI_TEST_CA", "ca.pem", true)
}

/// `login:password` from `var`, else `default` (nothing with the open services).
fn credentials(var: &str, default: &str) -> (String, String) {
    let v = std::env::var(var)
        .unwrap_or_else(|_| if open_services() { "" } else { default }.to_string());
    let (login, password) = v.split_once(':').unwrap_or((v.as_str(), ""));
    (login.to_string(), password.to_string())
}

/// How a test's connector and drivers reach a broker: the address, the credentials of each
/// side, TLS (the CA file the broker's certificate is checked against), the prefix of the
/// request queues (a closed broker grants them by name, `scripts/activemq.sh`) and the
/// secure-password key both sides share.
#[derive(Clone, Debug)]
pub struct BrokerAccess {
    /// The STOMP (or STOMP over TLS) address.
    pub addr: SocketAddr,
    /// TLS with this CA file; `None`: plain STOMP.
    pub ca_file: Option<PathBuf>,
    /// The connector's login and password (empty: none).
    pub connector: (String, String),
    /// The drivers' login and password (empty: none); their client ids start with
    /// "<login>." (their queue namespace).
    pub driver: (String, String),
    /// Request queues are `/queue/<prefix>-<unique>`.
    pub queue_prefix: String,
    /// The secure-password key file (`Driver:SecureKeyFile`, the connector's
    /// `security.des_key`); `None`: passwords in clear.
    pub secure_key_file: Option<PathBuf>,
}

impl BrokerAccess {
    /// The suite's broker ([`broker`]) as `scripts/test.sh` starts it: closed, STOMP over TLS
    /// checked against [`test_ca`], the credentials `SIEBEL_CTI_TEST_CONNECTOR` and
    /// `SIEBEL_CTI_TEST_DRIVER` (`login:password`, defaults those of `scripts/activemq.sh`),
    /// secure passwords with `SIEBEL_CTI_TEST_SECURE_KEY` (default `target/certs/secure.key`).
    pub fn shared() -> BrokerAccess {
        BrokerAccess {
            addr: broker(),
            ca_file: test_ca(),
            connector: credentials("SIEBEL_CTI_TEST_CONNECTOR", "connector:connector-secret"),
            driver: credentials("SIEBEL_CTI_TEST_DRIVER", "siebel:siebel-secret"),
            queue_prefix: "siebelcti.requests.e2e".into(),
            secure_key_file: test_file("SIEBEL_CTI_TEST_SECURE_KEY", "secure.key", false),
        }
    }

    /// Plain STOMP without credentials to `addr`: a stand-in broker of a test (the only
    /// plain, open access of the suite).
    pub fn plain(addr: SocketAddr) -> BrokerAccess {
        BrokerAccess {
            addr,
            ca_file: None,
            connector: (String::new(), String::new()),
            driver: (String::new(), String::new()),
            ..BrokerAccess::shared()
        }
    }

    /// The same access through another address (a proxy in front of the broker).
    pub fn via(&self, addr: SocketAddr) -> BrokerAccess {
        BrokerAccess {
            addr,
            ..self.clone()
        }
    }

    /// A client id of its own starting with `name`, in the driver login's namespace.
    pub fn client_id(&self, name: &str) -> String {
        match self.driver.0.as_str() {
            "" => unique(name),
            login => unique(&format!("{login}.{name}")),
        }
    }

    /// A queue of its own in the driver login's namespace (what a client with the drivers'
    /// credentials may read: replies to its requests).
    pub fn reply_queue(&self, name: &str) -> String {
        driver::protocol::driver_queue(&self.client_id(name))
    }

    /// A request queue of its own.
    pub fn queue(&self) -> String {
        format!("/queue/{}", unique(&self.queue_prefix))
    }

    /// The driver parameters of [`isolated`] plus the credentials, TLS, a client id in
    /// the driver login's namespace and the secure-password key.
    pub fn driver_params(&self, queue: &str) -> Vec<(String, String)> {
        let mut p = isolated(self.addr, queue);
        let (login, password) = &self.driver;
        if !login.is_empty() {
            p.push(("Driver:BrokerLogin".into(), login.clone()));
            p.push(("Driver:BrokerPassword".into(), password.clone()));
            p.push(("Driver:ClientId".into(), self.client_id("siebel")));
        }
        match &self.ca_file {
            Some(ca) => {
                p.push(("Driver:BrokerTls".into(), "TRUE".into()));
                p.push(("Driver:BrokerCaFile".into(), ca.display().to_string()));
            }
            // Plain STOMP, asked for explicitly (the DEF templates ask for TLS).
            None => p.push(("Driver:BrokerTls".into(), "FALSE".into())),
        }
        match &self.secure_key_file {
            Some(key) => p.push(("Driver:SecureKeyFile".into(), key.display().to_string())),
            None => p.push(("Driver:UseSecurePassword".into(), "FALSE".into())),
        }
        p
    }

    /// The connector's `[broker]` keys (without the section line) for `queue`.
    pub fn connector_toml(&self, queue: &str) -> String {
        let mut t = format!(
            "host = \"{}\"\nport = {}\nrequest_queue = \"{queue}\"\nheartbeat_ms = 1000\n",
            self.addr.ip(),
            self.addr.port()
        );
        let (login, password) = &self.connector;
        if !login.is_empty() {
            t += &format!("login = \"{login}\"\npassword = \"{password}\"\n");
        }
        if let Some(ca) = &self.ca_file {
            t += &format!("tls = true\nca_file = \"{}\"\n", ca.display());
        }
        t
    }

    /// The connector's `[security]` section (with its line): the drivers' key, or nothing.
    pub fn security_toml(&self) -> String {
        self.secure_key().map_or_else(String::new, |key| {
            format!("[security]\ndes_key = \"{key}\"\n")
        })
    }

    /// The secure-password key (48 hex digits), if any.
    pub fn secure_key(&self) -> Option<String> {
        self.secure_key_file.as_ref().map(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_else(|e| panic!("{}: {e} (run scripts/certs.sh)", f.display()))
                .trim()
                .to_string()
        })
    }

    /// A STOMP client logged in as `who` (login, password), over TLS when this access is.
    pub fn client(&self, who: (&str, &str)) -> Result<Connection, StompError> {
        PeerAccess {
            login: who.0.into(),
            password: who.1.into(),
            ca_file: self.ca_file.clone(),
            secure: None,
        }
        .connect(self.addr)
    }

    /// A client with the drivers' credentials (what a stolen Siebel server login can do).
    pub fn driver_client(&self) -> Connection {
        self.client((&self.driver.0, &self.driver.1))
            .expect("the drivers' credentials get in")
    }

    /// A client with the connector's credentials.
    pub fn connector_client(&self) -> Connection {
        self.client((&self.connector.0, &self.connector.1))
            .expect("the connector's credentials get in")
    }

    /// What the scripted peer (a connector's stand-in) needs.
    pub fn peer_access(&self) -> PeerAccess {
        PeerAccess {
            login: self.connector.0.clone(),
            password: self.connector.1.clone(),
            ca_file: self.ca_file.clone(),
            secure: self.secure_key().map(|k| {
                driver::secure::TripleDes::from_hex("secure.key", &k, "", "")
                    .expect("the test secure key is usable")
            }),
        }
    }
}

/// The driver library, loaded once per test process (as Siebel loads it once). `cargo test`
/// does not build it: `cargo build -p siebel-cti` (or `--workspace`) first.
pub fn library() -> Arc<Library> {
    static LIB: OnceLock<Arc<Library>> = OnceLock::new();
    LIB.get_or_init(|| {
        let path = default_library_path();
        Arc::new(
            Library::load(&path).unwrap_or_else(|e| {
                panic!("{e} (build the library first: cargo build -p siebel-cti)")
            }),
        )
    })
    .clone()
}

/// A name unique to this test run (queues, client ids).
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The driver log of this test process (the first driver instance opens it).
pub fn log_file() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("driver-{}.log", std::process::id()))
}

/// Runs `scripts/activemq.sh <cmd>` for a broker of a test's own (its `ACTIVEMQ_BASE`,
/// ports and users in `env`, a small heap); panics with the script's output on failure.
pub fn activemq_script(cmd: &str, env: &[(&str, String)]) {
    let out = std::process::Command::new("bash")
        .arg(repo().join("scripts/activemq.sh"))
        .arg(cmd)
        .env("ACTIVEMQ_JAVA_OPTS", "-Xms32M -Xmx160M")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("bash runs scripts/activemq.sh");
    assert!(
        out.status.success(),
        "scripts/activemq.sh {cmd}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The repository root (this package is its `tests/` folder).
pub fn repo() -> PathBuf {
    let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    tests
        .parent()
        .expect("tests/ is inside the repository")
        .to_path_buf()
}

/// A DEF template of the repository.
pub fn template(name: &str) -> scs_sim::def::Def {
    CommServer::read_def(&repo().join("def-templates").join(name)).unwrap()
}

/// Agent 1001 (Ann Lee, password "secret") of the scripted peer.
pub fn agents() -> HashMap<String, PeerAgent> {
    let mut m = HashMap::new();
    for (id, pw, first, last) in [
        ("1001", "secret", "Ann", "Lee"),
        ("1002", "pw2", "Bo", "Kim"),
    ] {
        m.insert(
            id.to_string(),
            PeerAgent {
                password: pw.into(),
                first_name: first.into(),
                last_name: last.into(),
            },
        );
    }
    m
}

/// Login data for an agent.
pub fn login(agent: &str, pin: &str, dn: &str) -> AgentLogin {
    AgentLogin {
        user: format!("user{agent}"),
        agent_id: agent.into(),
        pin: pin.into(),
        dn: dn.into(),
        selected_text: String::new(),
    }
}

/// Driver parameter overrides giving the test its own queues and fast reconnects.
pub fn isolated(broker: SocketAddr, queue: &str) -> Vec<(String, String)> {
    vec![
        ("Driver:BrokerHost".into(), broker.ip().to_string()),
        ("Driver:BrokerPort".into(), broker.port().to_string()),
        ("Driver:RequestQueue".into(), queue.into()),
        ("Driver:ClientId".into(), unique("siebel")),
        ("Driver:ReconnectMinMs".into(), "100".into()),
        ("Driver:ReconnectMaxMs".into(), "400".into()),
        ("Driver:HeartbeatMs".into(), "1000".into()),
        ("Driver:LogLevel".into(), "debug".into()),
        ("Driver:LogFile".into(), log_file().display().to_string()),
    ]
}

/// The three driver parameters of a bare driver instance: `key` = `value`, a unique client
/// id starting with `client` and the test log file.
pub fn bare_params(key: &str, value: String, client: &str) -> Vec<(String, String)> {
    vec![
        (key.to_string(), value),
        ("Driver:ClientId".to_string(), unique(client)),
        (
            "Driver:LogFile".to_string(),
            log_file().display().to_string(),
        ),
    ]
}

/// The Siebel side of a DEF template ("ucce.def" or "uccx.def", with its profile) in
/// language `lang`, with these driver parameters.
pub fn siebel_with(def: &str, lang: &str, params: &[(String, String)]) -> CommServer {
    let profile = match def {
        "uccx.def" => "Cisco UCCX",
        _ => "Cisco UCCE",
    };
    CommServer::from_def(library(), template(def), profile, lang, params).unwrap()
}

/// The Siebel side of a DEF template in language `lang`, isolated on the request `queue` of
/// the suite's broker.
pub fn siebel(def: &str, lang: &str, queue: &str) -> CommServer {
    siebel_with(def, lang, &BrokerAccess::shared().driver_params(queue))
}

/// A scripted peer and a UCCE Siebel side in language `lang` talking to it.
pub fn peer_server(lang: &str) -> (ScriptedPeer, CommServer) {
    let (p, queue) = peer();
    (p, siebel("ucce.def", lang, &queue))
}

/// A Siebel session with this login data, waiting for a status text containing `status`
/// (e.g. "CTI is available").
pub fn start_session(server: &CommServer, who: &AgentLogin, status: &str) -> scs_sim::Agent {
    let agent = server.request_service(who, &[], false).unwrap();
    wait_status(&agent.client, 0, status);
    agent
}

/// A scripted peer on its own request queue of the suite's broker; returns it and the queue.
pub fn peer() -> (ScriptedPeer, String) {
    let access = BrokerAccess::shared();
    let queue = access.queue();
    let p = ScriptedPeer::start_with(access.addr, &access.peer_access(), &queue, agents())
        .expect("the scripted peer reaches the broker");
    (p, queue)
}

/// Waits for a HandleEvent with this name.
pub fn wait_event(client: &scs_sim::Client, from: usize, name: &str) -> Call {
    client
        .wait_for(from, WAIT, |c| c.event_name() == Some(name))
        .unwrap_or_else(|| panic!("no {name}; calls: {:#?}", client.calls()))
}

/// Waits for a HandleError; returns its tracking id and text.
pub fn wait_error(client: &scs_sim::Client, from: usize) -> (Option<String>, String) {
    match client.wait_for(from, WAIT, |c| matches!(c, Call::HandleError { .. })) {
        Some(Call::HandleError { tracking_id, text }) => (tracking_id, text),
        _ => panic!("no HandleError: {:#?}", client.calls()),
    }
}

/// Invokes LogIn, which must return SC_EC_OK at once and then be refused with a HandleError
/// carrying its tracking id and `text`; returns the mark taken before the command.
pub fn login_refused(agent: &mut scs_sim::Agent, text: &str) -> usize {
    let c = agent.client.clone();
    let m = c.mark();
    let (rc, track) = agent.invoke("LogIn", "", &[]);
    assert_eq!(rc, 0);
    assert_eq!(wait_error(&c, m), (Some(track), text.into()));
    m
}

/// Whether this callback is the release of the work item `tracking`.
pub fn is_released(call: &Call, tracking: &str) -> bool {
    matches!(call, Call::WorkItemReleased { tracking_id, .. } if tracking_id == tracking)
}

/// The release of the work item `tracking` after `from`, if it comes within `WAIT`.
pub fn release_of(client: &scs_sim::Client, from: usize, tracking: &str) -> Option<Call> {
    client.wait_for(from, WAIT, |x| is_released(x, tracking))
}

/// Waits for the release of the work item `tracking`.
pub fn wait_released(client: &scs_sim::Client, from: usize, tracking: &str) -> Call {
    release_of(client, from, tracking)
        .unwrap_or_else(|| panic!("{tracking} not released: {:#?}", &client.calls()[from..]))
}

/// Whether no HandleEvent named `name` came after `from`.
pub fn no_event_since(client: &scs_sim::Client, from: usize, name: &str) -> bool {
    client.calls()[from..]
        .iter()
        .all(|c| c.event_name() != Some(name))
}

/// The flags of `command` on the last toolbar.
pub fn flags(client: &scs_sim::Client, command: &str) -> i64 {
    client
        .toolbar()
        .unwrap()
        .into_iter()
        .find(|t| t.0 == command)
        .unwrap()
        .2
}

/// Waits for a status text containing `needle`.
pub fn wait_status(client: &scs_sim::Client, from: usize, needle: &str) -> String {
    match client.wait_for(
        from,
        WAIT,
        |c| matches!(c, Call::ShowStatusText(t) if t.contains(needle)),
    ) {
        Some(Call::ShowStatusText(t)) => t,
        _ => panic!(
            "no status text with {needle:?}; calls: {:#?}",
            client.calls()
        ),
    }
}

/// Waits for a toolbar where `command` has exactly `flags`.
pub fn wait_toolbar(client: &scs_sim::Client, from: usize, command: &str, flags: i64) -> Call {
    client
        .wait_for(from, WAIT, |c| c.command_flags(command) == Some(flags))
        .unwrap_or_else(|| {
            panic!(
                "no toolbar with {command}={flags}; last toolbar: {:?}",
                client.toolbar()
            )
        })
}

/// A TCP proxy in front of the broker that can refuse connections (broker down) and cut
/// the ones it carries (broker crash).
pub struct Proxy {
    /// The address the driver connects to.
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
    listener: Mutex<Option<TcpListener>>,
}

impl Proxy {
    /// A proxy on a free port, initially down (nothing listens).
    pub fn new() -> Proxy {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        Proxy {
            addr,
            up: Arc::new(AtomicBool::new(false)),
            conns: Arc::new(Mutex::new(Vec::new())),
            listener: Mutex::new(None),
        }
    }

    /// Starts listening and forwarding to the real broker.
    pub fn start(&self) {
        let l = TcpListener::bind(self.addr).unwrap();
        self.up.store(true, Ordering::Release);
        let (up, conns) = (self.up.clone(), self.conns.clone());
        let accept = l.try_clone().unwrap();
        *self.listener.lock().unwrap() = Some(l);
        std::thread::spawn(move || {
            for c in accept.incoming() {
                let Ok(client) = c else { break };
                if !up.load(Ordering::Acquire) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(broker()) else {
                    continue;
                };
                conns.lock().unwrap().push(client.try_clone().unwrap());
                conns.lock().unwrap().push(server.try_clone().unwrap());
                pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                pipe(server, client);
            }
        });
    }

    /// Cuts every carried connection and refuses new ones (the port stays bound).
    pub fn crash(&self) {
        self.up.store(false, Ordering::Release);
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }

    /// Accepts and forwards again after `crash`.
    pub fn recover(&self) {
        self.up.store(true, Ordering::Release);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}
