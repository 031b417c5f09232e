#!/bin/sh
# `textdesk serve --config`: every bad file is refused with a message naming
# the file, the key (or line) and the problem, before anything starts.
# $1: path to the textdesk binary.
bin=$1
. "$(dirname "$0")/lib/expect_config.sh"

base='"teams":[{"id":1,"name":"T"}],"queues":[{"id":1,"name":"Q","teams":[1]}]'
# a file that is not JSON: the file, line and column, the problem in plain
# words and what to do (before: jansson's "'[' or '{' expected near 'x'")
expect '{"teams": [' "c.json: line 2, column 1: the file ends before its JSON is complete: close every string, list and object that is open"
expect '{"teams": [], "teams": []}' "c.json: line 1, column 21: a key is written twice in one object: keep one of them"
expect '{"teams": [{"id": 1, "name": "T"}
  "queues": []}' "c.json: line 2, column 10: a comma or a closing ] is missing before this point: put a comma between two values, or close the list"
expect '{"teams": [] "queues": []}' "c.json: line 1, column 21: a comma or a closing } is missing before this point"
expect '{
  teams: []}' 'c.json: line 2, column 7: a key in double quotes is expected here: remove the comma after the last entry, or write the key as "key"'
expect '{"teams" []}' 'c.json: line 1, column 10: a colon is missing after the key: write "key": value'
expect '{"teams": [],}' "c.json: line 1, column 14: a key in double quotes is expected here"
expect '{"teams": []} // the teams' "c.json: line 1, column 15: more follows the end of the configuration's object: remove it"
expect "{'teams': []}" "c.json: line 1, column 2: a key in double quotes is expected here"
expect '{"teams": [], "x": tru}' "c.json: line 1, column 22: this is not JSON: keys and strings take double quotes, and comments, single quotes and a comma after the last entry are not allowed"
expect '' "c.json: line 2, column 1: the file is empty: write the configuration in it, one JSON object (docs/configuration.md)"
expect "$(printf '{"teams": [{"id": 1, "name": "\377"}]}')" "c.json: line 1, column 30: the file is not UTF-8 text: save it as UTF-8"
expect '[]' "c.json: (top): the file must hold one JSON object: put the configuration inside { }"
expect '{"teems": []}' 'c.json: (top): unknown key "teems"'
expect '{"tls": "x"}' 'c.json: tls: must be an object'
expect '{"tls": {"cert": "a.pem"}}' 'c.json: tls.key: key is required'
expect '{"tls": {"cert": "a.pem", "key": "b.pem", "ca": "c.pem"}}' 'c.json: tls: unknown key "ca"'
expect '{"tls": {"cert": "", "key": "b.pem"}}' 'c.json: tls.cert: must name a PEM file'
expect '{"tls": {"cert": "/nonexistent/a.pem", "key": "/nonexistent/b.pem"}}' 'TLS: cannot read /nonexistent/a.pem'
expect '{"teams":[{"id":1}]}' "c.json: teams[0].name: is required"
expect '{"teams":[{"id":"1","name":"T"}]}' "c.json: teams[0].id: must be a whole number"
expect '{"teams":[{"id":0,"name":"T"}]}' "c.json: teams[0].id: must be a whole number from 1 to 16777215"
expect "{$base,\"entry_points\":[{\"id\":1,\"number\":\"+4670\",\"queue\":7}]}" \
    "c.json: entry_points[0]: no such queue: check the id, or add the queue first (no_such_queue)"
expect '{"teams":[{"id":1,"name":"T"}],"queues":[{"id":1,"name":"Q","teams":[9]}]}' \
    "c.json: queues[0]: no such team: check the id, or add the team first (no_such_team)"
expect "{$base,\"agents\":[{\"id\":1,\"name\":\"A\",\"username\":\"a\",\"pasword\":\"x\"}]}" \
    'c.json: agents[0].pasword: unknown field'
expect "{$base,\"agents\":[{\"id\":1,\"name\":\"A\",\"username\":\"a\"}]}" \
    "c.json: agents[0]: give exactly one of password and password_hash"
expect "{$base,\"agents\":[{\"id\":1,\"name\":\"A\",\"username\":\"a\",\"password\":\"abc\"}]}" \
    "password must be at least 4 characters"
expect '{"settings":{"mask_sensitive_data":"yes"}}' \
    "c.json: settings.mask_sensitive_data: must be true or false"
expect '{"teams":[{"id":1,"name":"T"}],"queues":[{"id":1,"name":"Q","teams":[1],"auto_wrapup_s":60}]}' \
    "c.json: queues[0]: no such wrap-up or idle reason: choose one that exists (no_such_reason)"
# an entry point's maximum wait: 0 (none) .. 7 days (docs/configuration.md)
expect "{$base,\"entry_points\":[{\"id\":1,\"number\":\"71000\",\"queue\":1,\"max_wait_s\":-1}]}" \
    "c.json: entry_points[0].max_wait_s: must be a whole number of seconds, 0 .. 604800"
expect "{$base,\"entry_points\":[{\"id\":1,\"number\":\"71000\",\"queue\":1,\"max_wait_s\":604801}]}" \
    "c.json: entry_points[0].max_wait_s: must be a whole number of seconds, 0 .. 604800"
# skills: ids, levels, each once, configured, and removal only when unused
sk='"skills":[{"id":1,"name":"Svenska"}]'
expect "{$sk,\"skills\":[]}" "a key is written twice in one object: keep one of them"
expect '{"skills":[{"id":1}]}' "c.json: skills[0].name: is required"
expect "{$base,$sk,\"agents\":[{\"id\":1,\"name\":\"A\",\"username\":\"a\",\"password\":\"abcd\",\"skills\":[{\"skill\":1,\"level\":6}]}]}" \
    "c.json: agents[0].skills[0].level: must be a whole number from 1 to 5"
expect "{$base,$sk,\"agents\":[{\"id\":1,\"name\":\"A\",\"username\":\"a\",\"password\":\"abcd\",\"skills\":[{\"skill\":2,\"level\":3}]}]}" \
    "c.json: agents[0]: no such skill: check the id, or add the skill first (no_such_skill)"
expect "{$base,$sk,\"agents\":[{\"id\":1,\"name\":\"A\",\"username\":\"a\",\"password\":\"abcd\",\"skills\":[{\"skill\":1,\"level\":3},{\"skill\":1,\"level\":2}]}]}" \
    "c.json: agents[0].skills[1].skill: skill 1 is listed twice"
expect "{\"teams\":[{\"id\":1,\"name\":\"T\"}],$sk,\"queues\":[{\"id\":1,\"name\":\"Q\",\"teams\":[1],\"skills\":{\"skill\":1}}]}" \
    "c.json: queues[0].skills: must be a list of at most 32"
expect "{\"teams\":[{\"id\":1,\"name\":\"T\"}],$sk,\"queues\":[{\"id\":1,\"name\":\"Q\",\"teams\":[1],\"widen_step_s\":-5}]}" \
    "c.json: queues[0].widen_step_s: must be a whole number from 0 to 86400"
expect "{$base,$sk,\"entry_points\":[{\"id\":1,\"number\":\"+4670\",\"queue\":1,\"skill_words\":[{\"word\":\"\",\"skill\":1,\"level\":1}]}]}" \
    "c.json: entry_points[0].skill_words[0].word: must be a word (no blanks)"
expect "{$base,$sk,\"entry_points\":[{\"id\":1,\"number\":\"+4670\",\"queue\":1,\"skill_words\":[{\"word\":\"english\",\"skill\":2,\"level\":1}]}]}" \
    "c.json: entry_points[0]: no such skill: check the id, or add the skill first (no_such_skill)"

out=$("$bin" serve --config "$dir/missing.json" 2>&1); rc=$?
if [ $rc -eq 1 ] && printf '%s' "$out" | grep -q "missing.json"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: missing file: $out"; fi
out=$("$bin" serve --listen nonsense 2>&1); rc=$?
if [ $rc -eq 2 ] && printf '%s' "$out" | grep -q "expected ADDR:PORT"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: bad --listen: $out"; fi
# an address this machine has not: refused at once (libwebsockets would wait
# for it, serving nothing), nothing made
for l in 192.0.2.1:8080 nosuchif:8080; do
    out=$(timeout 10 "$bin" serve --listen $l --data "$dir/d" 2>&1); rc=$?
    if [ $rc -eq 1 ] && printf '%s' "$out" | grep -q "cannot listen on $l: .*give another --listen" &&
        [ ! -e "$dir/d" ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: --listen $l: exit $rc: $out"; fi
done
out=$("$bin" serve --frob 2>&1); rc=$?
if [ $rc -eq 2 ] && printf '%s' "$out" | grep -q "unknown option '--frob'"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: unknown option: $out"; fi
out=$("$bin" serve --node a --data "$dir/d" 2>&1); rc=$?
if [ $rc -eq 2 ] && printf '%s' "$out" | grep -q "\-\-node needs a PostgreSQL store" && [ ! -e "$dir/d" ]; then
    pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: --node on SQLite: $out"; fi
out=$("$bin" serve --node 'a b' --store postgresql://127.0.0.1:1/x 2>&1); rc=$?
if [ $rc -eq 2 ] && printf '%s' "$out" | grep -q "\-\-node 'a b': use 1 to 63 letters"; then
    pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: bad --node: $out"; fi

# the cluster's timing: "ha" in the file, --lease-ms / --self-fence-ms / --step-ms
expect '{"ha": 5}' 'c.json: ha: must be an object'
expect '{"sso": 5}' 'c.json: sso: must be an object {"issuer": ..., "client_id": ...}'
expect '{"ha": {"lease": 2000}}' 'c.json: ha: unknown key "lease"'
# the file and the flags word a range alike
expect '{"ha": {"lease_ms": 500}}' 'c.json: ha.lease_ms 500: use 1000 to 600000 milliseconds'
expect '{"ha": {"step_ms": 5}}' 'c.json: ha.step_ms 5: use 10 to 1000 milliseconds'
expect '{"ha": {"step_ms": "100"}}' 'c.json: ha.step_ms: must be a whole number'
expect '{"ha": {"lease_ms": 2000, "self_fence_ms": 2000}}' \
    'c.json: ha.self_fence_ms 2000: use 300 milliseconds or more, and less than ha.lease_ms (2000)'
expect '{"ha": {"self_fence_ms": 400, "step_ms": 200}}' \
    'c.json: ha.self_fence_ms 400: at least three steps (ha.step_ms 200)'
serve2() { # ARGS... EXPECTED: exit 2 with the message, nothing started
    want=$1; shift
    out=$(timeout 30 "$bin" serve "$@" 2>&1); rc=$?
    if [ $rc -eq 2 ] && printf '%s' "$out" | grep -qF -- "$want"; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: serve $*: wanted '$want' (exit 2), got exit $rc: $out"; fi
}
pgx=postgresql://127.0.0.1:1/x
serve2 "--lease-ms is for a node of a cluster: add --node NAME" --lease-ms 2000 --data "$dir/d"
serve2 "--step-ms 'fast': expected a number of milliseconds" --node a --store $pgx --step-ms fast
serve2 "--self-fence-ms '-5': expected a number of milliseconds" --node a --store $pgx --self-fence-ms -5
serve2 "ha.self_fence_ms 6000: use 300 milliseconds or more, and less than ha.lease_ms (5000)" \
    --node a --store $pgx --self-fence-ms 6000
serve2 "ha.step_ms 2000: use 10 to 1000 milliseconds" --node a --store $pgx --step-ms 2000
serve2 "ha.step_ms 0: use 10 to 1000 milliseconds" --node a --store $pgx --step-ms 0
serve2 "ha.lease_ms 500: use 1000 to 600000 milliseconds" --node a --store $pgx --lease-ms 500
# the listener is IPv4 only: an IPv6 address is refused with what to do
# (before, '::1:PORT' said "listening" and served nothing)
for l in '[::1]:8080' '::1:8080' '[::]:8080'; do
    serve2 "--listen '$l': IPv6 addresses are not supported: listen on an IPv4 address" \
        --listen "$l" --data "$dir/d"
done
printf '{"listen": "[::1]:8080"}\n' >"$dir/l6.json"
serve2 "--listen '[::1]:8080': IPv6 addresses are not supported" --config "$dir/l6.json" --data "$dir/d"
printf '{"ha": {"lease_ms": 8000}}\n' >"$dir/ha.json"
serve2 "ha.self_fence_ms 9000: use 300 milliseconds or more, and less than ha.lease_ms (8000)" \
    --config "$dir/ha.json" --node a --store $pgx --self-fence-ms 9000
[ ! -e "$dir/d" ] || { fail=$((fail + 1)); echo "FAIL: a refused serve made $dir/d"; }

# sso.agent_teams names teams of the site: checked at start (the site is the
# store's, so after it opened), not first when someone signs in
sso='"sso": {"issuer": "http://127.0.0.1:1", "client_id": "c", "client_secret": "s",
  "redirect_url": "http://127.0.0.1:1/sso/", "role_claim": "roles",
  "roles": {"agent": "a"}, "provision": true, "agent_teams": [1, 9]}'
printf '{%s, %s}\n' "$base" "$sso" >"$dir/sso.json"
out=$(timeout 30 "$bin" serve --config "$dir/sso.json" --data "$dir/sso" --listen 127.0.0.1:0 2>&1); rc=$?
if [ $rc -eq 1 ] && printf '%s' "$out" | grep -qF "textdesk serve: sso.agent_teams: no team 9 on this site: list ids of existing teams (textdesk admin list teams) or create team 9 first"; then
    pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: sso.agent_teams [1, 9]: exit $rc: $out"; fi

# a "store" that is no store URL is refused with what to write; a missing
# file is said in the product's words (before: jansson's "-1:-1: unable
# to open ...")
expect '{"store": "foo:bar"}' 'c.json: store: must be a store URL: a folder, "sqlite:DIR" or "postgresql://USER@HOST/DB"'
out=$(timeout 30 "$bin" serve --config "$dir/none.json" --data "$dir/none" --listen 127.0.0.1:1 2>&1); rc=$?
if [ $rc -eq 1 ] && [ "$out" = "textdesk serve: cannot read the configuration file $dir/none.json: No such file or directory: check the path (--config FILE)" ] && [ ! -e "$dir/none" ]; then
    pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: missing config file: exit $rc: $out"; fi

echo "config.sh: $pass passed, $fail failed"
[ $fail -eq 0 ]
