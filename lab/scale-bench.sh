#!/bin/sh
# Memory and speed of `netcheck diagnose` as traces grow: many short healthy HTTP-like
# connections (lab/big-traces.py, about 870 connections per MB, one request never received, a
# lossy UDP flow, a refused connect) at 25, 50, 100 and 200 MB. For each size it prints `wc -l`
# on the same files (the floor any reader pays), then diagnose with one thread per trace and with
# one thread (NETCHECK_ONE_THREAD=1): wall and CPU seconds, peak RSS, the JSON report's size, and
# the ratio of the diagnose wall time to `wc -l`'s. Both runs must give the same report.
#
# With `--hosts N` it measures the socket-dense shape instead (lab/big-traces.py --event-loop
# --clients N-1: an epoll server and N-1 client hosts, one trace each, about 450 connections per
# MB), e.g. `lab/scale-bench.sh --hosts 4 1000` for the 1 GB four-host run.
#
# Usage: lab/scale-bench.sh [--hosts N] [SIZES_MB...]      (default: 25 50 100 200)
# Traces go to lab/out/scale/ (not committed); NETCHECK=path/to/netcheck picks the binary.
set -eu
cd "$(dirname "$0")/.."
bin=${NETCHECK:-target/release/netcheck}
[ -x "$bin" ] || cargo build --release
out=lab/out/scale
mkdir -p "$out"
hosts=
if [ "${1:-}" = --hosts ]; then
    hosts=$2
    shift 2
fi
sizes=${*:-25 50 100 200}
measure() { # label, command...: prints "wall user rss_kb"
    label=$1
    shift
    /usr/bin/time -f "%e %U %M" -o "$out/time" "$@" >/dev/null 2>&1 || true
    tail -n 1 "$out/time"
}
printf '%-6s %-12s %8s %8s %10s %10s %8s\n' MB run wall_s user_s rss_MB json_KB x_wc
for mb in $sizes; do
    if [ -n "$hosts" ]; then
        dir=$out/h$hosts-$mb
        [ -f "$dir/netcheck.conf" ] ||
            python3 lab/big-traces.py "$dir" $((mb * 450)) --event-loop --clients $((hosts - 1))
    else
        dir=$out/c$mb
        [ -f "$dir/netcheck.conf" ] || python3 lab/big-traces.py "$dir" $((mb * 870))
    fi
    set -- $(measure wc wc -l "$dir"/*.trace)
    wc_wall=$1
    printf '%-6s %-12s %8s %8s %10s %10s %8s\n' "$mb" "wc -l" "$1" "$2" "$(($3 / 1024))" - 1
    for mode in threads one-thread; do
        one=0
        [ "$mode" = one-thread ] && one=1
        set -- $(measure "$mode" env NETCHECK_ONE_THREAD=$one "$bin" diagnose --quiet \
            --format json -o "$out/$mode.json" "$dir/netcheck.conf")
        json_kb=$(($(wc -c <"$out/$mode.json") / 1024))
        ratio=$(awk -v a="$1" -v b="$wc_wall" 'BEGIN { if (b > 0) printf "%.0f", a / b; else printf "n/a" }')
        printf '%-6s %-12s %8s %8s %10s %10s %8s\n' "$mb" "$mode" "$1" "$2" "$(($3 / 1024))" \
            "$json_kb" "$ratio"
    done
    cmp -s "$out/threads.json" "$out/one-thread.json" || echo "reports differ at $mb MB" >&2
done
