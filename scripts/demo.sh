#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, start the local stack, then show
# backup, history and point-in-time restore end to end (scripts/demo.ts).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh
bash scripts/stack.sh up
eval "$(bash scripts/stack.sh env)"
# The SDK versions are pinned in package-lock.json; its Node 22 notice would only clutter the demo.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
exec npx tsx scripts/demo.ts "$@"
