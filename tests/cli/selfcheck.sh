#!/bin/sh
# `textdesk selfcheck` and the command dispatcher, as a user runs them.
# $1: path to the textdesk binary.
bin=$1
pass=0
fail=0
check() { # name, condition result
    if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi
}

out=$("$bin" selfcheck 2>&1); rc=$?
check "selfcheck exits 0" $rc
echo "$out" | grep -q '^selfcheck: 36 steps, .* replay identical, all as expected$'
check "selfcheck summary line" $?
echo "$out" | grep -q 'offered conv=1 agent=1 .*queue_name="Support" number="+46701234567" ep_number="+46700000001"'
check "offer carries queue name, customer and entry point numbers" $?
echo "$out" | grep -q 'agent_state agent=2 state=rona why=timeout'
check "unanswered offer sets RONA" $?
echo "$out" | grep -q 'the gateway retries the same SMS: no-op *duplicate$'
check "duplicate inbound reported as duplicate" $?

q=$("$bin" selfcheck -q); rc=$?
check "selfcheck -q exits 0" $rc
[ "$(echo "$q" | wc -l)" -eq 1 ]
check "selfcheck -q prints one line" $?

"$bin" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ]; check "no command: exit 2" $?
err=$("$bin" frobnicate 2>&1); rc=$?
[ $rc -eq 2 ]; check "unknown command: exit 2" $?
echo "$err" | grep -q "unknown command 'frobnicate'"
check "unknown command named" $?
"$bin" --help | grep -q '^  selfcheck'
check "--help lists commands" $?

# --data: a data folder's store and event log
d=$(mktemp -d)
err=$("$bin" selfcheck --data "$d" 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ]; check "selfcheck --data without a store: exit 1" $?
echo "$err" | grep -qF "textdesk selfcheck: no store at $d/textdesk.db: name the server's with --data DIR or --store URL"
check "selfcheck --data without a store says what to do" $?
sqlite3 "$d/textdesk.db" 'PRAGMA user_version = 0' >/dev/null
out=$("$bin" selfcheck --data "$d" 2>&1); rc=$?
check "selfcheck --data on an empty store exits 0" $rc
echo "$out" | grep -q '0 events replayed, store sound, every conversation in a valid state$'
check "selfcheck --data summary line" $?
sqlite3 "$d/textdesk.db" "INSERT INTO events (seq, type, at) VALUES (1, 17, 0);
  INSERT INTO messages (id, conv, seq, outbound, status, at, status_at) VALUES (1, 1, 1, 1, 0, 0, 0);"
out=$("$bin" selfcheck --data "$d" 2>&1); rc=$?
[ $rc -eq 1 ]; check "selfcheck --data finds an outbound message with an inbound status" $?
echo "$out" | grep -q 'bad status: message 1 has status 0'
check "selfcheck --data names the problem" $?
rm -rf "$d"

echo "selfcheck.sh: $pass passed, $fail failed"
[ $fail -eq 0 ]
