#!/usr/bin/env bash
# The fault suite (issue 8), with its figures: schemathesis against every service's API (0 5xx,
# every refusal in the shared error format), the authorisation matrix (every route × every kind
# of caller; table in .run/faults/authorisation-matrix.tsv) and broker failure on a 3-node KRaft
# cluster of its own (leader kills; 2 of 3 nodes down; every acknowledged registration in the log
# exactly once), worker failure (10 SIGKILLs of the four stream workers during 100,000 writes
# through the APIs; every projection equal to its rebuild from the log), a Redis outage under
# load (docs/redis-outage.md: 503 + Retry-After, nothing lost or doubled), and every partner,
# service and operator principal against every topic of the registry on a broker with ACLs on
# (kafka.sh --secure, on PRT_FAULTS_SECURE_KAFKA_PORT, default the test port + 700, clear of the
# cluster's ports). The whole run takes about 45 minutes on 2 cores, most of it the 100,000
# writes (37 minutes alone on 2026-12-03, with the replay checks); extra arguments go to pytest.
# One table of every figure closes the run (also in .run/faults/figures.tsv).
#
#   bash deploy/faults.sh                      # the whole suite
#   bash deploy/faults.sh -k matrix            # one part
#
# Ports: the single-node test stack on PRT_TEST_KAFKA_PORT / PRT_TEST_REDIS_PORT (as deploy/test.sh),
# the 3-node cluster from PRT_FAULTS_KAFKA_PORT (nodes use it, +2, +4 and the ports after them).
# Knobs: PRT_FUZZ_EXAMPLES (cases per operation and caller, default 25), PRT_FAULTS_KILLS
# (leader kills, default 3), PRT_FAULTS_BELOW_MIN_ISR_S (seconds with 2 of 3 nodes down, default
# 25; 0 skips that round), PRT_FAULTS_WORKER_EVENTS (writes of the worker-failure run, default
# here 100000; 2000 in make test), PRT_FAULTS_WORKER_KILLS (default 10), PRT_FAULTS_SEED (the
# kill moments; printed), PRT_FAULTS_OUTAGE_EVENTS / PRT_FAULTS_OUTAGE_S (Redis outage: writes,
# default here 4000, and seconds Redis is stopped, default here 20). PRT_FAULTS_KEEP=1 leaves the brokers and Redis running afterwards.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

export PRT_TEST_KAFKA_PORT="${PRT_TEST_KAFKA_PORT:-29092}" PRT_TEST_REDIS_PORT="${PRT_TEST_REDIS_PORT:-26379}"
export PRT_FAULTS_KAFKA_PORT="${PRT_FAULTS_KAFKA_PORT:-29692}"
export PRT_FAULTS_CLUSTER=1 PRT_FAULTS_SECURE=1
export PRT_FAULTS_SECURE_KAFKA_PORT="${PRT_FAULTS_SECURE_KAFKA_PORT:-$((PRT_TEST_KAFKA_PORT + 700))}"
export PRT_FAULTS_WORKER_EVENTS="${PRT_FAULTS_WORKER_EVENTS:-100000}"
export PRT_FAULTS_OUTAGE_EVENTS="${PRT_FAULTS_OUTAGE_EVENTS:-4000}" PRT_FAULTS_OUTAGE_S="${PRT_FAULTS_OUTAGE_S:-20}"

stop_stacks() {
  [[ "${PRT_FAULTS_KEEP:-}" == 1 ]] && return 0
  PRT_RUNTIME_DIR="$ROOT/.run/faults-$PRT_FAULTS_KAFKA_PORT" PRT_KAFKA_PORT="$PRT_FAULTS_KAFKA_PORT" \
    bash deploy/local/kafka.sh stop || true
  PRT_RUNTIME_DIR="$ROOT/.run/test-secure-$PRT_FAULTS_SECURE_KAFKA_PORT" \
    PRT_KAFKA_PORT="$PRT_FAULTS_SECURE_KAFKA_PORT" bash deploy/local/kafka.sh stop || true
  export PRT_RUNTIME_DIR="$ROOT/.run/test-$PRT_TEST_KAFKA_PORT"
  PRT_KAFKA_PORT="$PRT_TEST_KAFKA_PORT" bash deploy/local/kafka.sh stop || true
  PRT_REDIS_PORT="$PRT_TEST_REDIS_PORT" bash deploy/local/redis.sh stop || true
}
trap stop_stacks EXIT

# A fresh single-node stack, as make test gives each suite: the worker and outage parts compare
# every projection with its rebuild from the log, which holds only if this code wrote all of it
# (a stack left by older code keeps projections of an older shape).
PRT_FAULTS_KEEP='' stop_stacks
rm -rf "$ROOT/.run/test-$PRT_TEST_KAFKA_PORT" "$ROOT/.run/test-secure-$PRT_FAULTS_SECURE_KAFKA_PORT"
unset PRT_RUNTIME_DIR

printf '== fault suite: test stack Kafka %s / Redis %s, 3-node cluster from %s, secured broker %s\n' \
  "$PRT_TEST_KAFKA_PORT" "$PRT_TEST_REDIS_PORT" "$PRT_FAULTS_KAFKA_PORT" "$PRT_FAULTS_SECURE_KAFKA_PORT"
.venv/bin/python -m pytest tests/faults -s -p no:cacheprovider -W ignore::DeprecationWarning "$@"
