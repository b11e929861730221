#!/usr/bin/env bash
# Installs what this project needs on a Debian bookworm machine, and nothing that is already
# there: npm packages (`npm ci`), a Java runtime for DynamoDB Local, Ceph for the local S3 server
# (skipped with DDB_REWIND_EXTERNAL_S3=1), Debian's Chromium for the console's browser tests. Run as root; quiet when there is nothing to do.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

say() { printf 'setup: %s\n' "$*" >&2; }

# npm writes node_modules/.package-lock.json on every install: older than the lock file means stale.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say 'npm ci'
  npm ci --no-audit --no-fund --loglevel=error
fi

missing=()
need() { # need COMMAND PACKAGE
  if ! command -v "$1" >/dev/null && [[ " ${missing[*]} " != *" $2 "* ]]; then missing+=("$2"); fi
}
need java openjdk-17-jre-headless
need aws awscli # the Glue model check of test/unit/export-catalog.test.ts
need chromium chromium # test/integration/console.test.ts drives it with playwright-core
if [[ ${DDB_REWIND_EXTERNAL_S3:-0} != 1 ]]; then
  need radosgw radosgw
  need radosgw-admin radosgw
  need ceph-mon ceph-mon
  need monmaptool ceph-mon
  need ceph-osd ceph-osd
  need ceph ceph-common
  need ceph-authtool ceph-common
fi
((${#missing[@]})) || exit 0

if [[ $(id -u) != 0 ]]; then
  say "missing ${missing[*]}: as root, run \`apt-get install --no-install-recommends ${missing[*]}\` (or \`sudo bash scripts/setup.sh\`)"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
apt_install() { apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1; }
say "apt-get install ${missing[*]}"
# `apt-get update` only when needed: no package lists yet (fresh images ship none), or stale ones.
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || ! apt_install; then
  say 'apt-get update'
  apt-get update -q >"$log" 2>&1 || {
    cat "$log" >&2
    exit 1
  }
  apt_install || {
    cat "$log" >&2
    say "apt-get install ${missing[*]} failed (output above)"
    exit 1
  }
fi
