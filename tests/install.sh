#!/bin/sh
# `make install`'s rules, checked on this build tree: cmake --install into a
# staging directory (DESTDIR), then the files a site needs are there and
# agree with each other. $1: the CMake build directory.
build=$1
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pass=0
fail=0
ok() { if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }

DESTDIR="$stage" cmake --install "$build" >/dev/null
ok "cmake --install" $?
unit=$(find "$stage" -name textdesk.service | head -1)
exe=$(sed -n 's/^ExecStart=\([^ ]*\) serve .*/\1/p' "$unit")
[ -n "$exe" ] && [ -x "$stage$exe" ]
ok "the unit starts the installed binary ($exe)" $?
"$stage$exe" --help | grep -q '^  serve'
ok "installed binary runs" $?
full=$(find "$stage" -path '*/libexec/textdesk/textdesk-full' | head -1)
[ -n "$full" ] && [ -x "$full" ]
ok "textdesk-full installed in libexec/textdesk" $?
"$stage$exe" serve --help | grep -q '^usage: textdesk serve'
ok "the installed textdesk finds textdesk-full (serve --help)" $?
grep -q '^Restart=on-failure$' "$unit"
ok "systemd unit restarts on failure" $?
web=$(find "$stage" -path '*/share/textdesk/web/index.html' | head -1)
[ -n "$web" ] && [ -f "$(dirname "$web")/sim/index.html" ]
ok "web files installed" $?
man=$(find "$stage" -name textdesk.1 | head -1)
head -1 "$man" | grep -q '^\.TH TEXTDESK 1 ' && grep -q '^\.SH SYNOPSIS' "$man"
ok "man page" $?
if command -v man >/dev/null 2>&1; then
    MANPAGER=cat man -l "$man" 2>/dev/null | grep -q 'textdesk'
    ok "man page renders" $?
fi
echo "install.sh: $pass passed, $fail failed"
[ $fail -eq 0 ]
