#!/usr/bin/env bash
# Redis from Debian's package, on loopback, data in <dir>.
#
#   xtask/stack/redis.sh start  <dir>   prints host:port (REDIS_PORT picks it, default a free one)
#   xtask/stack/redis.sh stop   <dir>
#   xtask/stack/redis.sh status <dir>
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"

cmd=${1:?usage: redis.sh start|stop|status <dir>}
dir=${2:?missing <dir>}
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
running() { [[ -f "$dir/redis.pid" ]] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; }

case "$cmd" in
start)
  if running; then cat "$dir/addr"; exit 0; fi
  if ! command -v redis-server >/dev/null; then
    # Fresh machine: install it (we are root there).
    bash "$HERE/packages.sh" redis-server
  fi
  port=${REDIS_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
  # No snapshots / AOF: test data is throw-away and fsyncs only slow the tests.
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save '' --appendonly no
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  redis-cli -h 127.0.0.1 -p "$port" ping | grep -q PONG || { cat "$dir/redis.log" >&2; exit 1; }
  echo "127.0.0.1:$port" | tee "$dir/addr"
  ;;
stop)
  if running; then
    pid=$(cat "$dir/redis.pid"); kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$dir/redis.pid"
  ;;
status) running && cat "$dir/addr" || { echo stopped; exit 1; } ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
