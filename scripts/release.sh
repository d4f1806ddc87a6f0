#!/usr/bin/env bash
# scripts/release.sh — builds the release bundle: target/bundle/siebel-cti-VERSION/ and its
# tarball target/bundle/siebel-cti-VERSION.tar.gz (with a .sha256 beside it):
#   linux-x86_64/    libsiebel_cti.so (the driver), siebel-cti-connector, finesse-sim, scs-sim,
#                    scs-bench
#   windows-x86_64/  siebel_cti.dll (64-bit Siebel), siebel-cti-connector.exe (--service)
#   windows-x86/     siebel_cti.dll (32-bit Siebel)
#   def-templates/   ucce.def, uccx.def          include/  scapi.h
#   config/          connector.example.toml, finesse-sim.example.toml
#   packaging/       linux/ (systemd unit, logrotate, install.sh), windows/ (service install)
#   docs/, README.md, SHA256SUMS (of every file in the bundle)
# Usage: scripts/release.sh [--skip-windows] [--debug]
#   --skip-windows  no Windows builds (they need the mingw-w64 cross compilers: scripts/windows.sh
#                   installs them); the bundle then says so in its README.
#   --debug         bundle the debug builds (quick, for checking this script; not for release)
# Prints each step and its time; exits non-zero at the first failing step.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
cd "$REPO_ROOT"
LOG_TAG=release
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

windows=1 profile=release profile_flags=(--release)
while [[ $# -gt 0 ]]; do
    case $1 in
        --skip-windows) windows=0 ;;
        --debug) profile=debug profile_flags=() ;;
        -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
    shift
done

VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
[[ -n $VERSION ]] || die "no version in Cargo.toml's [workspace.package]"
NAME=siebel-cti-$VERSION
OUT=$REPO_ROOT/target/bundle
B=$OUT/$NAME

step() {  # $1 = what, then the command: prints the step, its time, and dies when it fails
    local t0=$SECONDS
    log "$1..."
    "${@:2}" || die "$1 failed"
    log "$1: done in $((SECONDS - t0)) s"
}

build_linux() {
    cargo build "${profile_flags[@]}" -p siebel-cti -p siebel-cti-connector -p finesse-sim -p scs-sim
}
build_windows() {
    if ! command -v x86_64-w64-mingw32-gcc >/dev/null || ! command -v i686-w64-mingw32-gcc >/dev/null; then
        log "mingw-w64 missing: run scripts/windows.sh once (it installs it), or --skip-windows"
        return 1
    fi
    cargo build "${profile_flags[@]}" -p siebel-cti -p siebel-cti-connector --target x86_64-pc-windows-gnu &&
    cargo build "${profile_flags[@]}" -p siebel-cti --target i686-pc-windows-gnu
}
assemble() {
    rm -rf "$B" && mkdir -p "$B"/{linux-x86_64,def-templates,include,config,packaging,docs} || return 1
    local t=target/$profile
    cp "$t/libsiebel_cti.so" "$t/siebel-cti-connector" "$t/finesse-sim" "$t/scs-sim" \
        "$t/scs-bench" "$B/linux-x86_64/" || return 1
    if [[ $windows -eq 1 ]]; then
        mkdir -p "$B/windows-x86_64" "$B/windows-x86" || return 1
        cp "target/x86_64-pc-windows-gnu/$profile/siebel_cti.dll" \
            "target/x86_64-pc-windows-gnu/$profile/siebel-cti-connector.exe" "$B/windows-x86_64/" &&
        cp "target/i686-pc-windows-gnu/$profile/siebel_cti.dll" "$B/windows-x86/" || return 1
    fi
    cp def-templates/*.def "$B/def-templates/" &&
    cp include/scapi.h "$B/include/" &&
    cp connector/connector.example.toml sims/finesse/finesse-sim.example.toml "$B/config/" &&
    cp -r packaging/linux packaging/windows "$B/packaging/" &&
    cp docs/*.md "$B/docs/" &&
    cp README.md "$B/" || return 1
    {
        printf '\nThis bundle: %s, built %s from commit %s (%s build).\n' "$NAME" \
            "$(date -u +%Y-%m-%dT%H:%MZ)" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$profile"
        [[ $windows -eq 1 ]] || printf 'Built with --skip-windows: no Windows files in this bundle.\n'
        printf 'Install: docs/siebel-install.md (the driver), docs/operations.md (the connector).\n'
    } >>"$B/README.md"
    # The binaries answer --version (a broken build stops here).
    "$B/linux-x86_64/siebel-cti-connector" --version >/dev/null &&
    "$B/linux-x86_64/finesse-sim" --version >/dev/null || return 1
}
checksums() {
    local sums=$OUT/SHA256SUMS.tmp
    (cd "$B" && find . -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort \
        | xargs -d '\n' sha256sum >"$sums") || return 1
    mv "$sums" "$B/SHA256SUMS" && (cd "$B" && sha256sum --quiet -c SHA256SUMS) || return 1
    tar -C "$OUT" -czf "$OUT/$NAME.tar.gz" "$NAME" &&
    (cd "$OUT" && sha256sum "$NAME.tar.gz" >"$NAME.tar.gz.sha256")
}

log "building $NAME ($profile$([[ $windows -eq 1 ]] || echo ", no Windows"))"
step "Linux build (the driver .so, connector, simulators)" build_linux
[[ $windows -eq 0 ]] || step "Windows builds (64-bit DLL and connector, 32-bit DLL)" build_windows
step "assembling $B" assemble
step "SHA256SUMS and the tarball" checksums
log "bundle: $B ($(find "$B" -type f | wc -l) files)"
log "tarball: $OUT/$NAME.tar.gz ($(du -h "$OUT/$NAME.tar.gz" | cut -f1)), sha256 in $NAME.tar.gz.sha256"
