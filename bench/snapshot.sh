#!/usr/bin/env bash
# Snapshot benchmark (issue 11): a PostgreSQL 15 table of BENCH_SNAP_ROWS rows
# (default 10,000,000; ten columns: int8, int4, text, numeric(12,2), float8,
# timestamptz, date, bool, text, uuid) into committed Parquet by one
# `kind: snapshot` run of `sluice serve` (release build), next to the
# source's own ceiling:
#
#   COPY     psql -c "COPY (SELECT * FROM t) TO STDOUT" > /dev/null, best of
#            BENCH_REPS: what the server can send over the loopback
#   sluice   `sluice run --wait` of the job -> the run succeeded (catalog),
#            window none (the whole table replaced), serial and with
#            split_by: id, parallel: BENCH_SNAP_PARALLEL (default nproc), its
#            ranges read by the server's BENCH_SNAP_PARALLEL worker threads
#            (range tasks: docs/snapshots.md);
#            peak RSS = VmHWM of the serve process after the runs
#
# rows/s = rows / seconds.  The committed row count is checked.
# Env: BENCH_SNAP_ROWS, BENCH_REPS, BENCH_SNAP_PERF=FILE (perf record -g the server).
# Usage: bench/snapshot.sh [SECTION-FILE]   (appends a markdown section)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SLUICE_REL:-build/sluice}
ROWS=${BENCH_SNAP_ROWS:-10000000}
PAR=${BENCH_SNAP_PARALLEL:-$(nproc)}
REPS=${BENCH_REPS:-3}
. bench/lib_pg.sh
bench_pg_start snapshot
echo "snapshot bench: generating $ROWS rows" >&2
psql_ -c "CREATE TABLE public.events AS SELECT g::int8 AS id, (g % 100000)::int4 AS user_id,
  (ARRAY['view','click','buy'])[1 + g % 3] AS kind, (g % 100000 / 100.0)::numeric(12,2) AS amount,
  g * 0.001 AS score, timestamptz '2024-05-01' + g * interval '1 second' AS at,
  date '2024-01-01' + g % 365 AS day, g % 2 = 0 AS active, 'note number ' || g AS note,
  md5(g::text)::uuid AS uid FROM generate_series(1, $ROWS) g"
psql_ -c "VACUUM ANALYZE public.events"
bytes=$(psql_ -At -c "SELECT pg_total_relation_size('public.events')")

best_copy=
for _ in $(seq "$REPS"); do
    t0=$(date +%s.%N)
    psql_ -c "COPY (SELECT * FROM public.events) TO STDOUT" >/dev/null
    t1=$(date +%s.%N)
    s=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best_copy" ] || [ "$(echo "$s < $best_copy" | bc -l)" = 1 ]; then best_copy=$s; fi
done

cat >"$T/sluice.yaml" <<YAML
data_dir: $T/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: $PAR
log_level: warn
scheduler: {tick: 20ms}
postgres:
  src: {conninfo: "host=127.0.0.1 port=$port dbname=postgres user=postgres"}
jobs:
  snap:
    kind: snapshot
    source: src
    include: [public.events]
    mode: replace
    timeout: 2h
  snap_par:
    kind: snapshot
    source: src
    table_prefix: par_
    mode: replace
    timeout: 2h
    tables:
      public.events: {split_by: id, parallel: $PAR}
YAML
if [ -n "${BENCH_SNAP_PERF:-}" ]; then # perf record the server (its figures then are not timings)
    perf record -F 999 -g -o "$BENCH_SNAP_PERF" -- "$BIN" serve -c "$T/sluice.yaml" --port-file "$T/port" >/dev/null 2>>"$T/server.log" &
else
    "$BIN" serve -c "$T/sluice.yaml" --port-file "$T/port" >/dev/null 2>>"$T/server.log" &
fi
SPID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
best_of() { # job: the best seconds of REPS runs
    local best= s t0 t1
    for _ in $(seq "$REPS"); do
        t0=$(date +%s.%N)
        "$BIN" run "$1" -c "$T/sluice.yaml" -w "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --force --wait 7200 >/dev/null
        t1=$(date +%s.%N)
        s=$(echo "$t1 - $t0" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$s < $best" | bc -l)" = 1 ]; then best=$s; fi
    done
    echo "$best"
}
best_snap=$(best_of snap)
best_par=$(best_of snap_par)
rss=$(awk '/VmHWM/ {print $2}' "/proc/$(pgrep -P "$SPID" sluice || echo "$SPID")/status" 2>/dev/null || echo 0)
for t in public_events par_public_events; do
    got=$("$BIN" sql -c "$T/sluice.yaml" --format csv "SELECT count(*) FROM lake.$t" | tail -1)
    [ "$got" = "$ROWS" ] || { echo "snapshot bench: $t has $got rows, want $ROWS" >&2; tail -20 "$T/server.log" >&2; exit 1; }
done
lake=$(du -sb "$T/data/lake/public_events" | cut -f1)
if [ -n "${BENCH_SNAP_PERF:-}" ]; then # let perf write its file: stop the server, then perf
    pkill -TERM -P "$SPID" sluice 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
    SPID=
fi
copy_rate=$(echo "$ROWS / $best_copy" | bc -l)
snap_rate=$(echo "$ROWS / $best_snap" | bc -l)
ratio=$(echo "$snap_rate / $copy_rate" | bc -l)
par_rate=$(echo "$ROWS / $best_par" | bc -l)
par_ratio=$(echo "$par_rate / $copy_rate" | bc -l)
section=$(cat <<MD
### snapshot: PostgreSQL table -> committed Parquet ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))

$ROWS rows, ten columns, $(printf '%.0f' "$(echo "$bytes / 1000000" | bc -l)") MB in PostgreSQL; best of $REPS.

| | seconds | rows/s | vs COPY | peak RSS |
| --- | ---: | ---: | ---: | ---: |
| \`COPY (SELECT *) TO STDOUT\` > /dev/null (psql) | $(printf '%.2f' "$best_copy") | $(printf '%.0f' "$copy_rate") | 1.00 | |
| sluice \`kind: snapshot\` (parallel: 1) | $(printf '%.2f' "$best_snap") | $(printf '%.0f' "$snap_rate") | $(printf '%.2f' "$ratio") | |
| sluice \`kind: snapshot\` (split_by: id, parallel: $PAR) | $(printf '%.2f' "$best_par") | $(printf '%.0f' "$par_rate") | $(printf '%.2f' "$par_ratio") | |

Peak RSS of the server over all runs: $((rss / 1024)) MiB.

Lake: $(printf '%.0f' "$(echo "$lake / 1000000" | bc -l)") MB of Parquet (zstd).
MD
)
echo "$section"
[ $# -ge 1 ] && printf '\n%s\n' "$section" >>"$1"
exit 0
