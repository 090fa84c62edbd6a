#!/usr/bin/env bash
# The whole test suite: static checks (ruff, mypy, contract lint and freshness), then pytest
# against a real Kafka broker and Redis started on test ports of their own.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
say() { printf '\n== %s\n' "$*"; }

if [[ "${1:-}" == "--stop" ]]; then
  # The test stack a developer's selection left running (below), stopped and its data deleted.
  export PRT_KAFKA_PORT="${PRT_TEST_KAFKA_PORT:-29092}" PRT_REDIS_PORT="${PRT_TEST_REDIS_PORT:-26379}"
  export PRT_RUNTIME_DIR="$ROOT/.run/test-$PRT_KAFKA_PORT"
  bash deploy/local/kafka.sh stop || true
  bash deploy/local/redis.sh stop || true
  rm -rf "$PRT_RUNTIME_DIR"
  echo "test stack on $PRT_KAFKA_PORT/$PRT_REDIS_PORT stopped; $PRT_RUNTIME_DIR deleted"
  exit 0
fi

bash deploy/bootstrap.sh
PY=.venv/bin/python

say "ruff"
$PY -m ruff check services tests bench deploy
$PY -m ruff format --check services tests bench deploy
say "mypy (strict)"
$PY -m mypy
say "protobuf contracts: generated code fresh, buf lint and format, buf breaking"
$PY proto/generate.py --check
npx --no-install buf lint proto
npx --no-install buf format --diff --exit-code proto
# What the contracts are checked against (deploy/contract_baseline.sh): on main its previous
# commit, elsewhere where the branch left main (or origin/main). It fails when there is none,
# except in a repository of a single commit, where nothing came before.
baseline="$(bash deploy/contract_baseline.sh)"
if [[ -n "$baseline" ]]; then
  if git cat-file -e "$baseline:proto/buf.yaml" 2>/dev/null; then
    echo "buf breaking against $baseline"
    npx --no-install buf breaking proto --against ".git#ref=$baseline,subdir=proto"
  else
    echo "buf breaking: $baseline has no proto/ yet; every contract is new"
  fi
fi

export PRT_KAFKA_PORT="${PRT_TEST_KAFKA_PORT:-29092}" PRT_REDIS_PORT="${PRT_TEST_REDIS_PORT:-26379}"
# The same runtime directory tests/conftest.py uses for this port.
export PRT_RUNTIME_DIR="$ROOT/.run/test-$PRT_KAFKA_PORT"
export PRT_TEST_KAFKA_PORT="$PRT_KAFKA_PORT" PRT_TEST_REDIS_PORT="$PRT_REDIS_PORT"
# The partner and service ACL matrices run on a secured broker of their own (the test port +
# 700; about 35 s with its start).
export PRT_FAULTS_SECURE=1
stop_stack() {
  bash deploy/local/kafka.sh stop >/dev/null || true
  bash deploy/local/redis.sh stop >/dev/null || true
}
fresh_stack() {
  stop_stack
  rm -rf "$PRT_RUNTIME_DIR"
  bash deploy/local/redis.sh start
  bash deploy/local/kafka.sh start
}
trap stop_stack EXIT

if (($# > 0)); then
  # A developer's selection: one pytest run on the test stack as it is (started if needed),
  # left running for the next selection; `bash deploy/test.sh --stop` stops and deletes it
  # (a full run elsewhere on this machine needs its ports, and its data only grows).
  say "pytest $*"
  bash deploy/local/redis.sh start
  bash deploy/local/kafka.sh start
  exec $PY -m pytest "$@"
fi

# The whole suite, one pytest run per service on a fresh broker and Redis each. The services'
# workers share consumer groups and topics on a stack, so one suite's leftover backlog (the
# fault suite's fuzzed reports, a 100,000-record import) must not be another suite's input.
SUITES=(
  "unit|tests/unit"
  "platform|tests/integration/test_readiness.py tests/integration/test_api_keys.py tests/integration/test_caller_route.py tests/integration/test_dead_letter_redrive.py tests/integration/test_dead_letters.py tests/integration/test_idempotency_after_crash.py tests/integration/test_production_secrets.py tests/integration/test_publisher.py tests/integration/test_redis_lease.py tests/integration/test_redis_pipelining.py tests/integration/test_service_principals.py tests/integration/test_stream_retries.py tests/e2e/test_registration_reaches_reporting.py"
  "intake|tests/integration/intake tests/e2e/intake"
  "abnormal_push|tests/integration/abnormal_push tests/e2e/abnormal_push"
  "remote_eval|tests/integration/remote_eval tests/e2e/remote_eval"
  "reporting|tests/integration/reporting tests/e2e/reporting"
  "demo|tests/e2e/demo"
  "faults|tests/faults"
)
REPORTS="$PRT_RUNTIME_DIR-reports"
rm -rf "$REPORTS" && mkdir -p "$REPORTS"
failed_suites=()
for suite in "${SUITES[@]}"; do
  IFS='|' read -r name paths <<<"$suite"
  say "pytest: $name (fresh Kafka on $PRT_KAFKA_PORT, Redis on $PRT_REDIS_PORT)"
  [[ "$name" == unit ]] || fresh_stack
  # shellcheck disable=SC2086 # paths is a list of words
  if ! $PY -m pytest -q -p no:cacheprovider --junitxml="$REPORTS/$name.xml" $paths; then
    failed_suites+=("$name")
  fi
done

say "summary"
$PY deploy/test_summary.py "$REPORTS"/*.xml
if ((${#failed_suites[@]} > 0)); then
  echo "failed suites: ${failed_suites[*]}"
  exit 1
fi
