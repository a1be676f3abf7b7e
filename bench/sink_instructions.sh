#!/usr/bin/env bash
# Instructions the lake sink thread executes per event, under callgrind:
# deterministic where CPU seconds on a shared 2-core machine vary 25-40% run
# to run.  Compares two binaries (e.g. before and after a change):
#
#   bench/sink_instructions.sh OLD-BINARY NEW-BINARY [EVENTS]
#
# Each binary serves a fresh data dir under valgrind; `sluice ingest` (the
# new binary, native) sends EVENTS `sluice gen --seed 3` events; a clean
# stop lands the sink's buffer; the sink thread is the callgrind thread
# whose profile holds pq__dict_put.  Prints Ir per event and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
A=$1 B=$2 N=${3:-100000}
command -v valgrind >/dev/null || { echo "sink_instructions: valgrind missing" >&2; exit 1; }
OUT=bench/out
mkdir -p "$OUT"
T=$(mktemp -d "$PWD/$OUT/sinkir-XXXXXX")
VP=
cleanup() { [ -n "$VP" ] && kill -9 "$VP" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
ev=$T/events.ndjson
"$B" gen --count "$N" --seed 3 >"$ev"

sink_ir() { # binary -> Ir of its sink thread
    local bin=$1 d=$T/run
    rm -rf "$d"; mkdir -p "$d"
    printf 'data_dir: %s/data\nlisten: 127.0.0.1:0\nlimits:\n  max_body_bytes: 16MB\n  min_free_disk: 0\nstreams:\n  events:\n    sink:\n      roll_age: 30s\n' "$d" >"$d/cfg.yaml"
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$d/cg.out" \
        "$bin" serve -c "$d/cfg.yaml" --port-file "$d/port" 2>"$d/vg.log" &
    VP=$!
    for _ in $(seq 600); do [ -s "$d/port" ] && break; sleep 0.2; done
    "$B" ingest -q --parallel 2 --batch-bytes 1000000 --url "http://127.0.0.1:$(cat "$d/port")" events "$ev"
    kill -TERM "$VP"; wait "$VP" || true; VP=
    local n; n=$("$B" sql --data "$d/data" -F csv "SELECT count(*) FROM t1_events" | tail -n1)
    [ "$n" = "$N" ] || { echo "sink_instructions: $bin landed $n of $N events" >&2; exit 1; }
    for f in "$d"/cg.out-*; do
        if grep -q pq__dict_put "$f"; then grep -m1 '^summary:\|^totals:' "$f" | awk '{print $2}'; return; fi
    done
    echo 0
}
a=$(sink_ir "$A"); b=$(sink_ir "$B")
awk -v a="$a" -v b="$b" -v n="$N" -v A="$A" -v B="$B" 'BEGIN {
    printf "%s: %d instructions per event in the sink thread\n", A, a / n
    printf "%s: %d instructions per event in the sink thread\n", B, b / n
    printf "ratio new/old: %.3f\n", b / a }'
