#!/bin/sh
# `textdesk` runs the pure commands (mask, sms-info) itself, loading no
# library but libc, and executes textdesk-full, found beside it, for the
# others (src/app/main.c). $1 is the binary.
set -u
bin=${1:?usage: launcher.sh path/to/textdesk}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }

libs=$(ldd "$bin" | grep -E -c 'libwebsockets|libssl|libcrypto|libsodium|libev|libsqlite3|libjansson|libpq|libcurl')
[ "$libs" -eq 0 ]
ok "textdesk loads no network, TLS or store library ($libs found)" $?

# a symlink elsewhere still finds textdesk-full beside the real file
ln -s "$bin" "$tmp/td"
"$tmp/td" serve --help | grep -q '^usage: textdesk serve'
ok "serve --help through a symlink" $?
"$tmp/td" selfcheck --help | grep -q '^usage: textdesk selfcheck'
ok "selfcheck --help" $?

# a lone copy: the pure commands work, the others say what is missing
cp "$bin" "$tmp/alone"
echo 'kort 4111 1111 1111 1111' | "$tmp/alone" mask | grep -q '^kort \*\{12\}1111$'
ok "mask in a copy without textdesk-full" $?
"$tmp/alone" serve >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 127 ] && grep -q 'textdesk-full comes with textdesk' "$tmp/err" && [ ! -s "$tmp/out" ]
ok "serve without textdesk-full: exit 127 and what to do (got $rc: $(head -1 "$tmp/err"))" $?

# the full program takes the process's place (exec, not fork): the PID the
# shell started is the server's, so stopping it by PID stops the server
"$bin" serve --data "$tmp/data" --listen 127.0.0.1:0 >/dev/null 2>&1 &
pid=$!
exe=
for _ in 1 2 3 4 5 6 7 8 9 10; do
    exe=$(readlink "/proc/$pid/exe")
    case $exe in */textdesk-full) break ;; esac
    sleep 0.2
done
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
case $exe in */textdesk-full) true ;; *) false ;; esac
ok "serve runs textdesk-full in the started process (pid $pid: $exe)" $?

echo "launcher.sh: $pass passed, $fail failed"
[ $fail -eq 0 ]
