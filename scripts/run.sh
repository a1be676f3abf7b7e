#!/usr/bin/env bash
# `make run`: the main job on the embedded default (no config, no external
# server): sluice serve with data in ./sluice-data on 127.0.0.1:8080.  It sends
# some sample events through HTTP so there is something to look at, shows them
# landing in the lake, then keeps serving until Ctrl-C (SIGINT stops it cleanly:
# the sinks land their buffers first).  Running it again reopens every stream in
# ./sluice-data, so nothing acknowledged before a stop or a crash is left out.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/sluice
ADDR=${SLUICE_LISTEN:-127.0.0.1:8080}
URL="http://$ADDR"

"$BIN" serve --listen "$ADDR" &
PID=$!
trap 'kill -INT $PID 2>/dev/null; wait $PID' INT TERM
for _ in $(seq 100); do curl -sf "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$URL/healthz" >/dev/null || { echo "run: the server did not start (is $ADDR in use? set SLUICE_LISTEN)"; exit 1; }

echo "== sluice gen --count 100000 | sluice ingest events"
"$BIN" gen --count 100000 | "$BIN" ingest events --url "$URL"
echo "== waiting for the lake sink to commit them (roll_age is 60 s by default)"
for _ in $(seq 130); do
    lag=$(curl -s "$URL/v1/streams/events" | sed -n 's/.*"sink":{[^}]*"lag":\([0-9]*\).*/\1/p')
    [ "$lag" = 0 ] && break
    sleep 0.5
done
"$BIN" tables
echo
echo "The server keeps running on $URL (Ctrl-C stops it; the next 'make run' reopens"
echo "every stream in ./sluice-data). In another terminal:"
echo "  build/sluice gen --count 10000 | build/sluice ingest events"
echo "  curl -s $URL/v1/streams/events; curl -s $URL/metrics | grep sluice_sink"
echo "  build/sluice describe t1_events; build/sluice ddl t1_events --dialect duckdb"
wait $PID
