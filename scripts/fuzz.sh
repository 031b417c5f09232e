#!/bin/sh
# Runs every libFuzzer target in build dir $1 for $2 seconds each (0: no
# time limit) or until it has tried $3 inputs (optional; 0 or none: no
# limit), whichever comes first, on its committed corpus fuzz/corpus/<name>/
# (new inputs go to a scratch copy, so the committed corpus only changes
# when someone adds to it on purpose). FUZZ_JOBS targets run at a time
# (default: the number of cores): each is one process on one core, so on
# 2 cores `make fuzz-smoke` takes half the time for the same inputs.
set -eu
case ${1:-} in -h | --help)
    echo "usage: sh scripts/fuzz.sh BUILD_DIR SECONDS [RUNS]   (make fuzz-smoke, make fuzz)"
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
[ $# -ge 2 ] || { echo "fuzz.sh: give BUILD_DIR and SECONDS (--help)" >&2; exit 2; }
# undefined behaviour stops a run like a crash does
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
dir=$1
secs=$2
runs=${3:-0}
[ "$runs" -gt 0 ] || runs=-1
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$jobs" -ge 1 ] || jobs=1
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# one NAME: its run in the background; its exit status lands in $logs/NAME.rc
one() {
    t=$1
    name=$(basename "$t")
    corpus=fuzz/corpus/${name#fuzz_}
    work=$(mktemp -d)
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
    rc=0
    "$t" -max_total_time="$secs" -runs="$runs" -print_final_stats=0 "$work" \
        >"$logs/$name.log" 2>&1 || rc=$?
    rm -rf "$work"
    echo "$rc" >"$logs/$name.rc"
}

# report NAME: its last lines if it failed (then exit 1), else its total
report() {
    name=$1
    if [ "$(cat "$logs/$name.rc")" != 0 ]; then
        tail -40 "$logs/$name.log"
        echo "fuzz: $name FAILED"
        exit 1
    fi
    grep -E '^(#[0-9]+ *DONE|Done [0-9]+ runs)' "$logs/$name.log" | tail -1 || true
}

found=0
batch=""
n=0
for t in "$dir"/fuzz_*; do
    [ -x "$t" ] || continue
    found=1
    name=$(basename "$t")
    echo "fuzz: $name for ${secs}s (0: no limit), at most $runs inputs (-1: no limit)"
    one "$t" &
    batch="$batch $name"
    n=$((n + 1))
    if [ $n -ge "$jobs" ]; then
        wait
        for b in $batch; do report "$b"; done
        batch=""
        n=0
    fi
done
wait
for b in $batch; do report "$b"; done
[ $found -eq 1 ] || echo "fuzz: no targets"
