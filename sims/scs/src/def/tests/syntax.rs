//! Lookups, quoting, comments and the errors of malformed text.

use super::*;

#[test]
fn lookups_are_case_insensitive_and_keep_duplicates() {
    let def = parse("[command:X]\nDEVICECOMMAND = \"LogIn\"\nParam.A = \"1\"\nparam.a = \"2\"\n")
        .unwrap();
    assert_eq!(def.sections("Command").count(), 1);
    let s = def.section("COMMAND", "X").unwrap();
    assert_eq!(s.get("DeviceCommand"), Some("LogIn"));
    assert_eq!(s.get("param.A"), Some("1"));
    assert_eq!(s.get_all("PARAM.A"), ["1", "2"]);
    assert_eq!(s.get("Missing"), None);
    assert!(def.section("Command", "x").is_none(), "names are exact");
    assert_eq!(
        def.command("X").unwrap().device_command.as_deref(),
        Some("LogIn")
    );
}

#[test]
fn with_prefix_gives_sub_names() {
    let def = parse(
        "[EventHandler:H]\nFilter.ANI = \"1*\"\nFILTER.'Call Type' = \"ACD?\"\nFilterSpec = \"x\"\n",
    )
    .unwrap();
    let s = def.section("EventHandler", "H").unwrap();
    assert_eq!(
        s.with_prefix("Filter."),
        [
            ("ANI".to_string(), "1*".to_string()),
            ("Call Type".to_string(), "ACD?".to_string()),
        ]
    );
    assert!(s.with_prefix("Nothing.").is_empty());
}

#[test]
fn quoting_and_comments() {
    let def = parse(
        "[S:N] ; trailing comment\n\
         A = \"Make call to \"{@SelectedText}\"\"\n\
         B = \"\"\n\
         C = \"x\" ; comment\n\
         D = \"a = b\"\n\
         E=\"tight\"\n\
         F = \n\
         G = \"1.2.3.4\"  ; a comment with \"quotes\" and ; more\n\
         H = \"a; b\" ;c\n\
         I = \"say \"hi\" now\"\n\
         \t\tJ = \"tabs\"\t; tab before the comment\n\
         K = \";\"\n",
    )
    .unwrap();
    let s = def.section("S", "N").unwrap();
    assert_eq!(s.get("A"), Some("Make call to \"{@SelectedText}\""));
    assert_eq!(s.get("B"), Some(""));
    assert_eq!(s.get("C"), Some("x"));
    assert_eq!(s.get("D"), Some("a = b"));
    assert_eq!(s.get("E"), Some("tight"));
    assert_eq!(s.get("F"), Some(""));
    assert_eq!(s.get("G"), Some("1.2.3.4"));
    assert_eq!(s.get("H"), Some("a; b"));
    assert_eq!(s.get("I"), Some("say \"hi\" now"));
    assert_eq!(s.get("J"), Some("tabs"));
    assert_eq!(s.get("K"), Some(";"));
}

#[test]
fn profile_overrides_driver_defaults() {
    let text = "[Driver:D]\nLibrary Name = \"x\"\nDriver:Inline = \"i\"\n\
                [Driver Parameters:D]\nDriver:Host = \"h\"\nDriver:Port = \"1\"\n\
                Service:Agent = \"{@AgentId}\"\nShared = \"s\"\n\
                [Profile:P]\nDriver = \"D\"\ndriver:port = \"2\"\nService:Extra = \"e\"\n";
    let def = parse(text).unwrap();
    assert_eq!(
        def.driver_params("P"),
        [
            ("Driver:Inline".to_string(), "i".to_string()),
            ("Driver:Host".to_string(), "h".to_string()),
            ("Driver:Port".to_string(), "2".to_string()),
        ]
    );
    assert_eq!(
        def.service_params("P"),
        [
            ("Service:Agent".to_string(), "{@AgentId}".to_string()),
            ("Shared".to_string(), "s".to_string()),
            ("Service:Extra".to_string(), "e".to_string()),
        ]
    );
    assert!(def.driver_params("Nope").is_empty());
    assert!(def.service_params("Nope").is_empty());
}

fn error_of(text: &str) -> DefError {
    parse(text).expect_err("should fail")
}

#[test]
fn rejects_key_outside_section() {
    let e = error_of("; c\n\nKey = \"v\"\n");
    assert_eq!(e.line, 3);
    assert!(e.message.contains("outside any section"), "{e}");
}

#[test]
fn rejects_unterminated_quote() {
    let e = error_of("[S:N]\nA = \"ok\"\nB = \"not closed\n");
    assert_eq!(e.line, 3);
    assert!(e.message.contains("unterminated"), "{e}");
    assert_eq!(e.to_string(), format!("line 3: {}", e.message));
}

#[test]
fn rejects_line_without_equals() {
    let e = error_of("[S:N]\r\njust words\r\n");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("expected"), "{e}");
}

#[test]
fn rejects_other_malformed_lines() {
    assert_eq!(error_of("[S:N\n").line, 1);
    assert_eq!(error_of("[:N]\n").line, 1);
    assert_eq!(error_of("[S:N] junk\n").line, 1);
    assert_eq!(error_of("[S:N]\n = \"v\"\n").line, 2);
    assert_eq!(error_of("[S:N]\nA = \"v\" junk\n").line, 2);
    let boxed: Box<dyn std::error::Error> = Box::new(error_of("x\n"));
    assert!(boxed.to_string().starts_with("line 1: "));
}

#[test]
fn header_without_colon_and_empty_file() {
    let def = parse("[Siebel]\nCommServerVersion = \"7.0\"\n[A:B:C]\n").unwrap();
    assert_eq!(def.sections[0].kind, "Siebel");
    assert_eq!(def.sections[0].name, "");
    assert_eq!(def.sections[1].kind, "A");
    assert_eq!(def.sections[1].name, "B:C");
    assert!(parse("").unwrap().sections.is_empty());
    assert!(parse("\u{feff}").unwrap().sections.is_empty());
}

#[test]
fn refuses_the_old_guessed_sections_and_keys_with_line_and_key() {
    let cases: [(&str, usize, &str, &str); 5] = [
        (
            "[Siebel]\n[Configuration]\nAutoLogin = \"FALSE\"\n",
            2,
            "[Configuration]",
            "[Configuration Parameters]",
        ),
        (
            "; c\n[Driver:D]\n   [DriverParameters:D]\n",
            3,
            "[DriverParameters:D]",
            "[Driver Parameters:D]",
        ),
        (
            "[Driver:D]\n   Library Name = \"x\"\n   Inbound = \"TRUE\"\n",
            3,
            "Inbound",
            "Inbound Flag",
        ),
        (
            "[Driver:D]\n\n\toutbound= \"TRUE\" ; old\n",
            3,
            "outbound",
            "Outbound Flag",
        ),
        (
            "[Command:C]\n[CommandData:C]\n",
            2,
            "[CommandData:C]",
            "[CmdData:C]",
        ),
    ];
    for (text, line, key, instead) in cases {
        let e = error_of(text);
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert_eq!(e.key.as_deref(), Some(key), "{text:?}: {e}");
        assert!(e.message.contains(key), "{e}");
        assert!(e.message.contains(instead), "{e}");
        assert!(e.to_string().starts_with(&format!("line {line}: ")), "{e}");
    }
    // Inbound / Outbound are refused as driver keys only; Interactive is valid.
    parse("[Driver:D]\nInteractive = \"Y\"\n[Command:C]\nInbound = \"x\"\n").unwrap();
    assert_eq!(error_of("[S:N]\nA = \"v\" junk\n").key, None);
}

#[test]
fn expand_substitutes_macros_and_fields() {
    let lookup = |name: &str| match name {
        "@AgentId" => Some("1001".to_string()),
        "@UserName" => Some("SADMIN".to_string()),
        "ANI" => Some("5551234".to_string()),
        "@WorkObject:Id" => Some("42".to_string()),
        _ => None,
    };
    assert_eq!(expand("{@AgentId}", lookup), "1001");
    assert_eq!(
        expand("Call from {@UserName} to {ANI}", lookup),
        "Call from SADMIN to 5551234"
    );
    assert_eq!(
        expand("[Work Phone #] = '{ANI}'", lookup),
        "[Work Phone #] = '5551234'"
    );
    assert_eq!(expand("{@WorkObject:Id}", lookup), "42");
    assert_eq!(
        expand("{@Unknown} and {DNIS}", lookup),
        "{@Unknown} and {DNIS}"
    );
    assert_eq!(expand(r"\{ANI\} {ANI}", lookup), "{ANI} 5551234");
    assert_eq!(expand(r"C:\logs {ANI}", lookup), r"C:\logs 5551234");
    assert_eq!(expand("open {ANI", lookup), "open {ANI");
    assert_eq!(expand("a } b", lookup), "a } b");
    assert_eq!(expand("", lookup), "");
    assert_eq!(expand("no refs é", lookup), "no refs é");
}
