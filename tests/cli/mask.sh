#!/bin/sh
# Command-line tests for `textdesk mask` (masking/RULES.md). $1 is the
# textdesk binary. Exits non-zero when any check fails.
set -u
bin=${1:?usage: mask.sh path/to/textdesk}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# check NAME WANT_EXIT [ARGS...] : stdin is $tmp/in, compares stdout with
# $tmp/want byte for byte and the exit code with WANT_EXIT.
check() {
    name=$1 want_rc=$2
    shift 2
    "$bin" mask "$@" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        echo "FAIL $name: exit $rc, want $want_rc"; cat "$tmp/err"
        fail=$((fail + 1)); return
    fi
    if ! cmp -s "$tmp/out" "$tmp/want"; then
        echo "FAIL $name: output differs"
        echo "--- want"; od -c "$tmp/want" | head -20
        echo "--- got"; od -c "$tmp/out" | head -20
        fail=$((fail + 1)); return
    fi
    pass=$((pass + 1))
}

# the golden examples and some Swedish chat, line by line
printf '%s\n' '+1 (123) 456 7890' '+447966197542' 'melissa@gmail.com' \
    '4111 1111 1111 1111' '' 'Mitt kortnr:4111111111111111, tack!' \
    'ring 070-123 45 67 efter kl 14' 'abc4111111111111111' \
    '(4111 1111 1111 1111).' '0701234567@sms.telia.se' \
    '6282-7645-3082-2207-61' 'Pris 199,00 kr den 2024-05-12 kl 14:30' \
    '14:30 070-123 45 67' 'SE45 5000 0000 0583 9825 7466' \
    '078-05-1120 och 811218-9876' '2125550123 555-0123 71000 1.2.3' >"$tmp/in"
printf '%s\n' '**********7890' '*********7542' 'm******@gmail.com' \
    '************1111' '' 'Mitt kortnr:************1111, tack!' \
    'ring *******4567 efter kl 14' 'abc4111111111111111' \
    '(************1111).' '0*********@sms.telia.se' \
    '******************0761' 'Pris 199,00 kr den 2024-05-12 kl 14:30' \
    '14:30 070-123 45 67' '********************7466' \
    '*******1120 och *******9876' '2125550123 555-0123 71000 1.2.3' >"$tmp/want"
check golden 0

# issue 19: the area code in parentheses without a blank; runs of invalid
# SSNs and an IBAN-shaped span of no country are no tokens at all
printf '%s\n' 'Call me at (212)555-0187 today' '000-12-3456 666-12-3456 900-12-3456' \
    'XQ89 370A 0440 0532 0130 00' >"$tmp/in"
printf '%s\n' 'Call me at *********0187 today' '000-12-3456 666-12-3456 900-12-3456' \
    'XQ89 370A 0440 0532 0130 00' >"$tmp/want"
check issue19 0

# empty input gives empty output; a last line without newline keeps none
: >"$tmp/in"; : >"$tmp/want"
check empty 0
printf 'kort 4111111111111111' >"$tmp/in"
printf 'kort ************1111' >"$tmp/want"
check no_final_newline 0

# --spans: one JSON object per line, byte offsets
printf '%s\n' '4111 1111 1111 1111' 'ring 070-123 45 67 el. ab@x.se' 'inget' '' >"$tmp/in"
printf '%s\n' '{"spans":[{"kind":"card","start":0,"end":19}]}' \
    '{"spans":[{"kind":"phone","start":5,"end":18},{"kind":"email","start":23,"end":30}]}' \
    '{"spans":[]}' '{"spans":[]}' >"$tmp/want"
check spans 0 --spans

# offsets are bytes: "på " is 4 bytes
printf 'p\303\245 078-05-1120\n' >"$tmp/in"
printf '%s\n' '{"spans":[{"kind":"ssn","start":4,"end":15}]}' >"$tmp/want"
check spans_bytes 0 --spans

# --kinds restricts (both spellings), combined with --spans
printf '%s\n' '4111111111111111 ab@x.se 070-1234567' >"$tmp/in"
printf '%s\n' '4111111111111111 a*@x.se *******4567' >"$tmp/want"
check kinds 0 --kinds email,phone
check kinds_eq 0 --kinds=phone,email
printf '%s\n' '{"spans":[{"kind":"card","start":0,"end":16}]}' >"$tmp/want"
check kinds_spans 0 --spans --kinds card

# unknown kind / option: exit 2, nothing on stdout, a message on stderr
: >"$tmp/want"
check bad_kind 2 --kinds card,pin
if grep -q "unknown kind 'pin'" "$tmp/err"; then pass=$((pass + 1)); else
    echo "FAIL bad_kind: stderr lacks the kind"; fail=$((fail + 1)); fi
check bad_option 2 --frobnicate
check kinds_missing 2 --kinds

# invalid UTF-8 passes through unchanged, valid tokens around it are masked
printf 'a\377b \3004111111111111111\376 \342\202\n' >"$tmp/in"
printf 'a\377b \300************1111\376 \342\202\n' >"$tmp/want"
check invalid_utf8 0

# NBSP / NNBSP blanks are dropped inside tokens
printf '4111\302\2401111\342\200\2571111 1111\n' >"$tmp/in"
printf '************1111\n' >"$tmp/want"
check blanks 0

# a long line (no fixed limit): 200000 bytes of text around one card
awk 'BEGIN { s = ""; for (i = 0; i < 20000; i++) s = s "hej hopp. "; print s "4111111111111111 " s }' >"$tmp/in"
awk 'BEGIN { s = ""; for (i = 0; i < 20000; i++) s = s "hej hopp. "; print s "************1111 " s }' >"$tmp/want"
check long_line 0

# many lines across the 1 MiB read chunks (about 6 MB), masked and as spans
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "kund %d ring 070-123 45 67 kort 4111 1111 1111 1111\n", i }' >"$tmp/in"
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "kund %d ring *******4567 kort ************1111\n", i }' >"$tmp/want"
check many_lines 0
awk 'BEGIN { for (i = 0; i < 100000; i++) { o = 11 + length(i ""); printf "{\"spans\":[{\"kind\":\"phone\",\"start\":%d,\"end\":%d},{\"kind\":\"card\",\"start\":%d,\"end\":%d}]}\n", o, o + 13, o + 19, o + 38 } }' >"$tmp/want"
check many_lines_spans 0 --spans
# the same through a pipe (read in chunks) and from a file read partly
# before (the mapping starts where stdin stands)
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "kund %d ring *******4567 kort ************1111\n", i }' >"$tmp/want"
cat "$tmp/in" | "$bin" mask >"$tmp/out"
if cmp -s "$tmp/out" "$tmp/want"; then pass=$((pass + 1)); else
    echo "FAIL many_lines through a pipe"; fail=$((fail + 1)); fi
printf '%s\n' 'hoppa 4111 1111 1111 1111' 'kort 4111 1111 1111 1111' >"$tmp/in"
printf '%s\n' 'kort ************1111' >"$tmp/want"
(read -r skip; "$bin" mask) <"$tmp/in" >"$tmp/out"
if cmp -s "$tmp/out" "$tmp/want"; then pass=$((pass + 1)); else
    echo "FAIL a file read partly before"; od -c "$tmp/out" | head -5; fail=$((fail + 1)); fi

# masking twice changes nothing
printf '%s\n' '+1 (123) 456 7890 melissa@gmail.com 4111 1111 1111 1111' >"$tmp/in"
"$bin" mask <"$tmp/in" >"$tmp/once"
"$bin" mask <"$tmp/once" >"$tmp/twice"
if cmp -s "$tmp/once" "$tmp/twice"; then pass=$((pass + 1)); else
    echo "FAIL idempotent"; fail=$((fail + 1)); fi

echo "mask.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
