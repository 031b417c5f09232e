#!/bin/sh
# A textdesk cluster on this machine (docs/operations.md, "High
# availability"): a throwaway PostgreSQL 15 (scripts/pgtest.sh), two nodes
# (textdesk serve --node a / b) and HAProxy in front, health-checking
# /api/health, all on free loopback ports. Prints the URL and the PIDs; kill
# the leader (kill -9 PID) and watch the desktop carry on. Ctrl-C stops
# everything, by PID.
#   scripts/cluster-demo.sh [--bin TEXTDESK] [--check]
#   --bin FILE  the textdesk binary (default: $TEXTDESK_BIN, else build/release/textdesk)
#   --check     no waiting: start, kill -9 the leader, wait until the load
#               balancer serves again, print the takeover time, stop
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${TEXTDESK_BIN:-$here/build/release/textdesk}
check=0
while [ $# -gt 0 ]; do
    case $1 in
    --bin) bin=$2; shift 2 ;;
    --check) check=1; shift ;;
    -h | --help) echo "usage: scripts/cluster-demo.sh [--bin TEXTDESK] [--check]"
        sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster-demo: unknown option '$1' (--help lists them)" >&2; exit 2 ;;
    esac
done
[ -x "$bin" ] || { echo "cluster-demo: no textdesk binary at $bin: run 'make build' first, or give --bin" >&2; exit 1; }
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || {
    echo "cluster-demo: HAProxy is missing: apt-get install haproxy (scripts/deps.sh)" >&2; exit 1; }
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
dir=$(mktemp -d /tmp/textdesk-cluster-XXXXXX)
chmod 755 "$dir" # PostgreSQL runs as its own user inside
pids=""
stop() {
    trap - INT TERM EXIT
    for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
    sh "$here/scripts/pgtest.sh" stop "$dir/pg" >/dev/null 2>&1 || true
    rm -rf "$dir"
    echo "cluster-demo: stopped"
}
trap stop INT TERM EXIT

echo "cluster-demo: starting PostgreSQL ..."
base=$(sh "$here/scripts/pgtest.sh" start "$dir/pg")
/usr/lib/postgresql/15/bin/psql -X -q -d "$base" -c "CREATE DATABASE textdesk"
url=${base%/*}/textdesk
health() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/api/health" 2>/dev/null || true; }
wait_health() { # PORT CODE SECONDS
    i=0
    while [ "$(health "$1")" != "$2" ]; do
        i=$((i + 1))
        [ $i -gt $(($3 * 10)) ] && { echo "cluster-demo: port $1 did not answer $2" >&2; exit 1; }
        sleep 0.1
    done
}
start_node() { # NAME PORT
    "$bin" serve --listen "127.0.0.1:$2" --store "$url" --node "$1" --web "$here/web" \
        >"$dir/node-$1.log" 2>&1 &
    pids="$pids $!"
    eval "pid_$1=$!"
}
pa=$(free_port)
pb=$(free_port)
lb=$(free_port)
start_node a "$pa"
wait_health "$pa" 200 60 # the first node seeds the database with the demo configuration
start_node b "$pb"
wait_health "$pb" 503 30
cat >"$dir/haproxy.cfg" <<EOF
global
  maxconn 1024
defaults
  mode http
  timeout connect 300ms
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
  option redispatch 1
  retries 1
frontend web
  bind 127.0.0.1:$lb
  option forwardfor
  default_backend textdesk
backend textdesk
  option httpchk GET /api/health
  http-check expect status 200
  timeout check 1500ms
  default-server inter 200ms fall 2 rise 1 on-marked-down shutdown-sessions
  server a 127.0.0.1:$pa check
  server b 127.0.0.1:$pb check
EOF
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
"$haproxy" -f "$dir/haproxy.cfg" -db >"$dir/haproxy.log" 2>&1 &
pids="$pids $!"
wait_health "$lb" 200 10

if [ $check -eq 1 ]; then
    t0=$(date +%s%N)
    kill -9 "$pid_a"
    wait_health "$pb" 200 30
    echo "cluster_demo_node_b_leads: $((($(date +%s%N) - t0) / 1000000)) ms"
    wait_health "$lb" 200 30
    echo "cluster_demo_takeover: $((($(date +%s%N) - t0) / 1000000)) ms"
    curl -s "http://127.0.0.1:$lb/api/health"
    echo
    exit 0
fi
cat <<EOF

textdesk cluster on one machine
  agent desktop    http://127.0.0.1:$lb/          (through HAProxy; log in as anna / demo-anna)
  SMS simulator    http://127.0.0.1:$lb/sim/
  supervisor       http://127.0.0.1:$lb/supervisor/ (lena / demo-lena)
  node a           http://127.0.0.1:$pa/api/health  pid $pid_a (leads)
  node b           http://127.0.0.1:$pb/api/health  pid $pid_b (stands by)
  logs             $dir
Kill the leader (kill -9 $pid_a) and watch the desktop carry on: node b
takes over. Freeze it instead (kill -STOP, later kill -CONT): the other
takes over after the 5 s lease and the frozen one, resumed, restarts itself
as a standby. Ctrl-C stops everything.
EOF
while :; do sleep 1; done
