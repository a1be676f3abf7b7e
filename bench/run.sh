#!/usr/bin/env bash
# Benchmarks against peers.  Called by `make bench` (which builds the release
# binary build/sluice and installs the test tools first).
#
#   bench/run.sh              run every benchmark
#   bench/run.sh convert      run one (names: see BENCHES below)
#
# Environment: BENCH_ROWS (default 1000000), BENCH_REPS (best of, default 3),
# SLUICE_REL (binary, default build/sluice).
#
# Each benchmark is a function bench_<name> that prints a markdown table and
# appends it (via record_section) to bench/RESULTS.md.  Scratch files go to
# bench/out/ (gitignored).  To add one: write bench_<name>, add it to BENCHES.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${SLUICE_REL:-build/sluice}
ROWS=${BENCH_ROWS:-1000000}
REPS=${BENCH_REPS:-3}
OUT=bench/out
RESULTS=bench/RESULTS.md
BENCHES=(collect console convert ingest kinesis jobs lake load shipper snapshot sql tail)

mkdir -p "$OUT"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
[ -x "$BIN" ] || { echo "bench: $BIN not built (make build/sluice)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (scripts/deps.sh --test installs 'time')" >&2; exit 1; }
[ -d tests/node/node_modules/@duckdb/node-api ] || { echo "bench: DuckDB missing (scripts/deps.sh --test)" >&2; exit 1; }

# ---- helpers -------------------------------------------------------------------

now() { date +%s.%N; }
# timed OUTVAR_SECONDS OUTVAR_RSS_KB cmd...: wall seconds and peak RSS (KiB) of one run
timed() {
    local __s=$1 __m=$2; shift 2
    local t0 t1
    t0=$(now)
    /usr/bin/time -f '%M' -o "$OUT/.rss" "$@"
    t1=$(now)
    printf -v "$__s" '%s' "$(calc "$t1 - $t0")"
    printf -v "$__m" '%s' "$(tail -n1 "$OUT/.rss")"
}
# timed_cpu OUTVAR_SECONDS OUTVAR_RSS_KB OUTVAR_CPU_SECONDS cmd...: as timed, plus the
# process's CPU seconds (user + system), which other load on the machine disturbs less
timed_cpu() {
    local __s=$1 __m=$2 __c=$3; shift 3
    local t0 t1
    t0=$(now)
    /usr/bin/time -f '%M %U %S' -o "$OUT/.rss" "$@"
    t1=$(now)
    printf -v "$__s" '%s' "$(calc "$t1 - $t0")"
    printf -v "$__m" '%s' "$(tail -n1 "$OUT/.rss" | cut -d' ' -f1)"
    printf -v "$__c" '%s' "$(tail -n1 "$OUT/.rss" | awk '{ printf "%.2f", $2 + $3 }')"
}
min() { printf '%s\n' "$@" | sort -g | head -n1; }
max() { printf '%s\n' "$@" | sort -g | tail -n1; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
fmt() { LC_ALL=C printf "%.${2:-2}f" "$1"; }
mib() { awk "BEGIN { printf \"%.1f\", $1 / 1048576 }"; }
kib_mib() { awk "BEGIN { printf \"%d\", $1 / 1024 }"; }

machine() {
    local cpu mem
    cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
    mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    echo "$(nproc) CPUs, ${cpu:-unknown CPU}, $mem RAM, $(uname -sr)"
}

record_section() { # title, body file
    if [ ! -f "$RESULTS" ]; then
        echo "bench: $RESULTS is missing" >&2
        return 1
    fi
    {
        echo
        echo "## $1 — $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo
        echo "- machine: $(machine); load average at start $LOAD0 (other work on the machine makes timings noisy)"
        echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (+ uncommitted changes in src/)')"
        echo "- sluice: $("$BIN" --version 2>/dev/null || echo '?'); DuckDB: $(node -e "console.log(require('./tests/node/node_modules/@duckdb/node-api/package.json').version)" 2>/dev/null)"
        echo
        cat "$2"
    } >>"$RESULTS"
    echo "appended to $RESULTS"
}

# ---- convert: NDJSON -> Parquet (zstd), sluice vs DuckDB -------------------------

bench_convert() {
    local events=$OUT/events.ndjson sp1=$OUT/sluice-1.parquet sp=$OUT/sluice.parquet dp=$OUT/duck.parquet
    local ncpu; ncpu=$(nproc)
    echo "== convert: $ROWS events, best of $REPS"
    echo "generating $events"
    "$BIN" gen --count "$ROWS" --seed 1 >"$events"
    local in_bytes; in_bytes=$(stat -c %s "$events")
    echo "input: $(mib "$in_bytes") MiB, $(wc -l <"$events") lines"

    local s1_t=() s1_m=() s1_c=() s_t=() s_m=() s_c=() d_t=() d_m=() d_c=() d_copy=() d_total=() t m c i
    for i in $(seq 1 "$REPS"); do
        rm -f "$sp1" "$sp"
        timed_cpu t m c "$BIN" convert --threads 1 "$events" "$sp1" 2>"$OUT/sluice-convert.log"
        s1_t+=("$t"); s1_m+=("$m"); s1_c+=("$c")
        echo "  sluice --threads 1 run $i: $(fmt "$t")s, CPU ${c}s, peak RSS $(kib_mib "$m") MiB"
        timed_cpu t m c "$BIN" convert --threads "$ncpu" "$events" "$sp" 2>>"$OUT/sluice-convert.log"
        s_t+=("$t"); s_m+=("$m"); s_c+=("$c")
        echo "  sluice --threads $ncpu run $i: $(fmt "$t")s, CPU ${c}s, peak RSS $(kib_mib "$m") MiB"

        rm -f "$dp"
        timed_cpu t m c node bench/convert.mjs duck "$events" "$dp" >"$OUT/.duck.json"
        d_t+=("$t"); d_m+=("$m"); d_c+=("$c")
        d_copy+=("$(node -e "console.log(JSON.parse(require('fs').readFileSync('$OUT/.duck.json','utf8')).copy_s)")")
        d_total+=("$(node -e "console.log(JSON.parse(require('fs').readFileSync('$OUT/.duck.json','utf8')).total_s)")")
        echo "  duckdb run $i: COPY $(fmt "${d_copy[-1]}")s, node process $(fmt "$t")s, CPU ${c}s, peak RSS $(kib_mib "$m") MiB"
    done
    local base_t base_m
    timed base_t base_m node bench/convert.mjs baseline >/dev/null
    local dver; dver=$(node bench/convert.mjs version)

    # both outputs must hold every row; sluice's must not depend on --threads
    local sc dc
    sc=$(node bench/convert.mjs count "$sp")
    dc=$(node bench/convert.mjs count "$dp")
    if [ "$sc" != "$ROWS" ] || [ "$dc" != "$ROWS" ]; then
        echo "bench convert: row counts differ: sluice $sc, duckdb $dc, expected $ROWS" >&2
        return 1
    fi
    if ! cmp -s "$sp1" "$sp"; then
        echo "bench convert: --threads 1 and --threads $ncpu wrote different files" >&2
        return 1
    fi

    local st1 st dt dproc sm1 sm dm sb db
    st1=$(min "${s1_t[@]}"); st=$(min "${s_t[@]}"); dt=$(min "${d_copy[@]}"); dproc=$(min "${d_t[@]}")
    sm1=$(max "${s1_m[@]}"); sm=$(max "${s_m[@]}"); dm=$(max "${d_m[@]}")
    sb=$(stat -c %s "$sp"); db=$(stat -c %s "$dp")
    local s1_rps s_rps d_rps
    s1_rps=$(calc "$ROWS / $st1"); s_rps=$(calc "$ROWS / $st"); d_rps=$(calc "$ROWS / $dt")

    local table=$OUT/convert.md
    {
        echo "Convert $ROWS \`sluice gen --seed 1\` events ($(mib "$in_bytes") MiB NDJSON) to Parquet, zstd; best of $REPS; all outputs verified to hold $ROWS rows (DuckDB count), and sluice's --threads 1 and --threads $ncpu files are identical (cmp). DuckDB: @duckdb/node-api $dver."
        echo
        echo "| tool | wall s (best) | rows/s | output MiB | peak RSS MiB |"
        echo "| --- | ---: | ---: | ---: | ---: |"
        echo "| sluice convert --threads 1 | $(fmt "$st1") | $(fmt "$s1_rps" 0) | $(mib "$sb") | $(kib_mib "$sm1") |"
        echo "| sluice convert --threads $ncpu | $(fmt "$st") | $(fmt "$s_rps" 0) | $(mib "$sb") | $(kib_mib "$sm") |"
        echo "| DuckDB $dver COPY read_json_auto, $ncpu threads | $(fmt "$dt") | $(fmt "$d_rps" 0) | $(mib "$db") | $(kib_mib "$dm") (node process) |"
        echo "| node + DuckDB baseline (load, open, SELECT 1) | $(fmt "$base_t") | | | $(kib_mib "$base_m") |"
        echo
        echo "- speed sluice/DuckDB: --threads $ncpu **$(fmt "$(calc "$s_rps / $d_rps")")x**, --threads 1 **$(fmt "$(calc "$s1_rps / $d_rps")")x** (rows/s ratios; sluice's time is the whole process including the final fsync, DuckDB's the COPY statement alone, its whole node process took $(fmt "$dproc")s best)"
        echo "- CPU seconds (user + system, least of $REPS runs), less disturbed by other load than wall time: sluice --threads 1 $(min "${s1_c[@]}"), --threads $ncpu $(min "${s_c[@]}"), DuckDB's whole node process $(min "${d_c[@]}")"
        echo "- size sluice/DuckDB: **$(fmt "$(calc "$sb / $db")" 3)x** ($sb vs $db bytes)"
        echo "- schemas differ, which affects size and speed: sluice (inferred) \`$(node bench/convert.mjs describe "$sp")\`; DuckDB (read_json_auto) \`$(node bench/convert.mjs describe "$dp")\`"
        echo "- peak RSS: sluice $(kib_mib "$sm1") MiB (1 thread), $(kib_mib "$sm") MiB ($ncpu threads); DuckDB's figure includes node and the DuckDB library (baseline $(kib_mib "$base_m") MiB), so DuckDB's own share is about $(kib_mib "$((dm - base_m))") MiB"
    } >"$table"
    echo
    cat "$table"
    echo
    record_section "convert: NDJSON → Parquet (zstd)" "$table"
}

# ---- ingest: HTTP -> journal, sluice vs redis-benchmark XADD ------------------------

bench_ingest() {
    local sec=$OUT/ingest-section.md
    SLUICE_REL=$BIN bench/ingest.sh "$sec"
    record_section "ingest: HTTP into the journal, sluice vs Redis XADD" "$sec"
}

# ---- kinesis: PutRecords (base64, SigV4) next to the native API ----------------------

bench_kinesis() {
    local sec=$OUT/kinesis-section.md
    SLUICE_REL=$BIN node bench/kinesis.mjs "$sec" >/dev/null 2>&1
    record_section "kinesis: PutRecords of 500 x 300-byte records vs the native API" "$sec"
}

# ---- shipper: sluice tail on an nginx log next to sluice ingest ----------------------

bench_shipper() {
    local sec=$OUT/shipper-section.md
    SLUICE_REL=$BIN bench/shipper.sh "$sec"
    record_section "shipper: sluice tail on a ${BENCH_SHIP_MB:-1024} MB nginx log vs sluice ingest" "$sec"
}

# ---- lake: HTTP -> committed Parquet ----------------------------------------------------

bench_lake() {
    local sec=$OUT/lake-section.md
    SLUICE_REL=$BIN bench/lake.sh "$sec"
    record_section "lake: HTTP to committed Parquet" "$sec"
}

# ---- console: a dashboard, a 1M-row CSV download, page weight, in Chromium ----------

bench_console() {
    local sec=$OUT/console-section.md
    SLUICE_REL=$BIN node bench/console.mjs "$sec"
    record_section "console: an 8-chart dashboard and a 1M-row CSV download in Chromium" "$sec"
}

# ---- sql: the lake queried by sluice sql and by DuckDB -------------------------------

bench_sql() {
    local sec=$OUT/sql-section.md
    SLUICE_REL=$BIN bench/sql.sh "$sec"
    record_section "sql: sluice sql vs DuckDB on a 10M-row lake table" "$sec"
}

# ---- tail: SQL over a stream table with a large retained journal ---------------------

bench_tail() {
    local sec=$OUT/tail-section.md
    SLUICE_REL=$BIN bench/tail.sh "$sec"
    record_section "tail: SQL with the journal tail on a large retained journal" "$sec"
}

# ---- jobs: no-op tasks through the scheduler, queue and workers ----------------------

bench_jobs() {
    local sec=$OUT/jobs-section.md
    SLUICE_REL=$BIN bench/jobs.sh "$sec"
    record_section "jobs: 10,000 no-op tasks through the queue and 4 workers" "$sec"
}

# ---- collect: the mock's 500 MB async CSV report to committed Parquet ---------------

bench_snapshot() {
    local sec=$OUT/snapshot-section.md
    rm -f "$sec"
    SLUICE_REL=$BIN bench/snapshot.sh "$sec"
    record_section "snapshot: a ${BENCH_SNAP_ROWS:-10000000}-row PostgreSQL table to committed Parquet" "$sec"
}

bench_load() {
    local sec=$OUT/load-section.md
    rm -f "$sec"
    SLUICE_REL=$BIN bench/load.sh "$sec"
    record_section "load: a ${BENCH_LOAD_ROWS:-10000000}-row lake table into PostgreSQL" "$sec"
}

bench_collect() {
    local sec=$OUT/collect-section.md
    [ -x build/rel/collect_probe ] || make --no-print-directory -s build/rel/collect_probe
    SLUICE_REL=$BIN bench/collect.sh "$sec"
    record_section "collect: a ${BENCH_COLLECT_MB:-500} MB report from the mock to committed Parquet" "$sec"
}

# ---- main ---------------------------------------------------------------------------

want=("$@")
[ ${#want[@]} -eq 0 ] && want=("${BENCHES[@]}")
for b in "${want[@]}"; do
    if ! declare -F "bench_$b" >/dev/null; then
        echo "bench: unknown benchmark '$b' (have: ${BENCHES[*]})" >&2
        exit 2
    fi
    "bench_$b"
done
