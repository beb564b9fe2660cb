#!/usr/bin/env bash
# The web lab (as root): real Debian web programs netcheck was not written for. Varnish
# (varnishd -F, a manager and a cache process with worker threads) as a cache in front of an app
# server on a third host: gunicorn (an arbiter and one sync worker) or uWSGI (--http-socket, one
# process) serving lab/programs/web_app.py. Clients: aria2c, lftp, httpie (`http`), w3m -dump,
# lynx -dump, ab (apache2-utils), ncat (nmap's), busybox wget and nc. Healthy (through Varnish,
# a cache hit, straight to the app server) and with real faults: server down (refused), firewall
# DROP (connect timeout), REJECT with icmp-host-unreachable, the back end down, filtered, slow or
# killed behind Varnish (the client gets Varnish's 503), the app server killed while answering,
# random loss (iptables statistic), a small-MTU link whose router drops ICMP fragmentation-needed
# (a PMTU black hole) under a 200 KB response. Each scenario under another strace flag set.
# Writes tests/fixtures/web/<scenario>--<flags>/ (traces zstd-compressed, a -ff set plain;
# netcheck.conf; expected.json with the one-sided views), checked by tests/web_programs.rs.
#
# Usage: lab/web.sh [GLOB]   (only the scenarios whose name matches GLOB)
#        lab/web.sh --expectations [GLOB]   (rewrite their expected.json only)
#
# Topology (namespaces wb-cli, wb-mid, wb-srv; nothing in the default namespace):
#   cli 10.99.1.2 --- mid 10.99.1.1 | mid 10.99.2.1 --- srv 10.99.2.2
# Hosts: `client` (wb-cli), `cache` (wb-mid: Varnish on 10.99.1.1:6081, and the router between
# the two links), `backend` (wb-srv: the app server on port 8000). The client reaches the app
# server directly through the router in the scenarios without Varnish. Faults are iptables rules
# (or an MTU) in one namespace, set for one scenario and undone after it. The client's and the
# cache's namespaces give up a connect after two SYNs (tcp_syn_retries=1, about 3 s).
#
# Flag sets (all with -s 256 unless the set says otherwise): record (`netcheck record`: -f -ttt
# -T -yy), f (-f), ff (-ff -tt -o, one file per process), r (-f -r), tt (-f -tt), T (-f -tt -T),
# y (-f -tt -y), yy (-f -tt -yy), n (-f -tt -n), k (-f -tt -k), i (-f -tt -i), Xv (-f -tt -X
# verbose), unix (-f --timestamps=unix,us), seccomp (--seccomp-bpf -f -tt -e
# trace=%network,%desc,%process), net (-f -tt -e trace=%network), xx (-f -tt -xx), s0 (-f -tt
# -s 0).
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
LAB_NAME=web NS_PREFIX=wb NAMESPACES="cli mid srv"
# shellcheck source=lab/scenario.sh
. "$LAB/scenario.sh"
GLOB=${1:-*}
V=10.99.1.1 C=10.99.1.2 V2=10.99.2.1 B=10.99.2.2
TIMEOUT=40
U=http://$V:6081
RECORDING_STEPS="ip"
declare -A ADDRS=([client]=$C [cache]="$V $V2" [backend]=$B)

build() {
  teardown
  make_namespaces
  three_hosts cli mid srv "$C" "$V" "$V2" "$B"
  ip -n wb-cli route add 10.99.2.0/24 via $V
  ip -n wb-srv route add 10.99.1.0/24 via $V2
  in_ns mid sysctl -qw net.ipv4.ip_forward=1
  local n
  for n in cli mid srv; do
    in_ns $n ethtool -K eth0 tso off gso off gro off >/dev/null 2>&1 || true
  done
  in_ns mid ethtool -K eth1 tso off gso off gro off >/dev/null 2>&1 || true
  in_ns cli sysctl -qw net.ipv4.tcp_syn_retries=1
  in_ns mid sysctl -qw net.ipv4.tcp_syn_retries=1
  rm -rf "$WORK"
  mkdir -p "$WORK/dl"
  cp "$LAB/programs/web_app.py" "$WORK/"
  # every request passes to the back end, except /cached, which Varnish keeps (max-age=60)
  cat >"$WORK/web.vcl" <<VCL
vcl 4.1;
backend app {
  .host = "$B";
  .port = "8000";
  .connect_timeout = 2s;
  .first_byte_timeout = 3s;
  .between_bytes_timeout = 3s;
}
sub vcl_recv {
  if (req.url != "/cached") { return (pass); }
}
VCL
}


# conf: netcheck.conf naming every host, traced or not
conf() { write_conf client cache backend; }

# ---- the programs ----------------------------------------------------------------------------

# backend FLAGS SERVER: the app server (gunicorn or uwsgi) in wb-srv, port 8000
backend() {
  case $2 in
    gunicorn) start srv backend "$1" gunicorn -w 1 -b 0.0.0.0:8000 --chdir "$WORK" --timeout 20 \
      --graceful-timeout 1 --access-logfile - web_app:app ;;
    uwsgi) start srv backend "$1" uwsgi --plugin python3 --http-socket 0.0.0.0:8000 --chdir "$WORK" \
      --wsgi-file "$WORK/web_app.py" --callable app --processes 1 --die-on-term --disable-logging ;;
  esac
  listening srv 8000
}
stop_backend() { # SERVER
  signal srv TERM "$1"; finish backend
}
# varnish FLAGS: varnishd in the foreground in wb-mid, a small thread pool, no management port
varnish() {
  rm -rf "$WORK/varnish"
  start mid cache "$1" varnishd -F -a $V:6081 -T none -f "$WORK/web.vcl" -n "$WORK/varnish" \
    -s malloc,16m -p thread_pools=1 -p thread_pool_min=5 -p thread_pool_max=20
  listening mid 6081
}
stop_varnish() { signal mid TERM varnishd; finish cache; }

# client FLAGS PROGRAM URL...: PROGRAM asks each URL (one after another where it can)
client() {
  local flags=$1 program=$2
  shift 2
  case $program in
    aria2c) start cli client "$flags" aria2c -q --allow-overwrite=true -d "$WORK/dl" --connect-timeout=3 \
      --timeout=5 --max-tries=1 --max-connection-per-server=1 -Z "$@" ;;
    lftp) local c="set net:timeout 3; set net:max-retries 1; set net:reconnect-interval-base 1" u
      for u in "$@"; do c="$c; cat $u"; done
      start cli client "$flags" sh -c "lftp -c '$c' >/dev/null" ;;
    httpie) start cli client "$flags" http --ignore-stdin --timeout 5 --print=h GET "$1" ;;
    w3m) start cli client "$flags" sh -c "w3m -dump $* >/dev/null" ;;
    lynx) start cli client "$flags" sh -c "for u in $*; do lynx -dump -connect_timeout=5 \$u >/dev/null; done" ;;
    ab) start cli client "$flags" ab -q -s 5 "$@" ;;
    busybox-wget) start cli client "$flags" sh -c "for u in $*; do busybox wget -q -O - \$u >/dev/null; done" ;;
  esac
}
raw_get() { # FLAGS PROGRAM HOST PORT: one HTTP/1.0 GET written by ncat or busybox nc
  case $2 in
    ncat) start cli client "$1" sh -c "printf 'GET /a HTTP/1.0\r\n\r\n' | ncat -w 3 $3 $4 >/dev/null" ;;
    busybox-nc) start cli client "$1" sh -c "printf 'GET /a HTTP/1.0\r\n\r\n' | busybox nc -w 3 $3 $4 >/dev/null" ;;
  esac
}

# ---- healthy ---------------------------------------------------------------------------------

varnish_healthy() { # FLAGS CLIENT SERVER
  want "varnish-healthy-$2--$1" || return 0
  begin "varnish-healthy-$2--$1"
  backend "$1" "$3"
  varnish "$1"
  case $2 in
    ab) client "$1" ab -n 6 -c 2 $U/a ;;
    *) client "$1" "$2" $U/a $U/b ;;
  esac
  finish client; stop_varnish; stop_backend "$3"; conf
  expect "$2 asks its URLs through Varnish (every request passed to $3 on the third host)" \
    healthy "" client=healthy cache=healthy backend=healthy
}

varnish_cached() { # FLAGS CLIENT
  want "varnish-cached-$2--$1" || return 0
  begin "varnish-cached-$2--$1"
  backend "$1" gunicorn
  varnish "$1"
  client "$1" "$2" $U/cached $U/cached $U/cached
  finish client; stop_varnish; stop_backend gunicorn; conf
  expect "$2 asks /cached three times through Varnish: the first fetch goes to gunicorn, the others are cache hits" \
    healthy "" client=healthy cache=healthy backend=healthy
}

direct_healthy() { # FLAGS CLIENT SERVER
  want "$3-healthy-$2--$1" || return 0
  begin "$3-healthy-$2--$1"
  backend "$1" "$3"
  client "$1" "$2" http://$B:8000/a
  finish client; stop_backend "$3"; conf
  expect "$2 asks $3 on the third host directly (routed by the middle host)" \
    healthy "" client=healthy backend=healthy
}

# ---- the client's link -----------------------------------------------------------------------

varnish_down() { # FLAGS CLIENT
  want "varnish-down-$2--$1" || return 0
  begin "varnish-down-$2--$1"
  case $2 in
    ncat) raw_get "$1" ncat $V 6081 ;;
    *) client "$1" "$2" $U/a ;;
  esac
  finish client; conf
  expect "Varnish is not running: $2's connect to its port is refused" connect-refused ""
}

app_down() { # FLAGS CLIENT
  want "app-down-$2--$1" || return 0
  begin "app-down-$2--$1"
  client "$1" "$2" http://$B:8000/a
  finish client; conf
  expect "no app server runs on the third host: $2's connect, routed by the middle host, is refused" \
    connect-refused ""
}

varnish_drop() { # FLAGS CLIENT
  want "varnish-drop-$2--$1" || return 0
  begin "varnish-drop-$2--$1"
  fw mid -A INPUT -i eth0 -p tcp --dport 6081 -j DROP
  varnish "$1"
  case $2 in
    busybox-nc) raw_get "$1" busybox-nc $V 6081 ;;
    *) client "$1" "$2" $U/a ;;
  esac
  finish client; stop_varnish; fw_flush; conf
  expect "the cache host's firewall drops the SYNs to Varnish's port: $2's own timer ends its nonblocking connect before the kernel gives up" \
    connect-never-completed "connect-refused" \
    client=connect-filtered,connect-never-completed,no-reply \
    "cache=invisible: Varnish never sees a connection"
}

varnish_reject() { # FLAGS CLIENT
  want "varnish-reject-$2--$1" || return 0
  begin "varnish-reject-$2--$1"
  fw mid -A INPUT -i eth0 -p tcp --dport 6081 -j REJECT --reject-with icmp-host-unreachable
  varnish "$1"
  client "$1" "$2" $U/a
  finish client; stop_varnish; fw_flush; conf
  expect "the cache host's firewall answers the SYNs to Varnish's port with ICMP host unreachable: $2's connect fails with EHOSTUNREACH" \
    connect-filtered "connect-refused" client=connect-filtered \
    "cache=invisible: Varnish never sees a connection"
}

varnish_loss() { # FLAGS CLIENT
  want "varnish-loss-$2--$1" || return 0
  begin "varnish-loss-$2--$1"
  fw mid -A INPUT -i eth0 -p tcp --dport 6081 -m statistic --mode random --probability 0.3 -j DROP
  backend "$1" uwsgi
  varnish "$1"
  client "$1" ab -n 30 -c 1 $U/a
  finish client; stop_varnish; stop_backend uwsgi; fw_flush; conf
  expect "30% of the packets from the client to Varnish are dropped at random: ab's connects and requests stall on retransmissions; in this run one connect lost both its SYNs and timed out (ETIMEDOUT), which ends ab" \
    "network-stall connect-filtered" "connect-refused data-mismatch" client=network-stall,connect-filtered \
    "cache=invisible: Varnish receives the requests late; its back-end link is healthy" \
    backend=healthy
}

# ---- the back-end link -----------------------------------------------------------------------

backend_fault() { # FLAGS CLIENT FAULT: down, drop, slow, killed, loss
  want "backend-$3-$2--$1" || return 0
  begin "backend-$3-$2--$1"
  local path=/a
  case $3 in
    drop) fw srv -A INPUT -p tcp --dport 8000 -j DROP ;;
    loss) fw srv -A INPUT -p tcp --dport 8000 -m statistic --mode random --probability 0.3 -j DROP ;;
    slow|killed) path=/slow ;;
  esac
  [ "$3" != down ] && backend "$1" gunicorn
  varnish "$1"
  case $3 in
    loss) client "$1" "$2" $U/a $U/b $U/c $U/d $U/e $U/f ;;
    *) client "$1" "$2" $U$path ;;
  esac
  if [ "$3" = killed ]; then sleep 1.5; signal srv KILL gunicorn; fi
  finish client; stop_varnish
  [ "$3" != down ] && stop_backend gunicorn
  fw_flush; conf
  case $3 in
    down) expect "no app server runs behind Varnish: its connect to the back end is refused and it answers $2 503" \
      connect-refused "" cache=connect-refused \
      "client=invisible: the client gets Varnish's 503 answer, a healthy exchange on its link" ;;
    drop) expect "the back end's firewall drops Varnish's SYNs: its 2 s connect_timeout ends the nonblocking connect and it answers $2 503" \
      connect-never-completed "connect-refused" \
      cache=connect-filtered,connect-never-completed backend=healthy \
      "client=invisible: the client gets Varnish's 503 answer, a healthy exchange on its link" ;;
    slow) expect "gunicorn answers /slow after 5 s, past Varnish's 3 s first_byte_timeout: Varnish gives up the back-end connection and answers $2 503" \
      no-reply "connect-refused connect-filtered" cache=no-reply \
      "client=invisible: the client gets Varnish's 503 answer, a healthy exchange on its link" \
      "backend=invisible: the back end answers in its own time; its answer meets a closed connection" ;;
    killed) expect "gunicorn is killed (SIGKILL) while it holds the request Varnish passed on: Varnish answers $2 503" \
      no-reply "" cache=no-reply \
      "client=invisible: the client gets Varnish's 503 answer, a healthy exchange on its link" \
      "backend=invisible: the back end's trace ends at its death" ;;
    loss) expect "30% of the packets from Varnish to gunicorn are dropped at random: in this run one back-end connect lost its SYNs and Varnish's 2 s connect_timeout ended it (503 for /d), and two requests waited 0.4 s for their answers" \
      connect-never-completed "connect-refused data-mismatch admission-limit" cache=network-stall,connect-never-completed \
      "client=invisible: the client sees slow answers; the loss is on the other link" \
      "backend=invisible: the back end receives the requests late" ;;
  esac
}

app_killed() { # FLAGS CLIENT
  want "app-killed-$2--$1" || return 0
  begin "app-killed-$2--$1"
  backend "$1" gunicorn
  client "$1" "$2" http://$B:8000/slow
  sleep 1.5; signal srv KILL gunicorn
  finish client; finish backend; conf
  expect "gunicorn is killed (SIGKILL) while it holds $2's request: the connection closes without an answer" \
    no-reply "" client=no-reply "backend=invisible: the back end's trace ends at its death"
}

# ---- a PMTU black hole -----------------------------------------------------------------------

mtu_black_hole() { # FLAGS CLIENT SERVER
  want "mtu-black-hole-$2--$1" || return 0
  begin "mtu-black-hole-$2--$1"
  # the router's link to the client gets a 1000-byte MTU and the router swallows its
  # "fragmentation needed": the client's MSS (1460, its own link is 1500) is never corrected
  ip -n wb-mid link set eth0 mtu 1000
  fw mid -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
  backend "$1" "$3"
  # busybox wget has no time-out of its own that works (-T crashes it): it is stopped after 8 s
  TIMEOUT=8 client "$1" "$2" http://$B:8000/a http://$B:8000/big
  finish client; stop_backend "$3"
  ip -n wb-mid link set eth0 mtu 1500
  ip -n wb-mid route flush cache 2>/dev/null || true
  fw_flush; conf
  expect "$2 asks $3 for a short page and a 200 KB one across a router whose link to the client has a 1000-byte MTU and which drops ICMP fragmentation-needed: the short answer arrives, the large one never does" \
    mtu-black-hole "connect-refused connect-filtered" client=mtu-black-hole,network-stall,no-reply \
    "backend=invisible: the back end's answer leaves; that it never arrives only the client shows"
}

main() {
  prepare "$@"
  varnish_healthy record aria2c gunicorn; varnish_healthy f ab uwsgi; varnish_cached y lynx
  varnish_healthy r w3m gunicorn; varnish_healthy tt lftp uwsgi; direct_healthy i httpie gunicorn
  direct_healthy xx busybox-wget uwsgi
  varnish_down yy httpie; varnish_down ff ncat; app_down n busybox-wget
  varnish_drop T aria2c; varnish_drop seccomp busybox-nc; varnish_drop unix lftp
  varnish_reject xx w3m; varnish_reject s0 ab
  backend_fault i lynx down; backend_fault net httpie drop; backend_fault Xv busybox-wget slow
  backend_fault record aria2c killed; backend_fault unix w3m loss
  app_killed T ab; varnish_loss tt ab
  mtu_black_hole y aria2c gunicorn; mtu_black_hole seccomp busybox-wget uwsgi
  log "done"
}

main "$@"
