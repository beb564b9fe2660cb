#!/usr/bin/env bash
# Records RabbitMQ (the Erlang VM) with amqp-tools clients on two network namespaces joined by
# one veth pair, healthy and with one real fault per scenario, into
# tests/fixtures/daemons2/NAME/ (server.trace.zst, client.trace.zst, netcheck.conf).
# expected.json is written by hand: it states what each view must show.
#
# Usage (as root): lab/daemons2.sh [NAME...]   (default: every scenario)
#
# Every address lives inside the namespaces this script creates (10.79.1.0/24); the broker and
# epmd it starts are stopped by PID, and the namespaces are deleted on exit.
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$LAB")
FIXTURES=$ROOT/tests/fixtures/daemons2
WORK=/tmp/netcheck-daemons2
NS_S=ner-s
NS_C=ner-c
SERVER_IP=10.79.1.10
CLIENT_IP=10.79.1.21
# netcheck record's syscall filter (src/record/flags.rs), written out so that plain strace
# can run inside a namespace while the broker is stopped from outside.
FILTER="trace=%network,%process,?read,?write,?readv,?writev,?sendfile,?sendfile64,?splice,?tee,?vmsplice,?copy_file_range,?close,?close_range,?dup,?dup2,?dup3,?fcntl,?fcntl64,?ioctl,?pidfd_getfd,?select,?_newselect,?pselect6,?poll,?ppoll,?epoll_create,?epoll_create1,?epoll_ctl,?epoll_wait,?epoll_pwait,?epoll_pwait2,?open,?openat,?openat2,?creat,?pipe,?pipe2,?eventfd,?eventfd2,?signalfd,?signalfd4,?timerfd_create,?memfd_create,?pidfd_open,?inotify_init,?inotify_init1,?fanotify_init,?userfaultfd,?perf_event_open,?io_uring_setup"
STRING_LIMIT=128
START_WAIT=40      # the broker's start-up under strace (boot, Mnesia, listeners) takes 10-20 s

log() { printf 'daemons2: %s\n' "$*" >&2; }

teardown() {
  for pid in $(ip netns pids "$NS_S" 2>/dev/null) $(ip netns pids "$NS_C" 2>/dev/null); do
    kill "$pid" 2>/dev/null || true
  done
  sleep 1
  ip netns del "$NS_S" 2>/dev/null || true
  ip netns del "$NS_C" 2>/dev/null || true
}

topology() {
  teardown
  ip netns add "$NS_S"; ip netns add "$NS_C"
  ip link add ner-vs type veth peer name ner-vc
  ip link set ner-vs netns "$NS_S"; ip link set ner-vc netns "$NS_C"
  ip -n "$NS_S" addr add "$SERVER_IP/24" dev ner-vs
  ip -n "$NS_C" addr add "$CLIENT_IP/24" dev ner-vc
  for n in "$NS_S" "$NS_C"; do ip -n "$n" link set lo up; done
  ip -n "$NS_S" link set ner-vs up; ip -n "$NS_C" link set ner-vc up
}

broker_env() {
  local base=$WORK/rmq
  rm -rf "$base"; mkdir -p "$base"
  printf 'loopback_users = none\nlisteners.tcp.default = 5672\n' > "$base/rabbitmq.conf"
  printf '[].\n' > "$base/enabled_plugins"
  echo "ner-cookie-daemons2" > "$base/.erlang.cookie"; chmod 400 "$base/.erlang.cookie"
  BROKER_ENV=(env HOME="$base" RABBITMQ_NODENAME=rabbit@localhost
    RABBITMQ_MNESIA_BASE="$base/mnesia" RABBITMQ_LOG_BASE="$base/log"
    RABBITMQ_CONFIG_FILE="$base/rabbitmq" RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins"
    RABBITMQ_PID_FILE="$base/rabbit.pid")
}

# start_broker TRACE: the broker under strace -f in the server namespace; sets STRACE_PID.
start_broker() {
  broker_env
  ip netns exec "$NS_S" strace -f -ttt -T -yy -s "$STRING_LIMIT" -e "$FILTER" -o "$1" -- \
    "${BROKER_ENV[@]}" /usr/lib/rabbitmq/bin/rabbitmq-server > "$WORK/broker.log" 2>&1 &
  STRACE_PID=$!
  local i
  for i in $(seq "$START_WAIT"); do
    sleep 1
    ip netns exec "$NS_S" ss -ltn | grep -q ':5672 ' && { sleep 1; return 0; }
  done
  log "the broker did not listen within $START_WAIT s"
}

descendants() { # PID: every process below PID
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do echo "$child"; descendants "$child"; done
}

# attach_broker TRACE: the broker started untraced, then its VM attached with strace -f -p once
# it listens (how a running daemon is traced); sets STRACE_PID and BROKER_PID.
attach_broker() {
  broker_env
  ip netns exec "$NS_S" "${BROKER_ENV[@]}" /usr/lib/rabbitmq/bin/rabbitmq-server > "$WORK/broker.log" 2>&1 &
  BROKER_PID=$!
  local i pid beam=""
  for i in $(seq "$START_WAIT"); do
    sleep 1
    ip netns exec "$NS_S" ss -ltn | grep -q ':5672 ' && break
  done
  for pid in $(descendants "$BROKER_PID"); do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = beam.smp ] && beam=$pid
  done
  [ -n "$beam" ] || { log "no beam.smp below $BROKER_PID"; return 1; }
  strace -f -ttt -T -yy -s "$STRING_LIMIT" -e "$FILTER" -o "$1" -p "$beam" 2>/dev/null &
  STRACE_PID=$!
  sleep 2
}

detach_broker() {
  kill -INT "$STRACE_PID" 2>/dev/null || true
  wait "$STRACE_PID" 2>/dev/null || true
  local pid
  for pid in $(descendants "$BROKER_PID") $(ip netns pids "$NS_S"); do
    kill -TERM "$pid" 2>/dev/null || true
  done
  wait "$BROKER_PID" 2>/dev/null || true
}

stop_broker() {
  # SIGTERM makes the VM halt gracefully, so no untraced rabbitmqctl connects to its epmd.
  local pid
  for pid in $(descendants "$STRACE_PID"); do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = beam.smp ] && kill -TERM "$pid" 2>/dev/null
  done
  sleep 4
  # epmd daemonises (its parent becomes init): what is left in the server namespace is ours.
  for pid in $(descendants "$STRACE_PID") $(ip netns pids "$NS_S"); do
    [ "$pid" = "$STRACE_PID" ] || kill -TERM "$pid" 2>/dev/null || true
  done
  wait "$STRACE_PID" 2>/dev/null || true
}

client() { # client TRACE CMD...
  local trace=$1; shift
  ip netns exec "$NS_C" timeout 20 strace -f -ttt -T -yy -s "$STRING_LIMIT" -e "$FILTER" -o "$trace" -- "$@" || true
}

publish_consume() { # TRACE: publish three messages, then consume them
  client "$1" sh -c "for i in 1 2 3; do amqp-publish -s $SERVER_IP -r q1 -b hello-\$i || exit 1; done;
    amqp-declare-queue -s $SERVER_IP -q q1 >/dev/null 2>&1 || true;
    timeout 3 amqp-consume -s $SERVER_IP -q q1 -c 3 cat"
}

finish() { # NAME DESCRIPTION
  local dir=$FIXTURES/$1
  mkdir -p "$dir"; rm -f "$dir"/*.trace.zst
  for t in server client; do
    if [ -f "$WORK/$t.trace" ]; then zstd -q -19 -f "$WORK/$t.trace" -o "$dir/$t.trace.zst"; fi
  done
  {
    echo "# $1: recorded by lab/daemons2.sh ($2)"
    if [ -f "$dir/server.trace.zst" ]; then
      printf 'host server\n trace server.trace.zst\n ip %s\n' "$SERVER_IP"
    else
      printf 'host server\n ip %s\n' "$SERVER_IP"
    fi
    printf 'host client\n trace client.trace.zst\n ip %s\n' "$CLIENT_IP"
  } > "$dir/netcheck.conf"
  log "$1 recorded"
}

scenario() {
  rm -f "$WORK/server.trace" "$WORK/client.trace"
  case "$1" in
    rabbitmq-healthy)
      start_broker "$WORK/server.trace"
      publish_consume "$WORK/client.trace"
      stop_broker
      finish "$1" "three messages published and consumed" ;;
    rabbitmq-down)
      # the server host runs no broker: only the client's trace exists
      client "$WORK/client.trace" amqp-publish -s "$SERVER_IP" -r q1 -b hello
      finish "$1" "nothing listens on 5672" ;;
    rabbitmq-firewalled)
      attach_broker "$WORK/server.trace"
      ip netns exec "$NS_S" iptables -A INPUT -p tcp --dport 5672 -j DROP
      client "$WORK/client.trace" timeout 8 amqp-publish -s "$SERVER_IP" -r q1 -b hello
      ip netns exec "$NS_S" iptables -F INPUT
      detach_broker
      finish "$1" "the broker host drops every segment to 5672; the running broker attached" ;;
    rabbitmq-reset)
      # started under strace: attached later, the trace would never show the listener, whose
      # only calls (socket, bind, listen, epoll_ctl) precede the attach
      start_broker "$WORK/server.trace"
      ip netns exec "$NS_S" iptables -A INPUT -p tcp --dport 5672 -j REJECT --reject-with tcp-reset
      client "$WORK/client.trace" amqp-publish -s "$SERVER_IP" -r q1 -b hello
      ip netns exec "$NS_S" iptables -F INPUT
      stop_broker
      finish "$1" "the broker host answers every SYN to 5672 with a reset" ;;
    rabbitmq-consumer-killed)
      attach_broker "$WORK/server.trace"
      client "$WORK/client.trace" sh -c "amqp-declare-queue -s $SERVER_IP -q q2 >/dev/null; for i in \$(seq 50); do amqp-publish -s $SERVER_IP -r q2 -b m\$i; done;
        amqp-consume -s $SERVER_IP -q q2 -p 1 sleep 0.2 & c=\$!; sleep 1; kill -KILL \$c; wait"
      detach_broker
      finish "$1" "the consumer is killed with SIGKILL while messages are delivered; the running broker attached" ;;
    *) log "unknown scenario $1"; exit 2 ;;
  esac
}

[ "$(id -u)" = 0 ] || { log "run as root"; exit 2; }
mkdir -p "$WORK"
trap teardown EXIT
topology
# rabbitmq-consumer-killed is recorded only when named: its full view is not diagnosed correctly
# yet (the attached broker's accepted sockets are matched to the wrong client connections).
SCENARIOS=${*:-rabbitmq-healthy rabbitmq-down rabbitmq-firewalled rabbitmq-reset}
for s in $SCENARIOS; do scenario "$s"; done
