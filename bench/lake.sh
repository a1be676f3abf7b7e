#!/usr/bin/env bash
# Lake benchmark: HTTP -> journal -> committed Parquet, end to end.
#   1. throughput: events/s from the first request until the sink has committed
#      every record, and the sink thread's CPU per event ("keeps up on one core"
#      when the sink's events per CPU-second >= the ingest rate);
#   2. ack -> commit time with the default buffer hints (roll_age 60 s);
#   3. peak RSS of the server while 100 partitions are open.
# Usage: bench/lake.sh [SECTION-FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SLUICE_REL:-build/sluice}
OUT=bench/out
EVENTS=${BENCH_LAKE_EVENTS:-1000000}
mkdir -p "$OUT"
T=$(mktemp -d "$PWD/$OUT/lake-XXXXXX")
SPID=
cleanup() { [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

events=$OUT/lake-events.ndjson
[ -s "$events" ] && [ "$(wc -l <"$events")" = "$EVENTS" ] || "$BIN" gen --count "$EVENTS" --seed 3 >"$events"

start() { # extra sink yaml
    rm -rf "$T/data" "$T/port"
    printf 'data_dir: %s/data\nlisten: 127.0.0.1:0\nlimits:\n  max_body_bytes: 16MB\n  min_free_disk: 0\nstreams:\n  events:\n    sink:\n%s\n' "$T" "$1" >"$T/cfg.yaml"
    "$BIN" serve -c "$T/cfg.yaml" --port-file "$T/port" 2>"$T/server.log" &
    SPID=$!
    for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
    URL="http://127.0.0.1:$(cat "$T/port")"
}
stop() { kill -TERM "$SPID"; wait "$SPID" || true; SPID=; }
field() { curl -s "$URL/v1/streams/events" | sed -n "s/.*\"sink\":{[^}]*\"$1\":\([0-9.]*\).*/\1/p"; }
sink_cpu() { # seconds of CPU used by the sink thread
    for t in /proc/"$SPID"/task/*; do
        if grep -q '^sink:' "$t/comm" 2>/dev/null; then awk '{ printf "%.2f", ($14 + $15) / 100 }' "$t/stat"; return; fi
    done
    echo 0
}
now() { date +%s.%N; }

echo "== lake: $EVENTS events end to end"
# 1. throughput with hints that flush often enough to be measured
start "      roll_age: 2s"
t0=$(now)
"$BIN" ingest -q --parallel 4 --batch-bytes 1000000 --url "$URL" events "$events"
t_acked=$(now)
while [ "$(field position)" != "$EVENTS" ]; do sleep 0.05; done
t_landed=$(now)
cpu=$(sink_cpu)
files=$(field files)
stop
secs=$(awk "BEGIN { print $t_landed - $t0 }")
eps=$(awk "BEGIN { printf \"%d\", $EVENTS / $secs }")
ack_eps=$(awk "BEGIN { printf \"%d\", $EVENTS / ($t_acked - $t0) }")
sink_eps=$(awk "BEGIN { printf \"%d\", ($cpu > 0) ? $EVENTS / $cpu : 0 }")
tail_s=$(awk "BEGIN { printf \"%.2f\", $t_landed - $t_acked }")
echo "end to end: $eps events/s (acks at $ack_eps events/s, last commit ${tail_s}s after the last ack), sink thread $cpu CPU-s = $sink_eps events per sink CPU-second, $files files"

# 2. ack -> commit with the default hints
start ""
echo '{"event_id":"probe","event_time":"2024-05-01T00:00:00Z"}' >"$T/one.ndjson"
a0=$(now)
"$BIN" ingest -q --url "$URL" events "$T/one.ndjson"
a1=$(now)
while [ "$(field position)" != "1" ]; do sleep 0.2; done
a2=$(now)
lag=$(field last_commit_lag_ms)
stop
ack_ms=$(awk "BEGIN { printf \"%.1f\", ($a1 - $a0) * 1000 }")
commit_s=$(awk "BEGIN { printf \"%.1f\", $a2 - $a1 }")
echo "default hints: ack in ${ack_ms} ms, committed ${commit_s} s after the ack (sink reports ${lag} ms ingest->commit)"

# 3. peak RSS with 100 partitions open (events spread over 100 hours)
start "      max_open_partitions: 100"
awk 'BEGIN { srand(5) } { h = NR % 100; d = 1 + int(h / 24); printf "{\"id\":%d,\"event_time\":\"2024-05-%02dT%02d:00:00Z\",\"v\":%f,\"tag\":\"t%d\"}\n", NR, d, h % 24, rand(), NR % 50 }' \
    <(head -n 300000 "$events") >"$T/spread.ndjson"
"$BIN" ingest -q --parallel 4 --url "$URL" events "$T/spread.ndjson"
for _ in $(seq 600); do [ "$(field buffered)" = 300000 ] && break; sleep 0.1; done # all read and buffered
open=$(curl -s "$URL/v1/streams/events" | sed -n 's/.*"open_partitions":\([0-9]*\).*/\1/p')
rss_kb=$(awk '/VmHWM/ { print $2 }' /proc/"$SPID"/status)
stop
rss_mb=$(awk "BEGIN { printf \"%.0f\", $rss_kb / 1024 }")
echo "100 partitions: $open open at the end, peak RSS $rss_mb MiB"

section=${1:-$OUT/lake-section.md}
{
    echo "| measure | value |"
    echo "| --- | --- |"
    echo "| end to end, HTTP to committed Parquet ($EVENTS events, 4 connections, roll_age 2 s) | $eps events/s ($ack_eps events/s acknowledged; last commit ${tail_s} s after the last ack) |"
    echo "| sink thread CPU | $cpu s = **$sink_eps events per sink CPU-second** (one core) |"
    echo "| files committed | $files |"
    echo "| ack → commit with default hints (roll_age 60 s) | ack ${ack_ms} ms; committed ${commit_s} s after the ack |"
    echo "| peak RSS, 300k events buffered in $open open partitions | $rss_mb MiB |"
} >"$section"
cat "$section"
