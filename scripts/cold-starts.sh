#!/usr/bin/env bash
# Cold starts of the local stack, over and over: proof that `bash scripts/stack.sh up` starts
# from nothing every time (issue 13 item 6: a first start on a new machine once failed while
# creating the Ceph pools, with `Error EPERM: problem getting command descriptions from mon`).
#
#   bash scripts/cold-starts.sh [N]          N cold starts, 20 by default
#   npm run stack:cold-starts [-- N]
#
# Each iteration uses a FRESH stack dir (mktemp -d, DDB_REWIND_STACK_DIR) and ports of its own, so
# the main stack (<repo>/.stack on 8000/7480/6789) and the tests that use it are never touched:
#   1. `stack.sh up` builds DynamoDB Local and a new Ceph cluster (monitor, OSD, pools, radosgw);
#   2. checks that they work: S3 (a versioned bucket, two PUTs of one key, ListObjectVersions
#      lists both versions) and DynamoDB (CreateTable, PutItem, GetItem), with the AWS SDK from
#      node_modules;
#   3. `stack.sh down` (it stops exactly the processes of that stack dir, by PID), then checks
#      that no process of that dir is left, and removes the dir.
# One line per iteration with its times; at the end "K of N cold starts passed". Exit status 1
# if any iteration failed; a failed iteration prints its output and the end of its logs.
#
# Settings (environment):
#   COLD_STARTS_DDB_PORT=18000  COLD_STARTS_S3_PORT=17480  COLD_STARTS_MON_PORT=16789
#   STACK_S3_STORE              passed on to stack.sh (memstore by default)
# Two runs of this script at once need different ports.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-20}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash scripts/cold-starts.sh [N]   (N >= 1, default 20)" >&2; exit 2; }
export DDB_REWIND_DDB_PORT=${COLD_STARTS_DDB_PORT:-18000}
export DDB_REWIND_S3_PORT=${COLD_STARTS_S3_PORT:-17480}
export DDB_REWIND_MON_PORT=${COLD_STARTS_MON_PORT:-16789}
unset DDB_REWIND_EXTERNAL_S3 # the point is the Ceph cluster
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
STACK_SH=$ROOT/scripts/stack.sh

# shellcheck disable=SC2016 # $1 is expanded by the inner bash
port_open() { timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null; }
for port in "$DDB_REWIND_DDB_PORT" "$DDB_REWIND_S3_PORT" "$DDB_REWIND_MON_PORT"; do
  case $port in 8000 | 7480 | 6789) echo "cold-starts: port $port is the main stack's: pick others (COLD_STARTS_*_PORT)" >&2; exit 2 ;; esac
  if port_open "$port"; then
    echo "cold-starts: port $port is in use (another cold-starts run?): set COLD_STARTS_*_PORT" >&2
    exit 2
  fi
done
[[ -d $ROOT/node_modules/@aws-sdk/client-s3 ]] || { echo "cold-starts: node_modules is missing: run \`npm ci\`" >&2; exit 2; }

ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { printf '%d.%02d' $(($1 / 1000)) $(($1 % 1000 / 10)); }

# PIDs of processes whose command line names DIR (a unique mktemp path, so they are this run's).
pids_of_dir() {
  local d pid
  local -a argv
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    mapfile -d '' argv 2>/dev/null <"$d/cmdline" || continue
    [[ " ${argv[*]} " == *"$1/"* || " ${argv[*]} " == *"=$1 "* ]] && echo "$pid"
  done
  return 0
}

dir=''
cleanup() { # on exit or interrupt: the current iteration's stack goes too
  [[ -n $dir && -d $dir ]] || return 0
  DDB_REWIND_STACK_DIR=$dir bash "$STACK_SH" down >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

check() { # S3 and DynamoDB on the endpoints of the stack dir's env file
  (
    # shellcheck disable=SC1091
    source "$dir/env"
    cd "$ROOT"
    node - <<'JS'
const s3sdk = require('@aws-sdk/client-s3');
const ddbsdk = require('@aws-sdk/client-dynamodb');
(async () => {
  const s3 = new s3sdk.S3Client({
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = 'cold-start';
  await s3.send(new s3sdk.CreateBucketCommand({ Bucket }));
  await s3.send(new s3sdk.PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  const ids = [];
  for (const Body of ['one', 'two']) ids.push((await s3.send(new s3sdk.PutObjectCommand({ Bucket, Key: 'k', Body }))).VersionId);
  const listed = (await s3.send(new s3sdk.ListObjectVersionsCommand({ Bucket }))).Versions ?? [];
  const got = listed.map((v) => v.VersionId).sort().join(',');
  if (ids.some((id) => !id) || got !== [...ids].sort().join(',')) {
    throw new Error(`S3: PUT gave versions ${ids}, ListObjectVersions lists ${got || 'none'}`);
  }
  const ddb = new ddbsdk.DynamoDBClient({});
  const TableName = 'cold-start';
  await ddb.send(new ddbsdk.CreateTableCommand({
    TableName,
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  }));
  await ddb.send(new ddbsdk.PutItemCommand({ TableName, Item: { pk: { S: 'a' }, n: { N: '1' } } }));
  const item = (await ddb.send(new ddbsdk.GetItemCommand({ TableName, Key: { pk: { S: 'a' } }, ConsistentRead: true }))).Item;
  if (item?.n?.N !== '1') throw new Error(`DynamoDB: GetItem returned ${JSON.stringify(item)}`);
})().catch((e) => {
  console.error(`check failed: ${e.name}: ${e.message}`);
  process.exit(1);
});
JS
  )
}

show_logs() { # show_logs OUTPUT: a failed iteration's output and the end of each of its logs
  echo "---- output"
  printf '%s\n' "$1" | sed 's/^/  | /'
  local f
  for f in "$dir"/log/*.log; do
    [[ -s $f ]] || continue
    echo "---- last 40 lines of $f"
    tail -n 40 "$f" | cut -c1-300 | sed 's/^/  | /'
  done
  echo "----"
}

echo "cold-starts: $N cold starts of the local stack (ports: DynamoDB $DDB_REWIND_DDB_PORT, S3 $DDB_REWIND_S3_PORT, ceph-mon $DDB_REWIND_MON_PORT; store ${STACK_S3_STORE:-memstore})"
passed=0
retried=0
up_total=0
for i in $(seq "$N"); do
  dir=$(mktemp -d "${TMPDIR:-/tmp}/ddb-rewind-cold.XXXXXX")
  export DDB_REWIND_STACK_DIR=$dir
  ok=1 why='' out='' note=''
  t0=$(ms)
  if ! out=$(bash "$STACK_SH" up 2>&1); then ok=0 why='stack.sh up failed'; fi
  t1=$(ms)
  if ((ok)) && ! out+=$'\n'$(check 2>&1); then ok=0 why='S3/DynamoDB check failed'; fi
  t2=$(ms)
  # Retries of the pool set-up (stack.sh logs every refused attempt): evidence the race was met.
  n=$(grep -c '^== attempt' "$dir/log/pools.log" 2>/dev/null || true)
  if ((${n:-0} > 1)); then
    note="  (Ceph set-up took $n attempts)"
    retried=$((retried + 1))
  fi
  down=$(bash "$STACK_SH" down 2>&1) || { ((ok == 0)) || why='stack.sh down failed'; ok=0; }
  out+=$'\n'$down
  mapfile -t left < <(pids_of_dir "$dir")
  if ((${#left[@]})); then
    ((ok == 0)) || why="processes of the stack dir left after down: ${left[*]}"
    ok=0
    kill -KILL "${left[@]}" 2>/dev/null || true # this run's own: their command lines name its temp dir
  fi
  t3=$(ms)
  line=$(printf 'cold start %2d/%d: up %s s, check %s s, down %s s, total %s s' "$i" "$N" \
    "$(secs $((t1 - t0)))" "$(secs $((t2 - t1)))" "$(secs $((t3 - t2)))" "$(secs $((t3 - t0)))")
  if ((ok)); then
    passed=$((passed + 1))
    up_total=$((up_total + t1 - t0))
    echo "$line  ok$note"
  else
    echo "$line  FAILED: $why$note"
    show_logs "$out"
  fi
  rm -rf "$dir"
  dir=''
done
((passed == 0)) || echo "cold-starts: mean \`up\` time of the passed starts: $(secs $((up_total / passed))) s; $retried of $N needed a retry of the Ceph set-up"
echo "$passed of $N cold starts passed"
((passed == N))
