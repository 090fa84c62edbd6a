#!/usr/bin/env bash
# The whole test suite: static checks (ruff, mypy, contract lint and freshness), then pytest
# against a real Kafka broker and Redis started on test ports of their own.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
say() { printf '\n== %s\n' "$*"; }

bash deploy/bootstrap.sh
PY=.venv/bin/python

say "ruff"
$PY -m ruff check services tests bench deploy
$PY -m ruff format --check services tests bench deploy
say "mypy (strict)"
$PY -m mypy
say "protobuf contracts: generated code fresh, buf lint, buf breaking against main"
$PY proto/generate.py --check
npx --no-install buf lint proto
if git rev-parse --verify -q main >/dev/null && git cat-file -e main:proto/buf.yaml 2>/dev/null; then
  npx --no-install buf breaking proto --against ".git#branch=main,subdir=proto"
fi

export PRT_KAFKA_PORT="${PRT_TEST_KAFKA_PORT:-29092}" PRT_REDIS_PORT="${PRT_TEST_REDIS_PORT:-26379}"
# The same runtime directory tests/conftest.py uses for this port.
export PRT_RUNTIME_DIR="$ROOT/.run/test-$PRT_KAFKA_PORT"
export PRT_TEST_KAFKA_PORT="$PRT_KAFKA_PORT" PRT_TEST_REDIS_PORT="$PRT_REDIS_PORT"
cleanup() {
  bash deploy/local/kafka.sh stop || true
  bash deploy/local/redis.sh stop || true
}
trap cleanup EXIT
say "test stack: Kafka on $PRT_KAFKA_PORT, Redis on $PRT_REDIS_PORT"
bash deploy/local/redis.sh start
bash deploy/local/kafka.sh start

say "pytest"
$PY -m pytest "$@"
