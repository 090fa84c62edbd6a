# shellcheck shell=bash
# Helpers shared by deploy/local/kafka.sh and deploy/local/redis.sh (sourced, not run).

PRT_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
# shellcheck disable=SC2034 # used by the scripts that source this file
PRT_RUNTIME_DIR="${PRT_RUNTIME_DIR:-$PRT_REPO_ROOT/.run}"
# Relative paths would change meaning with the caller's working directory.
[[ "$PRT_RUNTIME_DIR" == /* ]] || PRT_RUNTIME_DIR="$PWD/$PRT_RUNTIME_DIR"

log() { printf '[%s] %s\n' "$PRT_COMPONENT" "$*"; }
warn() { printf '[%s] %s\n' "$PRT_COMPONENT" "$*" >&2; }
die() { warn "error: $*"; exit 1; }

# Prints the last lines of a log file to stderr, if it exists.
show_log_tail() {
  local file="$1" lines="${2:-30}"
  [[ -s "$file" ]] || return 0
  warn "last $lines lines of $file:"
  tail -n "$lines" "$file" | sed 's/^/    /' >&2
}

# True if the process exists and its command line contains every given fragment.
# Guards against a stale pid file whose pid now belongs to an unrelated process.
pid_matches() {
  local pid="$1"; shift
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  local cmdline
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  local fragment
  for fragment in "$@"; do
    [[ "$cmdline" == *"$fragment"* ]] || return 1
  done
}

# Prints the pid recorded in a pid file if that process is alive and matches; fails otherwise
# (no pid file, or a stale one: the starts overwrite it).
live_pid() {
  local pid_file="$1"; shift
  [[ -f "$pid_file" ]] || return 1
  local pid
  pid="$(tr -dc '0-9' <"$pid_file")"
  pid_matches "$pid" "$@" || return 1
  printf '%s\n' "$pid"
}

# Waits up to $2 seconds for process $1 to exit; fails if it is still there.
wait_for_exit() {
  local pid="$1" seconds="$2" waited=0
  while kill -0 "$pid" 2>/dev/null; do
    # A zombie (our own child that nobody reaped) counts as gone.
    [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" == Z ]] && return 0
    ((waited >= seconds * 10)) && return 1
    sleep 0.1
    waited=$((waited + 1))
  done
}

# True if something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The addresses the platform's processes (and the demo) connect to, exported unless already
# set: the Kafka cluster's bootstrap servers (kafka.sh's layout, which follows PRT_KAFKA_PORT
# when the cluster is made) and Redis on PRT_REDIS_PORT. Without them a stack started on other
# ports ran its services against the settings' defaults, 127.0.0.1:19092 and :16379 - the
# default stack, if one was running.
export_platform_addresses() {
  if [[ -z "${PRT_KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
    PRT_KAFKA_BOOTSTRAP_SERVERS="$(PRT_RUNTIME_DIR="$PRT_RUNTIME_DIR" \
      bash "$PRT_REPO_ROOT/deploy/local/kafka.sh" bootstrap)" ||
      die "cannot tell the Kafka bootstrap servers (deploy/local/kafka.sh bootstrap)"
  fi
  export PRT_KAFKA_BOOTSTRAP_SERVERS
  export PRT_REDIS_URL="${PRT_REDIS_URL:-redis://127.0.0.1:${PRT_REDIS_PORT:-16379}/0}"
}

# The four APIs' base URLs on this machine, from the ports services.sh starts them on.
api_url() {
  local port
  case "$1" in
    intake) port="${PRT_INTAKE_PORT:-8101}" ;;
    abnormal-push) port="${PRT_ABNORMAL_PUSH_PORT:-8102}" ;;
    remote-eval) port="${PRT_REMOTE_EVAL_PORT:-8103}" ;;
    reporting) port="${PRT_REPORTING_PORT:-8104}" ;;
    *) die "no API $1" ;;
  esac
  echo "http://127.0.0.1:$port"
}
