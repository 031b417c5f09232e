#!/bin/sh
# A throwaway PostgreSQL 15 for the tests (Debian's postgresql-15):
#   scripts/pgtest.sh start DIR   initdb + pg_ctl in DIR (created; must not
#                                 exist or be empty), listening on 127.0.0.1
#                                 on a free port, its unix socket in DIR; prints
#                                 the connection URL and writes it to DIR/url
#   scripts/pgtest.sh stop DIR    stops it by PID (fast shutdown), removes DIR
#   scripts/pgtest.sh pid DIR     the postmaster's PID
# initdb refuses to run as root, so as root the cluster belongs to the
# `postgres` system user (runuser). Authentication is `trust` on loopback
# only: a test cluster, never a real one. PGTEST_SETTINGS="name=value ..."
# adds server settings (bench_server's BENCH_PG_SETTINGS; e.g.
# "log_statement=all log_line_prefix=%m|%p|%x|" to see who wrote what),
# written into the cluster's postgresql.conf, so a test's own restarts
# (pg_ctl restart) keep them; the tests run PostgreSQL's defaults.
set -eu
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
dir=${2:-}
case $cmd in -h | --help)
    echo "usage: $0 start|stop|pid DIR"
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
if [ -z "$cmd" ] || [ -z "$dir" ]; then
    echo "usage: $0 start|stop|pid DIR (--help)" >&2
    exit 2
fi
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
free_port() {
    # a port nobody listens on: bind port 0 and read what the kernel chose
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
        node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
pid_of() { head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true; }

case "$cmd" in
start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    chmod 700 "$dir"
    as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C \
        --no-instructions >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    for kv in ${PGTEST_SETTINGS:-}; do
        case $kv in
        *=*) echo "${kv%%=*} = '${kv#*=}'" >>"$dir/data/postgresql.conf" ;;
        *) echo "pgtest: PGTEST_SETTINGS takes name=value words, not '$kv'" >&2; exit 2 ;;
        esac
    done
    tries=0
    while :; do
        port=$(free_port)
        if as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=on" \
            start >/dev/null 2>&1; then
            break
        fi
        tries=$((tries + 1))
        if [ $tries -ge 5 ]; then
            echo "pgtest: PostgreSQL did not start:" >&2
            tail -n 20 "$dir/log" >&2 || true
            exit 1
        fi
    done
    url="postgresql://postgres@127.0.0.1:$port/postgres"
    echo "$url" >"$dir/url"
    echo "$port" >"$dir/port"
    echo "$url"
    ;;
stop)
    pid=$(pid_of)
    if [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null; then
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
    ;;
pid)
    pid_of
    ;;
*)
    echo "pgtest: unknown command $cmd (start, stop or pid)" >&2
    exit 2
    ;;
esac
