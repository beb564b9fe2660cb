#!/usr/bin/env bash
# lab/options.sh (as root): strace options that change what a trace can show, into
# tests/fixtures/options/NAME--FLAGS/ (traces zstd-compressed).
#
# Addresses printed undecoded, FLAGS `raw` (strace -e raw=all) and `noverbose` (-e
# verbose=none), both -f -ttt -T -s 256: curl asking a Python server
# (lab/programs/stall_server.py) that answers; curl and redis-cli connecting to a port nothing
# listens on (refused, only the client traced).
#
# Results injected by strace (`-e inject`, FLAGS `inject`: -f -tt -T -yy -s 256 plus the
# injection, on the client only): curl's connect made to fail with ECONNREFUSED, its receive
# with ECONNRESET, and every send made to return 1 without sending; the server answers when
# asked, as in the healthy run.
#
# Two namespaces joined by a veth pair: nud-srv (10.93.0.1) and nud-cli (10.93.0.2).
# Usage: lab/options.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/tests/fixtures/options}
NETCHECK=${NETCHECK:-$ROOT/target/release/netcheck}
PROGRAMS=$ROOT/lab/programs
SRV=nud-srv
CLI=nud-cli
SRV_IP=10.93.0.1
CLI_IP=10.93.0.2
VETH=nud-veth
PY=/usr/bin/python3
# shellcheck source=lab/pair.sh
. "$ROOT/lab/pair.sh"
trap pair_teardown EXIT

# traced_in NS FLAGS DIR HOST CMD...: CMD traced in namespace NS (STRACE_EXTRA passed on).
traced_in() {
  local ns=$1 flags=$2 dir=$3 host=$4
  shift 4
  ip netns exec "$ns" bash -c "$(declare -f traced); NETCHECK=$NETCHECK; \
    STRACE_EXTRA='${STRACE_EXTRA:-}'; traced $flags $dir $host $*"
}

# finish DIR HOST...: the configuration naming the traced HOSTs, traces compressed.
finish() {
  local dir=$1
  shift
  {
    echo "# $(basename "$dir"): recorded by lab/options.sh"
    echo "host server"
    [[ " $* " == *" server "* ]] && echo " trace server.trace.zst"
    echo " ip $SRV_IP"
    echo "host client"
    echo " trace client.trace.zst"
    echo " ip $CLI_IP"
  } >"$dir/netcheck.conf"
  rm -f "$dir"/*.log
  for f in "$dir"/*.trace; do
    zstd -q -19 --rm "$f" -o "$f.zst"
  done
}

# stop_server: SIGTERM to the Python server in the server's namespace, if still there.
stop_server() {
  local p
  for p in $(ip netns pids "$SRV"); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = python3 ] && kill -TERM "$p"
  done
  return 0
}

# answered NAME FLAGS CLIENT-FLAGS: curl asks the Python server on port 7720, both traced (the
# server with FLAGS, the client with CLIENT-FLAGS).
answered() {
  local dir=$OUT/$1--$2
  rm -rf "$dir" && mkdir -p "$dir"
  STRACE_EXTRA='' traced_in "$SRV" "$2" "$dir" server "$PY $PROGRAMS/stall_server.py 7720 answer" &
  local spid=$!
  wait_listening 7720
  traced_in "$CLI" "$3" "$dir" client "curl -sS -m 3 http://$SRV_IP:7720/" || true
  # The server serves one connection: one whose connect never ran leaves it waiting.
  sleep 0.5
  stop_server
  wait "$spid" || true
  finish "$dir" server client
}

pair_topology
for flags in raw noverbose; do
  answered healthy--curl-python "$flags" "$flags"

  dir=$OUT/refused--curl--$flags
  rm -rf "$dir" && mkdir -p "$dir"
  traced_in "$CLI" "$flags" "$dir" client "curl -sS http://$SRV_IP:7721/" || true
  finish "$dir" client

  dir=$OUT/refused--redis--$flags
  rm -rf "$dir" && mkdir -p "$dir"
  traced_in "$CLI" "$flags" "$dir" client "redis-cli -h $SRV_IP -p 7722 PING" || true
  finish "$dir" client
done
STRACE_EXTRA="-e inject=connect:error=ECONNREFUSED" answered inject-refused--curl-python plain extra
STRACE_EXTRA="-e inject=recvfrom:error=ECONNRESET" answered inject-reset--curl-python plain extra
STRACE_EXTRA="-e inject=sendto:retval=1" answered inject-sendto--curl-python plain extra
