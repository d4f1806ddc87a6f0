#!/usr/bin/env bash
# scripts/deps.sh — install the system tools the test suite needs (gcc, valgrind, pkg-config,
# and Chromium with its WebDriver for the agent desktop's browser test) from Debian's packages
# when missing. Each tool is checked with `command -v` first; `apt-get update` runs only when
# something has to be installed and the package lists do not know it (or the install failed).
# Idempotent: a no-op (and silent) when everything is present. The ActiveMQ broker is handled by
# scripts/activemq.sh.
set -euo pipefail

# tool -> Debian package that provides it
declare -A PKG_OF=([gcc]=gcc [valgrind]=valgrind [pkg-config]=pkg-config [chromium]=chromium
    [chromedriver]=chromium-driver)
TOOLS=(gcc valgrind pkg-config chromium chromedriver)

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
LOG_TAG=deps
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

missing=()
for tool in "${TOOLS[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("${PKG_OF[$tool]}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

t0=$SECONDS
apt_install_updating "${missing[0]}" "${missing[@]}"
for tool in "${TOOLS[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool still missing after installing ${PKG_OF[$tool]}"
done
log "installed ${missing[*]} in $((SECONDS - t0)) s"
