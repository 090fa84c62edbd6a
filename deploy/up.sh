#!/usr/bin/env bash
# Brings up the whole system on this machine, with demo data: Kafka (KRaft) and Redis started by
# the project's own scripts, every service's API and stream worker, then the demo half-year,
# driven through the public APIs as the departments would.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

bash deploy/bootstrap.sh
bash deploy/local/redis.sh start
# PRT_KAFKA_SECURE=1: a secured broker (SCRAM, ACLs), each service as its own Kafka user.
kafka_mode=()
[[ "${PRT_KAFKA_SECURE:-}" == 1 ]] && kafka_mode=(--secure)
bash deploy/local/kafka.sh start "${kafka_mode[@]}"
bash deploy/local/services.sh start
.venv/bin/python deploy/demo/half_year.py

cat <<MSG

The stack is up. Logs: .run/logs/ (services), .run/kafka/, .run/redis/.
  intake            http://127.0.0.1:${PRT_INTAKE_PORT:-8101}/docs
  abnormal push     http://127.0.0.1:${PRT_ABNORMAL_PUSH_PORT:-8102}/docs
  remote evaluation http://127.0.0.1:${PRT_REMOTE_EVAL_PORT:-8103}/docs
  reporting         http://127.0.0.1:${PRT_REPORTING_PORT:-8104}/docs (dashboard: the URL above)
Stop it with: make down
MSG
