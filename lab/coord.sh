#!/usr/bin/env bash
# The coordination lab (as root): real Debian daemons with their own clients, none of them in
# netcheck's other corpora, healthy and with real faults, each scenario under another strace flag
# set. Writes tests/fixtures/coord/<fault>--<flags>/ (traces zstd-compressed, a -ff set plain;
# netcheck.conf naming every host; expected.json with the one-sided views), checked by
# tests/coord_programs.rs.
#
# Programs: Gearman (gearmand, with the `gearman` command as client and as worker: a job goes
# from the client to gearmand and on to the worker on the third host, which runs `rev`), Samba
# (smbd with smbclient listing a share and fetching files), Prosody (XMPP, the raw-protocol client
# lab/programs/xmpp_client.py: SASL ANONYMOUS, bind, presence, a message to itself, a ping),
# OpenVPN (a static-key point-to-point tunnel over UDP between the client's and the server's
# namespaces, /dev/net/tun; curl fetches from Python's http.server through it), Exim (exim4
# -bd with swaks as client, relaying every message to an SMTP sink on the third host,
# lab/programs/smtp_sink.py).
#
# Faults: server down (refused), a wrong port, SYNs dropped by the server's firewall (time-out),
# REJECT (ICMP port unreachable, and a reset of the first data), the worker on the third host
# unreachable or killed while it runs a job, the daemon killed (SIGKILL) mid-session, data
# dropped mid-session, 30% random loss (-m statistic), the tunnel's UDP dropped or lossy, the
# mail relay's next hop down or dropped.
#
# Usage: lab/coord.sh [GLOB]   (only the scenarios whose name matches GLOB)
#        lab/coord.sh --expectations [GLOB]   (rewrite their expected.json only)
#
# Topology (namespaces co-cli, co-srv, co-mid; nothing in the default namespace):
#   cli 10.100.1.2 --- srv 10.100.1.1 | srv 10.100.2.1 --- mid 10.100.2.2
#   tunnel (OpenVPN only): cli 10.100.8.2 <-> srv 10.100.8.1
# Host `client` runs the client (and OpenVPN's client end, trace vpnc), host `server` the daemon
# (and OpenVPN's server end, trace vpns), host `worker` Gearman's worker and the SMTP sink
# Exim relays to. The client's and the
# worker's namespaces give up a connect after two SYNs (tcp_syn_retries=1, about 3 s).
#
# Flag sets (all with -s 256 unless named otherwise; every one but `record` is strace's own):
#   record  netcheck record (-f -ttt -T -yy)     f     -f
#   ff      -ff -tt -o (one file per process)     r     -f -r
#   tt      -f -tt                                T     -f -tt -T
#   y       -f -tt -y                             yy    -f -tt -yy
#   n       -f -tt -n (syscall numbers)           k     -f -tt -k (a stack after each call)
#   i       -f -tt -i                             Xv    -f -tt -X verbose
#   unix    -f --timestamps=unix,us               ttt   -f -ttt
#   seccomp --seccomp-bpf -f -tt -e trace=%network,%desc,%process (a filter is what it needs)
#   net     -f -tt -e trace=%network              xx    -f -tt -xx
#   s0      -f -tt -s 0
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
LAB_NAME=coord NS_PREFIX=co NAMESPACES="cli srv mid"
# shellcheck source=lab/scenario.sh
. "$LAB/scenario.sh"
GLOB=${1:-*}
S=10.100.1.1 C=10.100.1.2 S2=10.100.2.1 M=10.100.2.2 TS=10.100.8.1 TC=10.100.8.2
TIMEOUT=40
RECORDING_STEPS="worker_ready in_ns exim_clean"

# The programs, as command:package (a path for those outside PATH). exim4-daemon-light is a
# mail transport agent: Debian installs one per system, so it replaces postfix (lab/apps.sh's).
TOOLS="/usr/sbin/gearmand:gearman-job-server gearman:gearman-tools /usr/sbin/smbd:samba
smbclient:smbclient prosody:prosody /usr/sbin/openvpn:openvpn /usr/sbin/exim4:exim4-daemon-light
swaks:swaks curl:curl zstd:zstd"

need_tools() {
  local missing=() pair cmd pkg created=0
  for pair in $TOOLS; do
    cmd=${pair%%:*} pkg=${pair#*:}
    if [ "${cmd#/}" != "$cmd" ]; then [ -x "$cmd" ] && continue; else command -v "$cmd" >/dev/null && continue; fi
    missing+=("$pkg")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  log "installing ${missing[*]}"
  # Debian starts a service on install unless policy-rc.d forbids it: the lab starts its own.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created=1
  fi
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$created" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
}

build() {
  need_tools
  teardown
  make_namespaces
  three_hosts cli srv mid "$C" "$S" "$S2" "$M"
  ip -n co-cli route add 10.100.2.0/24 via $S
  ip -n co-mid route add 10.100.1.0/24 via $S2
  local n
  for n in cli srv mid; do in_ns $n ethtool -K eth0 tso off gso off gro off >/dev/null 2>&1 || true; done
  in_ns srv ethtool -K eth1 tso off gso off gro off >/dev/null 2>&1 || true
  in_ns cli sysctl -qw net.ipv4.tcp_syn_retries=1
  in_ns mid sysctl -qw net.ipv4.tcp_syn_retries=1
  rm -rf "$WORK" && mkdir -p "$WORK"
  cp "$LAB/programs/xmpp_client.py" "$WORK/"
  # Samba: one guest share, every state folder under $WORK
  mkdir -p "$WORK/smb/share" "$WORK/smb/state" "$WORK/smb/priv" "$WORK/smb/lock" "$WORK/smb/cache" "$WORK/smb/run"
  printf 'hello from the lab share\n' >"$WORK/smb/share/hello.txt"
  seq 1 3000 >"$WORK/smb/share/numbers.txt"
  chmod -R a+rX "$WORK/smb/share"
  cat >"$WORK/smb.conf" <<CONF
[global]
  workgroup = LAB
  server role = standalone server
  map to guest = Bad User
  smb ports = 445
  bind interfaces only = yes
  interfaces = $S
  disable netbios = yes
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  state directory = $WORK/smb/state
  lock directory = $WORK/smb/lock
  cache directory = $WORK/smb/cache
  private dir = $WORK/smb/priv
  pid directory = $WORK/smb/run
  ncalrpc dir = $WORK/smb/run/ncalrpc
  log level = 1
  server min protocol = SMB2
[lab]
  path = $WORK/smb/share
  guest ok = yes
  read only = yes
CONF
  # Prosody: c2s only, anonymous logins, no TLS
  mkdir -p "$WORK/prosody/data" && chmod -R 777 "$WORK/prosody"
  cat >"$WORK/prosody.cfg.lua" <<CONF
pidfile = "$WORK/prosody/prosody.pid"
data_path = "$WORK/prosody/data"
certificates = "$WORK/prosody"
log = { info = "*console" }
daemonize = false
interfaces = { "$S" }
c2s_ports = { 5222 }
s2s_ports = { }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "presence"; "message"; "iq" }
modules_disabled = { "s2s"; "tls"; "posix" }
network_backend = "epoll"
VirtualHost "lab.example"
  authentication = "anonymous"
CONF
  # Exim: accepts mail from the lab's addresses and relays everything to the SMTP sink on the
  # third host, delivering at once (-odf); run with -C as root, it gives up root after binding
  cp "$LAB/programs/smtp_sink.py" "$WORK/"
  mkdir -p "$WORK/exim/spool" "$WORK/exim/log" && chmod -R 777 "$WORK/exim"
  cat >"$WORK/exim.conf" <<CONF
primary_hostname = mail.lab.example
spool_directory = $WORK/exim/spool
log_file_path = $WORK/exim/log/%slog
exim_user = Debian-exim
exim_group = Debian-exim
local_interfaces = $S
daemon_smtp_ports = 25
host_lookup =
rfc1413_hosts =
rfc1413_query_timeout = 0s
acl_smtp_rcpt = acl_check_rcpt
begin acl
acl_check_rcpt:
  accept hosts = 10.100.0.0/16
  deny
begin routers
relay:
  driver = manualroute
  route_list = * $M::2525 byname
  self = send
  transport = remote_smtp
begin transports
remote_smtp:
  driver = smtp
  port = 2525
  hosts_avoid_tls = *
  connect_timeout = 4s
begin retry
* * F,1h,15m
CONF
  # OpenVPN: a static key shared by both ends
  openvpn --genkey secret "$WORK/ovpn.key" 2>/dev/null
  mkdir -p "$WORK/www" && seq 1 20000 >"$WORK/www/numbers.txt" && printf 'through the tunnel\n' >"$WORK/www/hello.txt"
}


# conf: netcheck.conf naming every host, traced or not (a host's traces: its name, and vpnc or
# vpns for OpenVPN's ends)
conf() {
  {
    echo "# $SCEN: recorded by lab/coord.sh"
    local h ip t
    for h in client server worker; do
      case $h in client) ip="$C $TC" ;; server) ip="$S $S2 $TS" ;; worker) ip=$M ;; esac
      echo "host $h"
      for t in "${HOSTS[@]}"; do
        case $h:$t in client:client | client:vpnc | server:server | server:vpns | worker:worker)
          echo " trace $t.trace.zst" ;;
        esac
      done
      for a in $ip; do echo " ip $a"; done
    done
  } >"$DIR/netcheck.conf"
  compress_traces
}

# ---- Gearman --------------------------------------------------------------------------------

GEARMAND=(gearmand -L 0.0.0.0 -p 4730 -t 1 -l none -P "$WORK/gearmand.pid" -q builtin)
gearmand_start() { start srv server "$1" "${GEARMAND[@]}"; listening srv 4730; }
gearmand_stop() { signal srv TERM gearmand; finish server; }
# worker FLAGS COUNT [CMD...]: a worker on the third host for function `reverse`
worker() { local flags=$1 count=$2; shift 2; start mid worker "$flags" gearman -w -h $S2 -p 4730 -f reverse -c "$count" -- "${@:-rev}"; }
worker_ready() { # waits until gearmand has a worker for `reverse`
  local i
  for i in $(seq 60); do
    in_ns srv ss -Htn state established "sport = :4730" | grep -q "$M" && return 0; sleep 0.1
  done
  log "  no worker connected"; return 1
}
job() { start cli client "$1" gearman -h "${3:-$S}" -p "${4:-4730}" -f reverse -t "${2:-6000}" "hello from the lab"; }

gearman_case() { # FLAGS FAULT: healthy, down, wrong-port, drop, reject, worker-unreachable, worker-killed, killed, loss
  local flags=$1 fault=$2
  want "gearman-$fault--$flags" || return 0
  begin "gearman-$fault--$flags"
  case $fault in
    healthy)
      gearmand_start "$flags"; worker "$flags" 1; worker_ready
      job "$flags"; finish client; finish worker; gearmand_stop ;;
    down)
      job "$flags"; finish client ;;
    wrong-port)
      gearmand_start "$flags"
      job "$flags" 6000 $S 4731; finish client; gearmand_stop ;;
    drop | reject)
      if [ "$fault" = drop ]; then fw srv -A INPUT -i eth0 -p tcp --dport 4730 -j DROP
      else fw srv -A INPUT -i eth0 -p tcp --dport 4730 -j REJECT --reject-with icmp-port-unreachable; fi
      gearmand_start "$flags"; worker "$flags" 1; worker_ready
      job "$flags" 6000; finish client
      # the worker's one job never comes: stop it
      signal mid TERM gearman; finish worker; gearmand_stop; fw_flush ;;
    worker-unreachable)
      fw srv -A INPUT -i eth1 -p tcp --dport 4730 -j DROP
      gearmand_start "$flags"; worker "$flags" 1; sleep 0.5
      job "$flags" 5000; finish client
      signal mid TERM gearman; finish worker; gearmand_stop; fw_flush ;;
    worker-killed)
      gearmand_start "$flags"; worker "$flags" 1 sh -c 'sleep 5; rev'; worker_ready
      job "$flags" 6000; sleep 1.5
      signal mid KILL gearman; finish worker; finish client; gearmand_stop ;;
    killed)
      gearmand_start "$flags"
      job "$flags" 8000; sleep 1.5
      signal srv KILL gearmand; finish client; finish server ;;
    loss)
      fw srv -A INPUT -i eth0 -p tcp --dport 4730 -m statistic --mode random --probability 0.3 -j DROP
      gearmand_start "$flags"; worker "$flags" 6; worker_ready
      start cli client "$flags" sh -c "for i in 1 2 3 4 5 6; do gearman -h $S -p 4730 -f reverse -t 9000 \"job \$i\"; done"
      finish client; signal mid TERM gearman; finish worker; gearmand_stop; fw_flush ;;
  esac
  conf
  case $fault in
    healthy) expect "the gearman command submits a job to gearmand, which hands it to a worker (the gearman command in worker mode, on the third host) running rev; the result comes back" \
      healthy "" client=healthy server=healthy worker=healthy ;;
    down) expect "gearmand is not running: the client's connect is refused" \
      connect-refused "" client=connect-refused ;;
    wrong-port) expect "the client asks port 4731, gearmand listens on 4730: refused" \
      connect-refused "" client=connect-refused server=healthy ;;
    drop) expect "the server's firewall drops every SYN from the client's link to gearmand: the client's connect times out (two SYNs, about 3 s); the worker on the other link is served" \
      connect-filtered "connect-refused" client=connect-filtered \
      "server=invisible: nothing from the client reaches the daemon" worker=healthy ;;
    reject) expect "the server's firewall rejects the client's SYNs with ICMP port unreachable while gearmand listens: the client's connect is refused" \
      connect-refused-while-listening "" client=connect-refused \
      "server=invisible: nothing from the client reaches the daemon" worker=healthy ;;
    worker-unreachable) expect "the server's firewall drops the worker's SYNs (the link to the third host): the worker's connect times out; the client's job is queued and never done, and the client gives up after 5 s" \
      connect-filtered "connect-refused" worker=connect-filtered \
      "client=invisible: the client's job is accepted and waits for a worker, a healthy exchange on its link" \
      "server=invisible: nothing from the worker reaches the daemon" ;;
    worker-killed) expect "the worker on the third host is killed (SIGKILL) while it runs the job: gearmand reads end of stream from it and requeues the job; the client gives up after 6 s" \
      "" "connect-refused connect-filtered" \
      "worker=invisible: the worker's trace ends at its death" \
      "client=invisible: the client's job is accepted and waits for a worker, a healthy exchange on its link" \
      "server=invisible: a worker that leaves is an ordinary end of its connection" ;;
    killed) expect "gearmand is killed (SIGKILL) while the client waits for its job (no worker): the client reads end of stream instead of the result" \
      no-reply "" client=no-reply "server=invisible: the server's trace ends at its death" ;;
    loss) expect "six jobs, 30% of the packets from the client to gearmand dropped at random: connects and requests stalled by retransmissions" \
      network-stall "connect-refused data-mismatch" client=network-stall \
      "server=invisible: the server receives the requests late and answers at once" worker=healthy ;;
  esac
}

# ---- Samba ----------------------------------------------------------------------------------

smbd_start() { start srv server "$1" smbd -F --no-process-group --debug-stdout -s "$WORK/smb.conf"; listening srv 445; }
smbd_stop() { signal srv TERM smbd; finish server; }
SMBCLIENT=(smbclient "//$S/lab" -N -s /dev/null -t 8)

samba_case() { # FLAGS FAULT: healthy, down, drop, killed, reset
  local flags=$1 fault=$2
  want "samba-$fault--$flags" || return 0
  begin "samba-$fault--$flags"
  case $fault in
    healthy)
      smbd_start "$flags"
      start cli client "$flags" "${SMBCLIENT[@]}" -c 'ls; get hello.txt /dev/null; get numbers.txt /dev/null'
      finish client; sleep 0.3; smbd_stop ;;
    down)
      start cli client "$flags" "${SMBCLIENT[@]}" -c 'ls'
      finish client ;;
    drop)
      fw srv -A INPUT -p tcp --dport 445 -j DROP
      fw srv -A INPUT -p tcp --dport 139 -j DROP
      smbd_start "$flags"
      start cli client "$flags" "${SMBCLIENT[@]}" -c 'ls'
      finish client; smbd_stop; fw_flush ;;
    killed)
      smbd_start "$flags"
      start cli client "$flags" sh -c "(echo ls; sleep 3; echo 'get numbers.txt /dev/null') | ${SMBCLIENT[*]}"
      sleep 1.5
      signal srv KILL smbd; signal srv KILL smbd-notifyd; signal srv KILL smbd-cleanupd
      finish client; finish server ;;
    reset)
      fw srv -A INPUT -p tcp --dport 445 --tcp-flags PSH PSH -j REJECT --reject-with tcp-reset
      smbd_start "$flags"
      start cli client "$flags" "${SMBCLIENT[@]}" -p 445 -c 'ls'
      finish client; sleep 0.5; smbd_stop; fw_flush ;;
  esac
  conf
  case $fault in
    healthy) expect "smbclient lists a guest share of smbd (a child per connection) and fetches two files" \
      healthy "" client=healthy server=healthy ;;
    down) expect "smbd is not running: smbclient's connects to 445 and 139 are refused" \
      connect-refused "" client=connect-refused ;;
    drop) expect "the server's firewall drops every SYN to ports 445 and 139: smbclient's connects time out" \
      connect-filtered "connect-refused" client=connect-filtered \
      "server=invisible: nothing reaches the daemon" ;;
    killed) expect "smbd's parent is killed (SIGKILL) after smbclient listed the share; the child serving the connection sees its parent gone and exits, closing the connection; smbclient's next request (a file) 1.5 s later is answered with a reset" \
      connection-reset "" client=no-reply,connection-reset,send-after-peer-closed \
      "server=invisible: the server's trace ends at its death" ;;
    reset) expect "the server's firewall answers smbclient's first data (the SMB negotiate) with a reset: its read fails with ECONNRESET" \
      connection-reset "connect-refused" client=connection-reset \
      "server=invisible: the server accepted a connection that never carried a byte" ;;
  esac
}

# ---- Prosody (XMPP) -------------------------------------------------------------------------

prosody_start() { start srv server "$1" prosody --config "$WORK/prosody.cfg.lua" -F; listening srv 5222; }
prosody_stop() { signal srv TERM lua5.4; finish server; }
XMPP=(/usr/bin/python3 -I "$WORK/xmpp_client.py")

prosody_case() { # FLAGS FAULT: healthy, down, stall, killed, wrong-port
  local flags=$1 fault=$2
  want "prosody-$fault--$flags" || return 0
  begin "prosody-$fault--$flags"
  case $fault in
    healthy)
      prosody_start "$flags"
      start cli client "$flags" "${XMPP[@]}" $S 5222
      finish client; sleep 0.3; prosody_stop ;;
    down)
      start cli client "$flags" "${XMPP[@]}" $S 5222
      finish client ;;
    wrong-port)
      prosody_start "$flags"
      start cli client "$flags" "${XMPP[@]}" $S 5223
      finish client; prosody_stop ;;
    stall)
      prosody_start "$flags"
      start cli client "$flags" "${XMPP[@]}" $S 5222 slow
      sleep 1.2
      fw srv -A INPUT -p tcp --dport 5222 -j DROP
      finish client; fw_flush; prosody_stop ;;
    killed)
      prosody_start "$flags"
      start cli client "$flags" "${XMPP[@]}" $S 5222 wait
      sleep 2
      signal srv KILL lua5.4
      finish client; finish server ;;
  esac
  conf
  case $fault in
    healthy) expect "a raw-protocol XMPP client logs in to Prosody (SASL ANONYMOUS), binds, sends presence, a message to itself and a ping, and closes the stream" \
      healthy "" client=healthy server=healthy ;;
    down) expect "Prosody is not running: the client's connect is refused" \
      connect-refused "" client=connect-refused ;;
    wrong-port) expect "the client asks port 5223, Prosody listens on 5222: refused" \
      connect-refused "" client=connect-refused server=healthy ;;
    stall) expect "the server's firewall starts dropping everything the client sends after its message came back: its ping never arrives, the client gives up after 8 s" \
      "" "connect-refused" client=no-reply,network-stall,data-unreceived \
      "server=invisible: nothing reaches the server after the client's message" ;;
    killed) expect "Prosody is killed (SIGKILL) while the client pauses before its ping: the client's ping, sent to the dead server 2 s later, is answered with a reset" \
      connection-reset "" client=no-reply,connection-reset,send-after-peer-closed \
      "server=invisible: the server's trace ends at its death" ;;
  esac
}

# ---- OpenVPN --------------------------------------------------------------------------------

OVPN=(openvpn --dev tun --proto udp --port 1194 --secret "$WORK/ovpn.key" --cipher AES-256-CBC --auth SHA256 --verb 1 --ping 1 --ping-exit 6)
# the tunnel's server end with Python's http.server behind it, on one trace each
vpn_server() { # FLAGS
  start srv vpns "$1" "${OVPN[@]}" --local $S --ifconfig $TS $TC; bound srv 1194
  sleep 0.5
  start srv server "$1" /usr/bin/python3 -I -m http.server -b $TS 8080 -d "$WORK/www"; listening srv 8080
}
vpn_client() { start cli vpnc "$1" "${OVPN[@]}" --remote $S --ifconfig $TC $TS; sleep 2; }
vpn_stop() { signal cli TERM openvpn; signal srv TERM openvpn; signal srv TERM python3; finish vpnc; finish vpns; finish server; }

openvpn_case() { # FLAGS FAULT: healthy, drop, loss
  local flags=$1 fault=$2
  want "openvpn-$fault--$flags" || return 0
  begin "openvpn-$fault--$flags"
  case $fault in
    drop) fw srv -A INPUT -p udp --dport 1194 -j DROP ;;
    loss) fw srv -A INPUT -p udp --dport 1194 -m statistic --mode random --probability 0.3 -j DROP ;;
  esac
  vpn_server "$flags"; vpn_client "$flags"
  case $fault in
    healthy) start cli client "$flags" curl -sS -o /dev/null --max-time 5 http://$TS:8080/hello.txt http://$TS:8080/numbers.txt ;;
    drop) start cli client "$flags" curl -sS -o /dev/null --max-time 5 http://$TS:8080/hello.txt ;;
    loss) start cli client "$flags" sh -c "for i in 1 2 3 4 5; do curl -sS -o /dev/null --max-time 8 http://$TS:8080/numbers.txt; done" ;;
  esac
  finish client; vpn_stop; fw_flush
  conf
  case $fault in
    healthy) expect "curl fetches two files from http.server through a static-key OpenVPN tunnel (UDP between the two ends)" \
      healthy "" client=healthy server=healthy ;;
    drop) expect "the server's firewall drops the tunnel's UDP: the server end never hears the client end, and curl's connect through the tunnel times out" \
      "udp-all-lost connect-filtered" "connect-refused" client=connect-filtered,no-reply \
      "server=invisible: nothing reaches the server's end of the tunnel" ;;
    loss) expect "30% of the tunnel's UDP towards the server dropped at random: datagrams lost, and curl's fetches through the tunnel stalled by retransmissions" \
      "udp-loss network-stall" "connect-refused" client=network-stall,udp-loss \
      "server=invisible: the server's end receives fewer datagrams, and nothing it waits for shows the gaps; its HTTP server answers each request at once" ;;
  esac
}

# ---- Exim -----------------------------------------------------------------------------------

exim_clean() { rm -rf "$WORK/exim/spool"/* "$WORK/exim/log"/*; } # no message left from before
exim_start() { start srv server "$1" exim4 -C "$WORK/exim.conf" -bd -odf; listening srv 25; }
exim_stop() { signal srv TERM exim4; finish server; }
SWAKS=(swaks --server $S --from alice@lab.example --to bob@far.example --timeout 12 --hide-all)

exim_case() { # FLAGS FAULT: healthy, down, relay-down, relay-dropped
  local flags=$1 fault=$2
  want "exim-$fault--$flags" || return 0
  begin "exim-$fault--$flags"
  exim_clean
  case $fault in
    healthy)
      start mid worker "$flags" /usr/bin/python3 -I -W ignore "$WORK/smtp_sink.py" $M 2525 600; listening mid 2525
      exim_start "$flags"
      start cli client "$flags" "${SWAKS[@]}"
      finish client; signal mid TERM python3; finish worker; exim_stop ;;
    down)
      start cli client "$flags" "${SWAKS[@]}"
      finish client ;;
    relay-down)
      exim_start "$flags"
      start cli client "$flags" "${SWAKS[@]}"
      finish client; exim_stop ;;
    relay-dropped)
      fw srv -A FORWARD -o eth1 -p tcp --dport 2525 -j DROP
      fw srv -A OUTPUT -o eth1 -p tcp --dport 2525 -j DROP
      start mid worker "$flags" /usr/bin/python3 -I -W ignore "$WORK/smtp_sink.py" $M 2525 600; listening mid 2525
      exim_start "$flags"
      start cli client "$flags" "${SWAKS[@]}"
      # the delivery runs on after swaks's session: let it reach its connect_timeout
      finish client; sleep 5; signal mid TERM python3; finish worker; exim_stop; fw_flush ;;
  esac
  conf
  case $fault in
    healthy) expect "swaks sends a message to Exim, which relays it at once to the SMTP sink on the third host" \
      healthy "" client=healthy server=healthy worker=healthy ;;
    down) expect "Exim is not running: swaks's connect is refused" \
      connect-refused "" client=connect-refused ;;
    relay-down) expect "nothing listens on the third host's SMTP port: Exim's delivery connect is refused and the message stays queued; swaks's session is healthy" \
      connect-refused "" server=connect-refused \
      "client=invisible: Exim accepts the message and swaks's session ends normally" ;;
    relay-dropped) expect "the server's firewall drops Exim's SYNs to the third host: its delivery's Fast Open connect (sendto MSG_FASTOPEN|MSG_DONTWAIT) gives up at Exim's own connect_timeout (4 s) and the message stays queued; swaks's session is healthy" \
      connect-never-completed "connect-refused" server=connect-filtered,connect-never-completed \
      "client=invisible: Exim accepts the message and swaks's session ends normally" \
      "worker=invisible: nothing reaches the sink" ;;
  esac
}

main() {
  prepare "$@"
  gearman_case record healthy; gearman_case k down; gearman_case yy wrong-port; gearman_case r drop; gearman_case y reject
  gearman_case T worker-unreachable; gearman_case n worker-killed; gearman_case ff killed; gearman_case ttt loss
  samba_case f healthy; samba_case Xv down; samba_case tt drop; samba_case i killed; samba_case unix reset
  prosody_case i healthy; prosody_case net down; prosody_case s0 wrong-port; prosody_case unix stall; prosody_case xx killed
  openvpn_case seccomp healthy; openvpn_case tt drop; openvpn_case T loss
  exim_case yy healthy; exim_case n down; exim_case f relay-down; exim_case record relay-dropped
  log "done"
}

main "$@"
