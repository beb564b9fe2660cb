# lab/pair.sh: sourced by lab scripts that record a server and a client in two namespaces
# joined by one veth pair (lab/killed.sh, lab/unix.sh; lab/multi.sh, which builds its own
# pair, uses the recorder and the wait). The sourcing script sets SRV, CLI, NETCHECK, and for
# pair_topology SRV_IP, CLI_IP (/24 addresses) and VETH (a prefix for the two interface names).

# pair_topology: (re)creates the two namespaces and the veth pair between them.
pair_topology() {
  pair_teardown
  ip netns add "$SRV"
  ip netns add "$CLI"
  ip link add "${VETH}0" netns "$SRV" type veth peer name "${VETH}1" netns "$CLI"
  ip -n "$SRV" addr add "$SRV_IP/24" dev "${VETH}0"
  ip -n "$CLI" addr add "$CLI_IP/24" dev "${VETH}1"
  ip -n "$SRV" link set lo up
  ip -n "$CLI" link set lo up
  ip -n "$SRV" link set "${VETH}0" up
  ip -n "$CLI" link set "${VETH}1" up
}

pair_teardown() {
  ip netns del "$SRV" 2>/dev/null || true
  ip netns del "$CLI" 2>/dev/null || true
}

# traced FLAGS DIR HOST CMD...: CMD under strace with the flag set, writing DIR/HOST.trace:
# `record` (netcheck record), `plain` (strace -f -tt -T -yy) or `ttt` (strace -f -ttt -T, no
# -yy), and `raw` or `noverbose` (`ttt` printing structures undecoded: `-e raw=all`, `-e
# verbose=none`), and `extra` (`plain` with the options in $STRACE_EXTRA), all with -s 256.
# Exported into `bash -c` with `declare -f traced` when CMD runs in a namespace.
traced() {
  local flags=$1 dir=$2 host=$3
  shift 3
  case $flags in
    record) "$NETCHECK" record -o "$dir/$host.trace" --host "$host" --string-limit 256 -- "$@" \
      >"$dir/$host.log" 2>&1 ;;
    plain) strace -f -tt -T -yy -s 256 -o "$dir/$host.trace" "$@" >"$dir/$host.log" 2>&1 ;;
    ttt) strace -f -ttt -T -s 256 -o "$dir/$host.trace" "$@" >"$dir/$host.log" 2>&1 ;;
    raw) strace -f -ttt -T -s 256 -e raw=all -o "$dir/$host.trace" "$@" >"$dir/$host.log" 2>&1 ;;
    noverbose) strace -f -ttt -T -s 256 -e verbose=none -o "$dir/$host.trace" "$@" \
      >"$dir/$host.log" 2>&1 ;;
    extra) # shellcheck disable=SC2086 # STRACE_EXTRA holds several options
      strace -f -tt -T -yy -s 256 $STRACE_EXTRA -o "$dir/$host.trace" "$@" >"$dir/$host.log" 2>&1 ;;
  esac
}

# wait_listening PORT: waits until something in the server's namespace listens on TCP PORT.
wait_listening() {
  local i
  for i in $(seq 100); do
    ip netns exec "$SRV" ss -Hlnt "sport = :$1" | grep -q . && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  return 1
}
