//! The JSON document of the connector's state: the full one (the page, `/api/state`,
//! `/health` with credentials) and the summary `/health` gives without them.

use std::sync::atomic::Ordering;

use crate::service::Shared;

/// The health document without credentials: up or not, no agent data.
pub(crate) fn summary(s: &Shared) -> serde_json::Value {
    let full = health(s);
    serde_json::json!({
        "connector": full["connector"],
        "status": full["status"],
        "serving": full["serving"],
    })
}

/// Whether the connector is in service: broker link up and Finesse in service (a stopping
/// connector has taken its Finesse link down).
pub(crate) fn in_service(s: &Shared) -> bool {
    s.broker_up.load(Ordering::Acquire) && s.core().finesse_status().in_service
}

/// Unix milliseconds now.
fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// The full document.
pub(crate) fn health(s: &Shared) -> serde_json::Value {
    let broker = s.broker_up.load(Ordering::Acquire);
    let (f, view, serving) = {
        let core = s.core();
        (core.finesse_status(), core.console_view(), core.serving())
    };
    serde_json::json!({
        "connector": s.cfg.connector.name,
        "status": if broker && f.in_service { "IN_SERVICE" } else { "OUT_OF_SERVICE" },
        "uptimeSeconds": s.started.elapsed().as_secs(),
        "nowMs": now_ms(),
        "instance": s.instance,
        // Active-passive: whether this connector holds the request queue (a standby: false).
        "serving": serving,
        "broker": {
            "address": s.cfg.broker.address_list(),
            "up": broker,
        },
        "finesse": { "node": f.node, "inService": f.in_service, "detail": f.detail },
        "drivers": f.drivers,
        "driverInstances": view.driver_instances,
        "nodes": view.nodes,
        "peers": view.peers,
        "agents": view.agents,
        "calls": view.calls,
        "events": view.events,
    })
}

/// The `/metrics` text.
pub(crate) fn metrics(s: &Shared) -> String {
    let broker = s.broker_up.load(Ordering::Acquire);
    let (counters, gauges) = {
        let core = s.core();
        (core.record().counters.clone(), core.gauges(broker))
    };
    crate::metrics::render(&counters, &s.latency, &gauges)
}
