#!/bin/sh
# Every command and subcommand answers --help (and -h) with its usage on
# stdout and exit 0, without a password, a server, a store or input (issue
# 19). The commands come from `textdesk --help` and `textdesk admin --help`,
# so a new one is checked without changing this file. $1 is the binary.
set -u
bin=${1:?usage: help.sh path/to/textdesk}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
scripts=$(cd "$(dirname "$0")/../../scripts" && pwd)
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
unset TEXTDESK_ADMIN_PASSWORD
# how long one command may take before it counts as hanging: a waiting
# bound, not a speed check (a sanitizer build at load 8-10 took over the 5 s
# this was; an answer is at once on a quiet machine)
limit=30

# help WANT_PREFIX ARGS...: exit 0, stdout starts with WANT_PREFIX, nothing
# on stderr, within $limit s, and nothing written to the working directory
# (the program is $bin, or $prog when set)
help() {
    want=$1
    shift
    timeout "$limit" "${prog:-$bin}" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    made=$(ls -A "$tmp" | grep -v -e '^out$' -e '^err$')
    if [ "$rc" -ne 0 ]; then
        echo "FAIL '$*': exit $rc, want 0"; cat "$tmp/err"; fail=$((fail + 1)); return
    fi
    if [ -s "$tmp/err" ]; then
        echo "FAIL '$*': wrote to stderr"; cat "$tmp/err"; fail=$((fail + 1)); return
    fi
    case $(head -c ${#want} "$tmp/out") in
    "$want") ;;
    *) echo "FAIL '$*': stdout does not start with '$want'"; head -3 "$tmp/out"
       fail=$((fail + 1)); return ;;
    esac
    if [ -n "$made" ]; then
        echo "FAIL '$*': created $made"; rm -rf "$made"; fail=$((fail + 1)); return
    fi
    pass=$((pass + 1))
}

help "usage: textdesk" --help
help "usage: textdesk" -h
cmds=$("$bin" --help | sed -n '/^commands:/,$p' | awk 'NR > 1 && NF { print $1 }')
[ "$(echo "$cmds" | wc -w)" -ge 6 ] || { echo "FAIL: too few commands: $cmds"; fail=$((fail + 1)); }
for c in $cmds; do
    help "usage: textdesk $c" "$c" --help
    help "usage: textdesk $c" "$c" -h
done
# arguments before --help do not matter: no server is asked, no store opened
help "usage: textdesk serve" serve --config /nonexistent.json --help
help "usage: textdesk backup" backup --data /nonexistent out.db --help
help "usage: textdesk mask" mask --kinds nosuchkind --help

subs=$("$bin" admin --help | sed -n '/^commands:/,/^KIND/p' | awk 'NR > 1 && $1 != "KIND:" { print $1 }')
[ "$(echo "$subs" | wc -w)" -ge 8 ] || { echo "FAIL: too few admin commands: $subs"; fail=$((fail + 1)); }
for s in $subs; do
    help "usage: textdesk admin [--url http://IP:PORT] [--user NAME] $s" admin "$s" --help
    # its own usage, once: no line twice, no other command's usage line, one
    # usage line; the KINDs only where the command takes one (before, tokens
    # and audit printed two usages and every command the KIND list)
    twice=$(grep -v '^ *$' "$tmp/out" | sort | uniq -d | head -1)
    other=$(grep '^usage:' "$tmp/out" | grep -v -e " $s " -e " $s\$" | head -1)
    usages=$(grep -c '^usage:' "$tmp/out")
    kind=$(grep -c '^KIND:' "$tmp/out")
    case $s in list | get | put | delete) want_kind=1 ;; *) want_kind=0 ;; esac
    if [ -n "$twice$other" ] || [ "$usages" -ne 1 ] || [ "$kind" -ne "$want_kind" ]; then
        echo "FAIL 'admin $s --help': ${twice:+line twice: $twice}${other:+ another usage: $other} usages $usages, KIND lines $kind (want $want_kind)"
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
    help "usage: textdesk admin [--url http://IP:PORT] [--user NAME] $s" \
        admin --url http://127.0.0.1:1 "$s" -h
done

# without --help a usage error still exits 2 and says so on stderr
for args in "serve --frobnicate" "selfcheck --frobnicate" "backup" "mask --frobnicate" \
    "admin" "admin frobnicate" "frobnicate"; do
    # shellcheck disable=SC2086
    TEXTDESK_ADMIN_PASSWORD=x timeout "$limit" "$bin" $args </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -eq 2 ] && grep -q usage "$tmp/err" && [ ! -s "$tmp/out" ]; then
        pass=$((pass + 1))
    else
        echo "FAIL '$args': exit $rc, want 2 with a usage on stderr"; fail=$((fail + 1))
    fi
done

# ... and names what is wrong, before asking for a password or a store
named() { # WANT ARGS...: exit 2, stderr has WANT (no TEXTDESK_ADMIN_PASSWORD set)
    want=$1
    shift
    timeout "$limit" "$bin" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -eq 2 ] && grep -qF -- "$want" "$tmp/err"; then
        pass=$((pass + 1))
    else
        echo "FAIL '$*': exit $rc, want 2 and '$want' on stderr:"; cat "$tmp/err"; fail=$((fail + 1))
    fi
}
named "textdesk admin: unknown command 'frobnicate' (textdesk admin --help lists them)" admin frobnicate
named "textdesk admin: unknown option '--frob'" admin --frob x list queues
named "textdesk admin: missing value for '--url'" admin --url
named "textdesk admin list: wrong arguments (textdesk admin list --help)" admin list
named "textdesk admin list: unknown KIND 'frob': use teams, queues," admin list frob
named "textdesk admin get: ID 'abc' must be a whole number above 0" admin get queues abc
named "textdesk admin delete: ID '0' must be a whole number above 0" admin delete teams 0
named "textdesk backup: unknown option '--frob' (textdesk backup --help lists them)" backup --frob out.db
named "textdesk backup: give the FILE to write the copy to" backup --data .
named "textdesk backup: --data and --store both name the store: give one" backup --data a --store sqlite:a out.db
# a --store that is no store URL: said at once (before, serve took "foo:bar"
# for a folder, created it and served from it)
named "textdesk serve: --store 'foo:bar': use a folder, sqlite:DIR or postgresql://" serve --store foo:bar --listen 127.0.0.1:1
named "textdesk backup: --store 'foo:bar': use a folder, sqlite:DIR or postgresql://" backup --store foo:bar out.db
named "textdesk selfcheck: --store 'foo:bar': use a folder, sqlite:DIR or postgresql://" selfcheck --store foo:bar
[ ! -e foo:bar ] || { echo "FAIL: --store foo:bar created a folder"; fail=$((fail + 1)); }

# the man page's synopsis names every option of each command's usage line(s)
man=$(sed 's/\\-/-/g' "$scripts/../docs/textdesk.1")
for c in $cmds; do
    for o in $("$bin" "$c" --help | sed '/^$/q' | grep -o -e '--[a-z][a-z-]*' | sort -u); do
        if printf '%s' "$man" | grep -qF -- "\\fB$o\\fR"; then
            pass=$((pass + 1))
        else
            echo "FAIL: docs/textdesk.1 lacks '$c $o' (textdesk $c --help has it)"; fail=$((fail + 1))
        fi
    done
done

# the scripts a person runs (scripts/*.sh) answer --help and -h too: a
# usage on stdout, exit 0, before they build, install or start anything
# (before, deps.sh --help ran the installer and valgrind.sh --help a build)
prog=sh
for f in "$scripts"/*.sh; do
    for h in --help -h; do
        help "usage: " "$f" "$h"
    done
done
prog=

echo "help.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
