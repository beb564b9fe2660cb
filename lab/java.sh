#!/usr/bin/env bash
# The Java lab: clients and servers written with the JDK's network APIs (lab/programs/
# JavaProbe.java: java.net.Socket, NIO SocketChannel + Selector, java.net.http.HttpClient,
# HttpURLConnection, DatagramSocket, DatagramChannel, ServerSocket with a thread per connection,
# an NIO Selector server, com.sun.net.httpserver), paired with each other and with non-Java
# peers (python3, socat, curl), healthy and with real faults, under several strace flag sets.
# Writes tests/fixtures/java/<fault>--<client>--<server>--<flags>/ (traces zstd-compressed,
# netcheck.conf, expected.json with the one-sided views), checked by tests/java_programs.rs.
#
# Usage (as root): lab/java.sh [GLOB]   (only the scenarios whose name matches GLOB)
#
# Topology (namespaces njv-cli, njv-rt, njv-r2, njv-srv; nothing in the default namespace):
#   cli 10.79.1.21 --- rt 10.79.1.254 | rt 10.79.3.1 == MTU 600 == r2 10.79.3.2 | r2 10.79.2.254
#   --- srv 10.79.2.10
# Both ends have 1500-byte links, so they agree on a large MSS; path MTU discovery finds the
# 600-byte hop between the routers, unless a scenario drops the routers' ICMP "fragmentation
# needed" (an MTU black hole).
#
# Flag sets: record (`netcheck record`, --string-limit 128), plain (strace -f -tt -T -yy -s 128,
# every call), ff (strace -ff -tt -s 128 -e trace=%network,%desc,%process: one file per thread),
# ttt (strace -f -ttt -T -s 128 -e trace=%network,%desc,%process, no -yy). The JVM runs with a
# small heap, the serial collector and the C1 compiler only: fewer threads and a shorter start-up,
# whose file reads are most of a trace's size.
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$LAB")
FIXTURES=$ROOT/tests/fixtures/java
NETCHECK=${NETCHECK:-$ROOT/target/release/netcheck}
WORK=/tmp/netcheck-java           # fixed path: it appears in recorded execve lines
GLOB=${1:-*}
S=10.79.2.10                      # the server's address
C=10.79.1.21                      # the client's address
TIMEOUT=40

log() { printf 'java-lab: %s\n' "$*" >&2; }
in_ns() { local n=$1; shift; ip netns exec "njv-$n" "$@"; }

NAMESPACES="cli rt r2 srv"
teardown() { local n; for n in $NAMESPACES; do ip netns del "njv-$n" 2>/dev/null || true; done; }

veth() { # NS_A IF_A ADDR_A NS_B IF_B ADDR_B MTU
  ip -n "njv-$1" link add "$2" mtu "$7" type veth peer name "$5" mtu "$7" netns "njv-$4"
  ip -n "njv-$1" addr add "$3" dev "$2"
  ip -n "njv-$4" addr add "$6" dev "$5"
  ip -n "njv-$1" link set "$2" up
  ip -n "njv-$4" link set "$5" up
}

build() {
  teardown
  local n
  for n in $NAMESPACES; do ip netns add "njv-$n"; ip -n "njv-$n" link set lo up; done
  veth cli eth0 $C/24 rt lan0 10.79.1.254/24 1500
  veth rt eth1 10.79.3.1/30 r2 eth1 10.79.3.2/30 600
  veth r2 lan0 10.79.2.254/24 srv eth0 $S/24 1500
  ip -n njv-cli route add default via 10.79.1.254
  ip -n njv-srv route add default via 10.79.2.254
  ip -n njv-rt route add 10.79.2.0/24 via 10.79.3.2
  ip -n njv-r2 route add 10.79.1.0/24 via 10.79.3.1
  in_ns rt sysctl -qw net.ipv4.ip_forward=1
  in_ns r2 sysctl -qw net.ipv4.ip_forward=1
  # no offloads: segments cross the routers at the size TCP made them
  for n in cli srv; do in_ns "$n" ethtool -K eth0 tso off gso off gro off 2>/dev/null || true; done
}

JAVA=(java -Xshare:auto -Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$WORK/classes" JavaProbe)
# the interpreter itself, not a wrapper script that finds it (its lookups would fill the trace)
PY=("$(python3 -c 'import sys; print(sys.executable)')" -I -S)

declare -A PIDS
SCEN="" DIR="" HOSTS=()

begin() { SCEN=$1; DIR=$FIXTURES/$SCEN; HOSTS=(); rm -rf "$DIR"; mkdir -p "$DIR" "$WORK/logs/$SCEN"; log "$SCEN"; }

# start NS HOST FLAGS CMD...: record CMD in namespace NS under the flag set FLAGS, in the background
start() {
  local where=$1 host=$2 flags=$3
  shift 3
  HOSTS+=("$host")
  local out=$DIR/$host.trace
  local log=$WORK/logs/$SCEN/$host.log
  case "$flags" in
    record) (cd "$DIR" && exec ip netns exec "njv-$where" timeout -k 2 $TIMEOUT "$NETCHECK" record -o "$out" \
        --host "$host" --string-limit 128 --stanza "$WORK/logs/$SCEN/$host.stanza" -- "$@" >"$log" 2>&1) & ;;
    plain) (exec ip netns exec "njv-$where" timeout -k 2 $TIMEOUT strace -f -tt -T -yy -s 128 -o "$out" -- "$@" >"$log" 2>&1) & ;;
    ff) (exec ip netns exec "njv-$where" timeout -k 2 $TIMEOUT strace -ff -tt -s 128 -e trace=%network,%desc,%process -o "$out" -- "$@" >"$log" 2>&1) & ;;
    ttt) (exec ip netns exec "njv-$where" timeout -k 2 $TIMEOUT strace -f -ttt -T -s 128 -e trace=%network,%desc,%process -o "$out" -- "$@" >"$log" 2>&1) & ;;
  esac
  PIDS[$host]=$!
}
finish() { wait "${PIDS[$1]}" || log "  $1 ended with status $?"; }
listening() { # NS PROTO PORT
  local i
  for i in $(seq 150); do in_ns "$1" ss -Hln"$2" "sport = :$3" | grep -q . && return 0; sleep 0.1; done
  log "  nothing bound on $3"; return 1
}

# conf: netcheck.conf naming each traced host (client, server) with its address
conf() {
  {
    echo "# $SCEN: recorded by lab/java.sh"
    local h
    for h in "${HOSTS[@]}"; do
      echo "host $h"
      echo " trace $h.trace.zst"
      if [ "$h" = server ]; then echo " ip $S"; else echo " ip $C"; fi
    done
    # an untraced server still owns its address
    if [[ " ${HOSTS[*]} " != *" server "* ]]; then printf 'host server\n ip %s\n' "$S"; fi
  } >"$DIR/netcheck.conf"
  # traces are kept zstd-compressed; a -ff set (HOST.trace.PID) stays plain: netcheck finds its
  # members by their names
  local f
  for f in "$DIR"/*.trace; do
    [ -e "$f" ] && zstd -q -19 --rm "$f" -o "$f.zst"
  done
  if compgen -G "$DIR/*.trace.[0-9]*" >/dev/null; then
    sed -i 's/\.trace\.zst$/.trace/' "$DIR/netcheck.conf"
  fi
}

# expect DESCRIPTION "must_report" "must_not_report" CLIENT_VIEW SERVER_VIEW
# (healthy when must_report is "healthy"; a view is "healthy", "rule rule..." (any of them) or
# "invisible: reason")
expect() {
  python3 -I -S - "$SCEN" "$@" "$LAB/problem-rules.txt" >"$DIR/expected.json" <<'EOF'
import json, sys
name, description, must, must_not, client, server = sys.argv[1:7]
problems = [l for l in open(sys.argv[7]).read().split("\n") if l and not l.startswith("#")]
healthy = must == "healthy"
fault, cl, sv, flags = name.split("--")
doc = {"scenario": name, "description": description,
       "must_report": [] if healthy else must.split(),
       "must_not_report": problems if healthy else must_not.split(),
       "healthy": healthy, "fault": fault, "client": cl, "server": sv, "flags": flags}
def view(v):
    if v == "healthy":
        return {"healthy": True}
    if v.startswith("invisible: "):
        return {"invisible": v[len("invisible: "):]}
    return {"must_report_any": v.split(), "must_not_report": ["unparsed-lines"]}
views = {}
if sv != "none" and cl != "none":
    views = {"client": view(client), "server": view(server)}
if views:
    doc["views"] = views
print(json.dumps(doc, indent=2))
EOF
}

want() { [[ $1 == $GLOB ]]; }

# ---- scenarios ------------------------------------------------------------------------------

healthy_echo() { # CLIENT_MODE SERVER FLAGS
  local cm=$1 sv=$2 fl=$3 name
  name=healthy-echo--j${cm#client-}--$sv--$fl
  want "$name" || return 0
  begin "$name"
  case $sv in
    jthread) start srv server "$fl" "${JAVA[@]}" server-thread 7100 1 ;;
    jnio) start srv server "$fl" "${JAVA[@]}" server-nio 7100 1 ;;
    socat) start srv server "$fl" socat TCP-LISTEN:7100,reuseaddr EXEC:cat ;;
  esac
  listening srv t 7100
  start cli client "$fl" "${JAVA[@]}" "$cm" $S 7100 5
  finish client; finish server
  conf
  expect "a Java client ($cm) sends five lines to a $sv echo server and reads each echo" healthy "" healthy healthy
}

healthy_http() { # CLIENT SERVER FLAGS
  local cl=$1 sv=$2 fl=$3 name ccmd
  name=healthy-http--$cl--$sv--$fl
  want "$name" || return 0
  begin "$name"
  case $sv in
    jhttpserver) start srv server "$fl" "${JAVA[@]}" server-http 8080 3 ;;
    pyhttp) # http.server's handler: HTTP/1.0, one connection per request, three requests
      mkdir -p "$WORK/www"; local p; for p in u0 u1 u2 r0 r1 r2; do echo hello >"$WORK/www/$p"; done
      start srv server "$fl" "${PY[@]}" -c 'import functools, http.server as h
s = h.HTTPServer(("", 8080), functools.partial(h.SimpleHTTPRequestHandler, directory="'"$WORK/www"'"))
for _ in range(3): s.handle_request()' ;;
  esac
  listening srv t 8080
  case $cl in
    jhttp) start cli client "$fl" "${JAVA[@]}" client-http $S 8080 3 ;;
    jurl) start cli client "$fl" "${JAVA[@]}" client-url $S 8080 3 ;;
    curl) start cli client "$fl" curl -s http://$S:8080/a http://$S:8080/b http://$S:8080/c ;;
  esac
  finish client; finish server
  conf
  expect "$cl fetches three pages from $sv" healthy "" healthy healthy
}

healthy_idle() { # FLAGS
  local name=healthy-idle--jidle--jthread--$1
  want "$name" || return 0
  begin "$name"
  start srv server "$1" "${JAVA[@]}" server-thread 7101 1
  listening srv t 7101
  start cli client "$1" "${JAVA[@]}" client-idle $S 7101 4
  finish client; finish server
  conf
  expect "a Java client sends a line, stays idle 4 s on the open connection, sends another, closes its side and reads the server's close" healthy "" healthy healthy
}

healthy_udp() { # CLIENT SERVER FLAGS
  local cl=$1 sv=$2 fl=$3 name
  name=healthy-udp--$cl--$sv--$fl
  want "$name" || return 0
  begin "$name"
  case $sv in
    judp) start srv server "$fl" "${JAVA[@]}" udp-server 7200 4 ;;
    socat) start srv server "$fl" socat -T 3 UDP-RECVFROM:7200 EXEC:cat ;;
  esac
  listening srv u 7200
  case $cl in
    judp) start cli client "$fl" "${JAVA[@]}" udp-client $S 7200 4 ;;
    jchannel) start cli client "$fl" "${JAVA[@]}" udp-channel $S 7200 1 ;;
  esac
  finish client; finish server
  conf
  expect "$cl sends datagrams to a $sv echo server and reads each echo" healthy "" healthy healthy
}

refused() { # CLIENT_MODE FLAGS
  local name=connect-refused--j${1#client-}--none--$2
  want "$name" || return 0
  begin "$name"
  start cli client "$2" "${JAVA[@]}" "$1" $S 7300 1
  finish client
  conf
  expect "a Java client ($1) dials a port where nothing listens" connect-refused "unparsed-lines connect-filtered connect-never-completed" connect-refused healthy
}

firewall() { # KIND(drop|icmp|reset) CLIENT_MODE SERVER FLAGS
  local kind=$1 cm=$2 sv=$3 fl=$4 name fault target must
  case $kind in
    # the JDK's timed connect and NIO's connect are nonblocking: a wait that times out, then a
    # close, never an ETIMEDOUT
    drop) fault=firewall-drop target="DROP" must="connect-never-completed" ;;
    icmp) fault=firewall-reject-icmp target="REJECT --reject-with icmp-port-unreachable" must="connect-refused-while-listening" ;;
    reset) fault=firewall-reject-reset target="REJECT --reject-with tcp-reset" must="connect-refused-while-listening" ;;
  esac
  name=$fault--j${cm#client-}--$sv--$fl
  want "$name" || return 0
  begin "$name"
  in_ns srv iptables -I INPUT -p tcp --dport 7400 --syn -j $target
  case $sv in
    jthread) start srv server "$fl" "${JAVA[@]}" server-noread 7400 5 ;;
    python) start srv server "$fl" "${PY[@]}" -c 'import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0",7400)); s.listen(); time.sleep(5); s.close()' ;;
  esac
  listening srv t 7400
  start cli client "$fl" "${JAVA[@]}" "$cm" $S 7400 1
  finish client; finish server
  in_ns srv iptables -D INPUT -p tcp --dport 7400 --syn -j $target
  conf
  local client_view="connect-filtered connect-never-completed"
  [ "$kind" = drop ] || client_view="connect-refused connect-refused-while-listening"
  expect "the server's firewall answers SYNs to its listening port with $target; the Java client ($cm) fails to connect" \
    "$must" "unparsed-lines connection-not-accepted" "$client_view" healthy
}

reset_unread() { # CLIENT SERVER FLAGS: the server reads one line and closes with SO_LINGER 0
  local cl=$1 sv=$2 fl=$3 name
  name=reset-unread--$cl--$sv--$fl
  want "$name" || return 0
  begin "$name"
  case $sv in
    jreset) start srv server "$fl" "${JAVA[@]}" server-reset 7500 ;;
    python) start srv server "$fl" "${PY[@]}" -c 'import socket,struct
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0",7500)); s.listen()
c,_=s.accept(); c.recv(6); c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii",1,0)); c.close()' ;;
  esac
  listening srv t 7500
  case $cl in
    jblock) start cli client "$fl" "${JAVA[@]}" client-block $S 7500 3 ;;
    python) start cli client "$fl" "${PY[@]}" -c 'import socket,time
s=socket.create_connection(("'$S'",7500)); s.sendall(b"line 0\n"); time.sleep(0.5)
try:
  s.sendall(b"line 1\n"); print(s.recv(100))
except OSError as e: print(e)' ;;
  esac
  finish client; finish server
  conf
  expect "the server ($sv) reads the first line and closes with SO_LINGER 0 (a reset); the client ($cl) sees ECONNRESET" \
    connection-reset "unparsed-lines" connection-reset "invisible: the server closes with bytes unread; only the client's reset shows what that did"
}

accept_never_reads() { # CLIENT_MODE SERVER FLAGS
  local cm=$1 sv=$2 fl=$3 name
  name=accept-never-reads--j${cm#client-}--$sv--$fl
  want "$name" || return 0
  begin "$name"
  case $sv in
    jnoread) start srv server "$fl" "${JAVA[@]}" server-noread 7600 7 ;;
    python) start srv server "$fl" "${PY[@]}" -c 'import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0",7600)); s.listen()
c,_=s.accept(); time.sleep(7); c.close()' ;;
  esac
  listening srv t 7600
  start cli client "$fl" "${JAVA[@]}" "$cm" $S 7600 1
  finish client; finish server
  conf
  expect "the server ($sv) accepts the Java client's connection and never reads it; the client gives up waiting for a reply" \
    data-unreceived "unparsed-lines connection-not-accepted" no-reply "invisible: the server's trace shows an accepted connection it never reads; whether a request waits there only the client shows"
}

mtu_black_hole() { # FLAGS
  local name=mtu-black-hole-tcp--jbulk--jsink--$1
  # the client's write blocks once its send buffer is full: the recording ends it with SIGTERM
  local TIMEOUT=15
  want "$name" || return 0
  begin "$name"
  local r
  for r in rt r2; do in_ns $r iptables -I OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP; done
  start srv server "$1" "${JAVA[@]}" server-sink 7700
  listening srv t 7700
  start cli client "$1" "${JAVA[@]}" client-bulk $S 7700 200
  finish client; finish server
  for r in rt r2; do in_ns $r iptables -D OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP; done
  conf
  expect "a 600-byte MTU hop whose routers drop ICMP fragmentation-needed: the Java client's 200 kB upload stalls in a blocking write until SIGTERM ends it" \
    "mtu-black-hole" "unparsed-lines connection-not-accepted connect-filtered" "no-reply network-stall mtu-black-hole" \
    "invisible: the server waits for the rest of an upload; why it never comes only the client shows"
}

udp_closed() { # CLIENT FLAGS
  local name=udp-closed-port--$1--none--$2
  want "$name" || return 0
  begin "$name"
  case $1 in
    judp) start cli client "$2" "${JAVA[@]}" udp-client $S 7800 2 ;;
    jchannel) start cli client "$2" "${JAVA[@]}" udp-channel $S 7800 2 ;;
  esac
  finish client
  conf
  if [ "$1" = judp ]; then
    # Linux reports ICMP port unreachable only to a connected UDP socket: an unconnected
    # DatagramSocket just waits out its receive timeout
    expect "$1 sends datagrams from an unconnected socket to a port where nothing listens; its receives time out" \
      no-reply "unparsed-lines" no-reply healthy
  else
    expect "$1 sends datagrams on a connected channel to a port where nothing listens" \
      connect-refused "unparsed-lines" connect-refused healthy
  fi
}

udp_all_lost() { # CLIENT SERVER FLAGS
  local cl=$1 sv=$2 fl=$3 name
  name=udp-all-lost--$cl--$sv--$fl
  want "$name" || return 0
  begin "$name"
  in_ns rt iptables -I FORWARD -p udp --dport 7900 -j DROP
  case $sv in
    judp) start srv server "$fl" "${JAVA[@]}" udp-server 7900 3 ;;
    python) start srv server "$fl" "${PY[@]}" -c 'import socket
s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0",7900)); s.settimeout(5)
try:
  while True: d,a=s.recvfrom(1500); s.sendto(d,a)
except socket.timeout: pass' ;;
  esac
  listening srv u 7900
  start cli client "$fl" "${JAVA[@]}" udp-client $S 7900 3
  finish client; finish server
  in_ns rt iptables -D FORWARD -p udp --dport 7900 -j DROP
  conf
  expect "a router drops every datagram to the server; the Java client's receives time out" \
    udp-all-lost "unparsed-lines" "no-reply udp-all-lost" healthy
}

killed_server() { # FLAGS: the echo server is killed (SIGKILL) while its client idles
  local name=server-killed--jidle--jthread--$1 pid child
  want "$name" || return 0
  begin "$name"
  start srv server "$1" "${JAVA[@]}" server-thread 7110 1
  listening srv t 7110
  start cli client "$1" "${JAVA[@]}" client-idle $S 7110 3
  sleep 2
  # the recorded JVM: the deepest process under the recorder this script started
  pid=${PIDS[server]}
  while child=$(pgrep -P "$pid" | head -1) && [ -n "$child" ]; do pid=$child; done
  kill -KILL "$pid"
  finish client; finish server
  conf
  expect "the Java echo server is killed (SIGKILL) while its Java client idles on the connection; the kernel closes the server's socket, the client's next line goes into the closed connection and its read gets the end of the stream" \
    send-after-peer-closed "unparsed-lines" \
    "invisible: the client sees the server close the connection after its request; that the server was killed first only the server's trace shows" \
    healthy
}

random_loss() { # FLAGS: 30% of the packets between the two hosts are dropped by the router
  local name=tcp-random-loss--jblock--jthread--$1
  want "$name" || return 0
  begin "$name"
  in_ns rt iptables -I FORWARD -m statistic --mode random --probability 0.3 -j DROP
  start srv server "$1" "${JAVA[@]}" server-thread 7120 6
  listening srv t 7120
  start cli client "$1" "${JAVA[@]}" client-many $S 7120 6
  finish client; finish server
  in_ns rt iptables -D FORWARD -m statistic --mode random --probability 0.3 -j DROP
  conf
  expect "a router drops 30% of the packets between the Java clients and the Java server: connects and round trips wait for retransmissions" \
    network-stall "unparsed-lines connect-filtered" network-stall \
    "invisible: the server sees its exchanges arrive late; the retransmissions behind that show in the client's connects"
}

# ---- main -----------------------------------------------------------------------------------

[ "$(id -u)" = 0 ] || { echo "java-lab: run as root" >&2; exit 2; }
command -v javac >/dev/null || { echo "java-lab: needs a JDK (javac)" >&2; exit 2; }
command -v zstd >/dev/null || { echo "java-lab: needs zstd" >&2; exit 2; }
trap teardown EXIT
mkdir -p "$WORK/classes" "$WORK/logs"
javac -d "$WORK/classes" "$LAB/programs/JavaProbe.java"
build

for fl in record plain ff ttt; do healthy_echo client-block jthread $fl; done
healthy_echo client-timeout jnio record
healthy_echo client-nio socat record
healthy_echo client-nio jthread plain
healthy_http jhttp jhttpserver record
healthy_http jurl pyhttp record
healthy_http curl jhttpserver record
healthy_http jhttp pyhttp plain
healthy_idle record
healthy_udp judp judp record
healthy_udp jchannel socat record
refused client-block record
refused client-nio record
refused client-timeout plain
firewall drop client-timeout jthread record
firewall drop client-nio python record
firewall icmp client-block jthread record
firewall reset client-timeout python record
reset_unread jblock jreset record
reset_unread jblock python record
reset_unread python jreset record
accept_never_reads client-url jnoread record
accept_never_reads client-nio python record
mtu_black_hole record
udp_closed judp record
udp_closed jchannel record
udp_all_lost judp judp record
udp_all_lost judp python record
refused client-http record
firewall drop client-http jthread record
firewall drop client-timeout jthread ttt
firewall drop client-timeout jthread ff
reset_unread jblock jreset ff
reset_unread jblock jreset ttt
accept_never_reads client-http python record
healthy_http jhttp jhttpserver ff
healthy_http jhttp jhttpserver ttt
healthy_udp judp judp ttt
killed_server record
random_loss record
