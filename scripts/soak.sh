#!/usr/bin/env bash
# scripts/soak.sh — a long run of the whole chain (not part of CI):
#
#   soak-host (the driver library, one instance, AGENTS sessions) ──STOMP──> its own ActiveMQ
#   <── connector ──> finesse-sim (REST) ──> Prosody (XMPP) ──> connector ──> ... ──> soak-host
#
# Every agent logs in, goes Ready and takes calls for DURATION: soak-host places each call through
# finesse-sim's admin API, answers it on EventRinging, lets the far end hang up after a short talk
# and counts, per call (DialogId), EventRinging, EventEstablished and EventReleased. In the middle
# the connector is restarted (at 1/3) and the broker (at 2/3). Every SAMPLE seconds the RSS,
# threads and open file descriptors of the connector, the broker, the driver's host (soak-host)
# and finesse-sim are read from /proc. At the end: a table, the memory slope per hour of each
# process (least squares over its samples since it last started, after warm-up), the events
# expected against those received (lost, duplicated; calls in progress during a restart are
# counted apart) and a verdict.
#
# Usage: scripts/soak.sh [DURATION]      DURATION: seconds, or Nm / Nh (default 1h)
# Env:   SOAK_AGENTS (200), SOAK_SAMPLE (60 s), SOAK_THINK_MS (30000:60000), SOAK_TALK_MS
#        (1000:3000), SOAK_STOMP_PORT (61713), SOAK_OPENWIRE_PORT (61716), SOAK_HTTP_PORT (18082),
#        SOAK_DIR (target/soak/<UTC time>), SOAK_NO_BUILD=1 (use the binaries already built).
# Isolation: the broker is a separate ActiveMQ instance (scripts/activemq.sh with ACTIVEMQ_BASE
# under SOAK_DIR and its own ports), restarted without touching the shared one. Prosody is the
# shared one (scripts/prosody.sh start; never restarted here): the soak's agents have ids of their
# own (8PPPPNNN), so their pubsub nodes never meet the tests'. The binaries are copied into
# SOAK_DIR/bin first, so rebuilding the tree during the run changes nothing.
# Output: SOAK_DIR/{samples.tsv,report.txt,host-stats.json,*.log}; exit 0 on a PASS verdict.
set -euo pipefail
# The whole script is one block, read before it runs: editing this file during a run (an hour)
# cannot change what the running copy does next.
# shellcheck disable=SC2317  # cleanup runs from a trap, sysinfo_ok from wait_until
{
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
cd "$REPO_ROOT"

log() { printf '%s soak: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 1; }

duration=${1:-1h}
case $duration in
    *h) duration=$((${duration%h} * 3600)) ;;
    *m) duration=$((${duration%m} * 60)) ;;
    *s) duration=${duration%s} ;;
esac
[[ $duration =~ ^[0-9]+$ && $duration -ge 120 ]] || die "DURATION must be at least 120 s (seconds, Nm or Nh)"

AGENTS=${SOAK_AGENTS:-200}
SAMPLE=${SOAK_SAMPLE:-60}
STOMP=${SOAK_STOMP_PORT:-61713}
OPENWIRE=${SOAK_OPENWIRE_PORT:-61716}
HTTP=${SOAK_HTTP_PORT:-18082}
XMPP=${XMPP_PORT:-5222}
RUN=${SOAK_DIR:-$REPO_ROOT/target/soak/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$RUN/bin"
RUN=$(cd "$RUN" && pwd -P)
FIRST=$((80000000 + ($$ % 10000) * 1000))
QUEUE="/queue/soak.$$.requests"
export ACTIVEMQ_BASE="$RUN/activemq" STOMP_PORT=$STOMP OPENWIRE_PORT=$OPENWIRE
[[ $AGENTS -ge 1 && $AGENTS -le 999 ]] || die "SOAK_AGENTS must be 1..999"

grep -q 'ACTIVEMQ_BASE' "$SCRIPT_DIR/activemq.sh" \
    || die "scripts/activemq.sh does not take ACTIVEMQ_BASE: a second broker cannot be started apart"

# --- build and copy ---------------------------------------------------------------------------
if [[ -z ${SOAK_NO_BUILD:-} ]]; then
    log "building (release): the driver library, the connector, finesse-sim, soak-host"
    cargo build --release -p siebel-cti -p siebel-cti-connector -p finesse-sim
    CARGO_TARGET_DIR="$REPO_ROOT/target/soak-build" \
        cargo build --release --manifest-path "$SCRIPT_DIR/soak/host/Cargo.toml"
fi
cp -f target/release/libsiebel_cti.so target/release/siebel-cti-connector target/release/finesse-sim \
    target/soak-build/release/soak-host "$RUN/bin/"

# --- processes --------------------------------------------------------------------------------
pids=()
cleanup() {
    local p
    touch "$RUN/stop" 2>/dev/null || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    bash "$SCRIPT_DIR/activemq.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

status_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || true; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }
broker_pid() { cat "$ACTIVEMQ_BASE/broker.pid" 2>/dev/null || true; }
stat_json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))' \
    "$RUN/host-stats.json" "$1" 2>/dev/null || echo "?"; }

wait_until() { # SECONDS DESCRIPTION COMMAND...
    local limit=$1 what=$2 t0=$SECONDS
    shift 2
    until "$@"; do
        ((SECONDS - t0 < limit)) || die "$what: not within $limit s"
        sleep 1
    done
}

start_connector() {
    cat >"$RUN/connector.toml" <<EOF
[connector]
name = "soak-connector"
workers = 4
[broker]
host = "127.0.0.1"
port = $STOMP
request_queue = "$QUEUE"
heartbeat_ms = 10000
[finesse]
primary = "http://127.0.0.1:$HTTP"
xmpp_port = $XMPP
xmpp_tls = "plain"
poll_ms = 5000
request_timeout_ms = 5000
[monitor]
listen = ""
[log]
level = "warn"
file = "$RUN/connector.log"
EOF
    setsid "$RUN/bin/siebel-cti-connector" --config "$RUN/connector.toml" >>"$RUN/connector.out" 2>&1 &
    connector=$!
    pids+=("$connector")
}

stop_connector() {
    kill "$connector" 2>/dev/null || true
    local t0=$SECONDS
    while alive "$connector" && ((SECONDS - t0 < 20)); do sleep 0.5; done
    if alive "$connector"; then kill -9 "$connector" 2>/dev/null || true; fi
    wait "$connector" 2>/dev/null || true
}

log "run directory $RUN; $AGENTS agents ($FIRST..$((FIRST + AGENTS - 1))), ${duration} s, a sample every ${SAMPLE} s"
log "own broker: STOMP 127.0.0.1:$STOMP, OpenWire $OPENWIRE (ACTIVEMQ_BASE=$ACTIVEMQ_BASE)"
bash "$SCRIPT_DIR/activemq.sh" start --clean >"$RUN/activemq.out" 2>&1 \
    || { cat "$RUN/activemq.out" >&2; die "own broker did not start"; }
bash "$SCRIPT_DIR/prosody.sh" start >"$RUN/prosody.out" 2>&1 \
    || { cat "$RUN/prosody.out" >&2; die "Prosody did not start"; }

{
    printf 'http = "127.0.0.1:%s"\ndeployment = "UCCE"\nxmpp = "127.0.0.1:%s"\n' "$HTTP" "$XMPP"
    printf 'xmpp_domain = "finesse.local"\npubsub_domain = "pubsub.finesse.local"\n'
    printf 'admin_user = "finesse-admin"\nadmin_password = "finesse-admin-pw"\n'
    for ((i = 0; i < AGENTS; i++)); do
        id=$((FIRST + i))
        printf '[[agents]]\nid = "%s"\npassword = "pw-%s"\nfirst_name = "Soak"\nlast_name = "A%s"\nextension = "%s"\nteam_id = "1"\nteam_name = "Soak"\n' \
            "$id" "$id" "$i" "$((60000 + i))"
    done
    printf '[[not_ready_reasons]]\nid = "11"\ncode = "10"\nlabel = "Break"\n'
    printf '[[logout_reasons]]\nid = "21"\ncode = "30"\nlabel = "End of shift"\n'
    printf '[[wrap_up_reasons]]\nid = "31"\nlabel = "Sale"\n'
} >"$RUN/finesse-sim.toml"
FINESSE_SIM_LOG=warn setsid "$RUN/bin/finesse-sim" --config "$RUN/finesse-sim.toml" >"$RUN/finesse-sim.log" 2>&1 &
finesse=$!
pids+=("$finesse")
sysinfo_ok() { curl -fsS -o /dev/null "http://127.0.0.1:$HTTP/finesse/api/SystemInfo" 2>/dev/null; }
wait_until 300 "finesse-sim answering on $HTTP (registers $AGENTS XMPP accounts first)" sysinfo_ok
log "finesse-sim up (pid $finesse)"

start_connector
log "connector started (pid $connector)"

"$RUN/bin/soak-host" --lib "$RUN/bin/libsiebel_cti.so" --broker "127.0.0.1:$STOMP" --queue "$QUEUE" \
    --finesse "127.0.0.1:$HTTP" --run "$RUN" --agents "$FIRST:$AGENTS" --ext-base 60000 \
    --think-ms "${SOAK_THINK_MS:-30000:60000}" --talk-ms "${SOAK_TALK_MS:-1000:3000}" \
    >"$RUN/soak-host.log" 2>&1 &
host=$!
pids+=("$host")
log "soak-host started (pid $host)"

# --- the run ----------------------------------------------------------------------------------
printf 'elapsed_s\tevent\tconnector_pid\tconnector_rss_kb\tconnector_threads\tconnector_fds\tbroker_pid\tbroker_rss_kb\tbroker_threads\tbroker_fds\thost_pid\thost_rss_kb\thost_threads\thost_fds\tfinesse_rss_kb\tfinesse_threads\tfinesse_fds\tplaced\tevents\tlost_clean\tdup_clean\tcti_up\ttimeouts\tlate_events\tring_p99_ms\n' \
    >"$RUN/samples.tsv"
sample() { # EVENT
    local b
    b=$(broker_pid)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$((SECONDS - start))" "$1" \
        "$connector" "$(status_field "$connector" VmRSS)" "$(status_field "$connector" Threads)" "$(fds "$connector")" \
        "$b" "$(status_field "$b" VmRSS)" "$(status_field "$b" Threads)" "$(fds "$b")" \
        "$host" "$(status_field "$host" VmRSS)" "$(status_field "$host" Threads)" "$(fds "$host")" \
        "$(status_field "$finesse" VmRSS)" "$(status_field "$finesse" Threads)" "$(fds "$finesse")" \
        "$(stat_json placed)" "$(stat_json events)" "$(stat_json "clean['lost']['all']")" \
        "$(stat_json "clean['duplicated']['all']")" "$(stat_json cti_up)" "$(stat_json "timeouts['all']")" \
        "$(stat_json unknown_events)" "$(stat_json "ringing_latency_ms['p99']")" >>"$RUN/samples.tsv"
    tail -n 1 "$RUN/samples.tsv" | awk -F'\t' '{ printf "  t=%5ss %-18s connector %6.1f MB %3s thr %4s fd | broker %6.1f MB %3s thr %4s fd | host %6.1f MB %3s thr %4s fd | calls %s events %s lost %s dup %s cti_up %s timeouts %s late %s ring p99 %s ms\n", $1, $2, $4/1024, $5, $6, $8/1024, $9, $10, $12/1024, $13, $14, $18, $19, $20, $21, $22, $23, $24, $25 }' >&2
}
all_cti_up() { [[ $(stat_json cti_up) == "$AGENTS" ]]; }

start=$SECONDS
restart_connector_at=$((duration / 3))
restart_broker_at=$((2 * duration / 3))
connector_restarted="" broker_restarted=""
next_sample=0
sample start
next_sample=$SAMPLE
while ((SECONDS - start < duration)); do
    alive "$host" || die "soak-host died (see $RUN/soak-host.log)"
    alive "$finesse" || die "finesse-sim died (see $RUN/finesse-sim.log)"
    now=$((SECONDS - start))
    if [[ -z $connector_restarted && $now -ge $restart_connector_at ]]; then
        log "restarting the connector"
        touch "$RUN/disrupted"
        sample before-connector-restart
        stop_connector
        sleep 5
        down=$(stat_json cti_up)
        start_connector
        t0=$SECONDS
        until all_cti_up || ((SECONDS - t0 > 180)); do sleep 1; done
        took=$((SECONDS - t0))
        sleep 20
        rm -f "$RUN/disrupted"
        connector_restarted="$took s to CTI available on all sessions (cti_up $down/$AGENTS while stopped, $(stat_json cti_up)/$AGENTS after 20 s settle)"
        log "connector restarted (pid $connector): $connector_restarted"
        sample after-connector-restart
    elif [[ -n $connector_restarted && -z $broker_restarted && $now -ge $restart_broker_at ]]; then
        log "restarting the broker"
        touch "$RUN/disrupted"
        sample before-broker-restart
        bash "$SCRIPT_DIR/activemq.sh" restart >>"$RUN/activemq.out" 2>&1 || die "own broker did not restart"
        down=$(stat_json cti_up)
        t0=$SECONDS
        until all_cti_up || ((SECONDS - t0 > 180)); do sleep 1; done
        took=$((SECONDS - t0))
        sleep 20
        rm -f "$RUN/disrupted"
        broker_restarted="$took s to CTI available on all sessions after the broker was back (cti_up $down/$AGENTS then, $(stat_json cti_up)/$AGENTS after 20 s settle)"
        log "broker restarted (pid $(broker_pid)): $broker_restarted"
        sample after-broker-restart
    elif ((now >= next_sample)); then
        alive "$connector" || log "connector pid $connector is gone (see $RUN/connector.out)"
        sample minute
        next_sample=$(((now / SAMPLE + 1) * SAMPLE))
    fi
    sleep 1
done
sample end
log "stopping: in-flight calls finish"
touch "$RUN/stop"
t0=$SECONDS
while alive "$host" && ((SECONDS - t0 < 120)); do sleep 1; done
alive "$host" && { log "soak-host did not stop within 120 s"; kill "$host" || true; }
wait "$host" 2>/dev/null || true

# --- report -----------------------------------------------------------------------------------
python3 "$SCRIPT_DIR/soak/report.py" "$RUN" "$AGENTS" "$duration" \
    "${connector_restarted:-not done}" "${broker_restarted:-not done}" | tee "$RUN/report.txt"
verdict=$(tail -n 1 "$RUN/report.txt")
[[ $verdict == "verdict: PASS"* ]]
exit
}
