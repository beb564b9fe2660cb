#!/usr/bin/env bash
# lab/capi.sh (as root): records lab/programs/capi.c and capi_uring.c, small programs that use
# the less common Linux socket calls (sendmmsg/recvmmsg, recvmsg with MSG_TRUNC, TCP Fast Open,
# SO_LINGER, connect(AF_UNSPEC), accept4, ppoll, pselect6, epoll_pwait2, POLLRDHUP, MSG_WAITALL,
# MSG_DONTWAIT, MSG_NOSIGNAL, sendfile, splice, dup2/dup3/F_DUPFD_CLOEXEC, close_range,
# io_uring), healthy and with real faults, into tests/fixtures/capi/NAME--FLAGS/. socat peers
# answer some of them. FLAGS: `record` (netcheck record), `plain` (strace -f -tt -T -yy) and
# `ttt` (strace -f -ttt -T, no -yy), all with -s 128.
#
# Two namespaces joined by a veth pair: ncp-capi-srv (10.88.0.1) and ncp-capi-cli (10.88.0.2).
# The server's firewall drops TCP port 7602 and drops half the UDP datagrams to port 7611;
# ports 7601 (TCP) and 7612 (UDP) are closed. Usage: lab/capi.sh [SCENARIO-PREFIX...]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/tests/fixtures/capi}
NETCHECK=${NETCHECK:-$ROOT/target/release/netcheck}
SRV=ncp-capi-srv
CLI=ncp-capi-cli
SRV_IP=10.88.0.1
CLI_IP=10.88.0.2
FLAG_SETS=${FLAG_SETS:-record plain ttt}
BIN=$(mktemp -d)
trap 'teardown; rm -rf "$BIN"' EXIT

log() { printf '[capi] %s\n' "$*" >&2; }

teardown() {
  ip netns del "$SRV" 2>/dev/null || true
  ip netns del "$CLI" 2>/dev/null || true
}

build() {
  gcc -O1 -Wall -o "$BIN/capi" "$ROOT/lab/programs/capi.c"
  gcc -O1 -Wall -o "$BIN/capi_uring" "$ROOT/lab/programs/capi_uring.c" -luring
}

topology() {
  teardown
  ip netns add "$SRV"
  ip netns add "$CLI"
  ip link add ncp-capi0 netns "$SRV" type veth peer name ncp-capi1 netns "$CLI"
  ip -n "$SRV" addr add "$SRV_IP/24" dev ncp-capi0
  ip -n "$CLI" addr add "$CLI_IP/24" dev ncp-capi1
  local n
  for n in "$SRV" "$CLI"; do
    ip -n "$n" link set lo up
    # Fast Open in both directions, and without a cookie, so the first SYN carries data.
    ip netns exec "$n" sysctl -qw net.ipv4.tcp_fastopen=0x207
  done
  ip -n "$SRV" link set ncp-capi0 up
  ip -n "$CLI" link set ncp-capi1 up
  ip netns exec "$SRV" iptables -A INPUT -p tcp --dport 7602 -j DROP
  ip netns exec "$SRV" iptables -A INPUT -p udp --dport 7611 -m statistic --mode random \
    --probability 0.5 -j DROP
  # The client gives up a connect after two SYNs (about 3 s) instead of two minutes.
  ip netns exec "$CLI" sysctl -qw net.ipv4.tcp_syn_retries=1
}

# traced FLAGS DIR HOST CMD...: CMD under strace with the flag set, writing DIR/HOST.trace.
traced() {
  local flags=$1 dir=$2 host=$3
  shift 3
  case $flags in
    record) "$NETCHECK" record -o "$dir/$host.trace" --host "$host" --string-limit 128 -- "$@" \
      >"$dir/$host.log" 2>&1 ;;
    plain) strace -f -tt -T -yy -s 128 -o "$dir/$host.trace" "$@" >"$dir/$host.log" 2>&1 ;;
    ttt) strace -f -ttt -T -s 128 -o "$dir/$host.trace" "$@" >"$dir/$host.log" 2>&1 ;;
  esac
}

wait_bound() { # PROTO(t|u) PORT
  local i
  for i in $(seq 100); do
    ip netns exec "$SRV" ss -Hln"$1" "sport = :$2" | grep -q . && return 0
    sleep 0.1
  done
  log "nothing bound on $1 port $2"
  return 1
}

# scenario NAME PROTO PORT SERVER-CMD|- CLIENT-CMD [kill]: one recording per flag set. The
# server (when there is one) runs in ncp-capi-srv, the client in ncp-capi-cli; with `kill` the
# server is killed by SIGKILL 0.5 s after the client started.
scenario() {
  local name=$1 proto=$2 port=$3 server=$4 client=$5 action=${6:-}
  local flags dir pid
  for flags in $FLAG_SETS; do
    dir=$OUT/$name--$flags
    rm -rf "$dir"
    mkdir -p "$dir"
    log "$name--$flags"
    pid=""
    if [ "$server" != - ]; then
      # shellcheck disable=SC2086
      ip netns exec "$SRV" bash -c "$(declare -f traced); NETCHECK=$NETCHECK; traced $flags $dir server $server" &
      pid=$!
      wait_bound "$proto" "$port"
    fi
    # shellcheck disable=SC2086
    ip netns exec "$CLI" bash -c "$(declare -f traced); NETCHECK=$NETCHECK; traced $flags $dir client $client" &
    local cpid=$!
    if [ "$action" = kill ]; then
      sleep 0.5
      local victim
      victim=$(ip netns pids "$SRV" | while read -r p; do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = capi ] && echo "$p"; done | head -1)
      [ -n "$victim" ] && kill -KILL "$victim"
    fi
    wait "$cpid" || true
    [ -n "$pid" ] && { wait "$pid" || true; }
    {
      echo "# $name--$flags: recorded by lab/capi.sh"
      echo "host server"
      [ "$server" != - ] && echo " trace server.trace"
      echo " ip $SRV_IP"
      echo "host client"
      echo " trace client.trace"
      echo " ip $CLI_IP"
    } >"$dir/netcheck.conf"
    expectation "$name" "$flags" >"$dir/expected.json"
    rm -f "$dir"/*.log
  done
}

# expectation NAME FLAGS: the expected.json of a scenario (the same for every flag set).
expectation() {
  local name=$1 flags=$2 desc healthy=false report='' srv='{ "healthy": true }' cli='{ "healthy": true }'
  case $name in
    udp-mmsg-healthy) desc="sendmmsg of 4 datagrams, answered by recvmmsg and sendmmsg"; healthy=true ;;
    udp-mmsg-loss) desc="sendmmsg of 4 datagrams through a firewall that drops half of them at random"
      report='"udp-loss"'
      cli='{ "must_report_any": ["udp-loss", "udp-all-lost", "no-reply"] }'; srv='{ "invisible": "the server sees only the datagrams that arrived" }' ;;
    udp-unspec-healthy) desc="a UDP socket connected to one port, dissolved with AF_UNSPEC, connected to another; socat echoes on both"; healthy=true ;;
    udp-unspec-refused) desc="as udp-unspec-healthy, but nothing listens on the second port: the receive says ECONNREFUSED"
      report='"connect-refused"'; cli='{ "must_report_any": ["connect-refused"] }'
      srv='{ "invisible": "the server never hears of the second port" }' ;;
    udp-trunc) desc="recvmsg with MSG_TRUNC into two 16-byte iovecs of a 59-byte datagram socat echoes back"
      report='"datagram-truncated"'; cli='{ "invisible": "the echo comes from a host no trace shows" }'
      srv='{ "invisible": "the server cannot see how its answer was read" }' ;;
    tfo-healthy|tfo-socat-healthy|tfoc-healthy|linger5-healthy|sendfile-healthy|dup-healthy|waits-healthy|uring-healthy)
      desc="one request and its answer, $name"; healthy=true ;;
    tfo-refused|tfoc-refused) desc="a Fast Open connect ($name) to a closed port of a host no trace shows"
      report='"connect-refused"'; srv=none ;;
    tfo-drop) desc="a Fast Open sendto to a port of a host no trace shows, whose SYNs its firewall drops"
      report='"connect-filtered"'; srv=none ;;
    linger0) desc="the client closes abortively (SO_LINGER {1, 0}) after its request: the server's read says ECONNRESET"
      report='"connection-reset"'; srv='{ "must_report_any": ["connection-reset"] }'
      cli='{ "invisible": "the client chose the reset and saw nothing of it" }' ;;
    reset) desc="the server closes abortively (SO_LINGER {1, 0}) after the request: the client's read says ECONNRESET"
      report='"connection-reset"'; cli='{ "must_report_any": ["connection-reset"] }'
      srv='{ "invisible": "the server chose the reset and saw nothing of it" }' ;;
    tunspec) desc="the client dissolves its TCP connection with connect(AF_UNSPEC), which resets it"
      report='"connection-reset"'; srv='{ "must_report_any": ["connection-reset"] }'
      cli='{ "invisible": "the client chose the reset and saw nothing of it" }' ;;
    nosignal|sigpipe) desc="the server closes at once; the client keeps sending ($name)"
      report='"send-after-peer-closed"'; cli='{ "must_report_any": ["send-after-peer-closed"] }' ;;
    peer-killed) desc="the server is killed by SIGKILL while the client waits for its answer"
      report='"no-reply"'
      srv='{ "invisible": "the server trace ends at its death" }'
      cli='{ "must_report_any": ["no-reply"] }' ;;
  esac
  local views="\"server\": $srv, \"client\": $cli"
  # Without the server's trace the full run is the client's view: no view to add.
  [ "$srv" = none ] && views=''
  if [ "$healthy" = true ]; then
    printf '{\n  "scenario": "%s",\n  "description": "%s",\n  "must_not_report": ["unparsed-lines"],\n  "healthy": true,\n  "views": { "server": { "healthy": true }, "client": { "healthy": true } }\n}\n' "$name--$flags" "$desc"
  else
    printf '{\n  "scenario": "%s",\n  "description": "%s",\n  "must_report": [%s],\n  "must_not_report": ["unparsed-lines"],\n  "views": { %s }\n}\n' "$name--$flags" "$desc" "$report" "$views"
  fi
}

# Two socat echo servers, one datagram each, in one traced shell.
SOCAT_UDP_ECHO="sh -c 'timeout 4 socat UDP-RECVFROM:7620 PIPE & timeout 4 socat UDP-RECVFROM:7621 PIPE & wait'"
SOCAT_TCP_ECHO="socat TCP-LISTEN:7600,reuseaddr PIPE"

main() {
  if [ "${1:-}" = --expectations ]; then
    # Rewrite every recorded scenario's expected.json from `expectation`, recording nothing.
    local d base
    for d in "$OUT"/*/; do
      base=$(basename "$d")
      expectation "${base%--*}" "${base##*--}" >"$d/expected.json"
    done
    return
  fi
  [ "$(id -u)" = 0 ] || { log "run as root"; exit 1; }
  build
  topology
  local only=("$@") c=$BIN/capi
  want() { [ ${#only[@]} = 0 ] && return 0; local p; for p in "${only[@]}"; do [[ $1 == "$p"* ]] && return 0; done; return 1; }
  want udp-mmsg-healthy && scenario udp-mmsg-healthy u 7610 "$c srv-udp 7610 4" "$c cli mmsg $SRV_IP 7610"
  want udp-mmsg-loss && scenario udp-mmsg-loss u 7611 "$c srv-udp 7611 4" "$c cli mmsg $SRV_IP 7611"
  want udp-unspec-healthy && scenario udp-unspec-healthy u 7621 "$SOCAT_UDP_ECHO" "$c cli unspec $SRV_IP 7620 7621"
  want udp-unspec-refused && scenario udp-unspec-refused u 7621 "$SOCAT_UDP_ECHO" "$c cli unspec $SRV_IP 7620 7612"
  want udp-trunc && scenario udp-trunc u 7621 "$SOCAT_UDP_ECHO" "$c cli trunc $SRV_IP 7620"
  want tfo-healthy && scenario tfo-healthy t 7600 "$c srv-tcp 7600 echo" "$c cli tfo $SRV_IP 7600"
  want tfo-socat-healthy && scenario tfo-socat-healthy t 7600 "$SOCAT_TCP_ECHO" "$c cli tfo $SRV_IP 7600"
  want tfo-refused && scenario tfo-refused t 0 - "$c cli tfo $SRV_IP 7601"
  want tfo-drop && scenario tfo-drop t 0 - "$c cli tfo $SRV_IP 7602"
  want tfoc-healthy && scenario tfoc-healthy t 7600 "$c srv-tcp 7600 echo" "$c cli tfoc $SRV_IP 7600"
  want tfoc-refused && scenario tfoc-refused t 0 - "$c cli tfoc $SRV_IP 7601"
  want linger0 && scenario linger0 t 7600 "$c srv-tcp 7600 echo" "$c cli linger0 $SRV_IP 7600"
  want linger5-healthy && scenario linger5-healthy t 7600 "$c srv-tcp 7600 echo" "$c cli linger5 $SRV_IP 7600"
  want reset && scenario reset t 7600 "$c srv-tcp 7600 rst" "$c cli reset $SRV_IP 7600"
  want tunspec && scenario tunspec t 7600 "$c srv-tcp 7600 echo" "$c cli tunspec $SRV_IP 7600"
  want nosignal && scenario nosignal t 7600 "$c srv-tcp 7600 close" "$c cli nosignal $SRV_IP 7600"
  want sigpipe && scenario sigpipe t 7600 "$c srv-tcp 7600 close" "$c cli sigpipe $SRV_IP 7600"
  want sendfile-healthy && scenario sendfile-healthy t 7600 "$c srv-tcp 7600 echo" "$c cli sendfile $SRV_IP 7600"
  want dup-healthy && scenario dup-healthy t 7600 "$c srv-tcp 7600 echo" "$c cli dup $SRV_IP 7600"
  want waits-healthy && scenario waits-healthy t 7600 "$c srv-tcp 7600 echo" "$c cli waits $SRV_IP 7600"
  want peer-killed && scenario peer-killed t 7600 "$c srv-tcp 7600 echo" "$c cli reset $SRV_IP 7600" kill
  want uring-healthy && scenario uring-healthy t 7600 "$c srv-tcp 7600 echo" "$BIN/capi_uring $SRV_IP 7600"
  log "done"
}

main "$@"
