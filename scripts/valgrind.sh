#!/bin/sh
# Runs the unit tests and a short server session under valgrind (memcheck):
# a plain debug build in build/valgrind (valgrind cannot run the ASan
# build), every tests/unit binary, then end-to-end tests whose server is
# the valgrind-run binary. Fails on any memcheck error or definite/indirect
# leak. Slow (minutes), so not part of `make test`: `make valgrind`.
#   VALGRIND_E2E="metrics webhook admin"   which tests/e2e/NAME.test.mjs to run
# (the default avoids tests with second-scale timers, which valgrind's
# slowdown, argon2id logins above all, pushes past their deadlines)
set -eu
case ${1:-} in -h | --help)
    echo "usage: sh scripts/valgrind.sh   (make valgrind; VALGRIND_E2E, JOBS)"
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
cd "$(dirname "$0")/.."
b=build/valgrind
command -v valgrind >/dev/null || { echo "valgrind: not installed (scripts/deps.sh --test)" >&2; exit 1; }
cmake -S . -B $b -G Ninja -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build $b -j "${JOBS:-2}"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
--errors-for-leak-kinds=definite,indirect --track-origins=yes"
fail=0
# the property test's default size takes long under valgrind
export TEXTDESK_PROP_SEEDS=${TEXTDESK_PROP_SEEDS:-100} TEXTDESK_PROP_STEPS=${TEXTDESK_PROP_STEPS:-300}
for t in $b/test_*; do
    [ -x "$t" ] || continue
    n=$(basename "$t")
    rc=0
    $VG --log-file="$logs/$n.log" "$t" >"$logs/$n.out" 2>&1 || rc=$?
    if [ $rc -eq 0 ]; then
        echo "valgrind: $n ok"
    elif [ $rc -ne 99 ] && [ ! -s "$logs/$n.log" ] && [ "$n" = test_smpp_peer ]; then
        # its throttle and window checks measure rates against a real SMSC,
        # which valgrind's slowdown skews; memcheck itself found nothing
        echo "valgrind: $n memcheck clean (a timing check failed under valgrind:"
        grep -E '^\[  (ERROR|FAILED) ' "$logs/$n.out" | head -3
        echo ")"
    else
        echo "valgrind: $n FAILED"
        cat "$logs/$n.log"; tail -20 "$logs/$n.out"
        fail=1
    fi
done
# The server: each e2e test starts this wrapper instead of the binary
# (textdesk-full itself: `textdesk` would execute it out of valgrind's view).
cat >"$logs/textdesk" <<WRAP
#!/bin/sh
exec $VG --log-file=$logs/server.%p.log $PWD/$b/textdesk-full "\$@"
WRAP
chmod +x "$logs/textdesk"
for e in ${VALGRIND_E2E:-metrics webhook admin}; do
    if (cd tests/e2e && TEXTDESK_BIN="$logs/textdesk" TEXTDESK_WEB="$PWD/../../web" \
        TEXTDESK_START_MS=120000 \
        node --test --test-reporter=dot "$e.test.mjs" >"$logs/e2e_$e.out" 2>&1); then
        echo "valgrind: e2e $e ok"
    else
        echo "valgrind: e2e $e FAILED"
        tail -40 "$logs/e2e_$e.out"
        fail=1
    fi
done
for l in "$logs"/server.*.log; do
    [ -e "$l" ] || continue
    if [ -s "$l" ]; then
        echo "valgrind: server $(basename "$l"):"
        cat "$l"
        fail=1
    fi
done
echo "valgrind: server runs: $(ls "$logs"/server.*.log 2>/dev/null | wc -l)"
[ $fail -eq 0 ] && echo "valgrind: clean" || echo "valgrind: FAILED"
exit $fail
