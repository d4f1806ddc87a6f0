//! `siebel-cti-connector --check`: the configuration is valid, each broker takes a STOMP
//! login and each Finesse node answers SystemInfo in service, with a verdict an operator (or
//! an install script) can act on.

use std::time::Duration;

use driver::stomp::{self, Connection};

use crate::config::ConnectorConfig;
use crate::rest::{Credentials, Rest, RestError};

/// One thing checked: what, and the problem if it failed.
#[derive(Debug, PartialEq, Eq)]
pub struct Finding {
    /// What was checked (`broker 127.0.0.1:61613`, `Finesse https://…`).
    pub what: String,
    /// `None`: fine; otherwise what is wrong.
    pub problem: Option<String>,
}

/// Why a node's SystemInfo check failed, in words an administrator can act on.
pub fn finesse_failure(node: &str, e: RestError) -> String {
    match e {
        RestError::Unauthorized => format!(
            "Finesse {node} refused the administrator credentials \
             (finesse.admin_user, finesse.admin_password)"
        ),
        RestError::Api { status: 404, .. } => {
            format!("Finesse {node}: HTTP 404 for /finesse/api/SystemInfo (is finesse.url right?)")
        }
        e => format!("Finesse {node}: {}", e.message()),
    }
}

/// Tries every broker and every Finesse node of a (valid) configuration.
pub fn run(cfg: &ConnectorConfig, timeout: Duration) -> Vec<Finding> {
    let mut found = Vec::new();
    let b = &cfg.broker;
    let tls = b.tls_settings();
    for addr in b.addresses().unwrap_or_default() {
        let problem = (|| {
            let tls = tls.as_ref().map_err(|e| e.to_string())?;
            let sock = stomp::resolve(&addr.host, addr.port).map_err(|e| e.to_string())?;
            let conn = match tls {
                Some(t) => {
                    Connection::connect_tls(sock, &addr.host, t, &b.login, &b.password, timeout)
                }
                None => Connection::connect(sock, &b.login, &b.password, timeout),
            };
            conn.map(drop).map_err(|e| e.to_string())
        })()
        .err();
        found.push(Finding {
            what: format!("broker {addr}"),
            problem,
        });
    }
    let f = &cfg.finesse;
    let rest = f
        .tls_settings()
        .map(|t| Rest::new(timeout, t.as_ref()))
        .map_err(|e| e.to_string());
    let creds = (!f.admin_user.is_empty()).then(|| Credentials {
        user: f.admin_user.clone(),
        password: f.admin_password.clone(),
    });
    for node in cfg.nodes() {
        let problem = match &rest {
            Err(e) => Some(e.clone()),
            Ok(rest) => match rest.system_info(&node, creds.as_ref()) {
                Ok(info) if info.status == "IN_SERVICE" => None,
                Ok(info) => Some(format!("Finesse {node} is {}", info.status)),
                Err(e) => Some(finesse_failure(&node, e)),
            },
        };
        found.push(Finding {
            what: format!("Finesse {node}"),
            problem,
        });
    }
    found
}

/// The report's lines and whether everything passed.
pub fn report(found: &[Finding]) -> (String, bool) {
    let mut out = String::from("configuration: ok\n");
    let mut failed = 0;
    for f in found {
        match &f.problem {
            None => out.push_str(&format!("{}: ok\n", f.what)),
            Some(p) => {
                failed += 1;
                match p.strip_prefix(&f.what) {
                    Some(rest) => out.push_str(&format!("{}: FAILED{rest}\n", f.what)),
                    None => out.push_str(&format!("{}: FAILED: {p}\n", f.what)),
                }
            }
        }
    }
    if failed == 0 {
        out.push_str("check passed\n");
    } else {
        out.push_str(&format!(
            "check FAILED: {failed} of {} unreachable\n",
            found.len()
        ));
    }
    (out, failed == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_read_as_what_to_fix() {
        let node = "http://fa:8082";
        let not_found = RestError::Api {
            status: 404,
            error_type: String::new(),
            message: "HTTP 404".into(),
        };
        assert_eq!(
            finesse_failure(node, not_found),
            "Finesse http://fa:8082: HTTP 404 for /finesse/api/SystemInfo (is finesse.url right?)"
        );
        let creds = finesse_failure(node, RestError::Unauthorized);
        assert!(
            creds.contains("refused the administrator credentials"),
            "{creds}"
        );
        let other = RestError::Api {
            status: 400,
            error_type: String::new(),
            message: "HTTP 400".into(),
        };
        assert_eq!(
            finesse_failure(node, other),
            "Finesse http://fa:8082: HTTP 400"
        );
    }

    #[test]
    fn a_closed_port_fails_the_check_with_the_reason() {
        // A port nothing listens on: bound, then closed.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let cfg = ConnectorConfig::from_toml(
            &format!(
                "[broker]\nhost = \"127.0.0.1\"\nport = {port}\n\
                 [finesse]\nprimary = \"http://127.0.0.1:{port}\"\n"
            ),
            Vec::new(),
        )
        .unwrap();
        let found = run(&cfg, Duration::from_millis(500));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().all(|f| f.problem.is_some()), "{found:?}");
        let (text, ok) = report(&found);
        assert!(!ok);
        assert!(
            text.contains(&format!("broker 127.0.0.1:{port}: FAILED")),
            "{text}"
        );
        assert!(
            text.ends_with("check FAILED: 2 of 2 unreachable\n"),
            "{text}"
        );
        let (text, ok) = report(&[Finding {
            what: "broker b".into(),
            problem: None,
        }]);
        assert!(
            ok && text.ends_with("broker b: ok\ncheck passed\n"),
            "{text}"
        );
    }
}
