#!/usr/bin/env bash
# A real Apache Kafka 4.x broker (KRaft mode, no ZooKeeper, no Docker) for development and tests.
# The jars come from Maven Central (deploy/local/kafka/pom.xml) and are cached outside the repo;
# data, logs and pid files live under $PRT_RUNTIME_DIR/kafka. See deploy/local/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
PRT_COMPONENT=kafka # used by log/die in _lib.sh
# shellcheck source-path=SCRIPTDIR
source "$HERE/_lib.sh"

usage() {
  cat <<EOF
usage: $(basename "$0") COMMAND [options]

commands:
  start [--nodes 1|3] [--no-wait]   start every node (resolving the jars first if needed), wait
                                    until the cluster answers, print the bootstrap servers
  start ... --secure                the same with TLS, authentication and ACLs (fixed at the
                                    first start, like --nodes): clients connect over TLS
                                    (SASL_SSL, a CA of the cluster's own) with SCRAM-SHA-512, the
                                    KRaft StandardAuthorizer enforces ACLs, user 'platform' is
                                    the super user, each service (intake, abnormal-push,
                                    remote-eval, reporting) and the operator get a SCRAM user
                                    with the ACLs of services/kafka_access_plan.py, and each
                                    partner in PRT_KAFKA_PARTNERS gets a SCRAM user with prefixed
                                    ACLs (see add-partner)
  stop                              stop every node cleanly (SIGTERM, SIGKILL after ${STOP_TIMEOUT}s)
  status                            each node's pid and ports; exit 0 only if all nodes run
  wait [--timeout SECONDS]          wait until every node answers a Kafka request (default ${WAIT_TIMEOUT}s)
  kill-node N                       SIGKILL node N (fault injection)
  start-node N [--no-wait]          start node N again and wait until it answers
  bootstrap                         print the bootstrap servers string
  topics ARGS...                    run kafka-topics (TopicCommand) against this cluster
  tool CLASS ARGS...                run any Kafka tool class with the cached jars
  reset                             stop, then delete all Kafka data and logs
  add-partner CODE                  (--secure) SCRAM user partner-CODE: read and describe the
                                    topics and groups prefixed partner.CODE., write only
                                    partner.CODE.answers.v1; nothing else
  credentials                       (--secure) print the path of the file with the passwords
  ca                                (--secure) print the path of the CA certificate clients trust

environment:
  PRT_KAFKA_PORT    client port of node 1 (default 19092); node i uses PORT+2(i-1) for clients
                    and the port after that for its controller
  PRT_KAFKA_HEAP    JVM heap options per node (default "-Xms256m -Xmx768m")
  PRT_KAFKA_JVM_OPTS extra JVM options per node
  PRT_RUNTIME_DIR   runtime directory (default <repo>/.run)
  PRT_CACHE_DIR     jar cache (default \$HOME/.cache/jinan-prt)
  PRT_KAFKA_PARTNERS (--secure) partner codes given users at start (default: the partners in
                    services/platform_core/reference_data/venues.json)
  PRT_PYTHON        (--secure) the Python that applies the services' ACLs (default .venv/bin/python)
EOF
}

POM="$HERE/kafka/pom.xml"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")"
[[ -n "$KAFKA_VERSION" ]] || die "no <kafka.version> in $POM"
CACHE_DIR="${PRT_CACHE_DIR:-$HOME/.cache/jinan-prt}"
[[ "$CACHE_DIR" == /* ]] || CACHE_DIR="$PWD/$CACHE_DIR"
KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
LIBS="$KAFKA_HOME/libs"
KAFKA_RUN="$PRT_RUNTIME_DIR/kafka"
LAYOUT_FILE="$KAFKA_RUN/cluster.env"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
WAIT_TIMEOUT=120
STOP_TIMEOUT=30

# ---------------------------------------------------------------------------------------------
# Jars

pom_stamp() { sha256sum "$POM" | cut -d' ' -f1; }

libs_ready() { [[ -f "$LIBS/.complete" && "$(cat "$LIBS/.complete")" == "$(pom_stamp)" ]]; }

# Copies the broker's jars into the cache once; later starts do not run Maven at all.
ensure_libs() {
  libs_ready && return 0
  command -v mvn >/dev/null || die "Maven (mvn) is needed once to fetch the Kafka jars"
  mkdir -p "$KAFKA_HOME"
  exec 9>"$KAFKA_HOME/.lock"
  flock 9 # another kafka.sh may be resolving the same jars right now
  if ! libs_ready; then
    local tmp="$KAFKA_HOME/libs.tmp.$$" mvn_log="$KAFKA_HOME/maven.log"
    log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIBS (log: $mvn_log)"
    rm -rf "$tmp"
    if ! mvn -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
      show_log_tail "$mvn_log" 40
      rm -rf "$tmp"
      die "Maven could not fetch the Kafka jars; see $mvn_log"
    fi
    pom_stamp >"$tmp/.complete"
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
  fi
  exec 9>&-
}

check_java() {
  command -v "$JAVA" >/dev/null || die "java not found (Kafka $KAFKA_VERSION needs Java 17 or newer)"
  local major
  major="$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  [[ "${major%%.*}" =~ ^[0-9]+$ && "${major%%.*}" -ge 17 ]] ||
    die "Kafka $KAFKA_VERSION needs Java 17 or newer; $JAVA is version ${major:-unknown}"
}

# Runs a Kafka command-line tool (a main class) with the cached jars.
run_tool() {
  "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$HERE/kafka/tools-log4j2.xml" \
    -cp "$LIBS/*" "$@"
}

# The KRaft storage tool is Scala code in kafka_2.13 in 4.x; use the Java one if a release has it.
storage_tool_class() {
  if grep -qs 'org/apache/kafka/tools/StorageTool.class' "$LIBS"/kafka-tools-*.jar; then
    echo org.apache.kafka.tools.StorageTool
  else
    echo kafka.tools.StorageTool
  fi
}

# ---------------------------------------------------------------------------------------------
# Cluster layout: how many nodes and which ports. Fixed when the storage is first formatted and
# kept in $LAYOUT_FILE, because a KRaft quorum remembers its controllers' addresses.

NODES=""
BASE_PORT=""
CLUSTER_ID=""
DIRECTORY_IDS=""
SECURE=""

# Kafka's Uuid text form: 16 random bytes, URL-safe base64 without padding, not starting with '-'.
random_kafka_uuid() {
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$id" != -* ]] && break
  done
  printf '%s\n' "$id"
}

# Sets NODES and BASE_PORT from the saved layout or the request ($1 = --nodes value or empty).
resolve_layout() {
  local want_nodes="$1" want_port="${PRT_KAFKA_PORT:-}" want_secure="${2:-}"
  if [[ -f "$LAYOUT_FILE" ]]; then
    # shellcheck disable=SC1090
    source "$LAYOUT_FILE"
    if [[ -n "$want_secure" && "$want_secure" != "${SECURE:-}" ]]; then
      die "$KAFKA_RUN holds a cluster set up without --secure; run '$0 reset' first"
    fi
    if [[ -n "$want_nodes" && "$want_nodes" != "$NODES" ]] ||
      [[ -n "$want_port" && "$want_port" != "$BASE_PORT" ]]; then
      die "$KAFKA_RUN holds a ${NODES}-node cluster on port $BASE_PORT;" \
        "asked for ${want_nodes:-$NODES} node(s) on port ${want_port:-$BASE_PORT}." \
        "Run '$0 reset' first (deletes the local Kafka data)."
    fi
  else
    NODES="${want_nodes:-1}"
    BASE_PORT="${want_port:-19092}"
    SECURE="$want_secure"
  fi
  [[ "$NODES" == 1 || "$NODES" == 3 ]] || die "--nodes must be 1 or 3 (got $NODES)"
  [[ "$BASE_PORT" =~ ^[0-9]+$ ]] || die "PRT_KAFKA_PORT must be a port number (got $BASE_PORT)"
}

save_layout_if_new() {
  [[ -f "$LAYOUT_FILE" ]] && return 0
  mkdir -p "$KAFKA_RUN"
  CLUSTER_ID="$(random_kafka_uuid)"
  DIRECTORY_IDS=""
  local i
  for ((i = 1; i <= NODES; i++)); do DIRECTORY_IDS+="$(random_kafka_uuid) "; done
  DIRECTORY_IDS="${DIRECTORY_IDS% }"
  cat >"$LAYOUT_FILE.tmp" <<EOF
# Written by deploy/local/kafka.sh when the storage was formatted. Delete with 'kafka.sh reset'.
NODES=$NODES
BASE_PORT=$BASE_PORT
CLUSTER_ID=$CLUSTER_ID
DIRECTORY_IDS="$DIRECTORY_IDS"
EOF
  if [[ "$SECURE" == yes ]]; then
    echo "SECURE=yes" >>"$LAYOUT_FILE.tmp"
    new_credentials
  fi
  mv "$LAYOUT_FILE.tmp" "$LAYOUT_FILE"
}

# For every command but start: the layout on disk is the truth, whatever the environment says.
require_layout() {
  [[ -f "$LAYOUT_FILE" ]] || die "no local Kafka set up under $KAFKA_RUN; run '$0 start' first"
  # shellcheck disable=SC1090
  source "$LAYOUT_FILE"
}

client_port() { echo $((BASE_PORT + 2 * ($1 - 1))); }
controller_port() { echo $((BASE_PORT + 2 * ($1 - 1) + 1)); }
node_dir() { echo "$KAFKA_RUN/node-$1"; }

bootstrap_servers() {
  local i servers=""
  for ((i = 1; i <= NODES; i++)); do servers+="127.0.0.1:$(client_port "$i"),"; done
  echo "${servers%,}"
}

controller_servers() {
  local i servers=""
  for ((i = 1; i <= NODES; i++)); do servers+="127.0.0.1:$(controller_port "$i"),"; done
  echo "${servers%,}"
}

node_pid() {
  local dir
  dir="$(node_dir "$1")"
  live_pid "$dir/kafka.pid" kafka.Kafka "$dir/server.properties"
}

check_node_number() {
  [[ "${1:-}" =~ ^[0-9]+$ && "$1" -ge 1 && "$1" -le "$NODES" ]] ||
    die "node must be a number from 1 to $NODES (got '${1:-}')"
}

# ---------------------------------------------------------------------------------------------
# One node: configuration, storage, process

write_server_properties() {
  local i="$1" dir replicas min_isr
  dir="$(node_dir "$i")"
  if ((NODES == 1)); then replicas=1 min_isr=1; else replicas=3 min_isr=2; fi
  mkdir -p "$dir/data" "$dir/logs"
  cat >"$dir/server.properties" <<EOF
# Generated by deploy/local/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=$i
listeners=PLAINTEXT://127.0.0.1:$(client_port "$i"),CONTROLLER://127.0.0.1:$(controller_port "$i")
advertised.listeners=PLAINTEXT://127.0.0.1:$(client_port "$i"),CONTROLLER://127.0.0.1:$(controller_port "$i")
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=$(controller_servers)
log.dirs=$dir/data

# Topics are created explicitly by the project's topic registry, never by a stray client.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=$replicas
min.insync.replicas=$min_isr
unclean.leader.election.enable=false

# Internal topics, sized for this cluster.
offsets.topic.replication.factor=$replicas
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$replicas
transaction.state.log.min.isr=$min_isr
share.coordinator.state.topic.replication.factor=$replicas
share.coordinator.state.topic.min.isr=$min_isr

# Tests start consumer groups all the time: do not wait for more members to join.
group.initial.rebalance.delay.ms=0
EOF
  if [[ "${SECURE:-}" == yes ]]; then secure_server_properties "$dir/server.properties"; fi
}

# Formats node i's KRaft storage unless it already is. Runs in the background (caller waits).
format_node() {
  local i="$1" dir
  dir="$(node_dir "$i")"
  [[ -f "$dir/data/meta.properties" ]] && return 0
  local -a quorum
  if ((NODES == 1)); then
    quorum=(--standalone)
  else
    local -a ids
    read -ra ids <<<"$DIRECTORY_IDS"
    local n voters=""
    for ((n = 1; n <= NODES; n++)); do
      voters+="$n@127.0.0.1:$(controller_port "$n"):${ids[n - 1]},"
    done
    quorum=(--initial-controllers "${voters%,}")
  fi
  local -a scram=()
  if [[ "${SECURE:-}" == yes ]]; then
    # SCRAM credentials live in the cluster metadata: the super user's must exist from the
    # first start, so the broker can authenticate to itself.
    scram=(--add-scram "SCRAM-SHA-512=[name=platform,password=$(credential PLATFORM_PASSWORD)]")
    local user code
    for user in $SERVICE_USERS; do
      scram+=(--add-scram "SCRAM-SHA-512=[name=$user,password=$(credential "$(password_key "$user")")]")
    done
    for code in $(partner_codes_with_users); do
      scram+=(--add-scram "SCRAM-SHA-512=[name=partner-$code,password=$(credential "PARTNER_${code}_PASSWORD")]")
    done
  fi
  if ! run_tool "$(storage_tool_class)" format --cluster-id "$CLUSTER_ID" \
    --config "$dir/server.properties" "${quorum[@]}" "${scram[@]}" >"$dir/logs/format.log" 2>&1; then
    show_log_tail "$dir/logs/format.log"
    die "formatting the storage of node $i failed; see $dir/logs/format.log"
  fi
}

launch_node() {
  local i="$1" dir pid port
  dir="$(node_dir "$i")"
  if pid="$(node_pid "$i")"; then
    log "node $i is already running (pid $pid)"
    return 0
  fi
  for port in "$(client_port "$i")" "$(controller_port "$i")"; do
    port_open "$port" && die "port $port is already taken by another process (not node $i of $KAFKA_RUN)"
  done
  local -a heap jvm_opts
  read -ra heap <<<"${PRT_KAFKA_HEAP:--Xms256m -Xmx768m}"
  read -ra jvm_opts <<<"${PRT_KAFKA_JVM_OPTS:-}"
  rm -f "$dir/kafka.pid"
  # setsid: the broker must not die with the shell or test runner that started it.
  # The inner shell moves into the node's directory, writes its own pid and then becomes java,
  # so the pid file names the broker.
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'cd "$0" && echo $$ >kafka.pid && exec "$@"' "$dir" \
    "$JAVA" "${heap[@]}" -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -XX:+ExitOnOutOfMemoryError -XX:ErrorFile="$dir/logs/hs_err_pid%p.log" \
    -Djava.awt.headless=true "${jvm_opts[@]}" \
    -Dkafka.logs.dir="$dir/logs" -Dlog4j2.configurationFile="$HERE/kafka/log4j2.xml" \
    -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" \
    >"$dir/logs/stdout.log" 2>&1 </dev/null 8>&- 9>&- & # the broker must not inherit our locks
  local tries=0
  until [[ -s "$dir/kafka.pid" ]]; do
    ((++tries > 50)) && die "node $i did not start; see $dir/logs/stdout.log"
    sleep 0.1
  done
  log "node $i started (pid $(cat "$dir/kafka.pid"), client port $(client_port "$i"), controller port $(controller_port "$i"))"
}

# ---------------------------------------------------------------------------------------------
# Readiness: a real Kafka request (ApiVersions via the AdminClient) answered by each node.

ADMIN_CONFIG=""
admin_config() {
  if [[ -z "$ADMIN_CONFIG" ]]; then
    ADMIN_CONFIG="$KAFKA_RUN/admin-probe.properties"
    mkdir -p "$KAFKA_RUN"
    printf '%s\n' request.timeout.ms=5000 default.api.timeout.ms=10000 \
      socket.connection.setup.timeout.ms=2000 >"$ADMIN_CONFIG"
    if [[ "${SECURE:-}" == yes ]]; then platform_client_properties >>"$ADMIN_CONFIG"; fi
  fi
  echo "$ADMIN_CONFIG"
}

# True if every node in the list answers and is an unfenced member of the cluster.
nodes_answer() {
  local i bootstrap="" out
  for i in "$@"; do bootstrap+="127.0.0.1:$(client_port "$i"),"; done
  out="$(run_tool org.apache.kafka.tools.BrokerApiVersionsCommand \
    --bootstrap-server "${bootstrap%,}" --command-config "$(admin_config)" 2>/dev/null)" || return 1
  for i in "$@"; do
    grep -q "^127.0.0.1:$(client_port "$i") (id: $i " <<<"$out" || return 1
  done
}

# Waits until all given nodes answer; fails early if one of their processes exits.
wait_nodes() {
  local timeout="$1"; shift
  local deadline=$((SECONDS + timeout)) i all_open
  while :; do
    all_open=yes
    for i in "$@"; do
      if ! node_pid "$i" >/dev/null; then
        show_log_tail "$(node_dir "$i")/logs/server.log" 15
        show_log_tail "$(node_dir "$i")/logs/stdout.log" 10
        die "node $i is not running; see $(node_dir "$i")/logs/server.log"
      fi
      port_open "$(client_port "$i")" || all_open=no
    done
    if [[ "$all_open" == yes ]] && nodes_answer "$@"; then
      return 0
    fi
    if ((SECONDS >= deadline)); then
      for i in "$@"; do show_log_tail "$(node_dir "$i")/logs/server.log" 15; done
      die "Kafka node(s) $* did not answer within ${timeout}s; logs: $KAFKA_RUN/node-*/logs/server.log"
    fi
    sleep 0.5
  done
}

all_nodes() { seq 1 "$NODES"; }

# One kafka.sh at a time may start, stop or kill nodes (two parallel starts would race for ports).
lock_runtime_dir() {
  mkdir -p "$KAFKA_RUN"
  exec 8>"$KAFKA_RUN/.lock"
  flock 8
}

# ---------------------------------------------------------------------------------------------
# Secure mode (--secure): SASL/SCRAM-SHA-512 for clients, StandardAuthorizer, partner users

CREDENTIALS_FILE="$KAFKA_RUN/secure/credentials.env"

random_password() { head -c 24 /dev/urandom | base64 | tr -d '+/=\n'; }

# The services' and the operator's users; their ACLs are services/kafka_access_plan.py's.
SERVICE_USERS="intake abnormal-push remote-eval reporting operator"
PYTHON="${PRT_PYTHON:-$PRT_REPO_ROOT/.venv/bin/python}"

# A user's line in the credentials file: remote-eval -> REMOTE_EVAL_PASSWORD.
password_key() { local key="${1^^}"; printf '%s_PASSWORD\n' "${key//-/_}"; }

# The passwords are secrets: kept in a 0600 file under the runtime directory, never printed.
new_credentials() {
  mkdir -p "$KAFKA_RUN/secure"
  chmod 700 "$KAFKA_RUN/secure"
  (
    umask 077
    printf 'PLATFORM_PASSWORD=%s\nCONTROLLER_PASSWORD=%s\n' "$(random_password)" \
      "$(random_password)" >"$CREDENTIALS_FILE"
    local user code
    for user in $SERVICE_USERS; do
      printf '%s=%s\n' "$(password_key "$user")" "$(random_password)" >>"$CREDENTIALS_FILE"
    done
    for code in $(default_partner_codes); do
      check_partner_code "$code"
      printf 'PARTNER_%s_PASSWORD=%s\n' "$code" "$(random_password)" >>"$CREDENTIALS_FILE"
    done
  )
}

# TLS for the client listener: a CA of this cluster's own and a broker certificate it signed,
# valid for 127.0.0.1 and localhost (every node listens there). Clients trust the CA
# (TLS_CA_FILE: PRT_KAFKA_SSL_CAFILE for the platform, `ca` prints its path for partners).
TLS_DIR="$KAFKA_RUN/secure/tls"
TLS_CA_FILE="$TLS_DIR/ca.pem"
TLS_KEYSTORE="$TLS_DIR/broker-keystore.pem"

ensure_tls() {
  [[ -f "$TLS_CA_FILE" && -f "$TLS_KEYSTORE" ]] && return 0
  command -v openssl >/dev/null || die "openssl is needed to make the secured broker's certificates"
  mkdir -p "$TLS_DIR"
  chmod 700 "$TLS_DIR"
  local out="$TLS_DIR/openssl.log"
  (
    umask 077
    cd "$TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=jinan-prt local Kafka CA" \
      -keyout ca.key -out ca.pem
    openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" -keyout broker.key -out broker.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >broker.ext
    openssl x509 -req -sha256 -days 825 -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
      -extfile broker.ext -out broker.pem
    # Kafka's PEM keystore: the (unencrypted PKCS#8) key, then the certificate chain.
    cat broker.key broker.pem ca.pem >broker-keystore.pem
    rm -f broker.csr broker.ext
  ) >"$out" 2>&1 || { show_log_tail "$out"; die "making the TLS certificates failed; see $out"; }
  chmod 644 "$TLS_CA_FILE"  # the CA certificate is public: partners get it
}

credential() {
  local value
  value="$(sed -n "s/^$1=//p" "$CREDENTIALS_FILE" 2>/dev/null | tail -n 1)"
  [[ -n "$value" ]] || die "no $1 in $CREDENTIALS_FILE"
  printf '%s\n' "$value"
}

secure_server_properties() {
  local file="$1" controller_password
  controller_password="$(credential CONTROLLER_PASSWORD)"
  ensure_tls
  sed -i -e 's|^listeners=PLAINTEXT://|listeners=SASL_SSL://|' \
    -e 's|^advertised.listeners=PLAINTEXT://|advertised.listeners=SASL_SSL://|' \
    -e 's|^listener.security.protocol.map=.*|listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT|' \
    -e 's|^inter.broker.listener.name=PLAINTEXT|inter.broker.listener.name=SASL_SSL|' "$file"
  cat >>"$file" <<EOF

# Secure mode: clients connect over TLS, authenticate with SCRAM-SHA-512, and every request is
# authorised by ACLs.
ssl.keystore.type=PEM
ssl.keystore.location=$TLS_KEYSTORE
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_CA_FILE
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="platform" password="$(credential PLATFORM_PASSWORD)";
# SCRAM cannot authenticate controllers (its credentials live in the metadata they serve), so
# the controller listener uses PLAIN with one static user known only to the nodes.
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="$controller_password" user_controller="$controller_password";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:platform;User:controller
EOF
  chmod 600 "$file"
}

platform_client_properties() {
  printf '%s\n' security.protocol=SASL_SSL ssl.truststore.type=PEM "ssl.truststore.location=$TLS_CA_FILE" \
    sasl.mechanism=SCRAM-SHA-512 \
    "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"platform\" password=\"$(credential PLATFORM_PASSWORD)\";"
}

platform_client_config() {
  local file="$KAFKA_RUN/secure/platform-client.properties"
  (umask 077 && platform_client_properties >"$file")
  echo "$file"
}

# The default partners: PRT_KAFKA_PARTNERS, or every partner of the reference data.
default_partner_codes() {
  local codes="${PRT_KAFKA_PARTNERS:-}"
  if [[ -z "$codes" ]]; then
    codes="$(sed -n 's/^ *{"code": "\([0-9A-Za-z]*\)", "name".*"kind".*/\1/p' \
      "$PRT_REPO_ROOT/services/platform_core/reference_data/venues.json" | tr '\n' ' ')"
  fi
  echo "$codes"
}

# A partner code names the partner's user, topics and credentials line: keep it to those.
check_partner_code() {
  [[ "$1" =~ ^[0-9A-Za-z_-]+$ ]] || die "partner code must be letters, digits, - or _ (got '$1')"
}

# The partners that have a user: those with a password in the credentials file.
partner_codes_with_users() { sed -n 's/^PARTNER_\(.*\)_PASSWORD=.*/\1/p' "$CREDENTIALS_FILE"; }

# A SCRAM user made on a running cluster (one JVM start each: the users known at the first start
# are written into the metadata at format instead). $1 user, $2 the credentials file's key.
add_scram_user() {
  local user="$1" key="$2" password
  password="$(random_password)"
  (umask 077 && echo "$key=$password" >>"$CREDENTIALS_FILE")
  run_tool kafka.admin.ConfigCommand --bootstrap-server "$(bootstrap_servers)" \
    --command-config "$(platform_client_config)" --alter --entity-type users --entity-name "$user" \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=$password]" >/dev/null
}

# Users missing from a running cluster: a cluster first started before the service users
# existed, or a partner added since the first start.
ensure_users() {
  local user code key
  for user in $SERVICE_USERS; do
    key="$(password_key "$user")"
    grep -q "^$key=" "$CREDENTIALS_FILE" && continue
    add_scram_user "$user" "$key"
    log "service user $user added to an existing cluster"
  done
  for code in "$@"; do
    check_partner_code "$code"
    grep -q "^PARTNER_${code}_PASSWORD=" "$CREDENTIALS_FILE" && continue
    add_scram_user "partner-$code" "PARTNER_${code}_PASSWORD"
    log "partner user partner-$code added"
  done
}

# Every user's ACLs, from the plan in services/kafka_access_plan.py, in one CreateAcls request:
# the services' and the operator's, and each partner's (read and describe its own topics and
# consumer groups, prefix partner.CODE., write only partner.CODE.answers.v1). Created again at
# every start (creating one the broker has changes nothing), so a plan that grew reaches an
# existing cluster.
apply_acls() {
  [[ -x "$PYTHON" ]] || die "no Python environment at $PYTHON for the ACLs; run deploy/bootstrap.sh first"
  local out
  # shellcheck disable=SC2046 # partner codes, split on purpose
  if ! out="$(cd "$PRT_REPO_ROOT" && PRT_KAFKA_BOOTSTRAP_SERVERS="$(bootstrap_servers)" \
    PRT_KAFKA_SECURITY_PROTOCOL=SASL_SSL PRT_KAFKA_SSL_CAFILE="$TLS_CA_FILE" PRT_KAFKA_SASL_USERNAME=platform \
    PRT_KAFKA_SASL_PASSWORD="$(credential PLATFORM_PASSWORD)" \
    "$PYTHON" -m services.kafka_access_plan apply --partners $(partner_codes_with_users) 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "applying the ACLs failed"
  fi
  log "ACLs: ${out##*$'\n'} (passwords in $CREDENTIALS_FILE)"
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_start() {
  local nodes="" wait=yes secure=""
  while (($#)); do
    case "$1" in
      --nodes) nodes="${2:?--nodes needs a value}"; shift 2 ;;
      --nodes=*) nodes="${1#*=}"; shift ;;
      --no-wait) wait=no; shift ;;
      --secure) secure=yes; shift ;;
      *) die "start: unknown option $1" ;;
    esac
  done
  lock_runtime_dir
  resolve_layout "$nodes" "$secure"
  check_java
  ensure_libs
  save_layout_if_new
  # shellcheck disable=SC1090
  source "$LAYOUT_FILE"

  local i
  local -a format_jobs=()
  for i in $(all_nodes); do
    write_server_properties "$i"
    if ! node_pid "$i" >/dev/null && [[ ! -f "$(node_dir "$i")/data/meta.properties" ]]; then
      format_node "$i" &
      format_jobs+=($!)
    fi
  done
  ((${#format_jobs[@]} == 0)) || log "formatting KRaft storage (cluster id $CLUSTER_ID)"
  local job
  for job in "${format_jobs[@]}"; do wait "$job" || exit 1; done

  for i in $(all_nodes); do launch_node "$i"; done
  if [[ "$wait" == yes ]]; then
    # shellcheck disable=SC2046 # node numbers, split on purpose
    wait_nodes "$WAIT_TIMEOUT" $(all_nodes)
    log "Kafka $KAFKA_VERSION is ready ($NODES node(s)); bootstrap servers: $(bootstrap_servers)"
    if [[ "${SECURE:-}" == yes ]]; then
      # shellcheck disable=SC2046 # partner codes, split on purpose
      ensure_users $(default_partner_codes)
      apply_acls
    fi
  else
    log "bootstrap servers: $(bootstrap_servers)"
  fi
}

cmd_start_node() {
  local node="${1:-}" wait=yes
  shift || true
  [[ "${1:-}" == --no-wait ]] && wait=no
  require_layout
  lock_runtime_dir
  check_node_number "$node"
  [[ -f "$(node_dir "$node")/data/meta.properties" ]] || die "node $node was never formatted; use '$0 start'"
  ensure_libs
  write_server_properties "$node"
  launch_node "$node"
  if [[ "$wait" == yes ]]; then
    wait_nodes "$WAIT_TIMEOUT" "$node"
    log "node $node is ready on 127.0.0.1:$(client_port "$node")"
  fi
}

cmd_kill_node() {
  local node="${1:-}" pid
  require_layout
  lock_runtime_dir
  check_node_number "$node"
  if ! pid="$(node_pid "$node")"; then
    log "node $node is not running"
    return 0
  fi
  kill -KILL "$pid"
  wait_for_exit "$pid" 10 || die "node $node (pid $pid) survived SIGKILL"
  rm -f "$(node_dir "$node")/kafka.pid"
  log "node $node killed (SIGKILL, pid $pid)"
}

cmd_stop() {
  if [[ ! -f "$LAYOUT_FILE" ]]; then
    log "not running (nothing under $KAFKA_RUN)"
    return 0
  fi
  require_layout
  lock_runtime_dir
  local i pid
  local -a pids=() stopped=()
  for i in $(all_nodes); do
    if pid="$(node_pid "$i")"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid") stopped+=("$i")
    fi
  done
  if ((${#pids[@]} == 0)); then
    log "not running"
    return 0
  fi
  local grace="$STOP_TIMEOUT"
  if ((${#pids[@]} <= NODES / 2)); then
    # A broker's clean shutdown needs an active controller, and without a majority of the
    # controllers there is none: it would only hang until the SIGKILL. Don't wait long.
    grace=5
    log "only node(s) ${stopped[*]} of $NODES running: no controller quorum, so no clean shutdown is possible"
  fi
  log "stopping node(s) ${stopped[*]} (SIGTERM, up to ${grace}s for a clean shutdown)"
  local deadline=$((SECONDS + grace))
  for pid in "${pids[@]}"; do
    if ! wait_for_exit "$pid" $((deadline > SECONDS ? deadline - SECONDS : 0)); then
      warn "pid $pid did not stop in time; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait_for_exit "$pid" 10 || warn "pid $pid is still there after SIGKILL"
    fi
  done
  for i in "${stopped[@]}"; do rm -f "$(node_dir "$i")/kafka.pid"; done
  log "stopped"
}

cmd_status() {
  if [[ ! -f "$LAYOUT_FILE" ]]; then
    log "not set up (no $LAYOUT_FILE); Kafka $KAFKA_VERSION"
    return 3
  fi
  require_layout
  local i pid running=0
  log "Kafka $KAFKA_VERSION, $NODES node(s), cluster id $CLUSTER_ID, data in $KAFKA_RUN"
  for i in $(all_nodes); do
    if pid="$(node_pid "$i")"; then
      running=$((running + 1))
      printf 'node %s: running  pid %-7s client 127.0.0.1:%s  controller 127.0.0.1:%s\n' \
        "$i" "$pid" "$(client_port "$i")" "$(controller_port "$i")"
    else
      printf 'node %s: stopped  pid -       client 127.0.0.1:%s  controller 127.0.0.1:%s\n' \
        "$i" "$(client_port "$i")" "$(controller_port "$i")"
    fi
  done
  echo "bootstrap servers: $(bootstrap_servers)"
  ((running == NODES)) || return 3
}

cmd_wait() {
  local timeout="$WAIT_TIMEOUT"
  while (($#)); do
    case "$1" in
      --timeout) timeout="${2:?--timeout needs seconds}"; shift 2 ;;
      --timeout=*) timeout="${1#*=}"; shift ;;
      *) die "wait: unknown option $1" ;;
    esac
  done
  require_layout
  libs_ready || die "the Kafka jars are not in $LIBS yet; run '$0 start'"
  # shellcheck disable=SC2046 # node numbers, split on purpose
  wait_nodes "$timeout" $(all_nodes)
  log "ready; bootstrap servers: $(bootstrap_servers)"
}

cmd_reset() {
  cmd_stop
  rm -rf "$KAFKA_RUN"
  log "deleted $KAFKA_RUN"
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    start) cmd_start "$@" ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    wait) cmd_wait "$@" ;;
    kill-node) cmd_kill_node "$@" ;;
    start-node) cmd_start_node "$@" ;;
    bootstrap)
      if [[ -f "$LAYOUT_FILE" ]]; then require_layout; else resolve_layout ""; fi
      bootstrap_servers
      ;;
    topics)
      require_layout && ensure_libs
      run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$(bootstrap_servers)" "$@"
      ;;
    tool)
      ensure_libs
      [[ $# -ge 1 ]] || die "tool: give a main class, e.g. org.apache.kafka.tools.TopicCommand"
      run_tool "$@"
      ;;
    reset) cmd_reset ;;
    add-partner)
      require_layout && ensure_libs
      [[ "${SECURE:-}" == yes ]] || die "add-partner needs a cluster started with --secure"
      ensure_users "${1:?add-partner needs a partner code}"
      apply_acls
      ;;
    credentials)
      require_layout
      [[ "${SECURE:-}" == yes ]] || die "not a --secure cluster"
      echo "$CREDENTIALS_FILE"
      ;;
    ca)
      require_layout
      [[ "${SECURE:-}" == yes ]] || die "not a --secure cluster"
      ensure_tls
      echo "$TLS_CA_FILE"
      ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
