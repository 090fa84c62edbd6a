#!/usr/bin/env bash
# Brings up the whole system on this machine, with demo data: Kafka (KRaft) and Redis started by
# the project's own scripts, every service's API and stream worker, then the demo half-year,
# driven through the public APIs as the departments would.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
PRT_COMPONENT=up
# shellcheck source=deploy/local/_lib.sh
source deploy/local/_lib.sh
PYTHON="${PRT_PYTHON:-$ROOT/.venv/bin/python}"

bash deploy/bootstrap.sh
bash deploy/local/redis.sh start
# PRT_KAFKA_SECURE=1: a secured broker (SCRAM, ACLs), each service as its own Kafka user.
kafka_mode=()
[[ "${PRT_KAFKA_SECURE:-}" == 1 ]] && kafka_mode=(--secure)
bash deploy/local/kafka.sh start "${kafka_mode[@]}"
bash deploy/local/services.sh start
# The demo on this stack: its keys in this Redis, its requests to these APIs (PRT_*_PORT).
export_platform_addresses
"$PYTHON" deploy/demo/half_year.py --intake "$(api_url intake)" \
  --abnormal "$(api_url abnormal-push)" --remote-eval "$(api_url remote-eval)" \
  --reporting "$(api_url reporting)"

cat <<MSG

The stack is up. Logs: $PRT_RUNTIME_DIR/logs/ (services), $PRT_RUNTIME_DIR/kafka/, $PRT_RUNTIME_DIR/redis/.
  intake            $(api_url intake)/docs
  abnormal push     $(api_url abnormal-push)/docs
  remote evaluation $(api_url remote-eval)/docs
  reporting         $(api_url reporting)/docs (dashboard: the URL above)
Stop it with: make down
MSG
