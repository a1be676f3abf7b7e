#!/usr/bin/env bash
# SQL benchmark: the same 10M-row lake table (1 month of events, hourly
# partitions, landed by sluice serve) queried by `sluice sql` and by DuckDB:
#   (a) a selective query partition pruning answers (one hour),
#   (b) a GROUP BY over one day,
#   (c) a full-table aggregate.
# sluice times are whole `sluice sql` processes (start-up, catalog, plan,
# scan); DuckDB times are the query alone inside an open instance.  Best of 3.
# Usage: bench/sql.sh [SECTION-FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SLUICE_REL:-build/sluice}
OUT=bench/out
ROWS=${BENCH_SQL_ROWS:-10000000}
mkdir -p "$OUT"
T=$(mktemp -d "$PWD/$OUT/sql-XXXXXX")
SPID=
cleanup() { [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

echo "== sql: building a $ROWS-row lake table through sluice serve"
printf 'data_dir: %s/data\nlisten: 127.0.0.1:0\nlimits:\n  max_body_bytes: 16MB\n  min_free_disk: 0\nstreams:\n  events:\n    retention_bytes: 0\n    sink:\n      roll_age: 5s\n      max_buffer_bytes: 1GiB\n      roll_bytes: 1GiB\n      maintenance_interval: 0\n' "$T" >"$T/cfg.yaml"
"$BIN" serve -c "$T/cfg.yaml" --port-file "$T/port" 2>"$T/server.log" &
SPID=$!
for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
URL="http://127.0.0.1:$(cat "$T/port")"
"$BIN" gen --count "$ROWS" --seed 4 --spacing-ms 260 | "$BIN" ingest -q --parallel 4 --url "$URL" events
while :; do
    pos=$(curl -s "$URL/v1/streams/events" | sed -n 's/.*"sink":{"position":\([0-9]*\).*/\1/p')
    [ "$pos" = "$ROWS" ] && break
    sleep 0.5
done
kill -TERM "$SPID"; wait "$SPID" || true; SPID=
LAKE=$T/data/lake
files=$(find "$LAKE/t1_events" -name '*.parquet' | wc -l)
bytes=$(du -sb "$LAKE/t1_events" | cut -f1)
echo "lake: $files files, $(awk "BEGIN { printf \"%.1f\", $bytes / 1048576 }") MiB"

QA="SELECT count(*) AS n, round(sum(cost), 4) AS cost FROM t1_events WHERE dt = '2024-05-15' AND hr = '12'"
QB="SELECT event_type, count(*) AS n, round(sum(cost), 4) AS cost FROM t1_events WHERE dt = '2024-05-15' GROUP BY event_type ORDER BY event_type"
QC="SELECT count(*) AS n, count(DISTINCT country) AS countries, round(sum(cost), 2) AS cost FROM t1_events"

best() { sort -g | head -n1; }
sluice_q() { # sql -> "ms rows bytes_read explain-line"
    local t0 t1 ms=() out
    for _ in 1 2 3; do
        t0=$(date +%s%N)
        out=$("$BIN" sql --data "$T/data" --no-tail -F csv "$1")
        t1=$(date +%s%N)
        ms+=("$(( (t1 - t0) / 1000000 ))")
    done
    S_MS=$(printf '%s\n' "${ms[@]}" | best)
    S_OUT=$(echo "$out" | tail -n +2 | tr '\n' ';')
    S_EXPLAIN=$("$BIN" sql --data "$T/data" --no-tail --explain "$1" 2>&1 | grep -iE 'read|files|bytes' | tail -n 3 | tr '\n' ' ')
}
D=$(node bench/sql_duck.mjs "$LAKE" 3 "$QA" "$QB" "$QC")
rows=""
i=0
for q in "$QA" "$QB" "$QC"; do
    i=$((i + 1))
    sluice_q "$q"
    dline=$(echo "$D" | sed -n "${i}p")
    d_ms=$(echo "$dline" | sed -n 's/.*"ms":\([0-9.]*\).*/\1/p')
    d_res=$(echo "$dline" | sed -n 's/.*"result":\(.*\)}$/\1/p')
    ratio=$(awk "BEGIN { printf \"%.2f\", $S_MS / $d_ms }")
    name=$(case $i in 1) echo "(a) one hour, partition-pruned";; 2) echo "(b) GROUP BY over one day";; 3) echo "(c) full-table aggregate";; esac)
    echo "$name: sluice ${S_MS} ms, DuckDB ${d_ms} ms, ratio $ratio; sluice $S_OUT DuckDB $d_res; $S_EXPLAIN"
    rows="$rows| $name | $S_MS | $(LC_ALL=C printf '%.0f' "$d_ms") | $ratio | $S_EXPLAIN | \`$S_OUT\` vs \`$d_res\` |"$'\n'
done

section=${1:-$OUT/sql-section.md}
{
    echo "Lake table t1_events: $ROWS rows (\`sluice gen --seed 4 --spacing-ms 260\`: one month, hourly partitions), $files files, $(awk "BEGIN { printf \"%.1f\", $bytes / 1048576 }") MiB, landed by sluice serve."
    echo
    echo "| query | sluice ms (whole process) | DuckDB ms (query only) | sluice/DuckDB | sluice read | results |"
    echo "| --- | ---: | ---: | ---: | --- | --- |"
    printf '%s' "$rows"
} >"$section"
cat "$section"
