#!/usr/bin/env bash
# Jobs benchmark: no-op tasks through the scheduler, the task queue (the
# journal + its consumer group) and 4 worker threads of `sluice serve`, every
# finish durable before its task is acked (start marks and queue deliveries
# are synced lazily, see docs/jobs.md).
#
#   burst    BENCH_JOBS_TASKS (default 10000) runs due at once (a backfill
#            with --parallel = the task count): tasks/s from the backfill's
#            creation to its last run finished.
#   steady   the same number of runs triggered through POST /v1/jobs/{job}/runs
#            at a steady BENCH_JOBS_RATE per second (default 1000, below the
#            burst rate): p50 / p99 / max of due -> started (the run's due time
#            is its creation), i.e. the latency a task sees on a loaded but not
#            saturated queue.
#
# The peer: Redis Streams (the queue the design documents' ad-data team
# runs), with appendfsync always so that an XACK is as durable as ours, the
# same task count through 4 consumers doing XREADGROUP / XACK
# (bench/jobs_redis.mjs).  Airflow itself cannot be installed here (no PyPI).
# Usage: bench/jobs.sh [SECTION-FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SLUICE_REL:-build/sluice}
OUT=bench/out
TASKS=${BENCH_JOBS_TASKS:-10000}
RATE=${BENCH_JOBS_RATE:-1000}
mkdir -p "$OUT"
T=$(mktemp -d "${BENCH_JOBS_DIR:-$PWD/$OUT}/jobs-XXXXXX")
SPID=
RPID=
cleanup() {
    [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null
    [ -n "$RPID" ] && kill -9 "$RPID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

cat >"$T/cfg.yaml" <<EOF
data_dir: $T/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 4
query: {write_tokens: [bench-token]}
jobs:
  noop_bench:
    kind: noop
    window: hour
    max_active: 1000
EOF
"$BIN" serve -c "$T/cfg.yaml" --port-file "$T/port" 2>>"$T/server.log" &
SPID=$!
for _ in $(seq 400); do [ -s "$T/port" ] && break; sleep 0.05; done
URL="http://127.0.0.1:$(cat "$T/port")"
DB=$T/data/catalog.db
q() { sqlite3 -readonly "$DB" "$1"; }
wait_done() { # backfill-or-trigger filter, count
    while [ "$(q "SELECT count(*) FROM runs WHERE $1 AND state IN ('succeeded','failed','dead')")" -lt "$2" ]; do
        sleep 0.2
    done
}
pct() { # SQL expression over the filtered runs, filter, percentile (0..1)
    q "SELECT $1 FROM runs WHERE $2 ORDER BY $1 LIMIT 1 OFFSET (SELECT CAST(count(*) * $3 AS INT) - (count(*) * $3 = CAST(count(*) * $3 AS INT)) FROM runs WHERE $2)"
}

echo "== jobs: $TASKS no-op tasks, 4 workers"
# burst: one backfill of TASKS hourly windows, all due at once
"$BIN" backfill noop_bench -c "$T/cfg.yaml" --from 2000-01-01 \
    --to "$(date -u -d "2000-01-01 + $TASKS hours" +%Y-%m-%dT%H:%M:%SZ)" \
    --parallel "$TASKS" --name burst >/dev/null
wait_done "backfill = 'burst'" "$TASKS"
B="backfill = 'burst'"
ok=$(q "SELECT count(*) FROM runs WHERE $B AND state = 'succeeded'")
# from the moment the last run exists (the backfill command's inserts are
# not the queue's work) to the last one finished
create=$(q "SELECT max(created_ms) - min(created_ms) FROM runs WHERE $B")
span=$(q "SELECT max(finished_ms) - max(created_ms) FROM runs WHERE $B")
burst_rate=$(awk "BEGIN { printf \"%d\", $TASKS * 1000 / ($span > 0 ? $span : 1) }")
echo "burst: $ok of $TASKS succeeded in $span ms after the backfill created them (in $create ms): $burst_rate tasks/s"

# steady: TASKS manual runs at RATE per second, each due when created
node bench/jobs_trigger.mjs "$URL" noop_bench bench-token "$TASKS" "$RATE" 2001-06-01 >"$T/trigger.json"
S="trigger = 'manual'"
wait_done "$S" "$TASKS"
sok=$(q "SELECT count(*) FROM runs WHERE $S AND state = 'succeeded'")
lat="started_ms - max(due_ms, created_ms)"
p50=$(pct "$lat" "$S" 0.5); p99=$(pct "$lat" "$S" 0.99); pmax=$(q "SELECT max($lat) FROM runs WHERE $S")
sent=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$T/trigger.json','utf8')).rate)")
echo "steady: $sok of $TASKS succeeded at $sent runs/s offered: due->started p50 $p50 ms, p99 $p99 ms, max $pmax ms"
kill -TERM "$SPID"; wait "$SPID" || true; SPID=

# the peer: Redis Streams with appendfsync always
rport=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
redis-server --port "$rport" --bind 127.0.0.1 --dir "$T" --appendonly yes --appendfsync always \
    --save '' --daemonize no >"$T/redis.log" 2>&1 &
RPID=$!
for _ in $(seq 200); do redis-cli -p "$rport" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
node bench/jobs_redis.mjs "$rport" "$TASKS" 4 >"$T/redis.json"
rrate=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$T/redis.json','utf8')).tasks_per_s)")
rver=$(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')
echo "redis $rver streams: $rrate tasks/s (XADD all, then 4 consumers XREADGROUP + XACK, appendfsync always)"
kill -TERM "$RPID"; wait "$RPID" || true; RPID=
ratio=$(awk "BEGIN { printf \"%.2f\", $burst_rate / ($rrate > 0 ? $rrate : 1) }")

sec=${1:-$OUT/jobs-section.md}
cat >"$sec" <<EOF
$TASKS no-op tasks (\`kind: noop\`), \`sluice serve\` with 4 worker threads, the journal queue
and the SQLite run history; every finish durable before its ack (start marks and queue
deliveries are synced lazily: docs/jobs.md). Peer: Redis $rver Streams with
\`appendfsync always\`, the same task count through 4 consumers (XREADGROUP + XACK).

| measure | sluice | target | Redis Streams |
| --- | ---: | ---: | ---: |
| burst: $TASKS runs due at once, tasks/s | $burst_rate | ≥ 5,000 | $rrate (ratio $ratio x) |
| burst: the backfill command creating the $TASKS runs | $create ms | | |
| steady $sent runs/s: due → started p50 | $p50 ms | | |
| steady $sent runs/s: due → started p99 | $p99 ms | < 50 ms | |
| steady $sent runs/s: due → started max | $pmax ms | | |
EOF
echo "section: $sec"
