#!/usr/bin/env bash
# scripts/activemq.sh — install and run a local Apache ActiveMQ broker for the test suite.
#
# Debian's `activemq` package, run as an ordinary background process (no systemd, no init
# script), with its own config that adds a STOMP connector on 127.0.0.1:${STOMP_PORT:-61613}
# (OpenWire stays on 127.0.0.1:${OPENWIRE_PORT:-61616}). Everything lives in <repo>/target/activemq:
#   conf/ (generated config + log4j files), data/ (KahaDB), broker.log (stdout/stderr), broker.pid
#
# Usage: scripts/activemq.sh install | start [--clean] | stop | status | restart [--clean]
#   --clean  deletes target/activemq/data (persistent queues, logs) before starting, on purpose.
# Env: STOMP_PORT, OPENWIRE_PORT, ACTIVEMQ_START_TIMEOUT (s, default 60),
#      ACTIVEMQ_JAVA_OPTS (default "-Xms64M -Xmx256M").
# Exit codes: 0 ok / running, 1 error, 2 usage, 3 stopped (status).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
BASE="$REPO_ROOT/target/activemq"
CONF_DIR="$BASE/conf"
DATA_DIR="$BASE/data"
TMP_DIR="$BASE/tmp"
LOG_FILE="$BASE/broker.log"
PID_FILE="$BASE/broker.pid"

HOST=127.0.0.1
STOMP_PORT=${STOMP_PORT:-61613}
OPENWIRE_PORT=${OPENWIRE_PORT:-61616}
START_TIMEOUT=${ACTIVEMQ_START_TIMEOUT:-60}
STOP_TIMEOUT=30
JAVA_OPTS=${ACTIVEMQ_JAVA_OPTS:--Xms64M -Xmx256M}

AMQ_HOME=/usr/share/activemq
AMQ_JAR="$AMQ_HOME/bin/activemq.jar"
AMQ_INSTANCE=/etc/activemq/instances-available/main

log() { printf 'activemq: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- installation -------------------------------------------------------------------------

as_root() {
    if [[ $EUID -eq 0 ]]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "need root (or sudo) to run: $*"
    fi
}

# apt-get that waits for the apt/dpkg lock (another apt-get may be running in the background)
# instead of failing; its output is shown only when it fails.
apt_get() {
    local out attempt rc
    out=$(mktemp)
    for attempt in $(seq 1 120); do
        rc=0
        as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get -q -o DPkg::Lock::Timeout=600 "$@" >"$out" 2>&1 || rc=$?
        if [[ $rc -eq 0 ]]; then rm -f "$out"; return 0; fi
        if grep -qE 'Could not get lock|Unable to lock|Unable to acquire the dpkg' "$out"; then
            [[ $attempt -eq 1 ]] && log "waiting for the apt/dpkg lock held by another process..."
            sleep 5
            continue
        fi
        cat "$out" >&2; rm -f "$out"; return "$rc"
    done
    cat "$out" >&2; rm -f "$out"
    die "gave up waiting for the apt/dpkg lock"
}

apt_lists_know() {  # true when the local package lists have an install candidate for $1
    local cand
    cand=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
    [[ -n $cand && $cand != "(none)" ]]
}

cmd_install() {
    [[ -f $AMQ_JAR ]] && return 0
    local pkgs=(activemq) t0=$SECONDS updated=0
    command -v java >/dev/null 2>&1 || pkgs+=(default-jre-headless)
    log "installing ${pkgs[*]} from Debian's packages..."
    if ! apt_lists_know activemq; then
        apt_get update; updated=1
    fi
    if ! apt_get install -y --no-install-recommends "${pkgs[@]}"; then
        # stale package lists give 404s: refresh them once and try again
        [[ $updated -eq 1 ]] && die "apt-get install ${pkgs[*]} failed"
        log "install failed; refreshing package lists and retrying once"
        apt_get update
        apt_get install -y --no-install-recommends "${pkgs[@]}" || die "apt-get install ${pkgs[*]} failed"
    fi
    [[ -f $AMQ_JAR ]] || die "$AMQ_JAR still missing after installing activemq"
    command -v java >/dev/null 2>&1 || die "no java on PATH after installing activemq"
    log "installed in $((SECONDS - t0)) s"
}

# --- process / port helpers ----------------------------------------------------------------

read_pid() { [[ -s $PID_FILE ]] && tr -dc '0-9' <"$PID_FILE"; }

# The broker this script started: pid from the pid file, alive, and really our java process
# (guards against a recycled pid).
broker_pid() {
    local pid
    pid=$(read_pid) || return 1
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-Dactivemq.base=$BASE " || return 1
    printf '%s\n' "$pid"
}

port_open() {  # something accepts TCP connections on $HOST:$1
    # shellcheck disable=SC2016  # expanded by the inner bash
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$HOST" "$1" 2>/dev/null
}

port_owner() {  # best effort: which process listens on port $1
    command -v ss >/dev/null 2>&1 || { echo "unknown process"; return; }
    local owner
    owner=$(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(([^)]*))' | head -n1 || true)
    echo "${owner:-unknown process}"
}

# Sends a real STOMP 1.2 CONNECT and prints the CONNECTED frame's first lines; fails otherwise.
stomp_connect() {
    # shellcheck disable=SC2016  # expanded by the inner bash
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        printf "CONNECT\naccept-version:1.2\nhost:localhost\n\n\0" >&3
        IFS= read -r -d "" frame <&3 || [[ -n ${frame:-} ]] || exit 1
        frame=${frame#"${frame%%[![:space:]]*}"}   # a heart-beat EOL may come first
        [[ $frame == CONNECTED* ]] || exit 1
        printf "DISCONNECT\n\n\0" >&3 || true
        printf "%s\n" "$frame"
    ' _ "$HOST" "$STOMP_PORT" 2>/dev/null
}

stomp_ready() { stomp_connect >/dev/null; }

# --- config ----------------------------------------------------------------------------------

write_config() {
    local src="$AMQ_INSTANCE/activemq.xml" tmp
    [[ -r $src ]] || die "packaged broker config $src not found (reinstall activemq?)"
    mkdir -p "$CONF_DIR" "$DATA_DIR" "$TMP_DIR"
    tmp="$CONF_DIR/activemq.xml.tmp"
    # Keep the packaged instance as is, re-point OpenWire at $OPENWIRE_PORT, add STOMP.
    sed -E 's#^([[:space:]]*)<transportConnector name="openwire" uri="tcp://[^"]*"[[:space:]]*/>#\1<transportConnector name="openwire" uri="tcp://'"$HOST:$OPENWIRE_PORT"'"/>\n\1<transportConnector name="stomp" uri="stomp://'"$HOST:$STOMP_PORT"'"/>#' \
        "$src" >"$tmp"
    grep -q "uri=\"stomp://$HOST:$STOMP_PORT\"" "$tmp" \
        || die "could not add the STOMP connector to $src (its openwire line changed?)"
    mv -f "$tmp" "$CONF_DIR/activemq.xml"
    cp -f "$AMQ_INSTANCE/log4j2.properties" "$CONF_DIR/log4j2.properties"
    # Debian's build logs through slf4j -> log4j 1.2 (lib/optional), which ignores the
    # log4j2.properties above and would log nothing; this file sends the broker's log to
    # stdout, i.e. broker.log.
    cat >"$CONF_DIR/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, console
log4j.logger.org.apache.activemq.spring=WARN
log4j.logger.org.apache.activemq.web.handler=WARN
log4j.logger.org.springframework=WARN
log4j.logger.org.apache.xbean=WARN
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} | %-5p | %m | %c | %t%n
EOF
}

# --- commands --------------------------------------------------------------------------------

check_ports_free() {
    local port name
    for port in "$STOMP_PORT" "$OPENWIRE_PORT"; do
        port_open "$port" || continue
        name=STOMP; [[ $port == "$OPENWIRE_PORT" ]] && name=OpenWire
        die "port $HOST:$port ($name) is already taken by another process ($(port_owner "$port")), not by a broker this script started. Stop that process (another ActiveMQ, e.g. the packaged service?) or choose other ports with STOMP_PORT=/OPENWIRE_PORT=."
    done
}

wait_ready() {  # $1 = pid; waits up to START_TIMEOUT for a STOMP CONNECTED answer
    local pid=$1 deadline=$((SECONDS + START_TIMEOUT))
    while (( SECONDS < deadline )); do
        if stomp_ready; then return 0; fi
        kill -0 "$pid" 2>/dev/null || { log "broker process $pid exited during startup"; return 1; }
        sleep 0.2
    done
    log "STOMP port $HOST:$STOMP_PORT did not answer CONNECT within ${START_TIMEOUT} s"
    return 1
}

show_log_tail() {
    log "last lines of $LOG_FILE:"
    tail -n 40 "$LOG_FILE" >&2 2>/dev/null || true
}

cmd_start() {
    local clean=0 arg pid t0
    for arg in "$@"; do
        case $arg in
            --clean) clean=1 ;;
            *) die "unknown option for start: $arg" ;;
        esac
    done
    cmd_install

    if pid=$(broker_pid); then
        if [[ $clean -eq 0 ]]; then
            if stomp_ready; then
                log "already running (pid $pid), STOMP on $HOST:$STOMP_PORT"
                return 0
            fi
            log "broker pid $pid is alive but STOMP does not answer yet; waiting"
            if wait_ready "$pid"; then log "running (pid $pid), STOMP on $HOST:$STOMP_PORT"; return 0; fi
            log "restarting the unresponsive broker"
        fi
        cmd_stop
    fi
    rm -f "$PID_FILE"

    check_ports_free
    if [[ $clean -eq 1 ]]; then
        log "--clean: deleting $DATA_DIR"
        rm -rf "$DATA_DIR"
    fi
    write_config
    [[ -f $LOG_FILE ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"

    t0=$(date +%s.%N)
    # The child bash records its own pid, then execs (nohup) java under that same pid, in a
    # session of its own so that it outlives this shell and CI steps.
    # shellcheck disable=SC2016,SC2086
    (cd "$BASE" && exec setsid bash -c 'echo $$ >"$0"; exec nohup "$@"' "$PID_FILE" \
        java $JAVA_OPTS -Djava.awt.headless=true \
            -Djava.io.tmpdir="$TMP_DIR" \
            -Dlog4j.configuration="file:$CONF_DIR/log4j.properties" \
            -Dlog4j2.configurationFile="$CONF_DIR/log4j2.properties" \
            -Dactivemq.home="$AMQ_HOME" -Dactivemq.base="$BASE" \
            -Dactivemq.conf="$CONF_DIR" -Dactivemq.data="$DATA_DIR" \
            -jar "$AMQ_JAR" start "xbean:file:$CONF_DIR/activemq.xml" \
        </dev/null >"$LOG_FILE" 2>&1 &)

    for _ in $(seq 1 50); do [[ -s $PID_FILE ]] && break; sleep 0.1; done
    pid=$(read_pid) || { show_log_tail; die "broker did not record its pid"; }

    if ! wait_ready "$pid"; then
        show_log_tail
        cmd_stop   # leave no half-started broker behind
        exit 1
    fi
    log "started (pid $pid) in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s; STOMP on $HOST:$STOMP_PORT, OpenWire on $HOST:$OPENWIRE_PORT; log $LOG_FILE"
}

cmd_stop() {
    local pid
    if ! pid=$(broker_pid); then
        rm -f "$PID_FILE"
        log "not running"
        return 0
    fi
    log "stopping broker (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        log "still alive after ${STOP_TIMEOUT} s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$PID_FILE"
    log "stopped"
}

cmd_status() {
    local pid
    if pid=$(broker_pid); then
        if stomp_ready; then
            echo "running (pid $pid), STOMP answers on $HOST:$STOMP_PORT"
        else
            echo "running (pid $pid), but STOMP does not answer on $HOST:$STOMP_PORT yet"
        fi
        return 0
    fi
    echo "stopped"
    return 3
}

usage() {
    echo "usage: $0 install | start [--clean] | stop | status | restart [--clean]" >&2
    exit 2
}

[[ $# -ge 1 ]] || usage
cmd=$1; shift
case $cmd in
    install) cmd_install ;;
    start)   cmd_start "$@" ;;
    stop)    cmd_stop ;;
    status)  cmd_status ;;
    restart) cmd_stop; cmd_start "$@" ;;
    -h|--help|help) usage ;;
    *) usage ;;
esac
