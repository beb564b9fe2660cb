#!/usr/bin/env bash
# The UDP lab (as root): request/response over UDP (lab/programs/udp_probe.py's echo server and
# connected, unconnected and asyncio clients; unbound with dig and drill, also its answer
# truncated to TCP), multicast (a sender and a member of the group) and iperf3 -u, healthy and
# with real faults (server down, firewall DROP and REJECT, random loss, a wrong port, an answer
# from another address of a multi-homed server, fragments dropped, multicast without a route),
# under many strace flag sets. Writes tests/fixtures/udp/<fault>--<flags>/ (traces
# zstd-compressed, a -ff set plain; netcheck.conf; expected.json with the one-sided views),
# checked by tests/udp_programs.rs.
#
# Also socat (UDP4-RECVFROM with fork) and chronyc asking chronyd's command port, at either of
# the server's addresses.
#
# Usage: lab/udp.sh [GLOB]   (only the scenarios whose name matches GLOB)
#        lab/udp.sh --expectations [GLOB]   (rewrite their expected.json only)
#
# Topology (namespaces ud-cli, ud-srv; nothing in the default namespace):
#   cli 10.93.1.2 --- srv 10.93.1.1 and 10.93.1.3 (two addresses on one link: multi-homed)
# Faults are iptables rules in the receiving namespace, added for one scenario and flushed after
# it. Both namespaces route multicast (224.0.0.0/4) over the link, except where a scenario
# removes that route.
#
# Flag sets (all with -s 256 unless the set says otherwise): record (`netcheck record`: -f -ttt
# -T -yy), f (strace -f), ff (-ff -ttt -o, one file per process), r (-f -r), tt (-f -tt), k (-f
# -tt -k: stack traces), i (-f -tt -i), Xv (-f -tt -X verbose), seccomp (--seccomp-bpf -f -tt -e
# trace=%network,%desc,%process: a filter needs a call list),
# net (-f -tt -e trace=%network), xx (-f -tt -xx), s0 (-f -tt -s 0), vnone (-f -tt -e
# verbose=none).
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
LAB_NAME=udp NS_PREFIX=ud NAMESPACES="cli srv"
# shellcheck source=lab/scenario.sh
. "$LAB/scenario.sh"
GLOB=${1:-*}
S=10.93.1.1 S2=10.93.1.3 C=10.93.1.2 G=239.1.2.3
TIMEOUT=30
# Debian's interpreter itself, isolated from the user's site packages
PY=(/usr/bin/python3 -I "$WORK/udp_probe.py")
NODE=(node "$WORK/udp_probe.js")
GO=("$WORK/udp_probe_go")
RECORDING_STEPS="serving mcast_routes ip"
declare -A ADDRS=([client]=$C [server]="$S $S2")

build() {
  teardown
  make_namespaces
  ip -n ud-cli link add eth0 type veth peer name eth0 netns ud-srv
  ip -n ud-cli addr add $C/24 dev eth0
  ip -n ud-srv addr add $S/24 dev eth0
  ip -n ud-srv addr add $S2/24 dev eth0
  ip -n ud-cli link set eth0 up
  ip -n ud-srv link set eth0 up
  mcast_routes
  mkdir -p "$WORK"
  cp "$LAB/programs/udp_probe.py" "$LAB/programs/udp_probe.js" "$LAB/programs/udp_probe.go" "$WORK/"
  (cd "$WORK" && { [ -e go.mod ] || go mod init udpprobe >/dev/null 2>&1; } && go build -o udp_probe_go udp_probe.go)
  unbound_config
}
mcast_routes() {
  local n
  for n in $NAMESPACES; do ip -n "ud-$n" route replace 224.0.0.0/4 dev eth0; done
}

unbound_config() {
  local i
  mkdir -p "$WORK/unbound"
  {
    cat <<CFG
server:
    interface: 0.0.0.0
    port: 53
    do-daemonize: no
    chroot: ""
    username: ""
    directory: "$WORK/unbound"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 1
    num-threads: 1
    do-ip6: no
    access-control: 10.93.0.0/16 allow
    local-zone: "lab." static
    local-data: "db.lab. IN A 10.93.1.1"
    local-data: "www.lab. IN A 10.93.1.3"
CFG
    # big.lab: 24 TXT records, an answer of about 2.4 KB.
    for i in $(seq -w 24); do
      printf '    local-data: "big.lab. IN TXT \\"record %s %s\\""\n' "$i" "$(printf '%080d' 0 | tr 0 x)"
    done
    printf 'remote-control:\n    control-enable: no\n'
  } >"$WORK/unbound.conf"
  # interface-automatic: unbound answers each query from the address it was sent to
  sed 's/^    interface: 0.0.0.0$/&\n    interface-automatic: yes/' "$WORK/unbound.conf" >"$WORK/unbound-auto.conf"
}

# strace_flags FLAGS: scenario.sh's flag sets, but `ff` with -ttt
strace_flags() {
  case $1 in
    ff) echo "-ff -ttt -s 256" ;;
    *) scenario_strace_flags "$1" ;;
  esac
}

serving() { # HOST: waits until unbound, recorded as HOST, logs that it serves
  local i
  for i in $(seq 150); do grep -q "start of service" "$WORK/logs/$SCEN/$1.log" 2>/dev/null && return 0; sleep 0.1; done
  log "  $1 never started serving"; return 1
}

# conf: netcheck.conf naming every host, traced or not
conf() { write_conf client server; }



# ---- the echo server and its clients --------------------------------------------------------

echo_healthy() { # FLAGS [MODE]: MODE connected (default), unconnected or asyncio
  local mode=${2:-connected} name=echo-healthy
  [ "$mode" = connected ] || name=echo-$mode-healthy
  want "$name--$1" || return 0
  begin "$name--$1"
  start srv server "$1" "${PY[@]}" server 7300 3
  bound srv 7300
  if [ "$mode" = asyncio ]; then
    start cli client "$1" "${PY[@]}" asyncio $S 7300 3
  else
    start cli client "$1" "${PY[@]}" client "$mode" $S 7300 3
  fi
  finish client; finish server; conf
  expect "three requests from a $mode UDP client to an echo server, each answered" \
    healthy "" client=healthy server=healthy
}

echo_down() { # FLAGS MODE
  want "echo-$2-down--$1" || return 0
  begin "echo-$2-down--$1"
  start cli client "$1" "${PY[@]}" client "$2" $S 7300 1 0.5 32 3
  finish client; conf
  if [ "$2" = connected ]; then
    expect "no server: the host answers each request with ICMP port unreachable, which the connected socket's receive reports as ECONNREFUSED" \
      connect-refused ""
  else
    expect "no server: the host answers each request with ICMP port unreachable, which an unconnected socket never sees; the client times out three times" \
      no-reply ""
  fi
}

echo_drop() { # FLAGS
  want "echo-drop--$1" || return 0
  begin "echo-drop--$1"
  fw srv -A INPUT -p udp --dport 7300 -j DROP
  start srv server "$1" "${PY[@]}" server 7300 1
  bound srv 7300
  start cli client "$1" "${PY[@]}" client connected $S 7300 1 0.5 32 3
  finish client; signal srv TERM python3; finish server; fw_flush; conf
  if [ "$1" = net ]; then
    expect "the server's firewall drops the requests: the connected client times out three times" \
      udp-all-lost "connect-refused" server=healthy \
      "client=invisible: -e trace=%network hides the client's poll: three sends and a close, no wait for an answer shows"
  else
    expect "the server's firewall drops the requests: the connected client times out three times" \
      udp-all-lost "connect-refused" client=no-reply server=healthy
  fi
}

echo_reject() { # FLAGS ICMP
  want "echo-reject-$2--$1" || return 0
  begin "echo-reject-$2--$1"
  fw srv -A INPUT -p udp --dport 7300 -j REJECT --reject-with "icmp-$2"
  start srv server "$1" "${PY[@]}" server 7300 1
  bound srv 7300
  start cli client "$1" "${PY[@]}" client connected $S 7300 1 0.5 32 3
  finish client; signal srv TERM python3; finish server; fw_flush; conf
  case $2 in
    host-unreachable)
      # a soft error (icmp_err_convert): Linux keeps it from a UDP socket without IP_RECVERR
      expect "the server's firewall rejects the requests with ICMP host unreachable, which Linux does not report to a UDP socket: the connected client times out three times" \
        udp-all-lost "connect-refused" client=no-reply server=healthy ;;
    port-unreachable)
      expect "the server's firewall rejects the requests with ICMP port unreachable while the server is bound: the connected client's receive fails with ECONNREFUSED" \
        "connect-refused" "" client=connect-refused server=healthy ;;
    host-prohibited)
      expect "the server's firewall rejects the requests with ICMP host prohibited: the connected client's receive fails with EHOSTUNREACH" \
        "connect-filtered" "broadcast-not-permitted" client=connect-filtered server=healthy ;;
    *)
      expect "the server's firewall rejects the requests with ICMP $2: the connected client's receive fails with EHOSTUNREACH" \
        "connect-filtered" "" client=connect-filtered server=healthy ;;
  esac
}

echo_loss() { # FLAGS
  want "echo-loss--$1" || return 0
  begin "echo-loss--$1"
  fw srv -A INPUT -p udp --dport 7300 -m statistic --mode random --probability 0.3 -j DROP
  start srv server "$1" "${PY[@]}" server 7300 1000
  bound srv 7300
  start cli client "$1" "${PY[@]}" client connected $S 7300 40 0.3 32 5
  finish client; signal srv TERM python3; finish server; fw_flush; conf
  expect "the server's firewall drops 30% of the requests at random: the client's retries (0.3 s) recover them" \
    udp-loss "" client=udp-loss,no-reply \
    "server=invisible: the server answers every request it receives; that others never reached it only the client shows"
}

echo_wrong_port() { # FLAGS
  want "echo-wrong-port--$1" || return 0
  begin "echo-wrong-port--$1"
  start srv server "$1" "${PY[@]}" server 7300 1
  bound srv 7300
  start cli client "$1" "${PY[@]}" client unconnected $S 7301 1 0.5 32 2
  finish client; signal srv TERM python3; finish server; conf
  expect "the client asks port 7301 while the server is bound to 7300: ICMP port unreachable, unseen by its unconnected socket; it times out" \
    no-reply "" client=no-reply server=healthy
}

echo_other_address() { # FLAGS MODE
  want "echo-$2-other-address--$1" || return 0
  begin "echo-$2-other-address--$1"
  start srv server "$1" "${PY[@]}" server 7300 3 $S
  bound srv 7300
  start cli client "$1" "${PY[@]}" client "$2" $S2 7300 1 0.5 32 3
  finish client; signal srv TERM python3; finish server; conf
  if [ "$2" = connected ]; then
    expect "the client asks the server's second address; the server answers from its first: the connected socket's kernel drops datagrams from any address but its peer (and answers them with ICMP port unreachable); the client times out" \
      no-reply "udp-all-lost udp-loss" client=no-reply server=not:udp-all-lost,udp-loss
  else
    expect "the client asks the server's second address; the server answers from its first, which the unconnected socket accepts" \
      healthy "" client=healthy server=healthy
  fi
}

echo_fragments() { # FLAGS
  want "echo-fragments--$1" || return 0
  begin "echo-fragments--$1"
  # The server's side of the link takes frames of 1000 bytes at most (veth drops longer ones):
  # the client's 1500-byte fragments of a 3000-byte request never arrive, its 32-byte requests
  # do. (An iptables `-f` match never sees a fragment: conntrack reassembles them first.)
  ip -n ud-srv link set eth0 mtu 1000
  start srv server "$1" "${PY[@]}" server 7300 10
  bound srv 7300
  start cli client "$1" "${PY[@]}" client connected $S 7300 4 0.5 32,3000 2
  finish client; signal srv TERM python3; finish server
  ip -n ud-srv link set eth0 mtu 1500
  conf
  expect "32-byte and 3000-byte requests in turn over a link whose far side takes 1000-byte frames: every small request is answered, every large one is lost" \
    mtu-black-hole "" client=no-reply,udp-loss,mtu-black-hole server=healthy
}

# ---- Node.js's dgram and Go's net ------------------------------------------------------------

lang() { # LANG: the probe's command line
  case $1 in node) echo "${NODE[@]}" ;; go) echo "${GO[@]}" ;; esac
}

lang_healthy() { # FLAGS LANG
  want "$2-healthy--$1" || return 0
  begin "$2-healthy--$1"
  # shellcheck disable=SC2046 # the command line is split into words on purpose
  start srv server "$1" $(lang "$2") server 7300 3
  bound srv 7300
  # shellcheck disable=SC2046
  start cli client "$1" $(lang "$2") client $S 7300 3
  finish client; finish server; conf
  expect "a $2 client's connected UDP socket asks a $2 echo server three questions, each answered" \
    healthy "" client=healthy server=healthy
}

lang_down() { # FLAGS LANG
  want "$2-down--$1" || return 0
  begin "$2-down--$1"
  # shellcheck disable=SC2046
  start cli client "$1" $(lang "$2") client $S 7300 1
  finish client; conf
  expect "no server: the $2 client's connected socket gets ECONNREFUSED (ICMP port unreachable)" \
    connect-refused ""
}

lang_other_address() { # FLAGS LANG
  want "$2-other-address--$1" || return 0
  begin "$2-other-address--$1"
  start srv server "$1" "${PY[@]}" server 7300 3 $S
  bound srv 7300
  # shellcheck disable=SC2046
  start cli client "$1" $(lang "$2") client $S2 7300 1
  finish client; signal srv TERM python3; finish server; conf
  expect "the $2 client asks the server's second address; the server answers from its first, which the client's connected socket discards" \
    no-reply "udp-all-lost udp-loss" client=no-reply server=not:udp-all-lost,udp-loss
}

# ---- socat and chrony -----------------------------------------------------------------------

socat_healthy() { # FLAGS ADDRESS
  local name=socat-healthy
  [ "$2" = "$S" ] || name=socat-second-address
  want "$name--$1" || return 0
  begin "$name--$1"
  start srv server "$1" socat UDP4-RECVFROM:7300,fork EXEC:cat
  bound srv 7300
  start cli client "$1" sh -c "echo hello | socat -T 2 - UDP4:$2:7300"
  finish client; signal srv TERM socat; finish server; conf
  if [ "$2" = "$S" ]; then
    expect "socat sends a line from a connected UDP socket to $2; socat's UDP4-RECVFROM server forks a child that echoes it with cat" \
      healthy "" client=healthy server=healthy
  else
    expect "socat's client asks the server's second address; the server's child answers from its socket bound to 0.0.0.0, so from the host's first address, which the client's connected socket discards" \
      no-reply "udp-all-lost udp-loss" client=no-reply server=not:udp-all-lost,udp-loss
  fi
}

chrony_cmd() { # FLAGS ADDRESS
  local name=chronyc-healthy
  [ "$2" = "$S" ] || name=chronyc-second-address
  want "$name--$1" || return 0
  begin "$name--$1"
  printf 'bindcmdaddress 0.0.0.0\ncmdallow all\npidfile %s/chronyd.pid\n' "$WORK" >"$WORK/chrony.conf"
  start srv server "$1" chronyd -d -x -f "$WORK/chrony.conf"
  bound srv 323
  start cli client "$1" chronyc -h "$2" -n tracking
  finish client; signal srv TERM chronyd; finish server; conf
  expect "chronyc asks chronyd's command port (323) at $2 for its tracking state" \
    healthy "" client=healthy server=healthy
}

# ---- multicast ------------------------------------------------------------------------------

mcast_healthy() { # FLAGS
  want "mcast-healthy--$1" || return 0
  begin "mcast-healthy--$1"
  # the member waits up to 20 s for the five datagrams: a sender under strace -k starts slowly
  start srv server "$1" "${PY[@]}" mcast-recv $G 7400 5 20
  bound srv 7400
  sleep 0.3
  start cli client "$1" "${PY[@]}" mcast-send $G 7400 5
  finish client; finish server; conf
  expect "a sender sends five datagrams to a multicast group; the other host joined it and reads them" \
    healthy "" client=healthy server=healthy
}

mcast_dropped() { # FLAGS
  want "mcast-dropped--$1" || return 0
  begin "mcast-dropped--$1"
  fw srv -A INPUT -d $G -j DROP
  start srv server "$1" "${PY[@]}" mcast-recv $G 7400 5 2
  bound srv 7400
  sleep 0.3
  start cli client "$1" "${PY[@]}" mcast-send $G 7400 5
  finish client; finish server; fw_flush; conf
  expect "the member's firewall drops the group's datagrams: the member reads none" \
    udp-all-lost "" "client=invisible: the sender's datagrams leave without error and nothing is meant to come back" \
    server=not:udp-all-lost
}

mcast_no_route() { # FLAGS
  want "mcast-no-route--$1" || return 0
  begin "mcast-no-route--$1"
  ip -n ud-cli route del 224.0.0.0/4 dev eth0
  start srv server "$1" "${PY[@]}" mcast-recv $G 7400 5 2
  bound srv 7400
  sleep 0.3
  start cli client "$1" "${PY[@]}" mcast-send $G 7400 3
  finish client; finish server; mcast_routes; conf
  expect "the sender's host has no route to the multicast group (no default route): each sendto fails with ENETUNREACH; the member reads nothing" \
    connect-filtered "" client=connect-filtered "server=invisible: the member waits; nothing was sent"
}

# ---- unbound --------------------------------------------------------------------------------

dns_healthy() { # FLAGS CONF CLIENT...
  local flags=$1 cfg=$2
  shift 2
  local name=dns-healthy
  [ "$cfg" = unbound ] || name=dns-healthy-auto
  want "$name--$flags" || return 0
  begin "$name--$flags"
  start srv server "$flags" unbound -d -c "$WORK/$cfg.conf"
  serving server
  start cli client "$flags" "$@"
  finish client; signal srv TERM unbound; finish server; conf
  expect "unbound serves a static zone; $1 asks it" healthy "" client=healthy server=healthy
}

dns_truncated() { # FLAGS
  want "dns-truncated--$1" || return 0
  begin "dns-truncated--$1"
  start srv server "$1" unbound -d -c "$WORK/unbound.conf"
  serving server
  start cli client "$1" drill -b 512 @$S big.lab TXT
  finish client; signal srv TERM unbound; finish server; conf
  expect "a 2.4 KB TXT answer does not fit drill's 512-byte buffer: unbound sets TC and drill asks again over TCP" \
    healthy "" client=healthy server=healthy
}

dns_other_address() { # FLAGS
  want "dns-other-address--$1" || return 0
  begin "dns-other-address--$1"
  start srv server "$1" unbound -d -c "$WORK/unbound.conf"
  serving server
  start cli client "$1" dig @$S2 +tries=2 +time=1 db.lab A
  finish client; signal srv TERM unbound; finish server; conf
  expect "unbound bound to 0.0.0.0 without interface-automatic answers a query sent to the host's second address from its first; dig's connected socket never sees the answers" \
    no-reply "udp-all-lost udp-loss" client=no-reply server=not:udp-all-lost,udp-loss
}

dns_stalled() { # FLAGS
  want "dns-stalled--$1" || return 0
  begin "dns-stalled--$1"
  start srv server "$1" unbound -d -c "$WORK/unbound.conf"
  serving server
  # unbound is stopped (SIGSTOP) for 1.5 s while dig asks: the first query waits in unbound's
  # socket past dig's 1 s timeout, dig closes that socket and asks again from another, and
  # unbound, continued, answers both; the first answer reaches a closed port
  signal srv STOP unbound
  start cli client "$1" dig @$S +tries=2 +time=1 db.lab A
  sleep 1.5
  signal srv CONT unbound
  finish client; signal srv TERM unbound; finish server; conf
  expect "unbound is stopped for 1.5 s while dig asks: dig's first query times out (1 s) and its retry, from a new socket, is answered; unbound answers the first query too, to the socket dig has closed" \
    healthy "" client=healthy server=healthy
}

dns_down() { # FLAGS
  want "dns-down--$1" || return 0
  begin "dns-down--$1"
  start cli client "$1" dig @$S +tries=2 +time=1 db.lab A
  finish client; conf
  expect "no DNS server runs: dig's queries draw ICMP port unreachable, which its connected socket reports as ECONNREFUSED" connect-refused ""
}

# ---- iperf3 -u ------------------------------------------------------------------------------

iperf_udp() { # FLAGS
  want "iperf-udp--$1" || return 0
  begin "iperf-udp--$1"
  start srv server "$1" iperf3 -s -1 -p 7500
  listening srv 7500
  start cli client "$1" iperf3 -u -c $S -p 7500 -t 1 -b 2M -l 1000
  finish client; finish server; conf
  expect "iperf3 sends 1 s of UDP at 2 Mbit/s to its server (control over TCP)" \
    healthy "" client=healthy server=healthy
}

main() {
  prepare "$@"
  local f
  for f in record f ff r tt k i Xv seccomp net xx s0 vnone; do echo_healthy $f; done
  for f in record tt; do echo_healthy $f unconnected; echo_healthy $f asyncio; done
  for f in record ff; do echo_down $f connected; echo_down $f unconnected; done
  for f in record net; do echo_drop $f; done
  echo_reject record port-unreachable; echo_reject record admin-prohibited
  echo_reject tt host-unreachable; echo_reject record host-prohibited
  for f in record r; do echo_loss $f; done
  echo_wrong_port record
  for f in record i; do echo_other_address $f connected; done
  echo_other_address record unconnected
  echo_fragments record; echo_fragments xx
  for l in node go; do
    lang_healthy record $l; lang_down tt $l; lang_other_address record $l
  done
  lang_healthy f node; lang_healthy ff go
  socat_healthy record $S; socat_healthy i $S2
  chrony_cmd record $S; chrony_cmd Xv $S2
  for f in record k; do mcast_healthy $f; done
  mcast_dropped record; mcast_no_route record
  dns_healthy record unbound dig @$S +tries=2 +time=1 db.lab A
  dns_healthy Xv unbound drill @$S www.lab A
  dns_healthy seccomp unbound-auto dig @$S2 +tries=1 +time=1 www.lab A
  for f in record s0; do dns_truncated $f; done
  for f in record vnone; do dns_other_address $f; done
  dns_stalled record
  dns_down record
  iperf_udp record; iperf_udp ff
  log "done"
}

main "$@"
