use super::*;

#[test]
fn login_wire_form_and_redaction() {
    let e = Envelope::new(
        "d1-7",
        Message::Login {
            agent: "1001".into(),
            password: "s3cret".into(),
            encrypted: false,
            extension: "5001".into(),
        },
    );
    let json = String::from_utf8(e.to_json()).unwrap();
    assert!(json.contains(r#""type":"Login""#), "{json}");
    assert!(json.contains(r#""body":{"agent":"1001""#), "{json}");
    assert_eq!(Envelope::from_json(json.as_bytes()).unwrap(), e);
    assert!(!e.redacted().contains("s3cret"));
    let c = Envelope::new(
        "d1-8",
        Message::Connect {
            agent: "1001".into(),
            reply_to: "/queue/x".into(),
            password: Some("s3cret".into()),
            encrypted: false,
        },
    );
    assert!(String::from_utf8(c.to_json()).unwrap().contains("s3cret"));
    assert!(!c.redacted().contains("s3cret"));
}

#[test]
fn force_logout_probe_and_announce_wire_forms() {
    let plain = Message::Logout {
        agent: "1001".into(),
        reason: None,
        force: false,
    };
    let json = String::from_utf8(Envelope::new("a", plain.clone()).to_json()).unwrap();
    assert!(
        !json.contains("force"),
        "an old connector sees the old form: {json}"
    );
    assert_eq!(plain.agent(), Some("1001"));
    let forced = Envelope::new(
        "b",
        Message::Logout {
            agent: "1001".into(),
            reason: None,
            force: true,
        },
    );
    let json = String::from_utf8(forced.to_json()).unwrap();
    assert!(json.contains(r#""force":true"#), "{json}");
    assert_eq!(Envelope::from_json(json.as_bytes()).unwrap(), forced);
    for m in [
        Message::Probe {
            instance: "c-1".into(),
        },
        Message::Announce {
            driver: "siebel-a".into(),
            nonce: "n1".into(),
        },
    ] {
        assert_eq!(m.agent(), None);
        let e = Envelope::new("x", m);
        assert_eq!(Envelope::from_json(&e.to_json()).unwrap(), e);
    }
}

#[test]
fn status_topic_follows_the_request_queue() {
    assert_eq!(
        status_topic(DEFAULT_REQUEST_QUEUE),
        "/topic/siebelcti.requests.status"
    );
    assert_eq!(status_topic("/queue/site-b"), "/topic/site-b.status");
    assert_eq!(drivers_topic("/queue/site-b"), "/topic/site-b.drivers");
}

#[test]
fn agent_event_and_versions() {
    let json = br#"{"v":1,"id":"c-1","re":"d1-7","type":"Agent","body":{"agent":"1001","state":"NOT_READY","firstName":"Ann","extra":1}}"#;
    let e = Envelope::from_json(json).unwrap();
    match e.msg {
        Message::Agent(a) => {
            assert_eq!(a.state, Some(AgentState::NotReady));
            assert_eq!(a.first_name.as_deref(), Some("Ann"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Envelope::from_json(br#"{"v":2,"id":"x","type":"Hello","body":{}}"#),
        Err(DecodeError::Version(2))
    ));
    assert!(matches!(
        Envelope::from_json(br#"{"v":1,"id":"x","type":"Nope","body":{}}"#),
        Err(DecodeError::Malformed(_))
    ));
    assert!(Envelope::from_json(b"\xff").is_err());
}
