#!/bin/sh
# `textdesk serve --config`: the "gateways" and "outbox" sections and the
# entry points' "gateway" are validated with the rest of the file; a bad one
# is refused naming the key, before anything starts.
# $1: path to the textdesk binary.
bin=$1
. "$(dirname "$0")/lib/expect_config.sh"

k='"type":"kannel","sendsms_url":"http://127.0.0.1:13013/cgi-bin/sendsms","username":"u","password":"p","dlr_url_base":"http://127.0.0.1:8080"'
w='"type":"webhook","url":"http://127.0.0.1:9000/send","secret":"0123456789abcdef"'
s='"type":"smpp","host":"127.0.0.1","port":1,"system_id":"textdesk","password":"secret"'
base='"teams":[{"id":1,"name":"T"}],"queues":[{"id":1,"name":"Q","teams":[1]}]'
expect '{"gateways":{}}' "c.json: gateways: must be a list of 1..16 gateways"
expect '{"gateways":[]}' "c.json: gateways: must be a list of 1..16 gateways"
expect '{"gateways":[{"type":"sim"}]}' "c.json: gateways[0].id: id is required"
expect '{"gateways":[{"id":"a b","type":"sim"}]}' "c.json: gateways[0].id: must be 1..32 of"
expect '{"gateways":[{"id":"x","type":"smtp"}]}' 'c.json: gateways[0].type: must be "sim", "kannel", "webhook", "smpp" or "relay"'
expect '{"gateways":[{"id":"x","type":"sim"},{"id":"x","type":"sim"}]}' "c.json: gateways[1]: id used twice"
expect '{"gateways":[{"id":"x","type":"sim"},{"id":"y","type":"sim"}]}' "c.json: gateways[1]: at most one simulator"
expect "{\"gateways\":[{\"id\":\"k\",$k,\"pasword\":\"x\"}]}" 'c.json: gateways[0]: unknown key "pasword"'
expect '{"gateways":[{"id":"k","type":"kannel"}]}' "c.json: gateways[0].sendsms_url: sendsms_url is required"
expect "{\"gateways\":[{\"id\":\"k\",${k%,*},\"dlr_url_base\":\"ftp://localhost:8080\"}]}" \
    "c.json: gateways[0].dlr_url_base: must be an http:// or https:// URL with a host name or IPv4 address"
expect "{\"gateways\":[{\"id\":\"k\",${k%,*},\"dlr_url_base\":\"http://127.0.0.1:8080/\"}]}" \
    "c.json: gateways[0].dlr_url_base: must not end with /"
expect "{\"gateways\":[{\"id\":\"k\",$k,\"dlr_mask\":64}]}" "c.json: gateways[0].dlr_mask: must be a whole number 1..31"
expect "{\"gateways\":[{\"id\":\"k\",$k,\"token\":\"a&b\"}]}" "c.json: gateways[0].token: must be 1..128 of"
expect '{"gateways":[{"id":"w","type":"webhook","url":"https://user@crm.example/x","secret":"0123456789abcdef"}]}' \
    "c.json: gateways[0].url: must be an http:// or https:// URL"
expect '{"gateways":[{"id":"w","type":"webhook","url":"http://crm_1.example/x","secret":"0123456789abcdef"}]}' \
    "c.json: gateways[0].url: must be an http:// or https:// URL"
expect '{"ca_file":""}' "c.json: ca_file: must name a PEM file"
expect '{"gateways":[{"id":"w","type":"webhook","url":"http://127.0.0.1/x","secret":"short"}]}' \
    "c.json: gateways[0].secret: must be at least 16 characters"
expect "{$base,\"gateways\":[{\"id\":\"w\",$w}],\"entry_points\":[{\"id\":1,\"number\":\"71000\",\"queue\":1,\"gateway\":\"nope\"}]}" \
    "c.json: entry_points[0].gateway: no such gateway"
expect "{$base,\"entry_points\":[{\"id\":1,\"number\":\"71000\",\"queue\":1,\"gateway\":\"kannel\"}]}" \
    "c.json: entry_points[0].gateway: no such gateway"
expect '{"outbox":{"max_attempts":0}}' "c.json: outbox.max_attempts: must be a whole number 1..1000"
expect '{"outbox":{"backoff_ms":1000,"backoff_max_ms":100}}' "c.json: outbox.backoff_max_ms: must not be below backoff_ms"
expect '{"outbox":{"retries":3}}' 'c.json: outbox: unknown key "retries"'

# smpp: every field is checked and named
expect '{"gateways":[{"id":"s","type":"smpp"}]}' "c.json: gateways[0].host: host is required"
expect '{"gateways":[{"id":"s","type":"smpp","host":"smsc.example.com","port":2775}]}' \
    "c.json: gateways[0].host: must be an IPv4 address"
expect '{"gateways":[{"id":"s","type":"smpp","host":"127.0.0.1"}]}' "c.json: gateways[0].port: port is required"
expect '{"gateways":[{"id":"s","type":"smpp","host":"127.0.0.1","port":0}]}' \
    "c.json: gateways[0].port: must be a whole number 1..65535"
expect '{"gateways":[{"id":"s","type":"smpp","host":"127.0.0.1","port":"2775"}]}' \
    "c.json: gateways[0].port: must be a whole number 1..65535"
expect '{"gateways":[{"id":"s","type":"smpp","host":"127.0.0.1","port":2775,"password":"x"}]}' \
    "c.json: gateways[0].system_id: system_id is required"
expect '{"gateways":[{"id":"s","type":"smpp","host":"127.0.0.1","port":2775,"system_id":"a-system-id-of-16","password":"x"}]}' \
    "c.json: gateways[0].system_id: must be at most 15 printable ASCII characters"
expect '{"gateways":[{"id":"s","type":"smpp","host":"127.0.0.1","port":2775,"system_id":"t"}]}' \
    "c.json: gateways[0].password: password is required"
expect '{"gateways":[{"id":"s","type":"smpp","host":"127.0.0.1","port":2775,"system_id":"t","password":"ninechars"}]}' \
    "c.json: gateways[0].password: must be at most 8 printable ASCII characters"
expect "{\"gateways\":[{\"id\":\"s\",$s,\"system_type\":\"thirteen-char\"}]}" \
    "c.json: gateways[0].system_type: must be at most 12 printable ASCII characters"
expect "{\"gateways\":[{\"id\":\"s\",$s,\"window\":0}]}" "c.json: gateways[0].window: must be a whole number 1..1000"
expect "{\"gateways\":[{\"id\":\"s\",$s,\"throughput\":-1}]}" "c.json: gateways[0].throughput: must be a whole number 0..10000"
expect "{\"gateways\":[{\"id\":\"s\",$s,\"enquire_ms\":10}]}" "c.json: gateways[0].enquire_ms: must be a whole number 1000..3600000"
expect "{\"gateways\":[{\"id\":\"s\",$s,\"resp_timeout_ms\":1.5}]}" "c.json: gateways[0].resp_timeout_ms: must be a whole number"
expect "{\"gateways\":[{\"id\":\"s\",$s,\"backoff_min_ms\":5000,\"backoff_max_ms\":1000}]}" \
    "c.json: gateways[0].backoff_max_ms: must not be below backoff_min_ms"
expect "{\"gateways\":[{\"id\":\"s\",$s,\"max_retries\":0}]}" "c.json: gateways[0].max_retries: must be a whole number 1..1000"
expect "{\"gateways\":[{\"id\":\"s\",$s,\"message_payload\":1}]}" "c.json: gateways[0].message_payload: must be true or false"
expect "{\"gateways\":[{\"id\":\"s\",$s,\"receipts\":\"yes\"}]}" "c.json: gateways[0].receipts: must be true or false"
expect "{\"gateways\":[{\"id\":\"s\",$s,\"tls\":true}]}" 'c.json: gateways[0]: unknown key "tls"'

# a valid file with every kind starts, and stops cleanly on SIGTERM
printf '%s\n' "{$base,\"gateways\":[{\"id\":\"k\",$k,\"token\":\"t-1\",\"smsc\":\"c\",\"dlr_mask\":31},{\"id\":\"w\",$w},{\"id\":\"s\",$s,\"system_type\":\"textdesk\",\"window\":10,\"throughput\":50,\"message_payload\":true,\"receipts\":false},{\"id\":\"sim\",\"type\":\"sim\"}],\"entry_points\":[{\"id\":1,\"number\":\"71000\",\"queue\":1,\"gateway\":\"w\"}],\"outbox\":{\"max_attempts\":5,\"backoff_ms\":100,\"backoff_max_ms\":1000}}" >"$dir/ok.json"
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
