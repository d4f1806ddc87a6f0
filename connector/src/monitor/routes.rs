//! Who may read what, and the answers.
//!
//! | path | without credentials (when configured) | with |
//! |---|---|---|
//! | `/health` | the summary; 200 in service, 503 otherwise | the full document; same codes |
//! | `/health/active` | as `/health`, but 503 also for a standby | same |
//! | `/metrics` | 401 | Prometheus text |
//! | `/`, `/console.js`, `/console.css` | 401 | the page |
//! | `/api/state` | 401 | the full document |
//! | `/events` | 401 | the document whenever it changed, as server-sent events |

use std::sync::Arc;

use super::document;
use super::events::Streams;
use crate::console_auth::ConsoleAuth;
use crate::service::Shared;

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("console.js");
const STYLE: &str = include_str!("console.css");

/// Answers the console's requests.
pub(super) struct Router {
    pub shared: Arc<Shared>,
    pub auth: Option<ConsoleAuth>,
    pub streams: Streams,
}

/// One answer: status, content type, body.
struct Answer(u16, &'static str, String);

fn json(status: u16, v: &serde_json::Value) -> Answer {
    Answer(status, "application/json", v.to_string())
}

impl Router {
    fn admitted(&self, req: &tiny_http::Request) -> bool {
        self.auth.as_ref().is_none_or(|a| {
            let h = req
                .headers()
                .iter()
                .find(|h| h.field.equiv("Authorization"));
            a.admits(h.map(|h| h.value.as_str()))
        })
    }

    /// Answers one request.
    pub(super) fn serve(&self, req: tiny_http::Request) {
        let admitted = self.admitted(&req);
        let path = req.url().split('?').next().unwrap_or_default().to_string();
        let s = &self.shared;
        let answer = match path.as_str() {
            "/health" | "/health/active" => {
                let up = document::in_service(s);
                let up = up && (path == "/health" || s.core().serving());
                let code = if up { 200 } else { 503 };
                if admitted {
                    json(code, &document::health(s))
                } else {
                    json(code, &document::summary(s))
                }
            }
            _ if !admitted => {
                tracing::warn!(
                    "monitor: refused {} {} from {:?}: no valid credentials",
                    req.method(),
                    req.url(),
                    req.remote_addr()
                );
                Answer(401, "text/plain", "authentication required".into())
            }
            "/events" => return self.streams.open(req, s.clone()),
            "/" | "/index.html" => Answer(200, "text/html; charset=utf-8", PAGE.into()),
            "/console.js" => Answer(200, "text/javascript; charset=utf-8", SCRIPT.into()),
            "/console.css" => Answer(200, "text/css; charset=utf-8", STYLE.into()),
            "/api/state" => json(200, &document::health(s)),
            "/metrics" => Answer(
                200,
                "text/plain; version=0.0.4; charset=utf-8",
                document::metrics(s),
            ),
            _ => Answer(404, "text/plain", "not found".into()),
        };
        let Answer(code, ctype, body) = answer;
        let header =
            |k: &str, v: &str| tiny_http::Header::from_bytes(k, v).expect("static header is valid");
        let mut resp = tiny_http::Response::from_string(body)
            .with_status_code(code)
            .with_header(header("Content-Type", ctype))
            .with_header(header("Cache-Control", "no-store"));
        if code == 401 {
            resp.add_header(header(
                "WWW-Authenticate",
                "Basic realm=\"siebel-cti connector\"",
            ));
        }
        let _ = req.respond(resp);
    }
}
