#!/usr/bin/env bash
# sluice worker processes: a server with no workers of its own (and a write
# token, which the workers take from the config) and two
# `sluice worker` processes x 2 threads, each restarted by a supervisor loop
# whenever it exits.  A backfill of 30 command tasks (1-1.3 s each, one
# NDJSON row naming its window) while a random worker process is killed
# (-9, once SIGTERM) at least 10 times: every window lands exactly once,
# every run succeeds, some were taken over (deliveries >= 2), consumers are
# one per process and thread, the SIGTERM'd worker exits 0.  A task that
# kills its worker every time it runs ends dead-lettered, state dead with the
# reason.  The server killed -9 and restarted under a running task: the
# worker keeps running it and it commits once.
# task_timeout is 1 s up to the dead letter (each takeover waits for it) and
# 2 s from the outage on (the server's restart must not make a live task
# look stale): the workers are restarted with it before the outage, the
# server by the outage itself (a take's staleness is the larger of the
# two's).
source "$(dirname "$0")/../lib/sh.sh" jobs_worker
RANDOM=9 # seeded: which worker each kill hits

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s|__T__|$T|" -e "s|__PORT__|$PORT|" > "$T/sluice.yaml" <<'YAML'
data_dir: __T__/data
listen: 127.0.0.1:__PORT__
limits: {min_free_disk: 0}
workers: 0
query: {write_tokens: [wtok-123]}
scheduler: {tick: 100ms, task_timeout: 1s, heartbeat: 300ms, max_deliveries: 8}
jobs:
  win:
    kind: command
    window: hour
    retries: 2
    retry_delay: 0s
    command: [sh, -c, 'sleep 1.$SLUICE_HR; echo "{\"w\":\"$SLUICE_WINDOW_START\",\"pid\":$$}"']
    output: ndjson
    table: t2_win_snapshot_hourly
  outage:
    kind: command
    window: hour
    command: [sh, -c, 'sleep 3; echo "{\"w\":\"$SLUICE_WINDOW_START\"}"']
    output: ndjson
    table: t2_outage_snapshot_hourly
  crash:
    kind: command
    window: hour
    command: [sh, -c, 'kill -9 $PPID; sleep 5']
YAML

# Worker slot $1: a `sluice worker` restarted whenever it exits (until
# $T/stop), like a service manager would; its pid in $T/w$1.pid, each exit
# ("PID STATUS") in $T/w$1.exits.
supervise() {
    while [ ! -e "$T/stop" ]; do
        "$BIN" worker -c "$T/sluice.yaml" --threads 2 2>>"$T/worker$1.log" &
        local p=$!
        echo "$p" > "$T/w$1.pid.new" && mv "$T/w$1.pid.new" "$T/w$1.pid" # never read empty
        wait "$p"
        echo "$p $?" >> "$T/w$1.exits"
    done
}
SUP= WP=
cleanup() {
    [ -n "$WP" ] && kill -9 "$WP" 2>/dev/null
    touch "$T/stop"
    for i in 1 2; do [ -s "$T/w$i.pid" ] && kill -9 "$(cat "$T/w$i.pid")" 2>/dev/null; done
    for s in $SUP; do wait "$s" 2>/dev/null; done
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    rm -rf "$T"
}
runs_json() { "$BIN" runs "$1" -c "$T/sluice.yaml" -f json -n 100000 "${@:2}" 2>>"$T/cli.log"; }
count_state() { runs_json "$1" --state "$2" "${@:3}" | grep -o '"state":' | wc -l; }
sql() { "$BIN" sql -c "$T/sluice.yaml" -F csv "$1" 2>&1; }
wait_for() { # seconds, command...
    local s=$1; shift
    for _ in $(seq $((s * 10))); do "$@" && return 0; sleep 0.1; done
    return 1
}
pid_changes() { [ "$(cat "$T/w$1.pid" 2>/dev/null)" != "$2" ]; }

start_server "$T/sluice.yaml"
[ "$(cat "$T/port" 2>/dev/null)" = "$PORT" ]; check server_started $? "$(tail -5 "$T/server.log")"
out=$("$BIN" worker -c "$T/sluice.yaml" --threads 0 2>&1); rc=$?
[ $rc = 2 ] && [[ "$out" == *"--threads"* ]]; check worker_bad_threads $? "exit $rc: $out"
sed 's|^query: .*|query: {tokens: [reader]}|' "$T/sluice.yaml" > "$T/reader.yaml"
out=$("$BIN" worker -c "$T/reader.yaml" 2>&1); rc=$?
[ $rc = 1 ] && [[ "$out" == *"needs a write token"* ]]; check worker_needs_write_token $? "exit $rc: $out"
out=$("$BIN" worker -c "$T/sluice.yaml" -d "$T/nope" 2>&1); rc=$?
[ $rc = 1 ] && [[ "$out" == *"$T/nope"* ]]; check worker_needs_data_dir $? "exit $rc: $out"
AUTH='Authorization: Bearer wtok-123'
out=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data '{"consumer":"x"}' "$URL/v1/jobs/_tasks/take")
[ "$out" = 401 ]; check take_needs_token_401 $? "$out"
out=$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" -X POST --data '{"consumer":"x y"}' "$URL/v1/jobs/_tasks/take")
[ "$out" = 400 ]; check take_bad_consumer_400 $? "$out"
# a worker that goes away while its take waits on the server is handed no
# task: the next worker gets it as a first delivery
curl -s -m 0.3 -o /dev/null -H "$AUTH" -X POST --data '{"consumer":"gone","block_ms":5000}' "$URL/v1/jobs/_tasks/take"
"$BIN" run win -c "$T/sluice.yaml" --window 2024-04-29T00:00:00Z >/dev/null 2>&1
sleep 1
supervise 1 2>/dev/null & SUP="$SUP $!"
supervise 2 2>/dev/null & SUP="$SUP $!"

# one window first: the table exists before the tasks race to write it
"$BIN" run win -c "$T/sluice.yaml" --window 2024-04-30T00:00:00Z --wait 30 >"$T/first.out" 2>&1
check first_run_through_worker $? "$(cat "$T/first.out"; tail -5 "$T/worker1.log")"
gone_done() { [ "$(count_state win succeeded --window 2024-04-29T00:00:00Z)" = 1 ]; }
wait_for 20 gone_done; check run_after_gone_take $? "$(runs_json win --window 2024-04-29T00:00:00Z)"
j=$(runs_json win --window 2024-04-29T00:00:00Z)
[[ "$j" == *'"deliveries":1,'* && "$j" != *'"worker":"gone"'* ]]; check gone_take_gets_no_task $? "$j"

"$BIN" backfill win -c "$T/sluice.yaml" --from 2024-05-01 --to 2024-05-02T06:00:00Z --parallel 30 \
    --name main >"$T/bf.out" 2>&1; check backfill_queued $? "$(cat "$T/bf.out")"
# pid $1 runs a task: a running run names its consumer HOST-PID-wN
runs_task() {
    curl -s -H "$AUTH" "$URL/v1/jobs/win/runs?state=running&limit=100" | grep -q -- "-$1-w[0-9]*\""
}
kills=0 termed=
for k in $(seq 11); do
    i=$((RANDOM % 2 + 1))
    p=$(cat "$T/w$i.pid")
    # once it runs a task (if any is left to run within 5 s), at a random
    # point of it: the tasks sleep 1.0-1.3 s, then commit and ack
    wait_for 5 runs_task "$p"
    sleep 0.$((RANDOM % 10))
    if [ "$k" = 5 ]; then kill -TERM "$p" && termed=$p; else kill -9 "$p" && kills=$((kills + 1)); fi
    wait_for 10 pid_changes "$i" "$p" || break
done
[ "$kills" -ge 10 ]; check workers_killed_10_times $? "$kills"
bf_done() { [ "$(count_state win succeeded --backfill main)" = 30 ]; }
wait_for 60 bf_done; check every_run_succeeds $? "$(runs_json win | grep -o '"state":"[a-z]*"' | sort | uniq -c)"
got=$(sql "SELECT count(*), count(DISTINCT w) FROM t2_win_snapshot_hourly" | tail -1)
[ "$got" = "32,32" ]; check every_window_exactly_once $? "$got"
j=$(runs_json win --backfill main)
n=$(echo "$j" | grep -o '"deliveries":[2-9]' | wc -l)
[ "$n" -ge 1 ]; check some_runs_taken_over $? "$n"
w=$(echo "$j" | grep -o '"worker":"[^"]*"' | sort -u)
pids=$(echo "$w" | sed 's/.*-\([0-9]*\)-w[0-9]*"$/\1/' | sort -u | wc -l)
[ "$pids" -ge 3 ] && echo "$w" | grep -q -- '-w0"' && echo "$w" | grep -q -- '-w1"'
check consumers_per_process_and_thread $? "$w"
grep -q "^$termed 0\$" "$T"/w*.exits; check sigterm_worker_exits_0 $? "$termed: $(cat "$T"/w*.exits)"

# a task that kills whichever worker runs it: dead-lettered after 8 deliveries (high enough that the random kills above never dead-letter a good task)
"$BIN" run crash -c "$T/sluice.yaml" --window 2024-05-01 >/dev/null 2>&1
dead() { [ "$(count_state crash dead)" = 1 ]; }
wait_for 60 dead; check crashing_task_dead_lettered $? "$(runs_json crash)"
j=$(runs_json crash)
[[ "$j" == *'"error":"dead-lettered: its task was taken over 8 times'* ]]; check dead_reason_in_runs $? "$j"
out=$("$BIN" runs crash -c "$T/sluice.yaml" 2>&1)
[[ "$out" == *dead*dead-lettered* ]]; check dead_in_runs_table $? "$out"

# task_timeout 2 s from here on: the workers restart with it (SIGTERM, each
# exits 0), the server at the outage below
sed -i 's/task_timeout: 1s/task_timeout: 2s/' "$T/sluice.yaml"
p1=$(cat "$T/w1.pid") p2=$(cat "$T/w2.pid")
kill -TERM "$p1" "$p2"
wait_for 10 pid_changes 1 "$p1" && wait_for 10 pid_changes 2 "$p2" &&
    grep -q "^$p1 0\$" "$T/w1.exits" && grep -q "^$p2 0\$" "$T/w2.exits"
check workers_restart_for_outage $? "$p1 $p2: $(cat "$T"/w*.exits)"

# the server killed -9 under a running task: the worker keeps running it
"$BIN" run outage -c "$T/sluice.yaml" --window 2024-05-01 >/dev/null 2>&1
running() { [ "$(count_state outage running)" = 1 ]; }
wait_for 20 running; check outage_task_running $? "$(runs_json outage)"
before="$(cat "$T/w1.pid") $(cat "$T/w2.pid")"
beats_failed() { cat "$T"/worker*.log | grep -c 'heartbeat: .*the task keeps running'; }
failed=$(beats_failed)
kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=
# down until a heartbeat of the task has failed on it
more_failed() { [ "$(beats_failed)" -gt "$failed" ]; }
wait_for 10 more_failed
start_server "$T/sluice.yaml"
[ "$(cat "$T/port" 2>/dev/null)" = "$PORT" ]; check server_restarted $? "$(tail -5 "$T/server.log")"
outage_done() { [ "$(count_state outage succeeded)" = 1 ]; }
wait_for 30 outage_done; check task_survives_server_outage $? "$(runs_json outage)"
[ "$before" = "$(cat "$T/w1.pid") $(cat "$T/w2.pid")" ]; check workers_outlive_server $? "$before"
grep -q 'heartbeat: .*the task keeps running' "$T"/worker*.log
check outage_seen_by_heartbeat $? "$(grep -h heartbeat "$T"/worker*.log | tail -3)"
got=$(sql "SELECT count(*) FROM t2_outage_snapshot_hourly" | tail -1)
[ "$got" = 1 ]; check outage_output_once $? "$got"
"$BIN" run win -c "$T/sluice.yaml" --window 2024-06-01 --wait 30 >"$T/after.out" 2>&1
check workers_take_tasks_again $? "$(cat "$T/after.out")"

touch "$T/stop"
for i in 1 2; do kill -TERM "$(cat "$T/w$i.pid")"; done
for s in $SUP; do wait "$s"; done; SUP=
last=$(for i in 1 2; do tail -1 "$T/w$i.exits" | cut -d' ' -f2; done | tr '\n' ' ')
[ "$last" = "0 0 " ]; check workers_stop_cleanly $? "$last"
# a worker on another data directory cannot find the runs of its tasks: it
# leaves them to the others (an ack would lose them)
mkdir -p "$T/other"
"$BIN" worker -c "$T/sluice.yaml" -d "$T/other" --threads 1 2>"$T/worker_other.log" & WP=$!
"$BIN" run win -c "$T/sluice.yaml" --window 2024-06-03 >/dev/null 2>&1
refused() { grep -q "is this worker on the server's data directory" "$T/worker_other.log"; }
wait_for 20 refused; check other_dir_worker_refuses_task $? "$(tail -3 "$T/worker_other.log")"
kill -TERM "$WP"; wait "$WP"; rc=$?
[ "$rc" = 0 ]; check other_dir_worker_stops $? "exit $rc"
"$BIN" worker -c "$T/sluice.yaml" --threads 1 2>"$T/worker_last.log" & WP=$!
left_done() { [ "$(count_state win succeeded --window 2024-06-03)" = 1 ]; }
wait_for 20 left_done; check other_dir_task_taken_over $? "$(runs_json win --window 2024-06-03)"
kill -TERM "$WP"; wait "$WP"; rc=$?; WP=
[ "$rc" = 0 ]; check last_worker_stops $? "exit $rc"

kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
[ "$rc" = 0 ]; check server_clean_exit $? "exit $rc: $(tail -5 "$T/server.log")"
if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T"/server.log "$T"/worker*.log; then
    fail sanitizer_clean "$(grep -h -A8 -E 'AddressSanitizer|runtime error|LeakSanitizer' "$T"/server.log "$T"/worker*.log | head -20)"
else ok sanitizer_clean; fi
