//! The agent desktop in a real browser: headless Chromium (through chromedriver) clicks
//! through a call on scs-sim's page (log in, Ready, ringing, answer, hold/resume, a consult call
//! and the work item list, wrap-up, release), with the real library, ActiveMQ, the connector and
//! finesse-sim behind it. Each step checks what the page shows against what the driver told
//! scs-sim through SCAPI. Screenshots: `target/desktop-screenshots/`.

use std::path::PathBuf;
use std::sync::Arc;

use finesse_sim::Deployment;
use scs_sim::desktop::Desktop;
use scs_sim::engine::{Contact, Engine};
use scs_sim::{Call, Client};
use serde_json::{json, Value};

use crate::chain::*;
use crate::common::*;
use crate::webdriver::Browser;

/// What the page shows, read from its DOM.
const SNAPSHOT: &str = r#"
const text = (s) => { const e = document.querySelector(s); return e ? e.innerText.trim() : null; };
const buttons = {};
for (const b of document.querySelectorAll('#buttons button[data-command]')) buttons[b.dataset.command] = b.dataset.state;
const menu = {};
for (const b of document.querySelectorAll('#menu button[data-command]')) menu[b.dataset.command] = b.dataset.state;
return {
  ready: document.body.dataset.ready === 'true',
  conn: text('#conn'),
  status: text('#status'),
  state: text('#state'),
  error: text('#error'),
  buttons, menu,
  workItems: [...document.querySelectorAll('#workitems tbody tr')].map((r) => ({
    tracking: r.dataset.tracking, state: r.dataset.state, dialog: r.dataset.dialog,
    current: r.getAttribute('aria-current') === 'true', text: r.innerText })),
  pop: text('#pop'),
  dashboard: text('#dashboard'),
  activities: text('#activities tbody'),
  log: document.querySelector('#log').textContent,
  reasons: [...document.querySelectorAll('#reasons option')].map((o) => o.value),
  edit: document.querySelector('#edit').value,
  picker: { open: document.querySelector('#picker').open, title: text('#picker-title'),
    rows: [...document.querySelectorAll('#picker-rows button')].map((b) => b.innerText.trim()) },
};
"#;

fn snapshot(browser: &Browser) -> Value {
    browser.script(SNAPSHOT, json!([]))
}

/// Waits until the page satisfies `ok` (given the snapshot); returns that snapshot.
fn wait_page(browser: &Browser, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    wait_until(what, WAIT_HTTP, || {
        let s = snapshot(browser);
        if ok(&s) {
            Ok(s)
        } else {
            Err(s)
        }
    })
}

fn button(s: &Value, command: &str) -> String {
    s["buttons"][command]
        .as_str()
        .unwrap_or("missing")
        .to_string()
}

fn menu(s: &Value, command: &str) -> String {
    s["menu"][command].as_str().unwrap_or("missing").to_string()
}

fn has(s: &Value, key: &str, needle: &str) -> bool {
    s[key].as_str().is_some_and(|t| t.contains(needle))
}

/// The last status text the driver showed.
fn last_status(client: &Client) -> String {
    client
        .calls()
        .into_iter()
        .rev()
        .find_map(|c| match c {
            Call::ShowStatusText(t) => Some(t),
            _ => None,
        })
        .unwrap_or_default()
}

fn shot(browser: &Browser, name: &str) -> PathBuf {
    let path = repo()
        .join("target")
        .join("desktop-screenshots")
        .join(format!("{name}.png"));
    browser.screenshot(&path);
    path
}

#[test]
fn an_agent_clicks_through_a_call_in_the_browser() {
    // Logout reason codes on: the driver passes them to Siebel (EventReasonCodes).
    let mut chain = Chain::start_with(
        Deployment::Ucce,
        1,
        &[("Driver:LogoutReasonCodes", "TRUE")],
        "",
    );
    let db = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{}.sqlite", unique("desk")));
    let contacts = vec![Contact {
        id: "1-ANN".into(),
        first_name: "Ann".into(),
        last_name: "Archer".into(),
        work_phone: "4085551234".into(),
        account_id: "ACC-1".into(),
    }];
    let engine = Arc::new(Engine::new(template("ucce.def"), contacts, Some(&db)).unwrap());
    chain.server.set_engine(engine.clone());
    let id = chain.agents[0].id.clone();
    let agent = chain.session(0);
    let client = agent.client.clone();
    let desktop = Desktop::start("127.0.0.1:0", Some(chain.sim().base_url())).unwrap();
    let session = desktop.add(agent);
    let browser = Browser::start();
    browser.open(&desktop.agent_url(&id));

    // Logged out: Log In is the only agent button enabled; the status is the driver's.
    let s = wait_page(&browser, "the logged-out desktop", |s| {
        s["ready"] == true
            && button(s, "SignOnGroup") == "enabled"
            && has(s, "status", "CTI is available")
    });
    assert_eq!(button(&s, "SignOffGroup"), "disabled");
    assert_eq!(button(&s, "AcceptWorkGroup"), "disabled");
    assert_eq!(button(&s, "ForwardWorkGroup"), "disabled", "not in the DEF");
    assert_eq!(s["status"], last_status(&client));
    let log = s["log"].as_str().unwrap();
    assert!(
        log.contains("<- Toolbar: ") && log.contains("<- Status line: "),
        "{log}"
    );
    let logged_out = shot(&browser, "1-logged-out");

    // Log In by clicking: Not Ready, the Busy button checked (Not Ready is checked).
    browser.click("button[data-command=SignOnGroup]");
    // The press's log line is written when the press returns: the callbacks may come first.
    let s = wait_page(&browser, "Not Ready after Log In, logged", |s| {
        has(s, "state", "NOT_READY")
            && button(s, "ChangeBusyStateGroup") == "enabled checked"
            && has(
                s,
                "log",
                "-> InvokeCommand LogIn [cmd-1] -> 0 (button SignOnGroup: sub-command SignOn)",
            )
    });
    assert_eq!(button(&s, "SignOnGroup"), "disabled");
    // The text box's picker offers the reason codes the driver passed (EventReasonCodes).
    wait_page(&browser, "the logout reasons in the picker", |s| {
        s["reasons"] == json!(["End of shift"])
    });

    // Busy while Not Ready runs Ready.
    browser.click("button[data-command=ChangeBusyStateGroup]");
    let s = wait_page(&browser, "Ready", |s| {
        has(s, "state", "EventAgentReady: READY")
            && button(s, "ChangeBusyStateGroup") == "enabled"
            && has(s, "status", "Ready")
    });
    assert_eq!(s["status"], last_status(&client));
    assert_eq!(menu(&s, "Ready"), "disabled checked");
    let ready = shot(&browser, "2-ready");

    // A call from the phone network panel rings: Answer blinks, the contact pops.
    browser.click("#place-call");
    let s = wait_page(&browser, "a ringing call", |s| {
        button(s, "AcceptWorkGroup") == "enabled blinking"
            && s["workItems"][0]["state"] == "Alerting"
            && has(s, "pop", "Archer")
    });
    let item = s["workItems"][0].clone();
    assert!(
        item["text"].as_str().unwrap().contains("4085551234"),
        "{item}"
    );
    assert!(item["text"].as_str().unwrap().contains("Inbound"), "{item}");
    assert_eq!(item["current"], true);
    let dialog = item["dialog"].as_str().unwrap().to_string();
    let ringing_event = client
        .calls()
        .into_iter()
        .find(|c| c.event_name() == Some("EventRinging"))
        .expect("the driver raised EventRinging");
    assert_eq!(ringing_event.field("DialogId"), Some(dialog.as_str()));
    assert!(has(&s, "pop", "Contact Detail View"), "{}", s["pop"]);
    assert!(has(&s, "dashboard", "4085551234"), "{}", s["dashboard"]);
    let ringing = shot(&browser, "3-ringing");

    // Answer: the call is active, Hold and Release enabled, the pop stays.
    browser.click("button[data-command=AcceptWorkGroup]");
    let s = wait_page(&browser, "the answered call", |s| {
        s["workItems"][0]["state"] == "Active"
            && button(s, "SuspendWorkGroup") == "enabled"
            && button(s, "ReleaseWorkGroup") == "enabled"
            && has(s, "status", "Talking")
    });
    assert_eq!(button(&s, "AcceptWorkGroup"), "disabled");
    assert_eq!(s["status"], last_status(&client));
    assert!(has(&s, "pop", "1-ANN"), "{}", s["pop"]);
    assert!(
        has(&s, "activities", "Call - Inbound"),
        "{}",
        s["activities"]
    );
    let talking = shot(&browser, "4-talking-with-pop");

    // The text box: Blind Transfer (OnEditControl) is available only with a number typed.
    assert_eq!(button(&s, "BlindTransferGroup"), "disabled");
    browser.type_into("#edit", "5551234");
    wait_page(
        &browser,
        "Blind Transfer enabled by the typed number",
        |s| button(s, "BlindTransferGroup") == "enabled",
    );
    browser.type_into("#edit", "");
    wait_page(&browser, "Blind Transfer disabled again", |s| {
        button(s, "BlindTransferGroup") == "disabled"
    });

    // Hold and resume.
    browser.click("button[data-command=SuspendWorkGroup]");
    wait_page(&browser, "the held call", |s| {
        s["workItems"][0]["state"] == "Suspended"
            && button(s, "ResumeWorkGroup") == "enabled"
            && button(s, "SuspendWorkGroup") == "disabled checked"
    });
    browser.click("button[data-command=ResumeWorkGroup]");
    wait_page(&browser, "the retrieved call", |s| {
        s["workItems"][0]["state"] == "Active" && button(s, "SuspendWorkGroup") == "enabled"
    });

    // The Hold/Resume toggle: one button, pressed (checked) while the call is held.
    wait_page(&browser, "the Hold/Resume toggle up", |s| {
        button(s, "HoldResumeGroup") == "enabled"
    });
    browser.click("button[data-command=HoldResumeGroup]");
    wait_page(&browser, "the toggle pressed: held", |s| {
        s["workItems"][0]["state"] == "Suspended"
            && button(s, "HoldResumeGroup") == "enabled checked"
    });
    browser.click("button[data-command=HoldResumeGroup]");
    wait_page(&browser, "the toggle up again: retrieved", |s| {
        s["workItems"][0]["state"] == "Active"
            && button(s, "HoldResumeGroup") == "enabled"
            && menu(s, "SendDTMFPad") == "enabled"
    });

    // The dial pad picker (SelectApplet): a dialog of keys; a click sends that key.
    browser.click("#menu button[data-command=SendDTMFPad]");
    let s = wait_page(&browser, "the dial pad picker open", |s| {
        s["picker"]["open"] == true
    });
    assert_eq!(s["picker"]["title"], "Dial pad");
    assert_eq!(
        s["picker"]["rows"],
        json!(["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"])
    );
    shot(&browser, "picker-dial-pad");
    browser.click("#picker-rows button[data-row='4']");
    let s = wait_page(&browser, "the digit sent", |s| {
        s["picker"]["open"] == false && has(s, "log", "(picker row 5)")
    });
    assert!(
        has(&s, "log", "InvokeCommand SendDTMF [") && has(&s, "log", "-> 0 (picker row 5)"),
        "{}",
        s["log"]
    );

    // A consult call to a typed number: a second work item. Picking a work item in the list
    // is ResumeWorkItem (the driver retrieves a held call); Release drops the selected one.
    let customer = item["tracking"].as_str().unwrap().to_string();
    browser.type_into("#edit", "5550000");
    wait_page(&browser, "Consult Transfer enabled", |s| {
        button(s, "ConsultativeTransferGroup") == "enabled"
    });
    browser.click("button[data-command=ConsultativeTransferGroup]");
    // The new work item comes first, its number and direction with the driver's EventDialing.
    let s = wait_page(&browser, "the consult call to 5550000", |s| {
        s["workItems"].as_array().is_some_and(|w| w.len() == 2)
            && s["workItems"][0]["state"] == "Suspended"
            && s["workItems"][1]["current"] == true
            && s["workItems"][1]["text"]
                .as_str()
                .is_some_and(|t| t.contains("5550000") && t.contains("Outbound"))
    });
    let consult = s["workItems"][1]["tracking"].as_str().unwrap().to_string();
    browser.click(&format!("#workitems button[data-tracking='{customer}']"));
    let picked = format!("-> ResumeWorkItem [{customer}] -> 0");
    wait_page(
        &browser,
        "the customer's call picked, retrieved, logged",
        |s| {
            s["workItems"][0]["current"] == true
                && s["workItems"][0]["state"] == "Active"
                && s["workItems"][1]["current"] == false
                && has(s, "log", &picked)
        },
    );
    browser.click(&format!("#workitems button[data-tracking='{consult}']"));
    wait_page(&browser, "the consult call picked", |s| {
        s["workItems"][1]["current"] == true && button(s, "ReleaseWorkGroup") == "enabled"
    });
    browser.type_into("#edit", "");
    browser.click("button[data-command=ReleaseWorkGroup]");
    wait_page(&browser, "the consult call released", |s| {
        s["workItems"].as_array().is_some_and(|w| w.len() == 1)
            && s["workItems"][0]["tracking"] == customer.as_str()
            && s["workItems"][0]["state"] == "Active"
            && button(s, "SuspendWorkGroup") == "enabled"
    });

    // Wrap-up asked during the call (menu item): it blinks until the call ends.
    browser.click("#menu button[data-command=WorkReady]");
    wait_page(&browser, "wrap-up pending", |s| {
        menu(s, "WorkReady") == "enabled blinking" && has(s, "status", "when the call ends")
    });

    // Release with the keyboard (the DEF's hot key Ctrl+Shift+D): wrap-up, no work item,
    // the activity gets its after-call fields.
    browser.click("#edit");
    browser.chord(&["Ctrl", "Shift"], 'd');
    // The driver's status line follows its EventAgentWork.
    let s = wait_page(&browser, "wrap-up after the release", |s| {
        has(s, "state", "WORK_READY")
            && has(s, "status", "State: Wrap-up")
            && s["workItems"].as_array().is_some_and(|w| w.is_empty())
            && has(s, "activities", "Status=Done")
            && button(s, "ReleaseWorkGroup") == "disabled"
    });
    assert_eq!(s["status"], last_status(&client));
    let wrap_up = shot(&browser, "5-wrap-up");
    assert!(
        s["log"]
            .as_str()
            .unwrap()
            .contains("-> InvokeCommand ReleaseCall"),
        "{}",
        s["log"]
    );
    let released = engine
        .activities()
        .unwrap()
        .into_iter()
        .find(|a| a.contact_id == "1-ANN")
        .expect("the inbound call's activity");
    assert_eq!(
        released.after_work.get("Status").map(String::as_str),
        Some("Done")
    );

    // Ready again from wrap-up (menu item).
    browser.click("#menu button[data-command=Ready]");
    let s = wait_page(&browser, "Ready after wrap-up", |s| {
        has(s, "state", "EventAgentReady: READY") && button(s, "ChangeBusyStateGroup") == "enabled"
    });

    // The text box emptied before the release stays empty, on the page and in scs-sim (a
    // view computed before scs-sim had the empty text does not put the number back).
    assert_eq!(s["edit"], "");
    let api = format!("http://{}/api/agent/{id}", desktop.addr());
    assert_eq!(get_json(&format!("{api}/view"))["text"], "");
    // Text put in the box elsewhere (another page of the agent, the API) shows on this page.
    for text in ["5557777", ""] {
        ureq::post(&format!("{api}/text"))
            .send_json(json!({ "text": text }))
            .unwrap();
        wait_page(&browser, &format!("the text box showing {text:?}"), |s| {
            s["edit"] == text
        });
    }

    // Not Ready (the empty text box: no reason), then Log Out with a reason picked from the
    // driver's logout reasons.
    browser.click("button[data-command=ChangeBusyStateGroup]");
    wait_page(&browser, "Not Ready before logging out", |s| {
        has(s, "state", "NOT_READY") && menu(s, "SignOffPickReason") == "enabled"
    });
    browser.click("#menu button[data-command=SignOffPickReason]");
    let s = wait_page(&browser, "the logout reason picker", |s| {
        s["picker"]["open"] == true
    });
    assert_eq!(s["picker"]["title"], "Log out reason");
    let rows = s["picker"]["rows"].as_array().unwrap().clone();
    assert!(
        rows.iter()
            .any(|r| r.as_str().unwrap().contains("End of shift")),
        "{rows:?}"
    );
    browser.click("#picker-rows button[data-row='0']");
    wait_page(&browser, "logged out with the picked reason", |s| {
        button(s, "SignOnGroup") == "enabled" && has(s, "log", "InvokeCommand LogOut [")
    });

    for p in [logged_out, ready, ringing, talking, wrap_up] {
        let size = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{} is {size} bytes", p.display());
    }
    drop(browser);
    session.agent().release();
    desktop.stop();
}

/// Reads server-sent events from `reader` until one's view satisfies `ok` (each read is
/// bounded by the agent's read timeout); returns it.
fn next_view(reader: &mut impl std::io::BufRead, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    let mut last = Value::Null;
    while std::time::Instant::now() < deadline {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => panic!("event stream: {e} (waiting for {what}; last view {last})"),
        }
        if let Some(data) = line.strip_prefix("data: ") {
            last = serde_json::from_str(data).expect("an event is a JSON view");
            if ok(&last) {
                return last;
            }
        }
    }
    panic!("no view with {what}; last: {last:#}");
}

#[test]
fn the_desktop_serves_each_agent_its_own_live_page() {
    let (_peer, server) = peer_server("ENU");
    let desktop = Desktop::start("127.0.0.1:0", None).unwrap();
    for (id, pin, dn) in [("1001", "secret", "5001"), ("1002", "pw2", "5002")] {
        desktop.add(start_session(
            &server,
            &login(id, pin, dn),
            "CTI is available",
        ));
    }
    let base = format!("http://{}", desktop.addr());
    let agents = get_json(&format!("{base}/api/agents"));
    assert_eq!(
        agents,
        json!([{"id": "1001", "url": "/agent/1001/"}, {"id": "1002", "url": "/agent/1002/"}])
    );
    for (path, kind) in [
        ("/", "text/html"),
        ("/agent/1001/", "text/html"),
        ("/desktop.js", "text/javascript"),
        ("/desktop.css", "text/css"),
    ] {
        let r = ureq::get(&format!("{base}{path}")).call().unwrap();
        assert!(
            r.content_type().starts_with(kind),
            "{path}: {}",
            r.content_type()
        );
    }

    // The event stream sends the view at once, then after every change.
    let http = ureq::AgentBuilder::new().timeout_read(WAIT).build();
    let stream = http
        .get(&format!("{base}/api/agent/1001/events"))
        .call()
        .unwrap();
    assert_eq!(stream.content_type(), "text/event-stream");
    let mut events = std::io::BufReader::new(stream.into_reader());
    let first = next_view(&mut events, "the first view", |v| v["status"].is_string());
    assert_eq!(first["phone"], false);
    assert_eq!(first["agent"]["id"], "1001");

    // A press through the page's API: the group resolves as on the command line.
    let post = |path: &str, body: Value| -> (u16, Value) {
        match ureq::post(&format!("{base}{path}")).send_json(body) {
            Ok(r) => (r.status(), r.into_json().unwrap()),
            Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or(Value::Null)),
            Err(e) => panic!("POST {path}: {e}"),
        }
    };
    let (code, answer) = post(
        "/api/agent/1001/press",
        json!({"command": "SignOnGroup", "text": ""}),
    );
    assert_eq!(code, 200);
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["invoked"][0]["command"], "SignOn");
    assert_eq!(answer["invoked"][0]["deviceCommand"], "LogIn");
    let v = next_view(&mut events, "agent 1001 logged in", |v| {
        v["agent"]["event"] == "EventAgentNotReady"
    });
    assert!(v["log"].as_array().unwrap().iter().any(|l| l["text"]
        == "-> InvokeCommand LogIn [cmd-1] -> 0 (button SignOnGroup: sub-command SignOn)"));
    // Agent 1002's page is its own.
    let other = get_json(&format!("{base}/api/agent/1002/view"));
    assert_eq!(other["agent"]["event"], Value::Null, "{}", other["agent"]);

    // The text box feeds {@SelectedText}.
    let (_, answer) = post("/api/agent/1001/text", json!({"text": "5551234"}));
    assert_eq!(answer["view"]["text"], "5551234");
    // No callback follows: the stream sends the change all the same (other pages show it).
    next_view(&mut events, "the text on the stream", |v| {
        v["text"] == "5551234"
    });

    // Refusals.
    let (_, answer) = post("/api/agent/1001/press", json!({"command": "NoSuchButton"}));
    assert_eq!(answer["ok"], false);
    assert!(answer["error"]
        .as_str()
        .unwrap()
        .contains("DEF has no command"));
    assert_eq!(post("/api/agent/9999/press", json!({})).0, 404);
    assert_eq!(
        post("/api/agent/1001/phone", json!({"action": "call"})).0,
        404
    );
    let bad = ureq::post(&format!("{base}/api/agent/1001/press")).send_string("{not json");
    assert!(matches!(bad, Err(ureq::Error::Status(400, _))), "{bad:?}");
    let huge = "x".repeat(64 * 1024);
    let big = ureq::post(&format!("{base}/api/agent/1001/text")).send_json(json!({ "text": huge }));
    assert!(matches!(big, Err(ureq::Error::Status(400, _))), "{big:?}");
    drop(events);
    desktop.stop();
}
