#!/usr/bin/env bash
# scripts/demo.sh — the demo: starts ActiveMQ, Prosody, finesse-sim (REST on 127.0.0.1:8082),
# the connector (monitor console on http://127.0.0.1:8090/) and scs-sim with the UCCE DEF
# template and its agent desktop (http://127.0.0.1:8091/agent/1001/). scs-sim loads the real
# driver library, logs agent 1001 in (NOT_READY), makes it READY, takes an inbound call (screen
# pop + phone call activity in SQLite), and keeps the agent READY so that the console shows it.
# From a terminal, scs-sim then keeps serving the desktop (Ctrl-C ends it) so that the agent can
# be driven by hand in the browser. `scripts/demo.sh stop` stops what the demo started.
# The demo's broker is closed (docs/security.md): its own ActiveMQ in target/demo/activemq,
# STOMP over TLS only on 127.0.0.1:$DEMO_STOMP_TLS_PORT (default 61622), authentication and
# authorization on, fresh random passwords for the connector and the driver at each start.
# Agent passwords cross the broker encrypted (secure passwords, the key target/certs/secure.key
# of scripts/certs.sh); the connector reaches Prosody with STARTTLS (XMPP_TLS=1).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
cd "$REPO_ROOT"
RUN=target/demo
mkdir -p "$RUN"
DEMO_STOMP_TLS_PORT=${DEMO_STOMP_TLS_PORT:-61622}
CA_FILE=$REPO_ROOT/target/certs/ca.pem
KEY_FILE=$REPO_ROOT/target/certs/secure.key
# The demo's closed broker, $1 = activemq.sh command; the passwords come from the environment.
demo_broker() {
    ACTIVEMQ_BASE="$REPO_ROOT/$RUN/activemq" STOMP_PORT=off STOMP_TLS_PORT="$DEMO_STOMP_TLS_PORT" \
        OPENWIRE_PORT="${DEMO_OPENWIRE_PORT:-61626}" ACTIVEMQ_AUTH=1 \
        ACTIVEMQ_DRIVERS="siebel:${DRIVER_PW:-x}" ACTIVEMQ_CONNECTOR_PASSWORD="${CONNECTOR_PW:-x}" \
        bash "$SCRIPT_DIR/activemq.sh" "$1"
}

stop_demo() {
    for name in scs-sim connector finesse-sim; do
        if [[ -f $RUN/$name.pid ]]; then
            kill "$(cat "$RUN/$name.pid")" 2>/dev/null || true
            rm -f "$RUN/$name.pid"
        fi
    done
}

if [[ ${1:-} == stop ]]; then
    stop_demo
    demo_broker stop
    bash "$SCRIPT_DIR/prosody.sh" stop
    exit 0
fi

bash "$SCRIPT_DIR/deps.sh"
DRIVER_PW=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n")
CONNECTOR_PW=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n")
demo_broker stop >/dev/null 2>&1 || true   # its passwords are new: start it again
demo_broker start
XMPP_TLS=1 bash "$SCRIPT_DIR/prosody.sh" start
# A Prosody left running without TLS answers `start` as running: check STARTTLS, else restart.
timeout 10 openssl s_client -starttls xmpp -xmpphost finesse.local -connect 127.0.0.1:5222 -CAfile "$CA_FILE" \
    -verify_return_error </dev/null >/dev/null 2>&1 || XMPP_TLS=1 bash "$SCRIPT_DIR/prosody.sh" restart
cargo build --quiet --workspace
stop_demo

# setsid: their own process group, so that Ctrl-C on scs-sim leaves them running.
setsid target/debug/finesse-sim --config sims/finesse/finesse-sim.example.toml > "$RUN/finesse-sim.log" 2>&1 &
echo $! > "$RUN/finesse-sim.pid"
for _ in $(seq 1 50); do
    curl -sf http://127.0.0.1:8082/finesse/api/SystemInfo > /dev/null && break
    sleep 0.2
done

cat > "$RUN/connector.toml" <<TOML
[connector]
name = "demo-connector"
[broker]
port = $DEMO_STOMP_TLS_PORT
login = "connector"
password = "$CONNECTOR_PW"
tls = true
ca_file = "$CA_FILE"
[finesse]
primary = "http://127.0.0.1:8082"
poll_ms = 1000
xmpp_tls = "starttls"
ca_file = "$CA_FILE"
[security]
des_key = "$(cat "$KEY_FILE")"
[monitor]
listen = "127.0.0.1:8090"
[log]
level = "debug"
file = "$REPO_ROOT/$RUN/connector.log"
TOML
chmod 600 "$RUN/connector.toml"
setsid target/debug/siebel-cti-connector --config "$RUN/connector.toml" > "$RUN/connector.out" 2>&1 &
echo $! > "$RUN/connector.pid"
sleep 1

DESKTOP=http://127.0.0.1:8091/agent/1001/
echo "== monitor console: http://127.0.0.1:8090/   (health: http://127.0.0.1:8090/health)"
echo "== agent desktop:   $DESKTOP   (agent 1001, extension 5001)"
echo "== scs-sim: driver log $RUN/driver.log"
rm -f "$RUN/activities.sqlite"
# An inbound call from a known contact arrives while the agent is Ready.
( sleep 8; curl -sf -X POST http://127.0.0.1:8082/admin/calls -H 'Content-Type: application/json' \
    -d '{"to":"1001","ani":"4085551234","dnis":"8001","callVariables":{"callVariable1":"42"}}' \
    > "$RUN/call.json" ) &
HOLD=5
SERVE=()
if [[ -t 0 ]]; then
    SERVE=(--serve)
    echo "== after the scripted call, drive agent 1001 in the browser: $DESKTOP"
    echo "   (Place inbound call, Answer, Hold, Resume, Wrap-Up, Release, Ready; Ctrl-C ends scs-sim)"
fi
{
    echo "wait 4"
    echo "Ready"
    echo "wait 6"
    echo "AnswerCall"
    echo "wait 3"
    echo "ReleaseCall"
    echo "wait $HOLD"
} | target/debug/scs-sim --def def-templates/ucce.def --profile "Cisco UCCE" \
    --set "Driver:LogFile=$REPO_ROOT/$RUN/driver.log" --set "Driver:LogLevel=debug" \
    --set "Driver:BrokerPort=$DEMO_STOMP_TLS_PORT" --set "Driver:BrokerLogin=siebel" \
    --set "Driver:BrokerPassword=$DRIVER_PW" --set "Driver:BrokerCaFile=$CA_FILE" \
    --set "Driver:SecureKeyFile=$KEY_FILE" \
    --contacts scripts/demo/contacts.csv --activities "$RUN/activities.sqlite" \
    --agent 1001 --pin 1001pw --dn 5001 --wait 2 --command SignOnGroup --stdin \
    --http 127.0.0.1:8091 --finesse-admin http://127.0.0.1:8082 "${SERVE[@]}" &
echo $! > "$RUN/scs-sim.pid"
# A background job ignores Ctrl-C: pass it on, so that Ctrl-C ends scs-sim (only).
trap 'kill "$(cat "$RUN/scs-sim.pid" 2>/dev/null)" 2>/dev/null' INT TERM
wait "$(cat "$RUN/scs-sim.pid")" || true
trap - INT TERM
rm -f "$RUN/scs-sim.pid"
echo "== activities are in $RUN/activities.sqlite; the console still runs: http://127.0.0.1:8090/"
echo "== stop everything with: bash scripts/demo.sh stop"
