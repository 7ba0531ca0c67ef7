#!/usr/bin/env bash
# Python packages from PyPI that the tests drive as clients no one here wrote,
# installed once under the cache (outside the clone). The one list of them:
# the tests ask this script for a package's dir, the test command's prefetch
# installs them all early.
#
#   xtask/stack/python.sh cloudevents|websockets|mcp   a dir to put on PYTHONPATH
#   xtask/stack/python.sh schemathesis                  a virtualenv (bin/st)
#   xtask/stack/python.sh all                           installs every one
set -euo pipefail

CACHE="${TODO_STACK_CACHE:-$HOME/.cache/todo-stack}"
mkdir -p "$CACHE"

# <dir> <requirement> <module that must import>: pip install --target.
target() {
  local dir="$CACHE/$1" spec=$2 module=$3
  if ! PYTHONPATH="$dir" python3 -c "import $module" 2>/dev/null; then
    exec 9>"$CACHE/.py-$1.lock"; flock 9
    if ! PYTHONPATH="$dir" python3 -c "import $module" 2>/dev/null; then
      python3 -m pip install --quiet --disable-pip-version-check --upgrade --target "$dir" "$spec" >&2
      PYTHONPATH="$dir" python3 -c "import $module" >&2
    fi
  fi
  echo "$dir"
}

# <dir> <requirement> <command that must run>: a virtualenv.
venv() {
  local dir="$CACHE/$1" spec=$2 cmd=$3
  if ! "$dir/bin/$cmd" --version >/dev/null 2>&1; then
    exec 9>"$CACHE/.py-$1.lock"; flock 9
    if ! "$dir/bin/$cmd" --version >/dev/null 2>&1; then
      python3 -m venv "$dir" >&2
      "$dir/bin/pip" install --quiet --disable-pip-version-check "$spec" >&2
      "$dir/bin/$cmd" --version >&2
    fi
  fi
  echo "$dir"
}

one() {
  case "$1" in
  cloudevents)  target py "cloudevents>=2,<3" cloudevents.core.bindings.kafka ;;
  websockets)   target py-websockets "websockets>=13,<17" websockets.asyncio.client ;;
  mcp)          target py-mcp "mcp>=1.20,<2" mcp.client.streamable_http ;;
  # The pinned major version: its checks and flags are what the test uses.
  schemathesis) venv schemathesis "schemathesis>=4.3,<5" st ;;
  *) echo "unknown package $1" >&2; exit 2 ;;
  esac
}

case "${1:?usage: python.sh cloudevents|websockets|mcp|schemathesis|all}" in
all) for p in cloudevents websockets mcp schemathesis; do (one "$p" >/dev/null); done ;;
*) one "$1" ;;
esac
