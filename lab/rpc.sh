#!/usr/bin/env bash
# The RPC lab (as root): ZeroMQ (python3-zmq: REQ/REP and PUSH/PULL over TCP), gRPC
# (python3-grpcio: unary calls, deadlines, HTTP/2 keepalive pings) and a TLS tunnel (stunnel4 in
# front of a plain TCP service), from lab/programs/rpc_probe.py, healthy and with real faults,
# under several strace flag sets. Writes tests/fixtures/rpc/<fault>--<flags>/ (traces
# zstd-compressed, a -ff set plain; netcheck.conf; expected.json with the one-sided views),
# checked by tests/rpc_programs.rs.
#
# Usage: lab/rpc.sh [GLOB]   (only the scenarios whose name matches GLOB)
#        lab/rpc.sh --expectations [GLOB]   (rewrite their expected.json only)
#
# Topology (namespaces nrp-cli, nrp-srv, nrp-bk; nothing in the default namespace):
#   cli 10.92.1.2 --- srv 10.92.1.1 | srv 10.92.2.1 --- bk 10.92.2.2
# ZeroMQ and gRPC servers run in nrp-srv; for the tunnel, stunnel runs there (host `proxy`,
# TLS on 7443) in front of the echo service in nrp-bk (host `backend`, port 7000). Faults are
# iptables rules in the receiving namespace, added for one scenario and flushed after it. The
# client namespace gives up a connect after two SYNs (tcp_syn_retries=1, about 3 s).
#
# Flag sets: record (`netcheck record --string-limit 256`), plain (strace -f -tt -T -yy -s 256),
# ff (strace -ff -ttt -s 256: one file per thread, no -T).
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
LAB_NAME=rpc NS_PREFIX=nrp NAMESPACES="cli srv bk"
# shellcheck source=lab/scenario.sh
. "$LAB/scenario.sh"
GLOB=${1:-*}
S=10.92.1.1 C=10.92.1.2 P2=10.92.2.1 B=10.92.2.2
TIMEOUT=40
# Debian's interpreter itself (python3-zmq and python3-grpcio live in its dist-packages)
PY=(/usr/bin/python3 -I "$WORK/rpc_probe.py")
declare -A ADDRS=([client]=$C [server]=$S [proxy]="$S $P2" [backend]=$B)

build() {
  teardown
  make_namespaces
  three_hosts cli srv bk "$C" "$S" "$P2" "$B"
  # no offloads: the firewall's random drops hit segments of the size TCP made them, not
  # 64 kB aggregates that one loss would stall as a whole
  in_ns cli ethtool -K eth0 tso off gso off gro off >/dev/null 2>&1 || true
  in_ns srv ethtool -K eth0 tso off gso off gro off >/dev/null 2>&1 || true
  in_ns srv ethtool -K eth1 tso off gso off gro off >/dev/null 2>&1 || true
  in_ns bk ethtool -K eth0 tso off gso off gro off >/dev/null 2>&1 || true
  in_ns cli sysctl -qw net.ipv4.tcp_syn_retries=1
  in_ns srv sysctl -qw net.ipv4.tcp_syn_retries=1
  mkdir -p "$WORK"
  cp "$LAB/programs/rpc_probe.py" "$WORK/"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=proxy \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
  cat >"$WORK/stunnel.conf" <<EOF
foreground = yes
pid =
debug = 4
[echo]
accept = $S:7443
connect = $B:7000
cert = $WORK/cert.pem
key = $WORK/key.pem
EOF
}

# strace_flags FLAGS: scenario.sh's flag sets, but `ff` with -ttt
strace_flags() {
  case $1 in
    ff) echo "-ff -ttt -s 256" ;;
    plain) echo "-f -tt -T -yy -s 256" ;;
    *) scenario_strace_flags "$1" ;;
  esac
}

# conf: netcheck.conf naming the tunnel's hosts in its scenarios, the RPC server in the others
conf() { case $SCEN in tls-*) write_conf client proxy backend ;; *) write_conf client server ;; esac; }



# ---- ZeroMQ ---------------------------------------------------------------------------------

zmq_healthy() { # FLAGS
  want "zmq-healthy--$1" || return 0
  begin "zmq-healthy--$1"
  start srv server "$1" "${PY[@]}" zmq-rep 7101 3
  listening srv 7101
  start cli client "$1" "${PY[@]}" zmq-req $S 7101 3
  finish client; finish server; conf
  expect "a ZeroMQ REQ socket sends three requests to a REP socket and reads each answer" \
    healthy "" client=healthy server=healthy
}

zmq_push_healthy() { # FLAGS
  want "zmq-push-healthy--$1" || return 0
  begin "zmq-push-healthy--$1"
  start srv server "$1" "${PY[@]}" zmq-pull 7102 20
  listening srv 7102
  start cli client "$1" "${PY[@]}" zmq-push $S 7102 20 20000
  finish client; finish server; conf
  expect "a ZeroMQ PUSH socket sends twenty 20 kB messages to a PULL socket" \
    healthy "" client=healthy server=healthy
}

zmq_refused() { # FLAGS
  want "zmq-refused--$1" || return 0
  begin "zmq-refused--$1"
  start cli client "$1" "${PY[@]}" zmq-req $S 7101 1 3
  finish client; conf
  expect "nothing listens on the server: ZeroMQ's I/O thread retries the refused connect with backoff until the REQ socket's 3 s receive timeout" \
    connect-refused ""
}

zmq_late() { # FLAGS
  want "zmq-late--$1" || return 0
  begin "zmq-late--$1"
  start cli client "$1" "${PY[@]}" zmq-req $S 7101 2 10
  sleep 1.5
  start srv server "$1" "${PY[@]}" zmq-rep 7101 2
  finish client; finish server; conf
  expect "the REP server starts 1.5 s after the REQ client: refused connects, retried with backoff, then the requests are answered" \
    refused-before-listening "connect-refused" client=refused-before-listening server=healthy
}

zmq_drop() { # FLAGS
  want "zmq-drop--$1" || return 0
  begin "zmq-drop--$1"
  fw srv -A INPUT -p tcp --dport 7101 -j DROP
  start srv server "$1" "${PY[@]}" zmq-rep 7101 1
  listening srv 7101
  start cli client "$1" "${PY[@]}" zmq-req $S 7101 1 5
  finish client; signal srv TERM python3; finish server; fw_flush; conf
  expect "the server's firewall drops the SYNs to the REP socket; the client's connects time out until its 5 s receive timeout" \
    connect-filtered "connect-refused" client=connect-filtered,connect-never-completed server=healthy
}

zmq_reset() { # FLAGS
  want "zmq-reset--$1" || return 0
  begin "zmq-reset--$1"
  fw srv -A INPUT -p tcp --dport 7101 -j REJECT --reject-with tcp-reset
  start srv server "$1" "${PY[@]}" zmq-rep 7101 1
  listening srv 7101
  start cli client "$1" "${PY[@]}" zmq-req $S 7101 1 3
  finish client; signal srv TERM python3; finish server; fw_flush; conf
  expect "the server's firewall answers the SYNs to the listening REP socket with resets; the client's connects are refused, retried with backoff" \
    connect-refused-while-listening "connect-refused" \
    client=connect-refused,connect-refused-while-listening server=healthy
}

zmq_loss() { # FLAGS
  want "zmq-loss--$1" || return 0
  begin "zmq-loss--$1"
  fw srv -A INPUT -p tcp --dport 7102 -m statistic --mode random --probability 0.25 -j DROP
  start srv server "$1" "${PY[@]}" zmq-pull 7102 20
  listening srv 7102
  start cli client "$1" "${PY[@]}" zmq-push $S 7102 20 20000
  finish client; finish server; fw_flush; conf
  expect "a PUSH socket sends twenty 20 kB messages through a firewall that drops a quarter of the packets at random: the transfer completes, stalled by retransmissions" \
    network-stall "" client=healthy \
    "server=invisible: the server receives every message late; the retransmissions behind that show only as waits"
}

zmq_killed() { # FLAGS
  want "zmq-killed--$1" || return 0
  begin "zmq-killed--$1"
  start srv server "$1" "${PY[@]}" zmq-rep 7101 1 3.0
  listening srv 7101
  start cli client "$1" "${PY[@]}" zmq-req $S 7101 1 4
  sleep 1
  signal srv KILL python3
  finish client; finish server; conf
  expect "the REP server is killed by SIGKILL while it handles the request; the REQ client reconnects, refused, until its receive timeout" \
    no-reply "" client=no-reply,connect-refused "server=invisible: the server's trace ends at its death"
}

# ---- gRPC -----------------------------------------------------------------------------------

grpc_healthy() { # FLAGS
  want "grpc-healthy--$1" || return 0
  begin "grpc-healthy--$1"
  start srv server "$1" "${PY[@]}" grpc-server 7201 3
  listening srv 7201
  start cli client "$1" "${PY[@]}" grpc-client $S 7201 3
  finish client; finish server; conf
  expect "three unary gRPC calls on one channel, each answered" healthy "" client=healthy server=healthy
}

grpc_down() { # FLAGS
  want "grpc-down--$1" || return 0
  begin "grpc-down--$1"
  start cli client "$1" "${PY[@]}" grpc-client $S 7201 1 2.0
  finish client; conf
  expect "no gRPC server runs: the call fails UNAVAILABLE after a refused connect" connect-refused ""
}

grpc_deadline() { # FLAGS
  want "grpc-deadline--$1" || return 0
  begin "grpc-deadline--$1"
  start srv server "$1" "${PY[@]}" grpc-server 7201 1 1.5
  listening srv 7201
  start cli client "$1" "${PY[@]}" grpc-client $S 7201 1 0.5
  finish client; finish server; conf
  expect "the server takes 1.5 s to answer a call whose deadline is 0.5 s: the client cancels it (DEADLINE_EXCEEDED), an application's choice on a healthy network" \
    healthy "" client=healthy server=healthy
}

grpc_keepalive() { # FLAGS
  want "grpc-keepalive--$1" || return 0
  begin "grpc-keepalive--$1"
  start srv server "$1" "${PY[@]}" grpc-server 7201 1
  listening srv 7201
  start cli client "$1" "${PY[@]}" grpc-client $S 7201 1 5.0 2.5
  finish client; finish server; conf
  expect "a channel idle for 2.5 s with HTTP/2 keepalive pings every 0.5 s, then one call" \
    healthy "" client=healthy server=healthy
}

grpc_drop() { # FLAGS
  want "grpc-drop--$1" || return 0
  begin "grpc-drop--$1"
  fw srv -A INPUT -p tcp --dport 7201 -j DROP
  start srv server "$1" "${PY[@]}" grpc-server 7201 1
  listening srv 7201
  start cli client "$1" "${PY[@]}" grpc-client $S 7201 1 4.0
  finish client; signal srv TERM python3; finish server; fw_flush; conf
  expect "the server's firewall drops the SYNs: the call's deadline (4 s) passes while the connect retransmits" \
    connect-filtered "connect-refused" client=connect-filtered,connect-never-completed server=healthy
}

grpc_loss() { # FLAGS
  want "grpc-loss--$1" || return 0
  begin "grpc-loss--$1"
  fw srv -A INPUT -p tcp --dport 7201 -m statistic --mode random --probability 0.25 -j DROP
  start srv server "$1" "${PY[@]}" grpc-server 7201 8
  listening srv 7201
  start cli client "$1" "${PY[@]}" grpc-client $S 7201 8 20.0 0 60000
  finish client; finish server; fw_flush; conf
  # Many segments in flight: fast retransmission (SACK) repairs most losses within a round
  # trip, which no call shows; a stall shows only where a retransmission timeout was needed.
  expect "eight 60 kB unary calls through a firewall that drops a quarter of the packets to the server at random: every call completes; the losses are repaired by fast retransmission, or stall a call by a retransmission timeout" \
    "" "data-unreceived connection-reset send-after-peer-closed no-reply" \
    client=not:data-unreceived,connection-reset,send-after-peer-closed,no-reply \
    "server=invisible: the server receives the calls late or not; the retransmissions behind that show in the client's waits"
}

grpc_reset() { # FLAGS
  want "grpc-reset--$1" || return 0
  begin "grpc-reset--$1"
  fw srv -A INPUT -p tcp --dport 7201 -j REJECT --reject-with tcp-reset
  start srv server "$1" "${PY[@]}" grpc-server 7201 1
  listening srv 7201
  start cli client "$1" "${PY[@]}" grpc-client $S 7201 1 2.0
  finish client; signal srv TERM python3; finish server; fw_flush; conf
  expect "the server's firewall answers the SYNs to the listening gRPC server with resets: the call fails UNAVAILABLE" \
    connect-refused-while-listening "connect-refused" \
    client=connect-refused,connect-refused-while-listening server=healthy
}

grpc_killed() { # FLAGS
  want "grpc-killed--$1" || return 0
  begin "grpc-killed--$1"
  start srv server "$1" "${PY[@]}" grpc-server 7201 1 3.0
  listening srv 7201
  start cli client "$1" "${PY[@]}" grpc-client $S 7201 1 5.0
  sleep 1.5
  signal srv KILL python3
  finish client; finish server; conf
  expect "the gRPC server is killed by SIGKILL while it handles the call: the client's connection ends without an answer (UNAVAILABLE)" \
    no-reply "" client=no-reply,connect-refused "server=invisible: the server's trace ends at its death"
}

# ---- stunnel --------------------------------------------------------------------------------

tls_start_tunnel() { # FLAGS
  start srv proxy "$1" stunnel4 "$WORK/stunnel.conf"
  listening srv 7443
}

tls_healthy() { # FLAGS
  want "tls-healthy--$1" || return 0
  begin "tls-healthy--$1"
  start bk backend "$1" "${PY[@]}" tcp-echo 7000 2
  listening bk 7000
  tls_start_tunnel "$1"
  start cli client "$1" "${PY[@]}" tls-client $S 7443 2 3000
  finish client; finish backend; signal srv TERM stunnel4; finish proxy; conf
  expect "two TLS connections through stunnel to a plain echo service, each request echoed" \
    healthy "" client=healthy proxy=healthy backend=healthy
}

tls_backend_down() { # FLAGS
  want "tls-backend-down--$1" || return 0
  begin "tls-backend-down--$1"
  tls_start_tunnel "$1"
  start cli client "$1" "${PY[@]}" tls-client $S 7443 1 3000
  finish client; signal srv TERM stunnel4; finish proxy; conf
  expect "nothing listens behind the tunnel: stunnel's connect to the backend is refused and it closes the client's TLS connection" \
    connect-refused "" proxy=connect-refused \
    "client=invisible: the client sees its TLS connection closed by the proxy without an answer"
}

tls_backend_drop() { # FLAGS
  want "tls-backend-drop--$1" || return 0
  begin "tls-backend-drop--$1"
  fw bk -A INPUT -p tcp --dport 7000 -j DROP
  start bk backend "$1" "${PY[@]}" tcp-echo 7000 1
  listening bk 7000
  tls_start_tunnel "$1"
  start cli client "$1" "${PY[@]}" tls-client $S 7443 1 3000
  finish client; signal bk TERM python3; finish backend; signal srv TERM stunnel4; finish proxy
  fw_flush; conf
  expect "the backend's firewall drops stunnel's SYNs: its connect times out and it closes the client's TLS connection" \
    connect-filtered "connect-refused" proxy=connect-filtered,connect-never-completed backend=healthy \
    "client=invisible: the client sees its TLS connection closed by the proxy without an answer"
}

tls_backend_reset() { # FLAGS
  want "tls-backend-reset--$1" || return 0
  begin "tls-backend-reset--$1"
  fw bk -A INPUT -p tcp --dport 7000 -j REJECT --reject-with tcp-reset
  start bk backend "$1" "${PY[@]}" tcp-echo 7000 1
  listening bk 7000
  tls_start_tunnel "$1"
  start cli client "$1" "${PY[@]}" tls-client $S 7443 1 3000
  finish client; signal bk TERM python3; finish backend; signal srv TERM stunnel4; finish proxy
  fw_flush; conf
  expect "the backend's firewall answers stunnel's SYNs with resets although the echo service listens: the proxy's connect is refused and it closes the client's TLS connection" \
    connect-refused-while-listening "connect-refused" \
    proxy=connect-refused,connect-refused-while-listening backend=healthy \
    "client=invisible: the client sees its TLS connection closed by the proxy without an answer"
}

tls_loss() { # FLAGS
  want "tls-loss--$1" || return 0
  begin "tls-loss--$1"
  fw srv -A INPUT -p tcp --dport 7443 -m statistic --mode random --probability 0.25 -j DROP
  start bk backend "$1" "${PY[@]}" tcp-echo 7000 3 100000
  listening bk 7000
  tls_start_tunnel "$1"
  start cli client "$1" "${PY[@]}" tls-client $S 7443 3 100000
  finish client; finish backend; signal srv TERM stunnel4; finish proxy; fw_flush; conf
  # A connection per request: lost SYNs stall the client's connects by whole retransmission
  # timeouts, whatever fast retransmission repairs within the transfers.
  expect "three 100 kB requests through the tunnel, a quarter of the packets to the proxy dropped at random: every echo completes, connects and transfers stalled by retransmissions" \
    network-stall "data-unreceived connection-reset send-after-peer-closed no-reply mtu-black-hole" \
    client=network-stall \
    proxy=not:data-unreceived,connection-reset,send-after-peer-closed,no-reply,mtu-black-hole \
    backend=healthy
}

main() {
  prepare "$@"
  local f
  for f in record plain ff; do zmq_healthy $f; grpc_healthy $f; tls_healthy $f; done
  zmq_push_healthy plain
  for f in plain record; do zmq_refused $f; grpc_down $f; done
  for f in plain ff; do zmq_late $f; done
  grpc_deadline plain
  zmq_drop plain; zmq_reset plain; zmq_loss plain; zmq_killed plain
  grpc_keepalive plain; grpc_drop plain; grpc_loss plain; grpc_killed plain
  grpc_reset plain
  tls_backend_down plain; tls_backend_drop plain; tls_backend_reset plain; tls_loss plain
  log "done"
}

main "$@"
