#!/usr/bin/env bash
# Installs what this project needs on a fresh Debian machine, and nothing that is already there:
# npm packages (npm ci), a Java runtime for DynamoDB Local, Ceph for the local S3 server.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

missing=()
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
if [[ ${DDB_REWIND_EXTERNAL_S3:-0} != 1 ]]; then
  command -v radosgw >/dev/null || missing+=(radosgw)
  command -v ceph-mon >/dev/null || missing+=(ceph-mon)
  command -v ceph-osd >/dev/null || missing+=(ceph-osd)
  command -v ceph >/dev/null || missing+=(ceph-common)
fi
if ((${#missing[@]})); then
  if [[ $(id -u) != 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]}: install them as root (apt-get install --no-install-recommends ${missing[*]})" >&2
    exit 1
  fi
  echo "setup: apt-get install ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
