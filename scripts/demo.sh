#!/usr/bin/env bash
# scripts/demo.sh — the demo: starts ActiveMQ, a scripted connector peer on the broker, and
# scs-sim (the mock Siebel Communications Server) with the UCCE DEF template; scs-sim loads the
# real driver library and logs agent 1001 in, makes it Ready, Not Ready, and logs it out,
# printing every callback Siebel would receive.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
cd "$REPO_ROOT"

bash "$SCRIPT_DIR/activemq.sh" start
cargo build --quiet --workspace
SIM=target/debug/scs-sim
LOG=target/demo
mkdir -p "$LOG"

"$SIM" peer --broker 127.0.0.1:61613 --agent 1001:secret:Ann:Lee > "$LOG/peer.log" 2>&1 &
PEER=$!
trap 'kill "$PEER" 2>/dev/null || true' EXIT
sleep 1

echo "== scs-sim: agent 1001 on extension 5001 (driver log: $LOG/driver.log)"
"$SIM" --def def-templates/ucce.def --profile "Cisco UCCE" \
    --set "Driver:LogFile=$REPO_ROOT/$LOG/driver.log" \
    --agent 1001 --pin secret --dn 5001 --wait 1 \
    --command SignOnGroup --command Ready --command NotReady --command SignOffGroup
echo "== done; the broker keeps running (scripts/activemq.sh stop)"
