#!/usr/bin/env bash
# lab/killed.sh (as root): servers killed (SIGKILL) after reading a request they never answer,
# and the same programs healthy, into tests/fixtures/killed/NAME--FLAGS/ (traces
# zstd-compressed). Three pairs of programs: redis-cli asking redis-server to `DEBUG SLEEP`,
# curl asking a Python server (lab/programs/stall_server.py), and a node client
# (lab/programs/ask_client.js) asking a Perl server (lab/programs/stall_server.pl). FLAGS:
# `record` (netcheck record) and `plain` (strace -f -tt -T -yy), both with -s 256.
#
# Two namespaces joined by a veth pair: nkl-srv (10.89.0.1) and nkl-cli (10.89.0.2).
# Usage: lab/killed.sh [SCENARIO-PREFIX...]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/tests/fixtures/killed}
NETCHECK=${NETCHECK:-$ROOT/target/release/netcheck}
PROGRAMS=$ROOT/lab/programs
SRV=nkl-srv
CLI=nkl-cli
SRV_IP=10.89.0.1
CLI_IP=10.89.0.2
VETH=nkl-veth
FLAG_SETS=${FLAG_SETS:-record plain}
PY=/usr/bin/python3
# shellcheck source=lab/pair.sh
. "$ROOT/lab/pair.sh"
trap pair_teardown EXIT

log() { printf '[killed] %s\n' "$*" >&2; }




# The pid of the program called COMM running in the server's namespace (not its tracer).
victim() {
  ip netns pids "$SRV" | while read -r p; do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ] && echo "$p"
  done | head -1
}

# scenario NAME PORT COMM SERVER-CMD CLIENT-CMD kill|stop|self: one recording per flag set.
# `kill`: the server (program COMM) is killed by SIGKILL 0.7 s after the client started;
# `stop`: it is stopped with SIGTERM once the client is done; `self`: it ends by itself.
scenario() {
  local name=$1 port=$2 comm=$3 server=$4 client=$5 end=$6
  local flags dir spid cpid pid
  for flags in $FLAG_SETS; do
    dir=$OUT/$name--$flags
    rm -rf "$dir"
    mkdir -p "$dir"
    log "$name--$flags"
    # shellcheck disable=SC2086
    ip netns exec "$SRV" bash -c "$(declare -f traced); NETCHECK=$NETCHECK; traced $flags $dir server $server" &
    spid=$!
    wait_listening "$port"
    # shellcheck disable=SC2086
    ip netns exec "$CLI" bash -c "$(declare -f traced); NETCHECK=$NETCHECK; traced $flags $dir client $client" &
    cpid=$!
    if [ "$end" = kill ]; then
      sleep 0.7
      pid=$(victim "$comm")
      [ -n "$pid" ] && kill -KILL "$pid"
    fi
    wait "$cpid" || true
    if [ "$end" = stop ]; then
      pid=$(victim "$comm")
      [ -n "$pid" ] && kill -TERM "$pid"
    fi
    wait "$spid" || true
    {
      echo "# $name--$flags: recorded by lab/killed.sh"
      echo "host server"
      echo " trace server.trace.zst"
      echo " ip $SRV_IP"
      echo "host client"
      echo " trace client.trace.zst"
      echo " ip $CLI_IP"
    } >"$dir/netcheck.conf"
    expectation "$name" "$flags" >"$dir/expected.json"
    rm -f "$dir"/*.log
    for f in "$dir"/*.trace; do
      zstd -q -19 --rm "$f" -o "$f.zst"
    done
  done
}

# expectation NAME FLAGS: the expected.json of a scenario (the same for every flag set).
expectation() {
  local name=$1 flags=$2 programs=${1#*--}
  case $name in
    healthy--*)
      printf '{\n  "scenario": "%s",\n  "description": "%s",\n  "must_not_report": ["unparsed-lines"],\n  "healthy": true,\n  "views": { "server": { "healthy": true }, "client": { "healthy": true } }\n}\n' \
        "$name--$flags" "one request answered ($programs)" ;;
    killed--*)
      printf '{\n  "scenario": "%s",\n  "description": "%s",\n  "must_report": ["no-reply"],\n  "must_not_report": ["unparsed-lines"],\n  "views": { "server": { "invisible": "the server trace ends at its death" }, "client": { "must_report_any": ["no-reply"] } }\n}\n' \
        "$name--$flags" "the server reads the request and is killed by SIGKILL before it answers ($programs): the client reads the end of the stream" ;;
  esac
}

want() { # NAME: is the scenario selected by the command line?
  [ ${#SELECTED[@]} -eq 0 ] && return 0
  local p
  for p in "${SELECTED[@]}"; do [[ $1 == "$p"* ]] && return 0; done
  return 1
}

main() {
  SELECTED=("$@")
  pair_topology
  local redis="redis-server --port 7700 --bind 0.0.0.0 --protected-mode no --save '' --appendonly no --enable-debug-command yes"
  want healthy--redis && scenario healthy--redis 7700 redis-server "$redis" \
    "redis-cli -h $SRV_IP -p 7700 DEBUG SLEEP 0" stop
  want killed--redis && scenario killed--redis 7700 redis-server "$redis" \
    "redis-cli -h $SRV_IP -p 7700 DEBUG SLEEP 10" kill
  want healthy--curl-python && scenario healthy--curl-python 7701 python3 \
    "$PY $PROGRAMS/stall_server.py 7701 answer" "curl -sS http://$SRV_IP:7701/" self
  want killed--curl-python && scenario killed--curl-python 7701 python3 \
    "$PY $PROGRAMS/stall_server.py 7701" "curl -sS http://$SRV_IP:7701/" kill
  want healthy--node-perl && scenario healthy--node-perl 7702 perl \
    "perl $PROGRAMS/stall_server.pl 7702 answer" "node $PROGRAMS/ask_client.js $SRV_IP 7702" self
  want killed--node-perl && scenario killed--node-perl 7702 perl \
    "perl $PROGRAMS/stall_server.pl 7702" "node $PROGRAMS/ask_client.js $SRV_IP 7702" kill
  log "done"
}

main "$@"
