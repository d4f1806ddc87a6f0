#!/usr/bin/env bash
# scripts/certs.sh — a test CA and server certificates for the local services (TLS tests, demo).
#
# Writes to $CERTS_DIR (default <repo>/target/certs), only what is missing or no longer valid
# (idempotent; --force renews everything):
#   ca.pem, ca.key                 the test CA (10 years)
#   broker.pem, broker.key,        ActiveMQ's STOMP+TLS certificate, and the same as PKCS#12
#   broker.p12                     (password $CERTS_P12_PASSWORD, default "changeit") for Java
#   prosody.pem, prosody.key       for Prosody (XMPP over TLS)
#   finesse.pem, finesse.key       for finesse-sim (HTTPS)
#   secure.key                     a secure-password key (48 hex digits, Driver:SecureKeyFile)
# Every server certificate names DNS:localhost and IP:127.0.0.1 (plus $CERTS_EXTRA_SAN, e.g.
# "DNS:mq.example,IP:10.0.0.5"), is signed by the test CA and valid for 825 days.
# Needs openssl (installed from Debian's packages when missing). Not for production: use your
# own CA's certificates there (docs/security.md).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
DIR=${CERTS_DIR:-$REPO_ROOT/target/certs}
P12_PASSWORD=${CERTS_P12_PASSWORD:-changeit}
SAN="DNS:localhost,IP:127.0.0.1${CERTS_EXTRA_SAN:+,$CERTS_EXTRA_SAN}"
LOG_TAG=certs
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

force=0
[[ ${1:-} == --force ]] && force=1
command -v openssl >/dev/null 2>&1 || apt_install_updating openssl openssl
mkdir -p "$DIR"
chmod 700 "$DIR"

# A CA valid for at least another day.
if [[ $force -eq 1 ]] || ! openssl x509 -checkend 86400 -noout -in "$DIR/ca.pem" >/dev/null 2>&1 \
    || [[ ! -s $DIR/ca.key ]]; then
    log "creating the test CA in $DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -subj "/CN=Siebel CTI test CA" -keyout "$DIR/ca.key" -out "$DIR/ca.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        2>/dev/null
    force=1   # the server certificates must be signed by this CA
fi

# $1 = name: $DIR/$1.pem and .key, signed by the CA, for $SAN.
server_cert() {
    local name=$1 ext
    if [[ $force -eq 0 ]] && openssl verify -CAfile "$DIR/ca.pem" "$DIR/$name.pem" >/dev/null 2>&1 \
        && openssl x509 -checkend 86400 -noout -in "$DIR/$name.pem" >/dev/null 2>&1 \
        && openssl x509 -noout -ext subjectAltName -in "$DIR/$name.pem" 2>/dev/null | grep -q 'IP Address:127.0.0.1' \
        && [[ -s $DIR/$name.key ]]; then
        return 1
    fi
    log "creating $name.pem ($SAN)"
    ext=$(mktemp)
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' "$SAN" >"$ext"
    openssl req -new -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$DIR/$name.key" -out "$DIR/$name.csr" 2>/dev/null
    openssl x509 -req -sha256 -days 825 -in "$DIR/$name.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" \
        -CAcreateserial -extfile "$ext" -out "$DIR/$name.pem" 2>/dev/null
    rm -f "$ext" "$DIR/$name.csr"
    chmod 600 "$DIR/$name.key"
    return 0
}

server_cert prosody || true
server_cert finesse || true
if server_cert broker || [[ ! -s $DIR/broker.p12 ]]; then
    openssl pkcs12 -export -name broker -in "$DIR/broker.pem" -inkey "$DIR/broker.key" \
        -certfile "$DIR/ca.pem" -passout "pass:$P12_PASSWORD" -out "$DIR/broker.p12"
    chmod 600 "$DIR/broker.p12"
fi
# The secure-password key of the tests and the demo (Driver:SecureKeyFile, the connector's
# security.des_key): 48 random hex digits, made once, as an administrator makes a site's key.
if [[ ! -s $DIR/secure.key ]]; then
    log "creating the secure-password key secure.key"
    (umask 077 && openssl rand -hex 24 >"$DIR/secure.key")
fi
log "certificates in $DIR (CA: $DIR/ca.pem)"
