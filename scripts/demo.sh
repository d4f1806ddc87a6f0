#!/usr/bin/env bash
# scripts/demo.sh — the demo: starts ActiveMQ, Prosody, finesse-sim (REST on
# 127.0.0.1:$DEMO_FINESSE_PORT), the connector (monitor console on
# http://127.0.0.1:$DEMO_CONSOLE_PORT/) and scs-sim with the UCCE DEF template and its agent
# desktop (http://127.0.0.1:$DEMO_DESKTOP_PORT/agent/1001/). scs-sim loads the real driver
# library, logs agent 1001 in (NOT_READY), makes it READY, takes an inbound call (screen pop +
# phone call activity in SQLite) and keeps the agent READY so that the console shows it. The
# transcript of what Siebel's side saw is printed as it happens; then the script returns and
# everything KEEPS RUNNING, detached from the terminal (drive agent 1001 in the browser),
# until `scripts/demo.sh stop`.
# If any part cannot start (a port taken, a process that exits, a service that does not
# answer) the demo says which, shows the end of its log, stops what it started and exits 1.
# The demo's broker is closed (docs/security.md): its own ActiveMQ in target/demo/activemq,
# STOMP over TLS only on 127.0.0.1:$DEMO_STOMP_TLS_PORT, authentication and authorization on,
# fresh random passwords for the connector and the driver at each start.
# Ports (env): DEMO_FINESSE_PORT (8082), DEMO_CONSOLE_PORT (8090), DEMO_DESKTOP_PORT (8091),
# DEMO_STOMP_TLS_PORT (61622), DEMO_OPENWIRE_PORT (61626); Prosody: XMPP_PORT (5222) and
# PROSODY_BASE (scripts/prosody.sh). DEMO_DIR: the demo's folder (default target/demo).
# Agent passwords cross the broker encrypted (secure passwords, the key target/certs/secure.key
# of scripts/certs.sh); the connector reaches Prosody with STARTTLS (XMPP_TLS=1).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
cd "$REPO_ROOT"
RUN=${DEMO_DIR:-$REPO_ROOT/target/demo}
mkdir -p "$RUN"
FINESSE_PORT=${DEMO_FINESSE_PORT:-8082}
CONSOLE_PORT=${DEMO_CONSOLE_PORT:-8090}
DESKTOP_PORT=${DEMO_DESKTOP_PORT:-8091}
DEMO_STOMP_TLS_PORT=${DEMO_STOMP_TLS_PORT:-61622}
XMPP_PORT=${XMPP_PORT:-5222}
export XMPP_PORT
CA_FILE=$REPO_ROOT/target/certs/ca.pem
KEY_FILE=$REPO_ROOT/target/certs/secure.key
FINESSE=http://127.0.0.1:$FINESSE_PORT
CONSOLE=http://127.0.0.1:$CONSOLE_PORT
DESKTOP=http://127.0.0.1:$DESKTOP_PORT/agent/1001/

say() { printf '== %s\n' "$*"; }
# The demo's closed broker, $1 = activemq.sh command; the passwords come from the environment.
demo_broker() {
    ACTIVEMQ_BASE="$RUN/activemq" STOMP_PORT=off STOMP_TLS_PORT="$DEMO_STOMP_TLS_PORT" \
        OPENWIRE_PORT="${DEMO_OPENWIRE_PORT:-61626}" ACTIVEMQ_AUTH=1 \
        ACTIVEMQ_DRIVERS="siebel:${DRIVER_PW:-x}" ACTIVEMQ_CONNECTOR_PASSWORD="${CONNECTOR_PW:-x}" \
        bash "$SCRIPT_DIR/activemq.sh" "$1"
}

stop_demo() {
    local name pid
    for name in scs-sim connector finesse-sim; do
        if [[ -f $RUN/$name.pid ]]; then
            pid=$(cat "$RUN/$name.pid")
            kill "$pid" 2>/dev/null || true
            # The connector tells the drivers it goes out of service first: give it time.
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            rm -f "$RUN/$name.pid"
        fi
    done
}

# Loud failure: what failed, the end of its log, then everything the demo started is stopped.
fail() {  # $1 = what failed, $2 = its log (optional)
    printf '\n!!!!!!!!!! demo FAILED: %s !!!!!!!!!!\n' "$1" >&2
    if [[ -n ${2:-} && -f $2 ]]; then
        printf -- '--- last lines of %s ---\n' "$2" >&2
        tail -n 15 "$2" >&2
    fi
    stop_demo
    if [[ $services_started -eq 1 ]]; then
        printf '(the demo stopped its programs; its broker and Prosody stay up: scripts/demo.sh stop)\n' >&2
    fi
    exit 1
}

services_started=0
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Starts a program detached from the terminal (own session, no SIGHUP, no stdin): it runs
# until `demo.sh stop`. $1 = name (files NAME.pid and NAME.out: its output), then the command.
start_detached() {
    local name=$1; shift
    nohup setsid "$@" </dev/null >"$RUN/$name.out" 2>&1 &
    echo $! >"$RUN/$name.pid"
}

# Waits until $2 answers (curl, any HTTP status unless $4 is set: then the body must contain
# it), failing loudly if process $1 exits or nothing answers within $3 seconds.
wait_http() {  # $1 = name, $2 = URL, $3 = seconds, $4 = text the body must hold (optional)
    local name=$1 url=$2 tries=$(( $3 * 5 )) body
    for _ in $(seq 1 "$tries"); do
        kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null || fail "$name exited at start" "$RUN/$name.out"
        if body=$(curl -s --max-time 2 "$url" 2>/dev/null) && [[ -n $body ]]; then
            [[ -z ${4:-} || $body == *"$4"* ]] && return 0
        fi
        sleep 0.2
    done
    fail "$name did not answer on $url within $3 s" "$RUN/$name.out"
}

if [[ ${1:-} == stop ]]; then
    stop_demo
    demo_broker stop
    bash "$SCRIPT_DIR/prosody.sh" stop
    say "demo stopped"
    exit 0
fi
[[ -z ${1:-} ]] || { echo "usage: scripts/demo.sh [stop]" >&2; exit 2; }

say "checking the tools (scripts/deps.sh)..."
bash "$SCRIPT_DIR/deps.sh" || fail "scripts/deps.sh could not install the tools"
stop_demo   # a previous run's processes
for p in "$FINESSE_PORT:finesse-sim (DEMO_FINESSE_PORT)" "$CONSOLE_PORT:console (DEMO_CONSOLE_PORT)" \
         "$DESKTOP_PORT:agent desktop (DEMO_DESKTOP_PORT)"; do
    if port_taken "${p%%:*}"; then
        fail "port ${p%%:*} for the ${p#*:} is taken by another program: stop it or choose another port"
    fi
done

say "starting the demo's closed ActiveMQ (STOMP over TLS on $DEMO_STOMP_TLS_PORT)..."
services_started=1
DRIVER_PW=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n")
CONNECTOR_PW=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n")
demo_broker stop >/dev/null 2>&1 || true   # its passwords are new: start it again
demo_broker start >"$RUN/activemq-start.log" 2>&1 || fail "ActiveMQ did not start" "$RUN/activemq-start.log"
say "starting Prosody (XMPP on $XMPP_PORT, STARTTLS)..."
XMPP_TLS=1 bash "$SCRIPT_DIR/prosody.sh" start >"$RUN/prosody-start.log" 2>&1 || fail "Prosody did not start" "$RUN/prosody-start.log"
# A Prosody left running without TLS answers `start` as running: check STARTTLS, else restart.
if ! timeout 10 openssl s_client -starttls xmpp -xmpphost finesse.local -connect "127.0.0.1:$XMPP_PORT"         -CAfile "$CA_FILE" -verify_return_error </dev/null >/dev/null 2>&1; then
    XMPP_TLS=1 bash "$SCRIPT_DIR/prosody.sh" restart >"$RUN/prosody-start.log" 2>&1         || fail "Prosody did not restart with TLS" "$RUN/prosody-start.log"
fi

say "building the driver, the connector and the simulators (the first build takes a few minutes)..."
t0=$SECONDS
if ! cargo build --workspace --color never 2>&1 | tee "$RUN/build.log" \
        | grep --line-buffered -E '^ *(Compiling|Finished)' | sed -u 's/^ */   /'; then
    fail "the build failed" "$RUN/build.log"
fi
say "built in $((SECONDS - t0)) s"

sed -e "s|^http = .*|http = \"127.0.0.1:$FINESSE_PORT\"|" \
    -e "s|^xmpp = .*|xmpp = \"127.0.0.1:$XMPP_PORT\"|" \
    sims/finesse/finesse-sim.example.toml >"$RUN/finesse-sim.toml"
say "starting finesse-sim ($FINESSE)..."
start_detached finesse-sim target/debug/finesse-sim --config "$RUN/finesse-sim.toml"
wait_http finesse-sim "$FINESSE/finesse/api/SystemInfo" 20 "IN_SERVICE"

cat >"$RUN/connector.toml" <<TOML
[connector]
name = "demo-connector"
[broker]
port = $DEMO_STOMP_TLS_PORT
login = "connector"
password = "$CONNECTOR_PW"
tls = true
ca_file = "$CA_FILE"
[finesse]
primary = "$FINESSE"
xmpp_port = $XMPP_PORT
poll_ms = 1000
xmpp_tls = "starttls"
ca_file = "$CA_FILE"
[security]
des_key = "$(cat "$KEY_FILE")"
[monitor]
listen = "127.0.0.1:$CONSOLE_PORT"
[log]
level = "debug"
file = "$RUN/connector.log"
TOML
chmod 600 "$RUN/connector.toml"
say "checking the connector's configuration (siebel-cti-connector --check)..."
target/debug/siebel-cti-connector --check --config "$RUN/connector.toml" >"$RUN/connector-check.log" 2>&1 \
    || fail "siebel-cti-connector --check" "$RUN/connector-check.log"
say "starting the connector (console $CONSOLE/)..."
start_detached connector target/debug/siebel-cti-connector --config "$RUN/connector.toml"
wait_http connector "$CONSOLE/health" 20 "IN_SERVICE"

rm -f "$RUN/activities.sqlite"
cat >"$RUN/scs-sim.commands" <<'COMMANDS'
wait 4
Ready
wait 6
AnswerCall
wait 3
ReleaseCall
wait 5
COMMANDS
say "starting scs-sim: the real driver library in a simulated Siebel, agent 1001 (desktop $DESKTOP)"
# --stdin from a file: the scripted steps, then scs-sim keeps serving the desktop.
nohup setsid target/debug/scs-sim --def def-templates/ucce.def --profile "Cisco UCCE" \
    --set "Driver:LogFile=$RUN/driver.log" --set "Driver:LogLevel=debug" \
    --set "Driver:BrokerPort=$DEMO_STOMP_TLS_PORT" --set "Driver:BrokerLogin=siebel" \
    --set "Driver:BrokerPassword=$DRIVER_PW" --set "Driver:BrokerCaFile=$CA_FILE" \
    --set "Driver:SecureKeyFile=$KEY_FILE" \
    --contacts scripts/demo/contacts.csv --activities "$RUN/activities.sqlite" \
    --agent 1001 --pin 1001pw --dn 5001 --wait 2 --command SignOnGroup \
    --http "127.0.0.1:$DESKTOP_PORT" --finesse-admin "$FINESSE" --serve --stdin \
    <"$RUN/scs-sim.commands" >"$RUN/scs-sim.out" 2>&1 &
echo $! >"$RUN/scs-sim.pid"
wait_http scs-sim "$DESKTOP" 20

cat <<LEGEND

== transcript: what the simulated Siebel sees, one line per driver callback ([1001] = agent 1001)
   Status line: the text on the communications toolbar's status line
   Toolbar:     the buttons the driver enables; "greyed" ones are disabled, [checked] marks a
                toggled button (Ready pressed), [blinking] one asking for attention (ringing)
   Event X:     a device event with its fields, as the DEF's event handlers receive it
   Agent info:  UpdateObjectInformation, Siebel's numbered agent properties: 2 agent id,
                4 Not Ready, 5 busy on a call, 13 logged in
   Screen pop:  what the DEF's event response showed, and the activity records it wrote
   InvokeCommand C [id] -> 0: scs-sim pressed button/command C (0 = accepted)
   A call from a known contact arrives after the agent is Ready; it is answered and released.

LEGEND
# The inbound call, once the agent is Ready.
( sleep 8; curl -sf -X POST "$FINESSE/admin/calls" -H 'Content-Type: application/json' \
    -d '{"to":"1001","ani":"4085551234","dnis":"8001","callVariables":{"callVariable1":"42"}}' \
    >"$RUN/call.json" ) &
# The transcript, until scs-sim has run the scripted steps (it then serves the desktop).
tail -n +1 -f "$RUN/scs-sim.out" --pid "$(cat "$RUN/scs-sim.pid")" &
tail_pid=$!
for _ in $(seq 1 300); do
    grep -q 'serving the agent desktop' "$RUN/scs-sim.out" && break
    kill -0 "$(cat "$RUN/scs-sim.pid")" 2>/dev/null || { kill "$tail_pid" 2>/dev/null; fail "scs-sim exited" "$RUN/scs-sim.out"; }
    sleep 0.2
done
sleep 0.5
kill "$tail_pid" 2>/dev/null || true
wait "$tail_pid" 2>/dev/null || true
grep -q 'serving the agent desktop' "$RUN/scs-sim.out" || fail "scs-sim did not finish its steps within 60 s" "$RUN/scs-sim.out"

# A picture of the console as the agent sits Ready after the call (headless Chromium, if
# installed: scripts/deps.sh installs it for the tests). Not fatal: the console itself runs.
SHOT="not taken (no chromium)"
if command -v chromium >/dev/null 2>&1; then
    if timeout 60 chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
            --user-data-dir="$RUN/chromium-profile" --window-size=1400,1000 \
            --timeout=4000 --screenshot="$RUN/console.png" "$CONSOLE/" \
            >"$RUN/chromium.log" 2>&1 && [[ -s $RUN/console.png ]]; then
        SHOT="$RUN/console.png"
    else
        SHOT="not taken (see $RUN/chromium.log)"
    fi
fi

cat <<DONE

== the demo runs, detached from this terminal, until: scripts/demo.sh stop
   monitor console  $CONSOLE/   (health: $CONSOLE/health, metrics: $CONSOLE/metrics)
   console picture  $SHOT
   agent desktop    $DESKTOP   (agent 1001, extension 5001: place a call, Answer, Hold, Release, Ready)
   logs             $RUN/connector.log, $RUN/driver.log; output: $RUN/{finesse-sim,connector,scs-sim}.out
   activities       $RUN/activities.sqlite
DONE
