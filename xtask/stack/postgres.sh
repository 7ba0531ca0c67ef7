#!/usr/bin/env bash
# PostgreSQL from Debian's package, on loopback, cluster in <dir>/data.
#
#   xtask/stack/postgres.sh start  <dir>   prints a connection URL (PG_PORT picks the port)
#   xtask/stack/postgres.sh stop   <dir>
#   xtask/stack/postgres.sh status <dir>
#
# initdb refuses to run as root, so as root the cluster belongs to the
# `postgres` user (created by the Debian package); <dir> must then be reachable
# by that user (e.g. under /tmp, not under /root).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"

cmd=${1:?usage: postgres.sh start|stop|status <dir>}
dir=${2:?missing <dir>}
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [[ -z "$bindir" && $cmd == start ]]; then
  bash "$HERE/packages.sh" postgresql
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
as_pg() { if [[ $EUID == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
running() { [[ -n "$bindir" && -f "$dir/data/postmaster.pid" ]] && as_pg "$bindir/pg_ctl" status -D "$dir/data" >/dev/null 2>&1; }

case "$cmd" in
start)
  if running; then cat "$dir/url"; exit 0; fi
  [[ $EUID == 0 ]] && chown postgres: "$dir"
  as_pg test -w "$dir" || { echo "$dir is not writable by user postgres (is a parent dir private?)" >&2; exit 1; }
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    # trust auth: loopback-only throw-away test server. --no-sync: faster, data is disposable.
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C --no-sync \
      --auth-local=trust --auth-host=trust > "$dir/initdb.log"
    printf '%s\n' 'local all all trust' 'host all all 127.0.0.1/32 trust' > "$dir/data/pg_hba.conf"
  fi
  port=${PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
  # TCP on 127.0.0.1 only; the unix socket goes into <dir>, not /var/run/postgresql.
  as_pg "$bindir/pg_ctl" start -w -t 60 -D "$dir/data" -l "$dir/postgres.log" \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable" | tee "$dir/url"
  ;;
stop)
  if running; then as_pg "$bindir/pg_ctl" stop -D "$dir/data" -m fast -w >/dev/null; fi
  ;;
status) running && cat "$dir/url" || { echo stopped; exit 1; } ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
