#!/usr/bin/env bash
# The netcheck application lab: real distributed applications from Debian packages (PostgreSQL,
# Redis, Mosquitto, iperf3, rsync, dnsmasq, HAProxy with lighttpd and nginx, memcached, unbound, etcd, chrony, telnet, Node.js and Go HTTP
# services, lighttpd and Apache serving one connection at a time, nginx and Python's http.server
# over a lossy link, vsftpd, tinyproxy, OpenSSH, BIND 9, MariaDB with a replica, OpenLDAP slapd,
# Postfix, Squid, tftpd-hpa, Net-SNMP's snmpd, rsyslog, Dovecot), each configured as it normally is, run on network namespaces joined by one
# bridge, recorded under `netcheck record` or plain `strace -f -tt`, with one real fault injected
# per scenario. Writes the traces, a netcheck.conf and an expected.json per scenario under
# tests/fixtures/apps/NAME/, or tests/fixtures/apps-pending/NAME/ when the fault needs a rule
# netcheck does not have yet.
#
# Usage (as root): lab/apps.sh [--only NAME] [--list]
#   --only NAME  record only that scenario (the topology is always built whole)
#   --list       print the scenario names and exit
#
# Every address used lives inside the namespaces this script creates (10.78.0.0/16, fd78::/64);
# the default namespace gets no interface and no namespace has a route out. Every recorded
# program runs under `timeout`, is stopped by its PID, and everything is torn down on exit.
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$LAB")
FIXTURES=$ROOT/tests/fixtures/apps
PENDING=$ROOT/tests/fixtures/apps-pending
# NETCHECK=/path/to/netcheck uses that binary; by default the project's release build, rebuilt
# when a source is newer (it records, and its rule list fills each expected.json).
NETCHECK_GIVEN=${NETCHECK:-}
NETCHECK=${NETCHECK:-$ROOT/target/release/netcheck}
# Fixed paths and names (the work path appears in recorded execve lines and configs); a second
# copy of the lab may run beside the first with APPS_WORK and APPS_NS_PREFIX set to others.
WORK=${APPS_WORK:-/tmp/netcheck-apps}
LOGS=$WORK/logs
NS_PREFIX=${APPS_NS_PREFIX:-nca-}
NAMESPACES="sw srv srv2 srv3 c1 c2 rt pc"
STRING_LIMIT=256                  # payloads of interest are short; keeps start-up reads short
PROGRAM_TIMEOUT=40                # hard bound on any recorded program

ONLY=""
LIST=0
while [ $# -gt 0 ]; do
  case "$1" in
    --only) ONLY=${2:?--only needs a scenario name}; shift 2 ;;
    --list) LIST=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "apps: unknown argument $1" >&2; exit 2 ;;
  esac
done

log() { printf 'apps: %s\n' "$*" >&2; }
ns() { echo "$NS_PREFIX$1"; }
in_ns() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }

# ---- prerequisites ----------------------------------------------------------------------------

# command:package pairs; what is missing is installed, without starting any service.
TOOLS="iptables:iptables strace:strace curl:curl socat:socat ss:iproute2 setpriv:util-linux
/usr/lib/postgresql/15/bin/postgres:postgresql-15 /usr/lib/postgresql/15/bin/pgbench:postgresql-15
psql:postgresql-client-15 pg_basebackup:postgresql-client-15 haproxy:haproxy lighttpd:lighttpd
nginx:nginx memcached:memcached unbound:unbound dig:bind9-dnsutils drill:ldnsutils chronyd:chrony
etcd:etcd-server etcdctl:etcd-client /usr/sbin/telnetd:inetutils-telnetd
/usr/sbin/inetutils-inetd:inetutils-inetd telnet:inetutils-telnet node:nodejs go:golang-go
apache2:apache2 wget:wget redis-server:redis-server redis-cli:redis-tools
mosquitto:mosquitto mosquitto_pub:mosquitto-clients iperf3:iperf3 rsync:rsync dnsmasq:dnsmasq-base
/usr/sbin/vsftpd:vsftpd tinyproxy:tinyproxy /usr/sbin/sshd:openssh-server ssh:openssh-client
named:bind9 mariadbd:mariadb-server mariadb:mariadb-client /usr/sbin/slapd:slapd
ldapsearch:ldap-utils /usr/lib/postfix/sbin/master:postfix swaks:swaks squid:squid
/usr/sbin/in.tftpd:tftpd-hpa tftp:tftp-hpa snmpd:snmpd snmpget:snmp rsyslogd:rsyslog logger:bsdutils\ndovecot:dovecot-imapd"

need_tools() {
  local missing=() pair cmd pkg created=0
  for pair in $TOOLS; do
    cmd=${pair%%:*} pkg=${pair#*:}
    if [ "${cmd#/}" != "$cmd" ]; then [ -x "$cmd" ] && continue; else command -v "$cmd" >/dev/null && continue; fi
    missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    # Debian starts a service on install unless policy-rc.d forbids it: the lab starts its own.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod +x /usr/sbin/policy-rc.d
      created=1
    fi
    # slapd asks for its suffix and admin password: answered beforehand.
    debconf-set-selections <<'SEL'
slapd slapd/no_configuration boolean false
slapd slapd/domain string lab.test
slapd shared/organization string lab
slapd slapd/password1 password labpass
slapd slapd/password2 password labpass
postfix postfix/main_mailer_type select No configuration
SEL
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null
    if [ "$created" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  fi
  PYTHON=$(python3 -c 'import sys; print(sys.executable)')
  PGBIN=/usr/lib/postgresql/15/bin
  if [ -n "$NETCHECK_GIVEN" ]; then
    if [ ! -x "$NETCHECK" ]; then echo "apps: no netcheck binary at $NETCHECK (set NETCHECK=)" >&2; exit 2; fi
  elif [ ! -x "$NETCHECK" ] || [ -n "$(find "$ROOT/src" -newer "$NETCHECK" -name '*.rs' | head -1)" ]; then
    log "building netcheck"
    (cd "$ROOT" && cargo build --release --quiet)
  fi
}

# ---- topology ---------------------------------------------------------------------------------
#
#   srv  10.78.1.10 fd78::10 --+
#   srv2 10.78.1.11 fd78::11 --+
#   srv3 10.78.1.12 fd78::12 --+-- bridge (sw)
#   c1   10.78.1.21 fd78::21 --+
#   c2   10.78.1.22          --+
#   rt   10.78.1.254         --+   rt eth1 10.78.2.254 -- pc 10.78.2.21 (MASQUERADE on rt eth0)

teardown() {
  local n
  for n in $NAMESPACES; do
    ip netns del "$(ns "$n")" 2>/dev/null || true
    rm -rf "/etc/netns/$(ns "$n")"
  done
  rmdir /etc/netns 2>/dev/null || true
}

# `ip netns exec` bind-mounts /etc/netns/NS/* over /etc: names resolve from the lab's hosts file
# and any DNS query goes to the namespace's own loopback.
name_service() { # NS
  local dir
  dir=/etc/netns/$(ns "$1")
  mkdir -p "$dir"
  printf 'nameserver 127.0.0.1\n' >"$dir/resolv.conf"
  {
    printf '127.0.0.1 localhost\n::1 localhost\n'
    printf '10.78.1.10 srv\n10.78.1.11 srv2\n10.78.1.12 srv3\n10.78.1.21 c1\n10.78.1.22 c2\n'
    printf '10.78.1.254 rt\n10.78.2.21 pc\n'
  } >"$dir/hosts"
  printf 'nca-%s\n' "$1" >"$dir/hostname"
}

lan_attach() { # NAME IPV4 [IPV6]
  local host=$1 ip4=$2 ip6=${3:-}
  ip -n "$(ns sw)" link add "p-$host" type veth peer name eth0 netns "$(ns "$host")"
  ip -n "$(ns sw)" link set "p-$host" master br0 up
  ip -n "$(ns "$host")" addr add "$ip4/24" dev eth0
  if [ -n "$ip6" ]; then ip -n "$(ns "$host")" addr add "$ip6/64" dev eth0 nodad; fi
  ip -n "$(ns "$host")" link set eth0 up
}

build_topology() {
  teardown
  local n
  for n in $NAMESPACES; do
    ip netns add "$(ns "$n")"
    ip -n "$(ns "$n")" link set lo up
    name_service "$n"
  done
  ip -n "$(ns sw)" link add br0 type bridge
  ip -n "$(ns sw)" link set br0 up
  lan_attach srv 10.78.1.10 fd78::10
  lan_attach srv2 10.78.1.11 fd78::11
  lan_attach srv3 10.78.1.12 fd78::12
  lan_attach c1 10.78.1.21 fd78::21
  lan_attach c2 10.78.1.22
  lan_attach rt 10.78.1.254
  ip -n "$(ns rt)" link add eth1 type veth peer name eth0 netns "$(ns pc)"
  ip -n "$(ns rt)" addr add 10.78.2.254/24 dev eth1
  ip -n "$(ns pc)" addr add 10.78.2.21/24 dev eth0
  ip -n "$(ns rt)" link set eth1 up
  ip -n "$(ns pc)" link set eth0 up
  ip -n "$(ns pc)" route add 10.78.1.0/24 via 10.78.2.254
  in_ns rt sysctl -qw net.ipv4.ip_forward=1
  in_ns rt iptables -t nat -A POSTROUTING -s 10.78.2.0/24 -o eth0 -j MASQUERADE
}

# Every scenario starts with empty filter tables; a fault adds its own rules.
firewall_reset() {
  local n
  for n in srv srv2 srv3 c1 c2 rt pc; do in_ns "$n" iptables -F; done
  ip -n "$(ns rt)" link set eth1 mtu 1500
  ip -n "$(ns srv)" link set dev eth0 gso_max_segs 65535
}

# ---- recording --------------------------------------------------------------------------------

declare -A RUNNING=()
declare -A STANZA=()
SCENARIO=""
SCENARIO_DIR=""
APP=""
FLAGS=""
HOSTS_ORDER=()
declare -A HOST_EXTRA=()
declare -A DECLARED=()

begin() { # NAME APP record|plain|network [pending]
  SCENARIO=$1 APP=$2 FLAGS=$3
  if [ "${4:-}" = pending ]; then SCENARIO_DIR=$PENDING/$SCENARIO; else SCENARIO_DIR=$FIXTURES/$SCENARIO; fi
  rm -rf "$FIXTURES/$SCENARIO" "$PENDING/$SCENARIO" "${LOGS:?}/$SCENARIO"
  HOSTS_ORDER=()
  HOST_EXTRA=()
  DECLARED=()
  ATTACHED=()
  mkdir -p "$SCENARIO_DIR" "$LOGS/$SCENARIO"
  firewall_reset
  log "scenario $SCENARIO"
}

# start NS HOST CMD...: record CMD on namespace NS as trace HOST.trace, in the background, the
# way FLAGS says: `netcheck record` (its stanza kept), plain `strace -f -tt -s 65535`, or
# `network`: plain strace filtered with `-e trace=network`, as one often finds traces recorded.
start() {
  local where=$1 host=$2
  shift 2
  HOSTS_ORDER+=("$host")
  if [ "$FLAGS" = plain ] || [ "$FLAGS" = network ]; then
    local filter=()
    if [ "$FLAGS" = network ]; then filter=(-e trace=network); fi
    STANZA[$host]=$(host_ips "$where" "$host")
    (cd "$SCENARIO_DIR" && exec ip netns exec "$(ns "$where")" \
      timeout -k 2 "$PROGRAM_TIMEOUT" strace -f -tt -s 65535 "${filter[@]}" -o "$host.trace" -- "$@" \
      >"$LOGS/$SCENARIO/$host.log" 2>&1) &
  else
    STANZA[$host]=""
    (cd "$SCENARIO_DIR" && exec ip netns exec "$(ns "$where")" \
      timeout -k 2 "$PROGRAM_TIMEOUT" "$NETCHECK" record -o "$host.trace" --host "$host" \
      --string-limit "${LIMIT:-$STRING_LIMIT}" --stanza "$LOGS/$SCENARIO/$host.stanza" -- "$@" \
      >"$LOGS/$SCENARIO/$host.log" 2>&1) &
  fi
  RUNNING[$host]=$!
}

# declared NS HOST: HOST in the config with its addresses and no trace: a program runs there
# untraced (unobserved, not absent).
declared() {
  HOSTS_ORDER+=("$2")
  DECLARED[$2]=1
  STANZA[$2]=$(host_ips "$1" "$2" | grep -v '^ trace ')
}

# The stanza of a plain-strace host: its global addresses in namespace NS.
host_ips() { # NS HOST
  printf 'host %s\n trace %s.trace\n' "$2" "$2"
  ip -n "$(ns "$1")" -o addr show scope global | awk '{ split($4, a, "/"); print " ip " a[1] }'
}

# attach NS HOST PID: plain `strace -f -tt -s 65535 -p PID` on a daemon already running (started by
# `daemon`), as one attaches to a production server: its start-up is not in the trace.
declare -A ATTACHED=()
attach() {
  local where=$1 host=$2 pid=$3
  HOSTS_ORDER+=("$host")
  STANZA[$host]=$(host_ips "$where" "$host")
  ATTACHED[$host]=$pid
  (cd "$SCENARIO_DIR" && exec ip netns exec "$(ns "$where")" \
    timeout -k 2 "$PROGRAM_TIMEOUT" strace -f -tt -s 65535 -o "$host.trace" -p "$pid" \
    >"$LOGS/$SCENARIO/$host.strace.log" 2>&1) &
  RUNNING[$host]=$!
  sleep 0.5                       # strace has attached to every thread
}

# attach_worker NAME PORT CMD...: start a forking server untraced on srv (as daemon NAME), wait
# until it listens on PORT, and attach strace (trace server) to its first child, the process
# that accepts; WORKER_PARENT is the parent, which attach_worker_stop asks to stop.
attach_worker() {
  local name=$1 port=$2 worker="" i
  shift 2
  daemon srv "$name" "$@"
  wait_listening srv t "$port"
  for i in $(seq 50); do
    worker=$(pgrep -P "$DAEMON_PID" | head -1) || true
    [ -n "$worker" ] && break
    sleep 0.1
  done
  WORKER_PARENT=$DAEMON_PID
  attach srv server "$worker"
}

attach_worker_stop() { # NAME: the parent stops its worker; the attached strace ends with it
  kill -TERM "$WORKER_PARENT" 2>/dev/null || true
  finish server
  unset "ATTACHED[server]"
  finish "$1"
}

# daemon NS NAME CMD...: an untraced program under timeout; DAEMON_PID is its PID.
daemon() {
  local where=$1 name=$2
  shift 2
  ip netns exec "$(ns "$where")" timeout -k 2 "$PROGRAM_TIMEOUT" "$@" >"$LOGS/$SCENARIO/$name.log" 2>&1 &
  local outer=$! i
  DAEMON_PID=""
  for i in $(seq 50); do
    DAEMON_PID=$(pgrep -P "$outer" | head -1) || true
    [ -n "$DAEMON_PID" ] && break
    sleep 0.1
  done
  RUNNING[$name]=$outer
}

run() { # NS HOST CMD...: record CMD and wait for it to finish.
  start "$@"
  finish "$2"
}

finish() { # HOST: wait for the recorded program to end by itself
  local rc=0
  wait "${RUNNING[$1]}" || rc=$?
  if [ "$rc" -ne 0 ]; then log "  $1: recording ended with status $rc (see $LOGS/$SCENARIO/$1.log)"; fi
  unset "RUNNING[$1]"
}

# The recorded program's PID: below the timeout, netcheck and strace processes that wrap it.
program_pid() { # HOST
  local pid=${RUNNING[$1]} child
  while [[ "$(ps -o comm= -p "$pid" 2>/dev/null)" =~ ^(timeout|netcheck|strace)$ ]]; do
    child=$(pgrep -P "$pid" | head -1) || true
    [ -n "$child" ] || break
    pid=$child
  done
  echo "$pid"
}

stop() { # HOST [SIGNAL]: signal the recorded program by its PID, then wait for the recording
  local pid=${ATTACHED[$1]:-}
  [ -n "$pid" ] || pid=$(program_pid "$1")
  kill "-${2:-INT}" "$pid" 2>/dev/null || true
  finish "$1"
  unset "ATTACHED[$1]"
}

wait_listening() { # NS PROTO(t|u) PORT: until a socket is bound there (at most 15 s)
  local i
  for i in $(seq 150); do
    if in_ns "$1" ss -Hln"$2" "sport = :$3" | grep -q .; then return 0; fi
    sleep 0.1
  done
  log "  nothing bound on port $3 in $1"
  return 1
}

extra() { # HOST LINE: an extra config line for HOST (nat ...)
  HOST_EXTRA[$1]+=" $2"$'\n'
}

write_conf() {
  local conf=$SCENARIO_DIR/netcheck.conf host
  {
    echo "# $SCENARIO: recorded by lab/apps.sh ($FLAGS)"
    for host in "${HOSTS_ORDER[@]}"; do
      if [ "$FLAGS" = plain ] || [ "$FLAGS" = network ] || [ -n "${DECLARED[$host]:-}" ]; then
        printf '%s\n' "${STANZA[$host]}"
      # Trace paths relative to the config's folder (the recorder names them absolutely).
      elif [ -f "$LOGS/$SCENARIO/$host.stanza" ]; then
        sed "s#^\( *trace \)$SCENARIO_DIR/#\1#" "$LOGS/$SCENARIO/$host.stanza"
      else log "  $host: no stanza (the recording was killed)"; printf 'host %s\n trace %s.trace\n' "$host" "$host"; fi
      printf '%s' "${HOST_EXTRA[$host]:-}"
    done
  } >"$conf"
}

# expect DESCRIPTION healthy|fault "must_report ids" "must_not_report ids"
# Healthy scenarios forbid every problem rule netcheck knows (all but the notes `unsupported-call`,
# `refused-before-listening`, `shutdown-order`, `client-finished`, `accepted-after-client-left`,
# `filtered-trace`).
NOTE_RULES=" unsupported-call refused-before-listening shutdown-order client-finished accepted-after-client-left filtered-trace injected-results undecoded-addresses "
expect() {
  local rules
  rules=$("$NETCHECK" rules | awk -v notes="$NOTE_RULES" 'index(notes, " " $1 " ") == 0 { print $1 }' | tr '\n' ' ')
  write_conf
  "$PYTHON" -I -S - "$SCENARIO" "$1" "$2" "$3" "$4" "$APP" "$FLAGS" "$rules" \
    >"$SCENARIO_DIR/expected.json" <<'EOF'
import json, sys
name, description, kind, must, must_not, app, flags, rules = sys.argv[1:9]
healthy = kind == "healthy"
doc = {
    "scenario": name,
    "description": description,
    "app": app,
    "flags": flags,
    "must_report": must.split(),
    "must_not_report": rules.split() if healthy else must_not.split(),
    "healthy": healthy,
}
print(json.dumps(doc, indent=2))
EOF
}

# Evidence from a firewall: the packet counters of NS's DROP (and REJECT) rules in CHAIN.
evidence_fw() { # NS CHAIN
  local line
  line=$(in_ns "$1" iptables -vnxL "$2" | awk -v ns="$1" -v ch="$2" '$3 == "DROP" { n += $1 } $3 == "REJECT" { r += $1; rej = 1 }
    END { printf "iptables %s %s: %d packets dropped", ns, ch, n; if (rej) printf ", %d rejected", r }')
  printf '%s\t%s\t%s\n' "$SCENARIO" "$1" "$line" >>"$LOGS/evidence.tsv"
  log "  evidence $line"
}

# Evidence that the fault really happened: a line of a program's own output, kept in the log.
evidence() { # HOST PATTERN
  local line
  line=$(grep -a -m1 -E "$2" "$LOGS/$SCENARIO/$1.log" 2>/dev/null || true)
  printf '%s\t%s\t%s\n' "$SCENARIO" "$1" "${line:-(no line matching $2)}" >>"$LOGS/evidence.tsv"
  log "  evidence $1: ${line:-none}"
}

# ---- PostgreSQL -------------------------------------------------------------------------------

PGDATA=$WORK/pg/data
PG_CLIENT_ENV="env PGCONNECT_TIMEOUT=5 PGUSER=postgres PGDATABASE=postgres"

# postgresql.conf and pg_hba.conf as an administrator writes them; LISTEN is listen_addresses.
pg_conf() { # DATADIR LISTEN [extra postgresql.conf lines...]
  local dir=$1 listen=$2
  shift 2
  {
    echo "listen_addresses = '$listen'"
    echo "port = 5432"
    echo "unix_socket_directories = '$dir'"
    echo "max_connections = 20"
    echo "shared_buffers = 16MB"
    echo "dynamic_shared_memory_type = posix"
    echo "log_connections = on"
    echo "max_files_per_process = 64         # the start-up descriptor probe dups stderr this often"
    echo "log_destination = 'stderr'"
    echo "datestyle = 'iso, mdy'"
    for line in "$@"; do echo "$line"; done
  } >"$dir/postgresql.conf"
  {
    echo "local all all trust"
    echo "host all all 127.0.0.1/32 trust"
    echo "host all all 10.78.0.0/16 trust"
    echo "host replication all 10.78.0.0/16 trust"
  } >"$dir/pg_hba.conf"
  chown postgres:postgres "$dir/postgresql.conf" "$dir/pg_hba.conf"
}

as_postgres() { echo setpriv --reuid=postgres --regid=postgres --init-groups --; }

# One database cluster, initialised once (untraced) with pgbench's tables.
pg_init() {
  [ -f "$PGDATA/PG_VERSION" ] && return 0
  mkdir -p "$WORK/pg" "$WORK/run"
  chown postgres:postgres "$WORK/pg" "$WORK/run"
  in_ns srv $(as_postgres) "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust >"$LOGS/initdb.log" 2>&1
  pg_conf "$PGDATA" 10.78.1.10
  in_ns srv timeout 60 $(as_postgres) "$PGBIN/postgres" -D "$PGDATA" >"$LOGS/pg-init.log" 2>&1 &
  local pid=$!
  wait_listening srv t 5432
  in_ns srv $PG_CLIENT_ENV pgbench -h 10.78.1.10 -i -s 1 -q >>"$LOGS/pg-init.log" 2>&1
  kill -INT "$(pgrep -P "$pid" | head -1)" 2>/dev/null || true
  wait "$pid" || true
}

pg_start() { # HOST LISTEN [extra conf lines]: record the postmaster on srv
  local host=$1
  shift
  pg_conf "$PGDATA" "$@"
  start srv "$host" $(as_postgres) "$PGBIN/postgres" -D "$PGDATA"
  wait_listening srv t 5432
}

sc_pg_healthy() {
  begin pg-healthy postgresql record
  pg_start server 10.78.1.10
  run c1 psql $PG_CLIENT_ENV psql -h 10.78.1.10 -Atc 'select count(*) from pgbench_branches'
  run c2 pgbench $PG_CLIENT_ENV pgbench -h 10.78.1.10 -S -c 2 -t 10 -n
  stop server
  evidence pgbench 'number of transactions actually processed'
  expect "psql counts pgbench_branches and pgbench runs 2 clients x 10 select-only transactions against PostgreSQL 15" \
    healthy "" ""
}

sc_pg_healthy_plain() {
  begin pg-healthy-plain postgresql plain
  pg_conf "$PGDATA" 10.78.1.10
  daemon srv postmaster $(as_postgres) "$PGBIN/postgres" -D "$PGDATA"
  wait_listening srv t 5432
  attach srv server "$DAEMON_PID"
  run c1 psql $PG_CLIENT_ENV psql -h 10.78.1.10 -Atc 'select count(*) from pgbench_branches'
  stop server
  finish postmaster
  evidence psql '^[0-9]+$'
  expect "psql runs one query against PostgreSQL 15; plain strace -f -tt -s 65535, attached to the running postmaster with -p" \
    healthy "" ""
}

sc_pg_listen_localhost() {
  begin pg-listen-localhost postgresql record
  pg_start server localhost
  run c1 psql $PG_CLIENT_ENV psql -h 10.78.1.10 -Atc 'select 1'
  stop server
  evidence psql 'Connection refused|could not connect'
  expect "listen_addresses = 'localhost': the postmaster binds 127.0.0.1 and ::1; a psql on another host is refused" \
    fault "loopback-bound-external-peer" "unparsed-lines connect-filtered"
}

sc_pg_max_connections() {
  begin pg-max-connections postgresql record
  pg_start server 10.78.1.10 "superuser_reserved_connections = 0" "max_connections = 3"
  start c1 psql1 $PG_CLIENT_ENV psql -h 10.78.1.10 -Atc 'select pg_sleep(2)'
  start c1 psql2 $PG_CLIENT_ENV psql -h 10.78.1.10 -Atc 'select pg_sleep(2)'
  start c2 psql3 $PG_CLIENT_ENV psql -h 10.78.1.10 -Atc 'select pg_sleep(2)'
  sleep 0.8
  run c2 psql4 $PG_CLIENT_ENV psql -h 10.78.1.10 -Atc 'select 1'
  finish psql1
  finish psql2
  finish psql3
  stop server
  evidence psql4 'too many clients'
  expect "max_connections = 3 (no reserved slots): three sessions sleep, a fourth psql is accepted then told 'sorry, too many clients already'" \
    fault "admission-limit" "unparsed-lines"
}

sc_pg_bind_failed() {
  begin pg-bind-failed postgresql record
  pg_conf "$PGDATA" 10.78.1.99
  start srv server $(as_postgres) "$PGBIN/postgres" -D "$PGDATA"
  finish server
  run c1 psql $PG_CLIENT_ENV psql -h 10.78.1.10 -Atc 'select 1'
  evidence server 'could not bind|could not create any TCP/IP sockets'
  expect "listen_addresses names 10.78.1.99, an address the host does not have: bind fails (EADDRNOTAVAIL), the postmaster exits, psql is refused" \
    fault "bind-failed" "unparsed-lines"
}

sc_pg_connect_unspecified() {
  begin pg-connect-unspecified postgresql record
  pg_start server 10.78.1.10
  # A client configured with the server's listen_addresses ('0.0.0.0') as the address to dial:
  # Linux connects to the client's own host, where nothing listens.
  run c1 psql $PG_CLIENT_ENV psql -h 0.0.0.0 -Atc 'select 1'
  stop server
  evidence psql 'connection to server at "0.0.0.0"'
  expect "psql is given 0.0.0.0 (the server's listen_addresses) as host: the connect goes to the client's own host and is refused" \
    fault "connect-to-unspecified" "unparsed-lines"
}

# Streaming replication: a standby on srv2 cloned from the primary with pg_basebackup -R
# (untraced), both recorded while psql writes on the primary and reads on the standby.
STANDBY=$WORK/pg/standby

pg_replication_start() {
  pg_conf "$PGDATA" 10.78.1.10
  daemon srv clone-source $(as_postgres) "$PGBIN/postgres" -D "$PGDATA"
  wait_listening srv t 5432
  rm -rf "$STANDBY"
  in_ns srv2 $(as_postgres) pg_basebackup -h 10.78.1.10 -U postgres -D "$STANDBY" -R -X stream -c fast \
    >"$LOGS/$SCENARIO/basebackup.log" 2>&1
  kill -INT "$DAEMON_PID"
  finish clone-source
  pg_start primary 10.78.1.10 "wal_sender_timeout = 3s"
  pg_conf "$STANDBY" 10.78.1.11 "hot_standby = on" "wal_receiver_timeout = 3s" \
    "recovery_init_sync_method = syncfs     # one syncfs, not an open+fsync per file"
  start srv2 standby $(as_postgres) "$PGBIN/postgres" -D "$STANDBY"
  wait_listening srv2 t 5432
  sleep 1                         # the walreceiver has connected and streams
}

pg_replication_stop() {
  kill -INT "$(program_pid standby)" "$(program_pid primary)" 2>/dev/null || true
  finish standby
  finish primary
}

sc_pg_replication_healthy() {
  begin pg-replication-healthy postgresql record
  pg_replication_start
  run c1 writer $PG_CLIENT_ENV psql -h 10.78.1.10 -Atc 'drop table if exists r; create table r as select generate_series(1, 100) as x'
  sleep 0.5
  run c2 reader $PG_CLIENT_ENV psql -h 10.78.1.11 -Atc 'select count(*) from r'
  pg_replication_stop
  evidence reader '^100$'
  expect "a primary and a streaming-replication standby; psql creates a 100-row table on the primary and reads it on the standby" \
    healthy "" ""
}

sc_pg_replication_firewalled() {
  begin pg-replication-firewalled postgresql record
  pg_replication_start
  in_ns srv2 iptables -A INPUT -s 10.78.1.10 -j DROP
  in_ns srv2 iptables -A OUTPUT -d 10.78.1.10 -j DROP
  run c1 writer $PG_CLIENT_ENV psql -h 10.78.1.10 -Atc 'drop table if exists r; create table r as select generate_series(1, 100) as x'
  sleep 4                         # past wal_sender_timeout and wal_receiver_timeout
  run c2 reader $PG_CLIENT_ENV psql -h 10.78.1.11 -Atc 'select count(*) from r'
  evidence_fw srv2 INPUT
  pg_replication_stop
  evidence primary 'replication timeout'
  evidence standby 'walreceiver due to timeout'
  expect "a firewall between primary and standby (DROP both ways) once streaming runs: the WAL of a new table never arrives, both ends time out" \
    fault "data-unreceived-poll-missed" "unparsed-lines connection-reset"
}

# ---- HAProxy in front of lighttpd and nginx ---------------------------------------------------

web_configs() {
  mkdir -p "$WORK/www" "$WORK/nginx"
  printf 'hello from the netcheck application lab\n' >"$WORK/www/index.html"
  cat >"$WORK/haproxy.cfg" <<CFG
global
    maxconn 256

defaults
    mode http
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout check 1s
    retries 1
    option redispatch

frontend web
    bind 10.78.1.10:8080
    default_backend pool

backend pool
    balance roundrobin
    option httpchk GET /
    server web1 10.78.1.11:80 check inter 500ms fall 2 rise 1
    server web2 10.78.1.12:80 check inter 500ms fall 2 rise 1
CFG
  cat >"$WORK/lighttpd.conf" <<CFG
server.document-root = "$WORK/www"
server.bind = "10.78.1.11"
server.port = 80
server.errorlog = "$WORK/lighttpd-error.log"
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html" )
CFG
  cat >"$WORK/nginx.conf" <<CFG
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log stderr;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 10.78.1.12:80;
        root $WORK/www;
    }
}
CFG
}

ha_backends() { # [web2 too]
  start srv2 web1 lighttpd -D -f "$WORK/lighttpd.conf"
  if [ "${1:-yes}" = yes ]; then start srv3 web2 nginx -c "$WORK/nginx.conf" -g 'daemon off;'; fi
  wait_listening srv2 t 80
  if [ "${1:-yes}" = yes ]; then wait_listening srv3 t 80; fi
  start srv haproxy haproxy -db -f "$WORK/haproxy.cfg"
  wait_listening srv t 8080
}

ha_client_and_stop() { # [web2 running]
  sleep 1.2                       # a few health-check rounds
  run c1 client curl -q -s -S -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
    -w '%{http_code} %{remote_ip}\n' \
    http://10.78.1.10:8080/ http://10.78.1.10:8080/ http://10.78.1.10:8080/ http://10.78.1.10:8080/
  stop haproxy TERM
  stop web1 TERM
  if [ "${1:-yes}" = yes ]; then stop web2 QUIT; fi
}

sc_ha_healthy() {
  begin ha-healthy haproxy record
  ha_backends
  ha_client_and_stop
  evidence client '^200'
  expect "HAProxy (health checks every 500 ms) balances four curl requests over lighttpd and nginx" healthy "" ""
}

sc_ha_healthy_plain() {
  begin ha-healthy-plain haproxy plain
  ha_backends
  ha_client_and_stop
  evidence client '^200'
  expect "HAProxy balances four curl requests over lighttpd and nginx; every host recorded with plain strace -f -tt -s 65535" \
    healthy "" ""
}

sc_ha_backend_down() {
  begin ha-backend-down haproxy record
  ha_backends no
  ha_client_and_stop no
  evidence haproxy 'web2 is DOWN'
  expect "the nginx backend (10.78.1.12:80) is not running: HAProxy's health checks are refused and it serves from lighttpd alone" \
    fault "connect-refused" "unparsed-lines connect-filtered connect-refused-while-listening"
}

sc_ha_backend_firewalled() {
  begin ha-backend-firewalled haproxy record
  in_ns srv3 iptables -A INPUT -p tcp --dport 80 -j DROP
  ha_backends
  ha_client_and_stop
  evidence_fw srv3 INPUT
  evidence haproxy 'web2 is DOWN'
  expect "a firewall on the nginx backend drops every SYN: HAProxy's nonblocking health-check connects never complete" \
    fault "connect-never-completed" "unparsed-lines connect-refused connection-not-accepted"
}

# ---- memcached --------------------------------------------------------------------------------

MC_TCP="set greeting 0 0 5\r\nhello\r\nget greeting\r\nquit\r\n"
# The UDP protocol's 8-byte frame header: request id 1, sequence 0, 1 datagram, reserved.
MC_UDP="\000\001\000\000\000\001\000\000get greeting\r\n"

mc_clients() {
  run c1 tcp-client sh -c "printf '$MC_TCP' | exec socat -T 2 - TCP:10.78.1.10:11211"
  run c2 udp-client sh -c "printf '$MC_UDP' | exec socat -T 1 - UDP:10.78.1.10:11211"
}

sc_mc_healthy() {
  begin mc-healthy memcached record
  start srv server memcached -u nobody -l 10.78.1.10 -p 11211 -U 11211 -t 1 -v
  wait_listening srv u 11211
  mc_clients
  stop server
  evidence tcp-client '^VALUE greeting'
  expect "memcached over TCP (set, get) from one host and over UDP (get, framed) from another" healthy "" ""
}

sc_mc_healthy_plain() {
  begin mc-healthy-plain memcached plain
  start srv server memcached -u nobody -l 10.78.1.10 -p 11211 -U 11211 -t 1 -v
  wait_listening srv u 11211
  mc_clients
  stop server
  evidence tcp-client '^VALUE greeting'
  expect "memcached over TCP and UDP; every host recorded with plain strace -f -tt -s 65535" healthy "" ""
}

sc_mc_udp_dropped() {
  begin mc-udp-dropped memcached record
  in_ns c2 iptables -A INPUT -p udp --sport 11211 -j DROP
  start srv server memcached -u nobody -l 10.78.1.10 -p 11211 -U 11211 -t 1 -v
  wait_listening srv u 11211
  mc_clients
  evidence_fw c2 INPUT
  stop server
  expect "the UDP client's firewall drops memcached's replies: the server answers, the get sees nothing" \
    fault "udp-all-lost" "unparsed-lines udp-loss"
}

# memcached -c N also sets the descriptor limit to N: with -c 15 two idle clients fill the
# connection table (listeners and internal pipes count too); with -c 12 accept4 itself fails.
mc_limit() { # MEMCACHED_C
  start srv server memcached -u nobody -l 10.78.1.10 -p 11211 -t 1 -c "$1" -v
  wait_listening srv t 11211
  start c1 idle1 sh -c "sleep 2 | exec socat -T 3 - TCP:10.78.1.10:11211,connect-timeout=2"
  sleep 0.3
  start c1 idle2 sh -c "sleep 2 | exec socat -T 3 - TCP:10.78.1.10:11211,connect-timeout=2"
  sleep 0.5
  run c2 client sh -c "printf 'get greeting\\r\\n' | exec socat -T 2 - TCP:10.78.1.10:11211,connect-timeout=2"
  finish idle1
  finish idle2
  stop server
}

sc_mc_conn_limit() {
  begin mc-conn-limit memcached record
  mc_limit 15
  evidence client 'Too many'
  expect "memcached -c 15 with two idle clients: a third is accepted and told 'ERROR Too many open connections', then closed" \
    fault "admission-limit" "unparsed-lines"
}

sc_mc_fd_exhaustion() {
  begin mc-fd-exhaustion memcached record
  mc_limit 12
  evidence server 'Too many open files'
  expect "memcached -c 12 runs out of descriptors: accept4 fails with EMFILE and memcached stops accepting; later clients wait in the backlog" \
    fault "descriptor-exhaustion" "unparsed-lines"
}

sc_mc_udp_no_frame() {
  begin mc-udp-no-frame memcached record
  start srv server memcached -u nobody -l 10.78.1.10 -p 11211 -U 11211 -t 1 -v
  wait_listening srv u 11211
  # A get without the UDP frame header: memcached reads it and drops it without an answer.
  run c2 udp-client sh -c "printf 'get greeting\\r\\n' | exec socat -T 1 - UDP:10.78.1.10:11211"
  stop server
  evidence udp-client 'VALUE'     # expected to find none: the client printed nothing
  expect "a memcached get over UDP without the 8-byte frame header: the server reads the datagram and never answers" \
    fault "no-reply" "unparsed-lines udp-all-lost"
}

# ---- Redis ------------------------------------------------------------------------------------
#
# redis-server as packaged, without persistence; a replica on srv2 follows the primary on srv
# (a replication link that pings and acknowledges every second), and redis-cli talks to both.

redis_server() { # NS HOST [extra options...]: record redis-server on NS as HOST
  local where=$1 host=$2 ip
  shift 2
  ip=$(ip -n "$(ns "$where")" -o -4 addr show dev eth0 | awk '{ split($4, a, "/"); print a[1] }')
  start "$where" "$host" setpriv --reuid=redis --regid=redis --init-groups -- \
    redis-server --bind "${REDIS_BIND:-$ip}" --port 6379 --protected-mode no --save '' \
    --appendonly no --daemonize no --dir /tmp "$@"
  wait_listening "$where" t 6379
}

redis_replicated() { # the primary and its replica, the replica in sync
  redis_server srv primary
  redis_server srv2 replica --replicaof 10.78.1.10 6379
  local i
  for i in $(seq 50); do
    in_ns srv2 redis-cli -h 10.78.1.11 info replication 2>/dev/null | grep -q 'master_link_status:up' && break
    sleep 0.1
  done
}

redis_clients() {
  run c1 client redis-cli -h 10.78.1.10 set greeting hello
  sleep 1.2                       # a replication ping and acknowledgements in between
  run c2 reader redis-cli -h 10.78.1.11 get greeting
}

sc_redis_healthy() {
  begin redis-healthy redis record
  redis_replicated
  redis_clients
  stop replica TERM
  stop primary TERM
  evidence reader '^hello'
  expect "redis-server with a replica on another host; redis-cli sets a key on the primary and reads it back from the replica; the replica is stopped before the primary" healthy "" ""
}

sc_redis_healthy_plain() {
  begin redis-healthy-plain redis plain
  redis_replicated
  redis_clients
  stop replica TERM
  stop primary TERM
  evidence reader '^hello'
  expect "redis-server with a replica, set on the primary and get from the replica; every host recorded with plain strace -f -tt -s 65535" healthy "" ""
}

sc_redis_replica_firewalled() {
  begin redis-replica-firewalled redis record
  in_ns srv iptables -A INPUT -p tcp -s 10.78.1.11 --dport 6379 -j DROP
  redis_server srv primary
  redis_server srv2 replica --replicaof 10.78.1.10 6379
  sleep 3
  run c1 client redis-cli -h 10.78.1.10 set greeting hello
  evidence_fw srv INPUT
  stop replica TERM
  stop primary TERM
  expect "a firewall on the primary drops the replica's packets: the replica's connect to the primary never completes, clients are served" \
    fault "connect-never-completed" "unparsed-lines connection-not-accepted"
}

sc_redis_bind_localhost() {
  begin redis-bind-localhost redis record
  REDIS_BIND=127.0.0.1 redis_server srv server
  run c1 client redis-cli -h 10.78.1.10 ping
  stop server TERM
  expect "redis-server bound to 127.0.0.1 only: a client on another host is refused" \
    fault "loopback-bound-external-peer" "unparsed-lines connect-filtered"
}

sc_redis_maxclients() {
  begin redis-maxclients redis record
  redis_server srv server --maxclients 1
  start c1 idle sh -c "sleep 2 | exec redis-cli -h 10.78.1.10"
  sleep 0.5
  run c2 client redis-cli -h 10.78.1.10 ping
  finish idle
  stop server TERM
  evidence client 'max number of clients'
  expect "redis-server --maxclients 1 with one idle client: a second client is told 'ERR max number of clients reached' and closed" \
    fault "admission-limit" "unparsed-lines"
}

# ---- Mosquitto (MQTT) -------------------------------------------------------------------------
#
# The broker listens on its lab address (Mosquitto 2 listens on loopback only unless told);
# a subscriber on c1 waits for one message, a publisher on c2 sends it.

mqtt_config() { # [extra lines...]
  {
    printf 'listener 1883 10.78.1.10\nallow_anonymous true\npersistence false\nlog_dest stderr\n'
    printf '%s\n' "$@"
  } >"$WORK/mosquitto.conf"
  chmod 644 "$WORK/mosquitto.conf"
}

mqtt_broker() {
  start srv broker mosquitto -c "$WORK/mosquitto.conf"
  wait_listening srv t 1883
}

mqtt_exchange() {
  start c1 subscriber mosquitto_sub -h 10.78.1.10 -t lab/greeting -C 1 -W 10
  sleep 0.5
  run c2 publisher mosquitto_pub -h 10.78.1.10 -t lab/greeting -m hello
  finish subscriber
}

sc_mqtt_healthy() {
  begin mqtt-healthy mosquitto record
  mqtt_config
  mqtt_broker
  mqtt_exchange
  stop broker TERM
  evidence subscriber '^hello'
  expect "a Mosquitto broker, a subscriber waiting for one message on another host and a publisher on a third" healthy "" ""
}

sc_mqtt_healthy_plain() {
  begin mqtt-healthy-plain mosquitto plain
  mqtt_config
  mqtt_broker
  mqtt_exchange
  stop broker TERM
  evidence subscriber '^hello'
  expect "a Mosquitto broker, a subscriber and a publisher; every host recorded with plain strace -f -tt -s 65535" healthy "" ""
}

sc_mqtt_max_connections() {
  begin mqtt-max-connections mosquitto record
  mqtt_config "max_connections 1"
  mqtt_broker
  start c1 subscriber mosquitto_sub -h 10.78.1.10 -t lab/greeting -C 1 -W 3
  sleep 0.5
  run c2 publisher mosquitto_pub -h 10.78.1.10 -t lab/greeting -m hello
  finish subscriber
  stop broker TERM
  evidence publisher 'Error|error|lost'
  expect "max_connections 1: the subscriber holds the only connection; the publisher's connection is accepted and closed at once" \
    fault "admission-limit" "unparsed-lines"
}

sc_mqtt_broker_firewalled() {
  begin mqtt-broker-firewalled mosquitto record
  mqtt_config
  in_ns srv iptables -A INPUT -p tcp -s 10.78.1.22 --dport 1883 -j DROP
  mqtt_broker
  start c1 subscriber mosquitto_sub -h 10.78.1.10 -t lab/greeting -C 1 -W 4
  sleep 0.5
  run c2 publisher timeout -s INT 3 mosquitto_pub -h 10.78.1.10 -t lab/greeting -m hello
  finish subscriber
  evidence_fw srv INPUT
  stop broker TERM
  expect "the broker's firewall drops the publisher's packets: its connect never completes; the subscriber waits in vain" \
    fault "connect-never-completed" "unparsed-lines"
}

# ---- notes with other programs --------------------------------------------------------------
#
# Healthy runs whose only oddities are normal ones: the order the programs were stopped in, a
# client that exits holding its connection while its server still sends, and traces recorded
# with `strace -e trace=network`, which hides every generic call (read, write, close, fork).

sc_redis_primary_stopped_first() {
  begin redis-primary-stopped-first redis record
  redis_replicated
  redis_clients
  stop primary TERM
  sleep 2.5                       # the replica reconnects once a second and is refused
  stop replica TERM
  evidence reader '^hello'
  expect "redis-server with a replica; the primary is stopped first, and the replica's reconnects are refused until it is stopped too" healthy "" ""
}

sc_ha_backends_stopped_first() {
  begin ha-backends-stopped-first haproxy record
  ha_backends
  sleep 1.2                       # a few health-check rounds
  run c1 client curl -q -s -S -o /dev/null -o /dev/null -w '%{http_code} %{remote_ip}\n' \
    http://10.78.1.10:8080/ http://10.78.1.10:8080/
  stop web1 TERM
  stop web2 QUIT
  sleep 1.5                       # HAProxy's health checks (every 0.5 s) are refused
  stop haproxy TERM
  evidence client '^200'
  expect "HAProxy in front of lighttpd and nginx; the backends are stopped 1.5 s before HAProxy, whose health checks are refused meanwhile" healthy "" ""
}

sc_mqtt_subscriber_done() {
  begin mqtt-subscriber-done mosquitto record
  mqtt_config
  mqtt_broker
  start c1 subscriber mosquitto_sub -h 10.78.1.10 -t lab/greeting -C 1 -W 10
  sleep 0.5
  # Several messages at once: the subscriber exits after the first, the broker still sends.
  run c2 publisher sh -c "printf 'one\ntwo\nthree\nfour\n' | exec mosquitto_pub -h 10.78.1.10 -t lab/greeting -l"
  finish subscriber
  stop broker TERM
  evidence subscriber '^one'
  expect "a Mosquitto subscriber that waits for one message (-C 1) exits after the first of four published at once; the broker sends the others after it left" healthy "" ""
}

sc_redis_healthy_network() {
  begin redis-healthy-network redis network
  redis_replicated
  redis_clients
  stop replica TERM
  stop primary TERM
  evidence reader '^hello'
  expect "redis-server with a replica, set on the primary and get from the replica; every host recorded with strace -f -tt -e trace=network" healthy "" ""
}

sc_mqtt_healthy_network() {
  begin mqtt-healthy-network mosquitto network
  mqtt_config
  mqtt_broker
  mqtt_exchange
  stop broker TERM
  evidence subscriber '^hello'
  expect "a Mosquitto broker, a subscriber and a publisher; every host recorded with strace -f -tt -e trace=network" healthy "" ""
}

sc_mc_healthy_network() {
  begin mc-healthy-network memcached network
  start srv server memcached -u nobody -l 10.78.1.10 -p 11211 -U 11211 -t 1 -v
  wait_listening srv u 11211
  mc_clients
  stop server
  evidence tcp-client '^VALUE greeting'
  expect "memcached over TCP and UDP; every host recorded with strace -f -tt -e trace=network" healthy "" ""
}

sc_redis_bind_localhost_network() {
  begin redis-bind-localhost-network redis network
  REDIS_BIND=127.0.0.1 redis_server srv server
  run c1 client redis-cli -h 10.78.1.10 ping
  stop server TERM
  expect "redis-server bound to 127.0.0.1 only: a client on another host is refused; recorded with strace -f -tt -e trace=network" \
    fault "loopback-bound-external-peer" "unparsed-lines connect-filtered"
}

# ---- unbound ----------------------------------------------------------------------------------

unbound_config() {
  local i
  mkdir -p "$WORK/unbound"
  {
    cat <<CFG
server:
    interface: 10.78.1.10
    port: 53
    do-daemonize: no
    chroot: ""
    username: ""
    directory: "$WORK/unbound"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 1
    log-queries: yes
    num-threads: 1
    do-ip6: no
    access-control: 10.78.0.0/16 allow
    # Authoritative local data only: nothing is ever asked of another server.
    local-zone: "lab." static
    local-data: "db.lab. IN A 10.78.1.10"
    local-data: "www.lab. IN A 10.78.1.11"
    local-data: "www.lab. IN A 10.78.1.12"
    local-data: "lab. IN MX 10 mail.lab."
    local-data: "mail.lab. IN A 10.78.1.10"
    local-data-ptr: "10.78.1.10 db.lab."
CFG
    # big.lab: 24 TXT records, an answer of about 2.4 KB.
    for i in $(seq -w 24); do
      printf '    local-data: "big.lab. IN TXT \\"record %s %s\\""\n' "$i" "$(printf '%080d' 0 | tr 0 x)"
    done
    printf 'remote-control:\n    control-enable: no\n'
  } >"$WORK/unbound.conf"
}

dns_start() {
  start srv server unbound -d -c "$WORK/unbound.conf"
  wait_listening srv u 53
}

sc_dns_healthy() {
  begin dns-healthy unbound record
  dns_start
  run c1 dig dig @10.78.1.10 +tries=2 +time=2 www.lab A
  run c2 host host -W 2 db.lab 10.78.1.10
  run srv2 drill drill @10.78.1.10 -x 10.78.1.10
  stop server
  evidence dig 'status: NOERROR'
  expect "unbound serves a static local zone; dig (A), host (A, AAAA, MX) and drill (PTR) query it from three hosts" healthy "" ""
}

sc_dns_healthy_plain() {
  begin dns-healthy-plain unbound plain
  daemon srv unbound unbound -d -c "$WORK/unbound.conf"
  wait_listening srv u 53
  attach srv server "$DAEMON_PID"
  run c1 dig dig @10.78.1.10 +tries=2 +time=2 www.lab A
  run c2 host host -W 2 db.lab 10.78.1.10
  stop server
  finish unbound
  evidence dig 'status: NOERROR'
  expect "unbound and dig, host; plain strace -f -tt -s 65535 (unbound attached with -p after start-up)" healthy "" ""
}

sc_dns_tcp_fallback() {
  begin dns-tcp-fallback unbound record
  LIMIT=4096
  dns_start
  run c1 dig dig @10.78.1.10 +tries=2 +time=2 +bufsize=512 big.lab TXT
  stop server
  unset LIMIT
  evidence dig 'Truncated, retrying in TCP mode'
  expect "a 2.4 KB TXT answer does not fit dig's 512-byte EDNS buffer: unbound sets TC and dig asks again over TCP, as DNS intends" \
    healthy "" ""
}

sc_dns_udp_blocked() {
  begin dns-udp-blocked unbound record
  in_ns srv iptables -A INPUT -p udp --dport 53 -j DROP
  dns_start
  run c1 dig dig @10.78.1.10 +tries=2 +time=1 www.lab A
  run c2 drill drill @10.78.1.10 db.lab
  evidence_fw srv INPUT
  stop server
  evidence dig 'timed out'
  expect "the server's firewall drops DNS over UDP: dig and drill time out (neither falls back to TCP on a timeout)" \
    fault "udp-all-lost" "unparsed-lines udp-loss connect-refused"
}

sc_dns_mtu_black_hole() {
  begin dns-mtu-black-hole unbound record
  LIMIT=4096
  # rt's link to pc gets a 600-byte MTU and rt swallows its "fragmentation needed": a black hole
  # for packets of more than 600 bytes with DF set, such as TCP segments.
  ip -n "$(ns rt)" link set eth1 mtu 600
  in_ns rt iptables -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
  dns_start
  run pc dig dig @10.78.1.10 +tcp +tries=1 +time=3 big.lab TXT
  evidence_fw rt OUTPUT
  stop server
  unset LIMIT
  extra dig "nat 10.78.2.21 10.78.1.254"
  evidence dig 'timed out|communications error|no servers'
  expect "dig +tcp asks for the 2.4 KB big.lab TXT across a 600-byte MTU link whose router drops ICMP fragmentation-needed: the query arrives, the answer never does" \
    fault "mtu-black-hole" "unparsed-lines nat-undeclared connect-filtered"
}

sc_dns_acl_deny() {
  begin dns-acl-deny unbound record
  # access-control "deny" drops queries from that client without an answer ("refuse" would answer).
  sed 's|^    access-control: 10.78.0.0/16 allow$|&\n    access-control: 10.78.1.22/32 deny|' "$WORK/unbound.conf" >"$WORK/unbound-deny.conf"
  start srv server unbound -d -c "$WORK/unbound-deny.conf"
  wait_listening srv u 53
  run c2 dig dig @10.78.1.10 +tries=2 +time=1 www.lab A
  stop server
  evidence dig 'timed out'
  expect "unbound's access-control denies the client's address: it reads each query and drops it without an answer; dig times out" \
    fault "no-reply" "unparsed-lines"
}

# ---- etcd -------------------------------------------------------------------------------------

ETCD_CLUSTER="e1=http://10.78.1.10:2380,e2=http://10.78.1.11:2380,e3=http://10.78.1.12:2380"

etcd_member() { # NS NAME IP
  rm -rf "$WORK/etcd/$2"
  mkdir -p "$WORK/etcd"
  start "$1" "$2" env GOMAXPROCS=1 etcd --name "$2" --data-dir "$WORK/etcd/$2" \
    --listen-peer-urls "http://$3:2380" --initial-advertise-peer-urls "http://$3:2380" \
    --listen-client-urls "http://$3:2379" --advertise-client-urls "http://$3:2379" \
    --initial-cluster "$ETCD_CLUSTER" --initial-cluster-state new --initial-cluster-token nca \
    --heartbeat-interval 250 --election-timeout 2500 --log-level warn
}

etcd_cluster() {
  etcd_member srv e1 10.78.1.10
  etcd_member srv2 e2 10.78.1.11
  etcd_member srv3 e3 10.78.1.12
  wait_listening srv t 2379
  wait_listening srv2 t 2379
  wait_listening srv3 t 2379
}

etcd_stop() { # all three at once, as a cluster is shut down; SIGKILL whoever lingers after 3 s
  local m i pids=()
  for m in e1 e2 e3; do pids+=("$(program_pid "$m")"); done
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for i in $(seq 30); do
    kill -0 "${pids[@]}" 2>/dev/null || break
    sleep 0.1
  done
  for m in "${pids[@]}"; do kill -KILL "$m" 2>/dev/null || true; done
  for m in e1 e2 e3; do finish "$m"; done
}

sc_etcd_healthy() {
  begin etcd-healthy etcd record
  etcd_cluster
  sleep 1
  run c1 put etcdctl --endpoints http://10.78.1.10:2379 --command-timeout 3s put greeting hello
  run c2 get etcdctl --endpoints http://10.78.1.12:2379 --command-timeout 3s get greeting
  etcd_stop
  evidence get '^hello'
  expect "a three-member etcd cluster; etcdctl puts a key through one member and reads it through another" healthy "" ""
}

sc_etcd_partition() {
  begin etcd-partition etcd record
  local peer
  for peer in 10.78.1.10 10.78.1.11; do
    in_ns srv3 iptables -A INPUT -s "$peer" -j DROP
    in_ns srv3 iptables -A OUTPUT -d "$peer" -j DROP
  done
  etcd_cluster
  sleep 1
  run c1 put etcdctl --endpoints http://10.78.1.10:2379 --command-timeout 3s put greeting hello
  run c2 get etcdctl --endpoints http://10.78.1.12:2379 --command-timeout 3s get greeting
  evidence_fw srv3 INPUT
  etcd_stop
  evidence get 'context deadline exceeded'
  expect "member e3 is cut off from e1 and e2 by iptables DROP both ways: the majority serves the put, e3 cannot answer the get" \
    fault "connect-never-completed" "unparsed-lines connect-refused"
}

sc_etcd_partition_midway() {
  begin etcd-partition-midway etcd record
  local peer
  etcd_cluster
  sleep 1
  run c1 put1 etcdctl --endpoints http://10.78.1.12:2379 --command-timeout 3s put greeting hello
  for peer in 10.78.1.10 10.78.1.11; do
    in_ns srv3 iptables -A INPUT -s "$peer" -j DROP
    in_ns srv3 iptables -A OUTPUT -d "$peer" -j DROP
  done
  run c1 put2 etcdctl --endpoints http://10.78.1.10:2379 --command-timeout 3s put greeting again
  run c2 get etcdctl --endpoints http://10.78.1.12:2379 --command-timeout 3s get greeting
  evidence_fw srv3 INPUT
  etcd_stop
  evidence get 'context deadline exceeded'
  expect "the cluster runs and a put through e3 succeeds; then e3 is cut off from e1 and e2 (DROP both ways): the peers' established streams stall, a get through e3 times out" \
    fault "data-unreceived-poll-missed" "unparsed-lines connect-refused"
}

# ---- chrony -----------------------------------------------------------------------------------

chrony_configs() {
  mkdir -p "$WORK/chrony"
  cat >"$WORK/chrony-server.conf" <<CFG
# An NTP server for the lab network, serving its local clock.
local stratum 8
allow 10.78.0.0/16
bindaddress 10.78.1.10
port 123
cmdport 0
bindcmdaddress /
driftfile $WORK/chrony/server.drift
pidfile $WORK/chrony/server.pid
CFG
  cat >"$WORK/chrony-client.conf" <<CFG
server 10.78.1.10 iburst maxsamples 4
cmdport 0
bindcmdaddress /
pidfile $WORK/chrony/client.pid
CFG
}

ntp_run() {
  start srv server chronyd -d -x -u root -f "$WORK/chrony-server.conf"
  wait_listening srv u 123
  # -Q: measure the offset and exit, never set the (shared) system clock.
  run c1 client chronyd -d -Q -t 8 -u root -f "$WORK/chrony-client.conf"
  stop server
}

sc_ntp_healthy() {
  begin ntp-healthy chrony record
  ntp_run
  evidence client 'System clock wrong|offset'
  expect "chronyd -Q measures its offset against a chronyd server (local stratum 8) over NTP/UDP 123" healthy "" ""
}

sc_ntp_replies_dropped() {
  begin ntp-replies-dropped chrony record
  in_ns c1 iptables -A INPUT -p udp --sport 123 -j DROP
  ntp_run
  evidence_fw c1 INPUT
  expect "the client's firewall drops the NTP replies: the server answers every request, the client gives up" \
    fault "udp-all-lost" "unparsed-lines udp-loss"
}

# ---- Node.js and Go HTTP services, telnet -----------------------------------------------------

web_services() {
  mkdir -p "$WORK/go"
  cat >"$WORK/node-server.js" <<'JS'
// A small Node.js HTTP service with keep-alive, as its documentation shows it.
const http = require('http');
const server = http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('hello from node ' + req.url + '\n');
});
server.keepAliveTimeout = 5000;
server.listen(8081, '10.78.1.10', () => console.log('listening on 10.78.1.10:8081'));
process.on('SIGINT', () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
JS
  cat >"$WORK/go/main.go" <<'GO'
// A small Go HTTP service (net/http), stopped by SIGINT with a graceful shutdown.
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
)

func main() {
	srv := &http.Server{Addr: "10.78.1.11:8082", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from go %s\n", r.URL.Path)
	})}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	go func() { <-stop; srv.Shutdown(context.Background()) }()
	log.Printf("listening on %s", srv.Addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
GO
  if [ ! -x "$WORK/go/goserver" ]; then
    (cd "$WORK/go" && GOPROXY=off GOFLAGS= GO111MODULE=off go build -o goserver main.go)
  fi
}

web_servers() {
  start srv node node "$WORK/node-server.js"
  start srv2 go env GOMAXPROCS=1 "$WORK/go/goserver"
  wait_listening srv t 8081
  wait_listening srv2 t 8082
}

# curl_keepalive N: CURL is a curl command making N requests to each service, reusing one
# connection per service; it prints status, new connections and time of each request.
curl_keepalive() {
  local i
  CURL=(curl -q -s -S -w '%{http_code} %{num_connects} %{time_total}\n')
  for i in $(seq "$1"); do CURL+=(-o /dev/null "http://10.78.1.10:8081/$i" -o /dev/null "http://10.78.1.11:8082/$i"); done
}

web_stop() {
  stop node
  stop go
}

sc_web_healthy() {
  begin web-healthy node-go record
  web_servers
  curl_keepalive 5
  run c1 client "${CURL[@]}"
  web_stop
  evidence client '^200 0'
  expect "curl makes 5 keep-alive requests to a Node.js and 5 to a Go net/http service (one connection each)" healthy "" ""
}

sc_web_healthy_plain() {
  begin web-healthy-plain node-go plain
  web_servers
  curl_keepalive 5
  run c1 client "${CURL[@]}"
  web_stop
  evidence client '^200 0'
  expect "curl keep-alive requests to Node.js and Go services; every host recorded with plain strace -f -tt -s 65535" \
    healthy "" ""
}

sc_web_nat_declared() {
  begin web-nat-declared node-go record
  web_servers
  curl_keepalive 3
  run pc client "${CURL[@]}"
  web_stop
  extra client "nat 10.78.2.21 10.78.1.254"
  evidence client '^200'
  expect "the client 10.78.2.21 reaches both services through a MASQUERADE router (public 10.78.1.254); the config declares the nat" \
    healthy "" ""
}

sc_web_nat_undeclared() {
  begin web-nat-undeclared node-go record
  web_servers
  curl_keepalive 3
  run pc client "${CURL[@]}"
  web_stop
  evidence client '^200'
  expect "the client 10.78.2.21 reaches both services through a MASQUERADE router; the config has no nat line" \
    fault "nat-undeclared" "unparsed-lines connect-refused port-forwarding"
}

sc_web_random_loss() {
  begin web-random-loss node-go record
  in_ns srv iptables -A INPUT -p tcp --dport 8081 -m statistic --mode random --probability 0.25 -j DROP
  in_ns srv2 iptables -A INPUT -p tcp --dport 8082 -m statistic --mode random --probability 0.25 -j DROP
  web_servers
  curl_keepalive 10
  run c1 client "${CURL[@]}"
  evidence_fw srv INPUT
  web_stop
  evidence client '^200 [01] ([1-9]|0\.[2-9])'
  expect "a quarter of the packets to both services are dropped at random: every request succeeds, after retransmissions, slowly" \
    fault "network-stall" "unparsed-lines connection-reset"
}

# telnetd is started by inetutils-inetd in the foreground (-d), as inetd does it: one telnetd per
# connection, on the accepted socket; it runs /bin/cat instead of login (-E).
telnet_conf() {
  printf '10.78.1.10:telnet stream tcp nowait root /usr/sbin/telnetd telnetd -h -E /bin/cat\n' >"$WORK/inetd.conf"
}

telnet_session() { # NS HOST: two typed lines; the session stays open 3 s after the second one
  run "$1" "$2" sh -c '(sleep 0.5; echo hello over telnet; sleep 0.5; echo second line; sleep 3) | exec telnet 10.78.1.10 23'
}

sc_telnet_healthy() {
  begin telnet-healthy telnet record
  start srv server inetutils-inetd -d --pidfile="$WORK/run/inetd.pid" "$WORK/inetd.conf"
  wait_listening srv t 23
  telnet_session c1 client
  stop server TERM
  evidence client '^second line'
  expect "an interactive telnet session (two lines echoed by cat) to inetutils-telnetd started by inetd" healthy "" ""
}

sc_telnet_random_loss() {
  begin telnet-random-loss telnet record
  in_ns srv iptables -A INPUT -p tcp --dport 23 -m statistic --mode random --probability 0.25 -j DROP
  start srv server inetutils-inetd -d --pidfile="$WORK/run/inetd.pid" "$WORK/inetd.conf"
  wait_listening srv t 23
  telnet_session c1 client
  evidence_fw srv INPUT
  stop server TERM
  evidence client '^second line'
  expect "a quarter of the packets to the telnet server are dropped at random: the session works, with retransmission delays" \
    fault "network-stall" "unparsed-lines connection-reset"
}

# ---- one connection at a time: lighttpd and Apache --------------------------------------------
#
# A server configured to serve one connection at a time (lighttpd `server.max-connections = 1`,
# Apache prefork with one worker). A first client fetches a 64 KB file at 32 KB/s (about 2 s,
# its connection held open all along); a second client connects 0.5 s later: the kernel completes
# its handshake and it waits in the listen backlog until the server closes the first connection.

one_configs() {
  mkdir -p "$WORK/www" "$WORK/apache"
  printf 'hello from the netcheck application lab\n' >"$WORK/www/index.html"
  # 64 KB of text (printable, so a plain trace shows it without escapes).
  "$PYTHON" -c 'import sys; sys.stdout.write(("x" * 63 + "\n") * 1024)' >"$WORK/www/big.txt"
  cat >"$WORK/lighttpd-one.conf" <<CFG
server.document-root = "$WORK/www"
server.bind = "10.78.1.10"
server.port = 80
server.errorlog = "$WORK/lighttpd-one-error.log"
# One connection at a time: while it is open lighttpd stops accepting.
server.max-connections = 1
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html", ".txt" => "text/plain" )
CFG
  # The same with a listen backlog of 1: Linux queues two handshaken connections, and drops the
  # SYNs of any more until the server accepts.
  { cat "$WORK/lighttpd-one.conf"; echo 'server.listen-backlog = 1'; } >"$WORK/lighttpd-one-q1.conf"
  cat >"$WORK/apache.conf" <<CFG
# Apache 2.4, prefork with a single worker process: one connection at a time.
ServerRoot "$WORK/apache"
ServerName srv
Listen 10.78.1.10:80
PidFile "$WORK/apache/httpd.pid"
DefaultRuntimeDir "$WORK/apache"
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
User www-data
Group www-data
ErrorLog /dev/stderr
LogLevel info
StartServers 1
MinSpareServers 1
MaxSpareServers 1
ServerLimit 1
MaxRequestWorkers 1
KeepAlive On
KeepAliveTimeout 5
EnableSendfile On
DocumentRoot "$WORK/www"
DirectoryIndex index.html
<Directory "$WORK/www">
    Require all granted
</Directory>
CFG
  { cat "$WORK/apache.conf"; echo 'ListenBacklog 1'; } >"$WORK/apache-q1.conf"
  cat >"$WORK/fetch.py" <<'PY'
# A client as scripts write it: urllib.request with a timeout; prints status, bytes, seconds.
import sys, time, urllib.request
url, timeout = sys.argv[1], float(sys.argv[2])
start = time.monotonic()
try:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        body = answer.read()
        print(answer.status, len(body), "%.3f" % (time.monotonic() - start))
except OSError as error:
    print("error:", error, "%.3f" % (time.monotonic() - start))
    sys.exit(1)
PY
}

lighty_one_start() {
  start srv server lighttpd -D -f "$WORK/lighttpd-one.conf"
  wait_listening srv t 80
}

# The slow first client: wget at 32 KB/s (its keep-alive connection stays open until it is done).
slow_client() { # NS HOST
  start "$1" "$2" wget -nv --limit-rate=32k -O /dev/null http://10.78.1.10/big.txt
}

# The second client, with a timeout of TIMEOUT seconds: curl --max-time, or a Python urllib
# script (recorded with `netcheck record` only: under `-s 65535` Python's start-up prints every
# module it reads whole).
curl_get() { # NS HOST TIMEOUT
  run "$1" "$2" curl -q -s -S --max-time "$3" -o /dev/null \
    -w '%{http_code} %{time_connect} %{time_starttransfer} %{time_total}\n' http://10.78.1.10/
}
python_get() { # NS HOST TIMEOUT
  run "$1" "$2" "$PYTHON" "$WORK/fetch.py" http://10.78.1.10/ "$3"
}

# lighttpd, clients one after the other: CLIENT2 is curl_get or python_get.
lighty_sequential() { # CLIENT2
  lighty_one_start
  slow_client c1 client1
  finish client1
  sleep 1.2                       # lighttpd looks at its listener again once a second
  "$1" c2 client2 10
  stop server TERM
  evidence client1 'URL:.*big.txt'
  evidence client2 '^200'
}

# lighttpd, the second client connecting 0.5 s into the first one's download. lighttpd is stopped
# as soon as the first client is done: with a timeout shorter than the wait, the second client's
# connection is never accepted (lighttpd looks at its listener again only on its next second).
lighty_overlap() { # CLIENT2 TIMEOUT
  lighty_one_start
  slow_client c1 client1
  sleep 0.5
  "$1" c2 client2 "$2"
  finish client1
  stop server TERM
  evidence client1 'URL:.*big.txt'
  evidence client2 '^200|timed out'
}

sc_lighty_healthy() {
  begin lighty-healthy lighttpd record
  lighty_sequential python_get
  expect "lighttpd with server.max-connections = 1 serves a 64 KB file to wget at 32 KB/s, then a Python urllib client: one after the other, nobody waits" \
    healthy "" ""
}

sc_lighty_backlog_wait() {
  begin lighty-backlog-wait lighttpd record
  lighty_overlap python_get 10
  expect "lighttpd with server.max-connections = 1 serves wget a 64 KB file at 32 KB/s for 2 s; a Python urllib client connecting meanwhile waits in the listen backlog until that connection closes, then is served" \
    fault "admission-limit" "unparsed-lines network-stall"
}

sc_lighty_backlog_give_up() {
  begin lighty-backlog-give-up lighttpd record
  lighty_overlap python_get 1
  expect "lighttpd with server.max-connections = 1 serves wget a 64 KB file at 32 KB/s for 2 s; a Python urllib client (timeout 1 s) connecting meanwhile gives up in the listen backlog; lighttpd never accepts it" \
    fault "admission-limit" "unparsed-lines network-stall connection-not-accepted"
}

# lighttpd with a listen backlog of 1: three curl clients connect 0.5, 0.6 and 0.7 s into the
# download; two fill the accept queue, the third one's SYNs are dropped and sent again.
sc_lighty_backlog_full() {
  begin lighty-backlog-full lighttpd record
  start srv server lighttpd -D -f "$WORK/lighttpd-one-q1.conf"
  wait_listening srv t 80
  slow_client c1 client1
  sleep 0.5
  start c2 client2 curl -q -s -S --max-time 10 -o /dev/null \
    -w '%{http_code} %{time_connect} %{time_starttransfer} %{time_total}\n' http://10.78.1.10/
  sleep 0.1
  start c2 client3 curl -q -s -S --max-time 10 -o /dev/null \
    -w '%{http_code} %{time_connect} %{time_starttransfer} %{time_total}\n' http://10.78.1.10/
  sleep 0.1
  curl_get c1 client4 10
  finish client2
  finish client3
  finish client1
  stop server TERM
  evidence client1 'URL:.*big.txt'
  evidence client2 '^200'
  evidence client3 '^200'
  evidence client4 '^200'
  expect "lighttpd with server.max-connections = 1 and server.listen-backlog = 1 serves wget a 64 KB file at 32 KB/s for 2 s; of three curl clients connecting meanwhile two wait in the full accept queue, the third one's SYNs are dropped until there is room: all are served, late" \
    fault "admission-limit" "unparsed-lines network-stall"
}

sc_lighty_healthy_plain() {
  begin lighty-healthy-plain lighttpd plain
  lighty_sequential curl_get
  expect "lighttpd with server.max-connections = 1 serves a 64 KB file to wget at 32 KB/s, then curl: one after the other, nobody waits; plain strace -f -tt -s 65535" \
    healthy "" ""
}

sc_lighty_backlog_wait_plain() {
  begin lighty-backlog-wait-plain lighttpd plain
  lighty_overlap curl_get 10
  expect "lighttpd with server.max-connections = 1 serves wget a 64 KB file at 32 KB/s for 2 s; curl connecting meanwhile waits in the listen backlog until that connection closes, then is served; plain strace -f -tt -s 65535" \
    fault "admission-limit" "unparsed-lines network-stall"
}

sc_lighty_backlog_give_up_plain() {
  begin lighty-backlog-give-up-plain lighttpd plain
  lighty_overlap curl_get 1
  expect "lighttpd with server.max-connections = 1 serves wget a 64 KB file at 32 KB/s for 2 s; curl --max-time 1 connecting meanwhile gives up in the listen backlog; lighttpd never accepts it; plain strace -f -tt -s 65535" \
    fault "admission-limit" "unparsed-lines network-stall connection-not-accepted"
}

# Apache prefork's one worker blocks in accept, serves one connection, and accepts again.
apache_start() {
  start srv server apache2 -DFOREGROUND -f "$WORK/apache.conf"
  wait_listening srv t 80
  sleep 0.3                       # the one worker process is up
}

sc_apache_healthy() {
  begin apache-healthy apache record
  apache_start
  slow_client c1 client1
  finish client1
  curl_get c2 client2 10
  stop server TERM
  evidence client1 'URL:.*big.txt'
  evidence client2 '^200'
  expect "Apache prefork with one worker serves a 64 KB file to wget at 32 KB/s, then curl: one after the other, nobody waits" \
    healthy "" ""
}

# Apache, curl connecting 0.5 s into wget's download; Apache runs on until after the download.
apache_overlap() { # MAX_TIME
  apache_start
  slow_client c1 client1
  sleep 0.5
  curl_get c2 client2 "$1"
  finish client1
  sleep 0.3                       # the worker accepts what waits in the backlog
  stop server TERM
  evidence client1 'URL:.*big.txt'
  evidence client2 '^200|timed out'
}

sc_apache_backlog_wait() {
  begin apache-backlog-wait apache record
  apache_overlap 10
  expect "Apache prefork with one worker serves wget a 64 KB file at 32 KB/s for 2 s; curl connecting meanwhile waits in the listen backlog until that connection closes, then is served" \
    fault "admission-limit" "unparsed-lines network-stall"
}

sc_apache_backlog_give_up() {
  begin apache-backlog-give-up apache record
  apache_overlap 1
  expect "Apache prefork with one worker serves wget a 64 KB file at 32 KB/s for 2 s; curl --max-time 1 connecting meanwhile gives up in the listen backlog; Apache accepts it after the download, reads the request and answers a client long gone" \
    fault "admission-limit" "unparsed-lines network-stall send-after-peer-closed"
}

# Apache with a listen backlog of 1, as lighty-backlog-full: three curl clients connect 0.5, 0.6
# and 0.7 s into the download; two fill the accept queue, the third one's handshake waits (Linux
# drops its SYN, or the ACK that would complete it, while the queue is full).
sc_apache_backlog_full() {
  begin apache-backlog-full apache record
  start srv server apache2 -DFOREGROUND -f "$WORK/apache-q1.conf"
  wait_listening srv t 80
  sleep 0.3                       # the one worker process is up
  slow_client c1 client1
  sleep 0.5
  start c2 client2 curl -q -s -S --max-time 10 -o /dev/null \
    -w '%{http_code} %{time_connect} %{time_starttransfer} %{time_total}\n' http://10.78.1.10/
  sleep 0.1
  start c2 client3 curl -q -s -S --max-time 10 -o /dev/null \
    -w '%{http_code} %{time_connect} %{time_starttransfer} %{time_total}\n' http://10.78.1.10/
  sleep 0.1
  curl_get c1 client4 10
  finish client2
  finish client3
  finish client1
  sleep 0.3                       # the worker accepts what waits in the backlog
  stop server TERM
  evidence client1 'URL:.*big.txt'
  evidence client2 '^200'
  evidence client3 '^200'
  evidence client4 '^200'
  expect "Apache prefork with one worker and ListenBacklog 1 serves wget a 64 KB file at 32 KB/s for 2 s; of three curl clients connecting meanwhile two wait in the full accept queue, the third one's handshake waits until there is room: all are served, late" \
    fault "admission-limit" "unparsed-lines network-stall"
}

# Plain recordings of Apache attach `strace -f -tt -s 65535 -p` to its one worker process once it
# runs, as one looks at a production server (recorded from the start, Apache's start-up alone
# writes 450 KB of `getrandom` lines): the trace begins with the worker blocked in accept4, and
# has no socket, bind or listen.
apache_attach() { attach_worker apache 80 apache2 -DFOREGROUND -f "$WORK/apache.conf"; }
apache_attach_stop() { attach_worker_stop apache; }

sc_apache_healthy_plain() {
  begin apache-healthy-plain apache plain
  apache_attach
  slow_client c1 client1
  finish client1
  curl_get c2 client2 10
  apache_attach_stop
  evidence client1 'URL:.*big.txt'
  evidence client2 '^200'
  expect "Apache prefork with one worker serves a 64 KB file to wget at 32 KB/s, then curl: one after the other, nobody waits; plain strace -f -tt -s 65535, attached to the worker with -p" \
    healthy "" ""
}

sc_apache_backlog_wait_plain() {
  begin apache-backlog-wait-plain apache plain
  apache_attach
  slow_client c1 client1
  sleep 0.5
  curl_get c2 client2 10
  finish client1
  sleep 0.3
  apache_attach_stop
  evidence client1 'URL:.*big.txt'
  evidence client2 '^200'
  expect "Apache prefork with one worker serves wget a 64 KB file at 32 KB/s for 2 s; curl connecting meanwhile waits in the listen backlog until that connection closes, then is served; plain strace -f -tt -s 65535, attached to the worker with -p" \
    fault "admission-limit" "unparsed-lines network-stall"
}

# ---- nginx over a lossy link ------------------------------------------------------------------
#
# nginx (one worker, sendfile) on srv:80. The lossy scenarios drop a quarter of the packets of
# port 80 at random in both directions on srv (`-m statistic --mode random --probability 0.25`,
# 0.2 for the downloads):
# TCP retransmits and every transfer completes, late. The loss spares the handshake: requests
# are slowed in the transfer, never in the connect (lost SYNs are shown by web-random-loss).

nginx_loss_configs() {
  mkdir -p "$WORK/www" "$WORK/nginx-srv"
  printf 'hello from the netcheck application lab\n' >"$WORK/www/index.html"
  "$PYTHON" -c 'import sys; sys.stdout.write(("y" * 63 + "\n") * 3200)' >"$WORK/www/200k.txt"
  "$PYTHON" -c 'import sys; sys.stdout.write(("y" * 63 + "\n") * 1600)' >"$WORK/www/100k.txt"
  "$PYTHON" -c 'import sys; sys.stdout.write(("y" * 63 + "\n") * 32768)' >"$WORK/www/2m.txt"
  cat >"$WORK/nginx-srv.conf" <<CFG
worker_processes 1;
pid $WORK/nginx-srv/nginx.pid;
error_log stderr;
events { worker_connections 64; }
http {
    access_log off;
    sendfile on;
    keepalive_timeout 30s;
    client_body_temp_path $WORK/nginx-srv/body;
    proxy_temp_path $WORK/nginx-srv/proxy;
    fastcgi_temp_path $WORK/nginx-srv/fastcgi;
    uwsgi_temp_path $WORK/nginx-srv/uwsgi;
    scgi_temp_path $WORK/nginx-srv/scgi;
    server {
        listen 10.78.1.10:80;
        root $WORK/www;
    }
}
CFG
  cat >"$WORK/keepalive.py" <<'PY'
# N small requests over one keep-alive connection (http.client); prints status, bytes, seconds.
import http.client, sys, time
host, count = sys.argv[1], int(sys.argv[2])
conn = http.client.HTTPConnection(host, 80, timeout=30)
for i in range(count):
    start = time.monotonic()
    conn.request("GET", "/?n=%d" % i)
    answer = conn.getresponse()
    body = answer.read()
    print(answer.status, len(body), "%.3f" % (time.monotonic() - start), flush=True)
conn.close()
PY
  mkdir -p "$WORK/go-keepalive"
  cat >"$WORK/go-keepalive/main.go" <<'GO'
// N small requests over one keep-alive connection (net/http); prints status, bytes, seconds.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	host := os.Args[1]
	count, _ := strconv.Atoi(os.Args[2])
	client := &http.Client{Timeout: 30 * time.Second}
	for i := 0; i < count; i++ {
		start := time.Now()
		answer, err := client.Get(fmt.Sprintf("http://%s/?n=%d", host, i))
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		body, _ := io.ReadAll(answer.Body)
		answer.Body.Close()
		fmt.Printf("%d %d %.3f\n", answer.StatusCode, len(body), time.Since(start).Seconds())
	}
}
GO
  if [ ! -x "$WORK/go-keepalive/keepalive" ]; then
    (cd "$WORK/go-keepalive" && GOPROXY=off GOFLAGS= GO111MODULE=off go build -o keepalive main.go)
  fi
}

# lossy_link P [established]: drop port 80's packets on srv at random with probability P, both
# ways; with `established`, spare the handshake (SYN, SYN-ACK): the loss delays the transfer only.
lossy_link() {
  local spare=()
  if [ "${2:-}" = established ]; then spare=(! --tcp-flags SYN SYN); fi
  in_ns srv iptables -A INPUT -p tcp --dport 80 "${spare[@]}" -m statistic --mode random --probability "$1" -j DROP
  in_ns srv iptables -A OUTPUT -p tcp --sport 80 "${spare[@]}" -m statistic --mode random --probability "$1" -j DROP
}

# srv sends one segment per packet (as a NIC without segmentation offload does), so that the
# firewall drops segments, not 64 KB GSO bursts.
nginx_srv_start() {
  ip -n "$(ns srv)" link set dev eth0 gso_max_segs 1
  start srv server nginx -c "$WORK/nginx-srv.conf" -g 'daemon off;'
  wait_listening srv t 80
}

# curl downloads 200 KB; 100 KB under plain strace, whose trace holds every byte twice (read, and
# written to /dev/null).
nginx_download() { # NS HOST
  local file=200k.txt
  if [ "$FLAGS" = plain ]; then file=100k.txt; fi
  run "$1" "$2" curl -q -s -S --max-time 35 -o /dev/null \
    -w '%{http_code} %{size_download} %{num_connects} %{time_connect} %{time_total}\n' \
    "http://10.78.1.10/$file"
}

# keep-alive clients: Python http.client (record) or one curl with 20 URLs (plain).
nginx_keepalive_python() { run c1 client "$PYTHON" "$WORK/keepalive.py" 10.78.1.10 20; }
# The same 20 requests from Go's net/http client (plain: a Go program reads few files at start).
nginx_keepalive_go() { run c1 client env GOMAXPROCS=1 "$WORK/go-keepalive/keepalive" 10.78.1.10 20; }
nginx_keepalive_curl() {
  local i urls=()
  for i in $(seq 20); do urls+=(-o /dev/null "http://10.78.1.10/?n=$i"); done
  run c1 client curl -q -s -S --max-time 35 -w '%{http_code} %{num_connects} %{time_total}\n' "${urls[@]}"
}

sc_nginx_download_healthy() {
  begin nginx-download-healthy nginx record
  nginx_srv_start
  nginx_download c1 client
  stop server QUIT
  evidence client '^200 204800'
  expect "curl downloads a 200 KB file from nginx" healthy "" ""
}

sc_nginx_download_loss() {
  begin nginx-download-loss nginx record
  lossy_link 0.2 established
  nginx_srv_start
  nginx_download c1 client
  evidence_fw srv INPUT
  evidence_fw srv OUTPUT
  stop server QUIT
  evidence client '^200 204800'
  expect "a fifth of the packets between curl and nginx (all but the handshake) are dropped at random both ways: the 200 KB download completes after retransmissions" \
    fault "network-stall" "unparsed-lines connection-reset"
}

sc_nginx_download_healthy_plain() {
  begin nginx-download-healthy-plain nginx plain
  nginx_srv_start
  nginx_download c1 client
  stop server QUIT
  evidence client '^200 102400'
  expect "curl downloads a 100 KB file from nginx; plain strace -f -tt -s 65535" healthy "" ""
}

sc_nginx_download_loss_plain() {
  begin nginx-download-loss-plain nginx plain
  lossy_link 0.2 established
  nginx_srv_start
  nginx_download c1 client
  evidence_fw srv INPUT
  evidence_fw srv OUTPUT
  stop server QUIT
  evidence client '^200 102400'
  expect "a fifth of the packets between curl and nginx (all but the handshake) are dropped at random both ways: the 100 KB download completes after retransmissions; plain strace -f -tt -s 65535" \
    fault "network-stall" "unparsed-lines connection-reset"
}

sc_nginx_keepalive_healthy() {
  begin nginx-keepalive-healthy nginx record
  nginx_srv_start
  nginx_keepalive_python
  stop server QUIT
  evidence client '^200'
  expect "a Python http.client makes 20 small requests to nginx over one keep-alive connection" healthy "" ""
}

sc_nginx_keepalive_loss() {
  begin nginx-keepalive-loss nginx record
  lossy_link 0.25 established
  nginx_srv_start
  nginx_keepalive_python
  evidence_fw srv INPUT
  evidence_fw srv OUTPUT
  stop server QUIT
  evidence client '^200 [0-9]+ ([1-9]|0\.[2-9])'
  expect "a quarter of the packets between a Python http.client and nginx (all but the handshake) are dropped at random both ways: 20 keep-alive requests all succeed, some after retransmissions" \
    fault "network-stall" "unparsed-lines connection-reset"
}

sc_nginx_keepalive_healthy_plain() {
  begin nginx-keepalive-healthy-plain nginx plain
  nginx_srv_start
  nginx_keepalive_curl
  stop server QUIT
  evidence client '^200 0'
  expect "curl makes 20 small requests to nginx over one keep-alive connection; plain strace -f -tt -s 65535" \
    healthy "" ""
}

sc_nginx_keepalive_loss_plain() {
  begin nginx-keepalive-loss-plain nginx plain
  lossy_link 0.25 established
  nginx_srv_start
  nginx_keepalive_curl
  evidence_fw srv INPUT
  evidence_fw srv OUTPUT
  stop server QUIT
  evidence client '^200 [01] ([1-9]|0\.[2-9])'
  expect "a quarter of the packets between curl (20 keep-alive requests) and nginx (all but the handshake) are dropped at random both ways: all succeed, some after retransmissions; plain strace -f -tt -s 65535" \
    fault "network-stall" "unparsed-lines connection-reset"
}

# ---- daemons traced after they started (strace -p) -------------------------------------------
#
# Each daemon starts untraced and strace attaches to it (`attach`: strace -f -tt -s 65535 -p), as
# an operator does with a running server: its listening and UDP sockets were opened before the
# trace began, and no line shows them created.

attached_configs() {
  mkdir -p "$WORK/www" "$WORK/nginx-two"
  printf 'hello from the netcheck application lab\n' >"$WORK/www/index.html"
  cat >"$WORK/nginx-two.conf" <<CFG
worker_processes 1;
pid $WORK/nginx-two/nginx.pid;
error_log stderr;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx-two/body;
    proxy_temp_path $WORK/nginx-two/proxy;
    fastcgi_temp_path $WORK/nginx-two/fastcgi;
    uwsgi_temp_path $WORK/nginx-two/uwsgi;
    scgi_temp_path $WORK/nginx-two/scgi;
    server {
        listen 10.78.1.10:80;
        listen 10.78.1.10:8080;
        root $WORK/www;
    }
}
CFG
}

# nginx on ports 80 and 8080, strace attached to its one worker (the process that accepts).
nginx_attach() { attach_worker nginx 8080 nginx -c "$WORK/nginx-two.conf" -g 'daemon off;'; }
nginx_attach_stop() { attach_worker_stop nginx; }

curl_port() { # NS HOST PORT
  run "$1" "$2" curl -q -s -S --max-time 5 -o /dev/null -w '%{http_code}\n' "http://10.78.1.10:$3/"
}

sc_attached_nginx_two_ports() {
  begin attached-nginx-two-ports nginx plain
  nginx_attach
  curl_port c1 client1 8080
  curl_port c2 client2 80
  curl_port c1 client3 8080
  nginx_attach_stop
  evidence client1 '^200'
  evidence client2 '^200'
  expect "nginx listens on ports 80 and 8080; three curl requests, to 8080, 80 and 8080 again; plain strace -f -tt -s 65535, attached to the running worker with -p" \
    healthy "" ""
}

sc_attached_nginx_refused() {
  begin attached-nginx-refused nginx plain
  nginx_attach
  curl_port c1 client1 8081
  curl_port c2 client2 80
  nginx_attach_stop
  evidence client1 'Failed to connect|Connection refused'
  evidence client2 '^200'
  expect "nginx listens on ports 80 and 8080; a curl to port 8081, where nothing listens, is refused, one to port 80 is served; plain strace -f -tt -s 65535, attached to the running worker with -p" \
    fault "connect-refused" "unparsed-lines connect-refused-while-listening connection-not-accepted"
}

memcached_attach() {
  daemon srv memcached memcached -u nobody -l 10.78.1.10 -p 11211 -U 11211 -t 1 -v
  wait_listening srv u 11211
  attach srv server "$DAEMON_PID"
}

sc_attached_memcached_healthy() {
  begin attached-memcached-healthy memcached plain
  memcached_attach
  mc_clients
  stop server
  finish memcached
  evidence tcp-client '^VALUE greeting'
  expect "memcached over TCP and UDP; plain strace -f -tt -s 65535, attached to the running memcached with -p" \
    healthy "" ""
}

sc_attached_memcached_udp_dropped() {
  begin attached-memcached-udp-dropped memcached plain
  in_ns c2 iptables -A INPUT -p udp --sport 11211 -j DROP
  memcached_attach
  mc_clients
  evidence_fw c2 INPUT
  stop server
  finish memcached
  expect "the UDP client's firewall drops memcached's replies: the server answers, the get sees nothing; plain strace -f -tt -s 65535, attached to the running memcached with -p" \
    fault "udp-all-lost" "unparsed-lines udp-loss"
}

sc_attached_lighty_healthy() {
  begin attached-lighty-healthy lighttpd plain
  daemon srv lighttpd lighttpd -D -f "$WORK/lighttpd-one.conf"
  wait_listening srv t 80
  attach srv server "$DAEMON_PID"
  curl_get c1 client1 5
  curl_get c2 client2 5
  stop server
  finish lighttpd
  evidence client1 '^200'
  expect "lighttpd serves two curl requests one after the other; plain strace -f -tt -s 65535, attached to the running lighttpd with -p" \
    healthy "" ""
}

# A 2 MB file: more than nginx's socket takes at once, so its sendfile moves part of it, gets
# EAGAIN and waits for EPOLLOUT. Healthy: wget reads at 512 KB/s (--limit-rate), so nginx waits
# on a full buffer while wget's reads find their bytes waiting. Loss: one packet in twenty (a
# fifth, as for the small download, stalls 2 MB past any timeout).
nginx_bigfile() { # [CURL OPTION...]
  run c1 client curl -q -s -S --max-time 35 -o /dev/null "$@" \
    -w '%{http_code} %{size_download} %{num_connects} %{time_connect} %{time_total}\n' \
    "http://10.78.1.10/2m.txt"
}

sc_nginx_bigfile_healthy() {
  begin nginx-bigfile-healthy nginx record
  nginx_srv_start
  run c1 client wget -nv -O /dev/null --limit-rate=512k --timeout=35 --tries=1 "http://10.78.1.10/2m.txt"
  stop server QUIT
  evidence client '2097152/2097152'
  expect "wget downloads a 2 MB file from nginx at 512 KB/s (--limit-rate): nginx waits for room in its socket's buffer" healthy "" ""
}

sc_nginx_bigfile_loss() {
  begin nginx-bigfile-loss nginx record
  lossy_link 0.05 established
  nginx_srv_start
  nginx_bigfile
  evidence_fw srv INPUT
  evidence_fw srv OUTPUT
  stop server QUIT
  evidence client '^200 2097152'
  expect "one packet in twenty between curl and nginx (all but the handshake) is dropped at random both ways: the 2 MB download, more than nginx's socket takes at once, completes after retransmissions" \
    fault "network-stall" "unparsed-lines connection-reset"
}

# Python's http.server (one thread; it copies the file to the socket in 64 KiB writes) serves
# the 200 KB file to wget, on the same lossy link.
pyweb_srv_start() {
  ip -n "$(ns srv)" link set dev eth0 gso_max_segs 1
  start srv server "$PYTHON" -m http.server --bind 10.78.1.10 --directory "$WORK/www" 80
  wait_listening srv t 80
}

wget_download() { run c1 client wget -nv -O /dev/null --timeout=35 --tries=1 "http://10.78.1.10/200k.txt"; }

sc_pyweb_download_healthy() {
  begin pyweb-download-healthy python record
  pyweb_srv_start
  wget_download
  stop server INT
  evidence client '204800/204800'
  expect "wget downloads a 200 KB file from Python's http.server" healthy "" ""
}

sc_pyweb_download_loss() {
  begin pyweb-download-loss python record
  lossy_link 0.2 established
  pyweb_srv_start
  wget_download
  evidence_fw srv INPUT
  evidence_fw srv OUTPUT
  stop server INT
  evidence client '204800/204800'
  expect "a fifth of the packets between wget and Python's http.server (all but the handshake) are dropped at random both ways: the 200 KB download completes after retransmissions" \
    fault "network-stall" "unparsed-lines connection-reset"
}

sc_nginx_keepalive_go_healthy_plain() {
  begin nginx-keepalive-go-healthy-plain nginx plain
  nginx_srv_start
  nginx_keepalive_go
  stop server QUIT
  evidence client '^200'
  expect "a Go net/http client makes 20 small requests to nginx over one keep-alive connection; plain strace -f -tt -s 65535" \
    healthy "" ""
}

sc_nginx_keepalive_go_loss_plain() {
  begin nginx-keepalive-go-loss-plain nginx plain
  lossy_link 0.25 established
  nginx_srv_start
  nginx_keepalive_go
  evidence_fw srv INPUT
  evidence_fw srv OUTPUT
  stop server QUIT
  evidence client '^200 [0-9]+ ([1-9]|0\.[2-9])'
  expect "a quarter of the packets between a Go net/http client (20 keep-alive requests) and nginx (all but the handshake) are dropped at random both ways: all succeed, some after retransmissions; plain strace -f -tt -s 65535" \
    fault "network-stall" "unparsed-lines connection-reset"
}

# ---- downloads by event loops ------------------------------------------------------------------
#
# The download above, received by programs that wait with epoll and name no socket in their
# waits: Go's net/http client (its netpoller blocks in epoll_pwait, reads until EAGAIN) and
# Node.js's http.get (libuv's epoll_wait). Healthy and at a fifth of the packets lost, recorded
# under `netcheck record` and plain (100 KB there, as for curl).

download_clients() {
  mkdir -p "$WORK/go-download"
  cat >"$WORK/go-download/main.go" <<'GO'
// Downloads one URL with net/http and discards the body; prints status, bytes, seconds.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	start := time.Now()
	client := &http.Client{Timeout: 35 * time.Second}
	answer, err := client.Get(os.Args[1])
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	bytes, err := io.Copy(io.Discard, answer.Body)
	answer.Body.Close()
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Printf("%d %d %.3f\n", answer.StatusCode, bytes, time.Since(start).Seconds())
}
GO
  if [ ! -x "$WORK/go-download/download" ]; then
    (cd "$WORK/go-download" && GOPROXY=off GOFLAGS= GO111MODULE=off go build -o download main.go)
  fi
  cat >"$WORK/download.js" <<'JS'
// Downloads one URL with http.get and discards the body; prints status, bytes, seconds.
const http = require('http');
const start = process.hrtime.bigint();
http.get(process.argv[2], (answer) => {
  let bytes = 0;
  answer.on('data', (chunk) => { bytes += chunk.length; });
  answer.on('end', () => {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(answer.statusCode, bytes, seconds.toFixed(3));
  });
}).on('error', (e) => { console.log('error:', e.message); process.exit(1); });
JS
}

download_file() { if [ "$FLAGS" = plain ]; then echo 100k.txt; else echo 200k.txt; fi; }
go_download() { run c1 client env GOMAXPROCS=1 "$WORK/go-download/download" "http://10.78.1.10/$(download_file)"; }
node_download() { run c1 client node "$WORK/download.js" "http://10.78.1.10/$(download_file)"; }

# event_download NAME FLAGS CLIENT healthy|loss DESCRIPTION: nginx serves CLIENT (go|node) the
# file, over a clean link or one dropping a fifth of the packets (all but the handshake).
event_download() {
  local name=$1 flags=$2 client=$3 kind=$4 description=$5 size
  begin "$name" nginx "$flags"
  download_clients
  if [ "$kind" = loss ]; then lossy_link 0.2 established; fi
  nginx_srv_start
  "${client}_download"
  if [ "$kind" = loss ]; then evidence_fw srv INPUT; evidence_fw srv OUTPUT; fi
  stop server QUIT
  size=204800
  if [ "$flags" = plain ]; then size=102400; fi
  evidence client "^200 $size"
  if [ "$kind" = loss ]; then
    expect "$description" fault "network-stall" "unparsed-lines connection-reset"
  else
    expect "$description" healthy "" ""
  fi
}

sc_nginx_download_go_healthy() {
  event_download nginx-download-go-healthy record go healthy \
    "a Go net/http client downloads a 200 KB file from nginx"
}

sc_nginx_download_go_loss() {
  event_download nginx-download-go-loss record go loss \
    "a fifth of the packets between a Go net/http client and nginx (all but the handshake) are dropped at random both ways: the 200 KB download completes after retransmissions"
}

sc_nginx_download_go_healthy_plain() {
  event_download nginx-download-go-healthy-plain plain go healthy \
    "a Go net/http client downloads a 100 KB file from nginx; plain strace -f -tt -s 65535"
}

sc_nginx_download_go_loss_plain() {
  event_download nginx-download-go-loss-plain plain go loss \
    "a fifth of the packets between a Go net/http client and nginx (all but the handshake) are dropped at random both ways: the 100 KB download completes after retransmissions; plain strace -f -tt -s 65535"
}

sc_nginx_download_node_healthy() {
  event_download nginx-download-node-healthy record node healthy \
    "Node.js's http.get downloads a 200 KB file from nginx"
}

sc_nginx_download_node_loss() {
  event_download nginx-download-node-loss record node loss \
    "a fifth of the packets between Node.js's http.get and nginx (all but the handshake) are dropped at random both ways: the 200 KB download completes after retransmissions"
}

sc_nginx_download_node_healthy_plain() {
  event_download nginx-download-node-healthy-plain plain node healthy \
    "Node.js's http.get downloads a 100 KB file from nginx; plain strace -f -tt -s 65535"
}

sc_nginx_download_node_loss_plain() {
  event_download nginx-download-node-loss-plain plain node loss \
    "a fifth of the packets between Node.js's http.get and nginx (all but the handshake) are dropped at random both ways: the 100 KB download completes after retransmissions; plain strace -f -tt -s 65535"
}

# nginx as a reverse proxy, receiving on its epoll set: it fetches the 200 KB file from Python's
# http.server on srv2:8080 for curl. Loss (srv2's side, both ways, the handshake spared) is on the
# link between nginx and the backend, so the stall is nginx's, as the receiver of the answer.
proxy_config() {
  mkdir -p "$WORK/nginx-proxy"
  cat >"$WORK/nginx-proxy.conf" <<CFG
worker_processes 1;
pid $WORK/nginx-proxy/nginx.pid;
error_log stderr;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx-proxy/body;
    proxy_temp_path $WORK/nginx-proxy/proxy;
    fastcgi_temp_path $WORK/nginx-proxy/fastcgi;
    uwsgi_temp_path $WORK/nginx-proxy/uwsgi;
    scgi_temp_path $WORK/nginx-proxy/scgi;
    server {
        listen 10.78.1.10:80;
        location / { proxy_pass http://10.78.1.11:8080; }
    }
}
CFG
}

proxy_download() { # NAME healthy|loss DESCRIPTION
  local name=$1 kind=$2 description=$3
  begin "$name" nginx record
  proxy_config
  if [ "$kind" = loss ]; then
    in_ns srv2 iptables -A INPUT -p tcp --dport 8080 ! --tcp-flags SYN SYN -m statistic --mode random --probability 0.2 -j DROP
    in_ns srv2 iptables -A OUTPUT -p tcp --sport 8080 ! --tcp-flags SYN SYN -m statistic --mode random --probability 0.2 -j DROP
  fi
  ip -n "$(ns srv2)" link set dev eth0 gso_max_segs 1
  start srv2 backend "$PYTHON" -m http.server --bind 10.78.1.11 --directory "$WORK/www" 8080
  wait_listening srv2 t 8080
  start srv server nginx -c "$WORK/nginx-proxy.conf" -g 'daemon off;'
  wait_listening srv t 80
  run c1 client curl -q -s -S --max-time 35 -o /dev/null \
    -w '%{http_code} %{size_download} %{num_connects} %{time_connect} %{time_total}\n' \
    "http://10.78.1.10/200k.txt"
  if [ "$kind" = loss ]; then evidence_fw srv2 INPUT; evidence_fw srv2 OUTPUT; fi
  stop server QUIT
  stop backend INT
  ip -n "$(ns srv2)" link set dev eth0 gso_max_segs 65535
  evidence client '^200 204800'
  if [ "$kind" = loss ]; then
    expect "$description" fault "network-stall" "unparsed-lines connection-reset"
  else
    expect "$description" healthy "" ""
  fi
}

sc_nginx_proxy_healthy() {
  proxy_download nginx-proxy-healthy healthy \
    "curl downloads a 200 KB file through nginx, a reverse proxy to Python's http.server"
}

sc_nginx_proxy_loss() {
  proxy_download nginx-proxy-loss loss \
    "a fifth of the packets between nginx (a reverse proxy) and Python's http.server behind it (all but the handshake) are dropped at random both ways: curl's 200 KB download through nginx completes after retransmissions"
}

# ---- bulk transfers and file sync: iperf3, rsync ----------------------------------------------
#
# iperf3 runs one test (`-s -1`) at a capped bitrate so the traces stay small; rsync runs as a
# daemon (`--daemon --no-detach`, one forked child per client) serving one module.

iperf_test() { # extra client options...
  start srv server iperf3 -s -1 -B 10.78.1.10 -p 5201
  wait_listening srv t 5201
  run c1 client iperf3 -c 10.78.1.10 -p 5201 -t 2 -b 1M -l 4K "$@"
  finish server
}

sc_iperf_healthy() {
  begin iperf-healthy iperf3 record
  iperf_test
  evidence client 'receiver'
  expect "iperf3: a 2 s test at 1 Mbit/s from the client to the server (control and data connections)" healthy "" ""
}

sc_iperf_reverse_plain() {
  begin iperf-reverse-plain iperf3 plain
  iperf_test -R
  evidence client 'receiver'
  expect "iperf3 -R: the server sends for 2 s at 1 Mbit/s; every host recorded with plain strace -f -tt -s 65535" healthy "" ""
}

rsync_config() { # [extra module lines...]
  mkdir -p "$WORK/rsync-data"
  head -c 200000 /dev/urandom >"$WORK/rsync-data/blob"
  printf 'hello from rsync\n' >"$WORK/rsync-data/hello.txt"
  {
    printf 'use chroot = no\nuid = nobody\ngid = nogroup\naddress = 10.78.1.10\nport = 873\n'
    printf 'lock file = %s/rsyncd.lock\n' "$WORK"
    printf '[data]\npath = %s/rsync-data\nread only = yes\n' "$WORK"
    printf '%s\n' "$@"
  } >"$WORK/rsyncd.conf"
}

rsync_daemon() {
  start srv server rsync --daemon --no-detach --config="$WORK/rsyncd.conf"
  wait_listening srv t 873
}

sc_rsync_healthy() {
  begin rsync-healthy rsync record
  rsync_config
  rsync_daemon
  rm -rf "$WORK/rsync-copy"
  run c1 client rsync -a rsync://10.78.1.10/data/ "$WORK/rsync-copy/"
  stop server TERM
  log "  copied: $(ls "$WORK/rsync-copy" 2>/dev/null | tr '\n' ' ')"
  rm -rf "$WORK/rsync-copy"
  expect "an rsync daemon serving a module; rsync on another host copies it (a 200 kB file and a small one)" healthy "" ""
}

sc_rsync_max_connections() {
  begin rsync-max-connections rsync record
  rsync_config "max connections = 2"
  rsync_daemon
  # Two clients slowed to 40 kB/s hold both slots while a third asks.
  start c1 first rsync -a --bwlimit=40 rsync://10.78.1.10/data/ "$WORK/rsync-first/"
  start c1 second rsync -a --bwlimit=40 rsync://10.78.1.10/data/ "$WORK/rsync-second/"
  sleep 1
  run c2 client rsync -a rsync://10.78.1.10/data/ "$WORK/rsync-third/"
  finish first
  finish second
  stop server TERM
  rm -rf "$WORK/rsync-first" "$WORK/rsync-second" "$WORK/rsync-third"
  evidence client 'max connections'
  expect "rsyncd 'max connections = 2': while two slow clients copy, a third is told '@ERROR: max connections (2) reached' after its module request, and the connection is closed" \
    fault "admission-limit" "unparsed-lines"
}

# ---- dnsmasq ----------------------------------------------------------------------------------
#
# dnsmasq as a small site's name server: it answers names of its own (`--address`) and forwards
# the rest to an upstream server.

dnsmasq_server() { # upstream
  start srv server dnsmasq -k --no-resolv --no-hosts --bind-interfaces \
    --listen-address=10.78.1.10 --port=53 --user=nobody --group=nogroup \
    --address=/lab.test/10.78.1.99 --server="$1" --log-queries --log-facility=-
  wait_listening srv u 53
}

sc_dnsmasq_healthy() {
  begin dnsmasq-healthy dnsmasq record
  dnsmasq_server 10.78.1.11
  run c1 client dig +tries=1 +time=2 @10.78.1.10 www.lab.test
  run c2 client2 dig +tcp +tries=1 +time=2 @10.78.1.10 db.lab.test
  stop server TERM
  evidence client '^www.lab.test'
  expect "dnsmasq answers its own names to dig over UDP and over TCP" healthy "" ""
}

sc_dnsmasq_healthy_plain() {
  begin dnsmasq-healthy-plain dnsmasq plain
  dnsmasq_server 10.78.1.11
  run c1 client dig +tries=1 +time=2 @10.78.1.10 www.lab.test
  run c2 client2 dig +tcp +tries=1 +time=2 @10.78.1.10 db.lab.test
  stop server TERM
  evidence client '^www.lab.test'
  expect "dnsmasq answers its own names over UDP and TCP; every host recorded with plain strace -f -tt -s 65535" healthy "" ""
}

sc_dnsmasq_upstream_dropped() {
  begin dnsmasq-upstream-dropped dnsmasq record
  # The upstream host is declared, not traced; it drops dnsmasq's queries.
  in_ns srv2 iptables -A INPUT -p udp -s 10.78.1.10 --dport 53 -j DROP
  declared srv2 upstream
  dnsmasq_server 10.78.1.11
  run c1 client dig +tries=1 +time=3 @10.78.1.10 example.org
  evidence_fw srv2 INPUT
  stop server TERM
  expect "dnsmasq forwards a query for a name not its own to an upstream whose host drops it: dnsmasq never gets an answer, dig times out" \
    fault "no-reply" "unparsed-lines"
}

# ---- vsftpd (FTP) -----------------------------------------------------------------------------
#
# vsftpd 3 (`listen=YES`, `background=NO`) serves an anonymous read-only tree on srv:21, with a
# passive port range and active mode from port 20. Every FTP session is a forked pair: an
# unprivileged child speaking the protocol and a privileged parent, joined by a socketpair; in
# active mode the parent makes the data connection (bound to port 20) and passes its descriptor
# to the child with SCM_RIGHTS. curl is the client: passive (EPSV, the client connects to the
# server's data port) or `-P -` (EPRT, the client listens and the server connects back to it).

ftp_config() {
  mkdir -p "$WORK/ftp/pub"
  chmod 755 "$WORK/ftp" "$WORK/ftp/pub"
  head -c 20000 /dev/zero | tr '\0' 'f' >"$WORK/ftp/pub/file.txt"
  chmod 644 "$WORK/ftp/pub/file.txt"
  cat >"$WORK/vsftpd.conf" <<CFG
listen=YES
listen_ipv6=NO
listen_address=10.78.1.10
background=NO
anonymous_enable=YES
no_anon_password=YES
local_enable=NO
write_enable=NO
anon_root=$WORK/ftp
pasv_enable=YES
pasv_min_port=40000
pasv_max_port=40009
port_enable=YES
connect_from_port_20=YES
connect_timeout=3
data_connection_timeout=10
xferlog_enable=YES
xferlog_std_format=NO
log_ftp_protocol=YES
vsftpd_log_file=$LOGS/$SCENARIO/vsftpd.xfer.log
CFG
}

ftp_server() {
  ftp_config
  start srv server vsftpd "$WORK/vsftpd.conf"
  wait_listening srv t 21
}

ftp_get() { # NS HOST [curl options...]: download the file (and print status, bytes)
  local where=$1 host=$2
  shift 2
  run "$where" "$host" curl -q -s -S --max-time 10 "$@" -o /dev/null \
    -w '%{response_code} %{size_download} %{time_total}\n' "ftp://10.78.1.10/pub/file.txt"
}

ftp_healthy() {
  ftp_server
  ftp_get c1 client
  ftp_get c2 active -P -
  stop server TERM
  evidence client '^226 20000'
  evidence active '^226 20000'
}

sc_ftp_healthy() {
  begin ftp-healthy vsftpd record
  ftp_healthy
  expect "vsftpd serves a 20 kB file to curl in passive mode (c1) and in active mode (c2: the server connects back to the client from port 20)" healthy "" ""
}

sc_ftp_healthy_plain() {
  begin ftp-healthy-plain vsftpd plain
  ftp_healthy
  expect "vsftpd serves a 20 kB file to curl in passive and in active mode; every host recorded with plain strace -f -tt -s 65535" healthy "" ""
}

sc_ftp_healthy_network() {
  begin ftp-healthy-network vsftpd network
  ftp_healthy
  expect "vsftpd serves a file in passive and in active mode; every host recorded with strace -f -tt -e trace=network" healthy "" ""
}

sc_ftp_active_blocked() {
  begin ftp-active-blocked vsftpd record
  # The client's firewall drops every incoming connection attempt: the server's data connection
  # back to the client (active mode) never completes.
  in_ns c2 iptables -A INPUT -p tcp --syn -j DROP
  ftp_server
  ftp_get c2 active -P -
  evidence_fw c2 INPUT
  stop server TERM
  evidence active '^425'
  evidence vsftpd.xfer '425 Failed'
  expect "active-mode FTP behind a client firewall that drops incoming connections: vsftpd's data connection back to curl never completes, vsftpd answers 425 after its connect_timeout of 3 s" \
    fault "connect-never-completed" "unparsed-lines"
}

sc_ftp_passive_firewalled() {
  begin ftp-passive-firewalled vsftpd record
  # The server's firewall opens port 21 only: the passive data ports are dropped.
  in_ns srv iptables -A INPUT -p tcp --dport 40000:40009 -j DROP
  ftp_server
  ftp_get c1 client --connect-timeout 3
  evidence_fw srv INPUT
  stop server TERM
  evidence client '^curl:'
  expect "passive-mode FTP through a server firewall that opens port 21 but drops the passive data ports: curl's data connection never completes" \
    fault "connect-never-completed" "unparsed-lines"
}

# ---- tinyproxy (HTTP proxy) -------------------------------------------------------------------
#
# tinyproxy 1.11 (`-d`, threads) on srv:8888 forwards curl's requests (`-x`) to Python's
# http.server on srv2:8080.

proxy_config_www() {
  mkdir -p "$WORK/proxy-www"
  printf 'hello through the proxy\n' >"$WORK/proxy-www/index.html"
}

proxy_tiny_config() {
  cat >"$WORK/tinyproxy.conf" <<CFG
User nobody
Group nogroup
Port 8888
Listen 10.78.1.10
Timeout 10
LogLevel Info
MaxClients 10
Allow 10.78.0.0/16
DisableViaHeader Yes
CFG
}

tinyproxy_start() {
  proxy_tiny_config
  start srv proxy tinyproxy -d -c "$WORK/tinyproxy.conf"
  wait_listening srv t 8888
}

proxy_backend() {
  proxy_config_www
  start srv2 backend "$PYTHON" -m http.server --bind 10.78.1.11 --directory "$WORK/proxy-www" 8080
  wait_listening srv2 t 8080
}

proxy_get() { # NS HOST [PROXY_PORT]: two GETs through the proxy on 10.78.1.10 (tinyproxy's 8888)
  run "$1" "$2" curl -q -s -S --max-time 10 -x "http://10.78.1.10:${3:-8888}" -o /dev/null \
    -w '%{http_code} %{size_download}\n' "http://10.78.1.11:8080/" "http://10.78.1.11:8080/index.html"
}

# The backend of a healthy proxy run, traced. Plain strace prints Python's start-up reads whole
# (megabytes): then attach to the backend once it runs, as one looks at a running server.
proxy_backend_traced() {
  if [ "$FLAGS" = plain ]; then
    daemon srv2 python "$PYTHON" -m http.server --bind 10.78.1.11 --directory "$WORK/proxy-www" 8080
    wait_listening srv2 t 8080
    attach srv2 backend "$DAEMON_PID"
  else
    proxy_backend
  fi
}

proxy_healthy() {
  proxy_backend_traced
  tinyproxy_start
  proxy_get c1 client
  stop proxy TERM
  stop backend INT
  if [ "$FLAGS" = plain ]; then finish python; fi
  evidence client '^200 24'
}

sc_proxy_healthy() {
  begin proxy-healthy tinyproxy record
  proxy_healthy
  expect "curl fetches two pages from Python's http.server through tinyproxy" healthy "" ""
}

sc_proxy_healthy_plain() {
  begin proxy-healthy-plain tinyproxy plain
  proxy_config_www
  proxy_healthy
  expect "curl fetches two pages through tinyproxy; every host recorded with plain strace -f -tt -s 65535, the backend attached with -p after its start-up" healthy "" ""
}

sc_proxy_healthy_network() {
  begin proxy-healthy-network tinyproxy network
  proxy_healthy
  expect "curl fetches two pages through tinyproxy; every host recorded with strace -f -tt -e trace=network" healthy "" ""
}

sc_proxy_upstream_firewalled() {
  begin proxy-upstream-firewalled tinyproxy record
  # The upstream's host drops every connection attempt to its port: tinyproxy's connect to it
  # is never answered while curl waits (--max-time 10).
  in_ns srv2 iptables -A INPUT -p tcp --dport 8080 -j DROP
  proxy_backend
  tinyproxy_start
  run c1 client curl -q -s -S --max-time 6 -x http://10.78.1.10:8888 -o /dev/null \
    -w '%{http_code} %{size_download}\n' "http://10.78.1.11:8080/"
  evidence_fw srv2 INPUT
  stop proxy TERM
  stop backend INT
  evidence client '^curl:|^[0-9]'
  expect "tinyproxy's upstream host drops its SYNs: the proxy's connect to srv2:8080 is never answered, curl gives up after 6 s" \
    fault "connect-never-completed" "unparsed-lines"
}

sc_proxy_upstream_down() {
  begin proxy-upstream-down tinyproxy record
  # Nothing listens on the upstream's port: the host is there (declared), its server is not.
  declared srv2 backend
  tinyproxy_start
  proxy_get c1 client
  stop proxy TERM
  evidence client '^[0-9]'
  evidence proxy 'refused|Could not'
  expect "tinyproxy's upstream server is not running: its connect to srv2:8080 is refused and curl gets a 500 from the proxy" \
    fault "connect-refused" "unparsed-lines"
}

# ---- OpenSSH ----------------------------------------------------------------------------------
#
# sshd (`-D -e`, privilege separation, re-executed per connection) on srv:22 with public-key
# authentication for root from keys under the work folder; ssh runs one command, scp copies a
# file back.

ssh_config() { # [extra sshd_config lines...]
  mkdir -p "$WORK/ssh" /run/sshd
  [ -f "$WORK/ssh/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/host_ed25519"
  [ -f "$WORK/ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/id_ed25519"
  cp "$WORK/ssh/id_ed25519.pub" "$WORK/ssh/authorized_keys"
  head -c 30000 /dev/zero | tr '\0' 's' >"$WORK/ssh/payload"
  {
    printf 'ListenAddress 10.78.1.10\nPort 22\nHostKey %s/ssh/host_ed25519\n' "$WORK"
    printf 'PidFile %s/ssh/sshd.pid\nPermitRootLogin prohibit-password\n' "$WORK"
    printf 'PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nUseDNS no\n'
    printf 'AuthorizedKeysFile %s/ssh/authorized_keys\nStrictModes no\nLogLevel VERBOSE\n' "$WORK"
    printf 'Subsystem sftp internal-sftp\n'
    printf '%s\n' "$@"
  } >"$WORK/sshd_config"
}

sshd_start() {
  start srv server /usr/sbin/sshd -D -e -f "$WORK/sshd_config"
  wait_listening srv t 22
}

ssh_opts() {
  echo -F /dev/null -i "$WORK/ssh/id_ed25519" -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=5
}

ssh_healthy() {
  ssh_config
  sshd_start
  # shellcheck disable=SC2046
  run c1 client ssh $(ssh_opts) root@10.78.1.10 echo hello from ssh
  rm -f "$WORK/ssh-copy"
  # shellcheck disable=SC2046
  run c2 scp scp $(ssh_opts) "root@10.78.1.10:$WORK/ssh/payload" "$WORK/ssh-copy"
  log "  copied $(wc -c <"$WORK/ssh-copy" 2>/dev/null || echo 0) bytes"
  rm -f "$WORK/ssh-copy"
  stop server TERM
  evidence client '^hello from ssh'
}

sc_ssh_healthy() {
  begin ssh-healthy openssh record
  ssh_healthy
  expect "sshd runs one command for ssh from c1, and serves a 30 kB file to scp from c2" healthy "" ""
}

sc_ssh_healthy_plain() {
  begin ssh-healthy-plain openssh plain
  ssh_healthy
  expect "sshd runs one command for ssh and serves a file to scp; every host recorded with plain strace -f -tt -s 65535" healthy "" ""
}

sc_ssh_healthy_network() {
  begin ssh-healthy-network openssh network
  ssh_healthy
  expect "sshd runs one command for ssh and serves a file to scp; every host recorded with strace -f -tt -e trace=network" healthy "" ""
}

sc_ssh_max_startups() {
  begin ssh-max-startups openssh record
  # One unauthenticated connection is all sshd allows: a client that connected and said nothing
  # holds it, and sshd drops the next connection at once.
  ssh_config "MaxStartups 1" "LoginGraceTime 5"
  sshd_start
  start c1 idle socat -T 3 -u TCP:10.78.1.10:22 STDOUT
  sleep 0.5
  # shellcheck disable=SC2046
  run c2 client ssh $(ssh_opts) root@10.78.1.10 echo hello from ssh
  finish idle
  stop server TERM
  evidence client 'kex_exchange|closed|reset'
  evidence server 'MaxStartups'
  expect "sshd 'MaxStartups 1': a client that connected and sent nothing holds the only unauthenticated slot; sshd closes the next connection (ssh on c2) at once, unread" \
    fault "admission-limit" "unparsed-lines"
}

# ---- BIND 9 (named) ---------------------------------------------------------------------------
#
# named 9.18 (`-g`: foreground, log to stderr; `-n 1`: one worker thread) is authoritative for a
# zone `lab.` on srv:53, UDP and TCP, without recursion and without its control channel; dig
# asks it over UDP from c1 and over TCP (`+tcp`) from c2.

named_config() { # LISTEN
  mkdir -p "$WORK/named"
  cat >"$WORK/named/named.conf" <<CFG
options {
    directory "$WORK/named";
    pid-file "$WORK/named/named.pid";
    listen-on port 53 { $1; };
    listen-on-v6 { none; };
    recursion no;
    allow-query { any; };
    dnssec-validation no;
};
controls { };
zone "lab." { type primary; file "$WORK/named/lab.zone"; };
CFG
  cat >"$WORK/named/lab.zone" <<'ZONE'
$TTL 300
@    IN SOA ns.lab. admin.lab. 1 3600 600 86400 300
     IN NS  ns.lab.
ns   IN A   10.78.1.10
www  IN A   10.78.1.99
db   IN A   10.78.1.98
ZONE
}

named_start() { # LISTEN
  named_config "$1"
  start srv server named -g -n 1 -c "$WORK/named/named.conf"
  wait_listening srv u 53
  wait_listening srv t 53
}

named_queries() {
  run c1 client dig +tries=2 +time=2 @10.78.1.10 www.lab. A
  run c2 client2 dig +tcp +tries=1 +time=2 @10.78.1.10 db.lab. A
  stop server INT
}

sc_named_healthy() {
  begin named-healthy bind9 record
  named_start 10.78.1.10
  named_queries
  evidence client '^www.lab.'
  evidence client2 '^db.lab.'
  expect "BIND 9 named answers from its own zone to dig over UDP and over TCP" healthy "" ""
}

sc_named_healthy_plain() {
  begin named-healthy-plain bind9 plain
  named_start 10.78.1.10
  named_queries
  evidence client '^www.lab.'
  evidence client2 '^db.lab.'
  expect "BIND 9 named answers dig over UDP and TCP; every host recorded with plain strace -f -tt -s 65535" healthy "" ""
}

sc_named_healthy_network() {
  begin named-healthy-network bind9 network
  named_start 10.78.1.10
  named_queries
  evidence client '^www.lab.'
  evidence client2 '^db.lab.'
  expect "BIND 9 named answers dig over UDP and TCP; every host recorded with strace -f -tt -e trace=network" healthy "" ""
}

sc_named_listen_localhost() {
  begin named-listen-localhost bind9 record
  # `listen-on { 127.0.0.1; }`: the server listens on loopback only; dig on other hosts asks
  # its lab address.
  named_config 127.0.0.1
  start srv server named -g -n 1 -c "$WORK/named/named.conf"
  wait_listening srv t 53
  named_queries
  evidence client 'communications error|refused'
  evidence client2 'communications error|refused'
  expect "named listens on 127.0.0.1 only (listen-on { 127.0.0.1; }): dig on other hosts asks 10.78.1.10, over UDP (ICMP port unreachable) and over TCP (refused)" \
    fault "loopback-bound-external-peer" "unparsed-lines"
}

# ---- MariaDB ----------------------------------------------------------------------------------
#
# MariaDB 10.11 (`mariadbd --defaults-file=my.cnf --user=mysql`, foreground, error log on
# stderr) on srv:3306 with a database created once, untraced (`mariadb-install-db`, then a start
# on a unix socket only to add the lab's users and table), and copied afresh for every scenario.
# The `mariadb` client runs queries from c1 and c2 over TCP. For replication a second server on
# srv2 (a copy of the same database) follows the primary's binary log by GTID.

MARIA=$WORK/mariadb

maria_init() {
  [ -d "$MARIA/pristine/mysql" ] && return 0
  mkdir -p "$MARIA/data" "$MARIA/run"
  chown -R mysql:mysql "$MARIA"
  mariadb-install-db --no-defaults --user=mysql --datadir="$MARIA/data" --skip-test-db \
    >"$LOGS/mariadb-init.log" 2>&1
  in_ns srv timeout -k 2 60 mariadbd --no-defaults --user=mysql --datadir="$MARIA/data" \
    --socket="$MARIA/run/init.sock" --pid-file="$MARIA/run/init.pid" --skip-networking \
    >>"$LOGS/mariadb-init.log" 2>&1 &
  local i
  for i in $(seq 100); do [ -S "$MARIA/run/init.sock" ] && break; sleep 0.1; done
  mariadb -S "$MARIA/run/init.sock" -u root <<'SQL' >>"$LOGS/mariadb-init.log" 2>&1
CREATE USER 'lab'@'%' IDENTIFIED BY 'lab';
CREATE DATABASE labdb;
GRANT ALL ON labdb.* TO 'lab'@'%';
CREATE USER 'repl'@'%' IDENTIFIED BY 'repl';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
CREATE TABLE labdb.items (id INT PRIMARY KEY, name VARCHAR(40));
INSERT INTO labdb.items VALUES (1, 'one'), (2, 'two'), (3, 'three');
SQL
  mariadb-admin -S "$MARIA/run/init.sock" -u root shutdown >>"$LOGS/mariadb-init.log" 2>&1 || true
  wait || true
  mv "$MARIA/data" "$MARIA/pristine"
}

maria_fresh() { # DIR: a copy of the database as created
  rm -rf "${1:?}"
  cp -a "$MARIA/pristine" "$1"
}

maria_conf() { # BIND [extra my.cnf lines...]
  local bind=$1
  shift
  {
    printf '[mariadbd]\ndatadir = %s/data\nsocket = %s/run/mysqld.sock\n' "$MARIA" "$MARIA"
    printf 'pid-file = %s/run/mysqld.pid\nbind-address = %s\nport = 3306\n' "$MARIA" "$bind"
    printf 'skip-name-resolve\ninnodb_buffer_pool_size = 16M\n'
    printf '%s\n' "$@"
  } >"$MARIA/my.cnf"
}

maria_start() { # BIND [extra my.cnf lines...]
  maria_conf "$@"
  maria_fresh "$MARIA/data"
  start srv server mariadbd --defaults-file="$MARIA/my.cnf" --user=mysql
  wait_listening srv t 3306
}

maria_sql() { # NS HOST SQL
  run "$1" "$2" mariadb -h 10.78.1.10 -u lab -plab --connect-timeout=5 -N -e "$3" labdb
}

maria_healthy() {
  maria_sql c1 client 'SELECT COUNT(*) FROM items'
  maria_sql c2 client2 "INSERT INTO items VALUES (4, 'four'); SELECT name FROM items WHERE id = 4"
  stop server TERM
  evidence client '^3$'
  evidence client2 '^four$'
}

sc_maria_healthy() {
  begin maria-healthy mariadb record
  maria_start 10.78.1.10
  maria_healthy
  expect "the mariadb client counts a table's rows from c1 and inserts and reads a row from c2" healthy "" ""
}

sc_maria_healthy_plain() {
  begin maria-healthy-plain mariadb plain
  # Attached after start-up, as one looks at a running database: InnoDB's start-up reads of
  # 16 kB pages would be printed whole under -s 65535.
  maria_conf 10.78.1.10
  maria_fresh "$MARIA/data"
  daemon srv mariadb mariadbd --defaults-file="$MARIA/my.cnf" --user=mysql
  wait_listening srv t 3306
  attach srv server "$DAEMON_PID"
  maria_healthy
  finish mariadb
  expect "the mariadb client counts rows from c1 and inserts a row from c2; every host recorded with plain strace -f -tt -s 65535, the server attached with -p after its start-up" healthy "" ""
}

sc_maria_bind_localhost() {
  begin maria-bind-localhost mariadb record
  # bind-address = 127.0.0.1 (Debian's packaged default): a client on another host dials the
  # server's LAN address.
  maria_start 127.0.0.1
  maria_sql c1 client 'SELECT COUNT(*) FROM items'
  stop server TERM
  evidence client "ERROR|Can't connect"
  expect "MariaDB with bind-address = 127.0.0.1: the mariadb client on c1 dials 10.78.1.10:3306 and is refused" \
    fault "loopback-bound-external-peer" "unparsed-lines"
}

sc_maria_max_connections() {
  begin maria-max-connections mariadb record
  # max_connections = 10 (MariaDB's least), and MariaDB admits one connection more, kept for an
  # administrator: eleven sessions from c1 (one shell running eleven clients, one trace) hold
  # every slot, then a client on c2.
  maria_start 10.78.1.10 "max_connections = 10"
  start c1 holders sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11; do
    mariadb -h 10.78.1.10 -u lab -plab -N -e "SELECT SLEEP(4)" labdb & sleep 0.1; done; wait'
  sleep 2
  maria_sql c2 client 'SELECT COUNT(*) FROM items'
  finish holders
  stop server TERM
  evidence client 'Too many connections'
  expect "MariaDB max_connections = 10: eleven sessions from c1 hold every slot (ten and the one kept for an administrator), the next client (c2) gets ERROR 1040 Too many connections" \
    fault "admission-limit" "unparsed-lines"
}

# The primary (srv, binary log on) and a replica (srv2) of the same database, the replica
# following the primary by GTID: `slave_net_timeout = 2` (heartbeats every second) and a retry
# every second, as for a slow link. CHANGE MASTER is given over the replica's unix socket.
maria_replication_start() {
  if [ "$FLAGS" = plain ]; then
    # Both servers attached after start-up (see maria-healthy-plain); the replica is told to
    # follow the primary after that, so its connection is in the traces.
    maria_conf 10.78.1.10 "server-id = 1" "log-bin = mariadb-bin"
    maria_fresh "$MARIA/data"
    daemon srv mariadb mariadbd --defaults-file="$MARIA/my.cnf" --user=mysql
    wait_listening srv t 3306
    attach srv server "$DAEMON_PID"
  else
    maria_start 10.78.1.10 "server-id = 1" "log-bin = mariadb-bin"
  fi
  maria_fresh "$MARIA/replica"
  {
    printf '[mariadbd]\ndatadir = %s/replica\nsocket = %s/run/replica.sock\n' "$MARIA" "$MARIA"
    printf 'pid-file = %s/run/replica.pid\nbind-address = 10.78.1.11\nport = 3306\n' "$MARIA"
    printf 'skip-name-resolve\ninnodb_buffer_pool_size = 16M\nserver-id = 2\n'
    printf 'relay-log = replica-relay\nslave_net_timeout = 2\n'
  } >"$MARIA/replica.cnf"
  if [ "$FLAGS" = plain ]; then
    daemon srv2 mariadb-replica mariadbd --defaults-file="$MARIA/replica.cnf" --user=mysql
    wait_listening srv2 t 3306
    attach srv2 replica "$DAEMON_PID"
  else
    start srv2 replica mariadbd --defaults-file="$MARIA/replica.cnf" --user=mysql
    wait_listening srv2 t 3306
  fi
  in_ns srv2 mariadb -S "$MARIA/run/replica.sock" -u root -e "CHANGE MASTER TO
    MASTER_HOST = '10.78.1.10', MASTER_USER = 'repl', MASTER_PASSWORD = 'repl',
    MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1; START SLAVE" >>"$LOGS/$SCENARIO/setup.log" 2>&1
  local i
  for i in $(seq 50); do
    if in_ns srv2 mariadb -S "$MARIA/run/replica.sock" -u root -e 'SHOW SLAVE STATUS\G' 2>/dev/null |
      grep -q 'Slave_IO_Running: Yes'; then break; fi
    sleep 0.2
  done
}

sc_maria_replication_healthy() {
  begin maria-replication-healthy mariadb record
  maria_replication_start
  maria_sql c1 client "INSERT INTO items VALUES (5, 'five')"
  sleep 1
  run c2 client2 mariadb -h 10.78.1.11 -u lab -plab --connect-timeout=5 -N -e \
    'SELECT name FROM items WHERE id = 5' labdb
  stop replica TERM
  stop server TERM
  evidence client2 '^five$'
  expect "a MariaDB replica on srv2 follows the primary (srv) by GTID; the client on c1 inserts a row on the primary, the client on c2 reads it from the replica" healthy "" ""
}

sc_maria_replication_healthy_plain() {
  begin maria-replication-healthy-plain mariadb plain
  maria_replication_start
  maria_sql c1 client "INSERT INTO items VALUES (5, 'five')"
  sleep 1
  run c2 client2 mariadb -h 10.78.1.11 -u lab -plab --connect-timeout=5 -N -e \
    'SELECT name FROM items WHERE id = 5' labdb
  stop replica TERM
  finish mariadb-replica
  stop server TERM
  finish mariadb
  evidence client2 '^five$'
  expect "a MariaDB replica follows the primary by GTID; c1 inserts a row on the primary, c2 reads it from the replica; every host recorded with plain strace -f -tt -s 65535, both servers attached with -p after their start-up" healthy "" ""
}

sc_maria_replication_firewalled() {
  begin maria-replication-firewalled mariadb record
  maria_replication_start
  # Once the replica follows, srv2 drops everything from and to the primary.
  in_ns srv2 iptables -A INPUT -s 10.78.1.10 -j DROP
  in_ns srv2 iptables -A OUTPUT -d 10.78.1.10 -j DROP
  maria_sql c1 client "INSERT INTO items VALUES (5, 'five')"
  sleep 6
  evidence_fw srv2 INPUT
  stop replica TERM
  stop server TERM
  evidence replica 'error reconnecting|Slave I/O|timed out|failed'
  expect "srv2, the replica's host, drops every packet from and to the primary once replication runs: the new row's events never arrive, the replica's reads time out (slave_net_timeout 2 s) and its reconnects go unanswered" \
    fault "connect-never-completed" "unparsed-lines"
}

# ---- OpenLDAP slapd ---------------------------------------------------------------------------
#
# slapd 2.5 as Debian's package configures it (debconf: suffix dc=lab,dc=test, cn=config under
# /etc/ldap/slapd.d, an MDB database), in the foreground (`-d stats`: the access log on
# stderr), listening on ldap://10.78.1.10/ only. ldapsearch (anonymous) from c1, ldapwhoami
# (simple bind as the admin) from c2.

slapd_start() {
  mkdir -p /run/slapd
  chown openldap:openldap /run/slapd
  start srv server /usr/sbin/slapd -d stats -h ldap://10.78.1.10/ -u openldap -g openldap \
    -F /etc/ldap/slapd.d
  wait_listening srv t 389
}

ldap_search() { # NS HOST URL
  run "$1" "$2" ldapsearch -x -LLL -o nettimeout=3 -H "$3" -b dc=lab,dc=test '(objectClass=*)' dn
}

ldap_healthy() {
  slapd_start
  ldap_search c1 client ldap://10.78.1.10/
  run c2 client2 ldapwhoami -x -o nettimeout=3 -H ldap://10.78.1.10/ -D cn=admin,dc=lab,dc=test -w labpass
  stop server INT
  evidence client '^dn: dc=lab,dc=test'
  evidence client2 '^dn:cn=admin'
}

sc_ldap_healthy() {
  begin ldap-healthy slapd record
  ldap_healthy
  expect "slapd answers an anonymous ldapsearch from c1 and a simple bind (ldapwhoami) from c2" healthy "" ""
}

sc_ldap_healthy_plain() {
  begin ldap-healthy-plain slapd plain
  ldap_healthy
  expect "slapd answers ldapsearch and ldapwhoami; every host recorded with plain strace -f -tt -s 65535" healthy "" ""
}

sc_ldap_firewalled() {
  begin ldap-firewalled slapd record
  # srv drops every packet to port 389: ldapsearch's connect is never answered (nettimeout 3 s).
  in_ns srv iptables -A INPUT -p tcp --dport 389 -j DROP
  slapd_start
  ldap_search c1 client ldap://10.78.1.10/
  evidence_fw srv INPUT
  stop server INT
  evidence client "Can't contact"
  expect "srv's firewall drops LDAP (port 389): ldapsearch's connect never completes and it gives up after its 3 s network timeout" \
    fault "connect-never-completed" "unparsed-lines"
}

sc_ldap_wrong_port() {
  begin ldap-wrong-port slapd record
  # The client is pointed at ldap://10.78.1.10:3389/, where nothing listens (slapd is on 389).
  slapd_start
  ldap_search c1 client ldap://10.78.1.10:3389/
  stop server INT
  evidence client "Can't contact"
  expect "ldapsearch is given ldap://10.78.1.10:3389/ while slapd listens on 389: the connect is refused" \
    fault "connect-refused" "unparsed-lines"
}

# ---- Postfix (SMTP) ---------------------------------------------------------------------------
#
# Postfix 3.7's master (`master -d -c DIR`: foreground, its own config directory with a minimal
# main.cf and master.cf, no chroot) on srv:25 accepts mail for lab.test and hands it to the
# discard transport. swaks (c1) and curl's SMTP client (c2) each send one message.

postfix_config() {
  local dir=$WORK/postfix
  mkdir -p "$dir"
  cat >"$dir/main.cf" <<CFG
compatibility_level = 3.6
myhostname = srv.lab.test
mydomain = lab.test
mydestination = lab.test, srv.lab.test
inet_interfaces = 10.78.1.10
inet_protocols = ipv4
mynetworks = 10.78.0.0/16
local_recipient_maps =
local_transport = discard:
smtpd_banner = \$myhostname ESMTP
biff = no
CFG
  cat >"$dir/master.cf" <<'CFG'
smtp      inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
CFG
  printf 'Subject: lab\n\nhello over smtp\n' >"$WORK/mail.txt"
}

postfix_start() {
  postfix_config
  start srv server /usr/lib/postfix/sbin/master -d -c "$WORK/postfix"
  wait_listening srv t 25
}

swaks_send() { # NS HOST
  run "$1" "$2" swaks --server 10.78.1.10 --timeout 5 --from c1@lab.test --to lab@lab.test \
    --body 'hello over smtp'
}

postfix_healthy() {
  postfix_start
  swaks_send c1 client
  run c2 client2 curl -q -s -S --max-time 5 --url smtp://10.78.1.10 --mail-from c2@lab.test \
    --mail-rcpt lab@lab.test -T "$WORK/mail.txt" -w '%{response_code}\n'
  sleep 0.5
  stop server TERM
  evidence client '250 2.0.0 Ok: queued'
  evidence client2 '^250'
}

sc_smtp_healthy() {
  begin smtp-healthy postfix record
  postfix_healthy
  expect "Postfix accepts one message from swaks (c1) and one from curl's SMTP client (c2)" healthy "" ""
}

sc_smtp_healthy_plain() {
  begin smtp-healthy-plain postfix plain
  postfix_healthy
  expect "Postfix accepts one message from swaks and one from curl; every host recorded with plain strace -f -tt -s 65535" healthy "" ""
}

sc_smtp_rejected() {
  begin smtp-rejected postfix record
  # srv's firewall answers connections to port 25 with a TCP reset while Postfix listens.
  in_ns srv iptables -A INPUT -p tcp --dport 25 -j REJECT --reject-with tcp-reset
  postfix_start
  swaks_send c1 client
  evidence_fw srv INPUT
  stop server TERM
  evidence client 'refused|Connection'
  expect "srv's firewall rejects port 25 with a TCP reset (REJECT --reject-with tcp-reset) while Postfix listens: swaks's connect is refused" \
    fault "connect-refused-while-listening" "unparsed-lines connect-refused"
}

sc_smtp_dropped() {
  begin smtp-dropped postfix record
  # srv's firewall drops connections to port 25: swaks's connect is never answered.
  in_ns srv iptables -A INPUT -p tcp --dport 25 -j DROP
  postfix_start
  swaks_send c1 client
  evidence_fw srv INPUT
  stop server TERM
  evidence client 'connect: timeout|timed out'
  expect "srv's firewall drops port 25: swaks's connect never completes and it gives up after its 5 s timeout" \
    fault "connect-never-completed" "unparsed-lines"
}

# ---- Squid (HTTP proxy) -----------------------------------------------------------------------
#
# Squid 5 (`squid -N -d 1 -f squid.conf`: no daemon, no kid processes) on srv:3128 forwards
# curl's requests (`-x`) to Python's http.server on srv2:8080, caching nothing.

squid_config() {
  mkdir -p "$WORK/squid"
  chown proxy:proxy "$WORK/squid"
  # Squid writes its access log as its effective user.
  touch "$LOGS/$SCENARIO/squid-access.log"
  chown proxy:proxy "$LOGS/$SCENARIO/squid-access.log"
  cat >"$WORK/squid.conf" <<CFG
http_port 10.78.1.10:3128
acl lab src 10.78.0.0/16
http_access allow lab
http_access deny all
cache deny all
cache_mem 8 MB
access_log stdio:$LOGS/$SCENARIO/squid-access.log
cache_log stdio:/dev/stderr
pid_filename $WORK/squid/squid.pid
coredump_dir $WORK/squid
cache_effective_user proxy
pinger_enable off
connect_timeout 3 seconds
shutdown_lifetime 1 second
dns_nameservers 127.0.0.1
CFG
}

squid_start() {
  squid_config
  start srv proxy squid -N -d 1 -f "$WORK/squid.conf"
  wait_listening srv t 3128
}

squid_healthy() {
  proxy_backend_traced
  squid_start
  proxy_get c1 client 3128
  stop proxy INT
  stop backend INT
  if [ "$FLAGS" = plain ]; then finish python; fi
  evidence client '^200 24'
}

sc_squid_healthy() {
  begin squid-healthy squid record
  proxy_config_www
  squid_healthy
  expect "curl fetches two pages from Python's http.server through Squid" healthy "" ""
}

sc_squid_healthy_plain() {
  begin squid-healthy-plain squid plain
  proxy_config_www
  squid_healthy
  expect "curl fetches two pages through Squid; every host recorded with plain strace -f -tt -s 65535, the backend attached with -p after its start-up" healthy "" ""
}

sc_squid_backend_down() {
  begin squid-backend-down squid record
  # Nothing listens on the backend's port: the host is there (declared), its server is not.
  declared srv2 backend
  squid_start
  run c1 client curl -q -s -S --max-time 10 -x http://10.78.1.10:3128 -o /dev/null \
    -w '%{http_code} %{size_download}\n' "http://10.78.1.11:8080/"
  stop proxy INT
  evidence client '^[0-9]'
  evidence squid-access 'TCP_MISS/503'
  expect "Squid's backend is not running: its connect to srv2:8080 is refused and curl gets Squid's 503 error page" \
    fault "connect-refused" "unparsed-lines"
}

sc_squid_backend_firewalled() {
  begin squid-backend-firewalled squid record
  # The backend's host drops every packet to its port: Squid's connect is never answered
  # (connect_timeout 3 s), then Squid answers 504.
  in_ns srv2 iptables -A INPUT -p tcp --dport 8080 -j DROP
  proxy_config_www
  proxy_backend
  squid_start
  run c1 client curl -q -s -S --max-time 10 -x http://10.78.1.10:3128 -o /dev/null \
    -w '%{http_code} %{size_download}\n' "http://10.78.1.11:8080/"
  evidence_fw srv2 INPUT
  stop proxy INT
  stop backend INT
  evidence client '^[0-9]'
  evidence squid-access 'TCP_MISS/503'
  expect "Squid's backend host drops its SYNs: Squid's connect to srv2:8080 never completes, it gives up after its 3 s connect_timeout and answers curl with an error page" \
    fault "connect-never-completed" "unparsed-lines"
}

# ---- tftpd-hpa (TFTP) -------------------------------------------------------------------------
#
# tftpd-hpa (`in.tftpd -L`: standalone, in the foreground) serves a read-only tree on srv:69.
# Each read request is answered by a forked child from a new socket on an ephemeral port,
# connected to the client; the client acknowledges every 512-byte block and sends its request
# again when nothing comes back. Clients: tftp-hpa (c1, unconnected socket, retransmitting every
# second) and curl's tftp:// (c2).

tftp_config() {
  mkdir -p "$WORK/tftp"
  # Three blocks and a short last one: 1600 bytes.
  head -c 1600 /dev/zero | tr '\0' t >"$WORK/tftp/boot.txt"
  printf 'mode octet\nrexmt 1\ntimeout %s\nget boot.txt /dev/null\nquit\n' "${1:-6}" >"$WORK/tftp-commands"
}

tftpd_start() {
  start srv server in.tftpd -L -v -v -u root -s "$WORK/tftp" -a 10.78.1.10:69
  wait_listening srv u 69
}

tftp_get() { # NS HOST [PORT]: tftp-hpa fetches boot.txt (commands on stdin)
  run "$1" "$2" sh -c "exec tftp -v 10.78.1.10 ${3:-69} <'$WORK/tftp-commands'"
}

curl_tftp() { # NS HOST
  run "$1" "$2" curl -q -s -S --max-time 6 -o /dev/null -w '%{size_download}\n' tftp://10.78.1.10/boot.txt
}

tftp_healthy() {
  tftp_config
  tftpd_start
  tftp_get c1 client
  curl_tftp c2 client2
  sleep 0.3
  stop server TERM
  evidence client 'Received 1600 bytes'
  evidence client2 '^1600'
}

sc_tftp_healthy() {
  begin tftp-healthy tftpd-hpa record
  tftp_healthy
  expect "tftp-hpa (c1) and curl's tftp:// (c2) each fetch a 1600-byte file from tftpd-hpa; a forked child sends the blocks from its own port" healthy "" ""
}

sc_tftp_healthy_plain() {
  begin tftp-healthy-plain tftpd-hpa plain
  tftp_healthy
  expect "tftp-hpa and curl fetch a file from tftpd-hpa; every host recorded with plain strace -f -tt -s 65535" healthy "" ""
}

sc_tftp_server_down() {
  begin tftp-server-down tftpd-hpa record
  # Nothing listens on port 69: the host is there (declared), its server is not. Its kernel
  # answers each request with an ICMP port unreachable, which tftp's unconnected socket ignores.
  declared srv server
  tftp_config 4
  tftp_get c1 client
  evidence client 'Transfer timed out'
  expect "no TFTP server runs on srv: tftp's read requests are answered by ICMP port unreachable, which its unconnected socket never sees; it retransmits each second and gives up" \
    fault "no-reply" "unparsed-lines"
}

sc_tftp_firewalled() {
  begin tftp-firewalled tftpd-hpa record
  # srv's firewall drops every datagram to port 69: the requests never reach tftpd.
  in_ns srv iptables -A INPUT -p udp --dport 69 -j DROP
  tftp_config 4
  tftpd_start
  tftp_get c1 client
  evidence_fw srv INPUT
  stop server TERM
  evidence client 'Transfer timed out'
  expect "srv's firewall drops TFTP requests (DROP udp 69) while tftpd listens: tftp retransmits its request each second and gives up" \
    fault "udp-all-lost" "unparsed-lines udp-loss connect-refused"
}

sc_tftp_random_loss() {
  begin tftp-random-loss tftpd-hpa record
  # A third of the UDP datagrams between srv and the clients are dropped at random on arrival
  # (INPUT: a drop in OUTPUT would fail the sender's call with EPERM, which no lossy link does):
  # requests, blocks and acknowledgements are retransmitted after the 1 s timeouts.
  local n
  for n in srv c1 c2; do
    in_ns "$n" iptables -A INPUT -p udp -m statistic --mode random --probability 0.3 -j DROP
  done
  tftp_config 10
  LIMIT=64
  tftpd_start
  tftp_get c1 client
  curl_tftp c2 client2
  sleep 0.3
  unset LIMIT
  for n in srv c1 c2; do evidence_fw "$n" INPUT; done
  stop server TERM
  evidence client 'Received|timed out'
  evidence client2 '^[0-9]'
  expect "30% of the UDP datagrams between srv and the clients are dropped at random (-m statistic on each receiver's INPUT): the TFTP transfers go on by retransmission" \
    fault "udp-loss" "unparsed-lines"
}

# ---- snmpd (SNMP) -----------------------------------------------------------------------------
#
# Net-SNMP's agent (`snmpd -f -C -c snmpd.conf`: foreground, only the lab's configuration) on
# udp:10.78.1.10:161 with a read-only community for the lab network. snmpget (c1, two objects)
# and snmpwalk (c2, the system group) ask with SNMPv2c, one second per try, two retries.

snmpd_config() { # AGENT_ADDRESS
  cat >"$WORK/snmpd.conf" <<CFG
agentAddress udp:$1
rocommunity public 10.78.0.0/16
rocommunity public 127.0.0.1
sysLocation lab
sysContact lab@lab.test
CFG
}

snmpd_start() { # AGENT_ADDRESS
  snmpd_config "$1"
  # SNMP messages here are under 130 bytes and the agent's start-up reads much of /proc: 64
  # bytes of each string keep the trace small and the datagrams told apart.
  LIMIT=64 start srv server snmpd -f -Lo -C -c "$WORK/snmpd.conf" -p "$WORK/run/snmpd.pid" -M /nonexistent -m ''
  wait_listening srv u 161
}

snmp_get() { # NS HOST [PORT]
  run "$1" "$2" snmpget -v2c -c public -t 1 -r 2 -On -M /nonexistent -m '' \
    "10.78.1.10:${3:-161}" 1.3.6.1.2.1.1.5.0 1.3.6.1.2.1.1.6.0
}

snmp_healthy() {
  if [ "$FLAGS" = plain ]; then
    # Attached after start-up, as to a running agent: its start-up reads much of /proc.
    snmpd_config 10.78.1.10:161
    daemon srv snmpd snmpd -f -Lo -C -c "$WORK/snmpd.conf" -p "$WORK/run/snmpd.pid" -M /nonexistent -m ''
    wait_listening srv u 161
    attach srv server "$DAEMON_PID"
  else
    snmpd_start 10.78.1.10:161
  fi
  snmp_get c1 client
  run c2 client2 snmpwalk -v2c -c public -t 1 -r 2 -On -M /nonexistent -m '' 10.78.1.10 1.3.6.1.2.1.1
  stop server TERM
  if [ "$FLAGS" = plain ]; then finish snmpd; fi
  evidence client 'STRING: "lab"'
  evidence client2 '1.3.6.1.2.1.1.6.0'
}

sc_snmp_healthy() {
  begin snmp-healthy snmpd record
  snmp_healthy
  expect "snmpd answers snmpget (two objects, c1) and snmpwalk (the system group, c2) over SNMPv2c" healthy "" ""
}

sc_snmp_healthy_plain() {
  begin snmp-healthy-plain snmpd plain
  snmp_healthy
  expect "snmpd answers snmpget and snmpwalk; every host recorded with plain strace -f -tt -s 65535, snmpd attached with -p after its start-up" healthy "" ""
}

sc_snmp_listen_localhost() {
  begin snmp-listen-localhost snmpd record
  # agentAddress udp:127.0.0.1:161: the agent is bound to loopback; snmpget asks the lab address.
  snmpd_start 127.0.0.1:161
  snmp_get c1 client
  stop server TERM
  evidence client 'Timeout'
  expect "snmpd's agentAddress is udp:127.0.0.1:161: snmpget on c1 asks 10.78.1.10, srv answers with ICMP port unreachable that snmpget's unconnected socket never sees; it times out after two retries" \
    fault "loopback-bound-external-peer" "unparsed-lines"
}

sc_snmp_rejected() {
  begin snmp-rejected snmpd record
  # srv's firewall rejects SNMP with ICMP port unreachable while snmpd listens.
  in_ns srv iptables -A INPUT -p udp --dport 161 -j REJECT --reject-with icmp-port-unreachable
  snmpd_start 10.78.1.10:161
  snmp_get c1 client
  evidence_fw srv INPUT
  stop server TERM
  evidence client 'Timeout'
  expect "srv's firewall rejects udp 161 (REJECT, ICMP port unreachable) while snmpd listens: snmpget's requests never arrive and it times out after two retries" \
    fault "udp-all-lost" "unparsed-lines udp-loss"
}

sc_snmp_wrong_port() {
  begin snmp-wrong-port snmpd record
  # snmpget is pointed at port 1161, where nothing is bound (snmpd is on 161).
  snmpd_start 10.78.1.10:161
  snmp_get c1 client 1161
  stop server TERM
  evidence client 'Timeout'
  expect "snmpget asks 10.78.1.10:1161 while snmpd is bound to 161: ICMP port unreachable, unseen by its unconnected socket; it times out" \
    fault "no-reply" "unparsed-lines"
}

sc_snmp_random_loss() {
  begin snmp-random-loss snmpd record
  # srv drops a quarter of the SNMP requests it receives, at random: snmpwalk's 1 s retries recover.
  in_ns srv iptables -A INPUT -p udp --dport 161 -m statistic --mode random --probability 0.25 -j DROP
  snmpd_start 10.78.1.10:161
  run c2 client2 snmpwalk -v2c -c public -t 1 -r 4 -On -M /nonexistent -m '' 10.78.1.10 1.3.6.1.2.1.1
  evidence_fw srv INPUT
  stop server TERM
  evidence client2 '1.3.6.1.2.1.1.6.0|Timeout'
  expect "srv drops 25% of SNMP requests at random (-m statistic): snmpwalk's retries (1 s) recover the lost ones" \
    fault "udp-loss" "unparsed-lines udp-all-lost"
}

# ---- rsyslog (syslog over UDP) ----------------------------------------------------------------
#
# rsyslogd (`-n`: foreground) receives syslog over UDP on 10.78.1.10:514 (imudp) and writes
# every message to a file. util-linux's logger (`-d`: datagrams) sends each line of a file as
# one message from a connected UDP socket: nothing ever comes back, so a lost message shows only
# on the receiving side, and a port with nothing bound shows as ECONNREFUSED on a later send.

rsyslog_config() {
  mkdir -p "$WORK/rsyslog"
  cat >"$WORK/rsyslog.conf" <<CFG
global(workDirectory="$WORK/rsyslog")
module(load="imudp")
input(type="imudp" address="10.78.1.10" port="514")
*.* action(type="omfile" file="$LOGS/$SCENARIO/syslog-received.log")
CFG
  seq -f 'lab message %g' "${1:-5}" >"$WORK/syslog-lines.txt"
}

rsyslog_start() {
  start srv server rsyslogd -n -f "$WORK/rsyslog.conf" -i "$WORK/run/rsyslogd.pid"
  wait_listening srv u 514
}

logger_send() { # NS HOST
  run "$1" "$2" logger -n 10.78.1.10 -P 514 -d -t lab -f "$WORK/syslog-lines.txt"
}

syslog_healthy() {
  rsyslog_config 5
  rsyslog_start
  logger_send c1 client
  run c2 client2 logger -n 10.78.1.10 -P 514 -d -t lab2 'one message from c2'
  sleep 0.5
  stop server TERM
  evidence syslog-received 'lab message 5'
}

sc_syslog_healthy() {
  begin syslog-healthy rsyslog record
  syslog_healthy
  expect "logger sends five messages (c1) and one (c2) to rsyslogd over UDP 514; rsyslogd writes each to its file" healthy "" ""
}

sc_syslog_healthy_plain() {
  begin syslog-healthy-plain rsyslog plain
  syslog_healthy
  expect "logger sends syslog messages to rsyslogd over UDP; every host recorded with plain strace -f -tt -s 65535" healthy "" ""
}

sc_syslog_server_down() {
  begin syslog-server-down rsyslog record
  # Nothing is bound to port 514 on srv (declared): the first message draws an ICMP port
  # unreachable, which the connected socket reports on the next send as ECONNREFUSED.
  declared srv server
  rsyslog_config 5
  logger_send c1 client
  expect "no syslog receiver on srv: logger's first datagram draws an ICMP port unreachable and its connected socket's next send fails with ECONNREFUSED" \
    fault "connect-refused" "unparsed-lines"
}

sc_syslog_dropped() {
  begin syslog-dropped rsyslog record
  # srv's firewall drops syslog (udp 514) while rsyslogd listens: logger cannot tell.
  in_ns srv iptables -A INPUT -p udp --dport 514 -j DROP
  rsyslog_config 5
  rsyslog_start
  logger_send c1 client
  sleep 0.5
  evidence_fw srv INPUT
  stop server TERM
  expect "srv's firewall drops udp 514 while rsyslogd listens: logger's five messages leave without error and never arrive" \
    fault "udp-all-lost" "unparsed-lines udp-loss"
}

sc_syslog_random_loss() {
  begin syslog-random-loss rsyslog record
  # srv drops 30% of syslog datagrams at random; syslog over UDP never retransmits.
  in_ns srv iptables -A INPUT -p udp --dport 514 -m statistic --mode random --probability 0.3 -j DROP
  rsyslog_config 40
  rsyslog_start
  logger_send c1 client
  sleep 0.5
  evidence_fw srv INPUT
  stop server TERM
  expect "srv drops 30% of udp 514 at random (-m statistic): logger's 40 messages leave without error, about a third never arrive" \
    fault "udp-loss" "unparsed-lines udp-all-lost"
}

# ---- Dovecot (IMAP) ---------------------------------------------------------------------------
#
# Dovecot 2.3 (`dovecot -F -c dovecot.conf`: the master in the foreground with its login,
# authentication and imap processes) serves IMAP on 10.78.1.10:143 for one user from a
# passwd-file, plaintext login allowed, no TLS. curl's IMAP client logs in and lists the
# mailboxes (c1) or examines INBOX (c2).

dovecot_config() { # LISTEN
  local dir=$WORK/dovecot
  mkdir -p "$dir/run" "$dir/state" "$dir/home/lab"
  chown -R nobody:nogroup "$dir/home"
  printf 'lab:{PLAIN}labpass\n' >"$dir/users"
  cat >"$dir/dovecot.conf" <<CFG
protocols = imap
listen = $1
base_dir = $dir/run
state_dir = $dir/state
log_path = /dev/stderr
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
login_trusted_networks =
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dir/home/%u
}
mail_location = maildir:~/Maildir
service imap-login {
  process_min_avail = 0
}
CFG
}

dovecot_start() { # LISTEN
  dovecot_config "$1"
  # The master's start-up reads configuration and certificates: 64 bytes of each string suffice.
  LIMIT=64 start srv server dovecot -F -c "$WORK/dovecot/dovecot.conf"
  wait_listening srv t 143
}

imap_list() { # NS HOST [curl options...]
  local where=$1 host=$2
  shift 2
  run "$where" "$host" curl -q -s -S --max-time 5 --user lab:labpass "$@" imap://10.78.1.10/
}

imap_healthy() {
  if [ "$FLAGS" = plain ]; then
    # Attached to the running master, which forks its login, auth and imap processes on demand.
    dovecot_config 10.78.1.10
    daemon srv dovecot dovecot -F -c "$WORK/dovecot/dovecot.conf"
    wait_listening srv t 143
    attach srv server "$DAEMON_PID"
  else
    dovecot_start 10.78.1.10
  fi
  imap_list c1 client
  run c2 client2 curl -q -s -S --max-time 5 --user lab:labpass -X 'EXAMINE INBOX' imap://10.78.1.10/
  stop server TERM
  if [ "$FLAGS" = plain ]; then finish dovecot; fi
  evidence client 'LIST .*INBOX'
  evidence client2 'FLAGS|EXISTS'
}

sc_imap_healthy() {
  begin imap-healthy dovecot record
  imap_healthy
  expect "curl logs in to Dovecot over IMAP and lists the mailboxes (c1) and examines INBOX (c2)" healthy "" ""
}

sc_imap_healthy_plain() {
  begin imap-healthy-plain dovecot plain
  imap_healthy
  expect "curl logs in to Dovecot over IMAP twice; every host recorded with plain strace -f -tt -s 65535, the master attached with -p after its start-up" healthy "" ""
}

# ---- main -------------------------------------------------------------------------------------

SCENARIOS=(
  pg_healthy pg_healthy_plain pg_listen_localhost pg_max_connections pg_bind_failed
  pg_connect_unspecified
  pg_replication_healthy pg_replication_firewalled
  ha_healthy ha_healthy_plain ha_backend_down ha_backend_firewalled
  mc_healthy mc_healthy_plain mc_udp_dropped mc_conn_limit mc_fd_exhaustion mc_udp_no_frame
  dns_healthy dns_healthy_plain dns_tcp_fallback dns_udp_blocked dns_mtu_black_hole dns_acl_deny
  etcd_healthy etcd_partition etcd_partition_midway
  ntp_healthy ntp_replies_dropped
  web_healthy web_healthy_plain web_nat_declared web_nat_undeclared web_random_loss
  telnet_healthy telnet_random_loss
  lighty_healthy lighty_backlog_wait lighty_backlog_give_up lighty_backlog_full
  lighty_healthy_plain lighty_backlog_wait_plain lighty_backlog_give_up_plain
  apache_healthy apache_backlog_wait apache_backlog_give_up apache_healthy_plain
  apache_backlog_wait_plain apache_backlog_full
  nginx_download_healthy nginx_download_loss nginx_download_healthy_plain nginx_download_loss_plain
  nginx_keepalive_healthy nginx_keepalive_loss
  nginx_keepalive_healthy_plain nginx_keepalive_loss_plain
  attached_nginx_two_ports attached_nginx_refused attached_memcached_healthy
  attached_memcached_udp_dropped attached_lighty_healthy
  nginx_keepalive_go_healthy_plain nginx_keepalive_go_loss_plain
  pyweb_download_healthy pyweb_download_loss
  nginx_bigfile_healthy nginx_bigfile_loss
  nginx_download_go_healthy nginx_download_go_loss nginx_download_go_healthy_plain
  nginx_download_go_loss_plain nginx_download_node_healthy nginx_download_node_loss
  nginx_download_node_healthy_plain nginx_download_node_loss_plain
  nginx_proxy_healthy nginx_proxy_loss
  redis_healthy redis_healthy_plain redis_replica_firewalled redis_bind_localhost redis_maxclients
  mqtt_healthy mqtt_healthy_plain mqtt_max_connections mqtt_broker_firewalled
  iperf_healthy iperf_reverse_plain rsync_healthy rsync_max_connections
  dnsmasq_healthy dnsmasq_healthy_plain dnsmasq_upstream_dropped
  redis_primary_stopped_first ha_backends_stopped_first mqtt_subscriber_done redis_healthy_network mqtt_healthy_network
  mc_healthy_network redis_bind_localhost_network
  ftp_healthy ftp_healthy_plain ftp_healthy_network ftp_active_blocked ftp_passive_firewalled
  proxy_healthy proxy_healthy_plain proxy_healthy_network proxy_upstream_down
  proxy_upstream_firewalled
  ssh_healthy ssh_healthy_plain ssh_healthy_network ssh_max_startups
  named_healthy named_healthy_plain named_healthy_network named_listen_localhost
  maria_healthy maria_healthy_plain maria_bind_localhost maria_max_connections
  maria_replication_healthy maria_replication_healthy_plain maria_replication_firewalled
  ldap_healthy ldap_healthy_plain ldap_firewalled ldap_wrong_port
  smtp_healthy smtp_healthy_plain smtp_rejected smtp_dropped
  squid_healthy squid_healthy_plain squid_backend_down squid_backend_firewalled
  tftp_healthy tftp_healthy_plain tftp_server_down tftp_firewalled tftp_random_loss
  snmp_healthy snmp_healthy_plain snmp_listen_localhost snmp_rejected snmp_wrong_port
  snmp_random_loss
  syslog_healthy syslog_healthy_plain syslog_server_down syslog_dropped syslog_random_loss
  imap_healthy imap_healthy_plain
)

if [ "$LIST" = 1 ]; then
  for s in "${SCENARIOS[@]}"; do echo "${s//_/-}"; done
  exit 0
fi
if [ "$(id -u)" != 0 ]; then echo "apps: run as root (it creates network namespaces)" >&2; exit 2; fi

cleanup() {
  local host
  for host in "${!RUNNING[@]}"; do kill "${RUNNING[$host]}" 2>/dev/null || true; done
  teardown
}
trap cleanup EXIT
trap 'exit 130' INT TERM

STARTED=$(date +%s)
need_tools
rm -rf "$WORK"
mkdir -p "$LOGS" "$WORK/run"
build_topology
web_configs
unbound_config
chrony_configs
telnet_conf
: >"$LOGS/evidence.tsv"

found=0
for s in "${SCENARIOS[@]}"; do
  if [ -n "$ONLY" ] && [ "${s//_/-}" != "$ONLY" ]; then continue; fi
  found=1
  case $s in pg_*) pg_init ;; web_*) web_services ;; lighty_* | apache_*) one_configs ;;
    nginx_* | pyweb_*) nginx_loss_configs ;; attached_*) attached_configs; one_configs ;;
    maria_*) maria_init ;; esac
  "sc_$s"
done
if [ "$found" = 0 ]; then echo "apps: no scenario named $ONLY (see --list)" >&2; exit 2; fi
# One-sided views: what each host alone must show (lab/views.py), pending scenarios' included.
if [ -d "$PENDING" ]; then python3 "$ROOT/lab/views.py" "$FIXTURES" "$PENDING"; else python3 "$ROOT/lab/views.py" "$FIXTURES"; fi
log "done in $(( $(date +%s) - STARTED )) s"
du -sh "$FIXTURES" "$PENDING" 2>/dev/null || true
