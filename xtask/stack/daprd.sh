#!/usr/bin/env bash
# daprd in standalone ("self-hosted") mode next to one app, everything on loopback.
#
#   xtask/stack/daprd.sh start <dir> <app-id> <app-port> <resources-dir> <scheduler-addr> [daprd flags...]
#       prints DAPR_HTTP_PORT=.. DAPR_GRPC_PORT=.. (also written to <dir>/env)
#   xtask/stack/daprd.sh stop   <dir>
#   xtask/stack/daprd.sh status <dir>
#
# The equivalent hand-written command line (ports are picked free here):
#   daprd --mode standalone --app-id todo --app-port 8080 --app-channel-address 127.0.0.1 \
#     --dapr-http-port 3500 --dapr-grpc-port 50001 --dapr-listen-addresses 127.0.0.1 \
#     --dapr-internal-grpc-port 50002 --dapr-internal-grpc-listen-address 127.0.0.1 \
#     --resources-path ./resources --config ./config.yaml \
#     --scheduler-host-address 127.0.0.1:50006 --enable-metrics=false
#
# Notes:
# - <scheduler-addr> comes from scheduler.sh. It is required for the Jobs API
#   (/v1.0-alpha1/jobs/...); no feature flag or Configuration entry is needed.
#   Jobs fire as POST <app>/job/<name>.
# - No Sentry, so no mTLS: --enable-mtls defaults to false in standalone mode,
#   and the scheduler is plain gRPC. No placement (no actors): leave
#   --placement-host-address unset.
# - Name resolution (service invocation only): mdns needs multicast, which
#   loopback lacks, so the default Configuration written here uses the sqlite
#   resolver in a file shared by all sidecars (DAPR_NR_DB, default <dir>/../nr.db).
#   Pass DAPR_CONFIG=/path/config.yaml to use your own Configuration instead.
set -euo pipefail

CACHE="${TODO_STACK_CACHE:-$HOME/.cache/todo-stack}"
HERE="$(cd "$(dirname "$0")" && pwd)"
cmd=${1:?usage: daprd.sh start|stop|status <dir> ...}
dir=${2:?missing <dir>}; shift 2
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
running() { [[ -f "$dir/daprd.pid" ]] && kill -0 "$(cat "$dir/daprd.pid")" 2>/dev/null; }

case "$cmd" in
start)
  [[ $# -ge 4 ]] || { echo "usage: daprd.sh start <dir> <app-id> <app-port> <resources-dir> <scheduler-addr> [flags]" >&2; exit 2; }
  app_id=$1 app_port=$2 res=$3 sched=$4; shift 4
  if running; then cat "$dir/env"; exit 0; fi
  [[ -x "$CACHE/bin/daprd" ]] || "$HERE/build-dapr.sh" >&2
  config=${DAPR_CONFIG:-$dir/config.yaml}
  if [[ -z "${DAPR_CONFIG:-}" ]]; then
    cat > "$config" <<YAML
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: daprconfig
spec:
  nameResolution:
    component: sqlite
    configuration:
      connectionString: "${DAPR_NR_DB:-$(dirname "$dir")/nr.db}"
YAML
  fi
  t0=$(date +%s%N)
  http=${DAPR_HTTP_PORT:-$(free_port)}; grpc=${DAPR_GRPC_PORT:-$(free_port)}; internal=$(free_port)
  nohup "$CACHE/bin/daprd" --mode standalone --app-id "$app_id" \
    --app-port "$app_port" --app-channel-address 127.0.0.1 \
    --dapr-http-port "$http" --dapr-grpc-port "$grpc" --dapr-listen-addresses 127.0.0.1 \
    --dapr-internal-grpc-port "$internal" --dapr-internal-grpc-listen-address 127.0.0.1 \
    --resources-path "$res" --config "$config" --scheduler-host-address "$sched" \
    --enable-metrics=false --log-level "${DAPRD_LOG_LEVEL:-info}" "$@" \
    >> "$dir/daprd.log" 2>&1 < /dev/null &
  echo $! > "$dir/daprd.pid"
  printf 'DAPR_HTTP_PORT=%s\nDAPR_GRPC_PORT=%s\n' "$http" "$grpc" > "$dir/env"
  # healthz/outbound: components loaded and APIs up; it does not wait for the app
  # (the app may start after its sidecar).
  url="http://127.0.0.1:$http/v1.0/healthz/outbound"
  for _ in $(seq 1 300); do
    running || { tail -30 "$dir/daprd.log" >&2; echo "daprd died" >&2; exit 1; }
    curl -fs -o /dev/null "$url" && break
    sleep 0.1
  done
  curl -fs -o /dev/null "$url" || { tail -30 "$dir/daprd.log" >&2; echo "daprd not ready" >&2; exit 1; }
  echo "daprd up in $(( ($(date +%s%N) - t0) / 1000000 ))ms" >&2
  cat "$dir/env"
  ;;
stop)
  if running; then
    pid=$(cat "$dir/daprd.pid"); kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/daprd.pid"
  ;;
status) running && cat "$dir/env" || { echo stopped; exit 1; } ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
