#!/usr/bin/env bash
# scripts/deps.sh — install the system tools the test suite needs (gcc, valgrind, pkg-config)
# from Debian's packages when missing. Each tool is checked with `command -v` first;
# `apt-get update` runs once, and only when something has to be installed. Idempotent:
# a no-op (and silent) when everything is present. The ActiveMQ broker is handled by
# scripts/activemq.sh.
set -euo pipefail

# tool -> Debian package that provides it
declare -A PKG_OF=([gcc]=gcc [valgrind]=valgrind [pkg-config]=pkg-config)
TOOLS=(gcc valgrind pkg-config)

log() { printf 'deps: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

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

missing=()
for tool in "${TOOLS[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("${PKG_OF[$tool]}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

t0=$SECONDS
log "installing ${missing[*]}"
apt_get update
apt_get install -y --no-install-recommends "${missing[@]}" || die "apt-get install ${missing[*]} failed"
for tool in "${TOOLS[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool still missing after installing ${PKG_OF[$tool]}"
done
log "installed ${missing[*]} in $((SECONDS - t0)) s"
