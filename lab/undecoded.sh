#!/usr/bin/env bash
# lab/undecoded.sh (as root): traces whose socket addresses strace printed undecoded, into
# tests/fixtures/undecoded/NAME--FLAGS/ (traces zstd-compressed). FLAGS: `raw` (strace -e
# raw=all) and `noverbose` (strace -e verbose=none), both -f -ttt -T -s 256. Scenarios: curl
# asking a Python server (lab/programs/stall_server.py) that answers, and curl and redis-cli
# connecting to a port nothing listens on (refused, only the client traced).
#
# Two namespaces joined by a veth pair: nud-srv (10.93.0.1) and nud-cli (10.93.0.2).
# Usage: lab/undecoded.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/tests/fixtures/undecoded}
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

# traced_in NS FLAGS DIR HOST CMD...: CMD traced in namespace NS.
traced_in() {
  local ns=$1 flags=$2 dir=$3 host=$4
  shift 4
  ip netns exec "$ns" bash -c "$(declare -f traced); NETCHECK=$NETCHECK; traced $flags $dir $host $*"
}

# finish DIR HOST...: the configuration naming the traced HOSTs, traces compressed.
finish() {
  local dir=$1
  shift
  {
    echo "# $(basename "$dir"): recorded by lab/undecoded.sh"
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

pair_topology
for flags in raw noverbose; do
  dir=$OUT/healthy--curl-python--$flags
  rm -rf "$dir" && mkdir -p "$dir"
  traced_in "$SRV" "$flags" "$dir" server "$PY $PROGRAMS/stall_server.py 7720 answer" &
  spid=$!
  wait_listening 7720
  traced_in "$CLI" "$flags" "$dir" client "curl -sS http://$SRV_IP:7720/" || true
  wait "$spid" || true
  finish "$dir" server client

  dir=$OUT/refused--curl--$flags
  rm -rf "$dir" && mkdir -p "$dir"
  traced_in "$CLI" "$flags" "$dir" client "curl -sS http://$SRV_IP:7721/" || true
  finish "$dir" client

  dir=$OUT/refused--redis--$flags
  rm -rf "$dir" && mkdir -p "$dir"
  traced_in "$CLI" "$flags" "$dir" client "redis-cli -h $SRV_IP -p 7722 PING" || true
  finish "$dir" client
done
