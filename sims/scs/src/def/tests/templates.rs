//! Our DEF templates and Siebel's export layout parsed into what scs-sim uses.

use super::*;

fn template(file: &str) -> String {
    let path = format!("{}/../../def-templates/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn check_template(file: &str, deployment: &str) {
    let def = parse(&template(file)).unwrap();
    let profile = format!("Cisco {deployment}");
    let driver = format!("Cisco Finesse {deployment}");

    assert_eq!(
        def.section("Siebel", "")
            .and_then(|s| s.get("CommServerVersion")),
        Some("7.0")
    );
    // Sections and keys as an export writes them.
    let kinds: Vec<&str> = def.sections.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(
        kinds[..5],
        [
            "Siebel",
            "Configuration Parameters",
            "Profile",
            "Driver",
            "Driver Parameters"
        ],
        "{file}"
    );
    let conf = def.section("Configuration Parameters", "").unwrap();
    assert_eq!(conf.get("AutoLogin"), Some("FALSE"));
    assert_eq!(conf.get("AutoLoginCmd"), Some("SignOnGroup"));
    let d = def.section("Driver", &driver).expect("driver section");
    assert_eq!(d.get("Library Name"), Some("siebel_cti"));
    assert_eq!(d.get("Channel Type"), Some("Voice"));
    assert_eq!(d.get("Channel String"), Some("Voice"));
    for flag in ["Inbound Flag", "Outbound Flag", "Interactive"] {
        assert_eq!(d.get(flag), Some("Y"), "{file}: {flag}");
    }
    assert_eq!(
        def.section("Profile", &profile).unwrap().entries,
        [("Driver".to_string(), driver.clone())],
        "{file}: the profile only names its driver, as in an export"
    );
    assert!(def.section("Driver Parameters", &driver).is_some());
    // The standard toolbar's buttons and the commands they run, in order.
    for (group, subs) in [
        ("SignOnGroup", &["SignOn"][..]),
        ("SignOffGroup", &["SignOff"]),
        ("ChangeBusyStateGroup", &["NotReady", "Ready"]),
        ("NotReadyGroup", &["NotReady"]),
        ("AcceptWorkGroup", &["AnswerCall"]),
        ("ReleaseWorkGroup", &["ReleaseCall"]),
        ("SuspendWorkGroup", &["HoldCall"]),
        ("ResumeWorkGroup", &["RetrieveCall", "AlternateCall"]),
        ("RetrieveWorkGroup", &["RetrieveCall"]),
        ("InitiateWorkGroup", &["MakeCall", "MakeCallToContact"]),
        ("MakeCallGroupInMenu", &["MakeCall", "MakeCallToContact"]),
        ("MakeCallGroupInLocalMenu", &["MakeCallToContact"]),
        ("BlindTransferGroup", &["TransferMute"]),
        (
            "ConsultativeTransferGroup",
            &["CompleteTransfer", "InitTransfer"],
        ),
        (
            "ConferenceTransferGroup",
            &["CompleteConference", "InitConference"],
        ),
    ] {
        let g = def
            .command(group)
            .unwrap_or_else(|| panic!("{file}: {group}"));
        assert_eq!(g.sub_commands, subs, "{file}: {group}");
        assert!(g.device_command.is_none(), "{file}: {group}");
        for sub in subs {
            assert!(def.command(sub).is_some(), "{file}: {group} -> {sub}");
        }
    }
    // Commands that work on the typed text are available only with text typed.
    for name in [
        "MakeCall",
        "InitTransfer",
        "InitConference",
        "TransferMute",
        "SendDTMF",
    ] {
        let c = def.command(name).unwrap();
        assert!(c.on_edit_control && c.match_work_type == (name != "MakeCall"));
    }
    assert_eq!(def.profile_driver(&profile), Some(driver.as_str()));

    let mut dp = def.driver_params(&profile);
    // TLS and secure passwords are on: as shipped, the template names what the site
    // must set; with those set, every Driver: parameter is one the driver accepts.
    let e = driver::config::DriverConfig::from_params(&dp).unwrap_err();
    assert!(e.to_string().contains("SecureKeyFile"), "{file}: {e}");
    // One key file per template: the two template tests run in parallel.
    let key = std::env::temp_dir().join(format!("def-test-{}-{file}.key", std::process::id()));
    std::fs::write(&key, "0123456789abcdeffedcba987654321089abcdef01234567").unwrap();
    dp.push(("Driver:BrokerCaFile".into(), "/etc/site/ca.pem".into()));
    dp.push(("Driver:SecureKeyFile".into(), key.display().to_string()));
    dp.retain(|(k, v)| k != "Driver:SecureKey" && k != "Driver:BrokerCaFile" || !v.is_empty());
    let parsed =
        driver::config::DriverConfig::from_params(&dp).unwrap_or_else(|e| panic!("{file}: {e}"));
    std::fs::remove_file(&key).unwrap();
    assert!(
        parsed.unknown.is_empty(),
        "{file}: unknown {:?}",
        parsed.unknown
    );
    assert!(dp.len() >= 13, "{file}: {dp:?}");
    let get = |k: &str| dp.iter().find(|(dk, _)| dk == k).map(|(_, v)| v.as_str());
    assert_eq!(get("Driver:BrokerHost"), Some("127.0.0.1"));
    assert_eq!(get("Driver:BrokerPort"), Some("61612"));
    assert_eq!(get("Driver:BrokerLogin"), Some(""));
    assert_eq!(
        get("Driver:RequestQueue"),
        Some("/queue/siebelcti.requests")
    );
    assert_eq!(get("Driver:LogLevel"), Some("info"));
    assert_eq!(get("Driver:DeploymentType"), Some(deployment));

    assert_eq!(
        def.service_params(&profile),
        [
            ("Service:AgentId".to_string(), "{@AgentId}".to_string()),
            (
                "Service:AgentPassword".to_string(),
                "{@AgentPin}".to_string()
            ),
            ("Service:Extension".to_string(), "{@SelectedDN}".to_string()),
        ]
    );

    let device: Vec<(String, String)> = def
        .commands()
        .into_iter()
        .filter_map(|c| c.device_command.map(|d| (c.name, d)))
        .collect();
    let pairs: Vec<(&str, &str)> = device
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    // The full command/event sets are checked against the driver in tests/e2e.
    for pair in [
        ("SignOn", "LogIn"),
        ("SignOff", "LogOut"),
        ("Ready", "ChangeReadyState"),
        ("NotReady", "ChangeNotReadyState"),
    ] {
        assert!(pairs.contains(&pair), "{file}: {pair:?} in {pairs:?}");
    }
    let group = def.command("SignOnGroup").unwrap();
    assert!(group.hidden && group.execute_all);
    assert_eq!(group.sub_commands, ["SignOn"]);
    let sign_on = def.command("SignOn").unwrap();
    assert_eq!(sign_on.title.as_deref(), Some("Log In (Phone)"));
    assert!(sign_on.hot_key.is_some() && sign_on.description.is_some());
    let data = def
        .command_data(sign_on.cmd_data.as_deref().unwrap())
        .unwrap();
    assert_eq!(
        data.params,
        [
            ("AgentId".to_string(), "{@AgentId}".to_string()),
            ("Password".to_string(), "{@AgentPin}".to_string()),
            ("Extension".to_string(), "{@SelectedDN}".to_string()),
        ]
    );

    let handlers = def.event_handlers();
    let events: Vec<&str> = handlers.iter().map(|h| h.device_event.as_str()).collect();
    for e in [
        "EventAgentLogin",
        "EventAgentLogout",
        "EventAgentReady",
        "EventAgentNotReady",
        "EventError",
    ] {
        assert!(events.contains(&e), "{file}: {e} in {events:?}");
    }
    for h in &handlers {
        assert!(h.order.is_some(), "{file}: {} has an Order", h.name);
        let r = def
            .event_response(h.response.as_deref().unwrap())
            .expect("response exists");
        for log in [&r.single_log, &r.multi_log, &r.log].into_iter().flatten() {
            assert!(def.event_log(log).is_some(), "{file}: no event log {log}");
        }
    }
}

#[test]
fn parses_ucce_template() {
    check_template("ucce.def", "UCCE");
}

#[test]
fn parses_uccx_template() {
    check_template("uccx.def", "UCCX");
}

const ORACLE_STYLE: &str = "\u{feff}; --- Handle inbound customer call ---\r\n\
    \r\n\
    [EventHandler:InboundConsumerCall]\r\n\
    \x20   DeviceEvent            = \"TpAnswered\"\r\n\
    \x20   Response               = \"InboundConsumerCall\"\r\n\
    \x20   Filter.CollectedDigits = \"?*\"\r\n\
    \x20   filter.ANI             = \"*\"\r\n\
    \x20   Order                  = \"3\"\r\n\
    # hash comment\r\n\
    [EventResponse:InboundConsumerCall]\r\n\
    \x20   QueryBusObj   = \"Consumer\"\r\n\
    \x20   QueryBusComp  = \"Consumer\"\r\n\
    \x20   QuerySpec     = \"[CSN]='{dtmfDigits}'\"\r\n\
    \x20   SingleView    = \"Consumer Detail View\"\r\n\
    \x20   FindDialog    = \"Consumer\"\r\n\
    \x20   FindField.CSN = \"{dtmfDigits}\"\r\n\
    \x20   SingleLog     = \"LogFound\"\r\n\
    \x20   Log           = \"LogNotFound\"\r\n\
    [EventLog:LogFound]\r\n\
    \x20   Display                       = \"TRUE\"\r\n\
    \x20   BusObj                        = \"Consumer\"\r\n\
    \x20   BusComp                       = \"Action\"\r\n\
    \x20   LogField.Type                 = \"Call - Inbound\"\r\n\
    \x20   LogField.'Contact Id'         = \"{Consumer.Id}\"\r\n\
    \x20   AfterWork.'ACD Call Duration' = \"{@WorkDuration}\"\r\n\
    [Command:SignOnGroup]\r\n\
    \x20   Hidden       = \"True\"\r\n\
    \x20   SubCommand_3 = \"LoginToUQ\"\r\n\
    \x20   SubCommand_1 = \"LoginToPBX\"\r\n\
    \x20   [CmdData:LoginToPBX]\r\n\
    \x20   Param.AgentId  = \"{@AgentId}\"\r\n\
    \x20   RequiredField.'Work Phone #' = \"?*\"\r\n\
    [Siebel]\r\n\
    CommServerVersion = unquoted value ; a comment\r\n";

#[test]
fn parses_oracle_style_text() {
    let def = parse(ORACLE_STYLE).unwrap();
    let kinds: Vec<(&str, &str, usize)> = def
        .sections
        .iter()
        .map(|s| (s.kind.as_str(), s.name.as_str(), s.line))
        .collect();
    assert_eq!(
        kinds,
        [
            ("EventHandler", "InboundConsumerCall", 3),
            ("EventResponse", "InboundConsumerCall", 10),
            ("EventLog", "LogFound", 19),
            ("Command", "SignOnGroup", 26),
            ("CmdData", "LoginToPBX", 30),
            ("Siebel", "", 33),
        ]
    );
    let h = &def.event_handlers()[0];
    assert_eq!(h.device_event, "TpAnswered");
    assert_eq!(h.order, Some(3));
    assert_eq!(
        h.filters,
        [
            ("CollectedDigits".to_string(), "?*".to_string()),
            ("ANI".to_string(), "*".to_string()),
        ]
    );
    let r = def.event_response("InboundConsumerCall").unwrap();
    assert_eq!(r.query_spec.as_deref(), Some("[CSN]='{dtmfDigits}'"));
    assert_eq!(
        r.find_fields,
        [("CSN".to_string(), "{dtmfDigits}".to_string())]
    );
    assert_eq!(r.single_log.as_deref(), Some("LogFound"));
    assert_eq!(r.log.as_deref(), Some("LogNotFound"));
    assert!(r.multi_view.is_none());
    let l = def.event_log("LogFound").unwrap();
    assert!(l.display);
    assert_eq!(l.bus_comp.as_deref(), Some("Action"));
    assert_eq!(
        l.log_fields,
        [
            ("Type".to_string(), "Call - Inbound".to_string()),
            ("Contact Id".to_string(), "{Consumer.Id}".to_string()),
        ]
    );
    assert_eq!(
        l.after_work,
        [(
            "ACD Call Duration".to_string(),
            "{@WorkDuration}".to_string()
        )]
    );
    let c = def.command("SignOnGroup").unwrap();
    assert!(c.hidden && !c.execute_all);
    assert_eq!(c.sub_commands, ["LoginToPBX", "LoginToUQ"]);
    let d = def.command_data("LoginToPBX").unwrap();
    assert_eq!(
        d.params,
        [("AgentId".to_string(), "{@AgentId}".to_string())]
    );
    assert_eq!(d.required_fields[0].0, "Work Phone #");
    assert_eq!(
        def.section("siebel", "").unwrap().get("commserverversion"),
        Some("unquoted value")
    );
}

/// The layout of a configuration exported by Siebel (our own text, same shapes):
/// nesting by indentation with spaces and tabs, comments after values, quotes
/// inside values, `#` lines inside sections, keys with spaces, `AfterCall.X`.
const EXPORT_STYLE: &str = "[Siebel]\n\
    \x20  CommServerVersion = \"7.0\"\n\
    \n\
    [Configuration Parameters]\n\
    \x20  AutoLogin    = \"FALSE\"\n\
    \x20  AutoLoginCmd = \"SignOnGroup\"\n\
    \x20  DialingFilter.Rule001 = \"9->\"\n\
    \n\
    [Profile:P]\n\
    \x20  Driver = \"D\"\n\
    \n\
    \x20  [Driver:D]\n\
    \x20     Library Name   = \"d.dll\"\n\
    \x20     Inbound Flag   = \"Y\"\n\
    \x20     Outbound Flag  = \"Y\"\n\
    \x20     Interactive    = \"Y\"\n\
    \n\
    \t[Driver Parameters:D]\n\
    \t\tDriver:Server = \"10.0.0.5\"  ; the middleware's address\n\
    \t\tService:Agent = \"{@AgentId}\"  ; leave it as is\n\
    \n\
    [Command:MakeCallToTyped]\n\
    \x20  Description   = \"Make call to \"{@SelectedText}\"\"\n\
    \x20  DeviceCommand = \"MakeCall\"\n\
    \x20  OnEditControl = \"TRUE\"\n\
    \x20  MatchWorkType = \"TRUE\"\n\
    \x20  CmdData       = \"MakeCallToTyped\"\n\
    \n\
    \x20  [CmdData:MakeCallToTyped]\n\
    \x20     Param.PhoneNumber           = \"{@SelectedText:Lookup}\"\n\
    \x20     RequiredField.@SelectedText = \"?*\"\n\
    \n\
    [EventHandler:Inbound]\n\
    \x20  # USED FOR INBOUND = \"CALLS\"\n\
    \x20  Filter.ConnectType = \"INBOUND\"\n\
    \x20  DeviceEvent        = \"OnConnect\"\n\
    \x20  Response           = \"Inbound\"\n\
    \x20  Order              = \"3\"\n\
    \n\
    \x20  [EventResponse:Inbound]\n\
    \x20     FindField.Last Name = \"Ask the caller\"\n\
    \x20     Log                 = \"InboundLog\"\n\
    \n\
    \x20     [EventLog:InboundLog]\n\
    \x20        AfterCall.'ACD Call Duration' = \"{@WorkDuration}\"\n\
    \x20        LogField.Type                 = \"Call - Inbound\"\n";

#[test]
fn parses_the_export_layout() {
    let def = parse(EXPORT_STYLE).unwrap();
    let kinds: Vec<(&str, &str)> = def
        .sections
        .iter()
        .map(|s| (s.kind.as_str(), s.name.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Siebel", ""),
            ("Configuration Parameters", ""),
            ("Profile", "P"),
            ("Driver", "D"),
            ("Driver Parameters", "D"),
            ("Command", "MakeCallToTyped"),
            ("CmdData", "MakeCallToTyped"),
            ("EventHandler", "Inbound"),
            ("EventResponse", "Inbound"),
            ("EventLog", "InboundLog"),
        ]
    );
    assert_eq!(
        def.section("Configuration Parameters", "")
            .unwrap()
            .get("DialingFilter.Rule001"),
        Some("9->")
    );
    assert_eq!(def.profile_driver("P"), Some("D"));
    assert_eq!(
        def.driver_params("P"),
        [("Driver:Server".to_string(), "10.0.0.5".to_string())]
    );
    assert_eq!(
        def.service_params("P"),
        [("Service:Agent".to_string(), "{@AgentId}".to_string())]
    );
    let d = def.section("Driver", "D").unwrap();
    assert_eq!(d.get("Inbound Flag"), Some("Y"));
    let c = def.command("MakeCallToTyped").unwrap();
    assert_eq!(
        c.description.as_deref(),
        Some("Make call to \"{@SelectedText}\"")
    );
    assert!(c.on_edit_control && c.match_work_type && !c.execute_all);
    let data = def.command_data("MakeCallToTyped").unwrap();
    assert_eq!(
        data.required_fields,
        [("@SelectedText".to_string(), "?*".to_string())]
    );
    let h = &def.event_handlers()[0];
    assert_eq!(h.filters.len(), 1, "the # line is a comment: {h:?}");
    assert_eq!(h.order, Some(3));
    let r = def.event_response("Inbound").unwrap();
    assert_eq!(
        r.find_fields,
        [("Last Name".to_string(), "Ask the caller".to_string())]
    );
    let l = def.event_log("InboundLog").unwrap();
    assert_eq!(
        l.after_work,
        [(
            "ACD Call Duration".to_string(),
            "{@WorkDuration}".to_string()
        )]
    );
}
