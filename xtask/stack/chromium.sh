#!/usr/bin/env bash
# Debian's Chromium for the web app's end-to-end tests: installed when
# missing (a fresh machine; we are root there), then its path printed.
# TODO_CHROMIUM names another browser binary instead.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"

if [[ -n "${TODO_CHROMIUM:-}" ]]; then echo "$TODO_CHROMIUM"; exit 0; fi
if ! command -v chromium >/dev/null; then
  bash "$HERE/packages.sh" chromium fonts-dejavu-core
fi
command -v chromium
