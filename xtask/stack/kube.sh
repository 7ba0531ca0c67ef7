#!/usr/bin/env bash
# A real Kubernetes API server on loopback: etcd + kube-apiserver, no
# controllers, no nodes (nothing runs), for checking manifests server-side
# (`kubectl apply --dry-run=server`: schema, strict fields, admission).
#
#   xtask/stack/kube.sh start  <dir>   prints KUBECONFIG=<dir>/kubeconfig (last line)
#   xtask/stack/kube.sh stop   <dir>     (start again: same ports, same objects)
#   xtask/stack/kube.sh status <dir>
#
# Binaries from tools.sh (etcd, kube-apiserver, kubectl; built on first use).
# Auth: a static token for "admin" in system:masters (--token-auth-file) with
# RBAC; TLS from a CA made here with openssl, whose cert is in the kubeconfig.
# `start` also applies Dapr's CRDs (charts/dapr/crds in the Dapr module that
# build-dapr.sh downloads), so Dapr Components, Subscriptions, Resiliency and
# Configurations validate too. Create namespaces for real: a namespace that
# exists only in a dry run cannot hold objects.
set -euo pipefail

CACHE="${TODO_STACK_CACHE:-$HOME/.cache/todo-stack}"
DAPR_VERSION="${DAPR_VERSION:-v1.17.5}"
HERE="$(cd "$(dirname "$0")" && pwd)"
cmd=${1:?usage: kube.sh start|stop|status <dir>}
dir=${2:?missing <dir>}
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
running() { [[ -f "$dir/$1.pid" ]] && kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }
stop_one() {
  if running "$1"; then
    local pid; pid=$(cat "$dir/$1.pid"); kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/$1.pid"
}
ready() {
  [[ -f "$dir/ports" ]] || return 1
  local api; read -r api _ _ < "$dir/ports"
  curl -fs --cacert "$dir/pki/ca.crt" -o /dev/null "https://127.0.0.1:$api/readyz"
}
fail() { echo "$1" >&2; tail -30 "$dir/$2.log" >&2; "$0" stop "$dir"; exit 1; }

case "$cmd" in
start)
  if running etcd && running kube-apiserver && ready; then echo "KUBECONFIG=$dir/kubeconfig"; exit 0; fi
  "$0" stop "$dir"   # half up (one of the two died): start both afresh
  etcd=$("$HERE/tools.sh" etcd | tail -1)
  apiserver=$("$HERE/tools.sh" kube-apiserver | tail -1)
  kubectl=$("$HERE/tools.sh" kubectl | tail -1)
  t0=$(date +%s%N)
  # A restart reuses the first start's ports (etcd's member keeps its peer URL,
  # the kubeconfig stays valid), keys and token.
  if [[ -f "$dir/ports" ]]; then
    read -r api eclient epeer < "$dir/ports"
  else
    api=$(free_port); eclient=$(free_port); epeer=$(free_port)
    echo "$api $eclient $epeer" > "$dir/ports"
  fi
  pki="$dir/pki"
  if [[ ! -f "$pki/tokens.csv" ]]; then
    rm -rf "$pki"; mkdir -p "$pki"
    (
      cd "$pki"
      ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
      openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 3650 -subj /CN=todo-kube-ca 2>/dev/null
      openssl req -new "${ec[@]}" -keyout apiserver.key -out apiserver.csr -subj /CN=kube-apiserver 2>/dev/null
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' > apiserver.ext
      openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile apiserver.ext -out apiserver.crt 2>/dev/null
      # Service-account tokens: signed with sa.key, verified with sa.pub.
      openssl genrsa -out sa.key 2048 2>/dev/null
      openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
      echo "$(openssl rand -hex 24),admin,admin,system:masters" > tokens.csv.tmp
      chmod 600 ./*.key tokens.csv.tmp; mv tokens.csv.tmp tokens.csv
    )
  fi
  token=$(cut -d, -f1 "$pki/tokens.csv")

  # etcd: one member, loopback only; fsync off (throw-away test data).
  setsid nohup "$etcd" --name kube --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$eclient" --advertise-client-urls "http://127.0.0.1:$eclient" \
    --listen-peer-urls "http://127.0.0.1:$epeer" --initial-advertise-peer-urls "http://127.0.0.1:$epeer" \
    --initial-cluster "kube=http://127.0.0.1:$epeer" --unsafe-no-fsync --log-level warn \
    > "$dir/etcd.log" 2>&1 < /dev/null &
  echo $! > "$dir/etcd.pid"
  for _ in $(seq 1 100); do
    running etcd || fail "etcd died" etcd
    curl -fs "http://127.0.0.1:$eclient/health" 2>/dev/null | grep -q '"health":"true"' && break
    sleep 0.1
  done
  curl -fs "http://127.0.0.1:$eclient/health" | grep -q '"health":"true"' || fail "etcd not healthy" etcd

  # --endpoint-reconciler-type=none: with the default it exits (127.0.0.1 is a
  # loopback address, not allowed as the `kubernetes` service's endpoint).
  # ServiceAccount admission wants each namespace's `default` account, which
  # only the controller-manager (not run here) creates.
  setsid nohup "$apiserver" --etcd-servers "http://127.0.0.1:$eclient" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --token-auth-file "$pki/tokens.csv" --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 --endpoint-reconciler-type none \
    --disable-admission-plugins ServiceAccount --profiling=false \
    > "$dir/kube-apiserver.log" 2>&1 < /dev/null &
  echo $! > "$dir/kube-apiserver.pid"
  for _ in $(seq 1 600); do
    running kube-apiserver || fail "kube-apiserver died" kube-apiserver
    ready && break
    sleep 0.1
  done
  ready || fail "kube-apiserver not ready after 60s" kube-apiserver
  echo "kube-apiserver ready in $(( ($(date +%s%N) - t0) / 1000000 ))ms" >&2

  umask 077
  cat > "$dir/kubeconfig.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: todo-kube
  cluster:
    server: https://127.0.0.1:$api
    certificate-authority-data: $(base64 -w0 < "$pki/ca.crt")
users:
- name: admin
  user:
    token: $token
contexts:
- name: todo-kube
  context:
    cluster: todo-kube
    user: admin
    namespace: default
current-context: todo-kube
EOF
  mv "$dir/kubeconfig.tmp" "$dir/kubeconfig"

  # Dapr's CRDs, applied for real (server-side apply: no last-applied annotation).
  export GOMODCACHE="$CACHE/go/mod" GOFLAGS="-modcacherw" GOTOOLCHAIN=local
  ddir=$(go mod download -json "github.com/dapr/dapr@$DAPR_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  crds="$ddir/charts/dapr/crds"
  [[ -d "$crds" ]] || { echo "no $crds in dapr $DAPR_VERSION" >&2; "$0" stop "$dir"; exit 1; }
  "$kubectl" --kubeconfig "$dir/kubeconfig" apply --server-side --force-conflicts -f "$crds" >&2
  "$kubectl" --kubeconfig "$dir/kubeconfig" wait --for condition=Established --timeout 60s -f "$crds" >&2
  echo "kube up with Dapr CRDs in $(( ($(date +%s%N) - t0) / 1000000 ))ms (kubectl: $kubectl)" >&2
  echo "KUBECONFIG=$dir/kubeconfig"
  ;;
stop)
  stop_one kube-apiserver
  stop_one etcd
  ;;
status)
  if running etcd && running kube-apiserver && ready; then echo "KUBECONFIG=$dir/kubeconfig"
  else
    up() { running "$1" && echo running || echo stopped; }
    echo "not ready (etcd $(up etcd), kube-apiserver $(up kube-apiserver))"; exit 1
  fi
  ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
