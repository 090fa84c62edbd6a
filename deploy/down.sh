#!/usr/bin/env bash
# Stops everything deploy/up.sh started; data stays under .run/ for the next start.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
bash deploy/local/services.sh stop
bash deploy/local/kafka.sh stop
bash deploy/local/redis.sh stop
