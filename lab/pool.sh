#!/usr/bin/env bash
# The pool lab (as root): real Debian middle daemons between a client and a back end, each as
# normally configured. PgBouncer (session pooling) in front of PostgreSQL 15 (a cluster made by
# initdb under /tmp, trust authentication for the lab subnet), clients psql and pgbench (a
# one-statement script, no initialisation); dnsdist load-balancing DNS over UDP and TCP to unbound
# serving a local zone (every other name refused: nothing leaves the lab), clients dig, drill and
# kdig; syslog-ng relaying what it receives over TCP and UDP to a second syslog-ng on the back
# end, client `logger -n HOST -P PORT --tcp/--udp`; nghttpd (HTTP/2 without TLS) on the back end
# reached through the router, clients nghttp, h2load and curl --http2-prior-knowledge.
# Healthy, and with real faults: the back end down (refused), firewall DROP and REJECT
# (icmp-host-unreachable) on either link, the back end killed (SIGKILL) while it holds a
# request, random loss (iptables statistic, 30%), PgBouncer's max_client_conn reached. Each
# scenario under another strace flag set.
# Writes tests/fixtures/pool/<scenario>--<flags>/ (traces zstd-compressed, a -ff set plain;
# netcheck.conf; expected.json with the one-sided views), checked by tests/pool_programs.rs.
#
# Usage: lab/pool.sh [GLOB]   (only the scenarios whose name matches GLOB)
#        lab/pool.sh --expectations [GLOB]   (rewrite their expected.json only)
#
# Topology (namespaces pl-cli, pl-mid, pl-srv; nothing in the default namespace):
#   cli 10.102.1.2 --- mid 10.102.1.1 | mid 10.102.2.1 --- srv 10.102.2.2
# Hosts: `client` (pl-cli), `middle` (pl-mid: PgBouncer on 6432, dnsdist on 53, the syslog-ng
# relay on 5514, and the router between the two links), `backend` (pl-srv: PostgreSQL on 5432,
# unbound on 53, syslog-ng on 5514, nghttpd on 8080). Faults are iptables rules in one namespace,
# set for one scenario and undone after it. The client's and the middle's namespaces give up a
# connect after two SYNs (tcp_syn_retries=1, about 3 s). PostgreSQL and PgBouncer run as the
# postgres user (setpriv, under strace).
#
# Flag sets: lab/scenario.sh's (record f ff r tt ttt T y yy n k i Xv unix seccomp net enet vnone
# xx s0, all with -s 256 but s0).
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
LAB_NAME=pool NS_PREFIX=pl NAMESPACES="cli mid srv"
# shellcheck source=lab/scenario.sh
. "$LAB/scenario.sh"
GLOB=${1:-*}
M=10.102.1.1 C=10.102.1.2 M2=10.102.2.1 B=10.102.2.2
TIMEOUT=30
PGBIN=/usr/lib/postgresql/15/bin
AS_PG=(setpriv --reuid postgres --regid postgres --clear-groups)
RECORDING_STEPS="in_ns ip pg_conf kill_session_backend h2_conf"
declare -A ADDRS=([client]=$C [middle]="$M $M2" [backend]=$B)

build() {
  teardown
  make_namespaces
  three_hosts cli mid srv "$C" "$M" "$M2" "$B"
  ip -n pl-cli route add 10.102.2.0/24 via $M
  ip -n pl-srv route add 10.102.1.0/24 via $M2
  in_ns mid sysctl -qw net.ipv4.ip_forward=1
  in_ns cli sysctl -qw net.ipv4.tcp_syn_retries=1
  in_ns mid sysctl -qw net.ipv4.tcp_syn_retries=1
  rm -rf "$WORK"
  mkdir -p "$WORK/www" "$WORK/syslog"
  chmod 755 "$WORK"
  head -c 100000 /dev/zero | tr '\0' 'x' >"$WORK/www/big"
  echo "hello from the pool lab" >"$WORK/www/index.html"
  # PostgreSQL: a small cluster, trust for the lab subnet, no background vacuum
  mkdir "$WORK/pg" "$WORK/pgsock"; chown postgres: "$WORK/pg" "$WORK/pgsock"
  "${AS_PG[@]}" "$PGBIN/initdb" -D "$WORK/pg" -U postgres --auth=trust >/dev/null
  cat >>"$WORK/pg/postgresql.conf" <<EOF
listen_addresses = '$B'
port = 5432
unix_socket_directories = '$WORK/pgsock'
max_connections = 20
shared_buffers = 16MB
autovacuum = off
fsync = off
logging_collector = off
EOF
  echo "host all all 10.102.0.0/16 trust" >>"$WORK/pg/pg_hba.conf"
  echo "select 1;" >"$WORK/select1.sql"
  echo '"postgres" "x"' >"$WORK/userlist.txt"
  pg_conf 20 5
  # dnsdist: one back end (unbound), health checks ask the local zone, no security polling
  cat >"$WORK/dnsdist.conf" <<EOF
setLocal('$M:53')
setSecurityPollSuffix('')
newServer({address='$B:53', checkName='ns.lab.', checkInterval=1, maxCheckFailures=3})
EOF
  cat >"$WORK/unbound.conf" <<EOF
server:
  interface: $B
  port: 53
  access-control: 10.102.0.0/16 allow
  do-daemonize: no
  use-syslog: no
  username: ""
  chroot: ""
  pidfile: ""
  directory: "$WORK"
  num-threads: 1
  # a few outgoing ports: with all of them unbound draws 70,000 random numbers at start
  outgoing-range: 16
  outgoing-port-avoid: 0-65535
  outgoing-port-permit: 50000-50015
  do-ip6: no
  so-reuseport: no
  local-zone: "." refuse
  local-zone: "lab." static
  local-data: "lab. 60 IN SOA ns.lab. admin.lab. 1 3600 600 86400 60"
  local-data: "ns.lab. 60 IN A $B"
  local-data: "www.lab. 60 IN A 10.102.2.10"
  local-data: "mail.lab. 60 IN A 10.102.2.11"
remote-control:
  control-enable: no
EOF
  cat >"$WORK/relay.conf" <<EOF
@version: 3.38
options { keep-hostname(yes); stats-freq(0); time-reopen(1); };
source s_net { network(ip($M) port(5514) transport(tcp)); network(ip($M) port(5514) transport(udp)); };
destination d_back { network("$B" port(5514) transport(tcp)); };
log { source(s_net); destination(d_back); };
EOF
  cat >"$WORK/sink.conf" <<EOF
@version: 3.38
options { keep-hostname(yes); stats-freq(0); };
source s_net { network(ip($B) port(5514) transport(tcp)); };
destination d_file { file("$WORK/syslog/received.log"); };
log { source(s_net); destination(d_file); };
EOF
}

# pg_conf MAX_CLIENT_CONN POOL_SIZE: pgbouncer.ini, session pooling, short timeouts
pg_conf() {
  cat >"$WORK/pgbouncer.ini" <<EOF
[databases]
lab = host=$B port=5432 dbname=postgres user=postgres
[pgbouncer]
listen_addr = $M
listen_port = 6432
unix_socket_dir =
auth_type = trust
auth_file = $WORK/userlist.txt
pool_mode = session
max_client_conn = $1
default_pool_size = $2
server_connect_timeout = 2
server_login_retry = 1
query_wait_timeout = 4
EOF
  chmod 644 "$WORK/pgbouncer.ini"
}

# netcheck.conf naming every host, traced or not (the HTTP/2 scenarios have two)
conf() { write_conf client middle backend; }
h2_conf() { write_conf client backend; }

# ---- the programs ----------------------------------------------------------------------------

postgres() { # FLAGS
  start srv backend "$1" "${AS_PG[@]}" "$PGBIN/postgres" -D "$WORK/pg"
  listening srv 5432
}
stop_postgres() { signal srv INT postgres; finish backend; }
pgbouncer() { # FLAGS
  start mid middle "$1" "${AS_PG[@]}" /usr/sbin/pgbouncer "$WORK/pgbouncer.ini"
  listening mid 6432
}
stop_pgbouncer() { signal mid INT pgbouncer; finish middle; }
psql_client() { # FLAGS SQL
  start cli client "$1" env PGCONNECT_TIMEOUT=3 psql -X -h $M -p 6432 -U postgres -d lab -c "$2"
}
pgbench_client() { # FLAGS CLIENTS TRANSACTIONS
  start cli client "$1" env PGCONNECT_TIMEOUT=3 pgbench -n -h $M -p 6432 -U postgres -c "$2" -t "$3" \
    -f "$WORK/select1.sql" lab
}

unbound() { start srv backend "$1" /usr/sbin/unbound -d -c "$WORK/unbound.conf"; bound srv 53; sleep 0.5; }
stop_unbound() { signal srv TERM unbound; finish backend; }
dnsdist() { # FLAGS
  start mid middle "$1" /usr/bin/dnsdist --supervised --disable-syslog -C "$WORK/dnsdist.conf"
  bound mid 53
  sleep 1.5 # the first health checks: the back end up (or down)
}
stop_dnsdist() { signal mid TERM dnsdist; finish middle; }
dns_client() { # FLAGS PROGRAM NAME...
  local flags=$1 program=$2 q=""
  shift 2
  case $program in
    dig) start cli client "$flags" dig +tries=1 +time=2 +short @$M "$@" ;;
    kdig-tcp) start cli client "$flags" kdig +tcp +retry=0 +time=2 +short @$M "$@" ;;
    drill) for n in "$@"; do q="$q drill -Q @$M $n;"; done
      start cli client "$flags" sh -c "$q" ;;
  esac
}

sink() { # FLAGS
  rm -f "$WORK/syslog/received.log"
  start srv backend "$1" /usr/sbin/syslog-ng -F --no-caps -f "$WORK/sink.conf" -R "$WORK/sink.persist" \
    -p "$WORK/sink.pid" -c "$WORK/sink.ctl"
  listening srv 5514
}
stop_sink() { signal srv TERM syslog-ng; finish backend; }
relay() { # FLAGS
  start mid middle "$1" /usr/sbin/syslog-ng -F --no-caps -f "$WORK/relay.conf" -R "$WORK/relay.persist" \
    -p "$WORK/relay.pid" -c "$WORK/relay.ctl"
  listening mid 5514
}
stop_relay() { signal mid TERM syslog-ng; finish middle; }
logger_client() { # FLAGS tcp|udp: three messages, one logger each
  start cli client "$1" sh -c "for i in 1 2 3; do logger -n $M -P 5514 --$2 -t lab \"message \$i\"; done"
}

nghttpd() { start srv backend "$1" /usr/sbin/nghttpd --no-tls -d "$WORK/www" 8080; listening srv 8080; }
stop_nghttpd() { signal srv TERM nghttpd; finish backend; }
h2_client() { # FLAGS PROGRAM
  local u=http://$B:8080
  case $2 in
    nghttp) start cli client "$1" nghttp -n -t 5 $u/index.html $u/big ;;
    h2load) start cli client "$1" h2load -n 20 -c 2 -m 2 -T 5 $u/index.html ;;
    curl) start cli client "$1" sh -c "curl -sS --connect-timeout 3 -m 10 --http2-prior-knowledge -o /dev/null $u/index.html $u/big" ;;
  esac
}

# ---- PgBouncer -------------------------------------------------------------------------------

pgb_healthy() { # FLAGS CLIENT
  want "pgb-healthy-$2--$1" || return 0
  begin "pgb-healthy-$2--$1"
  postgres "$1"; pgbouncer "$1"
  case $2 in
    psql) psql_client "$1" "select count(*) from pg_class" ;;
    pgbench) pgbench_client "$1" 2 5 ;;
  esac
  finish client; stop_pgbouncer; stop_postgres; conf
  expect "$2 queries PostgreSQL through PgBouncer (session pooling) on the middle host" \
    healthy "" client=healthy middle=healthy backend=healthy
}

# kill_session_backend: SIGKILL to the PostgreSQL process serving the session that runs
# pg_sleep (its title names the command); the postmaster survives and restarts the others
kill_session_backend() {
  local p
  for p in $(ip netns pids pl-srv); do
    if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "SELECT"; then kill -KILL "$p"; fi
  done
}

pgb_backend() { # FLAGS CLIENT FAULT: down, drop, reject, killed (the session's back end), crashed (every PostgreSQL process)
  want "pgb-backend-$3-$2--$1" || return 0
  begin "pgb-backend-$3-$2--$1"
  local sql="select 1"
  case $3 in
    drop) fw srv -A INPUT -p tcp --dport 5432 -j DROP ;;
    reject) fw srv -A INPUT -p tcp --dport 5432 -j REJECT --reject-with icmp-host-unreachable ;;
    killed|crashed) sql="select pg_sleep(5)" ;;
  esac
  [ "$3" != down ] && postgres "$1"
  pgbouncer "$1"
  case $2 in
    psql) psql_client "$1" "$sql" ;;
    pgbench) pgbench_client "$1" 1 2 ;;
  esac
  case $3 in
    killed) sleep 1.5; kill_session_backend ;;
    crashed) sleep 1.5; signal srv KILL postgres ;;
  esac
  finish client; stop_pgbouncer
  case $3 in down) ;; crashed) finish backend ;; *) stop_postgres ;; esac
  fw_flush; conf
  case $3 in
    down) expect "PostgreSQL is not running: PgBouncer's connects to it are refused and it answers $2 with an error" \
      connect-refused "" middle=connect-refused \
      "client=invisible: the client gets PgBouncer's error message on a healthy connection" ;;
    drop) expect "the back end's firewall drops PgBouncer's SYNs: its 2 s server_connect_timeout ends each nonblocking connect; $2 gets an error after query_wait_timeout" \
      connect-never-completed "connect-refused" middle=connect-filtered,connect-never-completed \
      "client=invisible: the client gets PgBouncer's error message on a healthy connection" \
      "backend=invisible: PostgreSQL never sees a connection" ;;
    reject) expect "the back end's firewall answers PgBouncer's SYNs with ICMP host unreachable: its connects fail with EHOSTUNREACH; $2 gets an error" \
      connect-filtered "connect-refused" middle=connect-filtered \
      "client=invisible: the client gets PgBouncer's error message on a healthy connection" \
      "backend=invisible: PostgreSQL never sees a connection" ;;
    killed) expect "the PostgreSQL process serving PgBouncer's session is killed (SIGKILL) while it runs $2's pg_sleep(5): PgBouncer's server connection closes without an answer and it sends $2 an error" \
      no-reply "" middle=no-reply \
      "client=invisible: the client gets PgBouncer's error message and a close" \
      "backend=invisible: the back end's process ends at its death" ;;
    crashed) expect "every PostgreSQL process is sent SIGKILL while one runs $2's pg_sleep(5): the postmaster dies, and the session's back end, seeing it gone, exits with status 1 without answering; PgBouncer's server connection closes and it sends $2 an error" \
      no-reply "" middle=no-reply \
      "client=invisible: the client gets PgBouncer's error message and a close" \
      "backend=invisible: the back end's processes end at their deaths" ;;
  esac
}

pgb_front() { # FLAGS CLIENT FAULT: down, drop, reject
  want "pgb-$3-$2--$1" || return 0
  begin "pgb-$3-$2--$1"
  case $3 in
    drop) fw mid -A INPUT -i eth0 -p tcp --dport 6432 -j DROP ;;
    reject) fw mid -A INPUT -i eth0 -p tcp --dport 6432 -j REJECT --reject-with icmp-host-unreachable ;;
  esac
  if [ "$3" != down ]; then postgres "$1"; pgbouncer "$1"; fi
  psql_client "$1" "select 1"
  finish client
  [ "$3" != down ] && { stop_pgbouncer; stop_postgres; }
  fw_flush; conf
  case $3 in
    down) expect "PgBouncer is not running: psql's connect to its port is refused" connect-refused "" \
      client=connect-refused ;;
    drop) expect "the middle host's firewall drops the SYNs to PgBouncer's port: psql's 3 s PGCONNECT_TIMEOUT ends its nonblocking connect" \
      connect-never-completed "connect-refused" client=connect-filtered,connect-never-completed \
      "middle=invisible: PgBouncer never sees a connection" backend=healthy ;;
    reject) expect "the middle host's firewall answers the SYNs to PgBouncer's port with ICMP host unreachable: psql's connect fails with EHOSTUNREACH" \
      connect-filtered "connect-refused" client=connect-filtered \
      "middle=invisible: PgBouncer never sees a connection" backend=healthy ;;
  esac
}

pgb_pool_limit() { # FLAGS MAX_CLIENT_CONN CLIENTS
  want "pgb-pool-limit$2-pgbench--$1" || return 0
  begin "pgb-pool-limit$2-pgbench--$1"
  pg_conf "$2" 1
  postgres "$1"; pgbouncer "$1"
  pgbench_client "$1" "$3" 3
  finish client; stop_pgbouncer; stop_postgres; pg_conf 20 5; conf
  expect "PgBouncer's max_client_conn is $2, default_pool_size 1: of pgbench's $3 clients the first $2 log in, the next is answered the SSL refusal, its startup packet read, and turned away with FATAL \"no more connections allowed\" and a close; pgbench gives up" \
    admission-limit "connect-refused" middle=admission-limit backend=healthy \
    "client=invisible: the client reads PgBouncer's error message, a short answer to its startup packet"
}

# pgb_pool_psql FLAGS: max_client_conn 2; two psql sessions hold it (pg_sleep(2)) while a third
# logs in
pgb_pool_psql() {
  want "pgb-pool-limit2-psql--$1" || return 0
  begin "pgb-pool-limit2-psql--$1"
  pg_conf 2 2
  postgres "$1"; pgbouncer "$1"
  local p="env PGCONNECT_TIMEOUT=3 psql -X -q -h $M -p 6432 -U postgres -d lab -c"
  start cli client "$1" sh -c "$p 'select pg_sleep(2)' & $p 'select pg_sleep(2)' & sleep 0.5; $p 'select 1'; wait"
  finish client; stop_pgbouncer; stop_postgres; pg_conf 20 5; conf
  expect "PgBouncer's max_client_conn is 2: two psql sessions hold it with pg_sleep(2); a third psql is answered the SSL refusal, its startup packet read, and turned away with FATAL \"no more connections allowed\" and a close" \
    admission-limit "connect-refused" middle=admission-limit backend=healthy \
    "client=invisible: the client reads PgBouncer's error message, a short answer to its startup packet"
}

pgb_loss() { # FLAGS
  want "pgb-loss-pgbench--$1" || return 0
  begin "pgb-loss-pgbench--$1"
  fw mid -A INPUT -i eth0 -p tcp --dport 6432 -m statistic --mode random --probability 0.3 -j DROP
  postgres "$1"; pgbouncer "$1"
  pgbench_client "$1" 2 20
  finish client; stop_pgbouncer; stop_postgres; fw_flush; conf
  expect "30% of the packets from the client to PgBouncer are dropped at random: pgbench's queries wait on retransmissions" \
    network-stall "connect-refused data-mismatch" client=network-stall \
    "middle=invisible: PgBouncer receives the queries late; its back-end link is healthy" backend=healthy
}

# ---- dnsdist ---------------------------------------------------------------------------------

dns_healthy() { # FLAGS CLIENT
  want "dnsdist-healthy-$2--$1" || return 0
  begin "dnsdist-healthy-$2--$1"
  unbound "$1"; dnsdist "$1"
  dns_client "$1" "$2" www.lab mail.lab ns.lab
  finish client; stop_dnsdist; stop_unbound; conf
  expect "$2 asks three names of the local zone through dnsdist; unbound answers behind it (and dnsdist's health checks every second)" \
    healthy "" client=healthy middle=healthy backend=healthy
}

dns_backend() { # FLAGS CLIENT FAULT: down, drop
  want "dnsdist-backend-$3-$2--$1" || return 0
  begin "dnsdist-backend-$3-$2--$1"
  case $3 in
    drop) fw srv -A INPUT -p udp --dport 53 -j DROP ;;
  esac
  [ "$3" != down ] && unbound "$1"
  dnsdist "$1"
  dns_client "$1" "$2" www.lab
  finish client; stop_dnsdist
  [ "$3" != down ] && stop_unbound
  fw_flush; conf
  case $3 in
    down) expect "unbound is not running: dnsdist's health checks and the query it passes on, each from a connected UDP socket, meet ICMP port unreachable, which Linux reports on the next receive as ECONNREFUSED; $2 gets no answer" \
      connect-refused "" middle=connect-refused client=no-reply ;;
    drop) expect "the back end's firewall drops the datagrams to unbound: dnsdist's health checks and the query it passes on go unanswered; $2 gets no answer" \
      udp-all-lost "" middle=udp-all-lost,no-reply client=no-reply \
      "backend=invisible: unbound never receives a query" ;;
  esac
}

dns_front() { # FLAGS CLIENT FAULT: drop, reject, loss
  want "dnsdist-$3-$2--$1" || return 0
  begin "dnsdist-$3-$2--$1"
  local p=udp; [ "$2" = kdig-tcp ] && p=tcp
  case $3 in
    drop) fw mid -A INPUT -i eth0 -p $p --dport 53 -j DROP ;;
    reject) fw mid -A INPUT -i eth0 -p $p --dport 53 -j REJECT --reject-with icmp-host-unreachable ;;
    loss) fw mid -A INPUT -i eth0 -p $p --dport 53 -m statistic --mode random --probability 0.3 -j DROP ;;
  esac
  unbound "$1"; dnsdist "$1"
  case $3 in
    loss) dns_client "$1" "$2" www.lab mail.lab ns.lab www.lab mail.lab ns.lab www.lab mail.lab ;;
    *) dns_client "$1" "$2" www.lab ;;
  esac
  finish client; stop_dnsdist; stop_unbound; fw_flush; conf
  case $3 in
    drop) expect "the middle host's firewall drops the queries to dnsdist: $2 waits 2 s for an answer that never comes" \
      udp-all-lost "" client=udp-all-lost "middle=invisible: dnsdist never receives a query" \
      backend=healthy ;;
    reject) expect "the middle host's firewall answers $2's SYN to dnsdist's TCP port with ICMP host unreachable: the connect fails with EHOSTUNREACH" \
      connect-filtered "connect-refused" client=connect-filtered \
      "middle=invisible: dnsdist never sees a connection" backend=healthy ;;
    loss) expect "30% of the queries to dnsdist are dropped at random: $2 asks each name from a fresh socket, and in this run one query of eight was lost (its socket's only datagram) and $2 timed out on it" \
      udp-all-lost "" client=udp-loss,udp-all-lost,no-reply "middle=invisible: dnsdist answers what it receives" \
      backend=healthy ;;
  esac
}

# ---- syslog-ng -------------------------------------------------------------------------------

syslog_healthy() { # FLAGS tcp|udp
  want "syslog-healthy-$2--$1" || return 0
  begin "syslog-healthy-$2--$1"
  sink "$1"; relay "$1"
  logger_client "$1" "$2"
  finish client; sleep 1; stop_relay; stop_sink; conf
  expect "logger sends three messages over $2 to the syslog-ng relay, which passes them over TCP to the syslog-ng on the back end" \
    healthy "" client=healthy middle=healthy backend=healthy
}

syslog_fault() { # FLAGS tcp|udp FAULT: backend-down, down, reject
  want "syslog-$3-$2--$1" || return 0
  begin "syslog-$3-$2--$1"
  case $3 in
    reject) fw mid -A INPUT -i eth0 -p tcp --dport 5514 -j REJECT --reject-with icmp-host-unreachable ;;
  esac
  [ "$3" = reject ] && sink "$1"
  [ "$3" != down ] && relay "$1"
  logger_client "$1" "$2"
  finish client
  [ "$3" != down ] && { sleep 2.5; stop_relay; }
  [ "$3" = reject ] && stop_sink
  fw_flush; conf
  case $3 in
    backend-down) expect "no syslog-ng runs on the back end: the relay's connects to it are refused, retried every second (time-reopen)" \
      connect-refused "" middle=connect-refused \
      "client=invisible: logger's messages are accepted by the relay" ;;
    down) expect "no relay runs: each logger's connect is refused" connect-refused "" client=connect-refused ;;
    reject) expect "the middle host's firewall answers the SYNs to the relay's port with ICMP host unreachable: each logger's connect fails with EHOSTUNREACH" \
      connect-filtered "connect-refused" client=connect-filtered \
      "middle=invisible: the relay never sees a connection" ;;
  esac
}

# ---- nghttpd (HTTP/2, two hosts) -------------------------------------------------------------

h2_healthy() { # FLAGS CLIENT
  want "h2-healthy-$2--$1" || return 0
  begin "h2-healthy-$2--$1"
  nghttpd "$1"
  h2_client "$1" "$2"
  finish client; stop_nghttpd; h2_conf
  expect "$2 asks nghttpd (HTTP/2 without TLS) on the back end, routed by the middle host" \
    healthy "" client=healthy backend=healthy
}

h2_fault() { # FLAGS CLIENT FAULT: down, drop, loss
  want "h2-$3-$2--$1" || return 0
  begin "h2-$3-$2--$1"
  case $3 in
    drop) fw srv -A INPUT -p tcp --dport 8080 -j DROP ;;
    loss) fw srv -A INPUT -p tcp --dport 8080 -m statistic --mode random --probability 0.3 -j DROP ;;
  esac
  [ "$3" != down ] && nghttpd "$1"
  h2_client "$1" "$2"
  finish client
  [ "$3" != down ] && stop_nghttpd
  fw_flush; h2_conf
  case $3 in
    down) expect "no nghttpd runs: $2's connect is refused" connect-refused "" client=connect-refused ;;
    drop) expect "the back end's firewall drops the SYNs to nghttpd: curl's own 3 s --connect-timeout ends its nonblocking connect before the kernel gives up" \
      connect-never-completed "connect-refused" client=connect-filtered,connect-never-completed \
      "backend=invisible: nghttpd never sees a connection" ;;
    loss) expect "30% of the packets from the client to nghttpd are dropped at random: $2's connects and requests stall on retransmissions" \
      network-stall "connect-refused data-mismatch" client=network-stall,connect-filtered \
      "backend=invisible: nghttpd receives the requests late" ;;
  esac
}

main() {
  prepare "$@"
  pgb_healthy record psql; pgb_healthy f pgbench
  pgb_backend ff psql down; pgb_backend net psql drop; pgb_backend tt pgbench reject
  pgb_backend T psql crashed; pgb_backend r psql killed
  pgb_front yy psql down; pgb_front y psql drop; pgb_front xx psql reject
  pgb_pool_limit i 1 3; pgb_pool_psql Xv; pgb_loss ttt
  dns_healthy Xv dig; dns_healthy unix kdig-tcp; dns_healthy seccomp drill
  dns_backend n drill down; dns_backend k dig drop
  dns_front vnone dig drop; dns_front enet kdig-tcp reject; dns_front ttt dig loss
  syslog_healthy s0 tcp; syslog_healthy r udp
  syslog_fault record tcp backend-down; syslog_fault f tcp down; syslog_fault k tcp reject
  h2_healthy tt nghttp; h2_healthy T h2load; h2_healthy unix curl
  h2_fault n curl down; h2_fault y curl drop; h2_fault yy h2load loss
  log "done"
}

main "$@"
