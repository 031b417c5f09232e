#!/bin/sh
# `textdesk serve --config`: the "gateways" and "outbox" sections and the
# entry points' "gateway" are validated with the rest of the file; a bad one
# is refused naming the key, before anything starts.
# $1: path to the textdesk binary.
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pass=0
fail=0

expect() {
    printf '%s\n' "$1" >"$dir/c.json"
    out=$("$bin" serve --config "$dir/c.json" --data "$dir/data" --listen 127.0.0.1:1 2>&1)
    rc=$?
    if [ $rc -eq 1 ] && printf '%s' "$out" | grep -qF -- "$2" && [ ! -e "$dir/data" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: wanted '$2' (exit 1), got exit $rc: $out"
    fi
}

k='"type":"kannel","sendsms_url":"http://127.0.0.1:13013/cgi-bin/sendsms","username":"u","password":"p","dlr_url_base":"http://127.0.0.1:8080"'
w='"type":"webhook","url":"http://127.0.0.1:9000/send","secret":"0123456789abcdef"'
base='"teams":[{"id":1,"name":"T"}],"queues":[{"id":1,"name":"Q","teams":[1]}]'
expect '{"gateways":{}}' "c.json: gateways: must be a list of 1..16 gateways"
expect '{"gateways":[]}' "c.json: gateways: must be a list of 1..16 gateways"
expect '{"gateways":[{"type":"sim"}]}' "c.json: gateways[0].id: id is required"
expect '{"gateways":[{"id":"a b","type":"sim"}]}' "c.json: gateways[0].id: must be 1..32 of"
expect '{"gateways":[{"id":"x","type":"smtp"}]}' 'c.json: gateways[0].type: must be "sim", "kannel" or "webhook"'
expect '{"gateways":[{"id":"x","type":"sim"},{"id":"x","type":"sim"}]}' "c.json: gateways[1]: id used twice"
expect '{"gateways":[{"id":"x","type":"sim"},{"id":"y","type":"sim"}]}' "c.json: gateways[1]: at most one simulator"
expect "{\"gateways\":[{\"id\":\"k\",$k,\"pasword\":\"x\"}]}" 'c.json: gateways[0]: unknown key "pasword"'
expect '{"gateways":[{"id":"k","type":"kannel"}]}' "c.json: gateways[0].sendsms_url: sendsms_url is required"
expect "{\"gateways\":[{\"id\":\"k\",${k%,*},\"dlr_url_base\":\"http://localhost:8080\"}]}" \
    "c.json: gateways[0].dlr_url_base: the host must be an IPv4 address"
expect "{\"gateways\":[{\"id\":\"k\",${k%,*},\"dlr_url_base\":\"http://127.0.0.1:8080/\"}]}" \
    "c.json: gateways[0].dlr_url_base: must not end with /"
expect "{\"gateways\":[{\"id\":\"k\",$k,\"dlr_mask\":64}]}" "c.json: gateways[0].dlr_mask: must be a whole number 1..31"
expect "{\"gateways\":[{\"id\":\"k\",$k,\"token\":\"a&b\"}]}" "c.json: gateways[0].token: must be 1..128 of"
expect '{"gateways":[{"id":"w","type":"webhook","url":"https://127.0.0.1/x","secret":"0123456789abcdef"}]}' \
    "c.json: gateways[0].url: must be an http:// URL"
expect '{"gateways":[{"id":"w","type":"webhook","url":"http://127.0.0.1/x","secret":"short"}]}' \
    "c.json: gateways[0].secret: must be at least 16 characters"
expect "{$base,\"gateways\":[{\"id\":\"w\",$w}],\"entry_points\":[{\"id\":1,\"number\":\"7\",\"queue\":1,\"gateway\":\"nope\"}]}" \
    "c.json: entry_points[0].gateway: no such gateway"
expect "{$base,\"entry_points\":[{\"id\":1,\"number\":\"7\",\"queue\":1,\"gateway\":\"kannel\"}]}" \
    "c.json: entry_points[0].gateway: no such gateway"
expect '{"outbox":{"max_attempts":0}}' "c.json: outbox.max_attempts: must be a whole number 1..1000"
expect '{"outbox":{"backoff_ms":1000,"backoff_max_ms":100}}' "c.json: outbox.backoff_max_ms: must not be below backoff_ms"
expect '{"outbox":{"retries":3}}' 'c.json: outbox: unknown key "retries"'

# a valid file with every kind starts, and stops cleanly on SIGTERM
printf '%s\n' "{$base,\"gateways\":[{\"id\":\"k\",$k,\"token\":\"t-1\",\"smsc\":\"c\",\"dlr_mask\":31},{\"id\":\"w\",$w},{\"id\":\"sim\",\"type\":\"sim\"}],\"entry_points\":[{\"id\":1,\"number\":\"7\",\"queue\":1,\"gateway\":\"w\"}],\"outbox\":{\"max_attempts\":5,\"backoff_ms\":100,\"backoff_max_ms\":1000}}" >"$dir/ok.json"
"$bin" serve --config "$dir/ok.json" --data "$dir/okdata" --listen 127.0.0.1:0 >"$dir/ok.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q "listening on" "$dir/ok.out"; do sleep 0.1; i=$((i + 1)); done
kill -TERM $pid
wait $pid
rc=$?
if [ $rc -eq 0 ] && grep -q "listening on" "$dir/ok.out"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: valid gateway config (exit $rc): $(cat "$dir/ok.out")"; fi

echo "config_gateways: $pass passed, $fail failed"
[ $fail -eq 0 ]
