//! The desktop's "phone network" panel: not part of Siebel, a convenience for demos. It
//! places an inbound call to the agent and plays the far end of a call (answer, hang up)
//! through finesse-sim's admin API (`docs/finesse-sim.md`), so nobody needs curl.

use std::time::Duration;

use serde_json::{json, Value};

/// How long a request to finesse-sim's admin API may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// finesse-sim's admin API.
pub struct Phone {
    base: String,
    http: ureq::Agent,
}

fn clean(text: &str, max: usize) -> Result<&str, String> {
    let t = text.trim();
    if t.len() > max || t.chars().any(|c| c.is_control() || c == '/' || c == '?') {
        return Err(format!("unusable value {t:?}"));
    }
    Ok(t)
}

impl Phone {
    /// The admin API of the finesse-sim at `base` (e.g. `http://127.0.0.1:8082`).
    pub fn new(base: String) -> Phone {
        Phone {
            base: base.trim_end_matches('/').to_string(),
            http: ureq::AgentBuilder::new().timeout(TIMEOUT).build(),
        }
    }

    fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        match self
            .http
            .post(&format!("{}{path}", self.base))
            .send_json(body)
        {
            Ok(r) => Ok(r.into_json().unwrap_or(Value::Null)),
            Err(ureq::Error::Status(code, r)) => Err(format!(
                "finesse-sim answered {code}: {}",
                r.into_string().unwrap_or_default()
            )),
            Err(e) => Err(format!("finesse-sim: {e}")),
        }
    }

    /// `{"action": "call", "ani", "dnis", "callVariable1"}` rings `agent` with an inbound
    /// call; `{"action": "answer" | "hangup", "dialog"}` plays the far end of a call.
    pub fn act(&self, agent: &str, body: &Value) -> Result<Value, String> {
        let get = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("");
        match get("action") {
            "call" => {
                let mut call = json!({
                    "to": agent,
                    "ani": clean(get("ani"), 32)?,
                    "dnis": clean(get("dnis"), 32)?,
                });
                let var = clean(get("callVariable1"), 40)?;
                if !var.is_empty() {
                    call["callVariables"] = json!({ "callVariable1": var });
                }
                self.post("/admin/calls", call)
            }
            action @ ("answer" | "hangup") => {
                let dialog = clean(get("dialog"), 64)?;
                if dialog.is_empty() {
                    return Err("no call selected".into());
                }
                self.post(&format!("/admin/calls/{dialog}/{action}"), json!({}))
            }
            other => Err(format!("unknown phone action {other:?}")),
        }
    }
}
