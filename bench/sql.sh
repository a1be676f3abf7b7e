#!/usr/bin/env bash
# SQL benchmark: the same 10M-row lake table (1 month of events, hourly
# partitions, landed by sluice serve) queried by `sluice sql` and by DuckDB:
#   (a) a selective query partition pruning answers (one hour),
#   (b) a GROUP BY over one day,
#   (c) a full-table aggregate,
#   (d)-(l) dashboard queries (the aggregate fast path's shapes),
# each by the default path (auto: the aggregate fast path where it qualifies)
# and by `--path sqlite`.
# sluice times are whole `sluice sql` processes (start-up, catalog, plan,
# scan); DuckDB times are the query alone inside an open instance.  Best of 3.
# Usage: bench/sql.sh [SECTION-FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SLUICE_REL:-build/sluice}
OUT=bench/out
ROWS=${BENCH_SQL_ROWS:-10000000}
mkdir -p "$OUT"
# BENCH_SQL_DIR=dir: build the lake there once and keep it (later runs reuse it)
if [ -n "${BENCH_SQL_DIR:-}" ]; then T=$BENCH_SQL_DIR; mkdir -p "$T"; else T=$(mktemp -d "$PWD/$OUT/sql-XXXXXX"); fi
SPID=
cleanup() { [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null; [ -n "${BENCH_SQL_DIR:-}" ] || rm -rf "$T"; }
trap cleanup EXIT
if [ ! -f "$T/built" ]; then

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
touch "$T/built"
fi
LAKE=$T/data/lake
files=$(find "$LAKE/t1_events" -name '*.parquet' | wc -l)
bytes=$(du -sb "$LAKE/t1_events" | cut -f1)
echo "lake: $files files, $(awk "BEGIN { printf \"%.1f\", $bytes / 1048576 }") MiB"

# name | sluice SQL | DuckDB SQL (empty: the same).  (a)-(c) as before; the rest are
# dashboard shapes the generated data supports (docs/sql.md "The aggregate fast path").
QUERIES=(
"(a) one hour, partition-pruned|SELECT count(*) AS n, round(sum(cost), 4) AS cost FROM t1_events WHERE dt = '2024-05-15' AND hr = '12'|"
"(b) GROUP BY over one day|SELECT event_type, count(*) AS n, round(sum(cost), 4) AS cost FROM t1_events WHERE dt = '2024-05-15' GROUP BY event_type ORDER BY event_type|"
"(c) full-table aggregate|SELECT count(*) AS n, count(DISTINCT country) AS countries, round(sum(cost), 2) AS cost FROM t1_events|"
"(d) events per hour over a week|SELECT substr(event_time, 1, 13) AS h, count(*) AS n FROM t1_events WHERE dt BETWEEN '2024-05-08' AND '2024-05-14' GROUP BY h ORDER BY h|SELECT strftime(event_time, '%Y-%m-%dT%H') AS h, count(*) AS n FROM t1_events WHERE dt BETWEEN '2024-05-08' AND '2024-05-14' GROUP BY h ORDER BY h"
"(e) top 10 campaigns by cost, one day|SELECT campaign_id, round(sum(cost), 4) AS c FROM t1_events WHERE dt = '2024-05-15' GROUP BY campaign_id ORDER BY c DESC, campaign_id LIMIT 10|"
"(f) distinct users per day|SELECT dt, count(DISTINCT user_id) AS u FROM t1_events GROUP BY dt ORDER BY dt|"
"(g) cost by media x device, the month|SELECT media, device, round(sum(cost), 2) AS c FROM t1_events GROUP BY media, device ORDER BY media, device|"
"(h) events by type per day|SELECT dt, event_type, count(*) AS n FROM t1_events GROUP BY dt, event_type ORDER BY dt, event_type|"
"(i) top countries by clicks, one week|SELECT country, count(*) AS n, round(avg(cost), 6) AS a FROM t1_events WHERE dt >= '2024-05-08' AND dt < '2024-05-15' AND event_type = 'click' GROUP BY country ORDER BY n DESC, country LIMIT 10|"
"(j) spend per advertiser per day, one week|SELECT strftime('%Y-%m-%d', event_time) AS d, advertiser, round(sum(cost), 2) AS c FROM t1_events WHERE dt BETWEEN '2024-05-08' AND '2024-05-14' GROUP BY d, advertiser ORDER BY d, advertiser|SELECT strftime(event_time, '%Y-%m-%d') AS d, advertiser, round(sum(cost), 2) AS c FROM t1_events WHERE dt BETWEEN '2024-05-08' AND '2024-05-14' GROUP BY d, advertiser ORDER BY d, advertiser"
"(k) viewable impressions, top media|SELECT media, count(*) AS n, sum(viewable) AS v FROM t1_events WHERE event_type = 'impression' GROUP BY media ORDER BY n DESC, media LIMIT 10|SELECT media, count(*) AS n, sum(viewable::INT) AS v FROM t1_events WHERE event_type = 'impression' GROUP BY media ORDER BY n DESC, media LIMIT 10"
"(l) cost range per hour, one day|SELECT hr, min(cost) AS lo, max(cost) AS hi, count(cost) AS n FROM t1_events WHERE dt = '2024-05-15' GROUP BY hr ORDER BY hr|"
)

best() { sort -g | head -n1; }
sluice_q() { # sql path -> S_MS S_OUT S_RSS (KiB, of the best run) S_EXPLAIN
    local t0 t1 ms=() out rss=()
    for _ in 1 2 3; do
        t0=$(date +%s%N)
        out=$(/usr/bin/time -f '%M' -o "$T/rss" "$BIN" sql --data "$T/data" --no-tail --path "$2" -F csv "$1")
        t1=$(date +%s%N)
        ms+=("$(( (t1 - t0) / 1000000 ))")
        rss+=("$(cat "$T/rss")")
    done
    S_MS=$(printf '%s\n' "${ms[@]}" | best)
    S_RSS=$(printf '%s\n' "${rss[@]}" | sort -g | tail -n1)
    S_OUT=$(echo "$out" | tail -n +2 | head -n 4 | tr '\n' ';')
    S_EXPLAIN=$("$BIN" sql --data "$T/data" --no-tail --path "$2" --explain "$1" 2>&1 >/dev/null | grep -E '^-- (scans|path)' | sed 's/ (partial result.*//; s/(in opened files), //' | tr '\n' ' ' | cut -c1-260)
}
DQ=()
for e in "${QUERIES[@]}"; do
    IFS='|' read -r _ sq dq <<<"$e"
    DQ+=("${dq:-$sq}")
done
D=$(node bench/sql_duck.mjs "$LAKE" 3 "${DQ[@]}")
rows=""
i=0
for e in "${QUERIES[@]}"; do
    i=$((i + 1))
    IFS='|' read -r name q _ <<<"$e"
    dline=$(echo "$D" | sed -n "${i}p")
    d_ms=$(echo "$dline" | sed -n 's/.*"ms":\([0-9.]*\).*/\1/p')
    d_res=$(echo "$dline" | sed -n 's/.*"result":\(.*\)}$/\1/p' | cut -c1-120)
    sluice_q "$q" sqlite
    old_ms=$S_MS
    sluice_q "$q" auto
    ratio=$(awk "BEGIN { printf \"%.2f\", $S_MS / $d_ms }")
    old_ratio=$(awk "BEGIN { printf \"%.2f\", $old_ms / $d_ms }")
    echo "$name: sluice ${S_MS} ms (SQLite path ${old_ms} ms), DuckDB ${d_ms} ms, ratio $ratio ($old_ratio); peak RSS ${S_RSS} KiB; $S_OUT vs $d_res; $S_EXPLAIN"
    rows="$rows| $name | $S_MS | $old_ms | $(LC_ALL=C printf '%.0f' "$d_ms") | $ratio | $old_ratio | $((S_RSS / 1024)) | $S_EXPLAIN | \`$S_OUT\` vs \`$d_res\` |"$'\n'
done

section=${1:-$OUT/sql-section.md}
{
    echo "Lake table t1_events: $ROWS rows (\`sluice gen --seed 4 --spacing-ms 260\`: one month, hourly partitions), $files files, $(awk "BEGIN { printf \"%.1f\", $bytes / 1048576 }") MiB, landed by sluice serve."
    echo
    echo "| query | sluice ms (whole process, --path auto) | sluice ms (--path sqlite) | DuckDB ms (query only) | sluice/DuckDB | sqlite path/DuckDB | sluice peak RSS MiB | sluice read, path | results (first rows) |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
    printf '%s' "$rows"
} >"$section"
cat "$section"
