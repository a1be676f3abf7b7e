#!/usr/bin/env bash
# Load benchmark (issue 12): a lake table of BENCH_LOAD_ROWS rows (default
# 10,000,000; id int64, user_id int64, kind string, amount double, note
# string, at string, dt partition of 10 days) into a PostgreSQL 15 table by
# one `kind: load` run (mode append, no window: every row) of `sluice serve`
# (release build), next to PostgreSQL's own ceiling:
#
#   \copy    psql "\copy t FROM rows.csv CSV HEADER" of the same rows (the CSV
#            written by `sluice sql -F csv`), into the emptied table
#   sluice   `sluice run --wait` of the load job into the emptied table; peak
#            RSS = VmHWM of the serve process after the runs
#
# rows/s = rows / seconds, best of BENCH_REPS (default 3).  The loaded row
# count is checked.
# Usage: bench/load.sh [SECTION-FILE]   (appends a markdown section)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SLUICE_REL:-build/sluice}
ROWS=${BENCH_LOAD_ROWS:-10000000}
REPS=${BENCH_REPS:-3}
. bench/lib_pg.sh
bench_pg_start load max_wal_size=4GB

cat >"$T/sluice.yaml" <<YAML
data_dir: $T/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 1
log_level: warn
scheduler: {tick: 20ms}
postgres:
  wh: {conninfo: "host=127.0.0.1 port=$port dbname=postgres user=postgres"}
jobs:
  bench_load:
    kind: load
    source: t2_bench
    mode: append
    target: {connection: wh, table: public.bench}
    timeout: 2h
YAML
mkdir -p "$T/data"
echo "load bench: writing $ROWS lake rows" >&2
"$BIN" sql -c "$T/sluice.yaml" "CREATE TABLE t2_bench PARTITION BY dt AS
  WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < $ROWS)
  SELECT x AS id, x % 100000 AS user_id, CASE x % 3 WHEN 0 THEN 'view' WHEN 1 THEN 'click' ELSE 'buy' END AS kind,
    (x % 100000) / 100.0 AS amount, 'note number ' || x AS note,
    strftime('%Y-%m-%dT%H:%M:%SZ', 1714521600 + x, 'unixepoch') AS at,
    '2024-05-' || printf('%02d', 1 + x % 10) AS dt FROM g" >/dev/null
echo "load bench: the same rows as CSV" >&2
"$BIN" sql -c "$T/sluice.yaml" -F csv "SELECT id, user_id, kind, amount, note, at, dt FROM t2_bench" >"$T/rows.csv"
psql_ -c "CREATE TABLE public.bench (id bigint, user_id bigint, kind text, amount double precision, note text, at text, dt date)"
best_copy=
for _ in $(seq "$REPS"); do
    psql_ -c "TRUNCATE public.bench" -c "CHECKPOINT"
    t0=$(date +%s.%N)
    psql_ -c "\\copy public.bench FROM '$T/rows.csv' CSV HEADER"
    t1=$(date +%s.%N)
    s=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best_copy" ] || [ "$(echo "$s < $best_copy" | bc -l)" = 1 ]; then best_copy=$s; fi
done
"$BIN" serve -c "$T/sluice.yaml" --port-file "$T/port" >/dev/null 2>>"$T/server.log" &
SPID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
best_load=
for _ in $(seq "$REPS"); do
    psql_ -c "TRUNCATE public.bench" -c "CHECKPOINT"
    t0=$(date +%s.%N)
    "$BIN" run bench_load -c "$T/sluice.yaml" -w "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --force --wait 7200 >/dev/null
    t1=$(date +%s.%N)
    s=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best_load" ] || [ "$(echo "$s < $best_load" | bc -l)" = 1 ]; then best_load=$s; fi
    got=$(psql_ -At -c "SELECT count(*) FROM public.bench")
    [ "$got" = "$ROWS" ] || { echo "load bench: public.bench has $got rows, want $ROWS" >&2; tail -20 "$T/server.log" >&2; exit 1; }
done
rss=$(awk '/VmHWM/ {print $2}' "/proc/$SPID/status" 2>/dev/null || echo 0)
lake=$(du -sb "$T/data/lake/t2_bench" | cut -f1)
csv=$(stat -c %s "$T/rows.csv")
copy_rate=$(echo "$ROWS / $best_copy" | bc -l)
load_rate=$(echo "$ROWS / $best_load" | bc -l)
ratio=$(echo "$load_rate / $copy_rate" | bc -l)
section=$(cat <<MD
### load: lake table -> PostgreSQL ($(date -u +%Y-%m-%d), $(nproc) cores shared, $(uname -m))

$ROWS rows, seven columns: $(printf '%.1f' "$(echo "$lake / 1000000" | bc -l)") MB of Parquet in the lake, $(printf '%.0f' "$(echo "$csv / 1000000" | bc -l)") MB as CSV; into an emptied table, best of $REPS.

| | seconds | rows/s | vs \\copy | peak RSS |
| --- | ---: | ---: | ---: | ---: |
| \`psql \\copy t FROM rows.csv CSV\` | $(printf '%.2f' "$best_copy") | $(printf '%.0f' "$copy_rate") | 1.00 | |
| sluice \`kind: load\` (Parquet -> COPY FROM STDIN text) | $(printf '%.2f' "$best_load") | $(printf '%.0f' "$load_rate") | $(printf '%.2f' "$ratio") | $((rss / 1024)) MiB |
MD
)
echo "$section"
[ $# -ge 1 ] && printf '\n%s\n' "$section" >>"$1"
exit 0
