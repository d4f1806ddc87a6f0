#!/usr/bin/env bash
# scripts/windows.sh — the driver on Windows and on 32-bit, checked on this Linux machine
# (scripts/test.sh runs it after the cargo tests):
#   1. i686 Linux: the layout test of scapi-types built for i686 (Rust's 32-bit layout against
#      `gcc -m32`'s) and the library built for i686-unknown-linux-gnu (an ELF32 .so);
#   2. i686 Windows: siebel_cti.dll built for i686-pc-windows-gnu, exporting every entry point
#      of include/scapi.h under its plain name;
#   3. x86_64 Windows: the layout test built for Windows and run under Wine (its C side built by
#      mingw); siebel_cti.dll built for x86_64-pc-windows-gnu, the C host
#      (tests/c/host.c) built by mingw, run under Wine against the real ActiveMQ on loopback with
#      a scripted connector peer (scs-sim peer), both as the suite's parts run (scripts/test.sh:
#      closed broker, STOMP over TLS checked against the test CA, secure passwords; the
#      SIEBEL_CTI_TEST_* variables, defaults those of test.sh): create, service, login, callbacks, logout,
#      release; and the same with a DLL built with SIEBEL_SCAPI_H naming the shuffled fixture
#      header (tests/c/shuffled/scapi.h) and a host built against it. Wine 8 lacks ProcessPrng,
#      which Rust's standard library imports from bcryptprimitives.dll: a stand-in
#      (tests/c/win/bcryptprimitives.c) is built next to the host.
# It installs what is missing, quietly and idempotently: Debian's gcc-mingw-w64-x86-64,
# gcc-mingw-w64-i686, gcc-multilib, wine64 and wine, and the three Rust targets (rustup). What
# cannot be installed is SKIPPED LOUDLY (a banner, and the summary at the end); a check that runs
# and fails makes the script exit 1; the skipped checks are also listed in
# target/windows/skipped.txt. Prints the time of each step. Output: target/windows/.
# (Functions below return at the first failing command explicitly: `set -e` does not apply
# inside a function called as a condition.)
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
cd "$REPO_ROOT"
LOG_TAG=windows
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

OUT=$REPO_ROOT/target/windows
mkdir -p "$OUT"
# What was skipped, one line each, for scripts/test.sh's last words.
SKIPPED_FILE=$OUT/skipped.txt
rm -f "$SKIPPED_FILE"
# The suite's broker and how to reach it (scripts/test.sh sets these; docs/security.md).
BROKER=${SIEBEL_CTI_TEST_BROKER:-127.0.0.1:61612}
BROKER_PORT=${BROKER##*:}
CONNECTOR_CREDS=${SIEBEL_CTI_TEST_CONNECTOR-connector:connector-secret}
DRIVER_CREDS=${SIEBEL_CTI_TEST_DRIVER-siebel:siebel-secret}
CA_FILE=${SIEBEL_CTI_TEST_CA:-$REPO_ROOT/target/certs/ca.pem}
KEY_FILE=${SIEBEL_CTI_TEST_SECURE_KEY:-$REPO_ROOT/target/certs/secure.key}
DRIVER_LOGIN=${DRIVER_CREDS%%:*}
# A Linux path as the Windows program under Wine sees it (drive Z: is /).
wine_path() { local p=${1//\//\\}; printf 'Z:%s' "$p"; }
passed=() skipped=() failed=()

skip() {  # $1 = what was not checked, $2 = why
    skipped+=("$1 ($2)")
    printf '%s (%s)\n' "$1" "$2" >>"$SKIPPED_FILE"
    printf '\n!!!!!!!!!! windows.sh: SKIPPED: %s: %s !!!!!!!!!!\n\n' "$1" "$2" >&2
}
timed() {  # $1 = label, then the command; logs its duration
    local t0=$SECONDS rc=0
    "${@:2}" || rc=$?
    log "$1: $((SECONDS - t0)) s$([[ $rc -eq 0 ]] || echo " (failed, exit $rc)")"
    return "$rc"
}
check() {  # $1 = name, then the command: records passed or failed
    if timed "$1" "${@:2}"; then passed+=("$1"); else failed+=("$1"); fi
}

# --- installation ------------------------------------------------------------------------------

can_m32() {
    printf 'int main(void) { return sizeof(void *) == 4 ? 0 : 1; }\n' >"$OUT/m32.c"
    gcc -m32 "$OUT/m32.c" -o "$OUT/m32" >/dev/null 2>&1 && "$OUT/m32"
}
install_packages() {  # $1 = probe command, then the packages; in a subshell so `die` only returns
    local probe=$1; shift
    if [[ $probe == m32 ]]; then can_m32 && return 0
    else command -v "$probe" >/dev/null 2>&1 && return 0
    fi
    (apt_install_updating "$1" "$@") >"$OUT/apt.log" 2>&1 || { cat "$OUT/apt.log" >&2; return 1; }
    if [[ $probe == m32 ]]; then can_m32; else command -v "$probe" >/dev/null 2>&1; fi
}
have_mingw64=0 have_mingw32=0 have_multilib=0 have_wine=0
t_install=$SECONDS
install_packages x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64 && have_mingw64=1
install_packages i686-w64-mingw32-gcc gcc-mingw-w64-i686 && have_mingw32=1
install_packages m32 gcc-multilib && have_multilib=1
install_packages wine wine64 wine && have_wine=1
log "Debian packages: $((SECONDS - t_install)) s"

t_targets=$SECONDS
installed_targets=$(rustup target list --installed 2>/dev/null || true)
have_target() {  # installs Rust target $1 when missing
    grep -qx "$1" <<<"$installed_targets" && return 0
    rustup target add "$1" >"$OUT/rustup-$1.log" 2>&1 && return 0
    cat "$OUT/rustup-$1.log" >&2
    return 1
}
have_x64w=0 have_i686w=0 have_i686l=0
have_target x86_64-pc-windows-gnu && have_x64w=1
have_target i686-pc-windows-gnu && have_i686w=1
have_target i686-unknown-linux-gnu && have_i686l=1
log "Rust targets: $((SECONDS - t_targets)) s"

# The entry points of include/scapi.h.
mapfile -t ENTRY_POINTS < <(sed -n 's/^SCAPI_EXPORT [^(]*[ *]\([A-Za-z]*\)(.*/\1/p' include/scapi.h)
[[ ${#ENTRY_POINTS[@]} -ge 15 ]] || die "found only ${#ENTRY_POINTS[@]} entry points in include/scapi.h"

exports_all() {  # $1 = objdump, $2 = DLL: every entry point is exported under its plain name
    local names missing=()
    names=$("$1" -p "$2" | sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' | awk '{print $NF}')
    for f in "${ENTRY_POINTS[@]}"; do grep -qx "$f" <<<"$names" || missing+=("$f"); done
    [[ ${#missing[@]} -eq 0 ]] || { log "$2 does not export: ${missing[*]}"; return 1; }
}

# --- 1. i686 Linux -----------------------------------------------------------------------------

i686_linux() {
    cargo test -q -p scapi-types --target i686-unknown-linux-gnu --test layout 2>&1 | tail -n 3 \
        || return 1
    cargo build -q -p siebel-cti --target i686-unknown-linux-gnu || return 1
    local so=target/i686-unknown-linux-gnu/debug/libsiebel_cti.so
    readelf -h "$so" | grep -q 'Class:.*ELF32' || { log "$so is not ELF32"; return 1; }
}
if [[ $have_i686l -eq 0 ]]; then skip "i686 Linux layout test and build" "rustup target add i686-unknown-linux-gnu failed"
elif [[ $have_multilib -eq 0 ]]; then skip "i686 Linux layout test and build" "gcc -m32 does not work: gcc-multilib could not be installed"
else check "i686 Linux: layout test (gcc -m32) and build" i686_linux
fi

# --- 2. i686 Windows ---------------------------------------------------------------------------

i686_windows() {
    cargo build -q -p siebel-cti --target i686-pc-windows-gnu || return 1
    exports_all i686-w64-mingw32-objdump target/i686-pc-windows-gnu/debug/siebel_cti.dll
}
if [[ $have_i686w -eq 0 ]]; then skip "i686 Windows build" "rustup target add i686-pc-windows-gnu failed"
elif [[ $have_mingw32 -eq 0 ]]; then skip "i686 Windows build" "gcc-mingw-w64-i686 could not be installed"
else check "i686 Windows: siebel_cti.dll builds and exports every entry point" i686_windows
fi

# --- 3. x86_64 Windows, under Wine --------------------------------------------------------------

peer_pid=
# shellcheck disable=SC2317  # called by the EXIT trap
stop_peer() { [[ -z $peer_pid ]] || kill "$peer_pid" 2>/dev/null || true; }
trap stop_peer EXIT

# Builds siebel_cti.dll into $1 (with SIEBEL_SCAPI_H=$2 when given: the adapter path), checks
# its exports, and builds the host against the header folder $3 and the ProcessPrng stand-in.
x64_windows_build_into() {
    local dir=$1 header=$2 include=$3
    SIEBEL_SCAPI_H=$header cargo build -q -p siebel-cti --target x86_64-pc-windows-gnu || return 1
    mkdir -p "$dir" && cp target/x86_64-pc-windows-gnu/debug/siebel_cti.dll "$dir/" || return 1
    exports_all x86_64-w64-mingw32-objdump "$dir/siebel_cti.dll" || return 1
    x86_64-w64-mingw32-gcc -std=c99 -Wall -Wextra -Werror -pedantic -I "$include" tests/c/host.c \
        -o "$dir/host.exe" || return 1
    x86_64-w64-mingw32-gcc -std=c99 -Wall -Wextra -Werror -O2 -shared \
        tests/c/win/bcryptprimitives.c -o "$dir/bcryptprimitives.dll" -ladvapi32
}

# The default DLL in $OUT/x86_64; in $OUT/x86_64-shuffled the DLL built against the shuffled
# fixture header (tests/c/shuffled/scapi.h) and a host built against it. The default build
# runs last, so target/x86_64-pc-windows-gnu/debug keeps the default DLL.
x64_windows_build() {
    x64_windows_build_into "$OUT/x86_64-shuffled" "$REPO_ROOT/tests/c/shuffled/scapi.h" \
        tests/c/shuffled || return 1
    x64_windows_build_into "$OUT/x86_64" "" include
}

# Runs `wine host.exe DLL` in folder $1 against the broker, with a scripted peer; the host's
# output goes to $2 (and $2.err). Returns the host's exit status.
wine_host() {
    local dir=$1 out=$2 dll=${3:-siebel_cti.dll} queue=/queue/siebelcti.requests.windows-$$-$RANDOM
    local peer_args=() params=() client=windows-test-$$-$RANDOM
    [[ -z $CONNECTOR_CREDS ]] || peer_args+=(--login "$CONNECTOR_CREDS")
    if [[ $CA_FILE != none ]]; then
        peer_args+=(--ca-file "$CA_FILE")
        params+=("Driver:BrokerTls=TRUE" "Driver:BrokerCaFile=$(wine_path "$CA_FILE")")
    fi
    if [[ $KEY_FILE != none ]]; then
        peer_args+=(--key-file "$KEY_FILE")
        params+=("Driver:SecureKeyFile=$(wine_path "$KEY_FILE")")
    fi
    if [[ -n $DRIVER_CREDS ]]; then
        params+=("Driver:BrokerLogin=$DRIVER_LOGIN" "Driver:BrokerPassword=${DRIVER_CREDS#*:}")
        client=$DRIVER_LOGIN.$client
    fi
    target/debug/scs-sim peer --broker "$BROKER" --queue "$queue" "${peer_args[@]}" \
        --agent 1001:secret:Ann:Lee >"$OUT/peer.log" 2>&1 &
    peer_pid=$!
    for _ in $(seq 1 100); do
        grep -q 'scripted peer serving' "$OUT/peer.log" && break
        kill -0 "$peer_pid" 2>/dev/null || { cat "$OUT/peer.log" >&2; return 1; }
        sleep 0.1
    done
    # A prefix of our own; Wine's Mono and Gecko installers are not wanted.
    local rc=0
    (cd "$dir" && WINEPREFIX=$OUT/wine-prefix WINEDEBUG=-all \
        WINEDLLOVERRIDES='bcryptprimitives=n;mscoree=;mshtml=' RUST_BACKTRACE=0 \
        timeout 300 wine host.exe "$dll" "$BROKER_PORT" "$queue" "$client" "${params[@]}" \
        >"$out" 2>"$out.err") || rc=$?
    kill "$peer_pid" 2>/dev/null || true
    peer_pid=
    return "$rc"
}

# The host in folder $1 logs an agent in and out through its DLL $2 (default: its own).
expect_session() {
    local dir=$1 out=$1/host.out rc=0 want
    wine_host "$dir" "$out" "${2:-}" || rc=$?
    for want in 'commands: LogIn LogOut' 'CacheCommandInformation LogIn=' 'ShowStatusText ' \
        'HandleEvent EventAgentLogin AgentId=1001' 'HandleEvent EventAgentLogout' 'C host: OK'; do
        grep -qF "$want" "$out" || { [[ $rc -ne 0 ]] || rc=1; log "host output lacks: $want"; }
    done
    if [[ $rc -ne 0 ]]; then
        log "wine host.exe failed (exit $rc); its output ($out, $out.err):"
        tail -n 40 "$out" "$out.err" >&2
        return 1
    fi
    log "$(tail -n 1 "$out")"
}

x64_windows_run() {
    # The suite's broker as scripts/test.sh starts it (a no-op when it runs already).
    ACTIVEMQ_AUTH=${ACTIVEMQ_AUTH:-1} STOMP_TLS_PORT=${STOMP_TLS_PORT:-$BROKER_PORT} \
        STOMP_PORT=${STOMP_PORT:-off} bash "$SCRIPT_DIR/activemq.sh" start >/dev/null || return 1
    cargo build -q -p scs-sim || return 1
    expect_session "$OUT/x86_64"
}

# The adapter on Windows: the shuffled host works with the DLL built against its header, and
# the default DLL (include/scapi.h's order) refuses it.
x64_windows_run_shuffled() {
    expect_session "$OUT/x86_64-shuffled" || return 1
    local out=$OUT/x86_64-shuffled/refused.out
    if wine_host "$OUT/x86_64-shuffled" "$out" '..\x86_64\siebel_cti.dll'; then
        log "the default DLL accepted the shuffled client interface ($out)"
        return 1
    fi
    grep -qF 'RequestService failed' "$out.err" || { tail -n 20 "$out" "$out.err" >&2; return 1; }
}

# The layout test built for Windows x64 (long is 4 bytes there), run under Wine: its C side is
# the program of a Linux run, built by mingw and run under Wine first.
x64_windows_layout() {
    local dir=$OUT/layout
    mkdir -p "$dir" || return 1
    SCAPI_LAYOUT_KEEP_C=$dir/layout.c cargo test -q -p scapi-types --test layout >/dev/null \
        || return 1
    x86_64-w64-mingw32-gcc -std=c11 -D__USE_MINGW_ANSI_STDIO=1 -Wall -Wextra -Werror -I include \
        "$dir/layout.c" -o "$dir/layout.exe" || return 1
    (cd "$dir" && WINEPREFIX=$OUT/wine-prefix WINEDEBUG=-all WINEDLLOVERRIDES='mscoree=;mshtml=' \
        timeout 120 wine layout.exe >"$dir/values.txt") || return 1
    # The Rust test imports ProcessPrng too: Wine finds the stand-in through WINEPATH.
    local standin="Z:${OUT//\//\\}\\x86_64"
    SCAPI_LAYOUT_C_VALUES=$dir/values.txt CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine \
        WINEPREFIX=$OUT/wine-prefix WINEDEBUG=-all WINEPATH=$standin \
        WINEDLLOVERRIDES='bcryptprimitives=n;mscoree=;mshtml=' \
        cargo test -q -p scapi-types --target x86_64-pc-windows-gnu --test layout 2>&1 | tail -n 3
}

if [[ $have_x64w -eq 0 ]]; then skip "x86_64 Windows build and Wine test" "rustup target add x86_64-pc-windows-gnu failed"
elif [[ $have_mingw64 -eq 0 ]]; then skip "x86_64 Windows build and Wine test" "gcc-mingw-w64-x86-64 could not be installed"
elif ! timed "x86_64 Windows: build the DLL, the host and the stand-in" x64_windows_build; then
    failed+=("x86_64 Windows build")
elif [[ $have_wine -eq 0 ]]; then skip "x86_64 Windows Wine test" "wine64 could not be installed"
else
    check "x86_64 Windows: layout test (mingw), under Wine" x64_windows_layout
    check "x86_64 Windows: C host under Wine through ActiveMQ" x64_windows_run
    check "x86_64 Windows: SIEBEL_SCAPI_H adapter with a shuffled header, under Wine" \
        x64_windows_run_shuffled
fi

# The connector for Windows (its --service mode is Windows-only code): it cross-builds, and
# under Wine (with the stand-in above) prints its version.
x64_windows_connector() {
    cargo build -q -p siebel-cti-connector --target x86_64-pc-windows-gnu || return 1
    [[ $have_wine -eq 1 && -f $OUT/x86_64/bcryptprimitives.dll ]] || return 0
    cp target/x86_64-pc-windows-gnu/debug/siebel-cti-connector.exe "$OUT/x86_64/" || return 1
    (cd "$OUT/x86_64" && WINEPREFIX=$OUT/wine-prefix WINEDEBUG=-all WINEDLLOVERRIDES='bcryptprimitives=n;mscoree=;mshtml=' \
        timeout 120 wine siebel-cti-connector.exe --version) | grep -q '^siebel-cti-connector '
}
if [[ $have_x64w -eq 1 && $have_mingw64 -eq 1 ]]; then
    check "x86_64 Windows: the connector cross-builds (and runs under Wine)" x64_windows_connector
else skip "x86_64 Windows connector build" "no x86_64-pc-windows-gnu target or mingw"; fi

# --- summary -----------------------------------------------------------------------------------

for p in "${passed[@]}"; do log "PASSED: $p"; done
for s in "${skipped[@]}"; do log "SKIPPED (NOT CHECKED): $s"; done
for f in "${failed[@]}"; do log "FAILED: $f"; done
[[ ${#failed[@]} -eq 0 ]]
