#!/usr/bin/env bash
# scripts/bench.sh — the whole-chain benchmark: N agents over K driver instances (the real
# library in scs-sim) log in through ActiveMQ, the connector, finesse-sim and Prosody, go
# Ready and take inbound calls at a steady rate, each answered and released. Prints login
# throughput, the latency from finesse-sim's publish to the Siebel callback, calls/s
# sustained, the connector's peak memory and threads, and the CPU of the connector, the
# broker, Prosody, finesse-sim and the bench process (scs-chain-bench; see the README's
# "Benchmarks").
#
# It starts its own finesse-sim and connector, and its own Prosody (PROSODY_BASE
# target/bench/prosody, port BENCH_XMPP_PORT) unless BENCH_XMPP names a running one; it uses
# a running ActiveMQ (scripts/activemq.sh start). Everything it started is stopped at the end.
#
# Usage: scripts/bench.sh [AGENTS]
# Env (defaults in brackets):
#   BENCH_AGENTS [2000]  BENCH_DRIVERS [4]  BENCH_RATE calls/s [50]  BENCH_SECONDS [20]
#   BENCH_HOLD_MS [0]: how long an answered call lasts
#   BENCH_WAVE [0]: logins and Ready this many agents at a time (0: all at once)
#   BENCH_PROFILE [release]: the cargo profile; BENCH_BUILD=0 uses the binaries as built
#   BENCH_WORKERS [8]: the connector's REST workers
#   Broker, as the tests reach it: BENCH_BROKER [$SIEBEL_CTI_TEST_BROKER or 127.0.0.1:61613],
#   BENCH_BROKER_CA (a CA file: STOMP over TLS), BENCH_CONNECTOR_LOGIN/_PASSWORD,
#   BENCH_DRIVER_LOGIN/_PASSWORD, BENCH_QUEUE_PREFIX [chain.requests] (a closed broker grants
#   request queues by name), BENCH_SECURE_KEY (the secure-password key file, 48 hex digits:
#   Driver:SecureKeyFile and the connector's security.des_key; unset: passwords in clear)
#   BENCH_XMPP [none]: IP:PORT of a running Prosody serving finesse.local (else its own on
#   BENCH_XMPP_PORT [5322], plain); BENCH_XMPP_TLS [plain]: the connector's finesse.xmpp_tls
#   (plain, starttls, tls) with BENCH_XMPP_CA, the CA file of Prosody's certificate
#   BENCH_CAPTURE [0]: 1 captures the XMPP and broker ports (tcpdump; both in clear) and
#   splits the event latency by hop (scripts/bench-split.py)
#   BENCH_RUN_DIR [target/bench/run-PID]: configs, logs, the publish log, the callbacks' trace
# Exit: 0 every call answered and released, 1 otherwise or on error.
set -euo pipefail
umask 077   # the run folder holds the connector's configuration (broker password)

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)

AGENTS=${1:-${BENCH_AGENTS:-2000}}
DRIVERS=${BENCH_DRIVERS:-4}
RATE=${BENCH_RATE:-50}
SECONDS_OF_CALLS=${BENCH_SECONDS:-20}
HOLD_MS=${BENCH_HOLD_MS:-0}
PROFILE=${BENCH_PROFILE:-release}
WORKERS=${BENCH_WORKERS:-8}
BROKER=${BENCH_BROKER:-${SIEBEL_CTI_TEST_BROKER:-127.0.0.1:61613}}
BROKER_CA=${BENCH_BROKER_CA:-}
QUEUE="/queue/${BENCH_QUEUE_PREFIX:-chain.requests}-bench-$$"
RUN=${BENCH_RUN_DIR:-$REPO_ROOT/target/bench/run-$$}
BIN=$REPO_ROOT/target/$PROFILE
# Agent ids of this run: unique per process, so runs sharing a Prosody do not meet.
FIRST_AGENT=$(( (3000 + $$ % 6000) * 100000 ))

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $AGENTS =~ ^[0-9]+$ && $AGENTS -ge 1 && $AGENTS -le 99999 ]] || die "AGENTS must be 1..99999, got $AGENTS"
# target/bench holds Prosody's folder too: readable by the user Prosody runs as (not umask 077).
(umask 022 && mkdir -p "$REPO_ROOT/target/bench")
mkdir -p "$RUN"

PIDS=()
OWN_PROSODY=0
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ $OWN_PROSODY == 1 ]]; then
        PROSODY_BASE=$REPO_ROOT/target/bench/prosody XMPP_PORT=$XMPP_PORT \
            bash "$SCRIPT_DIR/prosody.sh" stop >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

if [[ ${BENCH_BUILD:-1} != 0 ]]; then
    log "building ($PROFILE)"
    flag=()
    [[ $PROFILE == release ]] && flag=(--release)
    (cd "$REPO_ROOT" && cargo build "${flag[@]}" -q -p siebel-cti -p siebel-cti-connector \
        -p finesse-sim -p scs-sim)
fi
for b in finesse-sim siebel-cti-connector scs-chain-bench libsiebel_cti.so; do
    [[ -e $BIN/$b ]] || die "$BIN/$b is missing: build it (cargo build -p ...) or set BENCH_BUILD=1"
done

# --- Prosody ----------------------------------------------------------------------------------
if [[ -n ${BENCH_XMPP:-} ]]; then
    XMPP=$BENCH_XMPP
    XMPP_PORT=${XMPP##*:}
else
    XMPP_PORT=${BENCH_XMPP_PORT:-5322}
    XMPP=127.0.0.1:$XMPP_PORT
    OWN_PROSODY=1
    PROSODY_BASE=$REPO_ROOT/target/bench/prosody XMPP_PORT=$XMPP_PORT \
        bash "$SCRIPT_DIR/prosody.sh" start --clean >&2
    PROSODY_BASE=$REPO_ROOT/target/bench/prosody XMPP_PORT=$XMPP_PORT \
        bash "$SCRIPT_DIR/prosody.sh" limits
fi
port_pid() {  # the process listening on TCP port $1 (empty when unknown)
    ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2 || true
}
PROSODY_PID=$(port_pid "$XMPP_PORT")
BROKER_PID=$(port_pid "${BROKER##*:}")

# --- finesse-sim ------------------------------------------------------------------------------
{
    cat <<EOF
http = "127.0.0.1:0"
deployment = "UCCE"
xmpp = "$XMPP"
xmpp_domain = "finesse.local"
pubsub_domain = "pubsub.finesse.local"
admin_user = "finesse-admin"
admin_password = "finesse-admin-pw"
EOF
    for ((i = 0; i < AGENTS; i++)); do
        id=$((FIRST_AGENT + i))
        printf '[[agents]]\nid = "%s"\npassword = "pw-%s"\nfirst_name = "Bench"\nlast_name = "%s"\n' \
            "$id" "$id" "$id"
    done
} >"$RUN/finesse-sim.toml"
t0=$(date +%s%N)
FINESSE_SIM_LOG=warn FINESSE_SIM_PUBLISH_LOG=$RUN/publish.log \
    "$BIN/finesse-sim" --config "$RUN/finesse-sim.toml" >"$RUN/finesse-sim.out" 2>"$RUN/finesse-sim.err" &
PIDS+=($!)
SIM_PID=$!
URL=""
for _ in $(seq 1 1200); do
    URL=$(grep -o 'http://[0-9.:]*' "$RUN/finesse-sim.out" 2>/dev/null || true)
    [[ -n $URL ]] && break
    kill -0 "$SIM_PID" 2>/dev/null || die "finesse-sim exited: $(tail -5 "$RUN/finesse-sim.err")"
    sleep 0.1
done
[[ -n $URL ]] || die "finesse-sim did not start within 120 s"
echo "finesse-sim: $AGENTS agents (XMPP accounts, nodes, subscriptions) ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms at $URL"

# --- connector --------------------------------------------------------------------------------
{
    cat <<EOF
[connector]
name = "bench-connector-$$"
workers = $WORKERS
heartbeat_ms = 1000
[broker]
host = "${BROKER%:*}"
port = ${BROKER##*:}
request_queue = "$QUEUE"
heartbeat_ms = 10000
EOF
    [[ -n ${BENCH_CONNECTOR_LOGIN:-} ]] && printf 'login = "%s"\npassword = "%s"\n' \
        "$BENCH_CONNECTOR_LOGIN" "${BENCH_CONNECTOR_PASSWORD:-}"
    [[ -n $BROKER_CA ]] && printf 'tls = true\nca_file = "%s"\n' "$BROKER_CA"
    [[ -n ${BENCH_SECURE_KEY:-} ]] && printf '[security]\ndes_key = "%s"\n' \
        "$(tr -d '[:space:]' <"$BENCH_SECURE_KEY")"
    cat <<EOF
[finesse]
primary = "$URL"
xmpp_port = $XMPP_PORT
xmpp_tls = "${BENCH_XMPP_TLS:-plain}"
ca_file = "${BENCH_XMPP_CA:-}"
poll_ms = 5000
request_timeout_ms = 5000
[monitor]
listen = "127.0.0.1:0"
[log]
level = "warn"
EOF
} >"$RUN/connector.toml"
chmod 600 "$RUN/connector.toml"
"$BIN/siebel-cti-connector" --config "$RUN/connector.toml" \
    >"$RUN/connector.out" 2>"$RUN/connector.err" &
PIDS+=($!)
CONNECTOR_PID=$!
sleep 0.5
kill -0 "$CONNECTOR_PID" 2>/dev/null || die "the connector exited: $(tail -5 "$RUN/connector.err")"

# --- the bench --------------------------------------------------------------------------------
args=(--agents "$AGENTS" --drivers "$DRIVERS" --rate "$RATE" --seconds "$SECONDS_OF_CALLS"
      --hold-ms "$HOLD_MS" --wave "${BENCH_WAVE:-0}" --finesse "$URL" --publish-log "$RUN/publish.log" --trace "$RUN/callbacks.log"
      --def "$REPO_ROOT/def-templates/ucce.def" --broker "$BROKER" --queue "$QUEUE"
      --first-agent "$FIRST_AGENT" --log-file "$RUN/driver.log" --xmpp-port "$XMPP_PORT"
      --watch "connector=$CONNECTOR_PID" --watch "finesse-sim=$SIM_PID")
[[ -n $BROKER_PID ]] && args+=(--watch "broker=$BROKER_PID")
[[ -n $PROSODY_PID ]] && args+=(--watch "prosody=$PROSODY_PID")
# The drivers' password goes by the environment (BENCH_DRIVER_PASSWORD), never the command line.
[[ -n ${BENCH_DRIVER_LOGIN:-} ]] && args+=(--broker-login "$BENCH_DRIVER_LOGIN")
export BENCH_DRIVER_PASSWORD=${BENCH_DRIVER_PASSWORD:-}
[[ -n $BROKER_CA ]] && args+=(--ca-file "$BROKER_CA")
[[ -n ${BENCH_SECURE_KEY:-} ]] && args+=(--secure-key-file "$BENCH_SECURE_KEY")
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg); profile $PROFILE; logs in $RUN"
CAPTURE_PID=""
if [[ ${BENCH_CAPTURE:-0} == 1 ]]; then
    # Every hop's share of the event latency, from the packets on the loopback interface
    # (scripts/bench-split.py): both ports must carry clear text.
    command -v tcpdump >/dev/null || die "BENCH_CAPTURE=1 needs tcpdump (and root or CAP_NET_RAW)"
    command -v python3 >/dev/null || die "BENCH_CAPTURE=1 needs python3"
    [[ -z $BROKER_CA && ${BENCH_XMPP_TLS:-plain} == plain ]] \
        || die "BENCH_CAPTURE=1 needs the broker and XMPP in clear (no BENCH_BROKER_CA, BENCH_XMPP_TLS=plain)"
    tcpdump -i lo -s 0 -B 131072 -Z "$(id -un)" -w "$RUN/capture.pcap" \
        "tcp port $XMPP_PORT or tcp port ${BROKER##*:}" 2>"$RUN/tcpdump.err" &
    CAPTURE_PID=$!
    PIDS+=("$CAPTURE_PID")
    sleep 1
    kill -0 "$CAPTURE_PID" 2>/dev/null || die "tcpdump exited: $(tail -2 "$RUN/tcpdump.err")"
fi
rc=0
"$BIN/scs-chain-bench" "${args[@]}" || rc=$?
if [[ -n $CAPTURE_PID ]]; then
    kill "$CAPTURE_PID" 2>/dev/null || true
    wait "$CAPTURE_PID" 2>/dev/null || true
    # A packet the kernel dropped would pair a hop with a later packet: say how many.
    echo "capture: $(grep -E 'captured|dropped by kernel' "$RUN/tcpdump.err" | tr '\n' ';' | sed 's/;$//')"
    python3 "$SCRIPT_DIR/bench-split.py" "$RUN/capture.pcap" "$RUN/publish.log" \
        "$RUN/callbacks.log" "$XMPP_PORT" "${BROKER##*:}" || rc=1
fi
exit "$rc"
