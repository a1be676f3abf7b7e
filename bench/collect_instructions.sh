#!/usr/bin/env bash
# Instructions the collect worker thread executes per report MB, under
# callgrind (deterministic where seconds on a shared 2-core machine are not):
# bench/collect.sh's run with each binary's server under valgrind; the
# worker is the callgrind thread whose profile holds jb__kind_collect.
#
#   bench/collect_instructions.sh OLD-BINARY NEW-BINARY [MB]   (MB default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
A=$1 B=$2 MB=${3:-5}
command -v valgrind >/dev/null || { echo "collect_instructions: valgrind missing" >&2; exit 1; }
OUT=bench/out
mkdir -p "$OUT"
T=$(mktemp -d "$PWD/$OUT/collectir-XXXXXX")
trap 'rm -rf "$T"' EXIT
worker_ir() { # binary -> Ir of its worker thread
    rm -f "$T"/cg.*
    SLUICE_REL=$1 BENCH_COLLECT_MB=$MB BENCH_REPS=1 BENCH_COLLECT_CALLGRIND=$T/cg \
        bench/collect.sh "$T/section.md" >"$T/log" 2>&1 || { cat "$T/log" >&2; exit 1; }
    for f in "$T"/cg.*; do
        if grep -q jb__kind_collect "$f"; then grep -m1 '^summary:\|^totals:' "$f" | awk '{print $2}'; return; fi
    done
    echo 0
}
a=$(worker_ir "$A"); b=$(worker_ir "$B")
awk -v a="$a" -v b="$b" -v n="$MB" -v A="$A" -v B="$B" 'BEGIN {
    printf "%s: %.1f M instructions per report MB in the collect worker\n", A, a / n / 1e6
    printf "%s: %.1f M instructions per report MB in the collect worker\n", B, b / n / 1e6
    printf "ratio new/old: %.3f\n", b / a }'
