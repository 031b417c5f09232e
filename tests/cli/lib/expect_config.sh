# Sourced by the configuration tests: a scratch folder and
#   expect FILE-CONTENT EXPECTED-MESSAGE-FRAGMENT
# which writes the file, runs `textdesk serve --config` on it and counts a
# pass when the server refused it (exit 1) with a message holding the
# fragment and created no data folder. Needs $bin (the textdesk binary).
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pass=0
fail=0

expect() {
    printf '%s\n' "$1" >"$dir/c.json"
    # a file taken by mistake would serve for ever: 30 s, then a failure
    out=$(timeout 30 "$bin" serve --config "$dir/c.json" --data "$dir/data" --listen 127.0.0.1:1 2>&1)
    rc=$?
    if [ $rc -eq 1 ] && printf '%s' "$out" | grep -qF -- "$2" && [ ! -e "$dir/data" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: wanted '$2' (exit 1), got exit $rc: $out"
    fi
}
