//! The monitor console in a real browser: headless Chromium (through chromedriver) keeps the
//! console open, behind its login, while two agents log in through the real library, ActiveMQ,
//! the connector and finesse-sim, one takes a call and the other's Siebel session ends; the
//! page follows without a reload. Then `/metrics` and `/health` are scraped, Finesse goes out
//! of service (503, and the page says so), and the console over HTTPS streams its events.
//! Screenshot: `target/console-screenshots/console.png`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;

use connector::console_auth::PasswordHash;
use finesse_sim::Deployment;
use serde_json::{json, Value};

use crate::chain::*;
use crate::common::*;
use crate::webdriver::Browser;

/// What the console page shows, read from its DOM.
const SNAPSHOT: &str = r#"
const text = (s) => { const e = document.querySelector(s); return e ? e.innerText.trim() : null; };
return {
  live: document.body.dataset.live === 'true',
  updated: document.body.dataset.updated || '',
  marker: window.__consoleTest || null,
  status: text('#status'),
  role: text('#role'),
  agents: [...document.querySelectorAll('#agents tbody tr[data-agent]')].map((r) => {
    const s = r.querySelector('.state');
    return { id: r.dataset.agent, state: r.dataset.state, stale: r.dataset.stale || '',
      cls: s ? s.className : '', colour: s ? getComputedStyle(s).backgroundColor : '',
      reason: r.cells[3].innerText, text: r.innerText };
  }),
  calls: [...document.querySelectorAll('#calls tbody tr[data-dialog]')].map((r) => ({
    dialog: r.dataset.dialog, agent: r.dataset.agent, text: r.innerText })),
  drivers: [...document.querySelectorAll('#drivers tbody tr[data-queue]')].map((r) => ({
    queue: r.dataset.queue, client: r.dataset.client, text: r.innerText })),
  nodes: [...document.querySelectorAll('#nodes li')].map((l) => l.innerText),
  peers: [...document.querySelectorAll('#peers li')].map((l) => ({
    role: l.dataset.role, instance: l.dataset.instance, text: l.innerText })),
  events: text('#events tbody'),
};
"#;

/// Waits until the page satisfies `ok` (given the snapshot); returns that snapshot.
fn wait_page(browser: &Browser, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    wait_until(what, WAIT_HTTP, || {
        let s = browser.script(SNAPSHOT, json!([]));
        if ok(&s) {
            Ok(s)
        } else {
            Err(s)
        }
    })
}

/// The page's row of agent `id`.
fn agent_row<'a>(s: &'a Value, id: &str) -> Option<&'a Value> {
    s["agents"].as_array()?.iter().find(|a| a["id"] == id)
}

fn has(v: &Value, needle: &str) -> bool {
    v.as_str().is_some_and(|t| t.contains(needle))
}

/// `Authorization` for the console's user.
fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// The value of one sample of a Prometheus text (`name{labels} value`).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no sample {series} in\n{text}"))
}

#[test]
fn the_console_follows_agents_and_a_call_live_in_the_browser() {
    let hash = PasswordHash::make("console-pw");
    let chain = Chain::start_with(
        Deployment::Ucce,
        2,
        &[("Driver:NotReadyReasonCodes", "TRUE")],
        &format!("user = \"admin\"\npassword_hash = \"{hash}\"\n"),
    );
    let (a0, a1) = (chain.agents[0].clone(), chain.agents[1].clone());
    let base = chain.monitor();
    let browser = Browser::start();
    // The console's login: credentials in the address (Chromium keeps them for the page's
    // own requests, the event stream included).
    browser.open(&format!(
        "{}/",
        base.replace("http://", "http://admin:console-pw@")
    ));
    let first = wait_page(&browser, "the page live", |s| s["live"] == true);
    assert_eq!(first["status"], "IN SERVICE", "{first}");
    assert_eq!(first["role"], "active", "{first}");
    assert!(has(&first["nodes"][0], "in service"), "{first}");
    assert!(has(&first["peers"][0]["text"], "this one"), "{first}");
    // Marks this page load: a reload would lose it.
    browser.script(
        "window.__consoleTest = 'same page'; return null;",
        json!([]),
    );

    // Agent 0 logs in and goes Ready; agent 1 logs in and stays Not Ready, with Lunch.
    let mut s0 = logged_in(&chain, 0, true);
    let mut s1 = chain.session(1);
    let c1 = s1.client.clone();
    let m = c1.mark();
    s1.run_command("SignOnGroup").unwrap();
    c1.wait_for(m, WAIT, |x| {
        x.event_name() == Some("EventReasonCodes") && x.field("Category") == Some("NOT_READY")
    })
    .expect("the agent's Not Ready reasons");
    wait_event(&c1, m, "EventAgentLogin");
    let m = c1.mark();
    s1.set_text("lunch");
    s1.run_command("NotReady").unwrap();
    wait_event(&c1, m, "EventAgentNotReady");
    let page = wait_page(&browser, "both agents with their states", |s| {
        agent_row(s, &a0.id).is_some_and(|a| a["state"] == "READY")
            && agent_row(s, &a1.id).is_some_and(|a| has(&a["text"], "Lunch"))
    });
    let r0 = agent_row(&page, &a0.id).unwrap();
    let r1 = agent_row(&page, &a1.id).unwrap();
    assert!(has(&r0["cls"], "state-READY"), "{r0}");
    assert!(has(&r1["cls"], "state-NOT_READY"), "{r1}");
    assert_ne!(r0["colour"], r1["colour"], "each state its colour");
    // Reason labels, never a raw code (Finesse reports Ready with reason code -1).
    assert_eq!(
        (&r0["reason"], &r1["reason"]),
        (&json!(""), &json!("Lunch"))
    );
    for (row, a, name) in [(r0, &a0, "Ann Lee"), (r1, &a1, "Bo Kim")] {
        assert!(has(&row["text"], name), "{row}");
        assert!(has(&row["text"], &a.extension), "{row}");
        assert_eq!(row["stale"], "", "{row}");
    }
    // The owning Siebel server: this host, as the driver's Hello named it.
    let drivers = page["drivers"].as_array().unwrap();
    assert_eq!(drivers.len(), 1, "one driver instance: {page}");
    assert!(!drivers[0]["client"].as_str().unwrap().is_empty(), "{page}");
    for a in [&a0, &a1] {
        assert!(has(&drivers[0]["text"], &a.id), "{page}");
    }

    // A call: agent 0 answers, the page shows it TALKING and the call with its parties.
    let (dialog, _) = ring_and_answer(chain.sim(), &mut s0, &a0.id, "4085551234");
    let page = wait_page(&browser, "agent 0 talking, the call listed", |s| {
        agent_row(s, &a0.id).is_some_and(|a| a["state"] == "TALKING")
            && s["calls"].as_array().is_some_and(|c| !c.is_empty())
    });
    let r0 = agent_row(&page, &a0.id).unwrap();
    assert!(has(&r0["cls"], "state-TALKING"), "{r0}");
    let call = &page["calls"][0];
    assert_eq!(call["dialog"], dialog.as_str(), "{page}");
    assert_eq!(call["agent"], a0.id.as_str(), "{page}");
    assert!(has(&call["text"], "4085551234"), "the caller: {call}");
    assert!(
        has(&call["text"], &a0.extension),
        "the agent's party: {call}"
    );
    assert!(
        has(&page["events"], &format!("agent {} TALKING", a0.id)),
        "{page}"
    );

    // Agent 1's Siebel session ends: Finesse still has the agent Not Ready, the row is
    // marked stale and the driver instance lists agent 0 only.
    assert_eq!(s1.release(), 0);
    let page = wait_page(&browser, "agent 1 marked stale", |s| {
        agent_row(s, &a1.id).is_some_and(|a| has(&a["stale"], "no Siebel session"))
    });
    let drivers = page["drivers"].as_array().unwrap();
    assert!(!has(&drivers[0]["text"], &a1.id), "{page}");
    assert!(agent_row(&page, &a0.id).unwrap()["stale"] == "", "{page}");
    assert_eq!(page["marker"], "same page", "live without a reload");
    let shot = repo().join("target/console-screenshots/console.png");
    browser.screenshot(&shot);
    println!("CONSOLE-SCREENSHOT {}", shot.display());

    // /metrics over the socket: 401 without the console's login, the figures with it.
    let metrics = format!("{base}/metrics");
    assert!(matches!(
        ureq::get(&metrics).call(),
        Err(ureq::Error::Status(401, _))
    ));
    let r = ureq::get(&metrics)
        .set("Authorization", &basic("admin", "console-pw"))
        .call()
        .unwrap();
    assert!(
        r.content_type().starts_with("text/plain"),
        "{}",
        r.content_type()
    );
    let text = r.into_string().unwrap();
    println!("CONSOLE-METRICS\n{text}");
    assert_eq!(sample(&text, "siebelcti_agents{state=\"TALKING\"}"), 1.0);
    assert_eq!(sample(&text, "siebelcti_agents{state=\"NOT_READY\"}"), 1.0);
    assert!(
        sample(
            &text,
            "siebelcti_requests_total{type=\"Login\",outcome=\"ok\"}"
        ) >= 2.0
    );
    assert!(
        sample(
            &text,
            "siebelcti_requests_total{type=\"SetState\",outcome=\"ok\"}"
        ) >= 2.0
    );
    assert!(
        sample(
            &text,
            "siebelcti_finesse_request_seconds_count{call=\"SetState\"}"
        ) >= 3.0
    );
    assert!(
        sample(
            &text,
            "siebelcti_finesse_request_seconds_count{call=\"SystemInfo\"}"
        ) >= 1.0
    );
    assert!(sample(&text, "siebelcti_events_relayed_total{type=\"Dialog\"}") >= 1.0);
    assert_eq!(sample(&text, "siebelcti_xmpp_sessions_up"), 1.0);
    assert_eq!(sample(&text, "siebelcti_drivers_connected"), 1.0);
    assert_eq!(sample(&text, "siebelcti_broker_up"), 1.0);
    assert_eq!(sample(&text, "siebelcti_calls"), 1.0);

    // /health: 200 in service (the summary without credentials), 503 once Finesse is out
    // of service, and the page says so too.
    let health = format!("{base}/health");
    let open: Value = ureq::get(&health).call().unwrap().into_json().unwrap();
    assert_eq!(open["status"], "IN_SERVICE", "{open}");
    assert!(open.get("agents").is_none(), "{open}");
    assert_eq!(
        ureq::get(&format!("{health}/active"))
            .call()
            .unwrap()
            .status(),
        200
    );
    admin(
        chain.sim(),
        "/admin/failures",
        json!({"outOfService": true}),
    );
    let down = wait_until("/health 503", WAIT_HTTP, || {
        match ureq::get(&health).call() {
            Err(ureq::Error::Status(503, r)) => Ok(r.into_json::<Value>().unwrap()),
            other => Err(format!("{other:?}")),
        }
    });
    assert_eq!(down["status"], "OUT_OF_SERVICE", "{down}");
    let page = wait_page(&browser, "the page out of service", |s| {
        s["status"] == "OUT OF SERVICE" && has(&s["nodes"][0], "OUT OF SERVICE")
    });
    let r0 = agent_row(&page, &a0.id).unwrap();
    assert!(has(&r0["stale"], "Finesse out of service"), "{r0}");
    admin(
        chain.sim(),
        "/admin/failures",
        json!({"outOfService": false}),
    );
    wait_until("/health 200 again", WAIT_HTTP, || {
        ureq::get(&health)
            .call()
            .map(|r| r.status())
            .map_err(|e| e.to_string())
    });

    // A second connector on the same queue (active-active): each lists the other, heard on
    // the status topic.
    let mut second = chain.connector_config.clone();
    second.connector.name = unique("second");
    let second = connector::Connector::start(second).unwrap();
    let page = wait_page(&browser, "the second connector listed", |s| {
        s["peers"]
            .as_array()
            .is_some_and(|p| p.len() == 2 && has(&p[1]["text"], "second"))
    });
    assert_eq!(page["peers"][1]["role"], "active", "{page}");
    second.stop();
    drop(s0);
}

/// A connector whose console speaks HTTPS with the test CA's certificate: `/health` answers
/// and `/events` streams the state document through the TLS front.
#[test]
fn the_console_over_https_streams_its_events() {
    let out = Command::new("bash")
        .arg(repo().join("scripts/certs.sh"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let certs = repo().join("target/certs");
    let chain = Chain::start_with(
        Deployment::Ucce,
        1,
        &[],
        &format!(
            "tls_cert = \"{}\"\ntls_key = \"{}\"\n",
            certs.join("finesse.pem").display(),
            certs.join("finesse.key").display()
        ),
    );
    let mut agent = logged_in(&chain, 0, true);
    let addr = chain.connector.as_ref().unwrap().monitor_addr().unwrap();
    let tls = driver::stomp::TlsSettings::from_ca_file(&certs.join("ca.pem")).unwrap();
    let get = |path: &str| {
        let conn = tls.connect("127.0.0.1").unwrap();
        let tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(WAIT_HTTP)).unwrap();
        let mut s = rustls::StreamOwned::new(conn, tcp);
        write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        s.flush().unwrap();
        BufReader::new(s)
    };
    let mut health = String::new();
    let _ = get("/health").read_to_string(&mut health);
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("\"IN_SERVICE\""), "{health}");

    let mut events = get("/events");
    let mut line = String::new();
    let doc = loop {
        line.clear();
        assert!(events.read_line(&mut line).unwrap() > 0, "the stream ended");
        if let Some(data) = line.strip_prefix("data: ") {
            break serde_json::from_str::<Value>(data).unwrap();
        }
    };
    let id = &chain.agents[0].id;
    assert!(
        doc["agents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id.as_str()),
        "{doc}"
    );
    // A stream, not one answer: the agent goes Not Ready, the next event says so.
    let c = agent.client.clone();
    let m = c.mark();
    agent.run_command("NotReady").unwrap();
    wait_event(&c, m, "EventAgentNotReady");
    let state = |doc: &Value| {
        doc["agents"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["id"] == id.as_str()))
            .map(|a| a["state"].clone())
    };
    assert_eq!(state(&doc), Some(json!("READY")), "{doc}");
    loop {
        line.clear();
        assert!(events.read_line(&mut line).unwrap() > 0, "the stream ended");
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let doc = serde_json::from_str::<Value>(data).unwrap();
        if state(&doc) == Some(json!("NOT_READY")) {
            break;
        }
    }
    println!("CONSOLE-HTTPS https://{addr}/ streams events");
}
