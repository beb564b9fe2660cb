#!/usr/bin/env bash
# lab/multi.sh (as root): records clients that resolve a server's name to several addresses and
# fall back from one to the next (curl's Happy Eyeballs, wget's addresses in turn, Python's
# socket.create_connection, Go's net.Dialer, Node.js's autoSelectFamily), healthy and with the
# first address dead in each way a path can be dead, into tests/fixtures/multi/NAME--CLIENT--FLAGS/.
# FLAGS: `record` (netcheck record), `plain` (strace -f -tt -T -yy) and `ttt` (strace -f -ttt
# -T, no -yy), all with -s 256. Traces are kept zstd-compressed.
#
# Two namespaces joined by one veth pair: nma-srv (fd7a::1, 3fff:7a::1, 10.96.0.1, 10.96.0.3)
# and nma-cli (fd7a::2, 3fff:7a::2, 10.96.0.2). The client's /etc/hosts (ip netns exec
# bind-mounts /etc/netns/nma-cli/hosts) gives each name two addresses:
#   srv  = fd7a::1, 10.96.0.1     srv2 = 10.96.0.3, 10.96.0.1     srvu = fd7c::1, 10.96.0.1
#   srvg = 3fff:7a::1, 10.96.0.1  srvh = fd7d::1, 10.96.0.1
# (fd7c::/64 has no route in the client: ENETUNREACH, so getaddrinfo's probe sorts it last;
# fd7d::/64 is routed through fd7a::99, a gateway no host answers neighbour discovery for:
# the probe succeeds, the SYN never leaves: the connect times out or fails with EHOSTUNREACH). glibc's getaddrinfo sorts fd7a::1 first
# (its default table ranks every IPv6 address above IPv4), Go's resolver follows RFC 6724,
# where a unique local address (fc00::/7) ranks below IPv4: the Go client is given srvg, whose
# address (RFC 9637's documentation prefix, unknown to Go's table) ranks above IPv4, and one
# case (ula-first) shows it ordering srv's addresses IPv4 first. One port per case:
#   8080 healthy           server on [::] (dual-stack)
#   8081 v6-drop           server on [::]; the server's ip6tables drops the port
#   8082 v6-refused        server on 0.0.0.0 only: the IPv6 connect is refused
#   8083 all-refused       nothing listens
#   8084 all-drop          both families dropped, nothing listens
#   8085 v4-first-drop     srv2; the server's iptables drops everything to 10.96.0.3
#   8086 v6-unreach        srvu; server on [::]
#   8087 v6-hostunreach    srvh; server on [::]
#   8081 ula-first         Go only: srv, as v6-drop; Go connects over IPv4 first
# The client gives up a connect after two SYNs (about 3 s: net.ipv4.tcp_syn_retries=1).
# Usage: lab/multi.sh [CASE-PREFIX...]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/tests/fixtures/multi}
NETCHECK=${NETCHECK:-$ROOT/target/release/netcheck}
SRV=nma-srv
CLI=nma-cli
PY=/usr/bin/python3
PROGS=$ROOT/lab/programs
FLAG_SETS=${FLAG_SETS:-record plain ttt}
CLIENTS=${CLIENTS:-curl wget python go node}
BIN=$(mktemp -d)
WORK=$(mktemp -d)
# shellcheck source=lab/pair.sh
. "$ROOT/lab/pair.sh"
trap 'teardown; rm -rf "$BIN" "$WORK"' EXIT

log() { printf '[multi] %s\n' "$*" >&2; }

teardown() {
  ip netns del "$SRV" 2>/dev/null || true
  ip netns del "$CLI" 2>/dev/null || true
  rm -rf /etc/netns/"$CLI"
}

build() {
  (cd "$BIN" && cp "$PROGS/multi_client.go" main.go && GOCACHE=$BIN/cache GO111MODULE=off \
    go build -o "$BIN/goclient" main.go)
}

topology() {
  teardown
  ip netns add "$SRV"
  ip netns add "$CLI"
  ip link add nma0 netns "$SRV" type veth peer name nma1 netns "$CLI"
  ip -n "$SRV" addr add 10.96.0.1/24 dev nma0
  ip -n "$SRV" addr add 10.96.0.3/24 dev nma0
  ip -n "$SRV" addr add fd7a::1/64 dev nma0 nodad
  ip -n "$SRV" addr add 3fff:7a::1/64 dev nma0 nodad
  ip -n "$CLI" addr add 10.96.0.2/24 dev nma1
  ip -n "$CLI" addr add fd7a::2/64 dev nma1 nodad
  ip -n "$CLI" addr add 3fff:7a::2/64 dev nma1 nodad
  local n
  for n in "$SRV" "$CLI"; do ip -n "$n" link set lo up; done
  ip -n "$SRV" link set nma0 up
  ip -n "$CLI" link set nma1 up
  ip netns exec "$CLI" sysctl -qw net.ipv4.tcp_syn_retries=1
  ip -n "$CLI" -6 route add fd7d::/64 via fd7a::99 dev nma1
  ip netns exec "$SRV" ip6tables -A INPUT -p tcp --dport 8081 -j DROP
  ip netns exec "$SRV" ip6tables -A INPUT -p tcp --dport 8084 -j DROP
  ip netns exec "$SRV" iptables -A INPUT -p tcp --dport 8084 -j DROP
  ip netns exec "$SRV" iptables -A INPUT -d 10.96.0.3 -j DROP
  mkdir -p /etc/netns/"$CLI"
  printf '127.0.0.1 localhost\n::1 localhost\nfd7a::1 srv\n10.96.0.1 srv\n10.96.0.3 srv2\n10.96.0.1 srv2\nfd7c::1 srvu\n10.96.0.1 srvu\n3fff:7a::1 srvg\n10.96.0.1 srvg\nfd7d::1 srvh\n10.96.0.1 srvh\n' \
    >/etc/netns/"$CLI"/hosts
  sleep 1
}



client_cmd() { # CLIENT NAME PORT
  local url="http://$2:$3/"
  case $1 in
    curl) echo "curl -sS -o /dev/null --connect-timeout 8 $url" ;;
    wget) echo "wget -q -O /dev/null --tries=1 --connect-timeout=2 $url" ;;
    python) echo "$PY $PROGS/multi_client.py $2 $3" ;;
    go) echo "$BIN/goclient $2 $3" ;;
    node) echo "node $PROGS/multi_client.js $2 $3" ;;
  esac
}

# scenario CASE CLIENT NAME PORT SERVER-FAMILY|-: one recording per flag set.
scenario() {
  local case=$1 client=$2 name=$3 port=$4 family=$5
  local flags dir pid cmd
  cmd=$(client_cmd "$client" "$name" "$port")
  for flags in $FLAG_SETS; do
    dir=$OUT/$case--$client--$flags
    rm -rf "$dir" "$WORK"/*
    mkdir -p "$dir"
    log "$case--$client--$flags"
    pid=""
    if [ "$family" != - ]; then
      ip netns exec "$SRV" bash -c "$(declare -f traced); NETCHECK=$NETCHECK; traced $flags $WORK server $PY $PROGS/multi_server.py $family $port 1" &
      pid=$!
      wait_listening "$port"
    fi
    # shellcheck disable=SC2086
    ip netns exec "$CLI" bash -c "$(declare -f traced); NETCHECK=$NETCHECK; traced $flags $WORK client $cmd" || true
    if [ -n "$pid" ]; then
      # A client that never reached the server leaves it waiting: its accept times out.
      wait "$pid" || true
    fi
    local t
    for t in server client; do
      [ -f "$WORK/$t.trace" ] && zstd -q -19 -f "$WORK/$t.trace" -o "$dir/$t.trace.zst"
    done
    {
      echo "# $case--$client--$flags: recorded by lab/multi.sh"
      echo "host server"
      [ "$family" != - ] && echo " trace server.trace.zst"
      echo " ip fd7a::1"
      echo " ip 3fff:7a::1"
      echo " ip 10.96.0.1"
      echo " ip 10.96.0.3"
      echo "host client"
      echo " trace client.trace.zst"
      echo " ip fd7a::2"
      echo " ip 3fff:7a::2"
      echo " ip 10.96.0.2"
    } >"$dir/netcheck.conf"
    expectation "$case" "$client" "$flags" "$family" >"$dir/expected.json"
  done
}

# expectation CASE CLIENT FLAGS FAMILY: the expected.json of a scenario.
expectation() {
  local case=$1 client=$2 flags=$3 family=$4 desc healthy=false report='' srv='{ "healthy": true }' cli
  case $case in
    healthy) desc="the name has an IPv6 and an IPv4 address and a dual-stack server answers on both: $client connects to the first"; healthy=true ;;
    ula-first) desc="the name has a unique local IPv6 address (fd7a::1, whose SYNs the server's firewall drops) and an IPv4 address: Go's RFC 6724 order puts IPv4 first, so it connects over IPv4 at once"; healthy=true ;;
    v6-drop) desc="the server's firewall drops IPv6 SYNs: $client gives up on the IPv6 address and gets its answer over IPv4"
      report='"must_report_any": ["connect-filtered", "connect-never-completed"]' ;;
    v6-refused) desc="the server listens on IPv4 only: $client's IPv6 connect is refused, then it gets its answer over IPv4"
      report='"must_report_any": ["connect-refused", "ip-version-mismatch"]' ;;
    all-refused) desc="nothing listens on either address: $client's connects to both are refused"
      report='"must_report": ["connect-refused"]' ;;
    all-drop) desc="the server's firewall drops SYNs to both addresses: $client's connects to both go unanswered"
      report='"must_report_any": ["connect-filtered", "connect-never-completed"]' ;;
    v4-first-drop) desc="the name's first address, 10.96.0.3, is dropped by the server's firewall: $client gives up on it and gets its answer from 10.96.0.1"
      report='"must_report_any": ["connect-filtered", "connect-never-completed"]' ;;
    v6-unreach) desc="the name's IPv6 address has no route: getaddrinfo's probe (a UDP connect) says ENETUNREACH and sorts it last, so $client connects over IPv4 at once"
      healthy=true ;;
    v6-hostunreach)
      if [ "$client" = go ]; then
        desc="the name's unique local IPv6 address is routed through a gateway that does not answer; Go's RFC 6724 order puts IPv4 first, so it connects over IPv4 at once"
        healthy=true
      else
        desc="the name's IPv6 address is routed through a gateway that does not answer neighbour discovery: $client's IPv6 connect times out, fails with EHOSTUNREACH or is abandoned, then it gets its answer over IPv4"
        report='"must_report_any": ["connect-filtered", "connect-never-completed"]'
      fi ;;
  esac
  cli="{ ${report:-\"healthy\": true} }"
  [ "$healthy" = true ] && cli='{ "healthy": true }'
  if [ "$family" = - ]; then
    # Without the server's trace the full run is the client's view: no view to add.
    printf '{\n  "scenario": "%s",\n  "description": "%s",\n  %s,\n  "must_not_report": ["unparsed-lines"],\n  "views": { }\n}\n' \
      "$case--$client--$flags" "$desc" "$report"
  elif [ "$healthy" = true ]; then
    printf '{\n  "scenario": "%s",\n  "description": "%s",\n  "must_not_report": ["unparsed-lines"],\n  "healthy": true,\n  "views": { "server": { "healthy": true }, "client": { "healthy": true } }\n}\n' \
      "$case--$client--$flags" "$desc"
  else
    printf '{\n  "scenario": "%s",\n  "description": "%s",\n  %s,\n  "must_not_report": ["unparsed-lines", "connection-not-accepted", "connect-refused-while-listening"],\n  "views": { "server": %s, "client": %s }\n}\n' \
      "$case--$client--$flags" "$desc" "$report" "$srv" "$cli"
  fi
}

main() {
  if [ "${1:-}" = --expectations ]; then
    # Rewrite every recorded scenario's expected.json from `expectation`, recording nothing.
    local d base case rest client flags family
    for d in "$OUT"/*/; do
      base=$(basename "$d")
      case=${base%%--*}; rest=${base#*--}; client=${rest%%--*}; flags=${rest#*--}
      family=x
      grep -q '^ trace server' "$d/netcheck.conf" || family=-
      expectation "$case" "$client" "$flags" "$family" >"$d/expected.json"
    done
    return
  fi
  [ "$(id -u)" = 0 ] || { log "run as root"; exit 1; }
  build
  topology
  local only=("$@") client
  want() { [ ${#only[@]} = 0 ] && return 0; local p; for p in "${only[@]}"; do [[ $1 == "$p"* ]] && return 0; done; return 1; }
  local name
  for client in $CLIENTS; do
    name=srv
    [ "$client" = go ] && name=srvg
    want healthy && scenario healthy "$client" $name 8080 dual
    want v6-drop && scenario v6-drop "$client" $name 8081 dual
    [ "$client" = go ] && want ula-first && scenario ula-first "$client" srv 8081 dual
    want v6-refused && scenario v6-refused "$client" $name 8082 v4
    want all-refused && scenario all-refused "$client" $name 8083 -
    want all-drop && scenario all-drop "$client" $name 8084 -
    want v4-first-drop && scenario v4-first-drop "$client" srv2 8085 dual
    want v6-unreach && scenario v6-unreach "$client" srvu 8086 dual
    want v6-hostunreach && scenario v6-hostunreach "$client" srvh 8087 dual
  done
  log "done"
}

main "$@"
