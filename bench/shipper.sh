#!/usr/bin/env bash
# Log shipper benchmark: `sluice tail` MB/s on a generated nginx access log
# (BENCH_SHIP_MB, default 1024 MB) into the local journal and through a local
# `sluice serve`'s HTTP API, next to the native path in the same run: the
# same records (the NDJSON the shipper made of the lines) sent by
# `sluice ingest` to the same server.  MB/s is of the log's bytes; every
# figure is one run (the fsynced journal appends dominate).
# Usage: bench/shipper.sh [RESULTS-SECTION-FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SLUICE_REL:-build/sluice}
OUT=bench/out
MB=${BENCH_SHIP_MB:-1024}
mkdir -p "$OUT"
T=$(mktemp -d "$PWD/$OUT/shipper-XXXXXX")
SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

log=$T/logs/access.log
mkdir -p "$T/logs"
node -e '
const fs = require("fs"); const want = Number(process.argv[2]) * 1e6; const fd = fs.openSync(process.argv[1], "w");
let n = 0, seq = 0; const ua = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "curl/8.5.0", "Googlebot/2.1"];
while (n < want) { let s = ""; for (let i = 0; i < 20000; i++) { seq++;
  s += `10.${seq % 250}.${(seq >> 8) % 250}.${seq % 199} - - [03/Dec/2026:12:${String((seq >> 12) % 60).padStart(2, "0")}:${String(seq % 60).padStart(2, "0")} +0000] "GET /shop/item/${seq % 100000}?ref=${seq} HTTP/1.1" ${seq % 17 ? 200 : 404} ${seq % 9000} "https://example.com/p/${seq % 500}" "${ua[seq % 3]}"\n`; }
  fs.writeSync(fd, s); n += Buffer.byteLength(s); }' "$log" "$MB"
bytes=$(stat -c %s "$log")
lines=$(wc -l <"$log")

cfg() { # url
    cat >"$T/tail.yaml" <<YAML
data_dir: $T/tdata
sources:
  nginx:
    paths: [$T/logs/access.log*]
    format: nginx
    stream: web
    url: "$1"
    batch_bytes: 4MB
YAML
}
secs() { awk "BEGIN { printf \"%.2f\", $2 - $1 }"; }
mbs() { awk "BEGIN { printf \"%.1f\", $bytes / 1e6 / $1 }"; }

# 1. local journal
cfg ""
t0=$(date +%s.%N); "$BIN" tail -q -c "$T/tail.yaml" --once 2>"$T/tail-local.log"; t1=$(date +%s.%N)
local_s=$(secs "$t0" "$t1")
got=$("$BIN" read -d "$T/tdata" web | tee "$T/records.ndjson" | wc -l)
[ "$got" = "$lines" ] || { echo "bench shipper: local journal holds $got records for $lines lines" >&2; exit 1; }
rec_bytes=$(stat -c %s "$T/records.ndjson")

# 2. a server; the shipper and sluice ingest into two streams of it
cat >"$T/serve.yaml" <<YAML
data_dir: $T/sdata
listen: 127.0.0.1:0
limits: { max_body_bytes: 16MB, min_free_disk: 0 }
streams:
  web: { sink: { enabled: false } }
  native: { sink: { enabled: false } }
YAML
"$BIN" serve -c "$T/serve.yaml" --port-file "$T/port" 2>"$T/serve.log" &
SPID=$!
for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
url=http://127.0.0.1:$(cat "$T/port")
rm -rf "$T/tdata"
cfg "$url"
t0=$(date +%s.%N); "$BIN" tail -q -c "$T/tail.yaml" --once 2>"$T/tail-remote.log"; t1=$(date +%s.%N)
remote_s=$(secs "$t0" "$t1")
t0=$(date +%s.%N); "$BIN" ingest -q -u "$url" -b 4000000 native "$T/records.ndjson"; t1=$(date +%s.%N)
native_s=$(secs "$t0" "$t1")
got=$("$BIN" read -d "$T/sdata" web | wc -l)
[ "$got" = "$lines" ] || { echo "bench shipper: remote stream holds $got records for $lines lines" >&2; exit 1; }

table=${1:-$OUT/shipper-section.md}
{
    echo "A generated nginx combined-format access log of $(awk "BEGIN { printf \"%.0f\", $bytes / 1e6 }") MB ($lines lines), shipped once by \`sluice tail --once\` (parse to JSON, batches of 4 MB, checkpoint after each fsynced append / 200); the native path sends the shipper's own NDJSON output ($(awk "BEGIN { printf \"%.0f\", $rec_bytes / 1e6 }") MB) with \`sluice ingest\` (1 connection, 4 MB requests) to the same server in the same run. MB/s are of the log's bytes; every record count verified."
    echo
    echo "| path | seconds | log MB/s | lines/s |"
    echo "| --- | ---: | ---: | ---: |"
    echo "| sluice tail → local journal | $local_s | $(mbs "$local_s") | $(awk "BEGIN { printf \"%.0f\", $lines / $local_s }") |"
    echo "| sluice tail → sluice serve HTTP | $remote_s | $(mbs "$remote_s") | $(awk "BEGIN { printf \"%.0f\", $lines / $remote_s }") |"
    echo "| sluice ingest (same records) → sluice serve HTTP | $native_s | $(mbs "$native_s") | $(awk "BEGIN { printf \"%.0f\", $lines / $native_s }") |"
} >"$table"
cat "$table"
