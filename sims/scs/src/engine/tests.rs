//! Wildcards, query specs and activity dates.

use super::*;

#[test]
fn wildcards_and_query_specs() {
    assert!(wildcard("?*", "123"));
    assert!(!wildcard("?*", ""));
    assert!(wildcard("inbound", "Inbound"));
    assert!(wildcard("40*", "4085551234"));
    assert!(!wildcard("41*", "4085551234"));
    assert_eq!(
        conditions("'Work Phone #'='408' AND [Id]='1-A'").unwrap(),
        vec![
            ("Work Phone #".to_string(), "408".to_string()),
            ("Id".to_string(), "1-A".to_string())
        ]
    );
    assert!(conditions("nonsense").is_err());
    assert_eq!(datetime(0), "1970-01-01 00:00:00");
    assert_eq!(datetime(1_795_690_000), "2026-11-26 10:46:40");
}
