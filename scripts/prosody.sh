#!/usr/bin/env bash
# scripts/prosody.sh — install and run a local Prosody XMPP server for finesse-sim and the tests.
#
# Debian's `prosody` package, run as an ordinary background process (no systemd, no init
# script), with its own config: client connections (c2s) on 127.0.0.1:${XMPP_PORT:-5222} only,
# no TLS (loopback), SASL PLAIN against internal_plain accounts, VirtualHost "finesse.local",
# the pubsub component "pubsub.finesse.local", and in-band registration (XEP-0077) allowed from
# loopback so that finesse-sim creates its agent accounts itself. The account finesse-sim
# publishes with must be a Prosody admin (Prosody 0.12 lets only admins create pubsub nodes, and
# makes them owner of every node, so several simulators can share it): finesse-admin@DOMAIN,
# plus the names in XMPP_ADMINS. Everything lives in
# <repo>/target/prosody (owned by the `prosody` user, which Prosody switches to when run as root):
#   prosody.cfg.lua (generated), data/ (accounts, pubsub nodes), prosody.log, prosody.err,
#   stdout.log (the process's own output), prosody.pid (written by this script)
#
# Usage: scripts/prosody.sh install | start [--clean] | stop | status | restart [--clean]
#   --clean  deletes target/prosody/data (accounts, nodes) before starting, on purpose.
# Env: XMPP_PORT (default 5222), XMPP_DOMAIN (default finesse.local),
#      XMPP_ADMINS (extra admin user names, space-separated), PROSODY_START_TIMEOUT (s, default 30).
# Exit codes: 0 ok / running, 1 error, 2 usage, 3 stopped (status).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
BASE="$REPO_ROOT/target/prosody"
CFG_FILE="$BASE/prosody.cfg.lua"
DATA_DIR="$BASE/data"
LOG_FILE="$BASE/prosody.log"
ERR_FILE="$BASE/prosody.err"
OUT_FILE="$BASE/stdout.log"
PID_FILE="$BASE/prosody.pid"

HOST=127.0.0.1
XMPP_PORT=${XMPP_PORT:-5222}
DOMAIN=${XMPP_DOMAIN:-finesse.local}
read -r -a ADMIN_USERS <<<"finesse-admin ${XMPP_ADMINS:-}"
START_TIMEOUT=${PROSODY_START_TIMEOUT:-30}
STOP_TIMEOUT=15
RUN_USER=prosody

log() { printf 'prosody: %s\n' "$*" >&2; }
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
    command -v prosody >/dev/null 2>&1 && return 0
    local t0=$SECONDS updated=0
    log "installing prosody from Debian's packages..."
    if ! apt_lists_know prosody; then
        apt_get update; updated=1
    fi
    if ! apt_get install -y --no-install-recommends prosody; then
        # stale package lists give 404s: refresh them once and try again
        [[ $updated -eq 1 ]] && die "apt-get install prosody failed"
        log "install failed; refreshing package lists and retrying once"
        apt_get update
        apt_get install -y --no-install-recommends prosody || die "apt-get install prosody failed"
    fi
    command -v prosody >/dev/null 2>&1 || die "no prosody on PATH after installing it"
    log "installed in $((SECONDS - t0)) s"
}

# --- process / port helpers ----------------------------------------------------------------

read_pid() { [[ -s $PID_FILE ]] && tr -dc '0-9' <"$PID_FILE"; }

# The server this script started: pid from the pid file, alive, and really a prosody process
# run with our config (guards against a recycled pid).
server_pid() {
    local pid
    pid=$(read_pid) || return 1
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--config $CFG_FILE" || return 1
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

# Opens a real XMPP client stream to $DOMAIN and succeeds when the server answers with its own
# stream header (a server that is up but does not serve $DOMAIN answers with a stream error).
xmpp_ready() {
    # shellcheck disable=SC2016  # expanded by the inner bash
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        printf "<?xml version=\"1.0\"?><stream:stream to=\"%s\" xmlns=\"jabber:client\" xmlns:stream=\"http://etherx.jabber.org/streams\" version=\"1.0\">" "$3" >&3
        reply=""
        while IFS= read -r -t 4 -d ">" chunk <&3; do
            reply+="$chunk>"
            [[ $reply == *"<stream:features"* || $reply == *"stream:error"* ]] && break
        done
        printf "</stream:stream>" >&3 || true
        [[ $reply == *"<stream:stream"* && $reply != *"stream:error"* ]]
    ' _ "$HOST" "$XMPP_PORT" "$DOMAIN" 2>/dev/null
}

# --- config ----------------------------------------------------------------------------------

write_config() {
    local admins="" user
    for user in "${ADMIN_USERS[@]}"; do admins+="\"$user@$DOMAIN\"; "; done
    mkdir -p "$DATA_DIR" "$BASE/certs"
    cat >"$CFG_FILE.tmp" <<EOF
-- Generated by scripts/prosody.sh; edits are overwritten on the next start.
-- Prosody for finesse-sim and the tests: loopback only, no TLS, plain-text accounts.
daemonize = false
pidfile = "$BASE/prosody.pid.prosody"
data_path = "$DATA_DIR"
certificates = "$BASE/certs"
interfaces = { "$HOST" }
c2s_interfaces = { "$HOST" }
c2s_ports = { $XMPP_PORT }
s2s_ports = { }
component_ports = { }
http_ports = { }
https_ports = { }
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "posix"; "register"; }
modules_disabled = { "s2s"; "tls"; }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
-- In-band registration (XEP-0077), so finesse-sim creates its agent accounts itself. Only
-- loopback clients may register, and they are not throttled (mod_register_limits throttles
-- only when min_seconds_between_registrations / registration_throttle_max are set).
allow_registration = true
registration_allowlist = { "127.0.0.1"; "::1" }
allowlist_registration_only = true
log = { info = "$LOG_FILE"; error = "$ERR_FILE"; }
-- finesse-sim's publishing account(s): admins may create pubsub nodes and own them all, so they
-- may publish to every node and subscribe agents to their own nodes (XEP-0060 owner use cases).
admins = { $admins}

VirtualHost "$DOMAIN"

-- Nodes are open: any user may subscribe (agents are subscribed to their own by finesse-sim).
Component "pubsub.$DOMAIN" "pubsub"
EOF
    mv -f "$CFG_FILE.tmp" "$CFG_FILE"
    if [[ $EUID -eq 0 ]]; then chown -R "$RUN_USER:$RUN_USER" "$BASE"; fi
}

# --- commands --------------------------------------------------------------------------------

wait_ready() {  # $1 = pid; waits up to START_TIMEOUT for an answer to an XMPP stream open
    local pid=$1 deadline=$((SECONDS + START_TIMEOUT))
    while (( SECONDS < deadline )); do
        if xmpp_ready; then return 0; fi
        kill -0 "$pid" 2>/dev/null || { log "prosody process $pid exited during startup"; return 1; }
        sleep 0.2
    done
    log "$HOST:$XMPP_PORT did not answer an XMPP stream open within ${START_TIMEOUT} s"
    return 1
}

show_log_tail() {
    local f
    for f in "$OUT_FILE" "$ERR_FILE" "$LOG_FILE"; do
        [[ -s $f ]] || continue
        log "last lines of $f:"
        tail -n 30 "$f" >&2 2>/dev/null || true
    done
}

cmd_start() {
    local clean=0 arg pid t0 f
    for arg in "$@"; do
        case $arg in
            --clean) clean=1 ;;
            *) die "unknown option for start: $arg" ;;
        esac
    done
    cmd_install

    if pid=$(server_pid); then
        if [[ $clean -eq 0 ]]; then
            if xmpp_ready; then
                log "already running (pid $pid), XMPP on $HOST:$XMPP_PORT"
                return 0
            fi
            log "prosody pid $pid is alive but does not answer yet; waiting"
            if wait_ready "$pid"; then log "running (pid $pid), XMPP on $HOST:$XMPP_PORT"; return 0; fi
            log "restarting the unresponsive server"
        fi
        cmd_stop
    fi
    rm -f "$PID_FILE"

    if port_open "$XMPP_PORT"; then
        die "port $HOST:$XMPP_PORT is already taken by another process ($(port_owner "$XMPP_PORT")), not by a prosody this script started. Stop that process (the packaged prosody service?) or choose another port with XMPP_PORT=."
    fi
    if [[ $clean -eq 1 ]]; then
        log "--clean: deleting $DATA_DIR"
        rm -rf "$DATA_DIR"
    fi
    write_config
    for f in "$LOG_FILE" "$ERR_FILE" "$OUT_FILE"; do
        if [[ -f $f ]]; then mv -f "$f" "$f.1"; fi
    done

    t0=$(date +%s.%N)
    # The child bash records its own pid, then execs prosody under that same pid, in a session
    # of its own so that it outlives this shell and CI steps. Prosody refuses to run as root
    # (mod_posix), so root drops to the prosody user with setpriv, which execs in place.
    local runas=()
    if [[ $EUID -eq 0 ]]; then
        runas=(setpriv "--reuid=$RUN_USER" "--regid=$RUN_USER" --init-groups --reset-env)
    fi
    # shellcheck disable=SC2016  # expanded by the inner bash
    (cd "$BASE" && exec setsid bash -c 'echo $$ >"$0"; exec nohup "$@"' "$PID_FILE" \
        "${runas[@]}" prosody --config "$CFG_FILE" </dev/null >"$OUT_FILE" 2>&1 &)

    for _ in $(seq 1 50); do [[ -s $PID_FILE ]] && break; sleep 0.1; done
    pid=$(read_pid) || { show_log_tail; die "prosody did not record its pid"; }

    if ! wait_ready "$pid"; then
        show_log_tail
        cmd_stop   # leave no half-started server behind
        exit 1
    fi
    log "started (pid $pid) in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s; XMPP on $HOST:$XMPP_PORT, domain $DOMAIN, pubsub.$DOMAIN; log $LOG_FILE"
}

cmd_stop() {
    local pid
    if ! pid=$(server_pid); then
        rm -f "$PID_FILE"
        log "not running"
        return 0
    fi
    log "stopping prosody (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.1; done
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
    if pid=$(server_pid); then
        if xmpp_ready; then
            echo "running (pid $pid), XMPP answers on $HOST:$XMPP_PORT for $DOMAIN"
        else
            echo "running (pid $pid), but XMPP does not answer on $HOST:$XMPP_PORT yet"
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
