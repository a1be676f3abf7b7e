#!/usr/bin/env bash
# Tail benchmark: the cost of reading the journal tail must follow the tail,
# not the retained journal.  A stream with BENCH_TAIL_BYTES (default 1 GiB)
# of retained journal, all landed in the lake, plus BENCH_TAIL_RECORDS
# (default 1000) acknowledged records not yet committed (the tail); then the
# same `SELECT count(*)` with the tail and with --no-tail, whole `sluice sql`
# processes, best of 3, while the server runs.  The ratio with/without is the
# figure (target <= 1.5x; it was 57x before the tail scan started at the
# sink's position).
# Usage: bench/tail.sh [SECTION-FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SLUICE_REL:-build/sluice}
OUT=bench/out
BYTES=${BENCH_TAIL_BYTES:-1073741824}
TAILN=${BENCH_TAIL_RECORDS:-1000}
ROWS=$((BYTES / 334)) # `sluice gen` events: ~310 bytes + the 24-byte record header
mkdir -p "$OUT"
T=$(mktemp -d "$PWD/$OUT/tail-XXXXXX")
SPID=
cleanup() { [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

serve() { # roll_age
    printf 'data_dir: %s/data\nlisten: 127.0.0.1:0\nlimits:\n  max_body_bytes: 16MB\n  min_free_disk: 0\nstreams:\n  events:\n    retention: 0\n    retention_bytes: 0\n    sink:\n      roll_age: %s\n      maintenance_interval: 0\n' "$T" "$1" >"$T/cfg.yaml"
    rm -f "$T/port"
    "$BIN" serve -c "$T/cfg.yaml" --port-file "$T/port" 2>>"$T/server.log" &
    SPID=$!
    for _ in $(seq 400); do [ -s "$T/port" ] && break; sleep 0.05; done
    URL="http://127.0.0.1:$(cat "$T/port")"
}
position() { curl -s "$URL/v1/streams/events" | sed -n 's/.*"sink":{"position":\([0-9]*\).*/\1/p'; }

echo "== tail: $ROWS events (~$((BYTES >> 20)) MiB of journal) through sluice serve"
t0=$(date +%s)
serve 2s
"$BIN" gen --count "$ROWS" --seed 5 | "$BIN" ingest -q --parallel 4 --url "$URL" events
while [ "$(position)" != "$ROWS" ]; do sleep 0.5; done
kill -TERM "$SPID"; wait "$SPID" || true; SPID=
# restart with a long roll_age: the next records stay in the tail
serve 10m
"$BIN" gen --count "$TAILN" --seed 6 | "$BIN" ingest -q --url "$URL" events
echo "built in $(( $(date +%s) - t0 )) s"
jbytes=$(du -sb "$T/data/streams/events" | cut -f1)
segs=$(ls "$T/data/streams/events" | grep -c '\.log$')

Q="SELECT count(*) FROM t1_events"
best() { sort -g | head -n1; }
run_q() { # flags... -> MS (best of 3), RES
    local ms=() t0 t1
    for _ in 1 2 3; do
        t0=$(date +%s%N)
        RES=$("$BIN" sql --data "$T/data" -F csv "$@" "$Q" | tail -n 1)
        t1=$(date +%s%N)
        ms+=("$(( (t1 - t0) / 1000000 ))")
    done
    MS=$(printf '%s\n' "${ms[@]}" | best)
}
run_q; with_ms=$MS; with_res=$RES
run_q --no-tail; without_ms=$MS; without_res=$RES
kill -TERM "$SPID"; wait "$SPID" || true; SPID=
if [ "$with_res" != "$((ROWS + TAILN))" ] || [ "$without_res" != "$ROWS" ]; then
    echo "bench tail: wrong counts: with tail $with_res (want $((ROWS + TAILN))), without $without_res (want $ROWS)" >&2
    exit 1
fi
ratio=$(awk "BEGIN { printf \"%.2f\", $with_ms / ($without_ms > 0 ? $without_ms : 1) }")
echo "with tail ${with_ms} ms, without ${without_ms} ms, ratio $ratio"

section=${1:-$OUT/tail-section.md}
{
    echo "Stream events: $ROWS records landed ($(awk "BEGIN { printf \"%.0f\", $jbytes / 1048576 }") MiB of retained journal in $segs segments) + $TAILN acknowledged records in the tail (not yet committed); \`$Q\`, whole \`sluice sql\` processes while the server runs, best of 3."
    echo
    echo "| query | ms | result |"
    echo "| --- | ---: | ---: |"
    echo "| with the journal tail | $with_ms | $with_res |"
    echo "| --no-tail (files only) | $without_ms | $without_res |"
    echo
    echo "- with/without: **${ratio}x** (target <= 1.5x)"
} >"$section"
cat "$section"
