#!/usr/bin/env bash
# Debian's Chromium for the web app's end-to-end tests: installed when
# missing (a fresh machine; we are root there), then its path printed.
# TODO_CHROMIUM names another browser binary instead.
set -euo pipefail

if [[ -n "${TODO_CHROMIUM:-}" ]]; then echo "$TODO_CHROMIUM"; exit 0; fi
if ! command -v chromium >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
fi
command -v chromium
