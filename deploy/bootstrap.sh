#!/usr/bin/env bash
# Installs what the project needs on a new machine, and nothing twice: the Python 3.11 virtual
# environment with pinned packages (.venv) and the npm tools (buf). Safe to run repeatedly.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
say() { printf '[bootstrap] %s\n' "$*"; }

PYTHON_BIN="${PRT_PYTHON_BIN:-$(command -v python3.11 || true)}"
[[ -n "$PYTHON_BIN" ]] || { say "Python 3.11 is required (python3.11 not found)"; exit 1; }

stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

py_stamp="$(stamp_of pyproject.toml deploy/python/constraints.txt)"
if [[ ! -x .venv/bin/python ]]; then
  say "creating .venv with $PYTHON_BIN"
  "$PYTHON_BIN" -m venv .venv
fi
if [[ "$(cat .venv/.prt-stamp 2>/dev/null)" != "$py_stamp" ]]; then
  say "installing Python packages (pinned by deploy/python/constraints.txt)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c deploy/python/constraints.txt -e ".[dev]"
  echo "$py_stamp" >.venv/.prt-stamp
fi

if [[ -f package-lock.json ]]; then
  npm_stamp="$(stamp_of package.json package-lock.json)"
  if [[ "$(cat node_modules/.prt-stamp 2>/dev/null)" != "$npm_stamp" ]]; then
    say "installing npm packages (package-lock.json)"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$npm_stamp" >node_modules/.prt-stamp
  fi
fi
# Debian's chromium drives the dashboard's headless-browser test (playwright never downloads one).
if ! command -v chromium >/dev/null 2>&1; then
  say "installing Debian's chromium (headless browser tests)"
  if [[ "$(id -u)" -eq 0 ]]; then
    apt-get install -y -q chromium
  else
    sudo apt-get install -y -q chromium
  fi
fi
say "ready"
