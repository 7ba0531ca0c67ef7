#!/usr/bin/env bash
# The Dapr Scheduler (backs the Jobs API) on loopback, embedded etcd in <dir>.
#
#   xtask/stack/scheduler.sh start  <dir>   prints host:port for daprd --scheduler-host-address
#   xtask/stack/scheduler.sh stop   <dir>     (start again: same address, same jobs)
#   xtask/stack/scheduler.sh status <dir>
#
# Runs without Kubernetes or Sentry: --mode standalone and --tls-enabled=false
# (the default) mean plain gRPC, no mTLS. Every port it opens (gRPC, etcd
# client, etcd peer, healthz; metrics off) is a free loopback port, so several
# can run side by side. Binary from build-dapr.sh (built here if missing).
set -euo pipefail

CACHE="${TODO_STACK_CACHE:-$HOME/.cache/todo-stack}"
HERE="$(cd "$(dirname "$0")" && pwd)"
cmd=${1:?usage: scheduler.sh start|stop|status <dir>}
dir=${2:?missing <dir>}
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
running() { [[ -f "$dir/scheduler.pid" ]] && kill -0 "$(cat "$dir/scheduler.pid")" 2>/dev/null; }

case "$cmd" in
start)
  if running; then cat "$dir/addr"; exit 0; fi
  [[ -x "$CACHE/bin/scheduler" ]] || "$HERE/build-dapr.sh" >&2
  t0=$(date +%s%N)
  # A restart reuses the first start's ports: sidecars keep the address,
  # and etcd's member keeps its peer URL.
  if [[ -f "$dir/ports" ]]; then
    read -r port health eclient epeer < "$dir/ports"
  else
    port=${SCHEDULER_PORT:-$(free_port)}; health=$(free_port); eclient=$(free_port); epeer=$(free_port)
    echo "$port $health $eclient $epeer" > "$dir/ports"
  fi
  # The etcd member name must equal --id and appear in --etcd-initial-cluster;
  # the peer URL there is also the peer listen address (an IP keeps it on loopback).
  # --override-broadcast-host-port: the address the scheduler hands to daprd for
  # its job streams; without it it advertises its hostname.
  nohup "$CACHE/bin/scheduler" --mode standalone --listen-address 127.0.0.1 --port "$port" \
    --override-broadcast-host-port "127.0.0.1:$port" \
    --healthz-listen-address 127.0.0.1 --healthz-port "$health" --enable-metrics=false \
    --id sched-0 --etcd-initial-cluster "sched-0=http://127.0.0.1:$epeer" \
    --etcd-data-dir "$dir/etcd" --etcd-client-listen-address 127.0.0.1 --etcd-client-port "$eclient" \
    --identity-directory-write "$dir/identity" --log-level "${SCHEDULER_LOG_LEVEL:-info}" \
    > "$dir/scheduler.log" 2>&1 < /dev/null &
  echo $! > "$dir/scheduler.pid"
  echo "127.0.0.1:$port" > "$dir/addr"
  for _ in $(seq 1 300); do
    running || { tail -30 "$dir/scheduler.log" >&2; echo "scheduler died" >&2; exit 1; }
    curl -fs -o /dev/null "http://127.0.0.1:$health/healthz" && break
    sleep 0.1
  done
  curl -fs -o /dev/null "http://127.0.0.1:$health/healthz" || { tail -30 "$dir/scheduler.log" >&2; exit 1; }
  echo "scheduler up in $(( ($(date +%s%N) - t0) / 1000000 ))ms" >&2
  cat "$dir/addr"
  ;;
stop)
  if running; then
    pid=$(cat "$dir/scheduler.pid"); kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/scheduler.pid"
  ;;
status) running && cat "$dir/addr" || { echo stopped; exit 1; } ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
