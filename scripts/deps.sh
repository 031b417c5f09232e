#!/bin/sh
# Installs the Debian packages textdesk needs. Idempotent and quiet when
# everything is already there.
#   scripts/deps.sh          what building and running need
#   scripts/deps.sh --test   plus what the tests, fuzzers and benchmarks need
set -eu
case ${1:-} in -h | --help)
    echo "usage: scripts/deps.sh [--test]   (as root: apt-get install -y what is missing)"
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

# libev-dev and libwebsockets-evlib-ev: the server's epoll loop (src/http/http.c)
# libpq-dev: the PostgreSQL store (src/store/store_pg.c)
# libcurl4-openssl-dev: outbound HTTP(S) with non-blocking DNS (src/net/net_http.c)
# libcjose-dev: JOSE (JWS/JWK) for verifying OpenID Connect ID tokens (src/api/api_oidc.c)
# libjs-chart.js: the charts of the reports page, served from its install path (/vendor/chart.js/)
BUILD="gcc make cmake ninja-build pkg-config libjansson-dev libsqlite3-dev libwebsockets-dev libsodium-dev tzdata libev-dev libwebsockets-evlib-ev libpq-dev libcurl4-openssl-dev libjs-chart.js libcjose-dev"
# postgresql-15: the tests start their own server (scripts/pgtest.sh); haproxy:
# the reverse proxy of tests/e2e/proxy.test.mjs (trusted X-Forwarded-For)
TEST="postgresql-15 libcmocka-dev clang libclang-rt-14-dev libpcre2-dev sqlite3 chromium kannel kannel-extras libnet-smpp-perl valgrind openssl haproxy"
# node and npm run the end-to-end tests; a machine that has them already
# (from another source) keeps its own.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || TEST="$TEST nodejs npm"

pkgs=$BUILD
[ "${1:-}" = "--test" ] && pkgs="$pkgs $TEST"

missing=""
for p in $pkgs; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages:$missing (run this script as root)" >&2
    exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
