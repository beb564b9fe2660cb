#!/usr/bin/env bash
# The proxy lab (as root): relays, reverse proxies and tunnels between a client and an HTTP back
# end on three hosts (socat, nginx's stream proxy, Caddy's reverse_proxy, HAProxy, tinyproxy's
# CONNECT, an ssh -L port forward), with curl, wget, Python and nc as clients, healthy and with
# real faults, each scenario under another strace flag set. Writes
# tests/fixtures/proxy/<fault>--<flags>/ (traces zstd-compressed, a -ff set plain; netcheck.conf;
# expected.json with the one-sided views), checked by tests/proxy_programs.rs.
#
# Usage: lab/proxy.sh [GLOB]   (only the scenarios whose name matches GLOB)
#        lab/proxy.sh --expectations [GLOB]   (rewrite their expected.json only)
#
# Topology (namespaces px-cli, px-prx, px-bk; nothing in the default namespace):
#   cli 10.93.1.2 --- prx 10.93.1.1 | prx 10.93.2.1 --- bk 10.93.2.2
# The back end (lab/programs/proxy_backend.py) listens on 9000 in px-bk (host `backend`); the
# proxy runs in px-prx (host `proxy`), the client in px-cli (host `client`). Faults are
# iptables rules in one namespace, added for one scenario and flushed after it. The proxy's
# namespace gives up a connect after two SYNs (tcp_syn_retries=1, about 3 s).
#
# Flag sets (all with -s 256 unless named otherwise; every one but `record` is strace's own):
#   record  netcheck record (-f -ttt -T -yy)     f     -f
#   ff      -ff -tt -o (one file per process)     r     -f -r
#   tt      -f -tt                                k     -f -tt -k (a stack after each call)
#   i       -f -tt -i                             X     -f -tt -X verbose
#   seccomp --seccomp-bpf -f -tt -e trace=%network,%desc,%process (a filter is what it needs)
#   enet  -f -tt -e trace=%network,read,write,close
#   xx      -f -tt -xx                            s0    -f -tt -s 0
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
LAB_NAME=proxy NS_PREFIX=px NAMESPACES="cli prx bk"
# shellcheck source=lab/scenario.sh
. "$LAB/scenario.sh"
GLOB=${1:-*}
P=10.93.1.1 C=10.93.1.2 P2=10.93.2.1 B=10.93.2.2
TIMEOUT=40
BACKEND=(/usr/bin/python3 -I "$WORK/proxy_backend.py" 9000)
declare -A ADDRS=([client]=$C [proxy]="$P $P2" [backend]=$B)

build() {
  teardown
  make_namespaces
  three_hosts cli prx bk "$C" "$P" "$P2" "$B"
  # the back end is reached through the proxy host only by the CONNECT tunnel's target name
  ip -n px-cli route add 10.93.2.0/24 via $P
  ip -n px-bk route add 10.93.1.0/24 via $P2
  in_ns cli ethtool -K eth0 tso off gso off gro off >/dev/null 2>&1 || true
  in_ns prx ethtool -K eth0 tso off gso off gro off >/dev/null 2>&1 || true
  in_ns prx ethtool -K eth1 tso off gso off gro off >/dev/null 2>&1 || true
  in_ns bk ethtool -K eth0 tso off gso off gro off >/dev/null 2>&1 || true
  in_ns cli sysctl -qw net.ipv4.tcp_syn_retries=1
  in_ns prx sysctl -qw net.ipv4.tcp_syn_retries=1
  mkdir -p "$WORK"
  cp "$LAB/programs/proxy_backend.py" "$WORK/"
  cat >"$WORK/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
daemon off;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log info;
events { worker_connections 64; }
stream {
  server {
    listen $P:8081;
    proxy_pass $B:9000;
    proxy_connect_timeout 2s;
    proxy_timeout 3s;
  }
}
CONF
  cat >"$WORK/Caddyfile" <<CONF
{
  admin off
  auto_https off
}
http://$P:8082 {
  reverse_proxy $B:9000 {
    transport http {
      dial_timeout 2s
      response_header_timeout 2s
    }
  }
}
CONF
  cat >"$WORK/haproxy.cfg" <<CONF
defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 2s
frontend front
  bind $P:8083
  default_backend back
backend back
  server s1 $B:9000
CONF
  # ssh -L: sshd on the proxy host (its own host key, root logs in with a key made here)
  rm -f "$WORK/host_key" "$WORK/host_key.pub" "$WORK/user_key" "$WORK/user_key.pub"
  ssh-keygen -q -t ed25519 -N '' -f "$WORK/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$WORK/user_key"
  cp "$WORK/user_key.pub" "$WORK/authorized_keys"
  chmod 600 "$WORK/authorized_keys"
  cat >"$WORK/sshd_config" <<CONF
ListenAddress $P:2222
HostKey $WORK/host_key
PidFile none
PermitRootLogin prohibit-password
AuthorizedKeysFile $WORK/authorized_keys
StrictModes no
UsePAM no
AllowTcpForwarding yes
CONF
  cat >"$WORK/tinyproxy.conf" <<CONF
Port 8888
Listen $P
Timeout 5
Allow 10.93.1.0/24
ConnectPort 9000
MaxClients 8
LogLevel Info
CONF
}


# conf: netcheck.conf naming every host, traced or not
conf() { write_conf client proxy backend; }



backend() { # FLAGS LIFETIME [DELAY MODE]
  start bk backend "$1" "${BACKEND[@]}" "${@:2}"
  listening bk 9000
}
CURL=(curl -sS -o /dev/null -w '%{http_code}\n' --max-time 8)

# ---- healthy --------------------------------------------------------------------------------

socat_healthy() { # FLAGS
  want "socat-healthy--$1" || return 0
  begin "socat-healthy--$1"
  backend "$1" 6
  start prx proxy "$1" socat TCP-LISTEN:8080,bind=$P,reuseaddr,fork TCP:$B:9000
  listening prx 8080
  start cli client "$1" "${CURL[@]}" http://$P:8080/a http://$P:8080/b
  finish client; finish backend; signal prx TERM socat; finish proxy; conf
  expect "curl asks two URLs on one kept-alive connection through socat's TCP relay (a child per connection) to the back end" \
    healthy "" client=healthy proxy=healthy backend=healthy
}

nginx_healthy() { # FLAGS
  want "nginx-healthy--$1" || return 0
  begin "nginx-healthy--$1"
  backend "$1" 6
  start prx proxy "$1" nginx -c "$WORK/nginx.conf"
  listening prx 8081
  start cli client "$1" "${CURL[@]}" http://$P:8081/a http://$P:8081/b http://$P:8081/c
  finish client; finish backend; signal prx QUIT nginx; finish proxy; conf
  expect "curl asks three URLs on one kept-alive connection through nginx's stream (TCP) proxy" \
    healthy "" client=healthy proxy=healthy backend=healthy
}

caddy_healthy() { # FLAGS
  want "caddy-healthy--$1" || return 0
  begin "caddy-healthy--$1"
  backend "$1" 8
  start prx proxy "$1" caddy run --adapter caddyfile --config "$WORK/Caddyfile"
  listening prx 8082
  start cli client "$1" "${CURL[@]}" http://$P:8082/a http://$P:8082/b http://$P:8082/c
  finish client; finish backend; signal prx TERM caddy; finish proxy; conf
  expect "curl asks three URLs through Caddy's reverse_proxy (HTTP/1.1, a pooled back-end connection)" \
    healthy "" client=healthy proxy=healthy backend=healthy
}

haproxy_healthy() { # FLAGS CLIENT
  want "haproxy-healthy-$2--$1" || return 0
  begin "haproxy-healthy-$2--$1"
  backend "$1" 6
  start prx proxy "$1" haproxy -db -f "$WORK/haproxy.cfg"
  listening prx 8083
  case $2 in
    wget) start cli client "$1" wget -q -O /dev/null -T 5 http://$P:8083/a http://$P:8083/b ;;
    python) start cli client "$1" /usr/bin/python3 -I -c "
import http.client
c = http.client.HTTPConnection('$P', 8083, timeout=5)
for p in ('/a', '/b', '/c'):
    c.request('GET', p); r = c.getresponse(); r.read(); print(r.status)
c.close()" ;;
  esac
  finish client; finish backend; signal prx TERM haproxy; finish proxy; conf
  expect "$2 asks its URLs through HAProxy in HTTP mode, kept alive on both sides" \
    healthy "" client=healthy proxy=healthy backend=healthy
}

tinyproxy_healthy() { # FLAGS
  want "tinyproxy-healthy--$1" || return 0
  begin "tinyproxy-healthy--$1"
  backend "$1" 6
  start prx proxy "$1" tinyproxy -d -c "$WORK/tinyproxy.conf"
  listening prx 8888
  start cli client "$1" "${CURL[@]}" -p -x http://$P:8888 http://$B:9000/a http://$B:9000/b
  finish client; finish backend; signal prx TERM tinyproxy; finish proxy; conf
  expect "curl tunnels two requests through tinyproxy with HTTP CONNECT to the back end" \
    healthy "" client=healthy proxy=healthy backend=healthy
}

nc_healthy() { # FLAGS
  want "socat-nc-healthy--$1" || return 0
  begin "socat-nc-healthy--$1"
  backend "$1" 5
  start prx proxy "$1" socat TCP-LISTEN:8080,bind=$P,reuseaddr,fork TCP:$B:9000
  listening prx 8080
  start cli client "$1" sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -q 2 $P 8080 >/dev/null"
  finish client; finish backend; signal prx TERM socat; finish proxy; conf
  expect "nc sends one request through socat's relay and reads the answer" \
    healthy "" client=healthy proxy=healthy backend=healthy
}

ssh_forward() { # FLAGS FAULT (healthy or down)
  want "ssh-forward-$2--$1" || return 0
  begin "ssh-forward-$2--$1"
  [ "$2" = healthy ] && backend "$1" 10
  mkdir -p /run/sshd
  start prx proxy "$1" /usr/sbin/sshd -D -e -f "$WORK/sshd_config"
  listening prx 2222
  # ssh and curl on the client host, one trace: curl asks the forwarded port on loopback
  start cli client "$1" sh -c "ssh -N -i $WORK/user_key -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o ExitOnForwardFailure=yes -L 127.0.0.1:8090:$B:9000 \
    -p 2222 root@$P & sleep 1.5; ${CURL[*]} http://127.0.0.1:8090/a http://127.0.0.1:8090/b; \
    kill \$!; wait"
  finish client
  [ "$2" = healthy ] && finish backend
  signal prx TERM sshd; finish proxy; conf
  if [ "$2" = healthy ]; then
    expect "curl asks two URLs through an ssh -L port forward (ssh on the client host, sshd on the proxy host connecting to the back end)" \
      healthy "" client=healthy proxy=healthy backend=healthy
  else
    expect "nothing listens on the back end: sshd's connect for the forwarded channel is refused, and ssh closes curl's loopback connection" \
      connect-refused "" proxy=connect-refused \
      "client=invisible: the client sees the ssh channel open fail and its loopback connection closed"
  fi
}

# ---- faults ---------------------------------------------------------------------------------

caddy_down() { # FLAGS
  want "caddy-down--$1" || return 0
  begin "caddy-down--$1"
  start prx proxy "$1" caddy run --adapter caddyfile --config "$WORK/Caddyfile"
  listening prx 8082
  start cli client "$1" "${CURL[@]}" http://$P:8082/a
  finish client; signal prx TERM caddy; finish proxy; conf
  expect "nothing listens on the back end: Caddy's dial is refused and it answers 502" \
    connect-refused "" proxy=connect-refused \
    "client=invisible: the client gets a 502 answer, a healthy exchange on its link"
}

nginx_drop() { # FLAGS
  want "nginx-drop--$1" || return 0
  begin "nginx-drop--$1"
  fw bk -A INPUT -p tcp --dport 9000 -j DROP
  backend "$1" 5
  start prx proxy "$1" nginx -c "$WORK/nginx.conf"
  listening prx 8081
  start cli client "$1" "${CURL[@]}" http://$P:8081/a
  finish client; finish backend; signal prx QUIT nginx; finish proxy; fw_flush; conf
  expect "the back end's firewall drops nginx's SYNs: its own 2 s timer ends the connect in progress (before the kernel gives up) and it closes the client's connection" \
    connect-never-completed "connect-refused" proxy=connect-filtered,connect-never-completed backend=healthy \
    "client=invisible: the client sees its connection closed by the proxy without an answer"
}

haproxy_cut() { # FLAGS
  want "haproxy-cut--$1" || return 0
  begin "haproxy-cut--$1"
  backend "$1" 4 0 cut
  start prx proxy "$1" haproxy -db -f "$WORK/haproxy.cfg"
  listening prx 8083
  start cli client "$1" "${CURL[@]}" http://$P:8083/a
  finish client; finish backend; signal prx TERM haproxy; finish proxy; conf
  expect "the back end resets its connection half-way through the answer (SO_LINGER {1, 0}); HAProxy passes on what it got and closes the client's connection" \
    connection-reset "" proxy=connection-reset backend=not:connect-refused \
    "client=invisible: the client sees its answer cut short by an orderly close"
}

socat_reset() { # FLAGS
  want "socat-reset--$1" || return 0
  begin "socat-reset--$1"
  fw bk -A INPUT -p tcp --dport 9000 --tcp-flags PSH PSH -j REJECT --reject-with tcp-reset
  backend "$1" 4
  start prx proxy "$1" socat TCP-LISTEN:8080,bind=$P,reuseaddr,fork TCP:$B:9000
  listening prx 8080
  start cli client "$1" "${CURL[@]}" http://$P:8080/a
  finish client; finish backend; signal prx TERM socat; finish proxy; fw_flush; conf
  expect "the back end's firewall answers the request the relay forwards with a reset after the handshake: socat's relay gets ECONNRESET and closes the client's connection" \
    connection-reset "" proxy=connection-reset \
    "backend=invisible: the back end accepted a connection that never carried a byte" \
    "client=invisible: the client sees its connection closed without an answer"
}

caddy_slow() { # FLAGS
  want "caddy-slow--$1" || return 0
  begin "caddy-slow--$1"
  backend "$1" 6 4
  start prx proxy "$1" caddy run --adapter caddyfile --config "$WORK/Caddyfile"
  listening prx 8082
  start cli client "$1" "${CURL[@]}" http://$P:8082/a
  finish client; finish backend; signal prx TERM caddy; finish proxy; conf
  expect "the back end answers after 4 s, past Caddy's 2 s response_header_timeout: Caddy closes the back-end connection and answers 504" \
    "" "connect-refused connect-filtered" \
    proxy=no-reply \
    "client=invisible: the client gets a 504 answer, a healthy exchange on its link" \
    "backend=invisible: the back end answered on time for itself; its answer hits a closed connection"
}

haproxy_loss() { # FLAGS
  want "haproxy-loss--$1" || return 0
  begin "haproxy-loss--$1"
  fw prx -A INPUT -i eth0 -p tcp --dport 8083 -m statistic --mode random --probability 0.3 -j DROP
  backend "$1" 12
  start prx proxy "$1" haproxy -db -f "$WORK/haproxy.cfg"
  listening prx 8083
  start cli client "$1" sh -c "for i in 1 2 3 4 5 6; do curl -sS -o /dev/null --max-time 8 http://$P:8083/\$i; done"
  finish client; finish backend; signal prx TERM haproxy; finish proxy; fw_flush; conf
  expect "six connections through HAProxy, 30% of the packets from the client to the proxy dropped at random: connects and requests stalled by retransmissions" \
    network-stall "connect-refused data-mismatch" client=network-stall \
    "proxy=invisible: the proxy receives the requests late; its back-end link is healthy" \
    "backend=invisible: HAProxy resets its back-end connections on purpose (SO_LINGER {1, 0}) when a client leaves; from the back end's side alone a deliberate reset and a fault look the same"
}

backend_killed() { # FLAGS PROXY
  want "$2-killed--$1" || return 0
  begin "$2-killed--$1"
  backend "$1" 8 3
  case $2 in
    nginx) start prx proxy "$1" nginx -c "$WORK/nginx.conf"; listening prx 8081
      start cli client "$1" "${CURL[@]}" http://$P:8081/a ;;
    caddy) start prx proxy "$1" caddy run --adapter caddyfile --config "$WORK/Caddyfile"
      listening prx 8082
      start cli client "$1" "${CURL[@]}" http://$P:8082/a ;;
  esac
  sleep 1.2
  signal bk KILL python3
  finish client; finish backend
  case $2 in nginx) signal prx QUIT nginx ;; caddy) signal prx TERM caddy ;; esac
  finish proxy; conf
  case $2 in
    nginx) expect "the back end is killed (SIGKILL) while it holds the request nginx's stream proxy relayed: nginx closes the client's connection without an answer" \
      no-reply "" proxy=no-reply client=no-reply "backend=invisible: the back end's trace ends at its death" ;;
    caddy) expect "the back end is killed (SIGKILL) while it holds Caddy's request: Caddy answers 502" \
      no-reply "" proxy=no-reply "backend=invisible: the back end's trace ends at its death" \
      "client=invisible: the client gets a 502 answer, a healthy exchange on its link" ;;
  esac
}

proxy_down() { # FLAGS
  want "proxy-down--$1" || return 0
  begin "proxy-down--$1"
  backend "$1" 3
  start cli client "$1" "${CURL[@]}" http://$P:8083/a
  finish client; finish backend; conf
  expect "the proxy is not running: curl's connect to it is refused" \
    connect-refused "" client=connect-refused backend=healthy
}

tinyproxy_down() { # FLAGS
  want "tinyproxy-down--$1" || return 0
  begin "tinyproxy-down--$1"
  start prx proxy "$1" tinyproxy -d -c "$WORK/tinyproxy.conf"
  listening prx 8888
  start cli client "$1" "${CURL[@]}" -p -x http://$P:8888 http://$B:9000/a
  finish client; signal prx TERM tinyproxy; finish proxy; conf
  expect "nothing listens on the back end: tinyproxy's connect for the CONNECT tunnel is refused and it answers an error" \
    connect-refused "" proxy=connect-refused \
    "client=invisible: the client gets the proxy's error answer to its CONNECT"
}

main() {
  prepare "$@"
  socat_healthy record; nginx_healthy f; caddy_healthy r; haproxy_healthy tt wget
  haproxy_healthy seccomp python; tinyproxy_healthy k; nc_healthy ff
  caddy_down xx; nginx_drop i; haproxy_cut X; socat_reset enet; caddy_slow s0
  haproxy_loss tt; proxy_down record; tinyproxy_down f
  ssh_forward tt healthy; ssh_forward record down
  backend_killed tt nginx; backend_killed record caddy; haproxy_healthy enet wget
  log "done"
}

main "$@"
