#!/usr/bin/env bash
# The language-runtime lab (as root): the network stacks of language runtimes through their own
# standard library or a common Debian-packaged one, as clients and as servers, mixed across the
# two hosts (lab/programs/lang.{rb,php,pl,lua,tcl}): Ruby (Net::HTTP, TCPServer, WEBrick,
# UDPSocket), PHP (`php -S`, file_get_contents, stream_socket_client, stream_socket_server over
# TCP and UDP), Perl (LWP, a forking IO::Socket::INET server, UDP), Lua (LuaSocket with
# settimeout: a nonblocking connect and select), Tcl (`socket -async`, `socket -server`), and
# mosh (mosh-server started directly, mosh-client given its key in MOSH_KEY, on a pseudo
# terminal from `script`). Healthy, and with real faults: nothing listening (refused), a wrong
# TCP or UDP port, a firewall DROP (the client's own connect timeout), REJECT with icmp-host-unreachable,
# the server killed (SIGKILL) while it holds a request, a server that accepts and never answers
# (the client's read timeout), random loss (iptables statistic) on TCP, UDP and mosh, and mosh
# with its UDP port blocked. Each scenario under another strace flag set.
# Writes tests/fixtures/lang/<scenario>--<flags>/ (traces zstd-compressed, a -ff set plain;
# netcheck.conf; expected.json with the one-sided views), checked by tests/lang_programs.rs.
#
# Usage: lab/lang.sh [GLOB]   (only the scenarios whose name matches GLOB)
#        lab/lang.sh --expectations [GLOB]   (rewrite their expected.json only)
#
# Topology (namespaces lg-cli, lg-srv; nothing in the default namespace):
#   cli 10.103.1.2 --- srv 10.103.1.1
# Hosts: `client` (lg-cli) and `server` (lg-srv; TCP services on port 8080, UDP on 9000, mosh
# on 60001). Faults are iptables rules on the server, added for one scenario and flushed after
# it. The client gives up a connect after two SYNs (tcp_syn_retries=1, about 3 s).
#
# Flag sets: lab/scenario.sh's (record f ff r tt ttt T y yy n k i Xv unix seccomp net enet
# vnone xx s0), all with -s 256 but s0.
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
LAB_NAME=lang NS_PREFIX=lg NAMESPACES="cli srv"
# shellcheck source=lab/scenario.sh
. "$LAB/scenario.sh"
GLOB=${1:-*}
S=10.103.1.1 C=10.103.1.2
TIMEOUT=30
PORT=8080 UPORT=9000 MPORT=60001
RECORDING_STEPS="mosh_key"
declare -A ADDRS=([client]=$C [server]=$S)
P=$LAB/programs

build() {
  teardown
  make_namespaces
  ip -n lg-cli link add eth0 type veth peer name eth0 netns lg-srv
  ip -n lg-cli addr add $C/24 dev eth0
  ip -n lg-srv addr add $S/24 dev eth0
  ip -n lg-cli link set eth0 up
  ip -n lg-srv link set eth0 up
  in_ns cli sysctl -qw net.ipv4.tcp_syn_retries=1
  rm -rf "$WORK"
  mkdir -p "$WORK/www"
  echo "hello from php -S" >"$WORK/www/index.html"
  echo "<?php sleep(60);" >"$WORK/www/sleep.php"
}

conf() { write_conf client server; }

# ---- the programs ----------------------------------------------------------------------------

# server FLAGS KIND [ARG]: a TCP server on the server host, port 8080; ARG is the number of
# requests it answers before it exits, or `hold` (it reads each request and never answers)
server() {
  case $2 in
    php-S) start srv server "$1" php -S $S:$PORT -t "$WORK/www" ;;
    webrick) start srv server "$1" ruby "$P/lang.rb" webrick $PORT "$3" ;;
    ruby) start srv server "$1" ruby "$P/lang.rb" server $PORT "$3" ;;
    php) start srv server "$1" php "$P/lang.php" server $PORT "$3" ;;
    perl) start srv server "$1" perl "$P/lang.pl" server $PORT "$3" ;;
    lua) start srv server "$1" lua5.4 "$P/lang.lua" server $PORT "$3" ;;
    tcl) start srv server "$1" tclsh "$P/lang.tcl" server $PORT "$3" ;;
  esac
  listening srv $PORT
}
# the command name of each server kind, for signal
declare -A COMM=([php-S]=php [webrick]=ruby [ruby]=ruby [php]=php [perl]=perl [lua]=lua5.4 [tcl]=tclsh8.6)
stop_server() { signal srv TERM "${COMM[$1]}"; finish server; }
kill_server() { signal srv KILL "${COMM[$1]}"; finish server; }

# client FLAGS KIND PORT TIMEOUT [COUNT]: KIND asks http://server:PORT/index.html (ruby, php,
# lwp: the path in URLPATH if set) COUNT times (lua too; tcl and php-raw once), each with a
# connect and read timeout of TIMEOUT s
client() {
  local flags=$1 port=$3 t=$4 n=${5:-1} path=${URLPATH:-/index.html}
  case $2 in
    ruby) start cli client "$flags" ruby "$P/lang.rb" get "http://$S:$port$path" "$n" "$t" ;;
    ruby-all) start cli client "$flags" ruby "$P/lang.rb" get "http://$S:$port$path" "$n" "$t" keep-going ;;
    php) start cli client "$flags" php "$P/lang.php" get "http://$S:$port$path" "$n" "$t" ;;
    php-raw) start cli client "$flags" php "$P/lang.php" raw $S "$port" "$t" ;;
    lwp) start cli client "$flags" perl "$P/lang.pl" get "http://$S:$port$path" "$n" "$t" ;;
    lua) start cli client "$flags" lua5.4 "$P/lang.lua" get $S "$port" "$t" "$n" ;;
    tcl) start cli client "$flags" tclsh "$P/lang.tcl" get $S "$port" $((t * 1000)) ;;
  esac
}
udp_server() { # FLAGS KIND COUNT
  case $2 in
    perl) start srv server "$1" perl "$P/lang.pl" udp-server $UPORT "$3" ;;
    php) start srv server "$1" php "$P/lang.php" udp-server $UPORT "$3" ;;
  esac
  bound srv $UPORT
}
udp_client() { # FLAGS KIND COUNT
  case $2 in
    ruby) start cli client "$1" ruby "$P/lang.rb" udp $S $UPORT "$3" ;;
    perl) start cli client "$1" perl "$P/lang.pl" udp $S $UPORT "$3" ;;
  esac
}

# mosh FLAGS: mosh-server runs a shell that prints a line and sleeps 3 s; mosh-client, on a
# pseudo terminal, connects with the key mosh-server printed and gets 5 s
mosh_key() { awk '/MOSH CONNECT/ {print $4}' "$WORK/logs/$SCEN/server.log"; }
mosh() {
  LANG=C.UTF-8 MOSH_SERVER_NETWORK_TMOUT=8 start srv server "$1" mosh-server new -s -i $S -p $MPORT \
    -- /bin/sh -c 'echo hello from mosh; sleep 3'
  bound srv $MPORT
  sleep 0.3
  local key
  key=$(mosh_key)
  LANG=C.UTF-8 TERM=xterm MOSH_KEY=$key start cli client "$1" timeout 6 script -qfec \
    "stty rows 24 cols 80; mosh-client $S $MPORT" /dev/null
}

# ---- healthy ---------------------------------------------------------------------------------

healthy() { # FLAGS CLIENT SERVER COUNT
  want "healthy-$2-$3--$1" || return 0
  begin "healthy-$2-$3--$1"
  server "$1" "$3" "$4"
  client "$1" "$2" $PORT 3 "$4"
  finish client
  sleep 0.3
  if [ "$3" = php-S ]; then stop_server php-S; else finish server; fi
  conf
  expect "$2 asks $3 on the other host for a page $4 time(s), a connection each" \
    healthy "" client=healthy server=healthy
}

udp_healthy() { # FLAGS CLIENT SERVER
  want "udp-$2-$3--$1" || return 0
  begin "udp-$2-$3--$1"
  udp_server "$1" "$3" 5
  udp_client "$1" "$2" 5
  finish client; finish server; conf
  expect "$2 sends five datagrams to $3's UDP echo server and gets each echo" \
    healthy "" client=healthy server=healthy
}

mosh_healthy() { # FLAGS
  want "mosh-healthy--$1" || return 0
  begin "mosh-healthy--$1"
  mosh "$1"
  finish client; finish server; conf
  expect "mosh-client connects to mosh-server over UDP, shows the shell's line and leaves when the shell ends" \
    healthy "" client=healthy server=healthy
}

# ---- nothing listens -------------------------------------------------------------------------

refused() { # FLAGS CLIENT
  want "refused-$2--$1" || return 0
  begin "refused-$2--$1"
  client "$1" "$2" $PORT 3
  finish client; conf
  expect "nothing listens on the server's port: $2's connect is refused" connect-refused \
    "connect-filtered connect-never-completed"
}

wrong_port() { # FLAGS CLIENT SERVER
  want "wrong-port-$2-$3--$1" || return 0
  begin "wrong-port-$2-$3--$1"
  server "$1" "$3" 1
  client "$1" "$2" $((PORT + 1)) 3
  finish client; stop_server "$3"; conf
  expect "$3 listens on $PORT, $2 asks port $((PORT + 1)): refused" connect-refused \
    "connect-filtered connect-never-completed" client=connect-refused \
    "server=invisible: the server never sees the connect to another port"
}

# ---- the firewall ----------------------------------------------------------------------------

drop() { # FLAGS CLIENT SERVER
  want "drop-$2-$3--$1" || return 0
  begin "drop-$2-$3--$1"
  fw srv -A INPUT -p tcp --dport $PORT -j DROP
  server "$1" "$3" 1
  client "$1" "$2" $PORT 2
  finish client; stop_server "$3"; fw_flush; conf
  expect "the server's firewall drops the SYNs: $2's own 2 s timeout ends its nonblocking connect" \
    connect-never-completed "connect-refused" \
    client=connect-filtered,connect-never-completed "server=invisible: the server never sees a connection"
}

reject() { # FLAGS CLIENT SERVER
  want "reject-$2-$3--$1" || return 0
  begin "reject-$2-$3--$1"
  fw srv -A INPUT -p tcp --dport $PORT -j REJECT --reject-with icmp-host-unreachable
  server "$1" "$3" 1
  client "$1" "$2" $PORT 3
  finish client; stop_server "$3"; fw_flush; conf
  expect "the server's firewall answers the SYNs with ICMP host unreachable: $2's connect fails with EHOSTUNREACH" \
    connect-filtered "connect-refused" client=connect-filtered \
    "server=invisible: the server never sees a connection"
}

# ---- the server's fault ----------------------------------------------------------------------

killed() { # FLAGS CLIENT SERVER
  want "killed-$2-$3--$1" || return 0
  begin "killed-$2-$3--$1"
  server "$1" "$3" hold
  client "$1" "$2" $PORT 10
  sleep 1.5; kill_server "$3"
  finish client; conf
  # Ruby's Net::HTTP retries an idempotent GET once on a fresh connection when the first ends
  # without an answer: that retry meets the dead server's closed port
  expect "$3 is killed (SIGKILL) while it holds $2's request: the connection closes without an answer (a client that retries the request then finds the port closed)" \
    "no-reply $([ "$2" = ruby ] && echo connect-refused)" "" \
    client=no-reply$([ "$2" = ruby ] && echo ,connect-refused) "server=invisible: the server's trace ends at its death"
}

hold() { # FLAGS CLIENT SERVER
  want "hold-$2-$3--$1" || return 0
  begin "hold-$2-$3--$1"
  server "$1" "$3" hold
  client "$1" "$2" $PORT 2
  finish client; sleep 0.3; stop_server "$3"; conf
  expect "$3 reads $2's request and never answers: $2's own 2 s read timeout gives up" \
    no-reply "connect-refused connect-filtered" client=no-reply \
    "server=invisible: the server holds a request its client gave up on; it never writes"
}

# ---- loss ------------------------------------------------------------------------------------

tcp_loss() { # FLAGS SERVER
  want "loss-ruby-$2--$1" || return 0
  begin "loss-ruby-$2--$1"
  fw srv -A INPUT -p tcp --dport $PORT -m statistic --mode random --probability 0.3 -j DROP
  server "$1" "$2" 12
  client "$1" ruby-all $PORT 5 12
  finish client; stop_server "$2"; fw_flush; conf
  expect "30% of the packets from the client to $2 are dropped at random: Ruby's connects and requests stall on retransmissions" \
    network-stall "connect-refused data-mismatch" client=network-stall,connect-filtered,connect-never-completed \
    "server=invisible: the server receives the requests late"
}

udp_wrong_port() { # FLAGS CLIENT SERVER
  want "udp-wrong-port-$2-$3--$1" || return 0
  begin "udp-wrong-port-$2-$3--$1"
  udp_server "$1" "$3" 5
  UPORT=$((UPORT + 1)) udp_client "$1" "$2" 3
  finish client; stop_server "$3"; conf
  expect "$3 echoes on UDP $UPORT, $2 sends to $((UPORT + 1)) from a connected socket: the server host answers ICMP port unreachable, which Linux reports to the connected socket as ECONNREFUSED" \
    connect-refused "udp-loss udp-all-lost" client=connect-refused \
    "server=invisible: the server never receives a datagram"
}

udp_loss() { # FLAGS CLIENT SERVER
  want "udp-loss-$2-$3--$1" || return 0
  begin "udp-loss-$2-$3--$1"
  fw srv -A INPUT -p udp --dport $UPORT -m statistic --mode random --probability 0.3 -j DROP
  udp_server "$1" "$3" 20
  udp_client "$1" "$2" 20
  finish client; stop_server "$3"; fw_flush; conf
  expect "30% of the datagrams from $2 to $3's echo server are dropped at random: some pings get no echo" \
    udp-loss "" client=udp-loss \
    "server=invisible: the server answers every datagram it receives"
}

mosh_fault() { # FLAGS FAULT: blocked, loss
  want "mosh-$2--$1" || return 0
  begin "mosh-$2--$1"
  case $2 in
    blocked) fw srv -A INPUT -p udp --dport $MPORT -j DROP ;;
    loss) fw srv -A INPUT -p udp --dport $MPORT -m statistic --mode random --probability 0.3 -j DROP ;;
  esac
  mosh "$1"
  finish client; signal srv TERM mosh-server; finish server; fw_flush; conf
  case $2 in
    blocked) expect "the server's firewall drops every datagram to mosh-server's port: mosh-client sends and never hears back" \
      udp-all-lost "" client=no-reply,udp-all-lost \
      "server=invisible: mosh-server never receives a datagram" ;;
    loss) expect "30% of the datagrams to mosh-server are dropped at random: mosh retransmits and the session completes" \
      udp-loss "" client=udp-loss \
      "server=invisible: mosh-server sees only what arrives" ;;
  esac
}

main() {
  prepare "$@"
  healthy record ruby php-S 2; healthy f php webrick 2; healthy ff lwp tcl 2
  healthy r lua perl 2; healthy tt tcl lua 1; healthy ttt php-raw ruby 1
  udp_healthy T ruby perl; udp_healthy y perl php; mosh_healthy yy
  refused n ruby; refused k tcl; wrong_port i lua lua
  drop Xv lua perl; drop unix php-raw ruby
  reject seccomp tcl php; reject net lwp lua
  killed enet ruby perl; killed vnone php tcl
  hold xx lua ruby; hold s0 lwp php
  URLPATH=/sleep.php killed T php php-S; killed y tcl webrick
  udp_wrong_port tt ruby perl
  tcp_loss tt php-S; udp_loss ttt ruby perl
  mosh_fault record blocked; mosh_fault f loss
  log "done"
}

main "$@"
