#!/usr/bin/env bash
# The platform's own processes for the local stack: each service's HTTP API under uvicorn and
# each stream worker under Faust, as separate background processes with pid and log files under
# $PRT_RUNTIME_DIR/services. Kafka and Redis are started by kafka.sh and redis.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
PRT_COMPONENT=services
# shellcheck source-path=SCRIPTDIR
source "$HERE/_lib.sh"

PYTHON="${PRT_PYTHON:-$PRT_REPO_ROOT/.venv/bin/python}"
RUN_DIR="$PRT_RUNTIME_DIR/services"
LOG_DIR="$PRT_RUNTIME_DIR/logs"
# The demo replays a half-year of history: a push it routes while telling the projects' stories
# is signed for at the end, up to a minute or more later (with 60 s a push signed for in time
# was sometimes judged overdue first). Judge replayed pushes' deadlines three minutes after
# their last step, not after the production grace (600 s).
export PRT_ABNORMAL_PUSH_BACKFILL_SETTLE_S="${PRT_ABNORMAL_PUSH_BACKFILL_SETTLE_S:-180}"
# Likewise intake's 容缺 watch breaches a deadline of history being entered (long past when it
# first finds it) a minute after, not after the production grace (600 s): the demo's 2023
# stories post their 补正 within seconds, a person typing one in by hand within a minute or so.
export PRT_INTAKE_BACKFILL_SETTLE_S="${PRT_INTAKE_BACKFILL_SETTLE_S:-60}"

# name | port (empty for workers) | python -m arguments
SERVICES=(
  "intake-api|${PRT_INTAKE_PORT:-8101}|uvicorn services.intake.http_api.app:app"
  "abnormal-push-api|${PRT_ABNORMAL_PUSH_PORT:-8102}|uvicorn services.abnormal_push.http_api.app:app"
  "remote-eval-api|${PRT_REMOTE_EVAL_PORT:-8103}|uvicorn services.remote_eval.http_api.app:app"
  "reporting-api|${PRT_REPORTING_PORT:-8104}|uvicorn services.reporting.http_api:app"
  "reporting-worker||services.reporting.stream_worker"
  "remote-eval-worker||services.remote_eval.stream_worker"
  "abnormal-push-worker||services.abnormal_push.stream_worker"
  "intake-worker||services.intake.stream_worker"
)

usage() {
  echo "usage: $(basename "$0") start|stop|status"
}

# On a secured broker (kafka.sh start --secure) each process connects as its own service's user
# (intake-api and intake-worker as intake, ...), with only that user's ACLs
# (services/kafka_access_plan.py); the password comes from kafka.sh's credentials file.
KAFKA_LAYOUT="$PRT_RUNTIME_DIR/kafka/cluster.env"
KAFKA_CREDENTIALS="$PRT_RUNTIME_DIR/kafka/secure/credentials.env"
KAFKA_CA_FILE="$PRT_RUNTIME_DIR/kafka/secure/tls/ca.pem"  # kafka.sh ca
kafka_is_secure() { grep -qx 'SECURE=yes' "$KAFKA_LAYOUT" 2>/dev/null; }

kafka_user_of() { local user="${1%-api}"; echo "${user%-worker}"; }

kafka_password_of() {
  local key="${1^^}" password
  key="${key//-/_}_PASSWORD"
  password="$(sed -n "s/^$key=//p" "$KAFKA_CREDENTIALS" 2>/dev/null | tail -n 1)"
  [[ -n "$password" ]] || die "the broker is secured but $KAFKA_CREDENTIALS has no $key"
  echo "$password"
}

start_one() {
  local name="$1" port="$2" module="$3" pid_file="$RUN_DIR/$1.pid" log_file="$LOG_DIR/$1.log"
  if live_pid "$pid_file" "$PYTHON" >/dev/null; then
    log "$name already running"
    return 0
  fi
  local args
  read -r -a args <<<"$module"
  if [[ -n "$port" ]]; then
    port_open "$port" && die "port $port for $name is taken by another process"
    # uvicorn's graceful shutdown waits for the requests in flight; a write waiting for Redis to
    # come back (to record its outcome, up to 10 min) would hold it until stop's SIGKILL. (The
    # dashboard's event stream is ended by sse-starlette on shutdown: measured, 0.2 s.)
    args+=(--host 127.0.0.1 --port "$port" --timeout-graceful-shutdown 10)
  fi
  local user="" password=""
  if kafka_is_secure; then
    user="$(kafka_user_of "$name")"
    password="$(kafka_password_of "$user")"
  fi
  (
    cd "$PRT_REPO_ROOT"
    if [[ -n "$user" ]]; then  # exported, not on a command line: ps shows no password
      export PRT_KAFKA_SECURITY_PROTOCOL=SASL_SSL PRT_KAFKA_SSL_CAFILE="$KAFKA_CA_FILE"
      export PRT_KAFKA_SASL_USERNAME="$user"
      export PRT_KAFKA_SASL_PASSWORD="$password"
    fi
    exec nohup "$PYTHON" -m "${args[@]}" >>"$log_file" 2>&1
  ) &
  echo $! >"$pid_file"
  log "started $name (pid $!, log $log_file${user:+, Kafka user $user})"
}

wait_healthy() {
  local name="$1" port="$2" waited=0
  [[ -n "$port" ]] || return 0
  until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
    if ! live_pid "$RUN_DIR/$name.pid" "$PYTHON" >/dev/null; then
      show_log_tail "$LOG_DIR/$name.log"
      die "$name exited during start"
    fi
    ((waited >= 600)) && { show_log_tail "$LOG_DIR/$name.log"; die "$name not healthy after 60s"; }
    sleep 0.1
    waited=$((waited + 1))
  done
  log "$name answers on http://127.0.0.1:$port"
}

cmd_start() {
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  [[ -x "$PYTHON" ]] || die "no Python environment at $PYTHON; run deploy/bootstrap.sh first"
  export_platform_addresses # the Kafka and Redis this stack's scripts started, on their ports
  log "services connect to Kafka at $PRT_KAFKA_BOOTSTRAP_SERVERS"
  local entry name port module
  for entry in "${SERVICES[@]}"; do
    IFS='|' read -r name port module <<<"$entry"
    start_one "$name" "$port" "$module"
  done
  for entry in "${SERVICES[@]}"; do
    IFS='|' read -r name port module <<<"$entry"
    wait_healthy "$name" "$port"
  done
}

cmd_stop() {
  local entry name port module pid
  for entry in "${SERVICES[@]}"; do
    IFS='|' read -r name port module <<<"$entry"
    pid="$(live_pid "$RUN_DIR/$name.pid" "$PYTHON")" || continue
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_for_exit "$pid" 20; then
      warn "$name did not stop in 20s; killing"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN_DIR/$name.pid"
    log "stopped $name"
  done
}

cmd_status() {
  local entry name port module pid all=0
  for entry in "${SERVICES[@]}"; do
    IFS='|' read -r name port module <<<"$entry"
    if pid="$(live_pid "$RUN_DIR/$name.pid" "$PYTHON")"; then
      printf '%-20s running  pid %-7s %s\n' "$name" "$pid" "${port:+http://127.0.0.1:$port}"
    else
      printf '%-20s stopped\n' "$name"
      all=1
    fi
  done
  return "$all"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) usage; exit 2 ;;
esac
