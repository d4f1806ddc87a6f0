//! The whole chain in one test process: finesse-sim (REST + Prosody XMPP), the connector,
//! and scs-sim driving the real library, all through the real ActiveMQ.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use connector::{Connector, ConnectorConfig};
use finesse_sim::{AgentConfig, Deployment, FinesseSim, ReasonCode, SimConfig, WrapUpReason};
use scs_sim::CommServer;
use serde_json::json;

use crate::common::*;

/// The XMPP server finesse-sim publishes through.
pub fn xmpp() -> SocketAddr {
    std::env::var("SIEBEL_CTI_TEST_XMPP")
        .unwrap_or_else(|_| "127.0.0.1:5222".into())
        .parse()
        .expect("SIEBEL_CTI_TEST_XMPP is IP:PORT")
}

/// The connector's `[finesse]` XMPP keys for the suite's Prosody: its port, and STARTTLS
/// with the certificate checked against the test CA (`SIEBEL_CTI_TEST_XMPP_TLS`: `starttls`
/// by default, `tls` for direct TLS on the port given, `plain` for a Prosody without TLS).
/// finesse-sim itself (Finesse's own notification link, on its node) stays plain.
pub fn xmpp_toml() -> String {
    let port = xmpp().port();
    let tls = std::env::var("SIEBEL_CTI_TEST_XMPP_TLS")
        .unwrap_or_else(|_| if open_services() { "plain" } else { "starttls" }.to_string());
    match test_ca() {
        Some(ca) if tls != "plain" => format!(
            "xmpp_port = {port}\nxmpp_tls = \"{tls}\"\nca_file = \"{}\"\n",
            ca.display()
        ),
        _ => format!("xmpp_port = {port}\nxmpp_tls = \"plain\"\n"),
    }
}

/// A fresh numeric agent id, unique in this run (several sims share one Prosody).
pub fn agent_id() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "7{:05}{:02}",
        std::process::id() % 100_000,
        N.fetch_add(1, Ordering::Relaxed) % 100
    )
}

/// One agent of a chain.
#[derive(Clone, Debug)]
pub struct TestAgent {
    /// Agent id.
    pub id: String,
    /// Password.
    pub password: String,
    /// Extension.
    pub extension: String,
}

/// `n` agents with fresh ids, their passwords and extensions 5001, 5002...
pub fn test_agents(n: usize) -> Vec<TestAgent> {
    (0..n)
        .map(|i| {
            let id = agent_id();
            TestAgent {
                password: format!("pw-{id}"),
                extension: format!("5{:03}", i + 1),
                id,
            }
        })
        .collect()
}

/// A running chain.
pub struct Chain {
    /// The simulator.
    pub sim: Option<FinesseSim>,
    /// The connector.
    pub connector: Option<Connector>,
    /// The connector's configuration (to start it again).
    pub connector_config: ConnectorConfig,
    /// The Siebel side.
    pub server: CommServer,
    /// The agents the simulator knows.
    pub agents: Vec<TestAgent>,
    /// The secondary Finesse node, if any.
    pub secondary: Option<FinesseSim>,
}

/// Not Ready reason codes of the simulator.
pub fn not_ready_reasons() -> Vec<ReasonCode> {
    [("1", "11", "Break"), ("2", "12", "Lunch")]
        .into_iter()
        .map(|(id, code, label)| ReasonCode {
            id: id.into(),
            code: code.into(),
            label: label.into(),
            category: "NOT_READY".into(),
        })
        .collect()
}

/// The log of the connector and finesse-sim running in this test process (the driver logs
/// into its own file from inside the library).
pub fn connector_log() -> std::path::PathBuf {
    static INIT: std::sync::Once = std::sync::Once::new();
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("connector-{}.log", std::process::id()));
    INIT.call_once(|| {
        let file = std::fs::File::create(&path).unwrap();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init();
    });
    path
}

/// The Finesse release finesse-sim simulates unless a test names another.
const RELEASE: &str = "12.5(1)";

impl Chain {
    /// Starts a chain with `n` agents, the UCCE or UCCX rules and the matching DEF template.
    pub fn start(deployment: Deployment, n: usize) -> Chain {
        Chain::start_with(deployment, n, &[], "")
    }

    /// Like `start`, with extra driver parameters and extra connector TOML.
    pub fn start_with(
        deployment: Deployment,
        n: usize,
        driver_params: &[(&str, &str)],
        connector_toml: &str,
    ) -> Chain {
        Chain::build(
            deployment,
            n,
            driver_params,
            connector_toml,
            false,
            &BrokerAccess::shared(),
            RELEASE,
        )
    }

    /// Like `start_with` (without extra connector TOML), on the broker `access` describes
    /// (credentials, TLS).
    pub fn start_on(
        deployment: Deployment,
        n: usize,
        driver_params: &[(&str, &str)],
        access: &BrokerAccess,
    ) -> Chain {
        Chain::build(deployment, n, driver_params, "", false, access, RELEASE)
    }

    /// Like `start`, with finesse-sim simulating the Finesse `release` (e.g. `12.0(1)`).
    pub fn start_release(deployment: Deployment, n: usize, release: &str) -> Chain {
        let access = BrokerAccess::shared();
        Chain::build(deployment, n, &[], "", false, &access, release)
    }

    /// A chain whose connector knows a secondary Finesse node (a second simulator with the
    /// same agents).
    pub fn start_with_secondary(deployment: Deployment, n: usize) -> Chain {
        Chain::build(
            deployment,
            n,
            &[],
            "",
            true,
            &BrokerAccess::shared(),
            RELEASE,
        )
    }

    fn build(
        deployment: Deployment,
        n: usize,
        driver_params: &[(&str, &str)],
        connector_toml: &str,
        with_secondary: bool,
        access: &BrokerAccess,
        release: &str,
    ) -> Chain {
        connector_log();
        let agents = test_agents(n);
        let sim_config = SimConfig {
            http: "127.0.0.1:0".parse().unwrap(),
            deployment,
            xmpp: xmpp(),
            xmpp_domain: "finesse.local".into(),
            pubsub_domain: "pubsub.finesse.local".into(),
            admin_user: "finesse-admin".into(),
            admin_password: "finesse-admin-pw".into(),
            finesse_version: release.into(),
            secondary_host: String::new(),
            agents: agents
                .iter()
                .enumerate()
                .map(|(i, a)| AgentConfig {
                    id: a.id.clone(),
                    password: a.password.clone(),
                    first_name: ["Ann", "Bo", "Cy"][i % 3].into(),
                    last_name: ["Lee", "Kim", "Ng"][i % 3].into(),
                    extension: a.extension.clone(),
                    team_id: "1".into(),
                    team_name: "Sales".into(),
                })
                .collect(),
            not_ready_reasons: not_ready_reasons(),
            logout_reasons: vec![ReasonCode {
                id: "9".into(),
                code: "99".into(),
                label: "End of shift".into(),
                category: "LOGOUT".into(),
            }],
            wrap_up_reasons: vec![WrapUpReason {
                id: "1".into(),
                label: "Sale".into(),
            }],
        };
        let sim = FinesseSim::start(sim_config.clone())
            .expect("finesse-sim starts (is Prosody running? scripts/prosody.sh start)");
        let secondary = with_secondary.then(|| FinesseSim::start(sim_config.clone()).unwrap());
        let secondary_url = secondary.as_ref().map(|s| s.base_url()).unwrap_or_default();
        let queue = access.queue();
        // A test that brings its own secure-password key (or none) replaces the suite's.
        let own_key = driver_params
            .iter()
            .any(|(k, _)| k.starts_with("Driver:SecureKey") || *k == "Driver:UseSecurePassword");
        let security = if connector_toml.contains("[security]") {
            String::new()
        } else {
            access.security_toml()
        };
        let toml = format!(
            "[connector]\nname = \"{}\"\n[broker]\n{}\
             [finesse]\nprimary = \"{}\"\nsecondary = \"{secondary_url}\"\n{}poll_ms = 200\nrequest_timeout_ms = 2000\n[monitor]\nlisten = \"127.0.0.1:0\"\n{connector_toml}\n{security}",
            unique("connector"),
            access.connector_toml(&queue),
            sim.base_url(),
            xmpp_toml()
        );
        let connector_config = ConnectorConfig::from_toml(&toml, []).unwrap();
        let connector = Connector::start(connector_config.clone()).unwrap();
        let mut params = access.driver_params(&queue);
        if own_key {
            params.retain(|(k, _)| {
                !k.starts_with("Driver:SecureKey") && k != "Driver:UseSecurePassword"
            });
        }
        params.extend(
            driver_params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let server = siebel_with(def_name(deployment), "ENU", &params);
        Chain {
            sim: Some(sim),
            connector: Some(connector),
            connector_config,
            server,
            agents,
            secondary,
        }
    }

    /// The simulator.
    pub fn sim(&self) -> &FinesseSim {
        self.sim.as_ref().unwrap()
    }

    /// The monitor console's base URL.
    pub fn monitor(&self) -> String {
        format!(
            "http://{}",
            self.connector.as_ref().unwrap().monitor_addr().unwrap()
        )
    }

    /// A Siebel session for agent `i` with its login data, waiting until CTI is available.
    pub fn session(&self, i: usize) -> scs_sim::Agent {
        let a = &self.agents[i];
        start_session(
            &self.server,
            &login(&a.id, &a.password, &a.extension),
            "CTI is available",
        )
    }

    /// Stops the connector.
    pub fn stop_connector(&mut self) {
        if let Some(c) = self.connector.take() {
            c.stop();
        }
    }

    /// Starts the connector again with the same configuration.
    pub fn start_connector(&mut self) {
        self.connector = Some(Connector::start(self.connector_config.clone()).unwrap());
    }
}

/// The DEF template of a deployment.
pub fn def_name(deployment: Deployment) -> &'static str {
    match deployment {
        Deployment::Ucce => "ucce.def",
        Deployment::Uccx => "uccx.def",
    }
}

/// Logs a session's agent in (SignOnGroup) and, if `ready`, makes it Ready.
pub fn log_in(agent: &mut scs_sim::Agent, ready: bool) {
    let c = agent.client.clone();
    let m = c.mark();
    agent.run_command("SignOnGroup").unwrap();
    wait_event(&c, m, "EventAgentLogin");
    if ready {
        let m = c.mark();
        agent.run_command("Ready").unwrap();
        wait_event(&c, m, "EventAgentReady");
    }
}

/// A session for agent `i`, logged in and, if `ready`, Ready.
pub fn logged_in(chain: &Chain, i: usize, ready: bool) -> scs_sim::Agent {
    let mut agent = chain.session(i);
    log_in(&mut agent, ready);
    agent
}

/// Creates a call through the simulator's admin API; returns its dialog id.
pub fn new_call(sim: &FinesseSim, body: serde_json::Value) -> String {
    admin(sim, "/admin/calls", body)["dialogId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Rings agent `to` with a call from `ani` to 8001 (plus the `extra` call fields); returns
/// the dialog id.
pub fn place(sim: &FinesseSim, to: &str, ani: &str, extra: serde_json::Value) -> String {
    let mut body = json!({"to": to, "ani": ani, "dnis": "8001"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    new_call(sim, body)
}

/// The far end answers the call `dialog`.
pub fn far_end_answers(sim: &FinesseSim, dialog: &str) {
    admin(sim, &format!("/admin/calls/{dialog}/answer"), json!({}));
}

/// The far end hangs up the call `dialog`.
pub fn hang_up(sim: &FinesseSim, dialog: &str) {
    admin(sim, &format!("/admin/calls/{dialog}/hangup"), json!({}));
}

/// Rings agent `to` with a call from `ani`, answers it with AnswerCall and waits for
/// EventEstablished; returns the dialog id and the mark taken before the call was placed.
pub fn ring_and_answer(
    sim: &FinesseSim,
    agent: &mut scs_sim::Agent,
    to: &str,
    ani: &str,
) -> (String, usize) {
    let c = agent.client.clone();
    let m = c.mark();
    let dialog = place(sim, to, ani, json!({}));
    wait_event(&c, m, "EventRinging");
    let answered = c.mark();
    agent.invoke("AnswerCall", "", &[]);
    wait_event(&c, answered, "EventEstablished");
    (dialog, m)
}

/// Starts a consult call (`command` InitTransfer or InitConference) to `to`, lets the far
/// end answer and waits for its EventEstablished (all after `from`); returns the consult
/// dialog id.
pub fn start_consult(
    agent: &mut scs_sim::Agent,
    sim: &FinesseSim,
    from: usize,
    command: &str,
    to: &str,
) -> String {
    let c = agent.client.clone();
    agent.invoke(command, to, &[]);
    let consult = wait_event(&c, from, "EventDialing")
        .field("DialogId")
        .unwrap()
        .to_string();
    far_end_answers(sim, &consult);
    wait_event(&c, from, "EventEstablished");
    consult
}

/// POSTs JSON to the simulator's admin API; returns the JSON answer.
pub fn admin(sim: &FinesseSim, path: &str, body: serde_json::Value) -> serde_json::Value {
    let resp = ureq::post(&format!("{}{path}", sim.base_url()))
        .send_json(body)
        .unwrap_or_else(|e| panic!("admin {path}: {e}"));
    resp.into_json().unwrap_or(serde_json::Value::Null)
}

/// GETs a JSON document.
pub fn get_json(url: &str) -> serde_json::Value {
    ureq::get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .into_json()
        .unwrap()
}
