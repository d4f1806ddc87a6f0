//! TLS to Finesse (issue 10, item 5): HTTPS with the test CA's certificate on finesse-sim's
//! HTTPS front, XMPP over STARTTLS and direct TLS to a Prosody of its own, a server without
//! STARTTLS refused before the password is sent. Figures: `SECURITY-FIGURE` lines.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use finesse_sim::Deployment;

use crate::common::*;
use crate::security::{ca_file, free_ports, unknown_ca};
use crate::security_rig::sim_with_agent;

#[test]
fn finesse_over_https_with_a_test_ca_works_with_its_ca_file_and_fails_without() {
    let (sim, _a) = sim_with_agent();
    // The test CA and finesse.pem/.key (made only when missing).
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
    let upstream = sim
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let front = finesse_sim::https::HttpsFront::start(
        upstream,
        &certs.join("finesse.pem"),
        &certs.join("finesse.key"),
    )
    .unwrap();
    let timeout = Duration::from_secs(5);
    let with_ca = connector::rest::Rest::new(
        timeout,
        Some(&driver::stomp::TlsSettings::from_ca_file(&ca_file()).unwrap()),
    );
    let info = with_ca.system_info(&front.base_url(), None).unwrap();
    println!("SECURITY-FIGURE Finesse over HTTPS with its CA file: {info:?}");
    let without = connector::rest::Rest::new(timeout, None);
    let e = without.system_info(&front.base_url(), None).unwrap_err();
    println!("SECURITY-FIGURE Finesse over HTTPS without its CA file: {e}");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
    let other = connector::rest::Rest::new(
        timeout,
        Some(&driver::stomp::TlsSettings::from_ca_file(&unknown_ca()).unwrap()),
    );
    assert!(other.system_info(&front.base_url(), None).is_err());
}

/// A Prosody of its own offering STARTTLS (and direct TLS) with `prosody.pem` from the test
/// CA (`scripts/prosody.sh` with `XMPP_TLS=1`); stopped when dropped.
struct TlsProsody {
    env: Vec<(&'static str, String)>,
    port: u16,
    tls_port: u16,
}

impl TlsProsody {
    fn start() -> TlsProsody {
        let [port, tls_port] = free_ports::<2>();
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(unique("prosody-tls"));
        let p = TlsProsody {
            env: vec![
                ("PROSODY_BASE", base.display().to_string()),
                ("XMPP_PORT", port.to_string()),
                ("XMPP_TLS", "1".into()),
                ("XMPP_TLS_PORT", tls_port.to_string()),
            ],
            port,
            tls_port,
        };
        let out = p.script("start");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        p
    }

    fn script(&self, what: &str) -> std::process::Output {
        Command::new("bash")
            .arg(repo().join("scripts/prosody.sh"))
            .arg(what)
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .unwrap()
    }
}

impl Drop for TlsProsody {
    fn drop(&mut self) {
        let _ = self.script("stop");
    }
}

#[test]
fn xmpp_to_finesse_over_starttls_and_direct_tls_with_the_certificate_checked() {
    let out = Command::new("bash")
        .arg(repo().join("scripts/certs.sh"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prosody = TlsProsody::start();
    // finesse-sim creates the agent's account (over the plain port, which stays open to it).
    let id = crate::chain::agent_id();
    let config = finesse_sim::SimConfig {
        http: "127.0.0.1:0".parse().unwrap(),
        deployment: Deployment::Ucce,
        xmpp: format!("127.0.0.1:{}", prosody.port).parse().unwrap(),
        xmpp_domain: "finesse.local".into(),
        pubsub_domain: "pubsub.finesse.local".into(),
        admin_user: "finesse-admin".into(),
        admin_password: "finesse-admin-pw".into(),
        finesse_version: "12.5(1)".into(),
        secondary_host: String::new(),
        agents: vec![finesse_sim::AgentConfig {
            id: id.clone(),
            password: "pw-tls".into(),
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            extension: "5001".into(),
            team_id: "1".into(),
            team_name: "Sales".into(),
        }],
        not_ready_reasons: Vec::new(),
        logout_reasons: Vec::new(),
        wrap_up_reasons: Vec::new(),
    };
    let sim = finesse_sim::FinesseSim::start(config).expect("finesse-sim on the TLS Prosody");
    let ca = driver::stomp::TlsSettings::from_ca_file(&ca_file())
        .unwrap()
        .config();
    let other = driver::stomp::TlsSettings::from_ca_file(&unknown_ca())
        .unwrap()
        .config();
    use connector::xmpp::{XmppConn, XmppTls};
    let login = |port: u16, tls: XmppTls| {
        XmppConn::login(
            format!("127.0.0.1:{port}").parse().unwrap(),
            &tls,
            "finesse.local",
            &id,
            "pw-tls",
            "sec-test",
            Duration::from_secs(5),
        )
    };
    let name = || "127.0.0.1".to_string();
    let c = login(prosody.port, XmppTls::StartTls(ca.clone(), name())).expect("STARTTLS");
    println!(
        "SECURITY-FIGURE XMPP STARTTLS with the test CA: bound as {}",
        c.jid
    );
    c.close();
    let c = login(prosody.tls_port, XmppTls::Direct(ca.clone(), name())).expect("direct TLS");
    println!(
        "SECURITY-FIGURE XMPP direct TLS with the test CA: bound as {}",
        c.jid
    );
    c.close();
    let e = login(prosody.port, XmppTls::StartTls(other.clone(), name()))
        .err()
        .expect("another CA is refused");
    println!("SECURITY-FIGURE XMPP STARTTLS with another CA: {e}");
    assert!(e.to_string().contains("certificate"), "{e}");
    assert!(login(prosody.tls_port, XmppTls::Direct(other, name())).is_err());
    // A server without TLS: STARTTLS required, so no login (no password sent in clear).
    let (plain_port, heard) = xmpp_server_without_tls();
    let e = login(plain_port, XmppTls::StartTls(ca, name()))
        .err()
        .expect("a plain server is refused");
    assert!(e.to_string().contains("STARTTLS"), "{e}");
    let heard = heard.join().unwrap();
    assert!(
        !heard.contains("<auth"),
        "the client authenticated in clear: {heard}"
    );
    println!("SECURITY-FIGURE XMPP server without STARTTLS: refused ({e}); no <auth> sent");
    sim.stop();
}

/// An XMPP server that offers SASL PLAIN and no STARTTLS, for one client; returns its port
/// and what the client sent until it left.
fn xmpp_server_without_tls() -> (u16, std::thread::JoinHandle<String>) {
    use std::io::{Read, Write};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let heard = std::thread::spawn(move || {
        let (mut c, _) = l.accept().unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut heard = String::new();
        let mut buf = [0u8; 4096];
        let mut answered = false;
        while let Ok(n) = c.read(&mut buf) {
            if n == 0 {
                break;
            }
            heard.push_str(&String::from_utf8_lossy(&buf[..n]));
            if !answered && heard.contains("<stream:stream") {
                answered = true;
                let _ = c.write_all(
                    b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
                      xmlns:stream='http://etherx.jabber.org/streams' id='s1' \
                      from='finesse.local' version='1.0'><stream:features>\
                      <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
                      <mechanism>PLAIN</mechanism></mechanisms></stream:features>",
                );
            }
        }
        heard
    });
    (port, heard)
}
