# shellcheck shell=bash
# scripts/lib.sh — shared helpers for scripts/deps.sh, scripts/activemq.sh and scripts/prosody.sh
# (sourced, not run). The caller sets LOG_TAG (log prefix) before using log/die.
#
# The service half (svc_*) runs one background process recorded in $PID_FILE under $BASE.
# A service script sets: HOST, BASE, DATA_DIR, LOG_FILE, PID_FILE, START_TIMEOUT, STOP_TIMEOUT,
# STOP_POLL (s between liveness checks while stopping), SVC_LOGS (files rotated to .1 on start),
# and the message parts SVC_NOUN ("broker"), SVC_KIND ("broker"/"server"), SVC_PROTO ("STOMP "
# or ""), SVC_ENDPOINT, SVC_TIMEOUT_WHAT, SVC_STARTED_INFO, SVC_STATUS_UP, SVC_STATUS_NOT_READY;
# and defines: cmd_install, svc_pid, svc_ready, svc_check_ports, write_config, svc_launch
# (calls spawn_detached), show_log_tail. Then it calls svc_main "$@".

log() { printf '%s: %s\n' "$LOG_TAG" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- installation ----------------------------------------------------------------------------

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

apt_install() {  # installs packages $@ or dies
    apt_get install -y --no-install-recommends "$@" || die "apt-get install $* failed"
}

apt_lists_know() {  # true when the local package lists have an install candidate for $1
    local cand
    cand=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
    [[ -n $cand && $cand != "(none)" ]]
}

# Installs packages $2.. ; `apt-get update` first only when the lists do not know package $1,
# otherwise once after a failed install (stale package lists give 404s).
apt_install_updating() {
    local probe=$1 updated=0; shift
    log "installing $* from Debian's packages..."
    if ! apt_lists_know "$probe"; then
        apt_get update; updated=1
    fi
    if ! apt_get install -y --no-install-recommends "$@"; then
        [[ $updated -eq 1 ]] && die "apt-get install $* failed"
        log "install failed; refreshing package lists and retrying once"
        apt_get update
        apt_install "$@"
    fi
}

# --- process / port helpers --------------------------------------------------------------------

read_pid() { [[ -s $PID_FILE ]] && tr -dc '0-9' <"$PID_FILE"; }

# Prints the pid from $PID_FILE when that process is alive and its command line contains $1
# (guards against a recycled pid).
pid_if_cmdline_has() {
    local pid
    pid=$(read_pid) || return 1
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$1" || return 1
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

tail_log() {  # $1 = lines, $2 = file
    log "last lines of $2:"
    tail -n "$1" "$2" >&2 2>/dev/null || true
}

# Runs $2.. in $BASE with output to $1. The child bash records its own pid in $PID_FILE, then
# execs (nohup) the command under that same pid, in a session of its own so that it outlives
# this shell and CI steps.
spawn_detached() {
    local out=$1; shift
    # shellcheck disable=SC2016  # expanded by the inner bash
    (cd "$BASE" && exec setsid bash -c 'echo $$ >"$0"; exec nohup "$@"' "$PID_FILE" \
        "$@" </dev/null >"$out" 2>&1 &)
}

# --- service commands --------------------------------------------------------------------------

wait_ready() {  # $1 = pid; waits up to START_TIMEOUT for svc_ready
    local pid=$1 deadline=$((SECONDS + START_TIMEOUT))
    while (( SECONDS < deadline )); do
        if svc_ready; then return 0; fi
        kill -0 "$pid" 2>/dev/null || { log "$SVC_NOUN process $pid exited during startup"; return 1; }
        sleep 0.2
    done
    log "$SVC_TIMEOUT_WHAT within ${START_TIMEOUT} s"
    return 1
}

svc_start() {
    local clean=0 arg pid t0 f
    for arg in "$@"; do
        case $arg in
            --clean) clean=1 ;;
            *) die "unknown option for start: $arg" ;;
        esac
    done
    cmd_install

    if pid=$(svc_pid); then
        if [[ $clean -eq 0 ]]; then
            if svc_ready; then
                log "already running (pid $pid), $SVC_ENDPOINT"
                return 0
            fi
            log "$SVC_NOUN pid $pid is alive but ${SVC_PROTO}does not answer yet; waiting"
            if wait_ready "$pid"; then log "running (pid $pid), $SVC_ENDPOINT"; return 0; fi
            log "restarting the unresponsive $SVC_KIND"
        fi
        svc_stop
    fi
    rm -f "$PID_FILE"

    svc_check_ports
    if [[ $clean -eq 1 ]]; then
        log "--clean: deleting $DATA_DIR"
        rm -rf "$DATA_DIR"
    fi
    write_config
    for f in "${SVC_LOGS[@]}"; do
        if [[ -f $f ]]; then mv -f "$f" "$f.1"; fi
    done

    t0=$(date +%s.%N)
    svc_launch
    for _ in $(seq 1 50); do [[ -s $PID_FILE ]] && break; sleep 0.1; done
    pid=$(read_pid) || { show_log_tail; die "$SVC_NOUN did not record its pid"; }

    if ! wait_ready "$pid"; then
        show_log_tail
        svc_stop   # leave no half-started process behind
        exit 1
    fi
    log "started (pid $pid) in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s; $SVC_STARTED_INFO"
}

svc_stop() {
    local pid
    if ! pid=$(svc_pid); then
        rm -f "$PID_FILE"
        log "not running"
        return 0
    fi
    log "stopping $SVC_NOUN (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep "$STOP_POLL"; done
    if kill -0 "$pid" 2>/dev/null; then
        log "still alive after ${STOP_TIMEOUT} s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$PID_FILE"
    log "stopped"
}

svc_status() {  # exit code 0 running, 3 stopped
    local pid
    if pid=$(svc_pid); then
        if svc_ready; then
            echo "running (pid $pid), $SVC_STATUS_UP"
        else
            echo "running (pid $pid), $SVC_STATUS_NOT_READY"
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

svc_main() {  # the command line of a service script
    [[ $# -ge 1 ]] || usage
    local cmd=$1; shift
    case $cmd in
        install) cmd_install ;;
        start)   svc_start "$@" ;;
        stop)    svc_stop ;;
        status)  svc_status ;;
        restart) svc_stop; svc_start "$@" ;;
        *) usage ;;
    esac
}
