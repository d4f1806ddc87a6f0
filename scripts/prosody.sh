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
# Scale (thousands of agents, one c2s connection each): no rate limits (mod_limits is not
# loaded, registration is not throttled from loopback), a listen backlog of
# PROSODY_TCP_BACKLOG (default 1024, capped by net.core.somaxconn) for bursts of logins, and
# the open-files limit raised to its hard limit when Prosody is started (one descriptor per
# connection), and a lazier garbage collector than Prosody's default (see GC below). `limits`
# prints what the running server allows.
#
# Usage: scripts/prosody.sh install | start [--clean] | stop | status | restart [--clean] | limits
#   --clean  deletes target/prosody/data (accounts, nodes) before starting, on purpose.
# Env: XMPP_PORT (default 5222), XMPP_DOMAIN (default finesse.local),
#      PROSODY_BASE (the instance's folder, default <repo>/target/prosody: another one runs a
#      second instance), XMPP_TLS=1 (offer STARTTLS with target/certs/prosody.pem/.key from
#      scripts/certs.sh; plain stays allowed for finesse-sim), XMPP_TLS_PORT (direct TLS port,
#      e.g. 5223; needs XMPP_TLS=1),
#      XMPP_ADMINS (extra admin user names, space-separated), PROSODY_START_TIMEOUT (s, default 30).
# Exit codes: 0 ok / running, 1 error, 2 usage, 3 stopped (status).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
BASE=${PROSODY_BASE:-$REPO_ROOT/target/prosody}
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
TCP_BACKLOG=${PROSODY_TCP_BACKLOG:-1024}
GC='{ mode = "incremental"; threshold = 400; speed = 200 }'

STOP_TIMEOUT=15
STOP_POLL=0.1
RUN_USER=prosody

LOG_TAG=prosody
# messages of the shared start/stop/status (scripts/lib.sh)
SVC_NOUN=prosody SVC_KIND=server SVC_PROTO=""
SVC_ENDPOINT="XMPP on $HOST:$XMPP_PORT"
SVC_TIMEOUT_WHAT="$HOST:$XMPP_PORT did not answer an XMPP stream open"
SVC_STARTED_INFO="XMPP on $HOST:$XMPP_PORT, domain $DOMAIN, pubsub.$DOMAIN; log $LOG_FILE"
SVC_STATUS_UP="XMPP answers on $HOST:$XMPP_PORT for $DOMAIN"
SVC_STATUS_NOT_READY="but XMPP does not answer on $HOST:$XMPP_PORT yet"
SVC_LOGS=("$LOG_FILE" "$ERR_FILE" "$OUT_FILE")

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

cmd_install() {
    command -v prosody >/dev/null 2>&1 && return 0
    local t0=$SECONDS
    apt_install_updating prosody prosody
    command -v prosody >/dev/null 2>&1 || die "no prosody on PATH after installing it"
    log "installed in $((SECONDS - t0)) s"
}

# The server this script started: really a prosody process run with our config.
svc_pid() { pid_if_cmdline_has "--config $CFG_FILE"; }

# Opens a real XMPP client stream to $DOMAIN and succeeds when the server answers with its own
# stream header (a server that is up but does not serve $DOMAIN answers with a stream error).
svc_ready() {
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
    local tls_modules="" disabled='"s2s"; "tls";' tls_lines=""
    if [[ ${XMPP_TLS:-} == 1 ]]; then
        [[ -s $REPO_ROOT/target/certs/prosody.pem ]] || bash "$SCRIPT_DIR/certs.sh" >/dev/null
        cp -f "$REPO_ROOT/target/certs/prosody.pem" "$REPO_ROOT/target/certs/prosody.key" "$BASE/certs/"
        chmod 600 "$BASE/certs/prosody.key"
        tls_modules='"tls";' disabled='"s2s";'
        tls_lines="ssl = { certificate = \"$BASE/certs/prosody.pem\"; key = \"$BASE/certs/prosody.key\"; }"
        if [[ -n ${XMPP_TLS_PORT:-} ]]; then
            tls_lines+=$'\n'"c2s_direct_tls_ports = { $XMPP_TLS_PORT }"
        fi
    fi
    cat >"$CFG_FILE.tmp" <<EOF
-- Generated by scripts/prosody.sh; edits are overwritten on the next start.
-- Prosody for finesse-sim and the tests: loopback only, plain-text accounts; TLS with XMPP_TLS=1.
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
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "posix"; "register"; $tls_modules }
modules_disabled = { $disabled "limits"; }
-- Bursts of connections (thousands of agents logging in at once) queue in the kernel.
network_settings = { tcp_backlog = $TCP_BACKLOG; }
-- Prosody's default collector (incremental, threshold 105, speed 500) starts a new cycle when
-- memory grows 5%: with 2,000 agents it took more than half of Prosody's CPU at 300
-- notifications/s, and its pauses held notifications up to 100 ms (scripts/bench.sh).
gc = $GC;
$tls_lines
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

# --- start hooks -----------------------------------------------------------------------------

svc_check_ports() {
    if port_open "$XMPP_PORT"; then
        die "port $HOST:$XMPP_PORT is already taken by another process ($(port_owner "$XMPP_PORT")), not by a prosody this script started. Stop that process (the packaged prosody service?) or choose another port with XMPP_PORT=."
    fi
}

# Prosody refuses to run as root (mod_posix), so root drops to the prosody user with setpriv,
# which execs in place.
svc_launch() {
    local runas=()
    if [[ $EUID -eq 0 ]]; then
        runas=(setpriv "--reuid=$RUN_USER" "--regid=$RUN_USER" --init-groups --reset-env)
    fi
    # One descriptor per client connection: allow as many as the hard limit does.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || log "could not raise the open-files limit above $(ulimit -n)"
    spawn_detached "$OUT_FILE" "${runas[@]}" prosody --config "$CFG_FILE"
}

# What the running server allows: open files (so client connections), listen backlog, rate
# limits, stanza size; and how many client connections it holds now.
cmd_limits() {
    local pid files somaxconn conns
    pid=$(svc_pid) || die "no prosody running with $CFG_FILE"
    files=$(awk '/^Max open files/ {print $4 " (soft), " $5 " (hard)"}' "/proc/$pid/limits")
    somaxconn=$(cat /proc/sys/net/core/somaxconn 2>/dev/null || echo "?")
    conns=$(ss -Htn state established "( sport = :$XMPP_PORT )" 2>/dev/null | wc -l)
    cat <<EOF
prosody $pid on $HOST:$XMPP_PORT
  open files:         $files; one per client connection
  client connections: $conns now
  listen backlog:     $(grep -o 'tcp_backlog = [0-9]*' "$CFG_FILE" | grep -o '[0-9]*$') (kernel somaxconn $somaxconn)
  rate limits:        none (mod_limits not loaded; registration unthrottled from loopback)
  stanza size:        256 KiB (Prosody's default c2s_stanza_size_limit)
  garbage collector:  $(grep -o '^gc = .*' "$CFG_FILE" || echo "Prosody's default (incremental, threshold 105, speed 500)")
  pubsub items:       not stored on the nodes finesse-sim creates (persist_items off)
EOF
}

show_log_tail() {
    local f
    for f in "$OUT_FILE" "$ERR_FILE" "$LOG_FILE"; do
        [[ -s $f ]] || continue
        tail_log 30 "$f"
    done
}

case ${1:-} in
    limits) cmd_limits ;;
    *) svc_main "$@" ;;
esac
