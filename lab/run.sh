#!/usr/bin/env bash
# The netcheck real-fault lab: builds small networks out of network namespaces and veth pairs,
# runs real programs under `netcheck record`, injects one fault per scenario and writes the traces,
# a netcheck.conf and an expected.json per scenario under tests/fixtures/lab/<scenario>/.
#
# Usage (as root): lab/run.sh [--only NAME] [--matrix [GLOB]] [--bench] [--list]
#   --only NAME      record only that scenario (the topology is always built whole)
#   --matrix [GLOB]  record only the matrix scenarios (lab/matrix.sh), or those matching GLOB
#   --bench          record a large HTTP scenario into lab/out/bench/ (not committed) instead
#   --list           print the scenario names and exit
#
# NETCHECK=/path/to/netcheck in the environment uses that binary instead of building
# target/release/netcheck.
#
# Every address used lives inside the namespaces this script creates (10.77.0.0/16, fd77::/64);
# the default namespace gets no interface. Everything is torn down on exit.
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$LAB")
FIXTURES=$ROOT/tests/fixtures/lab
NETCHECK_GIVEN=${NETCHECK:+1}
NETCHECK=${NETCHECK:-$ROOT/target/release/netcheck}
WORK=/tmp/netcheck-lab            # fixed path: it appears in recorded execve lines
LOGS=$WORK/logs
NS_PREFIX=ncl-
NAMESPACES="sw srv c1 c2 c3 rt pc ps r2 far"
STRING_LIMIT=256                  # payloads are tiny; keeps interpreter start-up reads short
PROGRAM_TIMEOUT=30                # hard bound on any recorded program

ONLY=""
MATRIX_ONLY=0
MATRIX_GLOB=""
BENCH=0
LIST=0
while [ $# -gt 0 ]; do
  case "$1" in
    --only) ONLY=${2:?--only needs a scenario name}; shift 2 ;;
    --matrix)
      MATRIX_ONLY=1; shift
      if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then MATRIX_GLOB=$1; shift; fi ;;
    --bench) BENCH=1; shift ;;
    --list) LIST=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "lab: unknown argument $1" >&2; exit 2 ;;
  esac
done

log() { printf 'lab: %s\n' "$*" >&2; }
ns() { echo "$NS_PREFIX$1"; }
in_ns() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }

# ---- prerequisites ----------------------------------------------------------------------------

need_tools() {
  local missing=()
  command -v iptables >/dev/null || missing+=(iptables)
  command -v strace >/dev/null || missing+=(strace)
  command -v curl >/dev/null || missing+=(curl)
  command -v socat >/dev/null || missing+=(socat)
  command -v ss >/dev/null || missing+=(iproute2)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
  fi
  PYTHON=$(python3 -c 'import sys; print(sys.executable)')
  if [ -n "$NETCHECK_GIVEN" ]; then
    [ -x "$NETCHECK" ] || { log "NETCHECK=$NETCHECK is not executable"; exit 2; }
  elif [ ! -x "$NETCHECK" ] || [ -n "$(find "$ROOT/src" -newer "$NETCHECK" -name '*.rs' | head -1)" ]; then
    log "building netcheck"
    (cd "$ROOT" && cargo build --release --quiet)
  fi
}

# ---- topology ---------------------------------------------------------------------------------
#
#   c1 10.77.1.21 fd77::21 --+
#   c2 10.77.1.22          --+-- bridge (sw) --+-- srv 10.77.1.10 fd77::10
#   c3 10.77.1.23          --+                 +-- rt  10.77.1.254 (router)
#
#   rt eth1 10.77.2.254 -- pc 10.77.2.21     (private client, MASQUERADE on rt eth0)
#   rt eth2 10.77.3.254 -- ps 10.77.3.10     (private server, DNAT 10.77.1.254:8080 -> :8000)
#   rt eth3 10.77.5.1/30 == MTU 600 == r2 10.77.5.2 ; r2 eth1 10.77.4.254 -- far 10.77.4.10
#   (rt and r2 drop the ICMP "fragmentation needed" they would send: an MTU black hole)

teardown() {
  local n
  for n in $NAMESPACES; do
    ip netns del "$(ns "$n")" 2>/dev/null || true
    rm -rf "/etc/netns/$(ns "$n")"
  done
  rmdir /etc/netns 2>/dev/null || true
}

# `ip netns exec` bind-mounts /etc/netns/NS/* over /etc: each namespace resolves the lab's names
# from its own hosts file and sends any DNS query to its own loopback, never to the machine's
# resolver.
name_service() { # NS
  local dir
  dir=/etc/netns/$(ns "$1")
  mkdir -p "$dir"
  printf 'nameserver 127.0.0.1\n' >"$dir/resolv.conf"
  {
    printf '127.0.0.1 localhost\n::1 localhost\n'
    printf '10.77.1.10 server\n10.77.1.21 client1\n10.77.1.22 client2\n10.77.1.23 client3\n'
    printf '10.77.1.254 router\n10.77.2.21 private-client\n10.77.3.10 private-server\n'
    printf '10.77.4.10 far-server\nfd77::10 server\nfd77::21 client1\n'
  } >"$dir/hosts"
}

lan_attach() { # NAME IPV4 [IPV6]
  local host=$1 ip4=$2 ip6=${3:-}
  ip -n "$(ns sw)" link add "p-$host" type veth peer name eth0 netns "$(ns "$host")"
  ip -n "$(ns sw)" link set "p-$host" master br0 up
  ip -n "$(ns "$host")" addr add "$ip4/24" dev eth0
  if [ -n "$ip6" ]; then ip -n "$(ns "$host")" addr add "$ip6/64" dev eth0 nodad; fi
  ip -n "$(ns "$host")" link set eth0 up
}

link_pair() { # NS_A IF_A ADDR_A NS_B IF_B ADDR_B [MTU]
  local a=$1 ia=$2 aa=$3 b=$4 ib=$5 ab=$6 mtu=${7:-1500}
  ip -n "$(ns "$a")" link add "$ia" mtu "$mtu" type veth peer name "$ib" mtu "$mtu" netns "$(ns "$b")"
  ip -n "$(ns "$a")" addr add "$aa" dev "$ia"
  ip -n "$(ns "$b")" addr add "$ab" dev "$ib"
  ip -n "$(ns "$a")" link set "$ia" up
  ip -n "$(ns "$b")" link set "$ib" up
}

build_topology() {
  teardown
  local n
  for n in $NAMESPACES; do
    ip netns add "$(ns "$n")"
    ip -n "$(ns "$n")" link set lo up
    name_service "$n"
  done
  ip -n "$(ns sw)" link add br0 type bridge
  ip -n "$(ns sw)" link set br0 up
  lan_attach srv 10.77.1.10 fd77::10
  lan_attach c1 10.77.1.21 fd77::21
  lan_attach c2 10.77.1.22
  lan_attach c3 10.77.1.23
  lan_attach rt 10.77.1.254
  link_pair rt eth1 10.77.2.254/24 pc eth0 10.77.2.21/24
  link_pair rt eth2 10.77.3.254/24 ps eth0 10.77.3.10/24
  link_pair rt eth3 10.77.5.1/30 r2 eth0 10.77.5.2/30 600
  link_pair r2 eth1 10.77.4.254/24 far eth0 10.77.4.10/24
  ip -n "$(ns pc)" route add default via 10.77.2.254
  ip -n "$(ns ps)" route add default via 10.77.3.254
  ip -n "$(ns far)" route add default via 10.77.4.254
  ip -n "$(ns r2)" route add default via 10.77.5.1
  ip -n "$(ns rt)" route add 10.77.4.0/24 via 10.77.5.2
  ip -n "$(ns c1)" route add 10.77.4.0/24 via 10.77.1.254
  in_ns rt sysctl -qw net.ipv4.ip_forward=1
  in_ns r2 sysctl -qw net.ipv4.ip_forward=1

  # rt: the client network is masqueraded; the private server is reached by port forwarding.
  in_ns rt iptables -t nat -A POSTROUTING -s 10.77.2.0/24 -o eth0 -j MASQUERADE
  in_ns rt iptables -t nat -A PREROUTING -i eth0 -d 10.77.1.254 -p tcp --dport 8080 \
    -j DNAT --to-destination 10.77.3.10:8000
  # rt, r2: swallow "fragmentation needed" so path MTU discovery never learns of the 600 link.
  in_ns rt iptables -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
  in_ns r2 iptables -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP

  # srv: a firewall with one rule per fault port.
  in_ns srv iptables -A INPUT -p tcp --dport 7001 -j DROP
  in_ns srv iptables -A INPUT -p tcp --dport 7002 -j REJECT --reject-with icmp-port-unreachable
  in_ns srv iptables -A INPUT -p tcp --dport 7003 -j REJECT --reject-with tcp-reset
  in_ns srv iptables -A INPUT -p udp --dport 7101 -m statistic --mode random --probability 0.3 -j DROP
  in_ns srv iptables -A INPUT -p udp --dport 7102 -j DROP
  in_ns srv iptables -A INPUT -p tcp --dport 7501 --tcp-flags PSH PSH -j DROP
  in_ns srv iptables -A INPUT -p tcp --dport 7741 -m statistic --mode random --probability 0.3 -j DROP
  # c1 gives up a blocking connect after two SYNs (about 3 s) instead of two minutes.
  in_ns c1 sysctl -qw net.ipv4.tcp_syn_retries=1
}

# ---- recording --------------------------------------------------------------------------------

declare -A RUNNING=()
SCENARIO=""
SCENARIO_DIR=""
HOSTS_ORDER=()
declare -A HOST_EXTRA=()

begin() { # NAME
  SCENARIO=$1
  SCENARIO_DIR=$FIXTURES/$SCENARIO
  HOSTS_ORDER=()
  HOST_EXTRA=()
  rm -rf "$SCENARIO_DIR" "${LOGS:?}/$SCENARIO"
  mkdir -p "$SCENARIO_DIR" "$LOGS/$SCENARIO"
  log "scenario $SCENARIO"
}

# record NS HOST CMD...: record CMD on namespace NS as trace HOST.trace, in the background.
start() {
  local where=$1 host=$2
  shift 2
  HOSTS_ORDER+=("$host")
  (cd "$SCENARIO_DIR" && exec ip netns exec "$(ns "$where")" \
    timeout -k 2 "$PROGRAM_TIMEOUT" "$NETCHECK" record -o "$host.trace" --host "$host" \
    --string-limit "${LIMIT:-$STRING_LIMIT}" --stanza "$LOGS/$SCENARIO/$host.stanza" -- "$@" \
    >"$LOGS/$SCENARIO/$host.log" 2>&1) &
  RUNNING[$host]=$!
}

# run NS HOST CMD...: record CMD and wait for it to finish.
run() {
  start "$@"
  finish "$2"
}

finish() { # HOST: wait for the recorded program to end by itself
  local rc=0
  wait "${RUNNING[$1]}" || rc=$?
  if [ "$rc" -ne 0 ]; then log "  $1: recording ended with status $rc (see $LOGS/$SCENARIO/$1.log)"; fi
  unset "RUNNING[$1]"
}

stop() { # HOST: interrupt the recorded program (the deepest process under the recorder), then wait
  local pid=${RUNNING[$1]} child
  while child=$(pgrep -P "$pid" | head -1) && [ -n "$child" ]; do pid=$child; done
  kill -INT "$pid" 2>/dev/null || true
  finish "$1"
}

wait_listening() { # NS PROTO(t|u) PORT: until a socket is bound there (at most 10 s)
  local i
  for i in $(seq 100); do
    if in_ns "$1" ss -Hln"$2" "sport = :$3" | grep -q .; then return 0; fi
    sleep 0.1
  done
  log "  nothing bound on port $3 in $1"
  return 1
}

nat() { # HOST LINE: an extra config line for HOST (nat ...)
  HOST_EXTRA[$1]+=" $2"$'\n'
}

# write_conf [extra top-level lines...]: netcheck.conf from the recorder's stanzas.
write_conf() {
  local conf=$SCENARIO_DIR/netcheck.conf host
  {
    echo "# $SCENARIO: recorded by lab/run.sh"
    for line in "$@"; do echo "$line"; done
    for host in "${HOSTS_ORDER[@]}"; do
      # The recorder names traces absolutely (its stanza file lives under $LOGS); the config
      # names them relative to its own folder, so the corpus works from any checkout.
      sed "s#^\( *trace \)$SCENARIO_DIR/#\1#" "$LOGS/$SCENARIO/$host.stanza"
      printf '%s' "${HOST_EXTRA[$host]:-}"
    done
  } >"$conf"
}

# expect DESCRIPTION healthy|fault "must_report ids" "must_not_report ids"
expect() {
  "$PYTHON" -I -S - "$SCENARIO" "$1" "$2" "$3" "$4" "$LAB/problem-rules.txt" >"$SCENARIO_DIR/expected.json" <<'EOF'
import json, sys
name, description, kind, must, must_not = sys.argv[1:6]
problem_rules = [l for l in open(sys.argv[6]).read().split("\n") if l and not l.startswith("#")]
healthy = kind == "healthy"
doc = {
    "scenario": name,
    "description": description,
    "must_report": must.split(),
    "must_not_report": problem_rules if healthy else must_not.split(),
    "healthy": healthy,
}
print(json.dumps(doc, indent=2))
EOF
}

PY() { echo "$PYTHON" -I -S; }
PROBE=$WORK/probe.py

# ---- scenarios --------------------------------------------------------------------------------

sc_healthy_http() {
  begin healthy-http
  start srv server "$PYTHON" -I -S -m http.server --bind 10.77.1.10 8000 --directory "$WORK/www"
  wait_listening srv t 8000
  run c1 client curl -q -s -o /dev/null -o /dev/null \
    http://10.77.1.10:8000/hello.txt http://10.77.1.10:8000/hello.txt
  stop server
  write_conf
  expect "curl fetches a small file twice from python3 -m http.server (threaded) over the LAN" healthy "" ""
}

sc_healthy_tcp_echo() {
  begin healthy-tcp-echo
  start srv server socat -T 3 TCP-LISTEN:7000,bind=10.77.1.10,reuseaddr PIPE
  wait_listening srv t 7000
  run c1 client sh -c 'echo hello | exec socat -T 3 - TCP:10.77.1.10:7000'
  finish server
  write_conf
  expect "socat echo server (PIPE) and a socat client sending one line" healthy "" ""
}

sc_healthy_udp() {
  begin healthy-udp
  start srv server $(PY) "$PROBE" udp-echo-server 10.77.1.10 7100 2
  wait_listening srv u 7100
  run c1 client $(PY) "$PROBE" udp-client 10.77.1.10 7100 5 40 1
  finish server
  write_conf
  expect "UDP request/response: five datagrams echoed back" healthy "" ""
}

sc_healthy_ipv6_tcp() {
  begin healthy-ipv6-tcp
  start srv server socat -T 3 TCP6-LISTEN:7000,bind=[fd77::10],reuseaddr PIPE
  wait_listening srv t 7000
  run c1 client sh -c 'echo hello over six | exec socat -T 3 - TCP6:[fd77::10]:7000'
  finish server
  write_conf
  expect "socat echo over IPv6 (fd77::/64)" healthy "" ""
}

sc_healthy_forking_server() {
  begin healthy-forking-server
  start srv server socat -T 3 TCP-LISTEN:7000,bind=10.77.1.10,reuseaddr,fork PIPE
  wait_listening srv t 7000
  run c1 client1 sh -c 'echo first | exec socat -T 3 - TCP:10.77.1.10:7000'
  run c2 client2 sh -c 'echo second | exec socat -T 3 - TCP:10.77.1.10:7000'
  sleep 0.3
  stop server
  write_conf
  expect "socat forks one child per connection; two clients from two hosts" healthy "" ""
}

sc_healthy_epoll_server() {
  begin healthy-epoll-server
  start srv server $(PY) "$PROBE" epoll-echo-server 10.77.1.10 7000 2
  wait_listening srv t 7000
  start c1 client1 $(PY) "$PROBE" tcp-client 10.77.1.10 7000 one
  start c2 client2 $(PY) "$PROBE" tcp-client 10.77.1.10 7000 two
  finish client1
  finish client2
  finish server
  write_conf
  expect "nonblocking echo server driven by epoll, two concurrent clients" healthy "" ""
}

sc_healthy_multi_client() {
  begin healthy-multi-client
  start srv server "$PYTHON" -I -S -m http.server --bind 10.77.1.10 8000 --directory "$WORK/www"
  wait_listening srv t 8000
  start c1 client1 curl -q -s -o /dev/null http://10.77.1.10:8000/hello.txt
  start c2 client2 curl -q -s -o /dev/null http://10.77.1.10:8000/hello.txt
  start c3 client3 curl -q -s -o /dev/null http://10.77.1.10:8000/hello.txt
  finish client1
  finish client2
  finish client3
  stop server
  write_conf
  expect "three hosts fetch a file from one python3 -m http.server" healthy "" ""
}

nat_client_run() {
  start srv server socat -T 3 TCP-LISTEN:7000,bind=10.77.1.10,reuseaddr PIPE
  wait_listening srv t 7000
  run pc client sh -c 'echo from behind the nat | exec socat -T 3 - TCP:10.77.1.10:7000'
  finish server
}

sc_nat_declared() {
  begin nat-declared
  nat_client_run
  nat client "nat 10.77.2.21 10.77.1.254"
  write_conf
  expect "client 10.77.2.21 behind a MASQUERADE router (public 10.77.1.254); the nat line is in the config" healthy "" ""
}

sc_nat_undeclared() {
  begin nat-undeclared
  nat_client_run
  write_conf
  expect "client 10.77.2.21 behind a MASQUERADE router (public 10.77.1.254); the config omits the nat line" \
    fault "nat-undeclared" "unparsed-lines connect-refused"
}

sc_port_forward_undeclared() {
  begin port-forward-undeclared
  start ps server socat -T 3 TCP-LISTEN:8000,bind=10.77.3.10,reuseaddr PIPE
  wait_listening ps t 8000
  run c1 client sh -c 'echo through the port forward | exec socat -T 3 - TCP:10.77.1.254:8080'
  finish server
  write_conf
  expect "server 10.77.3.10:8000 reached through DNAT 10.77.1.254:8080 on the router; the config does not declare it" \
    fault "port-forwarding" "unparsed-lines connect-refused"
}

sc_firewall_drop() {
  begin firewall-drop
  start srv server $(PY) "$PROBE" listen-only 10.77.1.10 7001 5
  wait_listening srv t 7001
  run c1 client $(PY) "$PROBE" blocking-connect 10.77.1.10 7001
  finish server
  write_conf
  expect "the server's firewall drops SYNs to its listening port; the client's connect times out" \
    fault "connect-filtered" "unparsed-lines connect-refused connection-not-accepted"
}

sc_firewall_reject_icmp() {
  begin firewall-reject-icmp
  start srv server $(PY) "$PROBE" listen-only 10.77.1.10 7002 2
  wait_listening srv t 7002
  run c1 client $(PY) "$PROBE" blocking-connect 10.77.1.10 7002
  finish server
  write_conf
  expect "the server's firewall answers SYNs with ICMP port unreachable while the server listens" \
    fault "connect-refused-while-listening" "unparsed-lines connection-not-accepted"
}

sc_firewall_reject_reset() {
  begin firewall-reject-reset
  start srv server $(PY) "$PROBE" listen-only 10.77.1.10 7003 2
  wait_listening srv t 7003
  run c1 client $(PY) "$PROBE" blocking-connect 10.77.1.10 7003
  finish server
  write_conf
  expect "the server's firewall answers SYNs with a TCP reset while the server listens" \
    fault "connect-refused-while-listening" "unparsed-lines connection-not-accepted"
}

sc_host_unreachable() {
  begin host-unreachable
  # c2 keeps the default SYN retries, so the neighbour (ARP) failure is what ends the connect.
  run c2 client $(PY) "$PROBE" blocking-connect 10.77.1.99 7000
  write_conf
  expect "the client connects to 10.77.1.99, which no host on the LAN answers ARP for" \
    fault "connect-filtered" "unparsed-lines"
}

sc_connect_refused() {
  begin connect-refused
  start srv server $(PY) "$PROBE" listen-only 10.77.1.10 7400 2
  wait_listening srv t 7400
  run c1 client $(PY) "$PROBE" tcp-client 10.77.1.10 7401 hello
  finish server
  write_conf
  expect "the server listens on port 7400, the client dials 7401 where nothing listens" \
    fault "connect-refused" "unparsed-lines connect-refused-while-listening"
}

sc_refused_listens_later() {
  begin refused-listens-later
  start srv server $(PY) "$PROBE" late-listener 10.77.1.10 7402 1.5
  sleep 0.3
  run c1 client $(PY) "$PROBE" tcp-client 10.77.1.10 7402 too-early
  finish server
  write_conf
  expect "the client connects before the server has started listening, and gives up" \
    fault "connect-refused" "unparsed-lines connect-refused-while-listening"
}

sc_listen_never_accepts() {
  begin listen-never-accepts
  start srv server $(PY) "$PROBE" listen-only 10.77.1.10 7410 3
  wait_listening srv t 7410
  run c1 client $(PY) "$PROBE" tcp-client 10.77.1.10 7410 anybody-there 1 wait
  finish server
  write_conf
  expect "the server listens but never calls accept; the kernel completes the handshake, the request is never read" \
    fault "connection-not-accepted" "unparsed-lines connect-refused"
}

sc_accept_never_reads() {
  begin accept-never-reads
  start srv server $(PY) "$PROBE" accept-no-read 10.77.1.10 7411 2
  wait_listening srv t 7411
  run c1 client $(PY) "$PROBE" tcp-client 10.77.1.10 7411 please-answer 1 wait
  finish server
  write_conf
  expect "the server accepts but never reads the request; the client waits for an answer and gives up" \
    fault "data-unreceived" "unparsed-lines connection-not-accepted"
}

sc_send_after_peer_closed() {
  begin send-after-peer-closed
  start srv server $(PY) "$PROBE" reply-late 10.77.1.10 7412 0.5
  wait_listening srv t 7412
  run c1 client $(PY) "$PROBE" tcp-client 10.77.1.10 7412 quick-question 1 close-early
  finish server
  write_conf
  expect "the client sends a request and closes at once; the server's later answers hit a closed connection (EPIPE)" \
    fault "send-after-peer-closed" "unparsed-lines"
}

sc_connection_reset() {
  begin connection-reset
  start srv server $(PY) "$PROBE" read-after-reset 10.77.1.10 7413 0.5
  wait_listening srv t 7413
  run c1 client $(PY) "$PROBE" tcp-client 10.77.1.10 7413 abort 1 reset
  finish server
  write_conf
  expect "the client closes with SO_LINGER 0 (a reset) before the server reads; the server's recv gets ECONNRESET" \
    fault "connection-reset" "unparsed-lines"
}

sc_tcp_data_dropped() {
  begin tcp-data-dropped
  start srv server $(PY) "$PROBE" poll-then-give-up 10.77.1.10 7501 2
  wait_listening srv t 7501
  run c1 client $(PY) "$PROBE" tcp-client 10.77.1.10 7501 dropped-request 3 wait
  finish server
  write_conf
  expect "a firewall drops the connection's data segments (PSH) but not the handshake; the server's poll times out although data was sent" \
    fault "data-unreceived-poll-missed" "unparsed-lines connection-not-accepted"
}

sc_udp_partial_loss() {
  begin udp-partial-loss
  start srv server $(PY) "$PROBE" udp-echo-server 10.77.1.10 7101 2
  wait_listening srv u 7101
  run c1 client $(PY) "$PROBE" udp-client 10.77.1.10 7101 20 40 0.3 0.02
  finish server
  write_conf
  expect "about 30% of the datagrams to the server are dropped at random by iptables statistic" \
    fault "udp-loss" "unparsed-lines udp-all-lost"
}

sc_udp_all_lost() {
  begin udp-all-lost
  start srv server $(PY) "$PROBE" udp-echo-server 10.77.1.10 7102 2
  wait_listening srv u 7102
  run c1 client $(PY) "$PROBE" udp-client 10.77.1.10 7102 5 40 0.3
  finish server
  write_conf
  expect "every datagram to the server is dropped by its firewall" \
    fault "udp-all-lost" "unparsed-lines"
}

sc_udp_truncated() {
  begin udp-truncated
  LIMIT=2048
  start srv server $(PY) "$PROBE" udp-sink 10.77.1.10 7110 512 1.5
  wait_listening srv u 7110
  run c1 client $(PY) "$PROBE" udp-send-one 10.77.1.10 7110 1200
  finish server
  unset LIMIT
  write_conf
  expect "a 1200-byte datagram is read into a 512-byte buffer: the rest is silently discarded" \
    fault "datagram-truncated" "unparsed-lines udp-all-lost"
}

sc_udp_truncated_msg_trunc() {
  begin udp-truncated-msg-trunc
  LIMIT=2048
  start srv server $(PY) "$PROBE" udp-sink 10.77.1.10 7111 512 1.5 trunc
  wait_listening srv u 7111
  run c1 client $(PY) "$PROBE" udp-send-one 10.77.1.10 7111 1200
  finish server
  unset LIMIT
  write_conf
  expect "recvfrom with MSG_TRUNC into a 512-byte buffer returns the datagram's real length, 1200" \
    fault "datagram-truncated" "unparsed-lines udp-all-lost"
}

sc_udp_exceeds_sndbuf() {
  begin udp-exceeds-sndbuf
  LIMIT=2048
  start srv server $(PY) "$PROBE" udp-sink 10.77.1.10 7112 16384 1.5
  wait_listening srv u 7112
  run c1 client $(PY) "$PROBE" udp-send-one 10.77.1.10 7112 4000 2048
  finish server
  unset LIMIT
  write_conf
  expect "a 4000-byte datagram sent after SO_SNDBUF was set to 2048: Linux sends it, other systems refuse" \
    fault "buffer-overrun" "unparsed-lines udp-all-lost"
}

sc_mtu_black_hole_tcp() {
  begin mtu-black-hole-tcp
  start far server $(PY) "$PROBE" bulk-server 10.77.4.10 7600
  wait_listening far t 7600
  run c1 client $(PY) "$PROBE" bulk-client 10.77.4.10 7600 20000 3
  finish server
  write_conf
  expect "a 600-byte MTU link between two routers that drop ICMP fragmentation-needed: the hello passes, the bulk upload stalls" \
    fault "mtu-black-hole" "unparsed-lines connection-not-accepted connect-filtered"
}

sc_mtu_black_hole_udp() {
  begin mtu-black-hole-udp
  LIMIT=1500
  start far server $(PY) "$PROBE" udp-sink 10.77.4.10 7601 4096 2
  wait_listening far u 7601
  run c1 client $(PY) "$PROBE" udp-sizes 10.77.4.10 7601 100 200 400 550 700 900 1100 1400
  finish server
  unset LIMIT
  write_conf
  expect "datagrams sent with DF over the 600-byte MTU link: those up to 550 bytes arrive, the larger ones vanish" \
    fault "mtu-black-hole" "unparsed-lines udp-all-lost"
}

sc_nonblocking_connect_never_completes() {
  begin nonblocking-connect-never-completes
  start srv server $(PY) "$PROBE" listen-only 10.77.1.10 7001 2
  wait_listening srv t 7001
  run c1 client $(PY) "$PROBE" nonblocking-connect 10.77.1.10 7001 1
  finish server
  write_conf
  expect "a nonblocking connect to a firewalled port; poll for writability times out and the socket is closed" \
    fault "connect-never-completed" "unparsed-lines connect-refused"
}

sc_ipv6_only_server() {
  begin ipv6-only-server
  start srv server $(PY) "$PROBE" v6only-server :: 7700 2
  wait_listening srv t 7700
  run c1 client $(PY) "$PROBE" tcp-client 10.77.1.10 7700 v4-hello
  finish server
  write_conf
  expect "the server listens on [::] with IPV6_V6ONLY; an IPv4 client is refused" \
    fault "ip-version-mismatch" "unparsed-lines"
}

sc_loopback_bound_server() {
  begin loopback-bound-server
  start srv server $(PY) "$PROBE" listen-only 127.0.0.1 7701 2
  wait_listening srv t 7701
  run c1 client $(PY) "$PROBE" tcp-client 10.77.1.10 7701 hello
  finish server
  write_conf
  expect "the server binds 127.0.0.1; a client on another host dials its LAN address and is refused" \
    fault "loopback-bound-external-peer" "unparsed-lines"
}

# c2's resolver names 10.77.1.53, an address no host has (nobody answers ARP): glibc's lookup of
# a name not in /etc/hosts times out after 1 s; curl then fetches its second URL by address. A
# failed lookup is the program's business, not a network fault of the traced hosts.
sc_resolver_unanswered() {
  begin resolver-unanswered
  local conf=/etc/netns/$(ns c2)/resolv.conf
  printf 'nameserver 10.77.1.53\noptions timeout:1 attempts:1\n' >"$conf"
  start srv server "$PYTHON" -I -S -m http.server --bind 10.77.1.10 8000 --directory "$WORK/www"
  wait_listening srv t 8000
  run c2 client curl -q -s -o /dev/null -o /dev/null \
    http://service.lab:8000/hello.txt http://10.77.1.10:8000/hello.txt
  stop server
  name_service c2
  write_conf
  expect "curl's lookup of service.lab goes to a name server no host has and times out; its second URL, by address, is fetched" healthy "" ""
}

sc_address_in_use() {
  begin address-in-use
  start srv server $(PY) "$PROBE" restart-without-reuseaddr 10.77.1.10 7702
  wait_listening srv t 7702
  run c1 client $(PY) "$PROBE" tcp-client 10.77.1.10 7702 hello 3 delay
  finish server
  write_conf
  expect "the server closes its connection first (TIME_WAIT) and rebinds the port without SO_REUSEADDR: EADDRINUSE" \
    fault "address-in-use" "unparsed-lines"
}

sc_broadcast_not_permitted() {
  begin broadcast-not-permitted
  start srv server $(PY) "$PROBE" udp-sink 0.0.0.0 7703 512 1.5
  wait_listening srv u 7703
  run c1 client $(PY) "$PROBE" broadcast 10.77.1.255 7703
  finish server
  write_conf
  expect "sendto the LAN broadcast address without SO_BROADCAST fails with EACCES" \
    fault "broadcast-not-permitted" "unparsed-lines"
}

sc_nonblock_inherited() {
  begin nonblock-inherited
  start srv server $(PY) "$PROBE" nonblocking-listener 10.77.1.10 7704
  wait_listening srv t 7704
  run c1 client $(PY) "$PROBE" tcp-client 10.77.1.10 7704 late-request 3 delay
  finish server
  write_conf
  expect "the listener is nonblocking; the server treats the accepted socket as nonblocking too, but on Linux its recv blocks" \
    fault "nonblock-inherited" "unparsed-lines"
}

sc_wrong_server_address() {
  begin wrong-server-address
  # An untraced echo server on c3, which the config does not know about.
  in_ns c3 timeout 10 $(PY) "$PROBE" echo-server 10.77.1.23 7705 1 >/dev/null 2>&1 &
  local helper=$!
  start srv server $(PY) "$PROBE" listen-only 10.77.1.10 7705 2
  wait_listening srv t 7705
  wait_listening c3 t 7705
  run c1 client $(PY) "$PROBE" tcp-client 10.77.1.23 7705 wrong-host
  finish server
  wait "$helper" || true
  write_conf
  expect "the client is configured with the wrong server address and talks to an undeclared host; the traced server sees nobody" \
    fault "no-peer-traffic" "unparsed-lines connection-not-accepted"
}

SCENARIOS=(
  healthy_http healthy_tcp_echo healthy_udp healthy_ipv6_tcp healthy_forking_server
  healthy_epoll_server healthy_multi_client nat_declared nat_undeclared port_forward_undeclared
  firewall_drop firewall_reject_icmp firewall_reject_reset host_unreachable connect_refused
  refused_listens_later listen_never_accepts accept_never_reads send_after_peer_closed
  connection_reset tcp_data_dropped udp_partial_loss udp_all_lost udp_truncated
  udp_truncated_msg_trunc udp_exceeds_sndbuf mtu_black_hole_tcp mtu_black_hole_udp
  nonblocking_connect_never_completes ipv6_only_server loopback_bound_server address_in_use
  broadcast_not_permitted nonblock_inherited wrong_server_address resolver_unanswered
)

# shellcheck source=lab/matrix.sh
. "$LAB/matrix.sh"

# ---- benchmark --------------------------------------------------------------------------------

bench() {
  local requests=1000 out=$LAB/out/bench i host
  FIXTURES=$LAB/out
  PROGRAM_TIMEOUT=600
  begin bench
  mkdir -p "$out"
  start srv server "$PYTHON" -I -S -m http.server --bind 10.77.1.10 8000 --directory "$WORK/www"
  wait_listening srv t 8000
  for host in c1 c2 c3; do
    {
      for i in $(seq "$requests"); do
        echo "url = \"http://10.77.1.10:8000/hello.txt?$host-$i\""
        echo 'output = "/dev/null"'
      done
    } >"$WORK/$host.curlrc"
    start "$host" "client-$host" curl -q -s --config "$WORK/$host.curlrc"
  done
  for host in c1 c2 c3; do finish "client-$host"; done
  stop server
  write_conf
  expect "three clients make $requests HTTP requests each to python3 -m http.server" healthy "" ""
  du -sh "$out"
}

# ---- main -------------------------------------------------------------------------------------

if [ "$LIST" = 1 ]; then
  for s in "${SCENARIOS[@]}"; do echo "${s//_/-}"; done
  for s in "${MATRIX[@]}"; do matrix_name "$s"; done
  exit 0
fi
if [ "$(id -u)" != 0 ]; then echo "lab: run as root (it creates network namespaces)" >&2; exit 2; fi

cleanup() {
  local host
  for host in "${!RUNNING[@]}"; do kill "${RUNNING[$host]}" 2>/dev/null || true; done
  teardown
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_tools
rm -rf "$WORK"
mkdir -p "$WORK/www" "$LOGS"
cp "$LAB/programs/probe.py" "$PROBE"
printf 'hello from the netcheck lab\n' >"$WORK/www/hello.txt"
build_topology

if [ "$BENCH" = 1 ]; then
  bench
  exit 0
fi
if [ "$MATRIX_ONLY" = 1 ]; then
  run_matrix "$MATRIX_GLOB"
  python3 "$ROOT/lab/views.py" "$FIXTURES"
  du -sh "$FIXTURES"
  exit 0
fi
found=0
for s in "${SCENARIOS[@]}"; do
  if [ -n "$ONLY" ] && [ "${s//_/-}" != "$ONLY" ]; then continue; fi
  found=1
  "sc_$s"
done
if [ -z "$ONLY" ]; then
  run_matrix
  found=1
else
  for s in "${MATRIX[@]}"; do
    if [ "$(matrix_name "$s")" = "$ONLY" ]; then run_matrix "$ONLY"; found=1; break; fi
  done
fi
if [ "$found" = 0 ]; then echo "lab: no scenario named $ONLY (see --list)" >&2; exit 2; fi
# One-sided views: what each host alone must show (lab/views.py).
python3 "$ROOT/lab/views.py" "$FIXTURES"
du -sh "$FIXTURES"
