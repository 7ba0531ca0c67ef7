#!/usr/bin/env bash
# Build daprd and the Dapr Scheduler from Dapr's Go module at a pinned release.
#
#   xtask/stack/build-dapr.sh          -> $CACHE/bin/daprd, $CACHE/bin/scheduler
#
# github.com/dapr/dapr has `replace` directives in its go.mod, so
# `go install module@version` refuses it. We fetch the module source through the
# Go module proxy, copy it into a writable dir under the cache and `go build` there.
# daprd normally links ~140 components (every cloud SDK); we delete the
# registration files of all but the ones the app uses, so the build compiles
# only those components and their SDKs. Everything (module cache, build cache, binaries)
# lives under $CACHE, outside the clone; a second run is a no-op.
set -euo pipefail

DAPR_VERSION="${DAPR_VERSION:-v1.17.5}"
CACHE="${TODO_STACK_CACHE:-$HOME/.cache/todo-stack}"
# Component registration files (cmd/daprd/components/<name>.go) to keep.
# Name resolution: mdns needs multicast (not on loopback); sqlite is a local,
# file-based resolver usable for service invocation between sidecars on one host.
KEEP="${DAPR_COMPONENTS:-pubsub_kafka pubsub_in-memory state_redis state_postgres state_in-memory secretstores_local_file secretstores_local_env nameresolution_sqlite conversation_echo}"

# The Go module proxy reachable here serves only some versions of a few of
# Dapr's own dependencies (403 "not available" for the rest). Pin the nearest
# served patch release; both differences are one small fix each:
#  - durabletask-go v0.11.1 -> v0.11.0: workflow runtime state (no Workflows here)
#  - go-etcd-cron v0.12.4 -> v0.12.3: scheduler leader-lease expiry no longer
#    fatal (matters for etcd outages in long-lived clusters, not for tests)
# The checksum database has no entry for go-etcd-cron v0.12.3 either, so the
# go.sum lines are pinned here (checked against the module's git tag).
REPLACES="${DAPR_REPLACES:-github.com/dapr/durabletask-go@v0.11.0 github.com/diagridio/go-etcd-cron@v0.12.3}"
PINNED_SUMS='github.com/dapr/durabletask-go v0.11.0 h1:e9Ns/3a2b6JDKGuvksvx6gCHn7rd+nwZZyAXbg5Ley4=
github.com/dapr/durabletask-go v0.11.0/go.mod h1:0Ts4rXp74JyG19gDWPcwNo5V6NBZzhARzHF5XynmA7Q=
github.com/diagridio/go-etcd-cron v0.12.3 h1:KfA//9LcktVeFFHSVv1MZ+Ui5U0fIAPFq1db7mzKPw4=
github.com/diagridio/go-etcd-cron v0.12.3/go.mod h1:XpjpGLT4WzS/eE+20h4aUl2yFtudShbrKK7cPQMtMJ0='

BIN="$CACHE/bin"
STAMP="$BIN/dapr.stamp"
WANT="$DAPR_VERSION components: $KEEP replaces: $REPLACES patch: healthz-loopback"
# Tests may call this concurrently: one builds, the others wait and reuse.
mkdir -p "$BIN"; exec 9>"$BIN/.build.lock"; flock 9
if [[ -x "$BIN/daprd" && -x "$BIN/scheduler" && "$(cat "$STAMP" 2>/dev/null)" == "$WANT" ]]; then
  echo "dapr $DAPR_VERSION already built in $BIN"; exit 0
fi

command -v go >/dev/null || { echo "go is required" >&2; exit 1; }
# Keep Go's downloads and compile cache under $CACHE too; -modcacherw lets
# `rm -rf $CACHE` work (the module cache is read-only otherwise).
export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build"
export GOFLAGS="-modcacherw -mod=mod -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local

start=$(date +%s)
dir=$(go mod download -json "github.com/dapr/dapr@$DAPR_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
[[ -d "$dir" ]] || { echo "go mod download gave no source dir for dapr $DAPR_VERSION" >&2; exit 1; }

src="$CACHE/dapr-src/$DAPR_VERSION"
rm -rf "$src"; mkdir -p "$src"
cp -r "$dir/." "$src/"; chmod -R u+w "$src"

# Prune components: keep only the listed registration files.
comp="$src/cmd/daprd/components"
for f in "$comp"/*.go; do
  n=$(basename "$f" .go)
  [[ " $KEEP " == *" $n "* ]] || rm -f "$f"
done
for r in $REPLACES; do (cd "$src" && go mod edit -replace "${r%@*}=$r"); done
echo "$PINNED_SUMS" >> "$src/go.sum"
# The scheduler's healthz server binds ":port" (all interfaces) and ignores
# --healthz-listen-address; keep it on loopback like everything else.
hz="$src/pkg/healthz/server/server.go"
sed -i 's/fmt.Sprintf(":%d", s.port)/fmt.Sprintf("127.0.0.1:%d", s.port)/' "$hz"
grep -q '"127.0.0.1:%d", s.port' "$hz" || { echo "healthz patch no longer applies" >&2; exit 1; }
for k in $KEEP; do [[ -f "$comp/$k.go" ]] || { echo "unknown component file: $k" >&2; exit 1; }; done

ver=${DAPR_VERSION#v}
ld="-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=$ver -X github.com/dapr/dapr/pkg/buildinfo.gitversion=$DAPR_VERSION"
cd "$src"
# allcomponents: the build tag every registration file is gated on (without it
# daprd panics at start, see zz_notag.go, which we deleted anyway).
go build -trimpath -tags allcomponents -ldflags "$ld" -o "$BIN/daprd.tmp" ./cmd/daprd
go build -trimpath -ldflags "$ld" -o "$BIN/scheduler.tmp" ./cmd/scheduler
mv "$BIN/daprd.tmp" "$BIN/daprd"; mv "$BIN/scheduler.tmp" "$BIN/scheduler"
echo "$WANT" > "$STAMP"
rm -rf "$src"   # rebuilt from the module cache next time; the build cache keeps it fast
echo "built dapr $DAPR_VERSION into $BIN in $(( $(date +%s) - start ))s"
