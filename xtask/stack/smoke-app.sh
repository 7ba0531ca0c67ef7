#!/usr/bin/env bash
# The deployment smoke test: against the app's one public address (the
# ingress of a cluster, or `cargo xtask stack up`'s front door), sign up,
# create a task, and wait until the audit trail holds its
# `com.todo.task.created.v1` event (the event went chat-api -> Dapr ->
# Kafka -> audit). Exits non-zero with the reason otherwise.
#
#   xtask/stack/smoke-app.sh http://todo.local
set -euo pipefail

base="${1:?usage: smoke-app.sh <base-url>}"
base="${base%/}"
wait_s="${SMOKE_WAIT_SECONDS:-60}"
email="smoke-$(date +%s)-$RANDOM@example.com"

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

curl -fsS "$base/readyz" >/dev/null || { echo "smoke: $base/readyz is not ready" >&2; exit 1; }
token=$(curl -fsS -X POST "$base/api/auth/signup" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"smoke-test-password-1\",\"name\":\"Smoke\",\"time_zone\":\"UTC\"}" \
  | json '["access_token"]')
auth=(-H "authorization: Bearer $token")
task=$(curl -fsS -X POST "$base/api/tasks" "${auth[@]}" -H 'content-type: application/json' \
  -d '{"title":"smoke test task","priority":"high","tags":["smoke"]}' | json '["id"]')
echo "smoke: signed up $email, created task $task" >&2

deadline=$((SECONDS + wait_s))
until curl -fsS "$base/api/audit?task=$task" "${auth[@]}" \
    | json '["entries"]' | grep -q "com.todo.task.created.v1"; do
  if ((SECONDS > deadline)); then
    echo "smoke: the audit trail of $task has no task.created event after ${wait_s}s" >&2
    exit 1
  fi
  sleep 1
done
echo "smoke: ok - task $task is in the audit trail"
