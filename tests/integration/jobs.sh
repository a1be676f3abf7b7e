#!/usr/bin/env bash
# Jobs through the real binary: config errors name the job and line; a
# command job on `every`; sql jobs t1 -> t2 -> t3 with a dependency; manual
# runs (refused twice unless --force); backfills serial vs parallel give the
# same table, re-running replaces (no duplicates), a name cannot be reused;
# parallel runs of a new job creating its table at once each succeed on the
# first attempt (sql and command kinds);
# a server killed -9 in the middle of tasks: after the restart every window
# has exactly one output; a task that fails is retried then failed with its
# stderr in `sluice runs`.
source "$(dirname "$0")/../lib/sh.sh" jobs

# ---- config errors ------------------------------------------------------------
bad() { # name, yaml body, expected text
    printf 'data_dir: %s/bad\n%s\n' "$T" "$2" > "$T/bad.yaml"
    out=$("$BIN" config --check "$T/bad.yaml" 2>&1); rc=$?
    [ $rc = 1 ] && [[ "$out" == *"$3"* ]]; check "$1" $? "exit $rc: $out"
}
bad config_cron_error 'jobs:
  j1:
    kind: command
    schedule: "0 25 * * *"
    command: [true]' 'bad.yaml:3: jobs.j1:'
bad config_cron_error_names_field 'jobs:
  j1:
    kind: command
    schedule: "0 25 * * *"
    command: [true]' 'hour'
bad config_unknown_variable 'jobs:
  j2:
    kind: command
    command: [echo, "{{ window }}"]' "unknown template variable '{{window}}'"
bad config_cycle 'jobs:
  a:
    kind: command
    depends_on: [b]
    command: [true]
  b:
    kind: command
    depends_on: [a]
    command: [true]' 'dependency cycle'
bad config_unknown_pool 'jobs:
  a:
    kind: command
    pool: google
    command: [true]' "no pool 'google'"
bad config_unknown_secret 'jobs:
  a:
    kind: command
    command: [curl, "-H", "Authorization: {{secret.tok}}"]' "secret 'tok' not found"

bad config_collect_needs_url 'jobs:
  c1:
    kind: collect
    window: day
    table: t1_x_daily' 'bad.yaml:3: jobs.c1: request.url is missing'
bad config_collect_name_fits_its_files_stream 'jobs:
  c1234567890123456789012345678901234567890123456789012345678:
    kind: collect
    window: day
    table: t1_x_daily
    request: {url: "http://127.0.0.1:1/x"}' 'the name of a collect job is at most 58 characters'
bad config_collect_cursor_needs_param 'jobs:
  c2:
    kind: collect
    window: day
    table: t1_x_daily
    request: {url: "http://127.0.0.1:1/x"}
    pagination: {type: cursor, path: next}' 'pagination needs pagination.param'
bad config_collect_async_needs_paths 'jobs:
  c3:
    kind: collect
    window: day
    table: t1_x_daily
    report: {async: true, create: {url: "http://127.0.0.1:1/r"}}' 'report.async needs'
bad config_collect_unknown_variable 'jobs:
  c4:
    kind: collect
    window: day
    table: t1_x_daily
    request: {url: "http://127.0.0.1:1/{{page.nope}}"}' "unknown template variable '{{page.nope}}'"
bad config_collect_account_field_needs_sql 'jobs:
  c5:
    kind: collect
    window: day
    table: t1_x_daily
    accounts: {list: [a1]}
    request: {url: "http://127.0.0.1:1/{{account.token}}"}' 'only accounts from accounts.sql have fields'
bad config_accounts_list_and_sql 'jobs:
  c6:
    kind: noop
    accounts: {list: [a1], sql: "SELECT 1"}' 'give either list or sql, not both'

# ---- a server with jobs ------------------------------------------------------------
sed "s|__T__|$T|g" > "$T/sluice.yaml" <<'YAML'
data_dir: __T__/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 3
scheduler: {tick: 100ms, task_timeout: 2s, heartbeat: 300ms}
jobs:
  tick:
    kind: command
    every: 1s
    command: [sh, -c, 'echo "{\"run\":$SLUICE_RUN_ID}"']
    output: ndjson
    table: t2_ticks_snapshot_hourly
    mode: append
  t2_day:
    kind: sql
    window: day
    sql: "SELECT '{{ds}}' AS day, length('{{ds}}') + 0 AS n, '{{window_start}}' AS ws"
    table: t2_days_aggr_1d_daily
  t2_day_copy:
    kind: sql
    window: day
    sql: "SELECT '{{ds}}' AS day, length('{{ds}}') + 0 AS n, '{{window_start}}' AS ws"
    table: t2_dayscopy_aggr_1d_daily
  t3_month:
    kind: sql
    window: day
    depends_on: [t2_day]
    sql: "SELECT dt, count(*) AS c FROM t2_days_aggr_1d_daily WHERE dt = '{{ds}}' GROUP BY dt"
    table: t3_days_aggr_1d_daily
  flaky:
    kind: command
    window: day
    retries: 1
    retry_delay: 0s
    command: [sh, -c, 'echo "it broke for {{ds}}" >&2; exit 4']
  fresh:
    kind: sql
    window: day
    retry_delay: 0s
    sql: "SELECT '{{ds}}' AS day, 1 AS n"
    table: t2_fresh_aggr_1d_daily
  fresh_cmd:
    kind: command
    window: hour
    retry_delay: 0s
    # the first three (one per worker) finish at once, so their landings overlap
    command: [sh, -c, 'mkdir -p __T__/bar; touch __T__/bar/$SLUICE_HR; for i in $(seq 500); do [ $(ls __T__/bar | wc -l) -ge 3 ] && break; sleep 0.01; done; seq 20000 | sed "s/.*/{\"w\":\"$SLUICE_WINDOW_START\",\"i\":&}/"']
    output: ndjson
    table: t2_freshcmd_snapshot_hourly
  slow:
    kind: command
    window: hour
    command: [sh, -c, 'sleep 1; echo "{\"w\":\"$SLUICE_WINDOW_START\",\"pid\":$$}"']
    output: ndjson
    table: t2_slow_snapshot_hourly
YAML
"$BIN" config --check "$T/sluice.yaml" >"$T/check.out" 2>&1; check config_ok $? "$(cat "$T/check.out")"
start_server "$T/sluice.yaml"
[ -n "$(cat "$T/port" 2>/dev/null)" ]; check server_started $? "$(tail -5 "$T/server.log")"

runs_json() { "$BIN" runs "$1" -c "$T/sluice.yaml" -f json -n 100000 "${@:2}" 2>>"$T/cli.log"; }
count_state() { runs_json "$1" --state "$2" | grep -o '"state":' | wc -l; }
sql() { "$BIN" sql -c "$T/sluice.yaml" -F csv "$1" 2>&1; }
wait_for() { # seconds, command...
    local s=$1; shift
    for _ in $(seq $((s * 10))); do "$@" && return 0; sleep 0.1; done
    return 1
}

ticks_ok() { [ "$(count_state tick succeeded)" -ge 2 ]; }
wait_for 15 ticks_ok; check every_job_runs $? "$(runs_json tick | head -c 600)"
n=$(sql "SELECT count(*) FROM t2_ticks_snapshot_hourly" | tail -1)
[ "$n" -ge 2 ]; check command_output_lands $? "$n"

# manual run of a day window; again is refused; --force runs it again
"$BIN" run t2_day -c "$T/sluice.yaml" --window 2024-05-01 --wait 30 >"$T/run.out" 2>&1
check manual_run_succeeds $? "$(cat "$T/run.out")"
out=$("$BIN" run t2_day -c "$T/sluice.yaml" --window 2024-05-01T13:00:00Z 2>&1); rc=$?
[ $rc = 1 ] && [[ "$out" == *"already succeeded"* ]]; check rerun_refused $? "exit $rc: $out"
"$BIN" run t2_day -c "$T/sluice.yaml" --window 2024-05-01 --force --wait 30 >"$T/run.out" 2>&1
check forced_rerun_succeeds $? "$(cat "$T/run.out")"
got=$(sql "SELECT dt, day, n, ws FROM t2_days_aggr_1d_daily")
[ "$got" = $'dt,day,n,ws\n2024-05-01,2024-05-01,10,2024-05-01T00:00:00.000000Z' ]
check replace_window_one_copy $? "$got"

# the downstream job waits for its upstream window, then reads it
"$BIN" run t3_month -c "$T/sluice.yaml" --window 2024-05-02 >/dev/null 2>&1
sleep 1
st=$(runs_json t3_month | grep -o '"state":"[a-z]*"' | head -1)
[ "$st" = '"state":"waiting"' ]; check downstream_waits_for_upstream $? "$st"
"$BIN" run t2_day -c "$T/sluice.yaml" --window 2024-05-02 --wait 30 >/dev/null 2>&1
t3_done() { [ "$(count_state t3_month succeeded)" = 1 ]; }
wait_for 20 t3_done; check downstream_runs_after_upstream $? "$(runs_json t3_month | head -c 400)"
got=$(sql "SELECT dt, c FROM t3_days_aggr_1d_daily")
[ "$got" = $'dt,c\n2024-05-02,1' ]; check downstream_reads_upstream $? "$got"

# backfills: 120 days serial vs parallel 8 give identical tables
"$BIN" backfill t2_day -c "$T/sluice.yaml" --from 2024-01-01 --to 2024-04-30 --serial --name bf_serial \
    --wait 120 >"$T/bf1.out" 2>&1; check backfill_serial $? "$(cat "$T/bf1.out")"
"$BIN" backfill t2_day_copy -c "$T/sluice.yaml" --from 2024-01-01 --to 2024-04-30 --parallel 8 \
    --name bf_par --wait 120 >"$T/bf2.out" 2>&1; check backfill_parallel $? "$(cat "$T/bf2.out")"
grep -q '120 windows' "$T/bf1.out"; check backfill_counts_windows $? "$(cat "$T/bf1.out")"
a=$(sql "SELECT dt, day, n, ws FROM t2_days_aggr_1d_daily WHERE dt < '2024-05-01' ORDER BY dt")
b=$(sql "SELECT dt, day, n, ws FROM t2_dayscopy_aggr_1d_daily ORDER BY dt")
[ "$a" = "$b" ] && [ "$(echo "$a" | wc -l)" = 121 ]; check backfill_serial_equals_parallel $? "$(echo "$a" | wc -l) vs $(echo "$b" | wc -l) lines"
n=$(runs_json t2_day --backfill bf_serial | grep -o '"iterations":120' | wc -l)
[ "$n" = 1 ]; check serial_is_one_run $? "$n"
out=$("$BIN" backfill t2_day -c "$T/sluice.yaml" --from 2024-01-01 --to 2024-01-05 --serial --name bf_serial 2>&1); rc=$?
[ $rc = 1 ] && [[ "$out" == *"exists already"* ]]; check backfill_name_refused_twice $? "exit $rc: $out"
"$BIN" backfill t2_day_copy -c "$T/sluice.yaml" --from 2024-01-01 --to 2024-04-30 --parallel 4 \
    --name bf_again --wait 120 >/dev/null 2>&1; check backfill_rerun $? ""
c=$(sql "SELECT count(*) FROM t2_dayscopy_aggr_1d_daily" | tail -1)
[ "$c" = 120 ]; check backfill_rerun_replaces $? "$c rows"
out=$("$BIN" backfill t2_day -c "$T/sluice.yaml" --from 2024-01-01 --to 2025-01-01 --serial --dry-run 2>&1)
[[ "$out" == *"366 windows"* ]]; check backfill_dry_run $? "$out"
st=$(count_state tick succeeded); [ "$st" -ge 4 ]; check scheduled_runs_keep_running $? "$st"

# parallel runs of a new job all create its table at once: each commits on
# its first attempt (the table is created in the commit's transaction, and
# one created meanwhile by another window is the same table)
fresh_ok() { # job: every run succeeded on attempt 1
    local j; j=$(runs_json "$1")
    [ "$(echo "$j" | grep -o '"state":"succeeded"' | wc -l)" = 12 ] &&
        [ "$(echo "$j" | grep -o '"attempt":1,' | wc -l)" = 12 ]
}
"$BIN" backfill fresh -c "$T/sluice.yaml" --from 2024-01-01 --to 2024-01-13 --parallel 4 \
    --name bf_fresh --wait 60 >"$T/bf3.out" 2>&1
fresh_ok fresh; check new_table_parallel_first_attempt $? "$(runs_json fresh | grep -o '"attempt":[0-9]*,\|"error":"[^"]*"' | sort | uniq -c)"
"$BIN" backfill fresh_cmd -c "$T/sluice.yaml" --from 2024-01-01 --to 2024-01-01T12:00:00Z \
    --parallel 4 --name bf_fresh_cmd --wait 60 >"$T/bf4.out" 2>&1
fresh_ok fresh_cmd; check new_table_parallel_first_attempt_command $? "$(runs_json fresh_cmd | grep -o '"attempt":[0-9]*,\|"error":"[^"]*"' | sort | uniq -c)"
got=$(sql "SELECT count(*), count(DISTINCT day) FROM t2_fresh_aggr_1d_daily" | tail -1)
got2=$(sql "SELECT count(*), count(DISTINCT w) FROM t2_freshcmd_snapshot_hourly" | tail -1)
[ "$got $got2" = "12,12 240000,12" ]; check new_table_parallel_rows_once $? "$got $got2"

# a failing task: retried once, then failed with the reason
"$BIN" run flaky -c "$T/sluice.yaml" --window 2024-05-01 --wait 30 >"$T/flaky.out" 2>&1; rc=$?
[ $rc = 1 ]; check failing_run_reported $? "$(cat "$T/flaky.out")"
j=$(runs_json flaky)
[[ "$j" == *'"state":"failed"'* && "$j" == *'"attempt":2'* && "$j" == *'exited with status 4: it broke for 2024-05-01'* ]]
check failed_run_has_reason $? "$j"

# the HTTP API and /metrics
body=$(curl -s "$URL/v1/jobs")
[[ "$body" == *'"name":"t2_day"'* && "$body" == *'"succeeded":'* ]]; check http_list_jobs $? "${body:0:300}"
code=$(curl -s -o "$T/post.json" -w '%{http_code}' -X POST --data '{"window":"2024-06-01"}' "$URL/v1/jobs/t2_day/runs")
[ "$code" = 201 ] && grep -q '"run":' "$T/post.json"; check http_trigger_201 $? "$code $(cat "$T/post.json")"
day_done() { [[ "$(curl -s "$URL/v1/jobs/t2_day/runs?window=2024-06-01")" == *'"state":"succeeded"'* ]]; }
wait_for 20 day_done; check http_run_succeeds $? "$(curl -s "$URL/v1/jobs/t2_day/runs?window=2024-06-01")"
code=$(curl -s -o "$T/post.json" -w '%{http_code}' -X POST --data '{"window":"2024-06-01"}' "$URL/v1/jobs/t2_day/runs")
[ "$code" = 409 ]; check http_trigger_twice_409 $? "$code $(cat "$T/post.json")"
code=$(curl -s -o "$T/post.json" -w '%{http_code}' -X POST --data '{"window":"x"}' "$URL/v1/jobs/t2_day/runs")
[ "$code" = 400 ]; check http_bad_window_400 $? "$code $(cat "$T/post.json")"
code=$(curl -s -o "$T/post.json" -w '%{http_code}' "$URL/v1/jobs/nope/runs")
[ "$code" = 404 ]; check http_unknown_job_404 $? "$code"
code=$(curl -s -o "$T/post.json" -w '%{http_code}' -X POST \
    --data '{"backfill":{"from":"2024-07-01","to":"2024-07-04","parallel":2,"name":"http_bf"}}' "$URL/v1/jobs/t2_day_copy/runs")
[ "$code" = 201 ] && grep -q '"windows":3' "$T/post.json"; check http_backfill_201 $? "$code $(cat "$T/post.json")"
m=$(curl -s "$URL/metrics")
[[ "$m" == *'sluice_job_runs{job="t2_day",state="succeeded"}'* && "$m" == *sluice_jobs_queue_pending* ]]
check metrics_jobs $? "$(echo "$m" | grep -E 'job|pool' | head -5)"

# kill -9 in the middle of slow tasks, three times; every window once
"$BIN" backfill slow -c "$T/sluice.yaml" --from 2024-05-01 --to 2024-05-01T12:00:00Z --parallel 6 --name crash >/dev/null 2>&1
for i in 1 2 3; do
    sleep 1.5
    kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=
    start_server "$T/sluice.yaml"
done
slow_done() { [ "$(count_state slow succeeded)" = 12 ]; }
wait_for 90 slow_done; check crashed_tasks_finish $? "$(runs_json slow | grep -o '"state":"[a-z]*"' | sort | uniq -c)"
got=$(sql "SELECT count(*), count(DISTINCT w) FROM t2_slow_snapshot_hourly" | tail -1)
[ "$got" = "12,12" ]; check crashed_windows_exactly_once $? "$got"
claimed=$(runs_json slow | grep -o '"deliveries":[2-9]' | wc -l)
[ "$claimed" -ge 1 ]; check crashed_tasks_were_taken_over $? "$claimed"

d=$("$BIN" describe -d "$T/data" t3_days_aggr_1d_daily 2>&1)
[[ "$d" == *"producer:    job t3_month"* && "$d" == *"reads:       t2_days_aggr_1d_daily"* ]]
check describe_shows_producer_and_reads $? "$d"
"$BIN" jobs -c "$T/sluice.yaml" >"$T/jobs.out" 2>&1
grep -q '^t2_day ' "$T/jobs.out" && grep -q 'succeeded' "$T/jobs.out"; check jobs_lists $? "$(cat "$T/jobs.out")"

kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
[ "$rc" = 0 ]; check clean_exit $? "exit $rc: $(tail -5 "$T/server.log")"
if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T/server.log"; then
    fail sanitizer_clean "$(grep -A8 -E 'AddressSanitizer|runtime error|LeakSanitizer' "$T/server.log" | head -20)"
else ok sanitizer_clean; fi
