use super::*;

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn parses_prefixed_case_insensitive_keys() {
    let p = DriverConfig::from_params(&kv(&[
        ("Driver:BrokerHost", "mq.example"),
        ("driver:brokerport", "61614"),
        ("HeartbeatMs", "0"),
        ("Driver:ClientId", "siebel-a"),
        ("Driver:LogLevel", "DEBUG"),
        ("Driver:DeploymentType", "uccx"),
        ("Driver:Colour", "blue"),
    ]))
    .unwrap();
    assert_eq!(p.config.broker_host, "mq.example");
    assert_eq!(p.config.broker_port, 61614);
    assert_eq!(p.config.heartbeat_ms, 0);
    assert_eq!(p.config.client_id, "siebel-a");
    assert_eq!(p.config.log_level, LogLevel::Debug);
    assert_eq!(p.config.deployment, Deployment::Uccx);
    assert_eq!(p.unknown, vec!["Driver:Colour".to_string()]);
}

use crate::secure::KeyError;

#[test]
fn context_variable_is_a_call_or_ecc_variable() {
    for (v, want) in [
        ("", None),
        ("callVariable10", Some("callVariable10")),
        ("user.siebel.context", Some("user.siebel.context")),
    ] {
        let p = DriverConfig::from_params(&kv(&[("Driver:ContextVariable", v)])).unwrap();
        assert_eq!(p.config.context_variable.as_deref(), want);
    }
}

#[test]
fn bad_values_name_the_key() {
    for (k, v, needle) in [
        ("Driver:BrokerPort", "http", "Driver:BrokerPort"),
        ("Driver:BrokerPort", "0", "Driver:BrokerPort"),
        ("Driver:ClientId", "a b", "Driver:ClientId"),
        ("Driver:RequestQueue", "requests", "Driver:RequestQueue"),
        ("Driver:LogLevel", "loud", "Driver:LogLevel"),
        ("Driver:HeartbeatMs", "5", "Driver:HeartbeatMs"),
        ("Driver:DeploymentType", "PCCE9", "Driver:DeploymentType"),
        (
            "Driver:ContextVariable",
            "callVariable11",
            "Driver:ContextVariable",
        ),
        ("Driver:ContextVariable", "user.", "Driver:ContextVariable"),
        ("Driver:ReconnectMinMs", "900000", "Driver:ReconnectMinMs"),
        (
            "Driver:UseSecurePassword",
            "maybe",
            "Driver:UseSecurePassword",
        ),
        ("Driver:UseSecurePassword", "TRUE", "Driver:SecureKey"),
        (
            "Driver:ForceLogoutOnRelease",
            "sometimes",
            "Driver:ForceLogoutOnRelease",
        ),
    ] {
        let err = DriverConfig::from_params(&kv(&[(k, v)])).unwrap_err();
        assert!(err.to_string().contains(needle), "{k}={v}: {err}");
    }
    let err = DriverConfig::from_params(&kv(&[
        ("Driver:ReconnectMinMs", "5000"),
        ("Driver:ReconnectMaxMs", "1000"),
    ]))
    .unwrap_err();
    assert_eq!(
        err,
        ConfigError::ReconnectRange {
            min: 5000,
            max: 1000
        }
    );
    assert!(err.to_string().contains("ReconnectMinMs"));
}

#[test]
fn errors_say_which_failure_and_keep_the_key_error_as_cause() {
    let err = DriverConfig::from_params(&kv(&[("Driver:BrokerPort", "http")])).unwrap_err();
    assert_eq!(
        err,
        ConfigError::NotANumber {
            key: "BrokerPort",
            value: "http".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "Driver:BrokerPort must be a whole number, got \"http\""
    );
    let err = DriverConfig::from_params(&kv(&[
        ("Driver:UseSecurePassword", "TRUE"),
        ("Driver:SecureKey", "12"),
    ]))
    .unwrap_err();
    let ConfigError::SecureKey(cause) = &err else {
        panic!("{err:?}")
    };
    assert!(matches!(cause, KeyError::Digits { name, .. } if name == "Driver:SecureKey"));
    assert_eq!(
        std::error::Error::source(&err).map(|c| c.to_string()),
        Some("Driver:SecureKey must be 48 hexadecimal digits".to_string())
    );
    // A key alone turns secure passwords on; a weak key is refused with the reason.
    let on = DriverConfig::from_params(&kv(&[(
        "Driver:SecureKey",
        "0123456789abcdeffedcba987654321089abcdef01234567",
    )]))
    .unwrap();
    assert!(on.config.secure.is_some());
    let weak = DriverConfig::from_params(&kv(&[("Driver:SecureKey", &"0".repeat(48))]))
        .unwrap_err()
        .to_string();
    assert!(weak.contains("weak Triple-DES key (all zero)"), "{weak}");
}

#[test]
fn secure_passwords_on_need_a_key_file_that_can_be_read() {
    let none = DriverConfig::from_params(&kv(&[("Driver:UseSecurePassword", "TRUE")]))
        .unwrap_err()
        .to_string();
    assert!(none.contains("openssl rand -hex 24"), "{none}");
    let dir = std::env::temp_dir().join(format!("secure-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("secure.key");
    let path = file.display().to_string();
    let missing = DriverConfig::from_params(&kv(&[("Driver:SecureKeyFile", &path)]))
        .unwrap_err()
        .to_string();
    assert!(
        missing.starts_with("Driver:SecureKeyFile: cannot read"),
        "{missing}"
    );
    std::fs::write(&file, "0123456789abcdeffedcba987654321089abcdef01234567\n").unwrap();
    let on = DriverConfig::from_params(&kv(&[
        ("Driver:UseSecurePassword", "TRUE"),
        ("Driver:SecureKeyFile", &path),
    ]))
    .unwrap();
    assert!(on.config.secure.is_some());
    let both = DriverConfig::from_params(&kv(&[
        ("Driver:SecureKeyFile", &path),
        (
            "Driver:SecureKey",
            "0123456789abcdeffedcba987654321089abcdef01234567",
        ),
    ]))
    .unwrap_err();
    assert!(both.to_string().contains("not both"), "{both}");
    std::fs::write(&file, "0".repeat(48)).unwrap();
    let weak = DriverConfig::from_params(&kv(&[("Driver:SecureKeyFile", &path)]))
        .unwrap_err()
        .to_string();
    assert!(
        weak.contains("Driver:SecureKeyFile") && weak.contains("weak"),
        "{weak}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn debug_output_hides_passwords() {
    let p = DriverConfig::from_params(&kv(&[("Driver:BrokerPassword", "hunter2")])).unwrap();
    assert!(!format!("{:?}", p.config).contains("hunter2"));
    let s = ServiceConfig::from_params(&kv(&[("Service:AgentPassword", "pin123")]));
    assert!(!format!("{:?}", s.config).contains("pin123"));
}

#[test]
fn default_client_id_is_the_host_name_and_pid_and_connector_timeout_is_checked() {
    let c = DriverConfig::from_params(&[]).unwrap().config;
    let host = host_name().expect("this machine has a host name");
    assert!(c.client_id.ends_with(&format!("-{}", std::process::id())));
    assert!(
        c.client_id.starts_with(host.split('.').next().unwrap()),
        "{c:?}"
    );
    assert_eq!(c.connector_timeout_ms, 3_000);
    let t = |v: &str| DriverConfig::from_params(&kv(&[("Driver:ConnectorTimeoutMs", v)]));
    assert_eq!(t("0").unwrap().config.connector_timeout_ms, 0);
    assert_eq!(t("1500").unwrap().config.connector_timeout_ms, 1500);
    assert!(t("100").is_err());
}

#[test]
fn non_ascii_parameter_names_are_not_a_panic() {
    let s = ServiceConfig::from_params(&kv(&[("Param.Téléphone", "1"), ("Dri€", "x")]));
    assert_eq!(s.unknown.len(), 2);
    let d = DriverConfig::from_params(&kv(&[("Driv€r:X", "1"), ("é", "2")])).unwrap();
    assert_eq!(d.unknown.len(), 2);
}

#[test]
fn service_params_and_overlay() {
    let s = ServiceConfig::from_params(&kv(&[
        ("Service:AgentId", "1001"),
        ("Service:AgentPassword", "{@AgentPin}"),
        ("Extension", "5001"),
        ("Service:Other", "x"),
    ]));
    assert_eq!(s.config.agent_id.as_deref(), Some("1001"));
    assert_eq!(s.config.password, None, "unexpanded macro counts as absent");
    assert_eq!(s.unknown, vec!["Service:Other".to_string()]);
    let o = s
        .config
        .overlay(&kv(&[("Password", "pw"), ("Param.Extension", "5002")]));
    assert_eq!(o.password.as_deref(), Some("pw"));
    assert_eq!(o.extension.as_deref(), Some("5002"));
    assert_eq!(o.agent_id.as_deref(), Some("1001"));
}

#[test]
fn log_size_cap_kept_files_and_format() {
    let d = DriverConfig::from_params(&kv(&[
        ("Driver:MaxLogKB", "512"),
        ("Driver:LogKeepFiles", "0"),
        ("Driver:LogFormat", "JSON"),
    ]))
    .unwrap()
    .config;
    let s = d.log_settings();
    assert_eq!((s.max_kb, s.keep), (512, 0));
    assert_eq!(s.format, crate::logging::LogFormat::Json);
    let e = DriverConfig::from_params(&kv(&[("Driver:LogFormat", "xml")])).unwrap_err();
    assert!(e.to_string().contains("LogFormat"), "{e}");
    let e = DriverConfig::from_params(&kv(&[("MaxLogKB", "lots")])).unwrap_err();
    assert!(e.to_string().contains("MaxLogKB"), "{e}");
}
