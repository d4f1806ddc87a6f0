//! Agent states, refused requests, system info and a dropped XMPP connection.

use crate::fixture::{fixture, http, text, user_state, xmpp_addr};
use finesse_sim::{xml, Deployment};

#[test]
fn agent_state_changes_are_notified_over_xmpp() {
    let mut f = fixture(Deployment::Ucce);
    let r = f.put_state(
        "<state>LOGIN</state><extension>5001</extension>",
        "req-login",
    );
    assert_eq!(r.status, 202, "{}", r.body);
    assert!(r.head.contains("requestId: req-login"), "{}", r.head);
    let u = f.update("", |u| user_state(u) == "NOT_READY");
    assert_eq!(text(&u, "event"), "PUT");
    assert_eq!(text(&u, "requestId"), "req-login");
    assert_eq!(
        text(&u, "source"),
        format!("/finesse/api/User/{}", f.agent.id)
    );
    assert_eq!(text(&u, "data/user/extension"), "5001");

    assert_eq!(f.put_state("<state>READY</state>", "r2").status, 202);
    f.update("", |u| {
        user_state(u) == "READY" && text(u, "requestId") == "r2"
    });

    assert_eq!(
        f.put_state(
            "<state>NOT_READY</state><reasonCodeId>11</reasonCodeId>",
            "r3"
        )
        .status,
        202
    );
    let u = f.update("", |u| {
        user_state(u) == "NOT_READY" && text(u, "requestId") == "r3"
    });
    assert_eq!(text(&u, "data/user/reasonCodeId"), "11");
    assert_eq!(text(&u, "data/user/reasonCode/label"), "Break");

    let user = f.rest("GET", &format!("/User/{}", f.agent.id), "", "");
    assert_eq!(user.status, 200);
    assert!(user.head.contains("application/xml"));
    assert_eq!(text(&xml::parse(&user.body).unwrap(), "state"), "NOT_READY");
    let codes = f.rest(
        "GET",
        &format!("/User/{}/ReasonCodes?category=LOGOUT", f.agent.id),
        "",
        "",
    );
    // Cisco's shape: a category attribute, no <id> (the id ends the uri).
    let codes = xml::parse(&codes.body).unwrap();
    assert_eq!(codes.attr("category"), Some("LOGOUT"));
    assert_eq!(text(&codes, "ReasonCode/label"), "End of shift");
    assert_eq!(text(&codes, "ReasonCode/category"), "LOGOUT");
    assert!(codes.find("ReasonCode/id").is_none());
    assert!(text(&codes, "ReasonCode/uri").starts_with("/finesse/api/ReasonCode/"));
    let wrap = f.rest(
        "GET",
        &format!("/User/{}/WrapUpReasons", f.agent.id),
        "",
        "",
    );
    let wrap = xml::parse(&wrap.body).unwrap();
    assert!(text(&wrap, "WrapUpReason/uri")
        .starts_with(&format!("/finesse/api/User/{}/WrapUpReason/", f.agent.id)));
    assert!(wrap.find("WrapUpReason/id").is_none());

    assert_eq!(
        f.put_state("<state>LOGOUT</state><reasonCodeId>21</reasonCodeId>", "r4")
            .status,
        202
    );
    f.update("", |u| {
        user_state(u) == "LOGOUT" && text(u, "requestId") == "r4"
    });
    f.sim.stop();
}

#[test]
fn bad_credentials_and_invalid_requests_are_refused() {
    let f = fixture(Deployment::Ucce);
    let base = f.sim.base_url();
    let path = format!("/finesse/api/User/{}", f.agent.id);
    let r = http(&base, "GET", &path, Some((&f.agent.id, "wrong")), &[], "");
    assert_eq!(r.status, 401);
    assert!(
        r.body.contains("<ApiErrors><ApiError>")
            && r.body.contains("<ErrorType>Unauthorized</ErrorType>"),
        "{}",
        r.body
    );
    assert_eq!(http(&base, "GET", &path, None, &[], "").status, 401);
    assert_eq!(f.rest("GET", "/User/someone-else", "", "").status, 401);

    let r = f.put_state("<state>READY</state>", "");
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("<ErrorType>Invalid State</ErrorType>"),
        "{}",
        r.body
    );
    let r = f.rest(
        "PUT",
        &format!("/User/{}", f.agent.id),
        "<User><state>LOGIN",
        "",
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("<ApiErrors>"), "{}", r.body);
    assert_eq!(
        f.put_state("<state>LOGIN</state>", "").status,
        400,
        "LOGIN needs an extension"
    );
    f.sim.stop();
}

#[test]
fn out_of_service_shows_in_system_info_and_rest() {
    let f = fixture(Deployment::Ucce);
    let base = f.sim.base_url();
    let info = http(&base, "GET", "/finesse/api/SystemInfo", None, &[], "");
    let e = xml::parse(&info.body).unwrap();
    assert_eq!(text(&e, "status"), "IN_SERVICE");
    assert_eq!(text(&e, "deploymentType"), "UCCE");
    assert_eq!(text(&e, "xmppDomain"), "finesse.local");
    assert_eq!(text(&e, "xmppPubSubDomain"), "pubsub.finesse.local");
    assert_eq!(text(&e, "systemAuthMode"), "NON_SSO");
    assert!(!text(&e, "primaryNode/host").is_empty());
    assert!(!text(&e, "primaryNode/httpsPort").is_empty());
    assert_eq!(
        text(&e, "primaryNode/xmppPort"),
        xmpp_addr().port().to_string()
    );
    assert_eq!(text(&e, "primaryNode/xmppSecurePort"), "5223");
    assert!(e.find("secondaryNode/xmppSecurePort").is_some());

    // A failure set through the admin API; the SystemInfo status; the status of a user GET.
    let fail = |json: &str| assert_eq!(f.admin("POST", "/failures", json).status, 200);
    let system_status = || {
        let info = http(&base, "GET", "/finesse/api/SystemInfo", None, &[], "");
        text(&xml::parse(&info.body).unwrap(), "status")
    };
    let user_status = || {
        f.rest("GET", &format!("/User/{}", f.agent.id), "", "")
            .status
    };

    // PARTIAL_SERVICE: shown in SystemInfo, and every request gets 503.
    fail(r#"{"partialService":true}"#);
    assert_eq!(system_status(), "PARTIAL_SERVICE");
    assert_eq!(user_status(), 503);
    fail(r#"{"partialService":false}"#);

    fail(r#"{"outOfService":true}"#);
    assert_eq!(system_status(), "OUT_OF_SERVICE");
    assert_eq!(user_status(), 503);
    fail(r#"{"outOfService":false}"#);
    assert_eq!(user_status(), 200);
    fail(r#"{"restStatus":500,"count":1}"#);
    assert_eq!(user_status(), 500);
    assert_eq!(user_status(), 200);
    f.sim.stop();
}

#[test]
fn notifications_survive_an_xmpp_drop() {
    let mut f = fixture(Deployment::Ucce);
    assert_eq!(
        f.admin("POST", "/failures", r#"{"xmppDrop":true}"#).status,
        200
    );
    assert_eq!(
        f.put_state(
            "<state>LOGIN</state><extension>5001</extension>",
            "after-drop"
        )
        .status,
        202
    );
    f.update("", |u| text(u, "requestId") == "after-drop");
    let state: serde_json::Value =
        serde_json::from_str(&f.admin("GET", "/state", "").body).unwrap();
    assert_eq!(state["agents"][0]["state"], "NOT_READY");
    f.sim.stop();
}
