#!/usr/bin/env bash
# `npm run ui -- --bucket B [--allow-restore]`: the console on the local stack in one command
# (starts the stack if needed, points the SDK at it, runs `ddb-rewind ui`).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/stack.sh up >&2
eval "$(bash scripts/stack.sh env)"
exec node bin/ddb-rewind.js ui "$@"
