#!/usr/bin/env bash
# The services lab (as root): real Debian network services netcheck was not written for, mostly
# UDP, multicast and broadcast, and UDP with TCP beside it: FreeRADIUS with radclient (UDP
# authentication), MIT Kerberos's KDC with kinit (UDP, then TCP), coturn with
# turnutils_stunclient (STUN), dnsmasq's DHCP server with busybox udhcpc (a packet socket,
# broadcast, SO_BINDTODEVICE), avahi-daemon (mDNS multicast) asked by a Python legacy-unicast
# query, PowerDNS Recursor forwarding to an NSD authority on a third host (dig), Kamailio
# answering SIP OPTIONS over UDP and TCP (lab/programs/svc_probe.py), healthy and with real
# faults (server down, firewall DROP and REJECT, random loss, a wrong port, an answer from
# another address, a daemon killed), each scenario under another strace flag set. Writes
# tests/fixtures/svc/<scenario>--<flags>/ (traces zstd-compressed, a -ff set plain;
# netcheck.conf; expected.json with the one-sided views), checked by tests/svc_programs.rs.
#
# Usage: lab/svc.sh [GLOB]   (only the scenarios whose name matches GLOB)
#        lab/svc.sh --expectations [GLOB]   (rewrite their expected.json only)
#
# Topology (namespaces sv-cli, sv-srv, sv-mid; nothing in the default namespace):
#   cli 10.98.1.2 --- srv 10.98.1.1 and 10.98.1.3 | srv 10.98.2.1 --- mid 10.98.2.2
# Hosts: `client` (sv-cli), `server` (sv-srv, two addresses on the client's link: multi-homed,
# and a router to the third host), `auth` (sv-mid: the DNS authority). Both ends of the first
# link route multicast (224.0.0.0/4) over it. Faults are iptables rules in one namespace, added
# for one scenario and flushed after it.
#
# Flag sets (all with -s 256 unless the set says otherwise): record (`netcheck record`: -f -ttt
# -T -yy), f (-f), ff (-ff -tt -o, one file per process), r (-f -r), tt (-f -tt), T (-f -tt -T),
# y (-f -tt -y), yy (-f -tt -yy), n (-f -tt -n), k (-f -tt -k), i (-f -tt -i), Xv (-f -tt -X
# verbose), unix (-f --timestamps=unix,us), seccomp (--seccomp-bpf -f -tt -e
# trace=%network,%desc,%process), net (-f -tt -e trace=%network), xx (-f -tt -xx), s0 (-f -tt
# -s 0).
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
LAB_NAME=svc NS_PREFIX=sv NAMESPACES="cli srv mid"
# shellcheck source=lab/scenario.sh
. "$LAB/scenario.sh"
GLOB=${1:-*}
S=10.98.1.1 S2=10.98.1.3 SM=10.98.2.1 C=10.98.1.2 M=10.98.2.2
TIMEOUT=30
PROBE=(/usr/bin/python3 -I "$WORK/svc_probe.py")
RECORDING_STEPS="logged stop_nsd"
declare -A ADDRS=([client]=$C [server]="$S $S2 $SM" [auth]=$M)

build() {
  teardown
  make_namespaces
  three_hosts cli srv mid "$C" "$S $S2" "$SM" "$M"
  ip -n sv-cli route add 10.98.2.0/24 via $S
  ip -n sv-mid route add 10.98.1.0/24 via $SM
  in_ns srv sysctl -qw net.ipv4.ip_forward=1
  mcast_routes
  mkdir -p "$WORK"
  cp "$LAB/programs/svc_probe.py" "$WORK/"
  radius_config
  krb5_config
  dhcp_config
  avahi_config
  dns_config
  kamailio_config
}
mcast_routes() { local n; for n in cli srv; do ip -n "sv-$n" route replace 224.0.0.0/4 dev eth0; done; }


logged() { # HOST TEXT: waits until HOST's log says TEXT
  local i
  for i in $(seq 150); do grep -q "$2" "$WORK/logs/$SCEN/$1.log" 2>/dev/null && return 0; sleep 0.1; done
  log "  $1 never logged '$2'"; return 1
}

# conf: netcheck.conf naming every host, traced or not
conf() { write_conf client server auth; }

# ---- FreeRADIUS and radclient ---------------------------------------------------------------

radius_config() {
  rm -rf "$WORK/raddb"
  cp -a /etc/freeradius/3.0 "$WORK/raddb"
  # run as root in the namespace (the copy is root's), log to stdout
  sed -i -e 's/^\(\s*\)\(user\|group\) = freerad/\1#\2 = freerad/' "$WORK/raddb/radiusd.conf"
  cat >>"$WORK/raddb/clients.conf" <<CONF
client lab {
	ipaddr = 10.98.0.0/16
	secret = labsecret
}
CONF
  printf 'bob\tCleartext-Password := "hello"\n\n' | cat - "$WORK/raddb/mods-config/files/authorize" \
    >"$WORK/authorize" && mv "$WORK/authorize" "$WORK/raddb/mods-config/files/authorize"
}
RADIUSD=(freeradius -X -d "$WORK/raddb")

radius() { # FLAGS FAULT: healthy, down, reject, loss, other-address
  want "radius-$2--$1" || return 0
  begin "radius-$2--$1"
  local target=$S
  case $2 in
    reject) fw srv -A INPUT -p udp --dport 1812 -j REJECT --reject-with icmp-port-unreachable ;;
    loss) fw srv -A INPUT -p udp --dport 1812 -m statistic --mode random --probability 0.3 -j DROP ;;
    other-address) target=$S2 ;;
  esac
  if [ "$2" != down ]; then
    start srv server "$1" "${RADIUSD[@]}"
    logged server "Ready to process requests"
  fi
  local count=2
  [ "$2" = loss ] && count=12
  # shellcheck disable=SC2046
  start cli client "$1" sh -c "printf 'User-Name = bob, User-Password = hello\n' | radclient -x -r 3 -t 1 -c $count $target auth labsecret"
  finish client
  [ "$2" != down ] && { signal srv TERM freeradius; finish server; }
  fw_flush; conf
  case $2 in
    healthy) expect "radclient sends two Access-Requests to FreeRADIUS (-X, one thread), each accepted" \
      healthy "" client=healthy server=healthy ;;
    down) expect "FreeRADIUS is not running: the host answers each Access-Request with ICMP port unreachable, which radclient's unconnected socket never sees; it retries and gives up" \
      no-reply "" ;;
    reject) expect "the server's firewall rejects the requests with ICMP port unreachable while FreeRADIUS is bound: radclient's unconnected socket never sees it and times out" \
      udp-all-lost "" client=no-reply server=healthy ;;
    loss) expect "the server's firewall drops 30% of the Access-Requests at random: radclient's retries (1 s) recover most" \
      udp-loss "" client=udp-loss,no-reply \
      "server=invisible: the server answers every request it receives; that others never reached it only the client shows" ;;
    other-address) expect "radclient asks the server's second address; FreeRADIUS, bound to the wildcard address, answers from the address each request came to (IP_PKTINFO)" \
      healthy "" client=healthy server=healthy ;;
  esac
}

# ---- MIT Kerberos: krb5kdc and kinit -----------------------------------------------------------

krb5_config() {
  local k=$WORK/krb5
  rm -rf "$k"; mkdir -p "$k"
  cat >"$k/krb5.conf" <<CONF
[libdefaults]
 default_realm = LAB.TEST
 dns_lookup_kdc = false
 dns_lookup_realm = false
 rdns = false
[realms]
 LAB.TEST = {
  kdc = $S
 }
CONF
  # udp_preference_limit = 1: every request goes over TCP
  sed 's/^ rdns = false$/&\n udp_preference_limit = 1/' "$k/krb5.conf" >"$k/krb5-tcp.conf"
  cat >"$k/kdc.conf" <<CONF
[kdcdefaults]
 kdc_ports = 88
 kdc_tcp_ports = 88
[realms]
 LAB.TEST = {
  database_name = $k/principal
  key_stash_file = $k/stash
  acl_file = $k/kadm5.acl
 }
[logging]
 kdc = STDERR
CONF
  touch "$k/kadm5.acl"
  KRB5_CONFIG=$k/krb5.conf KRB5_KDC_PROFILE=$k/kdc.conf kdb5_util -r LAB.TEST -P masterpw create -s >/dev/null
  KRB5_CONFIG=$k/krb5.conf KRB5_KDC_PROFILE=$k/kdc.conf kadmin.local -q "addprinc -pw alicepw alice" >/dev/null
  KRB5_CONFIG=$k/krb5.conf KRB5_KDC_PROFILE=$k/kdc.conf kadmin.local -q "ktadd -k $k/alice.keytab alice" >/dev/null
}
KDC=(env KRB5_CONFIG=$WORK/krb5/krb5.conf KRB5_KDC_PROFILE=$WORK/krb5/kdc.conf krb5kdc -n -r LAB.TEST)
kinit_cmd() { # CONF
  echo env KRB5_CONFIG="$WORK/krb5/$1" KRB5CCNAME="FILE:$WORK/krb5/cc" kinit -k -t "$WORK/krb5/alice.keytab" alice
}

krb5() { # FLAGS FAULT: healthy, tcp, down, udp-dropped
  want "krb5-$2--$1" || return 0
  begin "krb5-$2--$1"
  local cfg=krb5.conf
  case $2 in
    tcp) cfg=krb5-tcp.conf ;;
    udp-dropped) fw srv -A INPUT -p udp --dport 88 -j DROP ;;
  esac
  if [ "$2" != down ]; then
    start srv server "$1" "${KDC[@]}"
    bound srv 88
    listening srv 88
  fi
  # shellcheck disable=SC2046
  start cli client "$1" $(kinit_cmd $cfg)
  finish client
  [ "$2" != down ] && { signal srv TERM krb5kdc; finish server; }
  fw_flush; conf
  case $2 in
    healthy) expect "kinit gets alice's ticket with her keytab from krb5kdc over UDP (the first AS-REQ draws PREAUTH_REQUIRED, the second the ticket)" \
      healthy "" client=healthy server=healthy ;;
    tcp) expect "kinit asks the KDC over TCP (udp_preference_limit = 1): one connection per request" \
      healthy "" client=healthy server=healthy ;;
    down) expect "no KDC runs: kinit's connected UDP socket gets ECONNREFUSED, its TCP connect is refused" \
      connect-refused "" ;;
    udp-dropped) expect "the server's firewall drops UDP to port 88: kinit's UDP request is never answered and, after 1 s, it asks over TCP, which works" \
      udp-all-lost "connect-refused" "client=no-reply,udp-all-lost" server=healthy ;;
  esac
}

# ---- coturn and turnutils_stunclient ---------------------------------------------------------

TURN=(turnserver -n --listening-ip $S --relay-ip $S --listening-port 3478 --no-tls --no-dtls --no-cli
  --log-file stdout --simple-log --pidfile "$WORK/turnserver.pid" --relay-threads 1 --no-auth)

stun() { # FLAGS FAULT: healthy, down, drop, wrong-port
  want "stun-$2--$1" || return 0
  begin "stun-$2--$1"
  local port=3478
  case $2 in
    drop) fw srv -A INPUT -p udp --dport 3478 -j DROP ;;
    wrong-port) port=3479 ;;
  esac
  if [ "$2" != down ]; then
    start srv server "$1" "${TURN[@]}"
    bound srv 3478
  fi
  # the client retries without end while unanswered: it is stopped after 5 s
  TIMEOUT=5 start cli client "$1" turnutils_stunclient -p $port $S
  finish client
  [ "$2" != down ] && { signal srv TERM turnserver; finish server; }
  fw_flush; conf
  case $2 in
    healthy) expect "turnutils_stunclient asks coturn for its mapped address (a STUN binding request over UDP)" \
      healthy "" client=healthy server=healthy ;;
    down) expect "coturn is not running: the client's binding requests draw ICMP port unreachable; it is stopped after 5 s" \
      no-reply "" ;;
    drop) expect "the server's firewall drops the binding requests: the client retries until it is stopped after 5 s" \
      udp-all-lost "connect-refused" client=no-reply,udp-all-lost server=healthy ;;
    wrong-port) expect "the client asks port 3479 while coturn listens on 3478: ICMP port unreachable, unseen by its unconnected socket; it is stopped after 5 s" \
      no-reply "" client=no-reply server=healthy ;;
  esac
}

# ---- DHCP: dnsmasq and busybox udhcpc --------------------------------------------------------

dhcp_config() {
  printf '#!/bin/sh\nexit 0\n' >"$WORK/udhcpc.script"
  chmod +x "$WORK/udhcpc.script"
}
DNSMASQ=(dnsmasq -d -k -C /dev/null --port=0 --interface=eth0 --bind-interfaces --log-dhcp -u root
  --dhcp-range=10.98.1.100,10.98.1.150,255.255.255.0,1h --dhcp-leasefile="$WORK/dnsmasq.leases"
  --pid-file="$WORK/dnsmasq.pid")

dhcp() { # FLAGS FAULT: healthy, down
  want "dhcp-$2--$1" || return 0
  begin "dhcp-$2--$1"
  rm -f "$WORK/dnsmasq.leases"
  if [ "$2" != down ]; then
    start srv server "$1" "${DNSMASQ[@]}"
    bound srv 67
  fi
  start cli client "$1" busybox udhcpc -i eth0 -f -q -n -t 3 -T 1 -s "$WORK/udhcpc.script"
  finish client
  [ "$2" != down ] && { signal srv TERM dnsmasq; finish server; }
  conf
  case $2 in
    healthy) expect "busybox udhcpc gets a lease from dnsmasq: DISCOVER and REQUEST broadcast from a packet socket, OFFER and ACK from dnsmasq's UDP socket on port 67" \
      healthy "" client=healthy server=healthy ;;
    down) expect "no DHCP server runs: udhcpc broadcasts three DISCOVERs from its packet socket and gives up" \
      "" "" ;;
  esac
}

# ---- avahi-daemon (mDNS) ---------------------------------------------------------------------

avahi_config() {
  local h
  for h in cli srv; do
    cat >"$WORK/avahi-$h.conf" <<CONF
[server]
host-name=lab$h
domain-name=local
use-ipv4=yes
use-ipv6=no
allow-interfaces=eth0
enable-dbus=no
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-addresses=yes
publish-hinfo=no
publish-workstation=no
CONF
  done
}
# avahi-daemon keeps its pid file at a fixed path (/run/avahi-daemon/pid): each runs in a mount
# namespace of its own with a fresh /run
avahi_start() { # NS HOST FLAGS
  start "$1" "$2" "$3" unshare -m sh -c "mount -t tmpfs none /run && exec avahi-daemon --no-drop-root --no-chroot --no-proc-title --no-rlimits -f $WORK/avahi-$1.conf"
}

avahi() { # FLAGS FAULT: healthy, pair, dropped
  want "avahi-$2--$1" || return 0
  begin "avahi-$2--$1"
  [ "$2" = dropped ] && fw srv -A INPUT -p udp --dport 5353 -j DROP
  avahi_start srv server "$1"
  logged server "Server startup complete"
  if [ "$2" = pair ]; then
    avahi_start cli client "$1"
    logged client "Server startup complete"
    sleep 2
    signal cli TERM avahi-daemon
  else
    start cli client "$1" "${PROBE[@]}" mdns labsrv.local 2 1
  fi
  finish client
  signal srv TERM avahi-daemon; finish server; fw_flush; conf
  case $2 in
    healthy) expect "a Python client asks the mDNS group for labsrv.local from an ephemeral port; avahi-daemon answers it by unicast from its own address" \
      healthy "" client=healthy server=healthy ;;
    pair) expect "two avahi-daemons on one link probe for and announce their host names to the mDNS group (224.0.0.251:5353) and hear each other" \
      healthy "" client=healthy server=healthy ;;
    dropped) expect "the responder's firewall drops mDNS: the client's two questions to the group go unanswered" \
      "" "connect-refused" client=no-reply "server=invisible: the responder never hears the question" ;;
  esac
}

# ---- PowerDNS Recursor forwarding to NSD -----------------------------------------------------

dns_config() {
  local d=$WORK/dns
  rm -rf "$d"; mkdir -p "$d/pdns"
  cat >"$d/lab.test.zone" <<ZONE
\$ORIGIN lab.test.
\$TTL 60
@ IN SOA ns.lab.test. admin.lab.test. 1 3600 600 86400 60
@ IN NS ns.lab.test.
ns IN A $M
www IN A 10.98.1.1
ZONE
  cat >"$d/nsd.conf" <<CONF
server:
  ip-address: $M
  port: 53
  username: ""
  chroot: ""
  zonesdir: "$d"
  database: ""
  pidfile: "$d/nsd.pid"
  xfrdfile: "$d/xfrd.state"
  zonelistfile: "$d/zone.list"
  logfile: "$d/nsd.log"
  server-count: 1
  verbosity: 1
  do-ip6: no
remote-control:
  control-enable: no
zone:
  name: lab.test
  zonefile: lab.test.zone
CONF
  : >"$d/pdns/recursor.conf"
}
NSD=(nsd -d -c "$WORK/dns/nsd.conf")
# nsd renames its processes: it is stopped through its pid file
stop_nsd() { [ -s "$WORK/dns/nsd.pid" ] && in_ns mid kill -TERM "$(cat "$WORK/dns/nsd.pid")" 2>/dev/null || true; }
RECURSOR=(pdns_recursor --config-dir="$WORK/dns/pdns" --socket-dir="$WORK/dns/pdns" --daemon=no
  --local-address=$S --forward-zones=lab.test=$M --threads=1 --pdns-distributes-queries=no
  --setuid= --setgid= --dnssec=off --allow-from=10.98.0.0/16 --write-pid=no --disable-syslog
  --network-timeout=1000 --quiet=no)

recursor() { # FLAGS FAULT: healthy, auth-down, auth-dropped, down
  want "recursor-$2--$1" || return 0
  begin "recursor-$2--$1"
  case $2 in
    auth-dropped) fw mid -A INPUT -p udp --dport 53 -j DROP ;;
  esac
  if [ "$2" = healthy ] || [ "$2" = auth-dropped ]; then
    start mid auth "$1" "${NSD[@]}"
    bound mid 53
  fi
  if [ "$2" != down ]; then
    start srv server "$1" "${RECURSOR[@]}"
    bound srv 53
  fi
  start cli client "$1" dig @$S +tries=1 +time=4 www.lab.test A
  finish client
  [ "$2" != down ] && { signal srv TERM pdns_recursor; finish server; }
  if [ "$2" = healthy ] || [ "$2" = auth-dropped ]; then stop_nsd; finish auth; fi
  fw_flush; conf
  case $2 in
    healthy) expect "dig asks PowerDNS Recursor, which forwards lab.test to NSD on a third host and answers" \
      healthy "" client=healthy server=healthy auth=healthy ;;
    auth-down) expect "no authority runs: the recursor's query draws ICMP port unreachable (ECONNREFUSED on its connected socket) and it answers SERVFAIL" \
      connect-refused "" server=connect-refused \
      "client=invisible: dig gets a SERVFAIL answer, a healthy exchange on its link" ;;
    auth-dropped) expect "the authority's firewall drops the recursor's queries: they time out and it answers SERVFAIL" \
      udp-all-lost "connect-refused" server=no-reply,udp-all-lost auth=healthy \
      "client=invisible: dig gets a SERVFAIL answer, a healthy exchange on its link" ;;
    down) expect "no recursor runs: dig's connected socket gets ECONNREFUSED" connect-refused "" ;;
  esac
}

# ---- Kamailio (SIP) --------------------------------------------------------------------------

kamailio_config() {
  mkdir -p "$WORK/kamailio"
  cat >"$WORK/kamailio.cfg" <<CONF
#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=1
auto_aliases=no
listen=udp:0.0.0.0:5060
listen=tcp:$S:5060
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "sl.so"
request_route {
  if (method == "OPTIONS") { sl_send_reply("200", "OK"); exit; }
  sl_send_reply("404", "Not here");
}
CONF
}
KAMAILIO=(kamailio -DD -E -f "$WORK/kamailio.cfg" -Y "$WORK/kamailio" -P "$WORK/kamailio/kamailio.pid")

sip() { # FLAGS FAULT: healthy, down, killed, other-address
  want "sip-$2--$1" || return 0
  begin "sip-$2--$1"
  local target=$S
  [ "$2" = other-address ] && target=$S2
  if [ "$2" != down ]; then
    start srv server "$1" "${KAMAILIO[@]}"
    bound srv 5060; listening srv 5060
  fi
  case $2 in
    killed)
      start cli client "$1" sh -c "${PROBE[*]} sip-options $S 5060 udp 1 1; sleep 1; ${PROBE[*]} sip-options $S 5060 udp 2 1"
      sleep 0.8; signal srv KILL kamailio ;;
    *) start cli client "$1" sh -c "${PROBE[*]} sip-options $target 5060 udp 2 1; ${PROBE[*]} sip-options $S 5060 tcp 2 1" ;;
  esac
  finish client
  [ "$2" != down ] && { signal srv TERM kamailio; finish server; }
  conf
  case $2 in
    healthy) expect "a Python client sends two SIP OPTIONS over UDP and two over one TCP connection; Kamailio (a UDP receiver, a TCP main and a TCP worker process) answers 200" \
      healthy "" client=healthy server=healthy ;;
    down) expect "no SIP server runs: the UDP requests draw ICMP port unreachable, unseen by the unconnected socket (timeouts), the TCP connect is refused" \
      "no-reply connect-refused" "" ;;
    killed) expect "Kamailio is killed (SIGKILL) between the client's first request and its next two: those draw ICMP port unreachable, unseen by the unconnected socket" \
      no-reply "" client=no-reply "server=invisible: the server's trace ends at its death" ;;
    other-address) expect "the client asks the server's second address over UDP; Kamailio, bound to the wildcard address, answers from the address each request came to" \
      healthy "" client=healthy server=healthy ;;
  esac
}

main() {
  prepare "$@"
  radius record healthy; radius i down; radius tt reject; radius r loss; radius y other-address
  krb5 T healthy; krb5 ff tcp; krb5 record down; krb5 n udp-dropped
  stun xx healthy; stun tt down; stun i drop; stun unix wrong-port
  dhcp record healthy; dhcp Xv down
  avahi k healthy; avahi tt pair; avahi seccomp dropped
  recursor record healthy; recursor s0 auth-down; recursor tt auth-dropped; recursor net down
  sip f healthy; sip record down; sip T killed; sip yy other-address
  log "done"
}

main "$@"
