#!/usr/bin/env bash
# The filters lab (as root): traces recorded with strace filters that hide the calls which
# create sockets and report how their connects ended, as users record them to see "where does it
# connect": `-e trace=connect`, a hand-made list of network calls, and `-Z` (failed calls only).
# Clients curl (nonblocking connect, answer by SO_ERROR), a Python client (blocking connect, or
# nonblocking with a timeout), wget and busybox wget; servers Python's http.server and busybox
# httpd, the server traced in full or with only its accepts and transfers. Faults: nothing
# listening (refused), a REJECT with host-unreachable, a DROP; and healthy runs.
# Writes tests/fixtures/filters/<scenario>--<flags>/ (traces zstd-compressed, netcheck.conf,
# expected.json with the one-sided views), checked by tests/filters_programs.rs.
#
# Usage: lab/filters.sh [GLOB]   (only the scenarios whose name matches GLOB)
#        lab/filters.sh --expectations [GLOB]   (rewrite their expected.json only)
#
# Topology (namespaces fl-cli, fl-srv; nothing in the default namespace):
#   cli 10.101.1.2 --- srv 10.101.1.1
# Hosts: `client` (fl-cli) and `server` (fl-srv). Faults are iptables rules on the server, added
# for one scenario and flushed after it.
#
# Flag sets besides lab/scenario.sh's (all -f -tt -s 256): conn (-e trace=connect), cio (-e
# trace=connect,accept,accept4,sendto,recvfrom,getsockopt: the socket calls a user lists, without
# socket), acc (-e trace=accept,accept4,recvfrom,sendto,writev,sendfile: a server's accepts and
# transfers), Z (-Z: failed calls only).
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
LAB_NAME=filters NS_PREFIX=fl NAMESPACES="cli srv"
# shellcheck source=lab/scenario.sh
. "$LAB/scenario.sh"
GLOB=${1:-*}
S=10.101.1.1 C=10.101.1.2
TIMEOUT=20
PORT=8080
RECORDING_STEPS=""
declare -A ADDRS=([client]=$C [server]=$S)
PY=(/usr/bin/python3 -I)

strace_flags() {
  local common="-f -tt -s 256"
  case $1 in
    conn) echo "$common -e trace=connect" ;;
    cio) echo "$common -e trace=connect,accept,accept4,sendto,recvfrom,getsockopt" ;;
    acc) echo "$common -e trace=accept,accept4,recvfrom,sendto,writev,sendfile" ;;
    Z) echo "$common -Z" ;;
    *) scenario_strace_flags "$1" ;;
  esac
}

build() {
  teardown
  make_namespaces
  ip -n fl-cli link add eth0 type veth peer name eth0 netns fl-srv
  ip -n fl-cli addr add $C/24 dev eth0
  ip -n fl-srv addr add $S/24 dev eth0
  ip -n fl-cli link set eth0 up
  ip -n fl-srv link set eth0 up
  mkdir -p "$WORK/www"
  echo "hello from the filters lab" >"$WORK/www/index.html"
}

conf() { write_conf client server; }

# The Python client: a blocking connect (or one with a 2 s timeout: nonblocking, polled), a
# request, the answer read to the end.
CLIENT_PY='import socket, sys
s = socket.socket()
if len(sys.argv) > 3:
    s.settimeout(float(sys.argv[3]))
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except OSError as e:
    print("connect:", e); sys.exit(1)
s.sendall(b"GET / HTTP/1.0\r\nHost: lab\r\n\r\n")
while s.recv(4096):
    pass
s.close()'
py_client() { start cli client "$1" "${PY[@]}" -c "$CLIENT_PY" $S "${@:2}"; }

# Servers, traced with FLAGS (or not traced: no FLAGS)
python_server() {
  start srv server "$1" "${PY[@]}" -m http.server --bind $S --directory "$WORK/www" $PORT
  listening srv $PORT
}
busybox_server() { start srv server "$1" busybox httpd -f -p $S:$PORT -h "$WORK/www"; listening srv $PORT; }
stop_server() { signal srv TERM "$1"; finish server; }

# ---- nothing listens ------------------------------------------------------------------------

refused() { # PROGRAM FLAGS
  local scen=refused-$1--$2
  want "$scen" || return 1
  begin "$scen"
  case $1 in
    python) py_client "$2" $PORT ;;
    curl) start cli client "$2" curl -sS -m 3 "http://$S:$PORT/" ;;
    wget) start cli client "$2" wget -q -T 3 -t 1 -O /dev/null "http://$S:$PORT/" ;;
    busybox) start cli client "$2" busybox wget -q -O - "http://$S:$PORT/" ;;
  esac
  finish client; conf
}

# ---- REJECT with host-unreachable, and DROP -------------------------------------------------

blocked() { # HOW PROGRAM FLAGS
  local scen=$1-$2--$3
  want "$scen" || return 1
  begin "$scen"
  python_server tt
  if [ "$1" = unreach ]; then
    fw srv -A INPUT -p tcp --dport $PORT -j REJECT --reject-with icmp-host-unreachable
  else
    fw srv -A INPUT -p tcp --dport $PORT -j DROP
  fi
  case $2 in
    python) if [ "$1" = drop ]; then py_client "$3" $PORT 2; else py_client "$3" $PORT; fi ;;
    curl) start cli client "$3" curl -sS -m 2 "http://$S:$PORT/" ;;
  esac
  finish client
  fw_flush
  stop_server python3; conf
}

# ---- healthy --------------------------------------------------------------------------------

healthy() { # PROGRAM CLIENT_FLAGS SERVER_FLAGS
  local scen=healthy-$1--$2
  [ "$3" = "$2" ] || scen=healthy-$1--$2-$3
  want "$scen" || return 1
  begin "$scen"
  case $1 in
    busybox) busybox_server "$3" ;;
    *) python_server "$3" ;;
  esac
  case $1 in
    python) py_client "$2" $PORT ;;
    curl) start cli client "$2" curl -sS -m 3 -o /dev/null "http://$S:$PORT/" ;;
    wget) start cli client "$2" wget -q -T 3 -t 1 -O /dev/null "http://$S:$PORT/" ;;
    busybox) start cli client "$2" busybox wget -q -O - "http://$S:$PORT/" ;;
  esac
  finish client
  sleep 0.3
  case $1 in
    busybox) stop_server busybox ;;
    *) stop_server python3 ;;
  esac
  conf
}

main() {
  prepare "$@"
  refused python conn &&
    expect "nothing listens: the Python client's blocking connect is refused; only connects traced" \
    connect-refused "connect-never-completed"
  refused curl conn &&
    expect "nothing listens: curl's nonblocking connect is refused, which only the hidden poll and getsockopt show" \
    filtered-trace "connect-never-completed connect-filtered"
  refused curl cio &&
    expect "nothing listens: curl's nonblocking connect is refused, getsockopt(SO_ERROR) says so; socket hidden" \
    connect-refused "connect-never-completed"
  refused wget Z &&
    expect "nothing listens: wget's connect is refused; only failed calls traced" \
    connect-refused "connect-never-completed"
  refused busybox Z &&
    expect "nothing listens: busybox wget's connect is refused; only failed calls traced" \
    connect-refused "connect-never-completed"

  blocked unreach python conn &&
    expect "the server's firewall rejects with host-unreachable: the Python client's connect fails" \
    connect-filtered "connect-refused connect-never-completed" \
    client=connect-filtered server=healthy
  blocked unreach curl cio &&
    expect "the server's firewall rejects with host-unreachable: curl's SO_ERROR says so; socket hidden" \
    connect-filtered "connect-refused connect-never-completed" \
    client=connect-filtered server=healthy
  blocked drop curl conn &&
    expect "the server's firewall drops the SYNs: curl gives up after 2 s; only connects traced" \
    filtered-trace "connect-refused" \
    client=filtered-trace server=healthy
  blocked drop python Z &&
    expect "the server's firewall drops the SYNs: the Python client's 2 s timeout; only failed calls traced" \
    filtered-trace "connect-refused" \
    client=filtered-trace server=healthy

  healthy curl cio tt &&
    expect "curl fetches a page from Python's http.server; the client traced without its socket calls" \
    healthy "" client=healthy server=healthy
  healthy python cio tt &&
    expect "the Python client fetches a page (blocking connect); the client traced without socket()" \
    healthy "" client=healthy server=healthy
  healthy wget conn tt &&
    expect "wget fetches a page; only the client's connects traced" \
    healthy "" client=healthy server=healthy
  healthy busybox Z tt &&
    expect "busybox wget fetches a page from busybox httpd; only the client's failed calls traced" \
    healthy "" client=healthy server=healthy
  healthy curl tt acc &&
    expect "curl fetches a page; the server traced with only its accepts and transfers" \
    healthy "" client=healthy server=healthy
  healthy busybox T acc &&
    expect "busybox wget fetches from busybox httpd (a process per connection); server accepts and transfers only" \
    healthy "" client=healthy server=healthy
  true
}

main "$@"
