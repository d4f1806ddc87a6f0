#!/usr/bin/env bash
# scripts/fuzz.sh — runs every fuzz target of fuzz/ (libFuzzer through libfuzzer-sys) for a bounded
# time and prints, per target, executions per second and coverage (libFuzzer's cov: edges and
# ft: features). Exits 1 if any target crashed (a panic, an overflow, an input over the time or
# memory limit), after reproducing the crash from its saved input.
#
# No nightly toolchain and no cargo-fuzz needed: the targets are built by plain `cargo build` on
# the stable toolchain with the coverage instrumentation cargo-fuzz uses for `--sanitizer none`
# (SanitizerCoverage: inline 8-bit counters, PC table, comparison tracing), plus debug
# assertions and overflow checks; libfuzzer-sys compiles libFuzzer itself (needs a C++ compiler).
# Where a nightly toolchain and cargo-fuzz exist, `cd fuzz && cargo fuzz run <target>` runs the
# same targets.
#
# Usage: scripts/fuzz.sh [--time SECONDS] [--long] [--list] [TARGET...]
#   --time S   seconds per target (default $FUZZ_TIME or 30)
#   --long     10 minutes per target (on demand; prefer running a single target)
#   --list     print the targets and exit
#   TARGET...  only these targets (default: all of fuzz/fuzz_targets/)
# Each run starts from the seeds in fuzz/corpus/<target>/ (kept small, in git) and the corpus the
# earlier runs on this machine grew in target/fuzz/corpus/<target>/; a crash's input is saved in
# target/fuzz/artifacts/<target>/ (replay it with the target binary and that file).
# Env: FUZZ_TIME, FUZZ_RSS_MB (memory limit, default 2048), FUZZ_TIMEOUT (seconds one input
#      may take, default 20).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
FUZZ_DIR="$REPO_ROOT/fuzz"
WORK="$REPO_ROOT/target/fuzz"

time_per_target=${FUZZ_TIME:-30}
targets=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --time) time_per_target=${2:?--time needs seconds}; shift 2 ;;
        --long) time_per_target=600; shift ;;
        --list) for f in "$FUZZ_DIR"/fuzz_targets/*.rs; do basename "$f" .rs; done; exit 0 ;;
        -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
if [[ ${#targets[@]} -eq 0 ]]; then
    for f in "$FUZZ_DIR"/fuzz_targets/*.rs; do
        targets+=("$(basename "$f" .rs)")
    done
fi
[[ $time_per_target =~ ^[0-9]+$ && $time_per_target -gt 0 ]] \
    || { echo "fuzz.sh: --time takes whole seconds" >&2; exit 2; }

log() { printf 'fuzz.sh: %s\n' "$*" >&2; }

if ! command -v c++ >/dev/null 2>&1 && ! command -v g++ >/dev/null 2>&1; then
    log "libFuzzer is compiled from source by libfuzzer-sys and needs a C++ compiler (apt-get install g++)"
    exit 1
fi

host=$(rustc -vV | sed -n 's/^host: //p')
# The flags of `cargo fuzz build --sanitizer none` (SanitizerCoverage for libFuzzer), plus
# debug assertions and overflow checks. --target keeps them off build scripts and proc macros.
export RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
--cfg fuzzing -Cdebug-assertions -Coverflow-checks"
bin_args=()
for t in "${targets[@]}"; do bin_args+=(--bin "$t"); done
t0=$SECONDS
log "building ${#targets[@]} targets (release, coverage-instrumented, target $host)"
# Built under the project's target/ (ignored by git), not fuzz/target (cargo fuzz's own).
cargo build --release --manifest-path "$FUZZ_DIR/Cargo.toml" --target "$host" \
    --target-dir "$WORK/build" "${bin_args[@]}"
log "built in $((SECONDS - t0)) s; ${time_per_target} s per target"
BIN_DIR="$WORK/build/$host/release"

rows=()
failed=()
for t in "${targets[@]}"; do
    corpus="$WORK/corpus/$t" artifacts="$WORK/artifacts/$t" out="$WORK/logs/$t.log"
    mkdir -p "$corpus" "$artifacts" "$(dirname "$out")"
    rc=0
    # -close_fd_mask=2: the target's own stderr (driver log lines for refused input) is closed;
    # libFuzzer keeps its output. A crash is replayed below with stderr open.
    timeout --kill-after=10 $((time_per_target + 60)) \
        "$BIN_DIR/$t" "$corpus" "$FUZZ_DIR/corpus/$t" \
        -max_total_time="$time_per_target" -print_final_stats=1 -close_fd_mask=2 \
        -rss_limit_mb="${FUZZ_RSS_MB:-2048}" -timeout="${FUZZ_TIMEOUT:-20}" \
        -artifact_prefix="$artifacts/" >"$out" 2>&1 || rc=$?
    done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)' "$out" | tail -n 1 || true)
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$done_line")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$done_line")
    corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9a-zA-Z]+).*/\1/p' <<<"$done_line")
    execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$out")
    eps=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$out")
    status=ok
    if [[ $rc -ne 0 ]]; then
        status="CRASH (exit $rc)"
        failed+=("$t")
        log "$t: libFuzzer exited with $rc; its report (log $out):"
        grep -E '==[0-9]+==|ERROR|panicked|deadly signal|timeout|out-of-memory|Test unit written' "$out" \
            | head -n 20 | cut -c1-300 >&2 || true
        # The newest saved input.
        crash=$(find "$artifacts" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' \) \
            -printf '%T@ %p\n' 2>/dev/null | sort -rn | head -n 1 | cut -d' ' -f2- || true)
        if [[ -n $crash ]]; then
            log "$t: replaying $crash"
            timeout 60 "$BIN_DIR/$t" "$crash" 2>&1 | grep -vE '^(INFO|Running|Executed)' \
                | head -n 40 | cut -c1-300 >&2 || true
        fi
    fi
    rows+=("$(printf '%-18s %10s %10s %8s %8s %12s  %s' "$t" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$status")")
done

printf '\n%-18s %10s %10s %8s %8s %12s  %s\n' target executions exec/s cov ft corpus result
printf '%s\n' "${rows[@]}"
printf '(%s s per target; cov = coverage edges, ft = features, as libFuzzer counts them; total %s s)\n' \
    "$time_per_target" "$((SECONDS - t0))"
if [[ ${#failed[@]} -gt 0 ]]; then
    log "crashes in: ${failed[*]} (inputs in $WORK/artifacts/)"
    exit 1
fi
