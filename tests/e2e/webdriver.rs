//! A minimal WebDriver client (W3C protocol over HTTP with `ureq`) driving Debian's headless
//! Chromium through `chromedriver`. No browser or driver: the test fails, naming
//! `scripts/deps.sh`, which installs both.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};

use crate::common::*;

/// The key of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Debian's Chromium and its WebDriver.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A headless Chromium session; the browser and chromedriver end with it.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    _profile: TempDir,
}

/// A directory removed on drop (the browser's fresh profile).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

fn check(answer: Result<ureq::Response, ureq::Error>, what: &str) -> Value {
    match answer {
        Ok(r) => r.into_json::<Value>().expect("WebDriver answers JSON")["value"].take(),
        Err(ureq::Error::Status(code, r)) => {
            panic!(
                "WebDriver {what}: {code} {}",
                r.into_string().unwrap_or_default()
            )
        }
        Err(e) => panic!("WebDriver {what}: {e}"),
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile, 1280x1000.
    pub fn start() -> Browser {
        for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            assert!(
                Path::new(path).exists(),
                "{path} is missing: install Debian's {package} (bash scripts/deps.sh)"
            );
        }
        let port = free_port();
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{}.log", unique("chromedriver")));
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let base = format!("http://127.0.0.1:{port}");
        let http = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(5))
            .build();
        wait_until("chromedriver to answer /status", WAIT_HTTP, || {
            http.get(&format!("{base}/status"))
                .call()
                .map_err(|e| e.to_string())
        });
        let profile =
            TempDir(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(unique("chromium-profile")));
        std::fs::create_dir_all(&profile.0).unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", profile.0.display())])
        .collect::<Vec<_>>();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            _profile: profile,
        };
        let created = check(
            ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(60))
                .build()
                .post(&format!("{}/session", browser.base))
                .send_json(caps),
            "new session",
        );
        browser.session = created["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        browser
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    fn post(&self, path: &str, body: Value) -> Value {
        check(
            ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build()
                .post(&self.url(path))
                .send_json(body),
            path,
        )
    }

    /// Opens a page.
    pub fn open(&self, url: &str) {
        self.post("/url", json!({ "url": url }));
    }

    /// Runs a script in the page (`return ...`), with `args`; returns its value.
    pub fn script(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
    }

    /// The first element matching a CSS selector (panics when none).
    pub fn find(&self, css: &str) -> String {
        let v = self.post("/element", json!({"using": "css selector", "value": css}));
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    /// Clicks the element matching `css`, as a user does (it must be visible and enabled).
    pub fn click(&self, css: &str) {
        let e = self.find(css);
        self.post(&format!("/element/{e}/click"), json!({}));
    }

    /// Replaces the text of the input matching `css` by typing `text`.
    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.post(&format!("/element/{e}/clear"), json!({}));
        self.post(&format!("/element/{e}/value"), json!({ "text": text }));
    }

    /// Presses a key chord with the keyboard (e.g. Ctrl+Shift+D) on the focused element.
    pub fn chord(&self, modifiers: &[&str], key: char) {
        let code = |m: &str| match m {
            "Ctrl" => "\u{E009}",
            "Shift" => "\u{E008}",
            "Alt" => "\u{E00A}",
            other => panic!("unknown modifier {other}"),
        };
        let mut actions: Vec<Value> = modifiers
            .iter()
            .map(|m| json!({"type": "keyDown", "value": code(m)}))
            .collect();
        actions.push(json!({"type": "keyDown", "value": key.to_string()}));
        actions.push(json!({"type": "keyUp", "value": key.to_string()}));
        actions.extend(
            modifiers
                .iter()
                .rev()
                .map(|m| json!({"type": "keyUp", "value": code(m)})),
        );
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        );
        let _ = check(
            ureq::delete(&self.url("/actions")).call(),
            "release actions",
        );
    }

    /// Saves a screenshot of the window as PNG.
    pub fn screenshot(&self, path: &Path) {
        let png = check(ureq::get(&self.url("/screenshot")).call(), "screenshot");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64 PNG"))
            .expect("valid base64");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, bytes).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session)).call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
