#!/usr/bin/env bash
# lab/unix.sh (as root): programs whose connect to a local service's unix-domain socket fails
# (no socket file, a stale one left by a killed server, a file the caller may not use, a back
# end that comes up late), and the same programs healthy, into tests/fixtures/unix/NAME--FLAGS/
# (traces zstd-compressed). Programs: curl --unix-socket, redis-cli -s, a Python client
# (lab/programs/unix_client.py), and nginx in front of a unix-socket back end (socat, or
# PHP-FPM over FastCGI) for a curl client on another host. FLAGS: `record` (netcheck record) and `plain`
# (strace -f -tt -T -yy), both with -s 256.
#
# nginx runs in namespace nux-srv (10.90.0.1), its client in nux-cli (10.90.0.2).
# Usage: lab/unix.sh [SCENARIO-PREFIX...]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/tests/fixtures/unix}
NETCHECK=${NETCHECK:-$ROOT/target/release/netcheck}
PROGRAMS=$ROOT/lab/programs
SRV=nux-srv
CLI=nux-cli
SRV_IP=10.90.0.1
CLI_IP=10.90.0.2
VETH=nux-veth
FLAG_SETS=${FLAG_SETS:-record plain}
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/netcheck-unix.XXXXXX)
chmod 755 "$WORK"
BACKGROUND=()
# shellcheck source=lab/pair.sh
. "$ROOT/lab/pair.sh"
trap teardown EXIT

log() { printf '[unix] %s\n' "$*" >&2; }

teardown() {
  local p
  for p in "${BACKGROUND[@]}"; do kill "$p" 2>/dev/null || true; done
  pair_teardown
  rm -rf "$WORK"
}



# Starts a socat back end answering one HTTP request per connection on unix socket PATH.
backend() {
  # The answer comes from a script: socat's address syntax would take its escapes apart.
  printf '%s\n' "printf 'HTTP/1.0 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n'" >"$WORK/answer.sh"
  socat "UNIX-LISTEN:$1,fork,mode=666" SYSTEM:"sh $WORK/answer.sh" &
  BACKGROUND+=($!)
  local i
  for i in $(seq 50); do [ -S "$1" ] && return 0; sleep 0.1; done
  log "no back end at $1"
}

stop_background() {
  local p
  for p in "${BACKGROUND[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  BACKGROUND=()
}

# finish NAME FLAGS DIR HOSTS...: writes netcheck.conf and expected.json, compresses traces.
finish() {
  local name=$1 flags=$2 dir=$3 host
  shift 3
  {
    echo "# $name--$flags: recorded by lab/unix.sh"
    for host in "$@"; do
      echo "host $host"
      echo " trace $host.trace.zst"
      case $host in
        nginx) echo " ip $SRV_IP" ;;
        client) [ $# -gt 1 ] && echo " ip $CLI_IP" ;;
      esac
    done
  } >"$dir/netcheck.conf"
  expectation "$name" "$flags" >"$dir/expected.json"
  rm -f "$dir"/*.log
  local f
  for f in "$dir"/*.trace; do zstd -q -19 --rm "$f" -o "$f.zst"; done
}

fresh() { # NAME FLAGS: an empty scenario directory
  local dir=$OUT/$1--$2
  rm -rf "$dir"
  mkdir -p "$dir"
  log "$1--$2"
  echo "$dir"
}

# A single-host scenario: CMD traced as host `client`, after SETUP (a function name or :).
local_scenario() {
  local name=$1 setup=$2
  shift 2
  local flags dir
  for flags in $FLAG_SETS; do
    dir=$(fresh "$name" "$flags")
    rm -f "$WORK"/*.sock
    "$setup"
    traced "$flags" "$dir" client "$@" || true
    stop_background
    finish "$name" "$flags" "$dir" client
  done
}

# nginx in nux-srv proxying to unix socket $WORK/app.sock (or, with LOCATION set, serving
# what that location block says); curl asks it from nux-cli (CLIENTS of them at once).
nginx_scenario() {
  local name=$1 setup=$2 flags dir conf
  local location=${LOCATION:-"proxy_pass http://unix:$WORK/app.sock:/;"}
  local clients=${CLIENTS:-1}
  for flags in $FLAG_SETS; do
    dir=$(fresh "$name" "$flags")
    rm -f "$WORK"/*.sock
    "$setup"
    conf=$WORK/nginx.conf
    cat >"$conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 64; }
http {
  access_log off;
  server {
    listen $SRV_IP:8080;
    root $WORK;
    location / { $location }
  }
}
CONF
    ip netns exec "$SRV" bash -c "$(declare -f traced); NETCHECK=$NETCHECK; traced $flags $dir nginx nginx -c $conf" &
    local npid=$!
    local i
    for i in $(seq 100); do
      ip netns exec "$SRV" ss -Hlnt "sport = :8080" | grep -q . && break
      sleep 0.1
    done
    local url="http://$SRV_IP:8080/${URL_PATH:-}" urls="" i
    for i in $(seq "$clients"); do urls="$urls -o /dev/null $url"; done
    # One curl fetching the URL CLIENTS times at once (--parallel): one trace, several
    # connections.
    ip netns exec "$CLI" bash -c "$(declare -f traced); NETCHECK=$NETCHECK; traced $flags $dir client curl -sS --parallel --parallel-immediate -w '%{http_code}\n' $urls" || true
    # nginx stops on SIGQUIT (graceful) once the client is done.
    local pid
    pid=$(ip netns pids "$SRV" | while read -r p; do
      [ "$(cat "/proc/$p/comm" 2>/dev/null)" = nginx ] && echo "$p"; done | head -1)
    [ -n "$pid" ] && kill -QUIT "$pid"
    wait "$npid" || true
    stop_background
    finish "$name" "$flags" "$dir" nginx client
  done
}

no_backend() { :; }

# PHP-FPM on unix socket $WORK/php.sock with one worker and a backlog of BACKLOG (default 511),
# run as root (-R) in the foreground; index.php answers at once, slow.php after 2 s.
php_fpm() {
  printf '<?php echo "ok\\n";\n' >"$WORK/index.php"
  printf '<?php sleep(2); echo "slow\\n";\n' >"$WORK/slow.php"
  cat >"$WORK/php-fpm.conf" <<CONF
[global]
pid = $WORK/php-fpm.pid
error_log = $WORK/php-fpm.log
daemonize = no
[www]
listen = $WORK/php.sock
listen.mode = 0666
listen.backlog = ${BACKLOG:-511}
pm = static
pm.max_children = 1
CONF
  php-fpm8.2 -R -F -y "$WORK/php-fpm.conf" &
  BACKGROUND+=($!)
  local i
  for i in $(seq 50); do [ -S "$WORK/php.sock" ] && return 0; sleep 0.1; done
  log "no PHP-FPM at $WORK/php.sock"
}
# PHP-FPM killed by SIGKILL: its socket file stays behind.
php_fpm_killed() {
  php_fpm
  local p
  p=$(cat "$WORK/php-fpm.pid" 2>/dev/null || true)
  # The worker first: once the master is gone it would be nobody's child.
  [ -n "$p" ] && { pkill -KILL -P "$p" 2>/dev/null || true; kill -KILL "$p"; }
  sleep 0.2
  BACKGROUND=()
}
app_backend() { backend "$WORK/app.sock"; }
# A redis-server killed by SIGKILL leaves its socket file behind.
stale_redis() {
  redis-server --port 0 --unixsocket "$WORK/redis.sock" --save '' --appendonly no >/dev/null &
  local p=$!
  local i
  for i in $(seq 50); do [ -S "$WORK/redis.sock" ] && break; sleep 0.1; done
  kill -KILL "$p"
  wait "$p" 2>/dev/null || true
}
live_redis() {
  redis-server --port 0 --unixsocket "$WORK/redis.sock" --unixsocketperm 777 --save '' \
    --appendonly no >/dev/null &
  BACKGROUND+=($!)
  local i
  for i in $(seq 50); do [ -S "$WORK/redis.sock" ] && break; sleep 0.1; done
}
# A socket file only root may use.
private_backend() {
  socat "UNIX-LISTEN:$WORK/app.sock,fork,mode=600" SYSTEM:"echo ok" &
  BACKGROUND+=($!)
  local i
  for i in $(seq 50); do [ -S "$WORK/app.sock" ] && break; sleep 0.1; done
}
# The back end comes up 0.6 s after the client starts trying.
late_backend() {
  (sleep 0.6; exec socat "UNIX-LISTEN:$WORK/app.sock,mode=666" SYSTEM:"echo ok") &
  BACKGROUND+=($!)
}

# expectation NAME FLAGS: the expected.json of a scenario (the same for every flag set).
expectation() {
  local name=$1 flags=$2 desc healthy=false report='"unix-connect-failed"' views=''
  case $name in
    healthy-*) healthy=true ;;
  esac
  case $name in
    healthy-curl) desc="curl --unix-socket asks a socat back end" ;;
    healthy-redis) desc="redis-cli -s pings a redis-server on its unix socket" ;;
    healthy-nginx) desc="curl asks nginx, which proxies to a socat back end on a unix socket" ;;
    missing-curl) desc="curl --unix-socket to a path where no socket file exists (ENOENT)" ;;
    missing-nginx) desc="nginx proxies to a unix socket that does not exist (ENOENT) and answers curl 502" ;;
    healthy-php) desc="curl asks nginx for a PHP page PHP-FPM serves on a unix socket" ;;
    killed-php) desc="PHP-FPM was killed by SIGKILL and left its socket file: nginx's connect is refused (ECONNREFUSED) and it answers curl 502" ;;
    backlog-php) desc="four requests at once for a page that takes 2 s, to PHP-FPM with one worker and listen.backlog 0: nginx's nonblocking connects fail with EAGAIN and it answers 502" ;;
    stale-redis) desc="redis-cli -s to the socket file a redis-server killed by SIGKILL left behind (ECONNREFUSED)" ;;
    private-python) desc="a Python client running as nobody connects to a socket file of mode 600 owned by root (EACCES)" ;;
    late-python) desc="a Python client retries a unix socket whose back end comes up 0.6 s later (ENOENT, then connected)"
      report='"unix-connect-failed"' ;;
  esac
  case $name in
    *-nginx|*-php)
      if [ "$healthy" = true ]; then
        views='"views": { "nginx": { "healthy": true }, "client": { "healthy": true } }'
      else
        views='"views": { "nginx": { "must_report_any": ["unix-connect-failed"] }, "client": { "invisible": "the client gets a 502 answer over a healthy connection; only the server trace shows its connect to the back end failing" } }'
      fi ;;
  esac
  if [ "$healthy" = true ]; then
    printf '{\n  "scenario": "%s",\n  "description": "%s",\n  "must_not_report": ["unparsed-lines"],\n  "healthy": true%s\n}\n' \
      "$name--$flags" "$desc" "${views:+,
  $views}"
  else
    printf '{\n  "scenario": "%s",\n  "description": "%s",\n  "must_report": [%s],\n  "must_not_report": ["unparsed-lines"]%s\n}\n' \
      "$name--$flags" "$desc" "$report" "${views:+,
  $views}"
  fi
}

want() { # NAME: is the scenario selected by the command line?
  [ ${#SELECTED[@]} -eq 0 ] && return 0
  local p
  for p in "${SELECTED[@]}"; do [[ $1 == "$p"* ]] && return 0; done
  return 1
}

main() {
  SELECTED=("$@")
  pair_topology
  want healthy-curl && local_scenario healthy-curl app_backend \
    curl -sS --unix-socket "$WORK/app.sock" http://localhost/
  want missing-curl && local_scenario missing-curl no_backend \
    curl -sS --unix-socket "$WORK/app.sock" http://localhost/
  want healthy-redis && local_scenario healthy-redis live_redis \
    redis-cli -s "$WORK/redis.sock" ping
  want stale-redis && local_scenario stale-redis stale_redis \
    redis-cli -s "$WORK/redis.sock" ping
  want private-python && local_scenario private-python private_backend \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" "$PROGRAMS/unix_client.py" "$WORK/app.sock" 1
  want late-python && local_scenario late-python late_backend \
    "$PY" "$PROGRAMS/unix_client.py" "$WORK/app.sock" 30
  want healthy-nginx && nginx_scenario healthy-nginx app_backend
  want missing-nginx && nginx_scenario missing-nginx no_backend
  local php="include /etc/nginx/fastcgi_params; fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name; fastcgi_pass unix:$WORK/php.sock;"
  want healthy-php && LOCATION=$php URL_PATH=index.php nginx_scenario healthy-php php_fpm
  want killed-php && LOCATION=$php URL_PATH=index.php nginx_scenario killed-php php_fpm_killed
  want backlog-php && LOCATION=$php URL_PATH=slow.php CLIENTS=4 BACKLOG=0 \
    nginx_scenario backlog-php php_fpm
  log "done"
}

main "$@"
