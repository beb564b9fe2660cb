# lab/scenario.sh: sourced by lab/rpc.sh, lab/proxy.sh, lab/udp.sh, lab/tcpd.sh, lab/svc.sh,
# lab/coord.sh and lab/web.sh, which record each scenario in namespaces named $NS_PREFIX-NAME
# (NAMESPACES lists the NAMEs). The sourcing script sets LAB (its folder), LAB_NAME, NS_PREFIX
# and NAMESPACES before it sources this file, and GLOB and TIMEOUT after; it defines build (its
# topology) and conf (its netcheck.conf, by write_conf), and may redefine strace_flags. begin and
# start keep SCEN, DIR, HOSTS and PIDS (the recorder's pid by host).

ROOT=$(dirname "$LAB")
FIXTURES=${FIXTURES:-$ROOT/tests/fixtures/$LAB_NAME}
NETCHECK=${NETCHECK:-$ROOT/target/release/netcheck}
WORK=/tmp/netcheck-$LAB_NAME      # fixed path: it appears in recorded execve and open lines
log() { printf '%s-lab: %s\n' "$LAB_NAME" "$*" >&2; }

# scenario_strace_flags FLAGS: the strace options of a flag set (not `record`, which is
# `netcheck record`); strace_flags, which start uses, is this table unless the script redefines it
scenario_strace_flags() {
  case $1 in
    f) echo "-f -s 256" ;;
    ff) echo "-ff -tt -s 256" ;;
    r) echo "-f -r -s 256" ;;
    tt) echo "-f -tt -s 256" ;;
    ttt) echo "-f -ttt -s 256" ;;
    T) echo "-f -tt -T -s 256" ;;
    y) echo "-f -tt -y -s 256" ;;
    yy) echo "-f -tt -yy -s 256" ;;
    n) echo "-f -tt -n -s 256" ;;
    k) echo "-f -tt -k -s 256" ;;
    i) echo "-f -tt -i -s 256" ;;
    X | Xv) echo "-f -tt -X verbose -s 256" ;;
    unix | unixus) echo "-f --timestamps=unix,us -s 256" ;;
    seccomp) echo "--seccomp-bpf -f -tt -e trace=%network,%desc,%process -s 256" ;;
    net) echo "-f -tt -e trace=%network -s 256" ;;
    enet) echo "-f -tt -e trace=%network,read,write,close -s 256" ;;
    vnone) echo "-f -tt -e verbose=none -s 256" ;;
    xx) echo "-f -tt -xx -s 256" ;;
    s0) echo "-f -tt -s 0" ;;
    *) log "unknown flag set $1"; exit 1 ;;
  esac
}
strace_flags() { scenario_strace_flags "$1"; }

# prepare ARGS...: with `--expectations [GLOB]` nothing is recorded: every step but begin and
# expect does nothing (the script names its own recording steps in RECORDING_STEPS) and only the
# expected.json of the matching scenarios is rewritten. Otherwise, as root, build the topology,
# torn down on exit.
prepare() {
  if [ "${1:-}" = --expectations ]; then
    GLOB=${2:-*}
    mkdir -p "$WORK"                # for a configuration a scenario writes before it starts
    begin() { SCEN=$1; DIR=$FIXTURES/$SCEN; log "$SCEN (expectations)"; }
    local step
    for step in start finish bound listening signal fw fw_flush conf sleep ${RECORDING_STEPS:-}; do
      eval "$step() { :; }"
    done
  else
    [ "$(id -u)" = 0 ] || { log "run as root"; exit 1; }
    trap 'teardown' EXIT
    build
  fi
}

teardown() { local n; for n in $NAMESPACES; do ip netns del "$NS_PREFIX-$n" 2>/dev/null || true; done; }
# make_namespaces: every namespace of NAMESPACES, fresh, with its loopback up.
make_namespaces() {
  local n
  for n in $NAMESPACES; do ip netns add "$NS_PREFIX-$n"; ip -n "$NS_PREFIX-$n" link set lo up; done
}
# three_hosts NEAR MIDDLE FAR "NEAR_ADDRS" "MIDDLE_NEAR_ADDRS" "MIDDLE_FAR_ADDRS" "FAR_ADDRS": a
# chain of namespaces, NEAR's eth0 linked to MIDDLE's eth0 and MIDDLE's eth1 to FAR's eth0, each
# address a /24 on its side of the link, every link up (routes are the caller's).
three_hosts() {
  local near=$NS_PREFIX-$1 middle=$NS_PREFIX-$2 far=$NS_PREFIX-$3 a
  ip -n "$near" link add eth0 type veth peer name eth0 netns "$middle"
  ip -n "$middle" link add eth1 type veth peer name eth0 netns "$far"
  for a in $4; do ip -n "$near" addr add "$a/24" dev eth0; done
  for a in $5; do ip -n "$middle" addr add "$a/24" dev eth0; done
  for a in $6; do ip -n "$middle" addr add "$a/24" dev eth1; done
  for a in $7; do ip -n "$far" addr add "$a/24" dev eth0; done
  ip -n "$near" link set eth0 up
  ip -n "$middle" link set eth0 up
  ip -n "$middle" link set eth1 up
  ip -n "$far" link set eth0 up
}
in_ns() { local n=$1; shift; ip netns exec "$NS_PREFIX-$n" "$@"; }
finish() { wait "${PIDS[$1]}" || log "  $1 ended with status $?"; }
bound() { # NS PORT: waits until something in NS has UDP PORT bound
  local i
  for i in $(seq 150); do in_ns "$1" ss -Hlnu "sport = :$2" | grep -q . && return 0; sleep 0.1; done
  log "  nothing bound to udp $2"; return 1
}
listening() { # NS PORT
  local i
  for i in $(seq 150); do in_ns "$1" ss -Hlnt "sport = :$2" | grep -q . && return 0; sleep 0.1; done
  log "  nothing listens on $2"; return 1
}
# signal NS SIG COMM: signal the traced program COMM running in namespace NS (ours: the
# namespace holds nothing else), by its process id
signal() {
  local p
  for p in $(ip netns pids "$NS_PREFIX-$1"); do
    if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$3" ]; then kill "-$2" "$p" 2>/dev/null || true; fi
  done
}
fw() { in_ns "$1" iptables "${@:2}"; }
fw_flush() { local n; for n in $NAMESPACES; do in_ns "$n" iptables -F; done; }

# write_conf HOST...: the scenario's netcheck.conf naming each HOST, traced or not, with its
# addresses (ADDRS[HOST], space-separated); then its traces compressed.
write_conf() {
  {
    echo "# $SCEN: recorded by lab/$LAB_NAME.sh"
    local h a
    for h in "$@"; do
      echo "host $h"
      [[ " ${HOSTS[*]} " == *" $h "* ]] && echo " trace $h.trace.zst"
      for a in ${ADDRS[$h]}; do echo " ip $a"; done
    done
  } >"$DIR/netcheck.conf"
  compress_traces
}

# compress_traces: the scenario's traces zstd-compressed, and netcheck.conf naming a `-ff` set
# (left plain) by its prefix.
compress_traces() {
  local f
  for f in "$DIR"/*.trace; do
    [ -e "$f" ] && zstd -q -19 --rm "$f" -o "$f.zst"
  done
  if compgen -G "$DIR/*.trace.[0-9]*" >/dev/null; then
    sed -i 's/\.trace\.zst$/.trace/' "$DIR/netcheck.conf"
  fi
}

# expect DESCRIPTION MUST_REPORT MUST_NOT_REPORT VIEW...: expected.json. MUST_REPORT is
# "healthy" or rule IDs (none: only MUST_NOT_REPORT is checked); each VIEW is HOST=healthy,
# HOST=rule,rule (any of them), HOST=not:rule,rule (none of them) or "HOST=invisible: reason".
expect() {
  /usr/bin/python3 -I "$LAB/expectation.py" "$SCEN" "$@" "$LAB/problem-rules.txt" >"$DIR/expected.json"
}

want() { [[ $1 == $GLOB ]]; }

declare -A PIDS
SCEN="" DIR="" HOSTS=()

# begin SCENARIO: a fresh fixture folder and log folder for SCENARIO
begin() { SCEN=$1; DIR=$FIXTURES/$SCEN; HOSTS=(); rm -rf "$DIR"; mkdir -p "$DIR" "$WORK/logs/$SCEN"; log "$SCEN"; }

# start NS HOST FLAGS CMD...: record CMD in namespace NS as HOST under the flag set FLAGS, in the
# background. HOME and the XDG folders point at $WORK: no program reads the machine's user
# configuration.
start() {
  local where=$1 host=$2 flags=$3
  shift 3
  HOSTS+=("$host")
  local out=$DIR/$host.trace log=$WORK/logs/$SCEN/$host.log
  if [ "$flags" = record ]; then
    (cd "$DIR" && HOME=$WORK exec ip netns exec "$NS_PREFIX-$where" timeout -k 2 "$TIMEOUT" "$NETCHECK" record \
      -o "$out" --host "$host" --string-limit 256 --stanza "$WORK/logs/$SCEN/$host.stanza" -- "$@" >"$log" 2>&1) &
  else
    local -a options
    read -r -a options <<<"$(strace_flags "$flags")"
    (HOME=$WORK XDG_DATA_HOME=$WORK XDG_CONFIG_HOME=$WORK exec ip netns exec "$NS_PREFIX-$where" \
      timeout -k 2 "$TIMEOUT" strace "${options[@]}" -o "$out" -- "$@" >"$log" 2>&1) &
  fi
  PIDS[$host]=$!
}
