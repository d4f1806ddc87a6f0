#!/usr/bin/env bash
# packaging/linux/install.sh — installs the Siebel CTI connector as a systemd service, from a
# release bundle (scripts/release.sh) or a repository with a release build:
#   /opt/siebel-cti/bin/siebel-cti-connector        the binary
#   /opt/siebel-cti/docs/                           the documentation (bundle only)
#   /etc/siebel-cti/connector.toml                  the configuration (kept if it exists)
#   /var/log/siebel-cti/                            the log directory (user siebel-cti)
#   /etc/systemd/system/siebel-cti-connector.service, /etc/logrotate.d/siebel-cti-connector
# Usage: sudo packaging/linux/install.sh [--prefix DIR] [--bin FILE] [--start]
#   --bin    the connector binary to install (default: the bundle's, or target/release/)
#   --start  start (or restart) the service after `--check` passed.
# With DESTDIR set, everything goes under DESTDIR and nothing is run (no user, no systemctl):
# for packagers and for checking what would be installed.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd -- "$HERE/../.." && pwd -P)
PREFIX=/opt/siebel-cti START=0 BIN=
while [[ $# -gt 0 ]]; do
    case $1 in
        --prefix) PREFIX=${2:?--prefix needs a directory}; shift ;;
        --start) START=1 ;;
        --bin) BIN=${2:?--bin needs a file}; shift ;;
        -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
D=${DESTDIR:-}
say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: ERROR: %s\n' "$*" >&2; exit 1; }

# The binary: the bundle's, else the repository's release build.
for candidate in "$ROOT/linux-x86_64/siebel-cti-connector" "$ROOT/target/release/siebel-cti-connector"; do
    [[ -z $BIN && -x $candidate ]] && BIN=$candidate
done
[[ -n $BIN ]] || die "no siebel-cti-connector binary next to this script (run scripts/release.sh, or cargo build --release -p siebel-cti-connector)"
EXAMPLE=$ROOT/config/connector.example.toml
[[ -f $EXAMPLE ]] || EXAMPLE=$ROOT/connector/connector.example.toml
[[ -f $EXAMPLE ]] || die "no connector.example.toml found"

if [[ -z $D ]]; then
    [[ $EUID -eq 0 ]] || die "run as root (sudo), or set DESTDIR to stage the files"
    command -v systemctl >/dev/null || die "systemctl not found: this script installs a systemd service"
    if ! id siebel-cti >/dev/null 2>&1; then
        say "creating the system user siebel-cti"
        useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin --user-group siebel-cti
    fi
fi

install -d "$D$PREFIX/bin" "$D/etc/siebel-cti" "$D/var/log/siebel-cti" \
    "$D/etc/systemd/system" "$D/etc/logrotate.d"
install -m 0755 "$BIN" "$D$PREFIX/bin/siebel-cti-connector"
say "installed $PREFIX/bin/siebel-cti-connector ($("$BIN" --version))"
if [[ -d $ROOT/docs ]]; then
    install -d "$D$PREFIX/docs"
    install -m 0644 "$ROOT"/docs/*.md "$D$PREFIX/docs/"
fi
CONFIG=$D/etc/siebel-cti/connector.toml
if [[ -e $CONFIG ]]; then
    say "kept the existing /etc/siebel-cti/connector.toml"
else
    # The example, logging to /var/log/siebel-cti (logrotate rotates it: no size cap).
    sed -e 's|^file = ""  *|file = "/var/log/siebel-cti/connector.log" |' \
        -e 's|^max_kb = [0-9]*  *|max_kb = 0 |' "$EXAMPLE" >"$CONFIG"
    chmod 0640 "$CONFIG"
    say "wrote /etc/siebel-cti/connector.toml from the example: edit it (broker, Finesse)"
fi
unit=$PREFIX/bin/siebel-cti-connector
sed "s|/opt/siebel-cti/bin/siebel-cti-connector|$unit|; s|/opt/siebel-cti/docs|$PREFIX/docs|" \
    "$HERE/siebel-cti-connector.service" >"$D/etc/systemd/system/siebel-cti-connector.service"
install -m 0644 "$HERE/logrotate.conf" "$D/etc/logrotate.d/siebel-cti-connector"

if [[ -n $D ]]; then
    say "staged under $D (DESTDIR): no user created, systemd not touched"
    exit 0
fi
chown root:siebel-cti "$CONFIG"
chown siebel-cti:siebel-cti /var/log/siebel-cti
chmod 0750 /var/log/siebel-cti
systemctl daemon-reload
systemctl enable siebel-cti-connector.service >/dev/null
say "enabled siebel-cti-connector.service"
if [[ $START -eq 1 ]]; then
    if runuser -u siebel-cti -- "$PREFIX/bin/siebel-cti-connector" --check --config /etc/siebel-cti/connector.toml; then
        systemctl restart siebel-cti-connector.service
        say "started: systemctl status siebel-cti-connector; journalctl -u siebel-cti-connector"
    else
        die "--check failed (above): fix /etc/siebel-cti/connector.toml, then: systemctl start siebel-cti-connector"
    fi
else
    say "next: edit /etc/siebel-cti/connector.toml, then"
    say "  sudo -u siebel-cti $PREFIX/bin/siebel-cti-connector --check --config /etc/siebel-cti/connector.toml"
    say "  sudo systemctl start siebel-cti-connector"
fi
