//! The fixture: a simulator with fresh agents and their XMPP sessions, a minimal HTTP
//! client, and readers for the notifications' XML.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use finesse_sim::xml;
use finesse_sim::xmpp::{pubsub_event, XmppClient};
use finesse_sim::{AgentConfig, Deployment, FinesseSim, ReasonCode, SimConfig, WrapUpReason};

const WAIT: Duration = Duration::from_secs(5);

pub(crate) fn xmpp_addr() -> SocketAddr {
    std::env::var("SIEBEL_CTI_TEST_XMPP")
        .unwrap_or_else(|_| "127.0.0.1:5222".into())
        .parse()
        .expect("SIEBEL_CTI_TEST_XMPP is HOST:PORT")
}

fn unique_id() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    format!(
        "t{}x{}x{}",
        std::process::id(),
        millis % 100_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// One agent's desktop: its REST credentials and its own XMPP session.
pub(crate) struct Desk {
    base: String,
    pub(crate) agent: AgentConfig,
    xmpp: XmppClient,
}

/// A simulator and the desk of its first agent (`others`: the desks of the other agents).
pub(crate) struct Fixture {
    pub(crate) sim: FinesseSim,
    desk: Desk,
    pub(crate) others: Vec<Desk>,
}

impl std::ops::Deref for Fixture {
    type Target = Desk;
    fn deref(&self) -> &Desk {
        &self.desk
    }
}

impl std::ops::DerefMut for Fixture {
    fn deref_mut(&mut self) -> &mut Desk {
        &mut self.desk
    }
}

fn reason(id: &str, code: &str, label: &str, category: &str) -> ReasonCode {
    ReasonCode {
        id: id.into(),
        code: code.into(),
        label: label.into(),
        category: category.into(),
    }
}

/// A simulator with one fresh agent, and that agent's XMPP session (logged in as the agent only).
pub(crate) fn fixture(deployment: Deployment) -> Fixture {
    fixture_with(deployment, 1)
}

/// A simulator with `n` fresh agents (usual extensions 5001, 5002, …), each with its XMPP session.
pub(crate) fn fixture_with(deployment: Deployment, n: usize) -> Fixture {
    let agents: Vec<AgentConfig> = (0..n)
        .map(|i| {
            let id = unique_id();
            AgentConfig {
                id: id.clone(),
                password: format!("pw-{id}"),
                first_name: "Test".into(),
                last_name: "Agent".into(),
                extension: format!("{}", 5001 + i),
                team_id: "1".into(),
                team_name: "Team".into(),
            }
        })
        .collect();
    let config = SimConfig {
        http: "127.0.0.1:0".parse().unwrap(),
        deployment,
        xmpp: xmpp_addr(),
        xmpp_domain: "finesse.local".into(),
        pubsub_domain: "pubsub.finesse.local".into(),
        admin_user: "finesse-admin".into(),
        admin_password: "finesse-admin-pw".into(),
        finesse_version: "12.5(1)".into(),
        secondary_host: String::new(),
        agents: agents.clone(),
        not_ready_reasons: vec![reason("11", "10", "Break", "NOT_READY")],
        logout_reasons: vec![reason("21", "30", "End of shift", "LOGOUT")],
        wrap_up_reasons: vec![WrapUpReason {
            id: "31".into(),
            label: "Sale".into(),
        }],
    };
    let sim = FinesseSim::start(config)
        .expect("finesse-sim starts (is Prosody running? scripts/prosody.sh start)");
    let mut desks = agents.into_iter().map(|agent| {
        let xmpp = XmppClient::login(
            xmpp_addr(),
            "finesse.local",
            &agent.id,
            &agent.password,
            "desktop",
            WAIT,
        )
        .expect("agent logs in to XMPP");
        Desk {
            base: sim.base_url(),
            agent,
            xmpp,
        }
    });
    let desk = desks.next().expect("at least one agent");
    let others = desks.collect();
    Fixture { sim, desk, others }
}

pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) head: String,
}

/// A minimal HTTP/1.1 client (one request per connection).
pub(crate) fn http(
    base: &str,
    method: &str,
    path: &str,
    auth: Option<(&str, &str)>,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some((u, p)) = auth {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
        req.push_str(&format!("Authorization: Basic {token}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Response {
        status,
        body: body.to_string(),
        head: head.to_string(),
    }
}

impl Desk {
    pub(crate) fn rest(&self, method: &str, path: &str, body: &str, request_id: &str) -> Response {
        let headers: Vec<(&str, &str)> = if request_id.is_empty() {
            vec![]
        } else {
            vec![("requestId", request_id)]
        };
        let auth = Some((self.agent.id.as_str(), self.agent.password.as_str()));
        http(
            &self.base,
            method,
            &format!("/finesse/api{path}"),
            auth,
            &headers,
            body,
        )
    }

    pub(crate) fn admin(&self, method: &str, path: &str, body: &str) -> Response {
        http(
            &self.base,
            method,
            &format!("/admin{path}"),
            None,
            &[("Content-Type", "application/json")],
            body,
        )
    }

    pub(crate) fn put_state(&self, state_xml: &str, request_id: &str) -> Response {
        self.rest(
            "PUT",
            &format!("/User/{}", self.agent.id),
            &format!("<User>{state_xml}</User>"),
            request_id,
        )
    }

    /// Logs the agent in on `extension` and makes it READY, waiting for the READY update.
    pub(crate) fn log_in_ready(&mut self, extension: &str) {
        let login = format!("<state>LOGIN</state><extension>{extension}</extension>");
        self.put_state(&login, "");
        self.put_state("<state>READY</state>", "");
        self.update("", |u| user_state(u) == "READY");
    }

    /// Routes a call to the agent through the admin API; `call` holds the JSON members after
    /// `"to"` (`"ani":"…",…`). Returns the new dialog's id.
    pub(crate) fn offer_call(&self, call: &str) -> String {
        let body = format!(r#"{{"to":"{}",{call}}}"#, self.agent.id);
        let r = self.admin("POST", "/calls", &body);
        assert_eq!(r.status, 200, "{}", r.body);
        dialog_id_of(&r)
    }

    /// Answers `dialog_id` on `extension` with `request_id` (`""`: none); asserts the request
    /// is accepted (202).
    pub(crate) fn answer(&self, dialog_id: &str, extension: &str, request_id: &str) {
        let body = format!(
            "<Dialog><requestedAction>ANSWER</requestedAction><targetMediaAddress>{extension}</targetMediaAddress></Dialog>"
        );
        self.put_dialog(dialog_id, &body, request_id);
    }

    /// PUTs the `<Dialog>` request `dialog_xml` on `dialog_id` with `request_id` (`""`: none);
    /// asserts the request is accepted (202).
    pub(crate) fn put_dialog(&self, dialog_id: &str, dialog_xml: &str, request_id: &str) {
        let r = self.rest(
            "PUT",
            &format!("/Dialog/{dialog_id}"),
            dialog_xml,
            request_id,
        );
        assert_eq!(r.status, 202, "{}", r.body);
    }

    /// Waits for the next `<Update>` on the agent's node (`""` user node, `"/Dialogs"`)
    /// that satisfies `want`; returns it parsed.
    pub(crate) fn update(
        &mut self,
        node_suffix: &str,
        want: impl Fn(&xml::Element) -> bool,
    ) -> xml::Element {
        let node = format!("/finesse/api/User/{}{node_suffix}", self.agent.id);
        let deadline = Instant::now() + WAIT;
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            let Some(stanza) = self.xmpp.next_stanza(deadline - Instant::now()).unwrap() else {
                break;
            };
            let Some(event) = pubsub_event(&stanza) else {
                continue;
            };
            for payload in event.payloads {
                let update = xml::parse(&payload).expect("the notification is an XML Update");
                if event.node == node && want(&update) {
                    return update;
                }
                seen.push(payload);
            }
        }
        panic!("no matching update on {node}; seen: {seen:#?}");
    }
}

pub(crate) fn text(e: &xml::Element, path: &str) -> String {
    e.find(path)
        .map(|c| c.text().trim().to_string())
        .unwrap_or_default()
}

pub(crate) fn user_state(update: &xml::Element) -> String {
    text(update, "data/user/state")
}

pub(crate) fn dialog_id_of(r: &Response) -> String {
    serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["dialogId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// (name, value) of the call variables of the dialog at `path` (`data/dialog`, …).
pub(crate) fn call_variables(u: &xml::Element, path: &str) -> Vec<(String, String)> {
    u.find(&format!("{path}/mediaProperties/callvariables"))
        .map(|vars| {
            vars.elements()
                .map(|v| (text(v, "name"), text(v, "value")))
                .collect()
        })
        .unwrap_or_default()
}

/// (mediaAddress, state) of the participants of the dialog at `path`.
pub(crate) fn participants(u: &xml::Element, path: &str) -> Vec<(String, String)> {
    u.find(&format!("{path}/participants"))
        .map(|ps| {
            ps.elements()
                .map(|p| (text(p, "mediaAddress"), text(p, "state")))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn actions(u: &xml::Element, path: &str) -> Vec<String> {
    u.find(&format!("{path}/participants/Participant/actions"))
        .map(|a| a.elements().map(|a| a.text()).collect())
        .unwrap_or_default()
}
