#!/usr/bin/env bash
# Runs every test and ends with `N passed, N failed`.
#
# Protocol: each test program prints `ok NAME`, `FAIL NAME...` or
# `skip NAME: why` lines; a program that exits non-zero without printing a
# FAIL line counts as one failure.  Output of each program goes to
# build/test-logs/<name>.log; failures are echoed in full.
set -u
cd "$(dirname "$0")/.."
export SLUICE_ROOT=$PWD
export SLUICE_BIN=$PWD/build/san/sluice
export SLUICE_TESTDATA=${SLUICE_TESTDATA:-$PWD/tests/data}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
logs=build/test-logs
mkdir -p "$logs"
passed=0 failed=0 skipped=0
filter=${1:-}

run_one() { # name, command...
    local name=$1; shift
    [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && return
    local log=$logs/$name.log t0=$(date +%s)
    "$@" >"$log" 2>&1
    local rc=$?
    local p f s
    p=$(grep -c '^ok ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^skip ' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "FAIL $name (exit $rc)" >>"$log"; fi
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    printf '%-40s %3d ok %3d failed %3d skipped  (%ds)\n' "$name" "$p" "$f" "$s" $(( $(date +%s) - t0 ))
    if [ "$f" -ne 0 ]; then sed 's/^/    | /' "$log" | tail -n 60; fi
}

run_one unit build/san/unit

for t in build/san/fuzz_*; do
    [ -x "$t" ] || continue
    n=$(basename "$t")
    run_one "$n" bash -c "out=\$('$t' tests/fuzz/corpus/$n 2>&1) && echo \"ok $n corpus: \$out\" || { echo \"\$out\" | tail -40; echo 'FAIL $n corpus replay'; }"
done

for t in tests/integration/*.sh tests/integration/*.mjs; do
    [ -f "$t" ] || continue
    n=$(basename "$t"); n=${n%.*}
    case "$t" in
        *.mjs) run_one "$n" node "$t" ;;
        *) run_one "$n" bash "$t" ;;
    esac
done

if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
