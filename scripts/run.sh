#!/usr/bin/env bash
# The main job on the embedded default, no external server needed:
# generate sample events, land them as Parquet, show what was written.
# (Becomes `sluice serve` once the server lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/sluice
data=${SLUICE_DATA:-./sluice-data}
mkdir -p "$data"
echo "== sluice gen --count 200000 > $data/events.ndjson"
$bin gen --count 200000 --seed 1 > "$data/events.ndjson"
echo "== sluice convert $data/events.ndjson $data/events.parquet"
$bin convert "$data/events.ndjson" "$data/events.parquet"
echo "== sluice schema $data/events.parquet"
$bin schema "$data/events.parquet" | head -n 40
echo "== sluice cat --limit 3 $data/events.parquet"
$bin cat --limit 3 "$data/events.parquet"
