#!/usr/bin/env bash
# End-to-end check of the real stack: Redis, PostgreSQL, Kafka, the Scheduler
# and daprd next to a tiny Python app, all on loopback. Exercises the Jobs API
# (and its callback to the app), state (Redis + PostgreSQL), secrets (local file
# + env) and pub/sub over Kafka. Everything is stopped on exit.
#
#   xtask/stack/smoke.sh [workdir]      (default: a fresh temp dir under /tmp)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# /tmp, not $HOME: the postgres user must be able to reach the cluster dir.
W=${1:-$(mktemp -d /tmp/todo-stack-smoke.XXXXXX)}
mkdir -p "$W"; W=$(cd "$W" && pwd); chmod 755 "$W"
t0=$(date +%s)
cleanup() {
  set +e
  [[ -f "$W/app.pid" ]] && kill "$(cat "$W/app.pid")" 2>/dev/null
  "$HERE/daprd.sh" stop "$W/daprd"; "$HERE/scheduler.sh" stop "$W/scheduler"
  "$HERE/kafka.sh" stop "$W/kafka"; "$HERE/redis.sh" stop "$W/redis"; "$HERE/postgres.sh" stop "$W/pg"
}
trap cleanup EXIT
step() { echo "== $* ($(( $(date +%s) - t0 ))s)" >&2; }

"$HERE/build-dapr.sh" >&2
step start servers
redis=$("$HERE/redis.sh" start "$W/redis")
pg=$("$HERE/postgres.sh" start "$W/pg")
kafka=$("$HERE/kafka.sh" start "$W/kafka")
sched=$("$HERE/scheduler.sh" start "$W/scheduler")
"$HERE/kafka.sh" topics "$W/kafka" --create --topic todo-events --partitions 1 --replication-factor 1 >&2

mkdir -p "$W/resources"
echo '{"db":{"password":"s3cret"}}' > "$W/secrets.json"
cat > "$W/resources/components.yaml" <<YAML
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: statestore}
spec:
  type: state.redis
  version: v1
  metadata:
  - {name: redisHost, value: "$redis"}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: pgstate}
spec:
  type: state.postgresql
  version: v1
  metadata:
  - {name: connectionString, value: "$pg"}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: pubsub}
spec:
  type: pubsub.kafka
  version: v1
  metadata:
  - {name: brokers, value: "$kafka"}
  - {name: authType, value: none}
  - {name: consumerGroup, value: smoke}
  # sarama's default protocol level (2.0.0) predates what Kafka 4 still accepts
  - {name: version, value: "3.6.0"}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: filesecrets}
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - {name: secretsFile, value: "$W/secrets.json"}
  - {name: nestedSeparator, value: "."}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: envsecrets}
spec:
  type: secretstores.local.env
  version: v1
YAML

step start app
app_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$W/app.py" <<'PY'
# Records every request daprd makes to the app, one line per request.
import http.server, json, sys
log = open(sys.argv[2], "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    def _body(self):
        n = int(self.headers.get("content-length") or 0)
        return self.rfile.read(n).decode() if n else ""
    def _reply(self, obj):
        b = json.dumps(obj).encode()
        self.send_response(200); self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def do_GET(self):
        if self.path == "/dapr/subscribe":
            return self._reply([{"pubsubname": "pubsub", "topic": "todo-events", "route": "/events"}])
        self.send_response(404); self.end_headers()
    def do_POST(self):
        log.write(f"POST {self.path} {self._body()}\n"); self._reply({"status": "SUCCESS"})
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$W/app.py" "$app_port" "$W/app.log" & echo $! > "$W/app.pid"

step start daprd
MY_SECRET=from-env "$HERE/daprd.sh" start "$W/daprd" smoke "$app_port" "$W/resources" "$sched" > "$W/daprd.env"
. "$W/daprd.env"; api="http://127.0.0.1:$DAPR_HTTP_PORT"
# daprd subscribes (and consumes Kafka) once the app channel is up.
for _ in $(seq 1 100); do curl -fs "$api/v1.0/healthz" -o /dev/null && break; sleep 0.1; done
curl -fs "$api/v1.0/healthz"

fail() { echo "FAIL: $*" >&2; tail -40 "$W/daprd/daprd.log" >&2; exit 1; }
wait_log() { for _ in $(seq 1 "$2"); do grep -q "$1" "$W/app.log" 2>/dev/null && return 0; sleep 0.5; done; return 1; }

step jobs
curl -fsS -X POST "$api/v1.0-alpha1/jobs/test" -H 'content-type: application/json' -d '{"dueTime":"1s","data":"x"}'
wait_log 'POST /job/test' 30 || fail "job callback never came"
grep 'POST /job/test' "$W/app.log" >&2

step state
for s in statestore pgstate; do
  curl -fsS -X POST "$api/v1.0/state/$s" -H 'content-type: application/json' -d '[{"key":"k1","value":{"n":1}}]'
  # compare as JSON: PostgreSQL (jsonb) hands it back re-spaced
  got=$(curl -fsS "$api/v1.0/state/$s/k1")
  python3 -c 'import json,sys; assert json.loads(sys.argv[1]) == {"n": 1}' "$got" || fail "state $s returned $got"
done

step secrets
got=$(curl -fsS "$api/v1.0/secrets/filesecrets/db.password"); [[ $got == *s3cret* ]] || fail "file secret: $got"
got=$(curl -fsS "$api/v1.0/secrets/envsecrets/MY_SECRET"); [[ $got == *from-env* ]] || fail "env secret: $got"

step pubsub over kafka
curl -fsS -X POST "$api/v1.0/publish/pubsub/todo-events" -H 'content-type: application/json' -d '{"todo":"buy milk"}'
wait_log 'POST /events .*buy milk' 60 || fail "pubsub message never delivered"
"$HERE/kafka.sh" consume "$W/kafka" --topic todo-events --from-beginning --max-messages 1 --timeout-ms 20000 | grep -q 'buy milk' \
  || fail "message not on the Kafka topic"

step "all passed"
echo "smoke: 5 passed, 0 failed"
