#!/bin/sh
# Runs every libFuzzer target in build dir $1 for $2 seconds each (0: no
# time limit) or until it has tried $3 inputs (optional; 0 or none: no
# limit), whichever comes first, on its committed corpus fuzz/corpus/<name>/
# (new inputs go to a scratch copy, so the committed corpus only changes
# when someone adds to it on purpose).
set -eu
# undefined behaviour stops a run like a crash does
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
dir=$1
secs=$2
runs=${3:-0}
[ "$runs" -gt 0 ] || runs=-1
found=0
for t in "$dir"/fuzz_*; do
    [ -x "$t" ] || continue
    found=1
    name=$(basename "$t")
    corpus=fuzz/corpus/${name#fuzz_}
    work=$(mktemp -d)
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
    echo "fuzz: $name for ${secs}s (0: no limit), at most $runs inputs (-1: no limit)"
    if ! "$t" -max_total_time="$secs" -runs="$runs" -print_final_stats=0 "$work" \
        >"$work.log" 2>&1; then
        tail -40 "$work.log"
        echo "fuzz: $name FAILED"
        rm -rf "$work" "$work.log"
        exit 1
    fi
    grep -E '^(#[0-9]+ *DONE|Done [0-9]+ runs)' "$work.log" | tail -1 || true
    rm -rf "$work" "$work.log"
done
[ $found -eq 1 ] || echo "fuzz: no targets"
