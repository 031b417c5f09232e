#!/bin/sh
# `textdesk sms-info` end to end: a file of messages (escapes, raw form feed,
# CR, emoji, invalid UTF-8, a long line, a last line without newline) in,
# exact stdout, stderr and exit status out. Usage: sms_info.sh TEXTDESK_BINARY
set -u
bin=${1:?usage: sms_info.sh TEXTDESK_BINARY}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
in=$tmp/in
want=$tmp/want
: >"$in"
: >"$want"
pass=0
fail=0

# rep STRING COUNT: prints STRING COUNT times.
rep() {
    awk -v s="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%s", s }'
}

# add FORMAT EXPECTED: one input line written by printf FORMAT (so \ooo are
# raw bytes and \\ is one backslash), and its expected output line.
add() {
    printf "$1" >>"$in"
    printf '\n' >>"$in"
    printf '%s\n' "$2" >>"$want"
}

# addraw TEXT EXPECTED: one input line taken literally.
addraw() {
    printf '%s\n' "$1" >>"$in"
    printf '%s\n' "$2" >>"$want"
}

check() { # check NAME CONDITION-STATUS
    if [ "$2" -eq 0 ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "sms_info.sh: FAIL $1"
    fi
}

add 'hello' 'gsm7 1 5'
add '' 'gsm7 1 0'
add 'Hej! Vi hjälper dig gärna. Åäö' 'gsm7 1 30'
add 'Pris 100 €' 'gsm7 1 11'
add 'rad1\\nrad2' 'gsm7 1 9'             # \n escape: a newline, 1 septet
add 'C:\\\\temp' 'gsm7 1 8'              # \\ escape: one backslash, 2 septets
add '\\\\n' 'gsm7 1 3'                   # \\n: backslash + letter n
add 'a\\tb' 'gsm7 1 5'                   # unknown escape kept: a \ t b
add 'a\\' 'gsm7 1 3'                     # lone backslash at the end kept
add 'a\014b' 'gsm7 1 4'                  # raw form feed: extension, 2 septets
add 'Hej\r' 'gsm7 1 4'                   # trailing CR is part of the message
add 'a\tb' 'ucs2 1 3'                    # tab is not GSM
add '😀' 'ucs2 1 2'
add '✅❤☺' 'ucs2 1 3'
add 'ç' 'ucs2 1 1'
add 'Ç' 'gsm7 1 1'
add '\316\251' 'gsm7 1 1'                 # Greek capital omega U+03A9
add '\342\204\246' 'ucs2 1 1'             # ohm sign U+2126
add 'e\314\201' 'ucs2 1 2'               # decomposed e + U+0301
add '€ç' 'ucs2 1 2'
add 'ab\377cd' 'error'                   # invalid UTF-8, line 21
addraw "$(rep a 160)" 'gsm7 1 160'
addraw "$(rep a 161)" 'gsm7 2 161'
addraw "$(rep a 152)€$(rep a 152)" 'gsm7 3 306'
addraw "$(rep a 66)😀$(rep a 66)" 'ucs2 3 134'
addraw "$(rep x 62)👨‍👩‍👧$(rep x 64)" 'ucs2 2 134'
addraw "$(rep € 1000)" 'gsm7 14 2000'
addraw "$(rep a 100000)" 'gsm7 654 100000'
add '\355\240\200' 'error'               # UTF-8-encoded surrogate, line 29
printf 'last line without newline' >>"$in"
printf '%s\n' 'gsm7 1 25' >>"$want"

"$bin" sms-info <"$in" >"$tmp/out" 2>"$tmp/err"
rc=$?

# Line by line, so a failure names the line.
n=$(wc -l <"$want")
i=1
while [ "$i" -le "$n" ]; do
    w=$(sed -n "${i}p" "$want")
    g=$(sed -n "${i}p" "$tmp/out")
    [ "$w" = "$g" ]
    st=$?
    [ $st -eq 0 ] || echo "sms_info.sh: line $i: want '$w', got '$g'"
    check "line $i" $st
    i=$((i + 1))
done
cmp -s "$want" "$tmp/out"
check "whole stdout" $?
[ "$rc" -eq 1 ]
check "exit 1 after an invalid line (got $rc)" $?
printf '%s\n' \
    'textdesk sms-info: line 21: invalid UTF-8 at byte 3' \
    'textdesk sms-info: line 29: invalid UTF-8 at byte 1' >"$tmp/want_err"
cmp -s "$tmp/want_err" "$tmp/err"
st=$?
[ $st -eq 0 ] || { echo "sms_info.sh: stderr was:"; cat "$tmp/err"; }
check "stderr names the lines" $st

# Valid input only: exit 0, nothing on stderr.
printf 'hej\n€\n' | "$bin" sms-info >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "gsm7 1 3
gsm7 1 2" ] && [ ! -s "$tmp/err" ]
check "valid input exits 0" $?

# No input: no output, exit 0.
"$bin" sms-info </dev/null >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && [ ! -s "$tmp/out" ]
check "empty input" $?

# Arguments: --help is 0, anything else is a usage error.
"$bin" sms-info --help >/dev/null 2>&1
check "--help exits 0" $?
"$bin" sms-info bogus </dev/null >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "unknown argument 'bogus'" "$tmp/err"
check "unknown argument exits 2 and is named" $?

echo "sms_info.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
