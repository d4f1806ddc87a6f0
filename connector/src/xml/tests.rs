//! Tests of the Finesse document readers.
use super::*;

/// Found by fuzzing (fuzz/fuzz_targets/finesse_xml.rs, then a deeper input by hand): a
/// document of 150,000 nested elements (1 MB, within an XMPP stanza's limit) parsed, and
/// dropping the tree overflowed the stack (SIGSEGV) of the thread reading notifications.
#[test]
fn deep_nesting_is_refused_without_exhausting_the_stack() {
    let n = 150_000;
    let deep = format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
    let update_doc = format!(
        "<Update><data>{}{}</data></Update>",
        "<dialogs>".repeat(n),
        "</dialogs>".repeat(n)
    );
    // A small stack, as the connector's threads have at most.
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            assert!(matches!(Element::parse(&deep), Err(XmlError::TooDeep)));
            assert!(matches!(update(&update_doc), Err(XmlError::TooDeep)));
        })
        .unwrap()
        .join()
        .unwrap();
    // At the limit it still reads.
    let ok = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
    assert_eq!(Element::parse(&ok).unwrap().name, "a");
    let over = format!(
        "{}{}",
        "<a>".repeat(MAX_DEPTH + 1),
        "</a>".repeat(MAX_DEPTH + 1)
    );
    assert!(matches!(Element::parse(&over), Err(XmlError::TooDeep)));
}

#[test]
fn dialog() {
    let x = "<Dialog><associatedDialogUri>/finesse/api/Dialog/5</associatedDialogUri><fromAddress>4085551234</fromAddress><id>7</id><mediaProperties><DNIS>8001</DNIS><callType>ACD_IN</callType><dialedNumber>8001</dialedNumber><queueName>Sales</queueName><callvariables><CallVariable><name>callVariable1</name><value>42</value></CallVariable><CallVariable><name>user.account</name><value>A-9</value></CallVariable></callvariables></mediaProperties><participants><Participant><actions><action>ANSWER</action></actions><mediaAddress>5001</mediaAddress><state>ALERTING</state><startTime>2026-11-26T10:00:00Z</startTime></Participant><Participant><mediaAddress>4085551234</mediaAddress><state>ACTIVE</state></Participant></participants><state>ALERTING</state><toAddress>5001</toAddress></Dialog>";
    let d = dialog_info(&Element::parse(x).unwrap(), "1001", "5001");
    assert_eq!(d.id, "7");
    assert_eq!(d.from_address, "4085551234");
    assert_eq!(d.dnis, "8001");
    assert_eq!(d.queue_name, "Sales");
    assert_eq!(d.actions, vec!["ANSWER".to_string()]);
    assert_eq!(d.agent_state, "ALERTING");
    assert_eq!(d.associated.as_deref(), Some("5"));
    assert_eq!(d.participants, vec!["4085551234".to_string()]);
    assert_eq!(
        d.variables,
        vec![
            ("callVariable1".to_string(), "42".to_string()),
            ("user.account".to_string(), "A-9".to_string())
        ]
    );
    let upd = format!("<Update><data><dialogs>{x}</dialogs></data><event>POST</event></Update>");
    match update(&upd).unwrap() {
        Update::Dialogs { event, dialogs, .. } => {
            assert_eq!(event, "POST");
            assert_eq!(dialogs.len(), 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn user_and_update() {
    let user = "<User><state>NOT_READY</state><reasonCode><code>12</code><label>Lunch</label><id>3</id></reasonCode><extension>5001</extension><firstName>Ann</firstName><lastName>Lee</lastName><loginId>1001</loginId><pendingState></pendingState></User>";
    let info = user_info(&Element::parse(user).unwrap()).unwrap();
    assert_eq!(info.agent, "1001");
    assert_eq!(info.state, Some(AgentState::NotReady));
    assert_eq!(info.reason_code.as_deref(), Some("12"));
    assert_eq!(info.reason_label.as_deref(), Some("Lunch"));
    assert_eq!(info.pending_state, None);
    let upd = format!(
        "<Update><data>{}</data><event>PUT</event><requestId>r-1</requestId><source>/finesse/api/User/1001</source></Update>",
        user.replace("User>", "user>")
    );
    match update(&upd).unwrap() {
        Update::User { info, request_id } => {
            assert_eq!(info.first_name.as_deref(), Some("Ann"));
            assert_eq!(request_id.as_deref(), Some("r-1"));
        }
        other => panic!("{other:?}"),
    }
    let err = "<Update><data><apiErrors><apiError><errorType>Invalid State</errorType><errorMessage>no</errorMessage></apiError></apiErrors></data></Update>";
    assert!(matches!(update(err).unwrap(), Update::Error { .. }));
    assert!(update("<Update><data>").is_err());
    let rc = Element::parse("<ReasonCodes><ReasonCode><uri>/finesse/api/ReasonCode/7</uri><category>NOT_READY</category><code>12</code><label>Lunch</label></ReasonCode></ReasonCodes>").unwrap();
    assert_eq!(
        reason_codes(&rc),
        vec![ReasonCode {
            id: "7".into(),
            code: "12".into(),
            label: "Lunch".into()
        }]
    );
    assert!(update("not xml <").is_err());
}

/// Documents shaped as Cisco's developer guide shows them (fields the connector does not
/// use, attributes, no `<id>` in ReasonCodes) read as the connector needs them.
#[test]
fn reads_ciscos_document_shapes() {
    let d = Element::parse(
        "<Dialog><associatedDialogUri></associatedDialogUri><fromAddress>4085550100</fromAddress>\
<id>16800002</id><secondaryId>16800001</secondaryId><mediaProperties><mediaId>1</mediaId>\
<DNIS>8005551000</DNIS><callType>TRANSFER</callType><callKeyCallId>22</callKeyCallId>\
<callKeyPrefix>150000</callKeyPrefix><callKeySequenceNum>1</callKeySequenceNum>\
<dialedNumber>8005551000</dialedNumber><outboundClassification></outboundClassification>\
<callvariables><CallVariable><name>callVariable1</name><value>acct-42</value></CallVariable></callvariables>\
</mediaProperties><mediaType>Voice</mediaType><participants><Participant><actions>\
<action>DROP</action></actions><mediaAddress>5002</mediaAddress><mediaAddressType>AGENT_DEVICE</mediaAddressType>\
<startTime>2026-01-01T00:00:00.000Z</startTime><state>FAILED</state><stateCause>BUSY</stateCause>\
<stateChangeTime>2026-01-01T00:00:01.000Z</stateChangeTime></Participant></participants>\
<state>FAILED</state><toAddress>8005551000</toAddress><uri>/finesse/api/Dialog/16800002</uri></Dialog>",
    )
    .unwrap();
    let info = dialog_info(&d, "1002", "5002");
    assert_eq!(info.id, "16800002");
    assert_eq!(info.secondary_id, "16800001");
    assert_eq!((info.agent_state.as_str(), info.ended), ("FAILED", false));
    assert_eq!(info.state_cause, "BUSY");
    assert_eq!(info.actions, vec!["DROP".to_string()]);
    assert_eq!(
        info.variables,
        vec![("callVariable1".to_string(), "acct-42".to_string())]
    );
    let rc = Element::parse(
        "<ReasonCodes category=\"NOT_READY\"><ReasonCode><category>NOT_READY</category>\
<code>12</code><forAll>true</forAll><label>Lunch</label><systemCode>false</systemCode>\
<uri>/finesse/api/ReasonCode/7</uri></ReasonCode></ReasonCodes>",
    )
    .unwrap();
    assert_eq!(reason_codes(&rc)[0].id, "7");
    let err = "<Update><data><apiErrors><apiError><errorData>13121</errorData>\
<errorMessage>CF_INVALID_DESTINATION</errorMessage><errorType>Generic Error</errorType>\
<peripheralErrorCode>13121</peripheralErrorCode><peripheralErrorMsg></peripheralErrorMsg>\
</apiError></apiErrors></data><event>PUT</event><requestId>r</requestId>\
<source>/finesse/api/Dialog/16800002</source></Update>";
    match update(err).unwrap() {
        Update::Error {
            error, request_id, ..
        } => {
            assert_eq!(error.error_type, "Generic Error");
            assert_eq!(error.message, "CF_INVALID_DESTINATION");
            assert_eq!(request_id.as_deref(), Some("r"));
        }
        other => panic!("{other:?}"),
    }
    let info = Element::parse(
        "<SystemInfo><currentTimestamp>x</currentTimestamp><deploymentType>UCCE</deploymentType>\
<primaryNode><host>a</host><httpsPort>8445</httpsPort><xmppPort>5222</xmppPort><xmppSecurePort>5223</xmppSecurePort></primaryNode>\
<secondaryNode><host>b</host></secondaryNode><status>PARTIAL_SERVICE</status><systemAuthMode>NON_SSO</systemAuthMode>\
<xmppDomain>d</xmppDomain><xmppPubSubDomain>p</xmppPubSubDomain></SystemInfo>",
    )
    .unwrap();
    assert_eq!(system_info(&info).status, "PARTIAL_SERVICE");
}

#[test]
fn errors_are_typed() {
    let e = Element::parse("<a></b>").unwrap_err();
    assert!(matches!(e, XmlError::Syntax(_)));
    assert!(std::error::Error::source(&e).is_some());
    assert!(matches!(
        Element::parse("<a><b/>"),
        Err(XmlError::Truncated)
    ));
    assert!(matches!(
        update("<Other/>"),
        Err(XmlError::Unexpected {
            expected: "Update",
            ..
        })
    ));
    assert!(matches!(
        user_info(&Element::parse("<User><state>READY</state></User>").unwrap()),
        Err(XmlError::Missing(_))
    ));
}

/// A document of `tests/fixtures/finesse/` (written after Cisco's documented examples).
macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../tests/fixtures/finesse/", $name))
    };
}

#[test]
fn finesse_fixtures_parse() {
    let user = Element::parse(fixture!("user.xml")).unwrap();
    let info = user_info(&user).unwrap();
    assert_eq!(info.agent, "1001");
    assert_eq!(info.state, Some(AgentState::NotReady));
    assert_eq!(info.reason_code.as_deref(), Some("12"));
    assert_eq!(info.reason_label.as_deref(), Some("Lunch"));
    assert_eq!(info.extension.as_deref(), Some("5001"));
    assert!(!info.supervisor, "roles: Agent only");

    let active = Element::parse(fixture!("dialog_active.xml")).unwrap();
    let d = dialog_info(&active, "1001", "5001");
    assert_eq!(
        (d.id.as_str(), d.agent_state.as_str()),
        ("16777301", "ACTIVE")
    );
    assert!(!d.ended);
    assert_eq!(d.call_type, "ACD_IN");
    assert_eq!(d.queue_name, "Sales.SG");
    assert_eq!(d.variables.len(), 2);
    assert!(d.actions.contains(&"TRANSFER_SST".to_string()));
    assert_eq!(d.participants, vec!["4085550100".to_string()]);

    let failed = Element::parse(fixture!("dialog_failed.xml")).unwrap();
    let d = dialog_info(&failed, "1001", "5001");
    assert_eq!((d.agent_state.as_str(), d.ended), ("FAILED", false));
    assert_eq!(d.state_cause, "BUSY");
    assert_eq!(d.actions, vec!["DROP".to_string()]);

    let list = Element::parse(fixture!("dialogs.xml")).unwrap();
    assert_eq!(dialogs(&list).len(), 2);

    let codes = Element::parse(fixture!("reason_codes.xml")).unwrap();
    let codes = reason_codes(&codes);
    assert_eq!(
        codes
            .iter()
            .map(|c| (c.id.as_str(), c.code.as_str(), c.label.as_str()))
            .collect::<Vec<_>>(),
        [("3", "12", "Lunch"), ("4", "13", "Training")]
    );

    // WrapUpReasons: no <id> and no code; the id is the last segment of uri.
    let wrap = wrap_up_reasons(&Element::parse(fixture!("wrap_up_reasons.xml")).unwrap());
    assert_eq!(
        wrap.iter()
            .map(|c| (c.id.as_str(), c.code.as_str(), c.label.as_str()))
            .collect::<Vec<_>>(),
        [("1", "", "Sale"), ("2", "", "Complaint")]
    );

    let info = system_info(&Element::parse(fixture!("system_info.xml")).unwrap());
    assert_eq!(info.status, "PARTIAL_SERVICE");
    assert_eq!(info.deployment, "UCCE");
    assert_eq!(info.xmpp_domain, "finesse-a.example.com");
    assert_eq!(info.pubsub_domain, "pubsub.finesse-a.example.com");
    // ctiVersion 20 is UCCE 11.5(1): Make Call from Ready came with 12.5(1) (version 23).
    assert_eq!(info.cti_version, Some(20));
    assert!(!info.make_call_from_ready());
    for (deployment, version, allowed) in [("UCCE", "23", true), ("UCCE", "24", true)]
        .into_iter()
        .chain([
            ("UCCE", "22", false),
            ("UCCX", "23", false),
            ("UCCE", "", false),
        ])
    {
        let text = format!(
            "<SystemInfo><ctiVersion>{version}</ctiVersion>\
             <deploymentType>{deployment}</deploymentType></SystemInfo>"
        );
        let info = system_info(&Element::parse(&text).unwrap());
        assert_eq!(
            info.make_call_from_ready(),
            allowed,
            "{deployment} {version}"
        );
    }

    let e = api_error(&Element::parse(fixture!("api_errors.xml")).unwrap()).unwrap();
    assert_eq!(e.error_type, "Invalid State");

    match update(fixture!("update_api_errors.xml")).unwrap() {
        Update::Error {
            error,
            request_id,
            dialog,
        } => {
            assert_eq!(error.error_type, "Generic Error");
            assert_eq!(error.message, "CF_INVALID_DESTINATION");
            assert!(request_id.is_some());
            // The source names the call the error is about.
            assert_eq!(dialog.as_deref(), Some("16777302"));
        }
        other => panic!("{other:?}"),
    }
    match update(fixture!("update_dialogs_post.xml")).unwrap() {
        Update::Dialogs { event, dialogs, .. } => {
            assert_eq!(event, "POST");
            assert_eq!(dialog_info(&dialogs[0], "1001", "5001").id, "16777301");
        }
        other => panic!("{other:?}"),
    }
    match update(fixture!("update_dialog_put.xml")).unwrap() {
        Update::Dialogs { event, dialogs, .. } => {
            assert_eq!(event, "PUT");
            let d = dialog_info(&dialogs[0], "1001", "5001");
            assert_eq!((d.state.as_str(), d.ended), ("FAILED", false));
        }
        other => panic!("{other:?}"),
    }
    match update(fixture!("update_user.xml")).unwrap() {
        Update::User { info, .. } => assert_eq!(info.state, Some(AgentState::NotReady)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_user_with_the_supervisor_role_is_a_supervisor() {
    let x = "<User><loginId>1009</loginId><roles><role>Agent</role><role>Supervisor</role></roles><state>NOT_READY</state></User>";
    let info = user_info(&Element::parse(x).unwrap()).unwrap();
    assert!(info.supervisor);
}
