#!/usr/bin/env bash
# Ingest benchmark: events/s and MB/s into the journal over HTTP with durable
# (fdatasync'ed, group-committed) acks, ack latency at a fixed rate, and
# redis-benchmark XADD (appendonly yes, appendfsync everysec) as the peer,
# all in the same run.  Usage: bench/ingest.sh [RESULTS-SECTION-FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SLUICE_REL:-build/sluice}
OUT=bench/out
EVENTS=${BENCH_INGEST_EVENTS:-1000000}
mkdir -p "$OUT"
T=$(mktemp -d "$PWD/$OUT/ingest-XXXXXX")
SPID= RPID=
cleanup() { [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null; [ -n "$RPID" ] && kill -9 "$RPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

events=$OUT/ingest-events.ndjson
[ -s "$events" ] && [ "$(wc -l <"$events")" = "$EVENTS" ] || "$BIN" gen --count "$EVENTS" --seed 2 >"$events"
bytes=$(stat -c %s "$events")

# the transform row: a typical Firehose-Lambda reshape (every record rewritten)
XFORM='    transform:
      rename: {event_type: type, campaign_id: campaign}
      require: [event_id]
      drop_where: ["country = '"'"'XX'"'"'", "cost < 0"]
      drop: [viewable]
      set: {source: bench}'
start_server() { # fsync-spec [transform-yaml]
    rm -rf "$T/data" "$T/port"
    cat >"$T/cfg.yaml" <<YAML
data_dir: $T/data
listen: 127.0.0.1:0
limits:
  max_body_bytes: 16MB
  min_free_disk: 0
streams:
  bench:
    fsync: $1
${2:-}
YAML
    "$BIN" serve -c "$T/cfg.yaml" --port-file "$T/port" 2>"$T/server.log" &
    SPID=$!
    for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
    PORT=$(cat "$T/port")
}
cpu_s() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; } # utime+stime (ticks of 1/100 s)
stop_server() { kill -TERM "$SPID"; wait "$SPID" || true; SPID=; }

throughput() { # fsync-spec parallel [transform-yaml] -> sets EPS MBS CPU SYNCS
    start_server "$1" "${3:-}"
    local c0 t0 t1 c1
    c0=$(cpu_s "$SPID"); t0=$(date +%s.%N)
    "$BIN" ingest -q --parallel "$2" --batch-bytes 1000000 --url "http://127.0.0.1:$PORT" bench "$events"
    t1=$(date +%s.%N); c1=$(cpu_s "$SPID")
    local n
    n=$(curl -s "http://127.0.0.1:$PORT/v1/streams/bench" | sed -n 's/.*"next_offset":\([0-9]*\).*/\1/p')
    SYNCS=$(curl -s "http://127.0.0.1:$PORT/metrics" | sed -n 's/^sluice_journal_fsync_seconds_count{stream="bench"} //p')
    stop_server
    [ "$n" = "$EVENTS" ] || { echo "ingest bench: journal holds $n records, want $EVENTS" >&2; exit 1; }
    local secs; secs=$(awk "BEGIN { print $t1 - $t0 }")
    EPS=$(awk "BEGIN { printf \"%d\", $EVENTS / $secs }")
    MBS=$(awk "BEGIN { printf \"%.1f\", $bytes / $secs / 1e6 }")
    CPU=$(awk "BEGIN { printf \"%.2f\", $c1 - $c0 }")
    EPS_CORE=$(awk "BEGIN { printf \"%d\", $EVENTS / ($c1 - $c0) }")
}

echo "== ingest: $EVENTS events ($(awk "BEGIN { printf \"%.0f\", $bytes / $EVENTS }") bytes each) over HTTP"
rows=""
for spec in "always" "batch-ms 5"; do
    for par in 4; do
        throughput "$spec" "$par"
        [ "$spec" = always ] && base_cpu=$CPU
        echo "fsync $spec, $par connections: $EPS events/s, $MBS MB/s, server CPU $CPU s ($EPS_CORE events per CPU-second), $SYNCS fsyncs"
        rows="$rows| sluice HTTP → journal, fsync: $spec, $par connections | $EPS | $MBS | $EPS_CORE | $SYNCS fdatasyncs |"$'\n'
    done
done

throughput always 4 "$XFORM"
xf_ns=$(awk "BEGIN { printf \"%d\", ($CPU - $base_cpu) * 1e9 / $EVENTS }")
echo "fsync always, 4 connections, with a transform: $EPS events/s, server CPU $CPU s ($EPS_CORE events per CPU-second)"
rows="$rows| sluice HTTP → journal, fsync: always, 4 connections, **with a transform** (rename 2, require, 2 filters, drop, set) | $EPS | $MBS | $EPS_CORE | $SYNCS fdatasyncs |"$'\n'

# ack latency at a fixed moderate rate
start_server always
lat=$(node bench/ack_latency.mjs "$PORT" "$events" 50000 100 32 10)
stop_server
echo "ack latency at 50k events/s (fsync always): $lat"
p50=$(echo "$lat" | sed -n 's/^{[^{]*"p50":\([0-9.]*\).*/\1/p')
p99=$(echo "$lat" | sed -n 's/^{[^{]*"p99":\([0-9.]*\).*/\1/p')
lmax=$(echo "$lat" | sed -n 's/^{[^{]*"max":\([0-9.]*\).*/\1/p')
w99=$(echo "$lat" | sed -n 's/.*"first_second":{[^}]*"p99":\([0-9.]*\).*/\1/p')
ach=$(echo "$lat" | sed -n 's/.*"events_per_s":\([0-9]*\).*/\1/p')

# the peer: redis XADD with AOF everysec, 200-byte values
redis-server --port 0 --unixsocket "$T/redis.sock" --save '' --appendonly yes --appendfsync everysec \
    --dir "$T" --daemonize no >"$T/redis.log" 2>&1 &
RPID=$!
for _ in $(seq 100); do redis-cli -s "$T/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.05; done
val=$(head -c 190 /dev/zero | tr '\0' v)
rb=$(redis-benchmark -s "$T/redis.sock" -c 4 -P 32 -n "$EVENTS" --csv XADD bench '*' f "$val" 2>/dev/null | tail -n1)
kill -TERM "$RPID"; wait "$RPID" || true; RPID=
redis_rps=$(echo "$rb" | awk -F'","' '{ gsub(/"/, "", $2); printf "%d", $2 }')
redis_p50=$(echo "$rb" | awk -F'","' '{ print $5 }')
redis_p99=$(echo "$rb" | awk -F'","' '{ print $7 }')
echo "redis-benchmark XADD -P 32 -c 4 (AOF everysec): $redis_rps ops/s, p50 $redis_p50 ms, p99 $redis_p99 ms"

fmt() { LC_ALL=C printf '%.2f' "$1"; }
section=${1:-$OUT/ingest-section.md}
{
    echo "| what | events/s | MB/s | events per server CPU-second | notes |"
    echo "| --- | ---: | ---: | ---: | --- |"
    printf '%s' "$rows"
    echo "| redis-benchmark XADD, -P 32, 4 clients, appendfsync everysec (peer) | $redis_rps | $(awk "BEGIN { printf \"%.1f\", $redis_rps * 200 / 1e6 }") | | p50 $redis_p50 ms, p99 $redis_p99 ms (pipelined, acks before fsync) |"
    echo
    echo "Ack latency, sluice, fsync always, fixed load of 50,000 events/s (requests of 100 events over 32 keep-alive connections, 10 s; achieved $ach events/s): steady state (after the first second) p50 $(fmt "$p50") ms, p99 **$(fmt "$p99") ms**, max $(fmt "$lmax") ms; the first second (32 connections and their server threads being set up) p99 $(fmt "$w99") ms."
    echo
    echo "The transform costs $xf_ns ns of server CPU per record (the same run's CPU with it minus without it, over $EVENTS records)."
    echo
    echo "Ratio sluice (fsync always) / redis XADD (everysec): $(awk "BEGIN { printf \"%.2f\", $(echo "$rows" | head -1 | awk -F'|' '{print $3}') / $redis_rps }")."
} >"$section"
cat "$section"
