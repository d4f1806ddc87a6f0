//! `Driver:BrokerHost` as a failover list, the reconnect delays' defaults, TLS and the broker login.

use super::*;
use crate::stomp::BrokerAddr;

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn broker_host_takes_one_host_or_a_failover_list() {
    let one = DriverConfig::from_params(&kv(&[
        ("Driver:BrokerHost", "mq-a"),
        ("Driver:BrokerPort", "61620"),
    ]))
    .unwrap();
    assert_eq!(one.config.brokers, vec![BrokerAddr::new("mq-a", 61620)]);
    // The port given after the list still applies to the entries without one.
    let two = DriverConfig::from_params(&kv(&[
        ("Driver:BrokerHost", "mq-a, mq-b:61614"),
        ("Driver:BrokerPort", "61620"),
    ]))
    .unwrap();
    assert_eq!(
        two.config.brokers,
        vec![
            BrokerAddr::new("mq-a", 61620),
            BrokerAddr::new("mq-b", 61614)
        ]
    );
    assert!(format!("{:?}", two.config).contains("mq-a:61620,mq-b:61614"));
    let err = DriverConfig::from_params(&kv(&[("Driver:BrokerHost", "mq-a,mq-b:x")])).unwrap_err();
    assert!(matches!(err, ConfigError::Brokers(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "Driver:BrokerHost entry \"mq-b:x\": the port must be 1 to 65535"
    );
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn reconnect_delays_default_to_a_short_cap() {
    let d = DriverConfig::from_params(&[]).unwrap().config;
    assert_eq!((d.reconnect_min_ms, d.reconnect_max_ms), (500, 1_000));
    let only_min = DriverConfig::from_params(&kv(&[("Driver:ReconnectMinMs", "5000")])).unwrap();
    assert_eq!(only_min.config.reconnect_max_ms, 5_000);
}

#[test]
fn tls_is_on_with_a_ca_file_and_plain_only_when_asked_for() {
    let plain = DriverConfig::from_params(&kv(&[])).unwrap();
    assert_eq!(plain.config.broker_ca_file, None);
    let tls = DriverConfig::from_params(&kv(&[("Driver:BrokerCaFile", "/etc/ca.pem")])).unwrap();
    assert_eq!(
        tls.config.broker_ca_file.as_deref(),
        Some(std::path::Path::new("/etc/ca.pem"))
    );
    let off = DriverConfig::from_params(&kv(&[
        ("Driver:BrokerCaFile", "/etc/ca.pem"),
        ("Driver:BrokerTls", "FALSE"),
    ]))
    .unwrap();
    assert_eq!(off.config.broker_ca_file, None);
    let err = DriverConfig::from_params(&kv(&[("Driver:BrokerTls", "TRUE")])).unwrap_err();
    assert!(err.to_string().contains("Driver:BrokerCaFile"), "{err}");
    let err = DriverConfig::from_params(&kv(&[("Driver:BrokerTls", "maybe")])).unwrap_err();
    assert!(err.to_string().contains("Driver:BrokerTls"), "{err}");
}

#[test]
fn a_broker_login_puts_the_default_client_id_in_its_namespace() {
    let p = DriverConfig::from_params(&kv(&[("Driver:BrokerLogin", "siebel-a")])).unwrap();
    assert!(
        p.config.client_id.starts_with("siebel-a."),
        "{}",
        p.config.client_id
    );
    let given = DriverConfig::from_params(&kv(&[
        ("Driver:BrokerLogin", "siebel-a"),
        ("Driver:ClientId", "siebel-a.srv1"),
    ]))
    .unwrap();
    assert_eq!(given.config.client_id, "siebel-a.srv1");
}
