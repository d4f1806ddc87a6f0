//! Finesse REST client: Basic auth, XML bodies, `requestId` headers, Finesse's error bodies
//! mapped to protocol error codes.

use std::io::Read;
use std::time::Duration;

use base64::Engine;
use driver::protocol::{AgentInfo, ReasonCode};

use crate::xml::{self, escape, Element, SystemInfo};

mod supervise;
pub use supervise::SupervisorDialog;

/// A failed REST call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestError {
    /// 401: wrong id or password.
    Unauthorized,
    /// A Finesse error answer (status, ErrorType, message).
    Api {
        /// HTTP status.
        status: u16,
        /// Finesse `ErrorType`.
        error_type: String,
        /// Finesse message.
        message: String,
    },
    /// The node did not answer, or answered 5xx.
    Unavailable(String),
    /// The connector's own configuration cannot serve the request.
    Config(String),
}

impl RestError {
    /// The protocol error code (see `docs/protocol.md`).
    pub fn code(&self) -> &'static str {
        match self {
            RestError::Unauthorized => "Unauthorized",
            RestError::Api {
                error_type, status, ..
            } => match error_type.as_str() {
                "Invalid State" => "InvalidState",
                "Invalid Input" | "Parameter Missing" => "InvalidInput",
                "Not Found" => "NotFound",
                "NoSession" => "NoSession",
                // Asynchronous call failures (UCCX / UCCE wording).
                "Call Operation Failure" | "Generic Error" => "CallFailed",
                _ if *status == 404 => "NotFound",
                _ => "FinesseError",
            },
            RestError::Unavailable(_) => "FinesseUnavailable",
            RestError::Config(_) => "ConnectorConfig",
        }
    }

    /// A message for the agent (English).
    pub fn message(&self) -> String {
        match self {
            RestError::Unauthorized => "Invalid agent id or password".into(),
            RestError::Api {
                error_type,
                message,
                ..
            } if matches!(
                error_type.as_str(),
                "Call Operation Failure" | "Generic Error"
            ) =>
            {
                match cti_failure_words(message) {
                    Some(words) => format!("{words} ({message})"),
                    None if message.is_empty() => error_type.clone(),
                    None => message.clone(),
                }
            }
            RestError::Api {
                error_type,
                message,
                ..
            } => {
                if message.is_empty() {
                    error_type.clone()
                } else if error_type.is_empty() {
                    message.clone()
                } else {
                    format!("{error_type}: {message}")
                }
            }
            RestError::Unavailable(m) => format!("Cisco Finesse is unavailable ({m})"),
            RestError::Config(m) => format!("CTI connector configuration: {m}"),
        }
    }
}

/// Plain words for the CTI failure an asynchronous call error names (its `errorMessage`).
fn cti_failure_words(cti: &str) -> Option<&'static str> {
    Some(match cti {
        "CF_BUSY" => "the number is busy",
        "CF_INVALID_DESTINATION" | "CF_INVALID_DEST" => "the number is not valid",
        "CF_RESOURCE_OUT_OF_SERVICE" => "the phone line is out of service",
        "CF_RESOURCE_BUSY" => "the phone is busy",
        "CF_INVALID_STATE" | "CF_INVALID_CALL_STATE" => "the call cannot do that now",
        "CF_GENERIC_UNSPECIFIED" | "CF_GENERIC_OPERATION" => {
            "the contact center could not complete it"
        }
        _ => return None,
    })
}

impl std::fmt::Display for RestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

/// The causes (transport, HTTP, XML) are kept as text: the error is cloned into flows and
/// compared in tests, and only its code and message reach the driver.
impl std::error::Error for RestError {}

/// Credentials for Basic auth.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User (agent id).
    pub user: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ***)", self.user)
    }
}

impl crate::config::Finesse {
    /// The TLS settings of the Finesse nodes: `None` for the built-in public CAs.
    pub fn tls_settings(
        &self,
    ) -> Result<Option<driver::stomp::TlsSettings>, crate::config::ConfigError> {
        if self.ca_file.is_empty() {
            return Ok(None);
        }
        driver::stomp::TlsSettings::from_ca_file(std::path::Path::new(&self.ca_file))
            .map(Some)
            .map_err(|e| crate::config::ConfigError::Value {
                key: "finesse.ca_file",
                problem: e.to_string(),
            })
    }
}

/// REST calls against one Finesse node (`base` like `https://host:8445`).
#[derive(Clone)]
pub struct Rest {
    agent: ureq::Agent,
}

fn basic(c: &Credentials) -> String {
    let token = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", c.user, c.password).as_bytes());
    format!("Basic {token}")
}

impl Rest {
    /// A client with this request timeout; HTTPS trusts `tls`'s CA file when given, else
    /// the public web CAs built in.
    pub fn new(timeout: Duration, tls: Option<&driver::stomp::TlsSettings>) -> Rest {
        let mut b = ureq::AgentBuilder::new()
            .timeout_connect(timeout)
            .timeout(timeout);
        if let Some(t) = tls {
            b = b.tls_config(t.config());
        }
        Rest { agent: b.build() }
    }

    fn call(
        &self,
        method: &str,
        url: &str,
        creds: Option<&Credentials>,
        body: Option<&str>,
        request_id: Option<&str>,
    ) -> Result<String, RestError> {
        let mut req = self.agent.request(method, url);
        if let Some(c) = creds {
            req = req.set("Authorization", &basic(c));
        }
        if let Some(r) = request_id {
            req = req.set("requestId", r);
        }
        let result = match body {
            Some(b) => req.set("Content-Type", "application/xml").send_string(b),
            None => req.call(),
        };
        match result {
            Ok(resp) => {
                let mut text = String::new();
                resp.into_reader()
                    .take(4 << 20)
                    .read_to_string(&mut text)
                    .map_err(|e| RestError::Unavailable(e.to_string()))?;
                Ok(text)
            }
            Err(ureq::Error::Status(401, _)) => Err(RestError::Unauthorized),
            Err(ureq::Error::Status(status, resp)) if status < 500 => {
                let text = resp.into_string().unwrap_or_default();
                let err = Element::parse(&text).ok().and_then(|e| xml::api_error(&e));
                Err(RestError::Api {
                    status,
                    error_type: err
                        .as_ref()
                        .map(|e| e.error_type.clone())
                        .unwrap_or_default(),
                    message: err
                        .map(|e| e.message)
                        .unwrap_or_else(|| format!("HTTP {status}")),
                })
            }
            Err(ureq::Error::Status(status, _)) => {
                Err(RestError::Unavailable(format!("HTTP {status} from {url}")))
            }
            Err(ureq::Error::Transport(t)) => Err(RestError::Unavailable(t.to_string())),
        }
    }

    /// `GET /finesse/api/SystemInfo`.
    pub fn system_info(
        &self,
        base: &str,
        creds: Option<&Credentials>,
    ) -> Result<SystemInfo, RestError> {
        let text = self.call(
            "GET",
            &format!("{base}/finesse/api/SystemInfo"),
            creds,
            None,
            None,
        )?;
        let e = Element::parse(&text)
            .map_err(|e| RestError::Unavailable(format!("SystemInfo: {e}")))?;
        Ok(xml::system_info(&e))
    }

    /// `GET /finesse/api/User/{id}`.
    pub fn user(&self, base: &str, id: &str, creds: &Credentials) -> Result<AgentInfo, RestError> {
        let text = self.call("GET", &user_url(base, id), Some(creds), None, None)?;
        let e = Element::parse(&text).map_err(|e| RestError::Unavailable(format!("User: {e}")))?;
        xml::user_info(&e).map_err(|e| RestError::Unavailable(format!("User: {e}")))
    }

    /// `GET /finesse/api/User/{id}/ReasonCodes?category=…`.
    pub fn reason_codes(
        &self,
        base: &str,
        id: &str,
        creds: &Credentials,
        category: &str,
    ) -> Result<Vec<ReasonCode>, RestError> {
        let category: String = category
            .chars()
            .filter(|c| c.is_ascii_alphabetic() || *c == '_')
            .collect();
        let url = format!("{}/ReasonCodes?category={category}", user_url(base, id));
        let text = self.call("GET", &url, Some(creds), None, None)?;
        let e = Element::parse(&text)
            .map_err(|e| RestError::Unavailable(format!("ReasonCodes: {e}")))?;
        Ok(xml::reason_codes(&e))
    }

    /// `GET /finesse/api/User/{id}/WrapUpReasons`.
    pub fn wrap_up_reasons(
        &self,
        base: &str,
        id: &str,
        creds: &Credentials,
    ) -> Result<Vec<ReasonCode>, RestError> {
        let url = format!("{}/WrapUpReasons", user_url(base, id));
        let text = self.call("GET", &url, Some(creds), None, None)?;
        let e = Element::parse(&text)
            .map_err(|e| RestError::Unavailable(format!("WrapUpReasons: {e}")))?;
        Ok(xml::wrap_up_reasons(&e))
    }

    /// `GET /finesse/api/User/{id}/Dialogs`: the agent's dialogs (XML elements).
    pub fn dialogs(
        &self,
        base: &str,
        id: &str,
        creds: &Credentials,
    ) -> Result<Vec<Element>, RestError> {
        let text = self.call(
            "GET",
            &format!("{}/Dialogs", user_url(base, id)),
            Some(creds),
            None,
            None,
        )?;
        let e =
            Element::parse(&text).map_err(|e| RestError::Unavailable(format!("Dialogs: {e}")))?;
        Ok(xml::dialogs(&e).into_iter().cloned().collect())
    }

    /// A call action on a dialog: `PUT /Dialog/{id}` (or `POST` for `CONSULT_CALL`) with the
    /// agent's extension as `targetMediaAddress` (202 expected).
    pub fn dialog_action(
        &self,
        base: &str,
        dialog: &str,
        creds: &Credentials,
        action: &DialogAction,
        request_id: &str,
    ) -> Result<(), RestError> {
        let method = if action.action == "CONSULT_CALL" {
            "POST"
        } else {
            "PUT"
        };
        let url = format!("{base}/finesse/api/Dialog/{}", safe_id(dialog));
        self.call(
            method,
            &url,
            Some(creds),
            Some(&action.xml()),
            Some(request_id),
        )
        .map(|_| ())
    }

    /// `POST /User/{id}/Dialogs` with `MAKE_CALL` from the agent's extension.
    pub fn make_call(
        &self,
        base: &str,
        id: &str,
        creds: &Credentials,
        from: &str,
        to: &str,
        request_id: &str,
    ) -> Result<(), RestError> {
        let body = format!(
            "<Dialog><requestedAction>MAKE_CALL</requestedAction><fromAddress>{}</fromAddress><toAddress>{}</toAddress></Dialog>",
            escape(from),
            escape(to)
        );
        let url = format!("{}/Dialogs", user_url(base, id));
        self.call("POST", &url, Some(creds), Some(&body), Some(request_id))
            .map(|_| ())
    }

    /// `PUT /finesse/api/User/{id}` with a state change (202 expected).
    pub fn set_state(
        &self,
        base: &str,
        id: &str,
        creds: &Credentials,
        change: &StateChange,
        request_id: &str,
    ) -> Result<(), RestError> {
        self.call(
            "PUT",
            &user_url(base, id),
            Some(creds),
            Some(&change.xml()),
            Some(request_id),
        )
        .map(|_| ())
    }
}

/// An id made safe for a URL path segment.
fn safe_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

fn user_url(base: &str, id: &str) -> String {
    format!("{base}/finesse/api/User/{}", safe_id(id))
}

/// The body of a dialog action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialogAction {
    /// Finesse `requestedAction`.
    pub action: String,
    /// The agent's extension (`targetMediaAddress`).
    pub extension: String,
    /// Transfer / consult target (`toAddress`).
    pub to: Option<String>,
    /// DTMF digits (`actionParams` `dtmfString`).
    pub dtmf: Option<String>,
    /// Wrap-up reason (`UPDATE_CALL_DATA`).
    pub wrap_up_reason: Option<String>,
    /// Call and ECC variables to set (`UPDATE_CALL_DATA`), as (name, value).
    pub call_variables: Vec<(String, String)>,
}

impl DialogAction {
    /// The XML body.
    pub fn xml(&self) -> String {
        let mut s = format!(
            "<Dialog><requestedAction>{}</requestedAction><targetMediaAddress>{}</targetMediaAddress>",
            escape(&self.action),
            escape(&self.extension)
        );
        if let Some(t) = &self.to {
            s.push_str(&format!("<toAddress>{}</toAddress>", escape(t)));
        }
        if let Some(d) = &self.dtmf {
            s.push_str(&format!(
                "<actionParams><ActionParam><name>dtmfString</name><value>{}</value></ActionParam></actionParams>",
                escape(d)
            ));
        }
        s.push_str(&self.media_properties());
        s.push_str("</Dialog>");
        s
    }
}

impl DialogAction {
    /// `mediaProperties` with the wrap-up reason and the call variables (Cisco's
    /// UPDATE_CALL_DATA body: `callvariables/CallVariable/{name,value}`); empty without them.
    fn media_properties(&self) -> String {
        if self.wrap_up_reason.is_none() && self.call_variables.is_empty() {
            return String::new();
        }
        let mut s = String::from("<mediaProperties>");
        if let Some(w) = &self.wrap_up_reason {
            s.push_str(&format!("<wrapUpReason>{}</wrapUpReason>", escape(w)));
        }
        if !self.call_variables.is_empty() {
            s.push_str("<callvariables>");
            for (name, value) in &self.call_variables {
                s.push_str(&format!(
                    "<CallVariable><name>{}</name><value>{}</value></CallVariable>",
                    escape(name),
                    escape(value)
                ));
            }
            s.push_str("</callvariables>");
        }
        s.push_str("</mediaProperties>");
        s
    }
}

/// The body of a `PUT /User/{id}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateChange {
    /// LOGIN, LOGOUT, READY, NOT_READY, WORK_READY...
    pub state: String,
    /// Extension, for LOGIN.
    pub extension: Option<String>,
    /// Reason code id, for NOT_READY and LOGOUT.
    pub reason_code_id: Option<String>,
}

impl StateChange {
    /// The XML body.
    pub fn xml(&self) -> String {
        let mut s = format!("<User><state>{}</state>", escape(&self.state));
        if let Some(e) = &self.extension {
            s.push_str(&format!("<extension>{}</extension>", escape(e)));
        }
        if let Some(r) = &self.reason_code_id {
            s.push_str(&format!("<reasonCodeId>{}</reasonCodeId>", escape(r)));
        }
        s.push_str("</User>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dialog_action_carries_target_media_address() {
        for action in ["ANSWER", "UPDATE_CALL_DATA", "TRANSFER_SST", "SEND_DTMF"] {
            let body = DialogAction {
                action: action.into(),
                extension: "5001".into(),
                to: None,
                dtmf: None,
                wrap_up_reason: Some("Sale".into()),
                call_variables: Vec::new(),
            }
            .xml();
            assert!(
                body.contains("<targetMediaAddress>5001</targetMediaAddress>"),
                "{body}"
            );
        }
    }

    #[test]
    fn bodies_and_codes() {
        let c = StateChange {
            state: "LOGIN".into(),
            extension: Some("5001".into()),
            reason_code_id: None,
        };
        assert_eq!(
            c.xml(),
            "<User><state>LOGIN</state><extension>5001</extension></User>"
        );
        assert_eq!(
            user_url("http://h", "10/../01"),
            "http://h/finesse/api/User/10..01"
        );
        assert_eq!(RestError::Unauthorized.code(), "Unauthorized");
        let e = RestError::Api {
            status: 400,
            error_type: "Invalid State".into(),
            message: "x".into(),
        };
        assert_eq!(e.code(), "InvalidState");
        for error_type in ["Call Operation Failure", "Generic Error"] {
            let e = RestError::Api {
                status: 400,
                error_type: error_type.into(),
                message: "CF_BUSY".into(),
            };
            assert_eq!(e.code(), "CallFailed");
            assert_eq!(e.message(), "the number is busy (CF_BUSY)");
        }
        let odd = RestError::Api {
            status: 400,
            error_type: "Generic Error".into(),
            message: "CF_SOMETHING_NEW".into(),
        };
        assert_eq!(odd.message(), "CF_SOMETHING_NEW");
        assert!(!format!(
            "{:?}",
            Credentials {
                user: "a".into(),
                password: "pw".into()
            }
        )
        .contains("pw"));
    }

    #[test]
    fn call_variables_go_under_media_properties() {
        let body = DialogAction {
            action: "UPDATE_CALL_DATA".into(),
            extension: "5001".into(),
            to: None,
            dtmf: None,
            wrap_up_reason: None,
            call_variables: vec![("callVariable10".into(), "1-<A&B>".into())],
        }
        .xml();
        assert_eq!(
            body,
            "<Dialog><requestedAction>UPDATE_CALL_DATA</requestedAction>\
             <targetMediaAddress>5001</targetMediaAddress><mediaProperties><callvariables>\
             <CallVariable><name>callVariable10</name><value>1-&lt;A&amp;B&gt;</value>\
             </CallVariable></callvariables></mediaProperties></Dialog>"
        );
    }
}
