#!/usr/bin/env bash
# scripts/activemq.sh — install and run a local Apache ActiveMQ broker for the test suite.
#
# Debian's `activemq` package, run as an ordinary background process (no systemd, no init
# script), with its own config that adds a STOMP connector on 127.0.0.1:${STOMP_PORT:-61613}
# (OpenWire stays on 127.0.0.1:${OPENWIRE_PORT:-61616}). Everything lives in $ACTIVEMQ_BASE
# (default <repo>/target/activemq):
#   conf/ (generated config + log4j files), data/ (KahaDB), broker.log (stdout/stderr), broker.pid
#
# A second broker, the shared-store slave of the first ("-slave" commands), lives in
# $ACTIVEMQ_BASE-slave with its own ports (STOMP ${SLAVE_STOMP_PORT:-61614}, OpenWire
# ${SLAVE_OPENWIRE_PORT:-61617}) and the master's KahaDB directory: it waits on the store's file
# lock and opens its ports only when the master is gone (checked every ACTIVEMQ_LOCK_MS).
#
# Security (docs/security.md):
#   ACTIVEMQ_AUTH=1 closes the broker: anonymous clients are refused (simpleAuthenticationPlugin)
#     and each user may touch only its destinations (authorizationPlugin):
#       connector  ${ACTIVEMQ_CONNECTOR_LOGIN:-connector} / $ACTIVEMQ_CONNECTOR_PASSWORD: consumes
#                  the request queue(s), writes every driver queue and the status topic;
#       drivers    $ACTIVEMQ_DRIVERS, "login:password" pairs separated by spaces: each sends to the
#                  request queue(s), reads the status topic (only connectors write it), reads and
#                  writes the drivers' topic (client-id announces), and consumes only its own
#                  queue namespace siebelcti.driver.<login>.> (its Driver:ClientId starts with
#                  "<login>.": the driver's default when Driver:BrokerLogin is set).
#     Request queues: $ACTIVEMQ_REQUEST_QUEUE (default siebelcti.requests) and every queue under
#     it (<name>.>); their topics <queue>.status and <queue>.drivers for the queue and for the
#     queues one level under it (<name>.<one word>). The broker stamps the sender's user on each
#     message (JMSXUserID). The test defaults of the passwords are for tests only.
#   STOMP_TLS_PORT=<port> adds STOMP over TLS (stomp+ssl) on that port, with the certificate of
#     scripts/certs.sh ($CERTS_DIR, default <repo>/target/certs: broker.p12, CA ca.pem).
#   STOMP_PORT=off leaves plain STOMP out (it stays on only when asked for: a port number).
#   Frames: STOMP frames over ACTIVEMQ_MAX_FRAME bytes (default 4190000, just under the clients'
#   4 MiB decoder limit) are refused by the broker, bodies over ACTIVEMQ_MAX_DATA (4000000).
#
# Usage: scripts/activemq.sh install | start [--clean] | stop | status | restart [--clean]
#                          | start-slave | stop-slave | status-slave | restart-slave
#   --clean  deletes $ACTIVEMQ_BASE/data (persistent queues, logs) before starting, on purpose.
# Env: ACTIVEMQ_BASE, STOMP_PORT, OPENWIRE_PORT, SLAVE_STOMP_PORT, SLAVE_OPENWIRE_PORT,
#      ACTIVEMQ_LOCK_MS (store lock retry of a waiting slave, ms, default 500),
#      ACTIVEMQ_INACTIVE_MS (a destination without messages and consumers this long is
#      deleted, default 300000), ACTIVEMQ_PURGE_MS (how often the broker looks, default 60000),
#      ACTIVEMQ_START_TIMEOUT (s, default 60), ACTIVEMQ_JAVA_OPTS (default "-Xms64M -Xmx256M").
# Exit codes: 0 ok / running (serving, or waiting for the store lock the other broker of the
# pair holds), 1 error, 2 usage, 3 stopped (status).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
MASTER_BASE=${ACTIVEMQ_BASE:-$REPO_ROOT/target/activemq}
ROLE=master
if [[ ${1:-} == *-slave ]]; then ROLE=slave; set -- "${1%-slave}" "${@:2}"; fi
BASE=$MASTER_BASE
STOMP_PORT=${STOMP_PORT:-61613}
OPENWIRE_PORT=${OPENWIRE_PORT:-61616}
STOMP_TLS_PORT=${STOMP_TLS_PORT:-}
AUTH=${ACTIVEMQ_AUTH:-0}
CONNECTOR_LOGIN=${ACTIVEMQ_CONNECTOR_LOGIN:-connector}
CONNECTOR_PASSWORD=${ACTIVEMQ_CONNECTOR_PASSWORD:-connector-secret}
DRIVERS=${ACTIVEMQ_DRIVERS:-siebel:siebel-secret}
REQUEST_QUEUE=${ACTIVEMQ_REQUEST_QUEUE:-siebelcti.requests}
MAX_FRAME=${ACTIVEMQ_MAX_FRAME:-4190000}
MAX_DATA=${ACTIVEMQ_MAX_DATA:-4000000}
CERTS_DIR=${CERTS_DIR:-$REPO_ROOT/target/certs}
P12_PASSWORD=${CERTS_P12_PASSWORD:-changeit}
if [[ $ROLE == slave ]]; then
    BASE="$MASTER_BASE-slave"
    [[ $STOMP_PORT == off ]] || STOMP_PORT=${SLAVE_STOMP_PORT:-61614}
    OPENWIRE_PORT=${SLAVE_OPENWIRE_PORT:-61617}
    [[ -z $STOMP_TLS_PORT ]] || STOMP_TLS_PORT=${SLAVE_STOMP_TLS_PORT:-$((STOMP_TLS_PORT + 1))}
fi
PLAIN=1
[[ $STOMP_PORT == off ]] && PLAIN=0
[[ $PLAIN == 1 || -n $STOMP_TLS_PORT ]] || { echo "activemq: STOMP_PORT=off needs STOMP_TLS_PORT" >&2; exit 2; }
# The port the readiness check uses: plain when on, else TLS.
CHECK_PORT=$STOMP_PORT
[[ $PLAIN == 1 ]] || CHECK_PORT=$STOMP_TLS_PORT
# The KahaDB store (and its lock) of the pair: the master's.
STORE_DIR="$MASTER_BASE/data/kahadb"
LOCK_MS=${ACTIVEMQ_LOCK_MS:-500}
PURGE_MS=${ACTIVEMQ_PURGE_MS:-60000}
INACTIVE_MS=${ACTIVEMQ_INACTIVE_MS:-300000}
[[ $PURGE_MS =~ ^[1-9][0-9]*$ && $INACTIVE_MS =~ ^[1-9][0-9]*$ ]] \
    || { echo "activemq: ACTIVEMQ_PURGE_MS and ACTIVEMQ_INACTIVE_MS must be milliseconds (a number over 0)" >&2; exit 2; }
CONF_DIR="$BASE/conf"
DATA_DIR="$BASE/data"
TMP_DIR="$BASE/tmp"
LOG_FILE="$BASE/broker.log"
PID_FILE="$BASE/broker.pid"

HOST=127.0.0.1
START_TIMEOUT=${ACTIVEMQ_START_TIMEOUT:-60}
STOP_TIMEOUT=30
STOP_POLL=0.2
JAVA_OPTS=${ACTIVEMQ_JAVA_OPTS:--Xms64M -Xmx256M}

AMQ_HOME=/usr/share/activemq
AMQ_JAR="$AMQ_HOME/bin/activemq.jar"
AMQ_INSTANCE=/etc/activemq/instances-available/main

LOG_TAG=activemq
[[ $ROLE == slave ]] && LOG_TAG=activemq-slave
# messages of the shared start/stop/status (scripts/lib.sh)
SVC_NOUN=broker SVC_KIND=broker SVC_PROTO="STOMP "
ENDPOINTS="STOMP on $HOST:$STOMP_PORT"
[[ $PLAIN == 1 ]] || ENDPOINTS="no plain STOMP"
[[ -z $STOMP_TLS_PORT ]] || ENDPOINTS+=", STOMP+TLS on $HOST:$STOMP_TLS_PORT"
[[ $AUTH != 1 ]] || ENDPOINTS+=" (authentication and authorization on)"
SVC_ENDPOINT=$ENDPOINTS
SVC_TIMEOUT_WHAT="STOMP port $HOST:$CHECK_PORT did not answer CONNECT"
SVC_STARTED_INFO="$ENDPOINTS, OpenWire on $HOST:$OPENWIRE_PORT; log $LOG_FILE"
SVC_STATUS_UP="STOMP answers on $HOST:$CHECK_PORT"
SVC_STATUS_NOT_READY="but STOMP does not answer on $HOST:$CHECK_PORT yet"
SVC_LOGS=("$LOG_FILE")

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

cmd_install() {
    [[ -f $AMQ_JAR ]] && return 0
    local pkgs=(activemq) t0=$SECONDS
    command -v java >/dev/null 2>&1 || pkgs+=(default-jre-headless)
    apt_install_updating activemq "${pkgs[@]}"
    [[ -f $AMQ_JAR ]] || die "$AMQ_JAR still missing after installing activemq"
    command -v java >/dev/null 2>&1 || die "no java on PATH after installing activemq"
    log "installed in $((SECONDS - t0)) s"
}

# The broker this script started: really our java process.
svc_pid() { pid_if_cmdline_has "-Dactivemq.base=$BASE "; }

# Sends a real STOMP 1.2 CONNECT (with the connector's credentials when auth is on; over TLS
# when plain STOMP is off) and prints the CONNECTED frame's first lines; fails otherwise.
stomp_connect() {
    local creds=""
    [[ $AUTH != 1 ]] || creds="login:$CONNECTOR_LOGIN\npasscode:$CONNECTOR_PASSWORD\n"
    if [[ $PLAIN != 1 ]]; then
        local frame
        frame=$({ printf "CONNECT\naccept-version:1.2\nhost:localhost\n%b\n\0" "$creds"; sleep 2; } \
            | timeout 5 openssl s_client -quiet -verify_return_error -CAfile "$CERTS_DIR/ca.pem" \
                -connect "$HOST:$STOMP_TLS_PORT" 2>/dev/null | head -c 9) || true
        [[ $frame == CONNECTED ]] || return 1
        printf "%s\n" "$frame"
        return 0
    fi
    # shellcheck disable=SC2016  # expanded by the inner bash
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        printf "CONNECT\naccept-version:1.2\nhost:localhost\n%b\n\0" "$3" >&3
        IFS= read -r -d "" frame <&3 || [[ -n ${frame:-} ]] || exit 1
        frame=${frame#"${frame%%[![:space:]]*}"}   # a heart-beat EOL may come first
        [[ $frame == CONNECTED* ]] || exit 1
        printf "DISCONNECT\n\n\0" >&3 || true
        printf "%s\n" "$frame"
    ' _ "$HOST" "$STOMP_PORT" "$creds" 2>/dev/null
}

stomp_ready() { stomp_connect >/dev/null; }
# A broker is ready when it serves, or waits for the store's lock held by the other broker of
# the pair (a slave; or a master restarted while its slave serves).
waiting_for_lock() { grep -qiE 'slave mode|waiting (for )?a lock' "$LOG_FILE" 2>/dev/null; }
svc_ready() { stomp_ready || waiting_for_lock; }

# --- config ----------------------------------------------------------------------------------

write_config() {
    local src="$AMQ_INSTANCE/activemq.xml" tmp
    [[ -r $src ]] || die "packaged broker config $src not found (reinstall activemq?)"
    mkdir -p "$CONF_DIR" "$DATA_DIR" "$TMP_DIR"
    tmp="$CONF_DIR/activemq.xml.tmp"
    # Keep the packaged instance as is, re-point OpenWire at $OPENWIRE_PORT, add STOMP (plain
    # and/or TLS), with frame limits.
    local opts="transport.tcpNoDelay=true\&amp;wireFormat.maxFrameSize=$MAX_FRAME\&amp;wireFormat.maxDataLength=$MAX_DATA"
    local stomp=""
    [[ $PLAIN != 1 ]] || stomp+='<transportConnector name="stomp" uri="stomp://'"$HOST:$STOMP_PORT?$opts"'"/>'
    [[ -z $STOMP_TLS_PORT ]] || stomp+='<transportConnector name="stomp-ssl" uri="stomp+ssl://'"$HOST:$STOMP_TLS_PORT?$opts"'"/>'
    sed -E 's#^([[:space:]]*)<transportConnector name="openwire" uri="tcp://[^"]*"[[:space:]]*/>#\1<transportConnector name="openwire" uri="tcp://'"$HOST:$OPENWIRE_PORT"'"/>\n\1'"$stomp"'#' \
        "$src" >"$tmp"
    grep -q "uri=\"stomp" "$tmp" \
        || die "could not add the STOMP connector to $src (its openwire line changed?)"
    if [[ -n $STOMP_TLS_PORT ]]; then
        bash "$SCRIPT_DIR/certs.sh" >&2 || die "could not make the TLS certificates (scripts/certs.sh)"
        sed -i -E 's#^([[:space:]]*)<transportConnectors>#\1<sslContext><sslContext keyStore="file:'"$CERTS_DIR/broker.p12"'" keyStorePassword="'"$P12_PASSWORD"'" keyStoreType="pkcs12"/></sslContext>\n&#' "$tmp"
        grep -q "<sslContext><sslContext" "$tmp" || die "could not add the sslContext to $src"
    fi
    if [[ $AUTH == 1 ]]; then
        security_plugins >"$CONF_DIR/plugins.xml"
        # The plugins go before the persistence adapter; the broker stamps each message with
        # its sender's user.
        awk -v f="$CONF_DIR/plugins.xml" '/<persistenceAdapter>/ && !done {
                print "<plugins>"; while ((getline l < f) > 0) print l; print "</plugins>"; done = 1
            } { print }' "$tmp" >"$tmp.2"
        mv -f "$tmp.2" "$tmp"
        sed -i -E 's#<broker xmlns="http://activemq.apache.org/schema/core"#& populateJMSXUserID="true" useAuthenticatedPrincipalForJMSXUserID="true"#' "$tmp"
        grep -q "<simpleAuthenticationPlugin" "$tmp" || die "could not add the security plugins"
        rm -f "$CONF_DIR/plugins.xml"
    fi
    # Destinations nobody uses any more are deleted: every driver instance has its own event
    # queue (its ClientId ends with its process id), so without this each restart of a Siebel
    # server, and each test, leaves a queue, its topics and their advisories in the broker's
    # heap and store for good. With 6,000 of them a 256 MB heap had no room left for a burst
    # of 2,000 logins: the broker spent its time collecting garbage and stopped reading the
    # connector's connection (the drivers called the connector gone).
    awk -v idle="$INACTIVE_MS" '/<persistenceAdapter>/ && !done {
            print "<destinationPolicy><policyMap><policyEntries>"
            print "<policyEntry queue=\"&gt;\" gcInactiveDestinations=\"true\" inactiveTimeoutBeforeGC=\"" idle "\"/>"
            print "<policyEntry topic=\"&gt;\" gcInactiveDestinations=\"true\" inactiveTimeoutBeforeGC=\"" idle "\"/>"
            print "</policyEntries></policyMap></destinationPolicy>"; done = 1
        } { print }' "$tmp" >"$tmp.2"
    mv -f "$tmp.2" "$tmp"
    sed -i -E 's#<broker xmlns="http://activemq.apache.org/schema/core"#& schedulePeriodForDestinationPurge="'"$PURGE_MS"'"#' "$tmp"
    grep -q "gcInactiveDestinations" "$tmp" && grep -q "schedulePeriodForDestinationPurge" "$tmp" \
        || die "could not add the destination policy"
    # The store of the pair, with a file lock a waiting slave retries every $LOCK_MS ms.
    sed -i -E 's#<kahaDB directory="[^"]*"[[:space:]]*/>#<kahaDB directory="'"$STORE_DIR"'"><locker><shared-file-locker lockAcquireSleepInterval="'"$LOCK_MS"'"/></locker></kahaDB>#' "$tmp"
    grep -qF "<kahaDB directory=\"$STORE_DIR\"><locker>" "$tmp" \
        || die "could not set the KahaDB store in $src (its kahaDB line changed?)"
    chmod 600 "$tmp"   # it may hold passwords
    mv -f "$tmp" "$CONF_DIR/activemq.xml"
    settings_digest >"$CONF_DIR/settings.sha256"
    cp -f "$AMQ_INSTANCE/log4j2.properties" "$CONF_DIR/log4j2.properties"
    # Debian's build logs through slf4j -> log4j 1.2 (lib/optional), which ignores the
    # log4j2.properties above and would log nothing; this file sends the broker's log to
    # stdout, i.e. broker.log.
    cat >"$CONF_DIR/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, console
log4j.logger.org.apache.activemq.spring=WARN
log4j.logger.org.apache.activemq.web.handler=WARN
log4j.logger.org.springframework=WARN
log4j.logger.org.apache.xbean=WARN
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} | %-5p | %m | %c | %t%n
EOF
}

# A user name or password that goes into the XML as is.
check_word() {
    [[ $2 =~ ^[A-Za-z0-9._-]+$ ]] || die "$1 may hold only letters, digits, '.', '_' and '-'"
}

# The authentication and authorization plugins (docs/security.md has the table).
security_plugins() {
    local pair login password q=$REQUEST_QUEUE groups="connectors" entries="" users=""
    check_word ACTIVEMQ_CONNECTOR_LOGIN "$CONNECTOR_LOGIN"
    check_word ACTIVEMQ_CONNECTOR_PASSWORD "$CONNECTOR_PASSWORD"
    check_word ACTIVEMQ_REQUEST_QUEUE "$q"
    users+="<authenticationUser username=\"$CONNECTOR_LOGIN\" password=\"$CONNECTOR_PASSWORD\" groups=\"connectors\"/>"
    for pair in $DRIVERS; do
        login=${pair%%:*}; password=${pair#*:}
        [[ $pair == *:* && -n $login && -n $password ]] || die "ACTIVEMQ_DRIVERS: expected login:password, got an entry without ':'"
        check_word "a login of ACTIVEMQ_DRIVERS" "$login"
        check_word "a password of ACTIVEMQ_DRIVERS" "$password"
        users+="<authenticationUser username=\"$login\" password=\"$password\" groups=\"drivers,driver-$login\"/>"
        # Its own reply queue namespace: only this driver reads it.
        entries+="<authorizationEntry queue=\"siebelcti.driver.$login.>\" read=\"driver-$login\" write=\"connectors\" admin=\"driver-$login,connectors\"/>"
    done
    groups+=",drivers"
    cat <<XML
<simpleAuthenticationPlugin anonymousAccessAllowed="false"><users>$users</users></simpleAuthenticationPlugin>
<authorizationPlugin><map><authorizationMap><authorizationEntries>
<authorizationEntry queue="$q" read="connectors" write="$groups" admin="$groups"/>
<authorizationEntry queue="$q.>" read="connectors" write="$groups" admin="$groups"/>
<authorizationEntry topic="$q.status" read="$groups" write="connectors" admin="$groups"/>
<authorizationEntry topic="$q.*.status" read="$groups" write="connectors" admin="$groups"/>
<authorizationEntry topic="$q.drivers" read="drivers" write="drivers" admin="drivers"/>
<authorizationEntry topic="$q.*.drivers" read="drivers" write="drivers" admin="drivers"/>
<authorizationEntry queue="siebelcti.driver.>" read="admins" write="connectors" admin="connectors"/>
$entries
<authorizationEntry topic="ActiveMQ.Advisory.>" read="$groups" write="$groups" admin="$groups"/>
</authorizationEntries></authorizationMap></map></authorizationPlugin>
XML
}

# --- start hooks -----------------------------------------------------------------------------

svc_check_ports() {
    local port name
    local ports=("$OPENWIRE_PORT")
    [[ $PLAIN != 1 ]] || ports+=("$STOMP_PORT")
    [[ -z $STOMP_TLS_PORT ]] || ports+=("$STOMP_TLS_PORT")
    for port in "${ports[@]}"; do
        port_open "$port" || continue
        name=STOMP; [[ $port == "$OPENWIRE_PORT" ]] && name=OpenWire
        die "port $HOST:$port ($name) is already taken by another process ($(port_owner "$port")), not by a broker this script started. Stop that process (another ActiveMQ, e.g. the packaged service?) or choose other ports with STOMP_PORT=/OPENWIRE_PORT=."
    done
}

svc_launch() {
    # shellcheck disable=SC2086  # JAVA_OPTS is split on purpose
    spawn_detached "$LOG_FILE" \
        java $JAVA_OPTS -Djava.awt.headless=true \
            -Djava.io.tmpdir="$TMP_DIR" \
            -Dlog4j.configuration="file:$CONF_DIR/log4j.properties" \
            -Dlog4j2.configurationFile="$CONF_DIR/log4j2.properties" \
            -Dactivemq.home="$AMQ_HOME" -Dactivemq.base="$BASE" \
            -Dactivemq.conf="$CONF_DIR" -Dactivemq.data="$DATA_DIR" \
            -jar "$AMQ_JAR" start "xbean:file:$CONF_DIR/activemq.xml"
}

show_log_tail() { tail_log 40 "$LOG_FILE"; }

if [[ $ROLE == slave ]]; then
    SVC_NOUN="slave broker"
    SVC_STARTED_INFO="STOMP on $HOST:$STOMP_PORT, OpenWire on $HOST:$OPENWIRE_PORT once the master ($MASTER_BASE) is gone; store $STORE_DIR; log $LOG_FILE"
    SVC_TIMEOUT_WHAT="slave neither waited for the store lock nor answered CONNECT on $HOST:$STOMP_PORT"
    [[ ${1:-} == start || ${1:-} == restart ]] && [[ " ${*:2} " == *" --clean "* ]] \
        && die "--clean would delete the master's store; clean with the master (start --clean)"
fi

# A waiting broker is "ready" to the start command; status tells waiting from serving.
svc_status() {
    local pid
    pid=$(svc_pid) || { echo "stopped"; return 3; }
    if stomp_ready; then echo "running (pid $pid), $SVC_STATUS_UP"
    elif waiting_for_lock; then echo "running (pid $pid), waiting for the store lock"
    else echo "running (pid $pid), $SVC_STATUS_NOT_READY"
    fi
}

usage() {
    echo "usage: $0 install | start [--clean] | stop | status | restart [--clean] | start-slave | stop-slave | status-slave | restart-slave" >&2
    exit 2
}

# What the running broker was configured with (ports, auth, users, limits, this script): a
# `start` finding the broker running with other settings restarts it, so that e.g. the test
# suite never runs against an open broker left from before.
settings_digest() {
    printf '%s\n' "$PLAIN $STOMP_PORT $STOMP_TLS_PORT $OPENWIRE_PORT $AUTH $CONNECTOR_LOGIN" \
        "$CONNECTOR_PASSWORD $DRIVERS $REQUEST_QUEUE $MAX_FRAME $MAX_DATA $CERTS_DIR $LOCK_MS" \
        "$PURGE_MS $INACTIVE_MS" \
        | cat - "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1
}
if [[ ${1:-} == start ]] && svc_pid >/dev/null \
    && [[ $(cat "$CONF_DIR/settings.sha256" 2>/dev/null) != "$(settings_digest)" ]]; then
    log "running with other settings: restarting it with these ($ENDPOINTS)"
    svc_stop
fi
svc_main "$@"
if [[ $1 == start || $1 == restart ]] && ! stomp_ready && waiting_for_lock; then
    log "waiting for the store lock ($STORE_DIR/lock): serves once the broker holding it is gone"
fi
