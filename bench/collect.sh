#!/usr/bin/env bash
# Collect benchmark (issue 10): the mock's big gads report (async CSV behind
# OAuth2, tests/mock/admedia.mjs with --big-mb) from the API to committed
# Parquet by one `kind: collect` run of `sluice serve` (release build).
#
#   curl      `curl -o /dev/null` of the same report file URL (the peer: what
#             the loopback and the mock's generator give), best of BENCH_REPS
#   engine    build/rel/collect_probe: cl_fetch alone (OAuth2, create, poll,
#             download, CSV split into JSON records, counted, not written)
#   sluice    POST /v1/jobs/<job>/runs -> the run succeeded (catalog): the
#             fetch to the staging files, raw parts stored, the staged records
#             (read_csv of the staged rows) -> Parquet -> catalog commit; split at the run's
#             "N records" log line into fetch and landing; the server's
#             CPU seconds (user + system) over the run beside
#
# MB/s = report bytes (10^6) / seconds.  Peak RSS: VmHWM of the serve process
# after the run (and the probe's ru_maxrss).  The committed rows and install
# sum are checked against the mock's truth summary of the slice.
# Env: BENCH_COLLECT_MB (report size, default 500), BENCH_REPS (default 3),
# BENCH_COLLECT_PERF=FILE (perf record -g the server into FILE),
# BENCH_COLLECT_DUMP=FILE (the committed table's columns and sorted rows into
# FILE, to compare what two binaries land),
# BENCH_COLLECT_CALLGRIND=PREFIX (the server under callgrind: its figures are
# then not timings; bench/collect_instructions.sh compares two binaries).
# Usage: bench/collect.sh [SECTION-FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SLUICE_REL:-build/sluice}
PROBE=${COLLECT_PROBE_REL:-build/rel/collect_probe}
OUT=bench/out
MB=${BENCH_COLLECT_MB:-500}
REPS=${BENCH_REPS:-3}
ACC=acc20
DAY=2022-09-10
mkdir -p "$OUT"
[ -x "$PROBE" ] || make --no-print-directory -s "$PROBE"
T=$(mktemp -d "${BENCH_COLLECT_DIR:-$PWD/$OUT}/collect-XXXXXX")
MPID=
SPID=
cleanup() {
    [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null
    [ -n "$MPID" ] && kill -TERM "$MPID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
js() { node -e "const j=JSON.parse(require('fs').readFileSync(0,'utf8')); console.log($1)"; }
ms_now() { date +%s%3N; }

# the mock: limits high enough that the bench measures bytes, not the bucket
node tests/mock/admedia.mjs --port 0 --seed 5 --big-mb "$MB" --big-account "$ACC" --big-day "$DAY" \
    --gads-rate 100000 --gads-burst 100000 >"$T/mock.out" 2>"$T/mock.err" &
MPID=$!
for _ in $(seq 200); do grep -q '^listening ' "$T/mock.out" 2>/dev/null && break; sleep 0.05; done
M=$(sed -n 's/^listening //p' "$T/mock.out")
[ -n "$M" ] || { echo "bench collect: the mock did not start: $(cat "$T/mock.err")" >&2; exit 1; }
curl -fsS "$M/_mock/accounts" | js "JSON.stringify(j.accounts.find((a) => a.id === '$ACC'))" >"$T/acc.json"
RT=$(js j.gads_refresh_token <"$T/acc.json")
CID=$(js j.gads_client_id <"$T/acc.json")
CS=$(js j.gads_client_secret <"$T/acc.json")

echo "== collect: the mock's ${MB} MB gads report to committed Parquet"
# the peer: create a report through the API, then curl its file
TOK=$(curl -fsS "$M/gads/oauth/token" --data-urlencode grant_type=refresh_token \
    --data-urlencode "refresh_token=$RT" --data-urlencode "client_id=$CID" \
    --data-urlencode "client_secret=$CS" | js j.access_token)
RID=$(curl -fsS -H "authorization: Bearer $TOK" -H 'content-type: application/json' \
    -d "{\"date_from\":\"$DAY\",\"date_to\":\"$DAY\"}" "$M/gads/v2/accounts/$ACC/reports" | js j.report_id)
FILE_URL=
for _ in $(seq 100); do
    st=$(curl -fsS -H "authorization: Bearer $TOK" "$M/gads/v2/reports/$RID")
    FILE_URL=$(echo "$st" | js "j.status === 'DONE' ? j.file_url : ''")
    [ -n "$FILE_URL" ] && break
    sleep 0.05
done
[ -n "$FILE_URL" ] || { echo "bench collect: report $RID never DONE" >&2; exit 1; }
c_t=()
for i in $(seq 1 "$REPS"); do
    read -r t sz < <(curl -fsS -o /dev/null -w '%{time_total} %{size_download}\n' "$FILE_URL")
    c_t+=("$t")
    echo "  curl run $i: $sz bytes in ${t}s = $(awk "BEGIN { printf \"%.0f\", $sz / 1e6 / $t }") MB/s"
done
BYTES=$sz
ct=$(printf '%s\n' "${c_t[@]}" | sort -g | head -n1)
c_mbs=$(awk "BEGIN { printf \"%.0f\", $BYTES / 1e6 / $ct }")

# the second peer: DuckDB turning the same file (on disk) into Parquet
DUCK_V=$(node -p "require('./tests/node/node_modules/@duckdb/node-api/package.json').version")
curl -fsS -o "$T/report.csv" "$FILE_URL"
read -r d_ms d_rows d_rss < <(/usr/bin/time -f '%M' -o "$T/duck.rss" node bench/collect_duck.mjs \
    "$T/report.csv" "$T/duck.parquet" | js "j.ms.toFixed(0) + ' ' + j.rows"; echo "")
d_rss=$(awk '{ printf "%d", $1 / 1024 }' "$T/duck.rss")
rm -f "$T/report.csv" "$T/duck.parquet"
d_mbs=$(awk "BEGIN { printf \"%.0f\", $BYTES / 1e6 / ($d_ms / 1000) }")
echo "  duckdb $DUCK_V: CSV file -> Parquet $d_rows rows in $d_ms ms = $d_mbs MB/s, peak RSS $d_rss MiB"

# the engine alone (cl_fetch, records counted only)
cat >"$T/probe.json" <<EOF
{"specs":[{"name":"gads_report","account":"$ACC",
  "async":{"create":{"method":"POST","url":"$M/gads/v2/accounts/$ACC/reports",
                     "body":"{\"date_from\":\"$DAY\",\"date_to\":\"$DAY\"}"},
           "id_path":"report_id","status":{"url":"$M/gads/v2/reports/{{report.id}}"},
           "status_path":"status","ready":"DONE","failed":"FAILED","reason_path":"reason",
           "file_url_path":"file_url","poll_ms":20},
  "auth":{"type":"oauth2","token_url":"$M/gads/oauth/token","refresh_token":"$RT",
          "client_id":"$CID","client_secret":"$CS"},
  "format":"csv"}],"sum":["install"]}
EOF
"$PROBE" "$T/probe.json" >"$T/probe.out" 2>"$T/probe.err"
p_ms=$(grep '"done"' "$T/probe.out" | js j.ms)
p_rss=$(grep '"done"' "$T/probe.out" | js "Math.round(j.rss_kb / 1024)")
p_rec=$(grep '"result"' "$T/probe.out" | js j.result.records)
p_mbs=$(awk "BEGIN { printf \"%.0f\", $BYTES / 1e6 / ($p_ms / 1000) }")
echo "  engine (collect_probe): $p_rec records in $p_ms ms = $p_mbs MB/s, peak RSS $p_rss MiB"

# sluice serve with one collect job for (ACC, DAY)
mkdir -p "$T/secrets"
printf '%s\n' "$RT" >"$T/secrets/gads_rt"
printf '%s\n' "$CID" >"$T/secrets/gads_cid"
printf '%s\n' "$CS" >"$T/secrets/gads_cs"
cat >"$T/cfg.yaml" <<EOF
data_dir: $T/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 2
secrets_dir: $T/secrets
query: {write_tokens: [bench-token]}
jobs:
  gads_big:
    kind: collect
    window: day
    accounts: {list: [$ACC]}
    auth:
      type: oauth2
      token_url: "{{params.base}}/gads/oauth/token"
      refresh_token: "{{secret.gads_rt}}"
      client_id: "{{secret.gads_cid}}"
      client_secret: "{{secret.gads_cs}}"
    report:
      async: true
      create:
        method: POST
        url: "{{params.base}}/gads/v2/accounts/{{account}}/reports"
        body: '{"date_from":"{{ds}}","date_to":"{{ds}}"}'
      id_path: report_id
      status: {url: "{{params.base}}/gads/v2/reports/{{report.id}}"}
      status_path: status
      ready: DONE
      failed: FAILED
      reason_path: reason
      file_url_path: file_url
      poll: 20ms
      format: csv
    table: t1_gads_big_daily
    params: {base: "$M"}
EOF
CG=${BENCH_COLLECT_CALLGRIND:-}
if [ -n "$CG" ]; then # under callgrind, one file per thread: CG.<pid>-<thread>
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$CG.%p" \
        "$BIN" serve -c "$T/cfg.yaml" --port-file "$T/port" 2>>"$T/server.log" &
else
    "$BIN" serve -c "$T/cfg.yaml" --port-file "$T/port" 2>>"$T/server.log" &
fi
SPID=$!
for _ in $(seq 1200); do [ -s "$T/port" ] && break; sleep 0.05; done
PPID_=
if [ -n "${BENCH_COLLECT_PERF:-}" ]; then # profile the server: perf record -g into that file
    perf record -q -g -p "$SPID" -o "$BENCH_COLLECT_PERF" 2>/dev/null &
    PPID_=$!
    sleep 0.5
fi
URL="http://127.0.0.1:$(cat "$T/port")"
DB=$T/data/catalog.db
q() { sqlite3 -readonly "$DB" "$1"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SPID/stat"; } # the server's user + system CPU
cpu0=$(cpu_ticks)
t0=$(ms_now)
code=$(curl -sS -o "$T/trigger.json" -w '%{http_code}' -H 'authorization: Bearer bench-token' \
    -H 'content-type: application/json' -d "{\"window\":\"$DAY\"}" "$URL/v1/jobs/gads_big/runs")
[ "$code" = 201 ] || { echo "bench collect: trigger: $code $(cat "$T/trigger.json")" >&2; exit 1; }
state=
while :; do
    state=$(q "SELECT state FROM runs WHERE job = 'gads_big' ORDER BY id DESC LIMIT 1" 2>/dev/null || true)
    case "$state" in succeeded|failed|dead) break ;; esac
    sleep 0.05
done
t1=$(ms_now)
rss=$(awk '/VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$SPID/status")
cpu_s=$(awk -v a="$cpu0" -v b="$(cpu_ticks)" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) / hz }')
[ "$state" = succeeded ] || { echo "bench collect: the run $state: $(q "SELECT error FROM runs WHERE job = 'gads_big'")" >&2; exit 1; }
read -r started finished < <(q "SELECT started_ms, finished_ms FROM runs WHERE job = 'gads_big' ORDER BY id DESC LIMIT 1" | tr '|' ' ')
# the fetch ends at the run's "N records" log line (UTC, ms)
fetched=$(grep -m1 'gads_big run .* records' "$T/server.log" | cut -d' ' -f1 |
    node -e "console.log(Date.parse(require('fs').readFileSync(0,'utf8').trim()))")
[ -n "$PPID_" ] && { kill -INT "$PPID_"; wait "$PPID_" || true; }
kill -TERM "$SPID"; wait "$SPID" || true; SPID=
s_ms=$((t1 - t0))
s_mbs=$(awk "BEGIN { printf \"%.1f\", $BYTES / 1e6 / ($s_ms / 1000) }")
f_ms=$((fetched - started)); l_ms=$((finished - fetched))
ratio=$(awk "BEGIN { printf \"%.3f\", $s_mbs / $c_mbs }")
echo "  sluice: trigger -> committed $s_ms ms = $s_mbs MB/s ($ratio x curl), peak RSS $rss MiB;" \
    "fetch to staging $f_ms ms, landing $l_ms ms; server CPU $cpu_s s"

# the committed slice against the mock's truth (sluice's report is the newest served)
got=$("$BIN" sql --data "$T/data" -F csv "SELECT count(*), sum(install) FROM t1_gads_big_daily WHERE account = '$ACC' AND dt = '$DAY'" | tail -n1)
want=$(curl -fsS "$M/_mock/truth?medium=gads&account=$ACC" |
    js "(s => s.rows + ',' + s.install)(j.slices.find((s) => s.day === '$DAY' && s.big))")
[ "$got" = "$want" ] || { echo "bench collect: committed (rows,install) $got, the mock's truth $want" >&2; exit 1; }
echo "  committed rows and install sum equal the mock's truth: $got"
if [ -n "${BENCH_COLLECT_DUMP:-}" ]; then # the slice and its columns, to compare two binaries
    { q "SELECT c.ordinal, c.name, c.type FROM columns c JOIN tables t ON t.id = c.table_id WHERE t.name = 't1_gads_big_daily' ORDER BY c.ordinal"
      "$BIN" sql --data "$T/data" -F csv "SELECT * FROM t1_gads_big_daily" | LC_ALL=C sort; } >"$BENCH_COLLECT_DUMP"
fi
rows=${got%%,*}
files=$(find "$T/data/lake" -path '*t1_gads_big_daily*' -name '*.parquet' | wc -l)
pq_mb=$(find "$T/data/lake" -path '*t1_gads_big_daily*' -name '*.parquet' -printf '%s\n' | awk '{ s += $1 } END { printf "%.1f", s / 1e6 }')

sec=${1:-$OUT/collect-section.md}
cat >"$sec" <<EOF
The mock's big gads report (\`tests/mock/admedia.mjs --big-mb $MB\`: an async CSV report
behind OAuth2, $BYTES bytes, $rows rows, generated on the fly) for ($ACC, $DAY): one
\`kind: collect\` run of \`sluice serve\` (release build) from \`POST /v1/jobs/gads_big/runs\`
until the run succeeded (the slice committed as Parquet: $files file(s), $pq_mb MB). The
committed rows and install sum equal the mock's truth. MB/s = report bytes / 10⁶ / s;
curl best of $REPS, the others one run each.

| stage | ms | MB/s | vs curl | peak RSS MiB |
| --- | ---: | ---: | ---: | ---: |
| \`curl -o /dev/null\` of the file URL | $(awk "BEGIN { printf \"%.0f\", $ct * 1000 }") | $c_mbs | 1.00 | |
| DuckDB $DUCK_V, all threads: the file already on disk, \`read_csv\` → Parquet zstd (no download, no raw copy, no commit) | $d_ms | $d_mbs | $(awk "BEGIN { printf \"%.2f\", $d_mbs / $c_mbs }") | $d_rss |
| engine only (\`collect_probe\`: OAuth2, create, poll, download, CSV → JSON records) | $p_ms | $p_mbs | $(awk "BEGIN { printf \"%.2f\", $p_mbs / $c_mbs }") | $p_rss |
| sluice: fetch to the staging files (run start → "records" log line) | $f_ms | $(awk "BEGIN { printf \"%.0f\", $BYTES / 1e6 / ($f_ms / 1000) }") | | |
| sluice: landing (staged rows read once → Parquet, commit) | $l_ms | $(awk "BEGIN { printf \"%.0f\", $BYTES / 1e6 / ($l_ms / 1000) }") | | |
| **sluice: trigger → committed** | $s_ms | **$s_mbs** | **$ratio** | **$rss** (VmHWM) |

The server's CPU time over the run (user + system, every thread): $cpu_s s.

Targets (issue 10): peak RSS < 100 MB, throughput ≥ 0.50 x curl. sluice vs DuckDB's
transformation alone: $(awk "BEGIN { printf \"%.2f\", $s_mbs / $d_mbs }") x.
EOF
echo "section: $sec"
