#!/usr/bin/env bash
# Debian packages the tiers need, installed when missing: all that are missing
# in one apt transaction (one index update), under a lock, so callers running
# side by side (the test command's prefetch and a script that needs its
# server now) never meet in dpkg. We are root on a fresh machine.
#
#   xtask/stack/packages.sh <package>...     progress on stderr, nothing on stdout
set -euo pipefail

CACHE="${TODO_STACK_CACHE:-$HOME/.cache/todo-stack}"
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
missing() { local p; for p in "$@"; do installed "$p" || echo "$p"; done; }

(( $# )) || { echo "usage: packages.sh <package>..." >&2; exit 2; }
[[ -z "$(missing "$@")" ]] && exit 0
mkdir -p "$CACHE"; exec 9>"$CACHE/.apt.lock"; flock 9
# Again under the lock: another caller may have installed them meanwhile.
mapfile -t todo < <(missing "$@")
(( ${#todo[@]} )) || exit 0
export DEBIAN_FRONTEND=noninteractive
t0=$(date +%s)
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${todo[@]}" >&2
echo "installed ${todo[*]} in $(( $(date +%s) - t0 ))s" >&2
