//! End-to-end tests of finesse-sim against the real Prosody (SIEBEL_CTI_TEST_XMPP, default
//! 127.0.0.1:5222; start it with scripts/prosody.sh start). Each test uses its own agent ids,
//! so the tests run in parallel against one Prosody.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use finesse_sim::xml;
use finesse_sim::xmpp::{pubsub_event, XmppClient};
use finesse_sim::{AgentConfig, Deployment, FinesseSim, ReasonCode, SimConfig, WrapUpReason};

const WAIT: Duration = Duration::from_secs(5);

fn xmpp_addr() -> SocketAddr {
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
struct Desk {
    base: String,
    agent: AgentConfig,
    xmpp: XmppClient,
}

/// A simulator and the desk of its first agent (`others`: the desks of the other agents).
struct Fixture {
    sim: FinesseSim,
    desk: Desk,
    others: Vec<Desk>,
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
fn fixture(deployment: Deployment) -> Fixture {
    fixture_with(deployment, 1)
}

/// A simulator with `n` fresh agents (usual extensions 5001, 5002, …), each with its XMPP session.
fn fixture_with(deployment: Deployment, n: usize) -> Fixture {
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

struct Response {
    status: u16,
    body: String,
    head: String,
}

/// A minimal HTTP/1.1 client (one request per connection).
fn http(
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
    fn rest(&self, method: &str, path: &str, body: &str, request_id: &str) -> Response {
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

    fn admin(&self, method: &str, path: &str, body: &str) -> Response {
        http(
            &self.base,
            method,
            &format!("/admin{path}"),
            None,
            &[("Content-Type", "application/json")],
            body,
        )
    }

    fn put_state(&self, state_xml: &str, request_id: &str) -> Response {
        self.rest(
            "PUT",
            &format!("/User/{}", self.agent.id),
            &format!("<User>{state_xml}</User>"),
            request_id,
        )
    }

    /// Waits for the next `<Update>` on the agent's node (`""` user node, `"/Dialogs"`)
    /// that satisfies `want`; returns it parsed.
    fn update(&mut self, node_suffix: &str, want: impl Fn(&xml::Element) -> bool) -> xml::Element {
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

fn text(e: &xml::Element, path: &str) -> String {
    e.find(path)
        .map(|c| c.text().trim().to_string())
        .unwrap_or_default()
}

fn user_state(update: &xml::Element) -> String {
    text(update, "data/user/state")
}

#[test]
fn agent_state_changes_are_notified_over_xmpp() {
    let mut f = fixture(Deployment::Ucce);
    let r = f.put_state(
        "<state>LOGIN</state><extension>5001</extension>",
        "req-login",
    );
    assert_eq!(r.status, 202, "{}", r.body);
    assert!(r.head.contains("requestId: req-login"), "{}", r.head);
    let u = f.update("", |u| user_state(u) == "NOT_READY");
    assert_eq!(text(&u, "event"), "PUT");
    assert_eq!(text(&u, "requestId"), "req-login");
    assert_eq!(
        text(&u, "source"),
        format!("/finesse/api/User/{}", f.agent.id)
    );
    assert_eq!(text(&u, "data/user/extension"), "5001");

    assert_eq!(f.put_state("<state>READY</state>", "r2").status, 202);
    f.update("", |u| {
        user_state(u) == "READY" && text(u, "requestId") == "r2"
    });

    assert_eq!(
        f.put_state(
            "<state>NOT_READY</state><reasonCodeId>11</reasonCodeId>",
            "r3"
        )
        .status,
        202
    );
    let u = f.update("", |u| {
        user_state(u) == "NOT_READY" && text(u, "requestId") == "r3"
    });
    assert_eq!(text(&u, "data/user/reasonCodeId"), "11");
    assert_eq!(text(&u, "data/user/reasonCode/label"), "Break");

    let user = f.rest("GET", &format!("/User/{}", f.agent.id), "", "");
    assert_eq!(user.status, 200);
    assert!(user.head.contains("application/xml"));
    assert_eq!(text(&xml::parse(&user.body).unwrap(), "state"), "NOT_READY");
    let codes = f.rest(
        "GET",
        &format!("/User/{}/ReasonCodes?category=LOGOUT", f.agent.id),
        "",
        "",
    );
    // Cisco's shape: a category attribute, no <id> (the id ends the uri).
    let codes = xml::parse(&codes.body).unwrap();
    assert_eq!(codes.attr("category"), Some("LOGOUT"));
    assert_eq!(text(&codes, "ReasonCode/label"), "End of shift");
    assert_eq!(text(&codes, "ReasonCode/category"), "LOGOUT");
    assert!(codes.find("ReasonCode/id").is_none());
    assert!(text(&codes, "ReasonCode/uri").starts_with("/finesse/api/ReasonCode/"));
    let wrap = f.rest(
        "GET",
        &format!("/User/{}/WrapUpReasons", f.agent.id),
        "",
        "",
    );
    let wrap = xml::parse(&wrap.body).unwrap();
    assert!(text(&wrap, "WrapUpReason/uri")
        .starts_with(&format!("/finesse/api/User/{}/WrapUpReason/", f.agent.id)));
    assert!(wrap.find("WrapUpReason/id").is_none());

    assert_eq!(
        f.put_state("<state>LOGOUT</state><reasonCodeId>21</reasonCodeId>", "r4")
            .status,
        202
    );
    f.update("", |u| {
        user_state(u) == "LOGOUT" && text(u, "requestId") == "r4"
    });
    f.sim.stop();
}

#[test]
fn bad_credentials_and_invalid_requests_are_refused() {
    let f = fixture(Deployment::Ucce);
    let base = f.sim.base_url();
    let path = format!("/finesse/api/User/{}", f.agent.id);
    let r = http(&base, "GET", &path, Some((&f.agent.id, "wrong")), &[], "");
    assert_eq!(r.status, 401);
    assert!(
        r.body.contains("<ApiErrors><ApiError>")
            && r.body.contains("<ErrorType>Unauthorized</ErrorType>"),
        "{}",
        r.body
    );
    assert_eq!(http(&base, "GET", &path, None, &[], "").status, 401);
    assert_eq!(f.rest("GET", "/User/someone-else", "", "").status, 401);

    let r = f.put_state("<state>READY</state>", "");
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("<ErrorType>Invalid State</ErrorType>"),
        "{}",
        r.body
    );
    let r = f.rest(
        "PUT",
        &format!("/User/{}", f.agent.id),
        "<User><state>LOGIN",
        "",
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("<ApiErrors>"), "{}", r.body);
    assert_eq!(
        f.put_state("<state>LOGIN</state>", "").status,
        400,
        "LOGIN needs an extension"
    );
    f.sim.stop();
}

#[test]
fn inbound_call_is_offered_answered_and_dropped() {
    let mut f = fixture(Deployment::Ucce);
    f.put_state("<state>LOGIN</state><extension>5001</extension>", "");
    f.put_state("<state>READY</state>", "");
    f.update("", |u| user_state(u) == "READY");

    let r = f.admin(
        "POST",
        "/calls",
        &format!(r#"{{"to":"{}","ani":"4085550100","dnis":"8005551000","callVariables":{{"callVariable1":"acct-42"}},"ecc":{{"user.case":"C-7"}}}}"#, f.agent.id),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let dialog_id = serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["dialogId"]
        .as_str()
        .unwrap()
        .to_string();

    let u = f.update("/Dialogs", |u| text(u, "event") == "POST");
    assert_eq!(text(&u, "data/dialogs/Dialog/id"), dialog_id);
    assert_eq!(text(&u, "data/dialogs/Dialog/state"), "ALERTING");
    assert_eq!(text(&u, "data/dialogs/Dialog/fromAddress"), "4085550100");
    assert_eq!(
        text(&u, "data/dialogs/Dialog/mediaProperties/callType"),
        "ACD_IN"
    );
    assert!(
        text(
            &u,
            "data/dialogs/Dialog/participants/Participant/actions/action"
        ) == "ANSWER"
    );
    let vars: Vec<(String, String)> = u
        .find("data/dialogs/Dialog/mediaProperties/callvariables")
        .unwrap()
        .elements()
        .map(|v| (text(v, "name"), text(v, "value")))
        .collect();
    assert!(
        vars.contains(&("callVariable1".into(), "acct-42".into())),
        "{vars:?}"
    );
    assert!(
        vars.contains(&("user.case".into(), "C-7".into())),
        "{vars:?}"
    );
    f.update("", |u| user_state(u) == "RESERVED");

    let answer = "<Dialog><requestedAction>ANSWER</requestedAction><targetMediaAddress>5001</targetMediaAddress></Dialog>";
    assert_eq!(
        f.rest("PUT", &format!("/Dialog/{dialog_id}"), answer, "ans")
            .status,
        202
    );
    let u = f.update("/Dialogs", |u| {
        text(u, "event") == "PUT" && text(u, "requestId") == "ans"
    });
    assert_eq!(text(&u, "data/dialog/state"), "ACTIVE");
    assert_eq!(
        text(&u, "source"),
        format!("/finesse/api/Dialog/{dialog_id}")
    );
    f.update("", |u| user_state(u) == "TALKING");

    let list = f.rest("GET", &format!("/User/{}/Dialogs", f.agent.id), "", "");
    assert_eq!(
        text(&xml::parse(&list.body).unwrap(), "Dialog/id"),
        dialog_id
    );

    let drop = "<Dialog><requestedAction>DROP</requestedAction><targetMediaAddress>5001</targetMediaAddress></Dialog>";
    assert_eq!(
        f.rest("PUT", &format!("/Dialog/{dialog_id}"), drop, "drop")
            .status,
        202
    );
    let u = f.update("/Dialogs", |u| text(u, "event") == "DELETE");
    assert_eq!(text(&u, "requestId"), "drop");
    assert_eq!(text(&u, "data/dialogs/Dialog/id"), dialog_id);
    f.update("", |u| user_state(u) == "READY");
    f.sim.stop();
}

#[test]
fn uccx_refuses_single_step_transfer() {
    let mut f = fixture(Deployment::Uccx);
    f.put_state("<state>LOGIN</state><extension>5001</extension>", "");
    let r = f.admin(
        "POST",
        "/calls",
        &format!(r#"{{"to":"{}","ani":"100"}}"#, f.agent.id),
    );
    let dialog_id = serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["dialogId"]
        .as_str()
        .unwrap()
        .to_string();
    f.update("/Dialogs", |u| text(u, "event") == "POST");
    let answer = "<Dialog><requestedAction>ANSWER</requestedAction></Dialog>";
    let r = f.rest("PUT", &format!("/Dialog/{dialog_id}"), answer, "");
    assert_eq!(r.status, 400, "targetMediaAddress is required");
    assert!(r.body.contains("Parameter Missing"), "{}", r.body);
    let answer = "<Dialog><requestedAction>ANSWER</requestedAction><targetMediaAddress>5001</targetMediaAddress></Dialog>";
    assert_eq!(
        f.rest("PUT", &format!("/Dialog/{dialog_id}"), answer, "")
            .status,
        202
    );
    let u = f.update("/Dialogs", |u| text(u, "data/dialog/state") == "ACTIVE");
    let actions: Vec<String> = u
        .find("data/dialog/participants/Participant/actions")
        .unwrap()
        .elements()
        .map(|a| a.text())
        .collect();
    assert!(
        !actions.contains(&"TRANSFER_SST".to_string()),
        "{actions:?}"
    );
    let sst = "<Dialog><requestedAction>TRANSFER_SST</requestedAction><toAddress>6000</toAddress><targetMediaAddress>5001</targetMediaAddress></Dialog>";
    let r = f.rest("PUT", &format!("/Dialog/{dialog_id}"), sst, "");
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("<ApiErrors>"));
    f.sim.stop();
}

#[test]
fn out_of_service_shows_in_system_info_and_rest() {
    let f = fixture(Deployment::Ucce);
    let base = f.sim.base_url();
    let info = http(&base, "GET", "/finesse/api/SystemInfo", None, &[], "");
    let e = xml::parse(&info.body).unwrap();
    assert_eq!(text(&e, "status"), "IN_SERVICE");
    assert_eq!(text(&e, "deploymentType"), "UCCE");
    assert_eq!(text(&e, "xmppDomain"), "finesse.local");
    assert_eq!(text(&e, "xmppPubSubDomain"), "pubsub.finesse.local");
    assert_eq!(text(&e, "systemAuthMode"), "NON_SSO");
    assert!(!text(&e, "primaryNode/host").is_empty());
    assert!(!text(&e, "primaryNode/httpsPort").is_empty());
    assert_eq!(
        text(&e, "primaryNode/xmppPort"),
        xmpp_addr().port().to_string()
    );
    assert_eq!(text(&e, "primaryNode/xmppSecurePort"), "5223");
    assert!(e.find("secondaryNode/xmppSecurePort").is_some());

    // PARTIAL_SERVICE: shown in SystemInfo, and every request gets 503.
    assert_eq!(
        f.admin("POST", "/failures", r#"{"partialService":true}"#)
            .status,
        200
    );
    let info = http(&base, "GET", "/finesse/api/SystemInfo", None, &[], "");
    assert_eq!(
        text(&xml::parse(&info.body).unwrap(), "status"),
        "PARTIAL_SERVICE"
    );
    assert_eq!(
        f.rest("GET", &format!("/User/{}", f.agent.id), "", "")
            .status,
        503
    );
    f.admin("POST", "/failures", r#"{"partialService":false}"#);

    assert_eq!(
        f.admin("POST", "/failures", r#"{"outOfService":true}"#)
            .status,
        200
    );
    let info = http(&base, "GET", "/finesse/api/SystemInfo", None, &[], "");
    assert_eq!(
        text(&xml::parse(&info.body).unwrap(), "status"),
        "OUT_OF_SERVICE"
    );
    assert_eq!(
        f.rest("GET", &format!("/User/{}", f.agent.id), "", "")
            .status,
        503
    );

    assert_eq!(
        f.admin("POST", "/failures", r#"{"outOfService":false}"#)
            .status,
        200
    );
    assert_eq!(
        f.rest("GET", &format!("/User/{}", f.agent.id), "", "")
            .status,
        200
    );
    assert_eq!(
        f.admin("POST", "/failures", r#"{"restStatus":500,"count":1}"#)
            .status,
        200
    );
    assert_eq!(
        f.rest("GET", &format!("/User/{}", f.agent.id), "", "")
            .status,
        500
    );
    assert_eq!(
        f.rest("GET", &format!("/User/{}", f.agent.id), "", "")
            .status,
        200
    );
    f.sim.stop();
}

#[test]
fn notifications_survive_an_xmpp_drop() {
    let mut f = fixture(Deployment::Ucce);
    assert_eq!(
        f.admin("POST", "/failures", r#"{"xmppDrop":true}"#).status,
        200
    );
    assert_eq!(
        f.put_state(
            "<state>LOGIN</state><extension>5001</extension>",
            "after-drop"
        )
        .status,
        202
    );
    f.update("", |u| text(u, "requestId") == "after-drop");
    let state: serde_json::Value =
        serde_json::from_str(&f.admin("GET", "/state", "").body).unwrap();
    assert_eq!(state["agents"][0]["state"], "NOT_READY");
    f.sim.stop();
}

fn dialog_id_of(r: &Response) -> String {
    serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["dialogId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// (name, value) of the call variables of the dialog at `path` (`data/dialog`, …).
fn call_variables(u: &xml::Element, path: &str) -> Vec<(String, String)> {
    u.find(&format!("{path}/mediaProperties/callvariables"))
        .map(|vars| {
            vars.elements()
                .map(|v| (text(v, "name"), text(v, "value")))
                .collect()
        })
        .unwrap_or_default()
}

/// (mediaAddress, state) of the participants of the dialog at `path`.
fn participants(u: &xml::Element, path: &str) -> Vec<(String, String)> {
    u.find(&format!("{path}/participants"))
        .map(|ps| {
            ps.elements()
                .map(|p| (text(p, "mediaAddress"), text(p, "state")))
                .collect()
        })
        .unwrap_or_default()
}

fn actions(u: &xml::Element, path: &str) -> Vec<String> {
    u.find(&format!("{path}/participants/Participant/actions"))
        .map(|a| a.elements().map(|a| a.text()).collect())
        .unwrap_or_default()
}

#[test]
fn consult_to_another_agent_then_transfer_hands_the_customer_over() {
    let mut f = fixture_with(Deployment::Ucce, 2);
    let mut b = f.others.pop().unwrap();
    f.put_state("<state>LOGIN</state><extension>5001</extension>", "");
    b.put_state("<state>LOGIN</state><extension>5002</extension>", "");
    assert_eq!(b.put_state("<state>READY</state>", "").status, 202);
    b.update("", |u| user_state(u) == "READY");

    let r = f.admin(
        "POST",
        "/calls",
        &format!(
            r#"{{"to":"{}","ani":"4085550100","dnis":"8005551000","callVariables":{{"callVariable1":"acct-42"}},"ecc":{{"user.case":"C-7"}}}}"#,
            f.agent.id
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let original = dialog_id_of(&r);
    f.update("/Dialogs", |u| text(u, "event") == "POST");
    let answer = "<Dialog><requestedAction>ANSWER</requestedAction><targetMediaAddress>5001</targetMediaAddress></Dialog>";
    assert_eq!(
        f.rest("PUT", &format!("/Dialog/{original}"), answer, "")
            .status,
        202
    );
    f.update("/Dialogs", |u| text(u, "data/dialog/state") == "ACTIVE");

    // A consults B's extension.
    let consult_body = "<Dialog><requestedAction>CONSULT_CALL</requestedAction><toAddress>5002</toAddress><targetMediaAddress>5001</targetMediaAddress></Dialog>";
    let r = f.rest("POST", &format!("/Dialog/{original}"), consult_body, "cons");
    assert_eq!(r.status, 202, "{}", r.body);
    let u = f.update("/Dialogs", |u| {
        text(u, "event") == "POST"
            && text(u, "data/dialogs/Dialog/mediaProperties/callType") == "CONSULT"
    });
    assert_eq!(text(&u, "requestId"), "cons");
    let consult = text(&u, "data/dialogs/Dialog/id");
    let u = f.update("/Dialogs", |u| {
        text(u, "data/dialog/id") == consult && text(u, "data/dialog/state") == "INITIATED"
    });
    assert!(participants(&u, "data/dialog").contains(&("5002".into(), "ALERTING".into())));

    // B is offered a CONSULT dialog carrying the customer's call data.
    let u = b.update("/Dialogs", |u| text(u, "event") == "POST");
    let d = "data/dialogs/Dialog";
    let target = text(&u, &format!("{d}/id"));
    assert_eq!(text(&u, &format!("{d}/state")), "ALERTING");
    assert_eq!(text(&u, &format!("{d}/fromAddress")), "5001");
    assert_eq!(text(&u, &format!("{d}/toAddress")), "5002");
    assert_eq!(
        text(&u, &format!("{d}/mediaProperties/callType")),
        "CONSULT"
    );
    assert_eq!(text(&u, &format!("{d}/mediaProperties/DNIS")), "8005551000");
    let vars = call_variables(&u, d);
    assert!(
        vars.contains(&("callVariable1".into(), "acct-42".into())),
        "{vars:?}"
    );
    assert!(
        vars.contains(&("user.case".into(), "C-7".into())),
        "{vars:?}"
    );
    assert_eq!(actions(&u, d)[0], "ANSWER");
    b.update("", |u| user_state(u) == "RESERVED");

    // B answers: both legs ACTIVE.
    let answer = "<Dialog><requestedAction>ANSWER</requestedAction><targetMediaAddress>5002</targetMediaAddress></Dialog>";
    let r = b.rest("PUT", &format!("/Dialog/{target}"), answer, "b-ans");
    assert_eq!(r.status, 202, "{}", r.body);
    let u = b.update("/Dialogs", |u| text(u, "requestId") == "b-ans");
    assert_eq!(text(&u, "data/dialog/state"), "ACTIVE");
    b.update("", |u| user_state(u) == "TALKING");
    // Cisco's table: the held original now offers TRANSFER and CONFERENCE (its update comes
    // first), then the consult is ACTIVE.
    let u = f.update("/Dialogs", |u| {
        text(u, "data/dialog/id") == original
            && actions(u, "data/dialog").contains(&"CONFERENCE".to_string())
    });
    let a_actions = actions(&u, "data/dialog");
    assert!(a_actions.contains(&"TRANSFER".to_string()), "{a_actions:?}");
    f.update("/Dialogs", |u| {
        text(u, "data/dialog/id") == consult && text(u, "data/dialog/state") == "ACTIVE"
    });

    // A completes the transfer.
    let transfer = "<Dialog><requestedAction>TRANSFER</requestedAction><targetMediaAddress>5001</targetMediaAddress></Dialog>";
    let r = f.rest("PUT", &format!("/Dialog/{consult}"), transfer, "xfer");
    assert_eq!(r.status, 202, "{}", r.body);
    let u = f.update("/Dialogs", |u| text(u, "event") == "DELETE");
    assert_eq!(text(&u, "data/dialogs/Dialog/id"), consult);
    let u = f.update("/Dialogs", |u| text(u, "event") == "DELETE");
    assert_eq!(text(&u, "data/dialogs/Dialog/id"), original);
    f.update("", |u| {
        user_state(u) == "NOT_READY" && text(u, "requestId") == "xfer"
    });
    // B: a DELETE of its consult dialog, then a POST of the original call's dialog.
    let u = b.update("/Dialogs", |u| text(u, "event") == "DELETE");
    assert_eq!(text(&u, "data/dialogs/Dialog/id"), target);
    let u = b.update("/Dialogs", |u| text(u, "event") == "POST");
    let d = "data/dialogs/Dialog";
    let moved = text(&u, &format!("{d}/id"));
    assert_ne!(moved, target);
    assert_eq!(text(&u, &format!("{d}/secondaryId")), target);
    assert_eq!(text(&u, &format!("{d}/state")), "ACTIVE");
    assert_eq!(text(&u, &format!("{d}/fromAddress")), "4085550100");
    assert_eq!(
        text(&u, &format!("{d}/mediaProperties/callType")),
        "TRANSFER"
    );
    assert!(!text(&u, &format!("{d}/mediaProperties/callKeyCallId")).is_empty());
    assert!(call_variables(&u, d).contains(&("callVariable1".into(), "acct-42".into())));
    assert_eq!(
        participants(&u, d),
        vec![
            ("5002".to_string(), "ACTIVE".to_string()),
            ("4085550100".to_string(), "ACTIVE".to_string())
        ]
    );
    let target = moved;

    let list = f.rest("GET", &format!("/User/{}/Dialogs", f.agent.id), "", "");
    assert!(
        xml::parse(&list.body).unwrap().elements().next().is_none(),
        "{}",
        list.body
    );
    let list = b.rest("GET", &format!("/User/{}/Dialogs", b.agent.id), "", "");
    let dialogs = xml::parse(&list.body).unwrap();
    assert_eq!(text(&dialogs, "Dialog/id"), target);
    assert_eq!(text(&dialogs, "Dialog/state"), "ACTIVE");
    assert_eq!(
        participants(&dialogs, "Dialog")[1].0,
        "4085550100",
        "{}",
        list.body
    );
    let state: serde_json::Value =
        serde_json::from_str(&f.admin("GET", "/state", "").body).unwrap();
    let agent_state = |id: &str| {
        state["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .map(|a| a["state"].clone())
    };
    assert_eq!(agent_state(&f.agent.id), Some("NOT_READY".into()));
    assert_eq!(agent_state(&b.agent.id), Some("TALKING".into()));
    f.sim.stop();
}

#[test]
fn a_call_ending_in_wrap_up_keeps_its_dialog_until_the_agent_is_ready() {
    let mut f = fixture(Deployment::Ucce);
    f.put_state("<state>LOGIN</state><extension>5001</extension>", "");
    f.put_state("<state>READY</state>", "");
    f.update("", |u| user_state(u) == "READY");
    let r = f.admin(
        "POST",
        "/calls",
        &format!(r#"{{"to":"{}","ani":"4085550100"}}"#, f.agent.id),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let dialog_id = serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["dialogId"]
        .as_str()
        .unwrap()
        .to_string();
    f.update("/Dialogs", |u| text(u, "event") == "POST");
    let answer = "<Dialog><requestedAction>ANSWER</requestedAction><targetMediaAddress>5001</targetMediaAddress></Dialog>";
    assert_eq!(
        f.rest("PUT", &format!("/Dialog/{dialog_id}"), answer, "")
            .status,
        202
    );
    f.update("", |u| user_state(u) == "TALKING");
    assert_eq!(f.put_state("<state>WORK_READY</state>", "wr").status, 202);
    let u = f.update("", |u| text(u, "requestId") == "wr");
    assert_eq!(text(&u, "data/user/pendingState"), "WORK_READY");

    // The far end hangs up: a PUT with the agent's leg in WRAP_UP, no DELETE.
    let r = f.admin("POST", &format!("/calls/{dialog_id}/hangup"), "");
    assert_eq!(r.status, 200, "{}", r.body);
    let u = f.update("/Dialogs", |_| true); // the first dialog update after the hang-up
    assert_eq!(text(&u, "event"), "PUT");
    assert_eq!(text(&u, "data/dialog/id"), dialog_id);
    assert_eq!(text(&u, "data/dialog/state"), "DROPPED");
    let legs: Vec<(String, String, String)> = u
        .find("data/dialog/participants")
        .unwrap()
        .elements()
        .map(|p| {
            (
                text(p, "mediaAddress"),
                text(p, "state"),
                text(p, "actions/action"),
            )
        })
        .collect();
    assert_eq!(
        legs,
        [
            ("5001".into(), "WRAP_UP".into(), "UPDATE_CALL_DATA".into()),
            ("4085550100".into(), "DROPPED".into(), String::new()),
        ]
    );
    let u = f.update("", |u| user_state(u) == "WORK_READY");
    assert_eq!(text(&u, "data/user/pendingState"), "");
    let list = f.rest("GET", &format!("/User/{}/Dialogs", f.agent.id), "", "");
    let list = xml::parse(&list.body).unwrap();
    assert_eq!(text(&list, "Dialog/id"), dialog_id);
    assert_eq!(
        text(&list, "Dialog/participants/Participant/state"),
        "WRAP_UP"
    );

    // Only UPDATE_CALL_DATA is allowed; the wrap-up reason is stored and echoed.
    let drop = "<Dialog><requestedAction>DROP</requestedAction><targetMediaAddress>5001</targetMediaAddress></Dialog>";
    let r = f.rest("PUT", &format!("/Dialog/{dialog_id}"), drop, "");
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("<ErrorType>Invalid State</ErrorType>"),
        "{}",
        r.body
    );
    let update = "<Dialog><requestedAction>UPDATE_CALL_DATA</requestedAction><targetMediaAddress>5001</targetMediaAddress><mediaProperties><wrapUpReason>Sale</wrapUpReason></mediaProperties></Dialog>";
    assert_eq!(
        f.rest("PUT", &format!("/Dialog/{dialog_id}"), update, "wu")
            .status,
        202
    );
    let u = f.update("/Dialogs", |u| text(u, "requestId") == "wu");
    assert_eq!(text(&u, "event"), "PUT");
    assert_eq!(text(&u, "data/dialog/mediaProperties/wrapUpReason"), "Sale");
    let d = f.rest("GET", &format!("/Dialog/{dialog_id}"), "", "");
    assert_eq!(
        text(
            &xml::parse(&d.body).unwrap(),
            "mediaProperties/wrapUpReason"
        ),
        "Sale"
    );
    let state: serde_json::Value =
        serde_json::from_str(&f.admin("GET", "/state", "").body).unwrap();
    let listed = state["dialogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == dialog_id.as_str())
        .expect("the wrap-up dialog is listed");
    assert_eq!(listed["agentLegState"], "WRAP_UP");
    assert_eq!(listed["wrapUpReason"], "Sale");

    // READY ends wrap-up: the dialog is deleted.
    assert_eq!(f.put_state("<state>READY</state>", "rd").status, 202);
    let u = f.update("/Dialogs", |u| text(u, "event") == "DELETE");
    assert_eq!(text(&u, "requestId"), "rd");
    assert_eq!(text(&u, "data/dialogs/Dialog/id"), dialog_id);
    f.update("", |u| {
        user_state(u) == "READY" && text(u, "requestId") == "rd"
    });
    let list = f.rest("GET", &format!("/User/{}/Dialogs", f.agent.id), "", "");
    assert!(xml::parse(&list.body).unwrap().find("Dialog").is_none());
    f.sim.stop();
}

#[test]
fn a_busy_make_call_from_ready_fails_with_an_async_error_naming_the_dialog() {
    let mut f = fixture(Deployment::Ucce);
    f.put_state("<state>LOGIN</state><extension>5001</extension>", "");
    f.put_state("<state>READY</state>", "");
    f.update("", |u| user_state(u) == "READY");
    // UCCE 12.5(1): MAKE_CALL from READY moves the agent to NOT_READY (reason 50006) first.
    let body = "<Dialog><requestedAction>MAKE_CALL</requestedAction><fromAddress>5001</fromAddress><toAddress>5551000</toAddress></Dialog>";
    let r = f.rest("POST", &format!("/User/{}/Dialogs", f.agent.id), body, "mc");
    assert_eq!(r.status, 202, "{}", r.body);
    let u = f.update("", |u| user_state(u) == "NOT_READY");
    assert_eq!(text(&u, "data/user/reasonCodeId"), "50006");
    let u = f.update("/Dialogs", |u| text(u, "event") == "POST");
    let dialog = text(&u, "data/dialogs/Dialog/id");
    f.update("/Dialogs", |u| text(u, "data/dialog/state") == "INITIATED");

    // The far end is busy: FAILED (cause BUSY), then the asynchronous error.
    assert_eq!(
        f.admin("POST", &format!("/calls/{dialog}/busy"), "{}")
            .status,
        200
    );
    let u = f.update("/Dialogs", |u| text(u, "data/dialog/state") == "FAILED");
    assert_eq!(
        text(&u, "data/dialog/participants/Participant/stateCause"),
        "BUSY"
    );
    assert_eq!(actions(&u, "data/dialog"), vec!["DROP".to_string()]);
    let e = f.update("/Dialogs", |u| u.find("data/apiErrors").is_some());
    assert_eq!(text(&e, "source"), format!("/finesse/api/Dialog/{dialog}"));
    assert_eq!(
        text(&e, "data/apiErrors/apiError/errorType"),
        "Generic Error"
    );
    assert_eq!(text(&e, "data/apiErrors/apiError/errorMessage"), "CF_BUSY");

    // It stays until the agent drops it.
    let list = f.rest("GET", &format!("/User/{}/Dialogs", f.agent.id), "", "");
    assert_eq!(
        text(&xml::parse(&list.body).unwrap(), "Dialog/state"),
        "FAILED"
    );
    let drop = "<Dialog><requestedAction>DROP</requestedAction><targetMediaAddress>5001</targetMediaAddress></Dialog>";
    assert_eq!(
        f.rest("PUT", &format!("/Dialog/{dialog}"), drop, "dr")
            .status,
        202
    );
    let u = f.update("/Dialogs", |u| text(u, "event") == "DELETE");
    assert_eq!(text(&u, "requestId"), "dr");
    f.sim.stop();
}
