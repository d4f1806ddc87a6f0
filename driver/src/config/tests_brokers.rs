//! `Driver:BrokerHost` as a failover list, and the reconnect delays' defaults.

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
