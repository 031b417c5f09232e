#!/bin/sh
# Source rules that the compiler does not check (STYLE.md 1 and 19):
# - src/core and src/mask are pure: they include only libc and util/;
# - no strcpy, strcat, sprintf, vsprintf, strtok, atoi, gets anywhere in src/.
# - pure layers read no clock and do no I/O.
set -u
case ${1:-} in -h | --help)
    echo "usage: sh scripts/checksrc.sh   (in the repository's top folder; the CTest test checksrc)"
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
fail=0
if grep -n '#include "\(store\|http\|sms\|api\|app\)/' src/core/*.c src/core/*.h \
        src/mask/*.c src/mask/*.h 2>/dev/null; then
    echo "checksrc: core/ and mask/ may include only libc and util/"; fail=1
fi
if grep -nE '\b(time|clock_gettime|gettimeofday|fopen|open|read|write|printf|fprintf|puts)\s*\(' \
        src/core/*.c src/mask/*.c 2>/dev/null | grep -v '^\s*/\?\*'; then
    echo "checksrc: core/ and mask/ must not read the clock or do I/O"; fail=1
fi
if grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|gets)\s*\(' \
        $(find src -name '*.[ch]'); then
    echo "checksrc: banned function (use the bounded forms)"; fail=1
fi
[ $fail -eq 0 ] && echo "checksrc: ok"
exit $fail
