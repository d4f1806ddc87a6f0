#!/usr/bin/env bash
# scripts/test.sh — the project's test command: installs missing system tools (scripts/deps.sh),
# makes the test CA and keys (scripts/certs.sh, target/certs), starts the local ActiveMQ broker
# CLOSED (scripts/activemq.sh start with ACTIVEMQ_AUTH=1: users and per-destination rights) with
# STOMP over TLS only on 127.0.0.1:${STOMP_TLS_PORT:-61612}, and the local Prosody XMPP server
# with TLS (scripts/prosody.sh start with XMPP_TLS=1: STARTTLS on 127.0.0.1:${XMPP_PORT:-5222},
# direct TLS on ${XMPP_TLS_PORT:-5223}), then runs `cargo test --workspace -- --test-threads=2`
# and exits with cargo's status. Every end-to-end test reaches them with credentials, TLS
# checked against target/certs/ca.pem and secure passwords (target/certs/secure.key), through
# the SIEBEL_CTI_TEST_* variables exported below (tests/e2e/common.rs; docs/security.md).
# TEST_PLAIN_STOMP=1 also opens plain STOMP on 127.0.0.1:${STOMP_PORT:-61613} (still with
# authentication), for tools that cannot do TLS; nothing in the suite needs it.
# A broker or Prosody already running with other settings is restarted with these.
# Extra arguments go to cargo test, before the `--`, e.g.
#   scripts/test.sh -p some-crate          scripts/test.sh --release
# Arguments after a `--` go to the test binaries, after --test-threads=2, e.g.
#   scripts/test.sh -- --nocapture
# The broker and Prosody are LEFT RUNNING afterwards; stop them with:
#   scripts/activemq.sh stop; scripts/prosody.sh stop
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
cd "$REPO_ROOT"

bash "$SCRIPT_DIR/deps.sh"
bash "$SCRIPT_DIR/certs.sh"
CERTS=$REPO_ROOT/target/certs

# The closed broker (test passwords: tests only).
export ACTIVEMQ_AUTH=1
export STOMP_TLS_PORT=${STOMP_TLS_PORT:-61612}
if [[ ${TEST_PLAIN_STOMP:-} == 1 ]]; then
    export STOMP_PORT=${STOMP_PORT:-61613}
else
    export STOMP_PORT=off
fi
export ACTIVEMQ_CONNECTOR_LOGIN=${ACTIVEMQ_CONNECTOR_LOGIN:-connector}
export ACTIVEMQ_CONNECTOR_PASSWORD=${ACTIVEMQ_CONNECTOR_PASSWORD:-connector-secret}
export ACTIVEMQ_DRIVERS=${ACTIVEMQ_DRIVERS:-siebel:siebel-secret}
bash "$SCRIPT_DIR/activemq.sh" start

# Prosody with TLS (its certificate from the test CA); finesse-sim keeps the plain c2s login.
export XMPP_TLS=1 XMPP_TLS_PORT=${XMPP_TLS_PORT:-5223}
XMPP_ADDR="127.0.0.1:${XMPP_PORT:-5222}"
bash "$SCRIPT_DIR/prosody.sh" start
# A Prosody left running without TLS answers `start` as running: check STARTTLS, else restart.
if ! timeout 10 openssl s_client -starttls xmpp -xmpphost "${XMPP_DOMAIN:-finesse.local}" \
    -connect "$XMPP_ADDR" -CAfile "$CERTS/ca.pem" -verify_return_error </dev/null >/dev/null 2>&1; then
    echo "test.sh: Prosody on $XMPP_ADDR offers no STARTTLS with the test CA's certificate: restarting it with XMPP_TLS=1" >&2
    bash "$SCRIPT_DIR/prosody.sh" restart
fi

# How the tests reach them (tests/e2e/common.rs, scripts/windows.sh).
export SIEBEL_CTI_TEST_BROKER="127.0.0.1:$STOMP_TLS_PORT"
export STOMP_URL=$SIEBEL_CTI_TEST_BROKER
export SIEBEL_CTI_TEST_CA=$CERTS/ca.pem
export SIEBEL_CTI_TEST_CONNECTOR="$ACTIVEMQ_CONNECTOR_LOGIN:$ACTIVEMQ_CONNECTOR_PASSWORD"
read -r SIEBEL_CTI_TEST_DRIVER _ <<<"$ACTIVEMQ_DRIVERS"   # the first Siebel server's login
export SIEBEL_CTI_TEST_DRIVER
export SIEBEL_CTI_TEST_SECURE_KEY=$CERTS/secure.key
export SIEBEL_CTI_TEST_XMPP=$XMPP_ADDR
export SIEBEL_CTI_TEST_XMPP_TLS=starttls

cargo_args=()
test_args=()
while [[ $# -gt 0 ]]; do
    if [[ $1 == -- ]]; then shift; test_args=("$@"); break; fi
    cargo_args+=("$1"); shift
done

rc=0
# The end-to-end tests (package e2e-tests) dlopen target/debug/libsiebel_cti.so (package
# siebel-cti, in ffi-shim/): `cargo test` alone does not refresh the cdylib, so build everything
# first.
cargo build --workspace "${cargo_args[@]}" || rc=$?
if [[ $rc -eq 0 ]]; then
    cargo test --workspace "${cargo_args[@]}" -- --test-threads=2 "${test_args[@]}" || rc=$?
fi
# The driver for Windows (siebel_cti.dll under Wine) and 32-bit (scripts/windows.sh); what it
# cannot install it reports as skipped. SKIP_WINDOWS=1 leaves it out, loudly.
if [[ $rc -eq 0 && -n ${SKIP_WINDOWS:-} ]]; then
    echo "test.sh: SKIP_WINDOWS is set: the Windows and 32-bit checks were NOT run" >&2
elif [[ $rc -eq 0 ]]; then
    windows_ran=1
    bash "$SCRIPT_DIR/windows.sh" || rc=$?
fi
# Bounded fuzzing: every target of fuzz/ for FUZZ_TIME seconds (default 30; scripts/fuzz.sh);
# a crash fails the run. SKIP_FUZZ=1 leaves it out.
if [[ $rc -eq 0 && -z ${SKIP_FUZZ:-} ]]; then
    bash "$SCRIPT_DIR/fuzz.sh" || rc=$?
fi

if [[ -n ${windows_ran:-} && -s target/windows/skipped.txt ]]; then
    sed 's/^/test.sh: NOT CHECKED (scripts\/windows.sh could not install what it needs): /' \
        target/windows/skipped.txt >&2
fi
echo "test.sh: cargo test exited with $rc; the ActiveMQ broker and Prosody are left running (scripts/activemq.sh stop, scripts/prosody.sh stop)" >&2
exit "$rc"
