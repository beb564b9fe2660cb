#!/usr/bin/env bash
# The TCP daemon lab (as root): real Debian daemons and clients netcheck's other corpora do not
# hold, healthy and with real faults, each scenario under another strace flag set. Writes
# tests/fixtures/tcpd/<fault>--<flags>/ (traces zstd-compressed, a -ff set plain; netcheck.conf;
# expected.json with the one-sided views), checked by tests/tcpd_programs.rs.
#
# Programs: beanstalkd (work queue), git daemon (git:// with git clone), ngIRCd (IRC), Dante's
# danted (SOCKS5, with curl --socks5-hostname), nats-server, prometheus-node-exporter (scraped by
# wget2 and curl); the raw-protocol clients of beanstalkd, ngIRCd and NATS are
# lab/programs/tcpd_client.py; Dante's back end is lab/programs/proxy_backend.py.
#
# Faults: server down (refused), a wrong port, a wrong address (no host answers ARP), SYNs dropped
# by the server's firewall, data dropped mid-session, a reset (REJECT --reject-with tcp-reset) of
# the client's first data, the daemon killed (SIGKILL) while it holds a request, 30% random loss
# (-m statistic), the daemon's connection limit (git daemon --max-connections, ngIRCd
# MaxConnections), the SOCKS server's back end down or resetting.
#
# Usage: lab/tcpd.sh [GLOB]   (only the scenarios whose name matches GLOB)
#        lab/tcpd.sh --expectations [GLOB]   (rewrite their expected.json only)
#
# Topology (namespaces td-cli, td-srv, td-mid; nothing in the default namespace):
#   cli 10.97.1.2 --- srv 10.97.1.1 | srv 10.97.2.1 --- mid 10.97.2.2
# Host `client` runs the client, host `server` the daemon, host `backend` Dante's HTTP back end
# (port 9000) and the untraced clients that hold a daemon's only slot. The client's namespace gives up a connect after two SYNs (tcp_syn_retries=1,
# about 3 s).
#
# Flag sets (all with -s 256 unless named otherwise; every one but `record` is strace's own):
#   record  netcheck record (-f -ttt -T -yy)     f     -f
#   ff      -ff -tt -o (one file per process)     r     -f -r
#   tt      -f -tt                                k     -f -tt -k (a stack after each call)
#   i       -f -tt -i                             X     -f -tt -X verbose
#   seccomp --seccomp-bpf -f -tt -e trace=%network,%desc,%process (a filter is what it needs)
#   enet    -f -tt -e trace=%network,read,write,close
#   xx      -f -tt -xx                            s0    -f -tt -s 0
#   T       -f -tt -T                             y     -f -tt -y
#   yy      -f -tt -yy                            n     -f -tt -n (syscall numbers)
#   ttt     -f -ttt                               unixus -f --timestamps=unix,us
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
LAB_NAME=tcpd NS_PREFIX=td NAMESPACES="cli srv mid"
# shellcheck source=lab/scenario.sh
. "$LAB/scenario.sh"
GLOB=${1:-*}
S=10.97.1.1 C=10.97.1.2 S2=10.97.2.1 M=10.97.2.2 NOWHERE=10.97.1.9
TIMEOUT=40
CLIENT=(/usr/bin/python3 -I "$WORK/tcpd_client.py")
RECORDING_STEPS="in_ns wait"
declare -A ADDRS=([client]=$C [server]="$S $S2" [backend]=$M)

build() {
  teardown
  make_namespaces
  three_hosts cli srv mid "$C" "$S" "$S2" "$M"
  ip -n td-cli route add 10.97.2.0/24 via $S
  ip -n td-mid route add 10.97.1.0/24 via $S2
  local n
  for n in cli srv mid; do in_ns $n ethtool -K eth0 tso off gso off gro off >/dev/null 2>&1 || true; done
  in_ns srv ethtool -K eth1 tso off gso off gro off >/dev/null 2>&1 || true
  in_ns cli sysctl -qw net.ipv4.tcp_syn_retries=1
  in_ns srv sysctl -qw net.ipv4.tcp_syn_retries=1
  mkdir -p "$WORK"
  cp "$LAB/programs/tcpd_client.py" "$LAB/programs/proxy_backend.py" "$WORK/"
  # a small repository for git daemon
  rm -rf "$WORK/git" && mkdir -p "$WORK/git"
  git init -q --bare "$WORK/git/lab.git"
  rm -rf "$WORK/src" && git init -q "$WORK/src"
  printf 'hello from the lab\n' >"$WORK/src/README"
  seq 1 2000 >"$WORK/src/numbers"
  git -C "$WORK/src" add README numbers
  git -C "$WORK/src" -c user.name=lab -c user.email=lab@example.invalid commit -q -m "lab repository"
  git -C "$WORK/src" push -q "$WORK/git/lab.git" HEAD:refs/heads/main
  git -C "$WORK/git/lab.git" symbolic-ref HEAD refs/heads/main
  cat >"$WORK/ngircd.conf" <<CONF
[Global]
  Name = irc.lab.example
  Info = lab server
  Listen = $S
  Ports = 6667
  PidFile = $WORK/ngircd.pid
  MotdPhrase = lab
[Limits]
  MaxConnections = 8
  PingTimeout = 30
[Options]
  DNS = no
  Ident = no
  PAM = no
CONF
  sed 's/MaxConnections = 8/MaxConnections = 1/' "$WORK/ngircd.conf" >"$WORK/ngircd-one.conf"
  cat >"$WORK/danted.conf" <<CONF
logoutput: stderr
internal: $S port = 1080
external: $S2
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 10.97.0.0/16 to: 0.0.0.0/0 }
socks pass { from: 10.97.0.0/16 to: 0.0.0.0/0 }
CONF
}


# conf: netcheck.conf naming every host, traced or not
conf() { write_conf client server backend; }

# ---- beanstalkd -----------------------------------------------------------------------------

beanstalkd_start() { start srv server "$1" beanstalkd -l $S -p 11300; listening srv 11300; }
beanstalkd_stop() { signal srv TERM beanstalkd; finish server; }

beanstalkd_healthy() { # FLAGS
  want "beanstalkd-healthy--$1" || return 0
  begin "beanstalkd-healthy--$1"
  beanstalkd_start "$1"
  start cli client "$1" "${CLIENT[@]}" beanstalk $S 11300
  finish client; beanstalkd_stop; conf
  expect "a Python client puts a job into beanstalkd, reserves it, deletes it and quits" \
    healthy "" client=healthy server=healthy
}

beanstalkd_down() { # FLAGS
  want "beanstalkd-down--$1" || return 0
  begin "beanstalkd-down--$1"
  start cli client "$1" "${CLIENT[@]}" beanstalk $S 11300
  finish client; conf
  expect "beanstalkd is not running: the client's connect is refused" \
    connect-refused "" client=connect-refused
}

beanstalkd_killed() { # FLAGS
  want "beanstalkd-killed--$1" || return 0
  begin "beanstalkd-killed--$1"
  beanstalkd_start "$1"
  start cli client "$1" "${CLIENT[@]}" beanstalk $S 11300 wait
  sleep 1.5
  signal srv KILL beanstalkd
  finish client; finish server; conf
  expect "beanstalkd is killed (SIGKILL) while the client waits in reserve-with-timeout 10: the client reads end of stream instead of an answer" \
    no-reply "" client=no-reply "server=invisible: the server's trace ends at its death"
}

beanstalkd_nowhere() { # FLAGS
  want "beanstalkd-wrong-address--$1" || return 0
  begin "beanstalkd-wrong-address--$1"
  beanstalkd_start "$1"
  start cli client "$1" "${CLIENT[@]}" beanstalk $NOWHERE 11300
  finish client; beanstalkd_stop; conf
  expect "the client is given an address on the server's subnet that no host holds: no answer to ARP, the connect fails with EHOSTUNREACH" \
    connect-filtered "connect-refused" client=connect-filtered server=healthy
}

# ---- git daemon -----------------------------------------------------------------------------

GITD=(git daemon --export-all --base-path=$WORK/git --listen=$S --port=9418 --reuseaddr)
CLONE() { rm -rf "$WORK/clone"; start cli client "$1" git clone -q "git://$S/lab.git" "$WORK/clone"; }

git_healthy() { # FLAGS
  want "git-healthy--$1" || return 0
  begin "git-healthy--$1"
  start srv server "$1" "${GITD[@]}"; listening srv 9418
  CLONE "$1"
  finish client; sleep 0.5; signal srv TERM git; finish server; conf
  expect "git clone of a small repository over git:// from git daemon (a child per connection runs upload-pack)" \
    healthy "" client=healthy server=healthy
}

git_drop() { # FLAGS
  want "git-drop--$1" || return 0
  begin "git-drop--$1"
  fw srv -A INPUT -p tcp --dport 9418 -j DROP
  start srv server "$1" "${GITD[@]}"; listening srv 9418
  CLONE "$1"
  finish client; signal srv TERM git; finish server; fw_flush; conf
  expect "the server's firewall drops every SYN to git daemon: git clone's connect times out (two SYNs, about 3 s)" \
    connect-filtered "connect-refused" client=connect-filtered \
    "server=invisible: nothing reaches the daemon"
}

git_limit() { # FLAGS
  want "git-limit--$1" || return 0
  begin "git-limit--$1"
  start srv server "$1" "${GITD[@]}" --max-connections=1 --timeout=4; listening srv 9418
  # an idle connection from the back-end host holds the one slot (another client, not traced)
  in_ns mid timeout 6 nc -d $S 9418 &
  local idle=$!
  sleep 0.5
  CLONE "$1"
  finish client; wait $idle || true; sleep 0.3; signal srv TERM git; finish server; conf
  expect "git daemon --max-connections=1 while an idle connection (nc from the back-end host, untraced) holds the slot: the daemon accepts git clone's connection and closes it with the request unread (a reset)" \
    admission-limit "connect-refused" client=admission-limit,connection-reset,no-reply server=admission-limit
}

# ---- ngIRCd ---------------------------------------------------------------------------------

ngircd_start() { start srv server "$1" ngircd -n -f "$2"; listening srv 6667; }
ngircd_stop() { signal srv TERM ngircd; finish server; }

ngircd_healthy() { # FLAGS
  want "ngircd-healthy--$1" || return 0
  begin "ngircd-healthy--$1"
  ngircd_start "$1" "$WORK/ngircd.conf"
  start cli client "$1" "${CLIENT[@]}" irc $S 6667
  finish client; ngircd_stop; conf
  expect "an IRC client registers with ngIRCd, joins a channel, sends a message, PING/PONG, QUIT" \
    healthy "" client=healthy server=healthy
}

ngircd_limit() { # FLAGS
  want "ngircd-limit--$1" || return 0
  begin "ngircd-limit--$1"
  ngircd_start "$1" "$WORK/ngircd-one.conf"
  in_ns mid "${CLIENT[@]}" irc $S 6667 hold >/dev/null 2>&1 &
  local first=$!
  sleep 0.7
  start cli client "$1" "${CLIENT[@]}" irc $S 6667
  finish client; wait $first || true; ngircd_stop; conf
  expect "ngIRCd with MaxConnections = 1 while another client (from the back-end host, untraced) is registered: it accepts the traced client, answers \"ERROR :Connection limit reached\" and closes" \
    admission-limit "connect-refused" client=admission-limit,connection-reset,no-reply server=admission-limit
}

ngircd_stall() { # FLAGS
  want "ngircd-stall--$1" || return 0
  begin "ngircd-stall--$1"
  ngircd_start "$1" "$WORK/ngircd.conf"
  start cli client "$1" "${CLIENT[@]}" irc $S 6667 slow
  sleep 1.2
  fw srv -A INPUT -p tcp --dport 6667 -j DROP
  finish client; fw_flush; ngircd_stop; conf
  expect "the server's firewall starts dropping everything the client sends after it joined: its message and PING never arrive, the client gives up after 8 s" \
    "" "connect-refused" client=no-reply,network-stall,data-unreceived \
    "server=invisible: nothing reaches the server after the client joined"
}

# ---- Dante (SOCKS5) -------------------------------------------------------------------------

dante() { start srv server "$1" danted -f "$WORK/danted.conf"; listening srv 1080; }
SOCKS=(curl -sS -o /dev/null -w '%{http_code}\n' --max-time 8 --socks5 $S:1080)

dante_healthy() { # FLAGS
  want "dante-healthy--$1" || return 0
  begin "dante-healthy--$1"
  start mid backend "$1" /usr/bin/python3 -I "$WORK/proxy_backend.py" 9000 6; listening mid 9000
  dante "$1"
  start cli client "$1" "${SOCKS[@]}" http://$M:9000/a http://$M:9000/b
  finish client; finish backend; signal srv TERM danted; finish server; conf
  expect "curl asks two URLs through Dante's SOCKS5 server to an HTTP back end" \
    healthy "" client=healthy server=healthy backend=healthy
}

dante_down() { # FLAGS
  want "dante-down--$1" || return 0
  begin "dante-down--$1"
  dante "$1"
  start cli client "$1" "${SOCKS[@]}" http://$M:9000/a
  finish client; signal srv TERM danted; finish server; conf
  expect "nothing listens on the back end: danted's connect is refused and it answers the SOCKS request with a failure" \
    connect-refused "" server=connect-refused \
    "client=invisible: the client gets a SOCKS failure reply, a healthy exchange on its link"
}

dante_reset() { # FLAGS
  want "dante-reset--$1" || return 0
  begin "dante-reset--$1"
  fw mid -A INPUT -p tcp --dport 9000 --tcp-flags PSH PSH -j REJECT --reject-with tcp-reset
  start mid backend "$1" /usr/bin/python3 -I "$WORK/proxy_backend.py" 9000 4; listening mid 9000
  dante "$1"
  start cli client "$1" "${SOCKS[@]}" http://$M:9000/a
  finish client; finish backend; signal srv TERM danted; finish server; fw_flush; conf
  expect "the back end's firewall answers the request Dante relays with a reset after the handshake: danted's relay gets ECONNRESET and closes the client's connection" \
    connection-reset "" server=connection-reset \
    "backend=invisible: the back end accepted a connection that never carried a byte" \
    "client=invisible: the client sees its connection closed without an answer"
}

# ---- NATS -----------------------------------------------------------------------------------

nats() { start srv server "$1" nats-server -a $S -p 4222; listening srv 4222; }

nats_healthy() { # FLAGS
  want "nats-healthy--$1" || return 0
  begin "nats-healthy--$1"
  nats "$1"
  start cli client "$1" "${CLIENT[@]}" nats $S 4222
  finish client; signal srv TERM nats-server; finish server; conf
  expect "a raw-protocol NATS client: INFO, CONNECT, SUB, PUB, the message back, PING/PONG" \
    healthy "" client=healthy server=healthy
}

nats_killed() { # FLAGS
  want "nats-killed--$1" || return 0
  begin "nats-killed--$1"
  nats "$1"
  start cli client "$1" "${CLIENT[@]}" nats $S 4222 wait
  sleep 1.5
  signal srv KILL nats-server
  finish client; finish server; conf
  expect "nats-server is killed (SIGKILL) while the client waits for the reply to its request: the client reads end of stream" \
    no-reply "" client=no-reply "server=invisible: the server's trace ends at its death"
}

nats_reset() { # FLAGS
  want "nats-reset--$1" || return 0
  begin "nats-reset--$1"
  fw srv -A INPUT -p tcp --dport 4222 --tcp-flags PSH PSH -j REJECT --reject-with tcp-reset
  nats "$1"
  start cli client "$1" "${CLIENT[@]}" nats $S 4222
  finish client; sleep 2.5; signal srv TERM nats-server; finish server; fw_flush; conf
  expect "the server's firewall answers the client's first data (CONNECT) with a reset: the client's read fails with ECONNRESET; the server, which sent INFO, never hears from it and closes at its auth timeout" \
    connection-reset "connect-refused" client=connection-reset \
    "server=invisible: the server sent INFO and never heard back, as from a client that stays silent"
}

# ---- prometheus-node-exporter ---------------------------------------------------------------

EXPORTER=(prometheus-node-exporter --web.listen-address=$S:9100 --collector.disable-defaults --collector.loadavg --collector.time)
exporter() { start srv server "$1" "${EXPORTER[@]}"; listening srv 9100; }

exporter_healthy() { # FLAGS
  want "exporter-healthy--$1" || return 0
  begin "exporter-healthy--$1"
  exporter "$1"
  start cli client "$1" wget2 -q -O /dev/null --no-robots --timeout=5 http://$S:9100/metrics http://$S:9100/
  finish client; signal srv TERM prometheus-node; finish server; conf
  expect "wget2 fetches the node exporter's /metrics and its index page" \
    healthy "" client=healthy server=healthy
}

exporter_wrong_port() { # FLAGS
  want "exporter-wrong-port--$1" || return 0
  begin "exporter-wrong-port--$1"
  exporter "$1"
  start cli client "$1" curl -sS -o /dev/null --max-time 5 http://$S:9101/metrics
  finish client; signal srv TERM prometheus-node; finish server; conf
  expect "curl asks port 9101, the node exporter listens on 9100: refused" \
    connect-refused "" client=connect-refused server=healthy
}

exporter_loss() { # FLAGS
  want "exporter-loss--$1" || return 0
  begin "exporter-loss--$1"
  fw srv -A INPUT -i eth0 -p tcp --dport 9100 -m statistic --mode random --probability 0.3 -j DROP
  exporter "$1"
  start cli client "$1" sh -c "for i in 1 2 3 4 5 6; do curl -sS -o /dev/null --max-time 8 http://$S:9100/metrics; done"
  finish client; signal srv TERM prometheus-node; finish server; fw_flush; conf
  expect "six scrapes of the node exporter, 30% of the packets from the client dropped at random: connects and requests stalled by retransmissions" \
    network-stall "connect-refused data-mismatch" client=network-stall \
    "server=invisible: the server receives the requests late and answers at once"
}

main() {
  prepare "$@"
  beanstalkd_healthy record; beanstalkd_down tt; beanstalkd_killed ff; beanstalkd_nowhere y
  git_healthy f; git_drop r; git_limit k
  ngircd_healthy i; ngircd_limit n; ngircd_stall T
  dante_healthy X; dante_down seccomp; dante_reset enet
  nats_healthy xx; nats_killed record; nats_reset unixus
  exporter_healthy s0; exporter_wrong_port yy; exporter_loss ttt
  log "done"
}

main "$@"
